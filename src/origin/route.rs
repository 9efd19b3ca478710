//! The origin's routes, parsed from a request's method and target without allocating.
//!
//! Exists so that the URL grammar lives in one table (and its tests), apart from the
//! connection state machine. Numbers are bounded here, before anything is sized from them:
//! a request can ask for a 1 TiB body (it is streamed), not for a 1 TiB chunk or timer.

use std::time::Duration;

/// Largest `N` for `/bytes`, `/chunked`, `/drop` (streamed, never buffered).
pub const MAX_BODY: u64 = 1 << 40;
/// Largest chunk size `K` for `/chunked/N/K`.
pub const MAX_CHUNK: u64 = 16 << 20;
/// Largest `N` for `/slow` and largest interval.
pub const MAX_SLOW_BODY: u64 = 16 << 20;
pub const MAX_SLOW_INTERVAL_MS: u64 = 60_000;
/// Pieces a `/slow` body is split into unless `?piece=P` says otherwise.
pub const SLOW_DEFAULT_PIECES: u64 = 10;
/// Extra bytes `/drop/N` declares beyond the `N` it sends.
pub const DROP_SHORTFALL: u64 = 65_536;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// `GET|HEAD /bytes/N[?nosha]`
    Bytes { len: u64, sha: bool },
    /// `POST|PUT /echo`
    Echo,
    /// `GET|HEAD /chunked/N/K`
    Chunked { len: u64, chunk: u64 },
    /// `GET|HEAD /slow/N/MS[?piece=P][&head]`
    Slow { len: u64, interval: Duration, piece: u64, delay_head: bool },
    /// `GET|HEAD /status/NNN`
    Status(u16),
    /// `GET /drop/N`
    Drop { sent: u64 },
    /// `GET /count`
    Count,
    /// `POST /count/reset`
    CountReset,
    NotFound,
    /// A known route with an unusable number (zero chunk size, status out of range, ...).
    BadRequest,
}

impl Route {
    /// Whether this request counts towards `/count` (the counter's own routes do not, so
    /// reading it does not change it).
    pub fn counted(self) -> bool {
        !matches!(self, Route::Count | Route::CountReset)
    }
}

/// Routes `method` + `target` (origin form: path and optional query).
pub fn route(method: &[u8], target: &[u8]) -> Route {
    let (path, query) = match target.iter().position(|&b| b == b'?') {
        Some(q) => (&target[..q], &target[q + 1..]),
        None => (target, &b""[..]),
    };
    let get = method == b"GET" || method == b"HEAD";
    let mut parts = path.strip_prefix(b"/").unwrap_or(b"\0").split(|&b| b == b'/');
    let first = parts.next().unwrap_or_default();
    let args: [Option<&[u8]>; 3] = [parts.next(), parts.next(), parts.next()];
    match (first, args) {
        (b"bytes", [Some(n), None, _]) if get => match number(n, MAX_BODY) {
            Some(len) => Route::Bytes { len, sha: !flag(query, b"nosha") },
            None => Route::BadRequest,
        },
        (b"echo", [None, _, _]) if method == b"POST" || method == b"PUT" => Route::Echo,
        (b"chunked", [Some(n), Some(k), None]) if get => match (number(n, MAX_BODY), number(k, MAX_CHUNK)) {
            (Some(len), Some(chunk)) if chunk > 0 => Route::Chunked { len, chunk },
            _ => Route::BadRequest,
        },
        (b"slow", [Some(n), Some(ms), None]) if get => {
            let (Some(len), Some(ms)) = (number(n, MAX_SLOW_BODY), number(ms, MAX_SLOW_INTERVAL_MS)) else {
                return Route::BadRequest;
            };
            let piece = match value(query, b"piece") {
                Some(p) => match number(p, MAX_SLOW_BODY) {
                    Some(p) if p > 0 => p,
                    _ => return Route::BadRequest,
                },
                None => len.div_ceil(SLOW_DEFAULT_PIECES).max(1),
            };
            Route::Slow { len, interval: Duration::from_millis(ms), piece, delay_head: flag(query, b"head") }
        }
        (b"status", [Some(code), None, _]) if get => match number(code, 599) {
            Some(code) if code >= 200 => Route::Status(code as u16),
            _ => Route::BadRequest,
        },
        (b"drop", [Some(n), None, _]) if method == b"GET" => match number(n, MAX_BODY) {
            Some(sent) => Route::Drop { sent },
            None => Route::BadRequest,
        },
        (b"count", [None, _, _]) if get => Route::Count,
        (b"count", [Some(b"reset"), None, _]) if method == b"POST" => Route::CountReset,
        _ => Route::NotFound,
    }
}

