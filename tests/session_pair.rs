//! A client-role and a server-role `Session` talking in memory on a simulated clock
//! (quinn's `Pair`): bytes move both ways until neither side has anything to say.
//! Every byte that crosses is also decoded frame by frame, so tests can assert what went
//! on the wire (order, windows, counts), not just what the applications saw.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use spdygate::spdy::frame::{flags, Frame, GoAwayStatus, RstStatus, Setting, SettingId, Settings};
use spdygate::spdy::header::HeaderBlock;
use spdygate::spdy::session::{Event, Limits, Role, SendError, Session, SessionConfig};
use spdygate::spdy::{StreamId, Version};

/// An event with its DATA copied out, so it can outlive the `recv` input.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Ev {
    Opened { id: StreamId, priority: u8, headers: HeaderBlock, fin: bool },
    Reply { id: StreamId, headers: HeaderBlock, fin: bool },
    Headers { id: StreamId, headers: HeaderBlock, fin: bool },
    Data { id: StreamId, len: usize, fin: bool },
    Reset { id: StreamId, status: RstStatus, by_peer: bool },
    Closed { id: StreamId },
    WindowOpen { id: StreamId },
    GoAway { last_good: StreamId, status: GoAwayStatus },
    PingAck { id: u32, rtt: Duration },
}

/// One decoded frame as it crossed the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Wire {
    SynStream { id: u32, priority: u8, fin: bool },
    SynReply { id: u32, fin: bool },
    Headers { id: u32, fin: bool },
    Data { id: u32, len: usize, fin: bool },
    Rst { id: u32, status: RstStatus },
    Settings,
    Ping { id: u32 },
    GoAway { last_good: u32, status: GoAwayStatus },
    WindowUpdate { id: u32, delta: u32 },
    Other,
}

struct Peer {
    session: Session,
    /// Body bytes the application holds per stream, not yet taken by the session.
    outgoing: HashMap<StreamId, VecDeque<u8>>,
    /// Body bytes received per stream.
    received: HashMap<StreamId, Vec<u8>>,
    /// Received and not yet consumed, per stream.
    unconsumed: HashMap<StreamId, usize>,
    events: Vec<Ev>,
    /// Consume at most this many bytes per drive round (None: everything at once).
    consume_per_round: Option<usize>,
    /// Everything this peer sent, decoded.
    sent: Vec<Wire>,
    /// Errors `recv` returned.
    errors: Vec<spdygate::spdy::SessionError>,
    /// Rounds in which `poll_transmit` had nothing while body bytes were still held.
    blocked_rounds: usize,
}

impl Peer {
    fn new(role: Role, version: Version, config: SessionConfig, now: Instant) -> Self {
        Peer {
            session: Session::new(role, version, config, now),
            outgoing: HashMap::new(),
            received: HashMap::new(),
            unconsumed: HashMap::new(),
            events: Vec::new(),
            consume_per_round: None,
            sent: Vec::new(),
            errors: Vec::new(),
            blocked_rounds: 0,
        }
    }

    /// Queues body bytes and declares them to the session.
    fn send_body(&mut self, id: StreamId, body: &[u8], fin: bool) {
        self.outgoing.entry(id).or_default().extend(body);
        self.session.send_data(id, body.len(), fin).unwrap();
    }

    /// Everything the session wants to send now.
    fn transmit(&mut self, now: Instant, version: Version) -> Vec<u8> {
        let mut out = Vec::new();
        let outgoing = &mut self.outgoing;
        for _ in 0..1_000_000 {
            let more = self.session.poll_transmit_copy(&mut out, now, &mut |id, len, out| {
                let body = outgoing.get_mut(&id).expect("DATA for a stream with no body");
                assert!(body.len() >= len, "session asked for {len} bytes, {} held", body.len());
                out.extend(body.drain(..len));
            });
            if !more {
                break;
            }
        }
        if out.is_empty() && self.outgoing.values().any(|b| !b.is_empty()) {
            self.blocked_rounds += 1;
        }
        self.sent.extend(decode_all(version, &out));
        // Our own FIN can close a stream: the event waits in the session's queue.
        while let Some(event) = self.session.poll_event() {
            self.record(event);
        }
        out
    }

    fn receive(&mut self, mut input: &[u8], now: Instant) {
        for _ in 0..1_000_000 {
            match self.session.recv(&mut input, now) {
                Ok(Some(event)) => self.record(event),
                Ok(None) => {
                    if input.is_empty() || !self.session.wants_read() {
                        break;
                    }
                }
                Err(e) => {
                    self.errors.push(e);
                    break;
                }
            }
        }
        while let Some(event) = self.session.poll_event() {
            self.record(event);
        }
    }

    fn record(&mut self, event: Event<'_>) {
        let ev = match event {
            Event::StreamOpened { stream_id, priority, headers, fin, .. } => {
                Ev::Opened { id: stream_id, priority, headers, fin }
            }
            Event::Reply { stream_id, headers, fin } => Ev::Reply { id: stream_id, headers, fin },
            Event::Headers { stream_id, headers, fin } => Ev::Headers { id: stream_id, headers, fin },
            Event::Data { stream_id, data, fin } => {
                self.received.entry(stream_id).or_default().extend_from_slice(data);
                *self.unconsumed.entry(stream_id).or_default() += data.len();
                Ev::Data { id: stream_id, len: data.len(), fin }
            }
            Event::StreamReset { stream_id, status, by_peer } => Ev::Reset { id: stream_id, status, by_peer },
            Event::StreamClosed { stream_id } => Ev::Closed { id: stream_id },
            Event::SendWindowOpen { stream_id } => Ev::WindowOpen { id: stream_id },
            Event::GoAway { last_good_stream_id, status } => Ev::GoAway { last_good: last_good_stream_id, status },
            Event::PingAck { id, rtt } => Ev::PingAck { id, rtt },
        };
        self.events.push(ev);
    }

