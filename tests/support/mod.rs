//! Test-side SPDY toolkit for driving a server-role `Session` with raw frames.
//!
//! Deliberately independent of the crate's `spdy::frame` and `spdy::header` code: frames
//! are built by [`frames`], compressed and inflated by [`zlib`] (flate2 used directly, plus
//! hand-written stored and fixed-Huffman blocks), and what the session sends is split and
//! decoded by [`parse`]. The [`Harness`] plays the client and the application (what the
//! gateway would do), keeps a simulated clock, and checks the rules that hold for every
//! frame the server sends (C20, C60, C88, C91, C102, C112, C114, C119–C121, C123, C126).
#![allow(dead_code, unreachable_pub, unused_imports)]

pub mod frames;
pub mod parse;
pub mod zlib;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use spdygate::spdy::frame::{GoAwayStatus, RstStatus};
use spdygate::spdy::session::{SendError, Transmit};
use spdygate::spdy::{Event, Role, Session, SessionConfig, SessionError, StreamId, Version};

pub use frames::*;
pub use parse::{decode_nv, get, Rx};
use parse::{ClientTracker, ServerParser, Tx};
pub use zlib::{DeflateMode, Deflater};

/// Largest flow-control window (2^31 − 1).
pub const MAX_WINDOW: i64 = 0x7fff_ffff;

// RST_STREAM codes (CONFORMANCE "RST codes").
pub const PROTOCOL_ERROR: u32 = 1;
pub const INVALID_STREAM: u32 = 2;
pub const REFUSED_STREAM: u32 = 3;
pub const UNSUPPORTED_VERSION: u32 = 4;
pub const CANCEL: u32 = 5;
pub const INTERNAL_ERROR: u32 = 6;
pub const FLOW_CONTROL_ERROR: u32 = 7;
pub const STREAM_IN_USE: u32 = 8;
pub const STREAM_ALREADY_CLOSED: u32 = 9;
pub const FRAME_TOO_LARGE: u32 = 11;

// GOAWAY codes.
pub const GOAWAY_OK: u32 = 0;
pub const GOAWAY_PROTOCOL_ERROR: u32 = 1;

/// An owned copy of a session [`Event`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ev {
    Opened { id: u32, assoc: Option<u32>, priority: u8, headers: Pairs, fin: bool },
    Reply { id: u32, headers: Pairs, fin: bool },
    Headers { id: u32, headers: Pairs, fin: bool },
    Data { id: u32, data: Vec<u8>, fin: bool },
    Reset { id: u32, status: u32, by_peer: bool },
    Closed { id: u32 },
    WindowOpen { id: u32 },
    GoAway { last_good: u32, status: u32 },
    PingAck { id: u32 },
}

fn owned(ev: Event<'_>) -> Ev {
    let pairs = |h: &spdygate::spdy::header::HeaderBlock| -> Pairs {
        h.iter().map(|(n, v)| (n.to_vec(), v.to_vec())).collect()
    };
    match ev {
        Event::StreamOpened { stream_id, associated_to, priority, headers, fin } => Ev::Opened {
            id: stream_id.value(),
            assoc: associated_to.map(|a| a.value()),
            priority,
            headers: pairs(&headers),
            fin,
        },
        Event::Reply { stream_id, headers, fin } => Ev::Reply { id: stream_id.value(), headers: pairs(&headers), fin },
        Event::Headers { stream_id, headers, fin } => {
            Ev::Headers { id: stream_id.value(), headers: pairs(&headers), fin }
        }
        Event::Data { stream_id, data, fin } => Ev::Data { id: stream_id.value(), data: data.to_vec(), fin },
        Event::StreamReset { stream_id, status, by_peer } => {
            Ev::Reset { id: stream_id.value(), status: status.0, by_peer }
        }
        Event::StreamClosed { stream_id } => Ev::Closed { id: stream_id.value() },
        Event::SendWindowOpen { stream_id } => Ev::WindowOpen { id: stream_id.value() },
        Event::GoAway { last_good_stream_id, status } => {
            Ev::GoAway { last_good: last_good_stream_id.value(), status: status.0 }
        }
        Event::PingAck { id, .. } => Ev::PingAck { id },
    }
}

/// The response body byte the application holds at `offset` of stream `id`.
pub fn body_byte(id: u32, offset: usize) -> u8 {
    ((offset.wrapping_mul(7)).wrapping_add(id as usize * 13) % 251) as u8
}

