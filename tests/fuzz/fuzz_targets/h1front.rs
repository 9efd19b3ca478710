#![no_main]
//! The HTTP/1.1 front (`gateway::H1Connection`) on arbitrary client bytes, fed in pieces:
//! whatever it sends a backend for an exchange must read, with an independent parser
//! (httparse for the head and chunk sizes), as exactly one request — a head, then a body
//! framed the way that head says, then nothing. Bytes past the end of the forwarded
//! request would be a second request the gateway never checked (request smuggling).
//! A backend connection goes back to the pool only after a complete request. The client
//! gets either a forwarded exchange or an HTTP error reply. Never a panic.

use std::collections::HashMap;
use std::time::Instant;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use spdygate::gateway::{BackendAction, ExchangeId, H1Connection, Policy};

#[path = "../common/forwarded.rs"]
mod forwarded;

fuzz_target!(|data: &[u8]| {
    let Some((&step, data)) = data.split_first() else { return };
    // high bit: the backend answers each exchange as soon as it opens (before the request
    // body is through), else at the end
    let early = step & 0x80 != 0;
    let step = usize::from(step & 0x7f).max(1);
    let now = Instant::now();
    let mut conn = H1Connection::new(b"192.0.2.7", false, Policy::default());
    let mut sent: HashMap<ExchangeId, Vec<u8>> = HashMap::new();
    let mut opened: Vec<ExchangeId> = Vec::new();
    let mut answered: Vec<ExchangeId> = Vec::new();
    let drain = |conn: &mut H1Connection, sent: &mut HashMap<ExchangeId, Vec<u8>>, opened: &mut Vec<ExchangeId>| {
        let mut out = Vec::new();
        conn.take_client_output(&mut out);
        let n: usize = out.iter().map(Bytes::len).sum();
        conn.client_sent(n, now);
        while let Some(action) = conn.poll_backend_action() {
            match action {
                BackendAction::Send { exchange, bufs, credit } => {
                    let bytes = sent.entry(exchange).or_default();
                    for b in &bufs {
                        bytes.extend_from_slice(b);
                    }
                    conn.backend_sent(exchange, credit, now);
                }
                BackendAction::Open { exchange, .. } => opened.push(exchange),
                BackendAction::Release { exchange, reusable: true } => {
                    // back to the pool only after a whole request: a half-sent one's tail
                    // would be read as the next request on that connection
                    let request = forwarded::read(sent.get(&exchange).map_or(&[][..], |b| b)).expect("forwarded request");
                    assert!(request.complete, "connection reused after an incomplete request");
                }
                _ => {}
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
        drain(&mut conn, &mut sent, &mut opened);
        if early {
            answer(&mut conn, &opened, &mut answered);
            drain(&mut conn, &mut sent, &mut opened);
        }
    }
    answer(&mut conn, &opened, &mut answered);
    drain(&mut conn, &mut sent, &mut opened);
    conn.client_eof(now);
    drain(&mut conn, &mut sent, &mut opened);
    for bytes in sent.values() {
        if let Err(why) = forwarded::read(bytes) {
            panic!("{why}\n{}", String::from_utf8_lossy(bytes));
        }
    }
});