    /// The application reads what it received (all, or a bounded amount per round).
    fn consume(&mut self) {
        let mut budget = self.consume_per_round.unwrap_or(usize::MAX);
        let mut ids: Vec<_> = self.unconsumed.keys().copied().collect();
        ids.sort();
        for id in ids {
            let n = self.unconsumed[&id].min(budget);
            if n == 0 {
                continue;
            }
            self.session.consume(id, n);
            *self.unconsumed.get_mut(&id).unwrap() -= n;
            budget -= n;
        }
    }

    fn opened(&self) -> Vec<StreamId> {
        self.events.iter().filter_map(|e| if let Ev::Opened { id, .. } = e { Some(*id) } else { None }).collect()
    }

    fn count(&self, pred: impl Fn(&Ev) -> bool) -> usize {
        self.events.iter().filter(|e| pred(e)).count()
    }
}

fn decode_all(version: Version, mut bytes: &[u8]) -> Vec<Wire> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let (frame, used) = Frame::decode(version, bytes).expect("our own output decodes").expect("whole frames");
        frames.push(match frame {
            Frame::SynStream(f) => {
                Wire::SynStream { id: f.stream_id.value(), priority: f.priority, fin: f.flags & flags::FIN != 0 }
            }
            Frame::SynReply(f) => Wire::SynReply { id: f.stream_id.value(), fin: f.flags & flags::FIN != 0 },
            Frame::Headers(f) => Wire::Headers { id: f.stream_id.value(), fin: f.flags & flags::FIN != 0 },
            Frame::Data(f) => {
                Wire::Data { id: f.stream_id.value(), len: f.payload.len(), fin: f.flags & flags::FIN != 0 }
            }
            Frame::RstStream(f) => Wire::Rst { id: f.stream_id.value(), status: f.status },
            Frame::Settings(_) => Wire::Settings,
            Frame::Ping(p) => Wire::Ping { id: p.id },
            Frame::GoAway(g) => Wire::GoAway { last_good: g.last_good_stream_id.value(), status: g.status },
            Frame::WindowUpdate(w) => Wire::WindowUpdate { id: w.stream_id.value(), delta: w.delta },
            _ => Wire::Other,
        });
        bytes = &bytes[used..];
    }
    frames
}

struct Pair {
    client: Peer,
    server: Peer,
    now: Instant,
    client_version: Version,
    server_version: Version,
    /// Simulated one-way delay added per delivery.
    latency: Duration,
}

impl Pair {
    fn new(version: Version, client: SessionConfig, server: SessionConfig) -> Self {
        Self::mixed(version, client, version, server)
    }

    fn mixed(client_version: Version, client: SessionConfig, server_version: Version, server: SessionConfig) -> Self {
        let now = Instant::now();
        Pair {
            client: Peer::new(Role::Client, client_version, client, now),
            server: Peer::new(Role::Server, server_version, server, now),
            now,
            client_version,
            server_version,
            latency: Duration::from_millis(1),
        }
    }

    fn default(version: Version) -> Self {
        Self::new(version, SessionConfig::default(), SessionConfig::default())
    }

    /// One round: each side consumes, transmits, and the other receives.
    fn step(&mut self) -> bool {
        self.client.consume();
        self.server.consume();
        let to_server = self.client.transmit(self.now, self.client_version);
        let to_client = self.server.transmit(self.now, self.server_version);
        self.now += self.latency;
        if !to_server.is_empty() {
            self.server.receive(&to_server, self.now);
        }
        if !to_client.is_empty() {
            self.client.receive(&to_client, self.now);
        }
        !to_server.is_empty() || !to_client.is_empty()
    }

    /// Moves bytes until both sides are quiet (bounded).
    fn drive(&mut self) {
        for _ in 0..100_000 {
            if !self.step() {
                // Quiet, unless a side still holds unconsumed data it reads slowly.
                let slow = |p: &Peer| p.consume_per_round.is_some_and(|n| n > 0) && p.unconsumed.values().any(|&n| n > 0);
                if !slow(&self.client) && !slow(&self.server) {
                    return;
                }
            }
        }
        panic!("the pair never went quiet");
    }
}

fn request(path: &str) -> HeaderBlock {
    [(":method", "GET"), (":path", path), (":version", "HTTP/1.1"), (":host", "example.com"), (":scheme", "https")]
        .into_iter()
        .collect()
}

fn response() -> HeaderBlock {
    [(":status", "200"), (":version", "HTTP/1.1")].into_iter().collect()
}

