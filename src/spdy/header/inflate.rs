//! The per-session header inflater: one zlib stream per direction, shared by every
//! SYN_STREAM, SYN_REPLY and HEADERS frame of the session (SPDY3.md §5.1–§5.2), with the
//! version's preset dictionary and a bomb guard (CONFORMANCE C45, C46, B1).
//!
//! It never skips a block (the sync rule, SPDY3.md §5.6): an oversized block is inflated
//! to the end into a scratch area so the next frame still decodes. It refuses to grow any
//! buffer past the block limit, to allocate from anything the peer declared, or to touch
//! a stream after a zlib error (the shared state is gone; the session must close).
//!
//! An idle session can [`Inflater::hibernate`] it: between sync-flushed blocks the only
//! state that matters is zlib's 32 KiB window, of which an idle session has usually
//! filled a few hundred bytes past the (static) dictionary; those are all it keeps.

use core::ffi::c_int;

use crate::spdy::error::{SessionError, SessionOffence};
use crate::spdy::version::Version;

/// Output limits for one header block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InflateLimits {
    /// Largest decompressed block handed to the caller (C45, default 64 KiB); beyond it
    /// the block is inflated to its end and discarded ([`InflateOutcome::TooLarge`]).
    pub max_block: usize,
    /// Most bytes one frame may inflate to, discarded ones included (C46, default 1 MiB);
    /// beyond it inflating stops with [`InflateError::BudgetExceeded`].
    pub budget: usize,
}

impl Default for InflateLimits {
    fn default() -> Self {
        Self { max_block: 64 * 1024, budget: 1024 * 1024 }
    }
}

/// What one frame's compressed bytes produced when zlib was happy with them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InflateOutcome {
    /// The whole block is in `out` (at most `max_block` bytes).
    Complete,
    /// The block inflated to more than `max_block` bytes; all of it went through zlib (the
    /// context is in sync), none of it is kept: `out` is empty. RST FRAME_TOO_LARGE (C45).
    TooLarge,
    /// The frame carried no compressed bytes; zlib was not called. The caller answers
    /// RST_STREAM PROTOCOL_ERROR and the session goes on (C12a).
    Empty,
}

/// A zlib failure: the shared context is lost, the session must end with GOAWAY
/// PROTOCOL_ERROR (SPDY3.md §5.2 step 5). The inflater refuses all later input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InflateError {
    /// The first block asked for a dictionary other than the version's (C33).
    #[error("header block compressed with dictionary {found:#010x}, not the SPDY one")]
    WrongDictionary { found: u32 },
    /// zlib data error, the stream ended, or a dictionary was asked for again (C34); also
    /// every call after any error.
    #[error("corrupt header compression stream")]
    Corrupt,
    /// One frame inflated past the hard budget (C46).
    #[error("header block inflates past the budget")]
    BudgetExceeded,
}

impl From<InflateError> for SessionError {
    fn from(e: InflateError) -> Self {
        SessionError::protocol(match e {
            InflateError::WrongDictionary { .. } => SessionOffence::WrongDictionary,
            InflateError::Corrupt => SessionOffence::CorruptCompression,
            InflateError::BudgetExceeded => SessionOffence::InflateBudgetExceeded,
        })
    }
}

/// Heap bytes one awake inflater holds: zlib-rs 0.6's state and a window of 2^15 + 64
/// bytes in one block (47,552 bytes, whatever window the sender used: `zlib_rs::inflate::init`
/// sizes the window by `MAX_WBITS`, so asking for the header's window size saves nothing
/// with this backend), plus the boxed `z_stream` it is driven through. Checked against a
/// counting allocator in `tests/interop_zlib.rs`.
pub const ZLIB_RS_INFLATE_BYTES: usize = 47_552 + core::mem::size_of::<libz_rs_sys::z_stream>();

/// The deflate window: the furthest back a distance can reach (RFC 1951 §3.2.5).
const WINDOW: usize = 1 << 15;
/// Discard area for output past `max_block`, allocated only when a block gets there (a
/// zeroed stack array here cost a 4 KiB memset on every block).
const SCRATCH: usize = 4096;
/// First output reservation for a block, before the compressed size is considered.
const MIN_CHUNK: usize = 256;

/// One direction's header decompressor for one session.
pub struct Inflater {
    version: Version,
    limits: InflateLimits,
    state: State,
    dictionary_installed: bool,
    /// `hibernate` may be used: zlib stops at every deflate block boundary (Z_BLOCK) so
    /// that an idle stream's state can be checked; off, a block inflates in one
    /// Z_SYNC_FLUSH call (see [`Inflater::set_hibernation`]).
    hibernation: bool,
}

enum State {
    /// No block inflated yet: no zlib state; the first block brings the zlib header.
    Fresh,
    Awake(Awake),
    /// Between blocks, with no zlib state: what the next block may refer back to.
    Hibernating(History),
    /// A zlib error ended the stream.
    Poisoned,
}

struct Awake {
    zlib: raw::Stream,
    /// What was put into this stream's window before its first output: the last
    /// `dictionary_tail` bytes of the dictionary, then `history_len` bytes of earlier output.
    dictionary_tail: usize,
    history_len: usize,
}

/// The window of a hibernating inflater: the last `dictionary_tail` bytes of the version's
/// dictionary followed by `output` (together at most 32 KiB; the dictionary is static,
/// so only the output bytes are stored).
struct History {
    dictionary_tail: usize,
    output: Box<[u8]>,
}

impl Inflater {
    pub fn new(version: Version, limits: InflateLimits) -> Self {
        Self { version, limits, state: State::Fresh, dictionary_installed: false, hibernation: true }
    }

    /// Inflates one frame's compressed header bytes into `out` (cleared first).
    ///
    /// All of `compressed` goes through the shared stream and all output it yields is
    /// drained, so the next frame starts where this one ended (sync flush semantics).
    /// A hibernating inflater resumes first (see [`Inflater::hibernate`]).
    pub fn inflate(&mut self, compressed: &[u8], out: &mut Vec<u8>) -> Result<InflateOutcome, InflateError> {
        out.clear();
        if matches!(self.state, State::Poisoned) {
            return Err(InflateError::Corrupt);
        }
        if compressed.is_empty() {
            return Ok(InflateOutcome::Empty);
        }
        let result = self.wake().and_then(|()| self.run(compressed, out));
        if result.is_err() {
            // The zlib state is useless from here on: give its memory back now.
            self.state = State::Poisoned;
            out.clear();
        }
        result
    }

