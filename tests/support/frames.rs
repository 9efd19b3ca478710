//! A frame DSL that builds raw client bytes, written from SPDY3.md / SPDY2.md and not from
//! the crate's `spdy::frame` encoder. Layouts follow the session's version (SPDY/2 fixed
//! parts, 16-bit name/value lengths, 4-byte GOAWAY, little-endian SETTINGS ids); the version
//! *field* can be overridden (`.version(2)`) to build wrong-version frames.

use spdygate::spdy::Version;

use super::zlib::Deflater;

pub type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// What a builder needs to turn itself into bytes: the client's version and compressor.
pub struct Client {
    pub version: Version,
    pub deflater: Deflater,
}

impl Client {
    pub fn new(version: Version) -> Self {
        Self { version, deflater: Deflater::new(version) }
    }
}

/// Anything the harness can send.
pub trait Wire {
    fn wire(&self, c: &mut Client) -> Vec<u8>;
}

impl Wire for Vec<u8> {
    fn wire(&self, _: &mut Client) -> Vec<u8> {
        self.clone()
    }
}

impl Wire for [u8] {
    fn wire(&self, _: &mut Client) -> Vec<u8> {
        self.to_vec()
    }
}

/// An 8-byte control frame head followed by `payload`, length = payload length.
pub fn control_frame(version: u16, ty: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    control_frame_len(version, ty, flags, payload.len() as u32, payload)
}

/// A control frame whose length field says `len` whatever the payload is.
pub fn control_frame_len(version: u16, ty: u16, flags: u8, len: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + payload.len());
    out.extend_from_slice(&(0x8000 | version).to_be_bytes());
    out.extend_from_slice(&ty.to_be_bytes());
    out.push(flags);
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.extend_from_slice(payload);
    out
}

// ---------------------------------------------------------------- name/value blocks

/// A count or length field of the version's width (2 bytes in SPDY/2, 4 in SPDY/3).
pub fn nv_int(version: Version, n: u32) -> Vec<u8> {
    match version {
        Version::Spdy2 => (n as u16).to_be_bytes().to_vec(),
        _ => n.to_be_bytes().to_vec(),
    }
}

/// A length-prefixed string.
pub fn nv_str(version: Version, s: &[u8]) -> Vec<u8> {
    let mut out = nv_int(version, s.len() as u32);
    out.extend_from_slice(s);
    out
}

/// A well-formed uncompressed name/value block.
pub fn nv_block(version: Version, pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut out = nv_int(version, pairs.len() as u32);
    for (n, v) in pairs {
        out.extend(nv_str(version, n));
        out.extend(nv_str(version, v));
    }
    out
}

pub fn pairs<N: AsRef<[u8]>, V: AsRef<[u8]>>(list: &[(N, V)]) -> Pairs {
    list.iter().map(|(n, v)| (n.as_ref().to_vec(), v.as_ref().to_vec())).collect()
}

/// The request headers a browser sends on this version (CONFORMANCE C49 / E4).
pub fn request_headers(version: Version, path: &str) -> Pairs {
    match version {
        Version::Spdy2 => pairs(&[
            ("host", "example.com"),
            ("method", "GET"),
            ("scheme", "https"),
            ("url", path),
            ("user-agent", "conformance/1"),
            ("version", "HTTP/1.1"),
        ]),
        _ => pairs(&[
            (":host", "example.com"),
            (":method", "GET"),
            (":path", path),
            (":scheme", "https"),
            (":version", "HTTP/1.1"),
            ("user-agent", "conformance/1"),
        ]),
    }
}

/// How a header-carrying frame gets its block.
#[derive(Clone, Debug)]
enum Block {
    Pairs(Pairs),
    /// Uncompressed bytes, compressed by the client context (malformed blocks, C44).
    Raw(Vec<u8>),
    /// Already compressed bytes, sent as they are (C33, C34, C12a).
    Compressed(Vec<u8>),
}

impl Block {
    fn encode(&self, c: &mut Client) -> Vec<u8> {
        match self {
            Block::Pairs(p) => {
                let nv = nv_block(c.version, p);
                c.deflater.block(&nv)
            }
            Block::Raw(nv) => c.deflater.block(nv),
            Block::Compressed(z) => z.clone(),
        }
    }

    fn push(&mut self, n: &[u8], v: &[u8]) {
        match self {
            Block::Pairs(p) => p.push((n.to_vec(), v.to_vec())),
            _ => panic!("header() after nv()/compressed()"),
        }
    }
}

// ---------------------------------------------------------------- SYN_STREAM

#[derive(Clone, Debug)]
pub struct SynStream {
    id: u32,
    assoc: u32,
    priority: u8,
    pri_byte: Option<u8>,
    slot: u8,
    flags: u8,
    version: Option<u16>,
    block: Block,
    length: Option<u32>,
}

