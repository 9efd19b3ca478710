//! Body decoding: Content-Length, chunked and close-delimited bodies, handed out as
//! slices of the caller's input (no copy, no buffering: the chunked framing is parsed
//! byte by byte with a few bytes of state). Trailers are parsed and dropped, within a
//! bound.

use crate::http1::head::BodyFraming;

/// Longest chunk-size line (hex digits, extensions) and trailer section accepted.
pub const MAX_CHUNK_LINE: usize = 4096;
pub const MAX_TRAILER_BYTES: usize = 16 * 1024;

/// A piece of decoded body.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyItem<'a> {
    /// Body bytes, borrowed from the input.
    Data(&'a [u8]),
    /// The body is complete; bytes after it belong to the next message.
    End,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    #[error("invalid chunk size line")]
    InvalidChunkSize,
    #[error("chunk size line too long")]
    ChunkLineTooLong,
    #[error("missing CRLF after chunk data")]
    MissingChunkCrlf,
    #[error("trailer section too large or malformed")]
    InvalidTrailers,
    #[error("connection closed before the body ended")]
    Truncated,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Length { remaining: u64 },
    UntilClose,
    /// Reading hex digits of a chunk size.
    ChunkSize { size: u64, digits: u8, line: usize },
    /// After the size: extensions up to CR LF.
    ChunkExt { size: u64, line: usize },
    ChunkSizeLf { size: u64 },
    ChunkData { remaining: u64 },
    ChunkDataCr,
    ChunkDataLf,
    /// Trailer section: `at_line_start` tracks an empty line (the end).
    Trailers { at_line_start: bool, seen_cr: bool, bytes: usize },
    Done,
}

/// Decodes one message body from successive input slices.
#[derive(Clone, Debug)]
pub struct BodyDecoder {
    state: State,
    /// Set for chunked bodies (the state alone forgets it once done).
    chunked: bool,
    /// Body bytes handed out so far.
    decoded: u64,
}

impl BodyDecoder {
    pub fn new(framing: BodyFraming) -> Self {
        let state = match framing {
            BodyFraming::None | BodyFraming::Length(0) => State::Done,
            BodyFraming::Length(n) => State::Length { remaining: n },
            BodyFraming::Chunked => State::ChunkSize { size: 0, digits: 0, line: 0 },
            BodyFraming::UntilClose => State::UntilClose,
        };
        BodyDecoder { state, chunked: framing == BodyFraming::Chunked, decoded: 0 }
    }

    /// Whether the body is complete.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Whether this decoder reads a chunked body.
    pub fn is_chunked(&self) -> bool {
        self.chunked
    }

    /// Body bytes decoded so far.
    pub fn decoded(&self) -> u64 {
        self.decoded
    }

