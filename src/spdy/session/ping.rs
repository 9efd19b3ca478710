//! PING bookkeeping (SPDY3.md §3.5, CONFORMANCE C99–C103): which ids are ours, which of
//! ours are still unanswered, and the round-trip time of the latest answer.
//!
//! It decides what a received PING means; it neither builds frames nor limits how many
//! replies may queue (that bound is the session's, C103 / `Limits::max_pending_pings`).
//! Fixed-size state: no allocation, whatever the peer sends.

use std::time::{Duration, Instant};

use crate::spdy::session::Role;

/// Most of our PINGs remembered as unanswered; the oldest is forgotten beyond this (its
/// late answer is then ignored like any unknown id of our parity).
const MAX_OUTSTANDING: usize = 8;

/// What to do with a received PING.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PingAction {
    /// The peer's parity: send back an identical PING, ahead of queued DATA (C99).
    Reply,
    /// The answer to a PING of ours: do not echo it (C101).
    Ack { rtt: Duration },
    /// Our parity but not one we are waiting for, including 0 for a server: "MUST ignore
    /// it" (C100). Echoing it could bounce the same PING between the peers forever.
    Ignore,
}

/// Our PING ids and the unanswered ones.
#[derive(Debug)]
pub(crate) struct Pings {
    /// 0 for a server (even ids), 1 for a client (odd ids).
    parity: u32,
    /// The id `next_id` hands out next. Invariant: has `parity`, never 0.
    next: u32,
    /// Unanswered PINGs of ours with their send times, oldest first, in a ring.
    /// Invariant: `outstanding[(start + i) % MAX_OUTSTANDING]` is `Some` exactly for
    /// `i < len`.
    outstanding: [Option<(u32, Instant)>; MAX_OUTSTANDING],
    start: usize,
    len: usize,
    rtt: Option<Duration>,
}

impl Pings {
    /// Server: even ids from 2; client: odd ids from 1 (C102).
    pub(crate) fn new(role: Role) -> Self {
        let (parity, next) = match role {
            Role::Server => (0, 2),
            Role::Client => (1, 1),
        };
        Pings { parity, next, outstanding: [None; MAX_OUTSTANDING], start: 0, len: 0, rtt: None }
    }

    /// A fresh id for a PING we send now, remembered as unanswered. Ids increase (C102,
    /// CHOSEN) until the 2^31 ids of our parity are used up; then they wrap around to the
    /// first one, which SPDY3.md §3.5 allows ("after exhausting 2^31 IDs of one parity a
    /// sender may wrap around"). A server skips 0 on wrapping: 0 is never a PING id we send.
    pub(crate) fn next_id(&mut self, now: Instant) -> u32 {
        let id = self.next;
        self.next = match id.checked_add(2) {
            Some(n) => n,
            None => 2 - self.parity, // 2 for a server, 1 for a client
        };
        if self.len == MAX_OUTSTANDING {
            self.outstanding[self.start] = None;
            self.start = (self.start + 1) % MAX_OUTSTANDING;
            self.len -= 1;
        }
        self.outstanding[(self.start + self.len) % MAX_OUTSTANDING] = Some((id, now));
        self.len += 1;
        id
    }

    /// A PING with `id` arrived at `now`. The peer's parity → Reply (C99); ours and
    /// outstanding → Ack with the round-trip time (C101); ours and not outstanding
    /// (including 0 on a server, and answers we already had) → Ignore (C100).
    ///
    /// A client receiving id 0 replies: 0 is even, the server's parity, and the server
    /// will ignore the echo under its own C100, so nothing can loop.
    pub(crate) fn on_ping(&mut self, id: u32, now: Instant) -> PingAction {
        if id & 1 != self.parity {
            return PingAction::Reply;
        }
        let Some(i) = (0..self.len).find(|&i| {
            matches!(self.outstanding[(self.start + i) % MAX_OUTSTANDING], Some((o, _)) if o == id)
        }) else {
            return PingAction::Ignore;
        };
        let Some((_, sent)) = self.take(i) else {
            return PingAction::Ignore;
        };
        let rtt = now.saturating_duration_since(sent);
        self.rtt = Some(rtt);
        PingAction::Ack { rtt }
    }

    /// The latest round-trip sample, if any PING of ours was answered.
    #[cfg(test)]
    pub(crate) fn rtt(&self) -> Option<Duration> {
        self.rtt
    }

    /// How many of our PINGs are unanswered (at most `MAX_OUTSTANDING`).
    #[cfg(test)]
    pub(crate) fn outstanding(&self) -> usize {
        self.len
    }

    /// When the oldest unanswered PING went out (for a keepalive timeout).
    #[cfg(test)]
    pub(crate) fn oldest_sent(&self) -> Option<Instant> {
        if self.len == 0 {
            return None;
        }
        self.outstanding[self.start].map(|(_, sent)| sent)
    }

