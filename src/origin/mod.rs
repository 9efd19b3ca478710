//! `origin`: the built-in HTTP/1.1 backend the tests, the demo and the benchmarks run against.
//!
//! This is its sans-IO half: a [`Connection`] takes received bytes and the current time and
//! hands back response bytes (pattern bodies as `'static` slices, never allocated whole),
//! what to wait for, and when to close. It keeps memory bounded per connection: at most
//! [`ECHO_WINDOW`] echoed bytes and [`MAX_PIPELINE`] queued responses; beyond that it asks
//! its driver to stop reading ([`Connection::wants_read`]). The io_uring driver is
//! `src/bin/origin.rs`. It is a test tool, not a web server: no files, no ranges, no TLS.
//!
//! Routes (HEAD is accepted wherever GET is and gets the same head without a body):
//!
//! | Request | Response |
//! |---|---|
//! | `GET /bytes/N[?nosha]` | 200, `content-length: N`, byte `i` = `i % 251`, `x-body-sha256` (hex, unless `nosha` or N > 4 GiB) |
//! | `POST\|PUT /echo` | 200, the request body streamed back (content-length if the request had one, else chunked) |
//! | `GET /chunked/N/K` | 200, N pattern bytes in K-byte chunks (close-delimited for HTTP/1.0) |
//! | `GET /slow/N/MS[?piece=P][&head]` | 200, `content-length: N`, P-byte pieces (default N/10) every MS ms; `head` delays the head by MS too |
//! | `GET /status/NNN` | that status (200..=599), body `status NNN\n` (none for 204, 304) |
//! | `GET /drop/N` | 200 declaring `N + 65536` bytes, sends N, then resets the connection |
//! | `GET /count` | requests served by this process (all threads), `/count*` excluded |
//! | `POST /count/reset` | sets that count to 0 |
//! | anything else | 404 |

pub mod pattern;
pub mod route;

use std::collections::VecDeque;
use std::mem;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::http1::write;
use crate::http1::{BodyDecoder, BodyFraming, BodyItem};

pub use pattern::{byte_at, sha256_hex, ShaCache, MAX_SHA_LEN, PERIOD};
pub use route::{route, Route, DROP_SHORTFALL};

/// Largest request head accepted (431 beyond it).
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Header fields per request head (431 beyond it).
pub const MAX_HEADERS: usize = 64;
/// Echoed bytes held per connection before it stops reading the client.
pub const ECHO_WINDOW: usize = 256 * 1024;
/// Parsed requests whose responses are not fully sent, before it stops parsing.
pub const MAX_PIPELINE: usize = 64;
/// Vecs kept for reuse by a [`Scratch`], and the largest one kept.
const POOL_VECS: usize = 128;
const POOL_VEC_CAPACITY: usize = 64 * 1024;

static SERVED: AtomicU64 = AtomicU64::new(0);

/// Requests this process has answered, over every thread (`/count` and `/count/reset` are
/// not counted). Counted when the request head is routed.
pub fn served() -> u64 {
    SERVED.load(Ordering::Relaxed)
}

/// One region of outgoing bytes.
#[derive(Debug)]
pub enum Piece {
    Owned(Vec<u8>),
    Static(&'static [u8]),
}

impl Piece {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Piece::Owned(v) => v,
            Piece::Static(s) => s,
        }
    }
}

/// Per-thread state shared by every connection of a shard: the output being assembled,
/// reusable vectors, and the digest cache.
#[derive(Default)]
pub struct Scratch {
    pieces: Vec<Piece>,
    pool: Vec<Vec<u8>>,
    sha: ShaCache,
}

impl Scratch {
    pub fn new() -> Self {
        Self::default()
    }

