//! The driver for `tests/zlib/peer.py` (C zlib through CPython's `zlib` module), shared by
//! the zlib interop and inflater-hibernation tests: one JSON request of jobs on stdin, one
//! JSON answer on stdout, a hard deadline (`procs::wait_or_kill`; the including test
//! declares `mod procs`), and no skipping when python3 is missing
//! (scripts/test.sh installs it). Also the corpus sessions both tests feed it.

#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use spdygate::spdy::header::{wire, HeaderBlock};
use spdygate::spdy::Version;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs peer.py on `jobs` and returns its results. Fails (never skips) without python3.
pub fn peer(jobs: Vec<Value>) -> Vec<Value> {
    let request = json!({ "dict_dir": root().join("src/spdy/header/dict"), "jobs": jobs });
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let mut child = Command::new(&python)
        .arg(root().join("tests/zlib/peer.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python} ({e}); scripts/test.sh installs python3"));
    let input = serde_json::to_vec(&request).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        stdout.read_to_end(&mut buf).map(|_| buf)
    });
    let status = crate::procs::wait_or_kill(&mut child, Duration::from_secs(60), "peer.py");
    writer.join().unwrap().expect("write to peer.py");
    let out = reader.join().unwrap().expect("read from peer.py");
    assert!(status.success(), "peer.py failed: {status}");
    let answer: Value = serde_json::from_slice(&out).expect("peer.py answers JSON");
    answer["results"].as_array().expect("results").clone()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(s: &Value) -> Vec<u8> {
    let s = s.as_str().expect("hex string");
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// The uncompressed name/value block of `block` (our wire encoder).
pub fn plain(version: Version, block: &HeaderBlock) -> Vec<u8> {
    let mut v = Vec::new();
    wire::encode(version, block, &mut v);
    v
}

/// The first `limit` header lists of corpus story `story` as `version` blocks: names as the
/// corpus has them (colons stripped for SPDY/2), repeated names joined by NUL (SPDY3.md §4
/// rule 3), and with `fill_empty` an empty value becomes "-" where the version forbids it.
/// Panics (never skips) when the corpus is not beside the checkout.
pub fn corpus_story(version: Version, story: &str, limit: usize, fill_empty: bool) -> Vec<HeaderBlock> {
    let path = root().join("../shared/corpus/headers/raw-data").join(story);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("corpus story {}: {e}", path.display()));
    let story: Value = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    for case in story["cases"].as_array().unwrap().iter().take(limit) {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for h in case["headers"].as_array().unwrap() {
            let (n, v) = h.as_object().unwrap().iter().next().unwrap();
            let n = if version.colon_names() { n.clone() } else { n.trim_start_matches(':').to_string() };
            let mut v = v.as_str().unwrap().to_string();
            if fill_empty && v.is_empty() && !version.allows_empty_values() {
                v.push('-');
            }
            match pairs.iter_mut().find(|(k, _)| *k == n) {
                Some((_, old)) => {
                    old.push('\0');
                    old.push_str(&v);
                }
                None => pairs.push((n, v)),
            }
        }
        out.push(pairs.into_iter().collect());
    }
    out
}
