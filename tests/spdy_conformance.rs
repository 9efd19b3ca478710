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
        for i in 0..5 {
            let mut p = request_headers(V3, &format!("/{i}"));
            p.push((b"x-big".to_vec(), if i % 2 == 0 { vec![b'a'; 30_000 * i] } else { noise(8000, i as u32) }));
            let nv = nv_block(V3, &p);
            assert_eq!(inf.block(&d.block(&nv)).unwrap(), nv, "{mode:?} block {i}");
        }
    }
}

// ===================================================================== A1. Connection start

// C2 (CHOSEN): "connection established → server's first frame is SETTINGS containing
// MAX_CONCURRENT_STREAMS (configurable; default as in §C …) and INITIAL_WINDOW_SIZE
// (≥ 65 536); no persistence flags".
#[test]
fn first_frame_is_settings_with_concurrency_and_initial_window_c2() {
    for v in [V2, V3, V31] {
        let h = Harness::new(v);
        let Some(Rx::Settings { flags, entries }) = h.initial.first() else {
            panic!("{v}: first frame is not SETTINGS: {:?}", h.initial);
        };
        assert_eq!(*flags, 0, "{v}");
        assert!(entries.iter().all(|e| e.0 == 0), "{v}: persistence flags in {entries:?}");
        assert!(entries.contains(&(0, SETTINGS_MAX_CONCURRENT_STREAMS, 256)), "{v}: {entries:?}");
        if v != V2 {
            let iws = entries.iter().find(|e| e.1 == SETTINGS_INITIAL_WINDOW_SIZE).expect("INITIAL_WINDOW_SIZE");
            assert!(iws.2 >= 65_536, "{v}: {entries:?}");
            assert_eq!(iws.2, SessionConfig::default().initial_window_size);
        }
    }
}

// C2: the advertised values are the configured ones.
#[test]
fn first_settings_carry_the_configured_values_c2() {
    let config =
        SessionConfig { max_concurrent_streams: 100, initial_window_size: 200_000, ..SessionConfig::default() };
    let h = Harness::with_config(V31, config);
    let Some(Rx::Settings { entries, .. }) = h.initial.first() else { panic!("{:?}", h.initial) };
    assert!(entries.contains(&(0, SETTINGS_MAX_CONCURRENT_STREAMS, 100)), "{entries:?}");
    assert!(entries.contains(&(0, SETTINGS_INITIAL_WINDOW_SIZE, 200_000)), "{entries:?}");
}

// C3 (CHOSEN, 3.1): "server sends WINDOW_UPDATE(stream 0, delta ≥ 1) to raise its receive
// session window above 65 536".
#[test]
fn spdy31_server_raises_its_session_window_at_start_c3() {
    let h = Harness::new(V31);
    let wu: Vec<&Rx> = h.initial.iter().filter(|f| matches!(f, Rx::WindowUpdate { id: 0, .. })).collect();
    assert_eq!(wu.len(), 1, "{:?}", h.initial);
    let Rx::WindowUpdate { delta, .. } = wu[0] else { unreachable!() };
    assert!(*delta >= 1);
    assert!(h.client_send_session > 65_536 && h.client_send_session <= MAX_WINDOW);
}

// C3 is 3.1-only: a spdy/3 (or spdy/2) session has no session window to raise.
#[test]
fn spdy3_and_spdy2_send_no_session_window_update_c3() {
    for v in [V2, V3] {
        let h = Harness::new(v);
        assert!(!h.initial.iter().any(|f| matches!(f, Rx::WindowUpdate { .. })), "{v}: {:?}", h.initial);
    }
}

/// The C4 exchange: many frames of every kind, as one byte string.
fn c4_exchange(v: Version) -> Vec<u8> {
    let mut h = Harness::new(v);
    let frames: Vec<Vec<u8>> = vec![
        h.encode(&settings().entry(0, 4, 100).initial_window(100_000)),
        h.encode(&h.syn(1).priority(2)),
        h.encode(&data(1, &b"hello world"[..])),
        h.encode(&headers(1).header("x-trailer", "t").fin()),
        h.encode(&ping(1)),
        h.encode(&h.syn(3).fin()),
        h.encode(&window_update(0, 100_000)),
        h.encode(&control(v.wire(), 0xf000, 0, b"skip!")),
        h.encode(&rst_stream(3, CANCEL)),
        h.encode(&syn_stream(5).headers(&request_headers(v, "/five")).header("cookie", "a=1").fin()),
        h.encode(&data(7, &b"nobody"[..])),
        h.encode(&ping(3)),
    ];
    frames.concat()
}

/// Events with adjacent DATA pieces of one stream merged (one DATA frame may arrive as
/// several events, C4).
fn normalized(events: &[Ev]) -> Vec<Ev> {
    let mut out: Vec<Ev> = Vec::new();
    for e in events {
        if let (Some(Ev::Data { id: a, data: d, fin: f }), Ev::Data { id: b, data, fin }) = (out.last_mut(), e) {
            if a == b && !*f {
                d.extend_from_slice(data);
                *f = *fin;
                continue;
            }
        }
        if matches!(e, Ev::Data { data, fin: false, .. } if data.is_empty()) {
            continue;
        }
        out.push(e.clone());
    }
    out
}

fn c4_run(v: Version, bytes: &[u8], cuts: &[usize]) -> (Vec<Ev>, Vec<Rx>) {
    let mut h = Harness::new(v);
    let mut start = 0;
    for &c in cuts.iter().chain(std::iter::once(&bytes.len())) {
        h.send_bytes(&bytes[start..c]);
        start = c;
    }
    let rx = h.flush();
    assert!(h.error.is_none(), "{:?}", h.error);
    (normalized(&h.events), rx)
}

// C4 (MUST): "frames arrive split at every byte boundary, or many frames in one read →
// identical behaviour to whole-frame delivery".
#[test]
fn frames_split_at_every_byte_boundary_behave_as_whole_frames_c4() {
    for v in [V31, V2] {
        let bytes = c4_exchange(v);
        let whole = c4_run(v, &bytes, &[]);
        assert!(whole.0.iter().any(|e| matches!(e, Ev::Data { id: 1, .. })), "{:?}", whole.0);
        assert!(whole.1.contains(&Rx::Ping { id: 1 }) && whole.1.contains(&Rx::Ping { id: 3 }), "{:?}", whole.1);
        for k in 1..bytes.len() {
            assert_eq!(c4_run(v, &bytes, &[k]), whole, "{v}: split at byte {k}");
        }
        let every: Vec<usize> = (1..bytes.len()).collect();
        assert_eq!(c4_run(v, &bytes, &every), whole, "{v}: one byte per recv");
    }
}

// C4: frame by frame delivery equals one read holding all frames.
#[test]
fn frame_by_frame_delivery_equals_one_read_c4() {
    let bytes = c4_exchange(V3);
    let whole = c4_run(V3, &bytes, &[]);
    let mut cuts = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let len = u32::from_be_bytes([0, bytes[pos + 5], bytes[pos + 6], bytes[pos + 7]]) as usize;
        pos += 8 + len;
        if pos < bytes.len() {
            cuts.push(pos);
        }
    }
    assert_eq!(c4_run(V3, &bytes, &cuts), whole);
}

/// Request headers plus a cookie sized so the stored-block SYN_STREAM payload is `payload`.
fn c5_syn(v: Version, payload: usize) -> (SynStream, Pairs) {
    let mut p = request_headers(v, "/big");
    p.push((b"cookie".to_vec(), Vec::new()));
    // Stored first block: 2 (zlib header) + 4 (DICTID) + 5 (block head) + nv + 5 (sync flush).
    let base = nv_block(v, &p).len();
    let cookie_len = payload - 10 - 16 - base;
    p.last_mut().unwrap().1 = noise(cookie_len, 5);
    (syn_stream(1).headers(&p), p)
}

// C5 (MUST): "SYN_STREAM / HEADERS whose payload is 8 192 bytes (e.g. a large cookie, poorly
// compressible) → accepted and processed normally".
#[test]
fn syn_stream_with_an_8192_byte_payload_is_accepted_c5() {
    for v in V3X {
        let mut h = Harness::with_client(
            v,
            SessionConfig::default(),
            Deflater::with_mode(DeflateMode::Stored { window_bits: 15 }, zlib::dictionary(v)),
        );
        let (syn, p) = c5_syn(v, 8192);
        let bytes = h.encode(&syn);
        assert_eq!(bytes.len(), 8 + 8192);
        h.send_bytes(&bytes);
        match h.opened(1) {
            Some(Ev::Opened { headers, .. }) => assert_eq!(headers, p),
            other => panic!("{v}: {other:?}, error {:?}", h.error),
        }
        h.respond(1, 10);
        let rx = h.expect_no_error();
        assert_eq!(data_len(&rx, 1), 10);
        h.sync_check();
    }
}

// C5: the same for a HEADERS frame of 8 192 payload bytes on an open stream.
#[test]
fn headers_with_an_8192_byte_payload_is_accepted_c5() {
    for v in V3X {
        let mut h = Harness::with_client(
            v,
            SessionConfig::default(),
            Deflater::with_mode(DeflateMode::Stored { window_bits: 15 }, zlib::dictionary(v)),
        );
        h.open(1);
        // Later stored block: 5 (block head) + nv + 5 (sync flush); HEADERS fixed part 4.
        let cookie = noise(8192 - 4 - 10 - 18, 9);
        let bytes = h.encode(&headers(1).header("cookie", &cookie));
        assert_eq!(bytes.len(), 8 + 8192);
        h.send_bytes(&bytes);
        assert!(
            h.events.contains(&Ev::Headers { id: 1, headers: pairs(&[("cookie", &cookie)]), fin: false }),
            "{:?}",
            h.events
        );
        h.expect_no_error();
        h.sync_check();
    }
}

// ===================================================================== A2. Framing errors

/// A session with stream 1 open, so Last-good-stream-ID is 1 in the GOAWAY.
fn with_stream_1(v: Version) -> Harness {
    let mut h = Harness::new(v);
    h.open(1);
    h
}

// C7 (CHOSEN): "RST_STREAM with length ≠ 8 → GOAWAY(1)+close".
#[test]
fn rst_stream_with_length_other_than_8_is_a_session_error_c7() {
    for v in V3X {
        for len in [0usize, 4, 7, 9, 12] {
            let mut h = with_stream_1(v);
            h.send(&control(3, 3, 0, &noise(len, 1)));
            h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
        }
    }
}

// C8 (CHOSEN): "PING with length ≠ 4 → GOAWAY(1)+close".
#[test]
fn ping_with_length_other_than_4_is_a_session_error_c8() {
    for v in V3X {
        for len in [0usize, 3, 5, 8] {
            let mut h = with_stream_1(v);
            h.send(&control(3, 6, 0, &vec![0; len]));
            h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
        }
    }
}

// C9 (CHOSEN): "GOAWAY with length ≠ 8 → GOAWAY(1)+close".
#[test]
fn goaway_with_length_other_than_8_is_a_session_error_c9() {
    for v in V3X {
        for len in [0usize, 4, 12] {
            let mut h = with_stream_1(v);
            h.send(&control(3, 7, 0, &vec![0; len]));
            h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
        }
    }
}

// C10 (CHOSEN): "WINDOW_UPDATE with length ≠ 8 → GOAWAY(1)+close".
#[test]
fn window_update_with_length_other_than_8_is_a_session_error_c10() {
    for v in V3X {
        for len in [0usize, 4, 12] {
            let mut h = with_stream_1(v);
            let mut p = vec![0, 0, 0, 1, 0, 0, 0x10, 0];
            p.resize(len, 0);
            h.send(&control(3, 9, 0, &p));
            h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
        }
    }
}

// C11 (CHOSEN): "SETTINGS with length < 4, or length ≠ 4 + 8·n (… n = 2^29 must not wrap
// to 4) → GOAWAY(1)+close".
#[test]
fn settings_with_a_length_that_does_not_match_its_count_is_a_session_error_c11() {
    let cases: Vec<Vec<u8>> = vec![
        vec![],                                         // length 0
        vec![0, 0],                                     // length 2 < 4
        vec![0, 0, 0, 1],                               // n = 1, no entry
        vec![0, 0, 0, 0, 0, 0, 0, 7, 0, 1, 0, 0],       // n = 0, one entry
        vec![0, 0, 0, 1, 0, 0, 0, 7, 0, 1, 0, 0, 0, 0], // n = 1, 10 bytes
        vec![0x20, 0, 0, 0],                            // n = 2^29: 4 + 8n wraps to 4 in u32
        vec![0x20, 0, 0, 0, 0, 0, 0, 7, 0, 1, 0, 0],    // n = 2^29 + one entry (wraps to 12)
        vec![0xff, 0xff, 0xff, 0xff],                   // n = 2^32 − 1
    ];
    for v in [V3, V31, V2] {
        for p in &cases {
            let mut h = with_stream_1(v);
            h.send(&control(v.wire(), 4, 0, p));
            h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
        }
    }
}

// C12 (CHOSEN): "SYN_STREAM with length < 10, or SYN_REPLY / HEADERS with length < 4 (fixed
// part truncated) → GOAWAY(1)+close".
#[test]
fn truncated_fixed_parts_are_session_errors_c12() {
    for v in V3X {
        for len in [0usize, 4, 9] {
            let mut h = with_stream_1(v);
            let mut p = vec![0, 0, 0, 3, 0, 0, 0, 0, 0, 0];
            p.truncate(len);
            h.send(&control(3, 1, 0, &p));
            h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
        }
        for ty in [2u16, 8] {
            for len in [0usize, 2, 3] {
                let mut h = with_stream_1(v);
                h.send(&control(3, ty, 0, &[0, 0, 0, 1][..len]));
                h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
            }
        }
    }
}

// C12a (CHOSEN): "SYN_STREAM with length exactly 10, or SYN_REPLY / HEADERS with length
// exactly 4 (empty compressed block) → RST(id, PROTOCOL_ERROR) as in C44 (zlib state
// untouched); session continues (sync check)". Sent before any other block, the sync check's
// SYN_STREAM then carries the first zlib header: it only decodes if nothing was inflated.
#[test]
fn syn_stream_with_an_empty_block_is_reset_and_zlib_is_untouched_c12a() {
    for v in V3X {
        let mut h = Harness::new(v);
        h.send(&syn_stream(1).compressed(Vec::new()));
        h.expect_rst(1, PROTOCOL_ERROR);
        assert!(h.opened(1).is_none());
        h.sync_check();
    }
}

#[test]
fn headers_and_syn_reply_with_an_empty_block_are_reset_c12a() {
    for v in V3X {
        for ty in ["headers", "syn_reply"] {
            let mut h = Harness::new(v);
            h.open(1);
            let f = if ty == "headers" { headers(1) } else { syn_reply(1) };
            h.send(&f.compressed(Vec::new()));
            h.expect_rst(1, PROTOCOL_ERROR);
            h.sync_check();
        }
    }
}

// C13 (CHOSEN): "unknown control frame type (e.g. 11, 0xf000, 0) → payload skipped, frame
// ignored, session continues (next PING answered)".
#[test]
fn unknown_control_frame_types_are_skipped_c13() {
    for v in [V3, V31, V2] {
        let mut h = with_stream_1(v);
        for ty in [11u16, 0xf000, 0, 0x7fff, 0xffff] {
            h.send(&control(v.wire(), ty, 0xff, &noise(37, u32::from(ty))));
            h.expect_silence();
        }
        // a large one, split over several reads
        let big = control(v.wire(), 0x1234, 0, &noise(70_000, 3));
        for chunk in big.chunks(10_000) {
            h.send_bytes(chunk);
        }
        h.expect_alive();
        h.sync_check();
    }
}

// C14 (CHOSEN): "NOOP (type 5, length 0) on a SPDY/3 session → ignored like any unknown type".
#[test]
fn noop_on_a_spdy3_session_is_ignored_c14() {
    for v in V3X {
        let mut h = with_stream_1(v);
        h.send(&noop());
        h.send(&control(3, 5, 0, b"xyz"));
        h.expect_silence();
        h.expect_alive();
    }
}

