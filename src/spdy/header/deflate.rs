//! zlib header compression for the blocks we send: one stream per session direction, the
//! version's dictionary set before the first block, a sync flush after every block and
//! never a finished stream (SPDY3.md §5.4, CONFORMANCE C121).
//!
//! Level 0 writes stored blocks itself and holds no zlib state at all (the gateway's
//! CRIME-safe default, SPDY3.md §5.4); other levels drive zlib-rs (the library flate2 runs
//! on) directly, because flate2 exposes neither memLevel nor `Z_HUFFMAN_ONLY`.

use zlib_rs::{Deflate, DeflateConfig, DeflateFlush, Method};

use super::{wire, HeaderBlock, HeaderEncoder};
use crate::spdy::version::Version;

/// How zlib looks for repeats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Strategy {
    /// LZ77 + Huffman (zlib's default).
    #[default]
    Default,
    /// Huffman coding only, no back-references (`Z_HUFFMAN_ONLY`): nothing an attacker
    /// controls can be matched against a secret in another header (CONFORMANCE B3).
    HuffmanOnly,
}

/// The session's header compressor on zlib.
pub struct ZlibEncoder {
    version: Version,
    level: u8,
    window_bits: u8,
    mem_level: u8,
    strategy: Strategy,
    /// Created with the first block: a session that never sends headers holds nothing.
    engine: Option<Engine>,
    /// The uncompressed block, reused for every block (no allocation in steady state).
    scratch: Vec<u8>,
}

enum Engine {
    /// Level 0: stored blocks written here; the zlib header went out with the first one.
    Stored,
    Zlib(Deflate),
}

impl ZlibEncoder {
    /// `level` 0..=9, `window_bits` 9..=15 (8 is taken as 9, as zlib does), `mem_level`
    /// 1..=9; out-of-range values are clamped into those ranges.
    pub fn new(version: Version, level: u32, window_bits: u8, mem_level: u8) -> Self {
        Self::with_strategy(version, level, window_bits, mem_level, Strategy::Default)
    }

    /// As [`ZlibEncoder::new`], choosing the zlib strategy (ignored at level 0).
    pub fn with_strategy(version: Version, level: u32, window_bits: u8, mem_level: u8, strategy: Strategy) -> Self {
        Self {
            version,
            level: level.min(9) as u8,
            window_bits: window_bits.clamp(9, 15),
            mem_level: mem_level.clamp(1, 9),
            strategy,
            engine: None,
            scratch: Vec::new(),
        }
    }

    fn start(&self) -> Engine {
        if self.level == 0 {
            return Engine::Stored;
        }
        let config = DeflateConfig {
            level: i32::from(self.level),
            method: Method::Deflated,
            window_bits: i32::from(self.window_bits), // positive: zlib header (RFC 1950)
            mem_level: i32::from(self.mem_level),
            strategy: match self.strategy {
                Strategy::Default => zlib_rs::Strategy::Default,
                Strategy::HuffmanOnly => zlib_rs::Strategy::HuffmanOnly,
            },
        };
        // Parameters are clamped in `with_strategy`, so zlib-rs accepts them.
        let mut zlib = Deflate::new_with_config(config);
        // SPDY3.md §5.4: "deflateSetDictionary(SPDY/3 dictionary) before the first block".
        let id = zlib.set_dictionary(self.version.dictionary());
        debug_assert_eq!(id, Ok(self.version.dictionary_id()));
        Engine::Zlib(zlib)
    }

    /// Bytes zlib-rs 0.6 allocates for a deflate stream with these parameters (one block;
    /// mirrors `DeflateAllocOffsets`, checked against a counting allocator in
    /// `tests/interop_zlib.rs`). The 2^16-entry hash head (128 KiB) is fixed in zlib-rs,
    /// whatever memLevel says.
    pub const fn zlib_rs_bytes(window_bits: u8, mem_level: u8) -> usize {
        const fn up(n: usize) -> usize {
            n.next_multiple_of(64)
        }
        let w = 1usize << window_bits;
        let lit = 1usize << (mem_level as usize + 6);
        let mut size = up(ZLIB_RS_DEFLATE_STATE) + 2 * w;
        size = up(size) + 2 * w; // prev
        size = up(size) + 2 * 65_536; // head
        size = up(size) + 4 * lit; // pending
        size = up(size) + 3 * lit; // sym_buf
        up(size + 63)
    }
}

/// `size_of` zlib-rs 0.6's private deflate `State`, measured (see `zlib_rs_bytes`).
const ZLIB_RS_DEFLATE_STATE: usize = 3_136;

