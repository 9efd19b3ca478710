//! One pinned worker thread: its own io_uring driving its share of the connections.
//!
//! Exists so that the load generator scales like the gateway it measures: thread per core,
//! nothing shared between workers on the hot path except one relaxed progress counter.
//! The loop is the runtime's completion loop; requests start either closed-loop (each
//! connection keeps `-m` streams in flight) or open-loop on a fixed schedule (`--rate`),
//! where a request that finds no free stream waits in a backlog *with its scheduled start
//! time*, so queueing shows up in the latency instead of being omitted. With
//! `--rate-mode connections` the schedule releases connection slots instead (h2load -r).

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ClientConfig;

use super::client::{Client, Ctx};
use super::plan::Plan;
use super::stats::Stats;
use crate::runtime::{cpu, BufRingConfig, Completion, Key, OpKind, Ring, RingConfig, Token};
use crate::spdy::header::HeaderBlock;

const TAG_TICK: u8 = 10;
const TAG_RATE: u8 = 11;
const TAG_CONNECTION_RATE: u8 = 12;
/// Housekeeping period: duration end, inactivity and session timers, progress.
const TICK: Duration = Duration::from_millis(100);

/// Times shared by every worker of a run.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    pub start: Instant,
    /// End of the warm-up: requests finishing before are not counted.
    pub measure_from: Instant,
    /// End of `-D`, if any.
    pub end: Option<Instant>,
}

/// What a worker hands back.
pub struct WorkerResult {
    pub stats: Stats,
    /// When its last request finished (or it stopped).
    pub finished: Instant,
}

/// The open-loop schedule of one worker.
struct Schedule {
    interval: Duration,
    next: Instant,
    /// Requests still to schedule (`None`: until the end of `-D`).
    remaining: Option<u64>,
    /// Scheduled starts waiting for a free stream, oldest first.
    backlog: VecDeque<Instant>,
    armed: bool,
    rr: usize,
}

