//! The SPDY session: one state machine per connection, for both roles.
//!
//! Sans-IO contract (quinn-proto style). Nothing here reads a clock or touches a socket.
//!
//! * Inputs: [`Session::recv`] (bytes from the peer), [`Session::handle_timeout`] (the
//!   deadline from [`Session::poll_timeout`] passed), and commands (`open_stream`,
//!   `send_reply`, `send_headers`, `send_data`, `consume`, `reset_stream`, `ping`, `goaway`).
//! * Outputs: [`Event`]s from `recv`, bytes to send from [`Session::poll_transmit`], and the
//!   next deadline from [`Session::poll_timeout`].
//! * Call order after any input: drain `recv` until it returns `Ok(None)`, then call
//!   `poll_transmit` until it returns `None`, then drain [`Session::poll_event`], then
//!   re-arm the timer from `poll_timeout`.
//! * Events that arise outside `recv` (a stream closed when our FIN went out in
//!   `poll_transmit`, a send-progress reset in `handle_timeout`) wait in a queue:
//!   `poll_event` drains it, and `recv` returns them first as well.
//! * Zero copy: DATA payloads received are handed out borrowed from the `recv` input;
//!   DATA to send stays in the caller's buffers: `send_data` only declares how many bytes
//!   the caller holds, and `poll_transmit` says which stream sends how many next.
//! * Header blocks are compressed when they leave (`poll_transmit`), in wire order on the
//!   session's one zlib stream; a queued header frame of a stream reset before that is
//!   never sent (C119).

mod flow;
mod goaway;
mod limits;
mod ping;
mod priority;
mod settings;
mod state;
mod streams;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use self::flow::{RecvWindow, SendWindow, WindowError};
use self::goaway::GoAwayState;
use self::limits::{FloodCounter, RecentShare};
use self::ping::{PingAction, Pings};
use self::priority::{chunk_len, DataScheduler};
use self::state::{Closed, State, Transition};
use self::streams::{SendOp, Stream, Streams};
use crate::spdy::error::{SessionError, SessionOffence, StreamOffence};
use crate::spdy::frame::{
    self,
    begin_header_frame, data_head, finish_header_frame, flags, DataChunk, Frame, FrameReader, GoAway, GoAwayStatus,
    HeaderFrameKind, Ping, ReadItem, RstStatus, RstStream, SynStream, WindowUpdate,
};
use crate::spdy::header::inflate::{InflateError, InflateLimits, InflateOutcome, Inflater};
use crate::spdy::header::wire::{self, NvLimits};
use crate::spdy::header::{new_encoder, CompressorKind, HeaderBlock, HeaderEncoder};
use crate::spdy::stream_id::StreamId;
use crate::spdy::version::Version;

/// Which end of the connection this session is. The client opens odd streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Client,
    Server,
}

/// Abuse and resource limits (CONFORMANCE §C). Each has a test that trips it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest compressed SYN_STREAM/SYN_REPLY/HEADERS payload (≥ 8192, C5; over → C46).
    pub max_control_payload: u32,
    /// Largest decompressed header block (over → RST FRAME_TOO_LARGE, C45).
    pub max_header_block: usize,
    /// Hard inflate budget per frame (over → GOAWAY, C46).
    pub inflate_budget: usize,
    /// Most header pairs per block (over → RST FRAME_TOO_LARGE, C47).
    pub max_header_pairs: usize,
    /// Most PING replies queued and not yet sent (C103).
    pub max_pending_pings: usize,
    /// Most SETTINGS frames per second (B7).
    pub max_settings_per_second: u32,
    /// Most frames for invalid streams per session (C68).
    pub max_invalid_stream_frames: u32,
    /// Most no-progress frames per `flood_window` (B8).
    pub max_no_progress_frames: u32,
    /// Most client cancels (RST_STREAM CANCEL received) per `flood_window` (B4).
    pub max_cancels: u32,
    /// The interval the two flood counters above are measured over.
    pub flood_window: Duration,
    /// Streams per session before GOAWAY(OK) asks the peer to reconnect (B4).
    pub max_streams_per_session: u32,
    /// Most bytes of control frames queued for sending; over it `recv` stops taking input
    /// (`wants_read` false) until the peer reads (B5).
    pub max_queued_control_bytes: usize,
    /// Idle session timeout: GOAWAY(OK), then close (B10).
    pub idle_timeout: Duration,
    /// A stream that could not send for this long is reset with CANCEL (B9).
    pub send_progress_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_control_payload: 64 * 1024,
            max_header_block: 64 * 1024,
            inflate_budget: 1024 * 1024,
            max_header_pairs: 128,
            max_pending_pings: 10,
            max_settings_per_second: 10,
            max_invalid_stream_frames: 100,
            max_no_progress_frames: 1000,
            max_cancels: 100,
            flood_window: Duration::from_secs(10),
            max_streams_per_session: 1000,
            max_queued_control_bytes: 1024 * 1024,
            idle_timeout: Duration::from_secs(180),
            send_progress_timeout: Duration::from_secs(60),
        }
    }
}

/// Per-session settings chosen by the application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// MAX_CONCURRENT_STREAMS we advertise: peer-initiated streams we accept at once.
    pub max_concurrent_streams: u32,
    /// INITIAL_WINDOW_SIZE we advertise (our per-stream receive window); ≥ 65 536 and
    /// never lowered (C91).
    pub initial_window_size: u32,
    /// 3.1: the session receive window we grant with WINDOW_UPDATE(0) at start (C3).
    pub session_window_size: u32,
    /// Largest DATA payload the scheduler puts in one frame.
    pub max_data_chunk: usize,
    /// Compressor for the header blocks we send.
    pub compressor: CompressorKind,
    pub limits: Limits,
    /// Plaintext SPDY/3 versus 3.1 cannot be told apart on the wire. When set on a
    /// `Spdy31` session, the session starts as 3.1 and drops session-window accounting on
    /// the send side if the peer turns out to be SPDY/3: it keeps granting stream windows
    /// but never a stream-0 one while our session send window is exhausted.
    pub detect_spdy3: bool,
    /// An idle session shrinks its inflater to its window history (default on). A client
    /// that is never idle (a load generator) turns it off: each header block then
    /// inflates in one zlib call instead of one per deflate block
    /// ([`crate::spdy::header::Inflater::set_hibernation`]).
    pub hibernate_inflater: bool,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            max_concurrent_streams: 256,
            initial_window_size: 1024 * 1024,
            session_window_size: 16 * 1024 * 1024,
            max_data_chunk: 16 * 1024,
            compressor: CompressorKind::default(),
            limits: Limits::default(),
            detect_spdy3: false,
            hibernate_inflater: true,
        }
    }
}

/// What happened, as decoded from the peer's bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// The peer opened a stream: a request (server role) or a push (client role,
    /// `associated_to` set).
    StreamOpened { stream_id: StreamId, associated_to: Option<StreamId>, priority: u8, headers: HeaderBlock, fin: bool },
    /// The peer's SYN_REPLY (client role).
    Reply { stream_id: StreamId, headers: HeaderBlock, fin: bool },
    /// A HEADERS frame on an open stream (extra headers or trailers).
    Headers { stream_id: StreamId, headers: HeaderBlock, fin: bool },
    /// DATA payload bytes borrowed from the `recv` input. One DATA frame may arrive as
    /// several events; `fin` is set on the last event of the stream (possibly empty).
    /// Receive-window credit returns only through [`Session::consume`].
    Data { stream_id: StreamId, data: &'a [u8], fin: bool },
    /// The stream ended abnormally: the peer reset it (`by_peer`), or the session reset it
    /// for a stream error (the RST_STREAM is queued). Nothing more will happen on it.
    StreamReset { stream_id: StreamId, status: RstStatus, by_peer: bool },
    /// Both sides finished the stream normally; its id is released.
    StreamClosed { stream_id: StreamId },
    /// The stream's send window went from exhausted to open (resume reading its source).
    SendWindowOpen { stream_id: StreamId },
    /// The peer sent GOAWAY: open no more streams; ours above `last_good_stream_id` were
    /// not processed (they were reset with REFUSED_STREAM events).
    GoAway { last_good_stream_id: StreamId, status: GoAwayStatus },
    /// A PING we sent came back.
    PingAck { id: u32, rtt: Duration },
}

/// What `poll_transmit` asks the caller to send next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transmit {
    /// Control frames were appended to the `out` buffer.
    Control,
    /// Send the bytes in `out` so far, then `head`, then the next `len` bytes the caller
    /// holds for `stream_id` (declared with `send_data`). `fin` is already in `head`.
    Data { stream_id: StreamId, head: [u8; 8], len: usize, fin: bool },
}

/// A command the session refused (API misuse or a state that forbids it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    #[error("no such open stream")]
    UnknownStream,
    #[error("the stream is already half-closed on our side")]
    StreamHalfClosed,
    #[error("the reply was already sent")]
    AlreadyReplied,
    #[error("the peer's MAX_CONCURRENT_STREAMS is reached")]
    ConcurrencyLimit,
    #[error("GOAWAY was sent or received; no new streams")]
    GoingAway,
    #[error("stream ids are exhausted")]
    StreamIdsExhausted,
    #[error("the session is closed")]
    Closed,
    #[error("wrong role for this command")]
    WrongRole,
    #[error("the SYN_REPLY must be sent first")]
    NotReplied,
}

/// One SPDY session. See the module documentation for the call contract.
pub struct Session {
    /// Kept apart from the rest: a read item borrows the reader while `inner` handles it.
    reader: FrameReader,
    inner: Inner,
}