    /// Gives the zlib state (`ZLIB_RS_INFLATE_BYTES`) back, keeping only what the next
    /// block may refer to: the last 32 KiB of (dictionary ++ everything inflated so far),
    /// of which only the part past the dictionary is stored. The next [`Inflater::inflate`]
    /// rebuilds the state transparently and decodes exactly as if nothing had happened.
    ///
    /// Intended call point: the session, when it goes idle (no open stream, nothing to
    /// read), after the last header block it received; it is cheap to call again.
    ///
    /// Sound because "the compressor ends each header block with a sync flush
    /// (`Z_SYNC_FLUSH`)" (SPDY3.md §5.1): after it the deflate stream sits at a block
    /// boundary on a byte boundary, the zlib header and dictionary id are long
    /// consumed and the Adler-32 trailer will never come (the stream never ends), so a
    /// raw inflater (no zlib header) whose window is set to that history carries on
    /// the same stream. Whether zlib is in exactly that state is read from its
    /// `data_type` (next block header expected, no bits buffered, not the last block);
    /// when it is not (a peer that split a block over frames), nothing happens. (To keep
    /// that readable, zlib is called with Z_BLOCK, one extra call per deflate block:
    /// about 0.1–0.3 µs per header block, `bench/inflate_hibernate.rs`.)
    ///
    /// Returns whether the inflater is hibernating afterwards. Does nothing, returning
    /// false, before the first block and after an error.
    pub fn hibernate(&mut self) -> bool {
        if !self.hibernation {
            return false;
        }
        let awake = match &self.state {
            State::Hibernating(_) => return true,
            State::Fresh | State::Poisoned => return false,
            State::Awake(awake) => awake,
        };
        if awake.zlib.data_type() != raw::AT_BLOCK_BOUNDARY {
            return false;
        }
        let Some(window) = awake.zlib.window() else {
            return false;
        };
        let have = window.len();
        // The window is the tail of: dictionary_tail bytes of dictionary, history_len
        // bytes of earlier output, then total_out bytes of this stream's output.
        let later = awake.history_len.saturating_add(awake.zlib.total_out());
        let dictionary = self.version.dictionary();
        let mut tail = have.saturating_sub(later).min(awake.dictionary_tail);
        if !dictionary.ends_with(&window[..tail]) {
            tail = 0; // never expected; keeping every byte stays correct
        }
        let output: Box<[u8]> = if tail == 0 { window.into_boxed_slice() } else { window[tail..].into() };
        self.state = State::Hibernating(History { dictionary_tail: tail, output });
        true
    }

    /// Allows or forbids [`Inflater::hibernate`] (allowed by default). Forbidden, every
    /// block inflates in one zlib call instead of one per deflate block (a sync-flushed
    /// block is at least two), which a peer that is never idle — a load generator's
    /// client — gains from (~25% less inflate time measured on small reply blocks); the
    /// decoded bytes and every error are the same either way. Only before the first block.
    pub fn set_hibernation(&mut self, allowed: bool) {
        if matches!(self.state, State::Fresh) {
            self.hibernation = allowed;
        }
    }

    /// Whether the inflater holds only its history (see [`Inflater::hibernate`]).
    pub fn is_hibernating(&self) -> bool {
        matches!(self.state, State::Hibernating(_))
    }

    /// Turns a fresh or hibernating inflater into an awake one.
    fn wake(&mut self) -> Result<(), InflateError> {
        let awake = match &self.state {
            State::Awake(_) => return Ok(()),
            State::Poisoned => return Err(InflateError::Corrupt),
            // The first block carries the zlib header and maybe the dictionary request.
            State::Fresh => Awake { zlib: raw::Stream::new(true)?, dictionary_tail: 0, history_len: 0 },
            State::Hibernating(history) => {
                // Past the header: raw deflate, window preset with the history. A raw
                // stream has no checksum to keep (zlib-rs skips it when not wrapped).
                let mut zlib = raw::Stream::new(false)?;
                let dictionary = self.version.dictionary();
                zlib.set_dictionary(&dictionary[dictionary.len() - history.dictionary_tail..])?;
                zlib.set_dictionary(&history.output)?;
                Awake { zlib, dictionary_tail: history.dictionary_tail, history_len: history.output.len() }
            }
        };
        self.state = State::Awake(awake);
        Ok(())
    }

    fn run(&mut self, compressed: &[u8], out: &mut Vec<u8>) -> Result<InflateOutcome, InflateError> {
        let max_block = self.limits.max_block;
        let first_chunk = compressed.len().saturating_mul(4).max(MIN_CHUNK).min(max_block);
        let State::Awake(awake) = &mut self.state else {
            return Err(InflateError::Corrupt); // `wake` ran first
        };
        let mut scratch: Vec<u8> = Vec::new();
        let mut consumed = 0usize;
        let mut produced_total = 0usize;
        let mut too_large = false;
        let mut stalled = false;

        // `out[..filled]` is output; `out[filled..]` zero-filled room for more.
        let mut filled = 0usize;
        loop {
            let in_out = filled < max_block;
            let dst: &mut [u8] = if in_out {
                if filled == out.len() {
                    // Grow `out` stepwise, never past `max_block` and never by what the
                    // peer declares: double what we have, starting from a guess based on
                    // the frame's own compressed size (so a small block zero-fills little
                    // even when `out` kept a large capacity from an earlier one).
                    let want = (filled * 2).max(first_chunk).min(max_block);
                    if out.capacity() < want {
                        out.reserve_exact(want - filled);
                    }
                    out.resize(want, 0);
                }
                &mut out[filled..]
            } else {
                if scratch.is_empty() {
                    scratch = vec![0u8; SCRATCH];
                }
                &mut scratch[..]
            };
            let room = dst.len();
            let flush = if self.hibernation { libz_rs_sys::Z_BLOCK } else { libz_rs_sys::Z_SYNC_FLUSH };
            let step = awake.zlib.inflate(&compressed[consumed..], dst, flush);
            let (used, made) = (step.used, step.made);
            consumed += used;
            produced_total += made;
            if in_out {
                filled += made;
            } else if made > 0 {
                too_large = true;
            }
            match step.code {
                libz_rs_sys::Z_OK | libz_rs_sys::Z_BUF_ERROR => {}
                // C34: a finished stream can carry no later blocks.
                libz_rs_sys::Z_STREAM_END => return Err(InflateError::Corrupt),
                libz_rs_sys::Z_NEED_DICT => {
                    let found = awake.zlib.adler();
                    if self.dictionary_installed {
                        return Err(InflateError::Corrupt); // C34: dictionary demanded again
                    }
                    if found != self.version.dictionary_id() {
                        // C33: SPDY3.md §5.2 step 3, "A different DICTID → session error".
                        return Err(InflateError::WrongDictionary { found });
                    }
                    let dictionary = self.version.dictionary();
                    awake.zlib.set_dictionary(dictionary)?;
                    awake.dictionary_tail = dictionary.len();
                    self.dictionary_installed = true;
                    continue;
                }
                // C34: a zlib data error.
                _ => return Err(InflateError::Corrupt),
            }
            if produced_total > self.limits.budget {
                return Err(InflateError::BudgetExceeded); // C46
            }
            if consumed == compressed.len() && made < room {
                break; // all input in, and zlib stopped short of filling the output: drained
            }
            if used == 0 && made == 0 {
                if consumed == compressed.len() {
                    break;
                }
                // Input left, room to write, and zlib moves nothing: never spin on it.
                // Once is fine where zlib stopped at a block boundary (Z_BLOCK stops
                // there even without progress, right after the dictionary); the next
                // call always moves past it.
                if stalled || awake.zlib.data_type() != raw::AT_BLOCK_BOUNDARY {
                    return Err(InflateError::Corrupt);
                }
                stalled = true;
            } else {
                stalled = false;
            }
        }
        out.truncate(filled);
        if too_large {
            out.clear();
            return Ok(InflateOutcome::TooLarge); // C45
        }
        Ok(InflateOutcome::Complete)
    }

    /// Whether a zlib error has ended this stream (every later call fails).
    pub fn is_poisoned(&self) -> bool {
        matches!(self.state, State::Poisoned)
    }

