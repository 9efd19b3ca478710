//! The load generator's header compressor: a request block sent recently goes out as one
//! back-reference to its earlier copy, any other block goes out stored. A load generator
//! repeats a few blocks endlessly, and a general encoder spends its time rediscovering that
//! (our `fast` one was ~7% of spdyload's CPU per request). Output is ordinary sync-flushed
//! zlib with the version's dictionary (SPDY3.md §5). It refuses every match but a
//! whole identical block, so bytes of different headers never mix (CONFORMANCE B3).

use super::fast::bits::{self, BitWriter, DIST_BASE, DIST_EXTRA, LEN_BASE, LEN_EXTRA, LEN_SYM};
use super::{wire, HeaderBlock, HeaderEncoder};
use crate::spdy::version::Version;

/// The furthest back a deflate distance reaches (RFC 1951 §3.2.5; our zlib header says 32K).
const WINDOW: u64 = 32 * 1024;
/// Longest deflate match (RFC 1951 §3.2.5).
const MAX_MATCH: usize = 258;
/// Shortest deflate match.
const MIN_MATCH: usize = 3;
/// Largest stored block (RFC 1951 §3.2.4: LEN is 16 bits).
const MAX_STORED: usize = 0xffff;
/// Distinct blocks remembered (spdyload's `-i` URI list rotates through its templates).
const RECENT: usize = 32;

/// One sent block and where its latest copy starts in the uncompressed stream.
struct Sent {
    block: HeaderBlock,
    start: u64,
    len: usize,
}

/// The compressing side of one session (see the module header).
pub struct RepeatEncoder {
    version: Version,
    /// The zlib header went out.
    started: bool,
    /// Uncompressed bytes emitted so far.
    total: u64,
    recent: Vec<Sent>,
    /// Next `recent` entry to replace once it is full.
    evict: usize,
    /// The uncompressed form of a block being stored.
    nv: Vec<u8>,
    /// The `recent` entry that matched last (checked first).
    last_hit: usize,
    /// The bytes of the last back-reference and its (distance, length): the same block
    /// at the same distance compresses to the same bytes, so they are copied, not rebuilt.
    cached: Option<(u16, usize)>,
    cached_bytes: Vec<u8>,
}

impl RepeatEncoder {
    pub fn new(version: Version) -> Self {
        RepeatEncoder {
            version,
            started: false,
            total: 0,
            recent: Vec::new(),
            evict: 0,
            nv: Vec::new(),
            last_hit: 0,
            cached: None,
            cached_bytes: Vec::new(),
        }
    }
}

impl HeaderEncoder for RepeatEncoder {
    fn encode(&mut self, block: &HeaderBlock, out: &mut Vec<u8>) {
        if !self.started {
            // RFC 1950: CMF 0x78 (deflate, 32K window), FLG 0xbb (FDICT, check bits), then
            // the DICTID of the version's dictionary (SPDY3.md §5.3).
            out.extend_from_slice(&[0x78, 0xbb]);
            out.extend_from_slice(&self.version.dictionary_id().to_be_bytes());
            self.started = true;
        }
        let total = self.total;
        let hit = match self.recent.get(self.last_hit) {
            Some(s) if s.block == *block => Some(self.last_hit),
            _ => self.recent.iter().position(|s| s.block == *block),
        };
        if let Some(i) = hit {
            self.last_hit = i;
        }
        let found = hit.map(|i| &mut self.recent[i]);
        match found {
            Some(sent) if sent.len >= MIN_MATCH && total - sent.start <= WINDOW => {
                let distance = (total - sent.start) as u16;
                let len = sent.len;
                sent.start = total;
                self.total += len as u64;
                if self.cached == Some((distance, len)) {
                    out.extend_from_slice(&self.cached_bytes);
                    return;
                }
                let from = out.len();
                let mut bits = BitWriter::new(out);
                bits.put(0b010, 3); // BFINAL 0, BTYPE 01: fixed Huffman codes
                let mut rest = len;
                while rest > 0 {
                    // Never leave a tail shorter than a match can be.
                    let chunk = if rest <= MAX_MATCH {
                        rest
                    } else if rest - MAX_MATCH < MIN_MATCH {
                        rest - MIN_MATCH
                    } else {
                        MAX_MATCH
                    };
                    put_fixed_match(&mut bits, chunk as u32, u32::from(distance));
                    rest -= chunk;
                }
                bits.put(0, 7); // end of block (symbol 256: fixed code 0000000)
                sync_flush(bits);
                self.cached = Some((distance, len));
                self.cached_bytes.clear();
                self.cached_bytes.extend_from_slice(&out[from..]);
            }
            found => {
                self.nv.clear();
                wire::encode(self.version, block, &mut self.nv);
                let len = self.nv.len();
                // Stored blocks start byte-aligned: every block we emit ends with a sync flush.
                for part in self.nv.chunks(MAX_STORED) {
                    out.push(0); // BFINAL 0, BTYPE 00, padding
                    out.extend_from_slice(&(part.len() as u16).to_le_bytes());
                    out.extend_from_slice(&(!(part.len() as u16)).to_le_bytes());
                    out.extend_from_slice(part);
                }
                sync_flush(BitWriter::new(out));
                match found {
                    Some(sent) => sent.start = total,
                    None => {
                        let sent = Sent { block: block.clone(), start: total, len };
                        if self.recent.len() < RECENT {
                            self.recent.push(sent);
                        } else {
                            self.recent[self.evict] = sent;
                            self.evict = (self.evict + 1) % RECENT;
                        }
                    }
                }
                self.total += len as u64;
            }
        }
    }

