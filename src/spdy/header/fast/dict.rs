//! A hash index over the version's preset dictionary, built once per process and shared by
//! every session: zlib counts the dictionary as history, so its text can be copied from
//! while it is within 32 KiB of the output.

use std::sync::OnceLock;

use crate::spdy::version::Version;

pub(super) const HASH_BITS: u32 = 12;
const CHAIN: usize = 4;

pub(super) struct DictIndex {
    pub(super) bytes: &'static [u8],
    /// Latest position + 1 with this 4-byte hash (0: none).
    head: Vec<u16>,
    /// Previous position + 1 with the same hash.
    prev: Vec<u16>,
}

#[inline(always)]
pub(super) fn hash4(bytes: &[u8]) -> usize {
    let v = u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes"));
    (v.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize
}

/// Length of the common prefix of `a` and `b`, 8 bytes at a time.
#[inline]
pub(super) fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n {
        let x = u64::from_le_bytes(a[i..i + 8].try_into().expect("8"));
        let y = u64::from_le_bytes(b[i..i + 8].try_into().expect("8"));
        if x != y {
            return i + ((x ^ y).trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    if i < n && n >= 8 {
        // the tail: the last 8 bytes, of which the first `i - (n - 8)` are known equal
        let x = u64::from_le_bytes(a[n - 8..n].try_into().expect("8"))
            ^ u64::from_le_bytes(b[n - 8..n].try_into().expect("8"));
        let x = x >> (8 * (i + 8 - n));
        return if x == 0 { n } else { i + (x.trailing_zeros() / 8) as usize };
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

impl DictIndex {
    fn build(bytes: &'static [u8]) -> Self {
        let mut head = vec![0u16; 1 << HASH_BITS];
        let mut prev = vec![0u16; bytes.len()];
        for i in 0..bytes.len().saturating_sub(3) {
            let h = hash4(&bytes[i..]);
            prev[i] = head[h];
            head[h] = (i + 1) as u16;
        }
        DictIndex { bytes, head, prev }
    }

    pub(super) fn for_version(version: Version) -> &'static DictIndex {
        static V2: OnceLock<DictIndex> = OnceLock::new();
        static V3: OnceLock<DictIndex> = OnceLock::new();
        let cell = if version.nv_length_width() == 2 { &V2 } else { &V3 };
        cell.get_or_init(|| DictIndex::build(version.dictionary()))
    }

    /// Longest match for `text` (≥ 4 bytes) among dictionary positions `p` with
    /// `p >= min_pos`: (length, position).
    #[inline]
    pub(super) fn longest(&self, text: &[u8], min_pos: usize) -> (usize, usize) {
        let mut best = (0, 0);
        let mut p = self.head[hash4(text)];
        let mut steps = 0;
        while p != 0 && steps < CHAIN {
            let at = usize::from(p) - 1;
            if at < min_pos {
                break;
            }
            let len = common_prefix(&self.bytes[at..], text);
            if len > best.0 {
                best = (len, at);
            }
            p = self.prev[at];
            steps += 1;
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_header_names_with_their_length_prefix() {
        let d = DictIndex::for_version(Version::Spdy3);
        let text = b"\x00\x00\x00\x0auser-agent\x00\x00\x00\x20Mozilla";
        let (len, at) = d.longest(text, 0);
        assert_eq!(len, 17);
        assert_eq!(&d.bytes[at..at + 14], b"\x00\x00\x00\x0auser-agent");
    }

    #[test]
    fn common_prefix_counts_equal_leading_bytes() {
        assert_eq!(common_prefix(b"abcdefghijk", b"abcdefghijX"), 10);
        assert_eq!(common_prefix(b"abc", b"abcd"), 3);
        assert_eq!(common_prefix(b"", b"a"), 0);
    }
}
