//! Flow-control windows (SPDY3.md §7): what we may still send, what the peer may still
//! send us, and when to hand credit back with WINDOW_UPDATE.
//!
//! One type per direction, used for both a stream window and (3.1) the session window;
//! the session decides which reaction an error earns (RST_STREAM FLOW_CONTROL_ERROR for a
//! stream, GOAWAY(1) for the session, CONFORMANCE D). SPDY/2 has no flow control (E5): the
//! session simply does not create these there. Nothing here sends frames or reads clocks.

/// Largest window either side may ever have: "MUST NOT allow a window to exceed 2^31 − 1"
/// (SPDY/3.1 §2.6.8; the v3 text said 2^31, implementations use INT32_MAX).
pub(crate) const MAX_WINDOW: i64 = 0x7fff_ffff;

/// How the peer broke the flow-control rules.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum WindowError {
    /// The window would exceed 2^31 − 1 (C77, C78, C90).
    Overflow,
    /// WINDOW_UPDATE with delta 0: "legal range 1…" (C79, C80).
    ZeroDelta,
    /// DATA longer than the receive window that was left (C85, C86).
    Exceeded,
}

/// Our right to send on a stream or (3.1) the session.
///
/// Signed on purpose (SPDY3.md §7.2, "Windows are signed"): when the peer lowers
/// SETTINGS_INITIAL_WINDOW_SIZE after we already sent under the old value, the change is
/// applied as a delta and the window drops below zero (C74: 65 536 − 60 000 sent, then a
/// cut to 16 384 leaves −43 616). We then send nothing until WINDOW_UPDATEs lift it above
/// zero. Invariant: `value <= MAX_WINDOW`; the lower bound is −MAX_WINDOW − 2^32 at worst,
/// far inside i64.
#[derive(Debug)]
pub(crate) struct SendWindow(i64);

impl SendWindow {
    /// A window of `initial` bytes (the peer's INITIAL_WINDOW_SIZE, or 65 536 for the 3.1
    /// session window). Values above 2^31 − 1 are clamped; `settings::interpret` already
    /// refuses them (C89).
    pub(crate) fn new(initial: u32) -> Self {
        SendWindow(i64::from(initial).min(MAX_WINDOW))
    }

    pub(crate) fn value(&self) -> i64 {
        self.0
    }

    /// Bytes we may send now: `max(0, value)`.
    pub(crate) fn available(&self) -> usize {
        usize::try_from(self.0.max(0)).unwrap_or(usize::MAX)
    }

    /// We sent `n` bytes of DATA payload. The scheduler never sends more than
    /// [`available`](Self::available) (`priority::chunk_len`).
    pub(crate) fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.available(), "sent {n} bytes with a window of {}", self.0);
        self.0 -= i64::try_from(n).unwrap_or(i64::MAX);
    }

    /// A WINDOW_UPDATE with this delta arrived. `Ok(true)` when the window went from ≤ 0
    /// to > 0 (the stream may be scheduled again). Delta 0 is refused (C79, C80), as is a
    /// window above 2^31 − 1 (C77, C78); the window is unchanged on error.
    pub(crate) fn grant(&mut self, delta: u32) -> Result<bool, WindowError> {
        if delta == 0 {
            return Err(WindowError::ZeroDelta);
        }
        self.add(i64::from(delta))
    }

    /// The peer's SETTINGS_INITIAL_WINDOW_SIZE changed: add `new − old` to an open
    /// stream's window (SPDY3.md §7.2; C74 may go negative, C75 may reopen it). Never applied
    /// to the session window (C76). Over 2^31 − 1 → Overflow (C90), window unchanged.
    /// `Ok(true)` if the window went from ≤ 0 to > 0.
    pub(crate) fn adjust(&mut self, delta: i64) -> Result<bool, WindowError> {
        self.add(delta)
    }

    fn add(&mut self, delta: i64) -> Result<bool, WindowError> {
        let new = self.0.checked_add(delta).ok_or(WindowError::Overflow)?;
        if new > MAX_WINDOW {
            return Err(WindowError::Overflow);
        }
        let opened = self.0 <= 0 && new > 0;
        self.0 = new;
        Ok(opened)
    }
}

