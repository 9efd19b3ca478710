//! Our own compressor for the header blocks we send: a zlib stream (SPDY3.md §2.6.10.1,
//! preset dictionary, sync flush after every block) that inflates with stock zlib, built
//! from whole-field back-references instead of zlib's 32 KiB LZ77 window.
//!
//! It refuses two things zlib does. It never keeps more than 8 KiB per session (no
//! window, no hash chains: a [`table::Table`] of distinct recent pairs, the recent HTTP
//! dates in [`dates`], a few block starts). And it never lets a secret take part in a
//! partial match, in either direction, so the size of a block reveals about a secret only
//! its literal bytes and whether the whole secret was sent before — the CRIME defence HPACK
//! was designed around. Secrets are the values of cookie, authorization,
//! proxy-authorization and the configured names, and the `name=value` of each cookie in a
//! set-cookie value (its attributes — path, domain, expires — are public text; [`secret`]).
//!
//! How a block is written: the block is serialized (SPDY3.md §4) into per-thread scratch,
//! then each pair becomes, in order of preference: the continuation of the previous copy
//! when the table knows the pair that followed that copy's source and it is this pair
//! (consecutive copies at one distance merge, so a repeated run of pairs is one copy; a
//! block that begins like a recent block with the same count copies count and pair
//! together); one copy of an identical earlier pair; a copy of the name from a pair with
//! that name plus, for non-sensitive values, the bytes that line up with its value of the
//! same length (aligned diff: sizes), its common prefix, or — for a date — the runs
//! of whichever recent dates hold them; or literals searched greedily for copies from the
//! dictionary, this block's public text and the kept public values. Secret parts are
//! fixed-coded literals or one copy of an identical whole secret part. A new pair whose
//! name's best earlier pair has a value of the same length that was never sent again
//! takes that pair's table entry (see [`table`]).
//! Runs of non-secret tokens get a dynamic Huffman block when it is smaller than the
//! fixed code; secret literals are always fixed-coded (see [`FastEncoder::emit`]).

pub(super) mod bits;
mod blocks;
mod dates;
mod dict;
mod huffman;
mod secret;
mod table;

use std::cell::RefCell;
use std::sync::OnceLock;

use self::bits::{BitWriter, DIST_BASE, DIST_EXTRA, LEN_BASE, LEN_EXTRA, LEN_SYM};
use self::dates::{is_date, RecentDates};
use self::dict::{common_prefix, hash4, DictIndex};
use self::secret::Shape;
use self::table::{hash, Table};
use super::{HeaderBlock, HeaderEncoder};
use crate::spdy::version::Version;

/// Names whose values are always sensitive.
pub const DEFAULT_SENSITIVE: [&[u8]; 4] = [b"cookie", b"set-cookie", b"authorization", b"proxy-authorization"];

/// Farthest a deflate distance may reach (RFC 1951 §3.2.5).
const WINDOW: u64 = 32_768;
const MAX_MATCH: u32 = 258;
/// What continuing the previous copy is worth, in bytes of copy length: one deflate match
/// fewer saves ~22 bits. On the corpus 8 beat 3, 4, 5, 6, 7, 10, 12 and 16 (since dates
/// pick their name's source by shared prefix; before that, 5 was best).
const CONTINUE_BONUS: usize = 8;

/// Per-session encoder. See the module docs.
pub struct FastEncoder {
    /// Width of the name/value length fields (SPDY/2: 2, SPDY/3: 4).
    w: usize,
    dict: &'static DictIndex,
    dict_id: u32,
    /// Stream position of the next byte (the dictionary occupies `0..dict.len()`).
    pos: u64,
    started: bool,
    dates: RecentDates,
    /// Sensitive names with their hashes.
    sensitive: Vec<(u32, Vec<u8>)>,
    table: Table,
}

/// One step of the output: copy `len` literal bytes of the serialized block from `start`,
/// or copy `len` bytes from `dist` back in the stream.
#[derive(Clone, Copy, Debug)]
enum Token {
    Lit { start: u32, len: u32 },
    Copy { len: u32, dist: u32 },
    /// Literal bytes of a sensitive value (never merged with other literals).
    Secret { start: u32, len: u32 },
}

/// Per-thread working memory (thread-per-core: one per core, not per session): the
/// serialized block, its tokens, and the hash of this block's non-sensitive text.
struct Scratch {
    nv: Vec<u8>,
    tokens: Vec<Token>,
    /// Sensitive byte ranges of `nv` (a sensitive value with its length field).
    sens: Vec<(usize, usize)>,
    /// Per 4-byte hash: generation (high 16 bits) and offset in `nv` (low 16 bits) of its
    /// latest non-sensitive occurrence in this block.
    head: Vec<u32>,
    gen: u16,
    /// The dynamic code of the block being written, when it has one.
    dynamic: Box<Codes>,
}

