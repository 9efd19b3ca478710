//! spdygate end to end on loopback: the built binaries (`spdygate`, `origin`, `spdyload`)
//! with independent clients — node's spdy-transport (plaintext and TLS, spdy/3.1, 3, 2)
//! and curl (HTTP/1.1 on the same ports). Every test starts its own processes on
//! 127.0.0.1, bounds its waits, and kills what it started on every path.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

mod procs;

use procs::{spawn, Proc};
use spdygate::spdy::header::HeaderBlock;
use spdygate::spdy::session::{Role, Session, SessionConfig, Transmit};
use spdygate::spdy::version::Version;

fn origin() -> Proc {
    spawn(env!("CARGO_BIN_EXE_origin"), &["--listen", "127.0.0.1:0", "--threads", "1", "--no-pin"])
}

fn gateway(backends: &[&Proc], tls: bool) -> Proc {
    let mut args = vec!["--listen".to_string(), "127.0.0.1:0".into(), "--shards".into(), "1".into()];
    for b in backends {
        args.push("--backend".into());
        args.push(b.addr.clone());
    }
    if tls {
        let (cert, key) = test_cert();
        args.extend(["--tls-cert".into(), cert.display().to_string(), "--tls-key".into(), key.display().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    spawn(env!("CARGO_BIN_EXE_spdygate"), &args)
}

/// This test process's directory for the files it hands to the binaries.
fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spdygate-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A self-signed certificate for localhost, made once per test process.
fn test_cert() -> (PathBuf, PathBuf) {
    static CERT: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    CERT.get_or_init(|| {
        let dir = scratch_dir();
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&c, cert.cert.pem()).unwrap();
        std::fs::write(&k, cert.key_pair.serialize_pem()).unwrap();
        (c, k)
    })
    .clone()
}

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// node and tests/interop/node_modules, installed with `npm ci` when missing (never a skip).
fn ensure_node() {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        if Command::new("node").arg("--version").output().is_err() {
            return Err("`node` is not on PATH; scripts/test.sh installs nodejs".into());
        }
        if !interop_dir().join("node_modules/spdy-transport").exists() {
            let ok = Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(interop_dir()).status();
            if !matches!(ok, Ok(s) if s.success()) {
                return Err("`npm ci` in tests/interop failed".into());
            }
        }
        Ok(())
    });
    if let Err(e) = ready {
        panic!("{e}");
    }
}

/// Runs tests/interop/client.js (node spdy-transport) against the gateway; returns its
/// JSON summary. Bodies are checked by sha256 (`x-body-sha256` from origin, or the echo).
fn node_client(gw: &Proc, version: &str, tls: bool, requests: &str, concurrency: usize) -> serde_json::Value {
    ensure_node();
    let mut cmd = Command::new("node");
    cmd.current_dir(interop_dir())
        .args(["client.js", "127.0.0.1", &gw.port().to_string(), version, "-", &concurrency.to_string(), "120000"])
        .env("SHA_ONLY", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    if tls {
        cmd.env("TLS", "1");
    }
    let mut child = cmd.spawn().expect("node");
    child.stdin.take().unwrap().write_all(requests.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("client.js output {text:?}: {e}"))
}

fn assert_all_ok(report: &serde_json::Value, expected: usize) {
    let results = report["results"].as_array().unwrap();
    let bad: Vec<_> = results.iter().filter(|r| r["status"] != 200 || r["sha_ok"] != true).collect();
    assert!(report["ok"] == true && results.len() == expected && bad.is_empty(), "{}", serde_json::to_string(report).unwrap());
}

fn spdyload(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_spdyload")).args(args).arg("--json").arg("--no-progress").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("spdyload output {text:?}: {e}"))
}

fn origin_count(origin: &Proc) -> u64 {
    let mut s = TcpStream::connect(&origin.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /count HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text.rsplit("\r\n\r\n").next().unwrap().trim().parse().unwrap()
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).unwrap().parse().unwrap()
}

const STANDARD: &str = r#"[{"method":"GET","path":"/bytes/100"},{"method":"GET","path":"/bytes/1024"},
 {"method":"GET","path":"/bytes/1048576"},{"method":"GET","path":"/bytes/52428800"},
 {"method":"POST","path":"/echo","bodyLen":10485760},{"method":"POST","path":"/echo","bodyLen":0},
 {"method":"GET","path":"/bytes/0"}]"#;

