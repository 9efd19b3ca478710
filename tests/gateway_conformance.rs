//! CONFORMANCE.md rules checked against the *running* gateway: the built `spdygate` in front
//! of the built `origin`, driven over a plain TCP socket with raw frames from the test-side
//! toolkit in `support/` (frame DSL, test zlib, server-stream parser), not with the crate's
//! own frame or header code. `spdy_conformance.rs` checks the same rules on an in-memory
//! Session; this file checks that the gateway (runtime + shard + backend glue) keeps them.
//! Every test starts its own processes on 127.0.0.1, bounds every read loop in time, and
//! kills what it started. The rule → test map is `tests/GATEWAY_CONFORMANCE.md`.

mod procs;
mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use spdygate::spdy::Version;
use procs::{spawn, Proc};
use support::parse::ServerParser;
use support::*;

const V2: Version = Version::Spdy2;
const V31: Version = Version::Spdy31;
/// Upper bound for any one wait on the gateway; reached only when a test fails.
const WAIT: Duration = Duration::from_secs(15);

// ===================================================================== processes

/// An origin and a one-shard gateway in front of it (dropped in reverse order).
struct Stack {
    gateway: Proc,
    _origin: Proc,
}

fn stack() -> Stack {
    let origin = spawn(env!("CARGO_BIN_EXE_origin"), &["--listen", "127.0.0.1:0", "--threads", "1", "--no-pin"]);
    let gateway = spawn(
        env!("CARGO_BIN_EXE_spdygate"),
        &["--listen", "127.0.0.1:0", "--shards", "1", "--backend", &origin.addr],
    );
    Stack { gateway, _origin: origin }
}

// ===================================================================== raw SPDY connection

/// A raw SPDY client socket: frames built by the DSL, replies split by the test parser.
struct Conn {
    sock: TcpStream,
    client: Client,
    parser: ServerParser,
    /// Every frame received so far, in order.
    rx: Vec<Rx>,
    closed: bool,
}

impl Conn {
    fn open(s: &Stack, version: Version) -> Conn {
        let sock = TcpStream::connect(&s.gateway.addr).expect("connect to the gateway");
        sock.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        sock.set_nodelay(true).unwrap();
        Conn { sock, client: Client::new(version), parser: ServerParser::new(version), rx: Vec::new(), closed: false }
    }

    fn send(&mut self, frame: &(impl Wire + ?Sized)) {
        let bytes = frame.wire(&mut self.client);
        self.sock.write_all(&bytes).expect("write to the gateway");
    }

