//! Flood counters for the abuse limits of CONFORMANCE §B and §C (cancels, no-progress
//! frames, SETTINGS per second, invalid-stream frames, the cancelled-stream ratio).
//!
//! In the style of nghttp2's `nghttp2_ratelim`, time is an argument: nothing here reads a
//! clock, so tests replay exact timelines. The counters only say "exceeded"; the session
//! decides the reaction (GOAWAY(1)+close, or GOAWAY(0) for the stream budget). Memory per
//! counter is fixed and small: no per-event storage, no allocation.

use std::time::{Duration, Instant};

/// Sub-buckets per window. More buckets tighten the guarantee below at 4 bytes each.
const BUCKETS: usize = 10;

/// A flood limit was exceeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Exceeded;

/// Counts events in a sliding window made of `BUCKETS` fixed sub-intervals; `record`
/// fails once more than `max` events fall within the window.
///
/// Precisely: the count covers the current sub-interval and the `BUCKETS − 1` before it,
/// a span between `(BUCKETS − 1)/BUCKETS × window` and `window` long. So
/// * no false alarm: a trip means more than `max` events really happened within at most
///   `window` (e.g. 100 cancels spread over 11 s never trip a 100-per-10 s limit);
/// * no escape: more than `max` events within `0.9 × window` always trip.
///
/// An exact sliding log would need `max` timestamps per counter per session (16 KB for
/// 1 000 events); the bucket ring is 40 bytes and errs only in the last tenth.
#[derive(Debug)]
pub(crate) struct FloodCounter {
    max: u32,
    /// Length of one sub-interval, in nanoseconds. Invariant: ≥ 1.
    bucket_nanos: u128,
    /// Set by the first event; sub-interval numbers count from it.
    origin: Option<Instant>,
    /// Number of the sub-interval the latest event fell in.
    current: u128,
    /// Events per sub-interval, indexed by sub-interval number modulo `BUCKETS`.
    /// Invariant: slots older than `BUCKETS − 1` sub-intervals before `current` are 0.
    counts: [u32; BUCKETS],
    /// Sum of `counts`.
    total: u32,
}

impl FloodCounter {
    /// At most `max` events per `window`. A zero window counts each nanosecond on its own.
    pub(crate) fn new(max: u32, window: Duration) -> Self {
        FloodCounter {
            max,
            bucket_nanos: (window.as_nanos() / BUCKETS as u128).max(1),
            origin: None,
            current: 0,
            counts: [0; BUCKETS],
            total: 0,
        }
    }

    /// One event at `now`. `Err(Exceeded)` while more than `max` events are in the
    /// window, this one included (it keeps failing for as long as the flood lasts). A
    /// `now` earlier than a previous one counts as the latest sub-interval.
    pub(crate) fn record(&mut self, now: Instant) -> Result<(), Exceeded> {
        let origin = *self.origin.get_or_insert(now);
        let tick = now.saturating_duration_since(origin).as_nanos() / self.bucket_nanos;
        self.advance(tick);
        let slot = (self.current % BUCKETS as u128) as usize;
        self.counts[slot] = self.counts[slot].saturating_add(1);
        self.total = self.total.saturating_add(1);
        if self.total > self.max {
            Err(Exceeded)
        } else {
            Ok(())
        }
    }

    /// Events in the window as of the latest `record`.
    #[cfg(test)]
    pub(crate) fn count(&self) -> u32 {
        self.total
    }

    /// Moves the window forward to sub-interval `tick`, forgetting what fell out of it.
    fn advance(&mut self, tick: u128) {
        if tick <= self.current {
            return;
        }
        if tick - self.current >= BUCKETS as u128 {
            self.counts = [0; BUCKETS];
            self.total = 0;
        } else {
            for t in self.current + 1..=tick {
                let slot = (t % BUCKETS as u128) as usize;
                self.total -= self.counts[slot];
                self.counts[slot] = 0;
            }
        }
        self.current = tick;
    }
}

/// Of the last `capacity` outcomes, how many were hits: "more than half of the last 200
/// streams cancelled before a response" (CONFORMANCE B4, Rapid Reset). Counts outcomes,
/// not time, so a slow client that cancels most of what it opens is caught too.
#[derive(Debug)]
pub(crate) struct RecentShare {
    /// Ring of outcome bits, oldest overwritten. Invariant: only the first `capacity`
    /// bits are used.
    bits: [u64; 4],
    capacity: u16,
    /// Next bit to write.
    head: u16,
    /// Outcomes recorded so far, up to `capacity`.
    filled: u16,
    /// Set bits among the recorded outcomes.
    hits: u16,
    max_hits: u16,
}

impl RecentShare {
    /// Remembers the last `capacity` (1 ..= 256, clamped) outcomes; more than `max_hits`
    /// hits among them is exceeded.
    pub(crate) fn new(capacity: u16, max_hits: u16) -> Self {
        RecentShare { bits: [0; 4], capacity: capacity.clamp(1, 256), head: 0, filled: 0, hits: 0, max_hits }
    }

    /// Records one outcome (`hit`: the stream was cancelled before its response).
    pub(crate) fn record(&mut self, hit: bool) -> Result<(), Exceeded> {
        let (word, bit) = (usize::from(self.head / 64), self.head % 64);
        if self.filled == self.capacity {
            self.hits -= u16::from(self.bits[word] >> bit & 1 == 1);
        } else {
            self.filled += 1;
        }
        self.bits[word] = self.bits[word] & !(1 << bit) | u64::from(hit) << bit;
        self.hits += u16::from(hit);
        self.head = (self.head + 1) % self.capacity;
        if self.hits > self.max_hits {
            Err(Exceeded)
        } else {
            Ok(())
        }
    }

