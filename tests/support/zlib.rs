//! Test-side header compression, one context per direction, written against zlib
//! (`flate2::Compress`/`Decompress`) and by hand (stored and fixed-Huffman blocks), never
//! through the crate's `spdy::header` codecs: a mistake shared by both sides cannot hide.
//! The dictionaries are the crate's copies of `shared/spec/*.bin` (a unit test in
//! `src/spdy/header/dictionary.rs` checks them against the spec files).

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use spdygate::spdy::Version;

pub const SPDY3_DICT: &[u8] = include_bytes!("../../src/spdy/header/dict/spdy3_dictionary.bin");
pub const SPDY2_DICT: &[u8] = include_bytes!("../../src/spdy/header/dict/spdy2_dictionary.bin");

/// Adler-32 (RFC 1950 §9), test-side.
pub fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

pub fn dictionary(version: Version) -> &'static [u8] {
    match version {
        Version::Spdy2 => SPDY2_DICT,
        Version::Spdy3 | Version::Spdy31 => SPDY3_DICT,
    }
}

/// How the client compresses its header blocks (CONFORMANCE C35: any window, any level).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeflateMode {
    /// zlib through flate2 with the preset dictionary.
    Zlib { level: u32, window_bits: u8 },
    /// zlib through flate2 without a preset dictionary (FDICT = 0, C33a).
    ZlibNoDictionary { level: u32 },
    /// Hand-written stored blocks; `window_bits` only goes into the zlib header (8 allowed).
    Stored { window_bits: u8 },
    /// Hand-written fixed-Huffman blocks with literals only (no back-references).
    HuffmanOnly,
}

/// One client-side compression context: every block continues the same zlib stream and
/// ends with a sync flush; the stream is never finished (unless a test asks).
pub struct Deflater {
    mode: DeflateMode,
    dict: Vec<u8>,
    zlib: Option<Compress>,
    started: bool,
    bits: BitWriter,
}

impl Deflater {
    pub fn new(version: Version) -> Self {
        Self::with_mode(DeflateMode::Zlib { level: 6, window_bits: 15 }, dictionary(version))
    }

    /// A context with an explicit mode and dictionary (a foreign dictionary gives C33).
    pub fn with_mode(mode: DeflateMode, dict: &[u8]) -> Self {
        let zlib = match mode {
            DeflateMode::Zlib { level, window_bits } => {
                let mut c = Compress::new_with_window_bits(Compression::new(level), true, window_bits);
                c.set_dictionary(dict).expect("set_dictionary");
                Some(c)
            }
            DeflateMode::ZlibNoDictionary { level } => Some(Compress::new(Compression::new(level), true)),
            DeflateMode::Stored { .. } | DeflateMode::HuffmanOnly => None,
        };
        Self { mode, dict: dict.to_vec(), zlib, started: false, bits: BitWriter::default() }
    }

    pub fn mode(&self) -> DeflateMode {
        self.mode
    }

    /// Compresses one uncompressed name/value block, ending with a sync flush.
    pub fn block(&mut self, nv: &[u8]) -> Vec<u8> {
        self.compress(nv, FlushCompress::Sync)
    }

    /// Compresses one block and finishes the zlib stream (for C34 "stream ended").
    pub fn finishing_block(&mut self, nv: &[u8]) -> Vec<u8> {
        assert!(self.zlib.is_some(), "finishing_block needs a flate2 mode");
        self.compress(nv, FlushCompress::Finish)
    }

    fn compress(&mut self, nv: &[u8], flush: FlushCompress) -> Vec<u8> {
        if let Some(c) = self.zlib.as_mut() {
            let start = c.total_in();
            let mut out = Vec::with_capacity(nv.len() + 1024);
            for _ in 0..10_000 {
                let consumed = (c.total_in() - start) as usize;
                if out.capacity() - out.len() < 64 {
                    out.reserve(out.capacity() + 1024);
                }
                let status = c.compress_vec(&nv[consumed..], &mut out, flush).expect("compress");
                let consumed = (c.total_in() - start) as usize;
                if status == Status::StreamEnd || (consumed == nv.len() && out.len() < out.capacity()) {
                    self.started = true;
                    return out;
                }
            }
            panic!("test deflater did not finish a block");
        }
        let mut out = Vec::with_capacity(nv.len() + 64);
        if !self.started {
            let window_bits = match self.mode {
                DeflateMode::Stored { window_bits } => window_bits,
                _ => 15,
            };
            out.extend_from_slice(&zlib_header(window_bits, true));
            out.extend_from_slice(&adler32(&self.dict).to_be_bytes());
            self.started = true;
        }
        match self.mode {
            DeflateMode::Stored { .. } => {
                for chunk in nv.chunks(65_535) {
                    let len = chunk.len() as u16;
                    out.push(0x00); // BFINAL 0, BTYPE 00, padding to the byte boundary
                    out.extend_from_slice(&len.to_le_bytes());
                    out.extend_from_slice(&(!len).to_le_bytes());
                    out.extend_from_slice(chunk);
                }
                out.extend_from_slice(&[0x00, 0x00, 0x00, 0xff, 0xff]); // sync flush marker
            }
            DeflateMode::HuffmanOnly => {
                let w = &mut self.bits;
                w.put(0, 1); // not final
                w.put(1, 2); // BTYPE 01: fixed Huffman
                for &byte in nv {
                    if byte < 144 {
                        w.put_code(0x30 + u32::from(byte), 8);
                    } else {
                        w.put_code(0x190 + u32::from(byte) - 144, 9);
                    }
                }
                w.put_code(0, 7); // end of block
                w.put(0, 3); // empty stored block header (sync flush) ...
                w.align();
                w.bytes.extend_from_slice(&[0x00, 0x00, 0xff, 0xff]);
                out.append(&mut w.bytes);
            }
            _ => unreachable!(),
        }
        out
    }
}