fn standard_set(version: &str, tls: bool) {
    let o = origin();
    let gw = gateway(&[&o], tls);
    let report = node_client(&gw, version, tls, STANDARD, 7);
    assert_all_ok(&report, 7);
}

#[test]
fn node_spdy31_plaintext_small_1mib_50mib_gets_and_10mib_echo() {
    standard_set("3.1", false);
}

#[test]
fn node_spdy3_plaintext_small_1mib_50mib_gets_and_10mib_echo() {
    standard_set("3", false);
}

#[test]
fn node_spdy2_plaintext_small_1mib_50mib_gets_and_10mib_echo() {
    standard_set("2", false);
}

#[test]
fn node_spdy31_tls_alpn_small_1mib_50mib_gets_and_10mib_echo_c1() {
    standard_set("3.1", true);
}

#[test]
fn node_spdy3_tls_alpn_small_1mib_50mib_gets_and_10mib_echo_c1() {
    standard_set("3", true);
}

#[test]
fn node_spdy2_tls_alpn_small_1mib_50mib_gets_and_10mib_echo_c1() {
    standard_set("2", true);
}

#[test]
fn two_hundred_concurrent_streams_on_one_node_session() {
    let o = origin();
    let gw = gateway(&[&o], false);
    let requests: Vec<String> = (0..200).map(|i| format!(r#"{{"method":"GET","path":"/bytes/{}"}}"#, 1000 + i)).collect();
    let report = node_client(&gw, "3.1", false, &format!("[{}]", requests.join(",")), 200);
    assert_all_ok(&report, 200);
}

#[test]
fn one_hundred_sessions_at_once_and_counts_agree_with_the_backend() {
    let o = origin();
    let gw = gateway(&[&o], false);
    let url = format!("http://{}/bytes/512", gw.addr);
    let r = spdyload(&["-n", "2000", "-c", "100", "-m", "4", &url]);
    assert_eq!(r["requests"]["succeeded"], 2000, "{r}");
    assert_eq!(origin_count(&o), 2000, "the backend served exactly what spdyload counted");
}

#[test]
fn http11_clients_share_the_spdy_ports_plaintext_and_tls() {
    let o = origin();
    let plain = gateway(&[&o], false);
    let tls = gateway(&[&o], true);
    for (gw, scheme) in [(&plain, "http"), (&tls, "https")] {
        let out = Command::new("curl")
            .args(["-sk", "--http1.1", "-m", "20", "-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code} %{size_download};"])
            .arg(format!("{scheme}://127.0.0.1:{}/bytes/1048576", gw.port()))
            .arg(format!("{scheme}://127.0.0.1:{}/status/404", gw.port()))
            .output()
            .expect("curl (scripts/test.sh installs it)");
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(text, "200 1048576;404 11;", "{scheme}");
        // POST body through the gateway and back.
        let body = vec![b'z'; 300_000];
        let path = std::env::temp_dir().join(format!("spdygate-e2e-body-{}", std::process::id()));
        std::fs::write(&path, &body).unwrap();
        let out = Command::new("curl")
            .args(["-sk", "--http1.1", "-m", "20", "--data-binary"])
            .arg(format!("@{}", path.display()))
            .arg(format!("{scheme}://127.0.0.1:{}/echo", gw.port()))
            .output()
            .unwrap();
        assert_eq!(out.stdout.len(), body.len(), "{scheme} echo");
        assert!(out.stdout == body);
    }
}

#[test]
fn a_backend_killed_mid_response_resets_only_its_streams() {
    let o = origin();
    let gw = gateway(&[&o], false);
    // /drop/N sends N of a larger declared body, then closes: those streams must end in a
    // reset (errored); the /bytes streams on the same sessions complete.
    let drop = format!("http://{}/drop/20000", gw.addr);
    let good = format!("http://{}/bytes/20000", gw.addr);
    let r = spdyload(&["-n", "40", "-c", "2", "-m", "4", &drop, &good]);
    assert_eq!(r["requests"]["done"], 40, "{r}");
    assert_eq!(r["requests"]["succeeded"], 20, "{r}");
    assert_eq!(r["requests"]["errored"], 20, "{r}");
    // The gateway still serves.
    let r = spdyload(&["-n", "50", "-c", "1", &good]);
    assert_eq!(r["requests"]["succeeded"], 50, "{r}");
}

/// A TCP listener on 127.0.0.1 that never completes another handshake: its accept
/// queue (backlog 0) is held full by one connection nobody accepts, so the kernel drops
/// every further SYN, as a backend behind a black-holing firewall does.
struct Blackhole {
    addr: String,
    _listener: socket2::Socket,
    _filler: TcpStream,
}

fn blackhole() -> Blackhole {
    use socket2::{Domain, Socket, Type};
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    listener.bind(&"127.0.0.1:0".parse::<std::net::SocketAddr>().unwrap().into()).unwrap();
    listener.listen(0).unwrap();
    let addr = listener.local_addr().unwrap().as_socket().unwrap().to_string();
    let filler = TcpStream::connect(&addr).unwrap();
    Blackhole { addr, _listener: listener, _filler: filler }
}

/// A one-shard gateway started from a configuration file with these backends and extra
/// `[backend]` settings.
fn gateway_with_backend_settings(servers: &[&str], settings: &str) -> Proc {
    let list: Vec<String> = servers.iter().map(|s| format!("{s:?}")).collect();
    let text = format!(
        "shards = 1\n[[listen]]\naddr = \"127.0.0.1:0\"\n[backend]\nservers = [{}]\n{settings}\n",
        list.join(", ")
    );
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let path = scratch_dir().join(format!("gateway-{}.toml", N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)));
    std::fs::write(&path, text).unwrap();
    spawn(env!("CARGO_BIN_EXE_spdygate"), &["--config", path.to_str().unwrap()])
}

#[test]
fn a_backend_that_never_completes_the_handshake_fails_at_the_connect_timeout_with_502() {
    // connect_timeout_ms bounds the handshake. Without it the request waits for the
    // response timeout (60 s here) and gets 504, as if the backend had accepted it.
    let hole = blackhole();
    let gw = gateway_with_backend_settings(&[&hole.addr], "connect_timeout_ms = 200\nresponse_timeout_ms = 60000");
    let answer = http11_get_within(&gw, "/bytes/10", Duration::from_secs(20));
    assert!(answer.starts_with("HTTP/1.1 502 "), "{answer:?}");
    // the shard is not stuck on it: the next request fails the same way
    let answer = http11_get_within(&gw, "/bytes/10", Duration::from_secs(20));
    assert!(answer.starts_with("HTTP/1.1 502 "), "{answer:?}");
}

#[test]
fn an_idempotent_request_whose_backend_connect_times_out_is_retried_on_another_backend() {
    // Round robin over a black hole and a real origin: every GET that meets the black
    // hole first is retried on the origin once the connect timeout cancels the handshake.
    let hole = blackhole();
    let o = origin();
    let gw = gateway_with_backend_settings(
        &[&hole.addr, &o.addr],
        "connect_timeout_ms = 200\nresponse_timeout_ms = 60000\nretries = 1\neject_after_failures = 1000",
    );
    for k in 0..4 {
        let answer = http11_get_within(&gw, "/bytes/10", Duration::from_secs(20));
        assert!(answer.starts_with("HTTP/1.1 200 "), "request {k}: {answer:?}");
    }
}

#[test]
fn a_stalled_client_cannot_make_the_gateway_buffer_a_1gib_response() {
    let o = origin();
    let gw = gateway(&[&o], false);
    let before = rss_kib(gw.pid());
    // A SPDY/3.1 client that asks for 1 GiB, grants the gateway a huge window, and then
    // reads nothing.
    let huge = SessionConfig { initial_window_size: 0x7fff_ffff, session_window_size: 0x7fff_ffff, ..Default::default() };
    let sock = stalled_client(&gw, huge, 1, "/bytes/1073741824?nosha");
    // Let the backend push as hard as it can for a few seconds while nobody reads.
    std::thread::sleep(Duration::from_secs(4));
    let after = rss_kib(gw.pid());
    let growth = after.saturating_sub(before);
    // Bounds: 256 KiB queued per stream + 4 MiB per session + slack (the 8 MiB buffer ring
    // is resident from the start, so it is in `before`).
    assert!(growth < 48 * 1024, "gateway RSS grew by {growth} KiB while the client read nothing");
    drop(sock);
}

#[test]
fn bad_requests_get_a_400_reply_not_a_reset_c49() {
    let o = origin();
    let gw = gateway(&[&o], false);
    // curl over HTTP/1.1 without a Host header (HTTP/1.0 style with an empty host).
    let mut s = TcpStream::connect(&gw.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
}

/// Opens `streams` GETs of `path` on a new plaintext SPDY/3.1 connection and then reads
/// nothing: the gateway must hold or pause what the client's windows (`config`) do not take.
fn stalled_client(gw: &Proc, config: SessionConfig, streams: usize, path: &str) -> TcpStream {
    let now = Instant::now();
    let mut client = Session::new(Role::Client, Version::Spdy31, config, now);
    for _ in 0..streams {
        let headers: HeaderBlock =
            [(":method", "GET"), (":path", path), (":version", "HTTP/1.1"), (":host", "localhost"), (":scheme", "http")]
                .into_iter()
                .collect();
        client.open_stream(&headers, 0, true).unwrap();
    }
    let mut out = Vec::new();
    while let Some(t) = client.poll_transmit(&mut out, now) {
        assert!(matches!(t, Transmit::Control));
    }
    let mut sock = TcpStream::connect(&gw.addr).unwrap();
    sock.set_nodelay(true).unwrap();
    sock.write_all(&out).unwrap();
    sock
}

/// One HTTP/1.1 GET on a fresh connection, waiting at most `limit` for the whole answer.
fn http11_get_within(gw: &Proc, path: &str, limit: Duration) -> String {
    let mut s = TcpStream::connect(&gw.addr).unwrap();
    s.set_read_timeout(Some(limit)).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = Vec::new();
    let _ = s.read_to_end(&mut text);
    String::from_utf8_lossy(&text).into_owned()
}

#[test]
fn stalled_clients_cannot_starve_other_clients_of_receive_buffers() {
    // The shard's receive buffers (512 x 16 KiB by default) are shared by every connection.
    // Stalled streams may hold up to 256 KiB each, and 4 sessions x 12 streams could pin
    // 12 MiB of them; the gateway must keep reading for everyone else (held bytes leave
    // the ring when it runs short) instead of parking every recv on ENOBUFS.
    let o = origin();
    let gw = gateway(&[&o], false);
    let stalled: Vec<TcpStream> = (0..4).map(|_| stalled_client(&gw, SessionConfig::default(), 12, "/bytes/8388608?nosha")).collect();
    std::thread::sleep(Duration::from_secs(2));
    for i in 0..5 {
        let text = http11_get_within(&gw, "/bytes/100", Duration::from_secs(5));
        assert!(text.starts_with("HTTP/1.1 200"), "request {i} next to stalled clients got: {text:?}");
    }
    let r = spdyload(&["-n", "200", "-c", "2", "-m", "4", &format!("http://{}/bytes/1000", gw.addr)]);
    assert_eq!(r["requests"]["succeeded"], 200, "{r}");
    drop(stalled);
}
