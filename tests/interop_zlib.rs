//! Header compression against an independent implementation: CPython's `zlib` module (C
//! zlib) driven through `tests/zlib/peer.py`. Our blocks must inflate there to exactly our
//! uncompressed bytes (CONFORMANCE C121), and its blocks — every window size, level,
//! Huffman-only, no dictionary, a wrong dictionary — must decode (or be refused) here
//! (C33, C33a, C35, C36). Also checks the zlib memory figures against a counting allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use serde_json::json;
use spdygate::spdy::header::deflate::{Strategy, ZlibEncoder};
use spdygate::spdy::header::inflate::{InflateError, InflateLimits, InflateOutcome, Inflater, ZLIB_RS_INFLATE_BYTES};
use spdygate::spdy::header::wire::{self, NvLimits};
use spdygate::spdy::header::{HeaderBlock, HeaderEncoder};
use spdygate::spdy::Version;

#[path = "zlib/driver.rs"]
mod driver;
mod procs;
use driver::{corpus_story, hex, peer, plain, unhex};

// ---------------------------------------------------------------------------------------
// Counting allocator: net heap bytes of the current thread while `measuring` is on.

struct Counting;

thread_local! {
    static MEASURING: Cell<bool> = const { Cell::new(false) };
    static NET: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    let _ = MEASURING.try_with(|m| {
        if m.get() {
            let _ = NET.try_with(|n| n.set(n.get() + delta));
        }
    });
}

// Safety: forwards every call to `System` unchanged; only counts sizes on the side.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        // Safety: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        // Safety: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        // Safety: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Net bytes `f` leaves allocated on this thread.
fn net_allocated(f: impl FnOnce()) -> isize {
    NET.with(|n| n.set(0));
    MEASURING.with(|m| m.set(true));
    f();
    MEASURING.with(|m| m.set(false));
    NET.with(|n| n.get())
}

// ---------------------------------------------------------------------------------------
// The Python peer.

fn dict_name(version: Version) -> &'static str {
    if version == Version::Spdy2 {
        "v2"
    } else {
        "v3"
    }
}

/// Header blocks for `version`: real request and response sequences from the shared
/// corpus when it is beside the checkout, plus synthetic ones that share a lot of text.
fn blocks(version: Version) -> Vec<HeaderBlock> {
    let mut out = Vec::new();
    for story in ["story_02.json", "story_30.json"] {
        out.extend(corpus_story(version, story, 12, false));
    }
    for i in 0..6 {
        out.push(
            [
                ("method", "GET".to_string()),
                ("url", format!("/static/{i}/app.js?v={}", i * 7919)),
                ("host", "www.example.com".to_string()),
                ("cookie", format!("sid={i:032x}\0pref=compact")),
                ("x-empty-ish", if version.allows_empty_values() { String::new() } else { "-".into() }),
            ]
            .into_iter()
            .collect(),
        );
    }
    out
}

// ---------------------------------------------------------------------------------------

#[test]
fn c121_our_blocks_inflate_in_c_zlib_to_our_exact_bytes() {
    let mut jobs = Vec::new();
    let mut expect = Vec::new();
    for version in [Version::Spdy2, Version::Spdy3] {
        let blocks = blocks(version);
        assert!(blocks.len() >= 6);
        for level in [0, 1, 6, 9] {
            for bits in [11, 15] {
                for (mem, strategy) in [(1, Strategy::Default), (8, Strategy::Default), (1, Strategy::HuffmanOnly)] {
                    let mut enc = ZlibEncoder::with_strategy(version, level, bits, mem, strategy);
                    let mut compressed = Vec::new();
                    for b in &blocks {
                        let mut z = Vec::new();
                        enc.encode(b, &mut z);
                        compressed.push(json!(hex(&z)));
                    }
                    jobs.push(json!({ "op": "inflate", "dict": dict_name(version), "blocks": compressed }));
                    expect.push((format!("{version} level {level} bits {bits} mem {mem} {strategy:?}"), blocks.iter().map(|b| plain(version, b)).collect::<Vec<_>>()));
                }
            }
        }
    }
    let results = peer(jobs);
    assert_eq!(results.len(), expect.len());
    for (result, (label, want)) in results.iter().zip(expect) {
        assert_eq!(result["ok"], json!(true), "{label}: {result}");
        let got: Vec<Vec<u8>> = result["blocks"].as_array().unwrap().iter().map(unhex).collect();
        assert_eq!(got.len(), want.len(), "{label}");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(g == w, "{label}: block {i} differs ({} vs {} bytes)", g.len(), w.len());
        }
    }
}

