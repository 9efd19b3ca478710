//! The deflate bit writer (RFC 1951 §3.1.1: bits are packed LSB first, Huffman codes MSB
//! first, so codes are stored bit-reversed) and the length/distance code tables of
//! RFC 1951 §3.2.5. Nothing here knows about headers.

/// Appends bits to a byte vector through a 64-bit accumulator.
pub(in crate::spdy::header) struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    n: u32,
}

impl<'a> BitWriter<'a> {
    pub(in crate::spdy::header) fn new(out: &'a mut Vec<u8>) -> Self {
        BitWriter { out, acc: 0, n: 0 }
    }

    /// Writes the low `len` bits of `bits` (`len` ≤ 32, higher bits of `bits` zero).
    #[inline(always)]
    pub(in crate::spdy::header) fn put(&mut self, bits: u32, len: u32) {
        debug_assert!(len <= 32 && (len == 32 || bits >> len == 0));
        self.acc |= u64::from(bits) << self.n;
        self.n += len;
        if self.n >= 32 {
            self.out.extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.n -= 32;
        }
    }

    /// Pads with zero bits to a byte boundary and writes out everything pending.
    pub(in crate::spdy::header) fn align(&mut self) {
        while self.n > 0 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n = self.n.saturating_sub(8);
        }
        self.acc = 0;
    }

    /// Writes whole bytes; only valid when aligned.
    pub(in crate::spdy::header) fn bytes(&mut self, bytes: &[u8]) {
        debug_assert_eq!(self.n, 0);
        self.out.extend_from_slice(bytes);
    }
}

pub(in crate::spdy::header) const LEN_BASE: [u16; 29] =
    [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
pub(in crate::spdy::header) const LEN_EXTRA: [u8; 29] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
pub(in crate::spdy::header) const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
    8193, 12289, 16385, 24577,
];
pub(in crate::spdy::header) const DIST_EXTRA: [u8; 30] =
    [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

/// Length (3..=258) → index into `LEN_BASE` (symbol 257 + index).
pub(in crate::spdy::header) const LEN_SYM: [u8; 259] = {
    let mut t = [0u8; 259];
    let mut s = 0;
    while s < 29 {
        let base = LEN_BASE[s] as usize;
        let mut k = 0;
        while k < (1 << LEN_EXTRA[s]) && base + k <= 258 {
            t[base + k] = s as u8;
            k += 1;
        }
        s += 1;
    }
    t
};

/// zlib's distance lookup: `DIST_SYM[d - 1]` for d ≤ 256, else `DIST_SYM[256 + ((d - 1) >> 7)]`.
const DIST_SYM: [u8; 512] = {
    let mut t = [0u8; 512];
    let mut s = 0;
    while s < 30 {
        let base = DIST_BASE[s] as usize;
        let mut k = 0;
        while k < (1 << DIST_EXTRA[s]) {
            let d = base + k;
            if d <= 256 {
                t[d - 1] = s as u8;
            } else {
                t[256 + ((d - 1) >> 7)] = s as u8;
            }
            k += 1;
        }
        s += 1;
    }
    t
};

/// Distance (1..=32768) → distance symbol 0..=29.
#[inline(always)]
pub(in crate::spdy::header) fn dist_sym(d: u32) -> usize {
    debug_assert!((1..=32768).contains(&d));
    let i = if d <= 256 { d - 1 } else { 256 + ((d - 1) >> 7) };
    usize::from(DIST_SYM[i as usize])
}

/// Reverses the low `len` bits of `code`.
pub(in crate::spdy::header) const fn reverse(code: u32, len: u32) -> u32 {
    if len == 0 {
        return 0;
    }
    code.reverse_bits() >> (32 - len)
}

/// Canonical Huffman codes (RFC 1951 §3.2.2) for `lens`, stored bit-reversed in `codes`.
pub(super) fn canonical(lens: &[u8], codes: &mut [u16]) {
    let mut count = [0u16; 16];
    for &l in lens {
        count[usize::from(l)] += 1;
    }
    count[0] = 0;
    let mut next = [0u32; 16];
    let mut code = 0u32;
    for bits in 1..16 {
        code = (code + u32::from(count[bits - 1])) << 1;
        next[bits] = code;
    }
    for (sym, &l) in lens.iter().enumerate() {
        if l > 0 {
            codes[sym] = reverse(next[usize::from(l)], u32::from(l)) as u16;
            next[usize::from(l)] += 1;
        }
    }
}

/// Code lengths of the fixed literal/length code (RFC 1951 §3.2.6).
pub(super) const FIXED_LIT_LENS: [u8; 288] = {
    let mut t = [8u8; 288];
    let mut i = 144;
    while i < 256 {
        t[i] = 9;
        i += 1;
    }
    while i < 280 {
        t[i] = 7;
        i += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_and_distance_symbols_cover_their_ranges() {
        for len in 3..=258usize {
            let s = usize::from(LEN_SYM[len]);
            assert!(usize::from(LEN_BASE[s]) <= len && len - usize::from(LEN_BASE[s]) < (1 << LEN_EXTRA[s]));
        }
        assert_eq!(LEN_SYM[258], 28);
        for d in 1..=32768u32 {
            let s = dist_sym(d);
            assert!(u32::from(DIST_BASE[s]) <= d && d - u32::from(DIST_BASE[s]) < (1 << DIST_EXTRA[s]));
        }
    }

    #[test]
    fn fixed_codes_match_rfc1951_examples() {
        let mut codes = [0u16; 288];
        canonical(&FIXED_LIT_LENS, &mut codes);
        // RFC 1951 §3.2.6: literal 0 is 00110000, 144 is 110010000, 256 is 0000000, 280 is 11000000
        assert_eq!(u32::from(codes[0]), reverse(0b0011_0000, 8));
        assert_eq!(u32::from(codes[144]), reverse(0b1_1001_0000, 9));
        assert_eq!(codes[256], 0);
        assert_eq!(u32::from(codes[280]), reverse(0b1100_0000, 8));
    }

    #[test]
    fn writer_packs_lsb_first() {
        let mut out = Vec::new();
        let mut w = BitWriter::new(&mut out);
        w.put(0b1, 1);
        w.put(0b01, 2);
        w.put(0x1ff, 9);
        w.align();
        assert_eq!(out, [0b1111_1011, 0b1111]);
    }
}
