//! One SPDY client connection: a client-role [`Session`] plus the socket and TLS glue.
//!
//! Exists so that the protocol stays in the sans-IO session and everything else a load
//! generator does per connection — connect, TLS with ALPN, moving bytes through the ring,
//! timing requests and counting outcomes — sits in one place. It never interprets frames
//! itself and never decides *when* to start a request: the worker does (closed loop or the
//! open-loop schedule) and calls [`Client::open`].

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::plan::{CertCheck, Plan};
use crate::spdy::header::repeat::RepeatEncoder;
use super::stats::{self, Stats};
use crate::runtime::{net, BufGroup, Chunk, Completion, Key, OpKind, Ring, SendBuf, Token};
use crate::spdy::frame::RstStatus;
use crate::spdy::header::{CompressorKind, HeaderBlock};
use crate::spdy::session::SendError;
use crate::spdy::{Event, Role, Session, SessionConfig, StreamId};

/// Token tags of connection ops (the worker's own timers use other tags).
pub(crate) const TAG_CONNECT: u8 = 1;
pub(crate) const TAG_RECV: u8 = 2;
pub(crate) const TAG_SEND: u8 = 3;
pub(crate) const TAG_CLOSE: u8 = 4;


/// Refused requests one connection may send again before it has completed any.
const MAX_REFUSED_WITHOUT_PROGRESS: u32 = 1000;

/// Generations of a client slot wrap at the token's 24 bits.
const GENERATION_MASK: u32 = 0x00ff_ffff;

/// What the worker lends a client for one call.
pub(crate) struct Ctx<'a> {
    pub plan: &'a Plan,
    pub templates: &'a [Arc<HeaderBlock>],
    pub stats: &'a mut Stats,
    pub group: BufGroup,
    pub tls: Option<&'a Arc<ClientConfig>>,
    pub now: Instant,
    /// Requests finishing before this are not counted (warm-up).
    pub measure_from: Instant,
    /// Open-loop mode: refused requests go back to this queue (with their scheduled start).
    pub backlog: Option<&'a mut VecDeque<Instant>>,
}

impl Ctx<'_> {
    fn measuring(&self) -> bool {
        self.now >= self.measure_from
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Not connected; will connect when there is work.
    Idle,
    Connecting,
    /// TCP is up, the TLS handshake is running (SPDY bytes wait inside rustls).
    Handshaking,
    Ready,
    /// Finished for good (no work left, or the connection cannot be made).
    Done,
}

/// One request in flight.
struct Request {
    id: StreamId,
    /// When it started (its scheduled start in open-loop mode).
    start: Instant,
    status: u16,
    replied: bool,
    /// `started` was counted for it (it started after the warm-up).
    counted: bool,
}

/// How a stream ended.
enum Outcome {
    Response,
    Error { timed_out: bool },
    /// Not processed by the server (REFUSED_STREAM before any reply, or above GOAWAY's
    /// last-good id): the request is started again later.
    Refused,
}

/// One connection slot; it reconnects after a GOAWAY while it has work.
pub(crate) struct Client {
    slot: u32,
    generation: u32,
    state: State,
    fd: Option<OwnedFd>,
    /// Boxed: the session is taken out and put back around every feed and flush, and
    /// moving the whole struct each time showed up as memcpy in profiles.
    session: Option<Box<Session>>,
    tls: Option<Box<ClientConnection>>,
    streams: Vec<Request>,
    /// Bytes of the request body already handed to the session, per uploading stream.
    uploads: Vec<(StreamId, usize)>,
    /// Closed loop: requests this slot may still start (`None`: no count, `-D` or `--rate`).
    quota: Option<u64>,
    max_concurrent: usize,
    next_path: usize,
    /// SPDY bytes to send (plaintext) and, with TLS, the ciphertext to send.
    out: Vec<u8>,
    /// Plaintext only: regions to send before `out` (control bytes and body slices).
    chunks: Vec<Chunk>,
    wire: Vec<u8>,
    spare: Vec<u8>,
    sending: bool,
    /// Input the session did not take yet (it stops reading while its control queue is full).
    carry: Vec<u8>,
    plain: Vec<u8>,
    conn_start: Instant,
    first_byte_seen: bool,
    pub(crate) last_rx: Instant,
    goaway: bool,
    /// A session or transport error ends the connection after the flush.
    broken: Option<String>,
    done_this_conn: u64,
    refused_this_conn: u32,
    /// Done and counted, for the per-connection req/s.
    pub(crate) counted_done: u64,
    /// `--rate-mode connections`: the slot waits for the schedule before connecting.
    pub(crate) held: bool,
    /// Marked by the worker so that one batch of completions flushes each client once.
    pub(crate) touched: bool,
}