    /// Removes the `i`-th oldest outstanding entry, closing the gap.
    fn take(&mut self, i: usize) -> Option<(u32, Instant)> {
        let at = |k: usize| (self.start + k) % MAX_OUTSTANDING;
        let taken = self.outstanding[at(i)].take();
        for k in i..self.len - 1 {
            self.outstanding[at(k)] = self.outstanding[at(k + 1)].take();
        }
        self.len -= 1;
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(t0: Instant, n: u64) -> Instant {
        t0 + Duration::from_millis(n)
    }

    #[test]
    fn server_ids_are_even_from_2_and_increase_c102() {
        let t0 = crate::testing::epoch();
        let mut p = Pings::new(Role::Server);
        let ids: Vec<u32> = (0..5).map(|_| p.next_id(t0)).collect();
        assert_eq!(ids, [2, 4, 6, 8, 10]);
    }

    #[test]
    fn client_ids_are_odd_from_1_and_increase() {
        let t0 = crate::testing::epoch();
        let mut p = Pings::new(Role::Client);
        let ids: Vec<u32> = (0..4).map(|_| p.next_id(t0)).collect();
        assert_eq!(ids, [1, 3, 5, 7]);
    }

    #[test]
    fn server_replies_to_odd_ids_c99() {
        let t0 = crate::testing::epoch();
        let mut p = Pings::new(Role::Server);
        assert_eq!(p.on_ping(1, t0), PingAction::Reply);
        assert_eq!(p.on_ping(0xffff_ffff, t0), PingAction::Reply);
        // Replying does not change anything: the same id is answered again.
        assert_eq!(p.on_ping(1, t0), PingAction::Reply);
    }

    #[test]
    fn server_ignores_even_ids_it_did_not_send_including_zero_c100() {
        let t0 = crate::testing::epoch();
        let mut p = Pings::new(Role::Server);
        assert_eq!(p.on_ping(0, t0), PingAction::Ignore);
        assert_eq!(p.on_ping(2, t0), PingAction::Ignore);
        let id = p.next_id(t0);
        assert_eq!(p.on_ping(id + 2, t0), PingAction::Ignore);
        assert_eq!(p.outstanding(), 1);
    }

    #[test]
    fn answer_to_our_ping_is_an_ack_with_rtt_not_echoed_c101() {
        let t0 = crate::testing::epoch();
        let mut p = Pings::new(Role::Server);
        assert_eq!(p.rtt(), None);
        let a = p.next_id(t0);
        let b = p.next_id(ms(t0, 10));
        assert_eq!(p.oldest_sent(), Some(t0));
        assert_eq!(p.on_ping(b, ms(t0, 35)), PingAction::Ack { rtt: Duration::from_millis(25) });
        assert_eq!(p.rtt(), Some(Duration::from_millis(25)));
        // A second copy of the answer is no longer outstanding.
        assert_eq!(p.on_ping(b, ms(t0, 36)), PingAction::Ignore);
        assert_eq!(p.on_ping(a, ms(t0, 40)), PingAction::Ack { rtt: Duration::from_millis(40) });
        assert_eq!(p.rtt(), Some(Duration::from_millis(40)));
        assert_eq!(p.outstanding(), 0);
        assert_eq!(p.oldest_sent(), None);
    }

    #[test]
    fn client_acks_its_odd_ids_and_replies_to_even_ones() {
        let t0 = crate::testing::epoch();
        let mut p = Pings::new(Role::Client);
        let id = p.next_id(t0);
        assert_eq!(p.on_ping(2, t0), PingAction::Reply);
        assert_eq!(p.on_ping(0, t0), PingAction::Reply);
        assert_eq!(p.on_ping(id + 2, t0), PingAction::Ignore);
        assert_eq!(p.on_ping(id, ms(t0, 5)), PingAction::Ack { rtt: Duration::from_millis(5) });
    }

    #[test]
    fn only_the_newest_pings_stay_outstanding() {
        let t0 = crate::testing::epoch();
        let mut p = Pings::new(Role::Server);
        let ids: Vec<u32> = (0..MAX_OUTSTANDING as u64 + 3).map(|i| p.next_id(ms(t0, i))).collect();
        assert_eq!(p.outstanding(), MAX_OUTSTANDING);
        assert_eq!(p.oldest_sent(), Some(ms(t0, 3)));
        for &old in &ids[..3] {
            assert_eq!(p.on_ping(old, ms(t0, 100)), PingAction::Ignore);
        }
        // Answers out of order, from the middle, keep the others intact.
        for &id in ids[3..].iter().rev().step_by(2) {
            assert!(matches!(p.on_ping(id, ms(t0, 100)), PingAction::Ack { .. }), "id {id}");
        }
        for &id in ids[3..].iter().rev().skip(1).step_by(2) {
            assert!(matches!(p.on_ping(id, ms(t0, 100)), PingAction::Ack { .. }), "id {id}");
        }
        assert_eq!(p.outstanding(), 0);
    }

    #[test]
    fn server_ids_wrap_to_2_after_the_last_even_id() {
        let t0 = crate::testing::epoch();
        let mut p = Pings::new(Role::Server);
        p.next = 0xffff_fffc;
        assert_eq!(p.next_id(t0), 0xffff_fffc);
        assert_eq!(p.next_id(t0), 0xffff_fffe);
        assert_eq!(p.next_id(t0), 2);
        assert!(matches!(p.on_ping(0xffff_fffe, t0), PingAction::Ack { .. }));
        assert!(matches!(p.on_ping(2, t0), PingAction::Ack { .. }));
    }

    #[test]
    fn client_ids_wrap_to_1_after_the_last_odd_id() {
        let t0 = crate::testing::epoch();
        let mut p = Pings::new(Role::Client);
        p.next = 0xffff_ffff;
        assert_eq!(p.next_id(t0), 0xffff_ffff);
        assert_eq!(p.next_id(t0), 1);
        assert_eq!(p.next_id(t0), 3);
    }

    #[test]
    fn an_answer_before_the_send_time_counts_as_zero_rtt() {
        let t0 = crate::testing::epoch();
        let mut p = Pings::new(Role::Server);
        let id = p.next_id(ms(t0, 10));
        assert_eq!(p.on_ping(id, t0), PingAction::Ack { rtt: Duration::ZERO });
    }
}
