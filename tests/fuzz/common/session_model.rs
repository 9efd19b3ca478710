//! What the `session` (server role) and `client_session` (client role) targets share: the
//! frames the fuzzing peer sends, the model of what that peer granted, and the checks on
//! everything the session under test sends (every frame decodes, every header block
//! inflates on one fresh zlib stream (C121), no DATA beyond the peer's windows (C123) or
//! `max_data_chunk`, no DATA after our FIN, nothing after a GOAWAY for a session error
//! (C112), only defined status codes, and our own streams numbered upward with our parity).

use std::collections::HashMap;
use std::time::Instant;

use spdygate::spdy::frame::{
    begin_header_frame, data_head, finish_header_frame, flags, Frame, GoAway, GoAwayStatus, HeaderFrameKind, Ping,
    RstStatus, RstStream, Setting, SettingId, Settings, WindowUpdate,
};
use spdygate::spdy::header::inflate::{InflateLimits, InflateOutcome, Inflater};
use spdygate::spdy::header::{HeaderBlock, HeaderEncoder};
use spdygate::spdy::session::{Role, Session};
use spdygate::spdy::{StreamId, Version};

pub const MAX_CHUNK: usize = 4096;

/// One frame from the fuzzing peer (fields as the fuzzer chose them; reduced here).
pub enum PeerFrame {
    SynStream { id: u8, assoc: u8, priority: u8, flags: u8, pairs: Vec<(u8, u8)> },
    SynReply { id: u8, flags: u8 },
    Headers { id: u8, flags: u8, pairs: Vec<(u8, u8)> },
    Data { id: u8, flags: u8, len: u16 },
    Rst { id: u8, status: u8 },
    Settings { entries: Vec<(u8, u8, u32)> },
    Ping { id: u32 },
    GoAway { last_good: u8, status: u8 },
    WindowUpdate { id: u8, delta: u32 },
    /// Raw bytes: after this the window model is off (framing may be lost).
    Raw(Vec<u8>),
}

/// What the fuzzing peer granted, as the session must see it once all input is read.
pub struct Model {
    valid: bool,
    initial_window: i64,
    /// Per stream: credit from WINDOW_UPDATEs plus the initial window when opened
    /// (SETTINGS changes are added through `initial_window` deltas).
    credit: HashMap<u32, i64>,
    sent: HashMap<u32, i64>,
    session_credit: i64,
    session_sent: i64,
    fin_sent: HashMap<u32, bool>,
    error_goaway: bool,
    /// The last stream we opened (SYN_STREAM we sent).
    last_opened: u32,
    /// The peer's GOAWAY is in the input the session has read.
    pub peer_goaway_read: bool,
    peer_goaway_pending: bool,
    inflater: Inflater,
}

impl Model {
    pub fn new(version: Version) -> Self {
        Model {
            valid: true,
            initial_window: 65_536,
            credit: HashMap::new(),
            sent: HashMap::new(),
            session_credit: 65_536,
            session_sent: 0,
            fin_sent: HashMap::new(),
            error_goaway: false,
            last_opened: 0,
            peer_goaway_read: false,
            peer_goaway_pending: false,
            inflater: Inflater::new(version, InflateLimits { max_block: 1 << 20, budget: 1 << 22 }),
        }
    }

    /// A stream opened (by either side) with the initial window as its credit.
    pub fn opened(&mut self, sid: u32) {
        self.credit.entry(sid).or_insert(self.initial_window);
    }
}

pub fn block(pairs: &[(u8, u8)]) -> HeaderBlock {
    let mut b = HeaderBlock::new();
    for &(n, v) in pairs.iter().take(20) {
        b.push([b'a' + n % 26, b'a' + (n / 26) % 26], [b'0' + v % 10; 3]);
    }
    b
}

pub fn id(raw: u8) -> u32 {
    u32::from(raw) % 64
}