/// Receive-window share of the initial 3.1 session window, in stream credit granted
/// while our session send window is exhausted, after which a peer that never sent a
/// stream-0 WINDOW_UPDATE is taken for SPDY/3 (`detect_spdy3`).
const DETECT_SPDY3_GRANTS: u64 = 32 * 1024;
/// How long after the detection probe returns a peer still silent about its session
/// window is taken for SPDY/3 (see `Detect::decide_at`); at least two round trips.
const DETECT_SPDY3_GRACE: Duration = Duration::from_millis(250);
/// How long a session must sit without streams before its inflater hibernates.
const HIBERNATE_AFTER: Duration = Duration::from_secs(1);
/// The 3.1 session window every endpoint starts with (SPDY3.md §7.3).
const INITIAL_SESSION_WINDOW: u32 = 65_536;
/// The per-stream window until the peer's SETTINGS says otherwise (SPDY3.md §7.2).
const DEFAULT_INITIAL_WINDOW: u32 = 65_536;
/// B4: of this many recent peer streams, more than half cancelled before our reply is
/// a Rapid Reset pattern.
const CANCEL_SHARE_STREAMS: u16 = 200;
/// B10: a frame left incomplete this long closes the session (nginx `spdy_recv_timeout`,
/// CONFORMANCE §C "Incomplete-frame timeout 30 s").
const INCOMPLETE_FRAME_TIMEOUT: Duration = Duration::from_secs(30);
/// The drafts' minimum control frame size every endpoint must accept (C5).
const MIN_CONTROL_PAYLOAD: u32 = 8192;
/// Largest block (name/value bytes) [`Session::recycle`] keeps for reuse.
const MAX_SPARE_BLOCK_BYTES: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Running,
    /// A session error or a non-OK GOAWAY: only the queued bytes (ending with our
    /// GOAWAY) may still leave; input is ignored (C112).
    Closing,
}

/// What to do with the rest of the DATA frame whose first chunk was judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DataFate {
    Deliver,
    Drop,
}

/// The outcome of inflating and parsing one header block.
enum Block {
    Ok(HeaderBlock),
    /// Inflated fine (zlib still in sync) but unusable: a stream error.
    Reject(RstStatus, StreamOffence),
}

/// A header frame waiting for `poll_transmit`. It is compressed only when it leaves, so
/// the one zlib stream sees blocks in wire order, and it is dropped (never compressed) if
/// its stream is reset before that: nothing is sent on a stream after RST_STREAM (C119).
struct PendingHeaders {
    /// Where it goes among the other control frames: before `ctrl[at..]`.
    at: usize,
    kind: HeaderFrameKind,
    fin: bool,
    block: QueuedBlock,
    cancelled: bool,
}

/// A header block waiting for its turn in the compressor: a copy, or one the application
/// shares across many frames (a load generator's request template), so queueing it costs
/// no copy.
enum QueuedBlock {
    Owned(HeaderBlock),
    Shared(Arc<HeaderBlock>),
}

impl core::ops::Deref for QueuedBlock {
    type Target = HeaderBlock;

    fn deref(&self) -> &HeaderBlock {
        match self {
            QueuedBlock::Owned(block) => block,
            QueuedBlock::Shared(block) => block,
        }
    }
}

fn header_frame_stream(kind: &HeaderFrameKind) -> StreamId {
    match *kind {
        HeaderFrameKind::SynStream { stream_id, .. }
        | HeaderFrameKind::SynReply { stream_id }
        | HeaderFrameKind::Headers { stream_id } => stream_id,
    }
}

/// Plaintext SPDY/3-versus-3.1 detection state (see `SessionConfig::detect_spdy3`).
#[derive(Debug)]
struct Detect {
    /// Still watching. Off for good after the first stream-0 WINDOW_UPDATE.
    active: bool,
    /// Stream credit granted since our session send window ran out.
    granted_while_blocked: u64,
    /// The PING sent when our session send window ran out with data waiting. A 3.1 peer
    /// that has read the data it was sent grants session credit before that PING comes
    /// back; a SPDY/3 peer with large stream windows never grants anything (it waits for
    /// half its stream window), so the returning PING is what tells it apart without a
    /// stall.
    probe: Option<u32>,
    /// When the probe came back with the session window still exhausted: the peer has read
    /// everything we sent and granted no session credit. A 3.1 peer whose application is
    /// merely slow would grant it as soon as it reads, so the decision waits
    /// `DETECT_SPDY3_GRACE` (at least two round trips) beyond the probe before dropping
    /// session accounting; any stream-0 WINDOW_UPDATE in that time ends detection.
    decide_at: Option<Instant>,
}

struct Inner {
    role: Role,
    version: Version,
    config: SessionConfig,
    phase: Phase,
    now: Instant,

    inflater: Inflater,
    encoder: Box<dyn HeaderEncoder>,
    /// A header block has gone through `encoder` (it can no longer be replaced).
    encoder_used: bool,
    nv_limits: NvLimits,
    /// Inflate output, reused across frames.
    scratch: Vec<u8>,
    /// A block the application handed back ([`Session::recycle`]); the next decoded block
    /// reuses its allocations.
    spare_block: Option<HeaderBlock>,

    streams: Streams,
    scheduler: DataScheduler,
    /// Streams with DATA ready that wait for the 3.1 session send window.
    session_blocked: Vec<StreamId>,
    /// Encoded control frames (header frames compressed in wire order) not yet handed
    /// to `poll_transmit`. Everything here leaves before any further DATA (C125).
    ctrl: Vec<u8>,
    /// Stream-scoped RST_STREAM and WINDOW_UPDATE frames in `ctrl` (offset, stream): when
    /// the peer resets that stream before they are sent, they are taken out (C119: nothing
    /// more on a stream after its RST_STREAM, not even our own crossing RST).
    ctrl_stream_frames: Vec<(usize, StreamId)>,
    /// Header frames interleaved with `ctrl` by offset.
    pending_headers: VecDeque<PendingHeaders>,
    /// Uncompressed bytes held in `pending_headers` (counted against B5's bound).
    pending_header_bytes: usize,
    pending_ping_replies: usize,
    events: VecDeque<Event<'static>>,
    goaway: GoAwayState,

    /// The peer's SETTINGS_INITIAL_WINDOW_SIZE (our send side).
    peer_initial_window: u32,
    /// The peer's SETTINGS_MAX_CONCURRENT_STREAMS (our streams).
    peer_max_streams: Option<u32>,
    /// Our 3.1 session send window; `None` without session flow control (SPDY/2,
    /// SPDY/3, or a peer detected as SPDY/3).
    session_send: Option<SendWindow>,
    /// Our 3.1 session receive window.
    session_recv: Option<RecvWindow>,
    /// The peer sent a stream-0 WINDOW_UPDATE: it certainly speaks 3.1.
    peer_sent_session_update: bool,
    detect: Detect,

    pings: Pings,
    settings_rate: FloodCounter,
    no_progress: FloodCounter,
    cancels: FloodCounter,
    /// B4: "more than half of the last 200 streams cancelled before a response".
    cancelled_share: RecentShare,
    invalid_stream_frames: u32,
    /// Fate of the DATA frame in progress (decided on its first chunk).
    data_fate: DataFate,
    /// Since when the session has had no stream (B10); `None` while streams exist.
    idle_since: Option<Instant>,
    /// The idle period (its `idle_since`) for which hibernation was already tried.
    hibernate_tried: Option<Instant>,
    /// Since when the reader has held part of a frame without progress (B10).
    partial_since: Option<Instant>,
}

impl Session {
    /// Creates a session. It queues our initial SETTINGS (MAX_CONCURRENT_STREAMS,
    /// INITIAL_WINDOW_SIZE; C2) and, in 3.1, WINDOW_UPDATE(0) (C3).
    pub fn new(role: Role, version: Version, mut config: SessionConfig, now: Instant) -> Self {
        // C91: our INITIAL_WINDOW_SIZE is announced once, ≥ 65 536, never lowered.
        config.initial_window_size = config.initial_window_size.clamp(DEFAULT_INITIAL_WINDOW, flow::MAX_WINDOW as u32);
        config.session_window_size = config.session_window_size.clamp(INITIAL_SESSION_WINDOW, flow::MAX_WINDOW as u32);
        config.limits.max_control_payload = config.limits.max_control_payload.max(MIN_CONTROL_PAYLOAD);
        config.max_data_chunk = config.max_data_chunk.clamp(1, frame::MAX_PAYLOAD_LEN);
        let limits = &config.limits;
        let reader = FrameReader::new(version, limits.max_control_payload);
        let mut inflater =
            Inflater::new(version, InflateLimits { max_block: limits.max_header_block, budget: limits.inflate_budget });
        inflater.set_hibernation(config.hibernate_inflater);
        let nv_limits = NvLimits { max_pairs: limits.max_header_pairs };
        let encoder = new_encoder(version, &config.compressor);
        let settings_rate = FloodCounter::new(limits.max_settings_per_second, Duration::from_secs(1));
        let no_progress = FloodCounter::new(limits.max_no_progress_frames, limits.flood_window);
        let cancels = FloodCounter::new(limits.max_cancels, limits.flood_window);
        let session_flow = version.has_session_flow_control();
        let mut inner = Inner {
            role,
            version,
            phase: Phase::Running,
            now,
            inflater,
            encoder,
            encoder_used: false,
            nv_limits,
            scratch: Vec::new(),
            spare_block: None,
            streams: Streams::new(role == Role::Client),
            scheduler: DataScheduler::new(version.priority_levels()),
            session_blocked: Vec::new(),
            ctrl: Vec::new(),
            ctrl_stream_frames: Vec::new(),
            pending_headers: VecDeque::new(),
            pending_header_bytes: 0,
            pending_ping_replies: 0,
            events: VecDeque::new(),
            goaway: GoAwayState::default(),
            peer_initial_window: DEFAULT_INITIAL_WINDOW,
            peer_max_streams: None,
            session_send: session_flow.then(|| SendWindow::new(INITIAL_SESSION_WINDOW)),
            session_recv: session_flow.then(|| RecvWindow::new(INITIAL_SESSION_WINDOW)),
            peer_sent_session_update: false,
            detect: Detect { active: session_flow && config.detect_spdy3, granted_while_blocked: 0, probe: None, decide_at: None },
            pings: Pings::new(role),
            settings_rate,
            no_progress,
            cancels,
            cancelled_share: RecentShare::new(CANCEL_SHARE_STREAMS, CANCEL_SHARE_STREAMS / 2),
            invalid_stream_frames: 0,
            data_fate: DataFate::Drop,
            idle_since: Some(now),
            hibernate_tried: None,
            partial_since: None,
            config,
        };
        // C2: the first frame is SETTINGS with MAX_CONCURRENT_STREAMS and
        // INITIAL_WINDOW_SIZE, no persistence flags (C126).
        let initial = settings::initial(inner.config.max_concurrent_streams, inner.config.initial_window_size);
        inner.queue_frame(&Frame::Settings(initial));
        // C3: raise the 3.1 session receive window above 65 536 right away.
        let target = inner.config.session_window_size;
        if let Some(delta) = inner.session_recv.as_mut().and_then(|w| w.raise_to(target)) {
            inner.queue_window_update(StreamId::ZERO, delta);
        }
        Session { reader, inner }
    }

