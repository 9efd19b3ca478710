//! A small blocking driver that runs our sans-IO [`Session`] over a real `TcpStream`,
//! for the interop tests only: [`run_client`] plays a SPDY client, [`serve`] a SPDY
//! server with the same two routes as `tests/interop/server.js`.
//!
//! It follows the session's call contract literally (read → `recv` until `Ok(None)` →
//! act on events → `poll_transmit` → write → timers) and refuses to be clever: one
//! connection, blocking writes, short read timeouts, a hard deadline on every loop.
//! It is test support, not the gateway.

#![allow(dead_code, unreachable_pub)]

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use spdygate::spdy::frame::{GoAwayStatus, RstStatus};
use spdygate::spdy::header::HeaderBlock;
use spdygate::spdy::session::Transmit;
use spdygate::spdy::{Event, Role, Session, SessionConfig, StreamId, Version};

/// How long one blocking read waits before the loop looks at timers and the deadline.
const READ_POLL: Duration = Duration::from_millis(5);
/// How long the peer must stay silent before [`serve`] releases held answers.
const HOLD_QUIET: Duration = Duration::from_millis(300);
/// How long a closing driver waits for the peer to close its side.
const LINGER: Duration = Duration::from_secs(3);
/// Bytes of each direction kept for the frame log printed on failure.
const TRACE_BYTES: usize = 256 * 1024;

/// Byte `i` of the deterministic body pattern `seed`: the top byte of a Knuth
/// multiplicative hash, identical to `patternByte` in `tests/interop/common.js`. GET
/// /bytes/N bodies use seed 0; the client's POST body for request `k` uses seed `k + 1`.
pub fn pattern_byte(i: u64, seed: u32) -> u8 {
    let x = (i as u32).wrapping_add(seed.wrapping_mul(0x9e37_79b1));
    (x.wrapping_mul(0x9e37_79b1) >> 24) as u8
}

pub fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u64).map(|i| pattern_byte(i, seed)).collect()
}

/// The `x-pad` header value of `len` characters (`padString` in common.js): close to
/// incompressible, to push header blocks far past the 2 KiB compression window.
pub fn pad_string(len: usize) -> String {
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..len as u64).map(|i| ALPHABET[pattern_byte(i, 99) as usize % 36] as char).collect()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// One request for [`run_client`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: &'static str,
    pub path: String,
    /// Request body length (POST); the body is `pattern(body_len, index + 1)`.
    pub body_len: usize,
    /// Length of an `x-pad` request header (0: none) the server must send back.
    pub pad: usize,
}

impl Request {
    pub fn get(path: impl Into<String>) -> Self {
        Request { method: "GET", path: path.into(), body_len: 0, pad: 0 }
    }

    pub fn echo(body_len: usize) -> Self {
        Request { method: "POST", path: "/echo".into(), body_len, pad: 0 }
    }

    pub fn with_pad(self, pad: usize) -> Self {
        Request { pad, ..self }
    }
}

/// What came back for one request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    /// The status code (first token of `:status` / `status`), if a reply arrived.
    pub status: Option<u16>,
    pub headers: Vec<(String, String)>,
    pub body_len: usize,
    pub body_sha256: String,
    /// The stream ended with RST_STREAM (or a session-side reset) instead of FIN.
    pub reset: Option<(RstStatus, bool)>,
    /// FIN received.
    pub complete: bool,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// A failure of a driver run, with what the wire carried (for the report).
#[derive(Debug)]
pub struct Failure {
    pub what: String,
    pub frames: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\n--- frames (first {} KiB each way) ---\n{}", self.what, TRACE_BYTES / 1024, self.frames)
    }
}

