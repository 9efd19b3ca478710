use std::time::{Duration, Instant};

use super::*;

/// Polls until the connection has nothing to send now; returns the bytes and the last answer.
fn drain(conn: &mut Connection, scratch: &mut Scratch, now: Instant) -> (Vec<u8>, Transmit) {
    let mut out = Vec::new();
    for _ in 0..100_000 {
        match conn.poll_transmit(scratch, now, 64 * 1024) {
            Transmit::Send => {
                let pieces: Vec<Piece> = scratch.take_pieces().collect();
                for p in pieces {
                    out.extend_from_slice(p.bytes());
                    if let Piece::Owned(v) = p {
                        scratch.recycle(v);
                    }
                }
            }
            other => return (out, other),
        }
    }
    panic!("connection never stopped sending");
}

fn exchange(request: &[u8]) -> (String, Transmit) {
    let mut conn = Connection::new();
    let mut scratch = Scratch::new();
    conn.receive(&mut scratch, request);
    let (out, t) = drain(&mut conn, &mut scratch, Instant::now());
    (String::from_utf8_lossy(&out).into_owned(), t)
}

fn pattern_body(len: usize) -> Vec<u8> {
    (0..len as u64).map(byte_at).collect()
}

#[test]
fn bytes_route_sends_the_pattern_with_its_digest() {
    let mut conn = Connection::new();
    let mut scratch = Scratch::new();
    conn.receive(&mut scratch, b"GET /bytes/1000 HTTP/1.1\r\nhost: x\r\n\r\n");
    let (out, t) = drain(&mut conn, &mut scratch, Instant::now());
    assert_eq!(t, Transmit::Idle);
    let head_end = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = std::str::from_utf8(&out[..head_end]).unwrap();
    let digest = std::str::from_utf8(&sha256_hex(1000)).unwrap().to_owned();
    assert_eq!(head, format!("HTTP/1.1 200 OK\r\ncontent-length: 1000\r\nx-body-sha256: {digest}\r\n\r\n"));
    assert_eq!(&out[head_end..], &pattern_body(1000)[..]);
}

#[test]
fn head_and_nosha_omit_body_and_digest() {
    let (out, _) = exchange(b"HEAD /bytes/10 HTTP/1.1\r\n\r\n");
    assert!(out.contains("content-length: 10\r\n") && out.ends_with("\r\n\r\n") && out.contains("x-body-sha256"));
    let (out, _) = exchange(b"GET /bytes/3?nosha HTTP/1.1\r\n\r\n");
    assert_eq!(out, "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\n\x00\x01\x02");
}

#[test]
fn pipelined_requests_are_answered_in_order_in_one_transmit() {
    let mut conn = Connection::new();
    let mut scratch = Scratch::new();
    conn.receive(&mut scratch, b"GET /status/404 HTTP/1.1\r\n\r\nGET /bytes/2?nosha HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\n\r\n");
    assert_eq!(conn.poll_transmit(&mut scratch, Instant::now(), 1 << 20), Transmit::Send);
    let out: Vec<u8> = scratch.take_pieces().flat_map(|p| p.bytes().to_vec()).collect();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "HTTP/1.1 404 Not Found\r\ncontent-length: 11\r\n\r\nstatus 404\n\
         HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n\x00\x01\
         HTTP/1.1 404 Not Found\r\ncontent-length: 10\r\n\r\nnot found\n"
    );
}

#[test]
fn a_head_split_across_receives_is_reassembled() {
    let mut conn = Connection::new();
    let mut scratch = Scratch::new();
    let request = b"GET /status/201 HTTP/1.1\r\nhost: x\r\n\r\n";
    for byte in request.chunks(1) {
        conn.receive(&mut scratch, byte);
    }
    let (out, _) = drain(&mut conn, &mut scratch, Instant::now());
    assert!(out.starts_with(b"HTTP/1.1 201 Created\r\n"));
}

