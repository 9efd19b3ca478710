//! GOAWAY bookkeeping: what we sent, what the peer sent, and when a draining session is
//! finished (SPDY3.md §3.6, CONFORMANCE C28, C29, C110–C114).
//!
//! It decides nothing about frames; it answers "may a stream be opened now?", "is the
//! drain over?" and guarantees that at most one GOAWAY leaves this endpoint (C112).

use crate::spdy::frame::GoAwayStatus;
use crate::spdy::stream_id::StreamId;

/// How the session is winding down.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct GoAwayState {
    /// Our GOAWAY, once queued: (last-good, status). Never replaced (C112).
    sent: Option<(StreamId, GoAwayStatus)>,
    /// The peer's latest GOAWAY.
    received: Option<(StreamId, GoAwayStatus)>,
}

impl GoAwayState {
    /// Records our GOAWAY. Returns false (and changes nothing) if one was already sent:
    /// "exactly one GOAWAY" (C112).
    pub(crate) fn send(&mut self, last_good: StreamId, status: GoAwayStatus) -> bool {
        if self.sent.is_some() {
            return false;
        }
        self.sent = Some((last_good, status));
        true
    }

    pub(crate) fn receive(&mut self, last_good: StreamId, status: GoAwayStatus) {
        self.received = Some((last_good, status));
    }

    pub(crate) fn sent(&self) -> Option<(StreamId, GoAwayStatus)> {
        self.sent
    }

    pub(crate) fn received(&self) -> Option<(StreamId, GoAwayStatus)> {
        self.received
    }

    /// "after sending GOAWAY ... MUST NOT create streams" (3.1) and "Receiver: MUST NOT
    /// open more streams on this session" (§3.6).
    pub(crate) fn may_open(&self) -> bool {
        self.sent.is_none() && self.received.is_none()
    }

    /// Whether the peer's GOAWAY says our stream `id` was never processed (C110).
    pub(crate) fn refused_by_peer(&self, id: StreamId) -> bool {
        matches!(self.received, Some((last_good, _)) if id > last_good)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_goaway_is_ever_sent() {
        let mut g = GoAwayState::default();
        assert!(g.may_open());
        assert!(g.send(StreamId::new(5), GoAwayStatus::OK));
        assert!(!g.send(StreamId::new(7), GoAwayStatus::PROTOCOL_ERROR));
        assert_eq!(g.sent(), Some((StreamId::new(5), GoAwayStatus::OK)));
        assert!(!g.may_open());
    }

    #[test]
    fn peer_goaway_refuses_streams_above_last_good() {
        let mut g = GoAwayState::default();
        g.receive(StreamId::new(3), GoAwayStatus(11));
        assert!(!g.refused_by_peer(StreamId::new(3)));
        assert!(g.refused_by_peer(StreamId::new(5)));
        assert!(!g.may_open());
    }
}
