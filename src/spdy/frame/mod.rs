//! SPDY frames as plain types: decoding from a byte slice and encoding into a buffer.
//!
//! Decoders take a payload slice and return `Result`; they never panic and never allocate
//! from an attacker-supplied count. Header-carrying frames hold their *compressed* block
//! as a borrowed slice: decompression is the session's business (one zlib stream per
//! session). DATA payloads are borrowed too, so nothing is copied on the way through.
//! The incremental reader that cuts a byte stream into frames is [`reader`].

mod data;
mod goaway;
mod headers;
mod ping;
pub mod reader;
mod rst_stream;
mod settings;
mod status;
mod syn_reply;
mod syn_stream;
mod window_update;

pub use reader::{DataChunk, FrameReader, ReadItem, MIN_CONTROL_PAYLOAD_CAP};
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
    /// SPDY/2 NOOP. On SPDY/3 type 5 decodes as [`Frame::Ignored`].
    Noop,
    Ping(Ping),
    GoAway(GoAway),
    Headers(Headers<'a>),
    WindowUpdate(WindowUpdate),
    Data(Data<'a>),
    /// A SYN_STREAM whose version field is not the session's (CONFORMANCE C16): its block
    /// must still be inflated, then the stream is reset with UNSUPPORTED_VERSION. Decoded
    /// with the session version's layout.
    SynStreamWrongVersion {
        wire_version: u16,
        syn: SynStream<'a>,
    },
    /// A frame to skip: an unknown type (C13), CREDENTIAL (C18/C19), NOOP on SPDY/3 (C14),
    /// or a non-SYN_STREAM control frame with a foreign version (C17). A header-carrying
    /// frame with a foreign version still carries its block in `header_block` so the
    /// session can keep its inflater in sync; otherwise it is empty.
    Ignored {
        version: u16,
        frame_type: FrameType,
        header_block: &'a [u8],
    },
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

/// The control bit: the top bit of a control frame's first 16-bit word (the version field).
const CONTROL_BIT: u16 = 0x8000;

/// Writes a control frame header with a raw 15-bit version field (foreign versions in
/// tests and in [`Frame::SynStreamWrongVersion`] / [`Frame::Ignored`]).
fn put_control_head(out: &mut Vec<u8>, wire_version: u16, frame_type: FrameType, flags: u8, len: usize) {
    debug_assert!(len <= MAX_PAYLOAD_LEN);
    let v = (wire_version | CONTROL_BIT).to_be_bytes();
    let t = frame_type.0.to_be_bytes();
    let len = (len as u32).to_be_bytes();
    out.extend_from_slice(&[v[0], v[1], t[0], t[1], flags, len[1], len[2], len[3]]);
}

/// A big-endian word at `at`, or 0 past the end. Callers check lengths first; this only
/// keeps the decoders free of panicking index expressions.
fn word(payload: &[u8], at: usize) -> u32 {
    match payload.get(at..at + 4) {
        Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
        _ => 0,
    }
}

/// A slice length as the u32 the error types carry (saturating; real payloads are ≤ 2^24).
fn len32(payload: &[u8]) -> u32 {
    u32::try_from(payload.len()).unwrap_or(u32::MAX)
}

/// How a control frame's payload is handled, decided from the 8-byte header alone so the
/// reader can enforce limits before buffering and the whole-slice decoder agrees with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PayloadRule {
    /// SYN_STREAM / SYN_REPLY / HEADERS (also with a foreign version, whose block must still
    /// be inflated): buffered up to the control-frame cap; at least `min` bytes.
    HeaderBlock { min: u32 },
    /// A fixed-size frame: exactly this many bytes (C7–C10).
    Exact(u32),
    /// SETTINGS: 4 + 8·n bytes, n ≤ [`MAX_SETTINGS_ENTRIES`] (C11, C98).
    Settings,
    /// Not decoded: skipped without buffering (unknown types C13, NOOP, CREDENTIAL C18/C19,
    /// foreign-version frames without a header block C17).
    Skip,
}

/// Largest SETTINGS payload we buffer: the count word plus [`MAX_SETTINGS_ENTRIES`] entries.
pub(crate) const MAX_SETTINGS_PAYLOAD: u32 = 4 + 8 * MAX_SETTINGS_ENTRIES as u32;

impl PayloadRule {
    /// The rule for a control frame of `frame_type` and wire version `wire_version` on a
    /// `session` of the given version.
    pub(crate) fn of(session: Version, wire_version: u16, frame_type: FrameType) -> Self {
        if wire_version != session.wire() {
            // SPDY2.md §1: "a SYN_STREAM with an unsupported version is answered with
            // RST_STREAM UNSUPPORTED_VERSION; any other control frame ... is ignored"
            // (C16, C17). SYN_REPLY/HEADERS are ignored too, but their block still has to
            // go through the inflater (SPDY3.md §5.6), so they are buffered.
            return match frame_type {
                FrameType::SYN_STREAM => PayloadRule::HeaderBlock { min: SynStream::FIXED_LEN as u32 },
                FrameType::SYN_REPLY | FrameType::HEADERS => PayloadRule::HeaderBlock { min: 0 },
                _ => PayloadRule::Skip,
            };
        }
        match frame_type {
            FrameType::SYN_STREAM => PayloadRule::HeaderBlock { min: SynStream::FIXED_LEN as u32 },
            FrameType::SYN_REPLY | FrameType::HEADERS => {
                PayloadRule::HeaderBlock { min: (4 + session.reply_padding()) as u32 }
            }
            FrameType::RST_STREAM => PayloadRule::Exact(RstStream::LEN as u32),
            FrameType::PING => PayloadRule::Exact(Ping::LEN as u32),
            FrameType::GOAWAY => PayloadRule::Exact(session.goaway_len() as u32),
            FrameType::WINDOW_UPDATE if session.has_window_update() => PayloadRule::Exact(WindowUpdate::LEN as u32),
            FrameType::SETTINGS => PayloadRule::Settings,
            // NOOP (SPDY/2: "receiver ignores it"), CREDENTIAL, WINDOW_UPDATE on SPDY/2 and
            // every unknown type: CONFORMANCE C13, C14, C18, C19.
            _ => PayloadRule::Skip,
        }
    }

    /// Checks a payload length announced by a frame header, before any payload byte is
    /// buffered. `max_header_block` is the cap on header-carrying frames (C46).
    pub(crate) fn check_len(self, frame_type: FrameType, len: u32, max_header_block: u32) -> Result<(), FrameError> {
        match self {
            PayloadRule::HeaderBlock { .. } if len > max_header_block => {
                Err(FrameError::ControlFrameTooLarge { len, limit: max_header_block })
            }
            PayloadRule::HeaderBlock { min } if len < min => Err(FrameError::InvalidLength { frame_type, len }),
            PayloadRule::Exact(n) if len != n => Err(FrameError::InvalidLength { frame_type, len }),
            PayloadRule::Settings if len < 4 => Err(FrameError::InvalidLength { frame_type, len }),
            // The count word is not known yet; report what the length implies (C98).
            PayloadRule::Settings if len > MAX_SETTINGS_PAYLOAD => {
                Err(FrameError::TooManySettings { count: (len - 4) / 8 })
            }
            _ => Ok(()),
        }
    }
}

impl<'a> Frame<'a> {
    /// Decodes a control frame's payload (the bytes after the 8-byte header).
    ///
    /// `session` is the negotiated version, `wire_version` the frame's version field.
    /// Never panics and never allocates more than [`MAX_SETTINGS_ENTRIES`] entries. The
    /// control-frame size cap (C46) is the reader's business; this decodes any length.
    pub fn decode_control(
        session: Version,
        wire_version: u16,
        frame_type: FrameType,
        flags: u8,
        payload: &'a [u8],
    ) -> Result<Frame<'a>, FrameError> {
        let rule = PayloadRule::of(session, wire_version, frame_type);
        rule.check_len(frame_type, len32(payload), u32::MAX)?;
        if wire_version != session.wire() {
            return Ok(match frame_type {
                FrameType::SYN_STREAM => {
                    // C16: decoded with the session's layout, answered by the session.
                    let syn = SynStream::decode(session, flags, payload)?;
                    Frame::SynStreamWrongVersion { wire_version, syn }
                }
                _ => {
                    // C17, and SPDY3.md §5.6: a header-carrying frame keeps its block
                    // (session layout) so the inflater stays in sync.
                    let header_block = match rule {
                        PayloadRule::HeaderBlock { .. } => payload.get(4 + session.reply_padding()..).unwrap_or(&[]),
                        _ => &[],
                    };
                    Frame::Ignored { version: wire_version, frame_type, header_block }
                }
            });
        }
        Ok(match frame_type {
            FrameType::SYN_STREAM => Frame::SynStream(SynStream::decode(session, flags, payload)?),
            FrameType::SYN_REPLY => Frame::SynReply(SynReply::decode(session, flags, payload)?),
            FrameType::HEADERS => Frame::Headers(Headers::decode(session, flags, payload)?),
            FrameType::RST_STREAM => Frame::RstStream(RstStream::decode(payload)?),
            FrameType::SETTINGS => Frame::Settings(Settings::decode(session, flags, payload)?),
            FrameType::PING => Frame::Ping(Ping::decode(payload)?),
            FrameType::GOAWAY => Frame::GoAway(GoAway::decode(session, payload)?),
            FrameType::WINDOW_UPDATE if rule != PayloadRule::Skip => {
                Frame::WindowUpdate(WindowUpdate::decode(payload)?)
            }
            _ => Frame::skipped(session, wire_version, frame_type),
        })
    }

    /// What a skipped control frame decodes to: [`Frame::Noop`] for SPDY/2 NOOP (whatever
    /// its length: "receiver ignores it"), [`Frame::Ignored`] with an empty block otherwise.
    pub(crate) fn skipped(session: Version, wire_version: u16, frame_type: FrameType) -> Frame<'a> {
        if frame_type == FrameType::NOOP && session.has_noop() && wire_version == session.wire() {
            Frame::Noop
        } else {
            Frame::Ignored { version: wire_version, frame_type, header_block: &[] }
        }
    }

    /// Decodes one whole frame (control or DATA) from the front of `bytes`, returning it and
    /// the number of bytes it took, or `Ok(None)` if `bytes` holds less than a whole frame.
    /// Applies no size cap: for tests, fuzzing and tools; sessions use [`FrameReader`].
    pub fn decode(session: Version, bytes: &'a [u8]) -> Result<Option<(Frame<'a>, usize)>, FrameError> {
        let Some(head) = bytes.first_chunk::<FRAME_HEADER_LEN>() else {
            return Ok(None);
        };
        let head = FrameHead::parse(head);
        let end = FRAME_HEADER_LEN + head.len() as usize;
        let Some(payload) = bytes.get(FRAME_HEADER_LEN..end) else {
            return Ok(None);
        };
        let frame = match head {
            FrameHead::Data { stream_id, flags, .. } => Frame::Data(Data { stream_id, flags, payload }),
            FrameHead::Control { version, frame_type, flags, .. } => {
                Frame::decode_control(session, version, frame_type, flags, payload)?
            }
        };
        Ok(Some((frame, end)))
    }
}

