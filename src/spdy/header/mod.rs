//! Name/value header blocks: the decoded form ([`HeaderBlock`]), the uncompressed wire
//! layout ([`wire`]), the per-session inflater with its bomb guard ([`inflate`]) and the
//! compressors behind one interface ([`HeaderEncoder`]): zlib through flate2
//! ([`deflate`]) and our own CRIME-resistant encoder ([`fast`]).

pub mod deflate;
pub mod dictionary;
pub mod fast;
pub mod inflate;
pub mod repeat;
pub mod wire;

pub use deflate::ZlibEncoder;
pub use inflate::{InflateError, InflateLimits, InflateOutcome, Inflater};
pub use wire::{NvError, NvLimits};

use crate::spdy::version::Version;

/// An ordered list of header pairs, as one name/value block carries them.
///
/// Names are stored as given (the SPDY rules — lowercase, no duplicates — are checked by
/// [`wire::decode`] on receipt and are the builder's duty on send). A value with several
/// parts is one value with the parts joined by NUL, exactly as on the wire. Storage is
/// one flat byte buffer plus spans, so a block costs two allocations, not one per pair.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HeaderBlock {
    bytes: Vec<u8>,
    /// (name start, name end, value end); the value starts at name end.
    spans: Vec<(u32, u32, u32)>,
}

impl HeaderBlock {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(pairs: usize, bytes: usize) -> Self {
        Self { bytes: Vec::with_capacity(bytes), spans: Vec::with_capacity(pairs) }
    }

    /// Appends a pair (no validation, no merging of repeated names).
    pub fn push(&mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        let start = self.bytes.len() as u32;
        self.bytes.extend_from_slice(name.as_ref());
        let name_end = self.bytes.len() as u32;
        self.bytes.extend_from_slice(value.as_ref());
        self.spans.push((start, name_end, self.bytes.len() as u32));
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Removes every pair, keeping the allocations.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.spans.clear();
    }

    /// The pairs in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&[u8], &[u8])> + '_ {
        self.spans.iter().map(move |&(s, n, e)| (&self.bytes[s as usize..n as usize], &self.bytes[n as usize..e as usize]))
    }

    /// The value of the first pair named `name`.
    pub fn get(&self, name: &[u8]) -> Option<&[u8]> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Total bytes of names and values (what the name/value block carries, minus lengths).
    pub fn payload_len(&self) -> usize {
        self.bytes.len()
    }

    /// Bytes of names and values the block can hold without reallocating.
    pub fn payload_capacity(&self) -> usize {
        self.bytes.capacity()
    }
}

impl core::fmt::Debug for HeaderBlock {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(n, v)| (String::from_utf8_lossy(n), String::from_utf8_lossy(v))))
            .finish()
    }
}

impl<N: AsRef<[u8]>, V: AsRef<[u8]>> FromIterator<(N, V)> for HeaderBlock {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        let mut block = HeaderBlock::new();
        for (n, v) in iter {
            block.push(n, v);
        }
        block
    }
}

/// Which compressor a session uses for the header blocks it sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompressorKind {
    /// zlib (flate2 on zlib-rs). `level` 0..=9, `window_bits` 9..=15, `mem_level` 1..=9.
    Zlib { level: u32, window_bits: u8, mem_level: u8 },
    /// Our CRIME-resistant encoder ([`fast`]); `sensitive` adds header names whose values
    /// may only be emitted as literals or as references to an identical whole value.
    Fast { sensitive: Vec<Vec<u8>> },
}

impl Default for CompressorKind {
    /// Our encoder: CRIME-resistant (CONFORMANCE B3) and ≤ 8 KiB of state per session,
    /// where zlib-rs at level ≥ 1 holds ~143 KB.
    fn default() -> Self {
        CompressorKind::Fast { sensitive: Vec::new() }
    }
}

/// The compressing side of one direction of one session: every block goes through the
/// same stream, ends with a sync flush, and the stream is never finished (CONFORMANCE
/// C121). Output appended to `out` is one complete compressed block; any zlib inflater
/// holding the version's dictionary accepts it.
pub trait HeaderEncoder: Send {
    /// Compresses `block` and appends the compressed bytes to `out`.
    fn encode(&mut self, block: &HeaderBlock, out: &mut Vec<u8>);
    /// Bytes of state this encoder holds for the session (for memory reports).
    fn state_bytes(&self) -> usize;
}

/// Builds the encoder `kind` names for a session of `version`.
pub fn new_encoder(version: Version, kind: &CompressorKind) -> Box<dyn HeaderEncoder> {
    match kind {
        CompressorKind::Zlib { level, window_bits, mem_level } => {
            Box::new(deflate::ZlibEncoder::new(version, *level, *window_bits, *mem_level))
        }
        CompressorKind::Fast { sensitive } => Box::new(fast::FastEncoder::new(version, sensitive)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_keeps_order_and_finds_first() {
        let block: HeaderBlock = [(":method", "GET"), (":path", "/"), ("a", "1"), ("a", "2")].into_iter().collect();
        assert_eq!(block.len(), 4);
        assert_eq!(block.get(b"a"), Some(&b"1"[..]));
        let names: Vec<_> = block.iter().map(|(n, _)| n.to_vec()).collect();
        assert_eq!(names, [b":method".to_vec(), b":path".to_vec(), b"a".to_vec(), b"a".to_vec()]);
    }
}
