//! Provided buffer ring (IORING_REGISTER_PBUF_RING): the kernel picks a buffer per recv.
//!
//! Exists so that multishot recv needs no buffer per connection: a shard registers one group
//! of `count` buffers of `buf_size` bytes, each recv CQE names the buffer it filled, and the
//! buffer is *leased* to the caller until every [`Lease`] on it is dropped, in any order and
//! possibly long after the CQE (a DATA payload may wait for its backend send). Dropping the
//! last lease re-publishes the buffer at the ring's tail. It copies bytes only to keep the
//! ring alive: once all but an eighth of the buffers are held (by bytes waiting on slow
//! peers), new bytes are copied out ([`Lease::into_bytes_or_copy`]) so no set of stalled
//! connections can park every other connection's recv on ENOBUFS.

use std::cell::Cell;
use std::ops::{Bound, RangeBounds};
use std::rc::Rc;

use super::sys::{self, PageAlloc};

/// [`Lease::into_bytes_or_copy`] copies once fewer than `count / KEEP_FREE_DIVISOR` buffers
/// are free. Measured on 1 MiB bodies at 32 streams (where up to the whole ring can be
/// waiting for the client): keeping half free cost 13 % more CPU per GB than never copying,
/// a quarter 3 %, an eighth nothing measurable.
const KEEP_FREE_DIVISOR: u32 = 8;

/// Size and count of one buffer group.
#[derive(Clone, Copy, Debug)]
pub struct BufRingConfig {
    /// Bytes per buffer (a multishot recv CQE carries at most this many). Default 16 KiB.
    pub buf_size: u32,
    /// Number of buffers; a power of two, 1..=32768 (the kernel's limit). Default 256.
    pub count: u16,
}

impl Default for BufRingConfig {
    fn default() -> Self {
        Self { buf_size: 16 * 1024, count: 256 }
    }
}

/// Names a registered buffer group; pass it to [`super::Ring::recv_multishot`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct BufGroup(pub u16);

/// State shared by the ring owner and every lease (one thread: `Rc` + `Cell`).
///
/// Invariant: a buffer id is either published in the ring (or picked by the kernel and not
/// yet reaped) with `refs == 0`, or leased with `refs > 0`; never both.
pub(super) struct BufRingInner {
    pub(super) bgid: u16,
    ring: PageAlloc,
    bufs: PageAlloc,
    buf_size: u32,
    count: u16,
    /// Our private tail; the kernel sees it once published.
    tail: Cell<u16>,
    refs: Box<[Cell<u32>]>,
    leased: Cell<u32>,
}

impl BufRingInner {
    pub(super) fn new(bgid: u16, config: BufRingConfig) -> Result<Rc<BufRingInner>, &'static str> {
        if config.count == 0 || !config.count.is_power_of_two() || config.count > 32768 {
            return Err("buffer count must be a power of two in 1..=32768");
        }
        if config.buf_size == 0 {
            return Err("buffer size must be positive");
        }
        let count = config.count;
        let ring = PageAlloc::zeroed(count as usize * size_of::<io_uring::types::BufRingEntry>());
        let bufs = PageAlloc::zeroed(count as usize * config.buf_size as usize);
        let inner = BufRingInner {
            bgid,
            ring,
            bufs,
            buf_size: config.buf_size,
            count,
            tail: Cell::new(0),
            refs: (0..count).map(|_| Cell::new(0)).collect(),
            leased: Cell::new(0),
        };
        for bid in 0..count {
            inner.write_entry(bid);
        }
        sys::buf_ring_publish(&inner.ring, inner.tail.get());
        Ok(Rc::new(inner))
    }

    pub(super) fn register(&self, submitter: &io_uring::Submitter<'_>) -> std::io::Result<()> {
        sys::register_buf_ring(submitter, &self.ring, self.count, self.bgid)
    }

    fn write_entry(&self, bid: u16) {
        let tail = self.tail.get();
        let addr = self.bufs.addr() + bid as u64 * self.buf_size as u64;
        sys::buf_ring_write(&self.ring, self.count, tail & (self.count - 1), addr, self.buf_size, bid);
        self.tail.set(tail.wrapping_add(1));
    }

    /// Turns a recv CQE's buffer id into a lease on its first `len` bytes.
    /// `None` if the kernel named a buffer we do not consider in the ring.
    pub(super) fn lease(self: &Rc<Self>, bid: u16, len: u32) -> Option<Lease> {
        let refs = self.refs.get(bid as usize)?;
        if refs.get() != 0 {
            return None;
        }
        refs.set(1);
        self.leased.set(self.leased.get() + 1);
        Some(Lease { ring: Rc::clone(self), bid, start: 0, end: len.min(self.buf_size) })
    }

    fn give_back(&self, bid: u16) {
        self.leased.set(self.leased.get() - 1);
        self.write_entry(bid);
        sys::buf_ring_publish(&self.ring, self.tail.get());
    }

    /// Buffers not held by leases (published, or picked by the kernel and not yet reaped).
    pub(super) fn free(&self) -> u32 {
        self.count as u32 - self.leased.get()
    }
}

/// A read-only view of (part of) one received buffer.
///
/// Cloning and [`Lease::slice`] share the buffer; it goes back to the kernel when the last
/// lease on it is dropped. While any lease lives the kernel cannot write the buffer.
pub struct Lease {
    ring: Rc<BufRingInner>,
    bid: u16,
    start: u32,
    end: u32,
}