impl Scratch {
    fn new() -> Self {
        Scratch {
            nv: Vec::with_capacity(4096),
            tokens: Vec::with_capacity(256),
            sens: Vec::with_capacity(8),
            head: vec![0; 1 << dict::HASH_BITS],
            gen: 0,
            dynamic: Box::new(Codes { lit: [0; 288], lit_len: [0; 288], dist: [0; 30], dist_len: [0; 30] }),
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::new());
}

/// Huffman codes (bit-reversed) and their lengths for literal/length and distance symbols.
struct Codes {
    lit: [u16; 288],
    lit_len: [u8; 288],
    dist: [u16; 30],
    dist_len: [u8; 30],
}

fn fixed_codes() -> &'static Codes {
    static FIXED: OnceLock<Codes> = OnceLock::new();
    FIXED.get_or_init(|| {
        let mut c = Codes { lit: [0; 288], lit_len: bits::FIXED_LIT_LENS, dist: [0; 30], dist_len: [5; 30] };
        bits::canonical(&c.lit_len, &mut c.lit);
        bits::canonical(&c.dist_len, &mut c.dist);
        c
    })
}

impl Token {
    /// Bytes of the block the token writes.
    fn len(&self) -> u32 {
        match *self {
            Token::Lit { len, .. } | Token::Copy { len, .. } | Token::Secret { len, .. } => len,
        }
    }
}

/// The distance of the last token when it is a copy (0 otherwise: no distance is 0).
fn last_copy_dist(tokens: &[Token]) -> u64 {
    match tokens.last() {
        Some(Token::Copy { dist, .. }) => u64::from(*dist),
        _ => 0,
    }
}

fn push_lit(tokens: &mut Vec<Token>, start: usize, end: usize) {
    if end <= start {
        return;
    }
    if let Some(Token::Lit { start: s, len }) = tokens.last_mut() {
        if *s as usize + *len as usize == start {
            *len += (end - start) as u32;
            return;
        }
    }
    tokens.push(Token::Lit { start: start as u32, len: (end - start) as u32 });
}

/// The `len` bytes at `nv[start..]` as a copy from `dist` back, or as literals when they
/// are too few for a deflate match (a SPDY/2 pair with an empty name: its 2-byte length).
fn copy_or_literals(tokens: &mut Vec<Token>, start: usize, len: usize, dist: u64) {
    if len >= 3 {
        push_copy(tokens, len, dist);
    } else {
        push_lit(tokens, start, start + len);
    }
}

/// A copy; consecutive copies at the same distance continue each other and merge.
fn push_copy(tokens: &mut Vec<Token>, len: usize, dist: u64) {
    debug_assert!(len >= 3 && (1..=WINDOW).contains(&dist));
    let dist = dist as u32;
    if let Some(Token::Copy { len: l, dist: d }) = tokens.last_mut() {
        if *d == dist {
            *l += len as u32;
            return;
        }
    }
    tokens.push(Token::Copy { len: len as u32, dist });
}

/// Appends the `w`-byte big-endian length field (SPDY/3: 4 bytes, SPDY/2: 2; one fixed-size
/// store each, not a copy of a variable length).
#[inline]
fn put_len(nv: &mut Vec<u8>, w: usize, n: usize) {
    if w == 4 {
        nv.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        nv.extend_from_slice(&(n as u16).to_be_bytes());
    }
}

impl FastEncoder {
    /// An encoder for one direction of one session of `version`; `sensitive` adds names
    /// to [`DEFAULT_SENSITIVE`].
    pub fn new(version: Version, sensitive: &[Vec<u8>]) -> Self {
        let names = DEFAULT_SENSITIVE.iter().map(|n| n.to_vec()).chain(sensitive.iter().cloned());
        let mut list: Vec<(u32, Vec<u8>)> = Vec::new();
        for n in names {
            if !list.iter().any(|(_, m)| *m == n) {
                list.push((hash(&n, 0), n));
            }
        }
        list.shrink_to_fit();
        let dict = DictIndex::for_version(version);
        FastEncoder {
            w: version.nv_length_width(),
            dict,
            dict_id: version.dictionary_id(),
            pos: dict.bytes.len() as u64,
            started: false,
            dates: RecentDates::new(),
            sensitive: list,
            table: Table::new(),
        }
    }

    /// The shape of the value when `name` is sensitive.
    fn sensitive_shape(&self, name_hash: u32, name: &[u8]) -> Option<Shape> {
        self.sensitive.iter().any(|(h, n)| *h == name_hash && n == name).then(|| Shape::of(name))
    }

