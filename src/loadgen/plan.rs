//! Flags → what to send: the h2load-compatible command line and the [`Plan`] it becomes.
//!
//! Exists so that every decision about *what* the load generator sends (URIs, header
//! blocks, request counts per connection, the open-loop rate per thread) is made once,
//! before any thread starts, and can be unit-tested without a socket. It refuses flag
//! combinations h2load refuses (more threads than connections, fewer requests than
//! connections) rather than silently adjusting them.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use clap::Parser;

use crate::spdy::header::HeaderBlock;
use crate::spdy::Version;

/// The command line, flag for flag with h2load where h2load has the flag.
#[derive(Parser, Debug, Clone)]
#[command(name = "spdyload", version, about = "SPDY load generator (h2load-style) on spdygate's io_uring runtime")]
pub struct Args {
    /// URIs to request, round-robin. All must share scheme, host and port.
    #[arg(required = true)]
    pub uris: Vec<String>,
    /// Total requests, split across connections (ignored with -D). Default 1.
    #[arg(short = 'n', long = "requests")]
    pub requests: Option<u64>,
    /// Concurrent connections.
    #[arg(short = 'c', long = "clients", default_value_t = 1)]
    pub clients: u32,
    /// Streams in flight per connection.
    #[arg(short = 'm', long = "max-concurrent-streams", default_value_t = 1)]
    pub max_concurrent_streams: u32,
    /// Worker threads (each pinned to a core, with its own io_uring).
    #[arg(short = 't', long = "threads", default_value_t = 1)]
    pub threads: u32,
    /// Run for this long (after the warm-up) instead of a request count: 10, 10s, 500ms, 1m.
    #[arg(short = 'D', long = "duration", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Requests that finish during this initial period are not counted.
    #[arg(long = "warm-up-time", value_parser = parse_duration)]
    pub warm_up_time: Option<Duration>,
    /// Extra request header `name: value` (lowercased name); repeatable.
    #[arg(short = 'H', long = "header")]
    pub headers: Vec<String>,
    /// Send this file as the request body (the method becomes POST).
    #[arg(short = 'd', long = "data")]
    pub data: Option<PathBuf>,
    /// Open loop: start this many requests per second across all connections, on a fixed
    /// schedule; latency counts from the scheduled start (no coordinated omission).
    #[arg(long = "rate")]
    pub rate: Option<f64>,
    /// What `--rate` starts: `requests` (open loop, default) or `connections` (h2load's
    /// -r: connections are opened on the schedule, each then runs closed-loop).
    #[arg(long = "rate-mode", value_enum, default_value_t = RateMode::Requests)]
    pub rate_mode: RateMode,
    /// Protocol: spdy/3.1, spdy/3 or spdy/2 (ALPN id over TLS; the framing in plaintext).
    #[arg(short = 'p', long = "protocol", default_value = "spdy/3.1")]
    pub protocol: String,
    /// SYN_STREAM priority (0 highest). Default 3 (SPDY/3) or 1 (SPDY/2).
    #[arg(long = "priority")]
    pub priority: Option<u8>,
    /// Accept any server certificate (benchmarking against self-signed certificates).
    #[arg(short = 'k', long = "insecure")]
    pub insecure: bool,
    /// Trust the CA certificates in this PEM file instead of the system bundle.
    #[arg(long = "ca")]
    pub ca: Option<PathBuf>,
    /// A connection that receives nothing for this long while requests are in flight is
    /// closed; its requests count as errored and timeout.
    #[arg(short = 'T', long = "connection-inactivity-timeout", value_parser = parse_duration)]
    pub inactivity_timeout: Option<Duration>,
    /// Print the report as one JSON object.
    #[arg(long = "json")]
    pub json: bool,
    /// Never print the live progress line.
    #[arg(long = "no-progress")]
    pub no_progress: bool,
}

/// What `--rate` schedules.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateMode {
    Requests,
    Connections,
}

/// Where the requests go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub tls: bool,
    /// Host as written in the URI (brackets stripped for IPv6), for SNI and certificates.
    pub host: String,
    pub port: u16,
    /// `host[:port]` as written, for `:host` / `host`.
    pub authority: String,
    pub addr: SocketAddr,
}

/// How the server certificate is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertCheck {
    /// Standard verification against the system CA bundle.
    System,
    /// Standard verification against the CAs in a PEM file (`--ca`).
    CaFile(PathBuf),
    /// `-k`: any certificate (its handshake signature is still checked).
    Insecure,
}