fn body(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

const VERSIONS: [Version; 3] = [Version::Spdy31, Version::Spdy3, Version::Spdy2];

/// DATA frames never exceed what the receiver granted: checked by the receiving session
/// itself (C85/C86 would fire), so a clean run means no overrun.
fn assert_no_errors(pair: &Pair) {
    assert!(pair.client.errors.is_empty(), "client errors: {:?}", pair.client.errors);
    assert!(pair.server.errors.is_empty(), "server errors: {:?}", pair.server.errors);
    for (side, sent) in [("client", &pair.client.sent), ("server", &pair.server.sent)] {
        assert!(
            !sent.iter().any(|w| matches!(w, Wire::Rst { .. } | Wire::GoAway { .. })),
            "{side} sent an error frame: {sent:?}"
        );
    }
}

#[test]
fn request_and_response_with_bodies_in_every_version() {
    for version in VERSIONS {
        let mut pair = Pair::default(version);
        let id = pair.client.session.open_stream(&request("/upload"), 3, false).unwrap();
        assert_eq!(id, StreamId::new(1));
        let upload = body(100_000, 1);
        pair.client.send_body(id, &upload, true);
        pair.drive();
        assert_eq!(pair.server.opened(), [id], "{version}");
        assert_eq!(pair.server.received[&id], upload, "{version}: request body intact");
        pair.server.session.send_reply(id, &response(), false).unwrap();
        let download = body(200_000, 7);
        pair.server.send_body(id, &download, true);
        pair.drive();
        assert_eq!(pair.client.received[&id], download, "{version}: response body intact");
        assert_eq!(pair.client.count(|e| matches!(e, Ev::Reply { .. })), 1);
        assert_eq!(pair.client.count(|e| *e == Ev::Closed { id }), 1, "{version}: client saw the close");
        assert_eq!(pair.server.count(|e| *e == Ev::Closed { id }), 1, "{version}: server saw the close");
        assert_eq!(pair.client.session.open_streams(), 0);
        assert_eq!(pair.server.session.open_streams(), 0);
        assert_no_errors(&pair);
        // C60: the SYN_REPLY precedes every DATA frame of the stream.
        let first_data = pair.server.sent.iter().position(|w| matches!(w, Wire::Data { .. })).unwrap();
        let reply = pair.server.sent.iter().position(|w| matches!(w, Wire::SynReply { .. })).unwrap();
        assert!(reply < first_data);
        // C2: each side's first frame is SETTINGS.
        assert_eq!(pair.server.sent[0], Wire::Settings);
        assert_eq!(pair.client.sent[0], Wire::Settings);
    }
}

#[test]
fn flow_control_stalls_and_resumes_for_a_slow_reader() {
    for version in [Version::Spdy31, Version::Spdy3] {
        let client = SessionConfig { initial_window_size: 65_536, session_window_size: 65_536, ..Default::default() };
        let mut pair = Pair::new(version, client, SessionConfig::default());
        pair.client.consume_per_round = Some(4096);
        let id = pair.client.session.open_stream(&request("/big"), 0, true).unwrap();
        pair.drive();
        pair.server.session.send_reply(id, &response(), false).unwrap();
        let download = body(1 << 20, 3);
        pair.server.send_body(id, &download, true);
        pair.drive();
        assert_eq!(pair.client.received[&id], download, "{version}");
        assert_no_errors(&pair);
        assert!(pair.server.blocked_rounds > 10, "{version}: the server had to wait for credit");
        assert!(pair.client.count(|e| *e == Ev::WindowOpen { id }) == 0);
        assert!(pair.server.count(|e| *e == Ev::WindowOpen { id }) > 0, "{version}: SendWindowOpen events");
        // C123: no DATA frame is longer than the 64 KiB the client granted.
        let max = pair.server.sent.iter().filter_map(|w| if let Wire::Data { len, .. } = w { Some(*len) } else { None }).max();
        assert!(max.unwrap() <= 65_536);
    }
}

#[test]
fn a_thousand_concurrent_streams_complete() {
    for version in VERSIONS {
        let limits = Limits { max_streams_per_session: 10_000, ..Default::default() };
        let config = SessionConfig { max_concurrent_streams: 2000, limits, ..Default::default() };
        let mut pair = Pair::new(version, config.clone(), config);
        let ids: Vec<StreamId> =
            (0..1000).map(|i| pair.client.session.open_stream(&request(&format!("/{i}")), (i % 4) as u8, true).unwrap()).collect();
        pair.drive();
        assert_eq!(pair.server.opened().len(), 1000, "{version}");
        assert_eq!(pair.server.session.open_streams(), 1000);
        for (i, &id) in ids.iter().enumerate() {
            pair.server.session.send_reply(id, &response(), false).unwrap();
            pair.server.send_body(id, &body(100 + i, i as u8), true);
        }
        pair.drive();
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(pair.client.received[id], body(100 + i, i as u8));
        }
        assert_eq!(pair.client.count(|e| matches!(e, Ev::Closed { .. })), 1000);
        assert_eq!(pair.server.session.open_streams(), 0);
        assert_eq!(pair.client.session.open_streams(), 0);
        assert_no_errors(&pair);
    }
}

#[test]
fn data_goes_out_by_priority_and_round_robin_within_one() {
    let config = SessionConfig { max_data_chunk: 1000, ..Default::default() };
    let mut pair = Pair::new(Version::Spdy31, SessionConfig::default(), config);
    // Priorities 7, 0, 3, 0: streams 1, 3, 5, 7.
    let prios = [7u8, 0, 3, 0];
    let ids: Vec<StreamId> = prios.iter().map(|&p| pair.client.session.open_stream(&request("/"), p, true).unwrap()).collect();
    pair.drive();
    let mark = pair.server.sent.len();
    for &id in &ids {
        pair.server.session.send_reply(id, &response(), false).unwrap();
        pair.server.send_body(id, &body(3000, 0), true);
    }
    pair.drive();
    let order: Vec<u32> =
        pair.server.sent[mark..].iter().filter_map(|w| if let Wire::Data { id, .. } = w { Some(*id) } else { None }).collect();
    // Priority 0 (streams 3 and 7) alternate, then priority 3 (5), then 7 (1).
    assert_eq!(order, [3, 7, 3, 7, 3, 7, 5, 5, 5, 1, 1, 1]);
    assert_no_errors(&pair);
}

