//! Interop with an independent SPDY implementation: node's `spdy-transport` 3.0.0
//! (pinned in tests/interop/package-lock.json), over loopback, for spdy/3.1, spdy/3 and
//! spdy/2, in both roles: a node client against our server-role `Session`
//! (tests/interop/client.js → `interop_support::serve`) and our client-role `Session`
//! against a node server (`interop_support::run_client` → tests/interop/server.js).
//! Bodies are a deterministic pattern checked by SHA-256 on both sides.
//!
//! spdy-transport quirks met on the way, and what we do about each:
//!
//! * SPDY/2 flow control. spdy-transport applies per-stream send windows on SPDY/2 too
//!   and waits for WINDOW_UPDATEs that a conforming SPDY/2 peer never sends (SPDY2.md
//!   §7, CONFORMANCE E5), so its uploads/downloads would stall after the first window.
//!   It also sends WINDOW_UPDATE frames on SPDY/2 itself; our session must ignore them
//!   (E5), which these tests exercise. Workaround, in the node scripts only
//!   (`disableSpdy2SendWindows` in tests/interop/common.js): on SPDY/2 every stream's
//!   send window is opened to 2^31-1 and the peer's INITIAL_WINDOW_SIZE is ignored.
//! * SPDY/2 GOAWAY. spdy-transport writes GOAWAY with 8 bytes on SPDY/2 and rejects the
//!   correct 4-byte one ("GOAWAY OOB", SPDY2.md §3.5); our session rejects its 8-byte one
//!   (E1 with C9). So on SPDY/2 neither side ends with GOAWAY here: both just close TCP.
//! * Stream id order. `connection.request()` takes a stream id at once but sends the
//!   SYN_STREAM a tick later; writing a request body before the request callback sends
//!   that SYN_STREAM first, so ids go out of order (C23: a session error; a node server
//!   silently drops the lower one). client.js writes bodies only from the callback.
//! * WINDOW_UPDATE for a closed stream. A spdy-transport server answers it with
//!   RST_STREAM INVALID_STREAM (C81 says ignore), and it considers a stream closed as
//!   soon as its final DATA is queued, while its scheduler lets control frames overtake
//!   queued DATA: a client that returns window credit near the end of a response gets
//!   RST_STREAM *before* the FIN of a complete response. server.js ignores such
//!   WINDOW_UPDATEs (`ignoreWindowUpdatesForClosedStreams`), as C81 asks; client.js does
//!   not patch its own side, so our server sees that RST for closed streams (ignored).
//! * FIN on HEADERS. spdy-transport's parser ignores FLAG_FIN on HEADERS frames (it
//!   hard-codes `fin: false` in `onHeaderFrames`), so a stream that a peer ends with
//!   trailers+FIN never ends for it. Our server (`interop_support::serve`) sends trailers
//!   with HEADERS without FIN and then an empty DATA frame with FIN.
//! * TCP FIN. spdy-transport does not allow half-open sockets: on the peer's FIN it
//!   tears the connection down at once, dropping frames still in its asynchronous parse
//!   pipeline (header blocks are inflated on zlib's thread pool). A server that closes
//!   right after its last response loses that response. The driver lets the node peer
//!   close first after a GOAWAY (`linger_close`); worth remembering for the gateway's
//!   own close after GOAWAY.
//! * SETTINGS. spdy-transport marks every entry it sends FLAG_SETTINGS_PERSIST_VALUE
//!   (C94: we ignore the flag and apply the value), skips entries flagged PERSISTED
//!   without reading their value (misparsing the rest, C95; we never send PERSISTED),
//!   and ignores the peer's MAX_CONCURRENT_STREAMS: the C27 test below relies on that
//!   to check that our server refuses the streams over its limit.
//!
//! Session bugs these tests found: a header block inflating past 4 KiB while no stream
//! was open was rejected (fixed on the session branch, de8cba4); `detect_spdy3` never
//! fires against a SPDY/3 peer with a large stream window (its two tests are
//! `#[ignore]`d with the reason until fixed).
//!
//! The node peers are run one at a time (`NODE_LOCK`) so that a loaded 2-core machine
//! does not turn deadlines into flakes; each is killed by a guard on every path.

mod interop_support;

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use interop_support::{
    pad_string, pattern, run_client, serve, sha256_hex, ClientReport, Request, ServeOptions, ServeReport,
};
use spdygate::spdy::header::CompressorKind;
use spdygate::spdy::{SessionConfig, Version};