/// The 2-byte zlib header (RFC 1950) with the FCHECK bits computed.
pub fn zlib_header(window_bits: u8, fdict: bool) -> [u8; 2] {
    let cmf = ((window_bits - 8) << 4) | 8;
    let mut flg = if fdict { 0x20u8 } else { 0 };
    let rem = (u16::from(cmf) * 256 + u16::from(flg)) % 31;
    if rem != 0 {
        flg += (31 - rem) as u8;
    }
    [cmf, flg]
}

#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    acc: u32,
    n: u32,
}

impl BitWriter {
    /// Writes `n` bits of `v`, least significant first (deflate's bit order for fields).
    fn put(&mut self, v: u32, n: u32) {
        self.acc |= v << self.n;
        self.n += n;
        while self.n >= 8 {
            self.bytes.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// Writes a Huffman code, most significant bit first.
    fn put_code(&mut self, code: u32, len: u32) {
        let mut rev = 0;
        for i in 0..len {
            rev |= ((code >> i) & 1) << (len - 1 - i);
        }
        self.put(rev, len);
    }

    fn align(&mut self) {
        if self.n > 0 {
            self.bytes.push(self.acc as u8);
            self.acc = 0;
            self.n = 0;
        }
    }
}

/// The client's inflater for what the server sends. Checks C121 while it works: the first
/// block names the version's dictionary, every block ends with a sync flush, the stream
/// never ends.
pub struct Inflater {
    zlib: Decompress,
    dict: &'static [u8],
    blocks: usize,
}

impl Inflater {
    pub fn new(version: Version) -> Self {
        Self { zlib: Decompress::new(true), dict: dictionary(version), blocks: 0 }
    }

    pub fn block(&mut self, compressed: &[u8]) -> Result<Vec<u8>, String> {
        if self.blocks == 0 {
            if compressed.len() < 6 || compressed[1] & 0x20 == 0 {
                return Err("C121: first server header block has no FDICT zlib header".into());
            }
            let dictid = u32::from_be_bytes([compressed[2], compressed[3], compressed[4], compressed[5]]);
            if dictid != adler32(self.dict) {
                return Err(format!("C121: first server block names DICTID {dictid:#010x}"));
            }
        }
        if !compressed.ends_with(&[0x00, 0x00, 0xff, 0xff]) {
            return Err(format!("C121: server header block {} does not end with a sync flush", self.blocks));
        }
        self.blocks += 1;
        let start = self.zlib.total_in();
        let mut out = Vec::with_capacity(compressed.len() * 4 + 256);
        for _ in 0..100_000 {
            let consumed = (self.zlib.total_in() - start) as usize;
            if out.capacity() - out.len() < 256 {
                out.reserve(out.capacity() + 4096);
            }
            match self.zlib.decompress_vec(&compressed[consumed..], &mut out, FlushDecompress::Sync) {
                Ok(Status::StreamEnd) => return Err("C121: server finished its zlib stream".into()),
                Ok(_) => {}
                Err(e) => match e.needs_dictionary() {
                    Some(id) if id == adler32(self.dict) => {
                        self.zlib.set_dictionary(self.dict).map_err(|e| format!("set_dictionary: {e}"))?;
                    }
                    Some(id) => return Err(format!("server block asks for dictionary {id:#010x}")),
                    None => return Err(format!("C121: server header block does not inflate: {e}")),
                },
            }
            let consumed = (self.zlib.total_in() - start) as usize;
            if consumed == compressed.len() && out.len() < out.capacity() {
                return Ok(out);
            }
        }
        Err("inflate did not finish".into())
    }
}
