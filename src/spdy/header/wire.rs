//! The uncompressed name/value block layout (SPDY3.md §4; 16-bit fields in SPDY/2, SPDY2.md
//! §4) and its validation rules (CONFORMANCE C37–C44, C47, C48, E3).
//!
//! Decoding never allocates from a count or length the peer wrote: every field is checked
//! against the bytes actually inflated before anything is stored. It refuses rather than
//! repairs: a block that breaks a rule is an [`NvError`] named after the offence, and the
//! caller answers with RST_STREAM ([`NvError::rst_status`]); the zlib context is unharmed.

use super::HeaderBlock;
use crate::spdy::frame::RstStatus;
use crate::spdy::version::Version;

/// Limits applied while decoding one block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NvLimits {
    /// Most pairs accepted in one block (CONFORMANCE C47, default 128).
    pub max_pairs: usize,
}

impl Default for NvLimits {
    fn default() -> Self {
        Self { max_pairs: 128 }
    }
}

/// Why a decompressed name/value block was refused. Every variant is a stream error: the
/// shared zlib state survived (SPDY3.md §5.2 step 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NvError {
    /// A count or length field is cut off by the end of the block (C44).
    #[error("name/value block ends inside a count or length field")]
    TruncatedField,
    /// The pair count claims more pairs than the remaining bytes could hold, even if every
    /// pair were empty (C44, C48).
    #[error("pair count {count} exceeds what the block can hold")]
    CountExceedsData { count: u32 },
    /// A name or value length runs past the end of the block (C44).
    #[error("a length runs past the end of the name/value block")]
    LengthPastEnd,
    /// Bytes are left after the last pair (C44).
    #[error("{0} bytes left after the last pair")]
    TrailingBytes(usize),
    /// More pairs than [`NvLimits::max_pairs`] (C47, answered with FRAME_TOO_LARGE).
    #[error("{count} pairs, more than the limit")]
    TooManyPairs { count: u32 },
    /// A pair with a zero-length name (C37).
    #[error("zero-length header name")]
    EmptyName,
    /// An uppercase ASCII letter in a name (C38).
    #[error("uppercase letter in a header name")]
    UppercaseName,
    /// NUL, a control byte, space or a byte above 0x7e in a name (C39).
    #[error("byte {byte:#04x} not allowed in a header name")]
    InvalidNameByte { byte: u8 },
    /// The same name twice in one block (C40).
    #[error("duplicate header name")]
    DuplicateName,
    /// A value that starts or ends with NUL or holds two NULs in a row (C41).
    #[error("header value with an empty NUL-separated part")]
    EmptyValuePart,
    /// CR, LF or another control byte except HTAB in a value (C42).
    #[error("byte {byte:#04x} not allowed in a header value")]
    InvalidValueByte { byte: u8 },
    /// A zero-length value in SPDY/2 (CONFORMANCE E3; allowed in SPDY/3, C43).
    #[error("zero-length header value (SPDY/2)")]
    EmptyValue,
}

impl NvError {
    /// The RST_STREAM status for this offence in SPDY/3 terms (map through
    /// [`Version::rst_status`] for SPDY/2).
    pub const fn rst_status(self) -> RstStatus {
        match self {
            NvError::TooManyPairs { .. } => RstStatus::FRAME_TOO_LARGE,
            _ => RstStatus::PROTOCOL_ERROR,
        }
    }
}

/// Appends the uncompressed block for `block` to `out`.
///
/// The builder of `block` keeps names and values within what the version can carry;
/// should a pair count, name or value exceed it (65 535 in SPDY/2, 2^32−1 in SPDY/3) the
/// excess is cut off, so the block stays well-formed and the peer's zlib context in sync.
pub fn encode(version: Version, block: &HeaderBlock, out: &mut Vec<u8>) {
    let width = version.nv_length_width();
    let max = max_field(width);
    out.reserve(encoded_len(version, block));
    let count = block.len().min(max);
    put(out, width, count);
    for (name, value) in block.iter().take(count) {
        let name = &name[..name.len().min(max)];
        let value = &value[..value.len().min(max)];
        put(out, width, name.len());
        out.extend_from_slice(name);
        put(out, width, value.len());
        out.extend_from_slice(value);
    }
}