    pub fn role(&self) -> Role {
        self.inner.role
    }

    pub fn version(&self) -> Version {
        self.inner.version
    }

    /// Consumes bytes from the front of `input` and returns the next event. `Ok(None)`:
    /// all input consumed and no event pending. `Err`: a session error; GOAWAY is queued,
    /// the session is closed, later input is ignored: flush `poll_transmit`, then close.
    ///
    /// While [`Session::wants_read`] is false (the outbound control queue is over
    /// `max_queued_control_bytes`, B5) it returns `Ok(None)` without consuming input:
    /// keep the bytes, flush `poll_transmit`, and call again.
    pub fn recv<'a>(&mut self, input: &mut &'a [u8], now: Instant) -> Result<Option<Event<'a>>, SessionError> {
        let inner = &mut self.inner;
        inner.now = now;
        if let Some(event) = inner.events.pop_front() {
            return Ok(Some(event));
        }
        if inner.phase == Phase::Closing {
            *input = &[];
            return Ok(None);
        }
        loop {
            if inner.queued_control_bytes() > inner.config.limits.max_queued_control_bytes {
                return Ok(None);
            }
            let whole: &'a [u8] = input;
            let mut rest: &[u8] = whole;
            let read = self.reader.read(&mut rest);
            let consumed = whole.len() - rest.len();
            *input = &whole[consumed..];
            let result = match read {
                Ok(None) => {
                    // B10: the clock restarts whenever bytes arrive; it runs while a frame
                    // stays incomplete.
                    inner.partial_since = match self.reader.is_between_frames() {
                        true => None,
                        false if consumed > 0 => Some(now),
                        false => inner.partial_since.or(Some(now)),
                    };
                    inner.end_of_input();
                    return Ok(inner.events.pop_front());
                }
                Ok(Some(ReadItem::Frame(frame))) => inner.on_frame(frame).map(|()| None),
                Ok(Some(ReadItem::Data(chunk))) => match rebase(whole, chunk.bytes) {
                    Some(bytes) => inner.on_data(&chunk, bytes),
                    // The reader hands DATA out of the input it was given; anything else is
                    // our own bug, not the peer's.
                    None => Err(SessionError { status: GoAwayStatus::INTERNAL_ERROR, offence: SessionOffence::Internal }),
                },
                Err(e) => Err(SessionError::from(e)),
            };
            match result {
                Ok(Some(event)) => return Ok(Some(event)),
                Ok(None) => {
                    if let Some(event) = inner.events.pop_front() {
                        return Ok(Some(event));
                    }
                }
                Err(e) => {
                    inner.fail(e);
                    *input = &[];
                    return Err(e);
                }
            }
        }
    }

    /// An event that arose outside `recv` (our FIN closed a stream, a timeout reset one),
    /// or `None`. `recv` returns these first as well.
    pub fn poll_event(&mut self) -> Option<Event<'static>> {
        self.inner.events.pop_front()
    }

    /// Client: opens a stream with a SYN_STREAM.
    pub fn open_stream(&mut self, headers: &HeaderBlock, priority: u8, fin: bool) -> Result<StreamId, SendError> {
        self.inner.open_stream(QueuedBlock::Owned(headers.clone()), priority, fin)
    }

    /// Client: [`Session::open_stream`] with a block shared across requests; queueing it
    /// takes a reference instead of a copy.
    pub fn open_stream_shared(&mut self, headers: &Arc<HeaderBlock>, priority: u8, fin: bool) -> Result<StreamId, SendError> {
        self.inner.open_stream(QueuedBlock::Shared(Arc::clone(headers)), priority, fin)
    }

    /// Replaces the compressor of the header blocks we send (the one `SessionConfig`
    /// named), e.g. with an application's own [`HeaderEncoder`]. Only before the first
    /// block was compressed: later the peer's inflater holds the old compressor's stream,
    /// so it returns `false` and changes nothing.
    pub fn set_header_encoder(&mut self, encoder: Box<dyn HeaderEncoder>) -> bool {
        if self.inner.encoder_used {
            return false;
        }
        self.inner.encoder = encoder;
        true
    }

    /// Hands back a block an event carried, once the application is done with it: the next
    /// block decoded reuses its allocations (one block is kept, and only a small one).
    pub fn recycle(&mut self, mut headers: HeaderBlock) {
        if headers.payload_capacity() <= MAX_SPARE_BLOCK_BYTES {
            headers.clear();
            self.inner.spare_block = Some(headers);
        }
    }

    /// Server: answers a peer stream with SYN_REPLY.
    pub fn send_reply(&mut self, stream_id: StreamId, headers: &HeaderBlock, fin: bool) -> Result<(), SendError> {
        self.inner.send_reply(stream_id, headers, fin)
    }

    /// Sends a HEADERS frame; it goes out after the DATA already declared on the stream.
    pub fn send_headers(&mut self, stream_id: StreamId, headers: &HeaderBlock, fin: bool) -> Result<(), SendError> {
        self.inner.send_headers(stream_id, headers, fin)
    }

    /// Declares `len` more bytes of body held by the caller for `stream_id`; `fin` marks
    /// the end of the body. `len` may be 0 (e.g. to send FIN alone).
    pub fn send_data(&mut self, stream_id: StreamId, len: usize, fin: bool) -> Result<(), SendError> {
        self.inner.send_data(stream_id, len, fin)
    }

    /// Resets a stream (RST_STREAM, ahead of DATA). Unknown or closed streams are ignored.
    /// No event follows; the stream's unconsumed bytes are given back to the session
    /// window, so do not `consume` for it afterwards.
    pub fn reset_stream(&mut self, stream_id: StreamId, status: RstStatus) {
        let inner = &mut self.inner;
        if inner.phase == Phase::Closing || inner.streams.get(stream_id).is_none() {
            return;
        }
        // A SYN_STREAM still queued is simply not sent: the peer never hears of the stream.
        let unannounced = inner.pending_headers.iter().any(|p| {
            !p.cancelled && matches!(p.kind, HeaderFrameKind::SynStream { stream_id: id, .. } if id == stream_id)
        });
        inner.close_stream(stream_id, Closed::ResetByUs);
        if !unannounced {
            inner.queue_rst(stream_id, status);
        }
    }

    /// The application consumed `len` received bytes of the stream: receive-window credit
    /// comes back as batched WINDOW_UPDATEs (stream, and stream 0 in 3.1). Consuming
    /// for a stream that already closed normally still credits the session window.
    pub fn consume(&mut self, stream_id: StreamId, len: usize) {
        self.inner.consume(stream_id, len)
    }

    /// Sends a PING with a fresh id of our parity and returns the id.
    pub fn ping(&mut self, now: Instant) -> u32 {
        let inner = &mut self.inner;
        inner.now = now;
        let id = inner.pings.next_id(now);
        if inner.phase == Phase::Running {
            inner.queue_frame(&Frame::Ping(Ping { id }));
        }
        id
    }

    /// Sends GOAWAY with last-good = highest accepted peer stream. With OK, streams at or
    /// below it finish and then the session closes; otherwise it closes after the flush.
    pub fn goaway(&mut self, status: GoAwayStatus) {
        self.inner.goaway(status)
    }

    /// Appends what to send next to `out`. See [`Transmit`]. `None`: nothing to send.
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>, now: Instant) -> Option<Transmit> {
        self.inner.poll_transmit(out, now)
    }

    /// Like [`Session::poll_transmit`], for tests and simple callers: DATA payloads are
    /// copied into `out` too. `source(stream_id, len, out)` must append exactly `len`
    /// bytes of that stream's body (the next ones in order). Returns whether anything
    /// was appended.
    pub fn poll_transmit_copy(
        &mut self,
        out: &mut Vec<u8>,
        now: Instant,
        source: &mut impl FnMut(StreamId, usize, &mut Vec<u8>),
    ) -> bool {
        match self.poll_transmit(out, now) {
            None => false,
            Some(Transmit::Control) => true,
            Some(Transmit::Data { stream_id, head, len, .. }) => {
                out.extend_from_slice(&head);
                let before = out.len();
                source(stream_id, len, out);
                debug_assert_eq!(out.len() - before, len, "source appended the wrong length");
                true
            }
        }
    }

    /// The next deadline, if any.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.inner.poll_timeout()
    }

    /// The deadline passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.inner.handle_timeout(now)
    }

    /// Whether the session wants more input (false while the outbound control queue is
    /// over its bound, B5/B6, or after close).
    pub fn wants_read(&self) -> bool {
        let inner = &self.inner;
        inner.phase == Phase::Running && inner.queued_control_bytes() <= inner.config.limits.max_queued_control_bytes
    }

    /// The session is finished: nothing more to send, the connection can close.
    pub fn is_closed(&self) -> bool {
        let inner = &self.inner;
        inner.ctrl.is_empty()
            && inner.pending_headers.is_empty()
            && (inner.phase == Phase::Closing || (inner.goaway.sent().is_some() && inner.streams.is_empty()))
    }

    /// Our send window for a stream (None if unknown). Negative after a SETTINGS cut (C74).
    pub fn stream_send_window(&self, stream_id: StreamId) -> Option<i64> {
        if !self.inner.version.has_stream_flow_control() {
            return None; // E5: SPDY/2 has no windows
        }
        self.inner.streams.get(stream_id).map(|s| s.send_window.value())
    }

    /// Our 3.1 session send window (None without session flow control, including after
    /// `detect_spdy3` decided the peer speaks SPDY/3).
    pub fn session_send_window(&self) -> Option<i64> {
        self.inner.session_send.as_ref().map(|w| w.value())
    }

    /// Open streams (not fully closed).
    pub fn open_streams(&self) -> usize {
        self.inner.streams.len()
    }

    /// Approximate heap bytes the session holds (for memory reports).
    pub fn memory_bytes(&self) -> usize {
        let inner = &self.inner;
        core::mem::size_of::<Session>()
            + inner.ctrl.capacity()
            + inner.pending_headers.capacity() * core::mem::size_of::<PendingHeaders>()
            + inner.pending_header_bytes
            + inner.scratch.capacity()
            + inner.streams.memory_bytes()
            + inner.session_blocked.capacity() * core::mem::size_of::<StreamId>()
            + inner.events.capacity() * core::mem::size_of::<Event<'static>>()
            + inner.scheduler.memory_bytes()
            + inner.encoder.state_bytes()
            + inner.inflater.state_bytes()
            + self.reader.buffer_capacity()
    }
}

