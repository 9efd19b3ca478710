#![no_main]
//! SPDY request → HTTP/1.1 request head (`gateway::translate`), checked by an independent
//! HTTP/1 parser (httparse): what the gateway forwards must be read by a backend as exactly
//! the request the gateway checked — the request-smuggling and header-injection properties.
//!
//! The header block is built from input choices (the five special names with usual or
//! raw values, names from a set of framing/routing/hop-by-hop names or raw bytes, raw
//! values), serialized and run through the real name/value decoder (`wire::decode`, the
//! C38–C42 checks the gateway applies first). For every block the decoder accepts and
//! `request_head` translates:
//! - httparse reads one complete request that ends exactly at the end of the head (raw
//!   bytes ≥ 0x80 in the target masked: httparse refuses them, nginx-style backends take them);
//! - every field it reads is one the block named or the gateway adds (no name injection);
//! - method, target and Host are the block's (target: `:path`, or SPDY/2's absolute `url`
//!   without its authority);
//! - exactly one Host, one X-Forwarded-Proto and one X-Forwarded-For (ending with the
//!   client), our Via last; no Connection, Keep-Alive, Proxy-Connection or Upgrade;
//! - the framing is the one `RequestSummary` says: Content-Length once and equal to it, or
//!   Transfer-Encoding `chunked` once (only with a body and no length), never both;
//! - our own head parser agrees on the length.
//! The trailer section (`trailer_fields`) of the same block parses as header lines with
//! none of the framing or routing fields.

use libfuzzer_sys::fuzz_target;
use spdygate::gateway::translate::{request_head, trailer_fields, ForwardInfo};
use spdygate::http1::RequestHead;
use spdygate::spdy::header::{wire, HeaderBlock, NvLimits};
use spdygate::spdy::Version;

#[path = "../common/input.rs"]
mod input;
use input::Input;

const NAMES: [&str; 12] = [
    "content-length",
    "transfer-encoding",
    "host",
    "connection",
    "te",
    "x-forwarded-for",
    "x-forwarded-proto",
    "cookie",
    "upgrade",
    "via",
    "accept",
    "trailer",
];

fn raw(input: &mut Input<'_>) -> Vec<u8> {
    let n = usize::from(input.byte().unwrap_or(0) % 24);
    input.take(n).to_vec()
}

/// A value from `usual` (picked by the input) or raw input bytes.
fn value(input: &mut Input<'_>, usual: &[&str]) -> Vec<u8> {
    let b = input.byte().unwrap_or(0);
    match usual.get(usize::from(b) % (usual.len() + 2)) {
        Some(v) => v.as_bytes().to_vec(),
        None => raw(input),
    }
}

fn put_len(out: &mut Vec<u8>, version: Version, n: usize) {
    let w = version.nv_length_width();
    out.extend_from_slice(&(n as u32).to_be_bytes()[4 - w..]);
}

/// The gateway forwards bytes ≥ 0x80 in the target as the client sent them (as nginx
/// accepts them); httparse and our parser refuse them, so they are masked for the
/// parsers: such a byte is never a delimiter, so the head's structure is the same.
fn masked(head: &[u8]) -> Vec<u8> {
    let line_end = head.windows(2).position(|w| w == b"\r\n").expect("request line");
    head.iter().enumerate().map(|(i, &b)| if i < line_end && b >= 0x80 { b'%' } else { b }).collect()
}