impl Client {
    pub(crate) fn new(slot: u32, quota: Option<u64>, plan: &Plan, now: Instant) -> Client {
        Client {
            slot,
            generation: 0,
            state: State::Idle,
            fd: None,
            session: None,
            tls: None,
            streams: Vec::with_capacity(plan.max_concurrent as usize),
            uploads: Vec::new(),
            quota,
            max_concurrent: plan.max_concurrent as usize,
            next_path: slot as usize,
            out: Vec::with_capacity(16 * 1024),
            chunks: Vec::new(),
            wire: Vec::new(),
            spare: Vec::with_capacity(16 * 1024),
            sending: false,
            carry: Vec::new(),
            plain: Vec::new(),
            conn_start: now,
            first_byte_seen: false,
            last_rx: now,
            goaway: false,
            broken: None,
            done_this_conn: 0,
            refused_this_conn: 0,
            counted_done: 0,
            held: false,
            touched: false,
        }
    }

    /// The generation tokens of the current connection carry.
    pub(crate) fn generation(&self) -> u32 {
        self.generation & GENERATION_MASK
    }

    fn token(&self, tag: u8) -> Token {
        Token::new(tag, Key { index: self.slot, generation: self.generation() })
    }

    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Closed loop: whether this slot should start another request now.
    pub(crate) fn wants_request(&self) -> bool {
        self.quota.is_none_or(|q| q > 0) && self.can_open()
    }

    /// Whether a stream can be opened now.
    pub(crate) fn can_open(&self) -> bool {
        self.state == State::Ready && !self.goaway && self.broken.is_none() && self.streams.len() < self.max_concurrent
    }

    /// Whether this slot still has requests to start (closed loop with a count).
    fn has_quota(&self) -> bool {
        self.quota.is_none_or(|q| q > 0)
    }

    /// Starts a TCP connect through the ring.
    pub(crate) fn connect(&mut self, ring: &mut Ring, ctx: &mut Ctx<'_>) {
        let addr = ctx.plan.target.addr;
        match net::client_socket(addr) {
            Ok(fd) => {
                ring.connect(fd.as_raw_fd(), addr, self.token(TAG_CONNECT));
                self.fd = Some(fd);
                self.state = State::Connecting;
                self.conn_start = ctx.now;
                self.last_rx = ctx.now;
                self.first_byte_seen = false;
                self.goaway = false;
                self.broken = None;
                self.done_this_conn = 0;
                self.refused_this_conn = 0;
            }
            Err(e) => {
                ctx.stats.connect_errors += 1;
                ctx.stats.note_error(format!("socket: {e}"));
                self.state = State::Done;
            }
        }
    }

