//! The life of one stream, as this endpoint sees it (SPDY3.md §6.3).
//!
//! Only the two half-close bits live here; everything a stream *carries* (windows,
//! queued output) is in [`super::streams`]. Closed streams leave the table: what is
//! remembered about them afterwards ("reset by us", "completed") is a [`Closed`] record,
//! so a late DATA frame can be answered as CONFORMANCE C66/C67 require. This module
//! refuses to know about frames or versions.
//!
//! ```text
//!                         (idle: not in the table)
//!                                   |
//!          SYN_STREAM sent or received (FIN / UNIDIRECTIONAL decide the start)
//!                                   |
//!                                   v
//!                              +---------+
//!        our FIN emitted       |  open   |      peer FIN received
//!          +-------------------|         |------------------------+
//!          v                   +---------+                        v
//!  +----------------+                |                    +-----------------+
//!  |  half-closed   |                | RST sent/received  |   half-closed   |
//!  |    (local)     |                |                    |    (remote)     |
//!  +----------------+                |                    +-----------------+
//!          | peer FIN received       |                     our FIN emitted |
//!          |      or RST             v                         or RST      |
//!          +----------------> +--------------+ <---------------------------+
//!                             |    closed    |  (removed from the table)
//!                             +--------------+
//!                                    |
//!               remembered for a while as one of [`Closed`]:
//!               Completed (both FINs: late DATA → RST PROTOCOL_ERROR, C66)
//!               ResetByUs (we sent RST: late frames dropped silently, C67)
//!               ResetByPeer (they sent RST: late frames dropped)
//! ```

/// The half-close state of a stream still in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// Both directions may still carry frames.
    Open,
    /// We emitted our FIN (or the peer opened the stream unidirectionally): we send
    /// nothing more but WINDOW_UPDATE (C119).
    HalfClosedLocal,
    /// The peer sent its FIN: it may send WINDOW_UPDATE and RST_STREAM only (C65).
    HalfClosedRemote,
}

/// What a stream transition left behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transition {
    /// The stream is still alive in the new state.
    Alive(State),
    /// Both sides finished: the stream leaves the table as [`Closed::Completed`].
    Closed,
}

/// How a stream that left the table ended. Kept in a bounded memory (see
/// [`super::streams::ClosedMemory`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Closed {
    /// Both FINs were exchanged.
    Completed,
    /// We sent RST_STREAM (a stream error, a refusal or the application's reset).
    ResetByUs,
    /// The peer sent RST_STREAM.
    ResetByPeer,
}

impl State {
    /// The start state: `local_closed` when the peer opened a unidirectional stream
    /// towards us (we may never send), `remote_closed` when its SYN carried FIN (C30).
    pub(crate) fn start(local_closed: bool, remote_closed: bool) -> Transition {
        match (local_closed, remote_closed) {
            (false, false) => Transition::Alive(State::Open),
            (true, false) => Transition::Alive(State::HalfClosedLocal),
            (false, true) => Transition::Alive(State::HalfClosedRemote),
            (true, true) => Transition::Closed,
        }
    }

    /// Our FIN went out.
    pub(crate) fn send_fin(self) -> Transition {
        match self {
            State::Open | State::HalfClosedLocal => Transition::Alive(State::HalfClosedLocal),
            State::HalfClosedRemote => Transition::Closed,
        }
    }

    /// The peer's FIN arrived.
    pub(crate) fn recv_fin(self) -> Transition {
        match self {
            State::Open | State::HalfClosedRemote => Transition::Alive(State::HalfClosedRemote),
            State::HalfClosedLocal => Transition::Closed,
        }
    }

    /// The peer may still send DATA/HEADERS on the stream.
    pub(crate) fn peer_may_send(self) -> bool {
        !matches!(self, State::HalfClosedRemote)
    }

    /// We have not emitted our FIN yet.
    pub(crate) fn we_may_send(self) -> bool {
        !matches!(self, State::HalfClosedLocal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_fins_close_the_stream_in_either_order() {
        let Transition::Alive(s) = State::start(false, false) else { panic!() };
        let Transition::Alive(s) = s.send_fin() else { panic!() };
        assert_eq!(s, State::HalfClosedLocal);
        assert_eq!(s.recv_fin(), Transition::Closed);

        let Transition::Alive(s) = State::start(false, true) else { panic!() };
        assert_eq!(s, State::HalfClosedRemote);
        assert!(!s.peer_may_send());
        assert!(s.we_may_send());
        assert_eq!(s.send_fin(), Transition::Closed);
    }

    #[test]
    fn unidirectional_push_with_fin_is_born_closed() {
        assert_eq!(State::start(true, true), Transition::Closed);
        assert_eq!(State::start(true, false), Transition::Alive(State::HalfClosedLocal));
    }
}