pub fn syn_stream(id: u32) -> SynStream {
    SynStream {
        id,
        assoc: 0,
        priority: 0,
        pri_byte: None,
        slot: 0,
        flags: 0,
        version: None,
        block: Block::Pairs(Vec::new()),
        length: None,
    }
}

impl SynStream {
    pub fn version(mut self, v: u16) -> Self {
        self.version = Some(v);
        self
    }
    pub fn assoc(mut self, id: u32) -> Self {
        self.assoc = id;
        self
    }
    /// Priority in the version's width (3 bits, 2 bits on SPDY/2).
    pub fn priority(mut self, p: u8) -> Self {
        self.priority = p;
        self
    }
    /// The whole priority byte (byte 8 of the payload), unused bits included.
    pub fn pri_byte(mut self, b: u8) -> Self {
        self.pri_byte = Some(b);
        self
    }
    /// Byte 9: the 3.x slot (unused on SPDY/2).
    pub fn slot(mut self, s: u8) -> Self {
        self.slot = s;
        self
    }
    pub fn fin(mut self) -> Self {
        self.flags |= 0x01;
        self
    }
    pub fn unidirectional(mut self) -> Self {
        self.flags |= 0x02;
        self
    }
    pub fn flags(mut self, f: u8) -> Self {
        self.flags = f;
        self
    }
    pub fn header(mut self, n: impl AsRef<[u8]>, v: impl AsRef<[u8]>) -> Self {
        self.block.push(n.as_ref(), v.as_ref());
        self
    }
    pub fn headers(mut self, p: &Pairs) -> Self {
        for (n, v) in p {
            self.block.push(n, v);
        }
        self
    }
    pub fn nv(mut self, raw: Vec<u8>) -> Self {
        self.block = Block::Raw(raw);
        self
    }
    pub fn compressed(mut self, z: Vec<u8>) -> Self {
        self.block = Block::Compressed(z);
        self
    }
    /// Overrides the length field (the payload stays as built).
    pub fn length(mut self, len: u32) -> Self {
        self.length = Some(len);
        self
    }
}

impl Wire for SynStream {
    fn wire(&self, c: &mut Client) -> Vec<u8> {
        let mut p = Vec::new();
        p.extend_from_slice(&self.id.to_be_bytes());
        p.extend_from_slice(&self.assoc.to_be_bytes());
        let shift = if c.version == Version::Spdy2 { 6 } else { 5 };
        p.push(self.pri_byte.unwrap_or(self.priority << shift));
        p.push(self.slot);
        p.extend(self.block.encode(c));
        let v = self.version.unwrap_or(c.version.wire());
        control_frame_len(v, 1, self.flags, self.length.unwrap_or(p.len() as u32), &p)
    }
}

// ---------------------------------------------------------------- SYN_REPLY and HEADERS

#[derive(Clone, Debug)]
pub struct ReplyLike {
    ty: u16,
    id: u32,
    flags: u8,
    version: Option<u16>,
    block: Block,
}

/// SYN_REPLY (type 2) as a client would (wrongly) send it (C117).
pub fn syn_reply(id: u32) -> ReplyLike {
    ReplyLike { ty: 2, id, flags: 0, version: None, block: Block::Pairs(Vec::new()) }
}

/// HEADERS (type 8).
pub fn headers(id: u32) -> ReplyLike {
    ReplyLike { ty: 8, id, flags: 0, version: None, block: Block::Pairs(Vec::new()) }
}

impl ReplyLike {
    pub fn version(mut self, v: u16) -> Self {
        self.version = Some(v);
        self
    }
    pub fn fin(mut self) -> Self {
        self.flags |= 0x01;
        self
    }
    pub fn flags(mut self, f: u8) -> Self {
        self.flags = f;
        self
    }
    pub fn header(mut self, n: impl AsRef<[u8]>, v: impl AsRef<[u8]>) -> Self {
        self.block.push(n.as_ref(), v.as_ref());
        self
    }
    pub fn nv(mut self, raw: Vec<u8>) -> Self {
        self.block = Block::Raw(raw);
        self
    }
    pub fn compressed(mut self, z: Vec<u8>) -> Self {
        self.block = Block::Compressed(z);
        self
    }
}

impl Wire for ReplyLike {
    fn wire(&self, c: &mut Client) -> Vec<u8> {
        let mut p = self.id.to_be_bytes().to_vec();
        if c.version == Version::Spdy2 {
            p.extend_from_slice(&[0, 0]);
        }
        p.extend(self.block.encode(c));
        control_frame(self.version.unwrap_or(c.version.wire()), self.ty, self.flags, &p)
    }
}

// ---------------------------------------------------------------- fixed-size control frames

