use flate2::{Decompress, FlushDecompress};
use hex_literal::hex;
use proptest::prelude::*;

use super::*;

/// Inflates a session's blocks with flate2 (zlib-rs), dictionary on demand.
struct Inflate {
    d: Decompress,
    version: Version,
}

impl Inflate {
    fn new(version: Version) -> Self {
        Inflate { d: Decompress::new(true), version }
    }

    fn block(&mut self, mut input: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 * 1024);
        loop {
            let before = self.d.total_in();
            match self.d.decompress_vec(input, &mut out, FlushDecompress::Sync) {
                Err(e) if e.needs_dictionary().is_some() => {
                    assert_eq!(e.needs_dictionary(), Some(self.version.dictionary_id()));
                    self.d.set_dictionary(self.version.dictionary()).unwrap();
                }
                Err(e) => panic!("inflate: {e}"),
                Ok(flate2::Status::StreamEnd) => panic!("BFINAL set"),
                Ok(_) => {}
            }
            input = &input[(self.d.total_in() - before) as usize..];
            if input.is_empty() && out.len() < out.capacity() {
                return out;
            }
            out.reserve(out.capacity());
        }
    }
}

fn nv(version: Version, block: &HeaderBlock) -> Vec<u8> {
    let w = version.nv_length_width();
    let mut out = Vec::new();
    put_len(&mut out, w, block.len());
    for (n, v) in block.iter() {
        put_len(&mut out, w, n.len());
        out.extend_from_slice(n);
        put_len(&mut out, w, v.len());
        out.extend_from_slice(v);
    }
    out
}

fn block(pairs: &[(&str, &str)]) -> HeaderBlock {
    pairs.iter().copied().collect()
}

fn tokens_of(enc: &mut FastEncoder, b: &HeaderBlock) -> (Vec<u8>, Vec<Token>, u64) {
    let mut s = Scratch::new();
    let base = enc.pos;
    enc.tokenize(b, &mut s);
    (s.nv, s.tokens, base)
}

#[test]
fn first_block_starts_with_the_zlib_header_and_dictid_and_every_block_ends_with_a_sync_flush() {
    let mut enc = FastEncoder::new(Version::Spdy3, &[]);
    let b = block(&[(":method", "GET"), (":path", "/")]);
    let mut first = Vec::new();
    enc.encode(&b, &mut first);
    assert_eq!(first[..6], hex!("78 bb e3 c6 a7 c2"));
    assert_eq!(first[first.len() - 4..], hex!("00 00 ff ff"));
    let mut second = Vec::new();
    enc.encode(&b, &mut second);
    assert_ne!(second[..2], hex!("78 bb"));
    assert_eq!(second[second.len() - 4..], hex!("00 00 ff ff"));
    let mut inf = Inflate::new(Version::Spdy3);
    assert_eq!(inf.block(&first), nv(Version::Spdy3, &b));
    assert_eq!(inf.block(&second), nv(Version::Spdy3, &b));
}

#[test]
fn a_repeated_block_is_one_copy_of_the_previous_block() {
    let mut enc = FastEncoder::new(Version::Spdy3, &[]);
    let b = block(&[(":method", "GET"), (":path", "/a/b/c"), ("user-agent", "Mozilla/5.0 (X11; Linux x86_64)")]);
    let mut first = Vec::new();
    enc.encode(&b, &mut first);
    let first_nv = nv(Version::Spdy3, &b);
    let (_, tokens, _) = tokens_of(&mut enc, &b);
    assert!(
        matches!(tokens[..], [Token::Copy { len, dist }] if len as usize == first_nv.len() && dist as usize == first_nv.len()),
        "{tokens:?}"
    );
    // fixed block header (3 bits), one length/distance pair, end of block, sync flush
    let mut out = Vec::new();
    enc.encode(&b, &mut out);
    assert!(out.len() <= 9, "{out:02x?}");
}

#[test]
fn a_changed_date_copies_the_unchanged_parts_of_the_previous_date() {
    let mut enc = FastEncoder::new(Version::Spdy3, &[]);
    let _ = tokens_of(&mut enc, &block(&[("date", "Sat, 03 Nov 2012 13:04:26 GMT")]));
    let (nv, tokens, _) = tokens_of(&mut enc, &block(&[("date", "Sat, 03 Nov 2012 13:04:27 GMT")]));
    let literals: Vec<u8> = tokens
        .iter()
        .filter_map(|t| match *t {
            Token::Lit { start, len } => Some(&nv[start as usize..(start + len) as usize]),
            _ => None,
        })
        .flatten()
        .copied()
        .collect();
    assert_eq!(literals, b"7");
}

