//! One client SPDY connection inside the gateway: a server-role [`Session`] and one
//! exchange per stream, each bound to a backend HTTP/1.1 connection that the shard leases
//! from its pool. Sans-IO: the shard feeds client and backend bytes in and performs the
//! [`BackendAction`]s and client writes this type asks for. Payloads travel as [`Bytes`]
//! that share the receive buffers, so DATA is never copied on the way through.
//!
//! Back-pressure, end to end: client DATA is credited back (WINDOW_UPDATE) only when the
//! backend send that carried it completes; backend body bytes wait in a per-stream queue
//! bounded by `max_buffered_per_stream` (reads from that backend pause beyond it), and the
//! session is only asked for output while the unsent client bytes stay under
//! `max_buffered_per_session`. A stalled client therefore holds at most those bounds.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::gateway::response::{BackendError, ResponseItem, ResponseReader};
use crate::gateway::translate::{self, ForwardInfo, RequestSummary};
use crate::http1::body::MAX_TRAILER_BYTES;
use crate::http1::write;
use crate::id_map::IdMap;
use crate::spdy::error::SessionError;
use crate::spdy::frame::{GoAwayStatus, RstStatus};
use crate::spdy::header::HeaderBlock;
use crate::spdy::session::{Event, Session, Transmit};
use crate::spdy::stream_id::StreamId;
use crate::spdy::version::Version;

/// Gateway-side bounds and backend policy for one connection.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Response body bytes queued per stream before reads from its backend pause.
    pub max_buffered_per_stream: usize,
    /// Unsent bytes queued for the client before the session is asked for no more.
    pub max_buffered_per_session: usize,
    /// Retries of an idempotent, body-less request whose backend failed before answering.
    pub retries: u32,
    /// Time from opening the exchange to the response head.
    pub response_timeout: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_buffered_per_stream: 256 * 1024,
            max_buffered_per_session: 4 * 1024 * 1024,
            retries: 1,
            response_timeout: Duration::from_secs(60),
        }
    }
}

/// Names one exchange of one connection. The generation makes a stale id harmless.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExchangeId {
    pub index: u32,
    pub generation: u32,
}

/// What the shard must do on the backend side.
#[derive(Debug)]
pub enum BackendAction {
    /// Lease a backend connection (idle from the pool, or a new connect) for the exchange.
    /// `Send`s for it may follow before the connection is up: queue them.
    Open { exchange: ExchangeId, idempotent: bool },
    /// Write `bufs` in order to the exchange's backend connection. They carry `credit`
    /// bytes of client body: report completion with [`SpdyConnection::backend_sent`].
    Send { exchange: ExchangeId, bufs: Vec<Bytes>, credit: usize },
    /// Stop reading the exchange's backend connection (its stream queue is full).
    PauseRead { exchange: ExchangeId },
    /// Read it again.
    ResumeRead { exchange: ExchangeId },
    /// The exchange is over for the backend: return the connection to the pool when
    /// `reusable`, otherwise close it. No more events for this exchange are expected.
    Release { exchange: ExchangeId, reusable: bool },
}

/// How a backend exchange failed, as the shard saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendFailure {
    /// Could not connect (refused, unreachable, connect timeout).
    Connect,
    /// The connection broke (reset, write error).
    Broken,
}

#[derive(Debug, PartialEq, Eq)]
enum Backend {
    /// No backend involved (the gateway answered by itself).
    None,
    /// Open was issued and Release was not.
    Leased,
    /// Released.
    Released,
}

