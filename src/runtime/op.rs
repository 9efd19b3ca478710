//! Op identity and op-owned resources: tokens, generational slots, `user_data`, send buffers.
//!
//! Exists so that one place decides how a completion finds its owner and who owns which bytes
//! while the kernel may touch them. An op keeps its buffers (send chunks, socket address,
//! timespec) from submission until its final CQE; nothing here frees memory the kernel can
//! still read or write. It refuses to interpret tokens: they belong to the caller.

use std::fmt;
use std::ops::Range;

use super::buf_ring::Lease;

/// Generations wrap at 24 bits so that a [`Key`] packs into a [`Token`] or a `user_data`.
const GENERATION_MASK: u32 = 0x00ff_ffff;

/// A slot index plus the generation the slot had when the value was inserted.
///
/// Invariant: a `Key` names at most one value over the life of a [`Slots`]; once the value is
/// removed, the slot's generation moves on and the old key no longer resolves (until the
/// 24-bit generation wraps after 16 777 216 reuses of that same slot).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Key {
    pub index: u32,
    pub generation: u32,
}

/// A slab whose keys detect reuse: a stale key after `remove` + `insert` resolves to `None`.
///
/// The runtime uses it for in-flight ops and timers; shards use it for connections, so that a
/// completion carrying an old connection's token is recognised and dropped.
pub struct Slots<T> {
    entries: Vec<(u32, Option<T>)>,
    free: Vec<u32>,
    len: usize,
}

impl<T> Slots<T> {
    pub fn new() -> Self {
        Self { entries: Vec::new(), free: Vec::new(), len: 0 }
    }

    pub fn with_capacity(capacity: usize) -> Self {
        Self { entries: Vec::with_capacity(capacity), free: Vec::new(), len: 0 }
    }

    pub fn insert(&mut self, value: T) -> Key {
        self.len += 1;
        match self.free.pop() {
            Some(index) => {
                let entry = &mut self.entries[index as usize];
                entry.1 = Some(value);
                Key { index, generation: entry.0 }
            }
            None => {
                let index = u32::try_from(self.entries.len()).expect("more than 2^32 slots");
                self.entries.push((0, Some(value)));
                Key { index, generation: 0 }
            }
        }
    }

    pub fn get(&self, key: Key) -> Option<&T> {
        match self.entries.get(key.index as usize) {
            Some((generation, Some(value))) if *generation == key.generation => Some(value),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        match self.entries.get_mut(key.index as usize) {
            Some((generation, Some(value))) if *generation == key.generation => Some(value),
            _ => None,
        }
    }

    pub fn remove(&mut self, key: Key) -> Option<T> {
        let entry = self.entries.get_mut(key.index as usize)?;
        if entry.0 != key.generation || entry.1.is_none() {
            return None;
        }
        entry.0 = (entry.0 + 1) & GENERATION_MASK;
        self.free.push(key.index);
        self.len -= 1;
        entry.1.take()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every live value with its key (order unspecified).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (Key, &mut T)> {
        self.entries.iter_mut().enumerate().filter_map(|(index, (generation, value))| {
            let key = Key { index: index as u32, generation: *generation };
            value.as_mut().map(|v| (key, v))
        })
    }

    /// Removes every value; keys handed out before stay stale.
    pub fn drain(&mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len);
        for index in 0..self.entries.len() as u32 {
            let generation = self.entries[index as usize].0;
            if let Some(value) = self.remove(Key { index, generation }) {
                out.push(value);
            }
        }
        out
    }
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Packs `tag:8 | generation:24 | index:32` into a u64. The one encoding used both for
/// caller tokens and for the kernel's `user_data`.
const fn pack(tag: u8, key: Key) -> u64 {
    ((tag as u64) << 56) | (((key.generation & GENERATION_MASK) as u64) << 32) | key.index as u64
}

const fn unpack(word: u64) -> (u8, Key) {
    let tag = (word >> 56) as u8;
    let generation = ((word >> 32) as u32) & GENERATION_MASK;
    (tag, Key { index: word as u32, generation })
}

/// What the caller attaches to an op; it comes back verbatim in every completion of that op.
///
/// The runtime never looks inside. [`Token::new`] packs a caller-chosen tag (say "client
/// recv" or "backend connect") and a [`Key`] of the caller's own [`Slots`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Token(pub u64);

impl Token {
    pub const fn new(tag: u8, key: Key) -> Token {
        Token(pack(tag, key))
    }

    pub const fn tag(self) -> u8 {
        unpack(self.0).0
    }

    pub const fn key(self) -> Key {
        unpack(self.0).1
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (tag, key) = unpack(self.0);
        write!(f, "Token(tag {tag}, slot {}, gen {})", key.index, key.generation)
    }
}

/// The kind of an op; the top byte of its `user_data`.
///
/// Reserved: 0 is never issued (a zeroed `user_data` is always a bug and is dropped);
/// `Cancel` ops have no slot and their completions are swallowed; `Timer` never reaches the
/// kernel (it is the kind of completions produced by [`super::timer::Timers`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum OpKind {
    Accept = 1,
    Recv = 2,
    Send = 3,
    Connect = 4,
    Close = 5,
    Timeout = 6,
    Cancel = 7,
    Timer = 8,
}

impl OpKind {
    fn from_u8(byte: u8) -> Option<OpKind> {
        Some(match byte {
            1 => OpKind::Accept,
            2 => OpKind::Recv,
            3 => OpKind::Send,
            4 => OpKind::Connect,
            5 => OpKind::Close,
            6 => OpKind::Timeout,
            7 => OpKind::Cancel,
            8 => OpKind::Timer,
            _ => return None,
        })
    }
}

/// Names an in-flight op (for [`super::Ring::cancel`]); it is the op's `user_data`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct OpId(pub(super) u64);

impl OpId {
    pub(super) fn new(kind: OpKind, key: Key) -> OpId {
        OpId(pack(kind as u8, key))
    }