    /// Tokenizes `nv[a..b]` (non-sensitive bytes) greedily against the dictionary and the
    /// non-sensitive text of this block so far; `base` is the stream position of `nv[0]`.
    fn generic(&self, s: &mut Scratch, a: usize, b: usize, base: u64) {
        let Scratch { nv, tokens, sens, head, gen, .. } = s;
        let gen = *gen;
        let mut i = a;
        let mut lit = a;
        let dict_reach = WINDOW + self.dict.bytes.len() as u64;
        while i + 4 <= b {
            let h = hash4(&nv[i..]);
            let (mut best_len, mut best_dist) = (0usize, 0u64);
            let (g, c) = ((head[h] >> 16) as u16, head[h] & 0xffff);
            // (a block may be longer than the window: the source must be within reach)
            if g == gen && (c as usize) < i && i - c as usize <= WINDOW as usize {
                let c = c as usize;
                // never read into a sensitive range that starts after the candidate
                let lim = sens.iter().filter(|r| r.0 >= c).map(|r| r.0).min().unwrap_or(usize::MAX);
                let max = (b - i).min(lim.saturating_sub(c));
                let len = common_prefix(&nv[c..c + max], &nv[i..b]);
                if len >= 3 {
                    (best_len, best_dist) = (len, (i - c) as u64);
                }
            }
            if i <= 0xffff {
                head[h] = u32::from(gen) << 16 | i as u32;
            }
            let abs = base + i as u64;
            if let Some((len, at)) = self.table.longest_in_values(&nv[i..b], abs.saturating_sub(WINDOW), self.w) {
                if len > best_len {
                    (best_len, best_dist) = (len, abs - at);
                }
            }
            if abs <= dict_reach {
                let min = abs.saturating_sub(WINDOW) as usize;
                let (len, at) = self.dict.longest(&nv[i..b], min);
                if len > best_len {
                    (best_len, best_dist) = (len, abs - at as u64);
                }
            }
            if best_len >= 4 || (best_len == 3 && best_dist <= 64) {
                push_lit(tokens, lit, i);
                push_copy(tokens, best_len, best_dist);
                i += best_len;
                lit = i;
            } else {
                i += 1;
            }
        }
        push_lit(tokens, lit, b);
    }

