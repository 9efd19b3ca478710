//! The gateway's configuration: TOML on disk → typed [`Config`], validated as a whole.
//! Every error names the file, the line and the key, so a typo never turns into a
//! silently ignored setting (unknown keys are errors). Command-line flags build the same
//! [`Config`] for quick use.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::spdy::header::CompressorKind;
use crate::spdy::session::{Limits, SessionConfig};
use crate::spdy::version::Version;

/// A configuration error, located in its file.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {key}: {message}")]
pub struct ConfigError {
    pub file: String,
    /// 1-based; 0 when the error is not tied to a line (e.g. the file cannot be read).
    pub line: usize,
    pub key: String,
    pub message: String,
}

/// Which SPDY version a plaintext connection speaks (it has no ALPN).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum PlaintextVersion {
    /// SPDY/2 by the first frame's version field; 3 versus 3.1 detected by behaviour.
    #[serde(rename = "auto")]
    Auto,
    #[serde(rename = "spdy/3.1")]
    Spdy31,
    #[serde(rename = "spdy/3")]
    Spdy3,
    #[serde(rename = "spdy/2")]
    Spdy2,
}

/// How backends are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Balance {
    RoundRobin,
    LeastInFlight,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listener {
    pub addr: SocketAddr,
    /// Certificate chain and key (PEM). Both or neither: no TLS when absent.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// ALPN protocols offered, in preference order.
    pub alpn: Vec<Vec<u8>>,
    pub plaintext_version: PlaintextVersion,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backends {
    pub servers: Vec<SocketAddr>,
    pub balance: Balance,
    pub connect_timeout: Duration,
    /// Time to the first response byte.
    pub response_timeout: Duration,
    /// Idle keep-alive connections are closed after this.
    pub idle_timeout: Duration,
    /// Idle connections kept per backend per shard.
    pub max_idle_per_backend: usize,
    /// Retries of idempotent requests that got no response byte.
    pub retries: u32,
    /// Consecutive failures that eject a backend, and for how long.
    pub eject_after_failures: u32,
    pub eject_for: Duration,
}

/// Memory bounds of the data path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Buffers {
    /// Provided-buffer-ring buffers per shard, and their size.
    pub recv_buffer_count: u16,
    pub recv_buffer_size: u32,
    /// Bytes of response body held per stream waiting for the client's window.
    pub max_buffered_per_stream: usize,
    /// Bytes held per client session across its streams and its outbound queue.
    pub max_buffered_per_session: usize,
}

#[derive(Clone, Debug)]
pub struct Config {
    /// 0 = one shard per available core.
    pub shards: usize,
    pub listeners: Vec<Listener>,
    pub backends: Backends,
    pub session: SessionConfig,
    pub buffers: Buffers,
    /// Time in-flight streams get to finish after SIGTERM.
    pub drain_timeout: Duration,
}

impl Default for Backends {
    fn default() -> Self {
        Backends {
            servers: Vec::new(),
            balance: Balance::RoundRobin,
            connect_timeout: Duration::from_secs(3),
            response_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(60),
            max_idle_per_backend: 256,
            retries: 1,
            eject_after_failures: 3,
            eject_for: Duration::from_secs(5),
        }
    }
}

impl Default for Buffers {
    fn default() -> Self {
        Buffers {
            recv_buffer_count: 512,
            recv_buffer_size: 16 * 1024,
            max_buffered_per_stream: 256 * 1024,
            max_buffered_per_session: 4 * 1024 * 1024,
        }
    }
}

/// The ALPN list offered by default (SPDY3.md §1: spdylay's preference).
pub fn default_alpn() -> Vec<Vec<u8>> {
    vec![b"spdy/3.1".to_vec(), b"spdy/3".to_vec(), b"spdy/2".to_vec(), b"http/1.1".to_vec()]
}