/// Length in bytes of what [`encode`] appends for `block`.
pub fn encoded_len(version: Version, block: &HeaderBlock) -> usize {
    let width = version.nv_length_width();
    let max = max_field(width);
    block
        .iter()
        .take(block.len().min(max))
        .fold(width, |acc, (n, v)| acc + 2 * width + n.len().min(max) + v.len().min(max))
}

const fn max_field(width: usize) -> usize {
    if width == 2 {
        u16::MAX as usize
    } else {
        u32::MAX as usize
    }
}

fn put(out: &mut Vec<u8>, width: usize, n: usize) {
    if width == 2 {
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// Decodes one complete uncompressed block into `out` (cleared first; its allocations are
/// reused), checking every rule of SPDY3.md §4.
pub fn decode(version: Version, bytes: &[u8], limits: &NvLimits, out: &mut HeaderBlock) -> Result<(), NvError> {
    out.clear();
    let width = version.nv_length_width();
    let mut cur = Cursor { bytes, pos: 0, width };
    let count = cur.field()?;
    // C48: each pair takes at least two length fields; a count the remaining bytes cannot
    // hold is malformed (C44) before it is compared with any limit or used to size anything.
    if u64::from(count) * 2 * width as u64 > cur.remaining() as u64 {
        return Err(NvError::CountExceedsData { count });
    }
    if count as usize > limits.max_pairs {
        return Err(NvError::TooManyPairs { count });
    }
    // Both sizes are bounded by the bytes actually inflated (the count was just checked
    // against them), so reserving them is not allocating from a peer's claim; it saves the
    // doubling reallocations of a fresh block.
    out.spans.reserve(count as usize);
    out.bytes.reserve(cur.remaining().saturating_sub(count as usize * 2 * width));
    for _ in 0..count {
        let name = cur.bytes()?;
        check_name(name)?;
        let value = cur.bytes()?;
        check_value(version, value)?;
        out.push(name, value);
    }
    if cur.remaining() != 0 {
        return Err(NvError::TrailingBytes(cur.remaining()));
    }
    check_unique(out)
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    width: usize,
}

impl<'a> Cursor<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn field(&mut self) -> Result<u32, NvError> {
        let Some(raw) = self.bytes.get(self.pos..self.pos + self.width) else {
            return Err(NvError::TruncatedField);
        };
        self.pos += self.width;
        Ok(raw.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)))
    }

    fn bytes(&mut self) -> Result<&'a [u8], NvError> {
        let len = self.field()? as usize;
        if len > self.remaining() {
            return Err(NvError::LengthPastEnd);
        }
        let s = &self.bytes[self.pos..self.pos + len];
        self.pos += len;
        Ok(s)
    }
}

/// Byte classes for names and values, one table lookup per byte.
const NAME_OK: u8 = 1;
const VALUE_OK: u8 = 2;
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        // SPDY3.md §4 rule 2 (chosen, as spdylay but stricter on space): printable ASCII
        // without space and without uppercase.
        if byte > 0x20 && byte < 0x7f && !byte.is_ascii_uppercase() {
            t[b] |= NAME_OK;
        }
        // Rule 7 (spdylay's value check): HTAB, 0x20–0x7e and 0x80–0xff; NUL is handled
        // separately as the part separator.
        if byte == b'\t' || (byte >= 0x20 && byte != 0x7f) {
            t[b] |= VALUE_OK;
        }
        b += 1;
    }
    t
};

fn check_name(name: &[u8]) -> Result<(), NvError> {
    if name.is_empty() {
        return Err(NvError::EmptyName); // C37
    }
    // Fast path, branch-free arithmetic so it vectorises: every byte is a NAME_OK byte
    // (0x21..=0x7e and not an uppercase letter).
    if name.iter().fold(true, |ok, &b| ok & (b.wrapping_sub(0x21) < 0x5e) & (b.wrapping_sub(b'A') >= 26)) {
        return Ok(());
    }
    match name.iter().find(|&&b| CLASS[b as usize] & NAME_OK == 0) {
        None => Ok(()),
        Some(b) if b.is_ascii_uppercase() => Err(NvError::UppercaseName), // C38
        Some(&byte) => Err(NvError::InvalidNameByte { byte }),           // C39
    }
}