    /// Builds the tokens of `block` into `s`, updating the table and positions.
    fn tokenize(&mut self, block: &HeaderBlock, s: &mut Scratch) {
        let w = self.w;
        let base = self.pos;
        s.nv.clear();
        s.tokens.clear();
        s.sens.clear();
        s.gen = s.gen.wrapping_add(1);
        if s.gen == 0 {
            s.head.iter_mut().for_each(|e| *e = 0);
            s.gen = 1;
        }

        let count = block.len() as u32;
        put_len(&mut s.nv, w, block.len());
        match self.table.starts().nearest_with_count(count, base) {
            Some(d) if w >= 3 => push_copy(&mut s.tokens, w, d),
            _ => self.generic(s, 0, w, base),
        }
        let mut count_tokens = s.tokens.len();
        // the previous pair's entry, and the entry that followed the previous pair's source
        // in the stream with the distance to it (see `Table::next_of`)
        let mut prev_slot: Option<usize> = None;
        let mut cont: Option<(usize, u64)> = None;

        for (k, (name, value)) in block.iter().enumerate() {
            if k == 1 {
                self.count_with_first_pair(s, count_tokens, base, count);
            }
            let ps = s.nv.len();
            let pos = base + ps as u64;
            put_len(&mut s.nv, w, name.len());
            s.nv.extend_from_slice(name);
            let name_end = s.nv.len();
            put_len(&mut s.nv, w, value.len());
            s.nv.extend_from_slice(value);
            let vstart = name_end + w;
            let vend = s.nv.len();

            // the pair that followed the previous pair's source is this pair: the copy goes
            // on, and the entry already knows whether the name is sensitive (no hashing, no
            // search; the hashes are only read on the paths below that need a search)
            let goes_on = cont.filter(|&(g, _)| self.table.holds(g, name, value));
            let (hn, hp, shape) = match goes_on {
                Some((g, _)) => (0, 0, self.table.is_sensitive(g).then(|| Shape::of(name))),
                None => {
                    let hn = hash(name, 0);
                    (hn, hash(value, hn), self.sensitive_shape(hn, name))
                }
            };
            let sens = shape.is_some();
            if let Some(shape) = shape {
                s.sens.extend(shape.secret_ranges(value).map(|(a, b)| (vstart + a, vstart + b)));
            }
            let date = !sens && is_date(value);

            // the pair's table entry once it is written (None: not kept)
            let slot = 'pair: {
                // 0. the copy goes on (or, for the first pair, an earlier block that began with
                //    this pair and the same count: count and pair in one copy)
                let found = match goes_on {
                    Some((g, _)) => Some((g, self.table.at(g))),
                    None => self.table.find_pair(hp, name, value).map(|f| (f.index, f.pos)),
                };
                let mut whole = goes_on;
                if let (0, Some((i, _))) = (k, found) {
                    if let Some(d) = self.table.starts().began_with(i, count, base) {
                        s.tokens.clear();
                        count_tokens = 0;
                        whole = Some((i, d));
                    }
                }
                // 1. the same pair, whole, within reach: one copy (merging with the previous
                //    pair's copy when they were sent side by side before)
                let whole = whole.or(found.filter(|&(_, fpos)| pos - fpos <= WINDOW).map(|(i, fpos)| (i, pos - fpos)));
                if let Some((i, d)) = whole {
                    if s.tokens.is_empty() && k == 0 {
                        // the count went with the pair
                        push_copy(&mut s.tokens, vend, d);
                    } else {
                        push_copy(&mut s.tokens, vend - ps, d);
                    }
                    // what follows is known for the entry's latest copy only
                    let latest = found.is_some_and(|(_, fpos)| pos - fpos == d);
                    cont = self.table.next_of(i).filter(|_| latest).map(|g| (g, d));
                    self.table.touch(i, pos);
                    break 'pair Some(i);
                }
                // kept, but its latest copy is out of reach
                let existing = found.map(|(i, _)| i);

                // 2. the same name: copy the name, and for non-sensitive values whatever of the
                //    value lines up with an earlier value of that name
                let min_pos = pos.saturating_sub(WINDOW);
                // a candidate at the previous copy's distance continues that copy: one deflate
                // match fewer (~22 bits; see CONTINUE_BONUS)
                let last_dist = last_copy_dist(&s.tokens);
                let follows = cont.and_then(|(g, d)| self.table.with_name_at(g, hn, name, pos - d));
                // the best candidate: (score, pos, entry value len, entry) and its value;
                // `confirm` compares every candidate's name, otherwise only the name tags
                // were compared and the winner's name is checked after
                let pick = |confirm: bool| {
                    let mut best: Option<(usize, u64, usize, usize)> = None;
                    let mut best_value: &[u8] = &[];
                    for f in self.table.same_name(hn, confirm.then_some(name), min_pos).chain(follows.clone()) {
                        let score = if sens {
                            0
                        } else if date && f.value.len() == value.len() {
                            // (what matters for a date is the run its first copy can continue)
                            w + name.len() + w + common_prefix(value, f.value)
                        } else if f.value.len() == value.len() {
                            w + name.len() + w + aligned_equal(value, f.value)
                        } else {
                            let lp = shared_length_bytes(w, value.len(), f.value.len());
                            w + name.len() + lp + common_prefix(value, f.value)
                        };
                        let score = score + if pos - f.pos == last_dist { CONTINUE_BONUS } else { 0 };
                        if best.is_none_or(|(sc, p, _, _)| score > sc || (score == sc && f.pos > p)) {
                            best = Some((score, f.pos, f.value.len(), f.index));
                            best_value = f.value;
                        }
                    }
                    (best, best_value)
                };
                let (mut best, mut best_value) = pick(false);
                if best.is_some_and(|(_, _, _, i)| !self.table.named(i, name)) {
                    // another name with the same tag won: choose among the real ones
                    (best, best_value) = pick(true);
                }

                match best {
                    _ if date => {
                        // the name (and as much of the length as agrees), then the date's runs
                        // from whichever recent dates hold them
                        self.name_and_length(
                            s,
                            best.map(|(_, fpos, flen, _)| (fpos, flen)),
                            ps,
                            name_end,
                            value.len(),
                            base,
                        );
                        self.date_tokens(s, value, vstart, base);
                    }
                    Some((_, fpos, flen, _)) => {
                        let d = pos - fpos;
                        if sens {
                            copy_or_literals(&mut s.tokens, ps, w + name.len(), d);
                        } else if flen == value.len() {
                            push_copy(&mut s.tokens, w + name.len() + w, d);
                            aligned_tokens(&mut s.tokens, value, best_value, vstart, d);
                        } else {
                            let lp = shared_length_bytes(w, value.len(), flen);
                            copy_or_literals(&mut s.tokens, ps, w + name.len() + lp, d);
                            push_lit(&mut s.tokens, name_end + lp, vstart);
                            let vp = common_prefix(value, best_value);
                            if vp >= 3 {
                                push_copy(&mut s.tokens, vp, d);
                            }
                            let from = vstart + if vp >= 3 { vp } else { 0 };
                            self.generic(s, from, vend, base);
                        }
                    }
                    None if sens => self.generic(s, ps, name_end, base),
                    None => self.generic(s, ps, vend, base),
                }
                if let Some(shape) = shape {
                    self.sensitive_value(s, shape, ps, name_end, value, base);
                }

                // the copy goes on into the next pair when it ended at the end of a same-length
                // value of the name's source entry (that entry's occurrence, whole, lies at
                // the copy's distance)
                let next = match (s.tokens.last(), best) {
                    (Some(&Token::Copy { dist, .. }), Some((_, fpos, flen, i)))
                        if flen == value.len() && pos - fpos == u64::from(dist) && self.table.at(i) == fpos =>
                    {
                        self.table.next_of(i).map(|g| (g, u64::from(dist)))
                    }
                    _ => None,
                };
                // a same-length value that was never sent again gives its entry to this one
                // (a new date for the last date, a new length for the last length) instead
                // of both taking a slot and arena bytes
                let replaceable = match best {
                    Some((_, _, flen, i)) if flen == value.len() && !self.table.reused(i) => Some(i),
                    _ => None,
                };
                let slot = match (existing, replaceable) {
                    (Some(i), _) => {
                        self.table.touch(i, pos);
                        Some(i)
                    }
                    (None, Some(i)) => {
                        self.table.replace_value(i, hp, value, pos);
                        Some(i)
                    }
                    (None, None) => self.table.insert(hn, hp, name, value, pos, shape),
                };
                // (an entry replaced here is no longer what the stream holds there)
                cont = next.filter(|&(g, _)| Some(g) != slot);
                slot
            };

            if date {
                self.dates.record(value, base + vstart as u64);
            }
            self.link(prev_slot, slot);
            prev_slot = slot;
            if k == 0 {
                self.table.note_block_first(slot);
            }
        }
        if block.len() == 1 {
            self.count_with_first_pair(s, count_tokens, base, count);
        }
        self.table.push_block(base, count);
        self.pos = base + s.nv.len() as u64;
    }

    /// The name and value length (`vlen`) of the pair at `nv[ps..]` (name ending at
    /// `name_end`): one copy of the name and as much of the length as agrees, from the
    /// same-name pair at `from` (position, value length), or searched like other text when
    /// there is none.
    fn name_and_length(
        &self,
        s: &mut Scratch,
        from: Option<(u64, usize)>,
        ps: usize,
        name_end: usize,
        vlen: usize,
        base: u64,
    ) {
        let w = self.w;
        let vstart = name_end + w;
        match from {
            Some((fpos, flen)) => {
                let lp = shared_length_bytes(w, vlen, flen);
                copy_or_literals(&mut s.tokens, ps, name_end - ps + lp, base + ps as u64 - fpos);
                push_lit(&mut s.tokens, name_end + lp, vstart);
            }
            None => self.generic(s, ps, vstart, base),
        }
    }

    /// Tokens for the date `value` at `nv[vstart..]`: greedily, the longest run of bytes
    /// equal (at the same offset) to a kept recent date, copied when it is at least 4
    /// bytes (3 when it continues the previous copy), literals elsewhere. Several dates
    /// may each give a piece (the day from one, the time from another), as zlib's window
    /// would.
    fn date_tokens(&self, s: &mut Scratch, value: &[u8], vstart: usize, base: u64) {
        let vpos = base + vstart as u64;
        let mut cands = [(0u32, 0u64); dates::KEPT];
        let n = self.dates.equal_masks(value, vpos.saturating_sub(WINDOW), &mut cands);
        let cands = &cands[..n];
        // where some kept date has a run of three equal bytes starting: elsewhere no copy can
        // start, and the bytes up to the next such place are literals
        let starts = cands.iter().fold(0u32, |acc, &(m, _)| acc | (m & m >> 1 & m >> 2));
        let mut i = 0;
        while i < value.len() {
            let skip = ((starts >> i).trailing_zeros() as usize).min(value.len() - i);
            if skip > 0 {
                push_lit(&mut s.tokens, vstart + i, vstart + i + skip);
                i += skip;
                continue;
            }
            let last_dist = last_copy_dist(&s.tokens);
            // the best by (score, then the newest): score is the run's length plus, when it
            // continues the last copy (one deflate match fewer), CONTINUE_BONUS; one packed
            // key per candidate (score in the top byte, positions stay below 2^48). The
            // one candidate that can continue the copy (positions differ) is scored apart,
            // so the loop over all of them is a branch-free max
            let rest = (value.len() - i) as u32;
            let run_at = |mask: u32| (!(mask >> i)).trailing_zeros().min(rest);
            let key = cands.iter().map(|&(mask, p)| u64::from(run_at(mask)) << 56 | p).max().unwrap_or(0);
            let mut best = (key, (key >> 56) as u32);
            if last_dist != 0 {
                if let Some(&(mask, p)) = cands.iter().find(|&&(_, p)| vpos - p == last_dist) {
                    let run = run_at(mask);
                    let key = (u64::from(run) + CONTINUE_BONUS as u64) << 56 | p;
                    if run > 0 && key > best.0 {
                        best = (key, run);
                    }
                }
            }
            let (key, run) = best;
            let p = key & ((1 << 56) - 1);
            let continues = vpos - p == last_dist;
            if run >= 4 || (run == 3 && continues) {
                push_copy(&mut s.tokens, run as usize, vpos - p);
                i += run as usize;
            } else {
                push_lit(&mut s.tokens, vstart + i, vstart + i + 1);
                i += 1;
            }
        }
    }

    /// Records that the pair of entry `this` was written right after the pair of entry
    /// `prev` (nothing when either was not kept, or both are one entry).
    fn link(&mut self, prev: Option<usize>, this: Option<usize>) {
        if let (Some(p), Some(t)) = (prev, this) {
            if p != t {
                self.table.set_next(p, t);
            }
        }
    }

    /// The length field and bytes of a sensitive value (its name is written): the length
    /// field's leading zeros copied from the name's ("00 00 00" for every value shorter
    /// than 256 bytes), then each secret part as fixed-coded literals or, for a part of a
    /// `set-cookie` value, one copy of an identical whole secret part sent before; the
    /// public bytes between secret parts go through [`Self::generic`] like other text.
    fn sensitive_value(&self, s: &mut Scratch, shape: Shape, ps: usize, name_end: usize, value: &[u8], base: u64) {
        let w = self.w;
        let vstart = name_end + w;
        let from = if w == 4 && value.len() < 256 && name_end - ps - w < 256 {
            push_copy(&mut s.tokens, 3, (name_end - ps) as u64);
            name_end + 3
        } else {
            name_end
        };
        if vstart > from {
            s.tokens.push(Token::Secret { start: from as u32, len: (vstart - from) as u32 });
        }
        let mut done = 0;
        for (a, b) in shape.secret_ranges(value) {
            if a > done {
                self.generic(s, vstart + done, vstart + a, base);
            }
            let at = base + (vstart + a) as u64;
            let earlier = match shape {
                Shape::SetCookie if b - a >= 3 => {
                    self.table.find_secret_part(&value[a..b], at.saturating_sub(WINDOW), w)
                }
                _ => None,
            };
            match earlier {
                Some(src) => push_copy(&mut s.tokens, b - a, at - src),
                None => s.tokens.push(Token::Secret { start: (vstart + a) as u32, len: (b - a) as u32 }),
            }
            done = b;
        }
        if value.len() > done {
            self.generic(s, vstart + done, vstart + value.len(), base);
        }
    }

    /// When the first pair went out as a copy from the first pair of an earlier block with
    /// the same count, the count joins that copy (one match instead of count tokens plus
    /// a match): the `count_tokens` tokens that wrote the count are dropped.
    fn count_with_first_pair(&self, s: &mut Scratch, count_tokens: usize, base: u64, count: u32) {
        let w = self.w;
        // the count's tokens must still be exactly the count: the first pair's literals
        // may have merged into a literal count
        let count_len: u32 = s.tokens[..count_tokens].iter().map(Token::len).sum();
        if count_len != w as u32 {
            return;
        }
        let Some(&Token::Copy { dist, .. }) = s.tokens.get(count_tokens) else {
            return;
        };
        let src = (base + w as u64).checked_sub(u64::from(dist)).and_then(|p| p.checked_sub(w as u64));
        if src.is_some_and(|src| self.table.starts().began(src, count)) {
            s.tokens.drain(..count_tokens);
            if let Token::Copy { len, .. } = &mut s.tokens[0] {
                *len += w as u32;
            }
        }
    }

    /// Writes the tokens, then the sync flush. Runs of non-secret tokens get a per-run
    /// dynamic Huffman block when it is smaller than the fixed code; secret literals are
    /// always written with the fixed code, so their size depends on nothing but their own
    /// bytes (a code fitted to the block would let attacker-chosen text shorten the
    /// codes of the secret's characters).
    fn emit(&self, nv: &[u8], tokens: &[Token], dynamic: &mut Codes, out: &mut Vec<u8>) {
        let fixed = fixed_codes();
        out.reserve(nv.len() + nv.len() / 8 + 64);
        let mut bw = BitWriter::new(out);
        // the open block: None, Some(false) fixed, Some(true) dynamic
        let mut open: Option<bool> = None;
        let mut i = 0;
        while i < tokens.len() {
            let secret = matches!(tokens[i], Token::Secret { .. });
            let mut j = i + 1;
            while j < tokens.len() && matches!(tokens[j], Token::Secret { .. }) == secret {
                j += 1;
            }
            let seg = &tokens[i..j];
            let header = if secret { None } else { plan_dynamic(nv, seg, dynamic) };
            match header {
                Some(h) => {
                    close(&mut bw, open, fixed, dynamic);
                    h.write(&mut bw);
                    write_tokens(&mut bw, dynamic, nv, seg);
                    open = Some(true);
                }
                None => {
                    if open != Some(false) {
                        close(&mut bw, open, fixed, dynamic);
                        bw.put(0b010, 3); // BFINAL 0, BTYPE 01 (fixed Huffman)
                        open = Some(false);
                    }
                    write_tokens(&mut bw, fixed, nv, seg);
                }
            }
            i = j;
        }
        if open.is_none() {
            bw.put(0b010, 3);
            open = Some(false);
        }
        close(&mut bw, open, fixed, dynamic);
        // sync flush: an empty stored block, byte aligned (RFC 1951 §3.2.4)
        bw.put(0, 3);
        bw.align();
        bw.bytes(&[0x00, 0x00, 0xff, 0xff]);
    }
}