impl Lease {
    pub fn bytes(&self) -> &[u8] {
        let offset = self.bid as usize * self.ring.buf_size as usize + self.start as usize;
        sys::buffer_bytes(&self.ring.bufs, offset, (self.end - self.start) as usize)
    }

    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    pub fn buffer_id(&self) -> u16 {
        self.bid
    }

    /// A new lease on a sub-range of this one (relative to `bytes()`); panics if out of range,
    /// like slice indexing.
    pub fn slice(&self, range: impl RangeBounds<usize>) -> Lease {
        let len = self.len();
        let from = match range.start_bound() {
            Bound::Included(&n) => n,
            Bound::Excluded(&n) => n + 1,
            Bound::Unbounded => 0,
        };
        let to = match range.end_bound() {
            Bound::Included(&n) => n + 1,
            Bound::Excluded(&n) => n,
            Bound::Unbounded => len,
        };
        assert!(from <= to && to <= len, "lease slice {from}..{to} out of 0..{len}");
        let mut lease = self.clone();
        lease.start = self.start + from as u32;
        lease.end = self.start + to as u32;
        lease
    }

    /// Shares this lease as [`bytes::Bytes`] without copying, for the sans-IO gateway
    /// layers. The buffer returns to the kernel when the last `Bytes` clone drops, on the
    /// shard thread (see `sys::ShardLocal` for why that is the only place it can drop).
    pub fn into_bytes(self) -> bytes::Bytes {
        bytes::Bytes::from_owner(sys::ShardLocal::new(self))
    }

    /// Like [`Lease::into_bytes`] while an eighth of the ring's buffers is free; otherwise
    /// copies the bytes and gives the buffer back at once. Bytes a slow peer makes us hold
    /// (response bodies waiting for the client's window, request bodies waiting for the
    /// backend) can so never take the last eighth of the shard's buffers.
    pub fn into_bytes_or_copy(self) -> bytes::Bytes {
        if self.ring.free() * KEEP_FREE_DIVISOR < u32::from(self.ring.count) {
            bytes::Bytes::copy_from_slice(self.bytes())
        } else {
            self.into_bytes()
        }
    }

    /// Drops the first `n` bytes from this view (consumed by a parser).
    pub fn advance(&mut self, n: usize) {
        assert!(n <= self.len(), "advance past end of lease");
        self.start += n as u32;
    }
}

impl Clone for Lease {
    fn clone(&self) -> Self {
        let refs = &self.ring.refs[self.bid as usize];
        refs.set(refs.get() + 1);
        Lease { ring: Rc::clone(&self.ring), bid: self.bid, start: self.start, end: self.end }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let refs = &self.ring.refs[self.bid as usize];
        let left = refs.get() - 1;
        refs.set(left);
        if left == 0 {
            self.ring.give_back(self.bid);
        }
    }
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Lease(buf {} [{}..{}])", self.bid, self.start, self.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_return_out_of_order_and_are_republished_at_the_tail() {
        let inner = BufRingInner::new(0, BufRingConfig { buf_size: 64, count: 4 }).unwrap();
        assert_eq!(inner.tail.get(), 4);
        let a = inner.lease(2, 10).unwrap();
        let b = inner.lease(0, 64).unwrap();
        assert_eq!(inner.free(), 2);
        // A buffer already leased cannot be leased twice.
        assert!(inner.lease(2, 1).is_none());
        assert!(inner.lease(9, 1).is_none());
        drop(b);
        assert_eq!(inner.tail.get(), 5);
        let a2 = a.slice(3..7);
        drop(a);
        assert_eq!(inner.free(), 3, "a slice keeps the buffer leased");
        assert_eq!(a2.len(), 4);
        drop(a2);
        assert_eq!(inner.free(), 4);
        assert_eq!(inner.tail.get(), 6);
    }

    #[test]
    fn bytes_are_shared_until_an_eighth_of_the_ring_is_left_then_copied() {
        let inner = BufRingInner::new(0, BufRingConfig { buf_size: 64, count: 16 }).unwrap();
        let held: Vec<bytes::Bytes> = (0..14).map(|bid| inner.lease(bid, 8).unwrap().into_bytes_or_copy()).collect();
        assert_eq!(inner.free(), 2, "shared while an eighth of the ring stays free");
        let copied = inner.lease(14, 8).unwrap().into_bytes_or_copy();
        assert_eq!(inner.free(), 2, "past that: copied and the buffer given back at once");
        assert_eq!(&copied[..], &[0u8; 8]);
        drop(held);
        assert_eq!(inner.free(), 16);
        let _shared = inner.lease(15, 8).unwrap().into_bytes_or_copy();
        assert_eq!(inner.free(), 15, "shared again once buffers came back");
    }

    #[test]
    fn len_is_clamped_to_the_buffer_size() {
        let inner = BufRingInner::new(0, BufRingConfig { buf_size: 8, count: 2 }).unwrap();
        let lease = inner.lease(1, 1000).unwrap();
        assert_eq!(lease.bytes(), &[0u8; 8]);
    }

    #[test]
    fn count_must_be_a_power_of_two() {
        assert!(BufRingInner::new(0, BufRingConfig { buf_size: 8, count: 3 }).is_err());
        assert!(BufRingInner::new(0, BufRingConfig { buf_size: 0, count: 2 }).is_err());
    }
}