/// A control frame with a fixed payload built at send time for the session's version.
#[derive(Clone, Debug)]
pub struct Fixed {
    ty: u16,
    flags: u8,
    version: Option<u16>,
    words: Vec<u32>,
}

impl Fixed {
    pub fn version(mut self, v: u16) -> Self {
        self.version = Some(v);
        self
    }
    pub fn flags(mut self, f: u8) -> Self {
        self.flags = f;
        self
    }
}

impl Wire for Fixed {
    fn wire(&self, c: &mut Client) -> Vec<u8> {
        let mut words = self.words.clone();
        if self.ty == 7 && c.version == Version::Spdy2 {
            words.truncate(1); // SPDY/2 GOAWAY has no status (E1)
        }
        let p: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).collect();
        control_frame(self.version.unwrap_or(c.version.wire()), self.ty, self.flags, &p)
    }
}

pub fn rst_stream(id: u32, status: u32) -> Fixed {
    Fixed { ty: 3, flags: 0, version: None, words: vec![id, status] }
}

pub fn ping(id: u32) -> Fixed {
    Fixed { ty: 6, flags: 0, version: None, words: vec![id] }
}

/// GOAWAY; on SPDY/2 sessions the status is dropped (4-byte payload).
pub fn goaway(last_good: u32, status: u32) -> Fixed {
    Fixed { ty: 7, flags: 0, version: None, words: vec![last_good, status] }
}

pub fn window_update(id: u32, delta: u32) -> Fixed {
    Fixed { ty: 9, flags: 0, version: None, words: vec![id, delta] }
}

pub fn noop() -> Fixed {
    Fixed { ty: 5, flags: 0, version: None, words: vec![] }
}

/// A raw control frame: version, type, flags, payload exactly as given (malformed frames).
pub fn control(version: u16, ty: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    control_frame(version, ty, flags, payload)
}

// ---------------------------------------------------------------- SETTINGS

pub const SETTINGS_MAX_CONCURRENT_STREAMS: u32 = 4;
pub const SETTINGS_INITIAL_WINDOW_SIZE: u32 = 7;
pub const FLAG_PERSIST_VALUE: u8 = 0x01;
pub const FLAG_PERSISTED: u8 = 0x02;

#[derive(Clone, Debug)]
pub struct Settings {
    flags: u8,
    version: Option<u16>,
    entries: Vec<(u8, u32, u32)>,
    count: Option<u32>,
}

pub fn settings() -> Settings {
    Settings { flags: 0, version: None, entries: Vec::new(), count: None }
}

impl Settings {
    /// An entry: flags, 24-bit id, value.
    pub fn entry(mut self, flags: u8, id: u32, value: u32) -> Self {
        self.entries.push((flags, id, value));
        self
    }
    pub fn initial_window(self, value: u32) -> Self {
        self.entry(0, SETTINGS_INITIAL_WINDOW_SIZE, value)
    }
    pub fn flags(mut self, f: u8) -> Self {
        self.flags = f;
        self
    }
    pub fn version(mut self, v: u16) -> Self {
        self.version = Some(v);
        self
    }
    /// Overrides the entry-count field (C11).
    pub fn count(mut self, n: u32) -> Self {
        self.count = Some(n);
        self
    }
}

impl Wire for Settings {
    fn wire(&self, c: &mut Client) -> Vec<u8> {
        let mut p = self.count.unwrap_or(self.entries.len() as u32).to_be_bytes().to_vec();
        for &(flags, id, value) in &self.entries {
            if c.version == Version::Spdy2 {
                // E9: 24-bit id little-endian, then the flag byte.
                p.extend_from_slice(&[id as u8, (id >> 8) as u8, (id >> 16) as u8, flags]);
            } else {
                p.push(flags);
                p.extend_from_slice(&id.to_be_bytes()[1..]);
            }
            p.extend_from_slice(&value.to_be_bytes());
        }
        control_frame(self.version.unwrap_or(c.version.wire()), 4, self.flags, &p)
    }
}

// ---------------------------------------------------------------- DATA

#[derive(Clone, Debug)]
pub struct Data {
    id: u32,
    flags: u8,
    payload: Vec<u8>,
}

pub fn data(id: u32, payload: impl Into<Vec<u8>>) -> Data {
    Data { id, flags: 0, payload: payload.into() }
}

impl Data {
    pub fn fin(mut self) -> Self {
        self.flags |= 0x01;
        self
    }
    pub fn flags(mut self, f: u8) -> Self {
        self.flags = f;
        self
    }
}

impl Wire for Data {
    fn wire(&self, _: &mut Client) -> Vec<u8> {
        let mut out = (self.id & 0x7fff_ffff).to_be_bytes().to_vec();
        out.push(self.flags);
        out.extend_from_slice(&(self.payload.len() as u32).to_be_bytes()[1..]);
        out.extend_from_slice(&self.payload);
        out
    }
}