// C15 (CHOSEN): "non-zero flags on RST_STREAM / PING / GOAWAY / WINDOW_UPDATE, or undefined
// flag bits on other frames → flags ignored, frame processed normally".
#[test]
fn unexpected_flags_are_ignored_c15() {
    for v in V3X {
        let mut h = Harness::new(v);
        // SYN_STREAM with undefined bits (not FIN, not UNIDIRECTIONAL) → opened, not half-closed
        h.send(&h.syn(1).flags(0xfc));
        assert!(matches!(h.opened(1), Some(Ev::Opened { fin: false, .. })), "{:?}", h.events);
        // SYN_STREAM with FIN plus undefined bits → opened, half-closed
        h.send(&h.syn(3).flags(0xf5));
        assert!(matches!(h.opened(3), Some(Ev::Opened { fin: true, .. })), "{:?}", h.events);
        // DATA with undefined bits (not FIN) → delivered, stream stays open
        h.send(&data(1, &b"abc"[..]).flags(0xfc));
        assert_eq!(h.received(1), (b"abc".to_vec(), false));
        // HEADERS with undefined bits
        h.send(&headers(1).header("x-a", "b").flags(0xf0));
        assert!(
            h.events.contains(&Ev::Headers { id: 1, headers: pairs(&[("x-a", "b")]), fin: false }),
            "{:?}",
            h.events
        );
        // PING with flags → answered
        h.send(&ping(5).flags(0xff));
        let rx = h.expect_no_error();
        assert!(rx.contains(&Rx::Ping { id: 5 }), "{rx:?}");
        // WINDOW_UPDATE with flags → applied: stream 3 (65 536 window) gets 1 000 more
        h.respond(3, 70_000);
        let rx = h.flush();
        assert_eq!(data_len(&rx, 3), 65_536);
        h.send(&window_update(3, 1000).flags(0xff));
        if v == V31 {
            h.send(&window_update(0, 1000).flags(0x80));
        }
        let rx = h.expect_no_error();
        assert_eq!(data_len(&rx, 3), 1000, "{rx:?}");
        // RST_STREAM with flags → stream closed
        let mark = h.events.len();
        h.send(&rst_stream(1, CANCEL).flags(0xff));
        assert!(since(&h, mark).contains(&Ev::Reset { id: 1, status: CANCEL, by_peer: true }), "{:?}", since(&h, mark));
        h.expect_silence();
        // GOAWAY with flags → processed
        let mark = h.events.len();
        h.send(&goaway(0, 0).flags(0xff));
        assert!(since(&h, mark).iter().any(|e| matches!(e, Ev::GoAway { .. })), "{:?}", since(&h, mark));
        assert!(h.error.is_none());
    }
}

// C16 (CHOSEN): "SYN_STREAM with version field 2 on a spdy/3.x session → inflate;
// RST(id, UNSUPPORTED_VERSION); if the inflate fails → GOAWAY(1)+close".
#[test]
fn syn_stream_with_version_2_on_a_spdy3_session_is_refused_as_unsupported_c16() {
    for v in V3X {
        let mut h = with_stream_1(v);
        h.send(&h.syn(3).version(2));
        h.expect_rst(3, UNSUPPORTED_VERSION);
        assert!(h.opened(3).is_none());
        h.sync_check();
    }
}

#[test]
fn syn_stream_with_version_2_and_a_corrupt_block_is_a_session_error_c16() {
    for v in V3X {
        let mut h = with_stream_1(v);
        h.send(&syn_stream(3).version(2).compressed(vec![0xff; 20]));
        h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
    }
}

// C17 (CHOSEN): "any other control frame with version ≠ 3 → ignored".
#[test]
fn other_control_frames_with_a_foreign_version_are_ignored_c17() {
    for v in V3X {
        let mut h = with_stream_1(v);
        h.send(&ping(7).version(2));
        h.send(&ping(9).version(4));
        h.send(&rst_stream(1, CANCEL).version(2));
        h.send(&settings().initial_window(1).version(2));
        h.send(&window_update(1, 0).version(1));
        h.send(&goaway(0, 0).version(2));
        h.expect_silence();
        assert!(!h.events.iter().any(|e| matches!(e, Ev::Reset { .. } | Ev::GoAway { .. })), "{:?}", h.events);
        // the SETTINGS was not applied: stream 1 still has a 65 536 window
        h.respond(1, 70_000);
        let rx = h.expect_no_error();
        assert_eq!(data_len(&rx, 1), 65_536);
        // a HEADERS with version 2 is ignored, but its block is inflated (§5.6 sync rule)
        let mark = h.events.len();
        h.send(&headers(1).version(2).header("x-ignored", "1"));
        assert!(since(&h, mark).is_empty(), "{:?}", since(&h, mark));
        h.expect_silence();
        h.sync_check();
    }
}

// C18 (CHOSEN, 3.1): "CREDENTIAL frame (type 10) → ignored (session continues)".
#[test]
fn credential_frame_is_ignored_on_spdy31_c18() {
    let mut h = with_stream_1(V31);
    let mut p = vec![0, 1, 0, 0, 0, 4, 1, 2, 3, 4, 0, 0, 0, 3];
    p.extend_from_slice(b"DER");
    h.send(&control(3, 10, 0, &p));
    h.expect_silence();
    h.expect_alive();
    h.sync_check();
}

// C19 (CHOSEN, 3): "CREDENTIAL frame → ignored (the gateway does not implement
// client-certificate vectors)".
#[test]
fn credential_frame_is_ignored_on_spdy3_c19() {
    let mut h = with_stream_1(V3);
    h.send(&control(3, 10, 0, &[0, 1, 0, 0, 0, 2, 9, 9]));
    h.expect_silence();
    h.expect_alive();
    h.sync_check();
}

// ===================================================================== A3. SYN_STREAM

// C20 (MUST): "valid SYN_STREAM, odd ID greater than every previous client ID → stream
// opened; answered by exactly one SYN_REPLY". (A second SYN_REPLY would be flagged by the
// harness on every test.)
#[test]
fn valid_syn_stream_opens_a_stream_answered_by_one_syn_reply_c20() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        for (i, id) in [1u32, 3, 9, 11].into_iter().enumerate() {
            let p = request_headers(v, &format!("/{i}"));
            h.send(&syn_stream(id).headers(&p).priority(1).fin());
            match h.opened(id) {
                Some(Ev::Opened { headers, fin, assoc, priority, .. }) => {
                    assert_eq!(headers, p);
                    assert!(fin);
                    assert_eq!(assoc, None);
                    assert_eq!(priority, 1);
                }
                other => panic!("{v}: {other:?}"),
            }
            h.respond(id, 5);
            let rx = h.expect_no_error();
            let replies: Vec<&Rx> = rx.iter().filter(|f| matches!(f, Rx::SynReply { .. })).collect();
            assert_eq!(replies.len(), 1, "{rx:?}");
            assert!(
                matches!(replies[0], Rx::SynReply { id: i, headers, .. } if *i == id && *headers == response_headers(v))
            );
            assert!(h.reply(id, true).is_err(), "a second send_reply was accepted");
        }
    }
}

// C21 (CHOSEN): "SYN_STREAM with stream ID 0 → GOAWAY(1)+close".
#[test]
fn syn_stream_with_id_0_is_a_session_error_c21() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        h.send(&h.syn(0));
        h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 0);
        let mut h = with_stream_1(v);
        h.send(&h.syn(0));
        h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
    }
}

// C22 (CHOSEN): "SYN_STREAM with an even stream ID from the client → GOAWAY(1)+close".
#[test]
fn syn_stream_with_an_even_id_is_a_session_error_c22() {
    for v in [V3, V31, V2] {
        let mut h = with_stream_1(v);
        h.send(&h.syn(4));
        h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
    }
}

// C23 (MUST): "SYN_STREAM whose ID is lower than a previously received client ID →
// GOAWAY(1)+close".
#[test]
fn syn_stream_with_a_lower_id_is_a_session_error_c23() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        h.open(5);
        h.send(&h.syn(3));
        h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 5);
    }
}

// C24 (MUST): "second SYN_STREAM with the same ID as the last one received → inflate;
// RST(id, PROTOCOL_ERROR)".
#[test]
fn second_syn_stream_with_the_same_id_is_reset_c24() {
    for v in [V3, V31, V2] {
        let mut h = with_stream_1(v);
        h.send(&h.syn(1).header("x-second", "1"));
        h.expect_rst(1, PROTOCOL_ERROR);
        h.sync_check();
    }
}

// C25 (CHOSEN): "client SYN_STREAM with Associated-To-Stream-ID ≠ 0 → inflate;
// RST(id, PROTOCOL_ERROR)".
#[test]
fn client_syn_stream_with_an_associated_stream_is_reset_c25() {
    for v in [V3, V31, V2] {
        let mut h = with_stream_1(v);
        h.send(&h.syn(3).assoc(1));
        h.expect_rst(3, PROTOCOL_ERROR);
        assert!(h.opened(3).is_none());
        h.sync_check();
    }
}

// C26 (CHOSEN): "client SYN_STREAM with FLAG_UNIDIRECTIONAL → inflate; RST(id, PROTOCOL_ERROR)".
#[test]
fn client_syn_stream_with_flag_unidirectional_is_reset_c26() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        h.send(&h.syn(1).unidirectional());
        h.expect_rst(1, PROTOCOL_ERROR);
        assert!(h.opened(1).is_none());
        h.sync_check();
    }
}

// C27 (CHOSEN): "new SYN_STREAM while the client already has MAX_CONCURRENT_STREAMS (as
// advertised by the server) streams not fully closed → inflate; RST(id, REFUSED_STREAM);
// the ID still counts as 'received' for C23".
#[test]
fn syn_stream_over_the_concurrency_limit_is_refused_c27() {
    for v in [V3, V31, V2] {
        let config = SessionConfig { max_concurrent_streams: 2, ..SessionConfig::default() };
        let mut h = Harness::with_config(v, config);
        h.open_fin(1);
        h.open(3);
        h.send(&h.syn(5).header("x-refused", "yes"));
        h.expect_rst(5, REFUSED_STREAM);
        assert!(h.opened(5).is_none());
        // the refused block was inflated: a later block that refers back to it decodes
        h.respond(1, 0); // stream 1 now fully closed: one slot free
        h.flush();
        h.sync_check();
        // 5 counts as received: 3 is now lower than a received id; last-good skips refused 5
        let mut h = Harness::with_config(v, SessionConfig { max_concurrent_streams: 2, ..SessionConfig::default() });
        h.open(1);
        h.open(3);
        h.send(&h.syn(5));
        h.expect_rst(5, REFUSED_STREAM);
        h.send(&h.syn(3));
        h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 3);
    }
}

// C27: a stream stops counting once fully closed (both FINs); the slot is reused.
#[test]
fn a_fully_closed_stream_frees_its_concurrency_slot_c27() {
    let mut h = Harness::with_config(V31, SessionConfig { max_concurrent_streams: 1, ..SessionConfig::default() });
    for id in [1u32, 3, 5] {
        h.open_fin(id);
        h.respond(id, 10);
        let rx = h.expect_no_error();
        assert!(has_fin(&rx, id));
        assert!(h.events.contains(&Ev::Closed { id }), "{:?}", h.events);
    }
    h.open(7);
    h.send(&h.syn(9));
    h.expect_rst(9, REFUSED_STREAM);
}

// C28 (MUST): "SYN_STREAM after the server has sent GOAWAY → inflate; no reply at all
// (ignored); existing streams continue".
#[test]
fn syn_stream_after_the_server_goaway_is_ignored_c28() {
    for v in [V3, V31, V2] {
        let mut h = with_stream_1(v);
        h.goaway(GOAWAY_OK);
        let rx = h.flush();
        assert_eq!(rx, [Rx::GoAway { last_good: 1, status: (v != V2).then_some(0) }]);
        h.send(&h.syn(3).header("x-late", "ignored"));
        h.expect_silence();
        assert!(h.opened(3).is_none());
        // stream 1 continues, and the ignored block was inflated: HEADERS refer back to it
        h.send(&headers(1).header("x-late", "ignored"));
        assert!(
            h.events.contains(&Ev::Headers { id: 1, headers: pairs(&[("x-late", "ignored")]), fin: false }),
            "{:?}",
            h.events
        );
        h.respond(1, 1000);
        let rx = h.expect_no_error();
        assert_eq!(data_len(&rx, 1), 1000);
        assert!(has_fin(&rx, 1));
    }
}

// C29 (CHOSEN): "client SYN_STREAM after the client itself sent GOAWAY → inflate;
// RST(id, REFUSED_STREAM)".
#[test]
fn syn_stream_after_the_client_goaway_is_refused_c29() {
    for v in [V3, V31, V2] {
        let mut h = with_stream_1(v);
        h.send(&goaway(0, 0));
        h.send(&h.syn(3).header("x-late", "refused"));
        h.expect_rst(3, REFUSED_STREAM);
        assert!(h.opened(3).is_none());
        h.send(&headers(1).header("x-late", "refused"));
        assert!(
            h.events.contains(&Ev::Headers { id: 1, headers: pairs(&[("x-late", "refused")]), fin: false }),
            "{:?}",
            h.events
        );
    }
}

// C30 (MUST): "SYN_STREAM with FLAG_FIN → stream is half-closed (remote); a normal response
// is produced".
#[test]
fn syn_stream_with_fin_half_closes_and_gets_a_normal_response_c30() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        h.open_fin(1);
        h.respond(1, 20_000);
        let rx = h.expect_no_error();
        assert_eq!(data_len(&rx, 1), 20_000);
        assert!(has_fin(&rx, 1));
        assert!(h.events.contains(&Ev::Closed { id: 1 }), "{:?}", h.events);
        assert_eq!(h.s.open_streams(), 0);
    }
}

// C31 (CHOSEN): "slot byte ≠ 0 (3.1) or unused priority bits set → ignored; priority = top
// 3 bits". E10: SPDY/2 priority is the top 2 bits of byte 8; byte 9 unused.
#[test]
fn slot_and_unused_priority_bits_are_ignored_c31_e10() {
    for (v, byte, slot, want) in
        [(V31, 0x7f, 0xff, 3), (V3, 0xbf, 0x00, 5), (V31, 0x1f, 0x01, 0), (V2, 0xff, 0xff, 3), (V2, 0x7f, 0x80, 1)]
    {
        let mut h = Harness::new(v);
        h.send(&h.syn(1).pri_byte(byte).slot(slot));
        match h.opened(1) {
            Some(Ev::Opened { priority, .. }) => assert_eq!(priority, want, "{v} byte {byte:#x}"),
            other => panic!("{v}: {other:?} {:?}", h.error),
        }
    }
}

// C32 (SHOULD): "several streams with different priorities waiting for output → lower
// numeric priority served first (best effort)".
#[test]
fn higher_priority_streams_are_served_first_c32() {
    for v in [V31, V2] {
        let mut h = Harness::new(v);
        let prios: [(u32, u8); 4] =
            if v == V2 { [(1, 3), (3, 0), (5, 2), (7, 1)] } else { [(1, 7), (3, 0), (5, 3), (7, 1)] };
        for (id, p) in prios {
            h.send(&h.syn(id).priority(p).fin());
        }
        if v == V31 {
            h.send(&window_update(0, 1 << 20));
        }
        for (id, _) in prios {
            h.respond(id, 40_000);
        }
        let rx = h.expect_no_error();
        let order: Vec<u8> = rx
            .iter()
            .filter_map(|f| match f {
                Rx::Data { id, .. } => prios.iter().find(|p| p.0 == *id).map(|p| p.1),
                _ => None,
            })
            .collect();
        assert!(order.windows(2).all(|w| w[0] <= w[1]), "{v}: DATA priorities in send order {order:?}");
    }
}

// ===================================================================== A4. Header blocks

// C33 (MUST): "first header block of the session carries a DICTID other than 0xe3c6a7c2 →
// GOAWAY(1)+close". E2: on SPDY/2 the DICTID is 0xdfa251b2 (907-byte dictionary).
#[test]
fn first_block_with_a_foreign_dictionary_is_a_session_error_c33_e2() {
    for (v, foreign) in
        [(V3, zlib::SPDY2_DICT), (V31, zlib::SPDY2_DICT), (V2, zlib::SPDY3_DICT), (V3, &zlib::SPDY3_DICT[..1422])]
    {
        let d = Deflater::with_mode(DeflateMode::Zlib { level: 6, window_bits: 15 }, foreign);
        let mut h = Harness::with_client(v, SessionConfig::default(), d);
        h.send(&h.syn(1));
        h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 0);
    }
}

// E2: a SPDY/2 session decodes blocks made with the 907-byte dictionary and 16-bit lengths.
#[test]
fn spdy2_blocks_use_the_907_byte_dictionary_and_16_bit_lengths_e2() {
    let mut h = Harness::new(V2);
    let hdrs = request_headers(V2, "/index.html");
    let bytes = h.encode(&syn_stream(1).headers(&hdrs).fin());
    assert_eq!(&bytes[18 + 2..18 + 6], &0xdfa2_51b2u32.to_be_bytes());
    h.send_bytes(&bytes);
    assert!(matches!(h.opened(1), Some(Ev::Opened { headers, .. }) if headers == hdrs));
    h.respond(1, 3);
    let rx = h.expect_no_error();
    assert!(
        rx.iter().any(|f| matches!(f, Rx::SynReply { id: 1, headers, .. } if *headers == response_headers(V2))),
        "{rx:?}"
    );
}