impl Config {
    /// A config from command-line flags.
    pub fn from_flags(listen: Vec<SocketAddr>, tls: Option<(PathBuf, PathBuf)>, backends: Vec<SocketAddr>, shards: usize) -> Self {
        Config {
            shards,
            listeners: listen
                .into_iter()
                .map(|addr| Listener { addr, tls: tls.clone(), alpn: default_alpn(), plaintext_version: PlaintextVersion::Auto })
                .collect(),
            backends: Backends { servers: backends, ..Backends::default() },
            session: SessionConfig::default(),
            buffers: Buffers::default(),
            drain_timeout: Duration::from_secs(10),
        }
    }

    /// Reads and validates a TOML file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError { file: file.clone(), line: 0, key: "-".into(), message: e.to_string() })?;
        Self::parse(&file, &text)
    }

    /// Parses and validates TOML text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(0);
            let message = e.message().to_string();
            let key = key_from_message(&message).unwrap_or_else(|| key_at(text, line));
            ConfigError { file: file.into(), line, key, message }
        })?;
        raw.validate().map_err(|Invalid { key, message, table }| ConfigError {
            file: file.into(),
            line: find_key_line(text, &key, table),
            key,
            message,
        })
    }
}

// ---- the file format ----------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    shards: usize,
    #[serde(default)]
    listen: Vec<RawListener>,
    #[serde(default)]
    backend: RawBackend,
    #[serde(default)]
    spdy: RawSpdy,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    buffers: RawBuffers,
    drain_timeout_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawListener {
    addr: String,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    alpn: Option<Vec<String>>,
    plaintext_version: Option<PlaintextVersion>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawBackend {
    #[serde(default)]
    servers: Vec<String>,
    balance: Option<Balance>,
    connect_timeout_ms: Option<u64>,
    response_timeout_ms: Option<u64>,
    idle_timeout_ms: Option<u64>,
    max_idle_per_backend: Option<usize>,
    retries: Option<u32>,
    eject_after_failures: Option<u32>,
    eject_for_ms: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSpdy {
    max_concurrent_streams: Option<u32>,
    initial_window_size: Option<u32>,
    session_window_size: Option<u32>,
    max_data_chunk: Option<usize>,
    /// "zlib" or "fast".
    header_compression: Option<String>,
    zlib_level: Option<u32>,
    zlib_window_bits: Option<u8>,
    #[serde(default)]
    sensitive_headers: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_control_payload: Option<u32>,
    max_header_block: Option<usize>,
    inflate_budget: Option<usize>,
    max_header_pairs: Option<usize>,
    max_pending_pings: Option<usize>,
    max_settings_per_second: Option<u32>,
    max_invalid_stream_frames: Option<u32>,
    max_no_progress_frames: Option<u32>,
    max_cancels: Option<u32>,
    flood_window_ms: Option<u64>,
    max_streams_per_session: Option<u32>,
    max_queued_control_bytes: Option<usize>,
    idle_timeout_ms: Option<u64>,
    send_progress_timeout_ms: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawBuffers {
    recv_buffer_count: Option<u16>,
    recv_buffer_size: Option<u32>,
    max_buffered_per_stream: Option<usize>,
    max_buffered_per_session: Option<usize>,
}

/// A validation error: the `section.key` at fault, why, and which table of an array of
/// tables (`[[listen]]`) holds it (0 otherwise).
struct Invalid {
    key: String,
    message: String,
    table: usize,
}

fn invalid(key: &str, message: impl Into<String>) -> Invalid {
    Invalid { key: key.to_string(), message: message.into(), table: 0 }
}

/// An error in the `table`-th `[[listen]]` (counting from 0).
fn invalid_listener(table: usize, key: &str, message: impl Into<String>) -> Invalid {
    Invalid { table, ..invalid(key, message) }
}

/// A timeout in milliseconds that must not be 0 (it would fail every request at once).
fn nonzero_ms(key: &str, v: Option<u64>, default: Duration) -> Result<Duration, Invalid> {
    match v {
        Some(0) => Err(invalid(key, "must be at least 1 (0 would fail every request at once)")),
        v => Ok(ms(v, default)),
    }
}

fn ms(v: Option<u64>, default: Duration) -> Duration {
    v.map(Duration::from_millis).unwrap_or(default)
}

impl RawConfig {
    fn validate(self) -> Result<Config, Invalid> {
        if self.listen.is_empty() {
            return Err(invalid("listen", "at least one [[listen]] table is required"));
        }
        let mut listeners: Vec<Listener> = Vec::new();
        for (n, l) in self.listen.into_iter().enumerate() {
            let addr: SocketAddr = l
                .addr
                .parse()
                .map_err(|_| invalid_listener(n, "listen.addr", format!("`{}` is not an ip:port address", l.addr)))?;
            if listeners.iter().any(|other| other.addr == addr) {
                // SO_REUSEPORT would let both bind, and split the connections between them
                return Err(invalid_listener(n, "listen.addr", format!("`{addr}` is already listed")));
            }
            let tls = match (l.tls_cert, l.tls_key) {
                (Some(c), Some(k)) => Some((c, k)),
                (None, None) => None,
                (Some(_), None) => return Err(invalid_listener(n, "listen.tls_cert", "tls_cert needs tls_key")),
                (None, Some(_)) => return Err(invalid_listener(n, "listen.tls_key", "tls_key needs tls_cert")),
            };
            let alpn = match l.alpn {
                None => default_alpn(),
                Some(list) => {
                    for p in &list {
                        if Version::from_alpn(p.as_bytes()).is_none() && p != "http/1.1" {
                            let message = format!("unknown protocol `{p}` (spdy/3.1, spdy/3, spdy/2, http/1.1)");
                            return Err(invalid_listener(n, "listen.alpn", message));
                        }
                    }
                    list.into_iter().map(String::into_bytes).collect()
                }
            };
            listeners.push(Listener { addr, tls, alpn, plaintext_version: l.plaintext_version.unwrap_or(PlaintextVersion::Auto) });
        }

        let b = self.backend;
        if b.servers.is_empty() {
            return Err(invalid("backend.servers", "at least one backend address is required"));
        }
        let mut servers = Vec::new();
        for s in &b.servers {
            servers.push(s.parse().map_err(|_| invalid("backend.servers", format!("`{s}` is not an ip:port address")))?);
        }
        let d = Backends::default();
        let backends = Backends {
            servers,
            balance: b.balance.unwrap_or(d.balance),
            connect_timeout: nonzero_ms("backend.connect_timeout_ms", b.connect_timeout_ms, d.connect_timeout)?,
            response_timeout: nonzero_ms("backend.response_timeout_ms", b.response_timeout_ms, d.response_timeout)?,
            idle_timeout: ms(b.idle_timeout_ms, d.idle_timeout),
            max_idle_per_backend: b.max_idle_per_backend.unwrap_or(d.max_idle_per_backend),
            retries: b.retries.unwrap_or(d.retries),
            eject_after_failures: b.eject_after_failures.unwrap_or(d.eject_after_failures),
            eject_for: ms(b.eject_for_ms, d.eject_for),
        };

        let s = self.spdy;
        let mut session = SessionConfig::default();
        if let Some(v) = s.max_concurrent_streams {
            if v == 0 {
                return Err(invalid("spdy.max_concurrent_streams", "must be at least 1 (0 refuses every stream)"));
            }
            session.max_concurrent_streams = v;
        }
        if let Some(v) = s.initial_window_size {
            // CONFORMANCE C91: announced once, ≥ 65 536, never lowered.
            if !(65_536..=0x7fff_ffff).contains(&v) {
                return Err(invalid("spdy.initial_window_size", "must be between 65536 and 2147483647 (CONFORMANCE C91)"));
            }
            session.initial_window_size = v;
        }
        if let Some(v) = s.session_window_size {
            if !(65_536..=0x7fff_ffff).contains(&v) {
                return Err(invalid("spdy.session_window_size", "must be between 65536 and 2147483647"));
            }
            session.session_window_size = v;
        }
        if let Some(v) = s.max_data_chunk {
            if !(1024..=0xff_ffff).contains(&v) {
                return Err(invalid("spdy.max_data_chunk", "must be between 1024 and 16777215"));
            }
            session.max_data_chunk = v;
        }
        // (checked whichever compressor is chosen: a bad value is never silently ignored)
        let level = s.zlib_level.unwrap_or(6);
        let window_bits = s.zlib_window_bits.unwrap_or(11);
        if level > 9 {
            return Err(invalid("spdy.zlib_level", "must be 0..=9"));
        }
        if !(9..=15).contains(&window_bits) {
            return Err(invalid("spdy.zlib_window_bits", "must be 9..=15"));
        }
        session.compressor = match s.header_compression.as_deref() {
            None | Some("fast") => CompressorKind::Fast { sensitive: s.sensitive_headers.iter().map(|h| h.to_ascii_lowercase().into_bytes()).collect() },
            Some("zlib") => CompressorKind::Zlib { level, window_bits, mem_level: 1 },
            Some(other) => return Err(invalid("spdy.header_compression", format!("`{other}`: expected \"zlib\" or \"fast\""))),
        };

        let l = self.limits;
        let dl = Limits::default();
        let limits = Limits {
            max_control_payload: l.max_control_payload.unwrap_or(dl.max_control_payload),
            max_header_block: l.max_header_block.unwrap_or(dl.max_header_block),
            inflate_budget: l.inflate_budget.unwrap_or(dl.inflate_budget),
            max_header_pairs: l.max_header_pairs.unwrap_or(dl.max_header_pairs),
            max_pending_pings: l.max_pending_pings.unwrap_or(dl.max_pending_pings),
            max_settings_per_second: l.max_settings_per_second.unwrap_or(dl.max_settings_per_second),
            max_invalid_stream_frames: l.max_invalid_stream_frames.unwrap_or(dl.max_invalid_stream_frames),
            max_no_progress_frames: l.max_no_progress_frames.unwrap_or(dl.max_no_progress_frames),
            max_cancels: l.max_cancels.unwrap_or(dl.max_cancels),
            flood_window: ms(l.flood_window_ms, dl.flood_window),
            max_streams_per_session: l.max_streams_per_session.unwrap_or(dl.max_streams_per_session),
            max_queued_control_bytes: l.max_queued_control_bytes.unwrap_or(dl.max_queued_control_bytes),
            idle_timeout: ms(l.idle_timeout_ms, dl.idle_timeout),
            send_progress_timeout: ms(l.send_progress_timeout_ms, dl.send_progress_timeout),
        };
        if limits.max_header_pairs < 5 {
            // a SPDY/3 request alone has five: :method, :path, :version, :host, :scheme
            return Err(invalid("limits.max_header_pairs", "must be at least 5 (every request would be refused)"));
        }
        if limits.max_control_payload < 8192 {
            // CONFORMANCE C5: control frames of at least 8 192 bytes must be accepted.
            return Err(invalid("limits.max_control_payload", "must be at least 8192 (CONFORMANCE C5)"));
        }
        if limits.inflate_budget < limits.max_header_block {
            return Err(invalid("limits.inflate_budget", "must be at least limits.max_header_block"));
        }
        session.limits = limits;

        let db = Buffers::default();
        let r = self.buffers;
        let buffers = Buffers {
            recv_buffer_count: r.recv_buffer_count.unwrap_or(db.recv_buffer_count),
            recv_buffer_size: r.recv_buffer_size.unwrap_or(db.recv_buffer_size),
            max_buffered_per_stream: r.max_buffered_per_stream.unwrap_or(db.max_buffered_per_stream),
            max_buffered_per_session: r.max_buffered_per_session.unwrap_or(db.max_buffered_per_session),
        };
        if !buffers.recv_buffer_count.is_power_of_two() {
            return Err(invalid("buffers.recv_buffer_count", "must be a power of two (io_uring buffer rings)"));
        }
        if !(1024..=1 << 20).contains(&buffers.recv_buffer_size) {
            return Err(invalid("buffers.recv_buffer_size", "must be between 1024 and 1048576"));
        }
        if buffers.max_buffered_per_session < buffers.max_buffered_per_stream {
            return Err(invalid("buffers.max_buffered_per_session", "must be at least buffers.max_buffered_per_stream"));
        }

        Ok(Config {
            shards: self.shards,
            listeners,
            backends,
            session,
            buffers,
            drain_timeout: ms(self.drain_timeout_ms, Duration::from_secs(10)),
        })
    }
}

// ---- locating errors -----------------------------------------------------------------

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|&b| b == b'\n').count() + 1
}

/// The key named in a serde message such as "unknown field `foo`, expected ..." (other
/// messages quote values, not keys: "invalid value: integer `99999999999`, expected u32").
fn key_from_message(message: &str) -> Option<String> {
    let names_a_key = ["unknown field", "missing field", "duplicate key", "duplicate field"];
    if !names_a_key.iter().any(|p| message.starts_with(p)) {
        return None;
    }
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_string())
}