impl Frame<'_> {
    /// Appends the frame in `version`'s layout (header-carrying frames write their
    /// `header_block` bytes as given).
    ///
    /// [`Frame::SynStreamWrongVersion`] is written in `version`'s layout with its own version
    /// field; [`Frame::Ignored`] is written as a control frame of its version and type whose
    /// payload is `header_block` (a way to craft unknown frames in tests). The payload must
    /// fit the 24-bit length (debug-asserted).
    pub fn encode(&self, version: Version, out: &mut Vec<u8>) {
        match self {
            Frame::SynStream(syn) => syn.encode(version, out),
            Frame::SynReply(reply) => reply.encode(version, out),
            Frame::Headers(headers) => headers.encode(version, out),
            Frame::RstStream(rst) => rst.encode(version, out),
            Frame::Settings(settings) => settings.encode(version, out),
            Frame::Noop => out.extend_from_slice(&control_head(version, FrameType::NOOP, 0, 0)),
            Frame::Ping(ping) => ping.encode(version, out),
            Frame::GoAway(goaway) => goaway.encode(version, out),
            Frame::WindowUpdate(update) => update.encode(version, out),
            Frame::Data(data) => data.encode(out),
            Frame::SynStreamWrongVersion { wire_version, syn } => {
                let at = out.len();
                syn.encode(version, out);
                let v = (wire_version | CONTROL_BIT).to_be_bytes();
                out[at..at + 2].copy_from_slice(&v);
            }
            Frame::Ignored { version: wire_version, frame_type, header_block } => {
                put_control_head(out, *wire_version, *frame_type, 0, header_block.len());
                out.extend_from_slice(header_block);
            }
        }
    }
}