/// Re-borrows `sub` (a slice of `whole` handed back through a shorter borrow) with the
/// lifetime of `whole`. `None` if it is not inside `whole`.
fn rebase<'a>(whole: &'a [u8], sub: &[u8]) -> Option<&'a [u8]> {
    let start = (sub.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    whole.get(start..start.checked_add(sub.len())?)
}

impl Inner {
    // ---------------------------------------------------------------- receiving

    fn on_frame(&mut self, frame: Frame<'_>) -> Result<(), SessionError> {
        if self.streams.is_empty() {
            self.idle_since = Some(self.now);
        }
        match frame {
            Frame::SynStream(syn) => self.on_syn_stream(&syn),
            Frame::SynStreamWrongVersion { syn, .. } => self.on_syn_stream_wrong_version(&syn),
            Frame::SynReply(reply) => self.on_header_frame(reply.stream_id, reply.flags, reply.header_block, true),
            Frame::Headers(headers) => {
                self.on_header_frame(headers.stream_id, headers.flags, headers.header_block, false)
            }
            Frame::RstStream(rst) => self.on_rst_stream(rst),
            Frame::Settings(settings) => self.on_settings(&settings),
            Frame::Ping(ping) => self.on_ping(ping),
            Frame::GoAway(goaway) => self.on_goaway(goaway),
            Frame::WindowUpdate(update) => self.on_window_update(update),
            // §5.6: a foreign-version header frame still goes through the inflater.
            Frame::Ignored { header_block, .. } => {
                if !header_block.is_empty() {
                    self.inflate(header_block)?;
                }
                self.no_progress()
            }
            // E8, C13, C14: NOOP and unknown types are ignored (B8 counts them).
            Frame::Noop => self.no_progress(),
            // The reader hands DATA out as chunks; a whole one here would be our bug.
            Frame::Data(_) => Err(SessionError { status: GoAwayStatus::INTERNAL_ERROR, offence: SessionOffence::Internal }),
        }
    }

    fn is_peer_id(&self, id: StreamId) -> bool {
        match self.role {
            Role::Server => id.is_client_initiated(),
            Role::Client => id.is_server_initiated(),
        }
    }

    fn on_syn_stream(&mut self, syn: &SynStream<'_>) -> Result<(), SessionError> {
        let id = syn.stream_id;
        // C21, C22, C23 are session errors: the session dies, so the block's fate does
        // not matter.
        if id.is_zero() {
            return Err(SessionError::protocol(SessionOffence::SynStreamIdZero));
        }
        if !self.is_peer_id(id) {
            return Err(SessionError::protocol(SessionOffence::SynStreamWrongParity));
        }
        if id < self.streams.highest_remote {
            return Err(SessionError::protocol(SessionOffence::StreamIdNotIncreasing));
        }
        // §5.6: every header block is inflated, even for a frame about to be rejected.
        let block = self.decode_block(syn.header_block)?;
        if id == self.streams.highest_remote {
            // C24: "Receiving a second SYN_STREAM with the same ID → stream error
            // PROTOCOL_ERROR."
            self.stream_error(id, RstStatus::PROTOCOL_ERROR, StreamOffence::DuplicateSynStream);
            return Ok(());
        }
        self.streams.highest_remote = id;
        // C28: "every SYN_STREAM that arrives after the GOAWAY is ignored" (no reply).
        if self.goaway.sent().is_some() {
            return Ok(());
        }
        let unidirectional = syn.flags & flags::UNIDIRECTIONAL != 0;
        let fin = syn.flags & flags::FIN != 0;
        let mut reject = None;
        if self.role == Role::Server {
            if !syn.associated_to.is_zero() {
                reject = Some((RstStatus::PROTOCOL_ERROR, StreamOffence::AssociatedStreamFromClient)); // C25
            } else if unidirectional {
                reject = Some((RstStatus::PROTOCOL_ERROR, StreamOffence::UnidirectionalFromClient)); // C26
            }
        } else if self.streams.get(syn.associated_to).is_none_or(|s| !s.ours) {
            // A push must name an open stream of ours (SPDY3.md §6.5).
            reject = Some((RstStatus::PROTOCOL_ERROR, StreamOffence::MalformedHeaderBlock));
        }
        if let Some((status, offence)) = reject {
            self.streams.last_good = id;
            self.reject_new(id, status, offence);
            return Ok(());
        }
        if self.goaway.received().is_some() {
            // C29: the peer opened a stream after its own GOAWAY.
            self.reject_new(id, RstStatus::REFUSED_STREAM, StreamOffence::Refused);
            return Ok(());
        }
        if self.streams.remote_open() >= self.config.max_concurrent_streams as usize {
            // C27: refused; the id still counts as received (highest_remote) but not as
            // last-good ("received and not refused").
            self.reject_new(id, RstStatus::REFUSED_STREAM, StreamOffence::Refused);
            return Ok(());
        }
        self.streams.last_good = id;
        let headers = match block {
            Block::Ok(headers) => headers,
            Block::Reject(status, offence) => {
                self.reject_new(id, status, offence);
                return Ok(());
            }
        };
        self.streams.accepted_total += 1;
        let priority = syn.priority.min(self.version.lowest_priority());
        let associated_to = (!syn.associated_to.is_zero()).then_some(syn.associated_to);
        let event = Event::StreamOpened { stream_id: id, associated_to, priority, headers, fin };
        match State::start(unidirectional, fin) {
            Transition::Alive(state) => {
                let stream = self.new_stream(id, state, priority, false);
                self.streams.insert(stream);
                self.idle_since = None;
                self.events.push_back(event);
            }
            Transition::Closed => {
                self.streams.remember(id, Closed::Completed);
                self.events.push_back(event);
                self.events.push_back(Event::StreamClosed { stream_id: id });
            }
        }
        // B4: cap the streams of one session, then ask the peer to reconnect.
        if self.streams.accepted_total >= self.config.limits.max_streams_per_session {
            self.goaway(GoAwayStatus::OK);
        }
        Ok(())
    }

    /// C16: "SYN_STREAM with version field 2 on a spdy/3.x session → inflate;
    /// RST(id, UNSUPPORTED_VERSION); if the inflate fails → GOAWAY(1)+close".
    fn on_syn_stream_wrong_version(&mut self, syn: &SynStream<'_>) -> Result<(), SessionError> {
        self.inflate(syn.header_block)?;
        if !syn.stream_id.is_zero() && self.streams.get(syn.stream_id).is_none() {
            self.streams.remember(syn.stream_id, Closed::ResetByUs);
            self.queue_rst(syn.stream_id, RstStatus::UNSUPPORTED_VERSION);
        }
        Ok(())
    }

