//! The deterministic body every sized route sends, and the cached SHA-256 of its prefixes.
//!
//! Byte `i` of every generated body is `(i % 251) as u8` (251 is prime, so the pattern does not
//! line up with any power-of-two buffer size and a shifted or dropped range changes the
//! digest). Bodies are served as `'static` slices of one shared period-aligned buffer, so a
//! 1 GiB body costs no allocation. Digests are computed lazily and cached per length; it
//! refuses to hash bodies longer than [`MAX_SHA_LEN`].

use std::collections::HashMap;

use sha2::{Digest, Sha256};

/// The pattern's period.
pub const PERIOD: usize = 251;

/// Longest slice [`slice`] hands out.
pub const MAX_SLICE: usize = 64 * 1024;

/// Bodies longer than this get no `x-body-sha256` (hashing them would stall the shard).
pub const MAX_SHA_LEN: u64 = 4 << 30;

/// Digests kept per thread before the cache is emptied and refilled.
const SHA_CACHE_ENTRIES: usize = 256;

/// `PERIOD - 1 + MAX_SLICE` bytes rounded up to whole periods: any phase, any slice length.
const PATTERN_LEN: usize = (MAX_SLICE + PERIOD - 1).div_ceil(PERIOD) * PERIOD;

static PATTERN: [u8; PATTERN_LEN] = {
    let mut out = [0u8; PATTERN_LEN];
    let mut i = 0;
    while i < PATTERN_LEN {
        out[i] = (i % PERIOD) as u8;
        i += 1;
    }
    out
};

/// Body bytes `offset..offset + len` of the pattern, `len` clamped to [`MAX_SLICE`].
pub fn slice(offset: u64, len: u64) -> &'static [u8] {
    let phase = (offset % PERIOD as u64) as usize;
    let len = len.min(MAX_SLICE as u64) as usize;
    &PATTERN[phase..phase + len]
}

/// Byte `i` of the pattern (for tests and clients that check bodies).
pub fn byte_at(i: u64) -> u8 {
    (i % PERIOD as u64) as u8
}

/// Lowercase hex SHA-256 of the first `len` pattern bytes.
pub fn sha256_hex(len: u64) -> [u8; 64] {
    let mut hasher = Sha256::new();
    let mut done = 0u64;
    while done < len {
        let part = slice(done, len - done);
        hasher.update(part);
        done += part.len() as u64;
    }
    let digest = hasher.finalize();
    let mut out = [0u8; 64];
    for (i, byte) in digest.iter().enumerate() {
        out[2 * i] = b"0123456789abcdef"[(byte >> 4) as usize];
        out[2 * i + 1] = b"0123456789abcdef"[(byte & 0xf) as usize];
    }
    out
}

/// Per-thread digests by body length, bounded: when full it is emptied (the hot lengths come
/// straight back, and a scan of many lengths cannot grow it).
#[derive(Default)]
pub struct ShaCache {
    digests: HashMap<u64, [u8; 64]>,
}

impl ShaCache {
    /// The digest of the first `len` pattern bytes; `None` above [`MAX_SHA_LEN`].
    pub fn digest(&mut self, len: u64) -> Option<&[u8; 64]> {
        if len > MAX_SHA_LEN {
            return None;
        }
        if !self.digests.contains_key(&len) && self.digests.len() >= SHA_CACHE_ENTRIES {
            self.digests.clear();
        }
        Some(self.digests.entry(len).or_insert_with(|| sha256_hex(len)))
    }

    pub fn len(&self) -> usize {
        self.digests.len()
    }

    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_follow_the_pattern_at_every_phase() {
        for offset in [0u64, 1, 250, 251, 252, 1_000_003, u64::MAX / 2] {
            let s = slice(offset, 70_000);
            assert_eq!(s.len(), MAX_SLICE);
            for (i, &b) in s.iter().enumerate() {
                assert_eq!(b, byte_at(offset + i as u64));
            }
        }
        assert_eq!(slice(5, 3), &[5, 6, 7]);
    }

    #[test]
    fn digest_matches_sha256_of_the_materialised_body() {
        let body: Vec<u8> = (0..200_000u64).map(byte_at).collect();
        let want = Sha256::digest(&body);
        let hex: String = want.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(&sha256_hex(200_000)[..], hex.as_bytes());
        // SHA-256 of the empty string.
        assert_eq!(&sha256_hex(0)[..], b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn cache_is_bounded_and_refuses_huge_lengths() {
        let mut cache = ShaCache::default();
        for len in 0..(SHA_CACHE_ENTRIES as u64 + 10) {
            assert!(cache.digest(len).is_some());
        }
        assert!(cache.len() <= SHA_CACHE_ENTRIES);
        assert!(cache.digest(MAX_SHA_LEN + 1).is_none());
    }
}
