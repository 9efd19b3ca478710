//! SPDY frames as plain types: decoding from a byte slice and encoding into a buffer.
//!
//! Decoders take a payload slice and return `Result`; they never panic and never allocate
//! from an attacker-supplied count. Header-carrying frames hold their *compressed* block
//! as a borrowed slice: decompression is the session's business (one zlib stream per
//! session). DATA payloads are borrowed too, so nothing is copied on the way through.
//! The incremental reader that cuts a byte stream into frames is [`reader`].

pub mod reader;
mod status;

pub use reader::{DataChunk, FrameReader, ReadItem};
pub use status::{GoAwayStatus, RstStatus};

use crate::spdy::stream_id::StreamId;
use crate::spdy::version::Version;

/// Every frame starts with 8 bytes.
pub const FRAME_HEADER_LEN: usize = 8;
/// The 24-bit length field's largest value.
pub const MAX_PAYLOAD_LEN: usize = 0x00ff_ffff;
/// Largest SETTINGS entry count we accept (CONFORMANCE C98).
pub const MAX_SETTINGS_ENTRIES: usize = 64;

/// Control frame type (SPDY3.md §2.1). Open newtype: unknown types are skipped, not fatal
/// (CONFORMANCE C13).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FrameType(pub u16);

impl FrameType {
    pub const SYN_STREAM: Self = Self(1);
    pub const SYN_REPLY: Self = Self(2);
    pub const RST_STREAM: Self = Self(3);
    pub const SETTINGS: Self = Self(4);
    /// SPDY/2 only; an unknown type on SPDY/3 (CONFORMANCE C14).
    pub const NOOP: Self = Self(5);
    pub const PING: Self = Self(6);
    pub const GOAWAY: Self = Self(7);
    pub const HEADERS: Self = Self(8);
    pub const WINDOW_UPDATE: Self = Self(9);
    /// SPDY/3 only, deprecated in 3.1; always skipped (CONFORMANCE C18, C19).
    pub const CREDENTIAL: Self = Self(10);
}

/// Frame flag bits.
pub mod flags {
    /// SYN_STREAM, SYN_REPLY, HEADERS, DATA: the sender half-closes.
    pub const FIN: u8 = 0x01;
    /// SYN_STREAM: the receiver may not send on this stream (server push).
    pub const UNIDIRECTIONAL: u8 = 0x02;
    /// SETTINGS frame flag: forget persisted settings (server to client only).
    pub const CLEAR_SETTINGS: u8 = 0x01;
    /// SETTINGS entry flag: the server asks the client to persist the value.
    pub const PERSIST_VALUE: u8 = 0x01;
    /// SETTINGS entry flag: the client echoes a value the server asked it to persist.
    pub const PERSISTED: u8 = 0x02;
    /// SPDY/2 DATA flag that was never deployed; a stream error there (SPDY2.md §3.6).
    pub const DATA_COMPRESSED_V2: u8 = 0x02;
}

/// The parsed 8-byte frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameHead {
    Control { version: u16, frame_type: FrameType, flags: u8, len: u32 },
    Data { stream_id: StreamId, flags: u8, len: u32 },
}

/// SETTINGS ids (SPDY3.md §3.4). Open newtype: unknown ids are ignored (CONFORMANCE C93).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SettingId(pub u32);

impl SettingId {
    pub const UPLOAD_BANDWIDTH: Self = Self(1);
    pub const DOWNLOAD_BANDWIDTH: Self = Self(2);
    pub const ROUND_TRIP_TIME: Self = Self(3);
    pub const MAX_CONCURRENT_STREAMS: Self = Self(4);
    pub const CURRENT_CWND: Self = Self(5);
    pub const DOWNLOAD_RETRANS_RATE: Self = Self(6);
    pub const INITIAL_WINDOW_SIZE: Self = Self(7);
    pub const CLIENT_CERTIFICATE_VECTOR_SIZE: Self = Self(8);
}

