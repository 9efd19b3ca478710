//! Per-shard timers: a min-heap of deadlines that feeds the ring's single wait timeout.
//!
//! Exists so that thousands of idle/request timers cost no SQEs: `Ring::wait` sleeps at most
//! until the earliest deadline (one timeout passed to io_uring_enter) and then reports every
//! expired timer as a completion, in deadline order (ties in insertion order). Cancellation is
//! lazy (a generation check on pop) with a rebuild when dead entries dominate. A hashed wheel
//! would make insert O(1); the heap is kept until a profile says otherwise.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use super::op::{Key, Slots, Token};

/// Names a pending timer, for [`super::Ring::cancel_timer`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TimerId(Key);

#[derive(Default)]
pub(super) struct Timers {
    live: Slots<Token>,
    heap: BinaryHeap<Reverse<(Instant, u64, Key)>>,
    seq: u64,
}

impl Timers {
    pub(super) fn add(&mut self, deadline: Instant, token: Token) -> TimerId {
        let key = self.live.insert(token);
        self.seq += 1;
        self.heap.push(Reverse((deadline, self.seq, key)));
        TimerId(key)
    }

    pub(super) fn cancel(&mut self, id: TimerId) -> bool {
        let removed = self.live.remove(id.0).is_some();
        if self.heap.len() > 64 && self.heap.len() > 2 * self.live.len() {
            let live = &self.live;
            self.heap.retain(|Reverse((_, _, key))| live.get(*key).is_some());
        }
        removed
    }

    /// The earliest live deadline.
    pub(super) fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(Reverse((deadline, _, key))) = self.heap.peek() {
            if self.live.get(*key).is_some() {
                return Some(*deadline);
            }
            self.heap.pop();
        }
        None
    }

    /// Pops the next timer due at `now`.
    pub(super) fn pop_expired(&mut self, now: Instant) -> Option<Token> {
        loop {
            let Reverse((deadline, _, key)) = *self.heap.peek()?;
            if deadline > now {
                return None;
            }
            self.heap.pop();
            if let Some(token) = self.live.remove(key) {
                return Some(token);
            }
        }
    }

    pub(super) fn len(&self) -> usize {
        self.live.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn token(n: u32) -> Token {
        Token::new(0, Key { index: n, generation: 0 })
    }

    #[test]
    fn timers_pop_in_deadline_order_and_cancelled_ones_never_fire() {
        let t0 = Instant::now();
        let mut timers = Timers::default();
        timers.add(t0 + Duration::from_millis(30), token(3));
        let cancelled = timers.add(t0 + Duration::from_millis(5), token(99));
        timers.add(t0 + Duration::from_millis(10), token(1));
        timers.add(t0 + Duration::from_millis(10), token(2));
        assert!(timers.cancel(cancelled));
        assert!(!timers.cancel(cancelled));
        assert_eq!(timers.next_deadline(), Some(t0 + Duration::from_millis(10)));
        assert_eq!(timers.pop_expired(t0 + Duration::from_millis(9)), None);
        let now = t0 + Duration::from_millis(40);
        let fired: Vec<Token> = std::iter::from_fn(|| timers.pop_expired(now)).collect();
        assert_eq!(fired, vec![token(1), token(2), token(3)]);
        assert_eq!(timers.len(), 0);
        assert_eq!(timers.next_deadline(), None);
    }

    #[test]
    fn heap_is_compacted_when_most_timers_are_cancelled() {
        let t0 = Instant::now();
        let mut timers = Timers::default();
        let ids: Vec<TimerId> = (0..1000).map(|n| timers.add(t0, token(n))).collect();
        for id in &ids[..990] {
            timers.cancel(*id);
        }
        assert!(timers.heap.len() < 200, "heap kept {} entries", timers.heap.len());
        assert_eq!(std::iter::from_fn(|| timers.pop_expired(t0)).count(), 10);
    }
}
