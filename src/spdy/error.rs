//! Errors as types that say who is at fault, how far the damage reaches and what goes on
//! the wire: a [`StreamError`] becomes a RST_STREAM and the session carries on; a
//! [`SessionError`] becomes one GOAWAY and then the connection closes (SPDY3.md §8).

use crate::spdy::frame::{FrameError, GoAwayStatus, RstStatus};
use crate::spdy::stream_id::StreamId;

/// A stream-level error: RST_STREAM(`stream_id`, `status`), the session continues.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("stream {stream_id}: {status} ({offence:?})")]
pub struct StreamError {
    pub stream_id: StreamId,
    pub status: RstStatus,
    pub offence: StreamOffence,
}

/// What the peer did to one stream (or why we gave up on it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamOffence {
    /// A header block that inflated fine but is malformed or breaks the name/value rules.
    MalformedHeaderBlock,
    /// A header block larger than the configured limit (it was still inflated).
    HeaderBlockTooLarge,
    /// More header pairs than the configured limit.
    TooManyHeaders,
    /// SYN_STREAM reusing the id of the last stream (C24).
    DuplicateSynStream,
    /// Client SYN_STREAM with Associated-To-Stream-ID ≠ 0 (C25).
    AssociatedStreamFromClient,
    /// Client SYN_STREAM with FLAG_UNIDIRECTIONAL (C26).
    UnidirectionalFromClient,
    /// Over the advertised MAX_CONCURRENT_STREAMS (C27), or after our/their GOAWAY (C29).
    Refused,
    /// A SYN_STREAM whose version field is not the session's (C16).
    UnsupportedVersion,
    /// DATA/HEADERS for a stream that was never opened (C63, C115).
    UnknownStream,
    /// DATA after the peer's FIN (C65), or on a stream the peer may not send on (C69).
    AfterFin,
    /// DATA for a stream that completed and is still remembered (C66).
    AfterClose,
    /// HEADERS after the peer's FIN (C116).
    HeadersAfterFin,
    /// SYN_REPLY from a client, or a second SYN_REPLY (C117, STREAM_IN_USE).
    UnexpectedSynReply,
    /// DATA before SYN_REPLY on a stream we created.
    DataBeforeReply,
    /// WINDOW_UPDATE pushed the stream's send window over 2^31-1 (C77), or delta 0 (C79),
    /// or a SETTINGS change did (C90).
    WindowOverflow,
    /// DATA beyond the stream's receive window (C85).
    ReceiveWindowExceeded,
    /// SPDY/2 DATA with the never-deployed compressed flag.
    CompressedDataV2,
    /// The local application gave up on the stream.
    Local,
}

/// A session-level error: GOAWAY(`status`) then close. Named after the peer's offence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("session error {status}: {offence:?}")]
pub struct SessionError {
    pub status: GoAwayStatus,
    pub offence: SessionOffence,
}

impl SessionError {
    pub const fn protocol(offence: SessionOffence) -> Self {
        Self { status: GoAwayStatus::PROTOCOL_ERROR, offence }
    }
}

/// What the peer did to the whole session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionOffence {
    /// A frame could not be decoded (wrong fixed length, oversized, too many settings).
    Framing(FrameError),
    /// SYN_STREAM with stream id 0 (C21).
    SynStreamIdZero,
    /// SYN_STREAM with the wrong parity for the peer's role (C22).
    SynStreamWrongParity,
    /// SYN_STREAM id lower than one already received (C23).
    StreamIdNotIncreasing,
    /// First header block names another dictionary (C33).
    WrongDictionary,
    /// zlib failed: data error, stream end, dictionary demanded again (C34).
    CorruptCompression,
    /// Inflating one block went past the hard budget (C46).
    InflateBudgetExceeded,
    /// DATA on stream 0 (C62).
    DataOnStreamZero,
    /// RST_STREAM on stream 0 (C107).
    RstStreamIdZero,
    /// DATA beyond the session receive window (C86).
    SessionReceiveWindowExceeded,
    /// WINDOW_UPDATE(0) over 2^31-1 (C78) or with delta 0 (C80).
    SessionWindowOverflow,
    /// SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 (C89).
    InitialWindowTooLarge,
    /// Too many frames for invalid streams (C68).
    InvalidStreamFlood,
    /// PING flood or too many queued PING replies (C103).
    PingFlood,
    /// SETTINGS frames faster than the limit (B7).
    SettingsFlood,
    /// Too many client cancels (B4, rapid reset).
    ResetFlood,
    /// Too many frames that make no progress (B8).
    NoProgressFlood,
    /// The peer sent a SYN_REPLY for a stream we never opened with no way to recover.
    ProtocolViolation,
    /// Our own failure (GOAWAY INTERNAL_ERROR).
    Internal,
}

impl From<FrameError> for SessionError {
    fn from(e: FrameError) -> Self {
        SessionError::protocol(SessionOffence::Framing(e))
    }
}
