//! spdyload: an h2load-class SPDY load generator on the same sans-IO session and io_uring
//! runtime as the gateway.
//!
//! Exists to measure spdygate (or any SPDY server) without the load generator becoming the
//! bottleneck: thread per core, one ring per thread, the client-role [`crate::spdy::Session`]
//! per connection, plain counters and hdrhistograms merged once at the end. It is wiring, so
//! it reads clocks; it refuses to put protocol logic here (that is the session's job).
//!
//! `plan` (flags → what to send) → `worker` (one pinned thread, its ring, its `client`s) →
//! `stats` (merged) → `report` (h2load text or JSON).

pub mod client;
pub mod plan;
pub mod report;
pub mod stats;
pub mod worker;

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

pub use plan::{Args, Plan, PlanError};
pub use report::{CpuTime, Report};
pub use stats::Stats;

/// Runs `plan` to the end and returns the report. Live progress goes to stderr when it is
/// a terminal and the run lasts more than a few seconds.
pub fn run(plan: Plan) -> Result<Report, String> {
    let tls = if plan.target.tls { Some(client::tls_config(&plan)?) } else { None };
    let plan = Arc::new(plan);
    let cpu_before = process_cpu_time();
    let start = Instant::now();
    let measure_from = start + plan.warm_up;
    let clock = worker::Clock { start, measure_from, end: plan.duration.map(|d| measure_from + d) };
    let progress: Arc<Vec<AtomicU64>> = Arc::new((0..plan.threads).map(|_| AtomicU64::new(0)).collect());
    let (done_tx, done_rx) = mpsc::channel();
    let mut handles = Vec::new();
    for index in 0..plan.threads {
        let (plan, tls, progress, done_tx) = (Arc::clone(&plan), tls.clone(), Arc::clone(&progress), done_tx.clone());
        let handle = thread::Builder::new()
            .name(format!("spdyload-{index}"))
            .spawn(move || {
                let result = worker::run(index, &plan, tls, clock, &progress[index as usize]);
                let _ = done_tx.send(());
                result
            })
            .map_err(|e| format!("spawning worker {index}: {e}"))?;
        handles.push(handle);
    }
    drop(done_tx);

    let live = plan.progress && std::io::stderr().is_terminal();
    let mut finished_workers = 0;
    let mut printed = false;
    while finished_workers < handles.len() {
        match done_rx.recv_timeout(Duration::from_secs(1)) {
            Ok(()) => finished_workers += 1,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        let elapsed = start.elapsed();
        if live && elapsed >= Duration::from_secs(3) {
            let done: u64 = progress.iter().map(|p| p.load(Ordering::Relaxed)).sum();
            let measured = Instant::now().saturating_duration_since(measure_from).as_secs_f64();
            let rate = if measured > 0.0 { done as f64 / measured } else { 0.0 };
            let total = plan.requests.map_or_else(String::new, |n| format!("/{n}"));
            let _ = write!(std::io::stderr(), "\rprogress: {done}{total} done, {rate:.0} req/s, {:.0}s   ", elapsed.as_secs_f64());
            printed = true;
        }
    }
    if printed {
        let _ = writeln!(std::io::stderr());
    }

    let mut stats = Stats::default();
    let mut last = measure_from;
    for (index, handle) in handles.into_iter().enumerate() {
        match handle.join() {
            Ok(Ok(result)) => {
                stats.merge(&result.stats);
                last = last.max(result.finished);
            }
            Ok(Err(e)) => return Err(format!("worker {index}: {e}")),
            Err(_) => return Err(format!("worker {index} panicked")),
        }
    }
    let cpu_after = process_cpu_time();
    let cpu = CpuTime { user_s: cpu_after.user_s - cpu_before.user_s, system_s: cpu_after.system_s - cpu_before.system_s };
    let elapsed = last.saturating_duration_since(measure_from);
    Ok(Report::new(&plan.version.to_string(), plan.requests, &stats, elapsed, cpu))
}

/// User and system CPU time of the whole process so far (getrusage RUSAGE_SELF).
pub fn process_cpu_time() -> CpuTime {
    // Safety: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // Safety: `usage` is a valid, writable rusage; RUSAGE_SELF is always accepted.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    if rc != 0 {
        return CpuTime::default();
    }
    let secs = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    CpuTime { user_s: secs(usage.ru_utime), system_s: secs(usage.ru_stime) }
}