/// Everything a run needs, decided up front.
#[derive(Clone, Debug)]
pub struct Plan {
    pub target: Target,
    /// Request paths, round-robin.
    pub paths: Vec<String>,
    pub version: Version,
    /// `None` with `-D`.
    pub requests: Option<u64>,
    pub duration: Option<Duration>,
    pub warm_up: Duration,
    pub connections: u32,
    pub max_concurrent: u32,
    pub threads: u32,
    /// Extra headers, names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Option<Bytes>,
    /// Requests (or connections, see `rate_mode`) per second across the run.
    pub rate: Option<f64>,
    pub rate_mode: RateMode,
    pub priority: u8,
    pub cert_check: CertCheck,
    pub inactivity_timeout: Option<Duration>,
    pub json: bool,
    pub progress: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    #[error("{uri}: {why}")]
    BadUri { uri: String, why: &'static str },
    #[error("all URIs must share scheme, host and port (h2load rule); {0} differs")]
    MixedTargets(String),
    #[error("cannot resolve {0}")]
    Unresolvable(String),
    #[error("-p {0}: expected spdy/3.1, spdy/3 or spdy/2")]
    UnknownProtocol(String),
    #[error("-H {0:?}: expected `name: value`")]
    BadHeader(String),
    #[error("-H {0}: pseudo-headers are set by spdyload")]
    ReservedHeader(String),
    #[error("-{flag}: must be at least 1")]
    Zero { flag: char },
    #[error("-t {threads}: more threads than connections (-c {connections})")]
    MoreThreadsThanConnections { threads: u32, connections: u32 },
    #[error("-n {requests}: fewer requests than connections (-c {connections})")]
    FewerRequestsThanConnections { requests: u64, connections: u32 },
    #[error("--priority {priority}: {version} has priorities 0..={lowest}")]
    BadPriority { priority: u8, version: Version, lowest: u8 },
    #[error("--rate {0}: must be a positive number of requests per second")]
    BadRate(String),
    #[error("-d {path}: {message}")]
    Data { path: String, message: String },
}

/// Parses `10`, `10s`, `1.5s`, `500ms`, `2m` (h2load's -D/--warm-up-time units).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = text.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number.parse().map_err(|_| format!("{text:?} is not a duration (10, 10s, 500ms, 1m)"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("{text:?} is not a duration"));
    }
    Ok(Duration::from_secs_f64(value * scale))
}

/// One parsed URI.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Uri {
    tls: bool,
    host: String,
    port: u16,
    authority: String,
    path: String,
}

fn parse_uri(uri: &str) -> Result<Uri, PlanError> {
    let bad = |why| PlanError::BadUri { uri: uri.to_string(), why };
    let (tls, rest) = if let Some(rest) = uri.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = uri.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(bad("scheme must be http:// (plaintext SPDY) or https:// (TLS + ALPN)"));
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_string()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_string()),
    };
    if authority.is_empty() {
        return Err(bad("no host"));
    }
    let default_port = if tls { 443 } else { 80 };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let end = v6.find(']').ok_or_else(|| bad("unclosed [ in host"))?;
        let host = &v6[..end];
        let port = match &v6[end + 1..] {
            "" => default_port,
            p => p.strip_prefix(':').and_then(|p| p.parse().ok()).ok_or_else(|| bad("bad port"))?,
        };
        (host.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host.to_string(), port.parse().map_err(|_| bad("bad port"))?),
            None => (authority.to_string(), default_port),
        }
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    Ok(Uri { tls, host, port, authority: authority.to_string(), path })
}

fn parse_version(protocol: &str) -> Result<Version, PlanError> {
    Version::from_alpn(protocol.as_bytes()).ok_or_else(|| PlanError::UnknownProtocol(protocol.to_string()))
}

fn parse_header(text: &str) -> Result<(String, String), PlanError> {
    // `:authority: x` style names start with a colon; split after it.
    let skip = usize::from(text.starts_with(':'));
    let colon = text[skip..].find(':').map(|i| i + skip).ok_or_else(|| PlanError::BadHeader(text.to_string()))?;
    let name = text[..colon].trim().to_ascii_lowercase();
    let value = text[colon + 1..].trim().to_string();
    if name.is_empty() || name.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(PlanError::BadHeader(text.to_string()));
    }
    if name.starts_with(':') {
        return Err(PlanError::ReservedHeader(name));
    }
    Ok((name, value))
}