    #[cfg(test)]
    pub(crate) fn hits(&self) -> u16 {
        self.hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t0: Instant, millis: u64) -> Instant {
        t0 + Duration::from_millis(millis)
    }

    #[test]
    fn one_hundred_and_one_cancels_within_ten_seconds_trip_b4() {
        let t0 = crate::testing::epoch();
        let mut c = FloodCounter::new(100, Duration::from_secs(10));
        for i in 0..100 {
            assert_eq!(c.record(at(t0, i * 89)), Ok(()), "event {i}");
        }
        assert_eq!(c.record(at(t0, 8_900)), Err(Exceeded));
        assert_eq!(c.count(), 101);
        // It keeps failing while the flood lasts.
        assert_eq!(c.record(at(t0, 8_950)), Err(Exceeded));
    }

    #[test]
    fn one_hundred_and_one_cancels_spread_over_eleven_seconds_do_not_trip() {
        let t0 = crate::testing::epoch();
        let mut c = FloodCounter::new(100, Duration::from_secs(10));
        // One every 110 ms, the last at 11 s: no 10 s span holds more than 91.
        for i in 0..101 {
            assert_eq!(c.record(at(t0, i * 110)), Ok(()), "event {i}");
        }
        assert!(c.count() <= 91);
    }

    #[test]
    fn a_steady_rate_just_under_the_limit_never_trips() {
        let t0 = crate::testing::epoch();
        // 100 per 10 s allowed; one every 101 ms for 10 minutes.
        let mut c = FloodCounter::new(100, Duration::from_secs(10));
        for i in 0..6_000 {
            assert_eq!(c.record(at(t0, i * 101)), Ok(()), "event {i}");
        }
        assert!(c.count() <= 100);
    }

    #[test]
    fn a_burst_straddling_sub_intervals_trips() {
        let t0 = crate::testing::epoch();
        let mut c = FloodCounter::new(100, Duration::from_secs(10));
        for _ in 0..60 {
            c.record(at(t0, 999)).unwrap();
        }
        for _ in 0..40 {
            c.record(at(t0, 1_001)).unwrap();
        }
        assert_eq!(c.record(at(t0, 1_002)), Err(Exceeded));
    }

    #[test]
    fn old_events_leave_the_window() {
        let t0 = crate::testing::epoch();
        let mut c = FloodCounter::new(100, Duration::from_secs(10));
        for _ in 0..100 {
            c.record(t0).unwrap();
        }
        assert_eq!(c.record(at(t0, 5_000)), Err(Exceeded));
        // 10 s later the first burst has left; only the one event from 5 s is left.
        assert_eq!(c.record(at(t0, 10_000)), Ok(()));
        assert_eq!(c.count(), 2);
        assert_eq!(c.record(at(t0, 60_000)), Ok(()));
        assert_eq!(c.count(), 1);
    }

    #[test]
    fn eleven_settings_in_one_second_trip_ten_per_second_b7() {
        let t0 = crate::testing::epoch();
        let mut c = FloodCounter::new(10, Duration::from_secs(1));
        for i in 0..10 {
            c.record(at(t0, i * 50)).unwrap();
        }
        assert_eq!(c.record(at(t0, 500)), Err(Exceeded));
        // Ten a second for a minute is fine.
        let mut c = FloodCounter::new(10, Duration::from_secs(1));
        for i in 0..600 {
            assert_eq!(c.record(at(t0, i * 100)), Ok(()), "frame {i}");
        }
    }

    #[test]
    fn one_thousand_and_one_no_progress_frames_trip_b8() {
        let t0 = crate::testing::epoch();
        let mut c = FloodCounter::new(1000, Duration::from_secs(10));
        for _ in 0..1000 {
            c.record(t0).unwrap();
        }
        assert_eq!(c.record(t0), Err(Exceeded));
    }

    #[test]
    fn time_going_backwards_counts_in_the_latest_interval() {
        let t0 = crate::testing::epoch();
        let mut c = FloodCounter::new(2, Duration::from_secs(10));
        c.record(at(t0, 5_000)).unwrap();
        c.record(t0).unwrap();
        assert_eq!(c.record(at(t0, 4_000)), Err(Exceeded));
    }

    #[test]
    fn a_zero_window_still_counts() {
        let t0 = crate::testing::epoch();
        let mut c = FloodCounter::new(1, Duration::ZERO);
        c.record(t0).unwrap();
        assert_eq!(c.record(t0), Err(Exceeded));
        assert_eq!(c.record(at(t0, 1)), Ok(()));
    }

    #[test]
    fn more_than_half_of_the_last_200_streams_cancelled_trips_b4() {
        let mut r = RecentShare::new(200, 100);
        for i in 0..200 {
            r.record(i % 2 == 0).unwrap(); // exactly half
        }
        assert_eq!(r.hits(), 100);
        // The oldest (a hit) leaves as a new hit arrives: still 100.
        assert_eq!(r.record(true), Ok(()));
        // The oldest (a miss) leaves as another hit arrives: 101 of 200.
        assert_eq!(r.record(true), Err(Exceeded));
    }

    #[test]
    fn cancels_among_many_completed_streams_do_not_trip() {
        let mut r = RecentShare::new(200, 100);
        for i in 0..10_000 {
            assert_eq!(r.record(i % 3 == 0), Ok(()), "stream {i}");
        }
        assert!(r.hits() <= 67);
    }
}
