//! The `origin` binary end to end: every route over real loopback sockets with plain
//! `TcpStream`s (responses parsed with our own `http1` decoder) and with curl. Each test starts
//! its own origin on 127.0.0.1:0 (so `/count` is exact per test) and kills it on every path.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use spdygate::http1::{BodyDecoder, BodyItem, ResponseHead};
use spdygate::origin::{byte_at, DROP_SHORTFALL};

const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// A running origin; killed and reaped when dropped.
struct Origin {
    child: Child,
    addr: SocketAddr,
}

impl Origin {
    fn start() -> Origin {
        let mut child = Command::new(env!("CARGO_BIN_EXE_origin"))
            .args(["--listen", "127.0.0.1:0", "--threads", "2", "--no-pin"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn origin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        // Build the guard first so that the child is killed even if the line never comes.
        let mut origin = Origin { child, addr: "0.0.0.0:0".parse().unwrap() };
        let line = rx.recv_timeout(Duration::from_secs(20)).expect("origin printed no address within 20 s");
        let addr = line.trim().strip_prefix("origin listening on ").unwrap_or_else(|| panic!("unexpected line {line:?}"));
        origin.addr = addr.parse().expect("address");
        origin
    }

    fn client(&self) -> Client {
        Client::connect(self.addr)
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| &v[..])
    }

    fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name).map(|v| std::str::from_utf8(v).expect("ascii header"))
    }
}

struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
    eof: bool,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect to origin");
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_nodelay(true).unwrap();
        Client { stream, buf: Vec::new(), eof: false }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write request");
    }

    fn get(&mut self, path: &str) -> Response {
        self.send(format!("GET {path} HTTP/1.1\r\nhost: origin\r\n\r\n").as_bytes());
        self.response(false)
    }

    /// Reads more bytes; false at end of stream.
    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 64 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => {
                self.eof = true;
                false
            }
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                self.eof = true;
                false
            }
            Err(e) => panic!("read: {e}"),
        }
    }

    fn head(&mut self) -> ResponseHead {
        loop {
            if let Some((head, len)) = ResponseHead::parse(&self.buf).expect("response head") {
                self.buf.drain(..len);
                return head;
            }
            assert!(self.fill(), "connection closed before a response head");
        }
    }

    /// Reads one final response (skipping 100 Continue); `head_request` if it answers HEAD.
    fn response(&mut self, head_request: bool) -> Response {
        let mut head = self.head();
        while head.is_interim() {
            head = self.head();
        }
        let mut decoder = BodyDecoder::new(head.framing(head_request).expect("framing"));
        let mut body = Vec::new();
        loop {
            let mut input = &self.buf[..];
            let item = decoder.decode(&mut input).expect("body");
            let used = self.buf.len() - input.len();
            let (done, need_more) = match item {
                Some(BodyItem::Data(data)) => {
                    body.extend_from_slice(data);
                    (false, false)
                }
                Some(BodyItem::End) => (true, false),
                None => (false, true),
            };
            self.buf.drain(..used);
            if done {
                break;
            }
            if need_more && !self.fill() {
                decoder.eof().expect("body cut short");
            }
        }
        let headers = head.headers().map(|(n, v)| (String::from_utf8_lossy(n).into_owned(), v.to_vec())).collect();
        Response { status: head.status, headers, body }
    }

    /// Reads until the peer closes; returns everything left.
    fn rest_until_close(&mut self) -> Vec<u8> {
        while self.fill() {}
        std::mem::take(&mut self.buf)
    }
}

fn sha_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len as u64).map(byte_at).collect()
}

fn count(origin: &Origin) -> u64 {
    let r = origin.client().get("/count");
    assert_eq!(r.status, 200);
    std::str::from_utf8(&r.body).unwrap().trim().parse().expect("count is a number")
}

