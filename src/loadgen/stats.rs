//! Per-worker counters and latency histograms, merged once at the end of a run.
//!
//! Exists so that the hot path only bumps plain integers and records into a thread-local
//! hdrhistogram (no atomics, no locks, no allocation per request). Workers hand their
//! [`Stats`] back when they finish and the main thread merges them. It refuses to format
//! anything: that is `report.rs`.

use hdrhistogram::Histogram;

/// Largest latency a histogram tracks: one hour in microseconds (larger values saturate).
const MAX_MICROS: u64 = 3_600_000_000;

/// A histogram of microseconds with 3 significant figures.
pub fn micros_histogram() -> Histogram<u64> {
    // Bounds are constants that hdrhistogram accepts (low 1, high > 2 * low, sigfig 3).
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("constant histogram bounds are valid")
}

/// Records `micros` (clamped into the histogram's range).
pub fn record(histogram: &mut Histogram<u64>, micros: u64) {
    histogram.saturating_record(micros.clamp(1, MAX_MICROS));
}

/// Counters of one worker (and, merged, of the run).
#[derive(Clone, Debug)]
pub struct Stats {
    /// Requests whose SYN_STREAM was queued (after the warm-up).
    pub started: u64,
    /// Requests whose stream finished: FIN received, reset, or lost with its connection.
    pub done: u64,
    /// Done with a 2xx or 3xx reply.
    pub succeeded: u64,
    /// Done with any other reply status.
    pub failed: u64,
    /// Done without a complete response: reset, or the connection failed.
    pub errored: u64,
    /// Of `errored`: the connection timed out (`-T`).
    pub timeout: u64,
    /// Replies by status class: index 1..=5 for 1xx..5xx, 0 for anything unparseable.
    pub status_classes: [u64; 6],
    /// SPDY bytes received (after TLS), frames included.
    pub bytes_total: u64,
    /// Decompressed name/value bytes of SYN_REPLY and HEADERS blocks.
    pub bytes_headers: u64,
    /// DATA payload bytes.
    pub bytes_data: u64,
    /// Request start (scheduled start with `--rate`) to the last byte of the response, µs.
    pub latency: Histogram<u64>,
    /// TCP connect (and TLS handshake) time per connection, µs.
    pub connect: Histogram<u64>,
    /// Connection start to the first byte of the first response, per connection, µs.
    pub first_byte: Histogram<u64>,
    /// Requests done per second of each connection slot, over its active time.
    pub client_rates: Vec<f64>,
    /// Connection attempts that failed (refused, reset, TLS or ALPN failure).
    pub connect_errors: u64,
    /// The first few distinct error messages, for the report.
    pub errors: Vec<String>,
}

/// Most distinct error messages kept per run.
const MAX_ERROR_MESSAGES: usize = 8;

impl Default for Stats {
    fn default() -> Self {
        Stats {
            started: 0,
            done: 0,
            succeeded: 0,
            failed: 0,
            errored: 0,
            timeout: 0,
            status_classes: [0; 6],
            bytes_total: 0,
            bytes_headers: 0,
            bytes_data: 0,
            latency: micros_histogram(),
            connect: micros_histogram(),
            first_byte: micros_histogram(),
            client_rates: Vec::new(),
            connect_errors: 0,
            errors: Vec::new(),
        }
    }
}

impl Stats {
    /// A reply with `status` finished normally after `micros`.
    pub fn record_response(&mut self, status: u16, micros: u64) {
        self.done += 1;
        let class = usize::from(status / 100);
        if (1..=5).contains(&class) {
            self.status_classes[class] += 1;
        } else {
            self.status_classes[0] += 1;
        }
        if (200..400).contains(&status) {
            self.succeeded += 1;
        } else {
            self.failed += 1;
        }
        record(&mut self.latency, micros);
    }

    /// A request ended without a complete response.
    pub fn record_error(&mut self, timed_out: bool) {
        self.done += 1;
        self.errored += 1;
        self.timeout += u64::from(timed_out);
    }

    /// Keeps `message` if it is new and there is room.
    pub fn note_error(&mut self, message: String) {
        if self.errors.len() < MAX_ERROR_MESSAGES && !self.errors.contains(&message) {
            self.errors.push(message);
        }
    }

    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &Stats) {
        self.started += other.started;
        self.done += other.done;
        self.succeeded += other.succeeded;
        self.failed += other.failed;
        self.errored += other.errored;
        self.timeout += other.timeout;
        for (mine, theirs) in self.status_classes.iter_mut().zip(other.status_classes) {
            *mine += theirs;
        }
        self.bytes_total += other.bytes_total;
        self.bytes_headers += other.bytes_headers;
        self.bytes_data += other.bytes_data;
        // Same bounds on both sides: add cannot fail.
        let _ = self.latency.add(&other.latency);
        let _ = self.connect.add(&other.connect);
        let _ = self.first_byte.add(&other.first_byte);
        self.client_rates.extend_from_slice(&other.client_rates);
        self.connect_errors += other.connect_errors;
        for message in &other.errors {
            self.note_error(message.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_are_classified_by_status_class() {
        let mut s = Stats::default();
        s.record_response(200, 100);
        s.record_response(304, 100);
        s.record_response(404, 100);
        s.record_response(503, 100);
        s.record_response(0, 100);
        s.record_error(false);
        s.record_error(true);
        assert_eq!((s.done, s.succeeded, s.failed, s.errored, s.timeout), (7, 2, 3, 2, 1));
        assert_eq!(s.status_classes, [1, 0, 1, 1, 1, 1]);
        assert_eq!(s.latency.len(), 5);
    }

    #[test]
    fn merge_adds_counters_histograms_and_keeps_errors_distinct() {
        let mut a = Stats { started: 3, ..Stats::default() };
        a.record_response(200, 10);
        a.note_error("refused".into());
        let mut b = Stats { started: 2, ..Stats::default() };
        b.record_response(500, 1000);
        b.note_error("refused".into());
        b.note_error("reset".into());
        b.client_rates.push(5.0);
        a.merge(&b);
        assert_eq!((a.started, a.done, a.succeeded, a.failed), (5, 2, 1, 1));
        assert_eq!(a.latency.len(), 2);
        assert_eq!(a.latency.max(), b.latency.max());
        assert_eq!(a.errors, vec!["refused".to_string(), "reset".to_string()]);
        assert_eq!(a.client_rates, vec![5.0]);
    }

    #[test]
    fn out_of_range_latencies_saturate_instead_of_failing() {
        let mut h = micros_histogram();
        record(&mut h, 0);
        record(&mut h, u64::MAX);
        assert_eq!(h.len(), 2);
        assert_eq!(h.min(), 1);
        assert!(h.max() >= MAX_MICROS);
    }
}
