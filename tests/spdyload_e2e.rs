//! End-to-end tests of the `spdyload` binary: it runs against real servers on 127.0.0.1
//! and its `--json` report is checked against what the server itself counted.
//!
//! Servers: a small SPDY server built from our own server-role `Session` over blocking
//! std::net threads (counts every SYN_STREAM it accepts; optional TLS, delay, GOAWAY after
//! N streams), and node's `spdy-transport` (tests/interop/server.js, an independent
//! implementation). Every child is killed on every path; every run has a deadline.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

mod procs;

use spdygate::spdy::header::HeaderBlock;
use spdygate::spdy::session::{Event, Limits, Role, Session, SessionConfig};
use spdygate::spdy::{StreamId, Version};

/// Budget for one spdyload run on a loaded 2-core machine.
const RUN_DEADLINE: Duration = Duration::from_secs(90);

/// How the in-test server behaves.
#[derive(Clone)]
struct ServerOptions {
    version: Version,
    /// Each request is answered this long after it arrived, one at a time per connection.
    delay: Duration,
    /// Response body length for paths other than `/bytes/N` and `/status/N`.
    body_len: usize,
    /// GOAWAY(OK) after this many streams per connection (the gateway's B4 limit).
    max_streams_per_session: u32,
    tls: Option<Arc<rustls::ServerConfig>>,
}

impl ServerOptions {
    fn new(version: Version) -> Self {
        ServerOptions { version, delay: Duration::ZERO, body_len: 100, max_streams_per_session: u32::MAX, tls: None }
    }
}

/// A SPDY server on our own `Session` (server role), one thread per connection.
struct TestServer {
    addr: SocketAddr,
    /// Requests accepted (SYN_STREAMs that opened a stream).
    requests: Arc<AtomicU64>,
    /// Request bodies received, in bytes.
    body_bytes: Arc<AtomicU64>,
    connections: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    accept: Option<thread::JoinHandle<()>>,
}

impl TestServer {
    fn start(options: ServerOptions) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicU64::new(0));
        let body_bytes = Arc::new(AtomicU64::new(0));
        let connections = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, b, c, s) = (requests.clone(), body_bytes.clone(), connections.clone(), stop.clone());
        let accept = thread::spawn(move || {
            let mut workers = Vec::new();
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((sock, _)) => {
                        c.fetch_add(1, Ordering::Relaxed);
                        let (options, r, b, s) = (options.clone(), r.clone(), b.clone(), s.clone());
                        workers.push(thread::spawn(move || serve_connection(sock, options, &r, &b, &s)));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(2)),
                }
            }
            for w in workers {
                let _ = w.join();
            }
        });
        TestServer { addr, requests, body_bytes, connections, stop, accept: Some(accept) }
    }

    fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(a) = self.accept.take() {
            let _ = a.join();
        }
    }
}

/// A socket, plain or TLS (the shard's own sans-IO rustls wrapper), with a short read
/// timeout so that the loop can check `stop`.
struct Conn {
    sock: TcpStream,
    tls: Option<spdygate::shard::tls::TlsSession>,
    raw: Vec<u8>,
}

impl Conn {
    /// Reads once; appends the plaintext to `plain`. `Ok(0)`: end of stream.
    fn read(&mut self, plain: &mut Vec<u8>) -> std::io::Result<usize> {
        let n = self.sock.read(&mut self.raw)?;
        match &mut self.tls {
            None => plain.extend_from_slice(&self.raw[..n]),
            Some(tls) => {
                let result = tls.recv(&self.raw[..n], plain);
                let mut out = Vec::new();
                tls.take_output(&mut out);
                self.sock.write_all(&out)?;
                result.map_err(std::io::Error::other)?;
            }
        }
        Ok(n)
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match &mut self.tls {
            None => self.sock.write_all(bytes),
            Some(tls) => {
                tls.send(bytes);
                let mut out = Vec::new();
                tls.take_output(&mut out);
                self.sock.write_all(&out)
            }
        }
    }
}

