//! CONFORMANCE.md (shared/spec), rule by rule, against a server-role `Session` driven with
//! raw frames. Every test name ends in the rule id it checks; the comment above each test
//! quotes the rule. The toolkit in `support/` builds, compresses and parses frames without
//! the crate's own frame and header code, and checks the "never do" rules (C112, C114,
//! C119–C121, C123, C124, C126) on every frame the server sends. The rule → test map is
//! `tests/CONFORMANCE_INDEX.md`.

mod support;

use std::time::Duration;

use hex_literal::hex;
use spdygate::spdy::session::{Limits, SendError};
use spdygate::spdy::{SessionConfig, Version};
use support::*;

const V2: Version = Version::Spdy2;
const V3: Version = Version::Spdy3;
const V31: Version = Version::Spdy31;
/// Both wire-version-3 protocols: rules without a Ver restriction run on each.
const V3X: [Version; 2] = [V3, V31];

/// Events since `mark`.
fn since(h: &Harness, mark: usize) -> Vec<Ev> {
    h.events[mark..].to_vec()
}

fn with_limits(f: impl FnOnce(&mut Limits)) -> SessionConfig {
    let mut c = SessionConfig::default();
    f(&mut c.limits);
    c
}

// ===================================================================== toolkit self-checks
// The toolkit is checked against the byte examples of SPDY3.md / SPDY2.md, so the tests
// below stand on spec bytes, not on the toolkit's own reading of the spec.

#[test]
fn toolkit_decodes_the_spdy3_syn_stream_capture() {
    let frame = hex!(
        "80 03 00 01 00 00 00 2c 00 00 00 01 00 00 00 00 00 00"
        "78 f9 e3 c6 a7 c2 02 e5 0e 50 7a b4 42 a4 5a 77 d7 10 50 06 b3 2a 48 04 97 4d 8c fa 00 00 00 00 ff ff"
    );
    let mut inf = zlib::Inflater::new(V3);
    let nv = inf.block(&frame[18..]).unwrap();
    assert_eq!(decode_nv(V3, &nv).unwrap(), pairs(&[(":method", "GET"), (":path", "/")]));
}

#[test]
fn toolkit_parses_the_spdy3_stored_syn_reply_vector() {
    let frame = hex!(
        "80 03 00 02 00 00 00 45 00 00 00 01 78 3f e3 c6 a7 c2 00 31 00 ce ff 00 00 00 02 00 00 00 07"
        "3a 73 74 61 74 75 73 00 00 00 06 32 30 30 20 4f 4b 00 00 00 08 3a 76 65 72 73 69 6f 6e 00 00"
        "00 08 48 54 54 50 2f 31 2e 31 00 00 00 ff ff"
    );
    let mut p = parse::ServerParser::new(V3);
    let rx: Vec<Rx> = p.push(&frame).into_iter().map(Result::unwrap).collect();
    assert_eq!(
        rx,
        [Rx::SynReply { id: 1, fin: false, headers: pairs(&[(":status", "200 OK"), (":version", "HTTP/1.1")]) }]
    );
}

#[test]
fn toolkit_builds_the_spec_byte_examples() {
    let mut c3 = Client::new(V3);
    let mut c2 = Client::new(V2);
    assert_eq!(rst_stream(1, 5).wire(&mut c3), hex!("80 03 00 03 00 00 00 08 00 00 00 01 00 00 00 05"));
    assert_eq!(ping(1).wire(&mut c3), hex!("80 03 00 06 00 00 00 04 00 00 00 01"));
    assert_eq!(goaway(7, 1).wire(&mut c3), hex!("80 03 00 07 00 00 00 08 00 00 00 07 00 00 00 01"));
    assert_eq!(goaway(7, 0).wire(&mut c2), hex!("80 02 00 07 00 00 00 04 00 00 00 07"));
    assert_eq!(window_update(0, 0x10_0000).wire(&mut c3), hex!("80 03 00 09 00 00 00 08 00 00 00 00 00 10 00 00"));
    assert_eq!(data(1, &b"hi"[..]).fin().wire(&mut c3), hex!("00 00 00 01 01 00 00 02 68 69"));
    assert_eq!(noop().wire(&mut c2), hex!("80 02 00 05 00 00 00 00"));
    assert_eq!(
        settings().entry(0, 4, 100).entry(0, 7, 0x10_0000).wire(&mut c3),
        hex!("80 03 00 04 00 00 00 14 00 00 00 02 00 00 00 04 00 00 00 64 00 00 00 07 00 10 00 00")
    );
    assert_eq!(
        settings().entry(0, 4, 100).wire(&mut c2),
        hex!("80 02 00 04 00 00 00 0c 00 00 00 01 04 00 00 00 00 00 00 64")
    );
    let syn = syn_stream(1).priority(3).header(":method", "GET").wire(&mut c3);
    assert_eq!(syn[8..18], hex!("00 00 00 01 00 00 00 00 60 00"));
    let syn2 = syn_stream(1).priority(1).header("method", "GET").wire(&mut c2);
    assert_eq!(syn2[..2], hex!("80 02"));
    assert_eq!(syn2[8..18], hex!("00 00 00 01 00 00 00 00 40 00"));
}

#[test]
fn toolkit_deflate_modes_all_inflate_with_stock_zlib() {
    let modes = [
        DeflateMode::Zlib { level: 0, window_bits: 9 },
        DeflateMode::Zlib { level: 9, window_bits: 15 },
        DeflateMode::Stored { window_bits: 8 },
        DeflateMode::HuffmanOnly,
    ];
    for mode in modes {
        let mut d = Deflater::with_mode(mode, zlib::SPDY3_DICT);
        let mut inf = zlib::Inflater::new(V3);
        for i in 0..3 {
            let p = request_headers(V3, &format!("/{i}"));
            let nv = nv_block(V3, &p);
            assert_eq!(inf.block(&d.block(&nv)).unwrap(), nv, "{mode:?} block {i}");
        }
    }
}
