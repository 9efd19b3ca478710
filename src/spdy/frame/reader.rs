//! Incremental frame reader: cuts a received byte stream into frames, whatever the
//! boundaries of the reads (CONFORMANCE C4).
//!
//! Limits are enforced from the 8-byte header, before a payload byte is buffered (C46,
//! C7–C11, C98). DATA payloads are never buffered or copied: they come out as chunks
//! borrowed from the input. Frames to ignore are skipped by streaming through them. It
//! does not inflate header blocks or judge stream state: that is the session's job.

use super::{Frame, FrameError, FrameHead, FrameType, PayloadRule, FRAME_HEADER_LEN, MAX_PAYLOAD_LEN};
use crate::spdy::frame::flags;
use crate::spdy::stream_id::StreamId;
use crate::spdy::version::Version;

/// The smallest cap on header-carrying control frames a reader accepts: "MUST accept
/// control frames of at least 8192 bytes" (SPDY3.md §2.1, CONFORMANCE C5).
pub const MIN_CONTROL_PAYLOAD_CAP: u32 = 8192;

/// Turns received bytes into [`ReadItem`]s.
///
/// Call [`FrameReader::read`] in a loop until it returns `Ok(None)`; by then the whole
/// input has been consumed (buffered or skipped). Items borrow either from the input
/// (DATA always; a control frame whose payload arrived in one piece) or from the reader's
/// own buffer (a control frame split across reads), so each must be dropped before the
/// next call.
///
/// States: `Head` (collecting 8 header bytes) → `Data` (streaming a DATA payload out in
/// chunks) | `Control` (collecting a payload to decode) | `Skip` (discarding an ignored
/// payload) → `Head`. Any error moves to `Poisoned`, which is final: the session must
/// send GOAWAY and close (every [`FrameError`] is a session error), so every later call
/// returns the same error and consumes nothing.
#[derive(Debug)]
pub struct FrameReader {
    version: Version,
    /// Cap on SYN_STREAM / SYN_REPLY / HEADERS payloads (C46). Invariant: ≥ 8192.
    max_control_payload: u32,
    state: State,
    /// Header bytes collected so far; only meaningful in `State::Head`.
    head: [u8; FRAME_HEADER_LEN],
    head_len: usize,
    /// Payload of a control frame split across reads. Cleared, not freed, per frame: its
    /// capacity is bounded by the cap and reused.
    buf: Vec<u8>,
}

#[derive(Clone, Copy, Debug)]
enum State {
    Head,
    /// `offset` payload bytes of the frame were handed out; `offset < frame_len`, or both 0.
    Data {
        stream_id: StreamId,
        flags: u8,
        frame_len: u32,
        offset: u32,
    },
    Control {
        wire_version: u16,
        frame_type: FrameType,
        flags: u8,
        len: u32,
    },
    Skip {
        wire_version: u16,
        frame_type: FrameType,
        remaining: u32,
    },
    Poisoned(FrameError),
}

/// One thing the reader recognised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadItem<'a> {
    /// A whole control frame (never [`Frame::Data`]).
    Frame(Frame<'a>),
    /// A piece of a DATA frame's payload.
    Data(DataChunk<'a>),
}

/// A piece of a DATA frame, borrowed from the reader's input (never copied).
///
/// Chunking rule: a chunk is handed out only once at least one payload byte is available,
/// except for a zero-length frame, which yields exactly one empty chunk. So every frame
/// gives exactly one chunk with [`is_first`](Self::is_first) (offset 0) and exactly one with
/// [`is_last`](Self::is_last), and the session sees `frame_len` with the first chunk,
/// before it accepts any byte of the frame (windows, C85/C86).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataChunk<'a> {
    pub stream_id: StreamId,
    pub flags: u8,
    /// The frame's whole payload length, as announced by its header.
    pub frame_len: u32,
    /// Where `bytes` starts within the frame's payload.
    pub offset: u32,
    pub bytes: &'a [u8],
}

impl DataChunk<'_> {
    /// The frame's first chunk (true exactly once per frame).
    pub fn is_first(&self) -> bool {
        self.offset == 0
    }

    /// The frame's last chunk (true exactly once per frame).
    pub fn is_last(&self) -> bool {
        self.offset as usize + self.bytes.len() == self.frame_len as usize
    }

    /// The last chunk of a frame carrying FLAG_FIN: the peer half-closes after it.
    pub fn fin(&self) -> bool {
        self.flags & flags::FIN != 0 && self.is_last()
    }
}

