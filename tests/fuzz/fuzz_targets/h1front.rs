#![no_main]
//! The HTTP/1.1 front (`gateway::H1Connection`) on arbitrary client bytes, fed in pieces:
//! whatever it sends a backend for an exchange must read, with an independent parser
//! (httparse for the head and chunk sizes), as exactly one request — a head, then a body
//! framed the way that head says, then nothing. Bytes past the end of the forwarded
//! request would be a second request the gateway never checked (request smuggling).
//! A backend connection goes back to the pool only after a complete request. The client
//! gets either a forwarded exchange or an HTTP error reply. Never a panic.

use std::time::Instant;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use spdygate::gateway::{BackendFailure, ExchangeId, H1Connection, Policy};

#[path = "../common/forwarded.rs"]
#[allow(dead_code)] // the bodies: h1front checks framing and reuse, not content
mod forwarded;

fuzz_target!(|data: &[u8]| {
    let Some((&step, data)) = data.split_first() else { return };
    // high bit: the backend answers each exchange as soon as it opens (before the request
    // body is through), else at the end; next bit: every other exchange opened fails
    // instead (a refused connect, a broken connection or a close before any byte), so
    // retries go out too
    let early = step & 0x80 != 0;
    let failing = step & 0x40 != 0;
    let step = usize::from(step & 0x3f).max(1);
    let now = Instant::now();
    let mut conn = H1Connection::new(b"192.0.2.7", false, Policy::default());
    let mut backends = forwarded::Backends::default();
    let mut answered: Vec<ExchangeId> = Vec::new();
    let answer = |conn: &mut H1Connection, opened: &[ExchangeId], answered: &mut Vec<ExchangeId>| {
        for (k, &ex) in opened.iter().enumerate() {
            if !answered.contains(&ex) {
                answered.push(ex);
                match (failing, k % 6) {
                    (true, 0) => conn.backend_failed(ex, BackendFailure::Connect, now),
                    (true, 2) => conn.backend_failed(ex, BackendFailure::Broken, now),
                    (true, 4) => conn.backend_eof(ex, now),
                    _ => conn.backend_recv(ex, Bytes::from_static(forwarded::ANSWER), now),
                }
            }
        }
    };
    for piece in data.chunks(step) {
        conn.recv_client(Bytes::copy_from_slice(piece), now);
        forwarded::drain!(conn, backends, now);
        if early {
            answer(&mut conn, &backends.opened, &mut answered);
            forwarded::drain!(conn, backends, now);
        }
    }
    // (a failed exchange may open its retry: answer that one too)
    for _ in 0..3 {
        answer(&mut conn, &backends.opened, &mut answered);
        forwarded::drain!(conn, backends, now);
    }
    conn.client_eof(now);
    forwarded::drain!(conn, backends, now);
    backends.check();
});
