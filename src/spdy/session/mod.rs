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
//!   `poll_transmit` until it returns `None`, then re-arm the timer from `poll_timeout`.
//! * Zero copy: DATA payloads received are handed out borrowed from the `recv` input;
//!   DATA to send stays in the caller's buffers: `send_data` only declares how many bytes
//!   the caller holds, and `poll_transmit` says which stream sends how many next.

mod flow;
mod limits;
mod ping;
mod priority;
mod settings;

use std::time::{Duration, Instant};

use crate::spdy::error::SessionError;
use crate::spdy::frame::{GoAwayStatus, RstStatus};
use crate::spdy::header::{CompressorKind, HeaderBlock};
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
}

/// One SPDY session. See the module documentation for the call contract.
pub struct Session {
    _private: (),
}

#[allow(unused_variables)]
impl Session {
    /// Creates a session. It queues our initial SETTINGS (MAX_CONCURRENT_STREAMS,
    /// INITIAL_WINDOW_SIZE; C2) and, in 3.1, WINDOW_UPDATE(0) (C3).
    pub fn new(role: Role, version: Version, config: SessionConfig, now: Instant) -> Self {
        todo!()
    }

    pub fn role(&self) -> Role {
        todo!()
    }

    pub fn version(&self) -> Version {
        todo!()
    }

    /// Consumes bytes from the front of `input` and returns the next event. `Ok(None)`:
    /// all input consumed and no event pending. `Err`: a session error; GOAWAY is queued,
    /// the session is closed, later input is ignored: flush `poll_transmit`, then close.
    pub fn recv<'a>(&mut self, input: &mut &'a [u8], now: Instant) -> Result<Option<Event<'a>>, SessionError> {
        todo!()
    }

    /// Client: opens a stream with a SYN_STREAM.
    pub fn open_stream(&mut self, headers: &HeaderBlock, priority: u8, fin: bool) -> Result<StreamId, SendError> {
        todo!()
    }

    /// Server: answers a peer stream with SYN_REPLY.
    pub fn send_reply(&mut self, stream_id: StreamId, headers: &HeaderBlock, fin: bool) -> Result<(), SendError> {
        todo!()
    }

    /// Sends a HEADERS frame; it goes out after the DATA already declared on the stream.
    pub fn send_headers(&mut self, stream_id: StreamId, headers: &HeaderBlock, fin: bool) -> Result<(), SendError> {
        todo!()
    }

    /// Declares `len` more bytes of body held by the caller for `stream_id`; `fin` marks
    /// the end of the body. `len` may be 0 (e.g. to send FIN alone).
    pub fn send_data(&mut self, stream_id: StreamId, len: usize, fin: bool) -> Result<(), SendError> {
        todo!()
    }

    /// Resets a stream (RST_STREAM, ahead of DATA). Unknown or closed streams are ignored.
    pub fn reset_stream(&mut self, stream_id: StreamId, status: RstStatus) {
        todo!()
    }

    /// The application consumed `len` received bytes of the stream: receive-window credit
    /// comes back as batched WINDOW_UPDATEs (stream, and stream 0 in 3.1).
    pub fn consume(&mut self, stream_id: StreamId, len: usize) {
        todo!()
    }

    /// Sends a PING with a fresh id of our parity and returns the id.
    pub fn ping(&mut self, now: Instant) -> u32 {
        todo!()
    }

    /// Sends GOAWAY with last-good = highest accepted peer stream. With OK, streams at or
    /// below it finish and then the session closes; otherwise it closes after the flush.
    pub fn goaway(&mut self, status: GoAwayStatus) {
        todo!()
    }

    /// Appends what to send next to `out`. See [`Transmit`]. `None`: nothing to send.
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>, now: Instant) -> Option<Transmit> {
        todo!()
    }

    /// The next deadline, if any.
    pub fn poll_timeout(&self) -> Option<Instant> {
        todo!()
    }

    /// The deadline passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        todo!()
    }

    /// Whether the session wants more input (false while the outbound control queue is
    /// over its bound, B5/B6, or after close).
    pub fn wants_read(&self) -> bool {
        todo!()
    }

    /// The session is finished: nothing more to send, the connection can close.
    pub fn is_closed(&self) -> bool {
        todo!()
    }

    /// Our send window for a stream (None if unknown). Negative after a SETTINGS cut (C74).
    pub fn stream_send_window(&self, stream_id: StreamId) -> Option<i64> {
        todo!()
    }

    /// Open streams (not fully closed).
    pub fn open_streams(&self) -> usize {
        todo!()
    }

    /// Approximate heap bytes the session holds (for memory reports).
    pub fn memory_bytes(&self) -> usize {
        todo!()
    }
}