/// Ends the open block, if any, with its end-of-block code.
fn close(bw: &mut BitWriter<'_>, open: Option<bool>, fixed: &Codes, dynamic: &Codes) {
    if let Some(d) = open {
        let c = if d { dynamic } else { fixed };
        bw.put(u32::from(c.lit[256]), u32::from(c.lit_len[256]));
    }
}

/// Splits a copy into deflate matches of 3..=258 bytes.
#[inline(always)]
fn for_each_match(mut len: u32, mut f: impl FnMut(u32)) {
    while len > 0 {
        let take = if len <= MAX_MATCH {
            len
        } else if len - MAX_MATCH >= 3 {
            MAX_MATCH
        } else {
            len - 3
        };
        f(take);
        len -= take;
    }
}

fn write_tokens(bw: &mut BitWriter<'_>, codes: &Codes, nv: &[u8], seg: &[Token]) {
    for t in seg {
        match *t {
            Token::Lit { start, len } | Token::Secret { start, len } => {
                for &b in &nv[start as usize..(start + len) as usize] {
                    bw.put(u32::from(codes.lit[usize::from(b)]), u32::from(codes.lit_len[usize::from(b)]));
                }
            }
            Token::Copy { len, dist } => for_each_match(len, |take| put_copy(bw, codes, take, dist)),
        }
    }
}