    /// SYN_REPLY (`reply`) and HEADERS.
    fn on_header_frame(&mut self, id: StreamId, frame_flags: u8, block: &[u8], reply: bool) -> Result<(), SessionError> {
        let block = self.decode_block(block)?;
        let fin = frame_flags & flags::FIN != 0;
        let Some(stream) = self.streams.get(id) else {
            if reply && self.role == Role::Server && !id.is_zero() {
                // C117: "SYN_REPLY from the client (any stream) → RST(id, PROTOCOL_ERROR)".
                self.streams.remember(id, Closed::ResetByUs);
                self.queue_rst(id, RstStatus::PROTOCOL_ERROR);
                return self.invalid_stream_frame();
            }
            // C115: HEADERS for an unknown stream.
            return self.unknown_stream_frame(id);
        };
        let (ours, replied, state) = (stream.ours, stream.replied, stream.state);
        if reply {
            if self.role == Role::Server || !ours {
                // C117, and a SYN_REPLY on a stream the peer pushed.
                self.stream_error(id, RstStatus::PROTOCOL_ERROR, StreamOffence::UnexpectedSynReply);
                return Ok(());
            }
            if replied {
                // SPDY3.md §3.2: "a second SYN_REPLY ... stream error STREAM_IN_USE".
                self.stream_error(id, RstStatus::STREAM_IN_USE, StreamOffence::UnexpectedSynReply);
                return Ok(());
            }
        }
        if !state.peer_may_send() {
            // C116: HEADERS after the peer's FIN.
            self.stream_error(id, RstStatus::PROTOCOL_ERROR, StreamOffence::HeadersAfterFin);
            return Ok(());
        }
        let headers = match block {
            Block::Ok(headers) => headers,
            Block::Reject(status, offence) => {
                self.stream_error(id, status, offence);
                return Ok(());
            }
        };
        if reply {
            if let Some(stream) = self.streams.get_mut(id) {
                stream.replied = true;
            }
            self.reschedule(id);
            self.events.push_back(Event::Reply { stream_id: id, headers, fin });
        } else if headers.is_empty() && !fin {
            // C118: accepted as a no-op; B8 counts it.
            return self.no_progress();
        } else {
            self.events.push_back(Event::Headers { stream_id: id, headers, fin });
        }
        if fin {
            self.recv_fin(id);
        }
        Ok(())
    }

    fn on_rst_stream(&mut self, rst: RstStream) -> Result<(), SessionError> {
        if rst.stream_id.is_zero() {
            return Err(SessionError::protocol(SessionOffence::RstStreamIdZero)); // C107
        }
        if rst.status == RstStatus::CANCEL && self.cancels.record(self.now).is_err() {
            return Err(SessionError::protocol(SessionOffence::ResetFlood)); // B4 rapid reset
        }
        // Our crossing RST_STREAM or WINDOW_UPDATE for it, not yet sent, stays unsent.
        self.unqueue_stream_frames(rst.stream_id);
        let Some(stream) = self.streams.get(rst.stream_id) else {
            return self.no_progress(); // C105: ignored, never answered (C120)
        };
        if !stream.ours {
            let cancelled_early = rst.status == RstStatus::CANCEL && !stream.replied;
            if self.cancelled_share.record(cancelled_early).is_err() {
                return Err(SessionError::protocol(SessionOffence::ResetFlood)); // B4
            }
        }
        // C104, C106: closed whatever the status; nothing more is sent on it, no RST back.
        self.close_stream(rst.stream_id, Closed::ResetByPeer);
        self.events.push_back(Event::StreamReset { stream_id: rst.stream_id, status: rst.status, by_peer: true });
        self.check_drained();
        Ok(())
    }

    fn on_settings(&mut self, frame: &crate::spdy::frame::Settings) -> Result<(), SessionError> {
        if self.settings_rate.record(self.now).is_err() {
            return Err(SessionError::protocol(SessionOffence::SettingsFlood)); // B7
        }
        // C92–C95 (first value wins, persistence flags ignored, PERSISTED skipped) and
        // C89 (INITIAL_WINDOW_SIZE > 2^31-1 → GOAWAY) are `settings::interpret`'s.
        let peer = settings::interpret(self.role, frame)
            .map_err(|_| SessionError::protocol(SessionOffence::InitialWindowTooLarge))?;
        if let Some(max) = peer.max_concurrent_streams {
            self.peer_max_streams = Some(max);
        }
        if let Some(initial) = peer.initial_window_size {
            if self.version.has_stream_flow_control() {
                self.apply_initial_window(initial);
            }
        }
        Ok(())
    }

    /// "SETTINGS_INITIAL_WINDOW_SIZE changes apply to existing streams as a delta ...
    /// The session window is not affected" (SPDY3.md §7.2; C74, C75, C76, C90).
    fn apply_initial_window(&mut self, initial: u32) {
        let delta = i64::from(initial) - i64::from(self.peer_initial_window);
        self.peer_initial_window = initial;
        if delta == 0 {
            return;
        }
        for id in self.streams.ids() {
            let Some(stream) = self.streams.get_mut(id) else { continue };
            match stream.send_window.adjust(delta) {
                Ok(opened) => {
                    if opened {
                        self.window_opened(id);
                    }
                }
                // C90: pushed over 2^31-1 → RST(id, FLOW_CONTROL_ERROR) for each such stream.
                Err(_) => self.stream_error(id, RstStatus::FLOW_CONTROL_ERROR, StreamOffence::WindowOverflow),
            }
        }
    }

    fn on_ping(&mut self, ping: Ping) -> Result<(), SessionError> {
        match self.pings.on_ping(ping.id, self.now) {
            // C99: echoed ahead of DATA; C103/B6: a peer that pings without reading.
            PingAction::Reply => {
                if self.pending_ping_replies >= self.config.limits.max_pending_pings {
                    return Err(SessionError::protocol(SessionOffence::PingFlood));
                }
                self.pending_ping_replies += 1;
                self.queue_frame(&Frame::Ping(ping));
                self.no_progress()
            }
            // C101: our PING came back.
            PingAction::Ack { rtt } => {
                if self.detect.probe == Some(ping.id) {
                    // detect_spdy3: a full round trip after our session window ran out and
                    // still no stream-0 WINDOW_UPDATE; decide after the grace period (see
                    // `Detect::decide_at`).
                    if self.detect.active && self.session_send.as_ref().is_some_and(|w| w.value() <= 0) {
                        self.detect.decide_at = Some(self.now + DETECT_SPDY3_GRACE.max(rtt * 2));
                    } else {
                        self.detect.probe = None;
                    }
                    return Ok(());
                }
                self.events.push_back(Event::PingAck { id: ping.id, rtt });
                Ok(())
            }
            // C100: an id of our parity we did not send (or no longer wait for).
            PingAction::Ignore => self.no_progress(),
        }
    }

    /// C110, C110a: any status; our streams above last-good were not processed.
    fn on_goaway(&mut self, goaway: GoAway) -> Result<(), SessionError> {
        self.goaway.receive(goaway.last_good_stream_id, goaway.status);
        for id in self.streams.ids() {
            let refused = self.streams.get(id).is_some_and(|s| s.ours) && self.goaway.refused_by_peer(id);
            if refused {
                self.close_stream(id, Closed::ResetByPeer);
                self.events.push_back(Event::StreamReset { stream_id: id, status: RstStatus::REFUSED_STREAM, by_peer: true });
            }
        }
        self.events.push_back(Event::GoAway { last_good_stream_id: goaway.last_good_stream_id, status: goaway.status });
        self.check_drained();
        Ok(())
    }

    fn on_window_update(&mut self, update: WindowUpdate) -> Result<(), SessionError> {
        if !self.version.has_stream_flow_control() {
            return self.no_progress(); // E5: no flow control in SPDY/2
        }
        if update.stream_id.is_zero() {
            if !self.version.has_session_flow_control() {
                return self.no_progress(); // C83: ignored on spdy/3
            }
            self.peer_sent_session_update = true;
            self.detect.active = false;
            let Some(window) = self.session_send.as_mut() else {
                return Ok(()); // detected as SPDY/3 earlier: nothing to account
            };
            return match window.grant(update.delta) {
                Ok(opened) => {
                    if opened {
                        self.session_opened();
                    }
                    Ok(())
                }
                // C78 (over 2^31-1), C80 (delta 0): GOAWAY(1) (SPDY3.md §12 rows 2, 15).
                Err(_) => Err(SessionError::protocol(SessionOffence::SessionWindowOverflow)),
            };
        }
        let id = update.stream_id;
        let Some(stream) = self.streams.get_mut(id) else {
            return self.no_progress(); // C81
        };
        // C82: applied on a half-closed stream too.
        match stream.send_window.grant(update.delta) {
            Ok(opened) => {
                if self.detect.active && self.session_send.as_ref().is_some_and(|w| w.value() <= 0) {
                    self.detect.granted_while_blocked += u64::from(update.delta);
                }
                if opened {
                    self.window_opened(id);
                }
                Ok(())
            }
            Err(WindowError::ZeroDelta) | Err(_) => {
                // C77 (over 2^31-1), C79 (delta 0).
                self.stream_error(id, RstStatus::FLOW_CONTROL_ERROR, StreamOffence::WindowOverflow);
                Ok(())
            }
        }
    }

    /// All input consumed: the end of one batch of the peer's frames.
    fn end_of_input(&mut self) {
        // detect_spdy3: our session window is exhausted, data waits for it, and the peer
        // granted a good share of stream credit without ever a stream-0 update, even at
        // the end of this batch (a 3.1 peer sends both together). It is SPDY/3: drop the
        // session send window. A 3.1 peer never reaches here (its first WINDOW_UPDATE(0)
        // ends detection), so its session window is never overrun.
        let exhausted = self.session_send.as_ref().is_some_and(|w| w.value() <= 0);
        if self.detect.active
            && exhausted
            && self.detect.granted_while_blocked >= DETECT_SPDY3_GRANTS
            && self.streams.iter().any(|s| data_ready(s, true) && s.front_data().is_some_and(|(len, _)| len > 0))
        {
            self.detect.active = false;
            self.session_send = None;
            self.session_opened();
        }
        if !exhausted {
            self.detect.granted_while_blocked = 0;
        }
    }