/// Budget for one exchange (both peers), generous for a loaded 2-core CI machine.
const EXCHANGE: Duration = Duration::from_secs(90);

static NODE_LOCK: Mutex<()> = Mutex::new(());

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

fn version_arg(version: Version) -> &'static str {
    match version {
        Version::Spdy2 => "2",
        Version::Spdy3 => "3",
        Version::Spdy31 => "3.1",
    }
}

/// Makes sure node and tests/interop/node_modules exist, running `npm ci` once if the
/// modules are missing. Never skips: without node the tests fail and say why.
fn ensure_node_modules() {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        let dir = interop_dir();
        match Command::new("node").arg("--version").output() {
            Ok(o) if o.status.success() => {}
            _ => return Err("`node` is not on PATH; scripts/test.sh installs nodejs and npm".into()),
        }
        if dir.join("node_modules/spdy-transport/package.json").is_file() {
            return Ok(());
        }
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .map_err(|e| format!("cannot run npm ({e}); scripts/test.sh runs `npm ci` in tests/interop"))?;
        if !status.success() {
            return Err(format!("`npm ci` in {} failed ({status}); see scripts/test.sh", dir.display()));
        }
        Ok(())
    });
    if let Err(e) = ready {
        panic!("node interop peers unavailable: {e}");
    }
}

/// A node child process, killed (after closing its stdin) on drop.
struct NodeChild {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: mpsc::Receiver<String>,
    stderr: Option<thread::JoinHandle<String>>,
}

impl NodeChild {
    fn spawn(script: &str, args: &[String]) -> NodeChild {
        ensure_node_modules();
        let mut child = Command::new("node")
            .arg(interop_dir().join(script))
            .args(args)
            .current_dir(interop_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawning node {script}: {e}"));
        let stdin = child.stdin.take();
        let out = child.stdout.take().expect("piped stdout");
        let mut err = child.stderr.take().expect("piped stderr");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        NodeChild { child, stdin, stdout: rx, stderr: Some(stderr) }
    }

    fn line(&self, timeout: Duration) -> Option<String> {
        self.stdout.recv_timeout(timeout).ok()
    }

    /// Waits for exit until `deadline`; kills the child if it is still running then.
    fn finish(&mut self, deadline: Instant) -> (Option<i32>, String) {
        self.stdin.take();
        let code = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status.code(),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break None;
                }
            }
        };
        let stderr = self.stderr.take().and_then(|h| h.join().ok()).unwrap_or_default();
        (code, stderr)
    }
}

