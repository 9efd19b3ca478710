//! The per-session field table: the distinct name/value pairs this stream sent recently,
//! their bytes, and the stream position of their latest copy. It replaces zlib's 32 KiB
//! window and hash chains (about 262 KB at memLevel 8) with a few KiB.
//!
//! Entries live by reuse: the oldest leave first unless they were copied again, and a new
//! value of the same length and name as an entry never copied again takes that entry's
//! place (headers such as `date` or `content-length` change value every time; keeping
//! each old value would fill the table with pairs that never come back).
//!
//! Invariant (why a back-reference is never wrong): an entry holds the exact bytes of a
//! pair and `pos`, the stream position where the decoder's history holds
//! `len(name) name len(value) value` for exactly those bytes. `pos` is only ever set to the
//! position at which the encoder itself just emitted that pair (as literals or as a copy),
//! and a reference is only made when the distance is at most 32768. The table never
//! guesses: lookups by hash are confirmed by comparing the stored bytes.

use super::blocks::BlockStarts;
use super::secret::Shape;

/// Number of entries.
pub(super) const SLOTS: usize = 128;
const _: () = assert!(SLOTS == 128, "bit masks over the slots are u128");
type Mask = u128;
/// Bytes of name and value text the table may hold.
pub(super) const ARENA: usize = 4190;
pub(super) const INDEX_BITS: u32 = 8;
const MAX_HITS: u8 = 8;
const NO_NEXT: u8 = u8::MAX;
/// Longest pair (name + value bytes) worth keeping.
pub(super) const MAX_PAIR: usize = ARENA / 2;

pub(super) struct Table {
    /// 16-bit tags of the name's and the pair's keys (a tag hit is confirmed on the bytes).
    name_tag: [u16; SLOTS],
    pair_tag: [u16; SLOTS],
    /// Stream position of the entry's latest copy, minus `base` (see [`Table::rel`]).
    pos: [u32; SLOTS],
    base: u64,
    off: [u16; SLOTS],
    /// Arena offset of the value (the name is `off..vstart`).
    vstart: [u16; SLOTS],
    vlen: [u16; SLOTS],
    /// The entry whose pair the stream holds right after entry i's latest copy
    /// (`NO_NEXT`: unknown). Reset when entry i is copied again; cleared wherever it names
    /// a slot that gets a new pair.
    next: [u8; SLOTS],
    /// Times the entry was copied again (saturating): reused entries outlive one-offs.
    hits: [u8; SLOTS],
    /// Bit i: entry i holds a sensitive value (never a source for other text, except
    /// the public bytes of a `public_parts` entry).
    sensitive: Mask,
    /// Bit i: entry i is sensitive with public bytes ([`Shape::SetCookie`]).
    public_parts: Mask,
    /// Bit i: slot i holds an entry.
    live: Mask,
    /// The slots in the order of their bytes in the arena, oldest first:
    /// `ring[(first + k) % SLOTS]` for `k < count`.
    ring: [u8; SLOTS],
    first: u16,
    count: u16,
    /// Where the next entry's bytes go: the arena is a ring (entries never straddle its
    /// end), so nothing is ever moved to make room and the index stays valid.
    head: u16,
    /// Per 4-byte hash: arena offset + 1 of its latest occurrence inside a non-sensitive
    /// value (0: none). Stale slots are harmless: a hit is confirmed against a live entry.
    index: [u16; 1 << INDEX_BITS],
    arena: [u8; ARENA],
    /// Where the latest blocks began; their first pairs are entries of this table, so it
    /// keeps them, and drops such a reference wherever a slot takes another pair.
    starts: BlockStarts,
}

/// A found entry: index, stream position of its latest copy, and its value.
#[derive(Clone)]
pub(super) struct Found<'a> {
    pub(super) index: usize,
    pub(super) pos: u64,
    pub(super) value: &'a [u8],
}

/// 32-bit key of a byte string from its length and its first and last 8 bytes: O(1)
/// whatever the length (values run to kilobytes). Strings differing only in the middle
/// share a key; every lookup confirms a key hit by comparing the bytes.
#[inline]
pub(super) fn hash(bytes: &[u8], seed: u32) -> u32 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let n = bytes.len();
    let (head, tail) = if n >= 8 {
        (
            u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")),
            u64::from_le_bytes(bytes[n - 8..].try_into().expect("8 bytes")),
        )
    } else {
        let mut buf = [0u8; 8];
        buf[..n].copy_from_slice(bytes);
        (u64::from_le_bytes(buf), 0)
    };
    let h = (u64::from(seed) ^ (n as u64).wrapping_mul(K) ^ head).wrapping_mul(K);
    let h = (h.rotate_left(29) ^ tail).wrapping_mul(K);
    (h >> 32) as u32
}

