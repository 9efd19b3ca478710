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
use spdygate::gateway::{ExchangeId, H1Connection, Policy};

#[path = "../common/forwarded.rs"]
#[allow(dead_code)] // the bodies: h1front checks framing and reuse, not content
mod forwarded;

fuzz_target!(|data: &[u8]| {
    let Some((&step, data)) = data.split_first() else { return };
    // high bit: the backend answers each exchange as soon as it opens (before the request
    // body is through), else at the end
    let early = step & 0x80 != 0;
    let step = usize::from(step & 0x7f).max(1);
    let now = Instant::now();
    let mut conn = H1Connection::new(b"192.0.2.7", false, Policy::default());
    let mut backends = forwarded::Backends::default();
    let mut answered: Vec<ExchangeId> = Vec::new();
    let drain = |conn: &mut H1Connection, backends: &mut forwarded::Backends| {
        let mut out = Vec::new();
        conn.take_client_output(&mut out);
        let n: usize = out.iter().map(Bytes::len).sum();
        conn.client_sent(n, now);
        while let Some(action) = conn.poll_backend_action() {
            if let Some((exchange, credit)) = backends.record(action) {
                conn.backend_sent(exchange, credit, now);
            }
        }
    };
    let answer = |conn: &mut H1Connection, opened: &[ExchangeId], answered: &mut Vec<ExchangeId>| {
        for &ex in opened {
            if !answered.contains(&ex) {
                answered.push(ex);
                conn.backend_recv(ex, Bytes::from_static(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"), now);
            }
        }
    };
    for piece in data.chunks(step) {
        conn.recv_client(Bytes::copy_from_slice(piece), now);
        drain(&mut conn, &mut backends);
        if early {
            answer(&mut conn, &backends.opened, &mut answered);
            drain(&mut conn, &mut backends);
        }
    }
    answer(&mut conn, &backends.opened, &mut answered);
    drain(&mut conn, &mut backends);
    conn.client_eof(now);
    drain(&mut conn, &mut backends);
    backends.check();
});
