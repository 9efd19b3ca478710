#![no_main]
//! Stateful fuzzing of a server-role `Session` (quinn's `fuzz/fuzz_targets/streams.rs`
//! idea): an `Arbitrary` sequence of raw client frames (header blocks from a real
//! compressor, so they reach the stream logic) mixed with application commands, clock
//! moves and transmits. The session must never panic, and what it sends must hold up:
//! every frame decodes, every header block inflates on one fresh zlib stream (C121),
//! no DATA frame exceeds the windows the client granted (C123) or `max_data_chunk`, no
//! DATA follows our FIN or a GOAWAY(error), and nothing at all follows a GOAWAY sent
//! for a session error (C112).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use spdygate::spdy::frame::{
    begin_header_frame, data_head, finish_header_frame, flags, Frame, GoAway, GoAwayStatus, HeaderFrameKind, Ping,
    RstStatus, RstStream, Setting, SettingId, Settings, WindowUpdate,
};
use spdygate::spdy::header::inflate::{InflateLimits, InflateOutcome, Inflater};
use spdygate::spdy::header::{new_encoder, CompressorKind, HeaderBlock, HeaderEncoder};
use spdygate::spdy::session::{Limits, Role, Session, SessionConfig};
use spdygate::spdy::{StreamId, Version};

const MAX_CHUNK: usize = 4096;

#[derive(Arbitrary, Debug)]
enum Op {
    SynStream { id: u8, assoc: u8, priority: u8, flags: u8, pairs: Vec<(u8, u8)> },
    SynReply { id: u8, flags: u8 },
    Headers { id: u8, flags: u8, pairs: Vec<(u8, u8)> },
    Data { id: u8, flags: u8, len: u16 },
    Rst { id: u8, status: u8 },
    Settings { entries: Vec<(u8, u8, u32)> },
    Ping { id: u32 },
    GoAway { last_good: u8, status: u8 },
    WindowUpdate { id: u8, delta: u32 },
    /// Raw bytes: after this the window model is off (framing may be lost).
    Raw(Vec<u8>),
    Reply { id: u8, fin: bool },
    SendData { id: u8, len: u16, fin: bool },
    SendHeaders { id: u8, fin: bool },
    Consume { id: u8, len: u16 },
    Reset { id: u8, status: u8 },
    SendPing,
    SendGoAway { status: u8 },
    Transmit,
    Advance { secs: u8 },
    /// Deliver pending input in pieces of this size.
    SetSplit { size: u8 },
}

#[derive(Arbitrary, Debug)]
struct Input {
    version: u8,
    detect_spdy3: bool,
    ops: Vec<Op>,
}

/// What the fuzzing client granted, as the server must see it once all input is read.
struct Model {
    valid: bool,
    initial_window: i64,
    /// Per stream: credit from WINDOW_UPDATEs plus the initial window when opened
    /// (SETTINGS changes are added through `initial_window` deltas).
    credit: HashMap<u32, i64>,
    sent: HashMap<u32, i64>,
    session_credit: i64,
    session_sent: i64,
    fin_sent: HashMap<u32, bool>,
    error_goaway: bool,
    inflater: Inflater,
}

fn block(pairs: &[(u8, u8)]) -> HeaderBlock {
    let mut b = HeaderBlock::new();
    for &(n, v) in pairs.iter().take(20) {
        b.push([b'a' + n % 26, b'a' + (n / 26) % 26], [b'0' + v % 10; 3]);
    }
    b
}

fn id(raw: u8) -> u32 {
    u32::from(raw) % 64
}

