//! Reads what the gateway sent a backend for one exchange with an independent parser
//! (httparse for the head and the chunk-size lines): it must be exactly one request — a
//! head, then a body framed the way that head says, then nothing. Bytes past the end of
//! the request would be a second request the gateway never checked (request smuggling).

use std::collections::HashMap;

use spdygate::gateway::{BackendAction, ExchangeId};

/// A whole, immediate backend answer (what both front targets reply with).
pub const ANSWER: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

/// Takes a front's client output (the client reads all of it) and carries out its backend
/// actions into a [`Backends`], reporting each `Send` as written. A macro because the two
/// fronts have these methods in common but no trait.
macro_rules! drain {
    ($conn:expr, $backends:expr, $now:expr) => {{
        let mut out = Vec::new();
        $conn.take_client_output(&mut out);
        let n: usize = out.iter().map(bytes::Bytes::len).sum();
        $conn.client_sent(n, $now);
        while let Some(action) = $conn.poll_backend_action() {
            if let Some((exchange, credit)) = $backends.record(action) {
                $conn.backend_sent(exchange, credit, $now);
            }
        }
    }};
}
pub(crate) use drain;

/// What a front asked of its backends, recorded as a shard with always-writable backend
/// connections would carry it out.
#[derive(Default)]
pub struct Backends {
    /// The bytes each exchange sent.
    pub sent: HashMap<ExchangeId, Vec<u8>>,
    /// Exchanges in the order they were opened.
    pub opened: Vec<ExchangeId>,
    /// Exchanges whose connection went back to the pool.
    pub reused: Vec<ExchangeId>,
}

impl Backends {
    /// Records one action; for a `Send`, returns the exchange and the body credit to report
    /// back (`backend_sent`) as written.
    pub fn record(&mut self, action: BackendAction) -> Option<(ExchangeId, usize)> {
        match action {
            BackendAction::Send { exchange, bufs, credit } => {
                let bytes = self.sent.entry(exchange).or_default();
                for b in &bufs {
                    bytes.extend_from_slice(b);
                }
                Some((exchange, credit))
            }
            BackendAction::Open { exchange, .. } => {
                self.opened.push(exchange);
                None
            }
            BackendAction::Release { exchange, reusable: true } => {
                self.reused.push(exchange);
                None
            }
            _ => None,
        }
    }

    /// Reads every exchange's bytes as one request ([`read`]); a connection back in the
    /// pool must have carried a complete one (the tail of a half-sent request would be read
    /// as the next request on that connection). Panics on a violation.
    pub fn check(&self) -> Vec<(Forwarded, &[u8])> {
        let mut all = Vec::new();
        for (&exchange, bytes) in &self.sent {
            let request = read(bytes).unwrap_or_else(|why| panic!("{why}\n{}", String::from_utf8_lossy(bytes)));
            if self.reused.contains(&exchange) {
                assert!(request.complete, "connection reused after an incomplete request\n{}", String::from_utf8_lossy(bytes));
            }
            all.push((request, bytes.as_slice()));
        }
        all
    }
}

/// One forwarded request, as a backend reads it.
pub struct Forwarded {
    /// The body bytes, de-chunked.
    pub body: Vec<u8>,
    /// Whether the body ended (its length reached, or the last chunk and trailers seen).
    pub complete: bool,
}

enum Framing {
    None,
    Length(usize),
    Chunked,
}

/// `Err` describes the violation.
pub fn read(sent: &[u8]) -> Result<Forwarded, String> {
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
        Framing::None => Ok(Forwarded { body: Vec::new(), complete: true }),
        // the client may have stopped early: fewer is an unfinished request, more is smuggling
        Framing::Length(n) if body.len() > n => Err(format!("{} body bytes for content-length {n}", body.len())),
        Framing::Length(n) => Ok(Forwarded { body: body.to_vec(), complete: body.len() == n }),
        Framing::Chunked => {
            let mut rest = body;
            let mut out = Vec::new();
            loop {
                let unfinished = |out: Vec<u8>| Ok(Forwarded { body: out, complete: false });
                if rest.is_empty() {
                    return unfinished(out);
                }
                let (at, size) = match httparse::parse_chunk_size(rest) {
                    Ok(httparse::Status::Complete(x)) => x,
                    Ok(httparse::Status::Partial) => return unfinished(out),
                    Err(_) => return Err("bad chunk size line".into()),
                };
                rest = &rest[at..];
                if size == 0 {
                    // up to the gateway's 16 KiB trailer cap of the smallest fields
                    let mut slots = [httparse::EMPTY_HEADER; 4096];
                    return match httparse::parse_headers(rest, &mut slots) {
                        Ok(httparse::Status::Complete((n, _))) if n == rest.len() => Ok(Forwarded { body: out, complete: true }),
                        Ok(httparse::Status::Complete((n, _))) => Err(format!("{} bytes after the last chunk", rest.len() - n)),
                        Ok(httparse::Status::Partial) => unfinished(out),
                        Err(e) => Err(format!("bad trailer section: {e:?}")),
                    };
                }
                let size = usize::try_from(size).map_err(|_| "huge chunk")?;
                if rest.len() < size + 2 {
                    if rest.len() > size && rest[size] != b'\r' {
                        return Err("chunk data overruns".into());
                    }
                    out.extend_from_slice(&rest[..size.min(rest.len())]);
                    return unfinished(out);
                }
                if &rest[size..size + 2] != b"\r\n" {
                    return Err("chunk data not followed by CRLF".into());
                }
                out.extend_from_slice(&rest[..size]);
                rest = &rest[size + 2..];
            }
        }
    }
}
