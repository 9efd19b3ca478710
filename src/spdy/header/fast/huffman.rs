//! Per-block dynamic Huffman codes (RFC 1951 §3.2.7): length-limited code lengths from
//! symbol counts, the exact size of the block header that transmits them, and writing it.

use super::bits::{canonical, BitWriter};

/// Order in which code-length code lengths are sent.
const CLEN_ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/// Code lengths (≤ `max_bits`) of an optimal prefix code for `freq`; unused symbols get 0.
/// At least two symbols always get a code (as zlib does), so every code is complete.
pub(super) fn lengths(freq: &[u32], max_bits: u32, lens: &mut [u8]) {
    lens.iter_mut().for_each(|l| *l = 0);
    // used symbols as (freq << 9 | symbol) keys, sorted ascending (freq ascending)
    let mut keys = [0u32; 288];
    let mut n = 0;
    for (s, &f) in freq.iter().enumerate() {
        if f > 0 {
            keys[n] = f.min(1 << 22) << 9 | s as u32;
            n += 1;
        }
    }
    let mut s = 0u32;
    while n < 2 {
        if freq[s as usize] == 0 {
            keys[n] = 1 << 9 | s;
            n += 1;
        }
        s += 1;
    }
    let keys = &mut keys[..n];
    keys.sort_unstable();

    // two-queue Huffman: weights of leaves then internal nodes, parent links
    let mut weight = [0u32; 576];
    let mut parent = [0u16; 576];
    for (i, k) in keys.iter().enumerate() {
        weight[i] = k >> 9;
    }
    let (mut next_leaf, mut next_node, mut made) = (0usize, n, n);
    let pick = |weight: &[u32; 576], made: usize, next_leaf: &mut usize, next_node: &mut usize| -> usize {
        if *next_leaf < n && (*next_node >= made || weight[*next_leaf] <= weight[*next_node]) {
            *next_leaf += 1;
            *next_leaf - 1
        } else {
            *next_node += 1;
            *next_node - 1
        }
    };
    while made < 2 * n - 1 {
        let a = pick(&weight, made, &mut next_leaf, &mut next_node);
        let b = pick(&weight, made, &mut next_leaf, &mut next_node);
        weight[made] = weight[a] + weight[b];
        parent[a] = made as u16;
        parent[b] = made as u16;
        made += 1;
    }
    // depths, root first
    let mut depth = [0u32; 576];
    let root = 2 * n - 2;
    for i in (0..root).rev() {
        depth[i] = depth[usize::from(parent[i])] + 1;
    }
    // count per length, clamping, then repair the Kraft sum (longest codes first)
    let mut count = [0u32; 33];
    for d in &depth[..n] {
        count[(*d).min(max_bits) as usize] += 1;
    }
    let mut total: u32 = (1..=max_bits).map(|l| count[l as usize] << (max_bits - l)).sum();
    while total > 1 << max_bits {
        count[max_bits as usize] -= 1;
        for l in (1..max_bits).rev() {
            if count[l as usize] != 0 {
                count[l as usize] -= 1;
                count[l as usize + 1] += 2;
                break;
            }
        }
        total -= 1;
    }
    // longest codes to the rarest symbols
    let mut k = 0;
    for l in (1..=max_bits).rev() {
        for _ in 0..count[l as usize] {
            lens[(keys[k] & 0x1ff) as usize] = l as u8;
            k += 1;
        }
    }
}

/// A dynamic block header ready to write: the run-length coded code lengths and the
/// code-length code.
pub(super) struct Header {
    hlit: usize,
    hdist: usize,
    hclen: usize,
    /// (symbol 0..=18, extra bits value)
    rle: [(u8, u8); 320],
    nrle: usize,
    clen_lens: [u8; 19],
    clen_codes: [u16; 19],
    /// Exact size in bits, block type bits included.
    pub(super) bits: u32,
}