/// A decimal number of at most 13 digits, no sign or spaces, not above `max`.
fn number(digits: &[u8], max: u64) -> Option<u64> {
    if digits.is_empty() || digits.len() > 13 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = digits.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
    (n <= max).then_some(n)
}

fn pairs(query: &[u8]) -> impl Iterator<Item = (&[u8], Option<&[u8]>)> {
    query.split(|&b| b == b'&').map(|pair| match pair.iter().position(|&b| b == b'=') {
        Some(eq) => (&pair[..eq], Some(&pair[eq + 1..])),
        None => (pair, None),
    })
}

fn flag(query: &[u8], name: &[u8]) -> bool {
    pairs(query).any(|(k, _)| k == name)
}

fn value<'q>(query: &'q [u8], name: &[u8]) -> Option<&'q [u8]> {
    pairs(query).find(|(k, _)| *k == name).and_then(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sized_routes_parse_their_numbers_and_flags() {
        assert_eq!(route(b"GET", b"/bytes/1024"), Route::Bytes { len: 1024, sha: true });
        assert_eq!(route(b"HEAD", b"/bytes/0?nosha"), Route::Bytes { len: 0, sha: false });
        assert_eq!(route(b"GET", b"/chunked/100/7"), Route::Chunked { len: 100, chunk: 7 });
        assert_eq!(route(b"GET", b"/drop/10"), Route::Drop { sent: 10 });
        assert_eq!(route(b"GET", b"/status/204"), Route::Status(204));
        assert_eq!(
            route(b"GET", b"/slow/100/20"),
            Route::Slow { len: 100, interval: Duration::from_millis(20), piece: 10, delay_head: false }
        );
        assert_eq!(
            route(b"GET", b"/slow/5/1?piece=1&head"),
            Route::Slow { len: 5, interval: Duration::from_millis(1), piece: 1, delay_head: true }
        );
    }

    #[test]
    fn methods_select_routes() {
        assert_eq!(route(b"POST", b"/echo"), Route::Echo);
        assert_eq!(route(b"PUT", b"/echo"), Route::Echo);
        assert_eq!(route(b"GET", b"/echo"), Route::NotFound);
        assert_eq!(route(b"POST", b"/bytes/1"), Route::NotFound);
        assert_eq!(route(b"GET", b"/count"), Route::Count);
        assert_eq!(route(b"POST", b"/count/reset"), Route::CountReset);
        assert_eq!(route(b"GET", b"/count/reset"), Route::NotFound);
        assert!(!Route::Count.counted() && !Route::CountReset.counted() && Route::Echo.counted());
    }

    #[test]
    fn bad_numbers_are_refused_before_anything_is_sized() {
        assert_eq!(route(b"GET", b"/bytes/-1"), Route::BadRequest);
        assert_eq!(route(b"GET", b"/bytes/99999999999999"), Route::BadRequest);
        assert_eq!(route(b"GET", b"/chunked/10/0"), Route::BadRequest);
        assert_eq!(route(b"GET", b"/chunked/10/999999999"), Route::BadRequest);
        assert_eq!(route(b"GET", b"/status/99"), Route::BadRequest);
        assert_eq!(route(b"GET", b"/status/600"), Route::BadRequest);
        assert_eq!(route(b"GET", b"/slow/1/1?piece=0"), Route::BadRequest);
        assert_eq!(route(b"GET", b"/slow/1/600000"), Route::BadRequest);
    }

    #[test]
    fn unknown_shapes_are_not_found() {
        for target in [&b"/"[..], b"", b"*", b"/bytes", b"/bytes/1/2", b"/chunked/1", b"/nope", b"/echo/x"] {
            assert_eq!(route(b"GET", target), Route::NotFound, "{:?}", String::from_utf8_lossy(target));
        }
    }
}
