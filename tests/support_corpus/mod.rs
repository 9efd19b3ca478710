//! The header corpus (`../shared/corpus/headers`, 32 stories, 3,384 header lists) turned into
//! the SPDY/3 header blocks a session would send, one compression context per story, plus
//! the zlib baseline (flate2 `Compress`, memLevel 8: flate2 does not expose memLevel and
//! uses zlib's default of 8) and an inflater, shared by `tests/compressor_corpus.rs` and
//! `bench/header_deflate.rs`.
//!
//! Conversion of each header list (the README of the corpus describes the JSON):
//! - requests: `:authority` becomes `:host`; `:version: HTTP/1.1` is inserted right after
//!   `:method`; `:method :scheme :path` are kept as they are;
//! - responses: `:status` is kept (bare code) and `:version: HTTP/1.1` follows it;
//! - hop-by-hop headers a SPDY session does not send are dropped: `connection`,
//!   `keep-alive`, `proxy-connection`, `transfer-encoding`, and `host` if present;
//! - repeated names are merged into one pair at the first occurrence, values joined by NUL
//!   in order (SPDY3.md §4); names are already lowercase.
#![allow(dead_code, unreachable_pub)]

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use spdygate::spdy::header::HeaderBlock;
use spdygate::spdy::version::Version;
use std::path::PathBuf;

/// One story: the blocks of one direction of one session, in order.
pub struct Story {
    pub name: String,
    pub blocks: Vec<HeaderBlock>,
}

const HOP_BY_HOP: [&str; 5] = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "host"];

pub fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/headers/raw-data")
}

/// Loads all 32 stories. Panics (the tests must fail, not skip) when the corpus is absent.
pub fn load() -> Vec<Story> {
    let dir = corpus_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!("header corpus missing at {}: {e} (it ships beside the checkout as ../shared/corpus/headers)", dir.display())
        })
        .map(|e| e.expect("readable corpus dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 32, "expected 32 stories in {}", dir.display());
    files.iter().map(|p| load_story(p)).collect()
}

fn load_story(path: &std::path::Path) -> Story {
    let text = std::fs::read_to_string(path).expect("readable story");
    let json: serde_json::Value = serde_json::from_str(&text).expect("story is JSON");
    let cases = json["cases"].as_array().expect("cases array");
    let blocks = cases.iter().map(|case| convert(case["headers"].as_array().expect("headers array"))).collect();
    Story { name: path.file_stem().unwrap().to_string_lossy().into_owned(), blocks }
}

fn convert(headers: &[serde_json::Value]) -> HeaderBlock {
    let mut pairs: Vec<(String, Vec<u8>)> = Vec::new();
    for h in headers {
        let (name, value) = h.as_object().and_then(|o| o.iter().next()).expect("one-key header object");
        let value = value.as_str().expect("string value").as_bytes();
        let name = if name == ":authority" { ":host" } else { name.as_str() };
        if HOP_BY_HOP.contains(&name) {
            continue;
        }
        if let Some((_, v)) = pairs.iter_mut().find(|(n, _)| n == name) {
            v.push(0);
            v.extend_from_slice(value);
        } else {
            pairs.push((name.to_owned(), value.to_vec()));
        }
        if name == ":method" || name == ":status" {
            pairs.push((":version".to_owned(), b"HTTP/1.1".to_vec()));
        }
    }
    pairs.into_iter().collect()
}

/// The uncompressed name/value block (SPDY3.md §4; 16-bit fields in SPDY/2), written here
/// independently of the crate's encoders.
pub fn nv_bytes(version: Version, block: &HeaderBlock) -> Vec<u8> {
    let w = version.nv_length_width();
    let mut out = Vec::new();
    let put = |out: &mut Vec<u8>, n: usize| out.extend_from_slice(&(n as u32).to_be_bytes()[4 - w..]);
    put(&mut out, block.len());
    for (n, v) in block.iter() {
        put(&mut out, n.len());
        out.extend_from_slice(n);
        put(&mut out, v.len());
        out.extend_from_slice(v);
    }
    out
}

/// zlib through flate2: one context per story, a sync flush after every block.
pub struct Zlib {
    c: Compress,
}

impl Zlib {
    pub fn new(version: Version, level: u32, window_bits: u8) -> Self {
        let mut c = Compress::new_with_window_bits(Compression::new(level), true, window_bits);
        c.set_dictionary(version.dictionary()).expect("dictionary accepted");
        Zlib { c }
    }

    /// Compresses one uncompressed NV block, appending to `out`.
    pub fn compress(&mut self, nv: &[u8], out: &mut Vec<u8>) {
        let start_in = self.c.total_in();
        loop {
            out.reserve(nv.len() / 2 + 64);
            let done = (self.c.total_in() - start_in) as usize;
            let before = out.len();
            self.c.compress_vec(&nv[done..], out, FlushCompress::Sync).expect("deflate");
            let consumed = (self.c.total_in() - start_in) as usize;
            // done when all input is in and the flush completed (output space left over)
            if consumed == nv.len() && out.len() < out.capacity() {
                break;
            }
            assert!(out.len() > before || consumed > done, "deflate made no progress");
        }
    }
}

/// A stock-zlib-compatible inflater for one story (flate2, zlib-rs), holding the dictionary.
pub struct Inflater {
    d: Decompress,
    version: Version,
    first: bool,
}

impl Inflater {
    pub fn new(version: Version) -> Self {
        Inflater { d: Decompress::new(true), version, first: true }
    }

    /// Inflates one compressed block; panics on any zlib error.
    pub fn inflate(&mut self, block: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(block.len() * 8 + 64);
        let mut input = block;
        loop {
            let before_in = self.d.total_in();
            if out.capacity() - out.len() < 256 {
                out.reserve(out.capacity());
            }
            let res = self.d.decompress_vec(input, &mut out, FlushDecompress::Sync);
            match res {
                Err(e) if self.first && e.needs_dictionary().is_some() => {
                    assert_eq!(e.needs_dictionary(), Some(self.version.dictionary_id()), "DICTID");
                    self.d.set_dictionary(self.version.dictionary()).expect("set dictionary");
                }
                Err(e) => panic!("inflate error: {e}"),
                Ok(Status::StreamEnd) => panic!("stream finished (BFINAL set)"),
                Ok(_) => {}
            }
            let used = (self.d.total_in() - before_in) as usize;
            input = &input[used..];
            if input.is_empty() && out.len() < out.capacity() {
                break;
            }
        }
        self.first = false;
        out
    }
}