    /// The pieces produced by the last [`Connection::poll_transmit`], in order.
    pub fn take_pieces(&mut self) -> std::vec::Drain<'_, Piece> {
        self.pieces.drain(..)
    }

    /// Bytes currently assembled.
    pub fn pending(&self) -> usize {
        self.pieces.iter().map(|p| p.bytes().len()).sum()
    }

    /// Gives a sent vector back for reuse.
    pub fn recycle(&mut self, mut v: Vec<u8>) {
        if v.capacity() <= POOL_VEC_CAPACITY && self.pool.len() < POOL_VECS {
            v.clear();
            self.pool.push(v);
        }
    }

    fn vec(&mut self) -> Vec<u8> {
        self.pool.pop().unwrap_or_else(|| Vec::with_capacity(256))
    }

    /// The owned piece at the end of the output (a new one after a static piece).
    fn owned(&mut self) -> &mut Vec<u8> {
        if !matches!(self.pieces.last(), Some(Piece::Owned(_))) {
            let v = self.vec();
            self.pieces.push(Piece::Owned(v));
        }
        match self.pieces.last_mut() {
            Some(Piece::Owned(v)) => v,
            _ => unreachable!("an owned piece was just pushed"),
        }
    }

    fn push_owned(&mut self, v: Vec<u8>) {
        if !v.is_empty() {
            self.pieces.push(Piece::Owned(v));
        }
    }

    fn push_static(&mut self, s: &'static [u8]) {
        if !s.is_empty() {
            self.pieces.push(Piece::Static(s));
        }
    }
}

/// What the driver should do after [`Connection::poll_transmit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transmit {
    /// Send what is in the scratch pieces, then poll again when the send completes.
    Send,
    /// Nothing to send until more bytes arrive.
    Idle,
    /// Nothing to send before this instant (a `/slow` piece); poll again then.
    WaitUntil(Instant),
    /// Everything is sent: close gracefully (FIN).
    Close,
    /// Reset the connection (after `/drop`, or a request body that broke its framing).
    Abort,
}

/// What happens after a response is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum After {
    KeepAlive,
    Close,
    Abort,
}

enum Body {
    Empty,
    /// Pattern bytes `offset..offset + remaining`, raw.
    Pattern { offset: u64, remaining: u64 },
    /// Pattern bytes in chunks of `chunk` (`raw`: no chunk framing, for HTTP/1.0).
    Chunked { offset: u64, remaining: u64, chunk: u64, left_in_chunk: u64, raw: bool },
    /// Pattern bytes in `piece`s, one per `interval`; `due` is set when the head goes out.
    Slow { offset: u64, remaining: u64, piece: u64, interval: Duration, due: Option<Instant> },
    /// The request body, as it arrives.
    Echo { data: Vec<u8>, chunked: bool, input_done: bool },
}

struct Response {
    /// Head bytes not sent yet (empty once sent).
    head: Vec<u8>,
    /// `/slow?head`: the head waits for the first interval too.
    head_delay: Option<Duration>,
    body: Body,
    after: After,
}

enum Read {
    Head,
    Body { decoder: BodyDecoder, echo: bool, close: bool },
    /// No further request will be read; input is discarded.
    Done,
}

/// Why a request head was refused: the status to answer with before closing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Refusal(u16);

struct Request<'a> {
    method: &'a [u8],
    target: &'a [u8],
    version_minor: u8,
    close: bool,
    expect_continue: bool,
    framing: BodyFraming,
}

/// One client connection's HTTP/1.1 state.
pub struct Connection {
    input: Vec<u8>,
    read: Read,
    queue: VecDeque<Response>,
    /// Echo bytes held in `queue`.
    buffered: usize,
    peer_closed: bool,
    /// The peer broke the framing mid-body: reset once nothing can be saved.
    broken: bool,
    closing: Option<After>,
}

impl Default for Connection {
    fn default() -> Self {
        Self::new()
    }
}

impl Connection {
    pub fn new() -> Self {
        Connection {
            input: Vec::new(),
            read: Read::Head,
            queue: VecDeque::new(),
            buffered: 0,
            peer_closed: false,
            broken: false,
            closing: None,
        }
    }

    /// Feeds received bytes. Bytes that cannot be processed yet (pipelined requests beyond
    /// [`MAX_PIPELINE`], echo input beyond [`ECHO_WINDOW`]) are kept; the driver should stop
    /// reading while [`Connection::wants_read`] is false.
    pub fn receive(&mut self, scratch: &mut Scratch, data: &[u8]) {
        if self.input.is_empty() {
            let used = self.process(scratch, data);
            self.input.extend_from_slice(&data[used..]);
        } else {
            self.input.extend_from_slice(data);
            self.process_pending(scratch);
        }
    }

    /// The peer closed its sending side. Queued responses are still sent, then the
    /// connection closes; a request body cut short resets it.
    pub fn receive_eof(&mut self) {
        self.peer_closed = true;
        if let Read::Body { decoder, .. } = &mut self.read {
            if decoder.eof().is_err() {
                self.broken = true;
            }
        }
        self.read = Read::Done;
    }

