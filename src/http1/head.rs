//! Request and response heads: parsing with httparse into one owned copy of the head
//! bytes plus spans, and the RFC 9112 §6 rules that decide how the body is framed.
//! Ambiguous framing (both Transfer-Encoding and Content-Length, differing lengths) is
//! refused: it is how request smuggling starts.

use core::ops::Range;

/// Largest head (request line or status line plus headers) accepted.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Most header fields in one head.
pub const MAX_HEADERS: usize = 128;

/// Why a head could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeadError {
    #[error("malformed HTTP/1.x head: {0}")]
    Malformed(&'static str),
    #[error("head larger than {MAX_HEAD_BYTES} bytes")]
    TooLarge,
    #[error("more than {MAX_HEADERS} header fields")]
    TooManyHeaders,
    #[error("unsupported HTTP version")]
    UnsupportedVersion,
}

/// Why the body framing of a message is unusable (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FramingError {
    #[error("both Transfer-Encoding and Content-Length")]
    TransferEncodingWithContentLength,
    #[error("invalid or conflicting Content-Length")]
    InvalidContentLength,
    #[error("request Transfer-Encoding other than a final chunked")]
    UnsupportedTransferEncoding,
}

/// How a message body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body at all.
    None,
    /// Exactly this many bytes.
    Length(u64),
    /// Transfer-Encoding: chunked.
    Chunked,
    /// Until the connection closes (responses only).
    UntilClose,
}

/// Spans into the owned head bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Fields {
    raw: Vec<u8>,
    /// (name, value) byte ranges into `raw`.
    headers: Vec<(Range<u32>, Range<u32>)>,
}

impl Fields {
    fn collect(raw: &[u8], parsed: &[httparse::Header<'_>]) -> Self {
        let base = raw.as_ptr() as usize;
        let headers = parsed.iter().map(|h| (span(base, h.name.as_bytes()), span(base, h.value))).collect();
        Fields { raw: raw.to_vec(), headers }
    }

    fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.headers.iter().map(move |(n, v)| {
            (&self.raw[n.start as usize..n.end as usize], &self.raw[v.start as usize..v.end as usize])
        })
    }

    fn slice(&self, r: &Range<u32>) -> &[u8] {
        &self.raw[r.start as usize..r.end as usize]
    }

    /// All values of a field, case-insensitively by name.
    fn values<'s: 'n, 'n>(&'s self, name: &'n [u8]) -> impl Iterator<Item = &'s [u8]> + 'n {
        self.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    /// Whether a comma-separated field (Connection, Transfer-Encoding) lists `token`.
    fn has_token(&self, name: &[u8], token: &[u8]) -> bool {
        self.values(name).flat_map(|v| v.split(|&b| b == b',')).any(|t| trim(t).eq_ignore_ascii_case(token))
    }

    fn content_length(&self) -> Result<Option<u64>, FramingError> {
        let mut found: Option<u64> = None;
        for value in self.values(b"content-length") {
            // RFC 9110 §8.6: a list of identical values may be accepted as one.
            for part in value.split(|&b| b == b',') {
                let n = parse_decimal(trim(part)).ok_or(FramingError::InvalidContentLength)?;
                match found {
                    Some(prev) if prev != n => return Err(FramingError::InvalidContentLength),
                    _ => found = Some(n),
                }
            }
        }
        Ok(found)
    }

    /// Transfer-Encoding present? Some(true) if its final coding is chunked.
    fn transfer_encoding_chunked(&self) -> Option<bool> {
        let mut last: Option<&[u8]> = None;
        for value in self.values(b"transfer-encoding") {
            for part in value.split(|&b| b == b',') {
                let t = trim(part);
                if !t.is_empty() {
                    last = Some(t);
                }
            }
        }
        last.map(|t| t.eq_ignore_ascii_case(b"chunked"))
    }
}

fn span(base: usize, part: &[u8]) -> Range<u32> {
    let start = part.as_ptr() as usize - base;
    start as u32..(start + part.len()) as u32
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

fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &b| if b.is_ascii_digit() { Some(acc * 10 + u64::from(b - b'0')) } else { None })
}

/// The head's length once httparse found all of it, with the size bound applied to
/// complete and incomplete heads alike. `Ok(None)`: incomplete, read more.
fn head_len(status: httparse::Status<usize>, buffered: usize) -> Result<Option<usize>, HeadError> {
    match status {
        httparse::Status::Partial if buffered > MAX_HEAD_BYTES => Err(HeadError::TooLarge),
        httparse::Status::Partial => Ok(None),
        httparse::Status::Complete(len) if len > MAX_HEAD_BYTES => Err(HeadError::TooLarge),
        httparse::Status::Complete(len) => Ok(Some(len)),
    }
}

fn map_err(e: httparse::Error) -> HeadError {
    match e {
        httparse::Error::TooManyHeaders => HeadError::TooManyHeaders,
        httparse::Error::Version => HeadError::UnsupportedVersion,
        httparse::Error::HeaderName => HeadError::Malformed("invalid header name"),
        httparse::Error::HeaderValue => HeadError::Malformed("invalid header value"),
        httparse::Error::NewLine => HeadError::Malformed("invalid line ending"),
        httparse::Error::Status => HeadError::Malformed("invalid status"),
        httparse::Error::Token => HeadError::Malformed("invalid token"),
    }
}

