//! Header translation between a SPDY stream and an HTTP/1.1 backend exchange
//! (SPDY3.md §9.3, SPDY2.md §8, CONFORMANCE C49–C61, B12). Requests that break the HTTP
//! rules are answered with a 400 by the caller, never forwarded; nothing with CR, LF or
//! NUL ever reaches the backend (the name/value decoder already refused them, C42).

use crate::http1::{write, ResponseHead};
use crate::spdy::header::HeaderBlock;
use crate::spdy::version::Version;

/// Why a request is answered with 400 instead of being forwarded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadRequest {
    /// C49 / E4: `:method`, `:path`, `:version`, `:host` or `:scheme` missing.
    #[error("missing required header {0}")]
    Missing(&'static str),
    /// C50: a `:`-name we do not know.
    #[error("unknown special header")]
    UnknownSpecialHeader,
    /// C51: a special header with several NUL-joined values.
    #[error("special header with several values")]
    RepeatedSpecialHeader,
    /// C52: `:method` is not an HTTP token.
    #[error("invalid method")]
    InvalidMethod,
    /// C52: `:path` does not start with `/` (or is not `*` for OPTIONS), or holds a
    /// space or control byte.
    #[error("invalid path")]
    InvalidPath,
    /// B12: `:host` empty or holding whitespace, `/`, `@` or control bytes.
    #[error("invalid host")]
    InvalidHost,
    /// C54: `content-length` is not one decimal number.
    #[error("invalid content-length")]
    InvalidContentLength,
    /// `:version` is not HTTP/1.0 or HTTP/1.1.
    #[error("unsupported HTTP version")]
    UnsupportedVersion,
    /// C54 at FIN: the request ends with its SYN_STREAM but `content-length` declares a
    /// body. Forwarded, the backend would wait for bytes that never come — or, on a
    /// connection the gateway reuses, read the next request as this one's body.
    #[error("content-length declares a body the request does not have")]
    MissingBody,
    /// A header name that is not an HTTP token (RFC 9110 §5.1): the SPDY decoder lets
    /// through every visible ASCII byte but uppercase (C38, C39), so a name such as
    /// `x-forwarded-for:1.2.3.4` or `transfer-encoding:chunked` would reach the backend
    /// as a different header than the one the gateway checked.
    #[error("invalid header name")]
    InvalidHeaderName,
}

/// What the gateway needs to know about a translated request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestSummary {
    /// HEAD: the response has no body whatever its headers say (C59).
    pub is_head: bool,
    /// GET, HEAD, OPTIONS, TRACE, PUT, DELETE: may be retried on another backend
    /// connection if nothing came back (RFC 9110 §9.2.2).
    pub idempotent: bool,
    /// The client's declared body length, checked against the DATA total (C54).
    pub content_length: Option<u64>,
    /// The body is sent chunked to the backend (no content-length and a body follows).
    pub chunked: bool,
}

/// Connection facts added to the forwarded request.
#[derive(Clone, Copy, Debug)]
pub struct ForwardInfo<'a> {
    /// The client's address as text, for X-Forwarded-For.
    pub client_addr: &'a [u8],
    /// The SPDY version the client spoke (for Via).
    pub version: Version,
}