    /// One bounded read; returns false once the peer has closed.
    fn read_once(&mut self) -> bool {
        if self.closed {
            return false;
        }
        let mut buf = vec![0u8; 64 * 1024];
        match self.sock.read(&mut buf) {
            Ok(0) => self.closed = true,
            Ok(n) => {
                for r in self.parser.push(&buf[..n]) {
                    match r {
                        Ok(f) => self.rx.push(f),
                        Err(v) => panic!("gateway sent a malformed frame: {v}"),
                    }
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
            Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted) => {
                self.closed = true
            }
            Err(e) => panic!("read from the gateway: {e}"),
        }
        !self.closed
    }

    /// Reads until `done(all frames so far)` holds, the peer closes, or `WAIT` passes.
    fn read_until(&mut self, mut done: impl FnMut(&[Rx]) -> bool) -> bool {
        let end = Instant::now() + WAIT;
        while Instant::now() < end {
            if done(&self.rx) {
                return true;
            }
            if !self.read_once() {
                return done(&self.rx);
            }
        }
        done(&self.rx)
    }

    /// Reads for `d` whatever arrives (a bounded drain).
    fn read_for(&mut self, d: Duration) {
        let end = Instant::now() + d;
        while Instant::now() < end && self.read_once() {}
    }

    /// Reads until the gateway closes the connection; panics after `WAIT`.
    fn until_closed(&mut self) {
        let end = Instant::now() + WAIT;
        while Instant::now() < end && self.read_once() {}
        assert!(self.closed, "gateway did not close within {WAIT:?}; got {:?}", summary(&self.rx));
    }

    /// Reads until stream `id` ends (FIN or RST), the peer closes, or `WAIT` passes.
    fn response(&mut self, id: u32) -> Response {
        self.read_until(|rx| stream_ended(rx, id));
        Response::of(&self.rx, id)
    }

    fn get(&mut self, id: u32, path: &str) {
        let v = self.client.version;
        self.send(&syn_stream(id).headers(&request_headers(v, path)).fin());
    }
}

fn stream_ended(rx: &[Rx], id: u32) -> bool {
    rx.iter().any(|f| match f {
        Rx::SynReply { id: i, fin, .. } | Rx::Data { id: i, fin, .. } | Rx::Headers { id: i, fin, .. } => {
            *i == id && *fin
        }
        Rx::Rst { id: i, .. } => *i == id,
        _ => false,
    })
}

/// Frame list without DATA payloads, for assertion messages.
fn summary(rx: &[Rx]) -> Vec<String> {
    rx.iter()
        .map(|f| match f {
            Rx::Data { id, fin, payload } => format!("Data {{ id: {id}, fin: {fin}, len: {} }}", payload.len()),
            Rx::SynReply { id, fin, headers } => {
                let h: Vec<String> = headers
                    .iter()
                    .map(|(n, v)| format!("{}={}", String::from_utf8_lossy(n), String::from_utf8_lossy(v)))
                    .collect();
                format!("SynReply {{ id: {id}, fin: {fin}, {h:?} }}")
            }
            other => format!("{other:?}"),
        })
        .collect()
}

/// What the gateway sent on one stream.
struct Response {
    /// Every frame on the stream, in order.
    frames: Vec<Rx>,
    headers: Option<Pairs>,
    body: Vec<u8>,
    fin: bool,
    rst: Option<u32>,
}

impl Response {
    fn of(rx: &[Rx], id: u32) -> Response {
        let frames: Vec<Rx> = rx.iter().filter(|f| f.stream() == Some(id)).cloned().collect();
        let mut r = Response { frames: frames.clone(), headers: None, body: Vec::new(), fin: false, rst: None };
        for f in frames {
            match f {
                Rx::SynReply { headers, fin, .. } => {
                    r.headers = Some(headers);
                    r.fin |= fin;
                }
                Rx::Data { payload, fin, .. } => {
                    r.body.extend(payload);
                    r.fin |= fin;
                }
                Rx::Headers { fin, .. } => r.fin |= fin,
                Rx::Rst { status, .. } => r.rst = Some(status),
                _ => {}
            }
        }
        r
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers.as_ref().and_then(|h| get(h, name)).map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// The status code (first token of `:status`, or `status` on SPDY/2).
    fn status(&self) -> Option<u16> {
        let s = self.header(":status").or_else(|| self.header("status"))?;
        s.split(' ').next()?.parse().ok()
    }

    fn syn_replies(&self) -> usize {
        self.frames.iter().filter(|f| matches!(f, Rx::SynReply { .. })).count()
    }

    fn data_frames(&self) -> usize {
        self.frames.iter().filter(|f| f.is_data()).count()
    }

    fn describe(&self) -> Vec<String> {
        summary(&self.frames)
    }
}

fn goaways(rx: &[Rx]) -> Vec<(u32, Option<u32>)> {
    rx.iter()
        .filter_map(|f| match f {
            Rx::GoAway { last_good, status } => Some((*last_good, *status)),
            _ => None,
        })
        .collect()
}

/// Expects GOAWAY(PROTOCOL_ERROR) and then the TCP close; C112: "exactly one GOAWAY with
/// the status, then close; no frames after it".
fn expect_goaway_protocol_error_and_close(c: &mut Conn) {
    c.until_closed();
    let g = goaways(&c.rx);
    assert!(
        g.len() == 1 && g[0].1 == Some(GOAWAY_PROTOCOL_ERROR),
        "expected exactly one GOAWAY(1) before the close, got {:?}",
        summary(&c.rx)
    );
    assert!(matches!(c.rx.last(), Some(Rx::GoAway { .. })), "frames after the GOAWAY: {:?}", summary(&c.rx));
}

/// A request that must be answered with 400 on a SYN_REPLY, not RST (C49).
fn expect_400(c: &mut Conn, id: u32) {
    let r = c.response(id);
    assert_eq!(r.rst, None, "stream {id} was reset, not answered: {:?}", r.describe());
    assert_eq!(r.syn_replies(), 1, "{:?}", r.describe());
    assert_eq!(r.status(), Some(400), "{:?}", r.describe());
    assert!(r.fin, "400 reply never ended: {:?}", r.describe());
}

/// The connection still serves a fresh GET after whatever happened on it.
fn expect_session_still_serves(c: &mut Conn, id: u32) {
    c.get(id, "/bytes/100");
    let r = c.response(id);
    assert_eq!(r.status(), Some(200), "the session no longer serves: {:?}", r.describe());
    assert_eq!(r.body.len(), 100);
    assert!(r.fin);
}

// ===================================================================== connection start

// C2: "server's first frame is SETTINGS containing MAX_CONCURRENT_STREAMS … and
// INITIAL_WINDOW_SIZE (≥ 65 536); no persistence flags"
// C3 (3.1): "server sends WINDOW_UPDATE(stream 0, delta ≥ 1) to raise its receive session window"
#[test]
fn first_frames_are_settings_then_session_window_update_c2_c3() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.send(&ping(1)); // the first bytes 80 03 select SPDY
    assert!(c.read_until(|rx| rx.iter().any(|f| matches!(f, Rx::Ping { id: 1 }))), "{:?}", summary(&c.rx));
    let Rx::Settings { flags, entries } = &c.rx[0] else { panic!("first frame is not SETTINGS: {:?}", summary(&c.rx)) };
    assert_eq!(*flags, 0, "SETTINGS frame flags");
    assert!(entries.iter().all(|&(f, _, _)| f & FLAG_PERSIST_VALUE == 0), "persist flag set: {entries:?}");
    assert!(entries.iter().any(|&(_, id, _)| id == SETTINGS_MAX_CONCURRENT_STREAMS), "{entries:?}");
    let window = entries.iter().find(|&&(_, id, _)| id == SETTINGS_INITIAL_WINDOW_SIZE).map(|e| e.2);
    assert!(matches!(window, Some(w) if w >= 65_536), "INITIAL_WINDOW_SIZE {window:?}");
    let first_wu = c.rx.iter().find_map(|f| match f {
        Rx::WindowUpdate { id, delta } => Some((*id, *delta)),
        _ => None,
    });
    assert!(matches!(first_wu, Some((0, d)) if d >= 1), "no session WINDOW_UPDATE: {:?}", summary(&c.rx));
}

// C99: "PING with an odd ID → identical PING sent back"
#[test]
fn ping_with_an_odd_id_is_echoed_c99() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.send(&ping(7));
    c.send(&ping(0x7fff_ffff));
    assert!(
        c.read_until(|rx| {
            rx.contains(&Rx::Ping { id: 7 }) && rx.contains(&Rx::Ping { id: 0x7fff_ffff })
        }),
        "{:?}",
        summary(&c.rx)
    );
    assert!(goaways(&c.rx).is_empty());
}

