//! The HTTP dates this stream sent recently (`date`, `expires`, `last-modified`, …), kept
//! apart from the pair table: response headers carry two or three dates each, nearly all
//! distinct, and a new date shares most of its bytes with some recent one (same day, same
//! hour) — the bytes zlib finds in its window. Keeping just the dates (37 bytes each)
//! finds them without holding the pairs they came in, and a new date is pieced together
//! from several (the day from one, the hour from another).

use super::equal_bitmap;

/// Length of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 §5.6.7).
pub(super) const DATE_LEN: usize = 29;
/// How many recent dates are kept.
pub(super) const KEPT: usize = 24;

pub(super) struct RecentDates {
    text: [[u8; DATE_LEN]; KEPT],
    /// Stream position of each date's latest copy.
    pos: [u64; KEPT],
    kept: u8,
    /// The slot the next new date replaces (the oldest once all are in use).
    next: u8,
}

/// Whether `value` has the shape of an IMF-fixdate (what this store keeps).
#[inline]
pub(super) fn is_date(value: &[u8]) -> bool {
    value.len() == DATE_LEN && value[3] == b',' && &value[DATE_LEN - 4..] == b" GMT"
}

impl RecentDates {
    pub(super) fn new() -> Self {
        RecentDates { text: [[0; DATE_LEN]; KEPT], pos: [0; KEPT], kept: 0, next: 0 }
    }

    /// For each kept date whose copy is at or after `min_pos`: bit k set where its byte k
    /// equals `value`'s (a date), and its position. Returns how many were written.
    pub(super) fn equal_masks(&self, value: &[u8], min_pos: u64, out: &mut [(u32, u64); KEPT]) -> usize {
        debug_assert!(is_date(value));
        // a date is 29 bytes: the compare below is straight-line code
        let value = &value[..DATE_LEN];
        let mut n = 0;
        for i in 0..usize::from(self.kept) {
            if self.pos[i] >= min_pos {
                // a date is 29 bytes: the first 64 bytes' bitmap is all of it
                out[n] = (equal_bitmap(value, &self.text[i]) as u32, self.pos[i]);
                n += 1;
            }
        }
        n
    }

    /// Records that the date `value` was just written at `pos`.
    pub(super) fn record(&mut self, value: &[u8], pos: u64) {
        debug_assert!(is_date(value));
        let n = usize::from(self.kept);
        if let Some(i) = (0..n).find(|&i| self.text[i] == value) {
            self.pos[i] = pos;
            return;
        }
        let i = usize::from(self.next);
        self.text[i].copy_from_slice(value);
        self.pos[i] = pos;
        self.next = ((i + 1) % KEPT) as u8;
        self.kept = (n + 1).min(KEPT) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_sent_again_moves_instead_of_being_kept_twice() {
        let mut d = RecentDates::new();
        d.record(b"Sat, 03 Nov 2012 13:04:26 GMT", 100);
        d.record(b"Fri, 06 Jul 2012 19:15:46 GMT", 200);
        d.record(b"Sat, 03 Nov 2012 13:04:26 GMT", 300);
        assert_eq!(d.kept, 2);
        let mut out = [(0, 0); KEPT];
        assert_eq!(d.equal_masks(b"Sat, 03 Nov 2012 13:04:26 GMT", 250, &mut out), 1);
        assert_eq!(out[0], ((1 << DATE_LEN) - 1, 300));
        assert!(is_date(b"Sat, 03 Nov 2012 13:04:26 GMT") && !is_date(b"Sat, 03-Nov-2012 13:04:26 GMT "));
    }

    #[test]
    fn equal_masks_mark_the_equal_bytes() {
        let mut d = RecentDates::new();
        d.record(b"Sat, 03 Nov 2012 13:04:26 GMT", 7);
        let mut out = [(0, 0); KEPT];
        assert_eq!(d.equal_masks(b"Sun, 04 Nov 2012 13:04:20 GMT", 0, &mut out), 1);
        let want = (0..DATE_LEN).filter(|&k| !matches!(k, 1 | 2 | 6 | 24)).fold(0u32, |m, k| m | 1 << k);
        assert_eq!(out[0], (want, 7));
        assert_eq!(d.equal_masks(b"Sun, 04 Nov 2012 13:04:20 GMT", 8, &mut out), 0);
    }

    #[test]
    fn keeps_the_latest_twenty_four() {
        let mut d = RecentDates::new();
        for k in 0..30u64 {
            d.record(format!("Sat, 03 Nov 2012 13:04:{k:02} GMT").as_bytes(), k);
        }
        assert_eq!(d.kept as usize, KEPT);
        assert!(d.pos.iter().all(|&p| p >= 6));
    }
}
