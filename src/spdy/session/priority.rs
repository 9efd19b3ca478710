//! Which stream sends the next DATA frame, and how much of it.
//!
//! SPDY3.md §6.4: "Both sides SHOULD serve higher-priority streams first (best effort)"
//! (CONFORMANCE C32). We serve strictly by priority (0 highest) and round-robin within a
//! priority level, like spdylay's queue keyed by priority then FIFO. Control frames never
//! pass through here: the session sends them ahead of any DATA. This module knows nothing
//! about windows or buffers beyond [`chunk_len`]; it refuses weights, dependencies and any
//! form of reprioritisation (SPDY fixes a stream's priority in its SYN_STREAM).

use crate::id_map::IdMap;

use crate::spdy::stream_id::StreamId;

/// Most priority levels any version has (SPDY/3: 3 bits).
const MAX_LEVELS: usize = 8;
/// "No node": end of a list, or an empty level.
const NIL: u32 = u32::MAX;

/// Streams with DATA ready to send, by SPDY priority (0 highest), round-robin within a level.
///
/// Layout: one intrusive doubly linked FIFO per level, threaded through a slab of nodes,
/// an id → node index map, and a bitmap of the non-empty levels. Every operation is O(1)
/// (one map operation plus a few array writes); `pop` finds the best level with one
/// `trailing_zeros`. Freed nodes are recycled through a free list, so once the slab and
/// the map have grown to the peak number of queued streams nothing allocates again.
pub(crate) struct DataScheduler {
    /// Number of levels in use: 8 (v3) or 4 (v2). Invariant: 1 ..= MAX_LEVELS.
    levels: u8,
    /// Head and tail node index per level; both `NIL` exactly when the level is empty.
    heads: [u32; MAX_LEVELS],
    tails: [u32; MAX_LEVELS],
    /// Bit `l` set exactly when level `l` is non-empty.
    non_empty: u8,
    /// Node storage. A node is either linked into exactly one level list (and its id is in
    /// `index`) or on the free list (threaded through `next`).
    nodes: Vec<Node>,
    /// Head of the free list, or `NIL`.
    free: u32,
    /// Queued stream → its node. `index.len()` is the number of queued streams.
    index: IdMap<StreamId, u32>,
}

#[derive(Clone, Copy)]
struct Node {
    stream_id: StreamId,
    level: u8,
    prev: u32,
    next: u32,
}

impl DataScheduler {
    /// `levels` is 8 for SPDY/3 and 3.1, 4 for SPDY/2; anything else is clamped to 1 ..= 8.
    pub(crate) fn new(levels: u8) -> Self {
        DataScheduler {
            levels: levels.clamp(1, MAX_LEVELS as u8),
            heads: [NIL; MAX_LEVELS],
            tails: [NIL; MAX_LEVELS],
            non_empty: 0,
            nodes: Vec::new(),
            free: NIL,
            index: IdMap::default(),
        }
    }

    /// Queues a stream at the back of its priority level. Priorities ≥ `levels` are
    /// clamped to the lowest level (the frame codec already masks the bits, so this only
    /// guards against a caller mixing versions). Idempotent: a stream already queued keeps
    /// its place and its level.
    pub(crate) fn push(&mut self, stream_id: StreamId, priority: u8) {
        if self.index.contains_key(&stream_id) {
            return;
        }
        let level = priority.min(self.levels - 1);
        let node = Node { stream_id, level, prev: self.tails[usize::from(level)], next: NIL };
        let at = if self.free != NIL {
            let at = self.free;
            self.free = self.nodes[at as usize].next;
            self.nodes[at as usize] = node;
            at
        } else {
            // The slab never holds more nodes than queued streams, and streams are bounded
            // by the concurrency limit, far below u32::MAX - 1.
            let at = u32::try_from(self.nodes.len()).expect("fewer than 2^32-1 queued streams");
            debug_assert!(at != NIL);
            self.nodes.push(node);
            at
        };
        let l = usize::from(level);
        match self.tails[l] {
            NIL => self.heads[l] = at,
            tail => self.nodes[tail as usize].next = at,
        }
        self.tails[l] = at;
        self.non_empty |= 1 << level;
        self.index.insert(stream_id, at);
    }

    /// Takes the stream at the front of the highest-priority non-empty level. The caller
    /// re-pushes it if it still has sendable data after one chunk, which puts it behind
    /// its peers at that level: round robin.
    pub(crate) fn pop(&mut self) -> Option<StreamId> {
        if self.non_empty == 0 {
            return None;
        }
        let level = self.non_empty.trailing_zeros() as usize;
        let at = self.heads[level];
        debug_assert!(at != NIL, "bitmap says level {level} is non-empty");
        let stream_id = self.nodes[at as usize].stream_id;
        self.unlink(at);
        self.index.remove(&stream_id);
        Some(stream_id)
    }