// ===================================================================== responses

// C20: "valid SYN_STREAM … answered by exactly one SYN_REPLY"; C60: "SYN_REPLY first, then
// DATA frames, last with FIN"
#[test]
fn get_is_answered_by_one_syn_reply_then_data_then_fin_c20_c60() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.get(1, "/bytes/100");
    let r = c.response(1);
    assert_eq!(r.syn_replies(), 1, "{:?}", r.describe());
    assert!(matches!(r.frames.first(), Some(Rx::SynReply { .. })), "DATA before SYN_REPLY: {:?}", r.describe());
    assert_eq!(r.status(), Some(200));
    assert_eq!(r.header(":version").as_deref(), Some("HTTP/1.1"));
    assert_eq!(r.body.len(), 100);
    assert!(r.fin && r.rst.is_none(), "{:?}", r.describe());
    let Some(Rx::Data { fin: true, .. }) = r.frames.last() else { panic!("last frame is not DATA+FIN: {:?}", r.describe()) };
    // nothing after FIN on this stream
    c.read_for(Duration::from_millis(200));
    assert_eq!(Response::of(&c.rx, 1).frames.len(), r.frames.len());
}

// C57: "SYN_REPLY contains :status and :version; all names lowercase; no connection,
// keep-alive, proxy-connection, transfer-encoding"
#[test]
fn reply_headers_are_lowercase_without_hop_by_hop_names_c57() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    // a chunked backend response carries transfer-encoding; a keep-alive one may carry connection
    c.get(1, "/chunked/300/100");
    c.get(3, "/bytes/10");
    c.get(5, "/status/404");
    for id in [1, 3, 5] {
        let r = c.response(id);
        let h = r.headers.clone().unwrap_or_else(|| panic!("no SYN_REPLY on {id}: {:?}", r.describe()));
        assert!(r.header(":status").is_some() && r.header(":version").is_some(), "{:?}", r.describe());
        for (n, _) in &h {
            let name = String::from_utf8_lossy(n);
            assert_eq!(name, name.to_ascii_lowercase(), "upper-case header name on {id}");
            assert!(
                !["connection", "keep-alive", "proxy-connection", "transfer-encoding"].contains(&name.as_ref()),
                "hop-by-hop header {name} on stream {id}"
            );
        }
    }
}

fn head_request(v: Version, path: &str) -> Pairs {
    request_headers(v, path).into_iter().map(|(n, val)| if n == b":method" { (n, b"HEAD".to_vec()) } else { (n, val) }).collect()
}

// C59: "HEAD request, or 204 / 304 upstream response → SYN_REPLY carries FLAG_FIN; no DATA"
#[test]
fn head_and_204_replies_carry_fin_and_no_data_c59() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.send(&syn_stream(1).headers(&head_request(V31, "/bytes/1000")).fin());
    c.get(3, "/status/204");
    c.get(5, "/status/304");
    for id in [1, 3, 5] {
        let r = c.response(id);
        assert!(matches!(r.frames.first(), Some(Rx::SynReply { fin: true, .. })), "stream {id}: {:?}", r.describe());
        assert_eq!(r.data_frames(), 0, "stream {id}: {:?}", r.describe());
    }
    assert_eq!(Response::of(&c.rx, 3).status(), Some(204));
    assert_eq!(Response::of(&c.rx, 5).status(), Some(304));
    c.read_for(Duration::from_millis(200));
    assert_eq!(Response::of(&c.rx, 1).data_frames(), 0, "DATA after a HEAD reply");
}

// C61: "upstream uses chunked transfer-encoding → body de-chunked into DATA frames; no
// chunk syntax in DATA"
#[test]
fn chunked_backend_body_arrives_dechunked_c61() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.get(1, "/chunked/5000/100");
    let r = c.response(1);
    assert_eq!(r.status(), Some(200), "{:?}", r.describe());
    assert!(r.fin);
    assert_eq!(r.body.len(), 5000, "DATA total is not the de-chunked length");
    // the 100-byte chunk sizes ("64\r\n") must not appear between chunks
    assert!(!r.body.windows(4).any(|w| w == b"\r\n64"), "chunk syntax in DATA");
}

// ===================================================================== request validation

fn without(p: Pairs, name: &str) -> Pairs {
    p.into_iter().filter(|(n, _)| n != name.as_bytes()).collect()
}

// C49: "SYN_STREAM missing any of :method, :path, :version, :host, :scheme → SYN_REPLY with
// :status 400 …, then FIN; not RST_STREAM"
#[test]
fn request_missing_a_required_header_gets_400_not_rst_c49() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    for (i, name) in [":host", ":method", ":path", ":version", ":scheme"].iter().enumerate() {
        let id = 1 + 2 * i as u32;
        c.send(&syn_stream(id).headers(&without(request_headers(V31, "/bytes/10"), name)).fin());
        expect_400(&mut c, id);
    }
    expect_session_still_serves(&mut c, 11);
}

// C50: "unknown :-prefixed name (e.g. :foo) → 400 as in C49"
#[test]
fn unknown_colon_header_gets_400_c50() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    let mut h = request_headers(V31, "/bytes/10");
    h.push((b":foo".to_vec(), b"bar".to_vec()));
    c.send(&syn_stream(1).headers(&h).fin());
    expect_400(&mut c, 1);
}