#[test]
fn bytes_route_bodies_follow_the_pattern_and_match_their_digest() {
    let origin = Origin::start();
    let mut c = origin.client();
    for len in [0usize, 1, 250, 251, 252, 1024, 65_536, 65_537, 300_001] {
        let r = c.get(&format!("/bytes/{len}"));
        assert_eq!(r.status, 200);
        assert_eq!(r.header_str("content-length"), Some(len.to_string().as_str()));
        assert_eq!(r.body, pattern(len), "body of /bytes/{len}");
        assert_eq!(r.header_str("x-body-sha256"), Some(sha_hex(&r.body).as_str()));
    }
    let r = c.get("/bytes/5?nosha");
    assert_eq!((r.status, r.header("x-body-sha256"), &r.body[..]), (200, None, &pattern(5)[..]));
    c.send(b"HEAD /bytes/1000 HTTP/1.1\r\n\r\n");
    let r = c.response(true);
    assert_eq!(r.header_str("content-length"), Some("1000"));
    assert_eq!(r.header_str("x-body-sha256"), Some(sha_hex(&pattern(1000)).as_str()));
    assert!(r.body.is_empty());
}

#[test]
fn a_50_mib_body_arrives_whole_and_matches_its_sha256() {
    let origin = Origin::start();
    let mut c = origin.client();
    let r = c.get("/bytes/52428800");
    assert_eq!(r.body.len(), 50 << 20);
    assert_eq!(r.header_str("x-body-sha256"), Some(sha_hex(&r.body).as_str()));
    assert!(r.body.iter().enumerate().all(|(i, &b)| b == byte_at(i as u64)), "pattern");
}

#[test]
fn status_chunked_slow_and_unknown_routes() {
    let origin = Origin::start();
    let mut c = origin.client();
    for code in [200u16, 201, 302, 404, 418, 500, 503, 599] {
        let r = c.get(&format!("/status/{code}"));
        assert_eq!(r.status, code);
        assert_eq!(r.body, format!("status {code}\n").as_bytes());
    }
    for code in [204u16, 304] {
        let r = c.get(&format!("/status/{code}"));
        assert_eq!((r.status, r.body.len()), (code, 0));
    }
    let r = c.get("/chunked/100000/3000");
    assert_eq!(r.header_str("transfer-encoding"), Some("chunked"));
    assert_eq!(r.body, pattern(100_000));
    let r = c.get("/slow/30/5?piece=7");
    assert_eq!((r.status, r.body), (200, pattern(30)));
    let r = c.get("/slow/3/5?head");
    assert_eq!(r.body, pattern(3));
    assert_eq!(c.get("/nothing/here").status, 404);
    assert_eq!(c.get("/chunked/10/0").status, 400);
    // The connection survived all of that.
    assert_eq!(c.get("/bytes/1").body, pattern(1));
}

#[test]
fn one_keep_alive_connection_serves_1000_requests() {
    let origin = Origin::start();
    let mut c = origin.client();
    for i in 0..1000usize {
        let len = i % 300;
        let r = c.get(&format!("/bytes/{len}?nosha"));
        assert_eq!(r.body.len(), len, "request {i}");
    }
    assert_eq!(count(&origin), 1000);
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let origin = Origin::start();
    let mut c = origin.client();
    let mut batch = Vec::new();
    for i in 0..200usize {
        let path = match i % 4 {
            0 => format!("/bytes/{i}"),
            1 => format!("/status/{}", 200 + i % 100),
            2 => format!("/chunked/{i}/7"),
            _ => "/missing".to_string(),
        };
        batch.extend_from_slice(format!("GET {path} HTTP/1.1\r\n\r\n").as_bytes());
    }
    c.send(&batch);
    for i in 0..200usize {
        let r = c.response(false);
        match i % 4 {
            0 | 2 => assert_eq!(r.body, pattern(i), "response {i}"),
            1 => assert_eq!(r.status, 200 + (i % 100) as u16, "response {i}"),
            _ => assert_eq!(r.status, 404, "response {i}"),
        }
    }
}