fn headers_of(head: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut slots = [httparse::EMPTY_HEADER; 256];
    let mut req = httparse::Request::new(&mut slots);
    match req.parse(head) {
        Ok(httparse::Status::Complete(used)) => {
            assert_eq!(used, head.len(), "httparse ends the head early: the rest would be another request");
        }
        other => panic!("forwarded head does not parse: {other:?}\n{}", String::from_utf8_lossy(head)),
    }
    req.headers.iter().map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec())).collect()
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let flags = input.byte().unwrap_or(0);
    let version = [Version::Spdy31, Version::Spdy3, Version::Spdy2][usize::from(flags % 3)];
    let has_body = flags & 4 != 0;
    let colon = version != Version::Spdy2;
    let special: [(&str, &[&str]); 5] = if colon {
        [
            (":method", &["GET", "POST", "HEAD", "OPTIONS", "G(E)T"]),
            (":path", &["/", "/a?b", "*", "/a b", "http://h/p"]),
            (":version", &["HTTP/1.1", "HTTP/1.0", "HTTP/2"]),
            (":host", &["example.com", "h:8080", "a b", "a/b"]),
            (":scheme", &["https", "http"]),
        ]
    } else {
        [
            ("method", &["GET", "POST", "HEAD"]),
            ("url", &["/", "/a?b", "http://h/p", "http://u@h/p", "https://h"]),
            ("version", &["HTTP/1.1", "HTTP/1.0"]),
            ("host", &["example.com", "h:8080"]),
            ("scheme", &["https", "http"]),
        ]
    };
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let present = input.byte().unwrap_or(0xff);
    for (k, (name, usual)) in special.iter().enumerate() {
        if present & (1 << k) != 0 {
            pairs.push((name.as_bytes().to_vec(), value(&mut input, usual)));
        }
    }
    for _ in 0..input.byte().unwrap_or(0) % 10 {
        let b = input.byte().unwrap_or(0);
        let name = if b < 160 { NAMES[usize::from(b) % NAMES.len()].as_bytes().to_vec() } else { raw(&mut input) };
        let v = match name.as_slice() {
            b"content-length" => value(&mut input, &["0", "5", "18446744073709551615", "5, 5", "-1"]),
            b"transfer-encoding" => value(&mut input, &["chunked", "gzip, chunked"]),
            b"te" => value(&mut input, &["trailers", "deflate, trailers"]),
            _ => raw(&mut input),
        };
        pairs.push((name, v));
    }
    // shuffle a little: the input picks a rotation
    let turn = usize::from(input.byte().unwrap_or(0)) % pairs.len().max(1);
    pairs.rotate_left(turn);

    let mut nv = Vec::new();
    put_len(&mut nv, version, pairs.len());
    for (n, v) in &pairs {
        put_len(&mut nv, version, n.len());
        nv.extend_from_slice(n);
        put_len(&mut nv, version, v.len());
        nv.extend_from_slice(v);
    }
    let mut block = HeaderBlock::new();
    if wire::decode(version, &nv, &NvLimits::default(), &mut block).is_err() {
        return;
    }

    let info = ForwardInfo { client_addr: b"192.0.2.7", version };
    let mut head = Vec::new();
    let Ok(summary) = request_head(version, &block, has_body, info, &mut head) else { return };

    let headers = headers_of(&masked(&head));
    let count = |name: &str| headers.iter().filter(|(n, _)| n == name).count();
    let only = |name: &str| -> Vec<u8> {
        let found: Vec<&Vec<u8>> = headers.iter().filter(|(n, _)| n == name).map(|(_, v)| v).collect();
        assert_eq!(found.len(), 1, "{name} appears {} times\n{}", found.len(), String::from_utf8_lossy(&head));
        found[0].clone()
    };

    // request line: the block's method and target
    let line_end = head.windows(2).position(|w| w == b"\r\n").expect("request line");
    let line = &head[..line_end];
    let get = |name: &[u8]| block.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_vec());
    let names: Vec<&[u8]> = special.iter().map(|(n, _)| n.as_bytes()).collect();
    let method = get(names[0]).expect("translated without a method");
    assert!(line.starts_with(&method) && line[method.len()] == b' ', "method changed: {}", String::from_utf8_lossy(line));
    let target = &line[method.len() + 1..line.len() - b" HTTP/1.1".len()];
    assert!(line.ends_with(b" HTTP/1.1"));
    let path = get(names[1]).expect("translated without a path");
    if path.first() == Some(&b'/') || path == b"*" {
        assert_eq!(target, path.as_slice(), "target changed");
    } else {
        // absolute form (RFC 9112 §3.2.2): the target is what follows the authority, "/" if
        // nothing does
        let after_scheme = path.windows(3).position(|w| w == b"://").map(|i| &path[i + 3..]).expect("absolute URL");
        let rest = after_scheme.iter().position(|&b| b == b'/').map_or(&b"/"[..], |i| &after_scheme[i..]);
        assert_eq!(target, rest, "absolute URL target");
    }

    // no field the block did not name (or the gateway did not add): a name such as
    // "x-forwarded-for:1.2.3.4" must never reach the backend as "x-forwarded-for"
    let ours = ["host", "x-forwarded-for", "x-forwarded-proto", "via", "content-length", "transfer-encoding"];
    for (n, _) in &headers {
        assert!(
            ours.contains(&n.as_str()) || block.iter().any(|(bn, _)| bn == n.as_bytes()),
            "the backend reads a field {n:?} the block never named\n{}",
            String::from_utf8_lossy(&head)
        );
    }

    // routing and hop-by-hop fields
    let host = only("host");
    if let Some(h) = get(names[3]) {
        assert_eq!(host, h, "Host is not the block's host");
    }
    only("x-forwarded-proto");
    let xff = only("x-forwarded-for");
    assert!(xff.ends_with(info.client_addr), "X-Forwarded-For does not end with the client");
    // a client's Via lines pass; ours comes last (RFC 9110 §7.6.3)
    let via = headers.iter().rev().find(|(n, _)| n == "via").map(|(_, v)| v.clone());
    assert_eq!(via.as_deref(), Some(format!("{} spdygate", String::from_utf8_lossy(version.alpn_id())).as_bytes()));
    for banned in ["connection", "keep-alive", "proxy-connection", "upgrade"] {
        assert_eq!(count(banned), 0, "{banned} forwarded\n{}", String::from_utf8_lossy(&head));
    }

    // framing: exactly what the summary says
    match (summary.content_length, summary.chunked) {
        (Some(len), false) => {
            assert_eq!(only("content-length"), len.to_string().into_bytes());
            assert_eq!(count("transfer-encoding"), 0, "content-length and transfer-encoding both sent");
        }
        (None, true) => {
            assert!(has_body, "chunked without a body");
            assert_eq!(only("transfer-encoding"), b"chunked");
            assert_eq!(count("content-length"), 0);
        }
        (None, false) => {
            assert!(!has_body, "a body with neither content-length nor chunked");
            assert_eq!(count("content-length") + count("transfer-encoding"), 0, "framing header without framing");
        }
        (Some(_), true) => panic!("summary says both content-length and chunked"),
    }

    // our own parser reads the same head
    match RequestHead::parse(&masked(&head)) {
        Ok(Some((_, used))) => assert_eq!(used, head.len(), "our parser ends the head elsewhere"),
        other => panic!("our parser refuses the forwarded head: {other:?}"),
    }

    // the same block as trailers: header lines only, none of the framing or routing ones
    let mut trailers = Vec::new();
    trailer_fields(&block, &mut trailers);
    trailers.extend_from_slice(b"\r\n");
    let mut slots = [httparse::EMPTY_HEADER; 256];
    match httparse::parse_headers(&trailers, &mut slots) {
        Ok(httparse::Status::Complete((used, fields))) => {
            assert_eq!(used, trailers.len(), "trailer section ends early");
            for f in fields {
                let n = f.name.to_ascii_lowercase();
                assert!(
                    !["content-length", "transfer-encoding", "host", "connection", "te", "trailer"].contains(&n.as_str()),
                    "{n} sent as a trailer"
                );
            }
        }
        other => panic!("trailer section does not parse: {other:?}"),
    }
});