#[inline(always)]
fn tag(hash: u32) -> u16 {
    (hash >> 16) as u16
}

/// Bit i set where `a[i] == x` (SSE2: 16 lanes of u16 per pair of compares).
#[inline]
fn eq_mask16(a: &[u16; SLOTS], x: u16) -> Mask {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_cmpeq_epi16, _mm_loadu_si128, _mm_movemask_epi8, _mm_packs_epi16, _mm_set1_epi16};
        let mut m: Mask = 0;
        // SAFETY: SSE2 is always present on x86_64; each pair of loads reads 32 bytes
        // (16 × u16 at index 16k, k < SLOTS / 16) inside `a`, unaligned loads allowed.
        unsafe {
            let needle = _mm_set1_epi16(x as i16);
            for k in 0..SLOTS / 16 {
                let lo = _mm_cmpeq_epi16(_mm_loadu_si128(a.as_ptr().add(16 * k).cast()), needle);
                let hi = _mm_cmpeq_epi16(_mm_loadu_si128(a.as_ptr().add(16 * k + 8).cast()), needle);
                let bits = _mm_movemask_epi8(_mm_packs_epi16(lo, hi));
                m |= Mask::from(bits as u32 & 0xffff) << (16 * k);
            }
        }
        m
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let mut m: Mask = 0;
        for (i, &v) in a.iter().enumerate() {
            m |= Mask::from(v == x) << i;
        }
        m
    }
}

/// Bit i set where `start[i] <= x < start[i] + len[i]` (all below 32768, so the
/// signed SSE2 compares are exact).
#[inline]
fn covers(start: &[u16; SLOTS], len: &[u16; SLOTS], x: u16) -> Mask {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            _mm_andnot_si128, _mm_cmpgt_epi16, _mm_loadu_si128, _mm_movemask_epi8, _mm_packs_epi16, _mm_set1_epi16,
            _mm_setzero_si128, _mm_sub_epi16,
        };
        let mut m: Mask = 0;
        // SAFETY: SSE2 is always present on x86_64; each load reads 8 × u16 at index 8k,
        // k < SLOTS / 8, inside the arrays (unaligned loads allowed).
        unsafe {
            let xv = _mm_set1_epi16(x as i16);
            let zero = _mm_setzero_si128();
            let lane = |k: usize| {
                let d = _mm_sub_epi16(xv, _mm_loadu_si128(start.as_ptr().add(8 * k).cast()));
                let l = _mm_loadu_si128(len.as_ptr().add(8 * k).cast());
                // d >= 0 && l > d
                _mm_andnot_si128(_mm_cmpgt_epi16(zero, d), _mm_cmpgt_epi16(l, d))
            };
            for k in 0..SLOTS / 16 {
                let bits = _mm_movemask_epi8(_mm_packs_epi16(lane(2 * k), lane(2 * k + 1)));
                m |= Mask::from(bits as u32 & 0xffff) << (16 * k);
            }
        }
        m
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let mut m: Mask = 0;
        for i in 0..SLOTS {
            m |= Mask::from(start[i] <= x && x - start[i] < len[i]) << i;
        }
        m
    }
}

/// The indices of the set bits of a mask, lowest first.
struct BitIter(Mask);

impl Iterator for BitIter {
    type Item = usize;
    #[inline]
    fn next(&mut self) -> Option<usize> {
        if self.0 == 0 {
            return None;
        }
        let i = self.0.trailing_zeros() as usize;
        self.0 &= self.0 - 1;
        Some(i)
    }
}

impl Table {
    pub(super) fn new() -> Self {
        Table {
            name_tag: [0; SLOTS],
            pair_tag: [0; SLOTS],
            pos: [0; SLOTS],
            base: 0,
            off: [0; SLOTS],
            vstart: [0; SLOTS],
            vlen: [0; SLOTS],
            hits: [0; SLOTS],
            next: [NO_NEXT; SLOTS],
            sensitive: 0,
            public_parts: 0,
            live: 0,
            ring: [0; SLOTS],
            first: 0,
            count: 0,
            head: 0,
            index: [0; 1 << INDEX_BITS],
            arena: [0; ARENA],
            starts: BlockStarts::new(),
        }
    }