    /// Consumes framing and body bytes from the front of `input`. `Ok(None)`: all input
    /// consumed, more is needed. After `End`, nothing more is consumed.
    pub fn decode<'a>(&mut self, input: &mut &'a [u8]) -> Result<Option<BodyItem<'a>>, BodyError> {
        loop {
            match self.state {
                State::Done => return Ok(Some(BodyItem::End)),
                State::Length { remaining } => {
                    if input.is_empty() {
                        return Ok(None);
                    }
                    let n = (remaining.min(input.len() as u64)) as usize;
                    let (data, rest) = input.split_at(n);
                    *input = rest;
                    self.decoded += n as u64;
                    self.state = if remaining == n as u64 { State::Done } else { State::Length { remaining: remaining - n as u64 } };
                    return Ok(Some(BodyItem::Data(data)));
                }
                State::UntilClose => {
                    if input.is_empty() {
                        return Ok(None);
                    }
                    let data = core::mem::take(input);
                    self.decoded += data.len() as u64;
                    return Ok(Some(BodyItem::Data(data)));
                }
                State::ChunkData { remaining } => {
                    if input.is_empty() {
                        return Ok(None);
                    }
                    let n = (remaining.min(input.len() as u64)) as usize;
                    let (data, rest) = input.split_at(n);
                    *input = rest;
                    self.decoded += n as u64;
                    self.state = if remaining == n as u64 { State::ChunkDataCr } else { State::ChunkData { remaining: remaining - n as u64 } };
                    return Ok(Some(BodyItem::Data(data)));
                }
                _ => {
                    let Some((&byte, rest)) = input.split_first() else {
                        return Ok(None);
                    };
                    *input = rest;
                    self.step(byte)?;
                }
            }
        }
    }

    /// The connection ended. Fine for a close-delimited body; otherwise the body is cut.
    pub fn eof(&mut self) -> Result<(), BodyError> {
        match self.state {
            State::UntilClose | State::Done => {
                self.state = State::Done;
                Ok(())
            }
            _ => Err(BodyError::Truncated),
        }
    }

    /// One byte of chunked framing.
    fn step(&mut self, byte: u8) -> Result<(), BodyError> {
        self.state = match self.state {
            State::ChunkSize { size, digits, line } => {
                if line >= MAX_CHUNK_LINE {
                    return Err(BodyError::ChunkLineTooLong);
                }
                match byte {
                    b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                        // 15 hex digits = 60 bits: no u64 overflow.
                        if digits >= 15 {
                            return Err(BodyError::InvalidChunkSize);
                        }
                        let v = (byte as char).to_digit(16).unwrap_or(0) as u64;
                        State::ChunkSize { size: size * 16 + v, digits: digits + 1, line: line + 1 }
                    }
                    _ if digits == 0 => return Err(BodyError::InvalidChunkSize),
                    b';' | b' ' | b'\t' => State::ChunkExt { size, line: line + 1 },
                    b'\r' => State::ChunkSizeLf { size },
                    _ => return Err(BodyError::InvalidChunkSize),
                }
            }
            State::ChunkExt { size, line } => {
                if line >= MAX_CHUNK_LINE {
                    return Err(BodyError::ChunkLineTooLong);
                }
                match byte {
                    b'\r' => State::ChunkSizeLf { size },
                    b'\n' => return Err(BodyError::InvalidChunkSize),
                    _ => State::ChunkExt { size, line: line + 1 },
                }
            }
            State::ChunkSizeLf { size } => {
                if byte != b'\n' {
                    return Err(BodyError::InvalidChunkSize);
                }
                if size == 0 {
                    State::Trailers { at_line_start: true, seen_cr: false, bytes: 0 }
                } else {
                    State::ChunkData { remaining: size }
                }
            }
            State::ChunkDataCr => {
                if byte != b'\r' {
                    return Err(BodyError::MissingChunkCrlf);
                }
                State::ChunkDataLf
            }
            State::ChunkDataLf => {
                if byte != b'\n' {
                    return Err(BodyError::MissingChunkCrlf);
                }
                State::ChunkSize { size: 0, digits: 0, line: 0 }
            }
            State::Trailers { at_line_start, seen_cr, bytes } => {
                if bytes >= MAX_TRAILER_BYTES {
                    return Err(BodyError::InvalidTrailers);
                }
                match (byte, seen_cr) {
                    (b'\r', false) => State::Trailers { at_line_start, seen_cr: true, bytes: bytes + 1 },
                    (b'\n', true) if at_line_start => State::Done,
                    (b'\n', true) => State::Trailers { at_line_start: true, seen_cr: false, bytes: bytes + 1 },
                    (_, true) => return Err(BodyError::InvalidTrailers),
                    _ => State::Trailers { at_line_start: false, seen_cr: false, bytes: bytes + 1 },
                }
            }
            other => other,
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Decodes `wire` delivered in pieces of `step` bytes; returns body and leftover.
    fn decode_all(framing: BodyFraming, wire: &[u8], step: usize) -> Result<(Vec<u8>, Vec<u8>), BodyError> {
        let mut dec = BodyDecoder::new(framing);
        let mut body = Vec::new();
        let mut pos = 0;
        while pos < wire.len() || dec.is_done() {
            let end = (pos + step).min(wire.len());
            let mut input = &wire[pos..end];
            loop {
                match dec.decode(&mut input)? {
                    Some(BodyItem::Data(d)) => body.extend_from_slice(d),
                    Some(BodyItem::End) => {
                        let consumed = end - input.len();
                        return Ok((body, wire[consumed..].to_vec()));
                    }
                    None => break,
                }
            }
            pos = end;
            if pos >= wire.len() {
                break;
            }
        }
        dec.eof()?;
        Ok((body, Vec::new()))
    }

    #[test]
    fn content_length_body_stops_at_length() {
        let (body, rest) = decode_all(BodyFraming::Length(5), b"helloNEXT", 3).unwrap();
        assert_eq!(body, b"hello");
        assert_eq!(rest, b"NEXT");
    }

    #[test]
    fn chunked_body_with_extensions_and_trailers() {
        let wire = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\nNEXT";
        for step in 1..wire.len() {
            let (body, rest) = decode_all(BodyFraming::Chunked, wire, step).unwrap();
            assert_eq!(body, b"hello world", "step {step}");
            assert_eq!(rest, b"NEXT");
        }
    }

    #[test]
    fn chunked_errors_are_typed() {
        assert_eq!(decode_all(BodyFraming::Chunked, b"zz\r\n", 4), Err(BodyError::InvalidChunkSize));
        assert_eq!(decode_all(BodyFraming::Chunked, b"1\r\naXY", 8), Err(BodyError::MissingChunkCrlf));
        assert_eq!(decode_all(BodyFraming::Chunked, b"ffffffffffffffff\r\n", 64), Err(BodyError::InvalidChunkSize));
        let long = [b"1;".as_slice(), &[b'x'; MAX_CHUNK_LINE + 1]].concat();
        assert_eq!(decode_all(BodyFraming::Chunked, &long, 64), Err(BodyError::ChunkLineTooLong));
        assert_eq!(decode_all(BodyFraming::Chunked, b"5\r\nhel", 64), Err(BodyError::Truncated));
    }

    #[test]
    fn close_delimited_body_ends_at_eof() {
        let (body, _) = decode_all(BodyFraming::UntilClose, b"all of it", 2).unwrap();
        assert_eq!(body, b"all of it");
    }

    #[test]
    fn data_is_borrowed_from_input() {
        let wire = b"3\r\nabc\r\n0\r\n\r\n";
        let mut dec = BodyDecoder::new(BodyFraming::Chunked);
        let mut input = &wire[..];
        match dec.decode(&mut input).unwrap() {
            Some(BodyItem::Data(d)) => assert_eq!(d.as_ptr(), wire[3..].as_ptr()),
            other => panic!("{other:?}"),
        }
    }

    proptest! {
        #[test]
        fn chunked_round_trip_at_any_split(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..300), 0..8), step in 1usize..64) {
            let mut wire = Vec::new();
            for c in &chunks {
                crate::http1::write::chunk_head(c.len(), &mut wire);
                wire.extend_from_slice(c);
                wire.extend_from_slice(b"\r\n");
            }
            wire.extend_from_slice(crate::http1::write::LAST_CHUNK);
            let (body, rest) = decode_all(BodyFraming::Chunked, &wire, step).unwrap();
            prop_assert_eq!(body, chunks.concat());
            prop_assert!(rest.is_empty());
        }
    }
}
