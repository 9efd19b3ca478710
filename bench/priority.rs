//! DATA scheduler cost per scheduling decision: 1 000 streams over 8 priority levels.
//!
//! The scheduler is crate-private, so this bench compiles its source file directly, with
//! shims for the crate paths it names (`StreamId`, `IdMap`).
//!
//! * `round_robin_1000_streams`: one decision = pop the next stream and re-push it (a
//!   stream that still has data after one chunk), with all 1 000 streams queued.
//! * `fill_and_drain_1000_streams`: 1 000 pushes then 1 000 pops across all levels, so
//!   every level empties in turn; reported per decision (push + pop).
//! * `churn_1000_streams`: pop + re-push, plus a remove of a queued stream from the middle
//!   and its re-push on every decision (resets and blocked windows).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

mod spdy {
    pub(crate) mod stream_id {
        pub(crate) use spdygate::spdy::stream_id::StreamId;
    }
}
mod id_map {
    pub(crate) use spdygate::id_map::IdMap;
}

#[allow(dead_code)]
#[path = "../src/spdy/session/priority.rs"]
mod priority;

use priority::DataScheduler;
use spdy::stream_id::StreamId;

const STREAMS: u32 = 1000;

fn id(i: u32) -> StreamId {
    StreamId::new(2 * i + 1)
}

fn priority_of(stream: StreamId) -> u8 {
    ((stream.value() / 2) % 8) as u8
}

fn full() -> DataScheduler {
    let mut s = DataScheduler::new(8);
    for i in 0..STREAMS {
        s.push(id(i), priority_of(id(i)));
    }
    s
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("priority");
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    g.sample_size(20);

    g.throughput(Throughput::Elements(1));
    g.bench_function("round_robin_1000_streams", |b| {
        let mut s = full();
        b.iter(|| {
            let next = s.pop().unwrap();
            s.push(black_box(next), priority_of(next));
        });
    });

    g.throughput(Throughput::Elements(1));
    g.bench_function("churn_1000_streams", |b| {
        let mut s = full();
        let mut victim = 0u32;
        b.iter(|| {
            let next = s.pop().unwrap();
            s.push(black_box(next), priority_of(next));
            victim = (victim + 337) % STREAMS;
            s.remove(id(victim));
            s.push(id(victim), priority_of(id(victim)));
        });
    });

    g.throughput(Throughput::Elements(u64::from(STREAMS)));
    g.bench_function("fill_and_drain_1000_streams", |b| {
        let mut s = DataScheduler::new(8);
        b.iter(|| {
            for i in 0..STREAMS {
                s.push(id(i), priority_of(id(i)));
            }
            while let Some(next) = s.pop() {
                black_box(next);
            }
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