impl Plan {
    /// Validates the flags, resolves the host and reads the body file.
    pub fn from_args(args: &Args) -> Result<Plan, PlanError> {
        let uris: Vec<Uri> = args.uris.iter().map(|u| parse_uri(u)).collect::<Result<_, _>>()?;
        let first = uris[0].clone();
        for (uri, text) in uris.iter().zip(&args.uris) {
            if (uri.tls, &uri.host, uri.port) != (first.tls, &first.host, first.port) {
                return Err(PlanError::MixedTargets(text.clone()));
            }
        }
        let addr = (first.host.as_str(), first.port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| PlanError::Unresolvable(first.authority.clone()))?;
        let version = parse_version(&args.protocol)?;
        let headers = args.headers.iter().map(|h| parse_header(h)).collect::<Result<Vec<_>, _>>()?;
        for (flag, value) in [('c', args.clients), ('m', args.max_concurrent_streams), ('t', args.threads)] {
            if value == 0 {
                return Err(PlanError::Zero { flag });
            }
        }
        if args.threads > args.clients {
            return Err(PlanError::MoreThreadsThanConnections { threads: args.threads, connections: args.clients });
        }
        let requests = match (args.duration, args.requests) {
            (Some(_), _) => None,
            (None, n) => Some(n.unwrap_or(1)),
        };
        if let Some(n) = requests {
            if n < u64::from(args.clients) {
                return Err(PlanError::FewerRequestsThanConnections { requests: n, connections: args.clients });
            }
        }
        let priority = args.priority.unwrap_or(match version {
            Version::Spdy2 => 1,
            Version::Spdy3 | Version::Spdy31 => 3,
        });
        if priority > version.lowest_priority() {
            return Err(PlanError::BadPriority { priority, version, lowest: version.lowest_priority() });
        }
        if let Some(rate) = args.rate {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(PlanError::BadRate(rate.to_string()));
            }
        }
        let body = match &args.data {
            Some(path) => Some(Bytes::from(std::fs::read(path).map_err(|e| PlanError::Data {
                path: path.display().to_string(),
                message: e.to_string(),
            })?)),
            None => None,
        };
        let cert_check = match (&args.ca, args.insecure) {
            (_, true) => CertCheck::Insecure,
            (Some(ca), false) => CertCheck::CaFile(ca.clone()),
            (None, false) => CertCheck::System,
        };
        Ok(Plan {
            target: Target { tls: first.tls, host: first.host, port: first.port, authority: first.authority, addr },
            paths: uris.into_iter().map(|u| u.path).collect(),
            version,
            requests,
            duration: args.duration,
            warm_up: args.warm_up_time.unwrap_or(Duration::ZERO),
            connections: args.clients,
            max_concurrent: args.max_concurrent_streams,
            threads: args.threads,
            headers,
            body,
            rate: args.rate,
            rate_mode: args.rate_mode,
            priority,
            cert_check,
            inactivity_timeout: args.inactivity_timeout,
            json: args.json,
            progress: !args.no_progress,
        })
    }

    /// The request header block for path number `index` (one per path, built once).
    ///
    /// SPDY/3 (SPDY3.md §3.2.1): `:method`, `:path`, `:version`, `:host`, `:scheme`; SPDY/2
    /// (SPDY2.md §3.2.1): `method`, `url`, `version`, `host`, `scheme`. Extra `-H` headers
    /// follow, lowercased; a `-H host:`-style override of an implied header replaces it.
    pub fn header_block(&self, index: usize) -> HeaderBlock {
        let v3 = self.version.colon_names();
        let method = if self.body.is_some() { "POST" } else { "GET" };
        let scheme = if self.target.tls { "https" } else { "http" };
        let path = &self.paths[index % self.paths.len()];
        let mut block = HeaderBlock::new();
        let implied: [(&str, &str, &str); 5] = [
            (":method", "method", method),
            (":path", "url", path),
            (":version", "version", "HTTP/1.1"),
            (":host", "host", &self.target.authority),
            (":scheme", "scheme", scheme),
        ];
        for (v3_name, v2_name, value) in implied {
            let name = if v3 { v3_name } else { v2_name };
            // In SPDY/2 `host` is an ordinary header; let -H host: replace it.
            if !v3 && self.headers.iter().any(|(n, _)| n == name) {
                continue;
            }
            block.push(name, value);
        }
        if self.body.is_some() && !self.headers.iter().any(|(n, _)| n == "content-length") {
            block.push("content-length", self.body.as_ref().map_or(0, |b| b.len()).to_string());
        }
        for (name, value) in &self.headers {
            block.push(name, value);
        }
        block
    }

    /// Connections of worker `worker` (indices into `0..connections`).
    pub fn connections_of(&self, worker: u32) -> std::ops::Range<u32> {
        let start = split_start(u64::from(self.connections), u64::from(self.threads), u64::from(worker)) as u32;
        let end = split_start(u64::from(self.connections), u64::from(self.threads), u64::from(worker) + 1) as u32;
        start..end
    }

    /// Requests of connection `conn` in closed-loop mode: `-n` split across connections as
    /// h2load does (the first `n % c` connections take one more).
    pub fn requests_of_connection(&self, conn: u32) -> Option<u64> {
        self.requests.map(|n| share(n, u64::from(self.connections), u64::from(conn)))
    }

    /// Requests of worker `worker` (the sum over its connections).
    pub fn requests_of_worker(&self, worker: u32) -> Option<u64> {
        self.requests.map(|_| self.connections_of(worker).map(|c| self.requests_of_connection(c).unwrap_or(0)).sum())
    }

    /// Whether requests start on the open-loop schedule (`--rate` in requests mode).
    pub fn open_loop(&self) -> bool {
        self.rate.is_some() && self.rate_mode == RateMode::Requests
    }

    /// The open-loop rate of worker `worker`, in proportion to its connections.
    pub fn rate_of_worker(&self, worker: u32) -> Option<f64> {
        let conns = self.connections_of(worker).len() as f64;
        self.rate.map(|r| r * conns / f64::from(self.connections))
    }
}