impl FrameReader {
    /// A reader for a session of `version` that refuses header-carrying control frames
    /// longer than `max_control_payload` bytes (C46).
    ///
    /// # Panics
    /// If `max_control_payload` is below [`MIN_CONTROL_PAYLOAD_CAP`] (a configuration
    /// error: C5 requires accepting 8192-byte control frames).
    pub fn new(version: Version, max_control_payload: u32) -> Self {
        assert!(
            max_control_payload >= MIN_CONTROL_PAYLOAD_CAP,
            "control frame cap {max_control_payload} is below the 8192 bytes SPDY requires"
        );
        FrameReader {
            version,
            max_control_payload: max_control_payload.min(MAX_PAYLOAD_LEN as u32),
            state: State::Head,
            head: [0; FRAME_HEADER_LEN],
            head_len: 0,
            buf: Vec::new(),
        }
    }

    pub fn version(&self) -> Version {
        self.version
    }

    /// Changes the session version (e.g. once ALPN is known). Plaintext SPDY/3 and 3.1 share
    /// every layout; SPDY/2 differs, so switch only between frames.
    pub fn set_version(&mut self, version: Version) {
        self.version = version;
    }

    /// The cap on header-carrying control frames.
    pub fn max_control_payload(&self) -> u32 {
        self.max_control_payload
    }

    /// Bytes the reader holds for a control frame split across reads (for memory
    /// accounting; DATA is never held).
    pub fn buffered(&self) -> usize {
        self.buf.len() + self.head_len
    }

    /// The capacity of the internal buffer (bounded by the control-frame cap).
    pub fn buffer_capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Whether the reader stopped on an error (see the type's docs).
    pub fn is_poisoned(&self) -> bool {
        matches!(self.state, State::Poisoned(_))
    }

    /// Whether the reader sits between frames (nothing partial held): a clean place for
    /// the connection to end.
    pub fn is_between_frames(&self) -> bool {
        matches!(self.state, State::Head) && self.head_len == 0
    }

    /// Consumes bytes from the front of `input` and returns the next item, or `Ok(None)`
    /// once all of `input` is consumed without completing one (more input needed).
    ///
    /// The item borrows from `input` or from the reader, for as long as the reader stays
    /// borrowed. A [`DataChunk`]'s `bytes` are always a sub-slice of the `input` given to
    /// this very call (never of the reader's buffer), so a caller may re-derive them from
    /// its own input with the longer lifetime. After an `Err` the reader is poisoned: later
    /// calls return the same error and consume nothing.
    pub fn read<'r, 'i: 'r>(&'r mut self, input: &mut &'i [u8]) -> Result<Option<ReadItem<'r>>, FrameError> {
        loop {
            match self.state {
                State::Poisoned(error) => return Err(error),
                State::Head => {
                    let take = (FRAME_HEADER_LEN - self.head_len).min(input.len());
                    let (bytes, rest) = input.split_at(take);
                    self.head[self.head_len..self.head_len + take].copy_from_slice(bytes);
                    self.head_len += take;
                    *input = rest;
                    if self.head_len < FRAME_HEADER_LEN {
                        return Ok(None);
                    }
                    self.head_len = 0;
                    let head = FrameHead::parse(&self.head);
                    if let Err(error) = self.start_frame(head) {
                        self.state = State::Poisoned(error);
                        return Err(error);
                    }
                }
                State::Data { stream_id, flags, frame_len, offset } => {
                    let remaining = (frame_len - offset) as usize;
                    if remaining > 0 && input.is_empty() {
                        return Ok(None);
                    }
                    let (bytes, rest) = input.split_at(remaining.min(input.len()));
                    *input = rest;
                    let next = offset + bytes.len() as u32;
                    self.state = if next == frame_len {
                        State::Head
                    } else {
                        State::Data { stream_id, flags, frame_len, offset: next }
                    };
                    return Ok(Some(ReadItem::Data(DataChunk { stream_id, flags, frame_len, offset, bytes })));
                }
                State::Skip { wire_version, frame_type, remaining } => {
                    let take = (remaining as usize).min(input.len());
                    *input = &input[take..];
                    let remaining = remaining - take as u32;
                    if remaining > 0 {
                        self.state = State::Skip { wire_version, frame_type, remaining };
                        return Ok(None);
                    }
                    self.state = State::Head;
                    return Ok(Some(ReadItem::Frame(Frame::skipped(self.version, wire_version, frame_type))));
                }
                State::Control { wire_version, frame_type, flags, len } => {
                    let len = len as usize;
                    let payload: &'r [u8] = if self.buf.is_empty() && input.len() >= len {
                        // Arrived in one piece: decode in place, zero copy.
                        let (payload, rest) = input.split_at(len);
                        *input = rest;
                        payload
                    } else {
                        let take = (len - self.buf.len()).min(input.len());
                        self.buf.extend_from_slice(&input[..take]);
                        *input = &input[take..];
                        if self.buf.len() < len {
                            return Ok(None);
                        }
                        &self.buf
                    };
                    return match Frame::decode_control(self.version, wire_version, frame_type, flags, payload) {
                        Ok(frame) => {
                            self.state = State::Head;
                            Ok(Some(ReadItem::Frame(frame)))
                        }
                        Err(error) => {
                            self.state = State::Poisoned(error);
                            Err(error)
                        }
                    };
                }
            }
        }
    }