// C52: ":method not an HTTP token, or :path not starting with / …, or :path containing
// space/CTL → 400"
#[test]
fn bad_path_or_method_gets_400_c52() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.send(&syn_stream(1).headers(&request_headers(V31, "bytes/10")).fin());
    expect_400(&mut c, 1);
    c.send(&syn_stream(3).headers(&request_headers(V31, "/bytes/10 HTTP/1.1")).fin());
    expect_400(&mut c, 3);
    let bad_method: Pairs = request_headers(V31, "/bytes/10")
        .into_iter()
        .map(|(n, v)| if n == b":method" { (n, b"G(E)T".to_vec()) } else { (n, v) })
        .collect();
    c.send(&syn_stream(5).headers(&bad_method).fin());
    expect_400(&mut c, 5);
}

// Beside C52 (the gateway's own rule, RFC 9110 §5.1): a header name that is not an HTTP
// token gets 400. The SPDY decoder admits every visible ASCII byte but uppercase in a name
// (C38, C39), and "x-forwarded-for:1.2.3.4: x" would reach the backend as X-Forwarded-For
// "1.2.3.4: x", a header the gateway never checked
#[test]
fn header_name_that_is_not_a_token_gets_400() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    for (i, name) in ["x-forwarded-for:1.2.3.4", "transfer-encoding:chunked", "x(y)"].iter().enumerate() {
        let id = 1 + 2 * i as u32;
        let mut h = request_headers(V31, "/bytes/10");
        h.push((name.as_bytes().to_vec(), b"x".to_vec()));
        c.send(&syn_stream(id).headers(&h).fin());
        expect_400(&mut c, id);
    }
    expect_session_still_serves(&mut c, 7);
}

// C42: "value containing CR, LF or another control byte except HTAB … → RST(id,
// PROTOCOL_ERROR); nothing forwarded upstream" (a request-splitting attempt in :path)
#[test]
fn crlf_in_a_header_value_resets_the_stream_and_the_session_goes_on_c42() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.send(&syn_stream(1).headers(&request_headers(V31, "/bytes/10 HTTP/1.1\r\nx: y")).fin());
    let r = c.response(1);
    assert_eq!(r.rst, Some(PROTOCOL_ERROR), "{:?}", r.describe());
    assert!(r.headers.is_none(), "a reply was sent for a reset stream: {:?}", r.describe());
    assert!(goaways(&c.rx).is_empty());
    expect_session_still_serves(&mut c, 3);
}

// C53: "request carries connection, host, keep-alive, proxy-connection, transfer-encoding →
// these headers are dropped" (origin does not echo headers: the check is that the request
// is served normally instead of being framed or routed by them)
#[test]
fn hop_by_hop_request_headers_do_not_break_the_request_c53() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    let mut h = request_headers(V31, "/bytes/100");
    for (n, v) in [
        ("connection", "close"),
        ("host", "evil.example"),
        ("keep-alive", "timeout=1"),
        ("proxy-connection", "close"),
        ("transfer-encoding", "chunked"),
    ] {
        h.push((n.as_bytes().to_vec(), v.as_bytes().to_vec()));
    }
    c.send(&syn_stream(1).headers(&h).fin());
    let r = c.response(1);
    assert_eq!(r.status(), Some(200), "{:?}", r.describe());
    assert_eq!(r.body.len(), 100);
    assert!(r.fin);
    // a backend connection told "connection: close" would be gone: the next request works too
    expect_session_still_serves(&mut c, 3);
}

// C54: "request body DATA total ≠ content-length (… at FIN) → if no SYN_REPLY sent yet: 400"
#[test]
fn short_request_body_against_content_length_gets_400_c54() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.send(&syn_stream(1).headers(&post_echo(&[("content-length", "10")])));
    c.send(&data(1, b"12345".to_vec()).fin());
    let r = c.response(1);
    assert_eq!(r.rst, None, "reset instead of 400: {:?}", r.describe());
    assert_eq!(r.status(), Some(400), "{:?}", r.describe());
    assert!(r.fin);
}

// C54 at FIN: "request body DATA total ≠ content-length (… at FIN) → 400" when the FIN
// comes on the SYN_STREAM itself, with no DATA at all. Forwarded, the backend connection
// owed 5 body bytes and went back to the pool: the next request on it was read as the
// body (found by the spdyfront fuzz target)
#[test]
fn declared_body_with_fin_on_syn_stream_gets_400_and_the_backend_stays_clean_c54() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.send(&syn_stream(1).headers(&post_echo(&[("content-length", "5")])).fin());
    let r = c.response(1);
    assert_eq!(r.rst, None, "reset instead of 400: {:?}", r.describe());
    assert_eq!(r.status(), Some(400), "{:?}", r.describe());
    assert!(r.fin);
    for id in [3, 5, 7] {
        expect_session_still_serves(&mut c, id);
    }
}

fn post_echo(extra: &[(&str, &str)]) -> Pairs {
    request_headers(V31, "/echo")
        .into_iter()
        .map(|(n, v)| if n == b":method" { (n, b"POST".to_vec()) } else { (n, v) })
        .chain(extra.iter().map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec())))
        .collect()
}

// C51: "a :-header with NUL-joined multiple values → 400"
#[test]
fn nul_joined_values_in_a_colon_header_get_400_c51() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.send(&syn_stream(1).headers(&request_headers(V31, "/bytes/10\0/bytes/20")).fin());
    expect_400(&mut c, 1);
}