/// The response headers the simulated application sends.
pub fn response_headers(version: Version) -> Pairs {
    match version {
        Version::Spdy2 => pairs(&[("content-type", "text/plain"), ("status", "200"), ("version", "HTTP/1.1")]),
        _ => pairs(&[(":status", "200"), (":version", "HTTP/1.1"), ("content-type", "text/plain")]),
    }
}

pub fn block_of(p: &Pairs) -> spdygate::spdy::header::HeaderBlock {
    p.iter().map(|(n, v)| (n.clone(), v.clone())).collect()
}

#[derive(Default, Debug)]
struct Track {
    /// The session reported StreamOpened.
    opened: bool,
    replied: bool,
    server_fin: bool,
    server_rst: bool,
    client_rst: bool,
    client_fin: bool,
    /// Body bytes the application declared with `send_data`, and supplied on Transmit::Data.
    declared: usize,
    supplied: usize,
    /// Body bytes the client received (checked against [`body_byte`]).
    received: usize,
    /// The application called `reset_stream`.
    app_reset: bool,
}

/// A server `Session` plus the simulated client and application around it.
pub struct Harness {
    pub s: Session,
    pub version: Version,
    pub config: SessionConfig,
    pub start: Instant,
    pub now: Instant,
    pub client: Client,
    parser: ServerParser,
    tracker: ClientTracker,
    pending: Vec<u8>,
    /// Every event so far.
    pub events: Vec<Ev>,
    /// The session error `recv` returned, if any.
    pub error: Option<SessionError>,
    /// Every frame the server sent after the initial flush.
    pub rx_log: Vec<Rx>,
    /// What the server sent before any input (C2, C3).
    pub initial: Vec<Rx>,
    violations: Vec<String>,
    streams: HashMap<u32, Track>,
    /// The application consumes received DATA at once (returns window credit).
    pub auto_consume: bool,
    /// `recv` left input unconsumed at least once (B5 back-pressure).
    pub stalled: bool,
    max_client_id: u32,
    next_ping: u32,
    // Flow model, client view: the server's send windows (what the client granted) ...
    client_iws: i64,
    server_send: HashMap<u32, i64>,
    server_send_session: i64,
    // ... and the client's send windows (what the server granted).
    server_iws: i64,
    pub client_send: HashMap<u32, i64>,
    pub client_send_session: i64,
    client_pings: Vec<u32>,
    client_even_pings: HashSet<u32>,
    server_pings: HashSet<u32>,
    last_server_ping: Option<u32>,
    goaway_seen: Option<(u32, Option<u32>)>,
    error_goaway: bool,
    iws_announced: bool,
}

impl Harness {
    pub fn new(version: Version) -> Self {
        Self::with_config(version, SessionConfig::default())
    }

    pub fn with_config(version: Version, config: SessionConfig) -> Self {
        Self::with_client(version, config, Deflater::new(version))
    }

    /// A harness whose client compresses with `deflater` (C33, C33a, C35).
    pub fn with_client(version: Version, config: SessionConfig, deflater: Deflater) -> Self {
        let start = Instant::now();
        let s = Session::new(Role::Server, version, config.clone(), start);
        let mut h = Harness {
            s,
            version,
            config,
            start,
            now: start,
            client: Client { version, deflater },
            parser: ServerParser::new(version),
            tracker: ClientTracker::new(version),
            pending: Vec::new(),
            events: Vec::new(),
            error: None,
            rx_log: Vec::new(),
            initial: Vec::new(),
            violations: Vec::new(),
            streams: HashMap::new(),
            auto_consume: false,
            stalled: false,
            max_client_id: 0,
            next_ping: 1001,
            client_iws: 65_536,
            server_send: HashMap::new(),
            server_send_session: 65_536,
            server_iws: 65_536,
            client_send: HashMap::new(),
            client_send_session: 65_536,
            client_pings: Vec::new(),
            client_even_pings: HashSet::new(),
            server_pings: HashSet::new(),
            last_server_ping: None,
            goaway_seen: None,
            error_goaway: false,
            iws_announced: false,
        };
        h.initial = h.flush();
        h.rx_log.clear();
        h
    }

    /// A session config with small windows and limits left at their defaults.
    pub fn config() -> SessionConfig {
        SessionConfig::default()
    }

    // ------------------------------------------------------------ client side

    pub fn encode(&mut self, frame: &(impl Wire + ?Sized)) -> Vec<u8> {
        frame.wire(&mut self.client)
    }