/// What the peer may still send us on a stream or (3.1) the session, and the credit we
/// owe back.
///
/// Every byte we ever advertised is in exactly one of three places:
/// `target == remaining + buffered + owed`, where `remaining` is what the peer may still
/// send, `buffered` arrived but the application has not consumed it, and `owed` was
/// consumed but not yet returned with a WINDOW_UPDATE. So the peer's window can never
/// exceed `target ≤ 2^31 − 1` (C88), and a delta is never 0.
///
/// Batching (C88: WINDOW_UPDATE "as data is consumed", without one per DATA frame and
/// without ever making the sender wait a round trip): credit is returned once `owed`
/// reaches a quarter of `target`. Why a quarter:
/// * The sender's view of its window is `target − in flight − buffered − owed − credit
///   in flight back`. Batching adds at most `target/4` (the `owed` part) to what the
///   sender cannot use, so with a promptly reading application a sender never finds the
///   window empty while the bandwidth-delay product is below ¾ of the window. Returning
///   credit at half (spdylay's policy, §7.5) would cut that to ½ and a sender on a path
///   whose BDP is near half the window stalls every round trip (the simulation test below
///   shows both).
/// * At most 4 WINDOW_UPDATEs per window's worth of data, independent of how small the
///   DATA frames or `consume` calls are (no "silly window" trickle of tiny updates).
/// * No deadlock: if the peer's window is empty and the application consumed everything,
///   `owed == target ≥ target/4`, so the credit has already gone out.
///
/// When the application holds data (does not consume), credit is withheld: that is the
/// intended back-pressure, not a stall.
#[derive(Debug)]
pub(crate) struct RecvWindow {
    /// The window we want the peer to have. Invariant: `1 ..= MAX_WINDOW` unless created
    /// with 0 (then no credit is ever owed and nothing is sent).
    target: i64,
    /// What the peer may still send. Invariant: `0 ..= target`.
    remaining: i64,
    /// Consumed by the application, not yet returned. Invariant: `0 ..= target − remaining`.
    owed: i64,
    /// Credit goes back once `owed ≥ target / batch_divisor`. Always 4 outside tests; the
    /// simulation test varies it to show that its stall counter can fail.
    batch_divisor: i64,
}

impl RecvWindow {
    /// The window the peer believes it has: our INITIAL_WINDOW_SIZE for a stream, 65 536
    /// for the 3.1 session window before we raise it.
    pub(crate) fn new(initial: u32) -> Self {
        let initial = i64::from(initial).min(MAX_WINDOW);
        RecvWindow { target: initial, remaining: initial, owed: 0, batch_divisor: 4 }
    }

    /// A DATA frame with `len` payload bytes arrived. Exceeded if `len` is more than what
    /// was left (C85 stream → RST FLOW_CONTROL_ERROR; C86 session → GOAWAY(1)); the window
    /// is unchanged then, since the stream or session is torn down anyway.
    ///
    /// Call it for the 3.1 session window on *every* DATA frame, including frames for
    /// unknown or reset streams that are then dropped: the sender counted them (C87). For
    /// such a dropped frame call [`on_consume`](Self::on_consume) right away so the credit
    /// comes back.
    pub(crate) fn on_data(&mut self, len: usize) -> Result<(), WindowError> {
        let len = i64::try_from(len).map_err(|_| WindowError::Exceeded)?;
        if len > self.remaining {
            return Err(WindowError::Exceeded);
        }
        self.remaining -= len;
        Ok(())
    }

    /// The application consumed `len` received bytes. Returns the delta of the
    /// WINDOW_UPDATE to send now, if one is due (see the type's doc for the policy).
    /// Consuming more than was received is clamped (an application bug must not let the
    /// window grow past `target`).
    pub(crate) fn on_consume(&mut self, len: usize) -> Option<u32> {
        let buffered = self.target - self.remaining - self.owed;
        let len = i64::try_from(len).unwrap_or(i64::MAX).min(buffered);
        self.owed += len;
        if self.owed > 0 && self.owed >= self.threshold() {
            self.release()
        } else {
            None
        }
    }