#[test]
fn c35_c36_c_zlib_blocks_decode_for_every_window_level_and_strategy() {
    let mut jobs = Vec::new();
    let mut expect = Vec::new();
    for version in [Version::Spdy2, Version::Spdy3, Version::Spdy31] {
        let blocks = blocks(version);
        let plains: Vec<String> = blocks.iter().map(|b| hex(&plain(version, b))).collect();
        for wbits in 8..=15 {
            for level in [0, 1, 6, 9] {
                for (mem, strategy) in [(1, "default"), (9, "default"), (8, "huffman")] {
                    jobs.push(json!({
                        "op": "deflate", "dict": dict_name(version), "level": level, "wbits": wbits,
                        "memlevel": mem, "strategy": strategy, "blocks": plains,
                    }));
                    expect.push((version, format!("{version} wbits {wbits} level {level} mem {mem} {strategy}")));
                }
            }
        }
    }
    let results = peer(jobs);
    assert_eq!(results.len(), expect.len());
    let corpus: Vec<(Version, Vec<HeaderBlock>)> = [Version::Spdy2, Version::Spdy3, Version::Spdy31].into_iter().map(|v| (v, blocks(v))).collect();
    for (result, (version, label)) in results.iter().zip(expect) {
        assert_eq!(result["dictid"], json!(version.dictionary_id()), "{label}");
        let blocks = &corpus.iter().find(|(v, _)| *v == version).unwrap().1;
        let mut inf = Inflater::new(version, InflateLimits::default());
        let (mut out, mut got) = (Vec::new(), HeaderBlock::new());
        for (i, (z, want)) in result["blocks"].as_array().unwrap().iter().zip(blocks).enumerate() {
            let z = unhex(z);
            assert!(z.ends_with(&[0, 0, 0xff, 0xff]), "{label}: block {i} lacks the sync flush");
            assert_eq!(inf.inflate(&z, &mut out), Ok(InflateOutcome::Complete), "{label}: block {i}");
            assert_eq!(out, plain(version, want), "{label}: block {i}");
            // Corpus values may hold bytes C42 refuses; the synthetic ones must decode.
            if i >= blocks.len() - 6 {
                wire::decode(version, &out, &NvLimits::default(), &mut got).unwrap();
                assert_eq!(&got, want, "{label}: block {i}");
            }
        }
    }
}

#[test]
fn c33a_c_zlib_blocks_without_dictionary_decode() {
    let version = Version::Spdy3;
    let blocks = blocks(version);
    let plains: Vec<String> = blocks.iter().map(|b| hex(&plain(version, b))).collect();
    let jobs = [(6, 15), (9, 11), (0, 9)]
        .iter()
        .map(|&(level, wbits)| json!({ "op": "deflate", "dict": null, "level": level, "wbits": wbits, "blocks": plains }))
        .collect();
    for result in peer(jobs) {
        let mut inf = Inflater::new(version, InflateLimits::default());
        let mut out = Vec::new();
        let zs = result["blocks"].as_array().unwrap();
        assert_eq!(unhex(&zs[0])[1] & 0x20, 0, "no FDICT bit");
        for (z, want) in zs.iter().zip(&blocks) {
            assert_eq!(inf.inflate(&unhex(z), &mut out), Ok(InflateOutcome::Complete));
            assert_eq!(out, plain(version, want));
        }
    }
}

