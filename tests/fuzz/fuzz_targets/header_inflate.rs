#![no_main]
//! Header inflate + name/value decode on hostile input (CONFORMANCE B1, B11).
//!
//! Byte 0 picks the version (bit 0: SPDY/2 or SPDY/3) and the mode (bit 1):
//! * raw: the rest is cut into "frames" (a length byte, then that many bytes) fed to one
//!   Inflater; each complete output goes through `wire::decode`;
//! * deflate: the rest builds header blocks that our ZlibEncoder compresses on one context
//!   (level, window, memLevel, strategy from the input); then, if the input asks for it,
//!   bytes are flipped, frames cut or dropped. Uncorrupted streams must round-trip exactly.
//!
//! Never a panic; `out` never grows past `max_block`; after an error every call fails.

use libfuzzer_sys::fuzz_target;
use spdygate::spdy::header::deflate::{Strategy, ZlibEncoder};
use spdygate::spdy::header::inflate::{InflateError, InflateLimits, InflateOutcome, Inflater};
use spdygate::spdy::header::wire::{self, NvLimits};
use spdygate::spdy::header::{HeaderBlock, HeaderEncoder};
use spdygate::spdy::Version;

const LIMITS: InflateLimits = InflateLimits { max_block: 16 * 1024, budget: 256 * 1024 };

#[path = "../common/input.rs"]
mod input;
use input::Input;

/// Feeds `frames` to one inflater, checking the invariants; returns the decoded blocks
/// while the stream was healthy.
fn feed(version: Version, frames: &[Vec<u8>]) -> Vec<Option<HeaderBlock>> {
    let mut inf = Inflater::new(version, LIMITS);
    let mut out = Vec::new();
    let mut decoded = Vec::new();
    let mut failed = false;
    for frame in frames {
        let result = inf.inflate(frame, &mut out);
        assert!(out.capacity() <= LIMITS.max_block, "out grew to {}", out.capacity());
        assert!(out.len() <= LIMITS.max_block);
        if failed {
            assert_eq!(result, Err(InflateError::Corrupt), "a poisoned inflater must refuse");
            continue;
        }
        match result {
            Ok(InflateOutcome::Complete) => {
                let mut block = HeaderBlock::new();
                match wire::decode(version, &out, &NvLimits::default(), &mut block) {
                    Ok(()) => decoded.push(Some(block)),
                    Err(e) => {
                        let _ = e.rst_status();
                        decoded.push(None);
                    }
                }
            }
            Ok(InflateOutcome::TooLarge) => {
                assert!(out.is_empty());
                decoded.push(None);
            }
            Ok(InflateOutcome::Empty) => {
                assert!(frame.is_empty());
                decoded.push(None);
            }
            Err(_) => {
                assert!(inf.is_poisoned());
                assert!(out.is_empty());
                failed = true;
            }
        }
    }
    decoded
}

fn raw_mode(version: Version, mut input: Input<'_>) {
    let mut frames = Vec::new();
    while let Some(len) = input.byte() {
        frames.push(input.take(usize::from(len)).to_vec());
        if frames.len() >= 64 {
            break;
        }
    }
    feed(version, &frames);
}

fn deflate_mode(version: Version, mut input: Input<'_>) {
    let level = u32::from(input.byte().unwrap_or(6) % 10);
    let bits = 9 + input.byte().unwrap_or(6) % 7;
    let mem = 1 + input.byte().unwrap_or(0) % 9;
    let strategy = if input.byte().unwrap_or(0) & 1 == 1 { Strategy::HuffmanOnly } else { Strategy::Default };
    let corrupt = input.byte().unwrap_or(0);
    let mut enc = ZlibEncoder::with_strategy(version, level, bits, mem, strategy);
    let mut blocks = Vec::new();
    let mut frames = Vec::new();
    while blocks.len() < 16 {
        let Some(pairs) = input.byte() else { break };
        let mut block = HeaderBlock::new();
        for i in 0..pairs % 8 {
            // Valid-looking names ("x<i>" keeps them distinct); values taken raw, so they
            // may break C41/C42 — decode must say so, not crash.
            let name = format!("x{i}");
            let len = usize::from(input.byte().unwrap_or(1) % 64);
            let mut value = input.take(len).to_vec();
            if input.byte().unwrap_or(0) == 0xff {
                // Occasionally a long, very compressible value (bomb-like).
                value = vec![b'a'; 20_000];
            }
            block.push(name, value);
        }
        let mut z = Vec::new();
        enc.encode(&block, &mut z);
        blocks.push(block);
        frames.push(z);
    }
    if corrupt & 1 == 1 {
        // Flip bytes at positions chosen by the input, in frames chosen by the input.
        while let (Some(f), Some(pos), Some(x)) = (input.byte(), input.byte(), input.byte()) {
            if frames.is_empty() {
                break;
            }
            let n = usize::from(f) % frames.len();
            if let Some(b) = frames[n].get_mut(usize::from(pos)) {
                *b ^= x.max(1);
            }
        }
    }
    if corrupt & 2 == 2 && !frames.is_empty() {
        let n = usize::from(corrupt >> 4) % frames.len();
        frames.remove(n); // a skipped block: later ones may no longer decode
    }
    if corrupt & 4 == 4 {
        for f in &mut frames {
            let keep = f.len() * 3 / 4;
            f.truncate(keep);
        }
    }
    let decoded = feed(version, &frames);
    if corrupt & 7 == 0 {
        // Untouched stream: every block comes back exactly, or was over the limits.
        assert_eq!(decoded.len(), blocks.len());
        for (got, want) in decoded.iter().zip(&blocks) {
            match got {
                Some(got) => assert_eq!(got, want),
                None => {
                    let mut plain = Vec::new();
                    wire::encode(version, want, &mut plain);
                    let mut check = HeaderBlock::new();
                    let valid = wire::decode(version, &plain, &NvLimits::default(), &mut check).is_ok();
                    assert!(plain.len() > LIMITS.max_block || !valid, "a valid block in the limits was lost");
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let Some(mode) = input.byte() else { return };
    let version = if mode & 1 == 0 { Version::Spdy3 } else { Version::Spdy2 };
    if mode & 2 == 0 {
        raw_mode(version, input);
    } else {
        deflate_mode(version, input);
    }
});