    /// Raises the advertised window to `target` (the 3.1 session window at start, C3;
    /// capped at 2^31 − 1). Returns the delta to announce, which also returns any credit
    /// owed. A lower target is ignored: we never shrink a window we advertised (C91).
    pub(crate) fn raise_to(&mut self, target: u32) -> Option<u32> {
        let target = i64::from(target).min(MAX_WINDOW);
        if target <= self.target {
            return None;
        }
        let increase = target - self.target;
        self.target = target;
        self.remaining += increase;
        self.release_with(increase)
    }

    /// What the peer may still send.
    #[cfg(test)]
    pub(crate) fn remaining(&self) -> i64 {
        self.remaining
    }

    /// The window we maintain for the peer.
    #[cfg(test)]
    pub(crate) fn target(&self) -> i64 {
        self.target
    }

    /// Credit is returned once this much is owed: a quarter of the window, at least 1.
    fn threshold(&self) -> i64 {
        (self.target / self.batch_divisor).max(1)
    }

    /// Returns all owed credit.
    fn release(&mut self) -> Option<u32> {
        self.release_with(0)
    }

    /// Returns all owed credit plus `extra` already added to `remaining`.
    fn release_with(&mut self, extra: i64) -> Option<u32> {
        let delta = self.owed + extra;
        self.remaining += self.owed;
        self.owed = 0;
        debug_assert!(self.remaining <= self.target);
        // 1 ..= MAX_WINDOW by the invariants, so the conversion cannot fail.
        u32::try_from(delta).ok().filter(|&d| d > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spdy::session::priority::chunk_len;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    #[test]
    fn send_window_starts_at_the_initial_size_c71() {
        let w = SendWindow::new(65_536);
        assert_eq!(w.value(), 65_536);
        assert_eq!(w.available(), 65_536);
    }

    #[test]
    fn settings_cut_after_sending_makes_the_window_negative_c74() {
        let mut w = SendWindow::new(65_536);
        w.consume(60_000);
        assert_eq!(w.adjust(16_384 - 65_536), Ok(false));
        assert_eq!(w.value(), -43_616);
        assert_eq!(w.available(), 0);
        // A WINDOW_UPDATE that leaves it at or below zero does not open it.
        assert_eq!(w.grant(43_616), Ok(false));
        assert_eq!(w.value(), 0);
        assert_eq!(w.grant(1), Ok(true));
        assert_eq!(w.available(), 1);
    }

    #[test]
    fn settings_raise_reopens_a_blocked_stream_by_the_difference_c75() {
        let mut w = SendWindow::new(65_536);
        w.consume(65_536);
        assert_eq!(w.available(), 0);
        assert_eq!(w.adjust(1_048_576 - 65_536), Ok(true));
        assert_eq!(w.available(), 1_048_576 - 65_536);
        // Already open: a further raise is not an "opened" transition.
        assert_eq!(w.adjust(10), Ok(false));
    }

    #[test]
    fn window_update_above_2_31_minus_1_is_refused_and_changes_nothing_c77_c78() {
        let mut w = SendWindow::new(65_536);
        assert_eq!(w.grant(0x7fff_ffff - 65_536), Ok(false));
        assert_eq!(w.value(), MAX_WINDOW);
        assert_eq!(w.grant(1), Err(WindowError::Overflow));
        assert_eq!(w.value(), MAX_WINDOW);
        let mut w = SendWindow::new(65_536);
        assert_eq!(w.grant(u32::MAX), Err(WindowError::Overflow));
        assert_eq!(w.value(), 65_536);
    }

    #[test]
    fn window_update_with_delta_zero_is_refused_c79_c80() {
        let mut w = SendWindow::new(0);
        assert_eq!(w.grant(0), Err(WindowError::ZeroDelta));
        assert_eq!(w.value(), 0);
    }

    #[test]
    fn settings_delta_pushing_a_window_over_2_31_minus_1_is_refused_c90() {
        let mut w = SendWindow::new(65_536);
        assert_eq!(w.grant(0x7ffe_0000), Ok(false));
        let before = w.value();
        assert_eq!(w.adjust(0x7fff_ffff - 65_536), Err(WindowError::Overflow));
        assert_eq!(w.value(), before);
        // A negative delta on the same window is fine.
        assert_eq!(w.adjust(-65_536), Ok(false));
    }

    #[test]
    fn window_update_opens_only_on_the_transition_to_positive() {
        let mut w = SendWindow::new(100);
        assert_eq!(w.grant(5), Ok(false));
        w.consume(105);
        assert_eq!(w.grant(5), Ok(true));
        assert_eq!(w.grant(5), Ok(false));
    }

    #[test]
    fn initial_window_above_the_maximum_is_clamped() {
        assert_eq!(SendWindow::new(u32::MAX).value(), MAX_WINDOW);
        assert_eq!(RecvWindow::new(u32::MAX).remaining(), MAX_WINDOW);
    }

    #[test]
    fn data_longer_than_the_stream_receive_window_is_exceeded_c85() {
        let mut w = RecvWindow::new(65_536);
        assert_eq!(w.on_data(65_537), Err(WindowError::Exceeded));
        assert_eq!(w.remaining(), 65_536);
        assert_eq!(w.on_data(65_536), Ok(()));
        assert_eq!(w.on_data(1), Err(WindowError::Exceeded));
        // Zero-length DATA always fits.
        assert_eq!(w.on_data(0), Ok(()));
    }

    #[test]
    fn data_longer_than_the_session_receive_window_is_exceeded_c86() {
        let mut session = RecvWindow::new(65_536);
        for _ in 0..4 {
            session.on_data(16_384).unwrap();
        }
        assert_eq!(session.on_data(1), Err(WindowError::Exceeded));
    }

    #[test]
    fn dropped_frames_still_count_and_their_credit_comes_back_c87() {
        let mut session = RecvWindow::new(65_536);
        // 48 KiB of DATA for a reset stream: counted, then dropped and credited at once.
        let mut deltas = 0u64;
        for _ in 0..3 {
            session.on_data(16_384).unwrap();
            deltas += u64::from(session.on_consume(16_384).unwrap_or(0));
        }
        assert_eq!(deltas, 49_152);
        // The sender counted those bytes too, so its window is back at 65 536: a full
        // window of legitimate DATA must not trip C86.
        assert_eq!(session.on_data(65_536), Ok(()));
    }

    #[test]
    fn consuming_nothing_sends_no_update_c88() {
        let mut w = RecvWindow::new(65_536);
        w.on_data(1000).unwrap();
        assert_eq!(w.on_consume(0), None);
    }

    #[test]
    fn credit_is_batched_per_quarter_window_c88() {
        let mut w = RecvWindow::new(65_536);
        w.on_data(65_536).unwrap();
        let mut updates = Vec::new();
        for _ in 0..65_536 {
            if let Some(d) = w.on_consume(1) {
                updates.push(d);
            }
        }
        assert_eq!(updates, [16_384; 4]);
        assert_eq!(w.remaining(), 65_536);
    }

    #[test]
    fn an_empty_peer_window_always_gets_credit_once_everything_is_consumed() {
        // Whatever the consumption pattern, no deadlock: the peer is never left at 0
        // when nothing is buffered.
        for step in [1usize, 7, 1000, 16_383, 16_384, 40_000, 65_536] {
            let mut w = RecvWindow::new(65_536);
            w.on_data(65_536).unwrap();
            let mut left = 65_536usize;
            while left > 0 {
                let n = step.min(left);
                w.on_consume(n);
                left -= n;
            }
            assert!(w.remaining() > 0, "step {step}");
            assert!(w.remaining() >= 65_536 - 16_383, "step {step}");
        }
    }

    #[test]
    fn consuming_more_than_received_is_clamped() {
        let mut w = RecvWindow::new(65_536);
        w.on_data(20_000).unwrap();
        assert_eq!(w.on_consume(1_000_000), Some(20_000));
        assert_eq!(w.remaining(), 65_536);
        assert_eq!(w.on_consume(1_000_000), None);
    }

    #[test]
    fn session_window_is_raised_at_start_c3() {
        let mut w = RecvWindow::new(65_536);
        assert_eq!(w.raise_to(16 * 1024 * 1024), Some(16 * 1024 * 1024 - 65_536));
        assert_eq!(w.remaining(), 16 * 1024 * 1024);
        assert_eq!(w.target(), 16 * 1024 * 1024);
        // Never lowered, never re-announced (C91).
        assert_eq!(w.raise_to(65_536), None);
        assert_eq!(w.raise_to(16 * 1024 * 1024), None);
    }

    #[test]
    fn raising_to_the_maximum_is_capped_at_2_31_minus_1_c88() {
        let mut w = RecvWindow::new(65_536);
        assert_eq!(w.raise_to(u32::MAX), Some(0x7fff_ffff - 65_536));
        assert_eq!(w.remaining(), MAX_WINDOW);
    }

    #[test]
    fn raising_also_returns_owed_credit() {
        let mut w = RecvWindow::new(65_536);
        w.on_data(10_000).unwrap();
        assert_eq!(w.on_consume(10_000), None); // under a quarter
        assert_eq!(w.raise_to(100_000), Some(34_464 + 10_000));
        assert_eq!(w.remaining(), 100_000);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        /// C88 against a peer's-eye model: every delta is ≥ 1, the peer's window never
        /// exceeds 2^31 − 1 and always equals `remaining()`.
        #[test]
        fn updates_are_never_zero_and_never_overflow_the_peers_window_c88(
            initial in prop_oneof![Just(0u32), Just(65_536u32), 1u32..=0x7fff_ffff],
            ops in proptest::collection::vec((0u8..3, any::<u32>()), 1..200),
        ) {
            let mut w = RecvWindow::new(initial);
            let mut peer = i64::from(initial).min(MAX_WINDOW);
            let mut buffered = 0i64;
            for (kind, x) in ops {
                let delta = match kind {
                    0 => {
                        let len = (x as i64) % (peer + 1).max(1);
                        w.on_data(len as usize).unwrap();
                        peer -= len;
                        buffered += len;
                        None
                    }
                    1 => {
                        let len = (x as i64) % (buffered + 2);
                        buffered -= len.min(buffered);
                        w.on_consume(len as usize)
                    }
                    _ => w.raise_to(x),
                };
                if let Some(d) = delta {
                    prop_assert!(d >= 1);
                    peer += i64::from(d);
                }
                prop_assert!(peer <= MAX_WINDOW);
                prop_assert_eq!(peer, w.remaining());
            }
        }
    }

    /// Outcome of moving a body through one stream (and the 3.1 session window) on a
    /// simulated path.
    #[derive(Debug)]
    struct SimResult {
        data_frames: u64,
        window_updates: u64,
        /// Send slots in which the sender had data but a window of 0.
        stalls: u64,
        delivered: u64,
    }

    /// A sender that may put one `chunk` on the wire per tick, a one-way delay of
    /// `rtt / 2` ticks each way, and a receiver that consumes each DATA frame as soon as
    /// it arrives. Bandwidth-delay product = `chunk × rtt`.
    fn simulate(total: u64, window: u32, chunk: usize, rtt: u64, batch_divisor: i64) -> SimResult {
        let one_way = rtt / 2;
        let mut stream_send = SendWindow::new(window);
        let mut session_send = SendWindow::new(65_536);
        let mut stream_recv = RecvWindow::new(window);
        stream_recv.batch_divisor = batch_divisor;
        let mut session_recv = RecvWindow::new(65_536);
        session_recv.batch_divisor = batch_divisor;
        // C3: the receiver raises its session window at start; the update arrives at one_way.
        let mut updates: VecDeque<(u64, bool, u32)> = VecDeque::new(); // (arrival, session?, delta)
        if let Some(d) = session_recv.raise_to(1024 * 1024) {
            updates.push_back((one_way, true, d));
        }
        let mut data: VecDeque<(u64, usize)> = VecDeque::new();
        let mut r = SimResult { data_frames: 0, window_updates: 0, stalls: 0, delivered: 0 };
        let mut sent = 0u64;
        let mut now = 0u64;
        // Bound: even one frame per round trip would finish within this many ticks.
        let limit = (total / chunk as u64 + 2) * (rtt + 2) + 10;
        while r.delivered < total {
            assert!(now < limit, "simulation did not finish: {r:?}");
            while updates.front().is_some_and(|&(at, _, _)| at <= now) {
                let (_, session, delta) = updates.pop_front().unwrap();
                let w = if session { &mut session_send } else { &mut stream_send };
                w.grant(delta).unwrap();
            }
            while data.front().is_some_and(|&(at, _)| at <= now) {
                let (_, len) = data.pop_front().unwrap();
                stream_recv.on_data(len).unwrap();
                session_recv.on_data(len).unwrap();
                r.delivered += len as u64;
                for (session, w) in [(false, &mut stream_recv), (true, &mut session_recv)] {
                    if let Some(d) = w.on_consume(len) {
                        r.window_updates += 1;
                        updates.push_back((now + one_way, session, d));
                    }
                }
            }
            let pending = usize::try_from(total - sent).unwrap_or(usize::MAX);
            if pending > 0 {
                let n = chunk_len(chunk, pending, stream_send.value(), Some(session_send.value()));
                if n == 0 {
                    r.stalls += 1;
                } else {
                    stream_send.consume(n);
                    session_send.consume(n);
                    sent += n as u64;
                    r.data_frames += 1;
                    data.push_back((now + one_way, n));
                }
            }
            now += 1;
        }
        r
    }

    #[test]
    fn ten_mib_through_a_64k_window_never_stalls_and_updates_are_batched_c88() {
        // 4 KiB per tick, RTT 10 ticks: BDP 40 KiB, 5/8 of the 64 KiB stream window.
        let r = simulate(10 * 1024 * 1024, 65_536, 4096, 10, 4);
        assert_eq!(r.delivered, 10 * 1024 * 1024);
        assert_eq!(r.data_frames, 2560);
        assert_eq!(r.stalls, 0, "{r:?}");
        // Stream: one update per 16 KiB (640); session (1 MiB): one per 256 KiB (40).
        assert!(r.window_updates <= 700, "{r:?}");
        assert!(r.window_updates * 3 < r.data_frames, "{r:?}");
    }

    #[test]
    fn returning_credit_at_half_the_window_stalls_on_the_same_path() {
        // spdylay's policy (credit once half the window is consumed) on the path above:
        // 40 KiB in flight plus up to 28 KiB owed exceeds 64 KiB, so the sender stalls
        // every round trip. This is also what shows the stall counter above can fail.
        let r = simulate(1024 * 1024, 65_536, 4096, 10, 2);
        assert_eq!(r.delivered, 1024 * 1024);
        assert!(r.stalls >= 10, "{r:?}");
        // Lazier still (credit only once the whole window is consumed): far worse.
        let lazy = simulate(1024 * 1024, 65_536, 4096, 10, 1);
        assert!(lazy.stalls > r.stalls, "{lazy:?}");
    }

    #[test]
    fn a_window_smaller_than_the_path_stalls_but_still_finishes() {
        // BDP 128 KiB > 64 KiB window: stalls are inherent, but credit keeps flowing.
        let r = simulate(1024 * 1024, 65_536, 4096, 32, 4);
        assert_eq!(r.delivered, 1024 * 1024);
        assert!(r.stalls > 0, "{r:?}");
    }
}