    /// Handles one completion of this connection's ops.
    pub(crate) fn on_completion(&mut self, c: Completion, ring: &mut Ring, ctx: &mut Ctx<'_>) {
        match c.op {
            OpKind::Connect => self.on_connect(c, ring, ctx),
            OpKind::Recv => match (c.result, c.buffer) {
                // After a GOAWAY with nothing in flight, the server closing first is normal
                // (spdygate does after max_streams_per_session, B4): reconnect if useful.
                (Ok(0), _) if self.goaway && self.streams.is_empty() => {
                    self.teardown(ring);
                    self.state = if self.done_this_conn > 0 { State::Idle } else { State::Done };
                }
                (Ok(0), _) => self.fail(ring, ctx, "connection closed by the server".into(), false),
                (Ok(_), Some(lease)) => {
                    self.last_rx = ctx.now;
                    self.on_bytes(lease.bytes(), ctx);
                }
                (Ok(_), None) => {}
                (Err(e), _) => self.fail(ring, ctx, format!("recv: {e}"), false),
            },
            OpKind::Send => {
                self.sending = false;
                if let Some(buf) = c.send_buf {
                    for chunk in buf.into_chunks() {
                        if let Chunk::Owned(mut v) = chunk {
                            if v.capacity() > self.spare.capacity() {
                                v.clear();
                                self.spare = v;
                            }
                        }
                    }
                }
                if let Err(e) = c.result {
                    self.fail(ring, ctx, format!("send: {e}"), false);
                }
            }
            _ => {}
        }
    }

    fn on_connect(&mut self, c: Completion, ring: &mut Ring, ctx: &mut Ctx<'_>) {
        let Some(fd) = self.fd.as_ref().map(|f| f.as_raw_fd()) else { return };
        if let Err(e) = c.result {
            ctx.stats.connect_errors += 1;
            ctx.stats.note_error(format!("connect {}: {e}", ctx.plan.target.addr));
            self.close_fd(ring);
            self.state = State::Done;
            return;
        }
        ring.recv_multishot(fd, ctx.group, self.token(TAG_RECV));
        let config = SessionConfig {
            // We accept no pushes; the window is large so the server never waits on us.
            max_concurrent_streams: 100,
            initial_window_size: 16 * 1024 * 1024,
            session_window_size: 64 * 1024 * 1024,
            // Replaced below by `RepeatEncoder` before any block is sent.
            compressor: CompressorKind::Fast { sensitive: Vec::new() },
            // Busy by design: one zlib call per reply block instead of one per deflate block.
            hibernate_inflater: false,
            ..SessionConfig::default()
        };
        let mut session = Box::new(Session::new(Role::Client, ctx.plan.version, config, ctx.now));
        // Our own encoder: a request block sent before is one back-reference, found by
        // comparing whole blocks instead of searching (see `repeat`).
        session.set_header_encoder(Box::new(RepeatEncoder::new(ctx.plan.version)));
        self.session = Some(session);
        match ctx.tls {
            Some(config) => {
                let name = match ServerName::try_from(ctx.plan.target.host.clone()) {
                    Ok(name) => name,
                    Err(e) => return self.fail(ring, ctx, format!("TLS server name: {e}"), false),
                };
                match ClientConnection::new(Arc::clone(config), name) {
                    Ok(conn) => {
                        self.tls = Some(Box::new(conn));
                        self.state = State::Handshaking;
                    }
                    Err(e) => self.fail(ring, ctx, format!("TLS: {e}"), false),
                }
            }
            None => {
                self.state = State::Ready;
                stats::record(&mut ctx.stats.connect, micros(ctx.now - self.conn_start));
            }
        }
    }

