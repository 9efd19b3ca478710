#![no_main]
//! Arbitrary bytes through `FrameReader` for every version. The first two input bytes pick
//! how the rest is cut into reads; the items must not depend on the cuts (CONFORMANCE C4),
//! nothing may panic, and every decoded control frame must encode and decode back to
//! itself.

use libfuzzer_sys::fuzz_target;
use spdygate::spdy::frame::{Frame, FrameReader, ReadItem};
use spdygate::spdy::Version;

fuzz_target!(|data: &[u8]| {
    let Some((seed, bytes)) = data.split_first_chunk::<2>() else {
        return;
    };
    let cuts = cuts(u16::from_le_bytes(*seed), bytes.len());
    for version in Version::PREFERENCE {
        let whole = run(version, bytes, &[]);
        let split = run(version, bytes, &cuts);
        assert_eq!(whole, split, "{version}: items depend on read boundaries");
    }
});

/// Read boundaries from a seed: pieces of 1..=max bytes, max from the seed's high byte.
fn cuts(seed: u16, len: usize) -> Vec<usize> {
    let max = usize::from(seed >> 8) + 1;
    let mut x = u32::from(seed) | 1;
    let mut at = 0;
    let mut cuts = Vec::new();
    while at < len {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        at += 1 + (x >> 16) as usize % max;
        cuts.push(at.min(len));
    }
    cuts
}

/// The items the reader produced, as text; DATA reassembled per frame. Ends at an error.
fn run(version: Version, bytes: &[u8], cuts: &[usize]) -> Vec<String> {
    let mut reader = FrameReader::new(version, 8192);
    let mut items = Vec::new();
    let mut data: Option<Vec<u8>> = None;
    let mut at = 0;
    for &end in cuts.iter().chain([bytes.len()].iter()) {
        let mut input = &bytes[at..end.max(at)];
        at = end.max(at);
        loop {
            match reader.read(&mut input) {
                Ok(None) => {
                    assert!(input.is_empty());
                    break;
                }
                Ok(Some(ReadItem::Frame(frame))) => {
                    assert!(data.is_none(), "control frame inside DATA");
                    check_round_trip(version, &frame);
                    items.push(format!("{frame:?}"));
                }
                Ok(Some(ReadItem::Data(chunk))) => {
                    let bytes = data.get_or_insert_with(Vec::new);
                    assert_eq!(chunk.is_first(), bytes.is_empty() && chunk.offset == 0);
                    assert_eq!(chunk.offset as usize, bytes.len());
                    bytes.extend_from_slice(chunk.bytes);
                    if chunk.is_last() {
                        let bytes = data.take().unwrap_or_default();
                        items.push(format!("DATA {} {:#x} {bytes:?}", chunk.stream_id, chunk.flags));
                    }
                }
                Err(error) => {
                    items.push(format!("error {error:?}"));
                    assert_eq!(reader.read(&mut input), Err(error), "reader not poisoned");
                    return items;
                }
            }
        }
    }
    items
}

/// decode → encode → decode gives the same frame. Ignored frames that keep a block
/// (foreign-version SYN_REPLY/HEADERS) lose their fixed part when encoded: skipped.
fn check_round_trip(version: Version, frame: &Frame<'_>) {
    if matches!(frame, Frame::Ignored { header_block, .. } if !header_block.is_empty()) {
        return;
    }
    let mut out = Vec::new();
    frame.encode(version, &mut out);
    match Frame::decode(version, &out) {
        Ok(Some((again, used))) => {
            assert_eq!(used, out.len());
            assert_eq!(&again, frame, "re-encoded frame decodes differently");
        }
        other => panic!("re-encoded {frame:?} does not decode: {other:?}"),
    }
}