/// Hop-by-hop or SPDY-forbidden request headers, dropped (C53, SPDY3.md §9.3 rule 4).
const DROPPED_REQUEST: [&[u8]; 7] = [b"connection", b"host", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade", b"x-forwarded-proto"];

/// Response headers never sent to a SPDY client (C57).
const DROPPED_RESPONSE: [&[u8]; 5] = [b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade"];

/// The special request names of a version: (method, path, version, host, scheme).
struct Names {
    method: &'static [u8],
    path: &'static [u8],
    version: &'static [u8],
    host: &'static [u8],
    scheme: &'static [u8],
}

fn names(version: Version) -> Names {
    if version.colon_names() {
        Names { method: b":method", path: b":path", version: b":version", host: b":host", scheme: b":scheme" }
    } else {
        Names { method: b"method", path: b"url", version: b"version", host: b"host", scheme: b"scheme" }
    }
}

/// Writes the HTTP/1.1 request head for a SPDY request into `out`.
///
/// `has_body` is false when the SYN_STREAM carried FIN. The caller checks DATA against
/// `content_length` (C54) and frames the body (chunked when `summary.chunked`).
pub fn request_head(
    version: Version,
    headers: &HeaderBlock,
    has_body: bool,
    info: ForwardInfo<'_>,
    out: &mut Vec<u8>,
) -> Result<RequestSummary, BadRequest> {
    let n = names(version);
    let mut method = None;
    let mut path = None;
    let mut http_version = None;
    let mut host = None;
    let mut scheme = None;
    let mut content_length = None;
    let mut forwarded_for: Option<&[u8]> = None;
    for (name, value) in headers.iter() {
        let slot = if name == n.method {
            &mut method
        } else if name == n.path {
            &mut path
        } else if name == n.version {
            &mut http_version
        } else if name == n.host {
            &mut host
        } else if name == n.scheme {
            &mut scheme
        } else {
            if name.first() == Some(&b':') {
                return Err(BadRequest::UnknownSpecialHeader);
            }
            if !is_field_name(name) {
                return Err(BadRequest::InvalidHeaderName);
            }
            if name == b"content-length" {
                content_length = Some(parse_content_length(value)?);
            } else if name == b"x-forwarded-for" {
                forwarded_for = Some(value);
            }
            continue;
        };
        if value.contains(&0) {
            return Err(BadRequest::RepeatedSpecialHeader);
        }
        *slot = Some(value);
    }
    let method = method.ok_or(BadRequest::Missing("method"))?;
    let path = path.ok_or(BadRequest::Missing("path"))?;
    let http_version = http_version.ok_or(BadRequest::Missing("version"))?;
    let (host, path) = match (host, version.colon_names()) {
        (Some(h), _) => (h, strip_absolute(path).map(|(_, p)| p).unwrap_or(path)),
        // SPDY/2: `url` may be an absolute URI that carries the authority (SPDY2.md §8.1).
        (None, false) => strip_absolute(path).ok_or(BadRequest::Missing("host"))?,
        (None, true) => return Err(BadRequest::Missing("host")),
    };
    let scheme = match scheme {
        Some(s) => s,
        None if !version.colon_names() => b"http".as_slice(),
        None => return Err(BadRequest::Missing("scheme")),
    };
    if !method.iter().all(|&b| is_tchar(b)) || method.is_empty() {
        return Err(BadRequest::InvalidMethod);
    }
    let path_ok = (path.first() == Some(&b'/') || (path == b"*" && method == b"OPTIONS"))
        && path.iter().all(|&b| b > 0x20 && b != 0x7f);
    if !path_ok {
        return Err(BadRequest::InvalidPath);
    }
    if !is_valid_host(host) {
        return Err(BadRequest::InvalidHost);
    }
    if http_version != b"HTTP/1.1" && http_version != b"HTTP/1.0" {
        return Err(BadRequest::UnsupportedVersion);
    }
    if !has_body && content_length.is_some_and(|n| n > 0) {
        return Err(BadRequest::MissingBody);
    }

    write::request_line(out, method, path);
    write::header(out, b"host", host);
    for (name, value) in headers.iter() {
        if name.first() == Some(&b':') || name == n.method || name == n.path || name == n.version || name == n.scheme {
            continue;
        }
        if DROPPED_REQUEST.contains(&name) || name == b"content-length" || name == b"x-forwarded-for" {
            continue;
        }
        if name == b"te" {
            // Only "trailers" may pass (SPDY3.md §9.3 rule 4).
            if value.split(|&b| b == b',').any(|t| trim(t).eq_ignore_ascii_case(b"trailers")) {
                write::header(out, b"te", b"trailers");
            }
            continue;
        }
        if name == b"cookie" {
            // SPDY3.md §9.3 rule 3: cookie crumbs are joined with "; ".
            out.extend_from_slice(b"cookie: ");
            for (i, part) in value.split(|&b| b == 0).enumerate() {
                if i > 0 {
                    out.extend_from_slice(b"; ");
                }
                out.extend_from_slice(part);
            }
            out.extend_from_slice(b"\r\n");
            continue;
        }
        for part in value.split(|&b| b == 0) {
            write::header(out, name, part);
        }
    }
    // X-Forwarded-For: the client's chain plus the client itself.
    out.extend_from_slice(b"x-forwarded-for: ");
    if let Some(prior) = forwarded_for {
        for part in prior.split(|&b| b == 0) {
            out.extend_from_slice(part);
            out.extend_from_slice(b", ");
        }
    }
    out.extend_from_slice(info.client_addr);
    out.extend_from_slice(b"\r\n");
    write::header(out, b"x-forwarded-proto", scheme);
    out.extend_from_slice(b"via: ");
    out.extend_from_slice(info.version.alpn_id());
    out.extend_from_slice(b" spdygate\r\n");

    let is_head = method == b"HEAD";
    let chunked = has_body && content_length.is_none();
    match content_length {
        Some(len) => write::content_length(out, len),
        None if chunked => write::header(out, b"transfer-encoding", b"chunked"),
        None => {}
    }
    write::end_head(out);
    Ok(RequestSummary {
        is_head,
        idempotent: is_idempotent(method),
        content_length,
        chunked,
    })
}

/// Builds the SYN_REPLY header block for a backend response (C57, C58).
pub fn response_headers(version: Version, head: &ResponseHead, out: &mut HeaderBlock) {
    out.clear();
    let (status_name, version_name): (&[u8], &[u8]) =
        if version.colon_names() { (b":status", b":version") } else { (b"status", b"version") };
    let mut status = Vec::with_capacity(32);
    write::push_decimal(&mut status, u64::from(head.status));
    let reason = head.reason();
    let reason = if reason.is_empty() { write::reason_phrase(head.status) } else { reason };
    if !reason.is_empty() {
        status.push(b' ');
        status.extend_from_slice(reason);
    }
    out.push(status_name, &status);
    out.push(version_name, b"HTTP/1.1");

    // Collect kept fields lowercased, then merge repeated names with NUL (C58), keeping
    // the order of first appearance. Blocks are small (≤ 128 fields), so a linear merge
    // over the collected names costs less than hashing.
    let mut fields: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for (name, value) in head.headers() {
        let lower = name.to_ascii_lowercase();
        if DROPPED_RESPONSE.contains(&lower.as_slice()) || head.connection_lists(&lower) {
            continue;
        }
        if lower == status_name || lower == version_name || value.is_empty() && !version.allows_empty_values() {
            continue;
        }
        let value = trim(value);
        match fields.iter_mut().find(|(n, _)| *n == lower) {
            Some((_, existing)) => {
                if !value.is_empty() {
                    if !existing.is_empty() {
                        existing.push(0);
                    }
                    existing.extend_from_slice(value);
                }
            }
            None => fields.push((lower, value.to_vec())),
        }
    }
    for (name, value) in &fields {
        out.push(name, value);
    }
}

/// A reply the gateway makes up itself (400 for a bad request, 502/503/504 for backend
/// trouble). Returns the header block; the body is `body`.
pub fn error_reply(version: Version, status: u16, body_len: usize, out: &mut HeaderBlock) {
    out.clear();
    let mut line = Vec::with_capacity(32);
    write::push_decimal(&mut line, u64::from(status));
    let reason = write::reason_phrase(status);
    if !reason.is_empty() {
        line.push(b' ');
        line.extend_from_slice(reason);
    }
    let (status_name, version_name): (&[u8], &[u8]) =
        if version.colon_names() { (b":status", b":version") } else { (b"status", b"version") };
    out.push(status_name, &line);
    out.push(version_name, b"HTTP/1.1");
    out.push(b"content-type", b"text/plain; charset=utf-8");
    let mut len = Vec::new();
    write::push_decimal(&mut len, body_len as u64);
    out.push(b"content-length", &len);
    out.push(b"server", b"spdygate");
}

/// The text body of a gateway-made error reply.
pub fn error_body(status: u16, detail: &str) -> Vec<u8> {
    let reason = String::from_utf8_lossy(write::reason_phrase(status)).into_owned();
    format!("{status} {reason}\n{detail}\n").into_bytes()
}

fn parse_content_length(value: &[u8]) -> Result<u64, BadRequest> {
    if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
        return Err(BadRequest::InvalidContentLength);
    }
    Ok(value.iter().fold(0u64, |acc, &b| acc * 10 + u64::from(b - b'0')))
}

/// `http://host/path` → (host, /path). None if `url` is not absolute.
fn strip_absolute(url: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = url.strip_prefix(b"http://").or_else(|| url.strip_prefix(b"https://"))?;
    let slash = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
    let (host, path) = rest.split_at(slash);
    Some((host, if path.is_empty() { b"/".as_slice() } else { path }))
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Writes the fields of a HEADERS frame received on an open request stream as the
/// trailer section of its chunked backend body (CONFORMANCE C56). Only fields that may be
/// trailers pass: special `:` names, names that are not HTTP tokens, and the framing,
/// routing and hop-by-hop fields (RFC 9110 §6.5.1: `content-length`, `host`,
/// `transfer-encoding`, …) are dropped, as is anything the gateway itself sets.
pub fn trailer_fields(headers: &HeaderBlock, out: &mut Vec<u8>) {
    for (name, value) in headers.iter() {
        let framing = DROPPED_REQUEST.contains(&name)
            || matches!(name, b"content-length" | b"te" | b"trailer" | b"x-forwarded-for" | b"via");
        if framing || !is_field_name(name) {
            continue;
        }
        for part in value.split(|&b| b == 0) {
            write::header(out, name, part);
        }
    }
}

/// Whether a request with this method may be sent again after a failure that left its
/// outcome unknown (RFC 9110 §9.2.2); both fronts retry by this rule.
pub fn is_idempotent(method: &[u8]) -> bool {
    matches!(method, b"GET" | b"HEAD" | b"OPTIONS" | b"TRACE" | b"PUT" | b"DELETE")
}

/// Whether `host` can be forwarded as a Host field (B12): not empty, and no whitespace,
/// control byte, `/` or `@` (which would move the authority or the path).
pub fn is_valid_host(host: &[u8]) -> bool {
    !host.is_empty() && !host.iter().any(|&b| b <= 0x20 || b == 0x7f || b == b'/' || b == b'@')
}

/// Whether `name` is an HTTP field name: a non-empty token (RFC 9110 §5.1).
pub fn is_field_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&b| is_tchar(b))
}