/// The fixed part of a header-carrying frame, for [`begin_header_frame`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderFrameKind {
    /// `priority` is clamped to the version's lowest priority; `slot` is written only where
    /// the version has one ([`Version::has_slot`]).
    SynStream {
        stream_id: StreamId,
        associated_to: StreamId,
        priority: u8,
        slot: u8,
    },
    SynReply {
        stream_id: StreamId,
    },
    Headers {
        stream_id: StreamId,
    },
}

impl HeaderFrameKind {
    pub fn frame_type(self) -> FrameType {
        match self {
            HeaderFrameKind::SynStream { .. } => FrameType::SYN_STREAM,
            HeaderFrameKind::SynReply { .. } => FrameType::SYN_REPLY,
            HeaderFrameKind::Headers { .. } => FrameType::HEADERS,
        }
    }
}

/// Where a header frame started in the output buffer; hand it to [`finish_header_frame`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "the frame length stays 0 until finish_header_frame patches it"]
pub struct HeaderFrameStart {
    at: usize,
}

impl HeaderFrameStart {
    /// Offset in the output buffer of the frame's first byte.
    pub fn offset(self) -> usize {
        self.at
    }
}

/// Writes the 8-byte head (length 0 for now) and the fixed part of a SYN_STREAM, SYN_REPLY
/// or HEADERS frame, so the caller can compress the header block straight into `out` and
/// then call [`finish_header_frame`].
pub fn begin_header_frame(out: &mut Vec<u8>, version: Version, kind: HeaderFrameKind, flags: u8) -> HeaderFrameStart {
    let at = out.len();
    out.extend_from_slice(&control_head(version, kind.frame_type(), flags, 0));
    match kind {
        HeaderFrameKind::SynStream { stream_id, associated_to, priority, slot } => {
            out.extend_from_slice(&stream_id.value().to_be_bytes());
            out.extend_from_slice(&associated_to.value().to_be_bytes());
            let priority = priority.min(version.lowest_priority());
            out.push(priority << version.priority_shift());
            out.push(if version.has_slot() { slot } else { 0 });
        }
        HeaderFrameKind::SynReply { stream_id } | HeaderFrameKind::Headers { stream_id } => {
            out.extend_from_slice(&stream_id.value().to_be_bytes());
            out.extend_from_slice(&[0; 2][..version.reply_padding()]);
        }
    }
    HeaderFrameStart { at }
}