// C55: "request with body split over several DATA frames, last with FIN → complete body
// forwarded" (origin /echo sends it back)
#[test]
fn request_body_split_over_data_frames_is_forwarded_whole_c55() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    let body = noise(30_000, 7);
    c.send(&syn_stream(1).headers(&post_echo(&[("content-length", "30000")])));
    for (i, part) in body.chunks(7_000).enumerate() {
        let d = data(1, part.to_vec());
        c.send(&if i == 4 { d.fin() } else { d });
    }
    let r = c.response(1);
    assert_eq!(r.status(), Some(200), "{:?}", r.describe());
    assert!(r.fin);
    assert!(r.body == body, "echoed body differs ({} bytes back)", r.body.len());
}

// C56: "HEADERS frame on an open request stream → treated as trailers: forwarded only with a
// chunked upstream body, else dropped; no error"
#[test]
fn headers_mid_request_are_trailers_not_an_error_c56() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.send(&syn_stream(1).headers(&post_echo(&[])));
    c.send(&data(1, b"abc".to_vec()));
    c.send(&headers(1).header("x-trailer", "yes"));
    c.send(&data(1, b"def".to_vec()).fin());
    let r = c.response(1);
    assert_eq!(r.rst, None, "{:?}", r.describe());
    assert_eq!(r.status(), Some(200), "{:?}", r.describe());
    assert_eq!(r.body, b"abcdef");
    assert!(goaways(&c.rx).is_empty());
}

// C56 bounded: trailers add up over HEADERS frames; past http1::body::MAX_TRAILER_BYTES (16 KiB) the
// stream is reset FRAME_TOO_LARGE instead of the gateway buffering them without end
// (found by the spdyfront fuzz target), and the session goes on
#[test]
fn trailers_piling_up_over_headers_frames_reset_the_stream_c56() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.send(&syn_stream(1).headers(&post_echo(&[])));
    c.send(&data(1, b"abc".to_vec()));
    let value = "v".repeat(1000);
    for k in 0..20 {
        c.send(&headers(1).header(&format!("x-trailer-{k}"), &value));
    }
    let r = c.response(1);
    assert_eq!(r.rst, Some(FRAME_TOO_LARGE), "{:?}", r.describe());
    assert!(goaways(&c.rx).is_empty());
    expect_session_still_serves(&mut c, 3);
}

// ===================================================================== session errors

// C7: "RST_STREAM with length ≠ 8 → GOAWAY(1)+close"
#[test]
fn rst_stream_of_length_9_is_goaway_protocol_error_c7() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.send(&control_frame(3, 3, 0, &[0, 0, 0, 1, 0, 0, 0, 5, 0]));
    expect_goaway_protocol_error_and_close(&mut c);
}

// C21: "SYN_STREAM with stream ID 0 → GOAWAY(1)+close"
#[test]
fn syn_stream_with_id_0_is_goaway_protocol_error_c21() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.send(&syn_stream(0).headers(&request_headers(V31, "/bytes/10")).fin());
    expect_goaway_protocol_error_and_close(&mut c);
}

// C23: "SYN_STREAM whose ID is lower than a previously received client ID → GOAWAY(1)+close"
#[test]
fn syn_stream_with_a_decreasing_id_is_goaway_protocol_error_c23() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.get(3, "/bytes/10");
    c.get(1, "/bytes/10");
    expect_goaway_protocol_error_and_close(&mut c);
    assert!(goaways(&c.rx).iter().any(|&(last, _)| last == 3), "last-good is not 3: {:?}", summary(&c.rx));
}

// C62: "DATA with stream ID 0 → GOAWAY(1)+close"
#[test]
fn data_on_stream_0_is_goaway_protocol_error_c62() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.send(&ping(1)); // start the session with a valid frame first
    c.send(&data(0, b"hello".to_vec()));
    expect_goaway_protocol_error_and_close(&mut c);
}

// C22: "SYN_STREAM with an even stream ID from the client → GOAWAY(1)+close"
#[test]
fn syn_stream_with_an_even_id_is_goaway_protocol_error_c22() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.get(2, "/bytes/10");
    expect_goaway_protocol_error_and_close(&mut c);
}

// C24: "second SYN_STREAM with the same ID as the last one received → inflate;
// RST(id, PROTOCOL_ERROR)" (the session goes on: the inflater stayed in sync)
#[test]
fn repeated_stream_id_is_reset_and_the_session_goes_on_c24() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.get(1, "/slow/1000/100");
    c.get(1, "/bytes/10");
    assert!(
        c.read_until(|rx| rx.contains(&Rx::Rst { id: 1, status: PROTOCOL_ERROR })),
        "{:?}",
        summary(&c.rx)
    );
    assert!(goaways(&c.rx).is_empty());
    expect_session_still_serves(&mut c, 3);
}

// C80 (3.1): "WINDOW_UPDATE(0) with delta 0 → GOAWAY(1)+close"
#[test]
fn session_window_update_of_zero_is_goaway_protocol_error_c80() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.send(&window_update(0, 0));
    expect_goaway_protocol_error_and_close(&mut c);
}

// C89: "client SETTINGS INITIAL_WINDOW_SIZE > 2^31−1 → GOAWAY(1)+close"
#[test]
fn initial_window_above_2_31_is_goaway_protocol_error_c89() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.send(&settings().initial_window(0x8000_0000));
    expect_goaway_protocol_error_and_close(&mut c);
}

// C100: "PING with an even ID the server did not send (incl. 0) → ignored, no reply"
#[test]
fn ping_with_an_even_id_is_not_answered_c100() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.send(&ping(2));
    c.send(&ping(0));
    c.send(&ping(9));
    assert!(c.read_until(|rx| rx.contains(&Rx::Ping { id: 9 })), "{:?}", summary(&c.rx));
    c.read_for(Duration::from_millis(300));
    let pings: Vec<&Rx> = c.rx.iter().filter(|f| matches!(f, Rx::Ping { .. })).collect();
    assert_eq!(pings, [&Rx::Ping { id: 9 }], "{:?}", summary(&c.rx));
    assert!(goaways(&c.rx).is_empty());
}