    /// The version whose dictionary this inflater expects.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Heap bytes held: 0 until the first block and after an error,
    /// [`ZLIB_RS_INFLATE_BYTES`] while awake, the stored history while hibernating (the
    /// caller's `out` buffer is not counted).
    pub fn state_bytes(&self) -> usize {
        match &self.state {
            State::Fresh | State::Poisoned => 0,
            State::Awake(_) => ZLIB_RS_INFLATE_BYTES,
            State::Hibernating(history) => history.output.len(),
        }
    }
}

impl core::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let state = match &self.state {
            State::Fresh => "fresh",
            State::Awake(_) => "awake",
            State::Hibernating(_) => "hibernating",
            State::Poisoned => "poisoned",
        };
        f.debug_struct("Inflater")
            .field("version", &self.version)
            .field("limits", &self.limits)
            .field("state", &state)
            .field("state_bytes", &self.state_bytes())
            .field("dictionary_installed", &self.dictionary_installed)
            .finish()
    }
}

/// A zlib-rs inflate stream driven through its C API (`libz-rs-sys`), which has what the
/// safe wrappers lack: `inflateGetDictionary` and `data_type`. All `unsafe` of the
/// inflater is here.
mod raw {
    use super::{c_int, InflateError, WINDOW};
    use libz_rs_sys as z;

    /// `data_type` when inflate stopped (flush Z_BLOCK) before the next block header,
    /// holds no buffered bits and has not seen the last block (zlib.h: "plus 128 if
    /// inflate() returned immediately after decoding an end-of-block code or decoding
    /// the complete header up to just before the first byte of the deflate stream").
    pub(super) const AT_BLOCK_BOUNDARY: c_int = 128;

    /// One call's effect.
    pub(super) struct Step {
        pub(super) used: usize,
        pub(super) made: usize,
        pub(super) code: c_int,
    }

    /// Owns an initialised `z_stream`; boxed so an idle `Inflater` stays small.
    pub(super) struct Stream(Box<z::z_stream>);

    impl Stream {
        /// `zlib_header`: expect RFC 1950 framing (the first block); else raw deflate.
        pub(super) fn new(zlib_header: bool) -> Result<Self, InflateError> {
            let mut strm = Box::new(z::z_stream::default());
            let bits: c_int = if zlib_header { 15 } else { -15 };
            let size = core::mem::size_of::<z::z_stream>() as c_int;
            // SAFETY: `strm` is a valid, default (null allocator: zlib-rs picks the Rust
            // one) z_stream; the version string is zlib-rs's own, NUL-terminated.
            let code = unsafe { z::inflateInit2_(&mut *strm, bits, z::zlibVersion(), size) };
            if code != z::Z_OK {
                // Only on allocation failure (which aborts with the Rust allocator).
                return Err(InflateError::Corrupt);
            }
            if zlib_header {
                // The stream never ends (C121), so the adler32 of the output that zlib keeps
                // for the trailer is never compared with anything: skip computing it (it
                // was ~1.5% of spdyload's CPU). The header check, FDICT and the dictionary
                // id (Z_NEED_DICT, C33) are unaffected; a peer that does end the stream is
                // still Z_STREAM_END, i.e. corrupt (C34), with or without the check.
                // SAFETY: `strm` was initialised just above and not ended.
                unsafe { z::inflateValidate(&mut *strm, 0) };
            }
            Ok(Self(strm))
        }

        /// One zlib call with `flush` (Z_BLOCK, or Z_SYNC_FLUSH when hibernation is off).
        pub(super) fn inflate(&mut self, input: &[u8], output: &mut [u8], flush: c_int) -> Step {
            let strm = &mut *self.0;
            let avail_in = input.len().min(u32::MAX as usize);
            let avail_out = output.len().min(u32::MAX as usize);
            strm.next_in = input.as_ptr();
            strm.avail_in = avail_in as u32;
            strm.next_out = output.as_mut_ptr();
            strm.avail_out = avail_out as u32;
            // Z_BLOCK (the default), not Z_SYNC_FLUSH: inflate stops at every deflate block
            // boundary, so that after a sync-flushed header block `data_type` says it is
            // at one (with Z_SYNC_FLUSH it would already wait inside the next block's
            // header), which `hibernate` relies on.
            // SAFETY: the stream was initialised by `new` and not ended; next_in/avail_in
            // and next_out/avail_out describe live slices borrowed for this call only.
            let code = unsafe { z::inflate(strm, flush) };
            let used = avail_in - strm.avail_in as usize;
            let made = avail_out - strm.avail_out as usize;
            // No pointer into the caller's buffers outlives the call.
            strm.next_in = core::ptr::null();
            strm.avail_in = 0;
            strm.next_out = core::ptr::null_mut();
            strm.avail_out = 0;
            Step { used, made, code }
        }

        pub(super) fn set_dictionary(&mut self, dictionary: &[u8]) -> Result<(), InflateError> {
            let len = u32::try_from(dictionary.len()).map_err(|_| InflateError::Corrupt)?;
            // SAFETY: initialised stream; the pointer and length describe `dictionary`.
            let code = unsafe { z::inflateSetDictionary(&mut *self.0, dictionary.as_ptr(), len) };
            if code == z::Z_OK {
                Ok(())
            } else {
                Err(InflateError::Corrupt)
            }
        }

        /// The window (at most 32 KiB, oldest byte first), in a buffer of its exact size.
        pub(super) fn window(&self) -> Option<Vec<u8>> {
            let mut len: z::uInt = 0;
            // SAFETY: initialised stream; a null buffer asks for the length only.
            let code = unsafe { z::inflateGetDictionary(&*self.0, core::ptr::null_mut(), &mut len) };
            let len = len as usize;
            if code != z::Z_OK || len > WINDOW {
                return None;
            }
            let mut buf = vec![0u8; len];
            // SAFETY: initialised stream, unchanged since the call above (`&self`), so the
            // window is still `len` bytes long and `buf` holds it.
            let code = unsafe { z::inflateGetDictionary(&*self.0, buf.as_mut_ptr(), &mut 0) };
            (code == z::Z_OK).then_some(buf)
        }

        pub(super) fn data_type(&self) -> c_int {
            self.0.data_type
        }

        /// After Z_NEED_DICT: the dictionary id the zlib header asked for.
        pub(super) fn adler(&self) -> u32 {
            self.0.adler as u32
        }

        /// Bytes this stream has inflated (saturating).
        pub(super) fn total_out(&self) -> usize {
            usize::try_from(self.0.total_out).unwrap_or(usize::MAX)
        }
    }

    impl Drop for Stream {
        fn drop(&mut self) {
            // SAFETY: initialised by `new`, ended exactly once here.
            unsafe { z::inflateEnd(&mut *self.0) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spdy::header::deflate::{Strategy, ZlibEncoder};
    use crate::spdy::header::wire::{self, NvLimits};
    use crate::spdy::header::{HeaderBlock, HeaderEncoder};
    use flate2::{Compress, Compression, FlushCompress};
    use hex_literal::hex;

    fn pairs(version: Version, plain: &[u8]) -> Vec<(String, String)> {
        let mut block = HeaderBlock::new();
        wire::decode(version, plain, &NvLimits::default(), &mut block).unwrap();
        block.iter().map(|(n, v)| (String::from_utf8_lossy(n).into_owned(), String::from_utf8_lossy(v).into_owned())).collect()
    }

    /// flate2 compressor (zlib-rs) with an optional dictionary, for inputs our encoder
    /// would never produce.
    fn compressor(level: u32, bits: u8, dictionary: Option<&[u8]>) -> Compress {
        let mut c = Compress::new_with_window_bits(Compression::new(level), true, bits);
        if let Some(d) = dictionary {
            c.set_dictionary(d).unwrap();
        }
        c
    }

    fn compress(c: &mut Compress, input: &[u8], flush: FlushCompress) -> Vec<u8> {
        let mut out = Vec::with_capacity(input.len() + 1024);
        let mut pos = 0;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity());
            }
            let before = c.total_in();
            c.compress_vec(&input[pos..], &mut out, flush).unwrap();
            pos += (c.total_in() - before) as usize;
            if pos == input.len() && out.capacity() - out.len() >= 64 {
                // one more call drains anything left of the flush
                let len = out.len();
                c.compress_vec(&[], &mut out, flush).unwrap();
                if out.len() == len {
                    return out;
                }
            }
        }
    }