/// A parsed request head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestHead {
    fields: Fields,
    method: Range<u32>,
    target: Range<u32>,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version_minor: u8,
}

impl RequestHead {
    /// Parses a request head from the front of `buf`. `Ok(None)`: incomplete, read more.
    /// On success returns the head and the number of bytes it took.
    pub fn parse(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, HeadError> {
        let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut storage);
        let Some(len) = head_len(req.parse(buf).map_err(map_err)?, buf.len())? else {
            return Ok(None);
        };
        let raw = &buf[..len];
        let base = raw.as_ptr() as usize;
        let method = span(base, req.method.unwrap_or_default().as_bytes());
        let target = span(base, req.path.unwrap_or_default().as_bytes());
        let version_minor = req.version.unwrap_or(1);
        let fields = Fields::collect(raw, req.headers);
        Ok(Some((RequestHead { fields, method, target, version_minor }, len)))
    }

    pub fn method(&self) -> &[u8] {
        self.fields.slice(&self.method)
    }

    /// The request target as sent (origin form `/path?q` in practice).
    pub fn target(&self) -> &[u8] {
        self.fields.slice(&self.target)
    }

    /// Header fields in order, names as sent.
    pub fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.fields.iter()
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &[u8]) -> Option<&[u8]> {
        self.fields.values(name).next()
    }

    /// Whether the connection may carry another request after this one.
    pub fn keep_alive(&self) -> bool {
        if self.fields.has_token(b"connection", b"close") {
            return false;
        }
        self.version_minor >= 1 || self.fields.has_token(b"connection", b"keep-alive")
    }

    /// Whether the client asked for `100 Continue` before sending its body.
    pub fn expects_continue(&self) -> bool {
        self.fields.values(b"expect").any(|v| trim(v).eq_ignore_ascii_case(b"100-continue"))
    }

    /// Body framing of a request (RFC 9112 §6.3 rules 3–6): no Content-Length and no
    /// Transfer-Encoding means no body.
    pub fn framing(&self) -> Result<BodyFraming, FramingError> {
        let cl = self.fields.content_length()?;
        match self.fields.transfer_encoding_chunked() {
            Some(_) if cl.is_some() => Err(FramingError::TransferEncodingWithContentLength),
            Some(true) => Ok(BodyFraming::Chunked),
            Some(false) => Err(FramingError::UnsupportedTransferEncoding),
            None => Ok(match cl {
                Some(0) | None => BodyFraming::None,
                Some(n) => BodyFraming::Length(n),
            }),
        }
    }
}

/// A parsed response head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    fields: Fields,
    reason: Range<u32>,
    pub status: u16,
    pub version_minor: u8,
}

impl ResponseHead {
    /// Parses a response head from the front of `buf`. `Ok(None)`: incomplete.
    pub fn parse(buf: &[u8]) -> Result<Option<(ResponseHead, usize)>, HeadError> {
        let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut res = httparse::Response::new(&mut storage);
        let Some(len) = head_len(res.parse(buf).map_err(map_err)?, buf.len())? else {
            return Ok(None);
        };
        let raw = &buf[..len];
        let base = raw.as_ptr() as usize;
        let reason = match res.reason {
            Some(r) if !r.is_empty() => span(base, r.as_bytes()),
            _ => 0..0,
        };
        let status = res.code.ok_or(HeadError::Malformed("missing status"))?;
        let version_minor = res.version.unwrap_or(1);
        let fields = Fields::collect(raw, res.headers);
        Ok(Some((ResponseHead { fields, reason, status, version_minor }, len)))
    }

    pub fn reason(&self) -> &[u8] {
        self.fields.slice(&self.reason)
    }

