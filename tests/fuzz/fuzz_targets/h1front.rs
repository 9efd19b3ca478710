#![no_main]
//! The HTTP/1.1 front (`gateway::H1Connection`) on arbitrary client bytes, fed in pieces:
//! whatever it sends a backend for an exchange must read, with an independent parser
//! (httparse for the head and chunk sizes), as exactly one request — a head, then a body
//! framed the way that head says, then nothing. Bytes past the end of the forwarded
//! request would be a second request the gateway never checked (request smuggling).
//! The client gets either a forwarded exchange or an HTTP error reply. Never a panic.

use std::collections::HashMap;
use std::time::Instant;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use spdygate::gateway::{BackendAction, ExchangeId, H1Connection, Policy};

/// How the forwarded head frames its body.
enum Framing {
    None,
    Length(usize),
    Chunked,
}

/// Checks one exchange's backend bytes; returns a description of the violation, if any.
fn check(sent: &[u8]) -> Result<(), String> {
    let mut slots = [httparse::EMPTY_HEADER; 512];
    let mut req = httparse::Request::new(&mut slots);
    let used = match req.parse(sent) {
        Ok(httparse::Status::Complete(used)) => used,
        other => return Err(format!("forwarded head does not parse: {other:?}")),
    };
    let mut framing = Framing::None;
    let mut framings = 0;
    for h in req.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(h.value).ok().and_then(|v| v.parse().ok()).ok_or("bad content-length")?;
            framing = Framing::Length(n);
            framings += 1;
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            if h.value != b"chunked" {
                return Err(format!("transfer-encoding {:?}", String::from_utf8_lossy(h.value)));
            }
            framing = Framing::Chunked;
            framings += 1;
        }
    }
    if framings > 1 {
        return Err("more than one framing field".into());
    }
    let body = &sent[used..];
    match framing {
        Framing::None if !body.is_empty() => Err(format!("{} bytes after a head without a body", body.len())),
        Framing::None => Ok(()),
        // the client may have stopped early: fewer is an unfinished request, more is smuggling
        Framing::Length(n) if body.len() > n => Err(format!("{} body bytes for content-length {n}", body.len())),
        Framing::Length(_) => Ok(()),
        Framing::Chunked => {
            let mut rest = body;
            loop {
                if rest.is_empty() {
                    return Ok(()); // unfinished
                }
                let (at, size) = match httparse::parse_chunk_size(rest) {
                    Ok(httparse::Status::Complete(x)) => x,
                    Ok(httparse::Status::Partial) => return Ok(()),
                    Err(_) => return Err("bad chunk size line".into()),
                };
                rest = &rest[at..];
                if size == 0 {
                    let mut slots = [httparse::EMPTY_HEADER; 64];
                    return match httparse::parse_headers(rest, &mut slots) {
                        Ok(httparse::Status::Complete((n, _))) if n == rest.len() => Ok(()),
                        Ok(httparse::Status::Complete((n, _))) => Err(format!("{} bytes after the last chunk", rest.len() - n)),
                        Ok(httparse::Status::Partial) => Ok(()),
                        Err(e) => Err(format!("bad trailer section: {e:?}")),
                    };
                }
                let size = usize::try_from(size).map_err(|_| "huge chunk")?;
                if rest.len() < size + 2 {
                    return if rest.len() > size && rest[size] != b'\r' { Err("chunk data overruns".into()) } else { Ok(()) };
                }
                if &rest[size..size + 2] != b"\r\n" {
                    return Err("chunk data not followed by CRLF".into());
                }
                rest = &rest[size + 2..];
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&step, data)) = data.split_first() else { return };
    let step = usize::from(step).max(1);
    let now = Instant::now();
    let mut conn = H1Connection::new(b"192.0.2.7", false, Policy::default());
    let mut sent: HashMap<ExchangeId, Vec<u8>> = HashMap::new();
    let drain = |conn: &mut H1Connection, sent: &mut HashMap<ExchangeId, Vec<u8>>| {
        let mut out = Vec::new();
        conn.take_client_output(&mut out);
        let n: usize = out.iter().map(Bytes::len).sum();
        conn.client_sent(n, now);
        while let Some(action) = conn.poll_backend_action() {
            if let BackendAction::Send { exchange, bufs, credit } = action {
                let bytes = sent.entry(exchange).or_default();
                for b in &bufs {
                    bytes.extend_from_slice(b);
                }
                conn.backend_sent(exchange, credit, now);
            }
        }
    };
    for piece in data.chunks(step) {
        conn.recv_client(Bytes::copy_from_slice(piece), now);
        drain(&mut conn, &mut sent);
    }
    conn.client_eof(now);
    drain(&mut conn, &mut sent);
    for bytes in sent.values() {
        if let Err(why) = check(bytes) {
            panic!("{why}\n{}", String::from_utf8_lossy(bytes));
        }
    }
});