/// Patches the 24-bit length of a frame begun by [`begin_header_frame`]: everything
/// written to `out` since then is its payload (debug-asserted ≤ [`MAX_PAYLOAD_LEN`]).
#[allow(clippy::ptr_arg)] // the same buffer type as begin_header_frame, on purpose
pub fn finish_header_frame(out: &mut Vec<u8>, start: HeaderFrameStart) {
    let len = out.len() - start.at - FRAME_HEADER_LEN;
    debug_assert!(len <= MAX_PAYLOAD_LEN, "header frame payload of {len} bytes");
    let len = (len as u32).to_be_bytes();
    out[start.at + 5..start.at + 8].copy_from_slice(&len[1..]);
}

#[cfg(test)]
mod tests {
    use hex_literal::hex;

    use super::*;

    /// Bytes that must never be mistaken for a frame's own.
    const GARBAGE: u8 = 42;

    #[test]
    fn spdy3_syn_stream_capture_decodes_and_encodes_back() {
        // SPDY3.md §3.1 (node-spdy capture): stream 1, priority 0, no flags.
        let frame = hex!(
            "80 03 00 01 00 00 00 2c 00 00 00 01 00 00 00 00 00 00"
            "78 f9 e3 c6 a7 c2 02 e5 0e 50 7a b4 42 a4 5a 77 d7 10 50 06 b3 2a 48 04 97 4d 8c fa 00 00 00 00 ff ff"
        );
        let (decoded, used) = Frame::decode(Version::Spdy3, &frame).unwrap().unwrap();
        assert_eq!(used, frame.len());
        let Frame::SynStream(syn) = &decoded else { panic!("not a SYN_STREAM: {decoded:?}") };
        assert_eq!(
            (syn.stream_id, syn.associated_to, syn.priority, syn.slot, syn.flags),
            (StreamId::new(1), StreamId::ZERO, 0, 0, 0)
        );
        assert_eq!(syn.header_block, &frame[18..]);
        assert_eq!(&syn.header_block[2..6], &hex!("e3 c6 a7 c2"), "SPDY/3 DICTID");
        let mut out = Vec::new();
        decoded.encode(Version::Spdy3, &mut out);
        assert_eq!(out, frame);
    }