    pub(super) fn decode(user_data: u64) -> Option<(OpKind, Key)> {
        let (kind, key) = unpack(user_data);
        OpKind::from_u8(kind).map(|kind| (kind, key))
    }

    pub(super) fn key(self) -> Key {
        unpack(self.0).1
    }

    pub(super) fn user_data(self) -> u64 {
        self.0
    }
}

/// One region of a vectored send.
pub enum Chunk {
    Owned(Vec<u8>),
    Static(&'static [u8]),
    /// Received bytes forwarded without a copy; the ring buffer returns to the kernel when the
    /// last lease on it is dropped (after the send completes and the caller drops the `SendBuf`).
    Lease(Lease),
    /// Bytes from the gateway layers (which may share a received buffer, see
    /// [`Lease::into_bytes`]).
    Shared(bytes::Bytes),
}

impl Chunk {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Chunk::Owned(v) => v,
            Chunk::Static(s) => s,
            Chunk::Lease(l) => l.bytes(),
            Chunk::Shared(b) => b,
        }
    }
}

/// An owned list of byte regions sent with one `sendmsg`.
///
/// Ownership: it moves into [`super::Ring::send`] and comes back in the op's completion, on
/// success and on failure alike (like tokio-uring's `BufResult`). Until then the kernel may
/// read it, so nothing else can touch it.
#[derive(Default)]
pub struct SendBuf {
    chunks: Vec<Chunk>,
    len: usize,
}

impl fmt::Debug for SendBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SendBuf({} bytes in {} chunks)", self.len, self.chunks.len())
    }
}

impl SendBuf {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, chunk: Chunk) {
        self.len += chunk.bytes().len();
        self.chunks.push(chunk);
    }

    pub fn push_vec(&mut self, v: Vec<u8>) {
        self.push(Chunk::Owned(v));
    }

    pub fn push_lease(&mut self, lease: Lease) {
        self.push(Chunk::Lease(lease));
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn chunks(&self) -> &[Chunk] {
        &self.chunks
    }

    /// Takes the chunks back (e.g. to reuse the `Vec<u8>` allocations); drops the leases.
    pub fn into_chunks(self) -> Vec<Chunk> {
        self.chunks
    }

    pub fn clear(&mut self) {
        self.chunks.clear();
        self.len = 0;
    }

    /// The byte ranges still to send after `sent` bytes went out: (chunk, range in chunk).
    pub(super) fn remaining(&self, sent: usize) -> impl Iterator<Item = (&[u8], Range<usize>)> {
        let mut skip = sent;
        self.chunks.iter().filter_map(move |chunk| {
            let bytes = chunk.bytes();
            if skip >= bytes.len() {
                skip -= bytes.len();
                return None;
            }
            let range = skip..bytes.len();
            skip = 0;
            Some((bytes, range))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_key_does_not_resolve_after_slot_reuse() {
        let mut slots = Slots::new();
        let a = slots.insert("a");
        assert_eq!(slots.remove(a), Some("a"));
        let b = slots.insert("b");
        assert_eq!(a.index, b.index);
        assert_ne!(a.generation, b.generation);
        assert_eq!(slots.get(a), None);
        assert_eq!(slots.remove(a), None);
        assert_eq!(slots.get(b), Some(&"b"));
        assert_eq!(slots.len(), 1);
    }

    #[test]
    fn token_round_trips_tag_slot_and_generation() {
        let key = Key { index: 0xdead_beef, generation: 0x00ab_cdef };
        let token = Token::new(0x5a, key);
        assert_eq!(token.0, 0x5aab_cdef_dead_beef);
        assert_eq!(token.tag(), 0x5a);
        assert_eq!(token.key(), key);
    }

    #[test]
    fn user_data_zero_and_unknown_kinds_do_not_decode() {
        assert_eq!(OpId::decode(0), None);
        assert_eq!(OpId::decode(0xff00_0000_0000_0001), None);
        let id = OpId::new(OpKind::Recv, Key { index: 3, generation: 9 });
        assert_eq!(OpId::decode(id.user_data()), Some((OpKind::Recv, Key { index: 3, generation: 9 })));
    }

    #[test]
    fn generation_wraps_at_24_bits() {
        let mut slots = Slots::new();
        let first = slots.insert(0u8);
        slots.entries[first.index as usize].0 = GENERATION_MASK;
        assert_eq!(slots.remove(Key { index: first.index, generation: GENERATION_MASK }), Some(0));
        let next = slots.insert(1);
        assert_eq!(next, Key { index: first.index, generation: 0 });
        assert_eq!(Token::new(0, Key { index: 0, generation: GENERATION_MASK }).key().generation, GENERATION_MASK);
    }

    #[test]
    fn remaining_skips_sent_bytes_across_chunks() {
        let mut buf = SendBuf::new();
        buf.push_vec(b"abc".to_vec());
        buf.push(Chunk::Static(b"defg"));
        assert_eq!(buf.len(), 7);
        let parts: Vec<&[u8]> = buf.remaining(4).map(|(b, r)| &b[r]).collect();
        assert_eq!(parts, vec![&b"efg"[..]]);
        let parts: Vec<&[u8]> = buf.remaining(2).map(|(b, r)| &b[r]).collect();
        assert_eq!(parts, vec![&b"c"[..], &b"defg"[..]]);
        assert_eq!(buf.remaining(7).count(), 0);
    }
}