/// The CRIME rule at the token level: a sensitive value is either one whole-value copy or
/// literals, and no copy made for other text reads any byte of a sensitive value.
#[test]
fn sensitive_values_are_whole_copies_or_literals_and_never_a_copy_source_for_other_text() {
    let mut enc = FastEncoder::new(Version::Spdy3, &[b"x-token".to_vec()]);
    let secret = "s3cr3t-v4lue-0123456789";
    let b1 = block(&[("cookie", secret), ("x-token", secret), ("referer", "/")]);
    let b2 = block(&[("referer", &format!("/{secret}")), ("cookie", &format!("{secret}x")), ("x-token", secret)]);
    let (nv1, t1, base1) = tokens_of(&mut enc, &b1);
    let (nv2, t2, base2) = tokens_of(&mut enc, &b2);
    // stream ranges of the sensitive values' bytes in both blocks
    let mut secret_ranges = Vec::new();
    for (nv, base) in [(&nv1, base1), (&nv2, base2)] {
        let mut at = 0;
        while let Some(p) = nv[at..].windows(secret.len()).position(|w| w == secret.as_bytes()) {
            let start = base + (at + p) as u64;
            secret_ranges.push((start, start + secret.len() as u64));
            at += p + 1;
        }
    }
    for (nv, tokens, base) in [(&nv1, &t1, base1), (&nv2, &t2, base2)] {
        let mut pos = base;
        for t in tokens.iter() {
            if let Token::Copy { len, dist } = *t {
                let (src, end) = (pos - u64::from(dist), pos - u64::from(dist) + u64::from(len));
                for &(s, e) in &secret_ranges {
                    let overlaps = src < e && s < end;
                    // only allowed: the copy is exactly a later copy of a whole sensitive
                    // pair (x-token's value in block 2 copies block 1's x-token pair)
                    let whole = src + 4 + 7 + 4 == s && end == e && &nv[(pos - base) as usize + 4..][..7] == b"x-token";
                    assert!(!overlaps || whole, "copy {t:?} at {pos} reads secret bytes {s}..{e}");
                }
            }
            pos += u64::from(t.len());
        }
    }
}

/// Stream ranges of the secret bytes of block `b` tokenized at `base` (by the definition in
/// `secret`, not by searching the bytes).
fn secret_ranges_of(enc: &FastEncoder, b: &HeaderBlock, base: u64) -> Vec<(u64, u64)> {
    let w = enc.w as u64;
    let mut pos = base + w;
    let mut out = Vec::new();
    for (n, v) in b.iter() {
        let vstart = pos + 2 * w + n.len() as u64;
        if let Some(shape) = enc.sensitive_shape(hash(n, 0), n) {
            out.extend(shape.secret_ranges(v).map(|(a, e)| (vstart + a as u64, vstart + e as u64)));
        }
        pos = vstart + v.len() as u64;
    }
    out
}

/// The CRIME rule over one block's tokens, given every secret range of the session so far:
/// a copy that reads or writes a secret byte covers a whole secret part and copies it from a
/// whole secret part; plain (non-secret) literals never hold secret bytes.
fn assert_secret_rule(tokens: &[Token], base: u64, secrets: &[(u64, u64)]) {
    let mut pos = base;
    for t in tokens {
        let len = u64::from(t.len());
        match *t {
            Token::Copy { dist, .. } => {
                let d = u64::from(dist);
                for &(s, e) in secrets {
                    let reads = pos - d < e && s < pos - d + len;
                    let writes = pos < e && s < pos + len;
                    let whole_from = pos <= s + d && e + d <= pos + len && secrets.contains(&(s + d, e + d));
                    let whole_to = pos <= s && e <= pos + len && s >= d && secrets.contains(&(s - d, e - d));
                    assert!(!reads || whole_from, "copy {t:?} at {pos} reads secret {s}..{e}");
                    assert!(!writes || whole_to, "copy {t:?} at {pos} writes secret {s}..{e}");
                }
            }
            Token::Lit { .. } => {
                for &(s, e) in secrets {
                    assert!(!(pos < e && s < pos + len), "plain literal {t:?} at {pos} over secret {s}..{e}");
                }
            }
            Token::Secret { .. } => {}
        }
        pos += len;
    }
}