/// One SETTINGS entry as it was on the wire (flags kept, so the session can skip
/// PERSISTED entries, CONFORMANCE C95).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setting {
    pub id: SettingId,
    pub flags: u8,
    pub value: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SynStream<'a> {
    pub stream_id: StreamId,
    pub associated_to: StreamId,
    /// 0 (highest) .. 7 (v3) or 3 (v2).
    pub priority: u8,
    /// SPDY/3 credential slot; always 0 on send, ignored on receipt.
    pub slot: u8,
    pub flags: u8,
    /// The compressed name/value block (may be empty: CONFORMANCE C12a).
    pub header_block: &'a [u8],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SynReply<'a> {
    pub stream_id: StreamId,
    pub flags: u8,
    pub header_block: &'a [u8],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Headers<'a> {
    pub stream_id: StreamId,
    pub flags: u8,
    pub header_block: &'a [u8],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RstStream {
    pub stream_id: StreamId,
    pub status: RstStatus,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Settings {
    pub flags: u8,
    /// In wire order, duplicates kept (the session uses the first, CONFORMANCE C92).
    pub entries: Vec<Setting>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ping {
    pub id: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GoAway {
    pub last_good_stream_id: StreamId,
    /// Always OK on SPDY/2, which has no status field.
    pub status: GoAwayStatus,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowUpdate {
    /// 0 = the session window (3.1).
    pub stream_id: StreamId,
    /// The reserved top bit is already masked off (CONFORMANCE C84).
    pub delta: u32,
}

/// A whole DATA frame (used for encoding and for tests; the reader hands DATA out in
/// zero-copy [`DataChunk`]s instead).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Data<'a> {
    pub stream_id: StreamId,
    pub flags: u8,
    pub payload: &'a [u8],
}

/// A decoded frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    SynStream(SynStream<'a>),
    SynReply(SynReply<'a>),
    RstStream(RstStream),
    Settings(Settings),
    /// SPDY/2 NOOP. On SPDY/3 type 5 decodes as [`Frame::Unknown`].
    Noop,
    Ping(Ping),
    GoAway(GoAway),
    Headers(Headers<'a>),
    WindowUpdate(WindowUpdate),
    Data(Data<'a>),
    /// A SYN_STREAM whose version field is not the session's (CONFORMANCE C16): its block
    /// must still be inflated, then the stream is reset with UNSUPPORTED_VERSION. Decoded
    /// with the session version's layout.
    SynStreamWrongVersion { wire_version: u16, syn: SynStream<'a> },
    /// A frame to skip: an unknown type (C13), CREDENTIAL (C18/C19), NOOP on SPDY/3 (C14),
    /// or a non-SYN_STREAM control frame with a foreign version (C17). A header-carrying
    /// frame with a foreign version still carries its block in `header_block` so the
    /// session can keep its inflater in sync; otherwise it is empty.
    Ignored { version: u16, frame_type: FrameType, header_block: &'a [u8] },
}

/// Why a frame could not be decoded. Every variant is a session error (GOAWAY
/// PROTOCOL_ERROR, SPDY3.md §8) except where the session decides otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A fixed-size frame, or a fixed part, had the wrong length (C7–C12).
    #[error("{frame_type:?} frame with invalid length {len}")]
    InvalidLength { frame_type: FrameType, len: u32 },
    /// SETTINGS claimed more entries than [`MAX_SETTINGS_ENTRIES`] (C98).
    #[error("SETTINGS frame with {count} entries")]
    TooManySettings { count: u32 },
    /// A control frame longer than the configured cap (C46); refused before buffering.
    #[error("control frame of {len} bytes exceeds the {limit}-byte limit")]
    ControlFrameTooLarge { len: u32, limit: u32 },
}

// Encoding and decoding entry points (bodies in this module's submodules/impls).
impl FrameHead {
    /// Parses the 8-byte frame header.
    pub fn parse(bytes: &[u8; FRAME_HEADER_LEN]) -> Self {
        if bytes[0] & 0x80 != 0 {
            FrameHead::Control {
                version: u16::from_be_bytes([bytes[0] & 0x7f, bytes[1]]),
                frame_type: FrameType(u16::from_be_bytes([bytes[2], bytes[3]])),
                flags: bytes[4],
                len: u32::from_be_bytes([0, bytes[5], bytes[6], bytes[7]]),
            }
        } else {
            FrameHead::Data {
                stream_id: StreamId::new(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])),
                flags: bytes[4],
                len: u32::from_be_bytes([0, bytes[5], bytes[6], bytes[7]]),
            }
        }
    }

    /// The payload length after the 8-byte header.
    pub fn len(&self) -> u32 {
        match *self {
            FrameHead::Control { len, .. } | FrameHead::Data { len, .. } => len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The 8-byte header of a DATA frame; the payload can stay in the caller's buffers
/// (vectored send of `[header, payload]`). `len` must be ≤ [`MAX_PAYLOAD_LEN`].
pub fn data_head(stream_id: StreamId, flags: u8, len: usize) -> [u8; FRAME_HEADER_LEN] {
    debug_assert!(len <= MAX_PAYLOAD_LEN);
    let id = stream_id.value().to_be_bytes();
    let len = (len as u32).to_be_bytes();
    [id[0], id[1], id[2], id[3], flags, len[1], len[2], len[3]]
}

/// Writes a control frame header with the given payload length.
pub fn control_head(version: Version, frame_type: FrameType, flags: u8, len: usize) -> [u8; FRAME_HEADER_LEN] {
    debug_assert!(len <= MAX_PAYLOAD_LEN);
    let v = (version.wire() | 0x8000).to_be_bytes();
    let t = frame_type.0.to_be_bytes();
    let len = (len as u32).to_be_bytes();
    [v[0], v[1], t[0], t[1], flags, len[1], len[2], len[3]]
}