    /// Bit i set for every entry in use.
    fn live(&self) -> Mask {
        self.live
    }

    /// Stream position of entry i's latest copy.
    pub(super) fn at(&self, i: usize) -> u64 {
        self.base + u64::from(self.pos[i])
    }

    /// `pos` (the current stream position, never below any stored one) as a 32-bit
    /// offset from `base`. Every 2 GiB `base` moves up to `pos - 2 × WINDOW`; entries
    /// older than that are pinned at the new base, still out of reach for good (a copy
    /// needs a distance of at most `WINDOW`), so no offset ever wraps into reach.
    fn rel(&mut self, pos: u64) -> u32 {
        if pos - self.base >= 1 << 31 {
            let base = pos - 2 * super::WINDOW;
            for i in BitIter(self.live) {
                self.pos[i] = u32::try_from(self.at(i).saturating_sub(base)).unwrap_or(0);
            }
            self.base = base;
        }
        (pos - self.base) as u32
    }

    fn nlen(&self, i: usize) -> usize {
        usize::from(self.vstart[i] - self.off[i])
    }

    fn name(&self, i: usize) -> &[u8] {
        let off = usize::from(self.off[i]);
        &self.arena[off..usize::from(self.vstart[i])]
    }

    fn value(&self, i: usize) -> &[u8] {
        let off = usize::from(self.vstart[i]);
        &self.arena[off..off + usize::from(self.vlen[i])]
    }

