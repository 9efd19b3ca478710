#![no_main]
//! Our header compressor (`spdy::header::fast`) on input-chosen sessions: every block must
//! inflate, on one inflater, to exactly the name/value bytes it was given — whatever the
//! names, values, repeats, dates, secrets and block sizes (blocks past the 32 KiB window
//! included: a copy from farther back is the kind of bug this target is for). Never a panic.
//!
//! Byte 0 picks the version (bit 0) and whether a configured sensitive name is added
//! (bit 1). Then blocks until the input runs out (at most 24): a pair count, and for each
//! pair a name (from a small set, so names repeat, or raw bytes) and a value (raw bytes,
//! a date built from the input, or a run of input bytes repeated up to 40 KB).

use libfuzzer_sys::fuzz_target;
use spdygate::spdy::header::fast::FastEncoder;
use spdygate::spdy::header::{wire, HeaderBlock, HeaderEncoder, InflateLimits, InflateOutcome, Inflater};
use spdygate::spdy::Version;

const LIMITS: InflateLimits = InflateLimits { max_block: 1 << 20, budget: 4 << 20 };
const NAMES: [&str; 8] = ["date", "expires", "content-length", "set-cookie", "cookie", "etag", "x-secret", ":path"];
const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

#[path = "../common/input.rs"]
mod input;
use input::Input;

fn name(input: &mut Input<'_>) -> Vec<u8> {
    let b = input.byte().unwrap_or(0);
    if b < 200 {
        NAMES[usize::from(b) % NAMES.len()].as_bytes().to_vec()
    } else {
        input.take(usize::from(b - 200)).to_vec()
    }
}

fn value(input: &mut Input<'_>) -> Vec<u8> {
    let b = input.byte().unwrap_or(0);
    match b {
        0..=199 => input.take(usize::from(b % 64)).to_vec(),
        200..=239 => {
            let x = input.take(4);
            let at = |k: usize| usize::from(x.get(k).copied().unwrap_or(0));
            format!(
                "{}, {:02} {} 20{:02} {:02}:{:02}:{:02} GMT",
                DAYS[at(0) % 7],
                at(1) % 28 + 1,
                MONTHS[at(2) % 12],
                at(3) % 30,
                at(0) % 24,
                at(1) % 60,
                at(2) % 60
            )
            .into_bytes()
        }
        _ => {
            let unit = input.take(usize::from(b - 239)).to_vec();
            let times = usize::from(input.byte().unwrap_or(1)) * 160;
            unit.repeat(times).into_iter().take(40_000).collect()
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let Some(mode) = input.byte() else { return };
    let version = if mode & 1 == 0 { Version::Spdy3 } else { Version::Spdy2 };
    let sensitive = if mode & 2 == 2 { vec![b"x-secret".to_vec()] } else { Vec::new() };
    let mut enc = FastEncoder::new(version, &sensitive);
    let mut inf = Inflater::new(version, LIMITS);
    let (mut z, mut out, mut plain) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..24 {
        let Some(count) = input.byte() else { break };
        let mut block = HeaderBlock::new();
        for _ in 0..count % 12 {
            let n = name(&mut input);
            let v = value(&mut input);
            block.push(n, v);
        }
        z.clear();
        enc.encode(&block, &mut z);
        plain.clear();
        wire::encode(version, &block, &mut plain);
        match inf.inflate(&z, &mut out) {
            Ok(InflateOutcome::Complete) => assert!(out == plain, "block {block:?} came back different"),
            Ok(InflateOutcome::TooLarge) => assert!(plain.len() > LIMITS.max_block),
            other => panic!("our stream did not inflate: {other:?}"),
        }
    }
});