    /// Decides what to do with a frame from its header alone, refusing bad lengths before
    /// any payload byte is held.
    fn start_frame(&mut self, head: FrameHead) -> Result<(), FrameError> {
        self.state = match head {
            FrameHead::Data { stream_id, flags, len } => State::Data { stream_id, flags, frame_len: len, offset: 0 },
            FrameHead::Control { version: wire_version, frame_type, flags, len } => {
                match PayloadRule::of(self.version, wire_version, frame_type) {
                    PayloadRule::Skip => State::Skip { wire_version, frame_type, remaining: len },
                    rule => {
                        rule.check_len(frame_type, len, self.max_control_payload)?;
                        self.buf.clear();
                        State::Control { wire_version, frame_type, flags, len }
                    }
                }
            }
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use hex_literal::hex;
    use proptest::prelude::*;

    use super::*;
    use crate::spdy::frame::{
        Data, GoAway, GoAwayStatus, Headers, Ping, RstStatus, RstStream, Setting, SettingId, Settings, SynReply,
        SynStream, WindowUpdate,
    };

    /// What a reader produced, owned: frames by their Debug text (byte slices included),
    /// DATA reassembled per frame with the chunk invariants checked on the way.
    #[derive(Debug, PartialEq, Eq)]
    enum Event {
        Frame(String),
        Data { stream_id: StreamId, flags: u8, bytes: Vec<u8> },
        Error(FrameError),
    }

    /// Feeds `bytes` cut at `cuts` (sorted offsets) and collects events until an error.
    fn collect(reader: &mut FrameReader, bytes: &[u8], cuts: &[usize]) -> Vec<Event> {
        let mut events = Vec::new();
        let mut open: Option<(u32, Event)> = None;
        let mut pieces = Vec::new();
        let mut at = 0;
        for &cut in cuts.iter().chain([bytes.len()].iter()) {
            let cut = cut.clamp(at, bytes.len());
            pieces.push(&bytes[at..cut]);
            at = cut;
        }
        for piece in pieces {
            let mut input = piece;
            loop {
                match reader.read(&mut input) {
                    Ok(None) => {
                        assert!(input.is_empty(), "Ok(None) must consume the whole input");
                        break;
                    }
                    Ok(Some(ReadItem::Frame(frame))) => {
                        assert!(open.is_none(), "control frame inside a DATA frame");
                        events.push(Event::Frame(format!("{frame:?}")));
                    }
                    Ok(Some(ReadItem::Data(chunk))) => {
                        assert!(chunk.is_first() || !chunk.bytes.is_empty(), "empty non-first chunk");
                        if chunk.is_first() {
                            assert!(open.is_none());
                            open = Some((
                                chunk.frame_len,
                                Event::Data { stream_id: chunk.stream_id, flags: chunk.flags, bytes: Vec::new() },
                            ));
                        }
                        let Some((frame_len, Event::Data { stream_id, flags, bytes })) = open.as_mut() else {
                            panic!("chunk without a first chunk");
                        };
                        assert_eq!((*frame_len, *stream_id, *flags), (chunk.frame_len, chunk.stream_id, chunk.flags));
                        assert_eq!(chunk.offset as usize, bytes.len());
                        bytes.extend_from_slice(chunk.bytes);
                        if chunk.is_last() {
                            events.push(open.take().unwrap().1);
                        }
                    }
                    Err(error) => {
                        events.push(Event::Error(error));
                        // Poisoned: the same error again, nothing consumed.
                        let before = input.len();
                        assert_eq!(reader.read(&mut input), Err(error));
                        assert_eq!(input.len(), before);
                        return events;
                    }
                }
            }
        }
        events
    }

    fn read_all(version: Version, bytes: &[u8]) -> Vec<Event> {
        collect(&mut FrameReader::new(version, 65_536), bytes, &[])
    }

    fn read_bytewise(version: Version, bytes: &[u8]) -> Vec<Event> {
        let cuts: Vec<usize> = (1..bytes.len()).collect();
        collect(&mut FrameReader::new(version, 65_536), bytes, &cuts)
    }

    /// One of every frame kind the version knows, plus frames it must skip.
    fn sample_frames(version: Version) -> Vec<Frame<'static>> {
        let v = version.wire();
        let mut frames = vec![
            Frame::SynStream(SynStream {
                stream_id: StreamId::new(1),
                associated_to: StreamId::ZERO,
                priority: version.lowest_priority(),
                slot: 0,
                flags: flags::FIN,
                header_block: &[0x78, 0x9c, 1, 2, 3],
            }),
            Frame::SynReply(SynReply { stream_id: StreamId::new(1), flags: 0, header_block: &[9; 40] }),
            Frame::Headers(Headers { stream_id: StreamId::new(3), flags: flags::FIN, header_block: &[] }),
            Frame::RstStream(RstStream { stream_id: StreamId::new(5), status: RstStatus::CANCEL }),
            Frame::Settings(Settings {
                flags: 0,
                entries: vec![
                    Setting { id: SettingId::MAX_CONCURRENT_STREAMS, flags: 0, value: 100 },
                    Setting { id: SettingId::INITIAL_WINDOW_SIZE, flags: flags::PERSISTED, value: 1 << 20 },
                ],
            }),
            Frame::Ping(Ping { id: 0xdead_beef }),
            Frame::GoAway(GoAway { last_good_stream_id: StreamId::new(7), status: GoAwayStatus::OK }),
            Frame::Data(Data { stream_id: StreamId::new(1), flags: 0, payload: b"hello" }),
            Frame::Data(Data { stream_id: StreamId::new(1), flags: flags::FIN, payload: &[] }),
            Frame::Data(Data { stream_id: StreamId::new(3), flags: flags::FIN, payload: &[0xaa; 300] }),
            // Unknown type with a payload, CREDENTIAL, a foreign-version PING.
            Frame::Ignored { version: v, frame_type: FrameType(0xf000), header_block: b"skipped" },
            Frame::Ignored { version: v, frame_type: FrameType::CREDENTIAL, header_block: &[0; 20] },
            Frame::Ignored { version: 5 - v, frame_type: FrameType::PING, header_block: &[0; 4] },
            Frame::SynStreamWrongVersion {
                wire_version: 5 - v,
                syn: SynStream {
                    stream_id: StreamId::new(9),
                    associated_to: StreamId::ZERO,
                    priority: 0,
                    slot: 0,
                    flags: 0,
                    header_block: b"block",
                },
            },
            Frame::Noop,
        ];
        if version.has_window_update() {
            frames.push(Frame::WindowUpdate(WindowUpdate { stream_id: StreamId::ZERO, delta: 0x7fff_ffff }));
        }
        frames
    }

    fn encode_all(version: Version, frames: &[Frame<'_>]) -> Vec<u8> {
        let mut out = Vec::new();
        for frame in frames {
            frame.encode(version, &mut out);
        }
        out
    }

    /// What reading `frame` should produce (an owned event).
    fn expected_event(version: Version, frame: &Frame<'_>) -> Event {
        match frame {
            Frame::Data(data) => {
                Event::Data { stream_id: data.stream_id, flags: data.flags, bytes: data.payload.to_vec() }
            }
            Frame::Ignored { version: wire_version, frame_type, .. } => {
                Event::Frame(format!("{:?}", Frame::skipped(version, *wire_version, *frame_type)))
            }
            Frame::Noop if !version.has_noop() => Event::Frame(format!(
                "{:?}",
                Frame::Ignored { version: version.wire(), frame_type: FrameType::NOOP, header_block: &[] }
            )),
            other => Event::Frame(format!("{other:?}")),
        }
    }

    #[test]
    fn every_frame_kind_reads_back_whole_and_byte_at_a_time_c4() {
        for version in Version::PREFERENCE {
            let frames = sample_frames(version);
            let bytes = encode_all(version, &frames);
            let expected: Vec<Event> = frames.iter().map(|f| expected_event(version, f)).collect();
            assert_eq!(read_all(version, &bytes), expected, "{version}");
            assert_eq!(read_bytewise(version, &bytes), expected, "{version}");
        }
    }

    #[test]
    fn many_read_calls_in_a_plain_loop_compile_and_work() {
        // The signature lets a caller loop over one input without reborrow gymnastics.
        let bytes = encode_all(Version::Spdy3, &[Frame::Ping(Ping { id: 1 }), Frame::Ping(Ping { id: 2 })]);
        let mut reader = FrameReader::new(Version::Spdy3, 8192);
        let mut input = &bytes[..];
        let mut ids = Vec::new();
        while let Some(item) = reader.read(&mut input).unwrap() {
            if let ReadItem::Frame(Frame::Ping(ping)) = item {
                ids.push(ping.id);
            }
        }
        assert_eq!(ids, [1, 2]);
    }

    #[test]
    fn data_chunks_point_into_the_input_zero_copy() {
        let bytes = hex!("00 00 00 01 01 00 00 05 68 65 6c 6c 6f");
        let mut reader = FrameReader::new(Version::Spdy31, 8192);
        let mut input = &bytes[..10];
        let Some(ReadItem::Data(first)) = reader.read(&mut input).unwrap() else { panic!("no chunk") };
        assert_eq!(first.bytes.as_ptr(), bytes[8..].as_ptr());
        assert_eq!((first.offset, first.frame_len, first.bytes), (0, 5, &b"he"[..]));
        assert!(first.is_first() && !first.is_last() && !first.fin());
        assert_eq!(reader.read(&mut input), Ok(None));
        let mut input = &bytes[10..];
        let Some(ReadItem::Data(last)) = reader.read(&mut input).unwrap() else { panic!("no chunk") };
        assert_eq!(last.bytes.as_ptr(), bytes[10..].as_ptr());
        assert!(!last.is_first() && last.is_last() && last.fin());
        assert_eq!(reader.buffer_capacity(), 0);
    }

    #[test]
    fn data_header_alone_yields_no_chunk_until_a_payload_byte_arrives() {
        let mut reader = FrameReader::new(Version::Spdy3, 8192);
        let mut input = &hex!("00 00 00 01 00 00 00 03")[..];
        assert_eq!(reader.read(&mut input), Ok(None));
        let mut input = &b"x"[..];
        let Some(ReadItem::Data(chunk)) = reader.read(&mut input).unwrap() else { panic!("no chunk") };
        assert!(chunk.is_first() && chunk.bytes == b"x");
    }

    #[test]
    fn zero_length_data_yields_exactly_one_empty_chunk() {
        let mut reader = FrameReader::new(Version::Spdy3, 8192);
        let mut input = &hex!("00 00 00 01 01 00 00 00")[..];
        let Some(ReadItem::Data(chunk)) = reader.read(&mut input).unwrap() else { panic!("no chunk") };
        assert!(chunk.is_first() && chunk.is_last() && chunk.fin() && chunk.bytes.is_empty());
        assert_eq!(reader.read(&mut input), Ok(None));
        assert!(reader.is_between_frames());
    }

    #[test]
    fn whole_control_frame_is_decoded_in_place() {
        let bytes = hex!("80 03 00 08 00 00 00 06 00 00 00 01 ab cd");
        let mut reader = FrameReader::new(Version::Spdy3, 8192);
        let mut input = &bytes[..];
        let Some(ReadItem::Frame(Frame::Headers(headers))) = reader.read(&mut input).unwrap() else {
            panic!("no HEADERS")
        };
        assert_eq!(headers.header_block.as_ptr(), bytes[12..].as_ptr());
        assert_eq!(reader.buffer_capacity(), 0);
    }

    #[test]
    fn split_control_frame_is_buffered_and_the_buffer_is_reused() {
        let frame = encode_all(
            Version::Spdy3,
            &[Frame::SynReply(SynReply { stream_id: StreamId::new(1), flags: 0, header_block: &[7; 100] })],
        );
        let mut reader = FrameReader::new(Version::Spdy3, 8192);
        let mut capacity = None;
        for _ in 0..3 {
            let mut input = &frame[..50];
            assert_eq!(reader.read(&mut input), Ok(None));
            let mut input = &frame[50..];
            let Some(ReadItem::Frame(Frame::SynReply(reply))) = reader.read(&mut input).unwrap() else {
                panic!("no SYN_REPLY")
            };
            assert_eq!(reply.header_block, &[7; 100][..]);
            let now = reader.buffer_capacity();
            assert_eq!(*capacity.get_or_insert(now), now, "a new allocation per frame");
        }
    }

    #[test]
    fn oversized_header_frame_is_refused_before_buffering_c46() {
        for frame_type in [FrameType::SYN_STREAM, FrameType::SYN_REPLY, FrameType::HEADERS] {
            let mut reader = FrameReader::new(Version::Spdy31, 65_536);
            let mut bytes = crate::spdy::frame::control_head(Version::Spdy31, frame_type, 0, 65_537).to_vec();
            bytes.extend_from_slice(&[0; 1000]);
            let mut input = &bytes[..];
            assert_eq!(reader.read(&mut input), Err(FrameError::ControlFrameTooLarge { len: 65_537, limit: 65_536 }));
            assert_eq!(input.len(), 1000, "payload bytes were consumed");
            assert_eq!(reader.buffer_capacity(), 0);
            assert!(reader.is_poisoned());
        }
    }

    #[test]
    fn header_frame_at_the_8192_floor_is_accepted_c5() {
        let block = vec![0x5a; 8192 - 10];
        let syn = Frame::SynStream(SynStream {
            stream_id: StreamId::new(1),
            associated_to: StreamId::ZERO,
            priority: 0,
            slot: 0,
            flags: 0,
            header_block: &block,
        });
        let bytes = encode_all(Version::Spdy3, std::slice::from_ref(&syn));
        let mut reader = FrameReader::new(Version::Spdy3, MIN_CONTROL_PAYLOAD_CAP);
        let mut input = &bytes[..];
        assert_eq!(reader.read(&mut input), Ok(Some(ReadItem::Frame(syn))));
    }

    #[test]
    #[should_panic(expected = "below the 8192 bytes")]
    fn a_cap_below_8192_is_a_configuration_error_c5() {
        let _ = FrameReader::new(Version::Spdy3, 8191);
    }

    #[test]
    fn bogus_rst_stream_of_16_mib_is_refused_from_its_header_c7() {
        let mut reader = FrameReader::new(Version::Spdy3, 65_536);
        let mut input = &hex!("80 03 00 03 00 ff ff ff 00 00 00 01")[..];
        assert_eq!(
            reader.read(&mut input),
            Err(FrameError::InvalidLength { frame_type: FrameType::RST_STREAM, len: 0xff_ffff })
        );
        assert_eq!(reader.buffer_capacity(), 0);
    }

    #[test]
    fn fixed_frames_with_a_wrong_length_are_refused_from_the_header_c8_c9_c10() {
        for (version, head, frame_type, len) in [
            (Version::Spdy3, hex!("80 03 00 06 00 00 00 05"), FrameType::PING, 5),
            (Version::Spdy3, hex!("80 03 00 07 00 00 00 04"), FrameType::GOAWAY, 4),
            (Version::Spdy2, hex!("80 02 00 07 00 00 00 08"), FrameType::GOAWAY, 8),
            (Version::Spdy31, hex!("80 03 00 09 00 00 00 07"), FrameType::WINDOW_UPDATE, 7),
            (Version::Spdy31, hex!("80 03 00 04 00 00 00 03"), FrameType::SETTINGS, 3),
            (Version::Spdy31, hex!("80 03 00 01 00 00 00 09"), FrameType::SYN_STREAM, 9),
            (Version::Spdy2, hex!("80 02 00 02 00 00 00 05"), FrameType::SYN_REPLY, 5),
        ] {
            let mut reader = FrameReader::new(version, 65_536);
            let mut input = &head[..];
            assert_eq!(reader.read(&mut input), Err(FrameError::InvalidLength { frame_type, len }), "{frame_type:?}");
        }
    }

    #[test]
    fn settings_longer_than_64_entries_is_refused_from_the_header_c98() {
        let mut reader = FrameReader::new(Version::Spdy3, 65_536);
        let mut input = &hex!("80 03 00 04 00 00 02 0c")[..];
        assert_eq!(reader.read(&mut input), Err(FrameError::TooManySettings { count: 65 }));
        assert_eq!(reader.buffer_capacity(), 0);
    }

    #[test]
    fn settings_count_mismatch_is_found_after_buffering_c11() {
        let mut reader = FrameReader::new(Version::Spdy3, 65_536);
        let mut input = &hex!("80 03 00 04 00 00 00 0c 20 00 00 01 00 00 00 04 00 00 00 64")[..];
        assert_eq!(
            reader.read(&mut input),
            Err(FrameError::InvalidLength { frame_type: FrameType::SETTINGS, len: 12 })
        );
    }

    #[test]
    fn unknown_frame_of_1_mib_is_skipped_in_tiny_chunks_c13() {
        let len = 1 << 20;
        let mut bytes = crate::spdy::frame::control_head(Version::Spdy3, FrameType(11), 0, len).to_vec();
        bytes.resize(8 + len, 0xee);
        bytes.extend_from_slice(&hex!("80 03 00 06 00 00 00 04 00 00 00 01"));
        let mut reader = FrameReader::new(Version::Spdy3, 65_536);
        let mut items = Vec::new();
        for piece in bytes.chunks(7) {
            let mut input = piece;
            while let Some(item) = reader.read(&mut input).unwrap() {
                items.push(format!("{item:?}"));
            }
            // Only the trailing 4-byte PING payload, split by the 7-byte pieces, is held.
            assert!(reader.buffer_capacity() <= 8, "skipped bytes were buffered");
        }
        let ignored = Frame::Ignored { version: 3, frame_type: FrameType(11), header_block: &[] };
        assert_eq!(
            items,
            [format!("{:?}", ReadItem::Frame(ignored)), format!("{:?}", ReadItem::Frame(Frame::Ping(Ping { id: 1 })))]
        );
    }

    #[test]
    fn noop_is_a_frame_on_spdy2_and_ignored_on_spdy3_c14() {
        let noop = hex!("80 02 00 05 00 00 00 00");
        assert_eq!(read_all(Version::Spdy2, &noop), [Event::Frame("Noop".into())]);
        let noop3 = hex!("80 03 00 05 00 00 00 00");
        let ignored = Frame::Ignored { version: 3, frame_type: FrameType::NOOP, header_block: &[] };
        assert_eq!(read_all(Version::Spdy3, &noop3), [Event::Frame(format!("{ignored:?}"))]);
    }

    #[test]
    fn credential_is_ignored_on_3_and_3_1_c18_c19() {
        let credential = hex!("80 03 00 0a 00 00 00 06 00 01 00 00 00 00");
        for version in [Version::Spdy3, Version::Spdy31] {
            let ignored = Frame::Ignored { version: 3, frame_type: FrameType::CREDENTIAL, header_block: &[] };
            assert_eq!(read_all(version, &credential), [Event::Frame(format!("{ignored:?}"))]);
        }
    }

    #[test]
    fn window_update_on_spdy2_is_ignored_whatever_its_length() {
        let update = hex!("80 02 00 09 00 00 00 03 00 00 00");
        let ignored = Frame::Ignored { version: 2, frame_type: FrameType::WINDOW_UPDATE, header_block: &[] };
        assert_eq!(read_all(Version::Spdy2, &update), [Event::Frame(format!("{ignored:?}"))]);
    }

    #[test]
    fn flags_on_fixed_frames_are_ignored_c15() {
        let ping = hex!("80 03 00 06 ff 00 00 04 00 00 00 02");
        assert_eq!(read_all(Version::Spdy3, &ping), [Event::Frame(format!("{:?}", Frame::Ping(Ping { id: 2 })))]);
    }

    #[test]
    fn foreign_version_fixed_frames_are_skipped_even_with_bad_lengths_c17() {
        // A v2 GOAWAY (length 4) and a v2 RST of 20 bytes on a v3 session: both ignored.
        let mut bytes = hex!("80 02 00 07 00 00 00 04 00 00 00 07").to_vec();
        bytes.extend_from_slice(&hex!("80 02 00 03 00 00 00 14"));
        bytes.extend_from_slice(&[0; 20]);
        let events = read_bytewise(Version::Spdy3, &bytes);
        assert_eq!(events.len(), 2);
        assert!(events.iter().all(|e| matches!(e, Event::Frame(f) if f.starts_with("Ignored"))));
    }

    #[test]
    fn foreign_version_syn_reply_keeps_its_block_and_obeys_the_cap_c17() {
        let bytes = hex!("80 02 00 02 00 00 00 07 00 00 00 01 aa bb cc");
        let mut reader = FrameReader::new(Version::Spdy3, 8192);
        let mut input = &bytes[..];
        assert_eq!(
            reader.read(&mut input),
            Ok(Some(ReadItem::Frame(Frame::Ignored {
                version: 2,
                frame_type: FrameType::SYN_REPLY,
                header_block: &hex!("aa bb cc")
            })))
        );
        let mut reader = FrameReader::new(Version::Spdy3, 8192);
        let mut input = &hex!("80 02 00 08 00 00 20 01")[..];
        assert_eq!(reader.read(&mut input), Err(FrameError::ControlFrameTooLarge { len: 8193, limit: 8192 }));
    }

    #[test]
    fn foreign_version_syn_stream_decodes_with_the_session_layout_c16() {
        // A version-2 SYN_STREAM on a SPDY/3 session: priority read with 3 bits.
        let bytes = hex!("80 02 00 01 01 00 00 0b 00 00 00 01 00 00 00 00 e0 05 99");
        let mut reader = FrameReader::new(Version::Spdy3, 8192);
        let mut input = &bytes[..];
        let Some(ReadItem::Frame(Frame::SynStreamWrongVersion { wire_version, syn })) =
            reader.read(&mut input).unwrap()
        else {
            panic!("not a wrong-version SYN_STREAM")
        };
        assert_eq!(wire_version, 2);
        assert_eq!((syn.stream_id, syn.priority, syn.slot, syn.flags), (StreamId::new(1), 7, 5, flags::FIN));
        assert_eq!(syn.header_block, &hex!("99"));
    }

    #[test]
    fn a_poisoned_reader_refuses_further_input() {
        let mut reader = FrameReader::new(Version::Spdy3, 8192);
        let mut input = &hex!("80 03 00 06 00 00 00 00")[..];
        let error = reader.read(&mut input).unwrap_err();
        let valid = hex!("80 03 00 06 00 00 00 04 00 00 00 01");
        let mut input = &valid[..];
        assert_eq!(reader.read(&mut input), Err(error));
        assert_eq!(input.len(), valid.len());
    }

    #[test]
    fn set_version_switches_layouts_between_frames() {
        let mut reader = FrameReader::new(Version::Spdy3, 8192);
        assert_eq!(reader.version(), Version::Spdy3);
        reader.set_version(Version::Spdy2);
        let mut input = &hex!("80 02 00 07 00 00 00 04 00 00 00 07")[..];
        let Some(ReadItem::Frame(Frame::GoAway(goaway))) = reader.read(&mut input).unwrap() else {
            panic!("no GOAWAY")
        };
        assert_eq!(goaway.last_good_stream_id, StreamId::new(7));
    }

    /// A strategy for one frame valid in `version` (so it reads back as itself).
    fn arb_frame(version: Version) -> impl Strategy<Value = Frame<'static>> {
        let v = version.wire();
        let levels = version.priority_levels();
        let blocks: &'static [&'static [u8]] = &[b"", b"\x78\x9c", &[0x11; 64], &[0x22; 700]];
        let id = || (0u32..0x8000_0000).prop_map(StreamId::new);
        prop_oneof![
            (id(), id(), 0..levels, any::<u8>(), 0u8..4, 0..blocks.len()).prop_map(
                move |(stream_id, associated_to, priority, slot, flags, b)| Frame::SynStream(SynStream {
                    stream_id,
                    associated_to,
                    priority,
                    slot: if version.has_slot() { slot } else { 0 },
                    flags,
                    header_block: blocks[b],
                })
            ),
            (id(), any::<u8>(), 0..blocks.len()).prop_map(move |(stream_id, flags, b)| Frame::SynReply(SynReply {
                stream_id,
                flags,
                header_block: blocks[b]
            })),
            (id(), any::<u8>(), 0..blocks.len()).prop_map(move |(stream_id, flags, b)| Frame::Headers(Headers {
                stream_id,
                flags,
                header_block: blocks[b]
            })),
            (id(), any::<u32>())
                .prop_map(|(stream_id, s)| Frame::RstStream(RstStream { stream_id, status: RstStatus(s) })),
            (any::<u8>(), proptest::collection::vec((0u32..1 << 24, any::<u8>(), any::<u32>()), 0..8)).prop_map(
                |(flags, entries)| Frame::Settings(Settings {
                    flags,
                    entries: entries
                        .into_iter()
                        .map(|(id, flags, value)| Setting { id: SettingId(id), flags, value })
                        .collect(),
                })
            ),
            any::<u32>().prop_map(|id| Frame::Ping(Ping { id })),
            (id(), any::<u32>()).prop_map(move |(last_good_stream_id, s)| Frame::GoAway(GoAway {
                last_good_stream_id,
                status: if version.goaway_len() == 8 { GoAwayStatus(s) } else { GoAwayStatus::OK },
            })),
            (id(), 0u32..0x8000_0000).prop_map(move |(stream_id, delta)| if version.has_window_update() {
                Frame::WindowUpdate(WindowUpdate { stream_id, delta })
            } else {
                Frame::Ignored { version: v, frame_type: FrameType::WINDOW_UPDATE, header_block: &[] }
            }),
            (id(), any::<u8>(), 0..blocks.len()).prop_map(move |(stream_id, flags, b)| Frame::Data(Data {
                stream_id,
                flags,
                payload: blocks[b]
            })),
            (11u16..0xffff, 0..blocks.len()).prop_map(move |(t, b)| Frame::Ignored {
                version: v,
                frame_type: FrameType(t),
                header_block: blocks[b]
            }),
            (0u16..0x8000, 0..blocks.len()).prop_filter("foreign version", move |(w, _)| *w != v).prop_map(
                move |(wire_version, b)| Frame::SynStreamWrongVersion {
                    wire_version,
                    syn: SynStream {
                        stream_id: StreamId::new(1),
                        associated_to: StreamId::ZERO,
                        priority: 0,
                        slot: 0,
                        flags: 0,
                        header_block: blocks[b],
                    },
                }
            ),
            Just(Frame::Noop),
        ]
    }