    #[test]
    fn spdy3_stored_syn_reply_vector_decodes_and_encodes_back() {
        // SPDY3.md §13 vector 3.
        let frame = hex!(
            "80 03 00 02 00 00 00 45 00 00 00 01 78 3f e3 c6 a7 c2 00 31 00 ce ff 00 00 00 02 00 00 00 07 3a 73 74"
            "61 74 75 73 00 00 00 06 32 30 30 20 4f 4b 00 00 00 08 3a 76 65 72 73 69 6f 6e 00 00 00 08 48 54 54 50"
            "2f 31 2e 31 00 00 00 ff ff"
        );
        let (decoded, used) = Frame::decode(Version::Spdy31, &frame).unwrap().unwrap();
        assert_eq!(used, frame.len());
        assert_eq!(
            decoded,
            Frame::SynReply(SynReply { stream_id: StreamId::new(1), flags: 0, header_block: &frame[12..] })
        );
        let mut out = Vec::new();
        decoded.encode(Version::Spdy31, &mut out);
        assert_eq!(out, frame);
    }

    #[test]
    fn spec_examples_decode_to_their_values_and_encode_back() {
        let cases: [(Version, &[u8], Frame<'static>); 9] = [
            (
                Version::Spdy3,
                &hex!("80 03 00 03 00 00 00 08 00 00 00 01 00 00 00 05"),
                Frame::RstStream(RstStream { stream_id: StreamId::new(1), status: RstStatus::CANCEL }),
            ),
            (
                Version::Spdy3,
                &hex!("80 03 00 04 00 00 00 14 00 00 00 02 00 00 00 04 00 00 00 64 00 00 00 07 00 10 00 00"),
                Frame::Settings(Settings {
                    flags: 0,
                    entries: vec![
                        Setting { id: SettingId::MAX_CONCURRENT_STREAMS, flags: 0, value: 100 },
                        Setting { id: SettingId::INITIAL_WINDOW_SIZE, flags: 0, value: 1 << 20 },
                    ],
                }),
            ),
            (
                Version::Spdy2,
                &hex!("80 02 00 04 00 00 00 0c 00 00 00 01 04 00 00 00 00 00 00 64"),
                Frame::Settings(Settings {
                    flags: 0,
                    entries: vec![Setting { id: SettingId::MAX_CONCURRENT_STREAMS, flags: 0, value: 100 }],
                }),
            ),
            (Version::Spdy3, &hex!("80 03 00 06 00 00 00 04 00 00 00 01"), Frame::Ping(Ping { id: 1 })),
            (
                Version::Spdy3,
                &hex!("80 03 00 07 00 00 00 08 00 00 00 07 00 00 00 01"),
                Frame::GoAway(GoAway { last_good_stream_id: StreamId::new(7), status: GoAwayStatus::PROTOCOL_ERROR }),
            ),
            (
                Version::Spdy2,
                &hex!("80 02 00 07 00 00 00 04 00 00 00 07"),
                Frame::GoAway(GoAway { last_good_stream_id: StreamId::new(7), status: GoAwayStatus::OK }),
            ),
            (
                Version::Spdy31,
                &hex!("80 03 00 09 00 00 00 08 00 00 00 00 00 10 00 00"),
                Frame::WindowUpdate(WindowUpdate { stream_id: StreamId::ZERO, delta: 1 << 20 }),
            ),
            (
                Version::Spdy3,
                &hex!("00 00 00 01 01 00 00 02 68 69"),
                Frame::Data(Data { stream_id: StreamId::new(1), flags: flags::FIN, payload: b"hi" }),
            ),
            (Version::Spdy2, &hex!("80 02 00 05 00 00 00 00"), Frame::Noop),
        ];
        for (version, bytes, expected) in cases {
            assert_eq!(Frame::decode(version, bytes), Ok(Some((expected.clone(), bytes.len()))), "{expected:?}");
            let mut out = Vec::new();
            expected.encode(version, &mut out);
            assert_eq!(out, bytes, "{expected:?}");
        }
    }

    /// Every frame kind with values that survive `version`'s layout.
    fn all_frames(version: Version) -> Vec<Frame<'static>> {
        let block: &'static [u8] = &hex!("78 bb df a2 51 b2 62 e0 66 e0 42 c4 27");
        let mut frames = vec![
            Frame::SynStream(SynStream {
                stream_id: StreamId::new(0x7fff_ffff),
                associated_to: StreamId::new(2),
                priority: version.lowest_priority(),
                slot: if version.has_slot() { 3 } else { 0 },
                flags: flags::FIN | flags::UNIDIRECTIONAL,
                header_block: block,
            }),
            Frame::SynStream(SynStream {
                stream_id: StreamId::new(1),
                associated_to: StreamId::ZERO,
                priority: 0,
                slot: 0,
                flags: 0,
                header_block: &[],
            }),
            Frame::SynReply(SynReply { stream_id: StreamId::new(1), flags: flags::FIN, header_block: block }),
            Frame::Headers(Headers { stream_id: StreamId::new(3), flags: 0, header_block: block }),
            Frame::RstStream(RstStream { stream_id: StreamId::new(5), status: RstStatus::FLOW_CONTROL_ERROR }),
            Frame::Settings(Settings::default()),
            Frame::Settings(Settings {
                flags: flags::CLEAR_SETTINGS,
                entries: vec![
                    Setting { id: SettingId::UPLOAD_BANDWIDTH, flags: flags::PERSIST_VALUE, value: 1 },
                    Setting { id: SettingId(0x00ab_cdef), flags: flags::PERSISTED, value: u32::MAX },
                ],
            }),
            Frame::Ping(Ping { id: u32::MAX }),
            Frame::GoAway(GoAway {
                last_good_stream_id: StreamId::new(9),
                status: if version.goaway_len() == 8 { GoAwayStatus::INTERNAL_ERROR } else { GoAwayStatus::OK },
            }),
            Frame::Data(Data { stream_id: StreamId::new(1), flags: flags::FIN, payload: b"body" }),
            Frame::Data(Data { stream_id: StreamId::new(1), flags: 0, payload: &[] }),
            Frame::SynStreamWrongVersion {
                wire_version: if version.wire() == 2 { 3 } else { 2 },
                syn: SynStream {
                    stream_id: StreamId::new(11),
                    associated_to: StreamId::ZERO,
                    priority: 1,
                    slot: 0,
                    flags: 0,
                    header_block: block,
                },
            },
        ];
        if version.has_window_update() {
            frames.push(Frame::WindowUpdate(WindowUpdate { stream_id: StreamId::new(1), delta: 0x7fff_ffff }));
        }
        if version.has_noop() {
            frames.push(Frame::Noop);
        }
        frames
    }