fuzz_target!(|input: Input| {
    let version = [Version::Spdy31, Version::Spdy3, Version::Spdy2][usize::from(input.version % 3)];
    let mut now = Instant::now();
    let config = SessionConfig {
        max_concurrent_streams: 8,
        max_data_chunk: MAX_CHUNK,
        detect_spdy3: input.detect_spdy3,
        limits: Limits { max_streams_per_session: 20, max_header_pairs: 10, ..Default::default() },
        ..Default::default()
    };
    let mut server = Session::new(Role::Server, version, config, now);
    let mut encoder: Box<dyn HeaderEncoder> = new_encoder(version, &CompressorKind::default());
    let mut pending: Vec<u8> = Vec::new();
    let mut split = 4096usize;
    let flow = version != Version::Spdy2;
    let mut model = Model {
        valid: true,
        initial_window: 65_536,
        credit: HashMap::new(),
        sent: HashMap::new(),
        session_credit: 65_536,
        session_sent: 0,
        fin_sent: HashMap::new(),
        error_goaway: false,
        inflater: Inflater::new(version, InflateLimits { max_block: 1 << 20, budget: 1 << 22 }),
    };
    let mut out = Vec::new();

    for op in input.ops.into_iter().take(300) {
        let mut frame = Vec::new();
        match op {
            Op::SynStream { id: raw, assoc, priority, flags: f, pairs } => {
                let sid = id(raw);
                let kind = HeaderFrameKind::SynStream {
                    stream_id: StreamId::new(sid),
                    associated_to: StreamId::new(id(assoc)),
                    priority: priority % 8,
                    slot: 0,
                };
                let start = begin_header_frame(&mut frame, version, kind, f & 0x03);
                encoder.encode(&block(&pairs), &mut frame);
                finish_header_frame(&mut frame, start);
                model.credit.entry(sid).or_insert(model.initial_window);
            }
            Op::SynReply { id: raw, flags: f } => {
                let start = begin_header_frame(&mut frame, version, HeaderFrameKind::SynReply { stream_id: StreamId::new(id(raw)) }, f & 1);
                encoder.encode(&block(&[(1, 1)]), &mut frame);
                finish_header_frame(&mut frame, start);
            }
            Op::Headers { id: raw, flags: f, pairs } => {
                let start = begin_header_frame(&mut frame, version, HeaderFrameKind::Headers { stream_id: StreamId::new(id(raw)) }, f & 1);
                encoder.encode(&block(&pairs), &mut frame);
                finish_header_frame(&mut frame, start);
            }
            Op::Data { id: raw, flags: f, len } => {
                let len = usize::from(len) % 20_000;
                frame.extend_from_slice(&data_head(StreamId::new(id(raw)), f & 0x03, len));
                frame.resize(8 + len, 0x5a);
            }
            Op::Rst { id: raw, status } => {
                Frame::RstStream(RstStream { stream_id: StreamId::new(id(raw)), status: RstStatus(u32::from(status % 13)) })
                    .encode(version, &mut frame);
            }
            Op::Settings { entries } => {
                let entries: Vec<Setting> = entries
                    .into_iter()
                    .take(8)
                    .map(|(i, f, value)| Setting { id: SettingId(u32::from(i % 9)), flags: f & 3, value })
                    .collect();
                // The server applies the first non-PERSISTED INITIAL_WINDOW_SIZE (C92, C95).
                if let Some(s) = entries.iter().find(|s| s.id == SettingId::INITIAL_WINDOW_SIZE && s.flags & flags::PERSISTED == 0) {
                    let new = i64::from(s.value);
                    let delta = new - model.initial_window;
                    model.initial_window = new;
                    for c in model.credit.values_mut() {
                        *c += delta;
                    }
                }
                Frame::Settings(Settings { flags: 0, entries }).encode(version, &mut frame);
            }
            Op::Ping { id } => Frame::Ping(Ping { id }).encode(version, &mut frame),
            Op::GoAway { last_good, status } => Frame::GoAway(GoAway {
                last_good_stream_id: StreamId::new(id(last_good)),
                status: GoAwayStatus(u32::from(status % 4)),
            })
            .encode(version, &mut frame),
            Op::WindowUpdate { id: raw, delta } => {
                let sid = id(raw);
                let delta = delta % 200_000;
                if sid == 0 {
                    model.session_credit += i64::from(delta);
                } else if let Some(c) = model.credit.get_mut(&sid) {
                    *c += i64::from(delta);
                }
                Frame::WindowUpdate(WindowUpdate { stream_id: StreamId::new(sid), delta }).encode(version, &mut frame);
            }
            Op::Raw(bytes) => {
                model.valid = false;
                frame = bytes;
            }
            Op::Reply { id: raw, fin } => {
                let _ = server.send_reply(StreamId::new(id(raw)), &block(&[(2, 2)]), fin);
            }
            Op::SendData { id: raw, len, fin } => {
                let _ = server.send_data(StreamId::new(id(raw)), usize::from(len), fin);
            }
            Op::SendHeaders { id: raw, fin } => {
                let _ = server.send_headers(StreamId::new(id(raw)), &block(&[(3, 3)]), fin);
            }
            Op::Consume { id: raw, len } => server.consume(StreamId::new(id(raw)), usize::from(len)),
            // every u8: codes no draft defines included (the session must map them)
            Op::Reset { id: raw, status } => server.reset_stream(StreamId::new(id(raw)), RstStatus(u32::from(status))),
            Op::SendPing => {
                server.ping(now);
            }
            Op::SendGoAway { status } => server.goaway(GoAwayStatus(u32::from(status))),
            Op::Transmit => {
                deliver(&mut server, &mut pending, split, now, &mut model, &mut out);
                transmit(&mut server, version, flow, &mut model, &mut out, now);
            }
            Op::Advance { secs } => {
                now += Duration::from_secs(u64::from(secs));
                if server.poll_timeout().is_some_and(|t| t <= now) {
                    server.handle_timeout(now);
                }
            }
            Op::SetSplit { size } => split = usize::from(size).max(1),
        }
        pending.extend_from_slice(&frame);
        if pending.len() > 64 * 1024 {
            deliver(&mut server, &mut pending, split, now, &mut model, &mut out);
        }
    }
    deliver(&mut server, &mut pending, split, now, &mut model, &mut out);
    transmit(&mut server, version, flow, &mut model, &mut out, now);
    let _ = server.memory_bytes();
    let _ = server.is_closed();
});