    #[test]
    fn vector_1_spdy3_syn_stream_from_node_spdy() {
        let frame = hex!("800300010000002c0000000100000000000078f9e3c6a7c202e50e507ab442a45a77d7105006b32a4804974d8cfa00000000ffff");
        let mut inf = Inflater::new(Version::Spdy3, InflateLimits::default());
        assert_eq!(inf.state_bytes(), 0);
        let mut out = Vec::new();
        assert_eq!(inf.inflate(&frame[18..], &mut out), Ok(InflateOutcome::Complete));
        assert_eq!(pairs(Version::Spdy3, &out), [(":method".into(), "GET".into()), (":path".into(), "/".into())]);
        assert_eq!(inf.state_bytes(), ZLIB_RS_INFLATE_BYTES);
    }

    const V2_CHROMIUM: [u8; 460] = hex!(
        "80020001010001c40000000100000000000038eadfa251b262e0666083a41706"
        "7bb80b75302cd6ae4017cdcdb12eb435d0b3d4d1d2d702b32c18f850732c036f"
        "68889bae850e44da94811f2d0b3308821ca80375a14e714a72065c0d2cd619f8"
        "52f37443837552f3a076b041628ae1b6a357b01e307681093b37b508a85f0f22"
        "615b0306a505b97a258949b69979401fe7e4582b64651625ea95e4a7a7e7a426"
        "01134d763158334c535e625970666e414e6a3040a98945c919aac62eaa46c640"
        "c1ccf4c492fc22ddb44c60c817e916972681ca2ba0d375338b8b4b53134b4a8a"
        "32934a4b528b75d38bf24b0b548d9c81da92f37373f3f340a91fe493625d608e"
        "cb02a67fa07001b0b4c92b812a863a099b17185840e516031f2871e780985616"
        "0616060c6cb9c0f2323f8581d9dd358481ad1898c57253814a4b4a0a18984151"
        "c9a8cfc085287f18da7df3ab3273721201d237d53350d0883034b456f0c9cc2b"
        "ad50a8b0308b3733d154700446676a786a92776689bea9b1a99ea18286b74788"
        "af8f8e424e6676aa827b6a7276bea6426852695e49a9bea1a19e8189827306b0"
        "50cd2ccdd53734d633d033b730d233318408a6a2080527a6251665424c656087"
        "2637060e582a04000000ffff"
    );

