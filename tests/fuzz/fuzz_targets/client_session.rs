#![no_main]
//! Stateful fuzzing of a client-role `Session`, the one `spdyload` drives against servers
//! we did not write: an `Arbitrary` sequence of server frames (replies, pushes, DATA,
//! RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, raw bytes) mixed with requests
//! opened, bodies sent, resets, clock moves and transmits. The session must never panic,
//! and what it sends must hold up (the checks in `common/session_model.rs`): every frame
//! decodes, every header block inflates on one zlib stream (C121) — also from spdyload's
//! own `RepeatEncoder` — no DATA beyond the server's windows, our streams numbered upward
//! and odd, nothing after a GOAWAY for a session error. Once the session has read the
//! server's GOAWAY it opens no new stream.

use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use spdygate::spdy::frame::{GoAwayStatus, RstStatus};
use spdygate::spdy::header::repeat::RepeatEncoder;
use spdygate::spdy::header::{new_encoder, CompressorKind, HeaderEncoder};
use spdygate::spdy::session::{Limits, Role, Session, SessionConfig};
use spdygate::spdy::{StreamId, Version};

#[path = "../common/session_model.rs"]
mod session_model;
use session_model::{block, deliver, id, peer_frame, transmit, Model, PeerFrame, MAX_CHUNK};

#[derive(Arbitrary, Debug)]
enum Op {
    /// A server push (the server opens a stream associated to one of ours).
    Push { id: u8, assoc: u8, priority: u8, flags: u8, pairs: Vec<(u8, u8)> },
    SynReply { id: u8, flags: u8 },
    Headers { id: u8, flags: u8, pairs: Vec<(u8, u8)> },
    Data { id: u8, flags: u8, len: u16 },
    Rst { id: u8, status: u8 },
    Settings { entries: Vec<(u8, u8, u32)> },
    Ping { id: u32 },
    GoAway { last_good: u8, status: u8 },
    WindowUpdate { id: u8, delta: u32 },
    Raw(Vec<u8>),
    /// A request: SYN_STREAM with these pairs (a small set, so blocks repeat).
    Open { priority: u8, fin: bool, pairs: Vec<(u8, u8)> },
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
    /// spdyload's `RepeatEncoder` for our blocks instead of the configured compressor.
    repeat_encoder: bool,
    ops: Vec<Op>,
}

fuzz_target!(|input: Input| {
    let version = [Version::Spdy31, Version::Spdy3, Version::Spdy2][usize::from(input.version % 3)];
    let mut now = Instant::now();
    let config = SessionConfig {
        max_concurrent_streams: 8,
        max_data_chunk: MAX_CHUNK,
        limits: Limits { max_streams_per_session: 20, max_header_pairs: 10, ..Default::default() },
        ..Default::default()
    };
    let mut client = Session::new(Role::Client, version, config, now);
    if input.repeat_encoder {
        assert!(client.set_header_encoder(Box::new(RepeatEncoder::new(version))));
    }
    // the server's compressor, for the blocks it sends
    let mut encoder: Box<dyn HeaderEncoder> = new_encoder(version, &CompressorKind::default());
    let mut pending: Vec<u8> = Vec::new();
    let mut split = 4096usize;
    let mut model = Model::new(version);
    let mut out = Vec::new();

    for op in input.ops.into_iter().take(300) {
        let peer = match op {
            Op::Push { id, assoc, priority, flags, pairs } => {
                // server streams are even (a fuzzer's odd id tests the session's check)
                Some(PeerFrame::SynStream { id: id.wrapping_mul(2), assoc, priority, flags, pairs })
            }
            Op::SynReply { id, flags } => Some(PeerFrame::SynReply { id, flags }),
            Op::Headers { id, flags, pairs } => Some(PeerFrame::Headers { id, flags, pairs }),
            Op::Data { id, flags, len } => Some(PeerFrame::Data { id, flags, len }),
            Op::Rst { id, status } => Some(PeerFrame::Rst { id, status }),
            Op::Settings { entries } => Some(PeerFrame::Settings { entries }),
            Op::Ping { id } => Some(PeerFrame::Ping { id }),
            Op::GoAway { last_good, status } => Some(PeerFrame::GoAway { last_good, status }),
            Op::WindowUpdate { id, delta } => Some(PeerFrame::WindowUpdate { id, delta }),
            Op::Raw(bytes) => Some(PeerFrame::Raw(bytes)),
            Op::Open { priority, fin, pairs } => {
                // the server's frames so far reach the session first: the model credits a
                // WINDOW_UPDATE to the streams open when it was written
                deliver(&mut client, &mut pending, split, now, &mut model, &mut out);
                let pairs: Vec<(u8, u8)> = pairs.into_iter().map(|(n, v)| (n % 4, v % 3)).collect();
                let opened = client.open_stream(&block(&pairs), priority, fin);
                if model.peer_goaway_read {
                    assert!(opened.is_err(), "a stream opened after the server's GOAWAY was read: {opened:?}");
                }
                if let Ok(sid) = opened {
                    model.opened(sid.value());
                }
                None
            }
            Op::SendData { id: raw, len, fin } => {
                let _ = client.send_data(StreamId::new(id(raw)), usize::from(len), fin);
                None
            }
            Op::SendHeaders { id: raw, fin } => {
                let _ = client.send_headers(StreamId::new(id(raw)), &block(&[(3, 3)]), fin);
                None
            }
            Op::Consume { id: raw, len } => {
                client.consume(StreamId::new(id(raw)), usize::from(len));
                None
            }
            // every u8: codes no draft defines included (the session must map them)
            Op::Reset { id: raw, status } => {
                client.reset_stream(StreamId::new(id(raw)), RstStatus(u32::from(status)));
                None
            }
            Op::SendPing => {
                client.ping(now);
                None
            }
            Op::SendGoAway { status } => {
                client.goaway(GoAwayStatus(u32::from(status)));
                None
            }
            Op::Transmit => {
                deliver(&mut client, &mut pending, split, now, &mut model, &mut out);
                transmit(&mut client, &mut model, &mut out, now);
                None
            }
            Op::Advance { secs } => {
                now += Duration::from_secs(u64::from(secs));
                if client.poll_timeout().is_some_and(|t| t <= now) {
                    client.handle_timeout(now);
                }
                None
            }
            Op::SetSplit { size } => {
                split = usize::from(size).max(1);
                None
            }
        };
        if let Some(frame) = peer {
            pending.extend_from_slice(&peer_frame(frame, version, &mut *encoder, &mut model));
        }
        if pending.len() > 64 * 1024 {
            deliver(&mut client, &mut pending, split, now, &mut model, &mut out);
        }
    }
    deliver(&mut client, &mut pending, split, now, &mut model, &mut out);
    transmit(&mut client, &mut model, &mut out, now);
    let _ = client.memory_bytes();
    let _ = client.is_closed();
});