    /// Sends one frame (one `recv` input).
    pub fn send(&mut self, frame: &(impl Wire + ?Sized)) {
        let bytes = self.encode(frame);
        self.send_bytes(&bytes);
    }

    /// Feeds raw bytes to `recv`, collecting events until `Ok(None)` or `Err`.
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        self.pump();
    }

    /// Re-feeds input `recv` left over (after the peer read, B5).
    pub fn pump(&mut self) {
        let buf = std::mem::take(&mut self.pending);
        let mark = self.events.len();
        let mut input: &[u8] = &buf;
        if self.error.is_some() {
            // "later input is ignored"
            if let Ok(Some(ev)) = self.s.recv(&mut input, self.now) {
                self.violations.push(format!("C112: event {:?} after the session error", owned(ev)));
            }
            self.check();
            return;
        }
        let mut guard = 0;
        loop {
            guard += 1;
            assert!(guard < 2_000_000, "recv kept returning events");
            match self.s.recv(&mut input, self.now) {
                Ok(Some(ev)) => self.events.push(owned(ev)),
                Ok(None) => break,
                Err(e) => {
                    self.error = Some(e);
                    break;
                }
            }
        }
        let consumed = buf.len() - input.len();
        if self.error.is_none() && !input.is_empty() {
            if self.s.wants_read() {
                self.violations.push(format!(
                    "recv returned Ok(None) with {} bytes unconsumed while wants_read() is true",
                    input.len()
                ));
            }
            self.stalled = true;
            self.pending = input.to_vec();
        }
        for tx in self.tracker.push(&buf[..consumed]) {
            self.track(tx);
        }
        let new: Vec<Ev> = self.events[mark..].to_vec();
        for ev in new {
            match ev {
                Ev::Opened { id, fin, .. } => {
                    let t = self.streams.entry(id).or_default();
                    t.opened = true;
                    t.client_fin |= fin;
                }
                Ev::Data { id, ref data, .. } => {
                    if self.auto_consume && !data.is_empty() {
                        self.s.consume(StreamId::new(id), data.len());
                    }
                }
                _ => {}
            }
        }
        self.check();
    }

    fn track(&mut self, tx: Tx) {
        let flow = self.version != Version::Spdy2;
        match tx {
            Tx::ForeignSynStream { id } => self.max_client_id = self.max_client_id.max(id),
            Tx::SynStream { id, fin } => {
                self.max_client_id = self.max_client_id.max(id);
                self.server_send.entry(id).or_insert(self.client_iws);
                self.client_send.entry(id).or_insert(self.server_iws);
                self.streams.entry(id).or_default().client_fin |= fin;
            }
            Tx::Data { id, len, fin } => {
                if let Some(w) = self.client_send.get_mut(&id) {
                    *w -= len as i64;
                }
                if self.version == Version::Spdy31 {
                    self.client_send_session -= len as i64;
                }
                if fin {
                    self.streams.entry(id).or_default().client_fin = true;
                }
            }
            Tx::Rst { id } => self.streams.entry(id).or_default().client_rst = true,
            Tx::Settings { entries } if flow => {
                let mut seen = HashSet::new();
                for (fl, id, value) in entries {
                    if fl & FLAG_PERSISTED != 0 || !seen.insert(id) {
                        continue;
                    }
                    if id == SETTINGS_INITIAL_WINDOW_SIZE {
                        let delta = i64::from(value) - self.client_iws;
                        for w in self.server_send.values_mut() {
                            *w += delta;
                        }
                        self.client_iws = i64::from(value);
                    }
                }
            }
            Tx::WindowUpdate { id, delta } if flow => {
                if id == 0 {
                    if self.version == Version::Spdy31 {
                        self.server_send_session += i64::from(delta);
                    }
                } else if let Some(w) = self.server_send.get_mut(&id) {
                    *w += i64::from(delta);
                }
            }
            Tx::Ping { id } => {
                if id % 2 == 1 {
                    self.client_pings.push(id);
                } else {
                    self.client_even_pings.insert(id);
                }
            }
            _ => {}
        }
    }

    /// The client may still send DATA/HEADERS on `id`: opened, not finished by the client,
    /// and no RST_STREAM either way seen so far.
    pub fn client_can_send(&self, id: u32) -> bool {
        self.streams.get(&id).is_some_and(|t| t.opened && !t.client_fin && !t.client_rst && !t.server_rst)
    }

    /// The application may still answer `id` with SYN_REPLY.
    pub fn app_can_reply(&self, id: u32) -> bool {
        self.streams.get(&id).is_some_and(|t| {
            t.opened && !t.replied && !t.client_rst && !t.server_rst && !t.app_reset && t.declared == 0
        })
    }

    /// Input is still waiting for `recv` (it stopped reading).
    pub fn stalled_now(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The next unused odd client stream id.
    pub fn next_id(&self) -> u32 {
        if self.max_client_id == 0 {
            1
        } else {
            (self.max_client_id + 2) | 1
        }
    }

    /// A SYN_STREAM with this version's ordinary request headers.
    pub fn syn(&self, id: u32) -> SynStream {
        syn_stream(id).headers(&request_headers(self.version, "/"))
    }

    /// Opens stream `id` with an ordinary request and checks the session reported it.
    pub fn open(&mut self, id: u32) -> Ev {
        let f = self.syn(id);
        self.send(&f);
        self.opened(id).unwrap_or_else(|| panic!("stream {id} was not opened; events {:?}", self.events))
    }

    /// Opens stream `id` with FLAG_FIN (a GET).
    pub fn open_fin(&mut self, id: u32) -> Ev {
        let f = self.syn(id).fin();
        self.send(&f);
        self.opened(id).unwrap_or_else(|| panic!("stream {id} was not opened; events {:?}", self.events))
    }

    pub fn opened(&self, id: u32) -> Option<Ev> {
        self.events.iter().find(|e| matches!(e, Ev::Opened { id: i, .. } if *i == id)).cloned()
    }

    /// Every DATA byte the session delivered for `id`, and whether FIN was seen.
    pub fn received(&self, id: u32) -> (Vec<u8>, bool) {
        let mut out = Vec::new();
        let mut fin = false;
        for e in &self.events {
            if let Ev::Data { id: i, data, fin: f } = e {
                if *i == id {
                    out.extend_from_slice(data);
                    fin |= *f;
                }
            }
        }
        (out, fin)
    }

    /// Sends an odd PING and expects exactly its echo: the session is up and reading.
    pub fn expect_alive(&mut self) {
        let id = self.next_ping;
        self.next_ping += 2;
        self.send(&ping(id));
        let rx = self.flush();
        assert!(self.error.is_none(), "session error {:?}", self.error);
        assert!(rx.contains(&Rx::Ping { id }), "PING {id} not answered; frames {rx:?}");
    }

    // ------------------------------------------------------------ application side

    pub fn reply(&mut self, id: u32, fin: bool) -> Result<(), SendError> {
        let h = block_of(&response_headers(self.version));
        self.s.send_reply(StreamId::new(id), &h, fin)
    }

    pub fn reply_with(&mut self, id: u32, headers: &Pairs, fin: bool) -> Result<(), SendError> {
        self.s.send_reply(StreamId::new(id), &block_of(headers), fin)
    }

    pub fn send_data(&mut self, id: u32, len: usize, fin: bool) -> Result<(), SendError> {
        let r = self.s.send_data(StreamId::new(id), len, fin);
        if r.is_ok() {
            self.streams.entry(id).or_default().declared += len;
        }
        r
    }

    pub fn send_headers(&mut self, id: u32, headers: &Pairs, fin: bool) -> Result<(), SendError> {
        self.s.send_headers(StreamId::new(id), &block_of(headers), fin)
    }

    /// Like [`Self::respond`], but returns the session's refusal (the stream may have been
    /// reset in the meantime).
    pub fn try_respond(&mut self, id: u32, len: usize) -> Result<(), SendError> {
        self.reply(id, len == 0)?;
        if len > 0 {
            self.send_data(id, len, true)?;
        }
        Ok(())
    }

    /// SYN_REPLY plus a body of `len` bytes ending with FIN (FIN on the reply if empty).
    pub fn respond(&mut self, id: u32, len: usize) {
        if len == 0 {
            self.reply(id, true).expect("send_reply");
        } else {
            self.reply(id, false).expect("send_reply");
            self.send_data(id, len, true).expect("send_data");
        }
    }

    pub fn reset(&mut self, id: u32, status: u32) {
        self.streams.entry(id).or_default().app_reset = true;
        self.s.reset_stream(StreamId::new(id), RstStatus(status));
    }

    pub fn consume(&mut self, id: u32, len: usize) {
        self.s.consume(StreamId::new(id), len);
    }

    pub fn goaway(&mut self, status: u32) {
        self.s.goaway(GoAwayStatus(status));
    }

    pub fn ping(&mut self) -> u32 {
        let id = self.s.ping(self.now);
        self.server_pings.insert(id);
        id
    }

    /// Advances the clock and runs every timer that is due.
    pub fn advance(&mut self, d: Duration) {
        self.now += d;
        for _ in 0..64 {
            match self.s.poll_timeout() {
                Some(t) if t <= self.now => self.s.handle_timeout(self.now),
                _ => return,
            }
        }
        panic!("the session keeps a deadline in the past after 64 handle_timeout calls");
    }

    // ------------------------------------------------------------ output side

    /// Drains `poll_transmit` and returns the parsed frames, checking the global rules.
    pub fn flush(&mut self) -> Vec<Rx> {
        let mut wire = Vec::new();
        let mut out = Vec::new();
        let mut guard = 0;
        while let Some(t) = self.s.poll_transmit(&mut out, self.now) {
            guard += 1;
            assert!(guard < 500_000, "poll_transmit never returned None");
            if let Transmit::Data { stream_id, head, len, fin } = t {
                wire.append(&mut out);
                let id = stream_id.value();
                let hid = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
                let hlen = u32::from_be_bytes([0, head[5], head[6], head[7]]) as usize;
                if hid != id || hlen != len || (head[4] & 1 != 0) != fin {
                    self.violations
                        .push(format!("Transmit::Data {{stream {id}, len {len}, fin {fin}}} with head {head:02x?}"));
                }
                let tr = self.streams.entry(id).or_default();
                if tr.supplied + len > tr.declared {
                    self.violations.push(format!(
                        "Transmit::Data asks for {len} bytes of stream {id}; only {} declared and unsent",
                        tr.declared - tr.supplied
                    ));
                }
                wire.extend_from_slice(&head);
                wire.extend((0..len).map(|i| body_byte(id, tr.supplied + i)));
                tr.supplied += len;
            }
        }
        wire.append(&mut out);
        let frames = self.parser.push(&wire);
        if self.parser.pending() != 0 {
            self.violations.push(format!("poll_transmit output ends inside a frame ({} bytes)", self.parser.pending()));
        }
        let mut rx = Vec::new();
        for f in frames {
            match f {
                Ok(f) => {
                    self.observe(&f);
                    rx.push(f);
                }
                Err(v) => self.violations.push(v),
            }
        }
        self.rx_log.extend(rx.iter().cloned());
        self.collect_events();
        self.check();
        rx
    }

    /// Calls `recv` with no input: events that sending produced (StreamClosed after our
    /// FIN, StreamReset after a timeout) come out of `recv`.
    pub fn collect_events(&mut self) {
        if self.error.is_some() {
            return;
        }
        let mut input: &[u8] = &[];
        for _ in 0..100_000 {
            match self.s.recv(&mut input, self.now) {
                Ok(Some(ev)) => self.events.push(owned(ev)),
                Ok(None) => return,
                Err(e) => {
                    self.violations.push(format!("recv with no input returned the session error {e:?}"));
                    return;
                }
            }
        }
        panic!("recv with no input kept returning events");
    }

    fn check(&mut self) {
        if !self.violations.is_empty() {
            let v = std::mem::take(&mut self.violations);
            panic!("the server broke rules on the wire:\n  {}", v.join("\n  "));
        }
    }

    fn observe(&mut self, rx: &Rx) {
        if self.error_goaway {
            self.violations.push(format!("C112: {rx:?} sent after the GOAWAY of a session error"));
        }
        let v2 = self.version == Version::Spdy2;
        let max_rst = if v2 { 7 } else { 11 };
        match rx {
            Rx::SynStream { id, .. } => self.violations.push(format!("server opened stream {id} (no push expected)")),
            Rx::SynReply { id, fin, headers } => {
                self.check_names(headers);
                let t = self.streams.entry(*id).or_default();
                let mut v = Vec::new();
                if !t.opened {
                    v.push(format!("SYN_REPLY for stream {id}, which the session never reported opened"));
                }
                if t.replied {
                    v.push(format!("C20: second SYN_REPLY on stream {id}"));
                }
                if t.server_rst || t.client_rst {
                    v.push(format!("C119: SYN_REPLY on stream {id} after RST_STREAM"));
                }
                t.replied = true;
                t.server_fin |= *fin;
                self.violations.extend(v);
            }
            Rx::Headers { id, fin, headers } => {
                self.check_names(headers);
                let t = self.streams.entry(*id).or_default();
                let mut v = Vec::new();
                if !t.replied {
                    v.push(format!("HEADERS on stream {id} before SYN_REPLY"));
                }
                if t.server_fin {
                    v.push(format!("C119: HEADERS on stream {id} after the server's FIN"));
                }
                if t.server_rst || t.client_rst {
                    v.push(format!("C119: HEADERS on stream {id} after RST_STREAM"));
                }
                t.server_fin |= *fin;
                self.violations.extend(v);
            }
            Rx::Data { id, fin, payload } => {
                let t = self.streams.entry(*id).or_default();
                let mut v = Vec::new();
                if !t.replied {
                    v.push(format!("C60: DATA on stream {id} before SYN_REPLY"));
                }
                if t.server_fin {
                    v.push(format!("C119: DATA on stream {id} after the server's FIN"));
                }
                if t.server_rst || t.client_rst {
                    v.push(format!("C119: DATA on stream {id} after RST_STREAM"));
                }
                if let Some(i) = payload.iter().enumerate().position(|(i, &b)| b != body_byte(*id, t.received + i)) {
                    v.push(format!("DATA on stream {id}: byte {} of the body is wrong", t.received + i));
                }
                t.received += payload.len();
                t.server_fin |= *fin;
                if !v2 && !payload.is_empty() {
                    let len = payload.len() as i64;
                    let w = self.server_send.entry(*id).or_insert(self.client_iws);
                    if len > *w {
                        v.push(format!("C123: DATA of {len} bytes on stream {id} with stream send window {w}"));
                    }
                    *w -= len;
                    if self.version == Version::Spdy31 {
                        if len > self.server_send_session {
                            v.push(format!(
                                "C123: DATA of {len} bytes on stream {id} with session send window {}",
                                self.server_send_session
                            ));
                        }
                        self.server_send_session -= len;
                    }
                }
                self.violations.extend(v);
            }
            Rx::Rst { id, status } => {
                let t = self.streams.entry(*id).or_default();
                if t.client_rst {
                    self.violations.push(format!(
                        "C119/C120: RST_STREAM({id}) sent after the client's RST_STREAM for it was received"
                    ));
                }
                t.server_rst = true;
                if *status == 0 || *status > max_rst || *status == 10 {
                    self.violations.push(format!("RST_STREAM({id}) with status {status} (E6, SPDY3.md §3.3)"));
                }
            }
            Rx::Settings { flags, entries } => {
                if *flags != 0 {
                    self.violations.push(format!("C126: server SETTINGS with frame flags {flags:#04x}"));
                }
                for &(fl, id, value) in entries {
                    if fl != 0 {
                        self.violations.push(format!("C126: server SETTINGS entry {id} with flags {fl:#04x}"));
                    }
                    if id == 8 {
                        self.violations.push("C126: server sent SETTINGS_CLIENT_CERTIFICATE_VECTOR_SIZE".into());
                    }
                    if id == SETTINGS_INITIAL_WINDOW_SIZE && !v2 {
                        let value = i64::from(value);
                        if value < 65_536 {
                            self.violations.push(format!("C91: server INITIAL_WINDOW_SIZE {value}"));
                        }
                        if self.iws_announced {
                            self.violations.push(format!("C91: INITIAL_WINDOW_SIZE announced again ({value})"));
                        }
                        self.iws_announced = true;
                        let delta = value - self.server_iws;
                        for w in self.client_send.values_mut() {
                            *w += delta;
                        }
                        self.server_iws = value;
                    }
                }
            }
            Rx::Ping { id } => {
                if id % 2 == 1 {
                    match self.client_pings.iter().position(|p| p == id) {
                        Some(i) => {
                            self.client_pings.remove(i);
                        }
                        None => self.violations.push(format!("PING {id} echoed but never sent by the client")),
                    }
                } else {
                    if self.client_even_pings.contains(id) && !self.server_pings.contains(id) {
                        self.violations.push(format!("C100: server echoed the client's even PING {id}"));
                    }
                    if let Some(last) = self.last_server_ping {
                        if *id <= last {
                            self.violations.push(format!("C102: server PING id {id} after {last}"));
                        }
                    }
                    self.last_server_ping = Some(*id);
                }
            }
            Rx::GoAway { last_good, status } => {
                if let Some(s) = status {
                    if *s > 2 {
                        self.violations.push(format!("C114: GOAWAY status {s}"));
                    }
                }
                let is_error = match status {
                    Some(s) => *s != 0,
                    None => self.error.is_some(),
                };
                if let Some((_, prev)) = self.goaway_seen {
                    let prev_ok = prev.map_or(true, |s| s == 0);
                    if !(prev_ok && is_error) {
                        self.violations.push(format!("C112: a second GOAWAY (last-good {last_good})"));
                    }
                }
                self.goaway_seen = Some((*last_good, *status));
                self.error_goaway = is_error;
            }
            Rx::WindowUpdate { id, delta } => {
                let delta_i = i64::from(*delta);
                if v2 {
                    self.violations.push("E5: WINDOW_UPDATE on a SPDY/2 session".into());
                }
                if *delta == 0 || delta_i > MAX_WINDOW {
                    self.violations.push(format!("C88: WINDOW_UPDATE({id}) with delta {delta}"));
                }
                if *id == 0 {
                    if self.version != Version::Spdy31 {
                        self.violations.push("WINDOW_UPDATE(0) on a session without a session window".into());
                    }
                    self.client_send_session += delta_i;
                    if self.client_send_session > MAX_WINDOW {
                        self.violations.push(format!("C88: session receive window {}", self.client_send_session));
                    }
                } else {
                    let t = self.streams.entry(*id).or_default();
                    if t.server_rst || t.client_rst {
                        self.violations.push(format!("C119: WINDOW_UPDATE({id}) after RST_STREAM"));
                    }
                    let w = self.client_send.entry(*id).or_insert(self.server_iws);
                    *w += delta_i;
                    if *w > MAX_WINDOW {
                        self.violations.push(format!("C88: stream {id} receive window {w}"));
                    }
                }
            }
            Rx::Other { ty, .. } => {
                if *ty == 10 {
                    self.violations.push("C126: server sent CREDENTIAL".into());
                } else {
                    self.violations.push(format!("server sent control frame type {ty}"));
                }
            }
        }
    }

    fn check_names(&mut self, headers: &Pairs) {
        for (n, v) in headers {
            let name = String::from_utf8_lossy(n).into_owned();
            if n.is_empty() || n.iter().any(|b| b.is_ascii_uppercase()) {
                self.violations.push(format!("C124: header name {name:?}"));
            }
            if ["connection", "keep-alive", "proxy-connection", "transfer-encoding"].contains(&name.as_str()) {
                self.violations.push(format!("C124: hop-by-hop header {name:?} sent"));
            }
            if !v.is_empty() && v.split(|&b| b == 0).any(|part| part.is_empty()) {
                self.violations.push(format!("C124: empty NUL-separated part in {name:?}"));
            }
        }
    }

    // ------------------------------------------------------------ expectations

    /// Flushes and expects exactly one RST_STREAM, for `id` with `status`, and no GOAWAY.
    pub fn expect_rst(&mut self, id: u32, status: u32) -> Vec<Rx> {
        let rx = self.flush();
        assert!(
            self.error.is_none(),
            "expected RST_STREAM({id}, {status}); got session error {:?}, frames {rx:?}",
            self.error
        );
        let rsts: Vec<&Rx> = rx.iter().filter(|f| matches!(f, Rx::Rst { .. })).collect();
        assert_eq!(rsts, [&Rx::Rst { id, status }], "expected RST_STREAM({id}, {status}); frames {rx:?}");
        rx
    }

    /// Flushes and expects that nothing at all was sent and the session is up.
    pub fn expect_silence(&mut self) {
        let rx = self.flush();
        assert!(self.error.is_none(), "unexpected session error {:?}", self.error);
        assert!(rx.is_empty(), "expected no frames; got {rx:?}");
    }

    /// Flushes and expects no RST_STREAM and no GOAWAY (other frames allowed).
    pub fn expect_no_error(&mut self) -> Vec<Rx> {
        let rx = self.flush();
        assert!(self.error.is_none(), "unexpected session error {:?}, frames {rx:?}", self.error);
        assert!(
            !rx.iter().any(|f| matches!(f, Rx::Rst { .. } | Rx::GoAway { .. })),
            "unexpected RST_STREAM/GOAWAY: {rx:?}"
        );
        rx
    }

    /// Flushes and expects no RST_STREAM except ones the application asked for, and no
    /// session error (a GOAWAY the application asked for is allowed).
    pub fn expect_no_error_but_goaway(&mut self) -> Vec<Rx> {
        let rx = self.flush();
        assert!(self.error.is_none(), "unexpected session error {:?}, frames {rx:?}", self.error);
        rx
    }

    /// Session error: `recv` failed with `status`, exactly one GOAWAY(status, last_good) is
    /// the last frame, nothing follows it and the session is closed (C112).
    pub fn expect_goaway(&mut self, status: u32, last_good: u32) -> Vec<Rx> {
        let rx = self.flush();
        let err = self.error.unwrap_or_else(|| panic!("expected a session error (GOAWAY {status}); frames {rx:?}"));
        assert_eq!(err.status.0, status, "session error {err:?}; frames {rx:?}");
        let goaways: Vec<&Rx> = rx.iter().filter(|f| matches!(f, Rx::GoAway { .. })).collect();
        let wire_status = if self.version == Version::Spdy2 { None } else { Some(status) };
        assert_eq!(goaways, [&Rx::GoAway { last_good, status: wire_status }], "frames {rx:?}");
        assert!(matches!(rx.last(), Some(Rx::GoAway { .. })), "C112: frames after GOAWAY: {rx:?}");
        self.expect_closed();
        rx
    }

    /// The session is closed: nothing more to send, later input changes nothing.
    pub fn expect_closed(&mut self) {
        assert!(self.s.is_closed(), "session not closed after its GOAWAY");
        let more = self.flush();
        assert!(more.is_empty(), "C112: frames after the session closed: {more:?}");
        let p = ping(1_000_001);
        self.send(&p);
        let more = self.flush();
        assert!(more.is_empty(), "C112: the closed session answered input: {more:?}");
    }

    /// The "sync check" (CONFORMANCE `inflate` note): a new SYN_STREAM with headers that
    /// overlap earlier ones is delivered exactly, and its answer decodes.
    pub fn sync_check(&mut self) {
        let id = self.next_id();
        let mut hdrs = request_headers(self.version, &format!("/sync/{id}"));
        hdrs.push((b"x-sync".to_vec(), format!("check-{id}").into_bytes()));
        if self.version == Version::Spdy31 && self.server_send_session < 100 {
            let grant = 100 - self.server_send_session.max(0) as u32;
            self.send(&window_update(0, grant));
        }
        let f = syn_stream(id).headers(&hdrs).fin();
        self.send(&f);
        assert!(self.error.is_none(), "sync check: session error {:?}", self.error);
        match self.opened(id) {
            Some(Ev::Opened { headers, fin, .. }) => {
                assert_eq!(headers, hdrs, "sync check: stream {id} headers decoded wrongly");
                assert!(fin);
            }
            _ => panic!("sync check: stream {id} not opened; events {:?}", self.events),
        }
        let mut reply = response_headers(self.version);
        reply.push((b"x-sync-reply".to_vec(), format!("reply-{id}").into_bytes()));
        self.reply_with(id, &reply, false).expect("sync check: send_reply");
        self.send_data(id, 100, true).expect("sync check: send_data");
        let rx = self.flush();
        assert!(
            rx.iter().any(|f| matches!(f, Rx::SynReply { id: i, headers, .. } if *i == id && *headers == reply)),
            "sync check: no SYN_REPLY {reply:?} for stream {id}; frames {rx:?}"
        );
        assert_eq!(data_len(&rx, id), 100, "sync check: body of stream {id}: {rx:?}");
        assert!(has_fin(&rx, id));
    }
}

/// DATA bytes for stream `id` in `rx`.
pub fn data_len(rx: &[Rx], id: u32) -> usize {
    rx.iter()
        .map(|f| match f {
            Rx::Data { id: i, payload, .. } if *i == id => payload.len(),
            _ => 0,
        })
        .sum()
}

/// Whether a frame in `rx` carries FIN for `id`.
pub fn has_fin(rx: &[Rx], id: u32) -> bool {
    rx.iter().any(|f| matches!(f, Rx::Data { id: i, fin: true, .. } | Rx::SynReply { id: i, fin: true, .. } | Rx::Headers { id: i, fin: true, .. } if *i == id))
}

/// Frames in `rx` for stream `id`.
pub fn on_stream(rx: &[Rx], id: u32) -> Vec<Rx> {
    rx.iter().filter(|f| f.stream() == Some(id)).cloned().collect()
}

/// A config with the given initial receive windows (stream, session).
pub fn config_windows(initial: u32, session: u32) -> SessionConfig {
    SessionConfig { initial_window_size: initial, session_window_size: session, ..SessionConfig::default() }
}

/// Deterministic, poorly compressible printable bytes.
pub fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(12345);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            b'!' + (x % 90) as u8
        })
        .collect()
}