impl Drop for NodeChild {
    fn drop(&mut self) {
        self.stdin.take();
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The standard set: tiny and window-sized GETs, 1 MiB and 10 MiB downloads, uploads of
/// 0, 100 000, 1 MiB and 10 MiB echoed back, trailers (HEADERS after DATA), then 60
/// small GETs, all issued at once.
fn standard_requests() -> Vec<Request> {
    let mut r = vec![
        Request::get("/trailers/100000"),
        Request::get("/trailers/0"),
        Request::get("/bytes/0"),
        Request::get("/bytes/1"),
        Request::get("/bytes/100"),
        Request::get("/bytes/16384"),
        Request::get("/bytes/65537"),
        Request::get("/bytes/1048576"),
        Request::get("/bytes/10485760"),
        Request::echo(0),
        Request::echo(100_000),
        Request::echo(1 << 20),
        Request::echo(10 << 20),
    ];
    r.extend((0..60).map(|i| Request::get(format!("/bytes/{}", 1000 + 37 * i))));
    r
}

fn requests_json(requests: &[Request]) -> String {
    let list: Vec<_> = requests
        .iter()
        .map(|r| serde_json::json!({ "method": r.method, "path": r.path, "bodyLen": r.body_len, "pad": r.pad }))
        .collect();
    serde_json::Value::Array(list).to_string()
}

/// One run of tests/interop/client.js against our server-role session.
struct NodeClientRun {
    served: ServeReport,
    /// client.js's JSON summary line.
    summary: serde_json::Value,
    code: Option<i32>,
    stderr: String,
    elapsed: Duration,
}

impl NodeClientRun {
    fn results(&self) -> &[serde_json::Value] {
        self.summary["results"].as_array().map(Vec::as_slice).unwrap_or_default()
    }

    /// The summary with only the requests that did not verify, for failure messages.
    fn failures(&self) -> String {
        let bad: Vec<_> = self.results().iter().filter(|r| r["sha_ok"] != true || r["status"] != 200).collect();
        format!(
            "ok={} ping={} errors={} failed results ({}): {:?}",
            self.summary["ok"],
            self.summary["ping"],
            self.summary["errors"],
            bad.len(),
            bad.iter().take(10).map(|r| r.to_string()).collect::<Vec<_>>()
        )
    }
}

/// Runs tests/interop/client.js speaking `node_version` against `serve` running `version`.
fn run_node_client(
    version: Version,
    node_version: Version,
    config: SessionConfig,
    requests: &[Request],
    concurrency: usize,
    options: ServeOptions,
) -> NodeClientRun {
    let _serial = NODE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let start = Instant::now();
    let deadline = start + EXCHANGE;
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local addr").port();
    let mut node = NodeChild::spawn(
        "client.js",
        &[
            "127.0.0.1".into(),
            port.to_string(),
            version_arg(node_version).into(),
            requests_json(requests),
            concurrency.to_string(),
            EXCHANGE.as_millis().to_string(),
        ],
    );
    let served = serve(&listener, version, config, options, deadline);
    let summary = node.line(Duration::from_secs(10));
    let (code, stderr) = node.finish(Instant::now() + Duration::from_secs(10));
    let served = served.unwrap_or_else(|f| {
        panic!("{version}: our server failed: {f}\nnode stdout: {summary:?}\nnode stderr: {stderr}")
    });
    let summary = summary
        .unwrap_or_else(|| panic!("{version}: node client printed no summary (exit {code:?}); stderr: {stderr}"));
    let summary = serde_json::from_str(&summary).unwrap_or_else(|e| panic!("{version}: bad summary {summary:?}: {e}"));
    NodeClientRun { served, summary, code, stderr, elapsed: start.elapsed() }
}

/// Runs the node client against our server and asserts both sides verified everything.
fn node_client_against_our_server(version: Version, config: SessionConfig, requests: &[Request], hold_until: usize) {
    node_client_against_our_server_as(version, version, config, requests, hold_until)
}

/// The same, with the node client speaking `node_version` (see the SPDY/3 detection tests).
fn node_client_against_our_server_as(
    version: Version,
    node_version: Version,
    config: SessionConfig,
    requests: &[Request],
    hold_until: usize,
) {
    let options = ServeOptions { hold_until, ..ServeOptions::default() };
    let run = run_node_client(version, node_version, config, requests, requests.len(), options);
    let served = &run.served;
    assert_eq!(
        run.code,
        Some(0),
        "{version}: node client failed: {}\nstderr: {}\nour side: {served:?}",
        run.failures(),
        run.stderr
    );
    assert_eq!(run.summary["ok"], true, "{version}: {}", run.failures());
    assert_eq!(run.summary["ping"], true, "{version}: our session did not answer the node client's PING");
    assert_eq!(run.results().len(), requests.len(), "{version}: {}", run.failures());
    for (i, (req, res)) in requests.iter().zip(run.results()).enumerate() {
        assert_eq!(res["status"], 200, "{version}: request {i} {req:?}: {res}");
        assert_eq!(res["sha_ok"], true, "{version}: request {i} {req:?}: {res}");
        let expect = if req.method == "GET" { get_len(req) as u64 } else { req.body_len as u64 };
        assert_eq!(res["bytes"].as_u64(), Some(expect), "{version}: request {i} {req:?}: {res}");
    }
    assert_eq!(served.streams, requests.len(), "{version}: {served:?}");
    assert_eq!(served.gets + served.echoes, requests.len(), "{version}: {served:?}");
    assert!(
        served.resets.iter().all(|&(_, _, by_peer)| by_peer),
        "{version}: our session reset streams of a well-behaved peer: {served:?}"
    );
    if version.has_stream_flow_control() {
        // client.js advertises INITIAL_WINDOW_SIZE 1 MiB with FLAG_SETTINGS_PERSIST_VALUE:
        // the flag is ignored and the value applied (C94).
        assert_eq!(served.first_send_window, Some(1 << 20), "{version}: {served:?}");
    }
    if hold_until > 0 {
        assert!(
            served.max_open >= hold_until,
            "{version}: only {} streams were open at once: {served:?}",
            served.max_open
        );
    }
    eprintln!(
        "{version} node client -> our server: {} streams ({} GET, {} echo, {} bytes echoed), {} open at most, \
         peer resets {:?}, peer GOAWAY {:?}, {:.1} s",
        served.streams,
        served.gets,
        served.echoes,
        served.echoed_bytes,
        served.max_open,
        served.resets,
        served.peer_goaway,
        run.elapsed.as_secs_f64()
    );
}

/// Starts tests/interop/server.js and waits for its `LISTENING <port>`.
fn start_node_server(node_version: Version) -> (NodeChild, SocketAddr) {
    let version = node_version;
    let node = NodeChild::spawn("server.js", &[version_arg(version).into(), EXCHANGE.as_millis().to_string()]);
    let line = node.line(Duration::from_secs(30)).unwrap_or_else(|| panic!("{version}: node server did not start"));
    let port: u16 = line
        .strip_prefix("LISTENING ")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("{version}: unexpected node server output {line:?}"));
    (node, SocketAddr::from(([127, 0, 0, 1], port)))
}

/// Checks every response of our client against what was asked.
fn verify_client_report(version: Version, requests: &[Request], report: &ClientReport) {
    assert!(report.ping_acked, "{version}: the node server never answered our PING");
    assert_eq!(report.peer_goaway, None, "{version}: node server sent GOAWAY");
    for (i, (req, res)) in requests.iter().zip(&report.responses).enumerate() {
        let what = format!(
            "{version}: request {i} {req:?}: status {:?}, {} bytes, reset {:?}",
            res.status, res.body_len, res.reset
        );
        assert!(res.complete && res.reset.is_none(), "{what}");
        assert_eq!(res.status, Some(200), "{what}");
        if let Some(pad) = (req.pad > 0).then(|| pad_string(req.pad)) {
            assert_eq!(res.header("x-pad"), Some(pad.as_str()), "{what}: x-pad did not come back");
        }
        if req.method == "GET" {
            let expected = sha256_hex(&pattern(get_len(req), 0));
            let digest_header = if req.path.starts_with("/trailers/") { "x-trailer-sha256" } else { "x-body-sha256" };
            assert_eq!(res.body_len, get_len(req), "{what}");
            assert_eq!(res.header(digest_header), Some(expected.as_str()), "{what}");
            assert_eq!(res.body_sha256, expected, "{what}");
        } else {
            assert_eq!(res.body_len, req.body_len, "{what}");
            assert_eq!(res.body_sha256, sha256_hex(&pattern(req.body_len, i as u32 + 1)), "{what}");
        }
    }
}

/// N of `GET /bytes/N` or `GET /trailers/N`.
fn get_len(req: &Request) -> usize {
    req.path.rsplit('/').next().and_then(|n| n.parse().ok()).expect("GET path ends in a length")
}

/// Runs our client-role session against tests/interop/server.js.
fn our_client_against_node_server(version: Version, config: SessionConfig, requests: &[Request]) -> ClientReport {
    our_client_against_node_server_as(version, version, config, requests)
}

/// The same, with the node server speaking `node_version`.
fn our_client_against_node_server_as(
    version: Version,
    node_version: Version,
    config: SessionConfig,
    requests: &[Request],
) -> ClientReport {
    let _serial = NODE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let (mut node, addr) = start_node_server(node_version);
    let deadline = Instant::now() + EXCHANGE;
    let report = run_client(addr, version, config, requests, requests.len(), deadline);
    let (code, stderr) = node.finish(Instant::now() + Duration::from_secs(10));
    let report = report.unwrap_or_else(|f| panic!("{version}: our client failed: {f}\nnode server stderr: {stderr}"));
    verify_client_report(version, requests, &report);
    assert_eq!(code, Some(0), "{version}: node server exit; stderr: {stderr}");
    assert!(!stderr.contains("connection:"), "{version}: node server reported a connection error: {stderr}");
    assert!(stderr.contains("ping answered"), "{version}: our client did not answer the node server's PING: {stderr}");
    let bytes: usize = report.responses.iter().map(|r| r.body_len).sum();
    eprintln!(
        "{version} our client -> node server: {} requests, {bytes} body bytes verified, {} open at most, {:.1} s",
        requests.len(),
        report.max_open,
        (Instant::now() + EXCHANGE - deadline).as_secs_f64()
    );
    report
}

fn fast_compressor() -> SessionConfig {
    SessionConfig { compressor: CompressorKind::Fast { sensitive: Vec::new() }, ..SessionConfig::default() }
}

// --- (a) node client → our server ---

#[test]
fn node_client_gets_and_echoes_through_our_server_spdy31() {
    node_client_against_our_server(Version::Spdy31, SessionConfig::default(), &standard_requests(), 0);
}

#[test]
fn node_client_gets_and_echoes_through_our_server_spdy3() {
    node_client_against_our_server(Version::Spdy3, SessionConfig::default(), &standard_requests(), 0);
}

#[test]
fn node_client_gets_and_echoes_through_our_server_spdy2() {
    node_client_against_our_server(Version::Spdy2, SessionConfig::default(), &standard_requests(), 0);
}

/// 64 streams provably open at once: our server answers none before all are open.
#[test]
fn node_client_holds_64_concurrent_streams_on_our_server() {
    let requests: Vec<_> = (0..64).map(|i| Request::get(format!("/bytes/{}", 5000 + i))).collect();
    for version in Version::PREFERENCE {
        node_client_against_our_server(version, SessionConfig::default(), &requests, requests.len());
    }
}

/// spdy-transport ignores a lower MAX_CONCURRENT_STREAMS (it never reads the setting):
/// our server must refuse the streams above its limit with REFUSED_STREAM (C27, B4)
/// and serve the others. Answers wait until the limit is reached and the client went
/// quiet, so the SYN_STREAMs beyond the first 8 find 8 streams open.
#[test]
fn node_client_over_our_max_concurrent_streams_is_refused_c27() {
    const LIMIT: u32 = 8;
    let requests: Vec<_> = (0..32).map(|i| Request::get(format!("/bytes/{}", 3000 + i))).collect();
    for version in Version::PREFERENCE {
        let config = SessionConfig { max_concurrent_streams: LIMIT, ..SessionConfig::default() };
        let options = ServeOptions { hold_until: LIMIT as usize, ..ServeOptions::default() };
        let run = run_node_client(version, version, config, &requests, requests.len(), options);
        let served = &run.served;
        let results = run.results();
        assert_eq!(results.len(), requests.len(), "{version}: {}", run.failures());
        let refused = results.iter().filter(|r| r["error"] == "Got RST: REFUSED_STREAM").count();
        let verified = results.iter().filter(|r| r["sha_ok"] == true && r["status"] == 200).count();
        assert_eq!(refused + verified, requests.len(), "{version}: {}", run.failures());
        assert!(refused >= 1, "{version}: nothing was refused: {served:?}");
        assert_eq!(served.streams, verified, "{version}: {served:?}");
        assert!(served.max_open <= LIMIT as usize, "{version}: {} streams open at once: {served:?}", served.max_open);
        eprintln!("{version} node client over MAX_CONCURRENT_STREAMS {LIMIT}: {verified} served, {refused} refused");
    }
}

/// Our server sends GOAWAY(OK) after answering 3 of 6 sequential requests: the node
/// client finishes those 3 and opens no more (SPDY3.md §2.6.6). SPDY/3.x only: on
/// SPDY/2 spdy-transport cannot parse the 4-byte GOAWAY (see the quirks above).
#[test]
fn node_client_stops_after_our_servers_goaway() {
    let requests: Vec<_> = (0..6).map(|i| Request::get(format!("/bytes/{}", 100 + i))).collect();
    for version in [Version::Spdy31, Version::Spdy3] {
        let options = ServeOptions { goaway_after: Some(3), ..ServeOptions::default() };
        let run = run_node_client(version, version, SessionConfig::default(), &requests, 1, options);
        let served = &run.served;
        let results = run.results();
        let verified = results.iter().filter(|r| !r.is_null() && r["sha_ok"] == true && r["status"] == 200).count();
        assert_eq!(served.streams, 3, "{version}: the node client opened streams after GOAWAY: {served:?}");
        assert_eq!(served.answered, 3, "{version}: {served:?}");
        assert_eq!(verified, 3, "{version}: streams below last-good must complete: {}", run.failures());
        assert_ne!(run.code, Some(0), "{version}: node client claims all 6 succeeded: {}", run.failures());
        eprintln!("{version} node client after our GOAWAY: {verified} verified; {}", run.summary["errors"]);
    }
}

/// Header blocks far larger than the compression window, both ways: 20 and 30 KB `x-pad`
/// request headers that come back as response headers.
fn large_header_requests() -> Vec<Request> {
    vec![
        Request::get("/bytes/10").with_pad(20_000),
        Request::echo(1000).with_pad(30_000),
        Request::get("/trailers/10").with_pad(3_000),
    ]
}

#[test]
fn node_client_sends_large_header_blocks_to_our_server() {
    for version in Version::PREFERENCE {
        node_client_against_our_server(version, SessionConfig::default(), &large_header_requests(), 0);
    }
}

#[test]
fn our_client_sends_large_header_blocks_to_node_server() {
    for version in Version::PREFERENCE {
        our_client_against_node_server(version, SessionConfig::default(), &large_header_requests());
    }
}

/// Our own header encoder (CompressorKind::Fast) must inflate in node's zlib.
#[test]
fn node_client_inflates_our_fast_compressor_headers() {
    let requests: Vec<_> =
        standard_requests().into_iter().filter(|r| r.body_len <= 1 << 20 && r.path != "/bytes/10485760").collect();
    for version in Version::PREFERENCE {
        node_client_against_our_server(version, fast_compressor(), &requests, 0);
    }
}

// --- (b) our client → node server ---

#[test]
fn our_client_gets_and_echoes_through_node_server_spdy31() {
    let requests = standard_requests();
    let report = our_client_against_node_server(Version::Spdy31, SessionConfig::default(), &requests);
    assert!(report.max_open >= 50, "only {} streams open at once", report.max_open);
}

#[test]
fn our_client_gets_and_echoes_through_node_server_spdy3() {
    let requests = standard_requests();
    let report = our_client_against_node_server(Version::Spdy3, SessionConfig::default(), &requests);
    assert!(report.max_open >= 50, "only {} streams open at once", report.max_open);
}

#[test]
fn our_client_gets_and_echoes_through_node_server_spdy2() {
    let requests = standard_requests();
    let report = our_client_against_node_server(Version::Spdy2, SessionConfig::default(), &requests);
    assert!(report.max_open >= 50, "only {} streams open at once", report.max_open);
}

/// Our client with the Fast encoder: node's server inflates its SYN_STREAMs, large
/// header blocks included.
#[test]
fn node_server_inflates_our_fast_compressor_headers() {
    let mut requests: Vec<_> =
        standard_requests().into_iter().filter(|r| r.body_len <= 1 << 20 && r.path != "/bytes/10485760").collect();
    requests.extend(large_header_requests());
    for version in Version::PREFERENCE {
        our_client_against_node_server(version, fast_compressor(), &requests);
    }
}

// --- plaintext SPDY/3 versus 3.1 (SessionConfig::detect_spdy3) ---

/// Requests that move more than one 64 KiB session window each way.
fn window_crossing_requests() -> Vec<Request> {
    vec![Request::get("/bytes/1048576"), Request::echo(1 << 20), Request::get("/bytes/100")]
}

/// A spdy/3 node client never sends WINDOW_UPDATE(0): our 3.1 server with
/// `detect_spdy3` must notice and stop waiting for session-window credit.
#[test]
fn our_spdy31_server_detects_a_spdy3_node_client() {
    let config = SessionConfig { detect_spdy3: true, ..SessionConfig::default() };
    node_client_against_our_server_as(Version::Spdy31, Version::Spdy3, config, &window_crossing_requests(), 0);
}

/// And a real 3.1 node client still gets 3.1 from a `detect_spdy3` server.
#[test]
fn our_spdy31_server_with_detection_still_serves_a_spdy31_node_client() {
    let config = SessionConfig { detect_spdy3: true, ..SessionConfig::default() };
    node_client_against_our_server_as(Version::Spdy31, Version::Spdy31, config, &window_crossing_requests(), 0);
}

/// The client side of the same: our 3.1 client uploading to a spdy/3 node server.
#[test]
fn our_spdy31_client_detects_a_spdy3_node_server() {
    let config = SessionConfig { detect_spdy3: true, ..SessionConfig::default() };
    our_client_against_node_server_as(Version::Spdy31, Version::Spdy3, config, &window_crossing_requests());
}
