#![no_main]
//! The SPDY front (`gateway::SpdyConnection`: session, translation and request bodies)
//! on input-chosen client frames: requests with or without content-length, extra framing
//! and hop-by-hop headers, DATA in any sizes, trailers, resets and window updates, all
//! delivered in input-chosen pieces. What each exchange sends a backend must read, with an
//! independent parser (httparse, see `common/forwarded.rs`), as exactly one request; its
//! body must be a prefix of the bytes the client sent on that stream, in order (the whole
//! of them once complete); and a backend connection may go back to the pool only after a
//! complete request (a half-sent request on a reused connection would let its tail be read
//! as the next request). Never a panic.

use std::collections::HashMap;
use std::time::Instant;

use arbitrary::Arbitrary;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use spdygate::gateway::{BackendFailure, Policy, SpdyConnection};
use spdygate::spdy::frame::{
    begin_header_frame, data_head, finish_header_frame, Frame, HeaderFrameKind, RstStatus, RstStream, WindowUpdate,
};
use spdygate::spdy::header::{new_encoder, CompressorKind, HeaderBlock, HeaderEncoder};
use spdygate::spdy::session::{Role, Session, SessionConfig};
use spdygate::spdy::{StreamId, Version};

#[path = "../common/forwarded.rs"]
mod forwarded;

#[derive(Arbitrary, Debug)]
enum Op {
    Open { id: u8, method: u8, length: u8, extra: Vec<(u8, u8)>, fin: bool },
    Data { id: u8, len: u16, fin: bool },
    Trailers { id: u8, fin: bool, extra: Vec<(u8, u8)> },
    Rst { id: u8 },
    WindowUpdate { id: u8, delta: u16 },
    Split { size: u16 },
    /// The backend of the n-th exchange opened (low 6 bits) answers in full, whatever the
    /// request's state; with the high bit set it fails instead (bit 6: the connection
    /// breaks, else it closes before any byte), so retries go out too.
    Respond { which: u8 },
}

#[derive(Arbitrary, Debug)]
struct Input {
    version: u8,
    ops: Vec<Op>,
}

const METHODS: [&str; 4] = ["POST", "PUT", "GET", "HEAD"];
const LENGTHS: [Option<&str>; 6] = [None, Some("0"), Some("5"), Some("100"), Some("3000"), Some("x")];
const EXTRA: [&str; 8] = ["transfer-encoding", "te", "connection", "x-a", "content-length", "keep-alive", "trailer", "host"];
const VALUES: [&str; 5] = ["chunked", "trailers", "close", "1", "gzip, chunked"];

fn id(raw: u8) -> u32 {
    (u32::from(raw) % 16) * 2 + 1
}

/// The body byte at `offset` of stream `sid`: every stream's bytes differ, so a byte
/// forwarded on the wrong exchange or in the wrong order shows.
fn pattern(sid: u32, offset: usize) -> u8 {
    (sid as usize * 31 + offset * 7 + offset / 251) as u8
}

fn extra(block: &mut HeaderBlock, pairs: &[(u8, u8)]) {
    for &(n, v) in pairs.iter().take(4) {
        let name = EXTRA[usize::from(n) % EXTRA.len()];
        if block.iter().any(|(bn, _)| bn == name.as_bytes()) {
            continue; // a repeated name is a stream error (C40): covered elsewhere
        }
        block.push(name, VALUES[usize::from(v) % VALUES.len()]);
    }
}

