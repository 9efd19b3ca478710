#![no_main]
//! Backend response head → SYN_REPLY header block (`gateway::translate::response_headers`):
//! whatever HTTP/1.1 head a backend sends that our parser accepts, the block the gateway
//! builds must be one every conforming SPDY client accepts (C124): it survives the real
//! name/value encoder and decoder (the C37–C42 checks a client applies: lowercase, non-empty
//! names, no empty NUL-separated parts, no control bytes), carries the status and version
//! (C57), no hop-by-hop field (C57), and each name once (C40, C58). Never a panic.

use libfuzzer_sys::fuzz_target;
use spdygate::gateway::translate::response_headers;
use spdygate::http1::ResponseHead;
use spdygate::spdy::header::{wire, HeaderBlock, NvLimits};
use spdygate::spdy::Version;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, data)) = data.split_first() else { return };
    let version = [Version::Spdy31, Version::Spdy3, Version::Spdy2][usize::from(pick % 3)];
    let Ok(Some((head, _))) = ResponseHead::parse(data) else { return };
    let mut block = HeaderBlock::new();
    response_headers(version, &head, &mut block);

    let mut nv = Vec::new();
    wire::encode(version, &block, &mut nv);
    let mut back = HeaderBlock::new();
    let limits = NvLimits { max_pairs: usize::MAX };
    if let Err(e) = wire::decode(version, &nv, &limits, &mut back) {
        panic!("a client refuses our reply ({e}): {block:?}");
    }
    assert_eq!(back, block, "the block does not survive the wire");

    let (status, vers): (&[u8], &[u8]) = if version == Version::Spdy2 { (b"status", b"version") } else { (b":status", b":version") };
    assert!(block.iter().any(|(n, _)| n == status) && block.iter().any(|(n, v)| n == vers && v == b"HTTP/1.1"), "{block:?}");
    for (n, _) in block.iter() {
        assert!(
            !matches!(n, b"connection" | b"keep-alive" | b"proxy-connection" | b"transfer-encoding" | b"upgrade"),
            "hop-by-hop {:?} in the reply",
            String::from_utf8_lossy(n)
        );
    }
});