#[test]
fn window_updates_are_batched() {
    for version in [Version::Spdy31, Version::Spdy3] {
        let config = SessionConfig { max_data_chunk: 1024, ..Default::default() };
        let client = SessionConfig { initial_window_size: 256 * 1024, ..Default::default() };
        let mut pair = Pair::new(version, client, config);
        let id = pair.client.session.open_stream(&request("/"), 0, true).unwrap();
        pair.drive();
        pair.server.session.send_reply(id, &response(), false).unwrap();
        pair.server.send_body(id, &body(1 << 20, 9), true);
        pair.drive();
        assert_eq!(pair.client.received[&id].len(), 1 << 20);
        let data = pair.server.sent.iter().filter(|w| matches!(w, Wire::Data { .. })).count();
        let updates = pair.client.sent.iter().filter(|w| matches!(w, Wire::WindowUpdate { .. })).count();
        assert_eq!(data, 1024);
        assert!(updates * 20 < data, "{version}: {updates} WINDOW_UPDATEs for {data} DATA frames");
        // C88: never a zero delta.
        assert!(!pair.client.sent.iter().any(|w| matches!(w, Wire::WindowUpdate { delta: 0, .. })));
        assert_no_errors(&pair);
    }
}

#[test]
fn graceful_goaway_lets_accepted_streams_finish() {
    for version in VERSIONS {
        let mut pair = Pair::default(version);
        let ids: Vec<StreamId> = (0..3).map(|_| pair.client.session.open_stream(&request("/"), 0, true).unwrap()).collect();
        pair.drive();
        pair.server.session.goaway(GoAwayStatus::OK);
        pair.drive();
        assert_eq!(
            pair.client.events.iter().filter(|e| matches!(e, Ev::GoAway { .. })).collect::<Vec<_>>(),
            [&Ev::GoAway { last_good: StreamId::new(5), status: GoAwayStatus::OK }],
            "{version}"
        );
        assert_eq!(pair.client.session.open_stream(&request("/late"), 0, true), Err(SendError::GoingAway));
        assert!(!pair.server.session.is_closed(), "streams still open");
        for &id in &ids {
            pair.server.session.send_reply(id, &response(), false).unwrap();
            pair.server.send_body(id, b"bye", true);
        }
        pair.drive();
        for id in &ids {
            assert_eq!(pair.client.received[id], b"bye");
        }
        assert!(pair.server.session.is_closed(), "{version}: drained server closes");
        assert!(pair.client.session.is_closed(), "{version}: client answered GOAWAY and closed");
        let goaways = pair.server.sent.iter().filter(|w| matches!(w, Wire::GoAway { .. })).count();
        assert_eq!(goaways, 1);
        assert!(pair.client.errors.is_empty() && pair.server.errors.is_empty());
    }
}

#[test]
fn ping_reports_the_round_trip_time() {
    for version in VERSIONS {
        let mut pair = Pair::default(version);
        pair.latency = Duration::from_millis(25);
        pair.drive();
        let id = pair.client.session.ping(pair.now);
        assert_eq!(id % 2, 1, "client pings are odd (C102)");
        pair.drive();
        let acks: Vec<_> = pair.client.events.iter().filter(|e| matches!(e, Ev::PingAck { .. })).collect();
        assert_eq!(acks, [&Ev::PingAck { id, rtt: Duration::from_millis(50) }], "{version}");
        // The server echoed it once and did not treat it as an answer.
        assert_eq!(pair.server.sent.iter().filter(|w| **w == Wire::Ping { id }).count(), 1);
        let second = pair.client.session.ping(pair.now);
        assert!(second > id, "fresh, increasing ids");
    }
}

#[test]
fn session_error_sends_exactly_one_goaway_as_the_last_frame() {
    for version in VERSIONS {
        let mut pair = Pair::default(version);
        let id = pair.client.session.open_stream(&request("/"), 0, false).unwrap();
        pair.drive();
        pair.server.session.send_reply(id, &response(), false).unwrap();
        pair.server.send_body(id, &body(10_000, 0), false);
        // DATA on stream 0 (C62), followed by a PING that must never be answered.
        let mut raw = spdygate::spdy::frame::data_head(StreamId::ZERO, 0, 2).to_vec();
        raw.extend_from_slice(b"xx");
        Frame::Ping(spdygate::spdy::frame::Ping { id: 1 }).encode(version, &mut raw);
        pair.server.receive(&raw, pair.now);
        assert_eq!(pair.server.errors.len(), 1, "{version}");
        assert_eq!(pair.server.errors[0].status, GoAwayStatus::PROTOCOL_ERROR);
        // Later input is ignored; later commands are refused.
        pair.server.receive(&raw, pair.now);
        assert_eq!(pair.server.errors.len(), 1, "recv returns Err once");
        assert!(pair.server.session.send_data(id, 10, false).is_err());
        let mark = pair.server.sent.len();
        pair.server.transmit(pair.now, version);
        let tail = &pair.server.sent[mark..];
        // SPDY/2's GOAWAY has no status field (E1): it decodes as OK.
        let status = if version == Version::Spdy2 { GoAwayStatus::OK } else { GoAwayStatus::PROTOCOL_ERROR };
        assert_eq!(tail.last(), Some(&Wire::GoAway { last_good: 1, status }), "{version}: {tail:?}");
        assert_eq!(pair.server.sent.iter().filter(|w| matches!(w, Wire::GoAway { .. })).count(), 1);
        assert!(!tail.iter().any(|w| matches!(w, Wire::Ping { .. })), "the PING after the error is not answered");
        assert!(pair.server.session.is_closed());
        assert!(pair.server.session.transmit_is_empty_after_close());
    }
}

