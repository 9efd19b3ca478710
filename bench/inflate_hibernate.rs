//! What hibernating the header inflater costs: `hibernate()` itself, and the next block
//! on a hibernated inflater (which rebuilds the zlib state and presets the window) against
//! the same block on an awake one; the difference is the resume cost. Also the awake path
//! against flate2 with Z_SYNC_FLUSH (how the inflater called zlib before it stopped at
//! block boundaries). Short measurement windows: the whole bench runs in well under a minute.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use flate2::{Decompress, FlushDecompress};
use spdygate::spdy::header::deflate::ZlibEncoder;
use spdygate::spdy::header::inflate::{InflateLimits, InflateOutcome, Inflater};
use spdygate::spdy::header::{HeaderBlock, HeaderEncoder};
use spdygate::spdy::Version;

const VERSION: Version = Version::Spdy31;

fn request(i: usize, cookie: &str) -> HeaderBlock {
    [
        (":method", "GET".to_string()),
        (":path", format!("/static/{i}/app.js?v={}", i * 7919)),
        (":version", "HTTP/1.1".to_string()),
        (":host", "www.example.com".to_string()),
        (":scheme", "https".to_string()),
        ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8".to_string()),
        ("accept-encoding", "gzip,deflate,sdch".to_string()),
        ("accept-language", "en-US,en;q=0.8".to_string()),
        ("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/31.0 Safari/537.36".to_string()),
        ("cookie", cookie.to_string()),
    ]
    .into_iter()
    .collect()
}

/// `n` compressed request blocks of one session (level 9, window 15: far matches).
fn frames(n: usize, cookie: &str) -> Vec<Vec<u8>> {
    let mut enc = ZlibEncoder::new(VERSION, 9, 15, 9);
    (0..n)
        .map(|i| {
            let mut z = Vec::new();
            enc.encode(&request(i, cookie), &mut z);
            z
        })
        .collect()
}

/// An inflater that has decoded `frames[..n]`, hibernated or not.
fn primed(frames: &[Vec<u8>], n: usize, hibernate: bool) -> Inflater {
    let mut inf = Inflater::new(VERSION, InflateLimits::default());
    let mut out = Vec::new();
    for z in &frames[..n] {
        assert_eq!(inf.inflate(z, &mut out), Ok(InflateOutcome::Complete));
    }
    if hibernate {
        assert!(inf.hibernate());
    }
    inf
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("inflate_hibernate");
    g.warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2)).sample_size(30);
    // After one request (history: a few hundred bytes), and after a long session whose
    // big cookies filled the 32 KiB window.
    let short = frames(2, "sid=0123456789abcdef");
    let long = frames(41, &"c".repeat(2000));
    for (name, frames, n) in [("after_1_block", &short, 1usize), ("after_40_blocks", &long, 40)] {
        let next = &frames[n];
        let mut out = Vec::with_capacity(64 * 1024);
        g.bench_function(format!("{name}/next_block_awake"), |b| {
            b.iter_batched(|| primed(frames, n, false), |mut inf| {
                black_box(inf.inflate(black_box(next), &mut out)).unwrap();
                inf
            }, BatchSize::SmallInput)
        });
        g.bench_function(format!("{name}/next_block_hibernated"), |b| {
            b.iter_batched(|| primed(frames, n, true), |mut inf| {
                black_box(inf.inflate(black_box(next), &mut out)).unwrap();
                inf
            }, BatchSize::SmallInput)
        });
        g.bench_function(format!("{name}/hibernate"), |b| {
            b.iter_batched(|| primed(frames, n, false), |mut inf| {
                black_box(inf.hibernate());
                inf
            }, BatchSize::SmallInput)
        });
    }
    // Steady state, awake: one block per iteration on a live session, Inflater (Z_BLOCK)
    // against flate2 (Z_SYNC_FLUSH) over the same stream.
    let stream = frames(2001, "sid=0123456789abcdef");
    let mut out = Vec::with_capacity(64 * 1024);
    g.bench_function("steady/inflater_block", |b| {
        let mut inf = primed(&stream, 1, false);
        let mut i = 1;
        b.iter(|| {
            if i == stream.len() {
                inf = primed(&stream, 1, false);
                i = 1;
            }
            black_box(inf.inflate(&stream[i], &mut out)).unwrap();
            i += 1;
        })
    });
    let mut buf = vec![0u8; 64 * 1024];
    g.bench_function("steady/flate2_sync_block", |b| {
        let fresh = || {
            let mut d = Decompress::new(true);
            let mut first = vec![0u8; 64 * 1024];
            if d.decompress(&stream[0], &mut first, FlushDecompress::Sync).is_err() {
                d.set_dictionary(VERSION.dictionary()).unwrap();
                let used = d.total_in() as usize;
                d.decompress(&stream[0][used..], &mut first, FlushDecompress::Sync).unwrap();
            }
            d
        };
        let mut d = fresh();
        let mut i = 1;
        b.iter(|| {
            if i == stream.len() {
                d = fresh();
                i = 1;
            }
            black_box(d.decompress(&stream[i], &mut buf, FlushDecompress::Sync)).unwrap();
            i += 1;
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