/// The key assigned on a line, with its table (`backend.retries`), for parse errors serde
/// did not name.
fn key_at(text: &str, line: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let Some(here) = lines.get(line.saturating_sub(1)) else { return "-".into() };
    let key = here.split('=').next().map(|k| k.trim().trim_matches(|c| c == '[' || c == ']')).unwrap_or("");
    if key.is_empty() {
        return "-".into();
    }
    if !here.contains('=') {
        return key.to_string();
    }
    // the nearest table header above the line
    match lines[..line.saturating_sub(1)].iter().rev().find_map(|l| table_header(l)) {
        Some((table, _)) => format!("{table}.{key}"),
        None => key.to_string(),
    }
}

/// The table a header line opens (`[backend]`, or an entry of `[[listen]]`: then `true`);
/// None for any other line.
fn table_header(line: &str) -> Option<(&str, bool)> {
    let t = line.trim();
    if let Some(name) = t.strip_prefix("[[").and_then(|r| r.strip_suffix("]]")) {
        return Some((name.trim(), true));
    }
    t.strip_prefix('[').and_then(|r| r.strip_suffix(']')).map(|name| (name.trim(), false))
}

/// The line of `section.key` (or a top-level `key`), scanning tables in order; for an
/// array of tables, in its `table`-th entry (counting from 0).
fn find_key_line(text: &str, path: &str, table: usize) -> usize {
    let (section, key) = match path.rsplit_once('.') {
        Some((s, k)) => (s, k),
        None => ("", path),
    };
    let mut current = String::new();
    let mut seen = 0;
    for (i, line) in text.lines().enumerate() {
        match table_header(line) {
            Some((name, true)) => {
                current = name.to_string();
                if section.is_empty() && current == key {
                    return i + 1;
                }
                if current == section {
                    seen += 1;
                    if seen != table + 1 {
                        // another entry of the array: not the one at fault
                        current.clear();
                    }
                }
                continue;
            }
            Some((name, false)) => {
                current = name.to_string();
                if current == path {
                    return i + 1;
                }
                continue;
            }
            None => {}
        }
        if current == section {
            if let Some((k, _)) = line.trim().split_once('=') {
                if k.trim() == key {
                    return i + 1;
                }
            }
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
shards = 2

[[listen]]
addr = "127.0.0.1:8443"

[backend]
servers = ["127.0.0.1:8080", "127.0.0.1:8081"]
balance = "least_in_flight"

[spdy]
initial_window_size = 1048576
header_compression = "fast"
sensitive_headers = ["X-Token"]
"#;

    #[test]
    fn a_good_file_parses() {
        let c = Config::parse("gw.toml", GOOD).unwrap();
        assert_eq!(c.shards, 2);
        assert_eq!(c.backends.servers.len(), 2);
        assert_eq!(c.backends.balance, Balance::LeastInFlight);
        assert_eq!(c.listeners[0].alpn, default_alpn());
        assert_eq!(c.session.compressor, CompressorKind::Fast { sensitive: vec![b"x-token".to_vec()] });
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let text = GOOD.replace("balance = \"least_in_flight\"", "balanse = \"least_in_flight\"");
        let e = Config::parse("gw.toml", &text).unwrap_err();
        assert_eq!((e.file.as_str(), e.line, e.key.as_str()), ("gw.toml", 9, "balanse"), "{e}");
        assert!(e.to_string().starts_with("gw.toml:9: balanse:"), "{e}");
    }

    #[test]
    fn invalid_value_names_its_line() {
        let text = GOOD.replace("initial_window_size = 1048576", "initial_window_size = 1024");
        let e = Config::parse("gw.toml", &text).unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (12, "spdy.initial_window_size"), "{e}");
        let text = GOOD.replace("127.0.0.1:8081", "nowhere");
        let e = Config::parse("gw.toml", &text).unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (8, "backend.servers"), "{e}");
    }

    #[test]
    fn wrong_type_names_its_line() {
        let text = GOOD.replace("shards = 2", "shards = \"two\"");
        let e = Config::parse("gw.toml", &text).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn missing_backends_and_listeners_are_errors() {
        let e = Config::parse("x.toml", "[[listen]]\naddr = \"127.0.0.1:1\"\n").unwrap_err();
        assert_eq!(e.key, "backend.servers");
        let e = Config::parse("x.toml", "[backend]\nservers = [\"127.0.0.1:1\"]\n").unwrap_err();
        assert_eq!(e.key, "listen");
    }

    #[test]
    fn the_shipped_example_config_is_valid() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tuning/gateway.example.toml");
        let c = Config::load(&path).unwrap();
        assert_eq!(c.session.initial_window_size, 1_048_576);
        assert_eq!(c.listeners[0].plaintext_version, PlaintextVersion::Auto);
    }

    #[test]
    fn an_error_in_the_second_listener_names_its_own_line() {
        let two = GOOD.replace("addr = \"127.0.0.1:8443\"", "addr = \"127.0.0.1:8443\"\n\n[[listen]]\naddr = \"127.0.0.1:8443\"");
        let e = Config::parse("gw.toml", &two).unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (8, "listen.addr"), "{e}");
        assert!(e.message.contains("already listed"), "{e}");
        let bad = two.replacen("127.0.0.1:8443", "127.0.0.1:8444", 1).replacen("addr = \"127.0.0.1:8443\"", "addr = \"nowhere\"", 1);
        let e = Config::parse("gw.toml", &bad).unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (8, "listen.addr"), "{e}");
    }

    #[test]
    fn a_value_out_of_its_type_names_the_key_not_the_value() {
        let text = GOOD.replace("balance = \"least_in_flight\"", "balance = \"least_in_flight\"\nretries = 99999999999");
        let e = Config::parse("gw.toml", &text).unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (10, "backend.retries"), "{e}");
        let e = Config::parse("gw.toml", &GOOD.replace("shards = 2", "shards = \"two\"")).unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (2, "shards"), "{e}");
    }

    #[test]
    fn settings_that_would_refuse_every_request_are_errors() {
        let cases = [
            ("[spdy]", "max_concurrent_streams = 0", "spdy.max_concurrent_streams"),
            ("[spdy]", "zlib_window_bits = 99", "spdy.zlib_window_bits"),
            ("[spdy]", "zlib_level = 10", "spdy.zlib_level"),
            ("[backend]", "connect_timeout_ms = 0", "backend.connect_timeout_ms"),
            ("[backend]", "response_timeout_ms = 0", "backend.response_timeout_ms"),
            ("[limits]", "max_header_pairs = 4", "limits.max_header_pairs"),
        ];
        for (table, line, key) in cases {
            // (the fast compressor is chosen: zlib settings are checked all the same)
            let text = if GOOD.contains(table) {
                GOOD.replace(table, &format!("{table}\n{line}"))
            } else {
                format!("{GOOD}\n{table}\n{line}\n")
            };
            let e = Config::parse("gw.toml", &text).unwrap_err();
            assert_eq!(e.key, key, "{line}: {e}");
            assert_eq!(text.lines().nth(e.line - 1), Some(line), "{line}: {e}");
        }
        let ok = GOOD.replace("[spdy]", "[spdy]\nmax_concurrent_streams = 1\nzlib_window_bits = 15");
        assert!(Config::parse("gw.toml", &ok).is_ok());
    }

    #[test]
    fn tls_needs_both_files() {
        let text = GOOD.replace("addr = \"127.0.0.1:8443\"", "addr = \"127.0.0.1:8443\"\ntls_cert = \"c.pem\"");
        let e = Config::parse("gw.toml", &text).unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (6, "listen.tls_cert"), "{e}");
    }
}