impl Header {
    pub(super) fn new(lit_lens: &[u8; 288], dist_lens: &[u8; 30]) -> Self {
        let hlit = 257 + lit_lens[257..286].iter().rposition(|&l| l != 0).map_or(0, |p| p + 1);
        let hdist = 1 + dist_lens.iter().rposition(|&l| l != 0).unwrap_or(0);
        let mut all = [0u8; 316];
        all[..hlit].copy_from_slice(&lit_lens[..hlit]);
        all[hlit..hlit + hdist].copy_from_slice(&dist_lens[..hdist]);
        let all = &all[..hlit + hdist];

        let mut h = Header {
            hlit,
            hdist,
            hclen: 0,
            rle: [(0, 0); 320],
            nrle: 0,
            clen_lens: [0; 19],
            clen_codes: [0; 19],
            bits: 0,
        };
        let mut freq = [0u32; 19];
        let mut i = 0;
        while i < all.len() {
            let l = all[i];
            let mut run = 1;
            while i + run < all.len() && all[i + run] == l {
                run += 1;
            }
            let mut left = run;
            if l == 0 {
                while left >= 11 {
                    let r = left.min(138);
                    h.push(&mut freq, 18, (r - 11) as u8);
                    left -= r;
                }
                if left >= 3 {
                    h.push(&mut freq, 17, (left - 3) as u8);
                    left = 0;
                }
            } else {
                h.push(&mut freq, l, 0);
                left -= 1;
                while left >= 3 {
                    let r = left.min(6);
                    h.push(&mut freq, 16, (r - 3) as u8);
                    left -= r;
                }
            }
            for _ in 0..left {
                h.push(&mut freq, l, 0);
            }
            i += run;
        }
        lengths(&freq, 7, &mut h.clen_lens);
        canonical(&h.clen_lens, &mut h.clen_codes);
        h.hclen = 4 + CLEN_ORDER.iter().rposition(|&s| h.clen_lens[s] != 0).map_or(0, |p| p + 1).saturating_sub(4);
        let mut bits = 3 + 5 + 5 + 4 + 3 * h.hclen as u32;
        for &(s, _) in &h.rle[..h.nrle] {
            bits += u32::from(h.clen_lens[usize::from(s)]) + [2, 3, 7].get(usize::from(s).wrapping_sub(16)).copied().unwrap_or(0);
        }
        h.bits = bits;
        h
    }

    fn push(&mut self, freq: &mut [u32; 19], sym: u8, extra: u8) {
        self.rle[self.nrle] = (sym, extra);
        self.nrle += 1;
        freq[usize::from(sym)] += 1;
    }

    /// Writes the block header (BFINAL 0, BTYPE 10) and the code lengths.
    pub(super) fn write(&self, bw: &mut BitWriter<'_>) {
        bw.put(0b100, 3);
        bw.put((self.hlit - 257) as u32, 5);
        bw.put((self.hdist - 1) as u32, 5);
        bw.put((self.hclen - 4) as u32, 4);
        for &s in &CLEN_ORDER[..self.hclen] {
            bw.put(u32::from(self.clen_lens[s]), 3);
        }
        for &(s, extra) in &self.rle[..self.nrle] {
            let s = usize::from(s);
            bw.put(u32::from(self.clen_codes[s]), u32::from(self.clen_lens[s]));
            match s {
                16 => bw.put(u32::from(extra), 2),
                17 => bw.put(u32::from(extra), 3),
                18 => bw.put(u32::from(extra), 7),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kraft(lens: &[u8]) -> f64 {
        lens.iter().filter(|&&l| l > 0).map(|&l| 0.5f64.powi(i32::from(l))).sum()
    }

    #[test]
    fn lengths_are_complete_and_limited() {
        let mut freq = [0u32; 288];
        // Fibonacci counts force a deep tree that must be cut to 15 bits
        let (mut a, mut b) = (1u32, 1u32);
        for f in freq.iter_mut().take(30) {
            *f = a;
            (a, b) = (b, a.saturating_add(b));
        }
        let mut lens = [0u8; 288];
        lengths(&freq, 15, &mut lens);
        assert!(lens.iter().all(|&l| l <= 15));
        assert!((kraft(&lens) - 1.0).abs() < 1e-12);
        assert!(lens[..30].iter().all(|&l| l > 0) && lens[30..].iter().all(|&l| l == 0));
    }

    #[test]
    fn a_single_used_symbol_still_gets_a_complete_code() {
        let mut freq = [0u32; 30];
        freq[7] = 5;
        let mut lens = [0u8; 30];
        lengths(&freq, 15, &mut lens);
        assert_eq!(lens[7], 1);
        assert!((kraft(&lens) - 1.0).abs() < 1e-12);
    }
}