    /// Whether the driver should keep a recv armed.
    pub fn wants_read(&self) -> bool {
        if self.peer_closed {
            return false;
        }
        match self.read {
            Read::Done => true,
            _ => self.buffered < ECHO_WINDOW && self.queue.len() < MAX_PIPELINE && self.input.len() <= MAX_HEAD_BYTES,
        }
    }

    /// Assembles up to about `budget` bytes into `scratch` (see [`Scratch::take_pieces`])
    /// and says what to do next. Call it after every receive, send completion and timer.
    pub fn poll_transmit(&mut self, scratch: &mut Scratch, now: Instant, budget: usize) -> Transmit {
        debug_assert!(scratch.pieces.is_empty(), "previous pieces not taken");
        self.process_pending(scratch);
        let mut wait = None;
        let mut out = 0usize;
        while out < budget {
            let Some(response) = self.queue.front_mut() else { break };
            match emit(response, scratch, now, budget - out, &mut self.buffered) {
                Emitted::Progress(n) => out += n,
                Emitted::Finished(n) => {
                    out += n;
                    let after = response.after;
                    if let Some(done) = self.queue.pop_front() {
                        if let Body::Echo { data, .. } = done.body {
                            scratch.recycle(data);
                        }
                    }
                    if after != After::KeepAlive {
                        self.closing = Some(after);
                        self.read = Read::Done;
                        self.queue.clear();
                        self.buffered = 0;
                        break;
                    }
                    // Room again for pipelined requests that were waiting.
                    self.process_pending(scratch);
                }
                Emitted::Blocked(n, until) => {
                    out += n;
                    wait = until;
                    break;
                }
            }
        }
        if out > 0 || !scratch.pieces.is_empty() {
            return Transmit::Send;
        }
        if self.broken {
            return Transmit::Abort;
        }
        match self.closing {
            Some(After::Abort) => return Transmit::Abort,
            Some(_) => return Transmit::Close,
            None => {}
        }
        if self.queue.is_empty() && self.peer_closed {
            return Transmit::Close;
        }
        wait.map_or(Transmit::Idle, Transmit::WaitUntil)
    }

    fn process_pending(&mut self, scratch: &mut Scratch) {
        if self.input.is_empty() {
            return;
        }
        let input = mem::take(&mut self.input);
        let used = self.process(scratch, &input);
        self.input = input;
        self.input.drain(..used);
    }

    /// Consumes requests and body bytes from `input` while there is room; returns the bytes used.
    fn process(&mut self, scratch: &mut Scratch, input: &[u8]) -> usize {
        let mut pos = 0;
        loop {
            match &mut self.read {
                Read::Done => return input.len(),
                Read::Head => {
                    if pos == input.len() || self.queue.len() >= MAX_PIPELINE || self.buffered >= ECHO_WINDOW {
                        return pos;
                    }
                    match parse_request(&input[pos..]) {
                        Ok(None) => return pos,
                        Ok(Some((request, len))) => {
                            pos += len;
                            self.start(scratch, &request);
                        }
                        Err(Refusal(status)) => {
                            self.refuse(scratch, status);
                            return input.len();
                        }
                    }
                }
                Read::Body { decoder, echo, close } => {
                    if *echo && self.buffered >= ECHO_WINDOW {
                        return pos;
                    }
                    let mut rest = &input[pos..];
                    let item = decoder.decode(&mut rest);
                    pos = input.len() - rest.len();
                    match item {
                        Ok(None) => return pos,
                        Ok(Some(BodyItem::Data(data))) => {
                            if *echo {
                                if let Some(Response { body: Body::Echo { data: buf, .. }, .. }) = self.queue.back_mut() {
                                    buf.extend_from_slice(data);
                                    self.buffered += data.len();
                                }
                            }
                        }
                        Ok(Some(BodyItem::End)) => {
                            let close = *close;
                            if let Some(Response { body: Body::Echo { input_done, .. }, .. }) = self.queue.back_mut() {
                                *input_done = true;
                            }
                            self.read = if close { Read::Done } else { Read::Head };
                        }
                        Err(_) => {
                            // The chunked framing is broken: the rest of the stream has no
                            // meaning and a response already under way cannot be finished.
                            self.broken = true;
                            self.read = Read::Done;
                            return input.len();
                        }
                    }
                }
            }
        }
    }