// C33a (CHOSEN): "first header block compressed without a preset dictionary (FDICT = 0) →
// decoded and served normally".
#[test]
fn first_block_without_a_preset_dictionary_is_decoded_c33a() {
    for v in [V3, V31, V2] {
        let mut h = Harness::with_client(
            v,
            SessionConfig::default(),
            Deflater::with_mode(DeflateMode::ZlibNoDictionary { level: 6 }, &[]),
        );
        for id in [1u32, 3, 5] {
            let p = request_headers(v, &format!("/nodict/{id}"));
            h.send(&syn_stream(id).headers(&p).fin());
            assert!(
                matches!(h.opened(id), Some(Ev::Opened { headers, .. }) if headers == p),
                "{v}: {:?} {:?}",
                h.events,
                h.error
            );
        }
        h.expect_no_error();
    }
}

// C34 (MUST): "compressed block corrupt (zlib data error / zlib stream ended / dictionary
// demanded again) → GOAWAY(1)+close".
#[test]
fn corrupt_compressed_blocks_are_session_errors_c34() {
    for v in [V3, V31, V2] {
        // bad zlib header (CM = 7) in the first block
        let mut h = with_stream_1(v);
        let mut h2 = Harness::new(v);
        h2.send(&h2.syn(1).compressed(vec![0x77, 0x01, 0, 0, 0, 0, 0, 0, 0xff, 0xff]));
        h2.expect_goaway(GOAWAY_PROTOCOL_ERROR, 0);
        // invalid block type (BTYPE 11) after a good first block
        h.send(&headers(1).compressed(vec![0x07, 0x00, 0x00, 0xff, 0xff]));
        h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
        // a stored block whose NLEN does not match LEN
        let mut h = with_stream_1(v);
        h.send(&headers(1).compressed(vec![0x00, 0x05, 0x00, 0x00, 0x00, 1, 2, 3, 4, 5]));
        h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
    }
}

// C34: "zlib stream ended": the client finished its zlib stream; the next block cannot be
// inflated. (Whether the finishing block itself is already the error is left open, so
// Last-good may be 0 or 1.)
#[test]
fn a_block_after_the_zlib_stream_ended_is_a_session_error_c34() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        let nv = nv_block(v, &request_headers(v, "/"));
        let z = h.client.deflater.finishing_block(&nv);
        h.send(&syn_stream(1).compressed(z));
        let nv = nv_block(v, &request_headers(v, "/again"));
        let z = {
            let mut d = Deflater::new(v);
            let mut first = d.block(&nv);
            first.drain(..6); // a block without a zlib header, as if the stream continued
            first
        };
        h.send(&syn_stream(3).compressed(z));
        let rx = h.flush();
        let err = h.error.expect("expected a session error");
        assert_eq!(err.status.0, GOAWAY_PROTOCOL_ERROR);
        let goaways: Vec<&Rx> = rx.iter().filter(|f| matches!(f, Rx::GoAway { .. })).collect();
        assert_eq!(goaways.len(), 1, "{rx:?}");
        assert!(matches!(rx.last(), Some(Rx::GoAway { last_good: 0 | 1, .. })), "{rx:?}");
        h.expect_closed();
    }
}

// C34: "dictionary demanded again": a second zlib header with FDICT in the middle of the
// stream is not a dictionary request to honour; it is corrupt data.
#[test]
fn a_second_dictionary_header_mid_stream_is_a_session_error_c34() {
    for v in [V3, V31, V2] {
        let mut h = with_stream_1(v);
        let mut fresh = Deflater::new(v);
        let z = fresh.block(&nv_block(v, &pairs(&[("x-a", "b")])));
        h.send(&headers(1).compressed(z));
        h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
    }
}

/// Three SYN_STREAMs through one client context; returns the compressed block sizes.
fn serve_three(h: &mut Harness, big: bool) -> Vec<usize> {
    let mut sizes = Vec::new();
    for i in 0..3u32 {
        let id = h.next_id();
        let mut p = request_headers(h.version, &format!("/three/{i}"));
        p.push((b"cookie".to_vec(), if big { noise(700, 77) } else { b"session=abcdef0123456789".to_vec() }));
        p.push((b"accept".to_vec(), b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8".to_vec()));
        let bytes = h.encode(&syn_stream(id).headers(&p).fin());
        sizes.push(bytes.len() - 18);
        h.send_bytes(&bytes);
        match h.opened(id) {
            Some(Ev::Opened { headers, .. }) => assert_eq!(headers, p, "{:?}", h.client.deflater.mode()),
            other => panic!("{:?}: stream {id}: {other:?}, error {:?}", h.client.deflater.mode(), h.error),
        }
        h.respond(id, 1);
        h.expect_no_error();
    }
    sizes
}

// C35 (MUST): "client compresses with windowBits 8…15 and any level (incl. stored blocks,
// Huffman-only) → decoded correctly". Window 8 is only reachable with hand-written
// stored blocks (zlib's deflate turns 8 into 9).
#[test]
fn any_client_window_size_and_level_is_decoded_c35() {
    for v in [V31, V2] {
        let mut modes = vec![DeflateMode::Stored { window_bits: 8 }, DeflateMode::HuffmanOnly];
        for wb in 9..=15u8 {
            for level in [0u32, 1, 6, 9] {
                modes.push(DeflateMode::Zlib { level, window_bits: wb });
            }
        }
        for mode in modes {
            let mut h =
                Harness::with_client(v, SessionConfig::default(), Deflater::with_mode(mode, zlib::dictionary(v)));
            serve_three(&mut h, true);
        }
    }
}

// C36 (MUST): "three SYN_STREAMs whose blocks share one compression context (later blocks
// refer back to earlier ones) → all decoded correctly".
#[test]
fn blocks_that_refer_back_to_earlier_blocks_are_decoded_c36() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        let sizes = serve_three(&mut h, false);
        assert!(sizes[1] * 2 < sizes[0] && sizes[2] * 2 < sizes[0], "later blocks do not refer back: {sizes:?}");
    }
}

/// Sends a SYN_STREAM with a raw (uncompressed) block, expects RST(status) and no
/// StreamOpened, then the sync check.
fn expect_block_rejected(h: &mut Harness, nv: Vec<u8>, status: u32) {
    let id = h.next_id();
    h.send(&syn_stream(id).nv(nv));
    h.expect_rst(id, status);
    assert!(h.opened(id).is_none(), "stream {id} was opened: {:?}", h.events);
}

fn nv_with(v: Version, extra: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut p = request_headers(v, "/");
    for (n, val) in extra {
        p.push((n.to_vec(), val.to_vec()));
    }
    nv_block(v, &p)
}

// C37 (MUST): "header pair with zero-length name → inflate; RST(id, PROTOCOL_ERROR)".
#[test]
fn zero_length_header_name_is_reset_c37() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        expect_block_rejected(&mut h, nv_with(v, &[(b"", b"value")]), PROTOCOL_ERROR);
        h.sync_check();
    }
}

// C38 (CHOSEN): "name containing an uppercase letter → RST(id, PROTOCOL_ERROR)".
#[test]
fn uppercase_header_name_is_reset_c38() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        expect_block_rejected(&mut h, nv_with(v, &[(b"Accept", b"*/*")]), PROTOCOL_ERROR);
        expect_block_rejected(&mut h, nv_with(v, &[(b"x-fooZ", b"1")]), PROTOCOL_ERROR);
        h.sync_check();
    }
}

// C39 (CHOSEN): "name containing NUL, a control byte, space or a byte > 0x7e →
// RST(id, PROTOCOL_ERROR)".
#[test]
fn header_name_with_nul_control_space_or_high_byte_is_reset_c39() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        for name in [&b"x\0y"[..], b"x\x01y", b"x\ty", b"x y", b"x\x7fy", b"x\x80y", b"\xffname", b"x\r\ny"] {
            expect_block_rejected(&mut h, nv_with(v, &[(name, b"1")]), PROTOCOL_ERROR);
        }
        h.sync_check();
    }
}

// C40 (CHOSEN): "the same name twice in one block → RST(id, PROTOCOL_ERROR)".
#[test]
fn duplicate_header_name_is_reset_c40() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        expect_block_rejected(&mut h, nv_with(v, &[(b"cookie", b"a=1"), (b"cookie", b"b=2")]), PROTOCOL_ERROR);
        h.sync_check();
    }
}

// C41 (MUST): "value starting or ending with NUL, or containing two NULs in a row →
// RST(id, PROTOCOL_ERROR)". A NUL between two non-empty parts is legal.
#[test]
fn value_with_empty_nul_separated_parts_is_reset_c41() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        for value in [&b"\0a"[..], b"a\0", b"a\0\0b", b"\0", b"\0\0"] {
            expect_block_rejected(&mut h, nv_with(v, &[(b"x-multi", value)]), PROTOCOL_ERROR);
        }
        let id = h.next_id();
        h.send(&syn_stream(id).nv(nv_with(v, &[(b"x-multi", b"a\0b\0c")])));
        match h.opened(id) {
            Some(Ev::Opened { headers, .. }) => assert_eq!(get(&headers, "x-multi"), Some(&b"a\0b\0c"[..])),
            other => panic!("{v}: {other:?}"),
        }
        h.expect_no_error();
        h.sync_check();
    }
}

// C42 (CHOSEN): "value containing CR, LF or another control byte except HTAB (NUL as
// separator allowed) → RST(id, PROTOCOL_ERROR); nothing forwarded upstream".
#[test]
fn value_with_cr_lf_or_control_bytes_is_reset_c42() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        for value in [&b"a\rb"[..], b"a\nb", b"evil\r\nx-injected: 1", b"a\x01b", b"a\x1fb", b"a\x7fb"] {
            expect_block_rejected(&mut h, nv_with(v, &[(b"x-value", value)]), PROTOCOL_ERROR);
        }
        let id = h.next_id();
        h.send(&syn_stream(id).nv(nv_with(v, &[(b"x-value", b"tab\there")])));
        assert!(h.opened(id).is_some(), "{v}: HTAB rejected: {:?}", h.events);
        h.expect_no_error();
        h.sync_check();
    }
}

// C43 (MUST): "value of length 0 → accepted (empty value)". E3: on SPDY/2 it is invalid →
// RST(id, PROTOCOL_ERROR).
#[test]
fn empty_value_is_accepted_on_spdy3_c43() {
    for v in V3X {
        let mut h = Harness::new(v);
        h.send(&syn_stream(1).nv(nv_with(v, &[(b"x-empty", b"")])));
        match h.opened(1) {
            Some(Ev::Opened { headers, .. }) => assert_eq!(get(&headers, "x-empty"), Some(&b""[..])),
            other => panic!("{v}: {other:?} {:?}", h.error),
        }
        h.expect_no_error();
    }
}

#[test]
fn empty_value_is_reset_on_spdy2_e3() {
    let mut h = Harness::new(V2);
    expect_block_rejected(&mut h, nv_with(V2, &[(b"x-empty", b"")]), PROTOCOL_ERROR);
    h.sync_check();
}

// C44 (CHOSEN): "decompressed block malformed: count larger than the pairs present, a length
// running past the end, or bytes left over → RST(id, PROTOCOL_ERROR); session continues
// (sync check)".
#[test]
fn malformed_decompressed_blocks_are_reset_and_the_session_continues_c44() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        let good = nv_with(v, &[]);
        let n = request_headers(v, "/").len() as u32;
        // count larger than the pairs present
        let mut more = nv_int(v, n + 1);
        more.extend_from_slice(&good[nv_int(v, 0).len()..]);
        // a value length running past the end
        let mut past = nv_int(v, 1);
        past.extend(nv_str(v, b"x-a"));
        past.extend(nv_int(v, 100));
        past.extend_from_slice(b"short");
        // bytes left over after the last pair
        let mut extra = good.clone();
        extra.extend_from_slice(b"\x00\x00junk");
        // a block shorter than its count field
        let tiny = vec![0u8];
        // a name length running past the end
        let mut name_past = nv_int(v, 1);
        name_past.extend(nv_int(v, 50));
        name_past.extend_from_slice(b"abc");
        for nv in [more, past, extra, tiny, name_past] {
            expect_block_rejected(&mut h, nv, PROTOCOL_ERROR);
        }
        h.sync_check();
    }
}

// C45 (CHOSEN): "decompressed block larger than the configured limit (default 64 KiB) →
// inflate fully (discarding output); RST(id, FRAME_TOO_LARGE); sync check passes". E6: on
// SPDY/2, PROTOCOL_ERROR.
#[test]
fn decompressed_block_over_the_limit_is_reset_as_frame_too_large_c45_e6() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        let big = vec![b'a'; 40_000];
        let id = h.next_id();
        // two 40 000-byte values: 80 000 > 65 536 decompressed, a few hundred bytes compressed
        let bytes = h.encode(&h.syn(id).header("x-big1", &big).header("x-big2", &big));
        assert!(bytes.len() < 2000);
        h.send_bytes(&bytes);
        h.expect_rst(id, if v == V2 { PROTOCOL_ERROR } else { FRAME_TOO_LARGE });
        assert!(h.opened(id).is_none());
        // the next block refers back into the 80 000 bytes the server had to inflate
        let id = h.next_id();
        h.send(&h.syn(id).header("x-big1", &big[..30_000]).fin());
        match h.opened(id) {
            Some(Ev::Opened { headers, .. }) => assert_eq!(get(&headers, "x-big1"), Some(&big[..30_000])),
            other => panic!("{v}: {other:?} {:?}", h.error),
        }
        h.respond(id, 1);
        h.expect_no_error();
        h.sync_check();
    }
}

// C45 with a configured limit: exactly at the limit passes, one byte over is reset.
#[test]
fn configured_header_block_limit_is_exact_c45() {
    let mut h = Harness::with_config(V31, with_limits(|l| l.max_header_block = 4096));
    let base = nv_with(V31, &[(b"x-pad", b"")]).len();
    let id = h.next_id();
    h.send(&syn_stream(id).nv(nv_with(V31, &[(b"x-pad", &vec![b'p'; 4096 - base])])));
    assert!(h.opened(id).is_some(), "block of exactly 4096 bytes refused: {:?}", h.error);
    h.expect_no_error();
    let id = h.next_id();
    h.send(&syn_stream(id).nv(nv_with(V31, &[(b"x-pad", &vec![b'p'; 4097 - base])])));
    h.expect_rst(id, FRAME_TOO_LARGE);
    h.sync_check();
}

// C46 (CHOSEN): "compressed control frame larger than the configured cap (default 64 KiB) …
// → GOAWAY(1)+close".
#[test]
fn compressed_header_frame_over_the_cap_is_a_session_error_c46() {
    for v in [V3, V31, V2] {
        let mut h = with_stream_1(v);
        let cookie = noise(100_000, 46);
        let f = h.syn(3).header("cookie", &cookie);
        let bytes = h.encode(&f);
        assert!(bytes.len() - 8 > 65_536);
        h.send_bytes(&bytes);
        h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
    }
    // the same for HEADERS, with a small configured cap
    let mut h = Harness::with_config(V31, with_limits(|l| l.max_control_payload = 8192));
    h.open(1);
    let bytes = h.encode(&headers(1).header("cookie", noise(12_000, 7)));
    assert!(bytes.len() - 8 > 8192);
    h.send_bytes(&bytes);
    h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
}

// C46 / C5: the configured cap itself is accepted.
#[test]
fn compressed_header_frame_at_the_cap_is_accepted_c46() {
    let d = Deflater::with_mode(DeflateMode::Stored { window_bits: 15 }, zlib::SPDY3_DICT);
    let mut h = Harness::with_client(V31, with_limits(|l| l.max_control_payload = 8192), d);
    let (syn, _) = c5_syn(V31, 8192);
    h.send(&syn);
    assert!(h.opened(1).is_some(), "{:?}", h.error);
    h.expect_no_error();
}

// C46: "… or decompression output exceeding the hard budget (default 1 MiB) → GOAWAY(1)+close".
#[test]
fn decompression_over_the_hard_budget_is_a_session_error_c46() {
    for v in [V3, V31, V2] {
        let mut h = with_stream_1(v);
        let bomb = vec![b'z'; 60_000];
        let mut f = h.syn(3);
        for i in 0..20 {
            f = f.header(format!("x-bomb-{i:02}"), &bomb);
        }
        let bytes = h.encode(&f);
        assert!(bytes.len() < 16_000, "bomb is {} bytes", bytes.len());
        h.send_bytes(&bytes);
        h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
    }
}