impl HeaderEncoder for ZlibEncoder {
    fn encode(&mut self, block: &HeaderBlock, out: &mut Vec<u8>) {
        self.scratch.clear();
        wire::encode(self.version, block, &mut self.scratch);
        let first = self.engine.is_none();
        if first {
            self.engine = Some(self.start());
        }
        match &mut self.engine {
            Some(Engine::Zlib(zlib)) => deflate_sync(zlib, &self.scratch, out),
            _ => {
                if first {
                    zlib_header(self.window_bits, self.version.dictionary_id(), out);
                }
                stored_sync(&self.scratch, out);
            }
        }
    }

    /// Heap bytes of compression state (0 before the first block; the reusable scratch
    /// block is counted).
    fn state_bytes(&self) -> usize {
        let engine = match self.engine {
            Some(Engine::Zlib(_)) => Self::zlib_rs_bytes(self.window_bits, self.mem_level),
            _ => 0,
        };
        engine + self.scratch.capacity()
    }
}

/// Compresses `input` with a sync flush, appending to `out`. Output room is grown as
/// needed (deflateBound is not enough with many flushes, SPDY3.md §5.4).
fn deflate_sync(zlib: &mut Deflate, mut input: &[u8], out: &mut Vec<u8>) {
    loop {
        let start = out.len();
        let room = input.len() + input.len() / 8 + 64;
        out.resize(start + room, 0);
        let (in_before, out_before) = (zlib.total_in(), zlib.total_out());
        let result = zlib.compress(input, &mut out[start..], DeflateFlush::SyncFlush);
        let used = (zlib.total_in() - in_before) as usize;
        let made = (zlib.total_out() - out_before) as usize;
        out.truncate(start + made);
        input = &input[used..];
        // zlib only fails on a stream in an inconsistent state, which nothing here makes.
        debug_assert!(result.is_ok(), "deflate failed: {result:?}");
        // zlib.h: the flush is complete when deflate returns with output room left.
        if result.is_err() || (input.is_empty() && made < room) {
            return;
        }
    }
}

/// The RFC 1950 header of the first block: deflate with window `window_bits`, FDICT set,
/// then the DICTID.
fn zlib_header(window_bits: u8, dictionary_id: u32, out: &mut Vec<u8>) {
    let cmf = ((window_bits - 8) << 4) | 8;
    let flg = 0x20; // FLEVEL 0 ("fastest"), FDICT
    // FCHECK as zlib computes it: 1..=31, so a header already divisible by 31 gets 31.
    let check = 31 - ((u16::from(cmf) << 8 | flg) % 31) as u8;
    out.extend_from_slice(&[cmf, flg as u8 + check]);
    out.extend_from_slice(&dictionary_id.to_be_bytes());
}