// C123: "DATA frame length ≤ min(stream send window, session send window in 3.1)": with the
// default 64 KiB windows the gateway stops at 65 536 bytes and resumes on WINDOW_UPDATE
#[test]
fn data_stays_within_the_client_windows_and_resumes_on_window_update_c123() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.get(1, "/bytes/200000?nosha");
    c.read_until(|rx| Response::of(rx, 1).body.len() >= 65_536);
    c.read_for(Duration::from_millis(500));
    let stalled = Response::of(&c.rx, 1);
    assert_eq!(stalled.body.len(), 65_536, "sent beyond (or short of) the 64 KiB window: {:?}", stalled.describe());
    assert!(!stalled.fin);
    c.send(&window_update(1, 200_000));
    c.send(&window_update(0, 200_000));
    let r = c.response(1);
    assert_eq!(r.body.len(), 200_000, "{:?}", r.describe());
    assert!(r.fin);
}

// C12a: "SYN_STREAM with length exactly 10 (empty compressed block) → RST(id, PROTOCOL_ERROR)
// as in C44 (zlib state untouched); session continues (sync check)"
#[test]
fn syn_stream_with_an_empty_block_is_reset_and_the_session_goes_on_c12a() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.send(&syn_stream(1).compressed(Vec::new()).fin());
    assert!(c.read_until(|rx| rx.contains(&Rx::Rst { id: 1, status: PROTOCOL_ERROR })), "{:?}", summary(&c.rx));
    assert!(goaways(&c.rx).is_empty());
    expect_session_still_serves(&mut c, 3);
}

// C13: "unknown control frame type (e.g. 11, 0xf000, 0) → payload skipped, frame ignored,
// session continues (next PING answered)"
#[test]
fn unknown_control_frame_types_are_skipped_c13() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.send(&ping(1));
    for ty in [11u16, 0xf000, 0] {
        c.send(&control_frame(3, ty, 0, &[0xab; 13]));
    }
    c.send(&ping(3));
    assert!(c.read_until(|rx| rx.contains(&Rx::Ping { id: 3 })), "{:?}", summary(&c.rx));
    assert!(goaways(&c.rx).is_empty());
    expect_session_still_serves(&mut c, 1);
}

// C16: "SYN_STREAM with version field 2 on a spdy/3.x session → inflate; RST(id,
// UNSUPPORTED_VERSION)"
#[test]
fn syn_stream_with_version_2_on_a_spdy3_session_is_refused_as_unsupported_c16() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    // first bytes 80 03 make the session SPDY/3.1 (80 02 first would make it SPDY/2)
    c.send(&ping(1));
    assert!(c.read_until(|rx| rx.contains(&Rx::Ping { id: 1 })), "{:?}", summary(&c.rx));
    c.send(&syn_stream(1).headers(&request_headers(V31, "/bytes/10")).version(2).fin());
    assert!(c.read_until(|rx| rx.contains(&Rx::Rst { id: 1, status: UNSUPPORTED_VERSION })), "{:?}", summary(&c.rx));
    assert!(Response::of(&c.rx, 1).headers.is_none());
    assert!(goaways(&c.rx).is_empty());
    expect_session_still_serves(&mut c, 3);
}

// C40: "the same name twice in one block → RST(id, PROTOCOL_ERROR)"
#[test]
fn the_same_header_name_twice_resets_the_stream_c40() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    let mut h = request_headers(V31, "/bytes/10");
    h.push((b"user-agent".to_vec(), b"twice".to_vec()));
    c.send(&syn_stream(1).headers(&h).fin());
    assert!(c.read_until(|rx| rx.contains(&Rx::Rst { id: 1, status: PROTOCOL_ERROR })), "{:?}", summary(&c.rx));
    assert!(Response::of(&c.rx, 1).headers.is_none());
    expect_session_still_serves(&mut c, 3);
}

// C97: "SETTINGS arriving at any time, several times → later values override earlier ones; no
// reply frame": INITIAL_WINDOW_SIZE 1000 then 3000 → a new stream gets exactly 3000 bytes
#[test]
fn later_settings_override_earlier_ones_c97() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.send(&settings().initial_window(1000));
    c.send(&settings().initial_window(3000));
    c.get(1, "/bytes/10000?nosha");
    c.read_until(|rx| Response::of(rx, 1).body.len() >= 3000);
    c.read_for(Duration::from_millis(500));
    let stalled = Response::of(&c.rx, 1);
    assert_eq!(stalled.body.len(), 3000, "{:?}", stalled.describe());
    let settings_frames = c.rx.iter().filter(|f| matches!(f, Rx::Settings { .. })).count();
    assert_eq!(settings_frames, 1, "SETTINGS answered: {:?}", summary(&c.rx));
    c.send(&window_update(1, 7000));
    let r = c.response(1);
    assert_eq!(r.body.len(), 10_000, "{:?}", r.describe());
    assert!(r.fin);
}