trait Quiet {
    fn transmit_is_empty_after_close(&mut self) -> bool;
}

impl Quiet for Session {
    fn transmit_is_empty_after_close(&mut self) -> bool {
        let mut out = Vec::new();
        self.poll_transmit(&mut out, Instant::now()).is_none() && out.is_empty()
    }
}

// ------------------------------------------------------------------ SPDY/3 vs 3.1 detection

fn detect_server() -> SessionConfig {
    SessionConfig { detect_spdy3: true, ..Default::default() }
}

fn two_big_responses(pair: &mut Pair) -> Vec<StreamId> {
    let ids: Vec<StreamId> = (0..2).map(|_| pair.client.session.open_stream(&request("/"), 0, true).unwrap()).collect();
    pair.drive();
    for &id in &ids {
        pair.server.session.send_reply(id, &response(), false).unwrap();
        pair.server.send_body(id, &body(300_000, 5), true);
    }
    pair.drive();
    ids
}

#[test]
fn detect_spdy3_serves_a_spdy3_peer_without_stalling() {
    let client = SessionConfig { initial_window_size: 65_536, ..Default::default() };
    let mut pair = Pair::mixed(Version::Spdy3, client, Version::Spdy31, detect_server());
    let ids = two_big_responses(&mut pair);
    for id in &ids {
        assert_eq!(pair.client.received[id].len(), 300_000, "no stall");
    }
    assert_eq!(pair.server.session.session_send_window(), None, "session accounting dropped");
    assert!(pair.client.errors.is_empty() && pair.server.errors.is_empty());
}

#[test]
fn detect_spdy3_never_overruns_a_spdy31_peer_that_grants_late() {
    // No WINDOW_UPDATE(0) at start: the session window stays at 65 536 and the first
    // stream-0 update comes only with the first consumed data.
    let client = SessionConfig { initial_window_size: 65_536, session_window_size: 65_536, ..Default::default() };
    let mut pair = Pair::mixed(Version::Spdy31, client, Version::Spdy31, detect_server());
    pair.client.consume_per_round = Some(8192);
    let ids = two_big_responses(&mut pair);
    for id in &ids {
        assert_eq!(pair.client.received[id].len(), 300_000);
    }
    // The client enforces its session window (C86): a clean run means no overrun.
    assert_no_errors(&pair);
    assert!(pair.server.session.session_send_window().is_some(), "still accounting the 3.1 session window");
}

#[test]
fn detect_spdy3_keeps_session_accounting_for_a_spdy31_peer_that_grants_at_start() {
    let mut pair = Pair::mixed(Version::Spdy31, SessionConfig::default(), Version::Spdy31, detect_server());
    let ids = two_big_responses(&mut pair);
    for id in &ids {
        assert_eq!(pair.client.received[id].len(), 300_000);
    }
    assert_no_errors(&pair);
    assert!(pair.server.session.session_send_window().is_some());
}

#[test]
fn without_detection_a_spdy31_server_stalls_on_a_spdy3_peer() {
    // The failure detect_spdy3 exists for (C72 from the other side): total DATA stops at
    // the 65 536-byte session window because a SPDY/3 peer never grants stream 0.
    let client = SessionConfig { initial_window_size: 65_536, ..Default::default() };
    let mut pair = Pair::mixed(Version::Spdy3, client, Version::Spdy31, SessionConfig::default());
    let ids = two_big_responses(&mut pair);
    let total: usize = ids.iter().map(|id| pair.client.received.get(id).map_or(0, Vec::len)).sum();
    assert_eq!(total, 65_536);
}

// ------------------------------------------------------------------ flow control details

#[test]
fn settings_cut_makes_the_window_negative_and_updates_bring_it_back() {
    // C74: 60 000 sent under 65 536, then INITIAL_WINDOW_SIZE 16 384 → −43 616.
    let client = SessionConfig { initial_window_size: 65_536, ..Default::default() };
    let mut pair = Pair::new(Version::Spdy3, client, SessionConfig::default());
    let id = pair.client.session.open_stream(&request("/"), 0, true).unwrap();
    pair.drive();
    pair.client.consume_per_round = Some(0);
    pair.server.session.send_reply(id, &response(), false).unwrap();
    pair.server.send_body(id, &body(60_000, 1), false);
    pair.drive();
    assert_eq!(pair.server.session.stream_send_window(id), Some(65_536 - 60_000));
    let settings = Settings {
        flags: 0,
        entries: vec![Setting { id: SettingId::INITIAL_WINDOW_SIZE, flags: 0, value: 16_384 }],
    };
    let mut raw = Vec::new();
    Frame::Settings(settings).encode(Version::Spdy3, &mut raw);
    pair.server.receive(&raw, pair.now);
    assert_eq!(pair.server.session.stream_send_window(id), Some(-43_616));
    pair.server.send_body(id, &body(1000, 2), true);
    let before = pair.server.sent.len();
    pair.server.transmit(pair.now, Version::Spdy3);
    assert!(!pair.server.sent[before..].iter().any(|w| matches!(w, Wire::Data { .. })), "nothing while negative");
}

