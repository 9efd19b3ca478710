//! Splits and decodes what the server sends, from SPDY3.md / SPDY2.md, with the test-side
//! inflater. Every frame is checked for its fixed length and version field; a frame that
//! breaks the wire format is reported as a violation string naming the rule.

use spdygate::spdy::Version;

use super::frames::Pairs;
use super::zlib::Inflater;

/// One frame the server sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rx {
    SynStream {
        id: u32,
        assoc: u32,
        flags: u8,
        headers: Pairs,
    },
    SynReply {
        id: u32,
        fin: bool,
        headers: Pairs,
    },
    Headers {
        id: u32,
        fin: bool,
        headers: Pairs,
    },
    Rst {
        id: u32,
        status: u32,
    },
    Settings {
        flags: u8,
        entries: Vec<(u8, u32, u32)>,
    },
    Ping {
        id: u32,
    },
    /// `status` is `None` on SPDY/2 (4-byte GOAWAY).
    GoAway {
        last_good: u32,
        status: Option<u32>,
    },
    WindowUpdate {
        id: u32,
        delta: u32,
    },
    Data {
        id: u32,
        fin: bool,
        payload: Vec<u8>,
    },
    Other {
        ty: u16,
        flags: u8,
        payload: Vec<u8>,
    },
}

impl Rx {
    pub fn stream(&self) -> Option<u32> {
        match self {
            Rx::SynStream { id, .. }
            | Rx::SynReply { id, .. }
            | Rx::Headers { id, .. }
            | Rx::Rst { id, .. }
            | Rx::Data { id, .. } => Some(*id),
            Rx::WindowUpdate { id, .. } if *id != 0 => Some(*id),
            _ => None,
        }
    }

    pub fn is_data(&self) -> bool {
        matches!(self, Rx::Data { .. })
    }
}

pub fn get<'a>(headers: &'a Pairs, name: &str) -> Option<&'a [u8]> {
    headers.iter().find(|(n, _)| n == name.as_bytes()).map(|(_, v)| v.as_slice())
}

/// Decodes an uncompressed name/value block strictly (count exact, nothing left over).
pub fn decode_nv(version: Version, block: &[u8]) -> Result<Pairs, String> {
    let w = if version == Version::Spdy2 { 2 } else { 4 };
    let mut pos = 0usize;
    let int = |pos: &mut usize| -> Result<usize, String> {
        let b = block.get(*pos..*pos + w).ok_or("name/value block truncated")?;
        *pos += w;
        Ok(b.iter().fold(0usize, |acc, &x| (acc << 8) | x as usize))
    };
    let n = int(&mut pos)?;
    let mut out = Vec::new();
    for _ in 0..n {
        let nl = int(&mut pos)?;
        let name = block.get(pos..pos + nl).ok_or("name runs past the block")?.to_vec();
        pos += nl;
        let vl = int(&mut pos)?;
        let value = block.get(pos..pos + vl).ok_or("value runs past the block")?.to_vec();
        pos += vl;
        out.push((name, value));
    }
    if pos != block.len() {
        return Err(format!("{} bytes left after the name/value block", block.len() - pos));
    }
    Ok(out)
}

/// The server-to-client byte stream, split into frames.
pub struct ServerParser {
    version: Version,
    inflater: Inflater,
    buf: Vec<u8>,
}

impl ServerParser {
    pub fn new(version: Version) -> Self {
        Self { version, inflater: Inflater::new(version), buf: Vec::new() }
    }

    /// Bytes of an incomplete frame left over.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Appends bytes and returns every complete frame (or a violation per bad frame).
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Result<Rx, String>> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut pos = 0;
        while self.buf.len() - pos >= 8 {
            let h = &self.buf[pos..pos + 8];
            let len = u32::from_be_bytes([0, h[5], h[6], h[7]]) as usize;
            if self.buf.len() - pos < 8 + len {
                break;
            }
            let frame = self.buf[pos..pos + 8 + len].to_vec();
            pos += 8 + len;
            out.push(self.decode(&frame));
        }
        self.buf.drain(..pos);
        out
    }

    fn decode(&mut self, f: &[u8]) -> Result<Rx, String> {
        let flags = f[4];
        let p = &f[8..];
        let word = |o: usize| u32::from_be_bytes([p[o], p[o + 1], p[o + 2], p[o + 3]]);
        if f[0] & 0x80 == 0 {
            let id = u32::from_be_bytes([f[0], f[1], f[2], f[3]]);
            if flags & !0x01 != 0 {
                return Err(format!("DATA on stream {id} with undefined flags {flags:#04x}"));
            }
            return Ok(Rx::Data { id, fin: flags & 1 != 0, payload: p.to_vec() });
        }
        let version = u16::from_be_bytes([f[0] & 0x7f, f[1]]);
        let ty = u16::from_be_bytes([f[2], f[3]]);
        if version != self.version.wire() {
            return Err(format!("control frame type {ty} carries version {version} (C1/E1)"));
        }
        let v2 = self.version == Version::Spdy2;
        let fixed = |want: usize| -> Result<(), String> {
            if p.len() == want {
                Ok(())
            } else {
                Err(format!("control frame type {ty} has length {} instead of {want}", p.len()))
            }
        };
        Ok(match ty {
            1 => {
                if p.len() < 10 {
                    return Err("SYN_STREAM shorter than 10".into());
                }
                let headers = self.headers(&p[10..])?;
                Rx::SynStream { id: word(0) & 0x7fff_ffff, assoc: word(4), flags, headers }
            }
            2 | 8 => {
                let fixed_len = if v2 { 6 } else { 4 };
                if p.len() < fixed_len {
                    return Err(format!("type {ty} shorter than its fixed part"));
                }
                let id = word(0) & 0x7fff_ffff;
                let headers = self.headers(&p[fixed_len..])?;
                if flags & !0x01 != 0 {
                    return Err(format!("type {ty} with undefined flags {flags:#04x}"));
                }
                if ty == 2 {
                    Rx::SynReply { id, fin: flags & 1 != 0, headers }
                } else {
                    Rx::Headers { id, fin: flags & 1 != 0, headers }
                }
            }
            3 => {
                fixed(8)?;
                Rx::Rst { id: word(0) & 0x7fff_ffff, status: word(4) }
            }
            4 => {
                if p.len() < 4 || p.len() as u64 != 4 + 8 * u64::from(word(0)) {
                    return Err("SETTINGS with a bad length".into());
                }
                let entries = (0..word(0) as usize)
                    .map(|i| {
                        let e = &p[4 + 8 * i..12 + 8 * i];
                        let (fl, id) = if v2 {
                            (e[3], u32::from_le_bytes([e[0], e[1], e[2], 0]))
                        } else {
                            (e[0], u32::from_be_bytes([0, e[1], e[2], e[3]]))
                        };
                        (fl, id, u32::from_be_bytes([e[4], e[5], e[6], e[7]]))
                    })
                    .collect();
                Rx::Settings { flags, entries }
            }
            6 => {
                fixed(4)?;
                Rx::Ping { id: word(0) }
            }
            7 => {
                if v2 {
                    fixed(4)?;
                    Rx::GoAway { last_good: word(0) & 0x7fff_ffff, status: None }
                } else {
                    fixed(8)?;
                    Rx::GoAway { last_good: word(0) & 0x7fff_ffff, status: Some(word(4)) }
                }
            }
            9 => {
                fixed(8)?;
                Rx::WindowUpdate { id: word(0) & 0x7fff_ffff, delta: word(4) }
            }
            _ => Rx::Other { ty, flags, payload: p.to_vec() },
        })
    }

    fn headers(&mut self, compressed: &[u8]) -> Result<Pairs, String> {
        let nv = self.inflater.block(compressed)?;
        decode_nv(self.version, &nv).map_err(|e| format!("server header block: {e}"))
    }
}