// C99: "PING with an odd ID → identical PING sent back, ahead of queued DATA": the echo comes
// while a 1 GB body is still streaming, not after it
#[test]
fn ping_is_echoed_ahead_of_a_streaming_body_c99() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.send(&settings().initial_window(1 << 30));
    c.send(&window_update(0, (1 << 30) - 65_536));
    c.get(1, "/bytes/1000000000?nosha");
    assert!(c.read_until(|rx| rx.iter().any(|f| matches!(f, Rx::Data { id: 1, .. }))), "{:?}", summary(&c.rx));
    c.send(&ping(11));
    assert!(c.read_until(|rx| rx.contains(&Rx::Ping { id: 11 }) || stream_ended(rx, 1)), "{:?}", summary(&c.rx));
    assert!(c.rx.contains(&Rx::Ping { id: 11 }), "no echo before the body ended");
    assert!(!stream_ended(&c.rx, 1), "the echo waited for the whole body");
    c.send(&rst_stream(1, CANCEL));
}

// C105: "RST_STREAM for an unknown or closed stream → ignored; no RST_STREAM in reply"
#[test]
fn rst_stream_for_an_unknown_stream_is_ignored_c105() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.send(&rst_stream(99, CANCEL));
    expect_session_still_serves(&mut c, 1);
    c.send(&rst_stream(1, CANCEL)); // closed by now
    c.read_for(Duration::from_millis(300));
    assert!(!c.rx.iter().any(|f| matches!(f, Rx::Rst { .. })), "{:?}", summary(&c.rx));
    assert!(goaways(&c.rx).is_empty());
    expect_session_still_serves(&mut c, 3);
}

// C107: "RST_STREAM with stream ID 0 → GOAWAY(1)+close"
#[test]
fn rst_stream_for_stream_0_is_goaway_protocol_error_c107() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.send(&rst_stream(0, CANCEL));
    expect_goaway_protocol_error_and_close(&mut c);
}

// C117: "SYN_REPLY from the client (any stream) → inflate; RST(id, PROTOCOL_ERROR)"
#[test]
fn syn_reply_from_the_client_is_reset_c117() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.send(&syn_reply(2).header(":status", "200").header(":version", "HTTP/1.1"));
    assert!(c.read_until(|rx| rx.contains(&Rx::Rst { id: 2, status: PROTOCOL_ERROR })), "{:?}", summary(&c.rx));
    assert!(goaways(&c.rx).is_empty());
    expect_session_still_serves(&mut c, 1);
}

// ===================================================================== cancel and shutdown

// C104: "RST_STREAM(CANCEL) on an active request stream → stream closed; server sends nothing
// more on it; … no RST_STREAM in reply"
#[test]
fn cancelled_download_stops_and_the_session_goes_on_c104() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    // open the windows wide so that only the cancel can stop a 1 GB body (10 MB can arrive
    // whole within the drain on loopback, which would leave nothing to check)
    c.send(&settings().initial_window(1 << 30));
    c.send(&window_update(0, (1 << 30) - 65_536));
    c.get(1, "/bytes/1000000000?nosha");
    assert!(c.read_until(|rx| rx.iter().any(|f| matches!(f, Rx::Data { id: 1, .. }))), "{:?}", summary(&c.rx));
    c.send(&rst_stream(1, CANCEL));
    // frames already in flight when the cancel arrived may still come
    c.read_for(Duration::from_millis(1000));
    let before = Response::of(&c.rx, 1);
    assert!(before.body.len() < 1_000_000_000 && !before.fin, "the body completed before the cancel; test proves nothing");
    c.read_for(Duration::from_millis(1000));
    let after = Response::of(&c.rx, 1);
    assert_eq!(after.frames.len(), before.frames.len(), "frames on stream 1 after its cancel: {} more bytes", after.body.len() - before.body.len());
    assert_eq!(after.rst, None, "the gateway answered RST with RST");
    assert!(goaways(&c.rx).is_empty());
    expect_session_still_serves(&mut c, 3);
}