fn response_headers(version: Version, status: u16, len: usize) -> HeaderBlock {
    let mut h = HeaderBlock::new();
    let (s, v) = if version.colon_names() { (":status", ":version") } else { ("status", "version") };
    h.push(s, status.to_string());
    h.push(v, "HTTP/1.1");
    h.push("content-length", len.to_string());
    h
}

/// Status and body length for a request path.
fn route(path: &[u8], default_len: usize) -> (u16, usize) {
    let path = std::str::from_utf8(path).unwrap_or("");
    if let Some(n) = path.strip_prefix("/status/").and_then(|n| n.parse().ok()) {
        return (n, 0);
    }
    if let Some(n) = path.strip_prefix("/bytes/").and_then(|n| n.parse().ok()) {
        return (200, n);
    }
    (200, default_len)
}

fn serve_connection(sock: TcpStream, options: ServerOptions, requests: &AtomicU64, body_bytes: &AtomicU64, stop: &AtomicBool) {
    sock.set_nodelay(true).unwrap();
    sock.set_nonblocking(false).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    let tls = options.tls.as_ref().map(|config| spdygate::shard::tls::TlsSession::new(config.clone()).unwrap());
    let mut conn = Conn { sock, tls, raw: vec![0u8; 64 * 1024] };
    let config = SessionConfig {
        limits: Limits { max_streams_per_session: options.max_streams_per_session, ..Limits::default() },
        ..SessionConfig::default()
    };
    let version = options.version;
    let mut session = Session::new(Role::Server, version, config, Instant::now());
    let path_name: &[u8] = if version.colon_names() { b":path" } else { b"url" };
    // Requests waiting for their reply: (stream, path, arrival), in arrival order.
    let mut uploading: Vec<(StreamId, Vec<u8>)> = Vec::new();
    let mut waiting: std::collections::VecDeque<(StreamId, Vec<u8>, Instant)> = Default::default();
    let mut plain = Vec::new();
    let mut out = Vec::new();
    let deadline = Instant::now() + RUN_DEADLINE;
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        plain.clear();
        match conn.read(&mut plain) {
            Ok(0) => break,
            Ok(_) => {
                let now = Instant::now();
                let mut input = &plain[..];
                loop {
                    match session.recv(&mut input, now) {
                        Ok(Some(Event::StreamOpened { stream_id, headers, fin, .. })) => {
                            requests.fetch_add(1, Ordering::SeqCst);
                            let path = headers.get(path_name).unwrap_or(b"/").to_vec();
                            if fin {
                                waiting.push_back((stream_id, path, now));
                            } else {
                                uploading.push((stream_id, path));
                            }
                        }
                        Ok(Some(Event::Data { stream_id, data, fin })) => {
                            body_bytes.fetch_add(data.len() as u64, Ordering::SeqCst);
                            session.consume(stream_id, data.len());
                            if fin {
                                if let Some(i) = uploading.iter().position(|(id, _)| *id == stream_id) {
                                    let (id, path) = uploading.swap_remove(i);
                                    waiting.push_back((id, path, now));
                                }
                            }
                        }
                        Ok(Some(_)) => {}
                        Ok(None) => break,
                        Err(_) => break,
                    }
                }
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
        // Answer what is due; with a delay, one request at a time (a deliberately slow server).
        while let Some((_, _, arrived)) = waiting.front() {
            let now = Instant::now();
            if !options.delay.is_zero() {
                let due = (*arrived).max(now) + options.delay;
                thread::sleep(due.saturating_duration_since(now));
            }
            let (id, path, _) = waiting.pop_front().unwrap();
            let (status, len) = route(&path, options.body_len);
            let _ = session.send_reply(id, &response_headers(version, status, len), len == 0);
            if len > 0 {
                let _ = session.send_data(id, len, true);
            }
            if !options.delay.is_zero() {
                break;
            }
        }
        let now = Instant::now();
        while session.poll_transmit_copy(&mut out, now, &mut |_, len, out: &mut Vec<u8>| out.resize(out.len() + len, b'x')) {}
        while session.poll_event().is_some() {}
        if !out.is_empty() {
            if conn.write_all(&out).is_err() {
                break;
            }
            out.clear();
        }
        if session.is_closed() {
            break;
        }
    }
}

/// Runs spdyload with `args` and returns its parsed `--json` report.
fn spdyload(args: &[String]) -> serde_json::Value {
    // SPDYLOAD_BIN lets the measurement below use a release build.
    let bin = std::env::var_os("SPDYLOAD_BIN").map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_spdyload")), PathBuf::from);
    let mut child = Command::new(bin)
        .args(args)
        .arg("--json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn spdyload");
    let mut stdout = child.stdout.take().unwrap();
    let reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let status = procs::wait_or_kill(&mut child, RUN_DEADLINE, &format!("spdyload {args:?}"));
    let out = reader.join().unwrap();
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    assert!(status.success(), "spdyload {args:?} failed: {status}\n{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("bad JSON ({e}): {out}\n{err}"))
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn n(report: &serde_json::Value, section: &str, key: &str) -> u64 {
    report[section][key].as_u64().unwrap_or_else(|| panic!("{section}.{key} missing in {report}"))
}

fn assert_all_succeeded(report: &serde_json::Value, expected: u64) {
    assert_eq!(n(report, "requests", "started"), expected, "{report}");
    assert_eq!(n(report, "requests", "done"), expected, "{report}");
    assert_eq!(n(report, "requests", "succeeded"), expected, "{report}");
    assert_eq!(n(report, "requests", "failed"), 0, "{report}");
    assert_eq!(n(report, "requests", "errored"), 0, "{report}");
    assert_eq!(n(report, "status_codes", "2xx"), expected, "{report}");
}

#[test]
fn done_equals_the_servers_own_count_for_several_n_c_m() {
    for (version, proto) in [(Version::Spdy31, "spdy/3.1"), (Version::Spdy3, "spdy/3"), (Version::Spdy2, "spdy/2")] {
        for (requests, conns, streams, threads) in [(1, 1, 1, 1), (100, 3, 7, 1), (1001, 7, 10, 2), (257, 4, 1, 2)] {
            let server = TestServer::start(ServerOptions::new(version));
            let url = format!("http://{}/", server.addr);
            let report = spdyload(&args(&[
                "-p", proto, "-n", &requests.to_string(), "-c", &conns.to_string(), "-m", &streams.to_string(),
                "-t", &threads.to_string(), &url,
            ]));
            assert_all_succeeded(&report, requests);
            assert_eq!(server.requests(), requests, "server count, {proto} -n {requests} -c {conns} -m {streams}");
            assert_eq!(n(&report, "traffic", "data_bytes"), requests * 100, "{report}");
            assert_eq!(report["protocol"], proto);
        }
    }
}

#[test]
fn goaway_after_a_stream_limit_reconnects_and_loses_no_request() {
    // The gateway sends GOAWAY(OK) after max_streams_per_session (B4); streams above its
    // last-good id are refused and must be sent again on a new connection, not counted twice.
    let mut options = ServerOptions::new(Version::Spdy31);
    options.max_streams_per_session = 37;
    let server = TestServer::start(options);
    let url = format!("http://{}/", server.addr);
    let report = spdyload(&args(&["-n", "500", "-c", "2", "-m", "8", &url]));
    assert_all_succeeded(&report, 500);
    assert_eq!(server.requests(), 500);
    assert!(server.connections.load(Ordering::SeqCst) >= 500 / 37, "reconnected after each GOAWAY");
}

#[test]
fn status_classes_split_succeeded_from_failed_round_robin_over_uris() {
    let server = TestServer::start(ServerOptions::new(Version::Spdy3));
    let base = format!("http://{}", server.addr);
    let (ok, redirect, missing, broken) =
        (format!("{base}/bytes/10"), format!("{base}/status/304"), format!("{base}/status/404"), format!("{base}/status/503"));
    let report = spdyload(&args(&["-p", "spdy/3", "-n", "40", "-c", "1", "-m", "4", &ok, &redirect, &missing, &broken]));
    assert_eq!(n(&report, "requests", "done"), 40);
    assert_eq!(n(&report, "requests", "succeeded"), 20);
    assert_eq!(n(&report, "requests", "failed"), 20);
    assert_eq!(n(&report, "status_codes", "2xx"), 10);
    assert_eq!(n(&report, "status_codes", "3xx"), 10);
    assert_eq!(n(&report, "status_codes", "4xx"), 10);
    assert_eq!(n(&report, "status_codes", "5xx"), 10);
    assert_eq!(n(&report, "traffic", "data_bytes"), 100);
    assert_eq!(server.requests(), 40);
}

#[test]
fn post_bodies_from_a_file_reach_the_server_whole() {
    let dir = std::env::temp_dir().join(format!("spdyload-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("body.bin");
    std::fs::write(&file, vec![7u8; 100_000]).unwrap();
    for (version, proto) in [(Version::Spdy31, "spdy/3.1"), (Version::Spdy2, "spdy/2")] {
        let server = TestServer::start(ServerOptions::new(version));
        let url = format!("http://{}/upload", server.addr);
        let report = spdyload(&args(&["-p", proto, "-n", "30", "-c", "2", "-m", "5", "-d", file.to_str().unwrap(), &url]));
        assert_all_succeeded(&report, 30);
        assert_eq!(server.body_bytes.load(Ordering::SeqCst), 30 * 100_000);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn refused_connection_is_reported_not_hung() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let report = spdyload(&args(&["-n", "10", "-c", "2", &format!("http://127.0.0.1:{port}/")]));
    assert_eq!(n(&report, "requests", "done"), 0);
    assert_eq!(report["connect_errors"], 2);
    assert!(report["errors"][0].as_str().unwrap().contains("connect"), "{report}");
}

#[test]
fn open_loop_latency_counts_from_the_scheduled_start() {
    // One connection, one stream, a server that takes 40 ms per request, asked for 50
    // requests per second: requests queue, and each one's latency runs from when it was
    // *scheduled*, so the later ones wait for all before them. A closed-loop client would
    // report ~40 ms for every request (coordinated omission).
    let delay = Duration::from_millis(40);
    let mut options = ServerOptions::new(Version::Spdy31);
    options.delay = delay;
    let server = TestServer::start(options);
    let url = format!("http://{}/", server.addr);
    let report = spdyload(&args(&["-n", "20", "-c", "1", "-m", "1", "--rate", "50", &url]));
    assert_all_succeeded(&report, 20);
    let min = report["latency_us"]["min"].as_f64().unwrap();
    let max = report["latency_us"]["max"].as_f64().unwrap();
    let delay_us = delay.as_micros() as f64;
    assert!(min >= delay_us * 0.99, "min latency {min}us below the server's delay {delay_us}us");
    // Request k (0-based) is scheduled at k*20 ms but cannot start before k*40 ms.
    assert!(max >= 19.0 * (40_000.0 - 20_000.0), "max latency {max}us shows no queueing delay");
    assert_eq!(server.requests(), 20);
}

#[test]
fn duration_mode_stops_and_counts_only_after_the_warm_up() {
    let server = TestServer::start(ServerOptions::new(Version::Spdy31));
    let url = format!("http://{}/", server.addr);
    let report = spdyload(&args(&["-D", "1s", "--warm-up-time", "300ms", "-c", "2", "-m", "2", &url]));
    let done = n(&report, "requests", "done");
    assert!(done > 0, "{report}");
    assert_eq!(n(&report, "requests", "errored"), 0, "{report}");
    assert_eq!(report["requests"]["total"], serde_json::Value::Null);
    // Requests of the warm-up reached the server but are not in the report.
    assert!(server.requests() > done, "server {} vs done {done}", server.requests());
}

fn write_cert(dir: &Path) -> (PathBuf, PathBuf) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&c, cert.cert.pem()).unwrap();
    std::fs::write(&k, cert.key_pair.serialize_pem()).unwrap();
    (c, k)
}

#[test]
fn https_with_alpn_works_insecure_and_with_a_ca_file() {
    let dir = std::env::temp_dir().join(format!("spdyload-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = write_cert(&dir);
    for (version, proto) in [(Version::Spdy31, "spdy/3.1"), (Version::Spdy2, "spdy/2")] {
        let config = spdygate::shard::tls::server_config(&cert, &key, &[proto.as_bytes().to_vec()]).unwrap();
        let mut options = ServerOptions::new(version);
        options.tls = Some(config);
        let server = TestServer::start(options);
        let port = server.addr.port();
        let report = spdyload(&args(&["-p", proto, "-k", "-n", "50", "-c", "2", "-m", "4", &format!("https://127.0.0.1:{port}/")]));
        assert_all_succeeded(&report, 50);
        let report = spdyload(&args(&[
            "-p", proto, "--ca", cert.to_str().unwrap(), "-n", "20", "-c", "1", "-m", "4",
            &format!("https://localhost:{port}/"),
        ]));
        assert_all_succeeded(&report, 20);
        assert_eq!(server.requests(), 70);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn alpn_mismatch_is_a_connection_error() {
    let dir = std::env::temp_dir().join(format!("spdyload-alpn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = write_cert(&dir);
    let config = spdygate::shard::tls::server_config(&cert, &key, &[b"spdy/3.1".to_vec(), b"spdy/3".to_vec()]).unwrap();
    let mut options = ServerOptions::new(Version::Spdy31);
    options.tls = Some(config);
    let server = TestServer::start(options);
    let report = spdyload(&args(&["-p", "spdy/2", "-k", "-n", "5", &format!("https://127.0.0.1:{}/", server.addr.port())]));
    assert_eq!(n(&report, "requests", "succeeded"), 0);
    assert_eq!(server.requests(), 0);
    assert!(report["connect_errors"].as_u64().unwrap() >= 1, "{report}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The independent peer: node spdy-transport (tests/interop/server.js, from the interop
/// work). `SPDYLOAD_INTEROP_DIR` may point at another checkout's tests/interop.
fn interop_dir() -> PathBuf {
    std::env::var_os("SPDYLOAD_INTEROP_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop"))
}

static NODE_LOCK: Mutex<()> = Mutex::new(());

/// Starts `node server.js <version>`; killed when dropped.
struct NodeServer {
    child: Child,
    port: u16,
}

impl NodeServer {
    fn start(version: &str) -> NodeServer {
        let dir = interop_dir();
        if !dir.join("node_modules/spdy-transport/package.json").is_file() {
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&dir)
                .status()
                .expect("npm (scripts/test.sh installs nodejs and npm)");
            assert!(status.success(), "npm ci in {} failed", dir.display());
        }
        let mut child = Command::new("node")
            .arg(dir.join("server.js"))
            .args([version, "120000"])
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node (scripts/test.sh installs nodejs)");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let port = loop {
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => {
                    if let Some(p) = line.strip_prefix("LISTENING ") {
                        break p.trim().parse().unwrap();
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("node server.js {version} did not print LISTENING");
                }
            }
        };
        NodeServer { child, port }
    }
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn node_spdy_transport_server_answers_every_request() {
    // Never skipped: the independent peer ships in tests/interop (scripts/test.sh runs
    // `npm ci` there).
    assert!(interop_dir().join("server.js").is_file(), "{} has no server.js", interop_dir().display());
    let _guard = NODE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    for (node_version, proto) in [("3.1", "spdy/3.1"), ("3", "spdy/3"), ("2", "spdy/2")] {
        let node = NodeServer::start(node_version);
        let url = format!("http://127.0.0.1:{}/bytes/1000", node.port);
        let report = spdyload(&args(&["-p", proto, "-n", "500", "-c", "4", "-m", "10", &url]));
        assert_all_succeeded(&report, 500);
        assert_eq!(n(&report, "traffic", "data_bytes"), 500 * 1000, "{proto}: {report}");
    }
    // POST: node echoes the body back, so every byte we sent comes back once.
    let file = std::env::temp_dir().join(format!("spdyload-node-body-{}", std::process::id()));
    std::fs::write(&file, vec![b'z'; 20_000]).unwrap();
    for (node_version, proto) in [("3.1", "spdy/3.1"), ("2", "spdy/2")] {
        let node = NodeServer::start(node_version);
        let url = format!("http://127.0.0.1:{}/echo", node.port);
        let report = spdyload(&args(&["-p", proto, "-n", "100", "-c", "2", "-m", "5", "-d", file.to_str().unwrap(), &url]));
        assert_all_succeeded(&report, 100);
        assert_eq!(n(&report, "traffic", "data_bytes"), 100 * 20_000, "{proto}: {report}");
    }
    std::fs::remove_file(&file).ok();
}

/// Not a test: prints spdyload's own CPU per request against the in-test server (run with
/// `SPDYLOAD_BIN=target/release/spdyload cargo test --test spdyload_e2e -- --ignored --nocapture`).
/// The server's threads share the machine, so this is an upper bound for spdyload.
#[test]
#[ignore]
fn measure_cpu_per_request_against_the_in_test_server() {
    let server = TestServer::start(ServerOptions::new(Version::Spdy31));
    let url = format!("http://{}/", server.addr);
    for (c, m) in [(1, 1), (4, 10), (8, 32)] {
        let report = spdyload(&args(&["-n", "100000", "-c", &c.to_string(), "-m", &m.to_string(), &url]));
        assert_all_succeeded(&report, 100_000);
        println!(
            "-c {c} -m {m}: {:.0} req/s, spdyload CPU {:.2} us/request (user {:.3}s, system {:.3}s), p50 {}us p99 {}us",
            report["req_per_s"].as_f64().unwrap(),
            report["cpu_us_per_request"].as_f64().unwrap(),
            report["cpu"]["user_s"].as_f64().unwrap(),
            report["cpu"]["system_s"].as_f64().unwrap(),
            report["latency_percentiles_us"]["p50"],
            report["latency_percentiles_us"]["p99"],
        );
    }
}

#[test]
fn inactivity_timeout_counts_requests_as_errored_and_timed_out() {
    let mut options = ServerOptions::new(Version::Spdy31);
    options.delay = Duration::from_millis(1500);
    let server = TestServer::start(options);
    let url = format!("http://{}/", server.addr);
    let report = spdyload(&args(&["-n", "3", "-c", "1", "-m", "3", "-T", "200ms", &url]));
    assert_eq!(n(&report, "requests", "done"), 3, "{report}");
    assert_eq!(n(&report, "requests", "errored"), 3, "{report}");
    assert_eq!(n(&report, "requests", "timeout"), 3, "{report}");
    assert_eq!(n(&report, "requests", "succeeded"), 0, "{report}");
    assert_eq!(server.requests(), 3);
}

#[test]
fn connection_rate_opens_connections_on_a_schedule_and_each_runs_its_share() {
    let server = TestServer::start(ServerOptions::new(Version::Spdy3));
    let url = format!("http://{}/", server.addr);
    let report = spdyload(&args(&["-p", "spdy/3", "-n", "41", "-c", "4", "-m", "3", "--rate", "20", "--rate-mode", "connections", &url]));
    assert_all_succeeded(&report, 41);
    assert_eq!(server.requests(), 41);
    assert_eq!(server.connections.load(Ordering::SeqCst), 4);
    assert_eq!(report["connect_us"]["count"], 4);
}