/// set-cookie: each cookie's `name=value` is secret (literals, or one copy of an identical
/// whole secret part sent before, never a copy source for other text); the attributes are
/// public and compress like other text.
#[test]
fn set_cookie_secret_parts_are_whole_copies_or_literals_and_attributes_compress() {
    let mut enc = FastEncoder::new(Version::Spdy3, &[]);
    let secret = "sid=s3cr3t-v4lue-0123456789";
    let attrs = "; path=/; domain=.example.com; expires=Tue, 01-Jan-2036 08:00:01 GMT";
    let b1 = block(&[("set-cookie", &format!("{secret}{attrs}")), ("x-echo", "/")]);
    let b2 = block(&[("x-echo", &format!("/{secret}")), ("set-cookie", &format!("{secret}x{attrs}\0{secret}{attrs}"))]);
    let (_, t1, base1) = tokens_of(&mut enc, &b1);
    let (_, t2, base2) = tokens_of(&mut enc, &b2);
    let mut secrets = secret_ranges_of(&enc, &b1, base1);
    secrets.extend(secret_ranges_of(&enc, &b2, base2));
    assert_eq!(secrets.len(), 3);
    assert_secret_rule(&t1, base1, &secrets);
    assert_secret_rule(&t2, base2, &secrets);
    // the second cookie's secret part is an identical whole part: a copy, not literals; and
    // the attributes of block 2 are copies of block 1's (public) attributes
    let (second, first_end) = (secrets[2], secrets[1].1);
    let (mut pos, mut copied, mut attr_literals) = (base2, false, 0);
    for t in t2.iter() {
        match *t {
            Token::Copy { len, .. } => copied |= pos <= second.0 && second.1 <= pos + u64::from(len),
            Token::Lit { len, .. } if pos >= first_end => attr_literals += len,
            _ => {}
        }
        pos += u64::from(t.len());
    }
    assert!(copied, "{t2:?}");
    assert!(attr_literals <= 2, "{attr_literals} literal bytes after the first secret part: {t2:?}");
}

#[test]
fn state_is_reported_and_below_8_kib() {
    let enc = FastEncoder::new(Version::Spdy3, &[b"x-api-key".to_vec()]);
    assert!(enc.state_bytes() > table::ARENA && enc.state_bytes() <= 8192, "{}", enc.state_bytes());
}

#[test]
fn distances_never_exceed_the_window_over_a_long_session() {
    // 400 blocks of ~500 bytes: the dictionary and old entries drop out of reach
    let mut enc = FastEncoder::new(Version::Spdy3, &[]);
    let mut inf = Inflate::new(Version::Spdy3);
    for i in 0..400 {
        let b = block(&[
            (":status", "200"),
            ("content-type", "text/html"),
            ("x-seq", &format!("{i:05}-{}", "q".repeat(i % 300))),
            ("server", "Apache"),
        ]);
        let mut out = Vec::new();
        enc.encode(&b, &mut out);
        assert_eq!(inf.block(&out), nv(Version::Spdy3, &b), "block {i}");
    }
}

fn name_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"cookie".to_vec()),
        Just(b"set-cookie".to_vec()),
        Just(b"authorization".to_vec()),
        Just(b"x-secret".to_vec()),
        Just(b":path".to_vec()),
        Just(b"content-type".to_vec()),
        Just(b"date".to_vec()),
        proptest::collection::vec(b'a'..=b'z', 1..12),
    ]
}