/// Share `index` of `total` split into `parts` near-equal parts, larger ones first.
fn share(total: u64, parts: u64, index: u64) -> u64 {
    total / parts + u64::from(index < total % parts)
}

/// Where share `index` starts.
fn split_start(total: u64, parts: u64, index: u64) -> u64 {
    (0..index).map(|i| share(total, parts, i)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(args: &[&str]) -> Result<Plan, PlanError> {
        let mut all = vec!["spdyload"];
        all.extend_from_slice(args);
        Plan::from_args(&Args::try_parse_from(all).expect("flags parse"))
    }

    #[test]
    fn h2load_flags_parse_into_a_plan() {
        let p = plan(&[
            "-n", "1000", "-c", "10", "-m", "8", "-t", "2", "-H", "X-Trace: abc", "-p", "spdy/3", "--warm-up-time", "500ms",
            "http://127.0.0.1:8080/a", "http://127.0.0.1:8080/b?q=1",
        ])
        .unwrap();
        assert_eq!(p.requests, Some(1000));
        assert_eq!((p.connections, p.max_concurrent, p.threads), (10, 8, 2));
        assert_eq!(p.version, Version::Spdy3);
        assert_eq!(p.warm_up, Duration::from_millis(500));
        assert_eq!(p.headers, vec![("x-trace".to_string(), "abc".to_string())]);
        assert_eq!(p.paths, vec!["/a".to_string(), "/b?q=1".to_string()]);
        assert_eq!(p.target.addr, "127.0.0.1:8080".parse().unwrap());
        assert!(!p.target.tls);
        assert_eq!(p.priority, 3);
        assert_eq!(p.cert_check, CertCheck::System);
    }

    #[test]
    fn requests_split_across_connections_like_h2load() {
        let p = plan(&["-n", "10", "-c", "3", "-t", "2", "http://127.0.0.1:1/"]).unwrap();
        let per_conn: Vec<u64> = (0..3).map(|c| p.requests_of_connection(c).unwrap()).collect();
        assert_eq!(per_conn, vec![4, 3, 3]);
        assert_eq!(p.connections_of(0), 0..2);
        assert_eq!(p.connections_of(1), 2..3);
        assert_eq!(p.requests_of_worker(0), Some(7));
        assert_eq!(p.requests_of_worker(1), Some(3));
    }

    #[test]
    fn rate_is_split_in_proportion_to_connections() {
        let p = plan(&["-n", "100", "-c", "4", "-t", "3", "--rate", "120", "http://127.0.0.1:1/"]).unwrap();
        assert_eq!(p.rate_of_worker(0), Some(60.0));
        assert_eq!(p.rate_of_worker(1), Some(30.0));
        assert_eq!(p.rate_of_worker(2), Some(30.0));
        assert!(p.open_loop());
        let p = plan(&["-n", "8", "-c", "4", "--rate", "2", "--rate-mode", "connections", "http://127.0.0.1:1/"]).unwrap();
        assert_eq!(p.rate_mode, RateMode::Connections);
        assert!(!p.open_loop());
    }

    #[test]
    fn duration_replaces_the_request_count() {
        let p = plan(&["-D", "2s", "-n", "5", "http://127.0.0.1:1/"]).unwrap();
        assert_eq!(p.requests, None);
        assert_eq!(p.duration, Some(Duration::from_secs(2)));
        assert_eq!(plan(&["http://127.0.0.1:1/"]).unwrap().requests, Some(1));
    }

    #[test]
    fn flag_combinations_h2load_refuses_are_refused() {
        assert_eq!(
            plan(&["-c", "2", "-t", "3", "-n", "10", "http://127.0.0.1:1/"]).unwrap_err(),
            PlanError::MoreThreadsThanConnections { threads: 3, connections: 2 }
        );
        assert_eq!(
            plan(&["-c", "4", "-n", "3", "http://127.0.0.1:1/"]).unwrap_err(),
            PlanError::FewerRequestsThanConnections { requests: 3, connections: 4 }
        );
        assert_eq!(plan(&["-m", "0", "http://127.0.0.1:1/"]).unwrap_err(), PlanError::Zero { flag: 'm' });
        assert!(matches!(plan(&["-p", "h2", "http://127.0.0.1:1/"]), Err(PlanError::UnknownProtocol(_))));
        assert!(matches!(plan(&["--rate", "0", "http://127.0.0.1:1/"]), Err(PlanError::BadRate(_))));
        assert!(matches!(plan(&["-H", "nocolon", "http://127.0.0.1:1/"]), Err(PlanError::BadHeader(_))));
        assert!(matches!(plan(&["-H", ":path: /x", "http://127.0.0.1:1/"]), Err(PlanError::ReservedHeader(_))));
        assert!(matches!(
            plan(&["-p", "spdy/2", "--priority", "4", "http://127.0.0.1:1/"]),
            Err(PlanError::BadPriority { priority: 4, lowest: 3, .. })
        ));
        assert!(matches!(
            plan(&["http://127.0.0.1:1/", "http://127.0.0.1:2/"]),
            Err(PlanError::MixedTargets(_))
        ));
        assert!(matches!(plan(&["ftp://x/"]), Err(PlanError::BadUri { .. })));
    }

    #[test]
    fn uris_parse_with_default_ports_ipv6_and_bare_authorities() {
        let u = parse_uri("https://example.com").unwrap();
        assert_eq!((u.tls, u.host.as_str(), u.port, u.path.as_str()), (true, "example.com", 443, "/"));
        let u = parse_uri("http://[::1]:8443/x/y").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.authority.as_str(), u.path.as_str()), ("::1", 8443, "[::1]:8443", "/x/y"));
        let u = parse_uri("http://h?a=b").unwrap();
        assert_eq!((u.port, u.path.as_str()), (80, "/?a=b"));
        assert!(parse_uri("http://h:notaport/").is_err());
    }

    #[test]
    fn spdy3_request_headers_carry_colon_names_and_lowercased_extras() {
        let p = plan(&["-H", "Accept-Encoding: gzip", "http://127.0.0.1:8080/index.html"]).unwrap();
        let block = p.header_block(0);
        let pairs: Vec<(&[u8], &[u8])> = block.iter().collect();
        assert_eq!(
            pairs,
            vec![
                (&b":method"[..], &b"GET"[..]),
                (b":path", b"/index.html"),
                (b":version", b"HTTP/1.1"),
                (b":host", b"127.0.0.1:8080"),
                (b":scheme", b"http"),
                (b"accept-encoding", b"gzip"),
            ]
        );
    }

    #[test]
    fn spdy2_request_headers_use_plain_names_and_post_with_a_body() {
        let dir = std::env::temp_dir().join(format!("spdyload-plan-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("body");
        std::fs::write(&file, b"hello").unwrap();
        let p = plan(&["-p", "spdy/2", "-d", file.to_str().unwrap(), "http://127.0.0.1/a", "http://127.0.0.1/b"]).unwrap();
        assert_eq!(p.priority, 1);
        assert_eq!(p.body.as_deref(), Some(&b"hello"[..]));
        let block = p.header_block(1);
        assert_eq!(block.get(b"method"), Some(&b"POST"[..]));
        assert_eq!(block.get(b"url"), Some(&b"/b"[..]));
        assert_eq!(block.get(b"host"), Some(&b"127.0.0.1"[..]));
        assert_eq!(block.get(b"scheme"), Some(&b"http"[..]));
        assert_eq!(block.get(b"version"), Some(&b"HTTP/1.1"[..]));
        assert_eq!(block.get(b"content-length"), Some(&b"5"[..]));
        assert_eq!(block.get(b":method"), None);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn durations_accept_h2load_units() {
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn insecure_and_ca_choose_the_certificate_check() {
        assert_eq!(plan(&["-k", "https://127.0.0.1/"]).unwrap().cert_check, CertCheck::Insecure);
        assert_eq!(
            plan(&["--ca", "/tmp/ca.pem", "https://127.0.0.1/"]).unwrap().cert_check,
            CertCheck::CaFile("/tmp/ca.pem".into())
        );
    }
}