#[derive(Debug)]
struct Exchange {
    generation: u32,
    stream_id: StreamId,
    summary: RequestSummary,
    /// The request head, kept for a retry until the response starts or anything past the
    /// head goes to the backend.
    request_head: Option<Bytes>,
    request_complete: bool,
    body_received: u64,
    trailers: Vec<u8>,
    retries_left: u32,
    backend: Backend,
    response: ResponseReader,
    /// Response head deadline.
    deadline: Option<Instant>,
    replied: bool,
    fin_declared: bool,
    /// Response bytes declared to the session and not yet handed to the client.
    pending: VecDeque<Bytes>,
    pending_bytes: usize,
    paused: bool,
    /// The SPDY stream is over (closed or reset).
    stream_done: bool,
    /// The backend said the connection may be reused after this response.
    backend_reusable: bool,
}

/// A client SPDY connection.
pub struct SpdyConnection {
    session: Session,
    version: Version,
    client_addr: Vec<u8>,
    policy: Policy,
    exchanges: Vec<Option<Exchange>>,
    free: Vec<u32>,
    next_generation: u32,
    by_stream: IdMap<StreamId, u32>,
    client_out: VecDeque<Bytes>,
    client_out_bytes: usize,
    out_buf: Vec<u8>,
    actions: VecDeque<BackendAction>,
    scratch: Vec<u8>,
    block: HeaderBlock,
    items: Vec<ResponseItem>,
    session_failed: bool,
    /// Client bytes the session did not take yet (its outbound control queue was over its
    /// bound, B5): fed again once the client reads.
    unread: Bytes,
}

