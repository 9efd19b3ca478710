//! Reading one HTTP/1.1 response from a backend connection: the head (copied only when it
//! arrives in pieces), interim 1xx responses skipped (SPDY has none, SPDY3.md §9.3), then
//! the body decoded zero-copy into slices of the received buffers.

use bytes::Bytes;

use crate::http1::{BodyDecoder, BodyError, BodyItem, FramingError, HeadError, ResponseHead};

/// What the backend did wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    #[error("bad response head: {0}")]
    Head(#[from] HeadError),
    #[error("bad response framing: {0}")]
    Framing(#[from] FramingError),
    #[error("bad response body: {0}")]
    Body(#[from] BodyError),
    #[error("connection closed before a response")]
    ClosedBeforeResponse,
}

/// One step of a response.
#[derive(Debug)]
pub enum ResponseItem {
    /// The final head (1xx already skipped).
    Head(ResponseHead),
    /// Body bytes, sharing the receive buffer.
    Body(Bytes),
    /// The response is complete. `reusable`: the connection may serve another request.
    End { reusable: bool },
}

#[derive(Debug)]
enum State {
    Head,
    Body { decoder: BodyDecoder, keep_alive: bool },
    Done,
}

#[derive(Debug)]
pub struct ResponseReader {
    request_was_head: bool,
    head_buf: Vec<u8>,
    state: State,
    /// Any byte arrived (a retry is no longer safe).
    started: bool,
}

impl ResponseReader {
    pub fn new(request_was_head: bool) -> Self {
        ResponseReader { request_was_head, head_buf: Vec::new(), state: State::Head, started: false }
    }

    pub fn started(&self) -> bool {
        self.started
    }

    pub fn head_received(&self) -> bool {
        !matches!(self.state, State::Head)
    }

    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Feeds received bytes; items go to `emit`.
    pub fn feed(&mut self, data: Bytes, emit: &mut impl FnMut(ResponseItem)) -> Result<(), BackendError> {
        if data.is_empty() {
            return Ok(());
        }
        self.started = true;
        let mut offset = 0;
        while offset < data.len() {
            match &mut self.state {
                State::Done => {
                    // Bytes after a complete response that nobody asked for: the connection
                    // is not reusable; ignore them (the caller releases it as not reusable).
                    return Ok(());
                }
                State::Head => {
                    let rest = &data[offset..];
                    let parsed = if self.head_buf.is_empty() {
                        ResponseHead::parse(rest)?.map(|(h, n)| (h, n))
                    } else {
                        let before = self.head_buf.len();
                        self.head_buf.extend_from_slice(rest);
                        ResponseHead::parse(&self.head_buf)?.map(|(h, n)| (h, n - before))
                    };
                    let Some((head, used)) = parsed else {
                        if self.head_buf.is_empty() {
                            self.head_buf.extend_from_slice(rest);
                        }
                        return Ok(());
                    };
                    self.head_buf.clear();
                    offset += used;
                    if head.is_interim() {
                        continue;
                    }
                    let framing = head.framing(self.request_was_head)?;
                    let keep_alive = head.keep_alive() && framing != crate::http1::BodyFraming::UntilClose;
                    emit(ResponseItem::Head(head));
                    self.state = State::Body { decoder: BodyDecoder::new(framing), keep_alive };
                    if let State::Body { decoder, keep_alive } = &mut self.state {
                        if decoder.is_done() {
                            let reusable = *keep_alive && offset == data.len();
                            self.state = State::Done;
                            emit(ResponseItem::End { reusable });
                        }
                    }
                }
                State::Body { decoder, keep_alive } => {
                    let mut input = &data[offset..];
                    let before = input.len();
                    let item = decoder.decode(&mut input)?;
                    let consumed = before - input.len();
                    match item {
                        Some(BodyItem::Data(d)) => {
                            let start = d.as_ptr() as usize - data.as_ptr() as usize;
                            emit(ResponseItem::Body(data.slice(start..start + d.len())));
                            if decoder.is_done() {
                                let reusable = *keep_alive && offset + consumed == data.len();
                                self.state = State::Done;
                                emit(ResponseItem::End { reusable });
                            }
                        }
                        Some(BodyItem::End) => {
                            let reusable = *keep_alive && offset + consumed == data.len();
                            self.state = State::Done;
                            emit(ResponseItem::End { reusable });
                        }
                        None => {}
                    }
                    offset += consumed;
                    if consumed == 0 && item.is_none() {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// The backend closed the connection. A close-delimited body ends here; anything else
    /// is an error.
    pub fn eof(&mut self, emit: &mut impl FnMut(ResponseItem)) -> Result<(), BackendError> {
        match &mut self.state {
            State::Head => Err(BackendError::ClosedBeforeResponse),
            State::Body { decoder, .. } => {
                decoder.eof()?;
                self.state = State::Done;
                emit(ResponseItem::End { reusable: false });
                Ok(())
            }
            State::Done => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pieces: &[&[u8]], head_req: bool) -> (Vec<String>, Result<(), BackendError>) {
        let mut r = ResponseReader::new(head_req);
        let mut log = Vec::new();
        let mut emit = |i: ResponseItem| {
            log.push(match i {
                ResponseItem::Head(h) => format!("head {}", h.status),
                ResponseItem::Body(b) => format!("body {}", String::from_utf8_lossy(&b)),
                ResponseItem::End { reusable } => format!("end {reusable}"),
            })
        };
        for p in pieces {
            if let Err(e) = r.feed(Bytes::copy_from_slice(p), &mut emit) {
                return (log, Err(e));
            }
        }
        (log, Ok(()))
    }

    #[test]
    fn content_length_response_in_one_piece() {
        let (log, res) = run(&[b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"], false);
        res.unwrap();
        assert_eq!(log, ["head 200", "body hello", "end true"]);
    }

    #[test]
    fn head_split_across_reads_and_interim_skipped() {
        let (log, res) = run(&[b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 20", b"0 OK\r\nTransfer-Encoding: chunked\r\n", b"\r\n3\r\nabc\r\n0\r\n\r\n"], false);
        res.unwrap();
        assert_eq!(log, ["head 200", "body abc", "end true"]);
    }

    #[test]
    fn head_request_and_204_have_no_body() {
        let (log, _) = run(&[b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"], true);
        assert_eq!(log, ["head 200", "end true"]);
        let (log, _) = run(&[b"HTTP/1.1 204 No Content\r\n\r\n"], false);
        assert_eq!(log, ["head 204", "end true"]);
    }

    #[test]
    fn close_delimited_body_ends_at_eof_and_is_not_reusable() {
        let mut r = ResponseReader::new(false);
        let mut log = Vec::new();
        let mut emit = |i: ResponseItem| log.push(matches!(i, ResponseItem::End { reusable: false }));
        r.feed(Bytes::from_static(b"HTTP/1.1 200 OK\r\n\r\nabc"), &mut emit).unwrap();
        r.eof(&mut emit).unwrap();
        assert_eq!(log.last(), Some(&true));
    }

    #[test]
    fn truncated_body_and_garbage_are_errors() {
        let mut r = ResponseReader::new(false);
        r.feed(Bytes::from_static(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), &mut |_| {}).unwrap();
        assert_eq!(r.eof(&mut |_| {}), Err(BackendError::Body(BodyError::Truncated)));
        let (_, res) = run(&[b"SSH-2.0-OpenSSH\r\n\r\n"], false);
        assert!(matches!(res, Err(BackendError::Head(_))));
        let mut r = ResponseReader::new(false);
        assert_eq!(r.eof(&mut |_| {}), Err(BackendError::ClosedBeforeResponse));
    }

    #[test]
    fn body_slices_share_the_receive_buffer() {
        let data = Bytes::from_static(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nxyz");
        let mut r = ResponseReader::new(false);
        let mut ptr = None;
        r.feed(data.clone(), &mut |i| {
            if let ResponseItem::Body(b) = i {
                ptr = Some(b.as_ptr());
            }
        })
        .unwrap();
        assert_eq!(ptr, Some(data[data.len() - 3..].as_ptr()));
    }

    #[test]
    fn extra_bytes_after_response_make_it_not_reusable() {
        let (log, _) = run(&[b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naJUNK"], false);
        assert_eq!(log, ["head 200", "body a", "end false"]);
    }
}
