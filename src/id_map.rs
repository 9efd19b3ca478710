//! Hash maps keyed by small integer ids (stream ids, exchange ids), hashed with one
//! multiply instead of SipHash.
//!
//! SipHash defends a map against flooding; these maps cannot be flooded: each holds at most
//! what a concurrency limit allows (streams per session, exchanges per connection), and the
//! keys are either ours or stream ids that must rise (CONFORMANCE C20, C23). With
//! small keys SipHash was ~2 % of the gateway's CPU per request.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` with [`IdHasher`].
pub type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// Fibonacci hashing of integer ids. The product's low bits depend only on the id's low
/// bits (all odd ids would land in odd buckets), so `finish` swaps the halves to put the
/// well-mixed high bits where the table takes its bucket index.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0.rotate_left(32)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0.rotate_left(32) ^ u64::from(n)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(32) ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    fn hash(v: impl Hash) -> u64 {
        BuildHasherDefault::<IdHasher>::default().hash_one(v)
    }

    #[test]
    fn odd_ids_spread_over_even_and_odd_buckets() {
        let low_bits: std::collections::HashSet<u64> = (0..64u32).map(|i| hash(2 * i + 1) & 63).collect();
        assert!(low_bits.len() > 32, "only {} of 64 buckets used", low_bits.len());
    }

    #[test]
    fn pairs_of_ids_hash_by_both_halves() {
        assert_ne!(hash((1u32, 2u32)), hash((2u32, 1u32)));
        let mut m: IdMap<(u32, u32), u32> = IdMap::default();
        for i in 0..1000 {
            m.insert((i, i / 7), i);
        }
        assert_eq!(m.len(), 1000);
        assert_eq!(m[&(700, 100)], 700);
    }
}