    fn state_bytes(&self) -> usize {
        self.nv.capacity() + self.cached_bytes.capacity() + self.recent.iter().map(|s| s.block.payload_len() + 12 * s.block.len()).sum::<usize>()
    }
}

/// A length/distance pair with the fixed codes (RFC 1951 §3.2.6): symbols 257..=279 have
/// the 7-bit codes 1..=23, 280..=287 the 8-bit codes 0xc0.., distances 5-bit codes.
fn put_fixed_match(bits: &mut BitWriter<'_>, len: u32, distance: u32) {
    let i = usize::from(LEN_SYM[len as usize]);
    let symbol = 257 + i as u32;
    let (code, n) = if symbol <= 279 { (symbol - 256, 7) } else { (0xc0 + symbol - 280, 8) };
    bits.put(bits::reverse(code, n), n);
    bits.put(len - u32::from(LEN_BASE[i]), u32::from(LEN_EXTRA[i]));
    let d = bits::dist_sym(distance);
    bits.put(bits::reverse(d as u32, 5), 5);
    bits.put(distance - u32::from(DIST_BASE[d]), u32::from(DIST_EXTRA[d]));
}

/// Ends the block boundary zlib's Z_SYNC_FLUSH way: an empty stored block, so the output
/// ends byte-aligned with 00 00 ff ff and the peer can inflate all of it.
fn sync_flush(mut bits: BitWriter<'_>) {
    bits.put(0, 3);
    bits.align();
    bits.bytes(&[0x00, 0x00, 0xff, 0xff]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spdy::header::{InflateLimits, InflateOutcome, Inflater, NvLimits};
    use hex_literal::hex;

    fn request(path: &str) -> HeaderBlock {
        [(":method", "GET"), (":path", path), (":version", "HTTP/1.1"), (":host", "127.0.0.1:8080"), (":scheme", "http")]
            .into_iter()
            .collect()
    }

    /// Compresses `blocks` in order and inflates every output with the session's inflater.
    fn round_trip(version: Version, blocks: &[HeaderBlock]) -> Vec<Vec<u8>> {
        let mut encoder = RepeatEncoder::new(version);
        let mut inflater = Inflater::new(version, InflateLimits::default());
        let mut outputs = Vec::new();
        for block in blocks {
            let mut compressed = Vec::new();
            encoder.encode(block, &mut compressed);
            let mut nv = Vec::new();
            assert_eq!(inflater.inflate(&compressed, &mut nv), Ok(InflateOutcome::Complete));
            let mut decoded = HeaderBlock::new();
            wire::decode(version, &nv, &NvLimits::default(), &mut decoded).expect("valid block");
            assert_eq!(&decoded, block);
            outputs.push(compressed);
        }
        outputs
    }

    #[test]
    fn first_block_is_zlib_header_then_stored_then_sync_flush() {
        let mut encoder = RepeatEncoder::new(Version::Spdy3);
        let block: HeaderBlock = [("a", "b")].into_iter().collect();
        let mut out = Vec::new();
        encoder.encode(&block, &mut out);
        assert_eq!(
            out,
            hex!("78 bb e3 c6 a7 c2  00 0e 00 f1 ff  00000001 00000001 61 00000001 62  00 00 00 ff ff").to_vec()
        );
    }

    #[test]
    fn repeated_block_is_one_short_back_reference_and_inflates_back() {
        let blocks = vec![request("/bytes/1024"); 5];
        let outputs = round_trip(Version::Spdy31, &blocks);
        // 3 header bits + one match (≤ 31 bits) + end of block + the sync flush.
        for out in &outputs[1..] {
            assert!(out.len() <= 12, "{} bytes", out.len());
        }
        assert_eq!(outputs[1], outputs[4], "same block at the same distance: same bytes");
    }

    #[test]
    fn alternating_blocks_each_refer_to_their_own_last_copy() {
        let (a, b) = (request("/a"), request("/bb"));
        let outputs = round_trip(Version::Spdy3, &[a.clone(), b.clone(), a.clone(), b.clone(), a, b]);
        assert!(outputs[2].len() < 16 && outputs[3].len() < 16);
    }

    #[test]
    fn long_blocks_split_into_matches_without_a_short_tail() {
        // Lengths around multiples of 258 exercise the tail rule (never 1 or 2 left).
        for extra in [0usize, 1, 2, 3, 250, 255, 256, 257, 258, 259, 260, 516, 517, 1000] {
            let mut block = request("/");
            block.push("x-pad", "p".repeat(extra + 1));
            round_trip(Version::Spdy31, &[block.clone(), block.clone(), block]);
        }
    }

    #[test]
    fn a_copy_beyond_the_window_is_stored_again() {
        let a = request("/a");
        let mut big = request("/big");
        big.push("x-pad", "q".repeat(40 * 1024));
        let outputs = round_trip(Version::Spdy3, &[a.clone(), big, a]);
        assert!(outputs[2].len() > 40, "stored again: {} bytes", outputs[2].len());
    }

    #[test]
    fn spdy2_blocks_round_trip_with_the_spdy2_dictionary() {
        let block: HeaderBlock = [("method", "GET"), ("url", "/"), ("version", "HTTP/1.1")].into_iter().collect();
        let outputs = round_trip(Version::Spdy2, &[block.clone(), block.clone(), block]);
        assert_eq!(&outputs[0][2..6], &Version::Spdy2.dictionary_id().to_be_bytes());
    }

    #[test]
    fn more_distinct_blocks_than_remembered_still_round_trip() {
        let blocks: Vec<HeaderBlock> = (0..3 * RECENT).map(|i| request(&format!("/p{}", i % (RECENT + 3)))).collect();
        round_trip(Version::Spdy31, &blocks);
    }
}