    /// The entry holding exactly this pair, if any (its copy may be out of reach).
    pub(super) fn find_pair(&self, pair_hash: u32, name: &[u8], value: &[u8]) -> Option<Found<'_>> {
        BitIter(self.live() & eq_mask16(&self.pair_tag, tag(pair_hash)))
            .find(|&i| self.name(i) == name && self.value(i) == value)
            .map(|i| Found { index: i, pos: self.at(i), value: self.value(i) })
    }

    /// Whether live entry i holds exactly this pair.
    pub(super) fn holds(&self, i: usize, name: &[u8], value: &[u8]) -> bool {
        self.live & ((1 as Mask) << i) != 0 && self.name(i) == name && self.value(i) == value
    }

    /// Whether entry i holds a sensitive value.
    pub(super) fn is_sensitive(&self, i: usize) -> bool {
        self.sensitive & ((1 as Mask) << i) != 0
    }

    /// Every entry with this name whose copy starts at or after `min_pos`: the entries whose
    /// name has the tag of `name_hash`, and when `confirm` is given, whose name is those
    /// bytes (without it, another name with the same tag may be among them).
    pub(super) fn same_name<'a>(
        &'a self,
        name_hash: u32,
        confirm: Option<&'a [u8]>,
        min_pos: u64,
    ) -> impl Iterator<Item = Found<'a>> + 'a {
        BitIter(self.live() & eq_mask16(&self.name_tag, tag(name_hash)))
            .filter(move |&i| self.at(i) >= min_pos && confirm.is_none_or(|name| self.name(i) == name))
            .map(move |i| Found { index: i, pos: self.at(i), value: self.value(i) })
    }

    /// Whether entry i's name is `name`.
    pub(super) fn named(&self, i: usize, name: &[u8]) -> bool {
        self.name(i) == name
    }

    /// The live entry whose pair follows entry i's latest copy in the stream.
    pub(super) fn next_of(&self, i: usize) -> Option<usize> {
        let n = usize::from(self.next[i]);
        (n < SLOTS && self.live & ((1 as Mask) << n) != 0).then_some(n)
    }

    /// Records that entry `next`'s pair was just written right after entry i's latest copy.
    pub(super) fn set_next(&mut self, i: usize, next: usize) {
        self.next[i] = next as u8;
    }

    /// Entry i as found at stream position `pos` (where the caller knows a copy of its
    /// pair lies), when it is live and named `name`.
    pub(super) fn with_name_at(&self, i: usize, name_hash: u32, name: &[u8], pos: u64) -> Option<Found<'_>> {
        let live = self.live & ((1 as Mask) << i) != 0;
        (live && self.name_tag[i] == tag(name_hash) && self.name(i) == name).then(|| Found {
            index: i,
            pos,
            value: self.value(i),
        })
    }

    /// Records that entry `index` was just emitted again at `pos`.
    pub(super) fn touch(&mut self, index: usize, pos: u64) {
        self.next[index] = NO_NEXT;
        self.pos[index] = self.rel(pos);
        self.hits[index] = self.hits[index].saturating_add(1).min(MAX_HITS);
    }

    /// Adds a pair just emitted at `pos` (too long pairs are not kept) and returns the slot
    /// it took; `sensitive`: the value's shape when the name is sensitive.
    pub(super) fn insert(
        &mut self,
        name_hash: u32,
        pair_hash: u32,
        name: &[u8],
        value: &[u8],
        pos: u64,
        sensitive: Option<Shape>,
    ) -> Option<usize> {
        let need = name.len() + value.len();
        if need > MAX_PAIR {
            return None;
        }
        let at = self.make_room(need, pos);
        let i = (!self.live).trailing_zeros() as usize;
        self.arena[at..at + name.len()].copy_from_slice(name);
        self.arena[at + name.len()..at + need].copy_from_slice(value);
        self.name_tag[i] = tag(name_hash);
        self.pair_tag[i] = tag(pair_hash);
        self.pos[i] = self.rel(pos);
        self.off[i] = at as u16;
        self.vstart[i] = (at + name.len()) as u16;
        self.vlen[i] = value.len() as u16;
        self.hits[i] = 0;
        let bit = (1 as Mask) << i;
        self.sensitive = (self.sensitive & !bit) | if sensitive.is_some() { bit } else { 0 };
        self.public_parts = (self.public_parts & !bit) | if sensitive == Some(Shape::SetCookie) { bit } else { 0 };
        self.push_back(i, at, need);
        self.index_value(i);
        self.forget_links(i);
        Some(i)
    }

    /// Whether entry i was copied again since it was written.
    pub(super) fn reused(&self, i: usize) -> bool {
        self.hits[i] > 0
    }

    /// Puts `value`, of a pair just emitted at `pos` with entry i's name and value length,
    /// in place of entry i's value (the same name has the same sensitivity and shape, so
    /// the masks stay right). Its bytes stay where they are in the arena, and so does its
    /// turn in the eviction order.
    pub(super) fn replace_value(&mut self, i: usize, pair_hash: u32, value: &[u8], pos: u64) {
        debug_assert!(value.len() == usize::from(self.vlen[i]));
        let v = usize::from(self.vstart[i]);
        self.arena[v..v + value.len()].copy_from_slice(value);
        self.pair_tag[i] = tag(pair_hash);
        self.pos[i] = self.rel(pos);
        self.hits[i] = 0;
        self.forget_links(i);
        self.index_value(i);
    }

    /// The latest blocks' starts.
    pub(super) fn starts(&self) -> &BlockStarts {
        &self.starts
    }

    /// The block being written began with the pair of entry `slot` (None: not kept).
    pub(super) fn note_block_first(&mut self, slot: Option<usize>) {
        self.starts.note_first(slot);
    }

    /// Records the block just written: it began at `pos` with `count` pairs.
    pub(super) fn push_block(&mut self, pos: u64, count: u32) {
        self.starts.push(pos, count);
    }

    /// Slot i holds another pair now: nothing follows it yet, no entry is followed by it,
    /// and no block began with it.
    fn forget_links(&mut self, i: usize) {
        self.starts.forget_slot(i);
        self.next[i] = NO_NEXT;
        let slot = i as u8;
        for n in &mut self.next {
            // a select, not a branch: the loop vectorizes
            *n = if *n == slot { NO_NEXT } else { *n };
        }
    }

    fn push_back(&mut self, i: usize, at: usize, len: usize) {
        self.live |= (1 as Mask) << i;
        self.ring[(usize::from(self.first) + usize::from(self.count)) % SLOTS] = i as u8;
        self.count += 1;
        self.head = (at + len) as u16;
    }

    /// Where `need` bytes can go at the arena's head (wrapping to 0 when they do not fit
    /// before its end) once a slot is free: pops the oldest entries until then. A popped
    /// entry still in reach that was copied again moves to the head instead of leaving
    /// (each move spends one of its hits), so entries live by reuse, not by age alone.
    fn make_room(&mut self, need: usize, now: u64) -> usize {
        let horizon = now.saturating_sub(super::WINDOW);
        loop {
            if self.count == 0 {
                self.head = 0;
                return 0;
            }
            let head = usize::from(self.head);
            let start = if head + need <= ARENA { head } else { 0 };
            let i = usize::from(self.ring[usize::from(self.first)]);
            let o = usize::from(self.off[i]);
            let free = if o < head { start == head || need <= o } else { start == head && head + need <= o };
            if free && usize::from(self.count) < SLOTS {
                return start;
            }
            // pop the oldest
            self.first = ((usize::from(self.first) + 1) % SLOTS) as u16;
            self.count -= 1;
            let len = self.nlen(i) + usize::from(self.vlen[i]);
            if self.hits[i] > 0 && self.at(i) >= horizon {
                // rescue, to the head or, when it does not fit before the end, to 0: the
                // bytes after the head are free up to the next entry (this one, when the
                // arena has wrapped), and when it has not wrapped everything before this
                // entry is free; so the move stays inside free bytes and its own
                // (memmove handles the overlap)
                let at = if head + len <= ARENA { head } else { 0 };
                self.hits[i] -= 1;
                self.arena.copy_within(o..o + len, at);
                self.vstart[i] = self.vstart[i] - self.off[i] + at as u16;
                self.off[i] = at as u16;
                self.live &= !((1 as Mask) << i);
                self.push_back(i, at, len);
                self.index_value(i);
            } else {
                self.live &= !((1 as Mask) << i);
            }
        }
    }

    #[inline(always)]
    fn slot(bytes: &[u8]) -> usize {
        let v = u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes"));
        (v.wrapping_mul(0x9E37_79B1) >> (32 - INDEX_BITS)) as usize
    }

    /// Indexes the public bytes of entry i's value (all of a non-sensitive value).
    fn index_value(&mut self, i: usize) {
        let bit = (1 as Mask) << i;
        let start = usize::from(self.off[i]) + self.nlen(i);
        let end = start + usize::from(self.vlen[i]);
        let Table { index, arena, .. } = self;
        if self.public_parts & bit != 0 {
            // the runs between secret ranges
            let mut from = start;
            for (s, e) in Shape::SetCookie.secret_ranges(&arena[start..end]) {
                index_run(index, arena, from, start + s);
                from = start + e;
            }
            index_run(index, arena, from, end);
        } else if self.sensitive & bit == 0 {
            index_run(index, arena, start, end);
        }
    }

    /// The stream position of a secret part identical to `secret`, whole, inside a kept
    /// `set-cookie` value within reach (at or after `min_pos`); `w` as below.
    pub(super) fn find_secret_part(&self, secret: &[u8], min_pos: u64, w: usize) -> Option<u64> {
        BitIter(self.live & self.public_parts).find_map(|i| {
            let value = self.value(i);
            let vpos = self.at(i) + (2 * w + self.nlen(i)) as u64;
            Shape::SetCookie
                .secret_ranges(value)
                .find(|&(s, e)| &value[s..e] == secret && vpos + s as u64 >= min_pos)
                .map(|(s, _)| vpos + s as u64)
        })
    }

    /// The longest run of `text` (≥ 4 bytes) found inside a kept non-sensitive value whose
    /// copy starts at or after `min_pos`: (length, stream position). `w` is the width of
    /// the length fields (the value of the pair at `pos` starts at `pos + 2w + name len`).
    pub(super) fn longest_in_values(&self, text: &[u8], min_pos: u64, w: usize) -> Option<(usize, u64)> {
        if text.len() < 4 {
            return None;
        }
        let x = usize::from(self.index[Self::slot(text)]).checked_sub(1)?;
        // a stale or colliding hit mostly fails on its first four bytes: no need to find
        // its entry (a match must be at least 4 bytes long)
        if self.arena.get(x..x + 4) != Some(&text[..4]) {
            return None;
        }
        // the entry whose value holds x (at most one: entries never overlap)
        let sources = self.live & (!self.sensitive | self.public_parts);
        let i = BitIter(sources & covers(&self.vstart, &self.vlen, x as u16)).next()?;
        let vstart = usize::from(self.vstart[i]);
        let mut end = vstart + usize::from(self.vlen[i]);
        if self.public_parts & ((1 as Mask) << i) != 0 {
            // never into a secret byte
            end = vstart + Shape::SetCookie.public_end(&self.arena[vstart..end], x - vstart);
        }
        let len = super::dict::common_prefix(&self.arena[x..end], text);
        let pos = self.at(i) + (2 * w + self.nlen(i) + (x - vstart)) as u64;
        (len >= 4 && pos >= min_pos).then_some((len, pos))
    }
}