    fn on_data<'a>(&mut self, chunk: &DataChunk<'_>, bytes: &'a [u8]) -> Result<Option<Event<'a>>, SessionError> {
        let id = chunk.stream_id;
        if chunk.is_first() {
            self.data_fate = self.judge_data(id, chunk.flags, chunk.frame_len)?;
        }
        if self.data_fate == DataFate::Drop {
            return Ok(None);
        }
        let fin = chunk.fin();
        let Some(stream) = self.streams.get_mut(id) else {
            // Reset by the application in the middle of the frame.
            self.credit_session(bytes.len());
            self.data_fate = DataFate::Drop;
            return Ok(None);
        };
        stream.unconsumed += bytes.len() as u64;
        if bytes.is_empty() && !fin {
            return Ok(None);
        }
        if fin {
            self.recv_fin(id);
        }
        Ok(Some(Event::Data { stream_id: id, data: bytes, fin }))
    }

    /// Decides, on the first chunk of a DATA frame, whether its bytes reach the
    /// application. Lengths are checked on the whole frame before any byte is delivered.
    fn judge_data(&mut self, id: StreamId, frame_flags: u8, len: u32) -> Result<DataFate, SessionError> {
        if id.is_zero() {
            return Err(SessionError::protocol(SessionOffence::DataOnStreamZero)); // C62
        }
        // C87: every DATA frame counts against the 3.1 session receive window, even one
        // for an unknown or reset stream. C86: beyond it → GOAWAY(1). With detect_spdy3
        // the check waits until the peer proved it speaks 3.1 (a SPDY/3 peer never looks
        // at a session window; killing it for that would be our mistake).
        if let Some(window) = self.session_recv.as_mut() {
            let exceeded = window.on_data(len as usize).is_err();
            if exceeded && (!self.config.detect_spdy3 || self.peer_sent_session_update) {
                return Err(SessionError::protocol(SessionOffence::SessionReceiveWindowExceeded));
            }
        }
        if len == 0 && frame_flags & flags::FIN == 0 {
            self.no_progress()?; // B8
        }
        let Some(stream) = self.streams.get_mut(id) else {
            self.credit_session(len as usize);
            self.unknown_stream_frame(id)?;
            return Ok(DataFate::Drop);
        };
        let verdict = if self.version.rejects_compressed_data() && frame_flags & flags::DATA_COMPRESSED_V2 != 0 {
            // SPDY2.md §3.6: the never-deployed compressed flag → RST PROTOCOL_ERROR.
            Some((RstStatus::PROTOCOL_ERROR, StreamOffence::CompressedDataV2))
        } else if !stream.state.peer_may_send() {
            // C65 (after the peer's FIN) and C69 (a stream the peer may not send on).
            Some((RstStatus::STREAM_ALREADY_CLOSED, StreamOffence::AfterFin))
        } else if stream.ours && !stream.replied {
            // SPDY3.md §6.2: "A stream's creator receiving DATA before SYN_REPLY → stream
            // error PROTOCOL_ERROR".
            Some((RstStatus::PROTOCOL_ERROR, StreamOffence::DataBeforeReply))
        } else if self.version.has_stream_flow_control() && stream.recv_window.on_data(len as usize).is_err() {
            // C85 (C70: a zero-length FIN always fits).
            Some((RstStatus::FLOW_CONTROL_ERROR, StreamOffence::ReceiveWindowExceeded))
        } else {
            None
        };
        match verdict {
            None => Ok(DataFate::Deliver),
            Some((status, offence)) => {
                self.credit_session(len as usize);
                self.stream_error(id, status, offence);
                Ok(DataFate::Drop)
            }
        }
    }

    /// A DATA or HEADERS frame for a stream not in the table (SPDY3.md §12 rows 5, 6).
    fn unknown_stream_frame(&mut self, id: StreamId) -> Result<(), SessionError> {
        if id.is_zero() {
            return self.invalid_stream_frame();
        }
        match self.streams.closed(id) {
            // C67: reset by us: dropped silently (a race, not an offence).
            Some(Closed::ResetByUs) => Ok(()),
            Some(Closed::ResetByPeer) => self.invalid_stream_frame(),
            Some(Closed::Completed) => {
                // C66: completed and remembered → RST PROTOCOL_ERROR; E7: SPDY/2 ignores.
                if !self.version.ignores_frames_on_closed_streams() && self.goaway.sent().is_none() {
                    self.queue_rst(id, RstStatus::PROTOCOL_ERROR);
                }
                self.invalid_stream_frame()
            }
            None => {
                let opened_once = if self.is_peer_id(id) {
                    id <= self.streams.highest_remote
                } else {
                    self.streams.local_was_used(id)
                };
                // C63: never opened → RST INVALID_STREAM; C64: after our GOAWAY, dropped.
                // Opened once and forgotten: we cannot tell completed from reset any
                // more, so it is dropped like a reset one.
                // Not remembered as reset by us: repeated frames draw repeated RSTs and
                // count towards C68 each time.
                if !opened_once && self.goaway.sent().is_none() {
                    self.queue_rst(id, RstStatus::INVALID_STREAM);
                }
                self.invalid_stream_frame()
            }
        }
    }

    /// C68: "many DATA frames for invalid streams → GOAWAY(1)+close".
    fn invalid_stream_frame(&mut self) -> Result<(), SessionError> {
        self.invalid_stream_frames += 1;
        if self.invalid_stream_frames > self.config.limits.max_invalid_stream_frames {
            return Err(SessionError::protocol(SessionOffence::InvalidStreamFlood));
        }
        Ok(())
    }

    /// B8: frames that cost a parse and make no progress.
    fn no_progress(&mut self) -> Result<(), SessionError> {
        self.no_progress.record(self.now).map_err(|_| SessionError::protocol(SessionOffence::NoProgressFlood))
    }

    /// Inflates a block and parses it into a [`HeaderBlock`]. Session errors only for a
    /// broken zlib stream or the bomb budget (C33, C34, C46); everything else is a
    /// stream error with zlib still in sync (C12a, C37–C48).
    fn decode_block(&mut self, compressed: &[u8]) -> Result<Block, SessionError> {
        if compressed.is_empty() {
            // C12a: an empty compressed block leaves zlib untouched; malformed as in C44.
            return Ok(Block::Reject(RstStatus::PROTOCOL_ERROR, StreamOffence::MalformedHeaderBlock));
        }
        match self.inflate(compressed)? {
            InflateOutcome::Complete => {}
            // C45: inflated fully (output discarded), RST FRAME_TOO_LARGE.
            InflateOutcome::TooLarge => {
                return Ok(Block::Reject(RstStatus::FRAME_TOO_LARGE, StreamOffence::HeaderBlockTooLarge))
            }
            InflateOutcome::Empty => {
                return Ok(Block::Reject(RstStatus::PROTOCOL_ERROR, StreamOffence::MalformedHeaderBlock))
            }
        }
        let mut headers = self.spare_block.take().unwrap_or_default();
        let decoded = wire::decode(self.version, &self.scratch, &self.nv_limits, &mut headers);
        if self.scratch.capacity() > 4 * 1024 {
            // A large block was a one-off: do not keep its buffer for the session's life.
            self.scratch = Vec::new();
        }
        match decoded {
            Ok(()) => Ok(Block::Ok(headers)),
            Err(e) => {
                let status = e.rst_status();
                let offence = if status == RstStatus::FRAME_TOO_LARGE {
                    StreamOffence::TooManyHeaders // C47
                } else {
                    StreamOffence::MalformedHeaderBlock // C37–C44, C48
                };
                Ok(Block::Reject(status, offence))
            }
        }
    }

    fn inflate(&mut self, compressed: &[u8]) -> Result<InflateOutcome, SessionError> {
        self.scratch.clear();
        self.inflater.inflate(compressed, &mut self.scratch).map_err(|e| {
            SessionError::protocol(match e {
                InflateError::WrongDictionary { .. } => SessionOffence::WrongDictionary, // C33
                InflateError::BudgetExceeded => SessionOffence::InflateBudgetExceeded, // C46
                _ => SessionOffence::CorruptCompression,                               // C34
            })
        })
    }

    /// The peer's FIN arrived on a live stream.
    fn recv_fin(&mut self, id: StreamId) {
        let Some(stream) = self.streams.get_mut(id) else { return };
        match stream.state.recv_fin() {
            Transition::Alive(state) => stream.state = state,
            Transition::Closed => self.complete_stream(id),
        }
    }

    // ---------------------------------------------------------------- commands

    fn open_stream(&mut self, headers: QueuedBlock, priority: u8, fin: bool) -> Result<StreamId, SendError> {
        if self.role != Role::Client {
            return Err(SendError::WrongRole); // we never push (C122 does not apply)
        }
        if self.phase == Phase::Closing {
            return Err(SendError::Closed);
        }
        if !self.goaway.may_open() {
            return Err(SendError::GoingAway);
        }
        if self.peer_max_streams.is_some_and(|max| self.streams.local_open() >= max as usize) {
            return Err(SendError::ConcurrencyLimit);
        }
        let id = self.streams.take_next_local().ok_or(SendError::StreamIdsExhausted)?;
        let priority = priority.min(self.version.lowest_priority());
        let mut stream = self.new_stream(id, State::Open, priority, true);
        stream.fin_declared = fin;
        self.streams.insert(stream);
        self.idle_since = None;
        let kind = HeaderFrameKind::SynStream { stream_id: id, associated_to: StreamId::ZERO, priority, slot: 0 };
        self.queue_header_frame(kind, fin, headers);
        if fin {
            self.sent_fin(id);
        }
        Ok(id)
    }