    /// Bytes off the socket: decrypt if TLS, then feed the session.
    fn on_bytes(&mut self, bytes: &[u8], ctx: &mut Ctx<'_>) {
        if ctx.measuring() && self.tls.is_none() {
            ctx.stats.bytes_total += bytes.len() as u64;
        }
        let Some(tls) = self.tls.as_mut() else {
            return self.feed(bytes, ctx);
        };
        let mut plain = std::mem::take(&mut self.plain);
        plain.clear();
        let mut input = bytes;
        while !input.is_empty() {
            match tls.read_tls(&mut input) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    self.broken = Some(format!("TLS read: {e}"));
                    break;
                }
            }
            if let Err(e) = tls.process_new_packets() {
                self.broken = Some(format!("TLS: {e}"));
                break;
            }
            let mut reader = tls.reader();
            let mut chunk = [0u8; 16 * 1024];
            while let Ok(n @ 1..) = reader.read(&mut chunk) {
                plain.extend_from_slice(&chunk[..n]);
            }
        }
        if self.state == State::Handshaking && !tls.is_handshaking() {
            let wanted = ctx.plan.version.alpn_id();
            if tls.alpn_protocol() == Some(wanted) {
                self.state = State::Ready;
                stats::record(&mut ctx.stats.connect, micros(ctx.now - self.conn_start));
            } else {
                let got = tls.alpn_protocol().map(|p| String::from_utf8_lossy(p).into_owned());
                self.broken = Some(format!(
                    "ALPN: asked for {}, server chose {}",
                    ctx.plan.version,
                    got.as_deref().unwrap_or("nothing")
                ));
            }
        }
        if ctx.measuring() {
            ctx.stats.bytes_total += plain.len() as u64;
        }
        if !plain.is_empty() {
            self.feed(&plain, ctx);
        }
        self.plain = plain;
    }

    /// Runs `input` through the session, handling every event.
    fn feed(&mut self, input: &[u8], ctx: &mut Ctx<'_>) {
        let Some(mut session) = self.session.take() else { return };
        let mut carry = std::mem::take(&mut self.carry);
        let from_carry = !carry.is_empty();
        if from_carry {
            carry.extend_from_slice(input);
        }
        let data: &[u8] = if from_carry { &carry } else { input };
        let mut rest = data;
        loop {
            match session.recv(&mut rest, ctx.now) {
                Ok(Some(event)) => self.on_event(&mut session, event, ctx),
                Ok(None) => break,
                Err(e) => {
                    self.broken = Some(format!("session error: {e}"));
                    break;
                }
            }
        }
        let left = rest.len();
        let consumed = data.len() - left;
        if from_carry {
            carry.drain(..consumed);
        } else if left > 0 {
            carry.extend_from_slice(&input[consumed..]);
        }
        self.carry = carry;
        self.session = Some(session);
    }

    fn on_event(&mut self, session: &mut Session, event: Event<'_>, ctx: &mut Ctx<'_>) {
        match event {
            Event::Reply { stream_id, headers, fin } => {
                if !self.first_byte_seen {
                    self.first_byte_seen = true;
                    stats::record(&mut ctx.stats.first_byte, micros(ctx.now - self.conn_start));
                }
                if ctx.measuring() {
                    ctx.stats.bytes_headers += headers.payload_len() as u64;
                }
                let name: &[u8] = if ctx.plan.version.colon_names() { b":status" } else { b"status" };
                let status = headers.get(name).map_or(0, parse_status);
                session.recycle(headers);
                if let Some(r) = self.streams.iter_mut().find(|r| r.id == stream_id) {
                    r.status = status;
                    r.replied = true;
                }
                if fin {
                    self.finish(stream_id, Outcome::Response, ctx);
                }
            }
            Event::Headers { stream_id, headers, fin } => {
                if ctx.measuring() {
                    ctx.stats.bytes_headers += headers.payload_len() as u64;
                }
                session.recycle(headers);
                if fin {
                    self.finish(stream_id, Outcome::Response, ctx);
                }
            }
            Event::Data { stream_id, data, fin } => {
                if ctx.measuring() {
                    ctx.stats.bytes_data += data.len() as u64;
                }
                if !data.is_empty() {
                    session.consume(stream_id, data.len());
                }
                if fin {
                    self.finish(stream_id, Outcome::Response, ctx);
                }
            }
            Event::StreamReset { stream_id, status, .. } => {
                let unreplied = self.streams.iter().any(|r| r.id == stream_id && !r.replied);
                let outcome = if status == RstStatus::REFUSED_STREAM && unreplied {
                    Outcome::Refused
                } else {
                    Outcome::Error { timed_out: false }
                };
                self.uploads.retain(|(id, _)| *id != stream_id);
                self.finish(stream_id, outcome, ctx);
            }
            Event::StreamClosed { stream_id } => {
                self.uploads.retain(|(id, _)| *id != stream_id);
                self.finish(stream_id, Outcome::Response, ctx);
            }
            Event::GoAway { .. } => self.goaway = true,
            // A server push: not wanted by a load generator.
            Event::StreamOpened { stream_id, .. } => session.reset_stream(stream_id, RstStatus::REFUSED_STREAM),
            Event::SendWindowOpen { .. } | Event::PingAck { .. } => {}
        }
    }

    fn finish(&mut self, id: StreamId, outcome: Outcome, ctx: &mut Ctx<'_>) {
        let Some(i) = self.streams.iter().position(|r| r.id == id) else { return };
        let request = self.streams.swap_remove(i);
        self.end_request(request, outcome, ctx);
    }

    fn end_request(&mut self, request: Request, outcome: Outcome, ctx: &mut Ctx<'_>) {
        let measuring = ctx.measuring();
        // A server that refuses everything would otherwise be asked again forever.
        let outcome = match outcome {
            Outcome::Refused if self.refused_this_conn >= MAX_REFUSED_WITHOUT_PROGRESS && self.done_this_conn == 0 => {
                Outcome::Error { timed_out: false }
            }
            other => other,
        };
        if let Outcome::Refused = outcome {
            self.refused_this_conn += 1;
            if request.counted {
                ctx.stats.started -= 1;
            }
            match (&mut ctx.backlog, &mut self.quota) {
                (Some(backlog), _) => backlog.push_front(request.start),
                (None, Some(q)) => *q += 1,
                (None, None) => {}
            }
            return;
        }
        if let Outcome::Response = outcome {
            self.done_this_conn += 1;
        }
        if !measuring {
            return;
        }
        if !request.counted {
            ctx.stats.started += 1;
        }
        match outcome {
            Outcome::Response => {
                ctx.stats.record_response(request.status, micros(ctx.now.saturating_duration_since(request.start)));
            }
            Outcome::Error { timed_out } => ctx.stats.record_error(timed_out),
            Outcome::Refused => {}
        }
        self.counted_done += 1;
    }

    /// Starts one request whose (scheduled) start time is `start`. `false` if the session
    /// refused (peer's concurrency limit, GOAWAY).
    pub(crate) fn open(&mut self, start: Instant, ctx: &mut Ctx<'_>) -> bool {
        let Some(session) = self.session.as_mut() else { return false };
        let block = &ctx.templates[self.next_path % ctx.templates.len()];
        let body_len = ctx.plan.body.as_ref().map(Bytes::len);
        let id = match session.open_stream_shared(block, ctx.plan.priority, body_len.is_none()) {
            Ok(id) => id,
            Err(SendError::ConcurrencyLimit) => {
                // The server allows fewer streams than -m: use its limit from now on.
                self.max_concurrent = self.streams.len().max(1);
                return false;
            }
            Err(e) => {
                self.goaway = true;
                ctx.stats.note_error(format!("open stream: {e}"));
                return false;
            }
        };
        if let Some(len) = body_len {
            if let Err(e) = session.send_data(id, len, true) {
                ctx.stats.note_error(format!("send body: {e}"));
            } else {
                self.uploads.push((id, 0));
            }
        }
        self.next_path = self.next_path.wrapping_add(1);
        if let Some(q) = &mut self.quota {
            *q -= 1;
        }
        let counted = ctx.measuring();
        ctx.stats.started += u64::from(counted);
        self.streams.push(Request { id, start, status: 0, replied: false, counted });
        true
    }

    /// Moves whatever the session wants to send into a ring send (one in flight at a time).
    pub(crate) fn flush(&mut self, ring: &mut Ring, ctx: &mut Ctx<'_>) {
        if let Some(mut session) = self.session.take() {
            if !self.carry.is_empty() && session.wants_read() {
                self.session = Some(session);
                self.feed(&[], ctx);
                session = self.session.take().expect("feed puts the session back");
            }
            let body = ctx.plan.body.as_ref();
            loop {
                match session.poll_transmit(&mut self.out, ctx.now) {
                    None => break,
                    Some(crate::spdy::session::Transmit::Control) => {}
                    Some(crate::spdy::session::Transmit::Data { stream_id, head, len, .. }) => {
                        self.out.extend_from_slice(&head);
                        let Some(upload) = self.uploads.iter_mut().find(|(id, _)| *id == stream_id) else {
                            self.broken = Some(format!("session asked for body bytes of unknown stream {stream_id:?}"));
                            break;
                        };
                        let range = upload.1..upload.1 + len;
                        let Some(body) = body.filter(|b| range.end <= b.len()) else {
                            self.broken = Some("session asked for more body bytes than declared".into());
                            break;
                        };
                        upload.1 += len;
                        if self.tls.is_some() {
                            self.out.extend_from_slice(&body[range]);
                        } else if len > 0 {
                            // Plaintext: the body goes out as a slice of the shared file
                            // bytes, never copied.
                            if !self.out.is_empty() {
                                self.chunks.push(Chunk::Owned(std::mem::take(&mut self.out)));
                            }
                            self.chunks.push(Chunk::Shared(body.slice(range)));
                        }
                    }
                }
            }
            while let Some(event) = session.poll_event() {
                self.on_event(&mut session, event, ctx);
            }
            let closed = session.is_closed();
            self.session = Some(session);
            if closed && self.broken.is_none() && !self.streams.is_empty() {
                self.broken = Some("session closed with requests in flight".into());
            }
        }
        if let Some(tls) = self.tls.as_mut() {
            if !self.out.is_empty() {
                // rustls buffers plaintext written before the handshake ends.
                let _ = tls.writer().write_all(&self.out);
                self.out.clear();
            }
            while tls.wants_write() {
                if tls.write_tls(&mut self.wire).is_err() {
                    break;
                }
            }
        }
        self.send(ring);
        if let Some(reason) = self.broken.take() {
            self.fail(ring, ctx, reason, false);
        }
    }

    fn send(&mut self, ring: &mut Ring) {
        let pending = if self.tls.is_some() { &mut self.wire } else { &mut self.out };
        if self.sending || (pending.is_empty() && self.chunks.is_empty()) {
            return;
        }
        let Some(fd) = self.fd.as_ref().map(|f| f.as_raw_fd()) else { return };
        let mut buf = SendBuf::new();
        for chunk in self.chunks.drain(..) {
            buf.push(chunk);
        }
        if !pending.is_empty() {
            buf.push(Chunk::Owned(std::mem::replace(pending, std::mem::take(&mut self.spare))));
        }
        self.sending = true;
        ring.send(fd, buf, self.token(TAG_SEND));
    }

    /// After a batch: close a connection that has nothing more to do, and reconnect a slot
    /// that still has work after a GOAWAY.
    pub(crate) fn maintain(&mut self, ring: &mut Ring, ctx: &mut Ctx<'_>, more_work: bool) {
        let work = more_work && self.has_quota();
        match self.state {
            State::Ready if self.streams.is_empty() && !self.sending && (self.goaway || !work) => {
                // Reconnect after a GOAWAY only if this connection got something done, so
                // that a server refusing everything ends the run instead of looping.
                let reconnect = work && self.done_this_conn > 0;
                if work && !reconnect {
                    ctx.stats.note_error("GOAWAY before any request completed; not reconnecting".into());
                }
                self.teardown(ring);
                self.state = if reconnect { State::Idle } else { State::Done };
                if reconnect {
                    self.connect(ring, ctx);
                }
            }
            State::Idle if self.held => {}
            State::Idle if work => self.connect(ring, ctx),
            State::Idle => self.state = State::Done,
            _ => {}
        }
    }

    /// Ends the connection on an error: requests in flight count as errored. The slot
    /// reconnects if the connection had completed requests and there is work left.
    pub(crate) fn fail(&mut self, ring: &mut Ring, ctx: &mut Ctx<'_>, reason: String, timed_out: bool) {
        if self.state == State::Connecting || self.state == State::Handshaking {
            ctx.stats.connect_errors += 1;
        }
        ctx.stats.note_error(reason);
        for request in std::mem::take(&mut self.streams) {
            self.end_request(request, Outcome::Error { timed_out }, ctx);
        }
        let retry = self.done_this_conn > 0 && !timed_out;
        self.teardown(ring);
        self.state = if retry { State::Idle } else { State::Done };
    }

    /// Abandons the connection without counting what is in flight (end of `-D`).
    pub(crate) fn abandon(&mut self, ring: &mut Ring) {
        self.streams.clear();
        self.teardown(ring);
        self.state = State::Done;
    }

    fn teardown(&mut self, ring: &mut Ring) {
        self.close_fd(ring);
        self.session = None;
        self.tls = None;
        self.uploads.clear();
        self.out.clear();
        self.chunks.clear();
        self.wire.clear();
        self.carry.clear();
        self.sending = false;
        self.broken = None;
    }

    fn close_fd(&mut self, ring: &mut Ring) {
        if let Some(fd) = self.fd.take() {
            ring.close(fd, self.token(TAG_CLOSE));
        }
        // Completions still to come for the old connection carry the old generation.
        self.generation = self.generation.wrapping_add(1);
    }

    /// Session deadlines and the `-T` inactivity timeout.
    pub(crate) fn on_tick(&mut self, ring: &mut Ring, ctx: &mut Ctx<'_>) {
        if let Some(timeout) = ctx.plan.inactivity_timeout {
            let waiting = matches!(self.state, State::Connecting | State::Handshaking)
                || (self.state == State::Ready && !self.streams.is_empty());
            if waiting && ctx.now.saturating_duration_since(self.last_rx) >= timeout {
                return self.fail(ring, ctx, format!("no bytes for {timeout:?}"), true);
            }
        }
        if let Some(session) = self.session.as_mut() {
            if session.poll_timeout().is_some_and(|t| t <= ctx.now) {
                session.handle_timeout(ctx.now);
                self.touched = true;
            }
        }
    }
}