    #[test]
    fn every_frame_round_trips_through_a_dirty_buffer_in_every_version() {
        for version in Version::PREFERENCE {
            for frame in all_frames(version) {
                let mut out = vec![GARBAGE; 42];
                frame.encode(version, &mut out);
                out.extend_from_slice(&[GARBAGE; 3]);
                let decoded = Frame::decode(version, &out[42..]).unwrap();
                assert_eq!(decoded, Some((frame.clone(), out.len() - 45)), "{version}: {frame:?}");
            }
        }
    }

    #[test]
    fn header_frames_built_in_place_match_encode() {
        for version in Version::PREFERENCE {
            let syn = SynStream {
                stream_id: StreamId::new(3),
                associated_to: StreamId::ZERO,
                priority: 2,
                slot: 0,
                flags: flags::FIN,
                header_block: b"compressed",
            };
            let mut out = vec![GARBAGE; 5];
            let kind = HeaderFrameKind::SynStream {
                stream_id: syn.stream_id,
                associated_to: syn.associated_to,
                priority: 2,
                slot: 0,
            };
            let start = begin_header_frame(&mut out, version, kind, flags::FIN);
            assert_eq!(start.offset(), 5);
            out.extend_from_slice(b"compressed");
            finish_header_frame(&mut out, start);
            let mut expected = vec![GARBAGE; 5];
            syn.encode(version, &mut expected);
            assert_eq!(out, expected);

            let mut out = Vec::new();
            let start =
                begin_header_frame(&mut out, version, HeaderFrameKind::Headers { stream_id: StreamId::new(3) }, 0);
            finish_header_frame(&mut out, start);
            assert_eq!(out.len(), 8 + 4 + version.reply_padding());
            assert_eq!(
                Frame::decode(version, &out).unwrap().unwrap().0,
                Frame::Headers(Headers { stream_id: StreamId::new(3), flags: 0, header_block: &[] })
            );
        }
    }