/// The request headers for `version`: SPDY/3 pseudo-headers, or SPDY/2's `method`,
/// `url`, `version`, `scheme` plus an ordinary `host` (SPDY2.md §8.1).
pub fn request_headers(version: Version, req: &Request, authority: &str) -> HeaderBlock {
    let (method, path, body_len) = (req.method, req.path.as_str(), req.body_len);
    let mut h = HeaderBlock::new();
    if version.colon_names() {
        h.push(":method", method);
        h.push(":path", path);
        h.push(":version", "HTTP/1.1");
        h.push(":host", authority);
        h.push(":scheme", "http");
    } else {
        h.push("method", method);
        h.push("url", path);
        h.push("version", "HTTP/1.1");
        h.push("host", authority);
        h.push("scheme", "http");
    }
    h.push("user-agent", "spdygate-interop");
    if method == "POST" {
        h.push("content-length", body_len.to_string());
    }
    if req.pad > 0 {
        h.push("x-pad", pad_string(req.pad));
    }
    h
}

/// Response headers for `version` (SPDY3 `:status`/`:version`, SPDY2 `status`/`version`).
pub fn response_headers(version: Version, status: u16, extra: &[(&str, String)]) -> HeaderBlock {
    let mut h = HeaderBlock::new();
    let (s, v) = if version.colon_names() { (":status", ":version") } else { ("status", "version") };
    h.push(s, status.to_string());
    h.push(v, "HTTP/1.1");
    for (n, val) in extra {
        h.push(n, val);
    }
    h
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The socket plus a record of the bytes that crossed it, for failure reports.
struct Wire {
    sock: TcpStream,
    sent: Vec<u8>,
    received: Vec<u8>,
}

impl Wire {
    fn new(sock: TcpStream) -> std::io::Result<Self> {
        sock.set_nodelay(true)?;
        sock.set_read_timeout(Some(READ_POLL))?;
        sock.set_write_timeout(Some(Duration::from_secs(20)))?;
        Ok(Wire { sock, sent: Vec::new(), received: Vec::new() })
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let keep = TRACE_BYTES.saturating_sub(self.sent.len()).min(bytes.len());
        self.sent.extend_from_slice(&bytes[..keep]);
        self.sock.write_all(bytes)
    }

    /// `Ok(None)`: nothing arrived within [`READ_POLL`]. `Ok(Some(0))`: EOF.
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<Option<usize>> {
        match self.sock.read(buf) {
            Ok(n) => {
                let keep = TRACE_BYTES.saturating_sub(self.received.len()).min(n);
                self.received.extend_from_slice(&buf[..keep]);
                Ok(Some(n))
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Closes the connection without losing what the peer has yet to read: reads until
    /// the peer closes (at most `limit`), half-closing our side first only if
    /// `half_close_first`. Closing with unread input makes the kernel send RST, and
    /// spdy-transport tears a connection down on our FIN at once, dropping responses
    /// still in its (asynchronous) parse pipeline; so after a GOAWAY we let it close first.
    fn linger_close(&mut self, half_close_first: bool, limit: Duration) {
        if half_close_first {
            let _ = self.sock.shutdown(std::net::Shutdown::Write);
        }
        let until = Instant::now() + limit;
        let mut buf = [0u8; 16 * 1024];
        while Instant::now() < until {
            match self.sock.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
                Err(_) => break,
            }
        }
        let _ = self.sock.shutdown(std::net::Shutdown::Both);
    }

    fn failure(&self, what: impl Into<String>) -> Failure {
        let mut frames = String::from("we sent:\n");
        frames.push_str(&frame_log(&self.sent));
        frames.push_str("we received:\n");
        frames.push_str(&frame_log(&self.received));
        Failure { what: what.into(), frames }
    }
}

/// A one-line-per-frame summary of a SPDY byte stream (frame heads only; control
/// payloads up to 24 bytes in hex), at most 400 lines.
pub fn frame_log(bytes: &[u8]) -> String {
    const TYPES: [&str; 11] = [
        "?0",
        "SYN_STREAM",
        "SYN_REPLY",
        "RST_STREAM",
        "SETTINGS",
        "NOOP",
        "PING",
        "GOAWAY",
        "HEADERS",
        "WINDOW_UPDATE",
        "CREDENTIAL",
    ];
    let mut out = String::new();
    let mut at = 0usize;
    let mut lines = 0;
    while at + 8 <= bytes.len() && lines < 400 {
        let h = &bytes[at..at + 8];
        let len = u32::from_be_bytes([0, h[5], h[6], h[7]]) as usize;
        let payload = &bytes[at + 8..(at + 8 + len).min(bytes.len())];
        if h[0] & 0x80 != 0 {
            let version = u16::from_be_bytes([h[0] & 0x7f, h[1]]);
            let ty = u16::from_be_bytes([h[2], h[3]]) as usize;
            let name = TYPES.get(ty).copied().unwrap_or("UNKNOWN");
            let _ = writeln!(
                out,
                "  @{at:>7} v{version} {name}({ty}) flags={:#04x} len={len} payload={}",
                h[4],
                hex(&payload[..payload.len().min(24)])
            );
        } else {
            let id = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
            let _ = writeln!(out, "  @{at:>7} DATA stream={id} flags={:#04x} len={len}", h[4]);
        }
        at += 8 + len;
        lines += 1;
    }
    if at < bytes.len() && lines < 400 {
        let _ = writeln!(out, "  @{at:>7} ({} trailing bytes)", bytes.len() - at);
    }
    out
}

/// Runs `session.poll_transmit` dry and writes the result. `source(stream, len)` hands
/// out the next `len` bytes the application declared for the stream.
fn flush(
    session: &mut Session,
    wire: &mut Wire,
    out: &mut Vec<u8>,
    mut source: impl FnMut(StreamId, usize, &mut Vec<u8>),
) -> std::io::Result<()> {
    loop {
        match session.poll_transmit(out, Instant::now()) {
            None => break,
            Some(Transmit::Control) => {}
            Some(Transmit::Data { stream_id, head, len, fin: _ }) => {
                out.extend_from_slice(&head);
                source(stream_id, len, out);
            }
        }
        if out.len() >= 256 * 1024 {
            wire.write_all(out)?;
            out.clear();
        }
    }
    if !out.is_empty() {
        wire.write_all(out)?;
        out.clear();
    }
    Ok(())
}

fn fire_timers(session: &mut Session) {
    let now = Instant::now();
    if session.poll_timeout().is_some_and(|t| t <= now) {
        session.handle_timeout(now);
    }
}

/// Per-stream state of [`run_client`].
struct ClientStream {
    index: usize,
    body: Vec<u8>,
    sent: usize,
    hasher: Sha256,
    response: Response,
}

/// What [`run_client`] saw besides the responses.
#[derive(Debug, Default)]
pub struct ClientReport {
    pub responses: Vec<Response>,
    /// The PING sent after the first SETTINGS came back.
    pub ping_acked: bool,
    pub peer_goaway: Option<(StreamId, GoAwayStatus)>,
    /// Most streams open at once on our session.
    pub max_open: usize,
}

/// Opens one connection to `addr`, runs every request on one client-role session with at
/// most `concurrency` streams open, and returns the responses in request order. PINGs
/// once. On SPDY/3.x it ends with GOAWAY(OK); on SPDY/2 it just closes (spdy-transport
/// cannot parse a 4-byte GOAWAY, see tests/interop_node.rs).
pub fn run_client(
    addr: SocketAddr,
    version: Version,
    config: SessionConfig,
    requests: &[Request],
    concurrency: usize,
    deadline: Instant,
) -> Result<ClientReport, Failure> {
    let sock = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| Failure { what: format!("connect {addr}: {e}"), frames: String::new() })?;
    let mut wire =
        Wire::new(sock).map_err(|e| Failure { what: format!("socket setup: {e}"), frames: String::new() })?;
    let authority = addr.to_string();
    let mut session = Session::new(Role::Client, version, config, Instant::now());
    let ping_id = session.ping(Instant::now());

    let mut report = ClientReport { responses: vec![Response::default(); requests.len()], ..Default::default() };
    let mut streams: HashMap<StreamId, ClientStream> = HashMap::new();
    let mut done = vec![false; requests.len()];
    let mut next = 0usize;
    let mut open = 0usize;
    let mut rbuf = vec![0u8; 64 * 1024];
    let mut out = Vec::with_capacity(64 * 1024);

    loop {
        if Instant::now() > deadline {
            let pending: Vec<_> = (0..requests.len()).filter(|&i| !done[i]).take(10).collect();
            return Err(wire.failure(format!(
                "deadline passed: {} of {} requests unfinished (first: {pending:?}), ping acked: {}",
                done.iter().filter(|d| !**d).count(),
                requests.len(),
                report.ping_acked
            )));
        }
        // Open streams up to the concurrency bound.
        while open < concurrency && next < requests.len() && report.peer_goaway.is_none() {
            let req = &requests[next];
            let headers = request_headers(version, req, &authority);
            let has_body = req.body_len > 0;
            let id = match session.open_stream(&headers, 0, !has_body && req.method == "GET") {
                Ok(id) => id,
                Err(spdygate::spdy::session::SendError::ConcurrencyLimit) => break,
                Err(e) => return Err(wire.failure(format!("open_stream for request {next}: {e}"))),
            };
            if req.method != "GET" {
                session
                    .send_data(id, req.body_len, true)
                    .map_err(|e| wire.failure(format!("send_data for request {next}: {e}")))?;
            }
            let body = if has_body { pattern(req.body_len, next as u32 + 1) } else { Vec::new() };
            streams.insert(
                id,
                ClientStream { index: next, body, sent: 0, hasher: Sha256::new(), response: Response::default() },
            );
            next += 1;
            open += 1;
            report.max_open = report.max_open.max(session.open_streams());
        }

        flush(&mut session, &mut wire, &mut out, |id, len, out| {
            if let Some(s) = streams.get_mut(&id) {
                out.extend_from_slice(&s.body[s.sent..s.sent + len]);
                s.sent += len;
            }
        })
        .map_err(|e| wire.failure(format!("write: {e}")))?;

        let all_done = done.iter().all(|d| *d) && open == 0;
        if all_done && report.ping_acked {
            if version != Version::Spdy2 {
                session.goaway(GoAwayStatus::OK);
                flush(&mut session, &mut wire, &mut out, |_, _, _| {})
                    .map_err(|e| wire.failure(format!("write: {e}")))?;
            }
            // After GOAWAY(OK) the node server closes by itself; on SPDY/2 (no GOAWAY)
            // it closes once it sees our FIN.
            wire.linger_close(version == Version::Spdy2, LINGER);
            return Ok(report);
        }

        // No read while the session holds back (B5); an empty `recv` still hands out the
        // events that arose outside `recv` (e.g. a stream closed by our own FIN).
        let n = if session.wants_read() {
            match wire.read(&mut rbuf).map_err(|e| wire.failure(format!("read: {e}")))? {
                None => 0,
                Some(0) => return Err(wire.failure("peer closed the connection before all responses arrived")),
                Some(n) => n,
            }
        } else {
            0
        };
        let mut input = &rbuf[..n];
        loop {
            let event = match session.recv(&mut input, Instant::now()) {
                Ok(Some(ev)) => ev,
                Ok(None) => break,
                Err(e) => {
                    let _ = flush(&mut session, &mut wire, &mut out, |_, _, _| {});
                    return Err(wire.failure(format!("our client session failed: {e}")));
                }
            };
            match event {
                Event::Reply { stream_id, headers, fin } | Event::Headers { stream_id, headers, fin } => {
                    let Some(s) = streams.get_mut(&stream_id) else { continue };
                    for (n, v) in headers.iter() {
                        s.response.headers.push((text(n), text(v)));
                    }
                    let status_name: &[u8] = if version.colon_names() { b":status" } else { b"status" };
                    if s.response.status.is_none() {
                        s.response.status = headers
                            .get(status_name)
                            .and_then(|v| text(v).split(' ').next().and_then(|c| c.parse().ok()));
                    }
                    if fin {
                        finish_response(s, true, &mut report, &mut done);
                    }
                }
                Event::Data { stream_id, data, fin } => {
                    let Some(s) = streams.get_mut(&stream_id) else { continue };
                    s.hasher.update(data);
                    s.response.body_len += data.len();
                    session.consume(stream_id, data.len());
                    if fin {
                        finish_response(s, true, &mut report, &mut done);
                    }
                }
                Event::StreamReset { stream_id, status, by_peer } => {
                    if let Some(mut s) = streams.remove(&stream_id) {
                        s.response.reset = Some((status, by_peer));
                        finish_response(&mut s, false, &mut report, &mut done);
                        open -= 1;
                    }
                }
                Event::StreamClosed { stream_id } => {
                    if let Some(mut s) = streams.remove(&stream_id) {
                        finish_response(&mut s, false, &mut report, &mut done);
                        open -= 1;
                    }
                }
                Event::StreamOpened { stream_id, .. } => {
                    // We never ask for push; refuse it.
                    session.reset_stream(stream_id, RstStatus::REFUSED_STREAM);
                }
                Event::SendWindowOpen { .. } => {}
                Event::GoAway { last_good_stream_id, status } => {
                    report.peer_goaway = Some((last_good_stream_id, status));
                }
                Event::PingAck { id, .. } => report.ping_acked |= id == ping_id,
            }
        }
        fire_timers(&mut session);
        if report.peer_goaway.is_some() && next < requests.len() && open == 0 {
            return Err(wire.failure(format!("peer sent GOAWAY {:?} with requests left", report.peer_goaway)));
        }
    }
}

/// Records a finished response once (FIN, reset or close, whichever comes first);
/// `fin`: it ended with the peer's FIN.
fn finish_response(s: &mut ClientStream, fin: bool, report: &mut ClientReport, done: &mut [bool]) {
    if done[s.index] {
        return;
    }
    done[s.index] = true;
    s.response.complete = fin;
    s.response.body_sha256 = hex(&std::mem::take(&mut s.hasher).finalize());
    report.responses[s.index] = std::mem::take(&mut s.response);
}

/// What [`serve`] did.
#[derive(Debug, Default)]
pub struct ServeReport {
    /// Streams opened by the peer (and not refused by the session).
    pub streams: usize,
    /// Streams answered.
    pub answered: usize,
    pub gets: usize,
    pub echoes: usize,
    pub echoed_bytes: usize,
    pub not_found: usize,
    /// Most streams open at once on our session.
    pub max_open: usize,
    /// Our send window on the first stream when it opened (the peer's SETTINGS
    /// INITIAL_WINDOW_SIZE, if it sent one before the stream).
    pub first_send_window: Option<i64>,
    pub resets: Vec<(StreamId, RstStatus, bool)>,
    pub peer_goaway: Option<(StreamId, GoAwayStatus)>,
}

/// Per-stream state of [`serve`].
enum ServerStream {
    /// Response body (complete from the start), bytes handed to the session so far.
    Bytes { body: Vec<u8>, sent: usize },
    /// Echo: received bytes not yet transmitted back. Their receive credit is returned
    /// only as they go out, so the peer's upload is paced by our download to it.
    Echo { pending: VecDeque<u8>, replied: bool, fin: bool },
}

/// How [`serve`] departs from answering everything at once.
#[derive(Clone, Copy, Debug, Default)]
pub struct ServeOptions {
    /// With `hold_until` > 0 no stream is answered before that many streams were opened
    /// and the peer then went quiet for [`HOLD_QUIET`], so they are provably open at the
    /// same time and the peer has sent whatever it meant to send.
    pub hold_until: usize,
    /// Send GOAWAY(OK) right after answering this many streams.
    pub goaway_after: Option<usize>,
}

/// Accepts one connection on `listener` and serves it with a server-role session until
/// the peer closes, the session closes, or `deadline` passes (an error).
/// Routes: `GET /bytes/N` (N bytes of pattern seed 0, `x-body-sha256`), `GET
/// /trailers/N` (the digest in a trailing HEADERS frame), `POST /echo`; anything else
/// gets a 404. An `x-pad` request header comes back as a response header.
pub fn serve(
    listener: &TcpListener,
    version: Version,
    config: SessionConfig,
    options: ServeOptions,
    deadline: Instant,
) -> Result<ServeReport, Failure> {
    let hold_until = options.hold_until;
    listener.set_nonblocking(true).map_err(|e| Failure { what: format!("listener: {e}"), frames: String::new() })?;
    let sock = loop {
        match listener.accept() {
            Ok((sock, _)) => break sock,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if Instant::now() > deadline {
                    return Err(Failure { what: "no connection before the deadline".into(), frames: String::new() });
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(Failure { what: format!("accept: {e}"), frames: String::new() }),
        }
    };
    sock.set_nonblocking(false).map_err(|e| Failure { what: format!("socket: {e}"), frames: String::new() })?;
    let mut wire =
        Wire::new(sock).map_err(|e| Failure { what: format!("socket setup: {e}"), frames: String::new() })?;
    let mut session = Session::new(Role::Server, version, config, Instant::now());
    let mut report = ServeReport::default();
    let mut streams: HashMap<StreamId, ServerStream> = HashMap::new();
    // Streams opened but not answered yet (see `hold_until`).
    let mut unanswered: Vec<Ask> = Vec::new();
    let mut rbuf = vec![0u8; 64 * 1024];
    let mut out = Vec::with_capacity(64 * 1024);
    let mut last_input = Instant::now();

    loop {
        if Instant::now() > deadline {
            return Err(wire.failure(format!("deadline passed while serving; report so far: {report:?}")));
        }
        let quiet = last_input.elapsed() >= HOLD_QUIET || hold_until == 0;
        if report.streams >= hold_until && quiet && !unanswered.is_empty() {
            for ask in std::mem::take(&mut unanswered) {
                answer(&mut session, version, &mut streams, &mut report, &ask)
                    .map_err(|e| wire.failure(format!("answering stream {}: {e}", ask.id)))?;
                report.answered += 1;
                if options.goaway_after == Some(report.answered) {
                    session.goaway(GoAwayStatus::OK);
                }
            }
        }
        let mut consumed: Vec<(StreamId, usize)> = Vec::new();
        flush(&mut session, &mut wire, &mut out, |id, len, out| match streams.get_mut(&id) {
            Some(ServerStream::Bytes { body, sent }) => {
                out.extend_from_slice(&body[*sent..*sent + len]);
                *sent += len;
            }
            Some(ServerStream::Echo { pending, .. }) => {
                out.extend(pending.drain(..len));
                consumed.push((id, len));
            }
            None => {}
        })
        .map_err(|e| wire.failure(format!("write: {e}")))?;
        if !consumed.is_empty() {
            for (id, len) in consumed {
                session.consume(id, len);
            }
            // Returned credit may have queued WINDOW_UPDATEs: go round again to send them.
            continue;
        }
        if session.is_closed() {
            wire.linger_close(false, LINGER);
            return Ok(report);
        }
        let n = if session.wants_read() {
            match wire.read(&mut rbuf).map_err(|e| wire.failure(format!("read: {e}")))? {
                None => 0,
                Some(0) => {
                    if session.open_streams() != 0 {
                        return Err(wire.failure(format!(
                            "peer closed with {} streams open; report so far: {report:?}",
                            session.open_streams()
                        )));
                    }
                    return Ok(report);
                }
                Some(n) => n,
            }
        } else {
            0
        };
        if n > 0 {
            last_input = Instant::now();
        }
        let mut input = &rbuf[..n];
        loop {
            let event = match session.recv(&mut input, Instant::now()) {
                Ok(Some(ev)) => ev,
                Ok(None) => break,
                Err(e) => {
                    let _ = flush(&mut session, &mut wire, &mut out, |_, _, _| {});
                    return Err(wire.failure(format!("our server session failed: {e}; report so far: {report:?}")));
                }
            };
            match event {
                Event::StreamOpened { stream_id, associated_to: _, priority: _, headers, fin } => {
                    report.streams += 1;
                    report.max_open = report.max_open.max(session.open_streams());
                    if report.first_send_window.is_none() {
                        report.first_send_window = session.stream_send_window(stream_id);
                    }
                    let (method, path) = if version.colon_names() {
                        (headers.get(b":method"), headers.get(b":path"))
                    } else {
                        (headers.get(b"method"), headers.get(b"url"))
                    };
                    let (method, path) = (method.map(text).unwrap_or_default(), path.map(text).unwrap_or_default());
                    if method == "POST" && path == "/echo" {
                        streams.insert(stream_id, ServerStream::Echo { pending: VecDeque::new(), replied: false, fin });
                    }
                    let pad = headers.get(b"x-pad").map(text);
                    unanswered.push(Ask { id: stream_id, method, path, pad });
                }
                Event::Data { stream_id, data, fin } => match streams.get_mut(&stream_id) {
                    Some(ServerStream::Echo { pending, replied, fin: seen_fin }) => {
                        pending.extend(data);
                        *seen_fin |= fin;
                        report.echoed_bytes += data.len();
                        if *replied && (!data.is_empty() || fin) {
                            session
                                .send_data(stream_id, data.len(), fin)
                                .map_err(|e| wire.failure(format!("echo on stream {stream_id}: {e}")))?;
                        }
                    }
                    // Request bodies of other routes are read and dropped.
                    _ => session.consume(stream_id, data.len()),
                },
                Event::Headers { .. } | Event::Reply { .. } | Event::SendWindowOpen { .. } | Event::PingAck { .. } => {}
                Event::StreamReset { stream_id, status, by_peer } => {
                    streams.remove(&stream_id);
                    unanswered.retain(|ask| ask.id != stream_id);
                    report.resets.push((stream_id, status, by_peer));
                }
                Event::StreamClosed { stream_id } => {
                    streams.remove(&stream_id);
                }
                Event::GoAway { last_good_stream_id, status } => {
                    report.peer_goaway = Some((last_good_stream_id, status));
                }
            }
        }
        fire_timers(&mut session);
    }
}

/// A request [`serve`] has yet to answer.
struct Ask {
    id: StreamId,
    method: String,
    path: String,
    /// The `x-pad` request header, sent back as a response header.
    pad: Option<String>,
}

/// Sends the reply (and declares the body, and trailers) for one request.
fn answer(
    session: &mut Session,
    version: Version,
    streams: &mut HashMap<StreamId, ServerStream>,
    report: &mut ServeReport,
    ask: &Ask,
) -> Result<(), spdygate::spdy::session::SendError> {
    let id = ask.id;
    let mut extra: Vec<(&str, String)> = Vec::new();
    if let Some(pad) = &ask.pad {
        extra.push(("x-pad", pad.clone()));
    }
    if let Some(ServerStream::Echo { pending, replied, fin }) = streams.get_mut(&id) {
        report.echoes += 1;
        *replied = true;
        extra.push(("content-type", "application/octet-stream".into()));
        let headers = response_headers(version, 200, &extra);
        // An upload that already ended with nothing in it gets its answer in one frame.
        if *fin && pending.is_empty() {
            return session.send_reply(id, &headers, true);
        }
        session.send_reply(id, &headers, false)?;
        if !pending.is_empty() || *fin {
            session.send_data(id, pending.len(), *fin)?;
        }
        return Ok(());
    }
    let route = ask.path.strip_prefix('/').and_then(|p| p.split_once('/'));
    let size = route.and_then(|(_, n)| n.parse::<usize>().ok()).filter(|&n| n <= 64 << 20);
    let (status, body, trailers) = match (ask.method.as_str(), route.map(|(r, _)| r), size) {
        ("GET", Some("bytes"), Some(len)) => (200, pattern(len, 0), false),
        ("GET", Some("trailers"), Some(len)) => (200, pattern(len, 0), true),
        _ => (404, b"not found\n".to_vec(), false),
    };
    if status == 200 {
        report.gets += 1;
    } else {
        report.not_found += 1;
    }
    let len = body.len();
    let digest = sha256_hex(&body);
    extra.push(("content-type", "application/octet-stream".into()));
    if !trailers {
        extra.push(("content-length", len.to_string()));
        extra.push(("x-body-sha256", digest.clone()));
    }
    let headers = response_headers(version, status, &extra);
    streams.insert(id, ServerStream::Bytes { body, sent: 0 });
    session.send_reply(id, &headers, len == 0 && !trailers)?;
    if len > 0 {
        session.send_data(id, len, !trailers)?;
    }
    if trailers {
        let mut t = HeaderBlock::new();
        t.push("x-trailer-sha256", digest);
        // FIN goes in an empty DATA frame, not on the HEADERS frame: spdy-transport
        // ignores FLAG_FIN on HEADERS (see tests/interop_node.rs).
        session.send_headers(id, &t, false)?;
        session.send_data(id, 0, true)?;
    }
    Ok(())
}