fn wait_exit(p: &mut Proc) -> Option<std::process::ExitStatus> {
    let end = Instant::now() + WAIT;
    while Instant::now() < end {
        if let Ok(Some(st)) = p.child.try_wait() {
            return Some(st);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

// C111: "server shuts down gracefully → GOAWAY(0) with Last-good = highest accepted client
// stream; streams ≤ Last-good completed; then close"; C6: "GOAWAY(0) precedes the TCP close"
#[test]
fn sigterm_sends_goaway_ok_finishes_the_stream_and_closes_c6_c28_c111() {
    let mut s = stack();
    let mut c = Conn::open(&s, V31);
    c.get(1, "/bytes/10");
    c.get(3, "/slow/20000/100");
    assert!(c.read_until(|rx| rx.iter().any(|f| matches!(f, Rx::SynReply { id: 3, .. }))), "{:?}", summary(&c.rx));
    assert!(!stream_ended(&c.rx, 3), "slow response ended before the signal");
    let pid = s.gateway.child.id() as libc::pid_t;
    // SAFETY: `pid` is our own live child process; kill(2) has no memory effects here.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    assert!(c.read_until(|rx| !goaways(rx).is_empty()), "no GOAWAY after SIGTERM: {:?}", summary(&c.rx));
    // C28: "SYN_STREAM after the server has sent GOAWAY → no reply at all; existing streams continue"
    c.get(5, "/bytes/10");
    c.until_closed();
    let g = goaways(&c.rx);
    assert_eq!(g, [(3, Some(GOAWAY_OK))], "{:?}", summary(&c.rx));
    assert!(Response::of(&c.rx, 5).frames.is_empty(), "stream 5 after GOAWAY was answered: {:?}", summary(&c.rx));
    let r = Response::of(&c.rx, 3);
    assert!(r.fin && r.rst.is_none(), "in-flight stream not completed: {:?}", r.describe());
    assert_eq!(r.body.len(), 20_000);
    let st = wait_exit(&mut s.gateway).expect("gateway still running after SIGTERM");
    assert!(st.success(), "gateway exit status {st:?}");
    let _ = c.sock.shutdown(Shutdown::Both);
}

// C110: "client sends GOAWAY → … open request streams are completed; then the server closes"
#[test]
fn client_goaway_lets_the_open_stream_finish_then_the_gateway_closes_c110() {
    let s = stack();
    let mut c = Conn::open(&s, V31);
    c.get(1, "/slow/5000/100");
    assert!(c.read_until(|rx| rx.iter().any(|f| matches!(f, Rx::SynReply { id: 1, .. }))), "{:?}", summary(&c.rx));
    c.send(&goaway(0, GOAWAY_OK));
    c.until_closed();
    let r = Response::of(&c.rx, 1);
    assert!(r.fin && r.rst.is_none(), "open stream not completed: {:?}", r.describe());
    assert_eq!(r.body.len(), 5000);
}

// C113: "no stream was ever accepted when the server sends GOAWAY → Last-good-stream-ID = 0"
#[test]
fn sigterm_on_a_session_without_streams_sends_goaway_last_good_0_c113() {
    let mut s = stack();
    let mut c = Conn::open(&s, V31);
    c.send(&ping(1));
    assert!(c.read_until(|rx| rx.contains(&Rx::Ping { id: 1 })), "{:?}", summary(&c.rx));
    let pid = s.gateway.child.id() as libc::pid_t;
    // SAFETY: `pid` is our own live child process; kill(2) has no memory effects here.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    c.until_closed();
    assert_eq!(goaways(&c.rx), [(0, Some(GOAWAY_OK))], "{:?}", summary(&c.rx));
    let st = wait_exit(&mut s.gateway).expect("gateway still running after SIGTERM");
    assert!(st.success(), "gateway exit status {st:?}");
}

// ===================================================================== SPDY/2

// E4: "Request names method, url, version, scheme + ordinary host; response status, version"
#[test]
fn spdy2_get_is_answered_with_status_and_version_e4() {
    let s = stack();
    let mut c = Conn::open(&s, V2);
    c.get(1, "/bytes/100");
    let r = c.response(1);
    assert_eq!(r.syn_replies(), 1, "{:?}", r.describe());
    assert_eq!(r.status(), Some(200), "{:?}", r.describe());
    assert_eq!(r.header("version").as_deref(), Some("HTTP/1.1"));
    assert!(r.header(":status").is_none(), "SPDY/3 names on a SPDY/2 reply");
    assert_eq!(r.body.len(), 100);
    assert!(r.fin);
}

// E4 + C49: "C49 requires method, url, version (and the gateway needs host or an absolute
// url)" — a SPDY/2 request without `url` is answered 400 with SPDY/2 names, not reset
#[test]
fn spdy2_request_without_url_gets_400_e4_c49() {
    let s = stack();
    let mut c = Conn::open(&s, V2);
    c.send(&syn_stream(1).headers(&without(request_headers(V2, "/bytes/10"), "url")).fin());
    let r = c.response(1);
    assert_eq!(r.rst, None, "reset instead of 400: {:?}", r.describe());
    assert_eq!(r.status(), Some(400), "{:?}", r.describe());
    assert!(r.header("status").is_some() && r.header(":status").is_none(), "{:?}", r.describe());
    assert!(r.fin);
    expect_session_still_serves(&mut c, 3);
}

// E1: "Control frames carry version 2; GOAWAY is 4 bytes (no status)" — a SPDY/2 session
// error (even stream id, C22) ends with a 4-byte GOAWAY and the close
#[test]
fn spdy2_session_error_sends_a_4_byte_goaway_and_closes_e1_c22() {
    let s = stack();
    let mut c = Conn::open(&s, V2);
    c.get(2, "/bytes/10");
    c.until_closed();
    // the parser rejects a GOAWAY of any other length or version on a SPDY/2 connection
    assert_eq!(goaways(&c.rx), [(0, None)], "{:?}", summary(&c.rx));
    assert!(matches!(c.rx.last(), Some(Rx::GoAway { .. })));
}

// E5: "No flow control: … WINDOW_UPDATE is ignored" — a SPDY/2 client that never sends
// WINDOW_UPDATE still receives a body larger than 64 KiB
#[test]
fn spdy2_body_larger_than_64k_needs_no_window_update_e5() {
    let s = stack();
    let mut c = Conn::open(&s, V2);
    c.get(1, "/bytes/300000?nosha");
    let r = c.response(1);
    assert_eq!(r.status(), Some(200), "{:?}", r.describe());
    assert_eq!(r.body.len(), 300_000);
    assert!(r.fin);
}

// ===================================================================== index

#[test]
fn gateway_conformance_md_lists_every_test_of_this_file() {
    let index = include_str!("GATEWAY_CONFORMANCE.md");
    let src = include_str!("gateway_conformance.rs");
    let lines: Vec<&str> = src.lines().collect();
    let names: Vec<&str> = lines
        .windows(2)
        .filter(|w| w[0].trim() == "#[test]")
        .filter_map(|w| w[1].strip_prefix("fn ").and_then(|r| r.split('(').next()))
        .filter(|n| *n != "gateway_conformance_md_lists_every_test_of_this_file")
        .collect();
    assert!(names.len() >= 20);
    for n in &names {
        assert!(index.contains(&format!("`{n}`")), "{n} is missing from tests/GATEWAY_CONFORMANCE.md");
    }
    for piece in index.split('`').skip(1).step_by(2) {
        if piece.contains('_') && !piece.contains('.') && !piece.contains('/') && piece.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            assert!(names.contains(&piece), "tests/GATEWAY_CONFORMANCE.md names {piece}, which is not a test");
        }
    }
}