/// The bytes of one peer frame, recording in `model` what it grants.
pub fn peer_frame(f: PeerFrame, version: Version, encoder: &mut dyn HeaderEncoder, model: &mut Model) -> Vec<u8> {
    let mut frame = Vec::new();
    match f {
        PeerFrame::SynStream { id: raw, assoc, priority, flags: f, pairs } => {
            let sid = id(raw);
            let kind = HeaderFrameKind::SynStream {
                stream_id: StreamId::new(sid),
                associated_to: StreamId::new(id(assoc)),
                priority: priority % 8,
                slot: 0,
            };
            let start = begin_header_frame(&mut frame, version, kind, f & 0x03);
            encoder.encode(&block(&pairs), &mut frame);
            finish_header_frame(&mut frame, start);
            model.opened(sid);
        }
        PeerFrame::SynReply { id: raw, flags: f } => {
            let kind = HeaderFrameKind::SynReply { stream_id: StreamId::new(id(raw)) };
            let start = begin_header_frame(&mut frame, version, kind, f & 1);
            encoder.encode(&block(&[(1, 1)]), &mut frame);
            finish_header_frame(&mut frame, start);
        }
        PeerFrame::Headers { id: raw, flags: f, pairs } => {
            let kind = HeaderFrameKind::Headers { stream_id: StreamId::new(id(raw)) };
            let start = begin_header_frame(&mut frame, version, kind, f & 1);
            encoder.encode(&block(&pairs), &mut frame);
            finish_header_frame(&mut frame, start);
        }
        PeerFrame::Data { id: raw, flags: f, len } => {
            let len = usize::from(len) % 20_000;
            frame.extend_from_slice(&data_head(StreamId::new(id(raw)), f & 0x03, len));
            frame.resize(8 + len, 0x5a);
        }
        PeerFrame::Rst { id: raw, status } => {
            Frame::RstStream(RstStream {
                stream_id: StreamId::new(id(raw)),
                status: RstStatus(u32::from(status % 13)),
            })
            .encode(version, &mut frame);
        }
        PeerFrame::Settings { entries } => {
            let entries: Vec<Setting> = entries
                .into_iter()
                .take(8)
                .map(|(i, f, value)| Setting { id: SettingId(u32::from(i % 9)), flags: f & 3, value })
                .collect();
            // The session applies the first non-PERSISTED INITIAL_WINDOW_SIZE (C92, C95).
            if let Some(s) =
                entries.iter().find(|s| s.id == SettingId::INITIAL_WINDOW_SIZE && s.flags & flags::PERSISTED == 0)
            {
                let new = i64::from(s.value);
                let delta = new - model.initial_window;
                model.initial_window = new;
                for c in model.credit.values_mut() {
                    *c += delta;
                }
            }
            Frame::Settings(Settings { flags: 0, entries }).encode(version, &mut frame);
        }
        PeerFrame::Ping { id } => Frame::Ping(Ping { id }).encode(version, &mut frame),
        PeerFrame::GoAway { last_good, status } => {
            model.peer_goaway_pending = true;
            Frame::GoAway(GoAway {
                last_good_stream_id: StreamId::new(id(last_good)),
                status: GoAwayStatus(u32::from(status % 4)),
            })
            .encode(version, &mut frame)
        }
        PeerFrame::WindowUpdate { id: raw, delta } => {
            let sid = id(raw);
            let delta = delta % 200_000;
            if sid == 0 {
                model.session_credit += i64::from(delta);
            } else if let Some(c) = model.credit.get_mut(&sid) {
                *c += i64::from(delta);
            }
            Frame::WindowUpdate(WindowUpdate { stream_id: StreamId::new(sid), delta }).encode(version, &mut frame);
        }
        PeerFrame::Raw(bytes) => {
            model.valid = false;
            frame = bytes;
        }
    }
    frame
}

/// Feeds the pending peer bytes to the session in pieces of `split`.
pub fn deliver(
    session: &mut Session,
    pending: &mut Vec<u8>,
    split: usize,
    now: Instant,
    model: &mut Model,
    out: &mut Vec<u8>,
) {
    let mut read_all = true;
    for piece in pending.chunks(split) {
        let mut input = piece;
        let mut done = false;
        for _ in 0..100_000 {
            match session.recv(&mut input, now) {
                Ok(Some(_)) => {}
                Ok(None) if input.is_empty() => {
                    done = true;
                    break;
                }
                // B5: over the control-queue bound the session reads nothing until the
                // caller flushes; flush (checked like any output) and read on.
                Ok(None) => transmit(session, model, out, now),
                Err(_) => break,
            }
        }
        read_all &= done;
        while session.poll_event().is_some() {}
    }
    if read_all && model.valid && model.peer_goaway_pending {
        model.peer_goaway_read = true;
    }
    pending.clear();
}