// C47 (CHOSEN): "more header pairs than the limit (default 128) → RST(id, FRAME_TOO_LARGE)".
// 128 pairs pass. E6: PROTOCOL_ERROR on SPDY/2.
#[test]
fn more_header_pairs_than_the_limit_are_reset_c47() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        let base = request_headers(v, "/").len();
        let mut p = request_headers(v, "/");
        for i in 0..(128 - base) {
            p.push((format!("x-h{i:03}").into_bytes(), b"1".to_vec()));
        }
        h.send(&syn_stream(1).headers(&p));
        assert!(h.opened(1).is_some(), "{v}: 128 pairs refused: {:?}", h.error);
        h.expect_no_error();
        p.push((b"x-one-too-many".to_vec(), b"1".to_vec()));
        h.send(&syn_stream(3).headers(&p));
        h.expect_rst(3, if v == V2 { PROTOCOL_ERROR } else { FRAME_TOO_LARGE });
        assert!(h.opened(3).is_none());
        h.sync_check();
    }
}

// C48 (CHOSEN): "pair count field claims 2^32−1 pairs in a small block → rejected per C44
// without allocating for the claimed count" (an allocation of that size would abort).
#[test]
fn huge_pair_count_in_a_small_block_is_reset_without_allocating_c48() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        let mut nv = nv_int(v, u32::MAX);
        nv.extend(nv_str(v, b":method"));
        nv.extend(nv_str(v, b"GET"));
        expect_block_rejected(&mut h, nv, PROTOCOL_ERROR);
        // and a huge name length
        let mut nv = nv_int(v, 1);
        nv.extend(nv_int(v, u32::MAX));
        nv.extend_from_slice(b"x");
        expect_block_rejected(&mut h, nv, PROTOCOL_ERROR);
        h.sync_check();
    }
}

// ===================================================================== A6. DATA received

// C62 (CHOSEN): "DATA with stream ID 0 → GOAWAY(1)+close".
#[test]
fn data_on_stream_0_is_a_session_error_c62() {
    for v in [V3, V31, V2] {
        let mut h = with_stream_1(v);
        h.send(&data(0, &b"x"[..]));
        h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
    }
}

// C63 (MUST): "DATA for a stream never opened (odd ID above the highest client ID, or an even
// ID never pushed) and no GOAWAY sent → RST(id, INVALID_STREAM)". E7: unchanged on SPDY/2.
#[test]
fn data_for_a_never_opened_stream_is_reset_as_invalid_stream_c63_e7() {
    for v in [V3, V31, V2] {
        let mut h = with_stream_1(v);
        h.send(&data(7, &b"x"[..]));
        h.expect_rst(7, INVALID_STREAM);
        h.send(&data(2, &b"x"[..]).fin());
        h.expect_rst(2, INVALID_STREAM);
        assert!(!h.events.iter().any(|e| matches!(e, Ev::Data { id: 7 | 2, .. })));
        h.sync_check();
    }
}

// C64 (CHOSEN): "same as C63 after the server sent GOAWAY → dropped silently".
#[test]
fn data_for_a_never_opened_stream_after_goaway_is_dropped_c64() {
    for v in [V3, V31, V2] {
        let mut h = with_stream_1(v);
        h.goaway(GOAWAY_OK);
        h.flush();
        h.send(&data(9, &b"late"[..]));
        h.expect_silence();
        h.send(&data(1, &b"still"[..]));
        assert_eq!(h.received(1).0, b"still");
    }
}

// C65 (MUST): "DATA after the client's FIN on that stream → RST(id, STREAM_ALREADY_CLOSED)".
// E6: PROTOCOL_ERROR on SPDY/2.
#[test]
fn data_after_the_client_fin_is_reset_as_stream_already_closed_c65_e6() {
    for v in [V3, V31, V2] {
        let want = if v == V2 { PROTOCOL_ERROR } else { STREAM_ALREADY_CLOSED };
        let mut h = Harness::new(v);
        h.open_fin(1);
        h.send(&data(1, &b"late"[..]));
        h.expect_rst(1, want);
        h.open(3);
        h.send(&data(3, &b"body"[..]).fin());
        h.send(&data(3, &b"more"[..]));
        h.expect_rst(3, want);
        assert_eq!(h.received(3), (b"body".to_vec(), true));
        h.sync_check();
    }
}

// C66 (MUST): "DATA for a stream that completed normally (both FINs) and is still
// remembered → RST(id, PROTOCOL_ERROR)".
#[test]
fn data_for_a_completed_stream_is_reset_as_protocol_error_c66() {
    for v in V3X {
        let mut h = Harness::new(v);
        h.open_fin(1);
        h.respond(1, 10);
        h.flush();
        assert!(h.events.contains(&Ev::Closed { id: 1 }));
        h.send(&data(1, &b"late"[..]));
        h.expect_rst(1, PROTOCOL_ERROR);
        h.sync_check();
    }
}

// E7: "DATA on a stream already torn down is ignored (replaces C66/C67)" on SPDY/2.
#[test]
fn spdy2_data_for_a_torn_down_stream_is_ignored_e7() {
    let mut h = Harness::new(V2);
    h.open_fin(1);
    h.respond(1, 10);
    h.flush();
    h.send(&data(1, &b"late"[..]));
    h.expect_silence();
    h.open(3);
    h.reset(3, CANCEL);
    h.expect_rst(3, CANCEL);
    h.send(&data(3, &b"late"[..]));
    h.expect_silence();
    h.sync_check();
}

// C67 (CHOSEN): "DATA for a stream the server reset (RST sent) → dropped silently (no
// further RST); session not closed". (The 3.1 window part is C87.)
#[test]
fn data_for_a_stream_the_server_reset_is_dropped_silently_c67() {
    for v in V3X {
        let mut h = with_stream_1(v);
        h.reset(1, INTERNAL_ERROR);
        h.expect_rst(1, INTERNAL_ERROR);
        h.send(&data(1, vec![1u8; 1000]));
        h.send(&data(1, vec![1u8; 1000]).fin());
        h.expect_silence();
        assert!(!h.events.iter().any(|e| matches!(e, Ev::Data { id: 1, .. })));
        // a stream reset for a stream error (C24) behaves the same
        h.open(3);
        h.send(&h.syn(3));
        h.expect_rst(3, PROTOCOL_ERROR);
        h.send(&data(3, &b"x"[..]));
        h.expect_silence();
        h.sync_check();
    }
}

// C68 (MAY): "many DATA frames for invalid streams (default threshold 100 per session) →
// GOAWAY(1)+close". 100 are tolerated; the 101st closes.
#[test]
fn a_flood_of_data_for_invalid_streams_closes_the_session_c68() {
    for v in [V3, V31, V2] {
        let mut h = with_stream_1(v);
        for i in 0..100u32 {
            h.send(&data(1001 + 2 * i, &b"x"[..]));
            h.flush();
            assert!(h.error.is_none(), "{v}: closed after {} invalid DATA frames", i + 1);
        }
        h.send(&data(2001, &b"x"[..]));
        h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
    }
}

// C68 with a configured threshold.
#[test]
fn configured_invalid_stream_threshold_is_exact_c68() {
    let mut h = Harness::with_config(V31, with_limits(|l| l.max_invalid_stream_frames = 3));
    h.open(1);
    for id in [11u32, 13, 15] {
        h.send(&data(id, &b"x"[..]));
    }
    h.flush();
    assert!(h.error.is_none());
    h.send(&data(17, &b"x"[..]));
    h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
}

// C70 (MUST): "zero-length DATA with FIN while the stream's receive window is 0 → accepted;
// stream half-closed".
#[test]
fn empty_data_with_fin_is_accepted_on_an_exhausted_window_c70() {
    for v in V3X {
        let mut h = Harness::with_config(v, config_windows(65_536, 1 << 24));
        h.open(1);
        h.send(&data(1, vec![7u8; 65_536]));
        assert_eq!(h.client_send[&1], 0);
        h.send(&data(1, Vec::new()).fin());
        h.expect_no_error();
        let (body, fin) = h.received(1);
        assert_eq!((body.len(), fin), (65_536, true));
        h.respond(1, 10);
        let rx = h.expect_no_error();
        assert!(has_fin(&rx, 1));
    }
}

// ===================================================================== A7. Flow control

/// Opens stream `id` (GET) and declares a `len`-byte response body.
fn get_with_body(h: &mut Harness, id: u32, len: usize) {
    h.open_fin(id);
    h.respond(id, len);
}

// C71 (MUST): "client sends no SETTINGS; response body 200 KiB → server sends exactly
// 65 536 bytes of DATA on the stream, then waits for WINDOW_UPDATE".
#[test]
fn without_client_settings_exactly_65536_bytes_are_sent_then_it_waits_c71() {
    for v in V3X {
        let mut h = Harness::new(v);
        get_with_body(&mut h, 1, 200 * 1024);
        let rx = h.expect_no_error();
        assert_eq!(data_len(&rx, 1), 65_536, "{v}");
        assert!(!has_fin(&rx, 1));
        h.expect_silence();
        assert_eq!(h.s.stream_send_window(spdygate::spdy::StreamId::new(1)), Some(0));
        h.send(&window_update(1, 10_000));
        if v == V31 {
            h.send(&window_update(0, 10_000));
        }
        let rx = h.expect_no_error();
        assert_eq!(data_len(&rx, 1), 10_000, "{v}");
        h.expect_silence();
    }
}

// C72 (MUST, 3.1): "two concurrent responses of 200 KiB, client updates only stream windows
// → total DATA across both streams stops at 65 536 (session window) until WINDOW_UPDATE(0)".
#[test]
fn the_session_window_caps_all_streams_together_c72() {
    let mut h = Harness::new(V31);
    get_with_body(&mut h, 1, 200 * 1024);
    get_with_body(&mut h, 3, 200 * 1024);
    h.send(&window_update(1, 1 << 20));
    h.send(&window_update(3, 1 << 20));
    let rx = h.expect_no_error();
    assert_eq!(data_len(&rx, 1) + data_len(&rx, 3), 65_536, "{rx:?}");
    h.send(&window_update(1, 1 << 20));
    h.expect_silence();
    h.send(&window_update(0, 50_000));
    let rx = h.expect_no_error();
    assert_eq!(data_len(&rx, 1) + data_len(&rx, 3), 50_000);
    h.send(&window_update(0, 1 << 20));
    let rx = h.expect_no_error();
    assert_eq!(data_len(&rx, 1) + data_len(&rx, 3), 2 * 200 * 1024 - 115_536);
    assert!(has_fin(&rx, 1) && has_fin(&rx, 3));
}

// C73 (MUST): "client SETTINGS INITIAL_WINDOW_SIZE = N before a request → new streams start
// with send window N".
#[test]
fn client_initial_window_size_sets_new_stream_windows_c73() {
    for v in V3X {
        let mut h = Harness::new(v);
        h.send(&settings().initial_window(10_000));
        get_with_body(&mut h, 1, 100_000);
        let rx = h.expect_no_error();
        assert_eq!(data_len(&rx, 1), 10_000);
        assert_eq!(h.s.stream_send_window(spdygate::spdy::StreamId::new(1)), Some(0));
        // a larger N: limited by the session window in 3.1, by N in 3
        let mut h = Harness::new(v);
        h.send(&settings().initial_window(1 << 20));
        get_with_body(&mut h, 1, 100_000);
        let rx = h.expect_no_error();
        assert_eq!(data_len(&rx, 1), if v == V31 { 65_536 } else { 100_000 });
    }
}

// C74 (MUST): "client lowers INITIAL_WINDOW_SIZE from 65 536 to 16 384 after the server
// already sent 60 000 bytes on a stream → stream window becomes −43 616; server sends
// nothing more until WINDOW_UPDATEs make it positive".
#[test]
fn lowering_initial_window_size_makes_a_window_negative_c74() {
    for v in V3X {
        let mut h = Harness::new(v);
        if v == V31 {
            h.send(&window_update(0, 1 << 20));
        }
        h.open_fin(1);
        h.reply(1, false).unwrap();
        h.send_data(1, 60_000, false).unwrap();
        let rx = h.expect_no_error();
        assert_eq!(data_len(&rx, 1), 60_000);
        h.send(&settings().initial_window(16_384));
        assert_eq!(h.s.stream_send_window(spdygate::spdy::StreamId::new(1)), Some(-43_616));
        h.send_data(1, 100_000, true).unwrap();
        h.expect_silence();
        h.send(&window_update(1, 43_616));
        h.expect_silence();
        h.send(&window_update(1, 1000));
        let rx = h.expect_no_error();
        assert_eq!(data_len(&rx, 1), 1000);
    }
}

// C75 (MUST): "client raises INITIAL_WINDOW_SIZE while a stream is blocked → blocked stream
// resumes by the difference".
#[test]
fn raising_initial_window_size_resumes_a_blocked_stream_c75() {
    for v in V3X {
        let mut h = Harness::new(v);
        if v == V31 {
            h.send(&window_update(0, 1 << 20));
        }
        get_with_body(&mut h, 1, 200_000);
        let rx = h.expect_no_error();
        assert_eq!(data_len(&rx, 1), 65_536);
        h.send(&settings().initial_window(70_000));
        let rx = h.expect_no_error();
        assert_eq!(data_len(&rx, 1), 70_000 - 65_536);
    }
}

// C76 (MUST, 3.1): "client changes INITIAL_WINDOW_SIZE → session send window unchanged".
#[test]
fn initial_window_size_does_not_change_the_session_window_c76() {
    let mut h = Harness::new(V31);
    get_with_body(&mut h, 1, 100_000);
    h.send(&settings().initial_window(1 << 20));
    let rx = h.expect_no_error();
    assert_eq!(data_len(&rx, 1), 65_536);
    h.send(&settings().initial_window(1000));
    h.send(&settings().initial_window(1 << 21));
    h.expect_silence();
    h.send(&window_update(0, 5));
    let rx = h.expect_no_error();
    assert_eq!(data_len(&rx, 1), 5);
}

// C77 (MUST): "WINDOW_UPDATE(stream) that takes the stream send window above 2^31−1 →
// RST(id, FLOW_CONTROL_ERROR)". Exactly 2^31−1 is allowed.
#[test]
fn stream_window_update_over_2_31_minus_1_is_reset_c77() {
    for v in V3X {
        let mut h = Harness::new(v);
        h.open_fin(1);
        h.open_fin(3);
        h.send(&window_update(1, 0x7fff_ffff - 65_536));
        h.expect_no_error();
        assert_eq!(h.s.stream_send_window(spdygate::spdy::StreamId::new(1)), Some(MAX_WINDOW));
        h.send(&window_update(1, 1));
        h.expect_rst(1, FLOW_CONTROL_ERROR);
        h.send(&window_update(3, 0x7fff_ffff));
        h.expect_rst(3, FLOW_CONTROL_ERROR);
        h.sync_check();
    }
}

// C78 (MUST, 3.1): "WINDOW_UPDATE(0) that takes the session send window above 2^31−1 →
// GOAWAY(1)+close".
#[test]
fn session_window_update_over_2_31_minus_1_is_a_session_error_c78() {
    let mut h = with_stream_1(V31);
    h.send(&window_update(0, 0x7fff_ffff - 65_536));
    h.expect_no_error();
    h.send(&window_update(0, 1));
    h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
}

// C79 (CHOSEN): "WINDOW_UPDATE(stream) with delta 0 → RST(id, FLOW_CONTROL_ERROR)".
#[test]
fn stream_window_update_with_delta_0_is_reset_c79() {
    for v in V3X {
        let mut h = with_stream_1(v);
        h.send(&window_update(1, 0));
        h.expect_rst(1, FLOW_CONTROL_ERROR);
        // the reserved bit alone is also delta 0
        h.open(3);
        h.send(&window_update(3, 0x8000_0000));
        h.expect_rst(3, FLOW_CONTROL_ERROR);
    }
}

// C80 (CHOSEN, 3.1): "WINDOW_UPDATE(0) with delta 0 → GOAWAY(1)+close".
#[test]
fn session_window_update_with_delta_0_is_a_session_error_c80() {
    let mut h = with_stream_1(V31);
    h.send(&window_update(0, 0));
    h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
}

// C81 (CHOSEN): "WINDOW_UPDATE for an unknown or closed stream → ignored".
#[test]
fn window_update_for_an_unknown_or_closed_stream_is_ignored_c81() {
    for v in V3X {
        let mut h = Harness::new(v);
        h.send(&window_update(9, 1000));
        h.send(&window_update(2, 1000));
        h.expect_silence();
        h.open_fin(1);
        h.respond(1, 10);
        h.flush();
        h.send(&window_update(1, 1000));
        h.send(&window_update(1, 0x7fff_ffff));
        h.expect_silence();
        h.expect_alive();
    }
}

