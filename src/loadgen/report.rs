//! The end-of-run report: h2load's text layout, or the same figures as one JSON object.
//!
//! Exists so that the numbers are computed once ([`Report::new`], from merged [`Stats`])
//! and rendered twice without drift between the text and `--json`. It adds the one figure
//! h2load lacks: the load generator's own CPU time per request, so that a demo can show
//! the generator is not the bottleneck. It refuses to measure anything itself.

use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::stats::Stats;

/// Process CPU time (getrusage RUSAGE_SELF) spent during the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct CpuTime {
    pub user_s: f64,
    pub system_s: f64,
}

/// Distribution figures, in microseconds (h2load's min/max/mean/sd/+-sd columns).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    pub count: u64,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    pub sd: f64,
    /// Share of samples within mean ± sd, in percent.
    pub within_sd_pct: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p99_9: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Requests {
    /// `-n`, or `null` with `-D`.
    pub total: Option<u64>,
    pub started: u64,
    pub done: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub errored: u64,
    pub timeout: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StatusCodes {
    #[serde(rename = "1xx")]
    pub s1xx: u64,
    #[serde(rename = "2xx")]
    pub s2xx: u64,
    #[serde(rename = "3xx")]
    pub s3xx: u64,
    #[serde(rename = "4xx")]
    pub s4xx: u64,
    #[serde(rename = "5xx")]
    pub s5xx: u64,
    pub other: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Traffic {
    pub total_bytes: u64,
    pub header_bytes: u64,
    pub data_bytes: u64,
}

/// Everything printed at the end of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Report {
    pub protocol: String,
    /// Wall time of the measured part of the run (after the warm-up), seconds.
    pub elapsed_s: f64,
    pub req_per_s: f64,
    pub mb_per_s: f64,
    pub requests: Requests,
    pub status_codes: StatusCodes,
    pub traffic: Traffic,
    pub latency_us: Summary,
    pub latency_percentiles_us: Percentiles,
    pub connect_us: Summary,
    pub first_byte_us: Summary,
    /// Requests per second per connection slot.
    pub client_req_per_s: Summary,
    pub connect_errors: u64,
    pub errors: Vec<String>,
    pub cpu: CpuTime,
    /// spdyload's own CPU (user + system) per done request, microseconds.
    pub cpu_us_per_request: f64,
}

fn summary(h: &Histogram<u64>) -> Summary {
    if h.is_empty() {
        return Summary::default();
    }
    let (mean, sd) = (h.mean(), h.stdev());
    let within: u64 = h
        .iter_recorded()
        .filter(|v| {
            let x = v.value_iterated_to() as f64;
            x >= mean - sd && x <= mean + sd
        })
        .map(|v| v.count_at_value())
        .sum();
    Summary {
        count: h.len(),
        min: h.min() as f64,
        max: h.max() as f64,
        mean,
        sd,
        within_sd_pct: 100.0 * within as f64 / h.len() as f64,
    }
}

fn summary_of(values: &[f64]) -> Summary {
    if values.is_empty() {
        return Summary::default();
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    let within = values.iter().filter(|v| **v >= mean - sd && **v <= mean + sd).count();
    Summary {
        count: values.len() as u64,
        min: values.iter().copied().fold(f64::INFINITY, f64::min),
        max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        mean,
        sd,
        within_sd_pct: 100.0 * within as f64 / n,
    }
}

impl Report {
    pub fn new(protocol: &str, total: Option<u64>, stats: &Stats, elapsed: Duration, cpu: CpuTime) -> Report {
        let secs = elapsed.as_secs_f64().max(1e-9);
        let h = &stats.latency;
        let q = |quantile: f64| if h.is_empty() { 0 } else { h.value_at_quantile(quantile) };
        let c = &stats.status_classes;
        Report {
            protocol: protocol.to_string(),
            elapsed_s: elapsed.as_secs_f64(),
            req_per_s: stats.done as f64 / secs,
            mb_per_s: stats.bytes_total as f64 / secs / (1024.0 * 1024.0),
            requests: Requests {
                total,
                started: stats.started,
                done: stats.done,
                succeeded: stats.succeeded,
                failed: stats.failed,
                errored: stats.errored,
                timeout: stats.timeout,
            },
            status_codes: StatusCodes { s1xx: c[1], s2xx: c[2], s3xx: c[3], s4xx: c[4], s5xx: c[5], other: c[0] },
            traffic: Traffic {
                total_bytes: stats.bytes_total,
                header_bytes: stats.bytes_headers,
                data_bytes: stats.bytes_data,
            },
            latency_us: summary(h),
            latency_percentiles_us: Percentiles { p50: q(0.5), p90: q(0.9), p99: q(0.99), p99_9: q(0.999) },
            connect_us: summary(&stats.connect),
            first_byte_us: summary(&stats.first_byte),
            client_req_per_s: summary_of(&stats.client_rates),
            connect_errors: stats.connect_errors,
            errors: stats.errors.clone(),
            cpu,
            cpu_us_per_request: (cpu.user_s + cpu.system_s) * 1e6 / stats.done.max(1) as f64,
        }
    }

    pub fn to_json(&self) -> String {
        // Every field is a number, a string or a list of them: serialization cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// h2load's layout, plus percentile and CPU lines.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let r = &self.requests;
        let total = r.total.map_or_else(|| r.started.to_string(), |t| t.to_string());
        let _ = writeln!(
            s,
            "finished in {}, {:.2} req/s, {}/s",
            seconds(self.elapsed_s),
            self.req_per_s,
            bytes_unit(self.mb_per_s * 1024.0 * 1024.0)
        );
        let _ = writeln!(
            s,
            "requests: {total} total, {} started, {} done, {} succeeded, {} failed, {} errored, {} timeout",
            r.started, r.done, r.succeeded, r.failed, r.errored, r.timeout
        );
        let c = &self.status_codes;
        let _ = writeln!(s, "status codes: {} 2xx, {} 3xx, {} 4xx, {} 5xx", c.s2xx, c.s3xx, c.s4xx, c.s5xx);
        let t = &self.traffic;
        let _ = writeln!(
            s,
            "traffic: {} ({}) total, {} ({}) headers (decompressed), {} ({}) data",
            bytes_unit(t.total_bytes as f64),
            t.total_bytes,
            bytes_unit(t.header_bytes as f64),
            t.header_bytes,
            bytes_unit(t.data_bytes as f64),
            t.data_bytes
        );
        let _ = writeln!(s, "                     min         max         mean         sd        +/- sd");
        for (label, m) in
            [("time for request:", &self.latency_us), ("time for connect:", &self.connect_us), ("time to 1st byte:", &self.first_byte_us)]
        {
            let _ = writeln!(
                s,
                "{label} {:>10}  {:>10}  {:>10}  {:>10}  {:>10.2}%",
                micros(m.min),
                micros(m.max),
                micros(m.mean),
                micros(m.sd),
                m.within_sd_pct
            );
        }
        let m = &self.client_req_per_s;
        let _ = writeln!(
            s,
            "req/s           : {:>10.2}  {:>10.2}  {:>10.2}  {:>10.2}  {:>10.2}%",
            m.min, m.max, m.mean, m.sd, m.within_sd_pct
        );
        let p = &self.latency_percentiles_us;
        let _ = writeln!(
            s,
            "latency percentiles: p50 {}, p90 {}, p99 {}, p99.9 {}",
            micros(p.p50 as f64),
            micros(p.p90 as f64),
            micros(p.p99 as f64),
            micros(p.p99_9 as f64)
        );
        let _ = writeln!(
            s,
            "cpu: {:.2}us per request (user {:.3}s, system {:.3}s)",
            self.cpu_us_per_request, self.cpu.user_s, self.cpu.system_s
        );
        if self.connect_errors > 0 || !self.errors.is_empty() {
            let _ = writeln!(s, "errors: {} connection failures; {}", self.connect_errors, self.errors.join("; "));
        }
        s
    }
}

/// h2load-style duration: `850us`, `1.25ms`, `2.00s`.
fn micros(us: f64) -> String {
    if us < 1000.0 {
        format!("{us:.0}us")
    } else if us < 1_000_000.0 {
        format!("{:.2}ms", us / 1000.0)
    } else {
        format!("{:.2}s", us / 1e6)
    }
}

fn seconds(s: f64) -> String {
    if s < 1.0 {
        format!("{:.2}ms", s * 1000.0)
    } else {
        format!("{s:.2}s")
    }
}

/// h2load-style byte count: `512B`, `1.50KB`, `2.00MB`, `1.00GB` (binary units).
fn bytes_unit(bytes: f64) -> String {
    const K: f64 = 1024.0;
    if bytes < K {
        format!("{bytes:.0}B")
    } else if bytes < K * K {
        format!("{:.2}KB", bytes / K)
    } else if bytes < K * K * K {
        format!("{:.2}MB", bytes / (K * K))
    } else {
        format!("{:.2}GB", bytes / (K * K * K))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1000 requests: 900 at 100 µs, 90 at 1 ms, 9 at 10 ms, 1 at 100 ms.
    fn synthetic() -> Stats {
        let mut s = Stats { started: 1000, ..Stats::default() };
        for (count, us) in [(900, 100), (90, 1000), (9, 10_000), (1, 100_000)] {
            for _ in 0..count {
                s.record_response(200, us);
            }
        }
        s.bytes_total = 2 * 1024 * 1024;
        s.bytes_headers = 30_000;
        s.bytes_data = 2_000_000;
        super::super::stats::record(&mut s.connect, 250);
        super::super::stats::record(&mut s.first_byte, 1500);
        s.client_rates = vec![400.0, 600.0];
        s
    }

    fn report() -> Report {
        Report::new("spdy/3.1", Some(1000), &synthetic(), Duration::from_secs(2), CpuTime { user_s: 0.003, system_s: 0.001 })
    }

    #[test]
    fn percentiles_come_from_the_histogram() {
        let p = report().latency_percentiles_us;
        // hdrhistogram with 3 significant figures reports the top of the bucket.
        assert!((100..=101).contains(&p.p50), "{p:?}");
        assert!((1000..=1001).contains(&p.p99), "{p:?}");
        assert!((10_000..=10_010).contains(&p.p99_9), "{p:?}");
        let r = report();
        assert_eq!(r.latency_us.count, 1000);
        assert!((r.latency_us.max - 100_000.0).abs() <= 100.0);
    }

    #[test]
    fn rates_and_cpu_per_request_follow_from_counts_and_elapsed() {
        let r = report();
        assert_eq!(r.req_per_s, 500.0);
        assert_eq!(r.mb_per_s, 1.0);
        assert!((r.cpu_us_per_request - 4.0).abs() < 1e-9);
        assert_eq!(r.client_req_per_s.mean, 500.0);
        assert_eq!(r.client_req_per_s.sd, 100.0);
        assert_eq!(r.client_req_per_s.within_sd_pct, 100.0);
    }

    #[test]
    fn text_report_has_the_h2load_lines() {
        let text = report().to_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "finished in 2.00s, 500.00 req/s, 1.00MB/s");
        assert_eq!(lines[1], "requests: 1000 total, 1000 started, 1000 done, 1000 succeeded, 0 failed, 0 errored, 0 timeout");
        assert_eq!(lines[2], "status codes: 1000 2xx, 0 3xx, 0 4xx, 0 5xx");
        assert_eq!(lines[3], "traffic: 2.00MB (2097152) total, 29.30KB (30000) headers (decompressed), 1.91MB (2000000) data");
        assert!(lines[4].contains("min") && lines[4].contains("+/- sd"));
        assert!(lines[5].starts_with("time for request:"), "{}", lines[5]);
        // min 100 µs; max is the top of hdrhistogram's 100 ms bucket (3 significant figures).
        assert!(lines[5].contains("100us") && lines[5].contains("100.03ms"), "{}", lines[5]);
        assert!(lines[6].starts_with("time for connect:") && lines[6].contains("250us"), "{}", lines[6]);
        assert!(lines[7].starts_with("time to 1st byte:") && lines[7].contains("1.50ms"), "{}", lines[7]);
        assert!(lines[8].starts_with("req/s           :"));
        assert!(lines[9].starts_with("latency percentiles: p50 100us, p90 100us, p99 1.00ms, p99.9 10.0"), "{}", lines[9]);
        assert_eq!(lines[10], "cpu: 4.00us per request (user 0.003s, system 0.001s)");
    }

    #[test]
    fn json_report_carries_the_same_figures() {
        let v: serde_json::Value = serde_json::from_str(&report().to_json()).unwrap();
        assert_eq!(v["requests"]["done"], 1000);
        assert_eq!(v["requests"]["succeeded"], 1000);
        assert_eq!(v["requests"]["total"], 1000);
        assert_eq!(v["status_codes"]["2xx"], 1000);
        assert_eq!(v["req_per_s"], 500.0);
        assert_eq!(v["protocol"], "spdy/3.1");
        assert!(v["latency_percentiles_us"]["p99_9"].as_u64().unwrap() >= 10_000);
    }

    #[test]
    fn an_empty_run_reports_zeros_not_nan() {
        let r = Report::new("spdy/2", None, &Stats::default(), Duration::ZERO, CpuTime::default());
        assert_eq!(r.latency_us, Summary::default());
        assert_eq!(r.req_per_s, 0.0);
        assert!(r.to_json().contains("\"total\":null"));
        assert!(r.to_text().starts_with("finished in 0.00ms"));
    }
}