impl SpdyConnection {
    pub fn new(session: Session, client_addr: &[u8], policy: Policy) -> Self {
        SpdyConnection {
            version: session.version(),
            session,
            client_addr: client_addr.to_vec(),
            policy,
            exchanges: Vec::new(),
            free: Vec::new(),
            next_generation: 0,
            by_stream: IdMap::default(),
            client_out: VecDeque::new(),
            client_out_bytes: 0,
            out_buf: Vec::new(),
            actions: VecDeque::new(),
            scratch: Vec::new(),
            block: HeaderBlock::new(),
            items: Vec::new(),
            session_failed: false,
            unread: Bytes::new(),
        }
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Plaintext bytes from the client. `Err`: a session error; the GOAWAY is queued in the
    /// client output, every exchange is released: write the output, then close.
    pub fn recv_client(&mut self, data: &Bytes, now: Instant) -> Result<(), SessionError> {
        let data = if self.unread.is_empty() {
            data.clone()
        } else {
            // Rare (the session refused input while its control queue was full): join.
            let mut joined = Vec::with_capacity(self.unread.len() + data.len());
            joined.extend_from_slice(&self.unread);
            joined.extend_from_slice(data);
            self.unread = Bytes::new();
            Bytes::from(joined)
        };
        self.feed(data, now)
    }

    fn feed(&mut self, data: Bytes, now: Instant) -> Result<(), SessionError> {
        let mut input: &[u8] = &data;
        loop {
            match self.session.recv(&mut input, now) {
                Ok(Some(event)) => self.on_event(event, &data, now),
                Ok(None) => break,
                Err(e) => {
                    self.fail_all();
                    self.flush(now);
                    return Err(e);
                }
            }
        }
        if !input.is_empty() {
            // The session stopped taking input (`wants_read` is false): keep the rest.
            let consumed = data.len() - input.len();
            self.unread = data.slice(consumed..);
        }
        self.flush(now);
        Ok(())
    }

    /// Whether the session wants more client input now.
    pub fn wants_read(&self) -> bool {
        self.session.wants_read() && !self.session_failed && self.unread.is_empty()
    }

    /// Moves the bytes to write to the client into `out`, in order.
    pub fn take_client_output(&mut self, out: &mut Vec<Bytes>) {
        out.extend(self.client_out.drain(..));
    }

    /// `n` bytes taken from the client output were written.
    pub fn client_sent(&mut self, n: usize, now: Instant) {
        self.client_out_bytes = self.client_out_bytes.saturating_sub(n);
        self.flush(now);
        if !self.unread.is_empty() && self.session.wants_read() && !self.session_failed {
            let unread = std::mem::take(&mut self.unread);
            // A session error here is reported through `is_done` (GOAWAY queued).
            let _ = self.feed(unread, now);
        }
    }

    pub fn poll_backend_action(&mut self) -> Option<BackendAction> {
        self.actions.pop_front()
    }

    /// Bytes from the exchange's backend connection.
    pub fn backend_recv(&mut self, exchange: ExchangeId, data: Bytes, now: Instant) {
        let Some(index) = self.live(exchange) else { return };
        let mut items = std::mem::take(&mut self.items);
        let result = {
            let ex = self.exchanges[index as usize].as_mut().expect("live");
            ex.response.feed(data, &mut |item| items.push(item))
        };
        self.apply_items(index, &mut items, now);
        self.items = items;
        if let Err(e) = result {
            self.backend_broke(index, BackendBreak::Protocol(e), now);
        }
        self.flush(now);
    }

    /// The backend closed its side of the connection.
    pub fn backend_eof(&mut self, exchange: ExchangeId, now: Instant) {
        let Some(index) = self.live(exchange) else { return };
        let mut items = std::mem::take(&mut self.items);
        let result = {
            let ex = self.exchanges[index as usize].as_mut().expect("live");
            ex.response.eof(&mut |item| items.push(item))
        };
        self.apply_items(index, &mut items, now);
        self.items = items;
        if let Err(e) = result {
            self.backend_broke(index, BackendBreak::Protocol(e), now);
        }
        self.flush(now);
    }

    /// The backend connection for the exchange failed.
    pub fn backend_failed(&mut self, exchange: ExchangeId, failure: BackendFailure, now: Instant) {
        let Some(index) = self.live(exchange) else { return };
        self.backend_broke(index, BackendBreak::Io(failure), now);
        self.flush(now);
    }

    /// A `Send` carrying `credit` client body bytes completed: return window credit.
    pub fn backend_sent(&mut self, exchange: ExchangeId, credit: usize, now: Instant) {
        if credit == 0 {
            return;
        }
        if let Some(index) = self.live(exchange) {
            let stream_id = self.exchanges[index as usize].as_ref().expect("live").stream_id;
            self.session.consume(stream_id, credit);
            self.flush(now);
        }
    }

    /// Starts a graceful shutdown: GOAWAY(OK), streams in flight finish.
    pub fn goaway(&mut self, now: Instant) {
        self.session.goaway(GoAwayStatus::OK);
        self.flush(now);
    }

    /// The earliest deadline of the session and the exchanges.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let exchanges = self.exchanges.iter().flatten().filter_map(|e| e.deadline);
        exchanges.chain(self.session.poll_timeout()).min()
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.session.handle_timeout(now);
        let expired: Vec<u32> = self
            .exchanges
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().filter(|e| e.deadline.is_some_and(|d| d <= now)).map(|_| i as u32))
            .collect();
        for index in expired {
            self.backend_broke(index, BackendBreak::Timeout, now);
        }
        self.flush(now);
    }

    /// Everything is finished: the session closed, its output was taken and written, and
    /// every backend connection was released.
    pub fn is_done(&self) -> bool {
        (self.session.is_closed() || self.session_failed)
            && self.client_out.is_empty()
            && self.client_out_bytes == 0
            && self.actions.is_empty()
            && self.exchanges.iter().flatten().all(|e| e.backend != Backend::Leased)
    }

    /// Exchanges alive (for metrics and tests).
    pub fn exchanges(&self) -> usize {
        self.exchanges.iter().flatten().count()
    }

    /// Response bytes held for the client (queued per stream plus unsent output).
    pub fn buffered_bytes(&self) -> usize {
        self.exchanges.iter().flatten().map(|e| e.pending_bytes).sum::<usize>() + self.client_out_bytes
    }

    // ---- client events ------------------------------------------------------------

    fn on_event(&mut self, event: Event<'_>, data: &Bytes, now: Instant) {
        match event {
            Event::StreamOpened { stream_id, headers, fin, .. } => self.open(stream_id, &headers, fin, now),
            Event::Data { stream_id, data: bytes, fin } => {
                let payload = share(data, bytes);
                self.request_body(stream_id, payload, fin, now);
            }
            Event::Headers { stream_id, headers, fin } => {
                // CONFORMANCE C56: HEADERS on an open request stream are trailers,
                // forwarded only with a chunked backend body, else dropped.
                if let Some(&index) = self.by_stream.get(&stream_id) {
                    let ex = self.exchanges[index as usize].as_mut().expect("indexed");
                    if ex.summary.chunked {
                        translate::trailer_fields(&headers, &mut ex.trailers);
                        if ex.trailers.len() > MAX_TRAILER_BYTES {
                            // every HEADERS frame adds trailers: a client sending them
                            // without end must not grow the gateway's memory without end.
                            // The cap is the one HTTP/1 bodies have; past it the stream is
                            // reset FRAME_TOO_LARGE (as an over-large header block is, C45)
                            self.reset_exchange(index, RstStatus::FRAME_TOO_LARGE);
                            return;
                        }
                    }
                }
                if fin {
                    self.request_body(stream_id, Bytes::new(), true, now);
                }
            }
            Event::StreamReset { stream_id, .. } => {
                // CONFORMANCE C104: the backend exchange is aborted; nothing more is sent.
                if let Some(index) = self.by_stream.remove(&stream_id) {
                    self.abort(index);
                }
            }
            Event::StreamClosed { stream_id } => {
                if let Some(index) = self.by_stream.remove(&stream_id) {
                    let ex = self.exchanges[index as usize].as_mut().expect("indexed");
                    ex.stream_done = true;
                    self.maybe_remove(index);
                }
            }
            Event::SendWindowOpen { .. } | Event::GoAway { .. } | Event::PingAck { .. } | Event::Reply { .. } => {}
        }
    }

    fn open(&mut self, stream_id: StreamId, headers: &HeaderBlock, fin: bool, now: Instant) {
        self.scratch.clear();
        let info = ForwardInfo { client_addr: &self.client_addr, version: self.version };
        let summary = match translate::request_head(self.version, headers, !fin, info, &mut self.scratch) {
            Ok(summary) => summary,
            Err(bad) => {
                // CONFORMANCE C49–C52: answered with 400, nothing sent to a backend.
                let summary = RequestSummary { is_head: false, idempotent: false, content_length: None, chunked: false };
                let index = self.insert(stream_id, summary, Backend::None, None, fin);
                self.reply_error(index, 400, &bad.to_string());
                return;
            }
        };
        let head = Bytes::from(self.scratch.clone());
        let idempotent = summary.idempotent;
        let index = self.insert(stream_id, summary, Backend::Leased, Some(head.clone()), fin);
        let ex = self.exchanges[index as usize].as_mut().expect("inserted");
        ex.deadline = Some(now + self.policy.response_timeout);
        let id = ExchangeId { index, generation: ex.generation };
        self.actions.push_back(BackendAction::Open { exchange: id, idempotent });
        self.actions.push_back(BackendAction::Send { exchange: id, bufs: vec![head], credit: 0 });
    }

    fn request_body(&mut self, stream_id: StreamId, payload: Bytes, fin: bool, _now: Instant) {
        let len = payload.len();
        let Some(&index) = self.by_stream.get(&stream_id) else {
            // Stream unknown to the gateway (answered already): keep the window open.
            self.session.consume(stream_id, len);
            return;
        };
        let ex = self.exchanges[index as usize].as_mut().expect("indexed");
        if ex.request_complete {
            self.session.consume(stream_id, len);
            return;
        }
        ex.body_received += len as u64;
        if fin {
            ex.request_complete = true;
        }
        // CONFORMANCE C54: the DATA total must equal content-length (checked when it is
        // exceeded, or at FIN).
        let mismatch = match ex.summary.content_length {
            Some(cl) => ex.body_received > cl || (fin && ex.body_received != cl),
            None => false,
        };
        if mismatch {
            self.session.consume(stream_id, len);
            if ex.replied {
                // C54 (chosen): the response already started, so the stream is reset.
                self.reset_exchange(index, RstStatus::PROTOCOL_ERROR);
            } else {
                self.release_backend(index, false);
                let ex = self.exchanges[index as usize].as_mut().expect("indexed");
                ex.request_complete = true;
                self.reply_error(index, 400, "request body length does not match content-length");
            }
            return;
        }
        if ex.backend != Backend::Leased {
            self.session.consume(stream_id, len);
            return;
        }
        let mut bufs = Vec::with_capacity(4);
        if ex.summary.chunked {
            if len > 0 {
                let mut head = Vec::with_capacity(12);
                write::chunk_head(len, &mut head);
                bufs.push(Bytes::from(head));
                bufs.push(payload);
                bufs.push(Bytes::from_static(b"\r\n"));
            }
            if fin {
                if ex.trailers.is_empty() {
                    bufs.push(Bytes::from_static(write::LAST_CHUNK));
                } else {
                    let mut last = b"0\r\n".to_vec();
                    last.append(&mut ex.trailers);
                    last.extend_from_slice(b"\r\n");
                    bufs.push(Bytes::from(last));
                }
            }
        } else if len > 0 {
            bufs.push(payload);
        }
        if !bufs.is_empty() {
            // bytes past the head go to this backend (body, or just the last chunk and
            // trailers of an empty chunked body): a retry would have to resend them too
            ex.request_head = None;
            let id = ExchangeId { index, generation: ex.generation };
            self.actions.push_back(BackendAction::Send { exchange: id, bufs, credit: len });
        }
        if fin {
            self.maybe_release_after_response(index);
        }
    }

    // ---- backend events -----------------------------------------------------------

    fn apply_items(&mut self, index: u32, items: &mut Vec<ResponseItem>, _now: Instant) {
        let mut drained = items.drain(..).peekable();
        while let Some(item) = drained.next() {
            let ex = self.exchanges[index as usize].as_mut().expect("live");
            let stream_id = ex.stream_id;
            match item {
                ResponseItem::Head(head) => {
                    ex.deadline = None;
                    ex.request_head = None;
                    let no_body = matches!(drained.peek(), Some(ResponseItem::End { .. }));
                    translate::response_headers(self.version, &head, &mut self.block);
                    if ex.stream_done {
                        continue;
                    }
                    ex.replied = true;
                    ex.fin_declared = no_body;
                    // CONFORMANCE C59: FIN on the SYN_REPLY when there is no body.
                    if self.session.send_reply(stream_id, &self.block, no_body).is_err() {
                        self.abort(index);
                        return;
                    }
                }
                ResponseItem::Body(bytes) => {
                    if ex.stream_done || bytes.is_empty() {
                        continue;
                    }
                    let len = bytes.len();
                    ex.pending_bytes += len;
                    ex.pending.push_back(bytes);
                    let _ = self.session.send_data(stream_id, len, false);
                    if ex.pending_bytes > self.policy.max_buffered_per_stream && !ex.paused {
                        ex.paused = true;
                        let id = ExchangeId { index, generation: ex.generation };
                        self.actions.push_back(BackendAction::PauseRead { exchange: id });
                    }
                }
                ResponseItem::End { reusable } => {
                    if !ex.stream_done && !ex.fin_declared {
                        ex.fin_declared = true;
                        let _ = self.session.send_data(stream_id, 0, true);
                    }
                    ex.backend_reusable = reusable;
                    self.maybe_release_after_response(index);
                }
            }
        }
    }

    fn backend_broke(&mut self, index: u32, why: BackendBreak, now: Instant) {
        let ex = self.exchanges[index as usize].as_mut().expect("live");
        if ex.backend != Backend::Leased {
            return;
        }
        let retry = !ex.response.started()
            && ex.summary.idempotent
            && ex.retries_left > 0
            && ex.request_complete
            && ex.body_received == 0
            && ex.request_head.is_some()
            && !ex.stream_done
            && !matches!(why, BackendBreak::Timeout);
        self.release_backend(index, false);
        let ex = self.exchanges[index as usize].as_mut().expect("live");
        if retry {
            ex.retries_left -= 1;
            ex.backend = Backend::Leased;
            ex.response = ResponseReader::new(ex.summary.is_head);
            ex.deadline = Some(now + self.policy.response_timeout);
            ex.generation = self.next_generation;
            self.next_generation = self.next_generation.wrapping_add(1);
            let id = ExchangeId { index, generation: ex.generation };
            let head = ex.request_head.clone().expect("checked");
            self.actions.push_back(BackendAction::Open { exchange: id, idempotent: true });
            self.actions.push_back(BackendAction::Send { exchange: id, bufs: vec![head], credit: 0 });
            return;
        }
        if ex.stream_done {
            self.maybe_remove(index);
            return;
        }
        if !ex.replied {
            let (status, detail) = match why {
                BackendBreak::Timeout => (504, "the backend did not answer in time".to_string()),
                BackendBreak::Io(BackendFailure::Connect) => (502, "no backend connection could be made".to_string()),
                BackendBreak::Io(BackendFailure::Broken) => (502, "the backend connection broke".to_string()),
                BackendBreak::Protocol(e) => (502, format!("the backend sent an invalid response: {e}")),
            };
            self.reply_error(index, status, &detail);
        } else {
            // The reply is out: only the stream can be reset (the issue: INTERNAL_ERROR).
            self.reset_exchange(index, RstStatus::INTERNAL_ERROR);
        }
    }

    // ---- helpers --------------------------------------------------------------------

    fn insert(&mut self, stream_id: StreamId, summary: RequestSummary, backend: Backend, head: Option<Bytes>, fin: bool) -> u32 {
        let generation = self.next_generation;
        self.next_generation = self.next_generation.wrapping_add(1);
        let ex = Exchange {
            generation,
            stream_id,
            response: ResponseReader::new(summary.is_head),
            summary,
            request_head: head,
            request_complete: fin,
            body_received: 0,
            trailers: Vec::new(),
            retries_left: self.policy.retries,
            backend,
            deadline: None,
            replied: false,
            fin_declared: false,
            pending: VecDeque::new(),
            pending_bytes: 0,
            paused: false,
            stream_done: false,
            backend_reusable: false,
        };
        let index = match self.free.pop() {
            Some(i) => {
                self.exchanges[i as usize] = Some(ex);
                i
            }
            None => {
                self.exchanges.push(Some(ex));
                (self.exchanges.len() - 1) as u32
            }
        };
        self.by_stream.insert(stream_id, index);
        index
    }

    fn live(&self, id: ExchangeId) -> Option<u32> {
        match self.exchanges.get(id.index as usize) {
            Some(Some(ex)) if ex.generation == id.generation && ex.backend == Backend::Leased => Some(id.index),
            _ => None,
        }
    }

    /// Answers a stream with a gateway-made reply (400/502/504).
    fn reply_error(&mut self, index: u32, status: u16, detail: &str) {
        let ex = self.exchanges[index as usize].as_mut().expect("live");
        let body = translate::error_body(status, detail);
        translate::error_reply(self.version, status, body.len(), &mut self.block);
        let stream_id = ex.stream_id;
        ex.replied = true;
        ex.fin_declared = true;
        ex.deadline = None;
        if self.session.send_reply(stream_id, &self.block, false).is_err() {
            return;
        }
        ex.pending_bytes += body.len();
        let len = body.len();
        ex.pending.push_back(Bytes::from(body));
        let _ = self.session.send_data(stream_id, len, true);
    }

    /// The response ended: release the backend once the request was fully sent too.
    fn maybe_release_after_response(&mut self, index: u32) {
        let ex = self.exchanges[index as usize].as_mut().expect("live");
        if ex.backend == Backend::Leased && ex.response.is_done() {
            // A backend that answered before the request body was complete cannot be
            // reused: the rest of the body would be read as the next request.
            let reusable = ex.backend_reusable && ex.request_complete;
            self.release_backend(index, reusable);
        }
        self.maybe_remove(index);
    }

    fn release_backend(&mut self, index: u32, reusable: bool) {
        let ex = self.exchanges[index as usize].as_mut().expect("live");
        if ex.backend == Backend::Leased {
            ex.backend = Backend::Released;
            ex.deadline = None;
            let id = ExchangeId { index, generation: ex.generation };
            self.actions.push_back(BackendAction::Release { exchange: id, reusable });
        }
    }

    /// Resets the exchange's stream with `status` (RST_STREAM) and aborts the exchange.
    fn reset_exchange(&mut self, index: u32, status: RstStatus) {
        let stream_id = self.exchanges[index as usize].as_ref().expect("live").stream_id;
        self.session.reset_stream(stream_id, status);
        self.by_stream.remove(&stream_id);
        self.abort(index);
    }

    /// The stream is gone: drop its queue and release its backend (not reusable).
    fn abort(&mut self, index: u32) {
        self.release_backend(index, false);
        let ex = self.exchanges[index as usize].as_mut().expect("live");
        ex.stream_done = true;
        ex.pending.clear();
        ex.pending_bytes = 0;
        self.maybe_remove(index);
    }

    fn maybe_remove(&mut self, index: u32) {
        let Some(ex) = self.exchanges[index as usize].as_ref() else { return };
        if ex.stream_done && ex.backend != Backend::Leased {
            self.exchanges[index as usize] = None;
            self.free.push(index);
        }
    }

    fn fail_all(&mut self) {
        self.session_failed = true;
        let live: Vec<u32> = self.exchanges.iter().enumerate().filter(|(_, e)| e.is_some()).map(|(i, _)| i as u32).collect();
        self.by_stream.clear();
        for index in live {
            self.abort(index);
        }
    }

    /// Moves session output into the client queue while it is under its bound, and
    /// handles events that arose outside `recv` (a stream closed when our FIN went out, a
    /// send-timeout reset).
    fn flush(&mut self, now: Instant) {
        self.transmit(now);
        let empty = Bytes::new();
        let mut again = false;
        while let Some(event) = self.session.poll_event() {
            self.on_event(event, &empty, now);
            again = true;
        }
        if again {
            self.transmit(now);
        }
    }

    fn transmit(&mut self, now: Instant) {
        while self.client_out_bytes < self.policy.max_buffered_per_session {
            match self.session.poll_transmit(&mut self.out_buf, now) {
                None => break,
                Some(Transmit::Control) => {}
                Some(Transmit::Data { stream_id, head, len, .. }) => {
                    self.out_buf.extend_from_slice(&head);
                    self.push_out_buf();
                    self.take_pending(stream_id, len);
                }
            }
        }
        self.push_out_buf();
    }

    fn push_out_buf(&mut self) {
        if !self.out_buf.is_empty() {
            let bytes = Bytes::from(std::mem::take(&mut self.out_buf));
            self.client_out_bytes += bytes.len();
            self.client_out.push_back(bytes);
        }
    }

    /// Hands `len` queued bytes of a stream to the client output.
    fn take_pending(&mut self, stream_id: StreamId, mut len: usize) {
        let Some(&index) = self.by_stream.get(&stream_id) else {
            debug_assert!(len == 0, "session scheduled data for a stream the gateway forgot");
            return;
        };
        let ex = self.exchanges[index as usize].as_mut().expect("indexed");
        while len > 0 {
            let Some(front) = ex.pending.front_mut() else {
                debug_assert!(false, "session scheduled more data than declared");
                break;
            };
            let piece = if front.len() <= len { ex.pending.pop_front().expect("front") } else { front.split_to(len) };
            len -= piece.len();
            ex.pending_bytes -= piece.len();
            self.client_out_bytes += piece.len();
            self.client_out.push_back(piece);
        }
        if ex.paused && ex.pending_bytes <= self.policy.max_buffered_per_stream / 2 {
            ex.paused = false;
            let id = ExchangeId { index, generation: ex.generation };
            self.actions.push_back(BackendAction::ResumeRead { exchange: id });
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum BackendBreak {
    Io(BackendFailure),
    Protocol(BackendError),
    Timeout,
}

/// A sub-slice of `data` as shared `Bytes` (no copy); copies if it is not inside `data`.
fn share(data: &Bytes, part: &[u8]) -> Bytes {
    let base = data.as_ptr() as usize;
    let start = part.as_ptr() as usize;
    if start >= base && start + part.len() <= base + data.len() {
        data.slice(start - base..start - base + part.len())
    } else {
        Bytes::copy_from_slice(part)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spdy::session::{Role, SessionConfig};

    /// A client session's output for `requests`: (headers, trailers) per stream, each
    /// request ended by its trailers (HEADERS with FIN, no DATA).
    fn client_bytes(version: Version, requests: &[(&[(&str, &str)], &[(&str, &str)])], now: Instant) -> Bytes {
        let mut client = Session::new(Role::Client, version, SessionConfig::default(), now);
        for (headers, trailers) in requests {
            let mut block = HeaderBlock::new();
            headers.iter().for_each(|(n, v)| block.push(*n, *v));
            let id = client.open_stream(&block, 0, false).expect("open");
            let mut block = HeaderBlock::new();
            trailers.iter().for_each(|(n, v)| block.push(*n, *v));
            client.send_headers(id, &block, true).expect("trailers");
        }
        let mut out = Vec::new();
        while client.poll_transmit_copy(&mut out, now, &mut |_, _, _| unreachable!("no DATA")) {}
        Bytes::from(out)
    }

    fn actions(conn: &mut SpdyConnection) -> Vec<BackendAction> {
        std::iter::from_fn(|| conn.poll_backend_action()).collect()
    }

    #[test]
    fn a_request_whose_last_chunk_went_to_the_backend_is_not_retried_with_its_head_alone() {
        // PUT is idempotent, and no DATA came, but the body is chunked: its last chunk and
        // trailers went to the backend after the head. A retry that resends the head alone
        // would leave the new connection owing a body, and whatever request is sent on it
        // next would be read as that body.
        let now = crate::testing::epoch();
        let v = Version::Spdy31;
        let session = Session::new(Role::Server, v, SessionConfig::default(), now);
        let mut conn = SpdyConnection::new(session, b"192.0.2.7", Policy::default());
        let put: &[(&str, &str)] =
            &[(":method", "PUT"), (":path", "/x"), (":version", "HTTP/1.1"), (":host", "a"), (":scheme", "http")];
        conn.recv_client(&client_bytes(v, &[(put, &[("x-sum", "1")])], now), now).expect("valid frames");
        let sent = actions(&mut conn);
        let BackendAction::Open { exchange, idempotent: true } = sent[0] else { panic!("{sent:?}") };
        let last: Vec<u8> = match sent.last() {
            Some(BackendAction::Send { bufs, .. }) => bufs.concat(),
            other => panic!("{other:?}"),
        };
        assert_eq!(last, b"0\r\nx-sum: 1\r\n\r\n", "the last chunk and the trailers follow the head");
        conn.backend_failed(exchange, BackendFailure::Broken, now);
        let after = actions(&mut conn);
        assert!(!after.iter().any(|a| matches!(a, BackendAction::Open { .. })), "retried: {after:?}");
        assert!(matches!(after[..], [BackendAction::Release { reusable: false, .. }]), "{after:?}");
    }
}