#[test]
fn c33_c_zlib_block_with_a_wrong_dictionary_is_refused() {
    let block = plain(Version::Spdy3, &blocks(Version::Spdy3)[0]);
    let jobs = vec![
        json!({ "op": "deflate", "dict": "wrong", "level": 6, "wbits": 15, "blocks": [hex(&block)] }),
        json!({ "op": "deflate", "dict": "v2", "level": 9, "wbits": 11, "blocks": [hex(&block)] }),
    ];
    let results = peer(jobs);
    for (result, version) in results.iter().zip([Version::Spdy3, Version::Spdy31]) {
        let found = result["dictid"].as_u64().unwrap() as u32;
        let mut inf = Inflater::new(version, InflateLimits::default());
        let z = unhex(&result["blocks"][0]);
        assert_eq!(inf.inflate(&z, &mut Vec::new()), Err(InflateError::WrongDictionary { found }));
        assert!(inf.is_poisoned());
    }
    // And the other way round: a SPDY/3-dictionary stream on a SPDY/2 session.
    let results = peer(vec![json!({ "op": "deflate", "dict": "v3", "level": 1, "wbits": 15, "blocks": [hex(&block)] })]);
    let mut inf = Inflater::new(Version::Spdy2, InflateLimits::default());
    assert_eq!(
        inf.inflate(&unhex(&results[0]["blocks"][0]), &mut Vec::new()),
        Err(InflateError::WrongDictionary { found: Version::Spdy3.dictionary_id() })
    );
}

// ---------------------------------------------------------------------------------------
// Memory figures (CONFORMANCE B2): what `state_bytes` reports is what zlib-rs allocates.

#[test]
fn inflater_state_bytes_match_the_allocator() {
    let mut enc = ZlibEncoder::new(Version::Spdy3, 9, 11, 1);
    let mut z = Vec::new();
    enc.encode(&blocks(Version::Spdy3)[0], &mut z);
    let mut inf = Inflater::new(Version::Spdy3, InflateLimits::default());
    let mut out = Vec::with_capacity(64 * 1024);
    assert_eq!(net_allocated(|| assert_eq!(inf.inflate(&[], &mut out), Ok(InflateOutcome::Empty))), 0);
    let created = net_allocated(|| assert_eq!(inf.inflate(&z, &mut out), Ok(InflateOutcome::Complete)));
    eprintln!("inflate state: {created} bytes allocated, state_bytes() = {}", inf.state_bytes());
    assert_eq!(created as usize, inf.state_bytes());
    assert_eq!(inf.state_bytes(), ZLIB_RS_INFLATE_BYTES);
    // Steady state: later blocks allocate nothing.
    let mut z2 = Vec::new();
    enc.encode(&blocks(Version::Spdy3)[1], &mut z2);
    assert_eq!(net_allocated(|| assert_eq!(inf.inflate(&z2, &mut out), Ok(InflateOutcome::Complete))), 0);
}

#[test]
fn encoder_state_bytes_match_the_allocator() {
    let block = blocks(Version::Spdy3)[0].clone();
    for (level, bits, mem) in [(9, 11, 1), (6, 15, 8), (1, 9, 9), (0, 11, 1)] {
        let mut enc = ZlibEncoder::new(Version::Spdy3, level, bits, mem);
        let mut out = Vec::with_capacity(64 * 1024);
        assert_eq!(enc.state_bytes(), 0);
        let created = net_allocated(|| enc.encode(&block, &mut out));
        eprintln!("deflate level {level} bits {bits} mem {mem}: {created} bytes, state_bytes() = {}", enc.state_bytes());
        assert_eq!(created as usize, enc.state_bytes(), "level {level} bits {bits} mem {mem}");
        // Zero allocations per block in steady state.
        for _ in 0..5 {
            out.clear();
            assert_eq!(net_allocated(|| enc.encode(&block, &mut out)), 0);
        }
    }
}