    pub fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.fields.iter()
    }

    pub fn header(&self, name: &[u8]) -> Option<&[u8]> {
        self.fields.values(name).next()
    }

    /// Whether the named field is listed in Connection (hop-by-hop by nomination).
    pub fn connection_lists(&self, name: &[u8]) -> bool {
        self.fields.has_token(b"connection", name)
    }

    /// Whether the backend connection can be reused after this response (its body must
    /// still be read to the end; close-delimited bodies never allow reuse).
    pub fn keep_alive(&self) -> bool {
        if self.fields.has_token(b"connection", b"close") {
            return false;
        }
        self.version_minor >= 1 || self.fields.has_token(b"connection", b"keep-alive")
    }

    /// Whether this is an interim (1xx) response that a final one follows.
    pub fn is_interim(&self) -> bool {
        (100..200).contains(&self.status) && self.status != 101
    }

    /// Body framing of a response to a request with `request_was_head` (RFC 9112 §6.3
    /// rules 1–7).
    pub fn framing(&self, request_was_head: bool) -> Result<BodyFraming, FramingError> {
        if request_was_head || (100..200).contains(&self.status) || self.status == 204 || self.status == 304 {
            return Ok(BodyFraming::None);
        }
        let cl = self.fields.content_length();
        match self.fields.transfer_encoding_chunked() {
            // Rule 3: Transfer-Encoding overrides Content-Length; the message is suspect,
            // and the connection must not be reused (callers see keep_alive false below).
            Some(true) => Ok(BodyFraming::Chunked),
            Some(false) => Ok(BodyFraming::UntilClose),
            None => match cl? {
                Some(n) => Ok(BodyFraming::Length(n)),
                None => Ok(BodyFraming::UntilClose),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_head_parses_with_spans() {
        let buf = b"GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\nBODY";
        let (head, len) = RequestHead::parse(buf).unwrap().unwrap();
        assert_eq!(len, buf.len() - 4);
        assert_eq!(head.method(), b"GET");
        assert_eq!(head.target(), b"/a?b=1");
        assert_eq!(head.header(b"host"), Some(&b"x"[..]));
        assert_eq!(head.headers().count(), 2);
        assert!(head.keep_alive());
        assert_eq!(head.framing(), Ok(BodyFraming::None));
    }

    #[test]
    fn partial_head_asks_for_more() {
        assert_eq!(RequestHead::parse(b"GET / HTTP/1.1\r\nHost: x\r\n"), Ok(None));
        assert_eq!(ResponseHead::parse(b"HTTP/1.1 200 OK\r\n"), Ok(None));
    }

    #[test]
    fn oversized_partial_head_is_refused() {
        let mut buf = b"GET / HTTP/1.1\r\nX: ".to_vec();
        buf.resize(MAX_HEAD_BYTES + 10, b'a');
        assert_eq!(RequestHead::parse(&buf), Err(HeadError::TooLarge));
    }

    #[test]
    fn request_with_te_and_cl_is_refused() {
        let buf = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n";
        let (head, _) = RequestHead::parse(buf).unwrap().unwrap();
        assert_eq!(head.framing(), Err(FramingError::TransferEncodingWithContentLength));
    }

    #[test]
    fn conflicting_content_lengths_are_refused_and_repeats_accepted() {
        let (head, _) =
            RequestHead::parse(b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n").unwrap().unwrap();
        assert_eq!(head.framing(), Err(FramingError::InvalidContentLength));
        let (head, _) = RequestHead::parse(b"POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n").unwrap().unwrap();
        assert_eq!(head.framing(), Ok(BodyFraming::Length(5)));
        let (head, _) = RequestHead::parse(b"POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n").unwrap().unwrap();
        assert_eq!(head.framing(), Err(FramingError::InvalidContentLength));
    }

    #[test]
    fn request_te_must_end_in_chunked() {
        let (head, _) =
            RequestHead::parse(b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").unwrap().unwrap();
        assert_eq!(head.framing(), Ok(BodyFraming::Chunked));
        let (head, _) =
            RequestHead::parse(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n").unwrap().unwrap();
        assert_eq!(head.framing(), Err(FramingError::UnsupportedTransferEncoding));
    }

    #[test]
    fn response_framing_follows_rfc9112() {
        let (r, _) = ResponseHead::parse(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n").unwrap().unwrap();
        assert_eq!(r.framing(false), Ok(BodyFraming::Length(10)));
        assert_eq!(r.framing(true), Ok(BodyFraming::None));
        assert_eq!(r.reason(), b"OK");
        let (r, _) = ResponseHead::parse(b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n").unwrap().unwrap();
        assert_eq!(r.framing(false), Ok(BodyFraming::None));
        let (r, _) = ResponseHead::parse(b"HTTP/1.1 304 Not Modified\r\n\r\n").unwrap().unwrap();
        assert_eq!(r.framing(false), Ok(BodyFraming::None));
        let (r, _) = ResponseHead::parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap().unwrap();
        assert_eq!(r.framing(false), Ok(BodyFraming::Chunked));
        let (r, _) = ResponseHead::parse(b"HTTP/1.0 200 OK\r\n\r\n").unwrap().unwrap();
        assert_eq!(r.framing(false), Ok(BodyFraming::UntilClose));
        assert!(!r.keep_alive());
        let (r, _) = ResponseHead::parse(b"HTTP/1.1 100 Continue\r\n\r\n").unwrap().unwrap();
        assert!(r.is_interim());
        assert_eq!(r.framing(false), Ok(BodyFraming::None));
    }

    #[test]
    fn connection_close_and_nominated_fields() {
        let (r, _) =
            ResponseHead::parse(b"HTTP/1.1 200 OK\r\nConnection: close, X-Secret\r\nContent-Length: 0\r\n\r\n")
                .unwrap()
                .unwrap();
        assert!(!r.keep_alive());
        assert!(r.connection_lists(b"x-secret"));
        let (q, _) = RequestHead::parse(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").unwrap().unwrap();
        assert!(q.keep_alive());
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        assert!(RequestHead::parse(b"\x00\x01\x02 / HTTP/1.1\r\n\r\n").is_err());
        assert!(ResponseHead::parse(b"HTTP/1.1 abc OK\r\n\r\n").is_err());
        assert!(RequestHead::parse(b"GET / HTTP/2.0\r\n\r\n").is_err());
    }
}
