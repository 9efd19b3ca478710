//! Hibernating the header inflater (`Inflater::hibernate`) on long real sessions: request
//! and response header sequences from the shared corpus, compressed by C zlib (CPython's
//! `zlib` through `tests/zlib/peer.py`) at level 9 with memLevel 9, windows 15 and 11, so
//! matches reach far back, and by our own `ZlibEncoder`. Hibernating after every block, or
//! after some, must decode exactly what the never-hibernated inflater decodes (CONFORMANCE
//! C36: one context per session), and a hibernated inflater must hold only its history.

use serde_json::json;
use spdygate::spdy::header::deflate::ZlibEncoder;
use spdygate::spdy::header::inflate::{InflateLimits, InflateOutcome, Inflater, ZLIB_RS_INFLATE_BYTES};
use spdygate::spdy::header::{HeaderBlock, HeaderEncoder};
use spdygate::spdy::Version;

#[path = "zlib/driver.rs"]
mod driver;
mod procs;
use driver::{corpus_story, hex, peer, plain, unhex};

/// A long session: every case of a request story and a response story of the corpus
/// (well past 32 KiB of headers), then synthetic blocks that repeat its first cookies.
fn session(version: Version) -> Vec<HeaderBlock> {
    let mut out = Vec::new();
    for story in ["story_05.json", "story_29.json"] {
        out.extend(corpus_story(version, story, usize::MAX, true));
    }
    for i in 0..40 {
        out.push(
            [
                ("method", "GET".to_string()),
                ("url", format!("/static/{i}/app.js?v={}", i * 7919)),
                ("host", "www.example.com".to_string()),
                ("cookie", format!("sid={:032x}\0pref=compact", i % 7)),
                ("accept-encoding", "gzip,deflate,sdch".to_string()),
            ]
            .into_iter()
            .collect(),
        );
    }
    out
}

/// Decodes `frames` hibernating after frame `i` when `sleep(i)`; checks each block against
/// `plains` and returns how often it hibernated and the largest hibernated size.
fn decode(version: Version, frames: &[Vec<u8>], plains: &[Vec<u8>], sleep: impl Fn(usize) -> bool) -> (usize, usize) {
    let mut inf = Inflater::new(version, InflateLimits::default());
    let mut out = Vec::new();
    let (mut count, mut largest) = (0, 0);
    for (i, (z, p)) in frames.iter().zip(plains).enumerate() {
        assert_eq!(inf.inflate(z, &mut out), Ok(InflateOutcome::Complete), "{version} block {i}");
        assert!(out == *p, "{version} block {i} differs");
        assert_eq!(inf.state_bytes(), ZLIB_RS_INFLATE_BYTES);
        if sleep(i) {
            assert!(inf.hibernate(), "{version} block {i}");
            assert!(inf.is_hibernating());
            count += 1;
            largest = largest.max(inf.state_bytes());
        }
    }
    (count, largest)
}

#[test]
fn c36_c_zlib_level_9_sessions_decode_the_same_hibernated_after_any_block() {
    let cases = [(Version::Spdy3, 15), (Version::Spdy3, 11), (Version::Spdy2, 15), (Version::Spdy2, 11)];
    let sessions: Vec<(Version, Vec<Vec<u8>>)> =
        cases.iter().map(|&(v, _)| (v, session(v).iter().map(|b| plain(v, b)).collect())).collect();
    let jobs = cases
        .iter()
        .zip(&sessions)
        .map(|(&(v, wbits), (_, plains))| {
            let dict = if v == Version::Spdy2 { "v2" } else { "v3" };
            let blocks: Vec<String> = plains.iter().map(|p| hex(p)).collect();
            json!({ "op": "deflate", "dict": dict, "level": 9, "wbits": wbits, "memlevel": 9, "blocks": blocks })
        })
        .collect();
    let results = peer(jobs);
    for ((&(version, wbits), (_, plains)), result) in cases.iter().zip(&sessions).zip(&results) {
        assert_eq!(result["ok"], json!(true), "{result}");
        let frames: Vec<Vec<u8>> = result["blocks"].as_array().unwrap().iter().map(unhex).collect();
        let total: usize = plains.iter().map(Vec::len).sum();
        assert!(total > 64 * 1024, "session of {total} bytes is too short to wrap the window");
        decode(version, &frames, plains, |_| false);
        let (n, largest) = decode(version, &frames, plains, |_| true);
        assert_eq!(n, frames.len());
        // zlib-rs keeps a 32 KiB window whatever the header's size: so does the history.
        assert_eq!(largest, 32 * 1024, "{version} window {wbits}");
        decode(version, &frames, plains, |i| i % 3 == 1);
        decode(version, &frames, plains, |i| (i * 7919) % 11 < 2);
    }
}

#[test]
fn our_encoder_sessions_decode_the_same_hibernated_after_every_block() {
    for version in [Version::Spdy2, Version::Spdy3, Version::Spdy31] {
        for (level, bits, mem) in [(9, 15, 9), (9, 11, 1), (1, 15, 8), (0, 11, 1)] {
            let mut enc = ZlibEncoder::new(version, level, bits, mem);
            let blocks = session(version);
            let plains: Vec<Vec<u8>> = blocks.iter().map(|b| plain(version, b)).collect();
            let frames: Vec<Vec<u8>> = blocks
                .iter()
                .map(|b| {
                    let mut z = Vec::new();
                    enc.encode(b, &mut z);
                    z
                })
                .collect();
            let (n, _) = decode(version, &frames, &plains, |_| true);
            assert_eq!(n, frames.len());
            decode(version, &frames, &plains, |i| i % 5 == 0);
        }
    }
}

#[test]
fn b2_hibernated_after_one_request_costs_that_requests_bytes() {
    // A typical first request: the first case of the corpus's request story, or the
    // synthetic block when the corpus is not beside the checkout.
    let version = Version::Spdy31;
    let block = session(version).into_iter().next().unwrap();
    let p = plain(version, &block);
    let mut enc = ZlibEncoder::new(version, 9, 11, 1);
    let mut z = Vec::new();
    enc.encode(&block, &mut z);
    let mut inf = Inflater::new(version, InflateLimits::default());
    let mut out = Vec::new();
    assert_eq!(inf.inflate(&z, &mut out), Ok(InflateOutcome::Complete));
    assert_eq!(out, p);
    assert!(inf.hibernate());
    eprintln!("hibernated after one {}-byte request block: {} bytes (awake: {})", p.len(), inf.state_bytes(), ZLIB_RS_INFLATE_BYTES);
    assert_eq!(inf.state_bytes(), p.len(), "only the block's bytes are kept, not the dictionary");
}