/// Takes everything the session has to send and checks it.
pub fn transmit(session: &mut Session, model: &mut Model, out: &mut Vec<u8>, now: Instant) {
    let version = session.version();
    // (SPDY/2 has no flow control)
    let flow = version != Version::Spdy2;
    out.clear();
    for _ in 0..100_000 {
        if !session.poll_transmit_copy(out, now, &mut |_, len, out| out.resize(out.len() + len, 0xdd)) {
            break;
        }
    }
    while session.poll_event().is_some() {}
    let client = session.role() == Role::Client;
    let mut rest: &[u8] = out;
    let mut scratch = Vec::new();
    while !rest.is_empty() {
        assert!(!model.error_goaway, "a frame after the GOAWAY for a session error (C112)");
        let (frame, used) = Frame::decode(version, rest).expect("our output decodes").expect("whole frames only");
        match frame {
            Frame::Data(d) => {
                let sid = d.stream_id.value();
                let len = d.payload.len() as i64;
                assert!(d.payload.len() <= MAX_CHUNK, "DATA over max_data_chunk");
                assert!(!model.fin_sent.get(&sid).copied().unwrap_or(false), "DATA after our FIN (C119)");
                if d.flags & flags::FIN != 0 {
                    model.fin_sent.insert(sid, true);
                }
                if flow && model.valid && len > 0 {
                    let sent = model.sent.entry(sid).or_insert(0);
                    let credit = model.credit.get(&sid).copied().unwrap_or(0);
                    assert!(*sent + len <= credit, "stream {sid}: {sent} + {len} over credit {credit} (C123)");
                    *sent += len;
                    // (detect_spdy3 may have decided SPDY/3: no session window any more)
                    if version == Version::Spdy31 && session.session_send_window().is_some() {
                        assert!(model.session_sent + len <= model.session_credit, "session window overrun (C123)");
                    }
                    model.session_sent += len;
                }
            }
            Frame::SynReply(r) => {
                assert!(!client, "a client sent SYN_REPLY");
                inflate(model, r.header_block, &mut scratch);
                // our half of the stream starts here: an RST we sent for this id before
                // answered frames for a stream that was not open yet (INVALID_STREAM)
                model.fin_sent.insert(r.stream_id.value(), r.flags & flags::FIN != 0);
            }
            Frame::Headers(h) => {
                inflate(model, h.header_block, &mut scratch);
                if h.flags & flags::FIN != 0 {
                    model.fin_sent.insert(h.stream_id.value(), true);
                }
            }
            Frame::SynStream(s) => {
                inflate(model, s.header_block, &mut scratch);
                let sid = s.stream_id.value();
                assert!(client, "the server pushed a stream (it never does, C122)");
                assert!(sid % 2 == 1 && sid > model.last_opened, "client stream {sid} after {}", model.last_opened);
                model.last_opened = sid;
                model.fin_sent.insert(sid, s.flags & flags::FIN != 0);
            }
            Frame::GoAway(g) => {
                assert!(g.status.name().is_some(), "GOAWAY with undefined status {:?}", g.status);
                if g.status != GoAwayStatus::OK {
                    model.error_goaway = true;
                }
            }
            Frame::RstStream(r) => {
                assert!(r.status.name().is_some(), "RST_STREAM with undefined status {:?}", r.status);
                assert!(version != Version::Spdy2 || r.status.0 <= 7, "SPDY/3-only RST status on SPDY/2 (E6)");
                model.fin_sent.insert(r.stream_id.value(), true);
            }
            _ => {}
        }
        rest = &rest[used..];
    }
}

fn inflate(model: &mut Model, block: &[u8], scratch: &mut Vec<u8>) {
    scratch.clear();
    let outcome = model.inflater.inflate(block, scratch).expect("our header blocks inflate on one zlib stream (C121)");
    assert_eq!(outcome, InflateOutcome::Complete);
}