    #[test]
    fn vector_2_chromium_spdy2_capture() {
        let mut inf = Inflater::new(Version::Spdy2, InflateLimits::default());
        let mut out = Vec::new();
        assert_eq!(inf.inflate(&V2_CHROMIUM[18..], &mut out), Ok(InflateOutcome::Complete));
        let got = pairs(Version::Spdy2, &out);
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["accept", "accept-charset", "accept-encoding", "accept-language", "cookie", "host", "method", "scheme", "url", "user-agent", "version"]
        );
        let get = |n: &str| got.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("host"), Some("localhost:8080"));
        assert_eq!(get("method"), Some("GET"));
        assert_eq!(get("scheme"), Some("http"));
        assert_eq!(get("url"), Some("/"));
        assert_eq!(get("version"), Some("HTTP/1.1"));
    }

    #[test]
    fn c33_capture_with_other_versions_dictionary_is_wrong_dictionary() {
        let mut inf = Inflater::new(Version::Spdy3, InflateLimits::default());
        let mut out = Vec::new();
        let e = inf.inflate(&V2_CHROMIUM[18..], &mut out).unwrap_err();
        assert_eq!(e, InflateError::WrongDictionary { found: Version::Spdy2.dictionary_id() });
        assert_eq!(SessionError::from(e).offence, SessionOffence::WrongDictionary);
        assert!(inf.is_poisoned());
        assert_eq!(inf.state_bytes(), 0, "a poisoned inflater frees its zlib state");
        assert_eq!(inf.inflate(&V2_CHROMIUM[18..], &mut out), Err(InflateError::Corrupt));
    }

    #[test]
    fn vector_3_stored_level_syn_reply() {
        let frame = hex!(
            "80 03 00 02 00 00 00 45 00 00 00 01 78 3f e3 c6 a7 c2 00 31 00 ce ff 00 00 00 02 00 00 00 07 3a 73 74 61 74 75 73 00 00 00 06 32 30 30 20 4f 4b 00 00 00 08 3a 76 65 72 73 69 6f 6e 00 00 00 08 48 54 54 50 2f 31 2e 31 00 00 00 ff ff"
        );
        let mut inf = Inflater::new(Version::Spdy31, InflateLimits::default());
        let mut out = Vec::new();
        assert_eq!(inf.inflate(&frame[12..], &mut out), Ok(InflateOutcome::Complete));
        assert_eq!(pairs(Version::Spdy3, &out), [(":status".into(), "200 OK".into()), (":version".into(), "HTTP/1.1".into())]);
    }

    #[test]
    fn c33a_first_block_without_dictionary_decodes() {
        let block: HeaderBlock = [(":method", "GET"), (":path", "/x")].into_iter().collect();
        let mut plain = Vec::new();
        wire::encode(Version::Spdy3, &block, &mut plain);
        let mut c = compressor(6, 15, None);
        let mut inf = Inflater::new(Version::Spdy3, InflateLimits::default());
        let mut out = Vec::new();
        for _ in 0..3 {
            let z = compress(&mut c, &plain, FlushCompress::Sync);
            assert_eq!(inf.inflate(&z, &mut out), Ok(InflateOutcome::Complete));
            assert_eq!(out, plain);
        }
    }

    #[test]
    fn c35_every_window_and_level_decodes() {
        for version in [Version::Spdy2, Version::Spdy3] {
            let block: HeaderBlock = [("host", "example.com"), ("accept", "text/html"), ("x-n", "1")].into_iter().collect();
            let mut plain = Vec::new();
            wire::encode(version, &block, &mut plain);
            for bits in 9..=15 {
                for level in 0..=9 {
                    let mut c = compressor(level, bits, Some(version.dictionary()));
                    let mut inf = Inflater::new(version, InflateLimits::default());
                    let mut out = Vec::new();
                    for _ in 0..2 {
                        let z = compress(&mut c, &plain, FlushCompress::Sync);
                        assert_eq!(inf.inflate(&z, &mut out), Ok(InflateOutcome::Complete), "{version} {bits} {level}");
                        assert_eq!(out, plain);
                    }
                }
            }
        }
    }

    #[test]
    fn c36_three_blocks_sharing_one_context_decode_in_order() {
        let mut enc = ZlibEncoder::new(Version::Spdy3, 9, 11, 1);
        let blocks: Vec<HeaderBlock> = (0..3)
            .map(|i| [(":method", "GET".to_string()), (":path", format!("/a/very/long/shared/path/{i}")), ("cookie", "x".repeat(200))].into_iter().collect())
            .collect();
        let frames: Vec<Vec<u8>> = blocks
            .iter()
            .map(|b| {
                let mut z = Vec::new();
                enc.encode(b, &mut z);
                z
            })
            .collect();
        // Later blocks refer back: alone, they cannot be decoded.
        assert!(frames[2].len() < 40, "block 3 is {} bytes", frames[2].len());
        let mut inf = Inflater::new(Version::Spdy3, InflateLimits::default());
        let mut out = Vec::new();
        let mut got = HeaderBlock::new();
        for (b, z) in blocks.iter().zip(&frames) {
            assert_eq!(inf.inflate(z, &mut out), Ok(InflateOutcome::Complete));
            wire::decode(Version::Spdy3, &out, &NvLimits::default(), &mut got).unwrap();
            assert_eq!(&got, b);
        }
    }

    #[test]
    fn c34_data_error_poisons() {
        let mut enc = ZlibEncoder::new(Version::Spdy3, 6, 11, 1);
        let mut inf = Inflater::new(Version::Spdy3, InflateLimits::default());
        let (mut z, mut out) = (Vec::new(), Vec::new());
        enc.encode(&[("a", "1")].into_iter().collect(), &mut z);
        assert_eq!(inf.inflate(&z, &mut out), Ok(InflateOutcome::Complete));
        // 0xff: final block of the reserved type 3.
        let e = inf.inflate(&hex!("ff ff ff ff"), &mut out).unwrap_err();
        assert_eq!(e, InflateError::Corrupt);
        assert_eq!(SessionError::from(e).offence, SessionOffence::CorruptCompression);
        assert!(out.is_empty());
        z.clear();
        enc.encode(&[("b", "2")].into_iter().collect(), &mut z);
        assert_eq!(inf.inflate(&z, &mut out), Err(InflateError::Corrupt));
    }

    #[test]
    fn c34_finished_stream_is_corrupt() {
        let mut plain = Vec::new();
        wire::encode(Version::Spdy3, &[("a", "1")].into_iter().collect(), &mut plain);
        let mut c = compressor(6, 15, Some(Version::Spdy3.dictionary()));
        let z = compress(&mut c, &plain, FlushCompress::Finish);
        let mut inf = Inflater::new(Version::Spdy3, InflateLimits::default());
        assert_eq!(inf.inflate(&z, &mut Vec::new()), Err(InflateError::Corrupt));
    }

    #[test]
    fn c34_garbage_first_block_is_corrupt() {
        // Not a zlib header (CM 15).
        let mut inf = Inflater::new(Version::Spdy3, InflateLimits::default());
        assert_eq!(inf.inflate(&hex!("7f 01 02 03"), &mut Vec::new()), Err(InflateError::Corrupt));
    }

    #[test]
    fn c12a_empty_block_leaves_zlib_untouched() {
        let mut enc = ZlibEncoder::new(Version::Spdy3, 6, 11, 1);
        let mut inf = Inflater::new(Version::Spdy3, InflateLimits::default());
        let mut out = vec![1, 2, 3];
        assert_eq!(inf.inflate(&[], &mut out), Ok(InflateOutcome::Empty));
        assert!(out.is_empty());
        assert_eq!(inf.state_bytes(), 0, "no zlib state created for an empty block");
        let mut z = Vec::new();
        enc.encode(&[("a", "1")].into_iter().collect(), &mut z);
        assert_eq!(inf.inflate(&z, &mut out), Ok(InflateOutcome::Complete));
        assert_eq!(inf.inflate(&[], &mut out), Ok(InflateOutcome::Empty));
        z.clear();
        enc.encode(&[("b", "2")].into_iter().collect(), &mut z);
        assert_eq!(inf.inflate(&z, &mut out), Ok(InflateOutcome::Complete));
        assert_eq!(pairs(Version::Spdy3, &out), [("b".into(), "2".into())]);
    }

    #[test]
    fn frames_split_anywhere_still_decode() {
        // The stream is shared: a block split over two frames (even inside the zlib
        // header) decodes as the concatenation.
        let mut enc = ZlibEncoder::new(Version::Spdy3, 9, 11, 1);
        let block: HeaderBlock = [(":method", "GET"), (":path", "/split")].into_iter().collect();
        let mut z = Vec::new();
        enc.encode(&block, &mut z);
        let mut plain = Vec::new();
        wire::encode(Version::Spdy3, &block, &mut plain);
        for cut in [1, 3, 6, 7, z.len() - 1] {
            let mut inf = Inflater::new(Version::Spdy3, InflateLimits::default());
            let (mut a, mut b) = (Vec::new(), Vec::new());
            assert_eq!(inf.inflate(&z[..cut], &mut a), Ok(InflateOutcome::Complete));
            assert_eq!(inf.inflate(&z[cut..], &mut b), Ok(InflateOutcome::Complete));
            a.extend_from_slice(&b);
            assert_eq!(a, plain, "cut at {cut}");
        }
    }

    /// A block whose single value inflates to `n` bytes, compressed at level 9 on `c`.
    fn bomb(c: &mut Compress, n: usize) -> Vec<u8> {
        let value = vec![b'a'; n];
        let mut plain = Vec::new();
        wire::encode(Version::Spdy3, &[(&b"x"[..], &value[..])].into_iter().collect(), &mut plain);
        compress(c, &plain, FlushCompress::Sync)
    }

    #[test]
    fn c46_two_mib_from_a_few_kib_exceeds_budget() {
        let mut c = compressor(9, 15, Some(Version::Spdy3.dictionary()));
        let z = bomb(&mut c, 2 << 20);
        assert!(z.len() < 8 * 1024, "bomb is {} bytes", z.len());
        let mut inf = Inflater::new(Version::Spdy3, InflateLimits::default());
        let mut out = Vec::new();
        let e = inf.inflate(&z, &mut out).unwrap_err();
        assert_eq!(e, InflateError::BudgetExceeded);
        assert_eq!(SessionError::from(e).offence, SessionOffence::InflateBudgetExceeded);
        assert!(out.capacity() <= 64 * 1024, "out grew to {}", out.capacity());
        assert!(inf.is_poisoned());
    }

    #[test]
    fn c45_hundred_kib_block_is_too_large_and_next_block_still_decodes() {
        let mut c = compressor(9, 15, Some(Version::Spdy3.dictionary()));
        let mut inf = Inflater::new(Version::Spdy3, InflateLimits::default());
        let mut out = Vec::new();
        let z = bomb(&mut c, 100 * 1024);
        assert_eq!(inf.inflate(&z, &mut out), Ok(InflateOutcome::TooLarge));
        assert!(out.is_empty());
        assert!(out.capacity() <= 64 * 1024, "out grew to {}", out.capacity());
        // Sync check: the next block on the same context decodes.
        let mut plain = Vec::new();
        wire::encode(Version::Spdy3, &[(":method", "GET"), (":path", "/after")].into_iter().collect(), &mut plain);
        let z = compress(&mut c, &plain, FlushCompress::Sync);
        assert_eq!(inf.inflate(&z, &mut out), Ok(InflateOutcome::Complete));
        assert_eq!(out, plain);
        // A block of exactly the limit is complete.
        let mut inf = Inflater::new(Version::Spdy3, InflateLimits { max_block: plain.len(), budget: 1 << 20 });
        let mut c = compressor(1, 15, Some(Version::Spdy3.dictionary()));
        let z = compress(&mut c, &plain, FlushCompress::Sync);
        assert_eq!(inf.inflate(&z, &mut out), Ok(InflateOutcome::Complete));
        assert_eq!(out, plain);
        let z = compress(&mut c, &[plain.clone(), vec![0]].concat(), FlushCompress::Sync);
        assert_eq!(inf.inflate(&z, &mut out), Ok(InflateOutcome::TooLarge));
    }

    #[test]
    fn a_bomb_spread_over_many_small_frames_is_bounded_per_frame() {
        // Each frame is judged on its own output; capacity never passes max_block.
        let mut c = compressor(9, 15, Some(Version::Spdy3.dictionary()));
        let limits = InflateLimits { max_block: 8 * 1024, budget: 32 * 1024 };
        let mut inf = Inflater::new(Version::Spdy3, limits);
        let mut out = Vec::new();
        for n in [1000, 8000, 9000, 20_000] {
            let z = bomb(&mut c, n);
            let expect = if n + 20 <= limits.max_block { InflateOutcome::Complete } else { InflateOutcome::TooLarge };
            assert_eq!(inf.inflate(&z, &mut out), Ok(expect), "{n}");
            assert!(out.capacity() <= limits.max_block);
        }
        assert_eq!(inf.inflate(&bomb(&mut c, 40_000), &mut out), Err(InflateError::BudgetExceeded));
    }

    #[test]
    fn huffman_only_and_stored_encoders_decode() {
        for (level, strategy) in [(9, Strategy::HuffmanOnly), (0, Strategy::Default)] {
            let mut enc = ZlibEncoder::with_strategy(Version::Spdy2, level, 11, 1, strategy);
            let mut inf = Inflater::new(Version::Spdy2, InflateLimits::default());
            let block: HeaderBlock = [("method", "GET"), ("url", "/")].into_iter().collect();
            let (mut z, mut out, mut plain) = (Vec::new(), Vec::new(), Vec::new());
            wire::encode(Version::Spdy2, &block, &mut plain);
            for _ in 0..3 {
                z.clear();
                enc.encode(&block, &mut z);
                assert_eq!(inf.inflate(&z, &mut out), Ok(InflateOutcome::Complete));
                assert_eq!(out, plain);
            }
        }
    }

    // --- hibernation ----------------------------------------------------------------

    /// Printable bytes from a small xorshift generator: values zlib cannot shrink much,
    /// so repeats of them are the only matches and each is a real back-reference.
    fn noise(seed: u64, n: usize) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                b'!' + (x % 90) as u8
            })
            .collect()
    }

    fn plain(version: Version, pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        wire::encode(version, &pairs.iter().copied().collect(), &mut out);
        out
    }

    /// Feeds `frames` to a never-hibernated inflater and to one hibernated after frame
    /// `i` whenever `hibernate_after(i)`; both must agree on every outcome and byte.
    fn agree(version: Version, limits: InflateLimits, frames: &[Vec<u8>], hibernate_after: impl Fn(usize) -> bool) -> usize {
        let mut awake = Inflater::new(version, limits);
        let mut sleepy = Inflater::new(version, limits);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let mut hibernations = 0;
        for (i, z) in frames.iter().enumerate() {
            let expect = awake.inflate(z, &mut a);
            assert_eq!(sleepy.inflate(z, &mut b), expect, "frame {i}");
            assert_eq!(a, b, "frame {i}");
            assert!(!sleepy.is_hibernating());
            if hibernate_after(i) && sleepy.hibernate() {
                assert!(sleepy.is_hibernating());
                assert!(sleepy.state_bytes() <= WINDOW);
                hibernations += 1;
            }
        }
        hibernations
    }

    #[test]
    fn hibernate_is_a_no_op_before_the_first_block_and_after_an_error() {
        let mut inf = Inflater::new(Version::Spdy3, InflateLimits::default());
        assert!(!inf.hibernate());
        assert_eq!(inf.inflate(&[], &mut Vec::new()), Ok(InflateOutcome::Empty));
        assert!(!inf.hibernate(), "an empty frame starts nothing");
        assert_eq!(inf.state_bytes(), 0);
        assert_eq!(inf.inflate(&hex!("7f 01 02 03"), &mut Vec::new()), Err(InflateError::Corrupt));
        assert!(!inf.hibernate());
        assert!(!inf.is_hibernating());
        assert!(inf.is_poisoned());
        assert_eq!(inf.state_bytes(), 0);
    }

    #[test]
    fn hibernated_after_one_request_holds_only_that_requests_bytes() {
        // Vector 1 (node-spdy's SYN_STREAM): the window is dictionary ++ 36 bytes.
        let frame = hex!("800300010000002c0000000100000000000078f9e3c6a7c202e50e507ab442a45a77d7105006b32a4804974d8cfa00000000ffff");
        let mut inf = Inflater::new(Version::Spdy3, InflateLimits::default());
        let mut out = Vec::new();
        assert_eq!(inf.inflate(&frame[18..], &mut out), Ok(InflateOutcome::Complete));
        assert_eq!(inf.state_bytes(), ZLIB_RS_INFLATE_BYTES);
        assert!(inf.hibernate());
        assert!(inf.hibernate(), "idempotent");
        assert_eq!(inf.state_bytes(), out.len());
        let State::Hibernating(history) = &inf.state else { panic!("not hibernating") };
        assert_eq!(&history.output[..], &out[..]);
        assert_eq!(history.dictionary_tail, Version::Spdy3.dictionary().len());
        assert!(format!("{inf:?}").contains("hibernating"));
    }

    #[test]
    fn a_hibernated_inflater_wakes_on_the_next_block_and_sleeps_again() {
        let mut enc = ZlibEncoder::new(Version::Spdy3, 9, 15, 9);
        let block: HeaderBlock = [(":method", "GET"), (":path", "/index.html"), ("user-agent", "hibernate/1")].into_iter().collect();
        let mut plain_block = Vec::new();
        wire::encode(Version::Spdy3, &block, &mut plain_block);
        let mut inf = Inflater::new(Version::Spdy3, InflateLimits::default());
        let (mut z, mut out) = (Vec::new(), Vec::new());
        for round in 1..=4 {
            z.clear();
            enc.encode(&block, &mut z);
            assert_eq!(inf.inflate(&z, &mut out), Ok(InflateOutcome::Complete));
            assert_eq!(out, plain_block);
            assert!(!inf.is_hibernating());
            assert_eq!(inf.state_bytes(), ZLIB_RS_INFLATE_BYTES);
            assert!(inf.hibernate());
            assert_eq!(inf.state_bytes(), round * plain_block.len());
            // An empty frame does not wake it.
            assert_eq!(inf.inflate(&[], &mut out), Ok(InflateOutcome::Empty));
            assert!(inf.is_hibernating());
        }
        // Repeated blocks are mostly back-references into the earlier ones.
        assert!(z.len() < plain_block.len() / 4, "{} of {}", z.len(), plain_block.len());
    }

    #[test]
    fn c36_references_into_the_dictionary_survive_hibernation() {
        // Few output bytes, so the second block's matches land in the dictionary itself.
        let mut enc = ZlibEncoder::new(Version::Spdy3, 9, 15, 9);
        let first: HeaderBlock = [("x", "1")].into_iter().collect();
        let second: HeaderBlock = [("accept-encoding", "gzip,deflate,sdch"), ("content-type", "text/html; charset=utf-8")].into_iter().collect();
        let (mut z1, mut z2) = (Vec::new(), Vec::new());
        enc.encode(&first, &mut z1);
        enc.encode(&second, &mut z2);
        let mut inf = Inflater::new(Version::Spdy3, InflateLimits::default());
        let mut out = Vec::new();
        assert_eq!(inf.inflate(&z1, &mut out), Ok(InflateOutcome::Complete));
        assert!(inf.hibernate());
        let first_len = out.len();
        assert_eq!(inf.state_bytes(), first_len, "only the output is stored, not the dictionary");
        assert_eq!(inf.inflate(&z2, &mut out), Ok(InflateOutcome::Complete));
        assert_eq!(out, plain(Version::Spdy3, &[(b"accept-encoding", b"gzip,deflate,sdch"), (b"content-type", b"text/html; charset=utf-8")]));
        // Without the dictionary in its window the same bytes do not decode: the block
        // really reaches into it.
        let mut bare = raw::Stream::new(false).unwrap();
        bare.set_dictionary(&plain(Version::Spdy3, &[(b"x", b"1")])).unwrap();
        let mut dst = vec![0u8; 4096];
        let step = bare.inflate(&z2, &mut dst, libz_rs_sys::Z_BLOCK);
        assert!(step.code != libz_rs_sys::Z_OK || dst[..step.made] != out[..], "block 2 decodes without the dictionary");
    }

    #[test]
    fn history_past_32_kib_keeps_the_last_32_kib_and_drops_the_dictionary() {
        let version = Version::Spdy3;
        let mut enc = ZlibEncoder::new(version, 9, 15, 9);
        let values: Vec<Vec<u8>> = (0..6).map(|i| noise(i, 9000)).collect();
        let mut frames = Vec::new();
        for v in &values {
            let mut z = Vec::new();
            enc.encode(&[(&b"x-big"[..], &v[..])].into_iter().collect(), &mut z);
            frames.push(z);
        }
        // Then blocks that repeat the start of the oldest value still in the window.
        for (i, v) in values.iter().enumerate().skip(2) {
            let mut z = Vec::new();
            enc.encode(&[(&b"x-again"[..], &v[..3000]), (&b"n"[..], format!("{i}").as_bytes())].into_iter().collect(), &mut z);
            assert!(z.len() < 400, "repeat {i} compressed to {}", z.len());
            frames.push(z);
        }
        assert_eq!(agree(version, InflateLimits::default(), &frames, |_| true), frames.len());
        let mut inf = Inflater::new(version, InflateLimits::default());
        for z in &frames[..6] {
            assert_eq!(inf.inflate(z, &mut Vec::new()), Ok(InflateOutcome::Complete));
        }
        assert!(inf.hibernate());
        assert_eq!(inf.state_bytes(), WINDOW);
        let State::Hibernating(history) = &inf.state else { panic!("not hibernating") };
        assert_eq!(history.dictionary_tail, 0);
        assert!(history.output.ends_with(&values[5]));
    }

    #[test]
    fn c45_too_large_output_counts_as_history() {
        // A 40 KiB block is discarded (max_block 8 KiB) but went through zlib; the next
        // blocks copy from it, so the history must hold its last 32 KiB.
        let version = Version::Spdy3;
        let limits = InflateLimits { max_block: 8 * 1024, budget: 1 << 20 };
        let mut enc = ZlibEncoder::new(version, 9, 15, 9);
        let big = noise(7, 40 * 1024);
        let mut frames = Vec::new();
        for pairs in [vec![(&b"a"[..], &b"1"[..])], vec![(&b"x-big"[..], &big[..])], vec![(&b"x-tail"[..], &big[big.len() - 2000..])], vec![(&b"x-mid"[..], &big[20_000..22_000])]] {
            let mut z = Vec::new();
            enc.encode(&pairs.into_iter().collect(), &mut z);
            frames.push(z);
        }
        assert!(frames[2].len() < 100 && frames[3].len() < 100);
        for mask in [0b1111usize, 0b0010, 0b0100] {
            let mut inf = Inflater::new(version, limits);
            let mut out = Vec::new();
            let outcomes: Vec<_> = frames
                .iter()
                .enumerate()
                .map(|(i, z)| {
                    let r = inf.inflate(z, &mut out);
                    if mask & (1 << i) != 0 {
                        assert!(inf.hibernate());
                    }
                    (r, out.clone())
                })
                .collect();
            assert_eq!(outcomes[1], (Ok(InflateOutcome::TooLarge), vec![]));
            assert_eq!(outcomes[2], (Ok(InflateOutcome::Complete), plain(version, &[(b"x-tail", &big[big.len() - 2000..])])));
            assert_eq!(outcomes[3], (Ok(InflateOutcome::Complete), plain(version, &[(b"x-mid", &big[20_000..22_000])])));
        }
    }

    #[test]
    fn a_frame_ending_inside_a_block_is_not_hibernated() {
        let mut enc = ZlibEncoder::new(Version::Spdy3, 9, 15, 9);
        let block: HeaderBlock = [(":method", "GET"), (":path", "/split/over/frames")].into_iter().collect();
        let (mut z, mut z2) = (Vec::new(), Vec::new());
        enc.encode(&block, &mut z);
        enc.encode(&block, &mut z2);
        let mut plain_block = Vec::new();
        wire::encode(Version::Spdy3, &block, &mut plain_block);
        let mut inf = Inflater::new(Version::Spdy3, InflateLimits::default());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let cut = z.len() - 3; // inside the sync flush's empty stored block
        assert_eq!(inf.inflate(&z[..cut], &mut a), Ok(InflateOutcome::Complete));
        assert!(!inf.hibernate(), "zlib is mid-block");
        assert_eq!(inf.state_bytes(), ZLIB_RS_INFLATE_BYTES);
        assert_eq!(inf.inflate(&z[cut..], &mut b), Ok(InflateOutcome::Complete));
        a.extend_from_slice(&b);
        assert_eq!(a, plain_block);
        assert!(inf.hibernate(), "block boundary reached");
        assert_eq!(inf.inflate(&z2, &mut b), Ok(InflateOutcome::Complete));
        assert_eq!(b, plain_block);
    }

    #[test]
    fn c34_finished_stream_after_hibernation_is_corrupt_both_ways() {
        let version = Version::Spdy3;
        let mut c = compressor(9, 15, Some(version.dictionary()));
        let p = plain(version, &[(b"a", b"1")]);
        let frames = vec![compress(&mut c, &p, FlushCompress::Sync), compress(&mut c, &p, FlushCompress::Finish)];
        agree(version, InflateLimits::default(), &frames, |_| true);
        let mut inf = Inflater::new(version, InflateLimits::default());
        assert_eq!(inf.inflate(&frames[0], &mut Vec::new()), Ok(InflateOutcome::Complete));
        assert!(inf.hibernate());
        assert_eq!(inf.inflate(&frames[1], &mut Vec::new()), Err(InflateError::Corrupt));
        assert_eq!(inf.state_bytes(), 0);
    }

    #[test]
    fn c34_garbage_after_hibernation_poisons() {
        let mut enc = ZlibEncoder::new(Version::Spdy3, 6, 11, 1);
        let mut inf = Inflater::new(Version::Spdy3, InflateLimits::default());
        let mut z = Vec::new();
        enc.encode(&[("a", "1")].into_iter().collect(), &mut z);
        assert_eq!(inf.inflate(&z, &mut Vec::new()), Ok(InflateOutcome::Complete));
        assert!(inf.hibernate());
        assert_eq!(inf.inflate(&hex!("ff ff ff ff"), &mut Vec::new()), Err(InflateError::Corrupt));
        assert!(inf.is_poisoned() && !inf.is_hibernating() && !inf.hibernate());
    }

    #[test]
    fn c33a_stream_without_dictionary_hibernates_without_one() {
        let version = Version::Spdy3;
        let mut c = compressor(9, 15, None);
        let frames: Vec<Vec<u8>> = (0..4).map(|i| compress(&mut c, &plain(version, &[(b"x-same", &noise(1, 300)), (b"n", &[b'0' + i])]), FlushCompress::Sync)).collect();
        assert!(frames[3].len() < 60);
        assert_eq!(agree(version, InflateLimits::default(), &frames, |_| true), 4);
        let mut inf = Inflater::new(version, InflateLimits::default());
        assert_eq!(inf.inflate(&frames[0], &mut Vec::new()), Ok(InflateOutcome::Complete));
        assert!(inf.hibernate());
        let State::Hibernating(history) = &inf.state else { panic!("not hibernating") };
        assert_eq!(history.dictionary_tail, 0);
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;
        use proptest::strategy::Strategy;

        fn name() -> impl Strategy<Value = Vec<u8>> {
            proptest::collection::vec(prop_oneof![0x21u8..0x41, 0x5bu8..0x7f], 1..20)
        }
        fn value(empty_ok: bool) -> impl Strategy<Value = Vec<u8>> {
            let part = proptest::collection::vec(prop_oneof![Just(b'\t'), 0x20u8..0x7f, 0x80u8..=0xff], 1..30);
            proptest::collection::vec(part, if empty_ok { 0..4 } else { 1..4 }).prop_map(|parts| parts.join(&0u8))
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
            #[test]
            fn random_blocks_round_trip_through_one_context(
                seed in proptest::collection::vec(proptest::collection::btree_map(name(), value(true), 0..12), 1..6),
                v in 0usize..3,
                level in 0u32..10,
                bits in 9u8..16,
                mem in 1u8..10,
            ) {
                let version = [Version::Spdy2, Version::Spdy3, Version::Spdy31][v];
                let mut enc = ZlibEncoder::new(version, level, bits, mem);
                let mut inf = Inflater::new(version, InflateLimits::default());
                let (mut z, mut out, mut got) = (Vec::new(), Vec::new(), HeaderBlock::new());
                for map in seed {
                    // SPDY/2 forbids empty values (E3): give them one byte there.
                    let block: HeaderBlock = map
                        .into_iter()
                        .map(|(n, v)| if v.is_empty() && !version.allows_empty_values() { (n, b"-".to_vec()) } else { (n, v) })
                        .collect();
                    z.clear();
                    enc.encode(&block, &mut z);
                    prop_assert_eq!(inf.inflate(&z, &mut out), Ok(InflateOutcome::Complete));
                    prop_assert_eq!(wire::decode(version, &out, &NvLimits::default(), &mut got), Ok(()));
                    prop_assert_eq!(&got, &block);
                }
            }
        }

        /// Pieces that repeat across blocks at distances from a few bytes to past 32 KiB,
        /// so the encoder's back-references reach into older blocks and the dictionary.
        fn piece() -> impl Strategy<Value = (u8, u16)> {
            (0u8..12, 1u16..6000)
        }

        /// Compresses one block per entry of `blocks`: pair k of block n is `x-n-k` with
        /// `len` bytes of noise source `src` (with `dictionary_source`, source 0 is the tail of
        /// the version's dictionary, NULs made '-').
        fn piece_frames(enc: &mut ZlibEncoder, version: Version, blocks: &[Vec<(u8, u16)>], dictionary_source: bool) -> Vec<Vec<u8>> {
            let sources: Vec<Vec<u8>> = (0..12).map(|i| noise(i + 1, 6000)).collect();
            let dictionary_words = version.dictionary();
            blocks
                .iter()
                .enumerate()
                .map(|(n, pieces)| {
                    let block: HeaderBlock = pieces
                        .iter()
                        .enumerate()
                        .map(|(k, &(src, len))| {
                            let name = format!("x-{n}-{k}").into_bytes();
                            let value = if dictionary_source && src == 0 {
                                let len = usize::from(len).min(dictionary_words.len());
                                dictionary_words[dictionary_words.len() - len..].iter().map(|&b| if b == 0 { b'-' } else { b }).collect()
                            } else {
                                sources[usize::from(src)][..usize::from(len)].to_vec()
                            };
                            (name, value)
                        })
                        .collect();
                    let mut z = Vec::new();
                    enc.encode(&block, &mut z);
                    z
                })
                .collect()
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
            #[test]
            fn hibernating_anywhere_decodes_like_never_hibernating(
                blocks in proptest::collection::vec(proptest::collection::vec(piece(), 1..5), 1..24),
                hibernate_mask in any::<u32>(),
                v in 0usize..3,
                level in prop_oneof![Just(1u32), Just(6), Just(9)],
                bits in prop_oneof![Just(11u8), Just(15)],
                max_block in prop_oneof![Just(4096usize), Just(64 * 1024)],
            ) {
                let version = [Version::Spdy2, Version::Spdy3, Version::Spdy31][v];
                let mut enc = ZlibEncoder::new(version, level, bits, 9);
                let frames = piece_frames(&mut enc, version, &blocks, true);
                let limits = InflateLimits { max_block, budget: 1 << 20 };
                let every = agree(version, limits, &frames, |_| true);
                prop_assert_eq!(every, frames.len());
                agree(version, limits, &frames, |i| hibernate_mask & (1 << (i % 32)) != 0);
            }

            #[test]
            fn one_call_per_block_decodes_and_fails_like_block_by_block(
                blocks in proptest::collection::vec(proptest::collection::vec(piece(), 1..5), 1..16),
                v in 0usize..3,
                level in prop_oneof![Just(0u32), Just(1), Just(6), Just(9)],
                max_block in prop_oneof![Just(4096usize), Just(64 * 1024)],
                corrupt in proptest::option::of((any::<usize>(), any::<usize>(), 1u8..=255)),
            ) {
                let version = [Version::Spdy2, Version::Spdy3, Version::Spdy31][v];
                let mut enc = ZlibEncoder::new(version, level, 15, 9);
                let mut frames = piece_frames(&mut enc, version, &blocks, false);
                if let Some((frame, at, flip)) = corrupt {
                    let n = frames.len();
                    let f = &mut frames[frame % n];
                    let len = f.len();
                    f[at % len] ^= flip;
                }
                let limits = InflateLimits { max_block, budget: 1 << 20 };
                let mut stepwise = Inflater::new(version, limits);
                let mut whole = Inflater::new(version, limits);
                whole.set_hibernation(false);
                let (mut a, mut b) = (Vec::new(), Vec::new());
                for (i, z) in frames.iter().enumerate() {
                    let expect = stepwise.inflate(z, &mut a);
                    prop_assert_eq!(whole.inflate(z, &mut b), expect, "frame {}", i);
                    prop_assert_eq!(&a, &b, "frame {}", i);
                    prop_assert!(!whole.hibernate());
                }
            }
        }
    }
}