/// RFC 1951 stored blocks for `input` (at most 65 535 bytes each), then the empty stored
/// block a sync flush ends with (`00 00 00 ff ff`). Every block starts byte-aligned: the
/// previous one ended with a flush.
fn stored_sync(input: &[u8], out: &mut Vec<u8>) {
    out.reserve(input.len() + 5 * (input.len() / 65_535 + 2));
    for chunk in input.chunks(65_535) {
        let len = chunk.len() as u16;
        out.push(0); // BFINAL 0, BTYPE 00, padding
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&[0, 0, 0, 0xff, 0xff]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spdy::header::inflate::{InflateLimits, InflateOutcome, Inflater};
    use crate::spdy::header::wire::NvLimits;

    fn request(i: usize) -> HeaderBlock {
        [
            (":method", "GET".to_string()),
            (":path", format!("/item/{i}")),
            (":version", "HTTP/1.1".to_string()),
            ("cookie", "session=abcdef0123456789\0theme=dark".to_string()),
            ("user-agent", "spdygate-test/1.0".to_string()),
        ]
        .into_iter()
        .collect()
    }

    #[test]
    fn c121_every_block_ends_with_sync_flush_and_decodes_in_one_context() {
        for version in [Version::Spdy2, Version::Spdy3, Version::Spdy31] {
            for (level, bits, mem, strategy) in
                [(0, 11, 1, Strategy::Default), (1, 9, 1, Strategy::Default), (6, 11, 1, Strategy::Default), (9, 15, 8, Strategy::Default), (9, 11, 1, Strategy::HuffmanOnly)]
            {
                let mut enc = ZlibEncoder::with_strategy(version, level, bits, mem, strategy);
                let mut inf = Inflater::new(version, InflateLimits::default());
                let (mut wire_bytes, mut plain, mut got) = (Vec::new(), Vec::new(), HeaderBlock::new());
                for i in 0..20 {
                    let block = request(i);
                    wire_bytes.clear();
                    enc.encode(&block, &mut wire_bytes);
                    assert!(wire_bytes.ends_with(&[0, 0, 0xff, 0xff]), "{version} level {level} block {i}");
                    if i == 0 {
                        // zlib header with FDICT and the version's DICTID (SPDY3.md §5.1).
                        assert_eq!(wire_bytes[0], ((bits - 8) << 4) | 8);
                        assert_eq!(wire_bytes[1] & 0x20, 0x20);
                        assert_eq!(u16::from_be_bytes([wire_bytes[0], wire_bytes[1]]) % 31, 0);
                        assert_eq!(wire_bytes[2..6], version.dictionary_id().to_be_bytes());
                    }
                    assert_eq!(inf.inflate(&wire_bytes, &mut plain), Ok(InflateOutcome::Complete));
                    wire::decode(version, &plain, &NvLimits::default(), &mut got).unwrap();
                    assert_eq!(got, block, "{version} level {level} block {i}");
                }
            }
        }
    }

    #[test]
    fn later_blocks_are_smaller_when_the_context_is_shared() {
        let mut enc = ZlibEncoder::new(Version::Spdy3, 9, 11, 1);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        enc.encode(&request(1), &mut a);
        enc.encode(&request(2), &mut b);
        assert!(b.len() < a.len() / 2, "{} vs {}", b.len(), a.len());
    }

    #[test]
    fn level_0_matches_the_stored_layout_of_vector_3() {
        // SPDY3.md §13 vector 3: Python zlib level 0, window 15, SPDY/3 dictionary.
        let block: HeaderBlock = [(":status", "200 OK"), (":version", "HTTP/1.1")].into_iter().collect();
        let mut out = Vec::new();
        ZlibEncoder::new(Version::Spdy3, 0, 15, 8).encode(&block, &mut out);
        let frame = hex_literal::hex!(
            "80 03 00 02 00 00 00 45 00 00 00 01 78 3f e3 c6 a7 c2 00 31 00 ce ff 00 00 00 02 00 00 00 07 3a 73 74 61 74 75 73 00 00 00 06 32 30 30 20 4f 4b 00 00 00 08 3a 76 65 72 73 69 6f 6e 00 00 00 08 48 54 54 50 2f 31 2e 31 00 00 00 ff ff"
        );
        assert_eq!(out, frame[12..]);
    }

    #[test]
    fn level_0_splits_blocks_over_64_kib_and_holds_no_zlib_state() {
        let big = vec![b'x'; 100_000];
        let block: HeaderBlock = [(&b"a"[..], &big[..])].into_iter().collect();
        let mut enc = ZlibEncoder::new(Version::Spdy3, 0, 11, 1);
        assert_eq!(enc.state_bytes(), 0);
        let mut out = Vec::new();
        enc.encode(&block, &mut out);
        assert_eq!(enc.state_bytes(), enc.scratch.capacity());
        let mut inf = Inflater::new(Version::Spdy3, InflateLimits { max_block: 200_000, budget: 1 << 20 });
        let mut plain = Vec::new();
        assert_eq!(inf.inflate(&out, &mut plain), Ok(InflateOutcome::Complete));
        let mut expect = Vec::new();
        wire::encode(Version::Spdy3, &block, &mut expect);
        assert_eq!(plain, expect);
    }

    #[test]
    fn zlib_state_is_created_with_the_first_block() {
        let mut enc = ZlibEncoder::new(Version::Spdy3, 9, 11, 1);
        assert_eq!(enc.state_bytes(), 0);
        enc.encode(&request(0), &mut Vec::new());
        assert!(enc.state_bytes() >= ZlibEncoder::zlib_rs_bytes(11, 1));
        // memLevel 1 vs 8: ~110 KiB apart; the 128 KiB hash head is there either way.
        assert!(ZlibEncoder::zlib_rs_bytes(11, 8) - ZlibEncoder::zlib_rs_bytes(11, 1) > 100_000);
    }

    #[test]
    fn steady_state_encode_reuses_its_scratch() {
        let mut enc = ZlibEncoder::new(Version::Spdy3, 6, 11, 1);
        let mut out = Vec::with_capacity(4096);
        enc.encode(&request(0), &mut out);
        let (cap, ptr) = (enc.scratch.capacity(), enc.scratch.as_ptr());
        for i in 1..50 {
            out.clear();
            enc.encode(&request(i % 7), &mut out);
        }
        assert_eq!((enc.scratch.capacity(), enc.scratch.as_ptr()), (cap, ptr));
    }
}