// C82 (MUST): "WINDOW_UPDATE for a stream the client has half-closed → applied".
#[test]
fn window_update_on_a_client_half_closed_stream_is_applied_c82() {
    for v in V3X {
        let mut h = Harness::new(v);
        if v == V31 {
            h.send(&window_update(0, 1 << 20));
        }
        get_with_body(&mut h, 1, 100_000);
        let rx = h.expect_no_error();
        assert_eq!(data_len(&rx, 1), 65_536);
        h.send(&window_update(1, 34_464));
        let rx = h.expect_no_error();
        assert_eq!(data_len(&rx, 1), 34_464);
        assert!(has_fin(&rx, 1));
    }
}

// C83 (CHOSEN, 3): "WINDOW_UPDATE with stream ID 0 on a spdy/3 session → ignored".
#[test]
fn spdy3_window_update_for_stream_0_is_ignored_c83() {
    let mut h = Harness::new(V3);
    get_with_body(&mut h, 1, 200_000);
    h.flush();
    h.send(&window_update(0, 0));
    h.send(&window_update(0, 0x7fff_ffff));
    h.send(&window_update(0, 0x7fff_ffff));
    h.expect_silence();
    // the stream window alone governs spdy/3
    h.send(&window_update(1, 1 << 20));
    let rx = h.expect_no_error();
    assert_eq!(data_len(&rx, 1), 200_000 - 65_536);
}

// C84 (CHOSEN): "WINDOW_UPDATE with the reserved top bit of the delta set → bit masked off,
// delta applied".
#[test]
fn window_update_reserved_bit_is_masked_c84() {
    for v in V3X {
        let mut h = Harness::new(v);
        get_with_body(&mut h, 1, 200_000);
        h.flush();
        h.send(&window_update(1, 0x8000_0000 | 1000));
        if v == V31 {
            h.send(&window_update(0, 0x8000_0000 | 700));
        }
        let rx = h.expect_no_error();
        assert_eq!(data_len(&rx, 1), if v == V31 { 700 } else { 1000 });
        // and the reserved bit of the stream id
        h.send(&window_update(0x8000_0001, 300));
        if v == V31 {
            h.send(&window_update(0x8000_0000, 1000));
        }
        let rx = h.expect_no_error();
        assert_eq!(data_len(&rx, 1), if v == V31 { 600 } else { 300 });
    }
}

// C85 (CHOSEN): "client DATA longer than the stream's remaining receive window →
// RST(id, FLOW_CONTROL_ERROR)".
#[test]
fn data_beyond_the_stream_receive_window_is_reset_c85() {
    for v in V3X {
        let mut h = Harness::with_config(v, config_windows(65_536, 1 << 24));
        h.open(1);
        h.send(&data(1, vec![1u8; 65_536]));
        h.expect_no_error();
        h.send(&data(1, vec![1u8; 1]));
        h.expect_rst(1, FLOW_CONTROL_ERROR);
        // one frame larger than the whole window
        h.open(3);
        h.send(&data(3, vec![1u8; 65_537]));
        h.expect_rst(3, FLOW_CONTROL_ERROR);
        h.sync_check();
    }
}

// C86 (CHOSEN, 3.1): "client DATA longer than the session's remaining receive window →
// GOAWAY(1)+close".
#[test]
fn data_beyond_the_session_receive_window_is_a_session_error_c86() {
    let mut h = Harness::with_config(V31, config_windows(1 << 20, 65_536));
    assert_eq!(h.client_send_session, 65_536, "{:?}", h.initial);
    h.open(1);
    h.open(3);
    h.send(&data(1, vec![1u8; 40_000]));
    h.send(&data(3, vec![1u8; 25_536]));
    h.expect_no_error();
    h.send(&data(3, vec![1u8; 1]));
    h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 3);
}

// C87 (MUST, 3.1): "client sends DATA to unknown / reset streams, then legitimate DATA → the
// ignored frames were still counted against the session receive window; the server's
// WINDOW_UPDATE(0) covers them; no false C86".
#[test]
fn ignored_data_still_counts_against_the_session_window_c87() {
    let mut h = Harness::with_config(V31, config_windows(1 << 20, 65_536));
    h.auto_consume = true;
    h.open(1);
    h.reset(1, CANCEL);
    h.expect_rst(1, CANCEL);
    h.send(&data(1, vec![1u8; 30_000])); // reset stream: dropped
    h.send(&data(99, vec![1u8; 30_000])); // unknown stream: RST INVALID_STREAM
    h.expect_rst(99, INVALID_STREAM);
    // the server gave the 60 000 bytes back: the client may send its whole window again
    let granted = h.client_send_session;
    assert!(granted >= 60_000, "no WINDOW_UPDATE(0) covered the ignored bytes: window {granted}");
    h.open(3);
    let mut left = granted as usize;
    while left > 0 {
        let n = left.min(16_000);
        h.send(&data(3, vec![2u8; n]));
        left -= n;
    }
    h.flush();
    assert!(h.error.is_none(), "false C86: {:?}", h.error);
    // and nothing more than that: one byte past the client's window is C86
    let window = h.client_send_session;
    h.send(&data(3, vec![2u8; window as usize + 1]));
    h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 3);
}

// C88 (MUST): "server consumes uploaded data → WINDOW_UPDATE for the stream (and stream 0
// in 3.1) as data is consumed; never delta 0; never a window above 2^31−1" (delta and window
// bounds are checked by the harness on every WINDOW_UPDATE).
#[test]
fn consumed_uploads_are_returned_with_window_updates_c88() {
    for v in V3X {
        let mut h = Harness::with_config(v, config_windows(65_536, 65_536));
        h.open(1);
        let total = 4 * 65_536 + 12_345;
        let mut sent = 0usize;
        let mut rounds = 0;
        while sent < total {
            rounds += 1;
            assert!(rounds < 1000);
            let mut w = h.client_send[&1];
            if v == V31 {
                w = w.min(h.client_send_session);
            }
            assert!(w > 0, "{v}: client window exhausted after {sent} bytes and the server granted nothing");
            let n = (w as usize).min(4096).min(total - sent);
            h.send(&data(1, vec![3u8; n]));
            sent += n;
            h.consume(1, n);
            h.expect_no_error();
        }
        assert_eq!(h.received(1).0.len(), total);
    }
}

// C88: no WINDOW_UPDATE before the application consumed the data.
#[test]
fn window_updates_wait_for_consumption_c88() {
    for v in V3X {
        let mut h = Harness::with_config(v, config_windows(65_536, 65_536));
        h.open(1);
        h.send(&data(1, vec![3u8; 65_536]));
        let rx = h.expect_no_error();
        assert!(!rx.iter().any(|f| matches!(f, Rx::WindowUpdate { .. })), "{rx:?}");
        h.consume(1, 65_536);
        let rx = h.expect_no_error();
        assert!(rx.iter().any(|f| matches!(f, Rx::WindowUpdate { id: 1, .. })), "{rx:?}");
        if v == V31 {
            assert!(rx.iter().any(|f| matches!(f, Rx::WindowUpdate { id: 0, .. })), "{rx:?}");
        }
    }
}

// C89 (CHOSEN): "client SETTINGS INITIAL_WINDOW_SIZE > 2^31−1 → GOAWAY(1)+close".
#[test]
fn initial_window_size_over_2_31_minus_1_is_a_session_error_c89() {
    for v in V3X {
        for value in [0x8000_0000u32, 0xffff_ffff] {
            let mut h = with_stream_1(v);
            h.send(&settings().initial_window(value));
            h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
        }
        let mut h = with_stream_1(v);
        h.send(&settings().initial_window(0x7fff_ffff));
        h.expect_no_error();
    }
}

// C90 (CHOSEN): "SETTINGS delta would push an open stream's send window above 2^31−1 →
// RST(id, FLOW_CONTROL_ERROR) for each such stream".
#[test]
fn settings_delta_over_2_31_minus_1_resets_the_affected_streams_c90() {
    for v in V3X {
        let mut h = Harness::new(v);
        h.open_fin(1);
        h.open_fin(3);
        h.open_fin(5);
        h.send(&window_update(1, 0x7fff_ffff - 65_536));
        h.send(&window_update(5, 0x7fff_ffff - 65_536 - 10));
        h.expect_no_error();
        h.send(&settings().initial_window(65_536 + 10));
        let rx = h.flush();
        assert!(h.error.is_none());
        let mut rsts: Vec<&Rx> = rx.iter().filter(|f| matches!(f, Rx::Rst { .. })).collect();
        rsts.sort_by_key(|f| f.stream());
        assert_eq!(rsts, [&Rx::Rst { id: 1, status: FLOW_CONTROL_ERROR }], "{rx:?}");
        h.respond(3, 70_000);
        let rx = h.expect_no_error();
        assert!(data_len(&rx, 3) > 0);
    }
}

// C91 (CHOSEN): "server's own INITIAL_WINDOW_SIZE → announced once in the first SETTINGS,
// ≥ 65 536, never lowered" (the harness flags any later announcement).
#[test]
fn server_initial_window_is_announced_once_c91() {
    for v in V3X {
        let mut h = Harness::with_config(v, config_windows(65_536, 1 << 20));
        let announced: Vec<&Rx> = h.initial.iter().filter(|f| matches!(f, Rx::Settings { .. })).collect();
        assert_eq!(announced.len(), 1);
        h.auto_consume = true;
        h.send(&settings().initial_window(1000));
        for id in [1u32, 3, 5] {
            h.open(id);
            h.send(&data(id, vec![0u8; 30_000]).fin());
            h.respond(id, 3000);
            h.flush();
        }
        assert!(!h.rx_log.iter().any(|f| matches!(f, Rx::Settings { .. })), "{:?}", h.rx_log);
    }
}

// ===================================================================== A8. SETTINGS received

/// The send window a new stream gets after `s` is applied (probed with a 200 000-byte body).
fn window_after(v: Version, s: Settings) -> usize {
    let mut h = Harness::new(v);
    if v == V31 {
        h.send(&window_update(0, 1 << 20));
    }
    h.send(&s);
    get_with_body(&mut h, 1, 200_000);
    let rx = h.expect_no_error();
    data_len(&rx, 1)
}

// C92 (MUST): "the same ID twice in one SETTINGS frame → first value used, later ones ignored".
#[test]
fn repeated_settings_id_uses_the_first_value_c92() {
    for v in V3X {
        assert_eq!(window_after(v, settings().initial_window(10_000).initial_window(20_000)), 10_000);
        assert_eq!(window_after(v, settings().initial_window(30_000).entry(0, 4, 10).initial_window(5)), 30_000);
    }
}

// C93 (CHOSEN): "unknown ID (0, 9, 0xffffff) → ignored".
#[test]
fn unknown_settings_ids_are_ignored_c93() {
    for v in V3X {
        let s = settings()
            .entry(0, 0, 1)
            .entry(0, 9, 2)
            .entry(0, 0xff_ffff, 3)
            .initial_window(12_345)
            .entry(0, 8, 4)
            .entry(0, 1, 5);
        assert_eq!(window_after(v, s), 12_345);
    }
}

// C94 (MUST): "client entry with FLAG_SETTINGS_PERSIST_VALUE, or frame with
// FLAG_SETTINGS_CLEAR_SETTINGS → persistence flags ignored (value itself applied)".
#[test]
fn persistence_flags_from_the_client_are_ignored_c94() {
    for v in V3X {
        assert_eq!(window_after(v, settings().entry(FLAG_PERSIST_VALUE, SETTINGS_INITIAL_WINDOW_SIZE, 10_000)), 10_000);
        assert_eq!(window_after(v, settings().initial_window(11_000).flags(0x01)), 11_000);
    }
}

// C95 (CHOSEN): "client entry with FLAG_SETTINGS_PERSISTED → entry ignored entirely (…);
// later entries in the same frame still applied".
#[test]
fn persisted_entries_from_the_client_are_skipped_c95() {
    for v in V3X {
        assert_eq!(window_after(v, settings().entry(FLAG_PERSISTED, SETTINGS_INITIAL_WINDOW_SIZE, 10_000)), 65_536);
        assert_eq!(
            window_after(
                v,
                settings().entry(FLAG_PERSISTED, SETTINGS_MAX_CONCURRENT_STREAMS, 1).initial_window(20_000)
            ),
            20_000
        );
    }
}

// C97 (MUST): "SETTINGS arriving at any time, several times → later values override earlier
// ones; no reply frame (SPDY has no SETTINGS ACK)".
#[test]
fn later_settings_override_earlier_ones_without_a_reply_c97() {
    for v in V3X {
        let mut h = Harness::new(v);
        if v == V31 {
            h.send(&window_update(0, 1 << 20));
        }
        h.send(&settings().initial_window(10_000));
        h.expect_silence();
        h.send(&settings().initial_window(20_000));
        h.expect_silence();
        get_with_body(&mut h, 1, 100_000);
        let rx = h.expect_no_error();
        assert_eq!(data_len(&rx, 1), 20_000);
        h.send(&settings().initial_window(25_000));
        let rx = h.expect_no_error();
        assert_eq!(data_len(&rx, 1), 5_000);
        assert!(!rx.iter().any(|f| matches!(f, Rx::Settings { .. })));
    }
}

// C98 (CHOSEN): "SETTINGS with more than 64 entries → GOAWAY(1)+close". 64 entries pass.
#[test]
fn settings_with_more_than_64_entries_is_a_session_error_c98() {
    for v in [V3, V31, V2] {
        let mut s = settings();
        for i in 0..64u32 {
            s = s.entry(0, 100 + i, i);
        }
        let mut h = with_stream_1(v);
        h.send(&s);
        h.expect_no_error();
        h.send(&s.clone().entry(0, 1, 1));
        h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
    }
}

// ===================================================================== A9. PING

/// Stream 1 with a large response body declared but not yet flushed.
fn with_queued_body(v: Version) -> Harness {
    let mut h = Harness::new(v);
    if v != V2 {
        h.send(&settings().initial_window(1 << 20));
    }
    if v == V31 {
        h.send(&window_update(0, 1 << 20));
    }
    get_with_body(&mut h, 1, 500_000);
    h
}

fn index_of(rx: &[Rx], pred: impl Fn(&Rx) -> bool) -> usize {
    rx.iter().position(pred).unwrap_or_else(|| panic!("frame not found in {rx:?}"))
}

// C99 (SHOULD): "PING with an odd ID → identical PING sent back, ahead of queued DATA".
#[test]
fn odd_ping_is_echoed_ahead_of_queued_data_c99() {
    for v in [V3, V31, V2] {
        let mut h = with_queued_body(v);
        h.send(&ping(1));
        h.send(&ping(0xffff_ffff));
        let rx = h.expect_no_error();
        let first_data = index_of(&rx, Rx::is_data);
        assert!(index_of(&rx, |f| *f == Rx::Ping { id: 1 }) < first_data, "{v}: {rx:?}");
        assert!(index_of(&rx, |f| *f == Rx::Ping { id: 0xffff_ffff }) < first_data, "{v}");
        assert_eq!(data_len(&rx, 1), 500_000);
    }
}

// C100 (MUST): "PING with an even ID the server did not send (incl. 0) → ignored, no reply".
#[test]
fn unsolicited_even_ping_is_ignored_c100() {
    for v in [V3, V31, V2] {
        let mut h = with_stream_1(v);
        for id in [0u32, 2, 4, 0x8000_0000] {
            h.send(&ping(id));
        }
        h.expect_silence();
        assert!(!h.events.iter().any(|e| matches!(e, Ev::PingAck { .. })));
    }
}

// C101 (MUST): "PING with an even ID the server sent and is waiting for → treated as the
// reply (RTT); not echoed".
#[test]
fn echo_of_a_server_ping_is_its_reply_c101() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        let id = h.ping();
        let rx = h.flush();
        assert_eq!(rx, [Rx::Ping { id }]);
        h.advance(Duration::from_millis(30));
        h.send(&ping(id));
        assert!(h.events.contains(&Ev::PingAck { id }), "{:?}", h.events);
        h.expect_silence();
        // a second echo is no longer awaited: ignored, no second PingAck
        h.send(&ping(id));
        h.expect_silence();
        assert_eq!(h.events.iter().filter(|e| **e == Ev::PingAck { id }).count(), 1);
    }
}