/// Runs worker `index` of `plan` to completion on the calling thread.
pub fn run(
    index: u32,
    plan: &Plan,
    tls: Option<Arc<ClientConfig>>,
    clock: Clock,
    progress: &AtomicU64,
) -> io::Result<WorkerResult> {
    let cores = cpu::cores();
    if !cores.is_empty() {
        cpu::pin(cores[index as usize % cores.len()]);
    }
    let mut ring = Ring::new(RingConfig::default())?;
    let group = ring.add_buf_ring(BufRingConfig::default())?;
    let templates: Vec<Arc<HeaderBlock>> = (0..plan.paths.len()).map(|i| Arc::new(plan.header_block(i))).collect();
    let mut stats = Stats::default();
    let now = Instant::now();
    let rate_mode = plan.open_loop();
    let connection_rate = plan.rate.is_some() && !rate_mode;
    let mut clients: Vec<Client> = plan
        .connections_of(index)
        .enumerate()
        .map(|(slot, conn)| {
            let quota = if rate_mode { None } else { plan.requests_of_connection(conn) };
            let mut client = Client::new(slot as u32, quota, plan, now);
            client.held = connection_rate;
            client
        })
        .collect();
    // --rate-mode connections: connection slots are released on this schedule.
    let mut connection_schedule = plan
        .rate_of_worker(index)
        .filter(|_| connection_rate)
        .map(|rate| (Duration::from_secs_f64(1.0 / rate), clock.start, 0usize, false));
    let mut schedule = plan.rate_of_worker(index).filter(|_| rate_mode).map(|rate| Schedule {
        interval: Duration::from_secs_f64(1.0 / rate),
        next: clock.start,
        remaining: plan.requests_of_worker(index),
        backlog: VecDeque::new(),
        armed: false,
        rr: 0,
    });
    let tick_token = Token::new(TAG_TICK, Key { index: 0, generation: 0 });
    ring.timer(now + TICK, tick_token);
    if let Some(end) = clock.end {
        ring.timer(end, tick_token);
    }
    // The per-call view of this worker's shared state a client acts through.
    macro_rules! ctx {
        ($now:expr, $backlog:expr) => {
            Ctx {
                plan,
                templates: &templates,
                stats: &mut stats,
                group,
                tls: tls.as_ref(),
                now: $now,
                measure_from: clock.measure_from,
                backlog: $backlog,
            }
        };
    }
    let mut completions: Vec<Completion> = Vec::with_capacity(256);
    let mut touched: Vec<u32> = Vec::with_capacity(clients.len());
    let mut stopping = false;
    let mut finished = now;

    for client in clients.iter_mut().filter(|c| !c.held) {
        let mut ctx = ctx!(now, None);
        client.connect(&mut ring, &mut ctx);
    }

    loop {
        ring.wait(1, Some(Duration::from_secs(1)), &mut completions)?;
        let now = Instant::now();
        if let Some(end) = clock.end.filter(|end| !stopping && now >= *end) {
            // End of -D: what finishes from here on is not counted (h2load does the same),
            // so the measured window ends exactly at `end`.
            stopping = true;
            finished = end;
            for client in clients.iter_mut() {
                client.abandon(&mut ring);
            }
            completions.clear();
        }
        let mut tick = false;
        for c in completions.drain(..) {
            match c.token.tag() {
                TAG_TICK => tick = true,
                TAG_RATE => {
                    if let Some(s) = schedule.as_mut() {
                        s.armed = false;
                    }
                }
                TAG_CONNECTION_RATE => {
                    if let Some(s) = connection_schedule.as_mut() {
                        s.3 = false;
                    }
                }
                _ => {
                    let key = c.token.key();
                    let Some(client) = clients.get_mut(key.index as usize) else { continue };
                    if client.generation() != key.generation || c.op == OpKind::Close {
                        continue; // a completion of an earlier connection of this slot
                    }
                    let mut ctx = ctx!(now, schedule.as_mut().map(|s| &mut s.backlog));
                    client.on_completion(c, &mut ring, &mut ctx);
                    if !client.touched {
                        client.touched = true;
                        touched.push(key.index);
                    }
                }
            }
        }

        if tick {
            ring.timer(now + TICK, tick_token);
            for (i, client) in clients.iter_mut().enumerate() {
                let mut ctx = ctx!(now, schedule.as_mut().map(|s| &mut s.backlog));
                client.on_tick(&mut ring, &mut ctx);
                if !client.touched {
                    client.touched = true;
                    touched.push(i as u32);
                }
            }
        }

        if let (Some((interval, next, released, armed)), false) = (connection_schedule.as_mut(), stopping) {
            while *next <= now && *released < clients.len() {
                let i = *released;
                *released += 1;
                *next += *interval;
                let client = &mut clients[i];
                client.held = false;
                let mut ctx = ctx!(now, None);
                client.connect(&mut ring, &mut ctx);
            }
            if *released < clients.len() && !*armed {
                ring.timer(*next, Token::new(TAG_CONNECTION_RATE, Key { index: 0, generation: 0 }));
                *armed = true;
            }
        }

        // Open loop: move every due start into the backlog, then onto free streams.
        if let (Some(s), false) = (schedule.as_mut(), stopping) {
            while s.next <= now && s.remaining.is_none_or(|r| r > 0) {
                s.backlog.push_back(s.next);
                s.next += s.interval;
                if let Some(r) = s.remaining.as_mut() {
                    *r -= 1;
                }
            }
            let n = clients.len();
            let mut tried = 0;
            while let Some(&start) = s.backlog.front() {
                if tried == n {
                    break;
                }
                let i = s.rr % n;
                let client = &mut clients[i];
                let mut ctx = ctx!(now, None);
                if client.can_open() && client.open(start, &mut ctx) {
                    s.backlog.pop_front();
                    tried = 0;
                    if !client.touched {
                        client.touched = true;
                        touched.push(i as u32);
                    }
                } else {
                    tried += 1;
                }
                s.rr = s.rr.wrapping_add(1);
            }
            if !s.armed && s.remaining.is_none_or(|r| r > 0) {
                ring.timer(s.next, Token::new(TAG_RATE, Key { index: 0, generation: 0 }));
                s.armed = true;
            }
        }

        let more_work = !stopping
            && match &schedule {
                Some(s) => s.remaining.is_none_or(|r| r > 0) || !s.backlog.is_empty(),
                None => true,
            };
        for i in touched.drain(..) {
            let client = &mut clients[i as usize];
            client.touched = false;
            let mut ctx = ctx!(now, schedule.as_mut().map(|s| &mut s.backlog));
            if !rate_mode && !stopping {
                while client.wants_request() && client.open(now, &mut ctx) {}
            }
            client.flush(&mut ring, &mut ctx);
            client.maintain(&mut ring, &mut ctx, more_work);
        }
        progress.store(stats.done, Ordering::Relaxed);

        if clients.iter().all(Client::is_done) {
            if !stopping {
                finished = now;
            }
            break;
        }
    }
    // Let the closes reach the kernel (their completions are ignored).
    let _ = ring.wait(0, Some(Duration::ZERO), &mut completions);
    let elapsed = finished.saturating_duration_since(clock.measure_from.max(clock.start));
    let secs = elapsed.as_secs_f64().max(1e-9);
    stats.client_rates = clients.iter().map(|c| c.counted_done as f64 / secs).collect();
    Ok(WorkerResult { stats, finished })
}
