//! The stream table: live streams in a slab with an id index, concurrency counts per
//! direction, the stream-id bookkeeping (next id of ours, highest id received,
//! last-good for GOAWAY) and a bounded memory of recently closed streams.
//!
//! It holds data, not policy: which frame is an error is decided in [`super`]. It never
//! grows without bound: the slab is as large as the most streams open at once (capped by
//! our MAX_CONCURRENT_STREAMS and the peer's), the closed memory by [`CLOSED_MEMORY`].

use std::collections::VecDeque;
use std::time::Instant;

use super::flow::{RecvWindow, SendWindow};
use super::state::{Closed, State};
use crate::id_map::IdMap;
use crate::spdy::header::HeaderBlock;
use crate::spdy::stream_id::StreamId;

/// How many closed streams we remember, to tell a late frame for a stream that
/// completed (C66) or that we reset (C67) from one for a stream never opened (C63).
pub(crate) const CLOSED_MEMORY: usize = 128;

/// Output the application queued on a stream, in the order it must hit the wire.
#[derive(Debug)]
pub(crate) enum SendOp {
    /// `len` more body bytes held by the caller; `fin` after the last of them.
    Data { len: usize, fin: bool },
    /// A HEADERS frame declared after DATA: it waits for that DATA (compressed when it
    /// reaches the front, so header blocks hit the one zlib stream in wire order).
    Headers { block: Box<HeaderBlock>, fin: bool },
}

/// One live stream.
#[derive(Debug)]
pub(crate) struct Stream {
    pub(crate) id: StreamId,
    pub(crate) state: State,
    /// 0 (highest) .. the version's lowest priority.
    pub(crate) priority: u8,
    /// We created it (SYN_STREAM sent by us).
    pub(crate) ours: bool,
    /// The SYN_REPLY was sent (peer streams) or received (ours). DATA of ours waits for
    /// it on peer streams (C60); DATA from the peer before it is an error on ours.
    pub(crate) replied: bool,
    /// The application declared its last byte (the FIN may still be queued).
    pub(crate) fin_declared: bool,
    /// Our send window. Invariant: only the scheduler consumes it, and only by what
    /// it emits, so DATA never exceeds it (C123). May be negative after a SETTINGS cut.
    pub(crate) send_window: SendWindow,
    pub(crate) recv_window: RecvWindow,
    /// Bytes handed to the application as `Event::Data` and not yet `consume`d; given
    /// back to the 3.1 session window if the stream is reset.
    pub(crate) unconsumed: u64,
    pub(crate) queue: VecDeque<SendOp>,
    /// Last time the stream's output made progress (B9 send-progress timeout).
    pub(crate) last_progress: Instant,
}

impl Stream {
    /// Body bytes at the front of the queue, and whether the FIN follows them.
    pub(crate) fn front_data(&self) -> Option<(usize, bool)> {
        match self.queue.front() {
            Some(SendOp::Data { len, fin }) => Some((*len, *fin)),
            _ => None,
        }
    }

    /// Declared body bytes not yet emitted.
    #[cfg(test)]
    pub(crate) fn pending_bytes(&self) -> usize {
        self.queue.iter().map(|op| if let SendOp::Data { len, .. } = op { *len } else { 0 }).sum()
    }

    /// Appends body bytes, merging with a trailing DATA op.
    pub(crate) fn push_data(&mut self, len: usize, fin: bool) {
        if let Some(SendOp::Data { len: l, fin: f }) = self.queue.back_mut() {
            *l += len;
            *f |= fin;
        } else {
            self.queue.push_back(SendOp::Data { len, fin });
        }
    }
}

