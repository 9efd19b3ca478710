#![no_main]
//! Stateful fuzzing of a server-role `Session` (quinn's `fuzz/fuzz_targets/streams.rs`
//! idea): an `Arbitrary` sequence of raw client frames (header blocks from a real
//! compressor, so they reach the stream logic) mixed with application commands, clock
//! moves and transmits. The session must never panic, and what it sends must hold up:
//! every frame decodes, every header block inflates on one fresh zlib stream (C121),
//! no DATA frame exceeds the windows the client granted (C123) or `max_data_chunk`, no
//! DATA follows our FIN or a GOAWAY(error), and nothing at all follows a GOAWAY sent
//! for a session error (C112).

use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use spdygate::spdy::frame::{GoAwayStatus, RstStatus};
use spdygate::spdy::header::{new_encoder, CompressorKind, HeaderEncoder};
use spdygate::spdy::session::{Limits, Role, Session, SessionConfig};
use spdygate::spdy::{StreamId, Version};

#[path = "../common/session_model.rs"]
mod session_model;
use session_model::{block, deliver, id, peer_frame, transmit, Model, PeerFrame, MAX_CHUNK};

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
    let mut model = Model::new(version);
    let mut out = Vec::new();

    for op in input.ops.into_iter().take(300) {
        let mut frame = Vec::new();
        match op {
            Op::SynStream { id, assoc, priority, flags, pairs } => {
                frame = peer_frame(PeerFrame::SynStream { id, assoc, priority, flags, pairs }, version, &mut *encoder, &mut model)
            }
            Op::SynReply { id, flags } => frame = peer_frame(PeerFrame::SynReply { id, flags }, version, &mut *encoder, &mut model),
            Op::Headers { id, flags, pairs } => {
                frame = peer_frame(PeerFrame::Headers { id, flags, pairs }, version, &mut *encoder, &mut model)
            }
            Op::Data { id, flags, len } => frame = peer_frame(PeerFrame::Data { id, flags, len }, version, &mut *encoder, &mut model),
            Op::Rst { id, status } => frame = peer_frame(PeerFrame::Rst { id, status }, version, &mut *encoder, &mut model),
            Op::Settings { entries } => frame = peer_frame(PeerFrame::Settings { entries }, version, &mut *encoder, &mut model),
            Op::Ping { id } => frame = peer_frame(PeerFrame::Ping { id }, version, &mut *encoder, &mut model),
            Op::GoAway { last_good, status } => {
                frame = peer_frame(PeerFrame::GoAway { last_good, status }, version, &mut *encoder, &mut model)
            }
            Op::WindowUpdate { id, delta } => {
                frame = peer_frame(PeerFrame::WindowUpdate { id, delta }, version, &mut *encoder, &mut model)
            }
            Op::Raw(bytes) => frame = peer_frame(PeerFrame::Raw(bytes), version, &mut *encoder, &mut model),
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
                transmit(&mut server, &mut model, &mut out, now);
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
    transmit(&mut server, &mut model, &mut out, now);
    let _ = server.memory_bytes();
    let _ = server.is_closed();
});