// C102 (MUST / SHOULD / CHOSEN): "server-initiated PINGs → even IDs (MUST), a fresh ID each
// time (SHOULD), increasing (CHOSEN)".
#[test]
fn server_pings_use_fresh_increasing_even_ids_c102() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        let ids: Vec<u32> = (0..5).map(|_| h.ping()).collect();
        assert!(ids.iter().all(|id| id % 2 == 0 && *id != 0), "{ids:?}");
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        let rx = h.flush();
        assert_eq!(rx, ids.iter().map(|&id| Rx::Ping { id }).collect::<Vec<_>>());
    }
}

// C103 (CHOSEN): "more than the allowed number of unanswered PING replies queued (peer not
// reading) … → stop reading, then GOAWAY(1)+close (see B6)". B6: "cap pending PING replies
// (default 10)". Ten queued replies are fine.
#[test]
fn too_many_queued_ping_replies_close_the_session_c103_b6() {
    for v in [V3, V31, V2] {
        let mut h = with_stream_1(v);
        let ten: Vec<u8> = (0..10u32).flat_map(|i| h.encode(&ping(2 * i + 1))).collect();
        h.send_bytes(&ten);
        let rx = h.expect_no_error();
        assert_eq!(rx.len(), 10);
        let eleven: Vec<u8> = (0..11u32).flat_map(|i| h.encode(&ping(101 + 2 * i))).collect();
        h.send_bytes(&eleven);
        assert!(!h.s.wants_read() || h.error.is_some(), "{v}: still reading with 11 PING replies queued");
        let rx = h.flush();
        let err = h.error.unwrap_or_else(|| panic!("{v}: no session error; frames {rx:?}"));
        assert_eq!(err.status.0, GOAWAY_PROTOCOL_ERROR);
        assert!(matches!(rx.last(), Some(Rx::GoAway { last_good: 1, .. })), "{rx:?}");
        h.expect_closed();
    }
}

// ===================================================================== A10. RST_STREAM received

// C104 (MUST): "RST_STREAM(CANCEL) on an active request stream → stream closed; server sends
// nothing more on it; upstream request aborted; no RST_STREAM in reply".
#[test]
fn cancel_on_an_active_stream_closes_it_silently_c104() {
    for v in [V3, V31, V2] {
        let mut h = with_queued_body(v);
        h.open(3);
        let mark = h.events.len();
        h.send(&rst_stream(1, CANCEL));
        assert!(since(&h, mark).contains(&Ev::Reset { id: 1, status: CANCEL, by_peer: true }), "{:?}", since(&h, mark));
        let rx = h.expect_no_error();
        assert!(on_stream(&rx, 1).is_empty(), "{v}: frames on the cancelled stream: {rx:?}");
        assert!(h.send_data(1, 10, true).is_err());
        assert_eq!(h.s.open_streams(), 1);
        // the other stream is untouched
        h.respond(3, 10);
        let rx = h.expect_no_error();
        assert_eq!(data_len(&rx, 3), 10);
    }
}

// C104 also for a stream whose body is part sent (window exhausted).
#[test]
fn cancel_on_a_stream_blocked_by_flow_control_drops_its_data_c104() {
    for v in V3X {
        let mut h = Harness::new(v);
        get_with_body(&mut h, 1, 200_000);
        h.flush();
        h.send(&rst_stream(1, CANCEL));
        h.send(&window_update(1, 100_000));
        if v == V31 {
            h.send(&window_update(0, 100_000));
        }
        h.expect_silence();
    }
}

// C105 (MUST): "RST_STREAM for an unknown or closed stream → ignored; no RST_STREAM in reply".
#[test]
fn rst_stream_for_an_unknown_or_closed_stream_is_ignored_c105() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        h.send(&rst_stream(9, CANCEL));
        h.send(&rst_stream(2, PROTOCOL_ERROR));
        h.expect_silence();
        h.open_fin(1);
        h.respond(1, 10);
        h.flush();
        h.send(&rst_stream(1, CANCEL));
        h.send(&rst_stream(1, CANCEL));
        h.expect_silence();
        h.expect_alive();
    }
}

// C106 (CHOSEN): "RST_STREAM with status 0 or an undefined status → stream closed anyway;
// nothing sent".
#[test]
fn rst_stream_with_status_0_or_unknown_closes_the_stream_c106() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        for (id, status) in [(1u32, 0u32), (3, 12), (5, 0xffff_ffff)] {
            h.open(id);
            h.reply(id, false).unwrap();
            h.send_data(id, 100_000, true).unwrap();
            let mark = h.events.len();
            h.send(&rst_stream(id, status));
            assert!(
                since(&h, mark).iter().any(|e| matches!(e, Ev::Reset { id: i, by_peer: true, .. } if *i == id)),
                "{v}: {:?}",
                since(&h, mark)
            );
            let rx = h.expect_no_error();
            assert!(on_stream(&rx, id).is_empty(), "{rx:?}");
        }
        assert_eq!(h.s.open_streams(), 0);
    }
}

// C107 (CHOSEN): "RST_STREAM with stream ID 0 → GOAWAY(1)+close".
#[test]
fn rst_stream_for_stream_0_is_a_session_error_c107() {
    for v in [V3, V31, V2] {
        let mut h = with_stream_1(v);
        h.send(&rst_stream(0, CANCEL));
        h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
    }
}

// ===================================================================== A11. GOAWAY

// C110 (MUST): "client sends GOAWAY → … open request streams are completed; then the server
// closes".
#[test]
fn client_goaway_lets_open_streams_complete_then_closes_c110() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        h.open_fin(1);
        h.open(3);
        let mark = h.events.len();
        h.send(&goaway(0, 0));
        assert!(
            since(&h, mark).iter().any(|e| matches!(e, Ev::GoAway { last_good: 0, status: 0 })),
            "{:?}",
            since(&h, mark)
        );
        h.respond(1, 30_000);
        let rx = h.expect_no_error();
        assert_eq!(data_len(&rx, 1), 30_000);
        assert!(!h.s.is_closed());
        h.send(&data(3, &b"upload"[..]).fin());
        assert_eq!(h.received(3), (b"upload".to_vec(), true));
        h.respond(3, 10);
        let rx = h.flush();
        assert!(h.error.is_none());
        assert!(has_fin(&rx, 3));
        assert!(!rx.iter().any(|f| matches!(f, Rx::GoAway { status: Some(s), .. } if *s != 0)), "{rx:?}");
        assert!(h.s.is_closed(), "{v}: session not closed after the client's GOAWAY and the last stream");
    }
}

// C110a (CHOSEN): "GOAWAY from the client with status 2, 7, 11 or any unknown value →
// processed exactly like C110; never a protocol error".
#[test]
fn client_goaway_with_any_status_is_a_normal_goaway_c110a() {
    for v in V3X {
        for status in [1u32, 2, 7, 11, 0xdead_beef] {
            let mut h = with_stream_1(v);
            let mark = h.events.len();
            h.send(&goaway(1, status));
            assert!(since(&h, mark).contains(&Ev::GoAway { last_good: 1, status }), "{:?}", since(&h, mark));
            h.respond(1, 100);
            let rx = h.expect_no_error();
            assert_eq!(data_len(&rx, 1), 100);
        }
    }
}

// C111 (MUST): "server shuts down gracefully → GOAWAY(0) with Last-good = highest accepted
// client stream; streams ≤ Last-good completed; then close".
#[test]
fn graceful_shutdown_finishes_accepted_streams_then_closes_c111() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        h.open_fin(1);
        h.open_fin(3);
        h.goaway(GOAWAY_OK);
        let rx = h.flush();
        assert_eq!(rx, [Rx::GoAway { last_good: 3, status: (v != V2).then_some(0) }]);
        assert!(!h.s.is_closed());
        assert_eq!(h.s.open_streams(), 2);
        h.respond(1, 20_000);
        h.respond(3, 20_000);
        let rx = h.expect_no_error();
        assert_eq!((data_len(&rx, 1), data_len(&rx, 3)), (20_000, 20_000));
        assert!(h.s.is_closed(), "{v}: not closed after the last stream finished");
    }
}

// C112 (MUST): "any session error → exactly one GOAWAY with the status, then close; no
// frames after it" — here with queued DATA and two offences in one read.
#[test]
fn a_session_error_sends_exactly_one_goaway_and_nothing_after_c112() {
    for v in [V3, V31, V2] {
        let mut h = with_queued_body(v);
        let mut bytes = h.encode(&rst_stream(0, CANCEL));
        bytes.extend(h.encode(&data(0, &b"x"[..])));
        bytes.extend(h.encode(&ping(7)));
        h.send_bytes(&bytes);
        let rx = h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
        assert!(!rx.contains(&Rx::Ping { id: 7 }), "{rx:?}");
        assert_eq!(h.send_data(1, 10, true), Err(SendError::Closed));
    }
}

// C113 (MUST): "no stream was ever accepted when the server sends GOAWAY →
// Last-good-stream-ID = 0".
#[test]
fn goaway_without_accepted_streams_names_stream_0_c113() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        h.goaway(GOAWAY_OK);
        let rx = h.flush();
        assert_eq!(rx, [Rx::GoAway { last_good: 0, status: (v != V2).then_some(0) }]);
        assert!(h.s.is_closed());
        // only refused streams so far, then a session error
        let mut h = Harness::with_config(v, SessionConfig { max_concurrent_streams: 0, ..SessionConfig::default() });
        h.send(&h.syn(1));
        h.expect_rst(1, REFUSED_STREAM);
        h.send(&rst_stream(0, CANCEL));
        h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 0);
    }
}

// C114 (MUST): "GOAWAY status values the server emits → only 0, 1 or 2 (never 11, never a
// 'FLOW_CONTROL_ERROR' value)". Flow-control session errors use 1.
#[test]
fn flow_control_session_errors_use_goaway_status_1_c114() {
    let mut h = Harness::with_config(V31, config_windows(1 << 20, 65_536));
    h.open(1);
    h.send(&data(1, vec![0u8; 65_537]));
    h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
    let mut h = with_stream_1(V31);
    h.send(&window_update(0, 0x7fff_ffff));
    h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
    let mut h = with_stream_1(V3);
    h.goaway(2);
    let rx = h.flush();
    assert_eq!(rx, [Rx::GoAway { last_good: 1, status: Some(2) }]);
}

// ===================================================================== A12. Other client frames

// C115 (CHOSEN): "HEADERS for an unknown stream → inflate; RST(id, INVALID_STREAM)".
#[test]
fn headers_for_an_unknown_stream_is_reset_as_invalid_stream_c115() {
    for v in [V3, V31, V2] {
        let mut h = with_stream_1(v);
        h.send(&headers(5).header("x-unknown", "1"));
        h.expect_rst(5, INVALID_STREAM);
        h.sync_check();
    }
}

// C116 (CHOSEN): "HEADERS after the client's FIN on that stream → inflate; RST(id, PROTOCOL_ERROR)".
#[test]
fn headers_after_the_client_fin_is_reset_c116() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        h.open_fin(1);
        h.send(&headers(1).header("x-late", "1"));
        h.expect_rst(1, PROTOCOL_ERROR);
        assert!(!h.events.iter().any(|e| matches!(e, Ev::Headers { .. })));
        h.sync_check();
    }
}

// C117 (CHOSEN): "SYN_REPLY from the client (any stream) → inflate; RST(id, PROTOCOL_ERROR)".
#[test]
fn syn_reply_from_the_client_is_reset_c117() {
    for v in [V3, V31, V2] {
        let mut h = with_stream_1(v);
        h.send(&syn_reply(1).header(":status", "200"));
        h.expect_rst(1, PROTOCOL_ERROR);
        h.send(&syn_reply(7).header(":status", "200"));
        h.expect_rst(7, PROTOCOL_ERROR);
        h.sync_check();
    }
}

// C118 (MUST): "HEADERS with zero pairs on an open stream → accepted (no-op)".
#[test]
fn headers_with_zero_pairs_is_accepted_c118() {
    for v in [V3, V31, V2] {
        let mut h = with_stream_1(v);
        h.send(&headers(1));
        h.expect_silence();
        h.send(&data(1, &b"body"[..]).fin());
        assert_eq!(h.received(1), (b"body".to_vec(), true));
        h.respond(1, 4);
        h.expect_no_error();
    }
}

// ===================================================================== A13. Never

// C119 (MUST / CHOSEN): "after its own FIN on a stream: no more SYN_REPLY, HEADERS or DATA on
// it (WINDOW_UPDATE for the client's upload and RST_STREAM stay allowed) … on spdy/3 sessions
// it is sent anyway as a CHOSEN deviation".
#[test]
fn nothing_but_window_updates_after_the_server_fin_c119() {
    for v in V3X {
        let mut h = Harness::with_config(v, config_windows(65_536, 65_536));
        h.open(1);
        h.respond(1, 100);
        h.flush();
        assert!(h.send_data(1, 10, false).is_err());
        assert!(h.send_headers(1, &pairs(&[("x-late", "1")]), false).is_err());
        assert!(h.reply(1, false).is_err());
        // the client's upload still gets window credit
        h.send(&data(1, vec![5u8; 60_000]));
        h.consume(1, 60_000);
        let rx = h.expect_no_error();
        assert!(rx.iter().any(|f| matches!(f, Rx::WindowUpdate { id: 1, .. })), "{v}: {rx:?}");
        assert!(!rx.iter().any(|f| matches!(f, Rx::Data { .. } | Rx::Headers { .. } | Rx::SynReply { .. })));
    }
}

// C119: "after sending or receiving RST_STREAM: nothing more on that stream" (queued DATA
// and HEADERS are dropped).
#[test]
fn nothing_after_a_reset_sent_by_the_server_c119() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        h.open(1);
        h.reply(1, false).unwrap();
        h.send_data(1, 50_000, false).unwrap();
        h.send_headers(1, &pairs(&[("x-trailer", "1")]), true).unwrap();
        h.reset(1, INTERNAL_ERROR);
        let rx = h.flush();
        // the SYN_REPLY queued before the reset may go out ahead of the RST_STREAM; the
        // queued DATA and HEADERS may not
        let on1 = on_stream(&rx, 1);
        assert_eq!(on1.last(), Some(&Rx::Rst { id: 1, status: INTERNAL_ERROR }), "{rx:?}");
        assert!(on1.iter().all(|f| matches!(f, Rx::SynReply { .. } | Rx::Rst { .. })), "{v}: {rx:?}");
        h.send(&data(1, &b"x"[..]));
        h.send(&window_update(1, 100));
        h.expect_silence();
    }
}

// C119 (MUST): "after sending or receiving RST_STREAM: nothing more on that stream" — a
// RST_STREAM the application queued is dropped when the client's RST_STREAM for the same
// stream arrives before it went out (SPDY3.md §3.3: "after receiving one, the receiver MUST
// NOT send more frames on the stream").
#[test]
fn a_queued_reset_is_dropped_when_the_client_resets_first_c119() {
    for v in [V3, V31, V2] {
        let mut h = with_stream_1(v);
        h.reset(1, INTERNAL_ERROR);
        h.send(&rst_stream(1, CANCEL));
        h.expect_silence();
        h.expect_alive();
    }
}

// C119: "after sending or receiving RST_STREAM: nothing more on that stream" — window
// credit queued for the stream's upload is dropped with the stream (stream 0 credit stays).
#[test]
fn no_window_update_follows_a_reset_sent_by_the_server_c119() {
    for v in V3X {
        let mut h = Harness::with_config(v, config_windows(65_536, 65_536));
        h.open(1);
        h.send(&data(1, vec![1u8; 40_000]));
        h.consume(1, 40_000);
        h.reset(1, INTERNAL_ERROR);
        let rx = h.flush();
        let on1 = on_stream(&rx, 1);
        assert_eq!(on1.last(), Some(&Rx::Rst { id: 1, status: INTERNAL_ERROR }), "{v}: {rx:?}");
    }
}

#[test]
fn no_window_update_follows_a_reset_by_the_client_c119() {
    for v in V3X {
        let mut h = Harness::with_config(v, config_windows(65_536, 65_536));
        h.open(1);
        h.send(&data(1, vec![1u8; 40_000]));
        h.consume(1, 40_000);
        h.send(&rst_stream(1, CANCEL));
        let rx = h.flush();
        assert!(on_stream(&rx, 1).is_empty(), "{v}: {rx:?}");
    }
}

// C120 (MUST): "never answer a RST_STREAM with a RST_STREAM" (the harness flags it on every
// test); here every status, on open, half-closed and unknown streams.
#[test]
fn rst_stream_is_never_answered_with_rst_stream_c120() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        let mut id = 1;
        for status in 0..=12u32 {
            h.open(id);
            h.send(&rst_stream(id, status));
            h.open_fin(id + 2);
            h.send(&rst_stream(id + 2, status));
            h.send(&rst_stream(id + 4, status));
            h.send(&rst_stream(id + 2, status));
            h.expect_silence();
            id += 6;
        }
    }
}