fn check_value(version: Version, value: &[u8]) -> Result<(), NvError> {
    let (Some(&first), Some(&last)) = (value.first(), value.last()) else {
        // C43: empty values are fine in SPDY/3; E3: not in SPDY/2.
        return if version.allows_empty_values() { Ok(()) } else { Err(NvError::EmptyValue) };
    };
    if first == 0 || last == 0 {
        return Err(NvError::EmptyValuePart); // C41
    }
    // Fast path, branch-free so it vectorises: printable ASCII only (no NUL, no control
    // byte), which is every value of a typical block; anything else takes the full check.
    if value.iter().fold(true, |ok, &b| ok & (b.wrapping_sub(0x20) < 0x5f)) {
        return Ok(());
    }
    let mut prev = first;
    for &b in value {
        if b == 0 {
            if prev == 0 {
                return Err(NvError::EmptyValuePart); // C41
            }
        } else if CLASS[b as usize] & VALUE_OK == 0 {
            return Err(NvError::InvalidValueByte { byte: b }); // C42
        }
        prev = b;
    }
    Ok(())
}

/// Blocks with at most this many pairs are checked for duplicates pair by pair.
const SMALL_BLOCK_PAIRS: usize = 12;

/// C40 in O(n log n): sort pair indices by name on the stack (a heap buffer only when the
/// configured pair limit is above 128) and compare neighbours. An O(n²) scan would cost up
/// to n/2 × 64 KiB byte comparisons for a crafted 64 KiB block of long, equal-prefix names.
fn check_unique(block: &HeaderBlock) -> Result<(), NvError> {
    let n = block.spans.len();
    if n < 2 {
        return Ok(());
    }
    let name = |i: u16| {
        let (s, e, _) = block.spans[i as usize];
        &block.bytes[s as usize..e as usize]
    };
    if n <= SMALL_BLOCK_PAIRS {
        // A few pairs (a typical reply): compare every two, bytes only when the lengths
        // agree. At most SMALL_BLOCK_PAIRS² / 2 comparisons, each no longer than one name,
        // so a crafted block costs at most SMALL_BLOCK_PAIRS / 2 passes over its bytes.
        let spans = &block.spans[..n];
        for (i, &(s, e, _)) in spans.iter().enumerate() {
            let len = e - s;
            for &(s2, e2, _) in &spans[i + 1..] {
                if e2 - s2 == len && block.bytes[s as usize..e as usize] == block.bytes[s2 as usize..e2 as usize] {
                    return Err(NvError::DuplicateName);
                }
            }
        }
        return Ok(());
    }
    let sorted_has_dup = |idx: &mut [u16]| {
        idx.sort_unstable_by(|&a, &b| name(a).cmp(name(b)));
        idx.windows(2).any(|w| name(w[0]) == name(w[1]))
    };
    let dup = if n <= 128 {
        let mut idx = [0u16; 128];
        for (i, slot) in idx[..n].iter_mut().enumerate() {
            *slot = i as u16;
        }
        sorted_has_dup(&mut idx[..n])
    } else if n <= usize::from(u16::MAX) + 1 {
        let mut idx: Vec<u16> = (0..n).map(|i| i as u16).collect();
        sorted_has_dup(&mut idx)
    } else {
        // More pairs than a u16 index: only with a limit far above any sane setting.
        let mut names: Vec<&[u8]> = block.iter().map(|(n, _)| n).collect();
        names.sort_unstable();
        names.windows(2).any(|w| w[0] == w[1])
    };
    if dup {
        Err(NvError::DuplicateName)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    const V3: Version = Version::Spdy3;
    const V2: Version = Version::Spdy2;

    fn dec(version: Version, bytes: &[u8]) -> Result<HeaderBlock, NvError> {
        let mut out = HeaderBlock::new();
        decode(version, bytes, &NvLimits::default(), &mut out).map(|()| out)
    }

    /// Builds an uncompressed block without any validation (for negative tests).
    fn raw(version: Version, pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let block: HeaderBlock = pairs.iter().copied().collect();
        encode(version, &block, &mut out);
        out
    }

    #[test]
    fn encodes_spec_example_byte_exact() {
        // SPDY3.md §4 example.
        let block: HeaderBlock = [(":method", "GET")].into_iter().collect();
        let mut out = vec![0xaa];
        encode(V3, &block, &mut out);
        assert_eq!(out, hex!("aa 00000001 00000007 3a6d6574686f64 00000003 474554"));
        assert_eq!(encoded_len(V3, &block), out.len() - 1);
    }

    #[test]
    fn encodes_spdy2_with_16_bit_fields() {
        let block: HeaderBlock = [("method", "GET"), ("url", "/")].into_iter().collect();
        let mut out = Vec::new();
        encode(V2, &block, &mut out);
        assert_eq!(out, hex!("0002 0006 6d6574686f64 0003 474554 0003 75726c 0001 2f"));
        assert_eq!(encoded_len(V2, &block), out.len());
    }

    #[test]
    fn decodes_spec_example_and_round_trips_both_widths() {
        let got = dec(V3, &hex!("00000001 00000007 3a6d6574686f64 00000003 474554")).unwrap();
        assert_eq!(got.iter().collect::<Vec<_>>(), [(&b":method"[..], &b"GET"[..])]);
        let block: HeaderBlock =
            [(":host", "example.com"), ("cookie", "a=1\0b=2"), ("x-tab", "a\tb"), ("x-utf8", "é")].into_iter().collect();
        for v in [V2, V3, Version::Spdy31] {
            let mut bytes = Vec::new();
            encode(v, &block, &mut bytes);
            assert_eq!(dec(v, &bytes).unwrap(), block, "{v}");
        }
    }

    #[test]
    fn decode_reuses_and_clears_the_output_block() {
        let mut out: HeaderBlock = [("stale", "x")].into_iter().collect();
        decode(V3, &hex!("00000000"), &NvLimits::default(), &mut out).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn c44_empty_or_cut_count_is_truncated() {
        assert_eq!(dec(V3, &[]), Err(NvError::TruncatedField));
        assert_eq!(dec(V3, &hex!("000000")), Err(NvError::TruncatedField));
        assert_eq!(dec(V2, &hex!("00")), Err(NvError::TruncatedField));
    }

    #[test]
    fn c44_count_larger_than_pairs_present() {
        // Two pairs announced, one present (room for one more pair's two fields: no).
        let mut b = raw(V3, &[(b"a", b"1")]);
        b[3] = 2;
        assert_eq!(dec(V3, &b), Err(NvError::CountExceedsData { count: 2 }));
        // Count fits the byte budget but the second pair is cut inside its value length.
        let b = hex!("00000002 00000001 61 00000001 31 00000001 62 0000");
        assert_eq!(dec(V3, &b), Err(NvError::TruncatedField));
    }

    #[test]
    fn c44_length_running_past_the_end() {
        assert_eq!(dec(V3, &hex!("00000001 00000009 61 00000000")), Err(NvError::LengthPastEnd));
        assert_eq!(dec(V3, &hex!("00000001 00000001 61 00000005 31")), Err(NvError::LengthPastEnd));
        assert_eq!(dec(V2, &hex!("0001 0001 61 0002 31")), Err(NvError::LengthPastEnd));
    }

    #[test]
    fn c44_trailing_bytes_after_last_pair() {
        let mut b = raw(V3, &[(b"a", b"1")]);
        b.extend_from_slice(&[0, 0]);
        assert_eq!(dec(V3, &b), Err(NvError::TrailingBytes(2)));
        assert_eq!(NvError::TrailingBytes(2).rst_status(), RstStatus::PROTOCOL_ERROR);
    }

    #[test]
    fn c48_huge_count_in_small_block_rejected_before_limits() {
        let e = dec(V3, &hex!("ffffffff 00000001 61 00000001 31")).unwrap_err();
        assert_eq!(e, NvError::CountExceedsData { count: u32::MAX });
        assert_eq!(e.rst_status(), RstStatus::PROTOCOL_ERROR);
        assert_eq!(dec(V2, &hex!("ffff 0001 61 0001 31")), Err(NvError::CountExceedsData { count: 0xffff }));
    }

    #[test]
    fn c47_more_pairs_than_limit_is_frame_too_large() {
        let names: Vec<Vec<u8>> = (0..129).map(|i| format!("x-{i}").into_bytes()).collect();
        let pairs: Vec<(&[u8], &[u8])> = names.iter().map(|n| (&n[..], &b"v"[..])).collect();
        let e = dec(V3, &raw(V3, &pairs)).unwrap_err();
        assert_eq!(e, NvError::TooManyPairs { count: 129 });
        assert_eq!(e.rst_status(), RstStatus::FRAME_TOO_LARGE);
        assert_eq!(V2.rst_status(e.rst_status()), RstStatus::PROTOCOL_ERROR);
        // Exactly at the limit is fine.
        assert_eq!(dec(V3, &raw(V3, &pairs[..128])).unwrap().len(), 128);
        let mut out = HeaderBlock::new();
        assert_eq!(decode(V3, &raw(V3, &pairs[..5]), &NvLimits { max_pairs: 4 }, &mut out), Err(NvError::TooManyPairs { count: 5 }));
    }

    #[test]
    fn c37_zero_length_name() {
        assert_eq!(dec(V3, &raw(V3, &[(b"", b"x")])), Err(NvError::EmptyName));
        assert_eq!(dec(V2, &raw(V2, &[(b"", b"x")])), Err(NvError::EmptyName));
    }

    #[test]
    fn c38_uppercase_letter_in_name() {
        assert_eq!(dec(V3, &raw(V3, &[(b"Host", b"x")])), Err(NvError::UppercaseName));
        assert_eq!(dec(V3, &raw(V3, &[(b"x-aZ", b"x")])), Err(NvError::UppercaseName));
    }

    #[test]
    fn c39_nul_control_space_or_high_byte_in_name() {
        for byte in [0x00, 0x01, b'\t', b'\r', b'\n', b' ', 0x7f, 0x80, 0xff] {
            let name = [b'a', byte, b'b'];
            assert_eq!(dec(V3, &raw(V3, &[(&name, b"x")])), Err(NvError::InvalidNameByte { byte }), "{byte:#x}");
        }
        // Every other printable non-uppercase byte is accepted.
        let ok: Vec<u8> = (0x21..0x7f).filter(|b: &u8| !b.is_ascii_uppercase()).collect();
        assert!(dec(V3, &raw(V3, &[(&ok, b"x")])).is_ok());
    }

    #[test]
    fn c40_duplicate_name() {
        let b = raw(V3, &[(b"a", b"1"), (b"b", b"2"), (b"a", b"3")]);
        assert_eq!(dec(V3, &b), Err(NvError::DuplicateName));
        // Prefixes are not duplicates.
        assert!(dec(V3, &raw(V3, &[(b"ab", b"1"), (b"a", b"2"), (b"abc", b"3")])).is_ok());
        // Duplicates found among 128 pairs (sorted path), first and last.
        let mut names: Vec<Vec<u8>> = (0..128).map(|i| format!("x-{i}").into_bytes()).collect();
        names[127] = names[0].clone();
        let pairs: Vec<(&[u8], &[u8])> = names.iter().map(|n| (&n[..], &b"v"[..])).collect();
        assert_eq!(dec(V3, &raw(V3, &pairs)), Err(NvError::DuplicateName));
        // And with a limit above 128 (heap index path).
        let names: Vec<Vec<u8>> = (0..300).map(|i| format!("y-{}", i % 299).into_bytes()).collect();
        let pairs: Vec<(&[u8], &[u8])> = names.iter().map(|n| (&n[..], &b"v"[..])).collect();
        let mut out = HeaderBlock::new();
        assert_eq!(decode(V3, &raw(V3, &pairs), &NvLimits { max_pairs: 1000 }, &mut out), Err(NvError::DuplicateName));
        assert!(decode(V3, &raw(V3, &pairs[..299]), &NvLimits { max_pairs: 1000 }, &mut out).is_ok());
    }

    #[test]
    fn c40_duplicates_found_on_both_sides_of_the_small_block_cutoff() {
        for n in [2, SMALL_BLOCK_PAIRS - 1, SMALL_BLOCK_PAIRS, SMALL_BLOCK_PAIRS + 1, 40] {
            // Equal-length distinct names must not count as duplicates.
            let names: Vec<Vec<u8>> = (0..n).map(|i| format!("n{i:03}").into_bytes()).collect();
            let pairs: Vec<(&[u8], &[u8])> = names.iter().map(|n| (&n[..], &b"v"[..])).collect();
            assert!(dec(V3, &raw(V3, &pairs)).is_ok(), "{n} distinct");
            for (i, j) in [(0, n - 1), (n / 2 - 1, n / 2), (n - 2, n - 1)] {
                let mut names = names.clone();
                names[j] = names[i].clone();
                let pairs: Vec<(&[u8], &[u8])> = names.iter().map(|n| (&n[..], &b"v"[..])).collect();
                assert_eq!(dec(V3, &raw(V3, &pairs)), Err(NvError::DuplicateName), "{n} pairs, {i} = {j}");
            }
        }
    }

    #[test]
    fn fast_byte_checks_agree_with_the_byte_classes_for_every_byte() {
        for b in 0..=255u8 {
            let name_ok = CLASS[b as usize] & NAME_OK != 0;
            assert_eq!(check_name(&[b'a', b, b'z']).is_ok(), name_ok, "name byte {b:#04x}");
            let value_ok = CLASS[b as usize] & VALUE_OK != 0;
            assert_eq!(check_value(V3, &[b'a', b, b'z']).is_ok(), value_ok || b == 0, "value byte {b:#04x}");
        }
    }

    #[test]
    fn c41_value_with_empty_nul_separated_part() {
        for value in [&b"\0a"[..], b"a\0", b"a\0\0b", b"\0", b"\0\0"] {
            assert_eq!(dec(V3, &raw(V3, &[(b"a", value)])), Err(NvError::EmptyValuePart), "{value:?}");
        }
        let ok = dec(V3, &raw(V3, &[(b"a", b"1\x002\x003")])).unwrap();
        assert_eq!(ok.get(b"a"), Some(&b"1\x002\x003"[..]));
    }

    #[test]
    fn c42_cr_lf_or_control_byte_in_value() {
        for byte in [b'\r', b'\n', 0x01, 0x1f, 0x7f] {
            let value = [b'a', byte, b'b'];
            assert_eq!(dec(V3, &raw(V3, &[(b"a", &value)])), Err(NvError::InvalidValueByte { byte }), "{byte:#x}");
        }
        assert!(dec(V3, &raw(V3, &[(b"a", b"\tx y\x80\xff~")])).is_ok());
    }

    #[test]
    fn c43_zero_length_value_accepted_in_spdy3() {
        let got = dec(V3, &raw(V3, &[(b"a", b"")])).unwrap();
        assert_eq!(got.get(b"a"), Some(&b""[..]));
        assert!(dec(Version::Spdy31, &raw(V3, &[(b"a", b"")])).is_ok());
    }

    #[test]
    fn e3_zero_length_value_rejected_in_spdy2() {
        let e = dec(V2, &raw(V2, &[(b"a", b"")])).unwrap_err();
        assert_eq!(e, NvError::EmptyValue);
        assert_eq!(e.rst_status(), RstStatus::PROTOCOL_ERROR);
    }

    #[test]
    fn encode_cuts_spdy2_fields_to_16_bits_and_stays_well_formed() {
        let long = vec![b'v'; 70_000];
        let block: HeaderBlock = [(&b"a"[..], &long[..])].into_iter().collect();
        let mut out = Vec::new();
        encode(V2, &block, &mut out);
        assert_eq!(out.len(), encoded_len(V2, &block));
        assert_eq!(dec(V2, &out).unwrap().get(b"a").map(<[u8]>::len), Some(65_535));
    }
}