/// Live streams plus id bookkeeping.
#[derive(Debug)]
pub(crate) struct Streams {
    slab: Vec<Option<Stream>>,
    free: Vec<u32>,
    /// Stream id → slab slot; one multiply per lookup instead of SipHash (~2.5% of
    /// spdyload's CPU per request), safe here as [`IdMap`] explains.
    index: IdMap<u32, u32>,
    /// Open (not fully closed) streams we created.
    local_open: usize,
    /// Open streams the peer created (C27 counts these).
    remote_open: usize,
    /// The next id we will use for a stream of ours (`None` once exhausted).
    next_local: Option<StreamId>,
    /// Highest stream id the peer used in a SYN_STREAM (C23, C24), refused ones included.
    pub(crate) highest_remote: StreamId,
    /// Highest peer stream received and not refused: GOAWAY's last-good (C113, §12 row 24).
    pub(crate) last_good: StreamId,
    /// Streams the peer opened that we accepted (B4 total-streams cap).
    pub(crate) accepted_total: u32,
    closed: VecDeque<(StreamId, Closed)>,
}

impl Streams {
    /// `client`: we are the client and open odd streams.
    pub(crate) fn new(client: bool) -> Self {
        Streams {
            slab: Vec::new(),
            free: Vec::new(),
            index: IdMap::default(),
            local_open: 0,
            remote_open: 0,
            next_local: Some(StreamId::new(if client { 1 } else { 2 })),
            highest_remote: StreamId::ZERO,
            last_good: StreamId::ZERO,
            accepted_total: 0,
            closed: VecDeque::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub(crate) fn local_open(&self) -> usize {
        self.local_open
    }

    pub(crate) fn remote_open(&self) -> usize {
        self.remote_open
    }

    /// Takes the next id of ours.
    pub(crate) fn take_next_local(&mut self) -> Option<StreamId> {
        let id = self.next_local?;
        self.next_local = id.next();
        Some(id)
    }

    /// Whether `id` (of our parity) was ever handed out.
    pub(crate) fn local_was_used(&self, id: StreamId) -> bool {
        match self.next_local {
            Some(next) => id < next,
            None => true,
        }
    }

    pub(crate) fn insert(&mut self, stream: Stream) {
        let id = stream.id.value();
        if stream.ours {
            self.local_open += 1;
        } else {
            self.remote_open += 1;
        }
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slab[slot as usize] = Some(stream);
                slot
            }
            None => {
                self.slab.push(Some(stream));
                (self.slab.len() - 1) as u32
            }
        };
        self.index.insert(id, slot);
    }

    pub(crate) fn get(&self, id: StreamId) -> Option<&Stream> {
        let slot = *self.index.get(&id.value())?;
        self.slab.get(slot as usize)?.as_ref()
    }

    pub(crate) fn get_mut(&mut self, id: StreamId) -> Option<&mut Stream> {
        let slot = *self.index.get(&id.value())?;
        self.slab.get_mut(slot as usize)?.as_mut()
    }

    /// Removes a stream and remembers how it ended.
    pub(crate) fn remove(&mut self, id: StreamId, how: Closed) -> Option<Stream> {
        let slot = self.index.remove(&id.value())?;
        let stream = self.slab.get_mut(slot as usize)?.take()?;
        self.free.push(slot);
        if stream.ours {
            self.local_open -= 1;
        } else {
            self.remote_open -= 1;
        }
        self.remember(id, how);
        if self.index.is_empty() {
            // Give the slab back once idle so an idle session stays small.
            self.slab = Vec::new();
            self.free = Vec::new();
        }
        Some(stream)
    }

    /// Remembers a stream that never entered the table (refused, rejected on arrival).
    pub(crate) fn remember(&mut self, id: StreamId, how: Closed) {
        if self.closed.len() == CLOSED_MEMORY {
            self.closed.pop_front();
        }
        self.closed.push_back((id, how));
    }

    /// How a recently closed stream ended, if still remembered.
    pub(crate) fn closed(&self, id: StreamId) -> Option<Closed> {
        self.closed.iter().rev().find(|(i, _)| *i == id).map(|(_, how)| *how)
    }