    /// Routes one request and queues its response.
    fn start(&mut self, scratch: &mut Scratch, request: &Request<'_>) {
        let route = route(request.method, request.target);
        if route.counted() {
            SERVED.fetch_add(1, Ordering::Relaxed);
        }
        let head_only = request.method == b"HEAD";
        let has_body = request.framing != BodyFraming::None;
        // HTTP/1.0 clients get one response per connection.
        let close = request.close || request.version_minor == 0;
        let mut h = scratch.vec();
        // RFC 9110 §10.1.1: a server that receives 100-continue "ought to" send 100 before
        // reading the body; we always do, in order with earlier responses.
        if request.expect_continue && has_body && request.version_minor >= 1 {
            h.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        let mut body = Body::Empty;
        let mut after = if close { After::Close } else { After::KeepAlive };
        let mut head_delay = None;
        let mut echo = false;
        match route {
            Route::Bytes { len, sha } => {
                let digest = if sha { scratch.sha.digest(len).copied() } else { None };
                write::status_line(&mut h, 200, b"OK");
                write::content_length(&mut h, len);
                if let Some(digest) = digest {
                    write::header(&mut h, b"x-body-sha256", &digest);
                }
                body = Body::Pattern { offset: 0, remaining: len };
            }
            Route::Echo => {
                write::status_line(&mut h, 200, b"OK");
                let chunked = request.framing == BodyFraming::Chunked;
                match request.framing {
                    BodyFraming::Length(n) => write::content_length(&mut h, n),
                    BodyFraming::Chunked => write::header(&mut h, b"transfer-encoding", b"chunked"),
                    BodyFraming::None | BodyFraming::UntilClose => write::content_length(&mut h, 0),
                }
                body = Body::Echo { data: scratch.vec(), chunked, input_done: !has_body };
                echo = true;
            }
            Route::Chunked { len, chunk } => {
                let raw = request.version_minor == 0;
                write::status_line(&mut h, 200, b"OK");
                if !raw {
                    write::header(&mut h, b"transfer-encoding", b"chunked");
                }
                body = Body::Chunked { offset: 0, remaining: len, chunk, left_in_chunk: 0, raw };
            }
            Route::Slow { len, interval, piece, delay_head } => {
                write::status_line(&mut h, 200, b"OK");
                write::content_length(&mut h, len);
                head_delay = delay_head.then_some(interval);
                body = Body::Slow { offset: 0, remaining: len, piece, interval, due: None };
            }
            Route::Status(status) => {
                write::status_line(&mut h, status, write::reason_phrase(status));
                // RFC 9110 §6.4.1: 204 and 304 responses have no content.
                if status != 204 && status != 304 {
                    let mut text = [0u8; 11];
                    text[..7].copy_from_slice(b"status ");
                    text[7] = b'0' + (status / 100) as u8;
                    text[8] = b'0' + (status / 10 % 10) as u8;
                    text[9] = b'0' + (status % 10) as u8;
                    text[10] = b'\n';
                    write::content_length(&mut h, text.len() as u64);
                    end_head(&mut h, close);
                    if !head_only {
                        h.extend_from_slice(&text);
                    }
                    return self.queue_response(h, None, body, after, request, echo);
                }
            }
            Route::Drop { sent } => {
                write::status_line(&mut h, 200, b"OK");
                write::content_length(&mut h, sent + DROP_SHORTFALL);
                body = Body::Pattern { offset: 0, remaining: sent };
                after = After::Abort;
            }
            Route::Count | Route::CountReset => {
                let count = if route == Route::CountReset { SERVED.swap(0, Ordering::Relaxed) } else { served() };
                let mut text = Vec::with_capacity(21);
                write::push_decimal(&mut text, count);
                text.push(b'\n');
                small_response(&mut h, 200, &text, head_only, close);
                return self.queue_response(h, None, body, after, request, echo);
            }
            Route::NotFound => {
                small_response(&mut h, 404, b"not found\n", head_only, close);
                return self.queue_response(h, None, body, after, request, echo);
            }
            Route::BadRequest => {
                small_response(&mut h, 400, b"bad request\n", head_only, close);
                return self.queue_response(h, None, body, after, request, echo);
            }
        }
        end_head(&mut h, after == After::Close);
        if head_only {
            body = Body::Empty;
        }
        self.queue_response(h, head_delay, body, after, request, echo);
    }

    fn queue_response(
        &mut self,
        head: Vec<u8>,
        head_delay: Option<Duration>,
        body: Body,
        after: After,
        request: &Request<'_>,
        echo: bool,
    ) {
        self.queue.push_back(Response { head, head_delay, body, after });
        self.read = match after {
            After::Abort => Read::Done,
            _ if request.framing != BodyFraming::None => {
                Read::Body { decoder: BodyDecoder::new(request.framing), echo, close: after == After::Close }
            }
            After::Close => Read::Done,
            After::KeepAlive => Read::Head,
        };
    }

    /// Answers an unparseable head and stops reading.
    fn refuse(&mut self, scratch: &mut Scratch, status: u16) {
        let mut head = scratch.vec();
        small_response(&mut head, status, write::reason_phrase(status), false, true);
        self.queue.push_back(Response { head, head_delay: None, body: Body::Empty, after: After::Close });
        self.read = Read::Done;
    }
}

fn end_head(head: &mut Vec<u8>, close: bool) {
    if close {
        write::header(head, b"connection", b"close");
    }
    write::end_head(head);
}

fn small_response(head: &mut Vec<u8>, status: u16, body: &[u8], head_only: bool, close: bool) {
    write::status_line(head, status, write::reason_phrase(status));
    write::content_length(head, body.len() as u64);
    end_head(head, close);
    if !head_only {
        head.extend_from_slice(body);
    }
}

enum Emitted {
    /// Bytes assembled; the response has more to send.
    Progress(usize),
    /// Bytes assembled; the response is complete.
    Finished(usize),
    /// Bytes assembled; nothing more until input arrives (`None`) or until an instant.
    Blocked(usize, Option<Instant>),
}

/// Assembles the next bytes of `response`, at most about `budget`.
fn emit(response: &mut Response, scratch: &mut Scratch, now: Instant, budget: usize, buffered: &mut usize) -> Emitted {
    let mut out = 0;
    if !response.head.is_empty() {
        // `/slow?head`: the first call starts the delay, the head goes out when it is due.
        if let Some(delay) = response.head_delay.take() {
            if let Body::Slow { due, .. } = &mut response.body {
                *due = Some(now + delay);
            }
            return Emitted::Blocked(0, Some(now + delay));
        }
        if let Body::Slow { due: Some(due), .. } = response.body {
            if due > now {
                return Emitted::Blocked(0, Some(due));
            }
        }
        out += response.head.len();
        scratch.push_owned(mem::take(&mut response.head));
        if let Body::Slow { due, interval, .. } = &mut response.body {
            *due = Some(now + *interval);
        }
    }
    let budget = budget.saturating_sub(out).max(1);
    match &mut response.body {
        Body::Empty => Emitted::Finished(out),
        Body::Pattern { offset, remaining } => {
            let mut sent = 0usize;
            while *remaining > 0 && sent < budget {
                let part = pattern::slice(*offset, (*remaining).min((budget - sent) as u64));
                scratch.push_static(part);
                *offset += part.len() as u64;
                *remaining -= part.len() as u64;
                sent += part.len();
            }
            if *remaining == 0 { Emitted::Finished(out + sent) } else { Emitted::Progress(out + sent) }
        }
        Body::Chunked { offset, remaining, chunk, left_in_chunk, raw } => {
            let mut sent = 0usize;
            while sent < budget {
                if *left_in_chunk == 0 {
                    if *remaining == 0 {
                        if !*raw {
                            scratch.push_static(write::LAST_CHUNK);
                            sent += write::LAST_CHUNK.len();
                        }
                        return Emitted::Finished(out + sent);
                    }
                    *left_in_chunk = (*chunk).min(*remaining);
                    if !*raw {
                        let v = scratch.owned();
                        let before = v.len();
                        write::chunk_head(*left_in_chunk as usize, v);
                        sent += v.len() - before;
                    }
                }
                let part = pattern::slice(*offset, (*left_in_chunk).min((budget - sent).max(1) as u64));
                scratch.push_static(part);
                *offset += part.len() as u64;
                *remaining -= part.len() as u64;
                *left_in_chunk -= part.len() as u64;
                sent += part.len();
                if *left_in_chunk == 0 && !*raw {
                    scratch.push_static(b"\r\n");
                    sent += 2;
                }
            }
            Emitted::Progress(out + sent)
        }
        Body::Slow { offset, remaining, piece, interval, due } => {
            if *remaining == 0 {
                return Emitted::Finished(out);
            }
            let when = due.unwrap_or(now);
            if when > now {
                return Emitted::Blocked(out, Some(when));
            }
            let part = pattern::slice(*offset, (*piece).min(*remaining));
            scratch.push_static(part);
            *offset += part.len() as u64;
            *remaining -= part.len() as u64;
            *due = Some(now + *interval);
            if *remaining == 0 { Emitted::Finished(out + part.len()) } else { Emitted::Blocked(out + part.len(), *due) }
        }
        Body::Echo { data, chunked, input_done } => {
            let mut sent = 0;
            if !data.is_empty() {
                let n = data.len();
                *buffered -= n;
                let fresh = scratch.vec();
                let data = mem::replace(data, fresh);
                if *chunked {
                    let v = scratch.owned();
                    let before = v.len();
                    write::chunk_head(n, v);
                    sent += v.len() - before + 2;
                    scratch.push_owned(data);
                    scratch.push_static(b"\r\n");
                } else {
                    scratch.push_owned(data);
                }
                sent += n;
            }
            if *input_done {
                if *chunked {
                    scratch.push_static(write::LAST_CHUNK);
                    sent += write::LAST_CHUNK.len();
                }
                Emitted::Finished(out + sent)
            } else {
                Emitted::Blocked(out + sent, None)
            }
        }
    }
}

/// Parses one request head from the front of `buf`. `Ok(None)`: incomplete.
fn parse_request(buf: &[u8]) -> Result<Option<(Request<'_>, usize)>, Refusal> {
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut storage);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) if len <= MAX_HEAD_BYTES => len,
        Ok(httparse::Status::Complete(_)) => return Err(Refusal(431)),
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD_BYTES => return Err(Refusal(431)),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(Refusal(431)),
        Err(httparse::Error::Version) => return Err(Refusal(505)),
        Err(_) => return Err(Refusal(400)),
    };
    let (Some(method), Some(target), Some(version_minor)) = (req.method, req.path, req.version) else {
        return Err(Refusal(400));
    };
    let mut close = false;
    let mut expect_continue = false;
    let mut content_length: Option<u64> = None;
    let mut chunked: Option<bool> = None;
    for h in req.headers.iter() {
        let name = h.name.as_bytes();
        if name.eq_ignore_ascii_case(b"content-length") {
            // RFC 9110 §8.6: a list of identical values may be taken as one; differing
            // values are an unrecoverable framing error.
            for part in h.value.split(|&b| b == b',') {
                let n = decimal(trim(part)).ok_or(Refusal(400))?;
                if content_length.is_some_and(|prev| prev != n) {
                    return Err(Refusal(400));
                }
                content_length = Some(n);
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            for part in h.value.split(|&b| b == b',').map(trim).filter(|t| !t.is_empty()) {
                chunked = Some(part.eq_ignore_ascii_case(b"chunked"));
            }
        } else if name.eq_ignore_ascii_case(b"connection") {
            close |= h.value.split(|&b| b == b',').any(|t| trim(t).eq_ignore_ascii_case(b"close"));
        } else if name.eq_ignore_ascii_case(b"expect") {
            expect_continue |= trim(h.value).eq_ignore_ascii_case(b"100-continue");
        }
    }
    // RFC 9112 §6.1: Transfer-Encoding with Content-Length "ought to be handled as an
    // error" (it is how request smuggling starts); a final coding other than chunked
    // leaves the length unknown (§6.3 rule 4: 400 and close).
    let framing = match (chunked, content_length) {
        (Some(_), Some(_)) => return Err(Refusal(400)),
        (Some(true), None) => BodyFraming::Chunked,
        (Some(false), None) => return Err(Refusal(400)),
        (None, Some(0) | None) => BodyFraming::None,
        (None, Some(n)) => BodyFraming::Length(n),
    };
    let request = Request { method: method.as_bytes(), target: target.as_bytes(), version_minor, close, expect_continue, framing };
    Ok(Some((request, len)))
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |e| e + 1);
    &bytes[start..end]
}

fn decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0')))
}

#[cfg(test)]
mod tests;