#[test]
fn empty_fin_goes_out_with_a_closed_window() {
    // C70 from the sending side: a zero-length FIN is not flow controlled.
    let client = SessionConfig { initial_window_size: 65_536, ..Default::default() };
    let mut pair = Pair::new(Version::Spdy31, client, SessionConfig::default());
    pair.client.consume_per_round = Some(0);
    let id = pair.client.session.open_stream(&request("/"), 0, true).unwrap();
    pair.drive();
    pair.server.session.send_reply(id, &response(), false).unwrap();
    pair.server.send_body(id, &body(65_536, 1), false);
    pair.drive();
    assert_eq!(pair.server.session.stream_send_window(id), Some(0));
    pair.server.session.send_data(id, 0, true).unwrap();
    pair.drive();
    assert_eq!(pair.server.sent.last(), Some(&Wire::Data { id: 1, len: 0, fin: true }));
    assert!(pair.client.events.contains(&Ev::Closed { id }));
}

#[test]
fn headers_declared_after_data_follow_that_data() {
    let config = SessionConfig { max_data_chunk: 4096, ..Default::default() };
    let mut pair = Pair::new(Version::Spdy31, SessionConfig::default(), config);
    let id = pair.client.session.open_stream(&request("/"), 0, true).unwrap();
    pair.drive();
    let mark = pair.server.sent.len();
    pair.server.session.send_reply(id, &response(), false).unwrap();
    pair.server.send_body(id, &body(10_000, 1), false);
    let trailers: HeaderBlock = [("x-trailer", "1")].into_iter().collect();
    pair.server.session.send_headers(id, &trailers, true).unwrap();
    assert_eq!(pair.server.session.send_data(id, 1, false), Err(SendError::StreamHalfClosed));
    pair.drive();
    let wire: Vec<_> = pair.server.sent[mark..].iter().filter(|w| !matches!(w, Wire::WindowUpdate { .. })).cloned().collect();
    assert_eq!(
        wire,
        [
            Wire::SynReply { id: 1, fin: false },
            Wire::Data { id: 1, len: 4096, fin: false },
            Wire::Data { id: 1, len: 4096, fin: false },
            Wire::Data { id: 1, len: 1808, fin: false },
            Wire::Headers { id: 1, fin: true },
        ]
    );
    assert!(pair.client.events.contains(&Ev::Headers { id, headers: trailers, fin: true }));
    assert!(pair.client.events.contains(&Ev::Closed { id }));
}

#[test]
fn reset_by_either_side_ends_the_stream_once() {
    let mut pair = Pair::default(Version::Spdy31);
    let id = pair.client.session.open_stream(&request("/"), 0, false).unwrap();
    pair.drive();
    pair.server.session.send_reply(id, &response(), false).unwrap();
    pair.client.session.reset_stream(id, RstStatus::CANCEL);
    pair.drive();
    assert_eq!(pair.server.events.last(), Some(&Ev::Reset { id, status: RstStatus::CANCEL, by_peer: true }));
    // C120: no RST in reply to RST; the late SYN_REPLY the client got is dropped.
    assert!(!pair.server.sent.iter().any(|w| matches!(w, Wire::Rst { .. })));
    assert!(!pair.client.sent.iter().any(|w| matches!(w, Wire::Rst { status: RstStatus::INVALID_STREAM, .. })));
    assert_eq!(pair.server.session.open_streams(), 0);
    assert_eq!(pair.client.session.open_streams(), 0);
    assert!(pair.client.errors.is_empty() && pair.server.errors.is_empty());
}

#[test]
fn peer_goaway_refuses_our_streams_above_last_good() {
    let mut pair = Pair::default(Version::Spdy31);
    let first = pair.client.session.open_stream(&request("/"), 0, true).unwrap();
    pair.drive();
    pair.server.session.goaway(GoAwayStatus::OK);
    // Opened before the GOAWAY arrived: the server ignores it (C28) and the client learns
    // from last-good that it was never processed.
    let late = pair.client.session.open_stream(&request("/late"), 0, true).unwrap();
    pair.drive();
    assert!(pair.client.events.contains(&Ev::Reset { id: late, status: RstStatus::REFUSED_STREAM, by_peer: true }));
    assert_eq!(pair.server.opened(), [first]);
    assert!(!pair.server.sent.iter().any(|w| matches!(w, Wire::Rst { .. })), "C28: no reply at all");
    pair.server.session.send_reply(first, &response(), true).unwrap();
    pair.drive();
    assert!(pair.client.session.is_closed() && pair.server.session.is_closed());
}

// ------------------------------------------------------------------ limits (each tripped)

fn server_with(limits: Limits) -> Pair {
    let server = SessionConfig { limits, ..Default::default() };
    Pair::new(Version::Spdy31, SessionConfig::default(), server)
}

