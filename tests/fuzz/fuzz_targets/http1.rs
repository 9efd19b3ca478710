#![no_main]
//! HTTP/1.1 heads and bodies from arbitrary bytes: request and response heads, then the
//! body decoder on the rest, fed in pieces. Must never panic; decoded body bytes never
//! exceed the input.
use libfuzzer_sys::fuzz_target;
use spdygate::http1::{BodyDecoder, BodyItem, RequestHead, ResponseHead};

fuzz_target!(|data: &[u8]| {
    let Some((&step, data)) = data.split_first() else { return };
    let step = usize::from(step).max(1);
    let framing = match RequestHead::parse(data) {
        Ok(Some((head, used))) => head.framing().ok().map(|f| (f, used)),
        _ => match ResponseHead::parse(data) {
            Ok(Some((head, used))) => head.framing(false).ok().map(|f| (f, used)),
            _ => None,
        },
    };
    let Some((framing, used)) = framing else { return };
    let mut dec = BodyDecoder::new(framing);
    let body = &data[used..];
    let mut total = 0usize;
    'outer: for piece in body.chunks(step) {
        let mut input = piece;
        loop {
            match dec.decode(&mut input) {
                Ok(Some(BodyItem::Data(d))) => total += d.len(),
                Ok(Some(BodyItem::End)) | Err(_) => break 'outer,
                Ok(None) => break,
            }
        }
    }
    assert!(total <= body.len());
    let _ = dec.eof();
});