/// A client frame as the test tracker sees it (only what the flow model needs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tx {
    SynStream {
        id: u32,
        fin: bool,
    },
    /// A SYN_STREAM with a foreign version field (its id still takes a number, C16).
    ForeignSynStream {
        id: u32,
    },
    Data {
        id: u32,
        fin: bool,
        len: usize,
    },
    Rst {
        id: u32,
    },
    Settings {
        entries: Vec<(u8, u32, u32)>,
    },
    WindowUpdate {
        id: u32,
        delta: u32,
    },
    Ping {
        id: u32,
    },
    GoAway,
    Other,
}

/// Splits the client-to-server bytes the session consumed. Frames whose version or fixed
/// length is wrong become `Tx::Other` (a conforming server does not act on them).
pub struct ClientTracker {
    version: Version,
    buf: Vec<u8>,
}

impl ClientTracker {
    pub fn new(version: Version) -> Self {
        Self { version, buf: Vec::new() }
    }

    pub fn push(&mut self, bytes: &[u8]) -> Vec<Tx> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut pos = 0;
        while self.buf.len() - pos >= 8 {
            let h = &self.buf[pos..pos + 8];
            let len = u32::from_be_bytes([0, h[5], h[6], h[7]]) as usize;
            if self.buf.len() - pos < 8 + len {
                break;
            }
            let f = &self.buf[pos..pos + 8 + len];
            out.push(Self::decode(self.version, f));
            pos += 8 + len;
        }
        self.buf.drain(..pos);
        out
    }

    fn decode(version: Version, f: &[u8]) -> Tx {
        let flags = f[4];
        let p = &f[8..];
        let word = |o: usize| u32::from_be_bytes([p[o], p[o + 1], p[o + 2], p[o + 3]]);
        if f[0] & 0x80 == 0 {
            let id = u32::from_be_bytes([f[0], f[1], f[2], f[3]]);
            return Tx::Data { id, fin: flags & 1 != 0, len: p.len() };
        }
        if u16::from_be_bytes([f[0] & 0x7f, f[1]]) != version.wire() {
            if u16::from_be_bytes([f[2], f[3]]) == 1 && p.len() >= 4 {
                return Tx::ForeignSynStream { id: word(0) & 0x7fff_ffff };
            }
            return Tx::Other;
        }
        match u16::from_be_bytes([f[2], f[3]]) {
            1 if p.len() >= 10 => Tx::SynStream { id: word(0) & 0x7fff_ffff, fin: flags & 1 != 0 },
            3 if p.len() == 8 => Tx::Rst { id: word(0) & 0x7fff_ffff },
            4 if p.len() >= 4 && p.len() as u64 == 4 + 8 * u64::from(word(0)) => {
                let entries = (0..word(0) as usize)
                    .map(|i| {
                        let e = &p[4 + 8 * i..12 + 8 * i];
                        let (fl, id) = if version == Version::Spdy2 {
                            (e[3], u32::from_le_bytes([e[0], e[1], e[2], 0]))
                        } else {
                            (e[0], u32::from_be_bytes([0, e[1], e[2], e[3]]))
                        };
                        (fl, id, u32::from_be_bytes([e[4], e[5], e[6], e[7]]))
                    })
                    .collect();
                Tx::Settings { entries }
            }
            6 if p.len() == 4 => Tx::Ping { id: word(0) },
            7 => Tx::GoAway,
            9 if p.len() == 8 => Tx::WindowUpdate { id: word(0) & 0x7fff_ffff, delta: word(4) & 0x7fff_ffff },
            _ => Tx::Other,
        }
    }
}