/// RFC 9110 token characters.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> ForwardInfo<'static> {
        ForwardInfo { client_addr: b"127.0.0.9", version: Version::Spdy31 }
    }

    fn v3_request(extra: &[(&str, &str)]) -> HeaderBlock {
        let mut h: HeaderBlock =
            [(":method", "GET"), (":path", "/a?b"), (":version", "HTTP/1.1"), (":host", "example.com"), (":scheme", "https")]
                .into_iter()
                .collect();
        for (n, v) in extra {
            h.push(n, v);
        }
        h
    }

    fn translate(h: &HeaderBlock, has_body: bool) -> Result<(String, RequestSummary), BadRequest> {
        let mut out = Vec::new();
        let s = request_head(Version::Spdy31, h, has_body, info(), &mut out)?;
        Ok((String::from_utf8(out).unwrap(), s))
    }

    #[test]
    fn request_line_host_and_forwarding_headers() {
        let (head, s) = translate(&v3_request(&[("accept", "*/*")]), false).unwrap();
        assert_eq!(
            head,
            "GET /a?b HTTP/1.1\r\nhost: example.com\r\naccept: */*\r\nx-forwarded-for: 127.0.0.9\r\nx-forwarded-proto: https\r\nvia: spdy/3.1 spdygate\r\n\r\n"
        );
        assert!(s.idempotent && !s.is_head && !s.chunked);
    }

    #[test]
    fn missing_special_headers_are_bad_requests_c49() {
        for drop in [":method", ":path", ":version", ":host", ":scheme"] {
            let h: HeaderBlock = v3_request(&[]).iter().filter(|(n, _)| *n != drop.as_bytes()).collect();
            assert!(matches!(translate(&h, false), Err(BadRequest::Missing(_))), "{drop}");
        }
    }

    #[test]
    fn unknown_and_repeated_special_headers_c50_c51() {
        assert_eq!(translate(&v3_request(&[(":foo", "x")]), false), Err(BadRequest::UnknownSpecialHeader));
        let h: HeaderBlock = v3_request(&[]).iter().map(|(n, v)| if n == b":path" { (n, &b"/a\0/b"[..]) } else { (n, v) }).collect();
        assert_eq!(translate(&h, false), Err(BadRequest::RepeatedSpecialHeader));
    }

    #[test]
    fn a_declared_body_on_a_request_that_ended_is_a_bad_request_c54() {
        // found by the spdyfront fuzz target: forwarded with "content-length: 5" and no body,
        // the backend connection went back to the pool owing 5 bytes
        assert_eq!(translate(&v3_request(&[("content-length", "5")]), false), Err(BadRequest::MissingBody));
        assert!(translate(&v3_request(&[("content-length", "0")]), false).is_ok());
        assert!(translate(&v3_request(&[("content-length", "5")]), true).is_ok());
    }

    #[test]
    fn header_names_that_are_not_tokens_are_bad_requests() {
        // each would reach the backend as another header than the one checked here:
        // "x-forwarded-for:1.2.3.4: " parses as X-Forwarded-For "1.2.3.4:"
        for name in ["x-forwarded-for:1.2.3.4", "transfer-encoding:chunked", "host:evil.example", "a(b", "a\"b", "a,b", "a;b", "a/b", "a=b", "a@b", "a[b", "a{b", "a?b", "a<b", "a\\b"] {
            assert_eq!(translate(&v3_request(&[(name, "x")]), false), Err(BadRequest::InvalidHeaderName), "{name}");
        }
        for name in ["x-a", "a_b", "a.b", "a!#$%&'*+^`|~9"] {
            assert!(translate(&v3_request(&[(name, "x")]), false).is_ok(), "{name}");
        }
    }

    #[test]
    fn trailers_drop_framing_routing_and_non_token_fields_c56() {
        let h: HeaderBlock = [
            ("x-checksum", "abc"),
            ("content-length", "5"),
            ("transfer-encoding", "chunked"),
            ("host", "evil.example"),
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for:1.2.3.4", "x"),
            (":path", "/b"),
            ("x-multi", "a\0b"),
        ]
        .into_iter()
        .collect();
        let mut out = Vec::new();
        trailer_fields(&h, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "x-checksum: abc\r\nx-multi: a\r\nx-multi: b\r\n");
    }

    #[test]
    fn bad_method_path_and_host_c52_b12() {
        let with = |name: &str, value: &str| -> HeaderBlock {
            v3_request(&[]).iter().map(|(n, v)| if n == name.as_bytes() { (n, value.as_bytes()) } else { (n, v) }).collect()
        };
        assert_eq!(translate(&with(":method", "G ET"), false), Err(BadRequest::InvalidMethod));
        assert_eq!(translate(&with(":path", "a/b"), false), Err(BadRequest::InvalidPath));
        assert_eq!(translate(&with(":path", "/a b"), false), Err(BadRequest::InvalidPath));
        assert_eq!(translate(&with(":path", "/a\tb"), false), Err(BadRequest::InvalidPath));
        assert_eq!(translate(&with(":path", "*"), false), Err(BadRequest::InvalidPath));
        assert_eq!(translate(&with(":host", "a@b"), false), Err(BadRequest::InvalidHost));
        assert_eq!(translate(&with(":host", "a/b"), false), Err(BadRequest::InvalidHost));
        let options = with(":method", "OPTIONS");
        let options: HeaderBlock = options.iter().map(|(n, v)| if n == b":path" { (n, &b"*"[..]) } else { (n, v) }).collect();
        assert!(translate(&options, false).is_ok());
    }

    #[test]
    fn hop_by_hop_headers_are_dropped_c53() {
        let h = v3_request(&[
            ("connection", "close"),
            ("host", "evil.example"),
            ("keep-alive", "5"),
            ("proxy-connection", "x"),
            ("transfer-encoding", "chunked"),
            ("te", "trailers, deflate"),
        ]);
        let (head, _) = translate(&h, false).unwrap();
        assert!(!head.contains("evil"));
        assert!(!head.contains("keep-alive") && !head.contains("proxy-connection") && !head.contains("transfer-encoding"));
        assert!(head.contains("te: trailers\r\n"));
        assert_eq!(head.matches("host:").count(), 1);
    }

    #[test]
    fn body_framing_uses_content_length_or_chunked_c55() {
        let (head, s) = translate(&v3_request(&[("content-length", "10")]), true).unwrap();
        assert!(head.contains("content-length: 10\r\n") && !head.contains("chunked"));
        assert_eq!(s.content_length, Some(10));
        let (head, s) = translate(&v3_request(&[]), true).unwrap();
        assert!(head.contains("transfer-encoding: chunked\r\n") && s.chunked);
        assert_eq!(translate(&v3_request(&[("content-length", "1x")]), true), Err(BadRequest::InvalidContentLength));
    }

    #[test]
    fn multi_values_split_and_cookies_join() {
        let (head, _) = translate(&v3_request(&[("accept", "a\0b"), ("cookie", "x=1\0y=2")]), false).unwrap();
        assert!(head.contains("accept: a\r\naccept: b\r\n"));
        assert!(head.contains("cookie: x=1; y=2\r\n"));
    }

    #[test]
    fn spdy2_request_names_and_absolute_url_e4() {
        let h: HeaderBlock = [("method", "GET"), ("url", "http://example.com/x"), ("version", "HTTP/1.1")].into_iter().collect();
        let mut out = Vec::new();
        request_head(Version::Spdy2, &h, false, ForwardInfo { client_addr: b"1.2.3.4", version: Version::Spdy2 }, &mut out).unwrap();
        let head = String::from_utf8(out).unwrap();
        assert!(head.starts_with("GET /x HTTP/1.1\r\nhost: example.com\r\n"), "{head}");
        let h: HeaderBlock = [("method", "GET"), ("url", "/x"), ("version", "HTTP/1.1")].into_iter().collect();
        assert_eq!(
            request_head(Version::Spdy2, &h, false, info(), &mut Vec::new()),
            Err(BadRequest::Missing("host"))
        );
    }

    #[test]
    fn response_headers_lowercase_merge_and_strip_c57_c58() {
        let raw = b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nSet-Cookie: b=2\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n";
        let (head, _) = ResponseHead::parse(raw).unwrap().unwrap();
        let mut block = HeaderBlock::new();
        response_headers(Version::Spdy3, &head, &mut block);
        let pairs: Vec<(String, String)> = block
            .iter()
            .map(|(n, v)| (String::from_utf8_lossy(n).into_owned(), String::from_utf8_lossy(v).into_owned()))
            .collect();
        assert_eq!(
            pairs,
            [
                (":status".into(), "200 OK".into()),
                (":version".into(), "HTTP/1.1".into()),
                ("set-cookie".into(), "a=1\0b=2".into()),
                ("content-type".into(), "text/plain".into()),
            ]
        );
    }

    #[test]
    fn spdy2_response_uses_bare_names() {
        let (head, _) = ResponseHead::parse(b"HTTP/1.1 404 Nope\r\n\r\n").unwrap().unwrap();
        let mut block = HeaderBlock::new();
        response_headers(Version::Spdy2, &head, &mut block);
        assert_eq!(block.get(b"status"), Some(&b"404 Nope"[..]));
        assert_eq!(block.get(b"version"), Some(&b"HTTP/1.1"[..]));
    }

    #[test]
    fn error_reply_carries_status_and_length() {
        let mut block = HeaderBlock::new();
        let body = error_body(400, "missing :host");
        error_reply(Version::Spdy31, 400, body.len(), &mut block);
        assert_eq!(block.get(b":status"), Some(&b"400 Bad Request"[..]));
        assert_eq!(block.get(b"content-length"), Some(body.len().to_string().as_bytes()));
    }
}