// C121 (MUST): "header blocks: one deflate stream per session, SPDY/3 dictionary, SYNC_FLUSH
// at the end of every block, never finish the stream; a fresh inflater fed all blocks in
// order decodes every one". The harness inflater checks this on every block; here for each
// compressor setting.
#[test]
fn server_header_blocks_form_one_sync_flushed_zlib_stream_c121() {
    use spdygate::spdy::header::CompressorKind;
    let kinds = [
        CompressorKind::default(),
        CompressorKind::Zlib { level: 0, window_bits: 11, mem_level: 1 },
        CompressorKind::Zlib { level: 9, window_bits: 15, mem_level: 9 },
        CompressorKind::Zlib { level: 1, window_bits: 9, mem_level: 1 },
    ];
    for v in [V3, V31, V2] {
        for kind in &kinds {
            let mut h = Harness::with_config(v, SessionConfig { compressor: kind.clone(), ..SessionConfig::default() });
            for i in 0..20u32 {
                let id = 2 * i + 1;
                h.open_fin(id);
                let mut reply = response_headers(v);
                reply.push((b"set-cookie".to_vec(), format!("id={i}\0theme=dark").into_bytes()));
                reply.push((b"x-pad".to_vec(), noise(50 * i as usize, i)));
                h.reply_with(id, &reply, false).unwrap();
                h.send_headers(id, &pairs(&[("x-trailer", format!("t{i}"))]), true).unwrap();
                let rx = h.expect_no_error();
                assert!(rx.contains(&Rx::SynReply { id, fin: false, headers: reply }), "{v} {kind:?}: {rx:?}");
                assert!(rx.contains(&Rx::Headers { id, fin: true, headers: pairs(&[("x-trailer", format!("t{i}"))]) }));
            }
        }
    }
}

// C121 with our own CRIME-resistant encoder.
#[test]
fn fast_encoder_blocks_inflate_with_stock_zlib_c121() {
    use spdygate::spdy::header::CompressorKind;
    for v in [V3, V31, V2] {
        let kind = CompressorKind::Fast { sensitive: vec![b"x-secret".to_vec()] };
        let mut h = Harness::with_config(v, SessionConfig { compressor: kind, ..SessionConfig::default() });
        for i in 0..10u32 {
            let id = 2 * i + 1;
            h.open_fin(id);
            let mut reply = response_headers(v);
            reply.push((b"x-secret".to_vec(), format!("token-{}", i % 3).into_bytes()));
            reply.push((b"set-cookie".to_vec(), b"a=1\0b=2".to_vec()));
            h.reply_with(id, &reply, true).unwrap();
            let rx = h.expect_no_error();
            assert!(rx.contains(&Rx::SynReply { id, fin: true, headers: reply }), "{v}: {rx:?}");
        }
    }
}

// C123 (MUST): "DATA frame length ≤ min(stream send window, session send window in 3.1)" —
// checked by the harness on every DATA frame; here windows are granted in odd-sized dribbles.
#[test]
fn data_frames_never_exceed_the_send_windows_c123() {
    for v in V3X {
        let mut h = Harness::new(v);
        h.send(&settings().initial_window(1000));
        get_with_body(&mut h, 1, 50_000);
        get_with_body(&mut h, 3, 50_000);
        let rx = h.flush();
        let mut sent = [data_len(&rx, 1), data_len(&rx, 3)];
        let mut k = 0u32;
        while sent[0] + sent[1] < 100_000 {
            k += 1;
            assert!(k < 500, "stalled at {sent:?}");
            let d = 1 + (k * 7919) % 5000;
            // grant only to streams with body left (WINDOW_UPDATEs for finished streams
            // are "no progress" frames, B8)
            for (i, id) in [1u32, 3].into_iter().enumerate() {
                if sent[i] < 50_000 {
                    h.send(&window_update(id, if (k + i as u32) % 2 == 0 { d } else { d / 2 + 1 }));
                }
            }
            if v == V31 && k % 3 == 0 {
                h.send(&window_update(0, 3 * d));
            }
            let rx = h.expect_no_error();
            sent[0] += data_len(&rx, 1);
            sent[1] += data_len(&rx, 3);
        }
        assert_eq!(sent, [50_000, 50_000]);
    }
}

// C124 (MUST): "no uppercase header names, no empty names, no empty NUL-separated parts, no
// hop-by-hop headers" — what the application hands over arrives intact (checked on every
// block); normalising names is the gateway's job (C57).
#[test]
fn reply_headers_reach_the_client_intact_c124() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        h.open_fin(1);
        let mut reply = response_headers(v);
        reply.push((b"set-cookie".to_vec(), b"a=1\0b=2\0c=3".to_vec()));
        reply.push((b"x-empty".to_vec(), if v == V2 { b"-".to_vec() } else { Vec::new() }));
        h.reply_with(1, &reply, true).unwrap();
        let rx = h.expect_no_error();
        assert_eq!(rx, [Rx::SynReply { id: 1, fin: true, headers: reply }]);
    }
}

// C125 (SHOULD / CHOSEN): "PING replies (SHOULD) and RST_STREAM/GOAWAY (CHOSEN) go ahead of
// queued DATA".
#[test]
fn ping_replies_resets_and_goaway_go_ahead_of_queued_data_c125() {
    for v in [V3, V31, V2] {
        let mut h = with_queued_body(v);
        h.open_fin(3);
        h.respond(3, 100_000);
        h.send(&ping(5));
        h.reset(3, CANCEL);
        h.goaway(GOAWAY_OK);
        let rx = h.expect_no_error_but_goaway();
        let first_data = index_of(&rx, Rx::is_data);
        assert!(index_of(&rx, |f| *f == Rx::Ping { id: 5 }) < first_data, "{v}: {rx:?}");
        assert!(index_of(&rx, |f| matches!(f, Rx::Rst { id: 3, .. })) < first_data, "{v}: {rx:?}");
        assert!(index_of(&rx, |f| matches!(f, Rx::GoAway { .. })) < first_data, "{v}: {rx:?}");
        assert_eq!(data_len(&rx, 3), 0);
    }
}

// C125: a session error's GOAWAY also goes ahead of queued DATA (which is then never sent).
#[test]
fn session_error_goaway_goes_ahead_of_queued_data_c125() {
    let mut h = with_queued_body(V31);
    h.send(&data(0, &b"x"[..]));
    let rx = h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
    assert_eq!(data_len(&rx, 1), 0, "{rx:?}");
}

// C126 (MUST): "never send PERSIST flags (CHOSEN) and never send
// SETTINGS_CLIENT_CERTIFICATE_VECTOR_SIZE or CREDENTIAL" (checked on every frame; here the
// initial frames of every version and configuration).
#[test]
fn server_never_sends_persist_flags_or_credential_settings_c126() {
    for v in [V3, V31, V2] {
        for config in [SessionConfig::default(), config_windows(65_536, 65_536)] {
            let h = Harness::with_config(v, config);
            for f in &h.initial {
                match f {
                    Rx::Settings { flags, entries } => {
                        assert_eq!(*flags, 0);
                        assert!(entries.iter().all(|e| e.0 == 0 && e.1 != 8), "{entries:?}");
                    }
                    Rx::WindowUpdate { id: 0, .. } => assert_eq!(v, V31),
                    other => panic!("{v}: unexpected initial frame {other:?}"),
                }
            }
        }
    }
}

// ===================================================================== E. SPDY/2 sessions

// E1: "Control frames carry version 2; GOAWAY is 4 bytes (no status) — C9/C112 use length 4
// and no code". (Every frame the harness parses on a SPDY/2 session must carry version 2.)
#[test]
fn spdy2_goaway_is_4_bytes_both_ways_e1() {
    let mut h = with_stream_1(V2);
    h.send(&control(2, 7, 0, &[0, 0, 0, 0, 0, 0, 0, 0]));
    h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
    let mut h = with_stream_1(V2);
    h.send(&control(2, 7, 0, &[0, 0]));
    h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
    let mut h = with_stream_1(V2);
    let mark = h.events.len();
    h.send(&goaway(0, 0));
    assert!(since(&h, mark).iter().any(|e| matches!(e, Ev::GoAway { last_good: 0, .. })), "{:?}", since(&h, mark));
    h.goaway(GOAWAY_OK);
    let bytes = {
        let mut out = Vec::new();
        while let Some(_) = h.s.poll_transmit(&mut out, h.now) {}
        out
    };
    assert_eq!(bytes, hex!("80 02 00 07 00 00 00 04 00 00 00 01"));
}

// E1: a SPDY/2 session answers a SPDY/3 SYN_STREAM (version 3) with UNSUPPORTED_VERSION, as
// C16 does the other way round.
#[test]
fn spdy2_syn_stream_with_version_3_is_refused_as_unsupported_e1_c16() {
    let mut h = with_stream_1(V2);
    h.send(&h.syn(3).version(3));
    h.expect_rst(3, UNSUPPORTED_VERSION);
    h.sync_check();
}

// E4: "Request names method, url, version, scheme + ordinary host; response status,
// version" — the session hands SPDY/2 names over unchanged and sends the application's.
#[test]
fn spdy2_request_and_response_names_pass_unchanged_e4() {
    let mut h = Harness::new(V2);
    h.open_fin(1);
    let Some(Ev::Opened { headers, .. }) = h.opened(1) else { unreachable!() };
    for name in ["method", "url", "version", "scheme", "host"] {
        assert!(get(&headers, name).is_some(), "{name} missing in {headers:?}");
    }
    h.respond(1, 0);
    let rx = h.expect_no_error();
    assert!(
        matches!(&rx[..], [Rx::SynReply { headers, fin: true, .. }] if get(headers, "status") == Some(&b"200"[..])),
        "{rx:?}"
    );
}

// E5: "No flow control: C71–C91 do not apply; WINDOW_UPDATE is ignored".
#[test]
fn spdy2_has_no_flow_control_and_ignores_window_update_e5() {
    let mut h = Harness::new(V2);
    h.send(&settings().initial_window(1000));
    get_with_body(&mut h, 1, 300_000);
    let rx = h.expect_no_error();
    assert_eq!(data_len(&rx, 1), 300_000);
    assert!(has_fin(&rx, 1));
    h.open(3);
    for wu in [
        window_update(3, 0),
        window_update(0, 0),
        window_update(3, 0x7fff_ffff),
        window_update(3, 0x7fff_ffff),
        window_update(9, 1),
    ] {
        h.send(&wu);
    }
    h.expect_silence();
    // uploads are not window-limited either, and never answered with WINDOW_UPDATE
    h.auto_consume = true;
    for _ in 0..5 {
        h.send(&data(3, vec![1u8; 60_000]));
    }
    h.expect_silence();
    assert_eq!(h.received(3).0.len(), 300_000);
}

// E8: "NOOP (type 5) is valid and ignored".
#[test]
fn spdy2_noop_is_ignored_e8() {
    let mut h = with_stream_1(V2);
    for _ in 0..5 {
        h.send(&noop());
    }
    h.expect_silence();
    h.expect_alive();
}

// E9: "SETTINGS entry ID is 24-bit little-endian followed by the flag byte" — the server's
// own SETTINGS decode that way (MAX_CONCURRENT_STREAMS = 256), and client SETTINGS in that
// layout are accepted.
#[test]
fn spdy2_settings_ids_are_little_endian_e9() {
    let mut h = Harness::with_config(V2, SessionConfig { max_concurrent_streams: 77, ..SessionConfig::default() });
    let Some(Rx::Settings { entries, .. }) = h.initial.first() else { panic!("{:?}", h.initial) };
    assert!(entries.contains(&(0, SETTINGS_MAX_CONCURRENT_STREAMS, 77)), "{entries:?}");
    // `04 00 00 01` read big-endian would be flags 4 on id 1; little-endian it is id 4 with
    // PERSIST_VALUE: either way a valid frame
    h.send(&settings().entry(FLAG_PERSIST_VALUE, SETTINGS_MAX_CONCURRENT_STREAMS, 100).entry(0, 0x01_0203, 1));
    h.expect_silence();
    h.expect_alive();
}

// E10: "SYN_REPLY/HEADERS have 2 unused bytes before the block" — client HEADERS in that
// layout decode (the reply direction is checked by the harness parser on every reply).
#[test]
fn spdy2_headers_have_two_unused_bytes_e10() {
    let mut h = with_stream_1(V2);
    h.send(&headers(1).header("x-extra", "1").fin());
    assert!(
        h.events.contains(&Ev::Headers { id: 1, headers: pairs(&[("x-extra", "1")]), fin: true }),
        "{:?}",
        h.events
    );
    h.respond(1, 0);
    h.expect_no_error();
}

// ===================================================================== B. Limits (CONFORMANCE §B, §C)

// B4: "cap total streams per connection (default 1 000, then GOAWAY(0) so the client
// reconnects)" (`Limits::max_streams_per_session`).
#[test]
fn stream_count_limit_sends_goaway_ok_b4() {
    for v in [V3, V31, V2] {
        let mut h = Harness::with_config(v, with_limits(|l| l.max_streams_per_session = 3));
        for id in [1u32, 3, 5] {
            h.open_fin(id);
            h.respond(id, 10);
        }
        h.send(&h.syn(7).fin());
        h.flush();
        assert!(h.error.is_none());
        assert!(h.opened(7).is_none(), "{v}: a 4th stream was accepted");
        let goaways: Vec<&Rx> = h.rx_log.iter().filter(|f| matches!(f, Rx::GoAway { .. })).collect();
        assert_eq!(goaways, [&Rx::GoAway { last_good: 5, status: (v != V2).then_some(0) }], "{v}: {:?}", h.rx_log);
        assert!(h.s.is_closed());
    }
}

/// Opens `id`, answers it (so the cancel is not "before a response") and cancels it.
fn answered_then_cancelled(h: &mut Harness, id: u32) {
    h.open(id);
    h.reply(id, false).unwrap();
    let rx = h.flush();
    assert!(h.error.is_none() && rx.len() == 1, "{rx:?} {:?}", h.error);
    h.send(&rst_stream(id, CANCEL));
}

// B4 (rapid reset): "count client cancels per connection (default: more than 100 cancels in
// 10 s …) → GOAWAY(1)+close" (`Limits::max_cancels`, `flood_window`).
#[test]
fn cancel_flood_closes_the_session_b4() {
    for v in [V3, V31, V2] {
        let mut h = Harness::with_config(v, with_limits(|l| l.max_cancels = 5));
        let mut id = 1;
        for _ in 0..5 {
            answered_then_cancelled(&mut h, id);
            id += 2;
        }
        h.expect_silence();
        // the window slides: after 10 s the count starts again
        h.advance(Duration::from_secs(11));
        for _ in 0..5 {
            answered_then_cancelled(&mut h, id);
            id += 2;
        }
        h.expect_silence();
        answered_then_cancelled(&mut h, id);
        h.expect_goaway(GOAWAY_PROTOCOL_ERROR, id);
    }
}

// B4, default: 100 cancels are tolerated, the 101st within 10 s closes.
#[test]
fn default_cancel_limit_is_100_per_10_seconds_b4() {
    let mut h = Harness::new(V31);
    let mut id = 1;
    for _ in 0..100 {
        answered_then_cancelled(&mut h, id);
        id += 2;
    }
    h.expect_silence();
    h.open(id);
    h.send(&rst_stream(id, CANCEL));
    h.expect_goaway(GOAWAY_PROTOCOL_ERROR, id);
}

// B5: "cap the outbound control-frame queue …, stop reading the socket while it is over the
// cap" (`Limits::max_queued_control_bytes`, `wants_read`).
#[test]
fn control_queue_over_its_bound_stops_reading_until_flushed_b5() {
    for v in [V3, V31, V2] {
        let mut h = Harness::with_config(
            v,
            with_limits(|l| {
                l.max_queued_control_bytes = 1000;
                l.max_invalid_stream_frames = 100_000;
            }),
        );
        h.open(1);
        // 200 DATA frames for distinct unknown streams: 200 RST_STREAMs (16 bytes each)
        let bytes: Vec<u8> = (0..200u32).flat_map(|i| h.encode(&data(1001 + 2 * i, &b"x"[..]))).collect();
        h.send_bytes(&bytes);
        assert!(h.error.is_none(), "{:?}", h.error);
        assert!(h.stalled && !h.s.wants_read(), "{v}: still reading with the control queue over its bound");
        let mut rsts = 0;
        for _ in 0..200 {
            let rx = h.flush();
            rsts += rx.iter().filter(|f| matches!(f, Rx::Rst { status: INVALID_STREAM, .. })).count();
            assert!(h.s.wants_read(), "flushed, yet not reading");
            h.pump();
            if !h.stalled_now() {
                break;
            }
        }
        rsts += h.flush().iter().filter(|f| matches!(f, Rx::Rst { .. })).count();
        assert!(rsts > 0 && rsts <= 200);
        h.expect_alive();
    }
}