/// `200`, `200 OK` → 200; anything else → 0.
fn parse_status(value: &[u8]) -> u16 {
    match value.get(..3) {
        Some(d) if d.iter().all(u8::is_ascii_digit) && value.get(3).is_none_or(|b| *b == b' ') => {
            d.iter().fold(0, |n, b| n * 10 + u16::from(b - b'0'))
        }
        _ => 0,
    }
}

pub(crate) fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// The TLS client configuration for a plan: ALPN is exactly the `-p` protocol.
pub fn tls_config(plan: &Plan) -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let mut config = match &plan.cert_check {
        CertCheck::Insecure => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
            .with_no_client_auth(),
        check => {
            let path = match check {
                CertCheck::CaFile(path) => path.clone(),
                _ => SYSTEM_CA_BUNDLES
                    .iter()
                    .map(std::path::PathBuf::from)
                    .find(|p| p.is_file())
                    .ok_or("no system CA bundle found; pass --ca FILE or -k")?,
            };
            let mut roots = RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            for cert in certs {
                let cert = cert.map_err(|e| format!("{}: {e}", path.display()))?;
                // A bundle may hold certificates webpki cannot use; skip those.
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(format!("{}: no usable CA certificate", path.display()));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
    };
    config.alpn_protocols = vec![plan.version.alpn_id().to_vec()];
    Ok(Arc::new(config))
}

const SYSTEM_CA_BUNDLES: [&str; 3] =
    ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"];

/// `-k`: accepts any certificate chain and any name, for benchmarking servers with
/// self-signed certificates. It still checks the handshake signature against the key in
/// the presented certificate, so the peer must hold that key; what it gives up is knowing
/// *who* the key belongs to. Never use it where that matters.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_values_parse_with_or_without_reason_phrase() {
        assert_eq!(parse_status(b"200"), 200);
        assert_eq!(parse_status(b"404 Not Found"), 404);
        assert_eq!(parse_status(b"2000"), 0);
        assert_eq!(parse_status(b"OK"), 0);
        assert_eq!(parse_status(b""), 0);
    }
}