/// Literal bytes below which a dynamic code is not even considered.
const DYNAMIC_MIN_LITERALS: u32 = 128;

/// Fits a dynamic code to `seg` into `codes` and returns its header when the block it
/// makes is smaller than the same tokens under the fixed code.
fn plan_dynamic(nv: &[u8], seg: &[Token], codes: &mut Codes) -> Option<huffman::Header> {
    let literals: u32 = seg
        .iter()
        .map(|t| match *t {
            Token::Lit { len, .. } | Token::Secret { len, .. } => len,
            Token::Copy { .. } => 0,
        })
        .sum();
    if literals < DYNAMIC_MIN_LITERALS {
        return None;
    }
    let mut lit = [0u32; 288];
    let mut dist = [0u32; 30];
    for t in seg {
        match *t {
            Token::Lit { start, len } | Token::Secret { start, len } => {
                for &b in &nv[start as usize..(start + len) as usize] {
                    lit[usize::from(b)] += 1;
                }
            }
            Token::Copy { len, dist: d } => for_each_match(len, |take| {
                lit[257 + usize::from(LEN_SYM[take as usize])] += 1;
                dist[bits::dist_sym(d)] += 1;
            }),
        }
    }
    lit[256] = 1;
    huffman::lengths(&lit[..286], 15, &mut codes.lit_len[..286]);
    codes.lit_len[286] = 0;
    codes.lit_len[287] = 0;
    huffman::lengths(&dist, 15, &mut codes.dist_len);
    let header = huffman::Header::new(&codes.lit_len, &codes.dist_len);
    let fixed = fixed_codes();
    let mut dyn_bits = u64::from(header.bits);
    let mut fixed_bits = 3u64;
    for (s, &f) in lit.iter().enumerate() {
        dyn_bits += u64::from(f) * u64::from(codes.lit_len[s]);
        fixed_bits += u64::from(f) * u64::from(fixed.lit_len[s]);
    }
    for (s, &f) in dist.iter().enumerate() {
        dyn_bits += u64::from(f) * u64::from(codes.dist_len[s]);
        fixed_bits += u64::from(f) * 5;
    }
    if dyn_bits >= fixed_bits {
        return None;
    }
    bits::canonical(&codes.lit_len, &mut codes.lit);
    bits::canonical(&codes.dist_len, &mut codes.dist);
    Some(header)
}