#[test]
fn status_204_has_no_body_and_connection_close_closes() {
    let (out, t) = exchange(b"GET /status/204 HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert_eq!(out, "HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n");
    assert_eq!(t, Transmit::Close);
}

#[test]
fn http10_gets_one_response_and_a_close() {
    let (out, t) = exchange(b"GET /bytes/1?nosha HTTP/1.0\r\n\r\nGET /bytes/1 HTTP/1.0\r\n\r\n");
    assert_eq!(out, "HTTP/1.1 200 OK\r\ncontent-length: 1\r\nconnection: close\r\n\r\n\x00");
    assert_eq!(t, Transmit::Close);
}

#[test]
fn chunked_route_frames_k_byte_chunks() {
    let (out, _) = exchange(b"GET /chunked/5/2 HTTP/1.1\r\n\r\n");
    assert_eq!(
        out,
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\n\x00\x01\r\n2\r\n\x02\x03\r\n1\r\n\x04\r\n0\r\n\r\n"
    );
    let (out, _) = exchange(b"GET /chunked/0/7 HTTP/1.1\r\n\r\n");
    assert!(out.ends_with("chunked\r\n\r\n0\r\n\r\n"));
}

#[test]
fn echo_with_content_length_streams_the_body_back() {
    let mut conn = Connection::new();
    let mut scratch = Scratch::new();
    conn.receive(&mut scratch, b"POST /echo HTTP/1.1\r\ncontent-length: 6\r\n\r\nabc");
    let now = Instant::now();
    let (out, t) = drain(&mut conn, &mut scratch, now);
    assert_eq!(t, Transmit::Idle);
    assert_eq!(out, b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nabc");
    conn.receive(&mut scratch, b"defGET /bytes/0?nosha HTTP/1.1\r\n\r\n");
    let (out, _) = drain(&mut conn, &mut scratch, now);
    assert_eq!(out, b"defHTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
}

#[test]
fn chunked_echo_answers_100_continue_and_rechunks() {
    let (out, _) = exchange(
        b"PUT /echo HTTP/1.1\r\nexpect: 100-continue\r\ntransfer-encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n",
    );
    assert_eq!(
        out,
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n"
    );
}

#[test]
fn echo_stops_reading_beyond_its_window_and_resumes_after_sending() {
    let mut conn = Connection::new();
    let mut scratch = Scratch::new();
    let total = 3 * ECHO_WINDOW;
    let head = format!("POST /echo HTTP/1.1\r\ncontent-length: {total}\r\n\r\n");
    conn.receive(&mut scratch, head.as_bytes());
    let body = vec![7u8; total];
    let mut fed = 0;
    let mut echoed = 0;
    let now = Instant::now();
    for _ in 0..1000 {
        if fed < total && conn.wants_read() {
            let n = (total - fed).min(16 * 1024);
            conn.receive(&mut scratch, &body[fed..fed + n]);
            fed += n;
            assert!(conn.input.len() <= 16 * 1024, "at most one recv beyond the window is held");
            continue;
        }
        let (out, _) = drain(&mut conn, &mut scratch, now);
        echoed += out.len();
        if fed == total && conn.queue.is_empty() {
            break;
        }
    }
    let response_head = format!("HTTP/1.1 200 OK\r\ncontent-length: {total}\r\n\r\n");
    assert_eq!(echoed, response_head.len() + total);
}

#[test]
fn slow_drips_pieces_at_the_interval() {
    let mut conn = Connection::new();
    let mut scratch = Scratch::new();
    let t0 = Instant::now();
    conn.receive(&mut scratch, b"GET /slow/5/100?piece=2 HTTP/1.1\r\n\r\n");
    let (out, t) = drain(&mut conn, &mut scratch, t0);
    assert_eq!(out, b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n");
    assert_eq!(t, Transmit::WaitUntil(t0 + Duration::from_millis(100)));
    let t1 = t0 + Duration::from_millis(100);
    let (out, t) = drain(&mut conn, &mut scratch, t1);
    assert_eq!(out, [0, 1]);
    assert_eq!(t, Transmit::WaitUntil(t1 + Duration::from_millis(100)));
    // Too early: nothing.
    assert_eq!(drain(&mut conn, &mut scratch, t1).0, b"");
    let (out, _) = drain(&mut conn, &mut scratch, t1 + Duration::from_millis(100));
    assert_eq!(out, [2, 3]);
    let (out, t) = drain(&mut conn, &mut scratch, t1 + Duration::from_millis(200));
    assert_eq!((out, t), (vec![4], Transmit::Idle));
}

#[test]
fn slow_with_head_flag_delays_the_head() {
    let mut conn = Connection::new();
    let mut scratch = Scratch::new();
    let t0 = Instant::now();
    conn.receive(&mut scratch, b"GET /slow/1/50?head HTTP/1.1\r\n\r\n");
    assert_eq!(drain(&mut conn, &mut scratch, t0), (vec![], Transmit::WaitUntil(t0 + Duration::from_millis(50))));
    let (out, _) = drain(&mut conn, &mut scratch, t0 + Duration::from_millis(50));
    assert!(out.starts_with(b"HTTP/1.1 200 OK"));
}

#[test]
fn drop_sends_less_than_declared_then_aborts() {
    let (out, t) = exchange(b"GET /drop/4 HTTP/1.1\r\n\r\nGET /bytes/1 HTTP/1.1\r\n\r\n");
    assert_eq!(out, format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n\x00\x01\x02\x03", 4 + DROP_SHORTFALL));
    assert_eq!(t, Transmit::Abort);
}

#[test]
fn malformed_and_ambiguous_heads_get_an_error_and_a_close() {
    let (out, t) = exchange(b"GET / HTTP/1.1\r\nbad header\r\n\r\n");
    assert!(out.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{out}");
    assert_eq!(t, Transmit::Close);
    let (out, _) = exchange(b"POST /echo HTTP/1.1\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n");
    assert!(out.starts_with("HTTP/1.1 400 "), "{out}");
    let (out, _) = exchange(b"POST /echo HTTP/1.1\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n");
    assert!(out.starts_with("HTTP/1.1 400 "), "{out}");
    let mut huge = b"GET / HTTP/1.1\r\nx: ".to_vec();
    huge.resize(MAX_HEAD_BYTES + 100, b'a');
    let (out, _) = exchange(&huge);
    assert!(out.starts_with("HTTP/1.1 431 "), "{out}");
}

#[test]
fn a_body_cut_by_eof_resets_after_what_was_echoed() {
    let mut conn = Connection::new();
    let mut scratch = Scratch::new();
    conn.receive(&mut scratch, b"POST /echo HTTP/1.1\r\ncontent-length: 10\r\n\r\nab");
    conn.receive_eof();
    let (out, t) = drain(&mut conn, &mut scratch, Instant::now());
    assert!(out.ends_with(b"\r\n\r\nab"));
    assert_eq!(t, Transmit::Abort);
}

#[test]
fn eof_after_pipelined_requests_closes_once_they_are_answered() {
    let mut conn = Connection::new();
    let mut scratch = Scratch::new();
    conn.receive(&mut scratch, b"GET /bytes/1 HTTP/1.1\r\n\r\n");
    conn.receive_eof();
    assert!(!conn.wants_read());
    let (out, t) = drain(&mut conn, &mut scratch, Instant::now());
    assert!(out.starts_with(b"HTTP/1.1 200 OK"));
    assert_eq!(t, Transmit::Close);
}

#[test]
fn pipelining_stops_parsing_at_the_queue_limit() {
    let mut conn = Connection::new();
    let mut scratch = Scratch::new();
    let many = b"GET /slow/1/1000 HTTP/1.1\r\n\r\n".repeat(MAX_PIPELINE + 10);
    conn.receive(&mut scratch, &many);
    assert_eq!(conn.queue.len(), MAX_PIPELINE);
    assert!(!conn.wants_read());
}