    #[test]
    fn syn_stream_of_exactly_10_bytes_has_an_empty_block_c12a() {
        let frame = hex!("80 03 00 01 00 00 00 0a 00 00 00 01 00 00 00 00 00 00");
        let Some((Frame::SynStream(syn), 18)) = Frame::decode(Version::Spdy3, &frame).unwrap() else {
            panic!("not a SYN_STREAM")
        };
        assert!(syn.header_block.is_empty());
    }

    #[test]
    fn truncated_input_is_incomplete_not_an_error() {
        let frame = hex!("80 03 00 06 00 00 00 04 00 00 00 01");
        for len in 0..frame.len() {
            assert_eq!(Frame::decode(Version::Spdy3, &frame[..len]), Ok(None), "{len}");
        }
    }

    fn decode_control(version: Version, frame_type: FrameType, payload: &[u8]) -> Result<Frame<'_>, FrameError> {
        Frame::decode_control(version, version.wire(), frame_type, 0, payload)
    }

    #[test]
    fn fixed_frames_with_wrong_lengths_are_invalid_c7_c8_c9_c10() {
        for (version, frame_type, good) in [
            (Version::Spdy3, FrameType::RST_STREAM, 8),
            (Version::Spdy2, FrameType::RST_STREAM, 8),
            (Version::Spdy3, FrameType::PING, 4),
            (Version::Spdy2, FrameType::PING, 4),
            (Version::Spdy31, FrameType::GOAWAY, 8),
            (Version::Spdy2, FrameType::GOAWAY, 4),
            (Version::Spdy31, FrameType::WINDOW_UPDATE, 8),
        ] {
            let payload = [0u8; 20];
            assert!(decode_control(version, frame_type, &payload[..good]).is_ok());
            for len in [0, good - 1, good + 1, 20] {
                assert_eq!(
                    decode_control(version, frame_type, &payload[..len]),
                    Err(FrameError::InvalidLength { frame_type, len: len as u32 }),
                    "{version} {frame_type:?} {len}"
                );
            }
        }
    }

    #[test]
    fn truncated_fixed_parts_are_invalid_c12() {
        assert!(decode_control(Version::Spdy3, FrameType::SYN_STREAM, &[0; 9]).is_err());
        assert!(decode_control(Version::Spdy2, FrameType::SYN_STREAM, &[0; 9]).is_err());
        for frame_type in [FrameType::SYN_REPLY, FrameType::HEADERS] {
            assert_eq!(
                decode_control(Version::Spdy3, frame_type, &[0; 3]),
                Err(FrameError::InvalidLength { frame_type, len: 3 })
            );
            assert_eq!(
                decode_control(Version::Spdy2, frame_type, &[0; 5]),
                Err(FrameError::InvalidLength { frame_type, len: 5 })
            );
            assert!(decode_control(Version::Spdy2, frame_type, &[0; 6]).is_ok());
        }
    }

    #[test]
    fn settings_count_2_pow_29_does_not_wrap_c11() {
        assert_eq!(
            decode_control(Version::Spdy3, FrameType::SETTINGS, &hex!("20 00 00 00")),
            Err(FrameError::InvalidLength { frame_type: FrameType::SETTINGS, len: 4 })
        );
    }

    #[test]
    fn settings_with_more_than_64_entries_is_too_many_c98() {
        let mut payload = 100u32.to_be_bytes().to_vec();
        payload.resize(4 + 800, 0);
        assert_eq!(
            decode_control(Version::Spdy31, FrameType::SETTINGS, &payload),
            Err(FrameError::TooManySettings { count: 100 })
        );
    }

    #[test]
    fn unknown_types_noop_on_v3_and_credential_are_ignored_c13_c14_c18_c19() {
        for (version, frame_type) in [
            (Version::Spdy3, FrameType(0)),
            (Version::Spdy3, FrameType(11)),
            (Version::Spdy31, FrameType(0xf000)),
            (Version::Spdy3, FrameType::NOOP),
            (Version::Spdy3, FrameType::CREDENTIAL),
            (Version::Spdy31, FrameType::CREDENTIAL),
            (Version::Spdy2, FrameType::CREDENTIAL),
            (Version::Spdy2, FrameType::WINDOW_UPDATE),
        ] {
            assert_eq!(
                decode_control(version, frame_type, b"whatever it holds"),
                Ok(Frame::Ignored { version: version.wire(), frame_type, header_block: &[] }),
                "{version} {frame_type:?}"
            );
        }
        assert_eq!(decode_control(Version::Spdy2, FrameType::NOOP, &[]), Ok(Frame::Noop));
    }

    #[test]
    fn foreign_version_syn_stream_is_flagged_c16() {
        let payload = hex!("00 00 00 03 00 00 00 00 40 00 aa");
        let frame = Frame::decode_control(Version::Spdy3, 2, FrameType::SYN_STREAM, flags::FIN, &payload).unwrap();
        let Frame::SynStreamWrongVersion { wire_version: 2, syn } = frame else { panic!("{frame:?}") };
        assert_eq!((syn.stream_id, syn.priority, syn.header_block), (StreamId::new(3), 2, &hex!("aa")[..]));
        assert!(Frame::decode_control(Version::Spdy3, 2, FrameType::SYN_STREAM, 0, &payload[..9]).is_err());
    }

    #[test]
    fn foreign_version_frames_are_ignored_c17() {
        // SYN_REPLY/HEADERS keep their block (session layout) for the inflater.
        assert_eq!(
            Frame::decode_control(Version::Spdy2, 3, FrameType::HEADERS, 0, &hex!("00 00 00 01 00 00 bb")),
            Ok(Frame::Ignored { version: 3, frame_type: FrameType::HEADERS, header_block: &hex!("bb") })
        );
        assert_eq!(
            Frame::decode_control(Version::Spdy3, 1, FrameType::SYN_REPLY, 0, &hex!("00 00")),
            Ok(Frame::Ignored { version: 1, frame_type: FrameType::SYN_REPLY, header_block: &[] })
        );
        // Fixed frames: ignored whatever their length.
        for frame_type in [FrameType::RST_STREAM, FrameType::PING, FrameType::GOAWAY, FrameType::SETTINGS] {
            assert_eq!(
                Frame::decode_control(Version::Spdy31, 2, frame_type, 0, &[1; 3]),
                Ok(Frame::Ignored { version: 2, frame_type, header_block: &[] })
            );
        }
    }

    #[test]
    fn ignored_frames_encode_as_raw_control_frames() {
        let mut out = Vec::new();
        Frame::Ignored { version: 3, frame_type: FrameType(0xf000), header_block: b"ab" }
            .encode(Version::Spdy3, &mut out);
        assert_eq!(out, hex!("80 03 f0 00 00 00 00 02 61 62"));
    }
}