/// Sends `body` as a request on a second thread while this one reads the echo.
fn echo_round_trip(origin: &Origin, body: Vec<u8>, chunked: bool) -> Response {
    let mut c = origin.client();
    let mut writer = c.stream.try_clone().unwrap();
    let sender = thread::spawn(move || {
        if chunked {
            writer.write_all(b"POST /echo HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n").unwrap();
            for part in body.chunks(100_003) {
                writer.write_all(format!("{:x}\r\n", part.len()).as_bytes()).unwrap();
                writer.write_all(part).unwrap();
                writer.write_all(b"\r\n").unwrap();
            }
            writer.write_all(b"0\r\n\r\n").unwrap();
        } else {
            writer.write_all(format!("PUT /echo HTTP/1.1\r\ncontent-length: {}\r\n\r\n", body.len()).as_bytes()).unwrap();
            writer.write_all(&body).unwrap();
        }
    });
    let r = c.response(false);
    sender.join().expect("sender");
    r
}

#[test]
fn echo_of_10_mib_returns_every_byte_with_and_without_content_length() {
    let origin = Origin::start();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let body: Vec<u8> = (0..10 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let want = sha_hex(&body);
    let r = echo_round_trip(&origin, body.clone(), false);
    assert_eq!(r.header_str("content-length"), Some((10 << 20).to_string().as_str()));
    assert_eq!(sha_hex(&r.body), want);
    let r = echo_round_trip(&origin, body, true);
    assert_eq!(r.header_str("transfer-encoding"), Some("chunked"));
    assert_eq!(sha_hex(&r.body), want);
}

#[test]
fn expect_100_continue_is_answered_before_the_body_is_sent() {
    let origin = Origin::start();
    let mut c = origin.client();
    c.send(b"POST /echo HTTP/1.1\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n");
    let interim = c.head();
    assert_eq!(interim.status, 100);
    c.send(b"hello");
    let r = c.response(false);
    assert_eq!((r.status, &r.body[..]), (200, &b"hello"[..]));
}

#[test]
fn count_is_exact_across_threads_and_connections_and_resets() {
    let origin = Origin::start();
    let mut reset = origin.client();
    reset.send(b"POST /count/reset HTTP/1.1\r\ncontent-length: 0\r\n\r\n");
    assert_eq!(reset.response(false).status, 200);
    let addr = origin.addr;
    let workers: Vec<_> = (0..6)
        .map(|_| {
            thread::spawn(move || {
                let mut c = Client::connect(addr);
                for i in 0..50 {
                    c.get(if i % 5 == 0 { "/nope" } else { "/bytes/10" });
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    assert_eq!(count(&origin), 300);
    assert_eq!(count(&origin), 300, "reading the count does not change it");
    reset.send(b"POST /count/reset HTTP/1.1\r\ncontent-length: 0\r\n\r\n");
    assert_eq!(reset.response(false).body, b"300\n", "reset answers the count it cleared");
    assert_eq!(count(&origin), 0);
}

#[test]
fn drop_sends_n_bytes_of_a_longer_declared_body_then_closes() {
    let origin = Origin::start();
    let mut c = origin.client();
    c.send(b"GET /drop/100000 HTTP/1.1\r\n\r\n");
    let head = c.head();
    assert_eq!(head.header(b"content-length"), Some((100_000 + DROP_SHORTFALL).to_string().as_bytes()));
    let rest = c.rest_until_close();
    assert_eq!(rest, pattern(100_000));
}

#[test]
fn connection_close_and_http10_end_the_connection_after_one_response() {
    let origin = Origin::start();
    let mut c = origin.client();
    c.send(b"GET /bytes/10 HTTP/1.1\r\nconnection: close\r\n\r\nGET /bytes/20 HTTP/1.1\r\n\r\n");
    let r = c.response(false);
    assert_eq!(r.header_str("connection"), Some("close"));
    assert_eq!(r.body, pattern(10));
    assert!(c.rest_until_close().is_empty(), "nothing after the closing response");
    let mut c = origin.client();
    c.send(b"GET /bytes/7 HTTP/1.0\r\n\r\n");
    assert_eq!(c.response(false).body, pattern(7));
    assert!(c.rest_until_close().is_empty());
    assert!(c.eof);
}

#[test]
fn malformed_request_gets_400_and_a_close() {
    let origin = Origin::start();
    let mut c = origin.client();
    c.send(b"GET /bytes/1 HTTP/1.1\r\nno colon here\r\n\r\n");
    let r = c.response(false);
    assert_eq!(r.status, 400);
    assert!(c.rest_until_close().is_empty());
}

fn curl() -> Command {
    let found = Command::new("curl").arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success());
    assert!(found, "curl is required by this test (scripts/test.sh installs it: apt-get install -y curl)");
    let mut cmd = Command::new("curl");
    cmd.args(["--silent", "--show-error", "--max-time", "30"]);
    cmd
}

#[test]
fn curl_fetches_verifies_echoes_and_reuses_the_connection() {
    let origin = Origin::start();
    let out = curl().args(["--dump-header", "-", &origin.url("/bytes/100000")]).output().expect("run curl");
    assert!(out.status.success(), "curl failed: {}", String::from_utf8_lossy(&out.stderr));
    let split = out.stdout.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4;
    let head = String::from_utf8_lossy(&out.stdout[..split]).to_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains(&format!("x-body-sha256: {}", sha_hex(&pattern(100_000)))), "{head}");
    assert_eq!(out.stdout[split..], pattern(100_000)[..]);

    let dir = std::env::temp_dir().join(format!("origin-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("body.bin");
    let body: Vec<u8> = (0..3_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(&file, &body).unwrap();
    let out = curl()
        .args(["--data-binary", &format!("@{}", file.display()), &origin.url("/echo")])
        .output()
        .expect("run curl");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "curl failed: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(sha_hex(&out.stdout), sha_hex(&body));

    // Three URLs in one curl run share one connection when keep-alive works.
    let out = curl()
        .args(["--output", "/dev/null", "--output", "/dev/null", "--output", "/dev/null"])
        .args(["--write-out", "%{num_connects} "])
        .args([origin.url("/bytes/10"), origin.url("/status/201"), origin.url("/chunked/50/9")])
        .output()
        .expect("run curl");
    assert!(out.status.success(), "curl failed: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1 0 0");
}

#[test]
fn sigterm_makes_origin_exit_zero() {
    let mut origin = Origin::start();
    // A connection is open and idle; shutdown must not wait for it.
    let _idle = origin.client();
    let pid = origin.child.id();
    send_signal(pid, "TERM");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = origin.child.try_wait().expect("wait") {
            assert!(status.success(), "origin exited with {status}");
            break;
        }
        assert!(Instant::now() < deadline, "origin still running 10 s after SIGTERM");
        thread::sleep(Duration::from_millis(20));
    }
}

/// kill(1) rather than libc::kill: keeps the test free of unsafe code.
fn send_signal(pid: u32, signal: &str) {
    let status = Command::new("kill").args([format!("-{signal}"), pid.to_string()]).status().expect("run kill");
    assert!(status.success(), "kill -{signal} {pid} failed");
}

#[test]
fn a_client_that_sends_an_echo_body_but_never_reads_is_stopped_by_back_pressure() {
    let origin = Origin::start();
    let mut c = origin.client();
    let total: usize = 1 << 30;
    c.send(format!("POST /echo HTTP/1.1\r\ncontent-length: {total}\r\n\r\n").as_bytes());
    c.stream.set_write_timeout(Some(Duration::from_secs(3))).unwrap();
    let block = vec![0x5au8; 1 << 20];
    let mut written = 0usize;
    while written < total {
        match c.stream.write(&block) {
            Ok(n) => written += n,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => break,
            Err(e) => panic!("write: {e}"),
        }
    }
    // Socket buffers on both sides plus origin's window: a few MiB, never the whole GiB.
    assert!(written < 64 << 20, "origin kept reading: {written} bytes accepted without being echoed");
    // The stalled connection holds no one else up.
    assert_eq!(origin.client().get("/bytes/3").body, pattern(3));
}