/// Indexes `arena[start..end]` by the 4-byte hash at every other position (a match found
/// one byte late loses one byte of length).
fn index_run(index: &mut [u16; 1 << INDEX_BITS], arena: &[u8; ARENA], start: usize, end: usize) {
    for (j, four) in arena[start..end].windows(4).enumerate().step_by(2) {
        index[Table::slot(four)] = (start + j + 1) as u16;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(t: &mut Table, n: &[u8], v: &[u8], pos: u64) {
        let hn = hash(n, 0);
        t.insert(hn, hash(v, hn), n, v, pos, None);
    }

    fn has(t: &Table, n: &[u8], v: &[u8]) -> Option<u64> {
        let hn = hash(n, 0);
        t.find_pair(hash(v, hn), n, v).map(|f| f.pos)
    }

    #[test]
    fn finds_pairs_by_bytes_and_evicts_the_oldest_when_full() {
        let mut t = Table::new();
        for k in 0..200u64 {
            add(&mut t, b"x-seq", format!("value number {k:04} {}", "y".repeat(60)).as_bytes(), 1000 + k);
        }
        let held: usize = BitIter(t.live).map(|i| t.nlen(i) + usize::from(t.vlen[i])).sum();
        assert!(u32::from(t.count) == t.live.count_ones() && held <= ARENA);
        assert_eq!(has(&t, b"x-seq", format!("value number {:04} {}", 199, "y".repeat(60)).as_bytes()), Some(1199));
        assert_eq!(has(&t, b"x-seq", format!("value number {:04} {}", 0, "y".repeat(60)).as_bytes()), None);
        // every live entry still holds its own bytes after compactions
        for i in BitIter(t.live) {
            let k = t.at(i) - 1000;
            assert_eq!(t.value(i), format!("value number {k:04} {}", "y".repeat(60)).as_bytes());
        }
    }

    #[test]
    fn positions_past_2_gib_keep_old_entries_out_of_reach() {
        let mut t = Table::new();
        add(&mut t, b"x-old", b"stale", 1000);
        add(&mut t, b"x-new", b"fresh", 1100);
        let far = 3u64 << 30;
        let hn = hash(b"x-new", 0);
        let f = t.find_pair(hash(b"fresh", hn), b"x-new", b"fresh").map(|f| f.index).unwrap();
        t.touch(f, far);
        assert_eq!(has(&t, b"x-new", b"fresh"), Some(far));
        // pinned at the new base: 2 × 32 KiB behind, never within a copy's reach again
        let old = has(&t, b"x-old", b"stale").unwrap();
        assert!(old <= far - 2 * crate::spdy::header::fast::WINDOW && far - old > 32_768);
        add(&mut t, b"x-later", b"v", far + 10);
        assert_eq!(has(&t, b"x-later", b"v"), Some(far + 10));
    }

    #[test]
    fn a_replaced_value_is_found_in_place_of_the_old_one_and_drops_the_links_to_its_slot() {
        let mut t = Table::new();
        add(&mut t, b"date", b"Sat, 03 Nov 2012 13:04:26 GMT", 100);
        add(&mut t, b"server", b"gws", 140);
        let hn = hash(b"date", 0);
        let old = t.find_pair(hash(b"Sat, 03 Nov 2012 13:04:26 GMT", hn), b"date", b"Sat, 03 Nov 2012 13:04:26 GMT");
        let i = old.map(|f| f.index).unwrap();
        let server = t.find_pair(hash(b"gws", hash(b"server", 0)), b"server", b"gws").map(|f| f.index).unwrap();
        t.set_next(i, server);
        t.set_next(server, i);
        let new = b"Sat, 03 Nov 2012 13:04:27 GMT";
        t.replace_value(i, hash(new, hn), new, 200);
        assert_eq!(has(&t, b"date", b"Sat, 03 Nov 2012 13:04:26 GMT"), None);
        assert_eq!(has(&t, b"date", new), Some(200));
        assert_eq!(t.name(i), b"date");
        assert!(!t.reused(i) && t.next_of(i).is_none() && t.next_of(server).is_none());
        // the value index (every other offset) finds the new bytes, at the new position
        let (len, at) = t.longest_in_values(b" 03 Nov 2012 13:04:27", 0, 4).unwrap();
        assert_eq!((len, at), (21, 200 + 4 + 4 + 4 + 4));
    }

    #[test]
    fn too_long_pairs_are_not_kept() {
        let mut t = Table::new();
        add(&mut t, b"cookie", &vec![b'a'; MAX_PAIR], 5);
        assert_eq!(t.live, 0);
    }
}
