//! Writing HTTP/1.1 heads and chunked framing into a caller's buffer. Callers are
//! trusted to pass validated names and values (the gateway validates SPDY headers before
//! translating; CONFORMANCE C42): this module never sees untrusted bytes unchecked, and
//! debug builds assert that no CR, LF or NUL slips through.

/// The last chunk and the end of an empty trailer section.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

fn debug_check(bytes: &[u8]) {
    debug_assert!(!bytes.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0), "CR/LF/NUL in HTTP/1 field");
}

/// `METHOD SP target SP HTTP/1.1 CRLF`
pub fn request_line(out: &mut Vec<u8>, method: &[u8], target: &[u8]) {
    debug_check(method);
    debug_check(target);
    out.extend_from_slice(method);
    out.push(b' ');
    out.extend_from_slice(target);
    out.extend_from_slice(b" HTTP/1.1\r\n");
}

/// `HTTP/1.1 SP status SP reason CRLF`
pub fn status_line(out: &mut Vec<u8>, status: u16, reason: &[u8]) {
    debug_check(reason);
    out.extend_from_slice(b"HTTP/1.1 ");
    push_decimal(out, u64::from(status));
    out.push(b' ');
    out.extend_from_slice(reason);
    out.extend_from_slice(b"\r\n");
}

/// `name: value CRLF`
pub fn header(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    debug_check(name);
    debug_check(value);
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// `Content-Length: n CRLF`
pub fn content_length(out: &mut Vec<u8>, len: u64) {
    out.extend_from_slice(b"content-length: ");
    push_decimal(out, len);
    out.extend_from_slice(b"\r\n");
}

/// The empty line ending a head.
pub fn end_head(out: &mut Vec<u8>) {
    out.extend_from_slice(b"\r\n");
}

/// The size line of a chunk of `len` bytes (`len` > 0; the data and its CRLF follow).
pub fn chunk_head(len: usize, out: &mut Vec<u8>) {
    debug_assert!(len > 0);
    let mut digits = [0u8; 16];
    let mut n = len;
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b"0123456789abcdef"[n & 0xf];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
    out.extend_from_slice(b"\r\n");
}

/// Appends the decimal form of `n`.
pub fn push_decimal(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// The standard reason phrase for a status code ("" when unknown).
pub fn reason_phrase(status: u16) -> &'static [u8] {
    match status {
        100 => b"Continue",
        200 => b"OK",
        201 => b"Created",
        204 => b"No Content",
        206 => b"Partial Content",
        301 => b"Moved Permanently",
        302 => b"Found",
        304 => b"Not Modified",
        400 => b"Bad Request",
        403 => b"Forbidden",
        404 => b"Not Found",
        405 => b"Method Not Allowed",
        408 => b"Request Timeout",
        413 => b"Content Too Large",
        431 => b"Request Header Fields Too Large",
        500 => b"Internal Server Error",
        501 => b"Not Implemented",
        502 => b"Bad Gateway",
        503 => b"Service Unavailable",
        504 => b"Gateway Timeout",
        _ => b"",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_request_head() {
        let mut out = Vec::new();
        request_line(&mut out, b"GET", b"/x");
        header(&mut out, b"host", b"example.com");
        content_length(&mut out, 1234);
        end_head(&mut out);
        assert_eq!(out, b"GET /x HTTP/1.1\r\nhost: example.com\r\ncontent-length: 1234\r\n\r\n");
    }

    #[test]
    fn chunk_heads_are_lowercase_hex() {
        let mut out = Vec::new();
        chunk_head(0x1a2b, &mut out);
        chunk_head(1, &mut out);
        assert_eq!(out, b"1a2b\r\n1\r\n");
    }

    #[test]
    fn status_line_and_decimal() {
        let mut out = Vec::new();
        status_line(&mut out, 404, reason_phrase(404));
        push_decimal(&mut out, 0);
        push_decimal(&mut out, u64::MAX);
        assert_eq!(out, b"HTTP/1.1 404 Not Found\r\n018446744073709551615");
    }
}
