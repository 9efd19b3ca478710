//! Where the latest blocks began, their pair counts and the table entry of their first
//! pair, so a block that begins like a recent one copies its count together with its
//! first pair (one match instead of four literal bytes and a match).
//!
//! The first-pair entries are references into the [`super::table::Table`], which owns
//! this record: the table drops them itself whenever a slot takes another pair (see
//! `Table::forget_links`), so no caller can forget to, and a block start never names a
//! pair its slot no longer holds.

use super::WINDOW;

/// Block starts kept.
const KEPT: usize = 8;
const NO_SLOT: u8 = u8::MAX;

/// The stream positions (low 32 bits) and pair counts of the latest blocks. A block is at
/// most one frame (< 16 MiB), so the blocks kept span far less than 4 GiB and the low
/// bits of a position identify it among them.
pub(super) struct BlockStarts {
    pos: [u32; KEPT],
    count: [u16; KEPT],
    /// The table entry of the block's first pair (`NO_SLOT`: none, or another pair since).
    first: [u8; KEPT],
    /// The same for the block being written, until [`BlockStarts::push`] records it.
    pending_first: u8,
    /// Entries kept (up to `KEPT`) and the slot of the latest.
    kept: u8,
    latest: u8,
}

impl BlockStarts {
    pub(super) fn new() -> Self {
        BlockStarts {
            pos: [0; KEPT],
            count: [0; KEPT],
            first: [NO_SLOT; KEPT],
            pending_first: NO_SLOT,
            kept: 0,
            latest: 0,
        }
    }

    /// The block being written began with the pair of entry `slot` (None: not kept).
    pub(super) fn note_first(&mut self, slot: Option<usize>) {
        self.pending_first = slot.map_or(NO_SLOT, |f| f as u8);
    }

    /// Records the block just written: it began at `pos` with `count` pairs.
    pub(super) fn push(&mut self, pos: u64, count: u32) {
        let i = if self.kept == 0 { 0 } else { (usize::from(self.latest) + 1) % KEPT };
        self.pos[i] = pos as u32;
        // a count that does not fit is kept as 0, which `began` never matches
        self.count[i] = u16::try_from(count).unwrap_or(0);
        self.first[i] = std::mem::replace(&mut self.pending_first, NO_SLOT);
        self.latest = i as u8;
        self.kept = (self.kept + 1).min(KEPT as u8);
    }

    /// The distance from `now` back to the nearest kept block within reach that began with
    /// `count` pairs (positions are completed from `now`, a later stream position less than
    /// 4 GiB on).
    pub(super) fn nearest_with_count(&self, count: u32, now: u64) -> Option<u64> {
        self.nearest(count, now, |_| true)
    }

    /// The distance from `now` back to the nearest kept block within reach that began with
    /// `count` pairs, the first being entry `slot`'s pair.
    pub(super) fn began_with(&self, slot: usize, count: u32, now: u64) -> Option<u64> {
        self.nearest(count, now, |i| usize::from(self.first[i]) == slot)
    }

    /// The distance back to the nearest kept block within reach with `count` pairs (never
    /// 0: a count that did not fit) for which `also` holds.
    fn nearest(&self, count: u32, now: u64, also: impl Fn(usize) -> bool) -> Option<u64> {
        (0..usize::from(self.kept))
            .filter(|&i| count != 0 && u32::from(self.count[i]) == count && also(i))
            .map(|i| u64::from((now as u32).wrapping_sub(self.pos[i])))
            .filter(|&d| d <= WINDOW)
            .min()
    }

    /// Forgets entry `slot` as a first pair: its slot holds another pair now. Only the
    /// table calls this, whenever it gives a slot to a pair.
    pub(super) fn forget_slot(&mut self, slot: usize) {
        let slot = slot as u8;
        for f in self.first.iter_mut().chain(std::iter::once(&mut self.pending_first)) {
            if *f == slot {
                *f = NO_SLOT;
            }
        }
    }

    /// Whether one of the kept blocks began at `pos` with `count` pairs.
    pub(super) fn began(&self, pos: u64, count: u32) -> bool {
        count != 0
            && (0..usize::from(self.kept)).any(|i| self.pos[i] == pos as u32 && u32::from(self.count[i]) == count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forgotten_slot_is_no_first_pair_of_a_kept_or_the_pending_block() {
        let mut b = BlockStarts::new();
        b.note_first(Some(5));
        b.push(1000, 3);
        assert_eq!(b.began_with(5, 3, 1100), Some(100));
        b.note_first(Some(5));
        b.forget_slot(5);
        b.push(2000, 3);
        assert_eq!(b.began_with(5, 3, 2100), None, "neither the kept nor the pending block");
        assert_eq!(b.nearest_with_count(3, 2100), Some(100));
        assert!(b.began(1000, 3) && !b.began(1000, 4));
    }

    #[test]
    fn blocks_out_of_reach_or_with_counts_too_large_are_never_matched() {
        let mut b = BlockStarts::new();
        b.push(10, 70_000);
        assert_eq!(b.nearest_with_count(70_000, 20), None);
        assert!(!b.began(10, 70_000));
        b.push(100, 2);
        assert_eq!(b.nearest_with_count(2, 100 + WINDOW + 1), None);
        assert_eq!(b.nearest_with_count(2, 100 + WINDOW), Some(WINDOW));
    }
}