fn value_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        Just(b"text/html".to_vec()),
        Just(b"Sat, 03 Nov 2012 13:04:26 GMT".to_vec()),
        Just(b"Sat, 03 Nov 2012 13:04:27 GMT".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..40),
        proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(0u8)], 250..700),
        proptest::collection::vec(any::<u8>(), 259..3000),
        // cookie-shaped text: secret/public boundaries of set-cookie values
        proptest::collection::vec(
            prop_oneof![Just(b'a'), Just(b'b'), Just(b';'), Just(b' '), Just(b'='), Just(0u8)],
            0..120
        ),
        (0u8..3, 0u8..3, 0u8..3).prop_map(|(c, d, p)| {
            format!("s{c}=v{d}; path=/{p}; domain=.example.com\0t{d}=w{c}; expires=Sat, 03-Nov-2012 13:0{p}:26 GMT")
                .into_bytes()
        }),
        // dates differing here and there: pieces from several recent dates
        (0u8..10, 0u8..10, 0u8..10).prop_map(|(d, h, s)| format!("Sat, 0{d} Nov 2012 1{h}:04:2{s} GMT").into_bytes()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Random header sequences (sensitive names, repeats, long and empty values) through
    /// one encoder per session inflate to the exact name/value bytes with flate2.
    #[test]
    fn random_sessions_inflate_to_the_exact_name_value_bytes(
        v2 in any::<bool>(),
        blocks in proptest::collection::vec(
            proptest::collection::vec((name_strategy(), value_strategy()), 0..10), 1..10),
        repeat in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let version = if v2 { Version::Spdy2 } else { Version::Spdy3 };
        let mut enc = FastEncoder::new(version, &[b"x-secret".to_vec()]);
        let mut inf = Inflate::new(version);
        let mut seq: Vec<&Vec<(Vec<u8>, Vec<u8>)>> = blocks.iter().collect();
        for r in &repeat {
            seq.push(r.get(&blocks));
        }
        for pairs in seq {
            let b: HeaderBlock = pairs.iter().map(|(n, v)| (n, v)).collect();
            let mut out = Vec::new();
            enc.encode(&b, &mut out);
            prop_assert_eq!(inf.block(&out), nv(version, &b));
        }
    }

    /// The CRIME rule holds over random sessions: no copy reads or writes part of a secret.
    #[test]
    fn random_sessions_never_copy_part_of_a_secret(
        blocks in proptest::collection::vec(
            proptest::collection::vec((name_strategy(), value_strategy()), 0..10), 1..10),
        repeat in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let mut enc = FastEncoder::new(Version::Spdy3, &[b"x-secret".to_vec()]);
        let mut seq: Vec<&Vec<(Vec<u8>, Vec<u8>)>> = blocks.iter().collect();
        for r in &repeat {
            seq.push(r.get(&blocks));
        }
        let mut secrets = Vec::new();
        for pairs in seq {
            let b: HeaderBlock = pairs.iter().map(|(n, v)| (n, v)).collect();
            let (_, tokens, base) = tokens_of(&mut enc, &b);
            secrets.extend(secret_ranges_of(&enc, &b, base));
            assert_secret_rule(&tokens, base, &secrets);
        }
    }
}

#[test]
fn equal_bitmap_and_aligned_equal_match_a_byte_by_byte_count() {
    let a = b"Sat, 03 Nov 2012 13:04:26 GMT/abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ";
    let b = b"Mon, 05 Nov 2012 13:14:26 GMT/abcdefghijklmnopqrstuvwxyzXXX3456789ABCDEFGHIJ";
    let m = equal_bitmap(a, b);
    for k in 0..64 {
        assert_eq!(m >> k & 1 == 1, a[k] == b[k], "byte {k}");
    }
    // runs of ≥ 3 equal bytes, counted directly (no run crosses byte 64 here)
    let mut total = 0;
    let mut run = 0;
    for (x, y) in a.iter().zip(b.iter()).chain(std::iter::once((&0u8, &1u8))) {
        if x == y {
            run += 1;
        } else {
            total += if run >= 3 { run } else { 0 };
            run = 0;
        }
    }
    assert_eq!(aligned_equal(a, b), total);
    for n in 0..=64 {
        let m = equal_bitmap(&a[..n], &b[..n]);
        let want = (0..n).fold(0u64, |m, k| m | u64::from(a[k] == b[k]) << k);
        assert_eq!(m, want, "length {n}");
    }
}

#[test]
fn shared_length_bytes_counts_the_equal_leading_bytes_of_the_length_fields() {
    let lengths = [0usize, 1, 2, 255, 256, 257, 511, 0x1_0000, 0x1_00ff, 0xff_ffff, 0x7fff_ffff];
    for w in [2usize, 4] {
        let field = |n: usize| (n as u32).to_be_bytes()[4 - w..].to_vec();
        for &a in lengths.iter().filter(|&&n| n < 1 << (8 * w)) {
            for &b in lengths.iter().filter(|&&n| n < 1 << (8 * w)) {
                let want = field(a).iter().zip(field(b)).take_while(|(x, y)| **x == *y).count();
                assert_eq!(shared_length_bytes(w, a, b), want, "w {w}: {a} vs {b}");
            }
        }
    }
}