#[inline(always)]
fn put_copy(bw: &mut BitWriter<'_>, codes: &Codes, len: u32, dist: u32) {
    let ls = usize::from(LEN_SYM[len as usize]);
    let sym = 257 + ls;
    let code_len = u32::from(codes.lit_len[sym]);
    let extra = len - u32::from(LEN_BASE[ls]);
    bw.put(u32::from(codes.lit[sym]) | extra << code_len, code_len + u32::from(LEN_EXTRA[ls]));
    let ds = bits::dist_sym(dist);
    let code_len = u32::from(codes.dist_len[ds]);
    let extra = dist - u32::from(DIST_BASE[ds]);
    bw.put(u32::from(codes.dist[ds]) | extra << code_len, code_len + u32::from(DIST_EXTRA[ds]));
}

/// How many leading bytes the `w`-byte big-endian length fields of `a` and `b` share (both
/// fit in `w` bytes).
#[inline]
fn shared_length_bytes(w: usize, a: usize, b: usize) -> usize {
    let x = (a ^ b) as u32;
    (x.leading_zeros() as usize / 8 - (4 - w)).min(w)
}

/// Bit k set when `a[k] == b[k]`, for the first 64 bytes.
#[inline(always)]
fn equal_bitmap(a: &[u8], b: &[u8]) -> u64 {
    let n = a.len().min(b.len()).min(64);
    let (a, b) = (&a[..n], &b[..n]);
    #[cfg(target_arch = "x86_64")]
    if n >= 16 {
        use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8};
        let mut m = 0u64;
        // SAFETY: SSE2 is part of the x86_64 baseline; every load reads the 16 bytes at
        // `k..k + 16` with `k + 16 <= n`, inside both slices (unaligned loads allowed).
        let eq16 = |k: usize| unsafe {
            let x = _mm_loadu_si128(a.as_ptr().add(k).cast());
            let y = _mm_loadu_si128(b.as_ptr().add(k).cast());
            u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(x, y)) as u32 & 0xffff)
        };
        let mut k = 0;
        while k + 16 <= n {
            m |= eq16(k) << k;
            k += 16;
        }
        if k < n {
            // the tail: the last 16 bytes (overlapping what is done), shifted into place
            m |= (eq16(n - 16) >> (16 - (n - k))) << k;
        }
        return m;
    }
    if n >= 8 {
        // two 8-byte words, the second overlapping the first
        let word = |k: usize| {
            let x = u64::from_le_bytes(a[k..k + 8].try_into().expect("8"))
                ^ u64::from_le_bytes(b[k..k + 8].try_into().expect("8"));
            const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
            const HIGH: u64 = 0x8080_8080_8080_8080;
            let equal = !((((x & LOW7) + LOW7) | x) & HIGH) & HIGH;
            // gather the 8 high bits into one byte (no two partial products share a bit)
            (equal >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
        };
        return word(0) | word(n - 8) << (n - 8);
    }
    let mut m = 0u64;
    for k in 0..n {
        m |= u64::from(a[k] == b[k]) << k;
    }
    m
}

