//! A plain HTTP/1.1 client connection (ALPN `http/1.1`, or sniffed on plaintext) proxied
//! to a backend: one request at a time (pipelined requests wait their turn), bodies
//! streamed both ways without copying, the client's keep-alive honoured. Sans-IO, with the
//! same [`BackendAction`] contract as [`crate::gateway::SpdyConnection`].

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;

use crate::gateway::connection::{BackendAction, BackendFailure, ExchangeId, Policy};
use crate::gateway::response::{ResponseItem, ResponseReader};
use crate::gateway::translate;
use crate::http1::{write, BodyDecoder, BodyFraming, BodyItem, RequestHead, ResponseHead};

/// Request headers that never travel to the backend as sent (hop-by-hop, or rebuilt).
const DROPPED: [&[u8]; 9] = [
    b"connection",
    b"keep-alive",
    b"proxy-connection",
    b"transfer-encoding",
    b"upgrade",
    b"host",
    b"content-length",
    b"expect",
    b"x-forwarded-proto",
];
const DROPPED_RESPONSE: [&[u8]; 6] =
    [b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade", b"content-length"];

#[derive(Debug)]
enum State {
    /// Waiting for (more of) a request head.
    Head,
    /// Forwarding the request body.
    Body(BodyDecoder),
    /// Request forwarded; waiting for the response to finish.
    Response,
    /// Closing after the output drains.
    Closing,
}

#[derive(Debug)]
struct Current {
    generation: u32,
    head_request: bool,
    keep_alive: bool,
    leased: bool,
    reader: ResponseReader,
    /// How the response body is framed towards the client.
    chunked_out: bool,
    response_started: bool,
    response_done: bool,
    request_done: bool,
    deadline: Option<Instant>,
    paused: bool,
    reusable: bool,
    /// The head sent to the backend, kept for a retry while one is allowed: an
    /// idempotent request without a body (the same rule as the SPDY front's).
    retry_head: Option<Bytes>,
    retries_left: u32,
}

pub struct H1Connection {
    client_addr: Vec<u8>,
    tls: bool,
    policy: Policy,
    state: State,
    /// Unparsed client bytes (a partial head, or a pipelined next request).
    in_buf: Vec<u8>,
    current: Option<Current>,
    generation: u32,
    client_out: VecDeque<Bytes>,
    client_out_bytes: usize,
    /// Request body bytes handed to the backend and not yet written.
    unsent_body: usize,
    actions: VecDeque<BackendAction>,
    items: Vec<ResponseItem>,
}

impl H1Connection {
    pub fn new(client_addr: &[u8], tls: bool, policy: Policy) -> Self {
        H1Connection {
            client_addr: client_addr.to_vec(),
            tls,
            policy,
            state: State::Head,
            in_buf: Vec::new(),
            current: None,
            generation: 0,
            client_out: VecDeque::new(),
            client_out_bytes: 0,
            unsent_body: 0,
            actions: VecDeque::new(),
            items: Vec::new(),
        }
    }

    /// Whether more client bytes are wanted now.
    pub fn wants_read(&self) -> bool {
        match self.state {
            State::Head => self.in_buf.len() < crate::http1::head::MAX_HEAD_BYTES,
            State::Body(_) => self.unsent_body < self.policy.max_buffered_per_stream,
            State::Response | State::Closing => false,
        }
    }

    /// Client bytes. Bytes past the current request are kept for the next one.
    pub fn recv_client(&mut self, data: Bytes, now: Instant) {
        if matches!(self.state, State::Body(_)) && self.in_buf.is_empty() {
            self.body_input(data, now);
        } else {
            self.in_buf.extend_from_slice(&data);
            self.advance(now);
        }
    }

    /// The client closed its side.
    pub fn client_eof(&mut self, now: Instant) {
        if let State::Body(decoder) = &mut self.state {
            if decoder.eof().is_err() {
                self.abort_exchange();
            }
        }
        if self.current.is_none() || matches!(self.state, State::Head) {
            self.state = State::Closing;
        }
        let _ = now;
    }

    pub fn take_client_output(&mut self, out: &mut Vec<Bytes>) {
        out.extend(self.client_out.drain(..));
    }

    pub fn client_sent(&mut self, n: usize, _now: Instant) {
        self.client_out_bytes = self.client_out_bytes.saturating_sub(n);
        if let Some(cur) = self.current.as_mut() {
            if cur.paused && self.client_out_bytes <= self.policy.max_buffered_per_stream / 2 {
                cur.paused = false;
                let id = ExchangeId { index: 0, generation: cur.generation };
                self.actions.push_back(BackendAction::ResumeRead { exchange: id });
            }
        }
    }

    pub fn poll_backend_action(&mut self) -> Option<BackendAction> {
        self.actions.pop_front()
    }

    pub fn backend_sent(&mut self, exchange: ExchangeId, credit: usize, _now: Instant) {
        if self.live(exchange) {
            self.unsent_body = self.unsent_body.saturating_sub(credit);
        }
    }

    pub fn backend_recv(&mut self, exchange: ExchangeId, data: Bytes, now: Instant) {
        if !self.live(exchange) {
            return;
        }
        let mut items = std::mem::take(&mut self.items);
        let cur = self.current.as_mut().expect("live");
        let result = cur.reader.feed(data, &mut |i| items.push(i));
        self.apply(&mut items, now);
        self.items = items;
        if result.is_err() {
            self.backend_broke(502, "the backend sent an invalid response", now);
        }
    }

    pub fn backend_eof(&mut self, exchange: ExchangeId, now: Instant) {
        if !self.live(exchange) {
            return;
        }
        let mut items = std::mem::take(&mut self.items);
        let cur = self.current.as_mut().expect("live");
        let result = cur.reader.eof(&mut |i| items.push(i));
        self.apply(&mut items, now);
        self.items = items;
        if result.is_err() {
            self.backend_broke(502, "the backend closed the connection before a whole response", now);
        }
    }

    pub fn backend_failed(&mut self, exchange: ExchangeId, failure: BackendFailure, now: Instant) {
        if self.live(exchange) {
            let detail = match failure {
                BackendFailure::Connect => "no backend connection could be made",
                BackendFailure::Broken => "the backend connection broke",
            };
            self.backend_broke(502, detail, now);
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.current.as_ref().and_then(|c| c.deadline)
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.current.as_ref().and_then(|c| c.deadline).is_some_and(|d| d <= now) {
            self.backend_broke(504, "the backend did not answer in time", now);
        }
    }

    /// The connection can be closed (after its output was written).
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Closing) && self.client_out.is_empty() && self.client_out_bytes == 0 && self.current.is_none()
    }

    // ---- internals --------------------------------------------------------------------

    fn live(&self, id: ExchangeId) -> bool {
        self.current.as_ref().is_some_and(|c| c.leased && c.generation == id.generation)
    }

    fn id(&self) -> ExchangeId {
        ExchangeId { index: 0, generation: self.current.as_ref().map_or(0, |c| c.generation) }
    }

    /// Parses the next request head from `in_buf` and starts its exchange.
    fn advance(&mut self, now: Instant) {
        if !matches!(self.state, State::Head) || self.current.is_some() {
            return;
        }
        let parsed = RequestHead::parse(&self.in_buf);
        let (head, used) = match parsed {
            Ok(Some(x)) => x,
            Ok(None) => return,
            Err(_) => return self.local_reply(400, "malformed request head"),
        };
        let framing = match head.framing() {
            Ok(f) => f,
            Err(_) => return self.local_reply(400, "ambiguous request body framing"),
        };
        let mut out = Vec::with_capacity(used + 128);
        if let Err(why) = self.backend_head(&head, framing, &mut out) {
            return self.local_reply(400, why);
        }
        if head.expects_continue() {
            self.push_out(Bytes::from_static(b"HTTP/1.1 100 Continue\r\n\r\n"));
        }
        let idempotent = translate::is_idempotent(head.method());
        let out = Bytes::from(out);
        let body_less = matches!(framing, BodyFraming::None);
        self.generation = self.generation.wrapping_add(1);
        self.current = Some(Current {
            generation: self.generation,
            head_request: head.method() == b"HEAD",
            keep_alive: head.keep_alive(),
            leased: true,
            reader: ResponseReader::new(head.method() == b"HEAD"),
            chunked_out: false,
            response_started: false,
            response_done: false,
            request_done: false,
            deadline: Some(now + self.policy.response_timeout),
            paused: false,
            reusable: false,
            retry_head: (idempotent && body_less && self.policy.retries > 0).then(|| out.clone()),
            retries_left: self.policy.retries,
        });
        let id = self.id();
        self.actions.push_back(BackendAction::Open { exchange: id, idempotent });
        self.actions.push_back(BackendAction::Send { exchange: id, bufs: vec![out], credit: 0 });
        let rest = Bytes::copy_from_slice(&self.in_buf[used..]);
        self.in_buf.clear();
        let decoder = BodyDecoder::new(framing);
        if decoder.is_done() {
            self.request_finished();
            self.in_buf.extend_from_slice(&rest);
        } else {
            self.state = State::Body(decoder);
            self.body_input(rest, now);
        }
    }

    fn backend_head(&self, head: &RequestHead, framing: BodyFraming, out: &mut Vec<u8>) -> Result<(), &'static str> {
        let target = head.target();
        let (host, path) = match target.strip_prefix(b"http://").or_else(|| target.strip_prefix(b"https://")) {
            Some(rest) => {
                let slash = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
                (Some(&rest[..slash]), if slash == rest.len() { b"/".as_slice() } else { &rest[slash..] })
            }
            None => {
                // RFC 9112 §3.2: a request with more than one Host field gets 400 (which one
                // a backend or cache would use is anyone's guess)
                if head.headers().filter(|(n, _)| n.eq_ignore_ascii_case(b"host")).nth(1).is_some() {
                    return Err("more than one Host field");
                }
                (head.header(b"host"), target)
            }
        };
        let host = host.filter(|h| !h.is_empty()).ok_or("missing Host")?;
        // the same check as for SPDY's :host (B12)
        if !translate::is_valid_host(host) {
            return Err("invalid Host");
        }
        if path.first() != Some(&b'/') && !(path == b"*" && head.method() == b"OPTIONS") {
            return Err("invalid request target");
        }
        write::request_line(out, head.method(), path);
        write::header(out, b"host", host);
        let mut forwarded_for: Vec<u8> = Vec::new();
        for (name, value) in head.headers() {
            let lower = name.to_ascii_lowercase();
            if DROPPED.contains(&lower.as_slice()) {
                continue;
            }
            if lower == b"te" {
                continue;
            }
            if lower == b"x-forwarded-for" {
                forwarded_for.extend_from_slice(value);
                forwarded_for.extend_from_slice(b", ");
                continue;
            }
            // Fields the client nominated as hop-by-hop in Connection are not forwarded.
            if head.headers().any(|(n, v)| n.eq_ignore_ascii_case(b"connection") && v.split(|&b| b == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(&lower))) {
                continue;
            }
            write::header(out, name, value);
        }
        forwarded_for.extend_from_slice(&self.client_addr);
        write::header(out, b"x-forwarded-for", &forwarded_for);
        write::header(out, b"x-forwarded-proto", if self.tls { b"https" } else { b"http" });
        write::header(out, b"via", if head.version_minor == 0 { b"1.0 spdygate" } else { b"1.1 spdygate" });
        match framing {
            BodyFraming::Length(n) => write::content_length(out, n),
            BodyFraming::Chunked => write::header(out, b"transfer-encoding", b"chunked"),
            BodyFraming::None | BodyFraming::UntilClose => {}
        }
        write::end_head(out);
        Ok(())
    }

    fn body_input(&mut self, data: Bytes, now: Instant) {
        let State::Body(decoder) = &mut self.state else {
            self.in_buf.extend_from_slice(&data);
            return;
        };
        let chunked = decoder.is_chunked();
        let mut input: &[u8] = &data;
        let mut bufs = Vec::new();
        let mut credit = 0;
        let mut finished = false;
        loop {
            match decoder.decode(&mut input) {
                Ok(Some(BodyItem::Data(d))) => {
                    let start = d.as_ptr() as usize - data.as_ptr() as usize;
                    let piece = data.slice(start..start + d.len());
                    credit += piece.len();
                    if chunked {
                        let mut h = Vec::with_capacity(12);
                        write::chunk_head(piece.len(), &mut h);
                        bufs.push(Bytes::from(h));
                        bufs.push(piece);
                        bufs.push(Bytes::from_static(b"\r\n"));
                    } else {
                        bufs.push(piece);
                    }
                }
                Ok(Some(BodyItem::End)) => {
                    if chunked {
                        bufs.push(Bytes::from_static(write::LAST_CHUNK));
                    }
                    finished = true;
                    break;
                }
                Ok(None) => break,
                Err(_) => {
                    self.abort_exchange();
                    self.local_reply(400, "malformed request body");
                    return;
                }
            }
        }
        if !bufs.is_empty() {
            self.unsent_body += credit;
            let id = self.id();
            self.actions.push_back(BackendAction::Send { exchange: id, bufs, credit });
        }
        if finished {
            self.request_finished();
            self.in_buf.extend_from_slice(input);
            self.maybe_finish(now);
        }
    }

    fn request_finished(&mut self) {
        if let Some(cur) = self.current.as_mut() {
            cur.request_done = true;
        }
        self.state = State::Response;
    }

    fn apply(&mut self, items: &mut Vec<ResponseItem>, now: Instant) {
        for item in items.drain(..) {
            match item {
                ResponseItem::Head(head) => self.response_head(&head),
                ResponseItem::Body(bytes) => {
                    let cur = self.current.as_mut().expect("live");
                    if bytes.is_empty() {
                        continue;
                    }
                    if cur.chunked_out {
                        let mut h = Vec::with_capacity(12);
                        write::chunk_head(bytes.len(), &mut h);
                        self.push_out(Bytes::from(h));
                        self.push_out(bytes);
                        self.push_out(Bytes::from_static(b"\r\n"));
                    } else {
                        self.push_out(bytes);
                    }
                    let cur = self.current.as_mut().expect("live");
                    if !cur.paused && self.client_out_bytes > self.policy.max_buffered_per_stream {
                        cur.paused = true;
                        let id = ExchangeId { index: 0, generation: cur.generation };
                        self.actions.push_back(BackendAction::PauseRead { exchange: id });
                    }
                }
                ResponseItem::End { reusable } => {
                    let cur = self.current.as_mut().expect("live");
                    if cur.chunked_out {
                        self.push_out(Bytes::from_static(write::LAST_CHUNK));
                    }
                    let cur = self.current.as_mut().expect("live");
                    cur.response_done = true;
                    cur.reusable = reusable;
                    self.maybe_finish(now);
                }
            }
        }
    }

    fn response_head(&mut self, head: &ResponseHead) {
        let cur = self.current.as_mut().expect("live");
        cur.deadline = None;
        cur.response_started = true;
        let framing = head.framing(cur.head_request).unwrap_or(BodyFraming::UntilClose);
        let mut out = Vec::with_capacity(256);
        write::status_line(&mut out, head.status, head.reason());
        for (name, value) in head.headers() {
            let lower = name.to_ascii_lowercase();
            if DROPPED_RESPONSE.contains(&lower.as_slice()) || head.connection_lists(&lower) {
                continue;
            }
            write::header(&mut out, name, value);
        }
        match framing {
            BodyFraming::Length(n) => write::content_length(&mut out, n),
            BodyFraming::Chunked | BodyFraming::UntilClose => {
                write::header(&mut out, b"transfer-encoding", b"chunked");
                cur.chunked_out = true;
            }
            BodyFraming::None => {
                if cur.head_request {
                    if let Some(cl) = head.header(b"content-length") {
                        write::header(&mut out, b"content-length", cl);
                    }
                }
            }
        }
        if !cur.keep_alive {
            write::header(&mut out, b"connection", b"close");
        }
        write::end_head(&mut out);
        self.push_out(Bytes::from(out));
    }

    /// Both directions of the exchange are complete: release the backend, then serve the
    /// next (pipelined) request or close.
    fn maybe_finish(&mut self, now: Instant) {
        let Some(cur) = self.current.as_ref() else { return };
        if !(cur.response_done && cur.request_done) {
            return;
        }
        let keep_alive = cur.keep_alive;
        let id = ExchangeId { index: 0, generation: cur.generation };
        let reusable = cur.reusable;
        if cur.leased {
            self.actions.push_back(BackendAction::Release { exchange: id, reusable });
        }
        self.current = None;
        if keep_alive {
            self.state = State::Head;
            self.advance(now);
        } else {
            self.state = State::Closing;
        }
    }

    /// The exchange's backend failed (`status` 502, or 504 at the response timeout). A
    /// request that may be retried goes to a backend again (a timeout is never retried: the
    /// backend may still be working on it); otherwise the client gets the error page, or
    /// the connection closes when part of the response is out.
    fn backend_broke(&mut self, status: u16, detail: &str, now: Instant) {
        let Some(cur) = self.current.as_mut() else { return };
        let started = cur.response_started;
        let id = ExchangeId { index: 0, generation: cur.generation };
        if cur.leased {
            cur.leased = false;
            self.actions.push_back(BackendAction::Release { exchange: id, reusable: false });
        }
        let retry = !started && status != 504 && cur.request_done && cur.retries_left > 0;
        if let (true, Some(head)) = (retry, cur.retry_head.clone()) {
            self.generation = self.generation.wrapping_add(1);
            cur.generation = self.generation;
            cur.retries_left -= 1;
            cur.leased = true;
            cur.reader = ResponseReader::new(cur.head_request);
            cur.deadline = Some(now + self.policy.response_timeout);
            let id = ExchangeId { index: 0, generation: cur.generation };
            self.actions.push_back(BackendAction::Open { exchange: id, idempotent: true });
            self.actions.push_back(BackendAction::Send { exchange: id, bufs: vec![head], credit: 0 });
            return;
        }
        self.current = None;
        if started {
            // Part of the response is out: the only honest signal left is closing.
            self.state = State::Closing;
        } else {
            self.local_reply(status, detail);
        }
    }

    fn abort_exchange(&mut self) {
        if let Some(cur) = self.current.take() {
            if cur.leased {
                let id = ExchangeId { index: 0, generation: cur.generation };
                self.actions.push_back(BackendAction::Release { exchange: id, reusable: false });
            }
        }
    }

    /// An error page from the gateway itself, then close (the request stream cannot be
    /// trusted any more).
    fn local_reply(&mut self, status: u16, detail: &str) {
        let body = crate::gateway::translate::error_body(status, detail);
        let mut out = Vec::with_capacity(160 + body.len());
        write::status_line(&mut out, status, write::reason_phrase(status));
        write::header(&mut out, b"content-type", b"text/plain; charset=utf-8");
        write::content_length(&mut out, body.len() as u64);
        write::header(&mut out, b"connection", b"close");
        write::header(&mut out, b"server", b"spdygate");
        write::end_head(&mut out);
        out.extend_from_slice(&body);
        self.push_out(Bytes::from(out));
        self.in_buf.clear();
        self.state = State::Closing;
    }

    fn push_out(&mut self, b: Bytes) {
        self.client_out_bytes += b.len();
        self.client_out.push_back(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(conn: &mut H1Connection) -> (Vec<u8>, Vec<BackendAction>) {
        let mut out = Vec::new();
        conn.take_client_output(&mut out);
        let bytes: Vec<u8> = out.iter().flat_map(|b| b.iter().copied()).collect();
        conn.client_sent(bytes.len(), crate::testing::epoch());
        let mut actions = Vec::new();
        while let Some(a) = conn.poll_backend_action() {
            actions.push(a);
        }
        (bytes, actions)
    }

    fn sent_text(actions: &[BackendAction]) -> String {
        let mut s = Vec::new();
        for a in actions {
            if let BackendAction::Send { bufs, .. } = a {
                for b in bufs {
                    s.extend_from_slice(b);
                }
            }
        }
        String::from_utf8_lossy(&s).into_owned()
    }

    #[test]
    fn get_is_forwarded_and_response_relayed_with_keep_alive() {
        let now = crate::testing::epoch();
        let mut c = H1Connection::new(b"10.0.0.1", false, Policy::default());
        c.recv_client(Bytes::from_static(b"GET /x HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n\r\n"), now);
        let (out, actions) = collect(&mut c);
        assert!(out.is_empty());
        let ex = match &actions[0] {
            BackendAction::Open { exchange, idempotent: true } => *exchange,
            other => panic!("{other:?}"),
        };
        let sent = sent_text(&actions);
        assert!(sent.starts_with("GET /x HTTP/1.1\r\nhost: a\r\n"), "{sent}");
        assert!(!sent.contains("X-Hop") && !sent.contains("keep-alive"), "{sent}");
        assert!(sent.contains("x-forwarded-for: 10.0.0.1\r\n") && sent.contains("via: 1.1 spdygate"));
        c.backend_recv(ex, Bytes::from_static(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"), now);
        let (out, actions) = collect(&mut c);
        assert_eq!(String::from_utf8_lossy(&out), "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi");
        assert!(matches!(actions.last(), Some(BackendAction::Release { reusable: true, .. })));
        assert!(c.wants_read() && !c.is_done());
    }

    #[test]
    fn chunked_upload_is_rechunked_and_close_delimited_response_chunked() {
        let now = crate::testing::epoch();
        let mut c = H1Connection::new(b"1.1.1.1", true, Policy::default());
        c.recv_client(Bytes::from_static(b"POST /e HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"), now);
        let (_, actions) = collect(&mut c);
        let sent = sent_text(&actions);
        assert!(sent.contains("transfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"), "{sent}");
        assert!(sent.contains("x-forwarded-proto: https"));
        let ex = match &actions[0] {
            BackendAction::Open { exchange, .. } => *exchange,
            other => panic!("{other:?}"),
        };
        c.backend_recv(ex, Bytes::from_static(b"HTTP/1.0 200 OK\r\n\r\nxyz"), now);
        c.backend_eof(ex, now);
        let (out, actions) = collect(&mut c);
        assert_eq!(String::from_utf8_lossy(&out), "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n");
        assert!(matches!(actions.last(), Some(BackendAction::Release { reusable: false, .. })));
    }

    #[test]
    fn missing_host_gets_400_and_close() {
        let mut c = H1Connection::new(b"1.1.1.1", false, Policy::default());
        c.recv_client(Bytes::from_static(b"GET / HTTP/1.1\r\n\r\n"), crate::testing::epoch());
        let (out, actions) = collect(&mut c);
        assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(actions.is_empty());
        assert!(c.is_done());
    }

    #[test]
    fn two_host_fields_or_an_invalid_host_get_400_and_nothing_is_forwarded() {
        // RFC 9112 §3.2; the invalid hosts are those SPDY's :host refuses (B12)
        for head in [
            &b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a@b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
            b"GET http://a b/ HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET http://u@evil/ HTTP/1.1\r\nHost: a\r\n\r\n",
        ] {
            let mut c = H1Connection::new(b"1.1.1.1", false, Policy::default());
            c.recv_client(Bytes::copy_from_slice(head), crate::testing::epoch());
            let (out, actions) = collect(&mut c);
            let text = String::from_utf8_lossy(&out);
            assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{}: {text}", String::from_utf8_lossy(head));
            assert!(actions.is_empty(), "{}", String::from_utf8_lossy(head));
        }
    }

    #[test]
    fn an_idempotent_request_is_retried_once_then_gets_502() {
        let now = crate::testing::epoch();
        let mut c = H1Connection::new(b"1.1.1.1", false, Policy::default());
        c.recv_client(Bytes::from_static(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), now);
        let (_, actions) = collect(&mut c);
        let BackendAction::Open { exchange, .. } = actions[0] else { panic!() };
        let BackendAction::Send { bufs: ref head, .. } = actions[1] else { panic!() };
        let head = head.clone();
        c.backend_failed(exchange, BackendFailure::Connect, now);
        // the old connection is given up, the same head goes out on a new one
        let (out, actions) = collect(&mut c);
        assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
        assert!(matches!(actions[0], BackendAction::Release { exchange: e, reusable: false } if e == exchange));
        let BackendAction::Open { exchange: retry, idempotent: true } = actions[1] else { panic!("{actions:?}") };
        assert_ne!(retry, exchange);
        assert!(matches!(&actions[2], BackendAction::Send { exchange: e, bufs, credit: 0 } if *e == retry && *bufs == head));
        // events for the first attempt are stale now
        c.backend_failed(exchange, BackendFailure::Broken, now);
        assert!(collect(&mut c).1.is_empty());
        c.backend_failed(retry, BackendFailure::Connect, now);
        let (out, actions) = collect(&mut c);
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("HTTP/1.1 502 Bad Gateway\r\n") && text.contains("no backend connection could be made"), "{text}");
        assert!(matches!(actions[0], BackendAction::Release { reusable: false, .. }));
    }

    #[test]
    fn a_request_with_a_body_or_past_its_timeout_is_not_retried() {
        let now = crate::testing::epoch();
        let mut c = H1Connection::new(b"1.1.1.1", false, Policy::default());
        c.recv_client(Bytes::from_static(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"), now);
        let (_, actions) = collect(&mut c);
        let BackendAction::Open { exchange, idempotent: false } = actions[0] else { panic!("{actions:?}") };
        c.backend_failed(exchange, BackendFailure::Broken, now);
        let (out, actions) = collect(&mut c);
        assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 502 Bad Gateway\r\n"));
        assert_eq!(actions.len(), 1, "{actions:?}");

        let mut c = H1Connection::new(b"1.1.1.1", false, Policy::default());
        c.recv_client(Bytes::from_static(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), now);
        collect(&mut c);
        let late = now + Policy::default().response_timeout;
        c.handle_timeout(late);
        let (out, actions) = collect(&mut c);
        assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 504 Gateway Timeout\r\n"));
        assert!(matches!(actions[..], [BackendAction::Release { reusable: false, .. }]), "{actions:?}");
    }

    #[test]
    fn pipelined_request_waits_for_the_first_response() {
        let now = crate::testing::epoch();
        let mut c = H1Connection::new(b"1.1.1.1", false, Policy::default());
        c.recv_client(Bytes::from_static(b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n"), now);
        let (_, actions) = collect(&mut c);
        assert_eq!(actions.iter().filter(|a| matches!(a, BackendAction::Open { .. })).count(), 1);
        let BackendAction::Open { exchange, .. } = actions[0] else { panic!() };
        c.backend_recv(exchange, Bytes::from_static(b"HTTP/1.1 204 No Content\r\n\r\n"), now);
        let (_, actions) = collect(&mut c);
        assert!(matches!(actions[0], BackendAction::Release { .. }));
        assert!(sent_text(&actions).starts_with("GET /2 HTTP/1.1"));
    }

    #[test]
    fn slow_client_pauses_backend_reads() {
        let now = crate::testing::epoch();
        let policy = Policy { max_buffered_per_stream: 1024, ..Policy::default() };
        let mut c = H1Connection::new(b"1.1.1.1", false, policy);
        c.recv_client(Bytes::from_static(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), now);
        let mut actions = Vec::new();
        while let Some(a) = c.poll_backend_action() {
            actions.push(a);
        }
        let BackendAction::Open { exchange, .. } = actions[0] else { panic!() };
        c.backend_recv(exchange, Bytes::from_static(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"), now);
        c.backend_recv(exchange, Bytes::from(vec![b'x'; 4096]), now);
        let mut paused = false;
        while let Some(a) = c.poll_backend_action() {
            paused |= matches!(a, BackendAction::PauseRead { .. });
        }
        assert!(paused);
        let (out, _) = collect(&mut c);
        assert!(out.len() > 4096);
        let mut resumed = false;
        while let Some(a) = c.poll_backend_action() {
            resumed |= matches!(a, BackendAction::ResumeRead { .. });
        }
        assert!(!resumed, "collect() already drained the resume");
    }
}