#[test]
fn a_block_count_is_copied_only_from_a_kept_block_with_that_same_count() {
    let mut enc = FastEncoder::new(Version::Spdy3, &[]);
    let mut inf = Inflate::new(Version::Spdy3);
    let mut round_trip = |enc: &mut FastEncoder, b: &HeaderBlock| {
        let mut out = Vec::new();
        enc.encode(b, &mut out);
        assert_eq!(inf.block(&out), nv(Version::Spdy3, b));
    };
    // 65,536 pairs: a count the block starts keep as 0, never matched (such a block is far
    // longer than the window anyway); the empty block after it writes its own count of 0
    let big: HeaderBlock = (0..65_536u32).map(|k| (format!("x{k}"), "")).collect();
    round_trip(&mut enc, &big);
    round_trip(&mut enc, &HeaderBlock::new());
    // a count seen two blocks ago (not in the latest block) is one copy from there
    let two = block(&[(":status", "200"), ("server", "a")]);
    round_trip(&mut enc, &two);
    round_trip(&mut enc, &block(&[(":status", "404")]));
    let again = block(&[("age", "1"), ("via", "b")]);
    let start = enc.pos;
    let (_, tokens, _) = tokens_of(&mut enc, &again);
    let first_block_len = nv(Version::Spdy3, &block(&[(":status", "404")])).len() as u64;
    let two_len = nv(Version::Spdy3, &two).len() as u64;
    assert!(
        matches!(tokens[0], Token::Copy { len: 4, dist } if u64::from(dist) == first_block_len + two_len),
        "{tokens:?} (stream at {start})"
    );
}

#[test]
fn a_block_longer_than_the_window_never_copies_from_farther_than_32_kib() {
    // two 40 KB values with the same text: the second is 40 KB after the first, out of a
    // deflate distance's reach (this once produced a distance past 32768 and a panic)
    let text: String = (0..4_000u32).map(|k| format!("{k:09}.")).collect();
    let big = block(&[("x-a", &text), ("x-b", &text)]);
    let mut enc = FastEncoder::new(Version::Spdy3, &[]);
    let (_, tokens, _) = tokens_of(&mut enc, &big);
    assert!(tokens.iter().all(|t| !matches!(t, Token::Copy { dist, .. } if *dist as u64 > WINDOW)), "{tokens:?}");
    let mut enc = FastEncoder::new(Version::Spdy3, &[]);
    let mut out = Vec::new();
    enc.encode(&big, &mut out);
    assert_eq!(Inflate::new(Version::Spdy3).block(&out), nv(Version::Spdy3, &big));
}

#[test]
fn a_block_start_is_not_lent_when_its_first_entry_took_another_pair_within_the_block() {
    // found by the header_fast fuzz target: the first block's second pair (same name, same
    // length, first value never sent again) takes the first pair's entry; the block start
    // must not then claim that entry as its first pair, or the last block copies count and
    // "date: \0" for "date: \x01"
    let mut enc = FastEncoder::new(Version::Spdy3, &[]);
    let mut inf = Inflate::new(Version::Spdy3);
    let blocks: Vec<HeaderBlock> = vec![
        [("date", "\0"), ("date", "\u{1}")].into_iter().collect(),
        block(&[("content-length", "Mon, 03 Jan 2018 00:02:00 GMT")]),
        HeaderBlock::new(),
        block(&[("date", "")]),
        block(&[("date", "\u{1}"), ("content-length", "")]),
    ];
    for b in &blocks {
        let mut out = Vec::new();
        enc.encode(b, &mut out);
        assert_eq!(inf.block(&out), nv(Version::Spdy3, b), "block {b:?}");
    }
}

#[test]
fn a_block_start_is_not_lent_when_its_first_entry_was_evicted_and_reused_within_the_block() {
    // 200 distinct pairs: the first pair's entry leaves the 128-slot table and its slot takes
    // pair 128 while the block is still being written; a later block of 200 pairs beginning
    // with that pair must not copy the count and first pair of this block (it did)
    for first in [128u32, 150, 199] {
        let mut enc = FastEncoder::new(Version::Spdy3, &[]);
        let mut inf = Inflate::new(Version::Spdy3);
        let a: HeaderBlock = (0..200u32).map(|k| (format!("k{k}"), format!("v{k}"))).collect();
        let mut out = Vec::new();
        enc.encode(&a, &mut out);
        assert_eq!(inf.block(&out), nv(Version::Spdy3, &a));
        let b: HeaderBlock = std::iter::once((format!("k{first}"), format!("v{first}")))
            .chain((0..199u32).map(|k| (format!("z{k}"), format!("w{k}"))))
            .collect();
        let mut out = Vec::new();
        enc.encode(&b, &mut out);
        assert_eq!(inf.block(&out), nv(Version::Spdy3, &b), "first pair k{first}");
    }
}