fn raw(version: Version, frames: &[Frame<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in frames {
        f.encode(version, &mut out);
    }
    out
}

fn last_goaway(peer: &Peer) -> Option<GoAwayStatus> {
    peer.sent.iter().rev().find_map(|w| if let Wire::GoAway { status, .. } = w { Some(*status) } else { None })
}

#[test]
fn limit_max_control_payload_closes_the_session() {
    let mut pair = server_with(Limits { max_control_payload: 8192, ..Default::default() });
    // An incompressible 20 KB header value makes a SYN_STREAM far over 8 192 bytes (C46).
    let mut noise = 0x1234_5678u32;
    let value: Vec<u8> = (0..20_000)
        .map(|_| {
            noise ^= noise << 13;
            noise ^= noise >> 17;
            noise ^= noise << 5;
            b'a' + (noise % 26) as u8
        })
        .collect();
    let mut headers = request("/");
    headers.push("x-noise", value);
    pair.client.session.open_stream(&headers, 0, true).unwrap();
    pair.drive();
    assert_eq!(pair.server.errors.len(), 1);
    assert_eq!(last_goaway(&pair.server), Some(GoAwayStatus::PROTOCOL_ERROR));
}

#[test]
fn limit_max_header_block_resets_the_stream_and_keeps_zlib_in_sync() {
    let mut pair = server_with(Limits { max_header_block: 1024, ..Default::default() });
    let mut big = request("/");
    big.push("x-big", vec![b'v'; 2000]);
    let a = pair.client.session.open_stream(&big, 0, true).unwrap();
    let b = pair.client.session.open_stream(&request("/after"), 0, true).unwrap();
    pair.drive();
    assert!(pair.client.events.contains(&Ev::Reset { id: a, status: RstStatus::FRAME_TOO_LARGE, by_peer: true }));
    assert_eq!(pair.server.opened(), [b], "the next block still decodes (sync rule)");
    assert!(pair.server.errors.is_empty());
}

#[test]
fn limit_inflate_budget_closes_the_session() {
    let mut pair = server_with(Limits { max_header_block: 1024, inflate_budget: 16 * 1024, ..Default::default() });
    let mut bomb = request("/");
    bomb.push("x-bomb", vec![b'z'; 100_000]);
    pair.client.session.open_stream(&bomb, 0, true).unwrap();
    pair.drive();
    assert_eq!(pair.server.errors.len(), 1);
    assert_eq!(last_goaway(&pair.server), Some(GoAwayStatus::PROTOCOL_ERROR));
}

#[test]
fn limit_max_header_pairs_resets_with_frame_too_large() {
    let mut pair = server_with(Limits { max_header_pairs: 10, ..Default::default() });
    let mut many = request("/");
    for i in 0..20 {
        many.push(format!("x-{i}"), "1");
    }
    let id = pair.client.session.open_stream(&many, 0, true).unwrap();
    pair.drive();
    assert!(pair.client.events.contains(&Ev::Reset { id, status: RstStatus::FRAME_TOO_LARGE, by_peer: true }));
    assert!(pair.server.errors.is_empty());
}

#[test]
fn limit_max_pending_pings_closes_the_session() {
    let mut pair = server_with(Limits { max_pending_pings: 3, ..Default::default() });
    let pings: Vec<Frame<'_>> = (0..4).map(|i| Frame::Ping(spdygate::spdy::frame::Ping { id: 2 * i + 1 })).collect();
    pair.server.receive(&raw(Version::Spdy31, &pings[..3]), pair.now);
    assert!(pair.server.errors.is_empty(), "3 queued replies are allowed");
    pair.server.transmit(pair.now, Version::Spdy31);
    pair.server.receive(&raw(Version::Spdy31, &pings), pair.now);
    assert_eq!(pair.server.errors.len(), 1, "the 4th unsent reply trips C103");
    pair.server.transmit(pair.now, Version::Spdy31);
    assert_eq!(last_goaway(&pair.server), Some(GoAwayStatus::PROTOCOL_ERROR));
}

#[test]
fn limit_settings_per_second_closes_the_session() {
    let mut pair = server_with(Limits { max_settings_per_second: 5, ..Default::default() });
    let settings: Vec<Frame<'_>> = (0..5).map(|_| Frame::Settings(Settings::default())).collect();
    pair.server.receive(&raw(Version::Spdy31, &settings), pair.now);
    assert!(pair.server.errors.is_empty());
    pair.now += Duration::from_secs(2);
    pair.server.receive(&raw(Version::Spdy31, &settings), pair.now);
    assert!(pair.server.errors.is_empty(), "a second later the budget is back");
    pair.server.receive(&raw(Version::Spdy31, &settings[..1]), pair.now);
    assert_eq!(pair.server.errors.len(), 1);
}

#[test]
fn limit_invalid_stream_frames_closes_the_session() {
    let mut pair = server_with(Limits { max_invalid_stream_frames: 5, ..Default::default() });
    let mut bytes = Vec::new();
    for i in 0..5u32 {
        bytes.extend_from_slice(&spdygate::spdy::frame::data_head(StreamId::new(101 + 2 * i), 0, 1));
        bytes.push(0);
    }
    pair.server.receive(&bytes, pair.now);
    assert!(pair.server.errors.is_empty());
    pair.server.transmit(pair.now, Version::Spdy31);
    let rsts = pair.server.sent.iter().filter(|w| matches!(w, Wire::Rst { status: RstStatus::INVALID_STREAM, .. })).count();
    assert_eq!(rsts, 5, "C63");
    pair.server.receive(&bytes[..9], pair.now);
    assert_eq!(pair.server.errors.len(), 1, "C68");
}

#[test]
fn limit_no_progress_frames_closes_the_session() {
    let mut pair = server_with(Limits { max_no_progress_frames: 20, ..Default::default() });
    let id = pair.client.session.open_stream(&request("/"), 0, false).unwrap();
    pair.drive();
    // Zero-length DATA without FIN on an open stream (B8).
    let mut bytes = Vec::new();
    for _ in 0..21 {
        bytes.extend_from_slice(&spdygate::spdy::frame::data_head(id, 0, 0));
    }
    pair.server.receive(&bytes[..8 * 20], pair.now);
    assert!(pair.server.errors.is_empty());
    pair.server.receive(&bytes[8 * 20..], pair.now);
    assert_eq!(pair.server.errors.len(), 1);
}

#[test]
fn limit_cancels_closes_the_session() {
    let mut pair = server_with(Limits { max_cancels: 10, ..Default::default() });
    for _ in 0..10 {
        let id = pair.client.session.open_stream(&request("/"), 0, true).unwrap();
        pair.drive();
        pair.client.session.reset_stream(id, RstStatus::CANCEL);
        pair.drive();
    }
    assert!(pair.server.errors.is_empty());
    let id = pair.client.session.open_stream(&request("/"), 0, true).unwrap();
    pair.drive();
    pair.client.session.reset_stream(id, RstStatus::CANCEL);
    pair.drive();
    assert_eq!(pair.server.errors.len(), 1, "rapid reset (B4)");
}

#[test]
fn limit_streams_per_session_sends_goaway_ok() {
    let mut pair = server_with(Limits { max_streams_per_session: 3, ..Default::default() });
    let ids: Vec<_> = (0..3).map(|_| pair.client.session.open_stream(&request("/"), 0, true).unwrap()).collect();
    pair.drive();
    assert_eq!(last_goaway(&pair.server), Some(GoAwayStatus::OK));
    assert!(pair.client.events.contains(&Ev::GoAway { last_good: ids[2], status: GoAwayStatus::OK }));
    for &id in &ids {
        pair.server.session.send_reply(id, &response(), true).unwrap();
    }
    pair.drive();
    assert!(pair.server.session.is_closed());
}

#[test]
fn limit_queued_control_bytes_stops_reading() {
    let mut pair =
        server_with(Limits { max_queued_control_bytes: 100, max_pending_pings: 1000, ..Default::default() });
    pair.server.transmit(pair.now, Version::Spdy31);
    let pings: Vec<Frame<'_>> = (0..20).map(|i| Frame::Ping(spdygate::spdy::frame::Ping { id: 2 * i + 1 })).collect();
    let bytes = raw(Version::Spdy31, &pings);
    let mut input = &bytes[..];
    while let Ok(Some(_)) | Ok(None) = pair.server.session.recv(&mut input, pair.now) {
        if !pair.server.session.wants_read() || input.is_empty() {
            break;
        }
    }
    assert!(!pair.server.session.wants_read(), "over 100 queued bytes");
    assert!(!input.is_empty(), "input left unread");
    let left = input.len();
    assert!(matches!(pair.server.session.recv(&mut input, pair.now), Ok(None)));
    assert_eq!(input.len(), left, "no progress while over the bound");
    pair.server.transmit(pair.now, Version::Spdy31);
    assert!(pair.server.session.wants_read(), "flushing reopens reading");
}

#[test]
fn limit_idle_timeout_sends_goaway_ok_and_closes() {
    let mut pair = server_with(Limits { idle_timeout: Duration::from_secs(30), ..Default::default() });
    pair.drive();
    let deadline = pair.server.session.poll_timeout().expect("idle deadline");
    pair.server.session.handle_timeout(deadline - Duration::from_millis(1));
    assert!(last_goaway(&pair.server).is_none());
    pair.server.session.handle_timeout(deadline);
    pair.now = deadline;
    pair.drive();
    assert_eq!(last_goaway(&pair.server), Some(GoAwayStatus::OK));
    assert!(pair.server.session.is_closed());
    assert!(pair.client.session.is_closed(), "the client answers and closes too");
}

#[test]
fn limit_send_progress_timeout_cancels_a_stalled_stream() {
    let limits = Limits { send_progress_timeout: Duration::from_secs(60), ..Default::default() };
    let client = SessionConfig { initial_window_size: 65_536, ..Default::default() };
    let mut pair = Pair::new(Version::Spdy31, client, SessionConfig { limits, ..Default::default() });
    pair.client.consume_per_round = Some(0);
    let id = pair.client.session.open_stream(&request("/"), 0, true).unwrap();
    pair.drive();
    pair.server.session.send_reply(id, &response(), false).unwrap();
    pair.server.send_body(id, &body(200_000, 0), true);
    pair.drive();
    let deadline = pair.server.session.poll_timeout().expect("progress deadline");
    pair.now = deadline;
    pair.server.session.handle_timeout(deadline);
    pair.server.receive(&[], pair.now);
    assert!(pair.server.events.contains(&Ev::Reset { id, status: RstStatus::CANCEL, by_peer: false }));
    pair.drive();
    assert!(pair.client.events.contains(&Ev::Reset { id, status: RstStatus::CANCEL, by_peer: true }));
    assert_eq!(pair.server.session.open_streams(), 0);
}

#[test]
fn idle_session_memory_stays_small() {
    // Stored (level 0) header blocks, as the gateway sends them (CRIME, B3): no deflate state.
    let server = SessionConfig {
        compressor: spdygate::spdy::header::CompressorKind::Zlib { level: 0, window_bits: 11, mem_level: 1 },
        ..Default::default()
    };
    let mut pair = Pair::new(Version::Spdy31, SessionConfig::default(), server);
    let id = pair.client.session.open_stream(&request("/"), 0, true).unwrap();
    pair.drive();
    pair.server.session.send_reply(id, &response(), true).unwrap();
    pair.drive();
    let bytes = pair.server.session.memory_bytes();
    println!("idle server session: {bytes} bytes (Session struct {} bytes)", std::mem::size_of::<Session>());
    assert!(bytes < 64 * 1024, "idle server session holds {bytes} bytes");
}