fn deliver(server: &mut Session, pending: &mut Vec<u8>, split: usize, now: Instant, model: &mut Model, out: &mut Vec<u8>) {
    let version = server.version();
    let flow = version != Version::Spdy2;
    for piece in pending.chunks(split) {
        let mut input = piece;
        for _ in 0..100_000 {
            match server.recv(&mut input, now) {
                Ok(Some(_)) => {}
                Ok(None) if input.is_empty() => break,
                // B5: over the control-queue bound the session reads nothing until the
                // caller flushes; flush (checked like any output) and read on.
                Ok(None) => transmit(server, version, flow, model, out, now),
                Err(_) => break,
            }
        }
        while server.poll_event().is_some() {}
    }
    pending.clear();
}

fn transmit(server: &mut Session, version: Version, flow: bool, model: &mut Model, out: &mut Vec<u8>, now: Instant) {
    out.clear();
    for _ in 0..100_000 {
        if !server.poll_transmit_copy(out, now, &mut |_, len, out| out.resize(out.len() + len, 0xdd)) {
            break;
        }
    }
    while server.poll_event().is_some() {}
    let mut rest: &[u8] = out;
    let mut scratch = Vec::new();
    while !rest.is_empty() {
        assert!(!model.error_goaway, "a frame after the GOAWAY for a session error (C112)");
        let (frame, used) = Frame::decode(version, rest).expect("our output decodes").expect("whole frames only");
        match frame {
            Frame::Data(d) => {
                let sid = d.stream_id.value();
                let len = d.payload.len() as i64;
                assert!(d.payload.len() <= MAX_CHUNK, "DATA over max_data_chunk");
                assert!(!model.fin_sent.get(&sid).copied().unwrap_or(false), "DATA after our FIN (C119)");
                if d.flags & flags::FIN != 0 {
                    model.fin_sent.insert(sid, true);
                }
                if flow && model.valid && len > 0 {
                    let sent = model.sent.entry(sid).or_insert(0);
                    let credit = model.credit.get(&sid).copied().unwrap_or(0);
                    assert!(*sent + len <= credit, "stream {sid}: {sent} + {len} over credit {credit} (C123)");
                    *sent += len;
                    if version == Version::Spdy31 && !model_detect_free(server) {
                        assert!(model.session_sent + len <= model.session_credit, "session window overrun (C123)");
                    }
                    model.session_sent += len;
                }
            }
            Frame::SynReply(r) => {
                inflate(model, r.header_block, &mut scratch);
                // our half of the stream starts here: an RST we sent for this id before
                // answered frames for a stream that was not open yet (INVALID_STREAM)
                model.fin_sent.insert(r.stream_id.value(), r.flags & flags::FIN != 0);
            }
            Frame::Headers(h) => {
                inflate(model, h.header_block, &mut scratch);
                if h.flags & flags::FIN != 0 {
                    model.fin_sent.insert(h.stream_id.value(), true);
                }
            }
            Frame::SynStream(s) => inflate(model, s.header_block, &mut scratch),
            Frame::GoAway(g) => {
                assert!(g.status.name().is_some(), "GOAWAY with undefined status {:?}", g.status);
                if g.status != GoAwayStatus::OK {
                    model.error_goaway = true;
                }
            }
            Frame::RstStream(r) => {
                assert!(r.status.name().is_some(), "RST_STREAM with undefined status {:?}", r.status);
                assert!(version != Version::Spdy2 || r.status.0 <= 7, "SPDY/3-only RST status on SPDY/2 (E6)");
                model.fin_sent.insert(r.stream_id.value(), true);
            }
            _ => {}
        }
        rest = &rest[used..];
    }
}

/// The server dropped session accounting (detect_spdy3 decided SPDY/3): no session
/// window to respect any more.
fn model_detect_free(server: &Session) -> bool {
    server.session_send_window().is_none()
}

fn inflate(model: &mut Model, block: &[u8], scratch: &mut Vec<u8>) {
    scratch.clear();
    let outcome = model.inflater.inflate(block, scratch).expect("our header blocks inflate on one zlib stream (C121)");
    assert_eq!(outcome, InflateOutcome::Complete);
}