    /// Drops a stream from the queue (reset, closed, or blocked by its window). Does
    /// nothing if it is not queued.
    pub(crate) fn remove(&mut self, stream_id: StreamId) {
        if let Some(at) = self.index.remove(&stream_id) {
            self.unlink(at);
        }
    }

    pub(crate) fn contains(&self, stream_id: StreamId) -> bool {
        self.index.contains_key(&stream_id)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Approximate heap bytes held (for `Session::memory_bytes`).
    pub(crate) fn memory_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.index.capacity() * (std::mem::size_of::<(StreamId, u32)>() + 1)
    }

    /// Unlinks node `at` from its level and puts it on the free list. The caller removes
    /// the id from `index`.
    fn unlink(&mut self, at: u32) {
        let Node { level, prev, next, .. } = self.nodes[at as usize];
        let l = usize::from(level);
        match prev {
            NIL => self.heads[l] = next,
            p => self.nodes[p as usize].next = next,
        }
        match next {
            NIL => self.tails[l] = prev,
            n => self.nodes[n as usize].prev = prev,
        }
        if self.heads[l] == NIL {
            self.non_empty &= !(1 << level);
        }
        self.nodes[at as usize].next = self.free;
        self.free = at;
    }
}

/// Payload length of the next DATA frame: `min(max_chunk, pending, stream window,
/// session window)`, never negative. A window may be below zero after a SETTINGS cut
/// (C74); that counts as 0. `session_window` is `None` where there is no session window
/// (SPDY/3, SPDY/2). 0 means "no DATA payload may go out now"; whether a bare FIN is due
/// (SPDY3.md §7.2: "zero-length DATA with FIN is always allowed") is the caller's call.
pub(crate) fn chunk_len(max_chunk: usize, pending: usize, stream_window: i64, session_window: Option<i64>) -> usize {
    let window = |w: i64| usize::try_from(w.max(0)).unwrap_or(usize::MAX);
    let mut n = max_chunk.min(pending).min(window(stream_window));
    if let Some(session) = session_window {
        n = n.min(window(session));
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    fn id(n: u32) -> StreamId {
        StreamId::new(n)
    }

    fn drain(s: &mut DataScheduler) -> Vec<u32> {
        std::iter::from_fn(|| s.pop()).map(StreamId::value).collect()
    }

    #[test]
    fn lower_priority_number_is_served_first_c32() {
        let mut s = DataScheduler::new(8);
        s.push(id(1), 7);
        s.push(id(3), 3);
        s.push(id(5), 0);
        s.push(id(7), 5);
        s.push(id(9), 3);
        assert_eq!(drain(&mut s), [5, 3, 9, 7, 1]);
        assert!(s.is_empty());
        assert_eq!(s.pop(), None);
    }

    #[test]
    fn repushing_after_each_chunk_round_robins_within_a_level() {
        let mut s = DataScheduler::new(8);
        for n in [1, 3, 5] {
            s.push(id(n), 2);
        }
        let mut order = Vec::new();
        for _ in 0..7 {
            let next = s.pop().unwrap();
            order.push(next.value());
            s.push(next, 2); // still has data
        }
        assert_eq!(order, [1, 3, 5, 1, 3, 5, 1]);
    }

    #[test]
    fn a_higher_priority_stream_preempts_a_running_round_robin() {
        let mut s = DataScheduler::new(8);
        s.push(id(1), 4);
        s.push(id(3), 4);
        assert_eq!(s.pop(), Some(id(1)));
        s.push(id(1), 4);
        s.push(id(5), 1);
        assert_eq!(drain(&mut s), [5, 3, 1]);
    }

    #[test]
    fn remove_from_the_middle_keeps_the_rest_in_order() {
        let mut s = DataScheduler::new(8);
        for n in [1, 3, 5, 7, 9] {
            s.push(id(n), 1);
        }
        s.remove(id(5));
        s.remove(id(1)); // head
        s.remove(id(9)); // tail
        s.remove(id(11)); // never queued: no effect
        assert!(!s.contains(id(5)));
        assert_eq!(s.len(), 2);
        assert_eq!(drain(&mut s), [3, 7]);
    }

    #[test]
    fn removing_the_last_stream_of_a_level_clears_it() {
        let mut s = DataScheduler::new(8);
        s.push(id(1), 0);
        s.push(id(3), 6);
        s.remove(id(1));
        assert_eq!(s.pop(), Some(id(3)));
        assert_eq!(s.pop(), None);
    }

    #[test]
    fn push_is_idempotent_and_keeps_the_place() {
        let mut s = DataScheduler::new(8);
        s.push(id(1), 2);
        s.push(id(3), 2);
        s.push(id(1), 2);
        s.push(id(1), 0); // already queued: neither moves nor changes level
        assert_eq!(s.len(), 2);
        assert!(s.contains(id(1)));
        assert_eq!(drain(&mut s), [1, 3]);
    }

    #[test]
    fn spdy2_priorities_beyond_four_levels_are_clamped_to_the_lowest() {
        let mut s = DataScheduler::new(4);
        s.push(id(1), 7);
        s.push(id(3), 3);
        s.push(id(5), 4);
        s.push(id(7), 2);
        // 7 and 4 land on level 3 with the genuine 3, all in push order.
        assert_eq!(drain(&mut s), [7, 1, 3, 5]);
    }

    #[test]
    fn freed_nodes_are_reused() {
        let mut s = DataScheduler::new(8);
        for round in 0..100u32 {
            for n in 0..10 {
                s.push(id(2 * (round * 10 + n) + 1), (n % 8) as u8);
            }
            while s.pop().is_some() {}
        }
        assert!(s.nodes.len() <= 10, "slab grew to {}", s.nodes.len());
        assert!(s.memory_bytes() >= 10 * std::mem::size_of::<Node>());
    }

    #[test]
    fn thousands_of_streams_come_out_by_level_then_fifo() {
        let mut s = DataScheduler::new(8);
        for n in 0..2000u32 {
            s.push(id(2 * n + 1), (n % 8) as u8);
        }
        assert_eq!(s.len(), 2000);
        let out = drain(&mut s);
        let mut expected: Vec<u32> = (0..2000u32).map(|n| 2 * n + 1).collect();
        expected.sort_by_key(|&v| ((v - 1) / 2) % 8); // stable: FIFO within a level
        assert_eq!(out, expected);
    }

    #[test]
    fn chunk_is_the_smallest_of_chunk_pending_and_windows() {
        assert_eq!(chunk_len(8192, 100_000, 65_536, Some(65_536)), 8192);
        assert_eq!(chunk_len(8192, 300, 65_536, Some(65_536)), 300);
        assert_eq!(chunk_len(8192, 100_000, 1000, Some(65_536)), 1000);
        assert_eq!(chunk_len(8192, 100_000, 65_536, Some(10)), 10);
        assert_eq!(chunk_len(8192, 100_000, 65_536, None), 8192);
    }

    #[test]
    fn a_negative_window_yields_zero_not_a_wrapped_length_c74() {
        assert_eq!(chunk_len(8192, 100_000, -43_616, Some(65_536)), 0);
        assert_eq!(chunk_len(8192, 100_000, 65_536, Some(-1)), 0);
        assert_eq!(chunk_len(8192, 0, 65_536, Some(65_536)), 0);
    }

    /// The obvious model: one FIFO of (id, level) per level, linear scans everywhere.
    #[derive(Default)]
    struct Model {
        levels: [VecDeque<u32>; 8],
    }

    impl Model {
        fn push(&mut self, n: u32, priority: u8, levels: u8) {
            if self.levels.iter().any(|q| q.contains(&n)) {
                return;
            }
            self.levels[usize::from(priority.min(levels - 1))].push_back(n);
        }
        fn pop(&mut self) -> Option<u32> {
            self.levels.iter_mut().find_map(VecDeque::pop_front)
        }
        fn remove(&mut self, n: u32) {
            for q in &mut self.levels {
                q.retain(|&x| x != n);
            }
        }
        fn len(&self) -> usize {
            self.levels.iter().map(VecDeque::len).sum()
        }
    }

    #[derive(Clone, Debug)]
    enum Op {
        Push(u32, u8),
        Pop,
        Remove(u32),
        Contains(u32),
    }

    fn op() -> impl Strategy<Value = Op> {
        // A small id space so pushes collide with queued streams and removes hit.
        prop_oneof![
            4 => (0u32..64, 0u8..10).prop_map(|(n, p)| Op::Push(n, p)),
            3 => Just(Op::Pop),
            2 => (0u32..64).prop_map(Op::Remove),
            1 => (0u32..64).prop_map(Op::Contains),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 20, ..ProptestConfig::default() })]
        #[test]
        fn matches_a_simple_model_over_random_operations(
            levels in prop_oneof![Just(4u8), Just(8u8)],
            ops in proptest::collection::vec(op(), 500..=500),
        ) {
            // 20 cases × 500 ops = 10 000 operations.
            let mut s = DataScheduler::new(levels);
            let mut m = Model::default();
            for op in ops {
                match op {
                    Op::Push(n, p) => { s.push(id(n), p); m.push(n, p, levels); }
                    Op::Pop => prop_assert_eq!(s.pop().map(StreamId::value), m.pop()),
                    Op::Remove(n) => { s.remove(id(n)); m.remove(n); }
                    Op::Contains(n) => prop_assert_eq!(
                        s.contains(id(n)),
                        m.levels.iter().any(|q| q.contains(&n))
                    ),
                }
                prop_assert_eq!(s.len(), m.len());
                prop_assert_eq!(s.is_empty(), m.len() == 0);
            }
            let rest: Vec<u32> = std::iter::from_fn(|| s.pop()).map(StreamId::value).collect();
            let model_rest: Vec<u32> = std::iter::from_fn(|| m.pop()).collect();
            prop_assert_eq!(rest, model_rest);
        }
    }
}