    fn send_reply(&mut self, id: StreamId, headers: &HeaderBlock, fin: bool) -> Result<(), SendError> {
        if self.phase == Phase::Closing {
            return Err(SendError::Closed);
        }
        let stream = self.streams.get_mut(id).ok_or(SendError::UnknownStream)?;
        if stream.ours {
            return Err(SendError::WrongRole);
        }
        if stream.replied {
            return Err(SendError::AlreadyReplied);
        }
        if stream.fin_declared || !stream.state.we_may_send() {
            return Err(SendError::StreamHalfClosed);
        }
        stream.replied = true;
        // DATA declared before the reply waits behind it (C60); a FIN then travels with
        // that DATA instead of the SYN_REPLY.
        let fin_on_frame = fin && stream.queue.is_empty();
        if fin {
            stream.fin_declared = true;
            if !fin_on_frame {
                stream.push_data(0, true);
            }
        }
        self.write_header_frame(HeaderFrameKind::SynReply { stream_id: id }, fin_on_frame, headers);
        if fin_on_frame {
            self.sent_fin(id);
        } else {
            self.reschedule(id);
        }
        Ok(())
    }

    fn send_headers(&mut self, id: StreamId, headers: &HeaderBlock, fin: bool) -> Result<(), SendError> {
        if self.phase == Phase::Closing {
            return Err(SendError::Closed);
        }
        let stream = self.streams.get_mut(id).ok_or(SendError::UnknownStream)?;
        if stream.fin_declared || !stream.state.we_may_send() {
            return Err(SendError::StreamHalfClosed);
        }
        if !stream.ours && !stream.replied {
            return Err(SendError::NotReplied);
        }
        if fin {
            stream.fin_declared = true;
        }
        if !stream.queue.is_empty() {
            // After the DATA already declared; compressed when it reaches the front.
            stream.queue.push_back(SendOp::Headers { block: Box::new(headers.clone()), fin });
            return Ok(());
        }
        self.write_header_frame(HeaderFrameKind::Headers { stream_id: id }, fin, headers);
        if fin {
            self.sent_fin(id);
        }
        Ok(())
    }

    fn send_data(&mut self, id: StreamId, len: usize, fin: bool) -> Result<(), SendError> {
        if self.phase == Phase::Closing {
            return Err(SendError::Closed);
        }
        let now = self.now;
        let stream = self.streams.get_mut(id).ok_or(SendError::UnknownStream)?;
        if stream.fin_declared || !stream.state.we_may_send() {
            return Err(SendError::StreamHalfClosed);
        }
        if len == 0 && !fin {
            return Ok(());
        }
        if stream.queue.is_empty() {
            stream.last_progress = now;
        }
        stream.push_data(len, fin);
        stream.fin_declared = fin;
        self.reschedule(id);
        Ok(())
    }

    fn consume(&mut self, id: StreamId, len: usize) {
        if self.phase == Phase::Closing || !self.version.has_stream_flow_control() || len == 0 {
            return;
        }
        if let Some(stream) = self.streams.get_mut(id) {
            stream.unconsumed = stream.unconsumed.saturating_sub(len as u64);
            // C88: WINDOW_UPDATE as data is consumed, never delta 0 (RecvWindow batches);
            // none once the peer finished sending (nothing more can come).
            let update = stream.recv_window.on_consume(len);
            if stream.state.peer_may_send() {
                if let Some(delta) = update {
                    self.queue_window_update(id, delta);
                }
            }
        }
        self.credit_session(len);
    }

    fn goaway(&mut self, status: GoAwayStatus) {
        if self.phase == Phase::Closing {
            return;
        }
        // a status no draft defines never reaches the wire (as for RST_STREAM)
        let status = if status.name().is_some() { status } else { GoAwayStatus::INTERNAL_ERROR };
        // C111, C113: last-good = highest accepted peer stream, 0 if none.
        if self.goaway.send(self.streams.last_good, status) {
            let frame = GoAway { last_good_stream_id: self.streams.last_good, status };
            self.queue_frame(&Frame::GoAway(frame));
        }
        if status != GoAwayStatus::OK {
            self.phase = Phase::Closing;
        }
    }

    /// A session error: exactly one GOAWAY, and it is the last frame (C112).
    fn fail(&mut self, error: SessionError) {
        self.goaway(error.status);
        self.phase = Phase::Closing;
        self.events.clear();
    }

    // ---------------------------------------------------------------- sending

    fn queued_control_bytes(&self) -> usize {
        self.ctrl.len() + self.pending_header_bytes
    }

    fn poll_transmit(&mut self, out: &mut Vec<u8>, now: Instant) -> Option<Transmit> {
        self.now = now;
        let had_control = !self.ctrl.is_empty() || !self.pending_headers.is_empty();
        if had_control {
            let mut from = 0;
            while let Some(pending) = self.pending_headers.pop_front() {
                out.extend_from_slice(&self.ctrl[from..pending.at]);
                from = pending.at;
                // After a session error only the queued control frames and the GOAWAY go.
                if !pending.cancelled && self.phase == Phase::Running {
                    let flags = if pending.fin { flags::FIN } else { 0 };
                    let start = begin_header_frame(out, self.version, pending.kind, flags);
                    self.encoder.encode(&pending.block, out);
                    self.encoder_used = true;
                    finish_header_frame(out, start);
                }
            }
            self.pending_header_bytes = 0;
            out.extend_from_slice(&self.ctrl[from..]);
            self.ctrl.clear();
            self.ctrl_stream_frames.clear();
            self.pending_ping_replies = 0;
            if self.ctrl.capacity() > 16 * 1024 {
                self.ctrl = Vec::new();
            }
        }
        if self.phase == Phase::Running {
            if let Some(data) = self.next_data() {
                return Some(data);
            }
            if !had_control && !self.ctrl.is_empty() {
                // next_data queued a control frame (the detect_spdy3 probe): send it now.
                return self.poll_transmit(out, now);
            }
        }
        had_control.then_some(Transmit::Control)
    }

    /// The next DATA frame: by priority, round-robin within one (the scheduler), at most
    /// `max_data_chunk`, never beyond the stream or session send window (C123).
    fn next_data(&mut self) -> Option<Transmit> {
        let flow = self.version.has_stream_flow_control();
        loop {
            let id = self.scheduler.pop()?;
            let session = self.session_send.as_ref().map(|w| w.value());
            let Some(stream) = self.streams.get_mut(id) else { continue };
            if !data_ready(stream, flow) {
                continue;
            }
            let Some((pending, fin)) = stream.front_data() else { continue };
            let len = if flow {
                chunk_len(self.config.max_data_chunk, pending, stream.send_window.value(), session)
            } else {
                pending.min(self.config.max_data_chunk)
            };
            if len == 0 && pending > 0 {
                // The stream has window; the session has not.
                if !self.session_blocked.contains(&id) {
                    self.session_blocked.push(id);
                }
                if self.detect.active && self.detect.probe.is_none() && session.is_some_and(|w| w <= 0) {
                    let probe = self.pings.next_id(self.now);
                    self.detect.probe = Some(probe);
                    self.queue_frame(&Frame::Ping(Ping { id: probe }));
                }
                continue;
            }
            let fin_now = fin && len == pending;
            if flow {
                stream.send_window.consume(len);
            }
            stream.last_progress = self.now;
            match stream.queue.front_mut() {
                Some(SendOp::Data { len: left, .. }) if *left > len => *left -= len,
                _ => {
                    stream.queue.pop_front();
                }
            }
            if let Some(window) = self.session_send.as_mut() {
                window.consume(len);
            }
            let flags = if fin_now { flags::FIN } else { 0 };
            let head = data_head(id, flags, len);
            if fin_now {
                self.sent_fin(id);
            } else {
                self.flush_queued_headers(id);
                self.reschedule(id);
            }
            return Some(Transmit::Data { stream_id: id, head, len, fin: fin_now });
        }
    }

    /// HEADERS that waited for DATA now at the front of the queue: compress them now,
    /// in wire order.
    fn flush_queued_headers(&mut self, id: StreamId) {
        loop {
            let Some(stream) = self.streams.get_mut(id) else { return };
            if !matches!(stream.queue.front(), Some(SendOp::Headers { .. })) {
                return;
            }
            let Some(SendOp::Headers { block, fin }) = stream.queue.pop_front() else { return };
            self.queue_header_frame(HeaderFrameKind::Headers { stream_id: id }, fin, QueuedBlock::Owned(*block));
            if fin {
                self.sent_fin(id);
                return;
            }
        }
    }

    /// Our FIN is on its way (queued in wire order or just emitted).
    fn sent_fin(&mut self, id: StreamId) {
        let Some(stream) = self.streams.get_mut(id) else { return };
        match stream.state.send_fin() {
            Transition::Alive(state) => {
                stream.state = state;
                self.scheduler.remove(id);
            }
            Transition::Closed => self.complete_stream(id),
        }
    }

    /// Puts a stream into the DATA scheduler if it can send now.
    fn reschedule(&mut self, id: StreamId) {
        let flow = self.version.has_stream_flow_control();
        let Some(stream) = self.streams.get(id) else { return };
        if data_ready(stream, flow) && !self.scheduler.contains(id) {
            self.scheduler.push(id, stream.priority);
        }
    }

    /// A stream's send window went from exhausted to open.
    fn window_opened(&mut self, id: StreamId) {
        let now = self.now;
        let Some(stream) = self.streams.get_mut(id) else { return };
        if !stream.state.we_may_send() || (stream.fin_declared && stream.queue.is_empty()) {
            return;
        }
        stream.last_progress = now;
        self.reschedule(id);
        self.events.push_back(Event::SendWindowOpen { stream_id: id });
    }