    /// Ids of every live stream (for walks that mutate the table).
    pub(crate) fn ids(&self) -> Vec<StreamId> {
        self.slab.iter().flatten().map(|s| s.id).collect()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Stream> {
        self.slab.iter().flatten()
    }

    /// Approximate heap bytes held.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.slab.capacity() * core::mem::size_of::<Option<Stream>>()
            + self.free.capacity() * 4
            + self.index.capacity() * 12
            + self.closed.capacity() * core::mem::size_of::<(StreamId, Closed)>()
            + self.iter().map(|s| s.queue.capacity() * core::mem::size_of::<SendOp>()).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(id: u32, ours: bool, now: Instant) -> Stream {
        Stream {
            id: StreamId::new(id),
            state: State::Open,
            priority: 0,
            ours,
            replied: false,
            fin_declared: false,
            send_window: SendWindow::new(65_536),
            recv_window: RecvWindow::new(65_536),
            unconsumed: 0,
            queue: VecDeque::new(),
            last_progress: now,
        }
    }

    #[test]
    fn slab_reuses_slots_and_counts_directions() {
        let now = crate::testing::epoch();
        let mut t = Streams::new(false);
        t.insert(stream(1, false, now));
        t.insert(stream(3, false, now));
        t.insert(stream(2, true, now));
        assert_eq!((t.remote_open(), t.local_open(), t.len()), (2, 1, 3));
        assert!(t.remove(StreamId::new(1), Closed::Completed).is_some());
        t.insert(stream(5, false, now));
        assert_eq!(t.slab.len(), 3, "freed slot reused");
        assert_eq!(t.closed(StreamId::new(1)), Some(Closed::Completed));
        assert!(t.get(StreamId::new(5)).is_some());
        assert!(t.get(StreamId::new(1)).is_none());
    }

    #[test]
    fn closed_memory_is_bounded() {
        let mut t = Streams::new(false);
        for i in 0..(CLOSED_MEMORY as u32 + 10) {
            t.remember(StreamId::new(2 * i + 1), Closed::ResetByUs);
        }
        assert_eq!(t.closed.len(), CLOSED_MEMORY);
        assert_eq!(t.closed(StreamId::new(1)), None, "oldest forgotten");
        assert_eq!(t.closed(StreamId::new(2 * (CLOSED_MEMORY as u32 + 9) + 1)), Some(Closed::ResetByUs));
    }

    #[test]
    fn local_ids_are_handed_out_in_order_and_never_wrap() {
        let mut t = Streams::new(true);
        assert_eq!(t.take_next_local(), Some(StreamId::new(1)));
        assert_eq!(t.take_next_local(), Some(StreamId::new(3)));
        assert!(t.local_was_used(StreamId::new(3)));
        assert!(!t.local_was_used(StreamId::new(5)));
        t.next_local = Some(StreamId::MAX);
        assert_eq!(t.take_next_local(), Some(StreamId::MAX));
        assert_eq!(t.take_next_local(), None);
    }

    #[test]
    fn data_ops_merge_until_headers_intervene() {
        let mut s = stream(1, true, crate::testing::epoch());
        s.push_data(10, false);
        s.push_data(5, true);
        assert_eq!(s.front_data(), Some((15, true)));
        s.queue.push_back(SendOp::Headers { block: Box::default(), fin: false });
        s.push_data(7, false);
        assert_eq!(s.queue.len(), 3);
        assert_eq!(s.pending_bytes(), 22);
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;

    #[test]
    fn a_stream_costs_little() {
        // Per-stream state stays small: the gateway budgets memory per idle session
        // and per stream (the report prints these).
        let stream = core::mem::size_of::<Stream>();
        let slot = core::mem::size_of::<Option<Stream>>();
        println!("Stream {stream} bytes, slab slot {slot} bytes");
        assert!(slot <= 160, "{slot}");
    }
}