    fn arb_stream() -> impl Strategy<Value = (Version, Vec<Frame<'static>>, Vec<usize>)> {
        prop_oneof![Just(Version::Spdy2), Just(Version::Spdy3), Just(Version::Spdy31)].prop_flat_map(|version| {
            (
                Just(version),
                proptest::collection::vec(arb_frame(version), 1..40),
                proptest::collection::vec(0usize..20_000, 0..60),
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn any_split_reads_like_whole_delivery_c4((version, frames, mut cuts) in arb_stream()) {
            let bytes = encode_all(version, &frames);
            cuts.sort_unstable();
            let expected: Vec<Event> = frames.iter().map(|f| expected_event(version, f)).collect();
            prop_assert_eq!(&read_all(version, &bytes), &expected);
            let split = collect(&mut FrameReader::new(version, 65_536), &bytes, &cuts);
            prop_assert_eq!(&split, &expected);
        }

        #[test]
        fn corrupted_streams_read_the_same_at_any_split_c4(
            (version, frames, mut cuts) in arb_stream(),
            flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
        ) {
            // Errors (and where they happen) must not depend on the read boundaries either.
            let mut bytes = encode_all(version, &frames);
            for (at, mask) in flips {
                let at = at.index(bytes.len());
                bytes[at] ^= mask;
            }
            cuts.sort_unstable();
            let whole = read_all(version, &bytes);
            let split = collect(&mut FrameReader::new(version, 65_536), &bytes, &cuts);
            prop_assert_eq!(whole, split);
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_split_the_same(bytes in proptest::collection::vec(any::<u8>(), 0..600), cut in 0usize..600) {
            for version in Version::PREFERENCE {
                let whole = read_all(version, &bytes);
                let split = collect(&mut FrameReader::new(version, 65_536), &bytes, &[cut]);
                prop_assert_eq!(whole, split);
            }
        }
    }
}