    /// The session send window opened (or was dropped): every stream it held back
    /// competes again.
    fn session_opened(&mut self) {
        for id in core::mem::take(&mut self.session_blocked) {
            self.reschedule(id);
        }
    }

    fn write_header_frame(&mut self, kind: HeaderFrameKind, fin: bool, block: &HeaderBlock) {
        self.queue_header_frame(kind, fin, QueuedBlock::Owned(block.clone()));
    }

    fn queue_header_frame(&mut self, kind: HeaderFrameKind, fin: bool, block: QueuedBlock) {
        self.pending_header_bytes += block.payload_len() + 8 * block.len() + 32;
        self.pending_headers.push_back(PendingHeaders { at: self.ctrl.len(), kind, fin, block, cancelled: false });
    }

    fn queue_frame(&mut self, frame: &Frame<'_>) {
        frame.encode(self.version, &mut self.ctrl);
    }

    fn queue_rst(&mut self, id: StreamId, status: RstStatus) {
        let status = self.version.rst_status(status); // E6
        self.ctrl_stream_frames.push((self.ctrl.len(), id));
        self.queue_frame(&Frame::RstStream(RstStream { stream_id: id, status }));
    }

    fn queue_window_update(&mut self, id: StreamId, delta: u32) {
        if !id.is_zero() {
            self.ctrl_stream_frames.push((self.ctrl.len(), id));
        }
        self.queue_frame(&Frame::WindowUpdate(WindowUpdate { stream_id: id, delta }));
    }

    /// Takes our not-yet-sent RST_STREAM and WINDOW_UPDATE frames for `id` out of the
    /// control queue: the peer reset the stream first (C119, C120).
    fn unqueue_stream_frames(&mut self, id: StreamId) {
        // Both frames are 16 bytes in every version (8-byte head + 8-byte payload).
        const LEN: usize = 16;
        let mut i = self.ctrl_stream_frames.len();
        while i > 0 {
            i -= 1;
            let (at, stream) = self.ctrl_stream_frames[i];
            if stream != id {
                continue;
            }
            self.ctrl.drain(at..at + LEN);
            self.ctrl_stream_frames.remove(i);
            for entry in &mut self.ctrl_stream_frames {
                if entry.0 > at {
                    entry.0 -= LEN;
                }
            }
            for pending in &mut self.pending_headers {
                if pending.at > at {
                    pending.at -= LEN;
                }
            }
        }
    }

    /// Gives received bytes back to the 3.1 session window (consumed, or dropped).
    fn credit_session(&mut self, len: usize) {
        if len == 0 {
            return;
        }
        if let Some(delta) = self.session_recv.as_mut().and_then(|w| w.on_consume(len)) {
            self.queue_window_update(StreamId::ZERO, delta);
        }
    }

    // ---------------------------------------------------------------- stream teardown

    fn new_stream(&self, id: StreamId, state: State, priority: u8, ours: bool) -> Stream {
        Stream {
            id,
            state,
            priority,
            ours,
            replied: false,
            fin_declared: false,
            send_window: SendWindow::new(self.peer_initial_window),
            recv_window: RecvWindow::new(self.config.initial_window_size),
            unconsumed: 0,
            queue: VecDeque::new(),
            last_progress: self.now,
        }
    }

    /// A stream error on a stream the application may know: RST + event if it is live.
    fn stream_error(&mut self, id: StreamId, status: RstStatus, _offence: StreamOffence) {
        let status = self.version.rst_status(status);
        if self.streams.get(id).is_some() {
            self.close_stream(id, Closed::ResetByUs);
            self.events.push_back(Event::StreamReset { stream_id: id, status, by_peer: false });
            self.check_drained();
        } else {
            self.streams.remember(id, Closed::ResetByUs);
        }
        self.queue_rst(id, status);
    }

    /// Rejects a SYN_STREAM the application never saw.
    fn reject_new(&mut self, id: StreamId, status: RstStatus, _offence: StreamOffence) {
        self.streams.remember(id, Closed::ResetByUs);
        self.queue_rst(id, status);
    }

    /// Removes a stream that ends abnormally; its unconsumed bytes go back to the
    /// session window (the application will not consume them).
    fn close_stream(&mut self, id: StreamId, how: Closed) {
        for pending in self.pending_headers.iter_mut() {
            if header_frame_stream(&pending.kind) == id {
                pending.cancelled = true;
            }
        }
        self.scheduler.remove(id);
        self.session_blocked.retain(|&b| b != id);
        if let Some(stream) = self.streams.remove(id, how) {
            self.credit_session(usize::try_from(stream.unconsumed).unwrap_or(usize::MAX));
        }
        if self.streams.is_empty() {
            self.idle_since = Some(self.now);
        }
    }

    /// Both FINs exchanged.
    fn complete_stream(&mut self, id: StreamId) {
        self.scheduler.remove(id);
        self.session_blocked.retain(|&b| b != id);
        if self.streams.remove(id, Closed::Completed).is_some_and(|s| !s.ours) {
            // A stream that completed counts as a normal one for B4; it cannot push the
            // share over the limit.
            let _ = self.cancelled_share.record(false);
        }
        self.events.push_back(Event::StreamClosed { stream_id: id });
        if self.streams.is_empty() {
            self.idle_since = Some(self.now);
        }
        self.check_drained();
    }

    /// The peer's GOAWAY and our last stream finished: say goodbye too (a closing
    /// endpoint sends GOAWAY first, SPDY3.md §1; C6), then `is_closed`.
    fn check_drained(&mut self) {
        if self.streams.is_empty() && self.goaway.received().is_some() && self.goaway.sent().is_none() {
            self.goaway(GoAwayStatus::OK);
        }
    }

    // ---------------------------------------------------------------- time

    fn poll_timeout(&self) -> Option<Instant> {
        if self.phase == Phase::Closing {
            return None;
        }
        let limits = &self.config.limits;
        let idle = match self.idle_since {
            Some(since) if self.streams.is_empty() && self.goaway.sent().is_none() => Some(since + limits.idle_timeout),
            _ => None,
        };
        let hibernate = match self.idle_since {
            Some(since)
                if self.streams.is_empty()
                    && self.config.hibernate_inflater
                    && self.hibernate_tried != Some(since)
                    && !self.inflater.is_hibernating()
                    && self.inflater.state_bytes() > 0 =>
            {
                Some(since + HIBERNATE_AFTER)
            }
            _ => None,
        };
        let stalled = self
            .streams
            .iter()
            .filter(|s| !s.queue.is_empty())
            .map(|s| s.last_progress + limits.send_progress_timeout)
            .min();
        let partial = self.partial_since.map(|since| since + INCOMPLETE_FRAME_TIMEOUT);
        let detect = self.detect.decide_at.filter(|_| self.detect.active);
        [idle, stalled, partial, detect, hibernate].into_iter().flatten().min()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        if self.phase == Phase::Closing {
            return;
        }
        // B10: a peer that stalls in the middle of a frame (slowloris) is dropped: GOAWAY,
        // OK (nothing it sent was wrong), and close without waiting for streams.
        if self.partial_since.is_some_and(|since| now >= since + INCOMPLETE_FRAME_TIMEOUT) {
            self.goaway(GoAwayStatus::OK);
            self.phase = Phase::Closing;
            return;
        }
        if self.detect.decide_at.is_some_and(|at| now >= at) {
            self.detect.decide_at = None;
            self.detect.probe = None;
            if self.detect.active && self.session_send.as_ref().is_some_and(|w| w.value() <= 0) {
                // No stream-0 WINDOW_UPDATE for the grace period after the probe: SPDY/3.
                self.detect.active = false;
                self.session_send = None;
                self.session_opened();
            }
        }
        let limits = &self.config.limits;
        let (idle_timeout, progress_timeout) = (limits.idle_timeout, limits.send_progress_timeout);
        // B9: a stream that could not send for `send_progress_timeout` → RST(id, CANCEL).
        let stalled: Vec<StreamId> = self
            .streams
            .iter()
            .filter(|s| !s.queue.is_empty() && now >= s.last_progress + progress_timeout)
            .map(|s| s.id)
            .collect();
        for id in stalled {
            self.close_stream(id, Closed::ResetByUs);
            self.queue_rst(id, RstStatus::CANCEL);
            self.events.push_back(Event::StreamReset { stream_id: id, status: RstStatus::CANCEL, by_peer: false });
        }
        self.check_drained();
        // B10, C6: an idle session closes with GOAWAY(OK).
        if let Some(since) = self.idle_since {
            if self.streams.is_empty() && now >= since + HIBERNATE_AFTER && self.hibernate_tried != Some(since) {
                // Idle for a while: the inflater keeps only its window history (~0.4 KB
                // instead of ~47 KB). Not at every idle moment: waking costs ~15 µs.
                self.hibernate_tried = Some(since);
                self.inflater.hibernate();
            }
            if self.streams.is_empty() && now >= since + idle_timeout {
                self.goaway(GoAwayStatus::OK);
            }
        }
    }
}

/// Whether a stream has DATA (or a bare FIN) it may send now, windows permitting.
fn data_ready(stream: &Stream, flow: bool) -> bool {
    if !stream.state.we_may_send() || (!stream.ours && !stream.replied) {
        return false; // C119, C60
    }
    match stream.front_data() {
        Some((0, fin)) => fin,
        Some(_) => !flow || stream.send_window.value() > 0,
        None => false,
    }
}

#[cfg(test)]
mod tests;