// B7: "cap SETTINGS frames per second (default 10/s → GOAWAY(1)+close)"
// (`Limits::max_settings_per_second`).
#[test]
fn settings_flood_closes_the_session_b7() {
    for v in [V3, V31, V2] {
        let mut h = with_stream_1(v);
        for _ in 0..10 {
            h.send(&settings().entry(0, 4, 100));
        }
        h.expect_silence();
        h.advance(Duration::from_millis(1100));
        for _ in 0..10 {
            h.send(&settings().entry(0, 4, 100));
        }
        h.expect_silence();
        h.send(&settings().entry(0, 4, 100));
        h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
    }
}

// B8: "Zero-length DATA without FIN, HEADERS with no pairs, unknown control types,
// WINDOW_UPDATEs for unknown streams, NOOPs on SPDY/2 … (default: more than 1 000 in 10 s
// → GOAWAY(1)+close)" (`Limits::max_no_progress_frames`).
#[test]
fn no_progress_frame_flood_closes_the_session_b8() {
    for v in [V3, V31, V2] {
        let mut h = Harness::with_config(v, with_limits(|l| l.max_no_progress_frames = 20));
        h.open(1);
        for i in 0..20 {
            match i % 3 {
                0 => h.send(&data(1, Vec::new())),
                1 => h.send(&control(v.wire(), 0xf00d, 0, b"")),
                _ => h.send(&headers(1)),
            }
        }
        h.expect_silence();
        h.send(&data(1, Vec::new()));
        h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
    }
}

// B8 with the default limit: 1 000 empty DATA frames pass, a burst well over it closes.
#[test]
fn default_no_progress_limit_is_1000_per_10_seconds_b8() {
    let mut h = with_stream_1(V31);
    let empty = h.encode(&data(1, Vec::new()));
    h.send_bytes(&empty.repeat(1000));
    h.expect_silence();
    h.send_bytes(&empty);
    h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
}

// B9: "Use a per-stream send-progress timeout (default 60 s) → RST(id, CANCEL) and release
// upstream resources. SETTINGS_INITIAL_WINDOW_SIZE 0 followed by nothing: same timeout."
// (`Limits::send_progress_timeout`).
#[test]
fn a_stream_that_cannot_send_for_60_seconds_is_cancelled_b9() {
    for v in V3X {
        let mut h = Harness::new(v);
        h.send(&settings().initial_window(0));
        get_with_body(&mut h, 1, 10_000);
        let rx = h.expect_no_error();
        assert_eq!(data_len(&rx, 1), 0);
        h.advance(Duration::from_secs(59));
        h.expect_silence();
        let mark = h.events.len();
        h.advance(Duration::from_secs(2));
        h.expect_rst(1, CANCEL);
        assert!(
            since(&h, mark).iter().any(|e| matches!(e, Ev::Reset { id: 1, status: CANCEL, by_peer: false })),
            "{:?}",
            since(&h, mark)
        );
        h.expect_alive();
    }
}

// B9: progress resets the timer.
#[test]
fn send_progress_restarts_the_timeout_b9() {
    let mut h = Harness::new(V3);
    h.send(&settings().initial_window(100));
    get_with_body(&mut h, 1, 10_000);
    h.flush();
    for _ in 0..5 {
        h.advance(Duration::from_secs(50));
        h.send(&window_update(1, 100));
        let rx = h.expect_no_error();
        assert_eq!(data_len(&rx, 1), 100);
    }
}

// B10: "Timeout … for an idle session (… default 3 min); close idle sessions with GOAWAY(0)"
// (`Limits::idle_timeout`); C6 is its socket half.
#[test]
fn idle_session_is_closed_with_goaway_ok_b10() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        h.open_fin(1);
        h.respond(1, 10);
        h.flush();
        h.advance(Duration::from_secs(179));
        h.expect_silence();
        h.advance(Duration::from_secs(2));
        let rx = h.flush();
        assert!(h.error.is_none());
        assert_eq!(rx, [Rx::GoAway { last_good: 1, status: (v != V2).then_some(0) }]);
        assert!(h.s.is_closed());
    }
}

// B10: an open stream is not idle.
#[test]
fn a_session_with_an_open_stream_is_not_idle_b10() {
    let mut h = Harness::with_config(V31, with_limits(|l| l.idle_timeout = Duration::from_secs(5)));
    h.open(1);
    h.advance(Duration::from_secs(30));
    h.expect_silence();
    assert!(!h.s.is_closed());
}

// ===================================================================== header blocks in HEADERS frames

// C44 in a HEADERS frame: "decompressed block malformed … → RST(id, PROTOCOL_ERROR); session
// continues (sync check)".
#[test]
fn malformed_block_in_a_headers_frame_is_reset_c44() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        h.open(1);
        let mut nv = nv_int(v, 2);
        nv.extend(nv_str(v, b"x-a"));
        nv.extend(nv_str(v, b"1"));
        h.send(&headers(1).nv(nv));
        h.expect_rst(1, PROTOCOL_ERROR);
        assert!(!h.events.iter().any(|e| matches!(e, Ev::Headers { .. })));
        h.sync_check();
    }
}

// C38, C40, C42 in HEADERS frames: the name and value rules hold for every header block, not
// only the SYN_STREAM's ("bad header content on one stream … → RST(id, PROTOCOL_ERROR)", §D).
#[test]
fn bad_names_and_values_in_headers_frames_are_reset_c42() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        let bad: [Pairs; 4] = [
            pairs(&[("X-Upper", "1")]),
            pairs(&[("x-a", "1"), ("x-a", "2")]),
            pairs(&[("x-crlf", "a\r\nb")]),
            pairs(&[("x-nul", "a\0\0b")]),
        ];
        for p in bad {
            let id = h.next_id();
            h.open(id);
            h.send(&headers(id).nv(nv_block(v, &p)));
            h.expect_rst(id, PROTOCOL_ERROR);
        }
        assert!(!h.events.iter().any(|e| matches!(e, Ev::Headers { .. })));
        h.sync_check();
    }
}

// C45 in a HEADERS frame: "decompressed block larger than the configured limit → inflate
// fully (discarding output); RST(id, FRAME_TOO_LARGE); sync check passes".
#[test]
fn oversized_block_in_a_headers_frame_is_reset_as_frame_too_large_c45() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        h.open(1);
        h.send(&headers(1).header("x-big", vec![b'q'; 70_000]));
        h.expect_rst(1, if v == V2 { PROTOCOL_ERROR } else { FRAME_TOO_LARGE });
        let id = h.next_id();
        h.send(&h.syn(id).header("x-big", vec![b'q'; 20_000]).fin());
        assert!(
            matches!(h.opened(id), Some(Ev::Opened { ref headers, .. }) if get(headers, "x-big").map(<[u8]>::len) == Some(20_000))
        );
        h.sync_check();
    }
}

// C46: "compressed control frame larger than the configured cap … → GOAWAY(1)+close" is
// decided from the length field: the session does not wait for (or buffer) the payload.
#[test]
fn header_frame_over_the_cap_is_refused_from_its_length_alone_c46() {
    for v in [V3, V31, V2] {
        let mut h = with_stream_1(v);
        let mut bytes = control_frame_len(v.wire(), 1, 0, 0x00ff_ffff, &[0, 0, 0, 3, 0, 0, 0, 0, 0, 0]);
        bytes.extend_from_slice(&noise(1000, 1));
        h.send_bytes(&bytes);
        h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
    }
}

// C98: a SETTINGS frame that claims two million entries is refused without receiving them
// (B7: "a 16 MiB SETTINGS frame can claim ~2 million entries … Cap entries (C98)").
#[test]
fn settings_claiming_millions_of_entries_is_refused_early_c98() {
    for v in [V3, V31, V2] {
        let mut h = with_stream_1(v);
        let n: u32 = (0x00ff_fffc - 4) / 8;
        let mut payload = n.to_be_bytes().to_vec();
        payload.extend(std::iter::repeat([0u8, 0, 0, 1, 0, 0, 0, 1]).take(100).flatten());
        h.send_bytes(&control_frame_len(v.wire(), 4, 0, 4 + 8 * n, &payload));
        h.expect_goaway(GOAWAY_PROTOCOL_ERROR, 1);
    }
}

// C110: "client sends GOAWAY → … then the server closes" — with nothing open, at once.
#[test]
fn client_goaway_with_no_open_streams_closes_the_session_c110() {
    for v in [V3, V31, V2] {
        let mut h = Harness::new(v);
        h.open_fin(1);
        h.respond(1, 10);
        h.flush();
        h.send(&goaway(1, 0));
        let rx = h.flush();
        assert!(h.error.is_none());
        assert!(rx.iter().all(|f| matches!(f, Rx::GoAway { status: None | Some(0), .. })), "{rx:?}");
        assert!(h.s.is_closed(), "{v}: not closed after the client's GOAWAY with no streams open");
    }
}

// ===================================================================== random valid traffic

/// xorshift32: deterministic, so a failing seed can be replayed.
struct Rng(u32);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }
    fn below(&mut self, n: u32) -> u32 {
        self.next() % n
    }
    fn pick(&mut self, v: &[u32]) -> Option<u32> {
        (!v.is_empty()).then(|| v[self.below(v.len() as u32) as usize])
    }
}

/// One random session of valid client traffic and application commands, delivered in
/// random splits. Valid traffic must never cause a session error, and every frame the
/// server sends is checked by the harness (C112, C114, C119–C121, C123, C124, C126).
fn random_session(v: Version, seed: u32) {
    let mut rng = Rng(seed.wrapping_mul(2_654_435_761) | 1);
    let mut h = Harness::with_config(v, config_windows(65_536, 65_536));
    h.auto_consume = rng.below(2) == 0;
    let mut streams: Vec<u32> = Vec::new();
    let (mut settings_sent, mut pings_queued) = (0, 0);
    // streams the application reset since the last flush: a client RST_STREAM crossing a
    // queued one is the separate test `a_queued_reset_is_dropped_when_the_client_resets_first_c119`
    let mut app_reset: Vec<u32> = Vec::new();
    for step in 0..80 {
        let open: Vec<u32> = streams.iter().copied().filter(|&id| h.client_can_send(id)).collect();
        let mut bytes = Vec::new();
        match rng.below(13) {
            0 | 1 if streams.len() < 40 => {
                let id = h.next_id();
                let fin = rng.below(3) == 0;
                let mut f = syn_stream(id)
                    .headers(&request_headers(v, &format!("/r/{seed}/{step}")))
                    .priority(rng.below(4) as u8);
                if fin {
                    f = f.fin();
                }
                bytes = h.encode(&f);
                streams.push(id);
            }
            2 | 3 => {
                if let Some(id) = rng.pick(&open) {
                    let mut w = *h.client_send.get(&id).unwrap_or(&0);
                    if v == V31 {
                        w = w.min(h.client_send_session);
                    }
                    if v == V2 {
                        w = 30_000;
                    }
                    let n = if w > 0 { rng.below(w.min(30_000) as u32 + 1) as usize } else { 0 };
                    let f = data(id, vec![b'u'; n]);
                    bytes = h.encode(&if rng.below(4) == 0 { f.fin() } else { f });
                }
            }
            4 => {
                if let Some(id) = rng.pick(&streams) {
                    bytes = h.encode(&window_update(id, 1 + rng.below(100_000)));
                }
                if v == V31 && rng.below(2) == 0 {
                    bytes.extend(h.encode(&window_update(0, 1 + rng.below(200_000))));
                }
            }
            5 => {
                let open: Vec<u32> = open.iter().copied().filter(|id| !app_reset.contains(id)).collect();
                if let Some(id) = rng.pick(&open) {
                    // what the server queued goes out before the RST_STREAM arrives; frames
                    // crossing a client RST are the `…_client_reset…_c119` tests
                    h.flush();
                    pings_queued = 0;
                    app_reset.clear();
                    bytes = h.encode(&rst_stream(id, CANCEL));
                }
            }
            6 if pings_queued < 5 => {
                bytes = h.encode(&ping(2 * rng.below(1000) + 1));
                pings_queued += 1;
            }
            7 if settings_sent < 8 && v != V2 => {
                bytes = h.encode(&settings().initial_window(rng.below(200_000)));
                settings_sent += 1;
            }
            8 => {
                let ready: Vec<u32> = streams.iter().copied().filter(|&id| h.app_can_reply(id)).collect();
                if let Some(id) = rng.pick(&ready) {
                    let len = rng.below(40_000) as usize;
                    // the session may have reset it (send-progress timeout) unseen yet
                    if let Err(e) = h.try_respond(id, len) {
                        assert_eq!(e, SendError::UnknownStream, "{v} seed {seed} step {step}");
                    }
                }
            }
            9 => {
                if let Some(id) = rng.pick(&streams) {
                    app_reset.push(id);
                    h.reset(id, [CANCEL, INTERNAL_ERROR][rng.below(2) as usize]);
                }
            }
            10 => {
                h.flush();
                pings_queued = 0;
                app_reset.clear();
            }
            11 => h.advance(Duration::from_millis(u64::from(rng.below(800)))),
            _ => {
                if let Some(id) = rng.pick(&open) {
                    bytes = h.encode(&headers(id).header("x-step", step.to_string()));
                }
            }
        }
        // deliver in up to three random pieces (C4)
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let cut = if rest.len() > 1 && rng.below(2) == 0 {
                1 + rng.below(rest.len() as u32 - 1) as usize
            } else {
                rest.len()
            };
            h.send_bytes(&rest[..cut]);
            rest = &rest[cut..];
        }
        assert!(h.error.is_none(), "{v} seed {seed} step {step}: session error {:?}", h.error);
    }
    h.flush();
    if v != V2 {
        for &id in &streams {
            h.send(&window_update(id, 1 << 20));
        }
        if v == V31 {
            h.send(&window_update(0, 1 << 24));
        }
    }
    h.flush();
    assert!(h.error.is_none(), "{v} seed {seed}: session error {:?}", h.error);
}

// C123 (and every rule the harness checks on each frame): random valid traffic, random
// splits, random application commands.
#[test]
fn random_valid_traffic_keeps_every_wire_rule_c123() {
    for seed in 1..=12 {
        for v in [V3, V31, V2] {
            random_session(v, seed);
        }
    }
}

// ===================================================================== the index

/// The last `_`-separated token is a rule id (c7, c12a, e6, b4).
fn is_rule_token(t: &str) -> bool {
    let mut c = t.chars();
    matches!(c.next(), Some('c' | 'e' | 'b'))
        && c.as_str().trim_end_matches('a').len() > 0
        && c.as_str().trim_end_matches('a').chars().all(|d| d.is_ascii_digit())
}

#[test]
fn conformance_index_lists_every_rule_and_every_test() {
    let index = include_str!("CONFORMANCE_INDEX.md");
    let src = include_str!("spdy_conformance.rs");
    let lines: Vec<&str> = src.lines().collect();
    let names: Vec<&str> = lines
        .windows(2)
        .filter(|w| w[0].trim() == "#[test]")
        .filter_map(|w| w[1].strip_prefix("fn ").and_then(|r| r.split('(').next()))
        .collect();
    assert!(names.len() > 100);
    for n in &names {
        assert!(index.contains(&format!("`{n}`")), "{n} is missing from tests/CONFORMANCE_INDEX.md");
    }
    for piece in index.split('`').skip(1).step_by(2) {
        let last = piece.rsplit('_').next().unwrap_or("");
        if piece.contains('_')
            && piece.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && is_rule_token(last)
        {
            assert!(names.contains(&piece), "the index names {piece}, which is not a test");
        }
    }
    // every rule of CONFORMANCE.md has a row (the spec sits beside the checkout in CI)
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/spec/CONFORMANCE.md");
    if let Ok(spec) = std::fs::read_to_string(spec) {
        let mut rules = 0;
        for line in spec.lines() {
            let Some(id) = line.strip_prefix("| ").and_then(|r| r.split(' ').next()) else { continue };
            if (id.starts_with('C') || id.starts_with('E')) && id[1..].starts_with(|c: char| c.is_ascii_digit()) {
                rules += 1;
                assert!(index.contains(&format!("\n| {id} |")), "rule {id} has no row in tests/CONFORMANCE_INDEX.md");
            }
        }
        assert_eq!(rules, 139);
    }
}
