//! A client-role and a server-role `Session` exchanging small requests in memory: the
//! cost of the SPDY state machine itself (framing, header compression, flow control,
//! scheduling), with no socket in the way. Reported as requests/s and frames/s.

use std::time::Instant;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use spdygate::spdy::header::{CompressorKind, HeaderBlock};
use spdygate::spdy::session::{Event, Role, Session, SessionConfig};
use spdygate::spdy::{StreamId, Version};

/// Requests per measured round.
const REQUESTS: usize = 100;
/// Response body bytes per request.
const BODY: usize = 1024;

fn request() -> HeaderBlock {
    [
        (":method", "GET"),
        (":path", "/index.html"),
        (":version", "HTTP/1.1"),
        (":host", "example.com"),
        (":scheme", "https"),
        ("user-agent", "spdyload/0.1"),
        ("accept", "*/*"),
    ]
    .into_iter()
    .collect()
}

fn response() -> HeaderBlock {
    [(":status", "200"), (":version", "HTTP/1.1"), ("content-type", "text/html"), ("content-length", "1024")]
        .into_iter()
        .collect()
}

/// Moves everything one side wants to send; returns the number of frames in it.
fn transmit(session: &mut Session, out: &mut Vec<u8>, now: Instant, payload: &[u8]) -> usize {
    let start = out.len();
    while session.poll_transmit_copy(out, now, &mut |_, len, out| out.extend_from_slice(&payload[..len])) {}
    // Every frame is an 8-byte head with a 24-bit length at bytes 5..8.
    let (mut at, mut frames) = (start, 0);
    while at + 8 <= out.len() {
        at += 8 + u32::from_be_bytes([0, out[at + 5], out[at + 6], out[at + 7]]) as usize;
        frames += 1;
    }
    frames
}

/// One round: REQUESTS requests, each answered with a BODY-byte response. Returns the
/// number of frames that crossed.
fn round(client: &mut Session, server: &mut Session, now: Instant, scratch: &mut (Vec<u8>, Vec<u8>)) -> usize {
    let payload = [0x61u8; BODY];
    let req = request();
    let resp = response();
    let mut frames = 0;
    let mut done = 0;
    for _ in 0..REQUESTS {
        client.open_stream(&req, 3, true).expect("open");
    }
    let mut opened: Vec<StreamId> = Vec::with_capacity(REQUESTS);
    for _ in 0..64 {
        scratch.0.clear();
        frames += transmit(client, &mut scratch.0, now, &payload);
        let mut input = &scratch.0[..];
        while let Ok(Some(event)) = server.recv(&mut input, now) {
            if let Event::StreamOpened { stream_id, .. } = event {
                opened.push(stream_id);
            }
        }
        for id in opened.drain(..) {
            server.send_reply(id, &resp, false).expect("reply");
            server.send_data(id, BODY, true).expect("data");
        }
        scratch.1.clear();
        frames += transmit(server, &mut scratch.1, now, &payload);
        let mut input = &scratch.1[..];
        while let Ok(Some(event)) = client.recv(&mut input, now) {
            match event {
                Event::Data { stream_id, data, .. } => client.consume(stream_id, data.len()),
                Event::StreamClosed { .. } => done += 1,
                _ => {}
            }
        }
        while client.poll_event().is_some() {}
        while server.poll_event().is_some() {}
        if done == REQUESTS && scratch.0.is_empty() && scratch.1.is_empty() {
            break;
        }
    }
    assert_eq!(done, REQUESTS, "every request completed");
    frames
}

fn pair(version: Version, compressor: CompressorKind) -> (Session, Session, Instant) {
    let now = Instant::now();
    let mut config = SessionConfig { compressor, ..Default::default() };
    config.limits.max_streams_per_session = u32::MAX;
    (
        Session::new(Role::Client, version, config.clone(), now),
        Session::new(Role::Server, version, config, now),
        now,
    )
}

fn bench_requests(c: &mut Criterion) {
    let mut group = c.benchmark_group("session_pair");
    group.throughput(Throughput::Elements(REQUESTS as u64));
    for (name, version, compressor) in [
        ("spdy31_zlib6_requests", Version::Spdy31, CompressorKind::default()),
        ("spdy31_stored_requests", Version::Spdy31, CompressorKind::Zlib { level: 0, window_bits: 11, mem_level: 1 }),
        ("spdy2_zlib6_requests", Version::Spdy2, CompressorKind::default()),
    ] {
        group.bench_function(name, |b| {
            // A long-lived session pair, as under load: streams come and go.
            let (mut client, mut server, now) = pair(version, compressor.clone());
            let mut scratch = (Vec::new(), Vec::new());
            b.iter(|| round(&mut client, &mut server, now, &mut scratch));
        });
    }
    group.finish();

    // Frames per round, measured once, so the same loop reads as frames/s.
    let (mut client, mut server, now) = pair(Version::Spdy31, CompressorKind::default());
    let mut scratch = (Vec::new(), Vec::new());
    let frames = round(&mut client, &mut server, now, &mut scratch) as u64;
    let mut group = c.benchmark_group("session_pair_frames");
    group.throughput(Throughput::Elements(frames));
    group.bench_function("spdy31_zlib6_frames", |b| {
        b.iter(|| round(&mut client, &mut server, now, &mut scratch));
    });
    group.finish();

    // Session set-up cost (what each new connection pays).
    c.bench_function("session_new_pair_spdy31", |b| {
        b.iter_batched(|| (), |()| pair(Version::Spdy31, CompressorKind::default()), BatchSize::SmallInput)
    });
}

criterion_group!(benches, bench_requests);
criterion_main!(benches);