/// About how many bytes of `a` a same-distance copy from `b` (same length) covers: bytes
/// in runs of at least 3 equal bytes (runs are cut at 64-byte boundaries; used to rank).
fn aligned_equal(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut total = 0;
    let mut k = 0;
    while k < n {
        let m = equal_bitmap(&a[k..n], &b[k..n]);
        let starts = m & (m >> 1) & (m >> 2);
        total += (starts | starts << 1 | starts << 2).count_ones() as usize;
        k += 64;
    }
    total
}

/// Tokens for a value `a` at `nv[start..]` against an earlier value `b` of the same length
/// `dist` bytes back: equal runs of 3 or more are copies, the rest literals.
fn aligned_tokens(tokens: &mut Vec<Token>, a: &[u8], b: &[u8], start: usize, dist: u64) {
    let mut i = 0;
    while i < a.len() {
        let eq = common_prefix(&a[i..], &b[i..]);
        if eq >= 3 {
            push_copy(tokens, eq, dist);
            i += eq;
            continue;
        }
        let mut j = i + eq.max(1);
        // extend the literal run up to the next run of 3 equal bytes
        while j < a.len() && common_prefix(&a[j..(j + 3).min(a.len())], &b[j..(j + 3).min(a.len())]) < 3 {
            j += 1;
        }
        push_lit(tokens, start + i, start + j);
        i = j;
    }
}

impl HeaderEncoder for FastEncoder {
    fn encode(&mut self, block: &HeaderBlock, out: &mut Vec<u8>) {
        if !self.started {
            // CMF 0x78 (deflate, 32 KiB window), FLG 0xbb (FDICT, check bits), DICTID
            out.extend_from_slice(&[0x78, 0xbb]);
            out.extend_from_slice(&self.dict_id.to_be_bytes());
            self.started = true;
        }
        SCRATCH.with(|s| {
            let s = &mut *s.borrow_mut();
            self.tokenize(block, s);
            let Scratch { nv, tokens, dynamic, .. } = s;
            self.emit(nv, tokens, dynamic, out);
        });
    }

    fn state_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.sensitive.capacity() * std::mem::size_of::<(u32, Vec<u8>)>()
            + self.sensitive.iter().map(|(_, n)| n.capacity()).sum::<usize>()
    }
}

#[cfg(test)]
mod tests;