fuzz_target!(|input: Input| {
    let version = [Version::Spdy31, Version::Spdy3, Version::Spdy2][usize::from(input.version % 3)];
    let colon = version != Version::Spdy2;
    let now = Instant::now();
    let session = Session::new(Role::Server, version, SessionConfig::default(), now);
    let mut conn = SpdyConnection::new(session, b"192.0.2.7", Policy::default());
    let mut encoder: Box<dyn HeaderEncoder> = new_encoder(version, &CompressorKind::default());
    // client bytes sent per stream, and what each exchange sent its backend
    let mut body_sent: HashMap<u32, usize> = HashMap::new();
    let mut backends = forwarded::Backends::default();
    let mut split = 4096usize;
    let mut alive = true;

    for op in input.ops.into_iter().take(200) {
        if !alive {
            break;
        }
        let mut frame = Vec::new();
        match op {
            Op::Open { id: raw, method, length, extra: pairs, fin } => {
                let sid = id(raw);
                // the stream's body starts here (DATA before it was refused, C66); opening
                // an id twice is a protocol error, and the first opening's bytes stand
                body_sent.entry(sid).or_insert(0);
                let method = METHODS[usize::from(method) % METHODS.len()];
                let path = format!("/echo/{sid}");
                let mut block = HeaderBlock::new();
                let names: [&str; 5] =
                    if colon { [":method", ":path", ":version", ":host", ":scheme"] } else { ["method", "url", "version", "host", "scheme"] };
                for (name, value) in names.iter().zip([method, path.as_str(), "HTTP/1.1", "origin.test", "http"]) {
                    block.push(*name, value);
                }
                if let Some(len) = LENGTHS[usize::from(length) % LENGTHS.len()] {
                    block.push("content-length", len);
                }
                extra(&mut block, &pairs);
                let kind = HeaderFrameKind::SynStream { stream_id: StreamId::new(sid), associated_to: StreamId::new(0), priority: 0, slot: 0 };
                let start = begin_header_frame(&mut frame, version, kind, u8::from(fin));
                encoder.encode(&block, &mut frame);
                finish_header_frame(&mut frame, start);
            }
            Op::Data { id: raw, len, fin } => {
                let sid = id(raw);
                let len = usize::from(len) % 5000;
                frame.extend_from_slice(&data_head(StreamId::new(sid), u8::from(fin), len));
                match body_sent.get_mut(&sid) {
                    Some(at) => {
                        frame.extend((0..len).map(|k| pattern(sid, *at + k)));
                        *at += len;
                    }
                    // a stream not opened: refused, never forwarded
                    None => frame.resize(8 + len, 0xee),
                }
            }
            Op::Trailers { id: raw, fin, extra: pairs } => {
                let mut block = HeaderBlock::new();
                block.push("x-trailer", "1");
                extra(&mut block, &pairs);
                let kind = HeaderFrameKind::Headers { stream_id: StreamId::new(id(raw)) };
                let start = begin_header_frame(&mut frame, version, kind, u8::from(fin));
                encoder.encode(&block, &mut frame);
                finish_header_frame(&mut frame, start);
            }
            Op::Rst { id: raw } => {
                Frame::RstStream(RstStream { stream_id: StreamId::new(id(raw)), status: RstStatus::CANCEL }).encode(version, &mut frame)
            }
            Op::WindowUpdate { id: raw, delta } => {
                let delta = u32::from(delta).max(1);
                Frame::WindowUpdate(WindowUpdate { stream_id: StreamId::new(id(raw)), delta }).encode(version, &mut frame)
            }
            Op::Split { size } => split = usize::from(size).max(1),
            Op::Respond { which } => {
                if let Some(&ex) = backends.opened.get(usize::from(which & 0x3f) % backends.opened.len().max(1)) {
                    match (which & 0x80 != 0, which & 0x40 != 0) {
                        (false, _) => conn.backend_recv(ex, Bytes::from_static(forwarded::ANSWER), now),
                        (true, true) => conn.backend_failed(ex, BackendFailure::Broken, now),
                        (true, false) => conn.backend_eof(ex, now),
                    }
                    forwarded::drain!(conn, backends, now);
                }
            }
        }
        for piece in frame.chunks(split) {
            if conn.recv_client(&Bytes::copy_from_slice(piece), now).is_err() {
                alive = false;
                break;
            }
            forwarded::drain!(conn, backends, now);
        }
    }
    forwarded::drain!(conn, backends, now);

    for (request, bytes) in backends.check() {
        let line_end = bytes.windows(2).position(|w| w == b"\r\n").expect("request line");
        let line = String::from_utf8_lossy(&bytes[..line_end]);
        let sid: u32 = line
            .split(' ')
            .nth(1)
            .and_then(|t| t.strip_prefix("/echo/"))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("target not from the block: {line}"));
        let client = body_sent.get(&sid).copied().unwrap_or(0);
        assert!(request.body.len() <= client, "stream {sid}: {} body bytes forwarded, {client} sent", request.body.len());
        for (k, &b) in request.body.iter().enumerate() {
            assert_eq!(b, pattern(sid, k), "stream {sid}: body byte {k} differs");
        }
    }
});
