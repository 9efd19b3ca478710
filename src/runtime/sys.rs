//! Every `unsafe` block of the runtime, each with its `// Safety:` reason.
//!
//! Exists so that the reasons memory handed to the kernel stays valid can be read in one
//! sitting: page allocations for buffer rings, the ring's tail protocol, reads of leased
//! buffers, SQEs that carry pointers, and adopting fds the kernel created. Nothing outside
//! this module writes `unsafe`; nothing here decides policy (that lives in ring.rs/buf_ring.rs).

#![allow(unsafe_code)]

use std::alloc::{self, Layout};
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use io_uring::{opcode, squeue, types, IoUring, Submitter};

use super::op::SendBuf;

/// Buffer rings and their buffers are page aligned (the kernel requires it of the ring; we do
/// it for the buffers too so a 4 KiB buffer never straddles pages).
const ALIGN: usize = 4096;

/// A zeroed, page-aligned heap allocation whose address may be given to the kernel.
///
/// Invariant: the allocation lives exactly as long as this value; owners that registered it
/// with the kernel must unregister (or leak the value) before dropping it.
pub(super) struct PageAlloc {
    ptr: NonNull<u8>,
    layout: Layout,
}

impl PageAlloc {
    /// Zeroed and resident: every page is written once here, so the buffers are a fixed
    /// cost of the shard from its start (the kernel cycles through all of them anyway) rather
    /// than memory that seems to grow with the first few hundred connections.
    pub(super) fn zeroed(len: usize) -> PageAlloc {
        let layout = Layout::from_size_align(len.max(1), ALIGN).expect("buffer ring size overflows");
        // Safety: the layout has a non-zero size (`len.max(1)`) and a power-of-two alignment.
        let ptr = unsafe { alloc::alloc_zeroed(layout) };
        let ptr = NonNull::new(ptr).unwrap_or_else(|| alloc::handle_alloc_error(layout));
        // Safety: `ptr` is a fresh allocation of `layout.size()` bytes that nothing else sees
        // yet; writing zeros over zeros changes no value, only faults the pages in.
        unsafe { std::ptr::write_bytes(ptr.as_ptr(), 0, layout.size()) };
        PageAlloc { ptr, layout }
    }

    pub(super) fn addr(&self) -> u64 {
        self.ptr.as_ptr() as u64
    }

    pub(super) fn len(&self) -> usize {
        self.layout.size()
    }
}

impl Drop for PageAlloc {
    fn drop(&mut self) {
        // Safety: `ptr` came from `alloc_zeroed` with this exact layout and is freed only here.
        unsafe { alloc::dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

/// Asks the allocator (mimalloc, the binaries' global allocator) to return the pages this
/// thread freed to the OS now instead of after its purge delay, which an idle process never
/// reaches. Harmless when the global allocator is another one: mimalloc's heap is then empty.
pub(super) fn allocator_collect() {
    // Safety: `mi_collect` takes no pointers and may be called from any thread at any time.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// Writes entry `slot` of a provided-buffer ring of `entries` entries.
///
/// Callers (buf_ring.rs) only write the slot at their private tail, which the kernel cannot
/// read until [`buf_ring_publish`] moves the shared tail past it.
pub(super) fn buf_ring_write(ring: &PageAlloc, entries: u16, slot: u16, addr: u64, len: u32, bid: u16) {
    assert!(slot < entries && entries as usize * size_of::<types::BufRingEntry>() <= ring.len());
    let base = ring.ptr.as_ptr().cast::<types::BufRingEntry>();
    // Safety: in bounds (asserted) and aligned (page-aligned base, 16-byte entries). The kernel
    // reads only entries between its head and the published tail; this slot is at or past the
    // published tail, so nothing else reads or writes its addr/len/bid while we hold the `&mut`.
    // The setters leave `resv` alone, which in entry 0 is the tail the kernel does read.
    let entry = unsafe { &mut *base.add(slot as usize) };
    entry.set_addr(addr);
    entry.set_len(len);
    entry.set_bid(bid);
}

/// Publishes `tail`: the kernel may now consume every entry written before this call.
pub(super) fn buf_ring_publish(ring: &PageAlloc, tail: u16) {
    let base = ring.ptr.as_ptr().cast::<types::BufRingEntry>().cast_const();
    // Safety: `BufRingEntry::tail` needs the address of the first entry of a live ring;
    // `ring` is that allocation and stays alive for the call.
    let tail_ptr = unsafe { types::BufRingEntry::tail(base) }.cast::<AtomicU16>();
    // Safety: the tail is a 2-aligned u16 inside the live allocation. We are its only writer
    // and the kernel reads it with acquire semantics, so a release store is the protocol that
    // makes the entry writes above visible before the new tail.
    unsafe { (*tail_ptr).store(tail, Ordering::Release) };
}

/// Registers `ring` as provided-buffer group `bgid`.
pub(super) fn register_buf_ring(
    submitter: &Submitter<'_>,
    ring: &PageAlloc,
    entries: u16,
    bgid: u16,
) -> io::Result<()> {
    assert!(entries as usize * size_of::<types::BufRingEntry>() <= ring.len());
    // Safety: `ring` holds `entries` entries in a page-aligned allocation. Its owner (the
    // `BufRingInner` shared by the Ring and every lease) outlives the registration: Ring::drop
    // unregisters the group before releasing its reference, or leaks it when ops that might
    // still pick buffers could not be reaped.
    unsafe { submitter.register_buf_ring_with_flags(ring.addr(), entries, bgid, 0) }
}

/// The bytes `offset..offset + len` of a buffer allocation.
///
/// Only `Lease::bytes` calls this, for a range inside the leased buffer.
pub(super) fn buffer_bytes(bufs: &PageAlloc, offset: usize, len: usize) -> &[u8] {
    assert!(offset.checked_add(len).is_some_and(|end| end <= bufs.len()));
    // Safety: the range is in bounds (asserted). The caller holds a lease on the buffer that
    // contains it; a leased buffer has been handed to us by a CQE and is not in the ring, so
    // the kernel neither writes it nor hands it to another recv until the lease is dropped,
    // and the returned slice borrows that lease.
    unsafe { std::slice::from_raw_parts(bufs.ptr.as_ptr().add(offset), len) }
}

/// An SQE whose pointers, if any, point into heap memory owned by the op slab entry that
/// carries the same `user_data`. Only the `sqe_*` builders below can make one.
pub(super) struct Sqe(squeue::Entry);

pub(super) fn sqe_accept_multi(fd: RawFd, user_data: u64) -> Sqe {
    let flags = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    Sqe(opcode::AcceptMulti::new(types::Fd(fd)).flags(flags).build().user_data(user_data))
}

pub(super) fn sqe_recv_multi(fd: RawFd, group: u16, user_data: u64) -> Sqe {
    Sqe(opcode::RecvMulti::new(types::Fd(fd), group).build().user_data(user_data))
}

/// `msghdr` + `iovec`s of one sendmsg, owned by the send op (boxed, so their addresses are
/// stable while the op moves around in the slab).
pub(super) struct MsgParts {
    iov: Vec<libc::iovec>,
    hdr: libc::msghdr,
}

/// Linux refuses more than IOV_MAX (1024) iovecs; the rest goes out in the next round.
const IOV_MAX: usize = 1024;

impl MsgParts {
    pub(super) fn new() -> MsgParts {
        // Safety: `msghdr` is plain old data; all-zero (null pointers, zero lengths, no
        // flags) is a valid value, and it is how the C API expects callers to start one.
        let hdr = unsafe { std::mem::zeroed::<libc::msghdr>() };
        MsgParts { iov: Vec::new(), hdr }
    }
}

/// Builds a sendmsg of everything in `buf` after its first `sent` bytes.
pub(super) fn sqe_sendmsg(fd: RawFd, buf: &SendBuf, sent: usize, msg: &mut MsgParts, user_data: u64) -> Sqe {
    msg.iov.clear();
    for (bytes, range) in buf.remaining(sent).take(IOV_MAX) {
        let part = &bytes[range];
        msg.iov.push(libc::iovec { iov_base: part.as_ptr().cast_mut().cast(), iov_len: part.len() });
    }
    msg.hdr.msg_iov = msg.iov.as_mut_ptr();
    msg.hdr.msg_iovlen = msg.iov.len() as _;
    let hdr: *const libc::msghdr = &msg.hdr;
    Sqe(opcode::SendMsg::new(types::Fd(fd), hdr)
        .flags(libc::MSG_NOSIGNAL as u32)
        .build()
        .user_data(user_data))
}

pub(super) fn sqe_connect(fd: RawFd, addr: &socket2::SockAddr, user_data: u64) -> Sqe {
    Sqe(opcode::Connect::new(types::Fd(fd), addr.as_ptr().cast(), addr.len()).build().user_data(user_data))
}

pub(super) fn sqe_close(fd: RawFd, user_data: u64) -> Sqe {
    Sqe(opcode::Close::new(types::Fd(fd)).build().user_data(user_data))
}

pub(super) fn sqe_timeout(ts: &types::Timespec, user_data: u64) -> Sqe {
    Sqe(opcode::Timeout::new(ts).build().user_data(user_data))
}

pub(super) fn sqe_cancel(target: u64, user_data: u64) -> Sqe {
    Sqe(opcode::AsyncCancel::new(target).build().user_data(user_data))
}

pub(super) fn sqe_cancel_fd(fd: RawFd, user_data: u64) -> Sqe {
    let builder = types::CancelBuilder::fd(types::Fd(fd)).all();
    Sqe(opcode::AsyncCancel2::new(builder).build().user_data(user_data))
}

pub(super) fn sqe_cancel_any(user_data: u64) -> Sqe {
    Sqe(opcode::AsyncCancel2::new(types::CancelBuilder::any()).build().user_data(user_data))
}

/// Queues `sqe`; `false` when the submission queue is full.
pub(super) fn push(uring: &mut IoUring, sqe: &Sqe) -> bool {
    // Safety: an `Sqe` comes only from the builders above. Those without pointers are trivially
    // fine. The others point into boxes owned by the op slab entry named by the SQE's
    // `user_data` (MsgParts + SendBuf, SockAddr, Timespec); ring.rs removes that entry only
    // after the op's final CQE, or leaks it in Ring::drop when the CQE cannot be reaped, so
    // the pointees outlive every kernel access.
    unsafe { uring.submission().push(&sqe.0) }.is_ok()
}

/// Takes ownership of an fd the kernel just created for us (an accept CQE's result).
pub(super) fn adopt_fd(fd: RawFd) -> OwnedFd {
    assert!(fd >= 0);
    // Safety: a successful accept CQE's result is a new descriptor installed in our table
    // for us alone; this is the only place that wraps it, once per CQE.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// CPU time (user + system) consumed by the calling thread.
pub(super) fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // Safety: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID always exists on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// A [`Lease`](super::buf_ring::Lease) made `Send` so that `bytes::Bytes::from_owner` takes
/// it. Leases hold an `Rc` and must only be cloned or dropped on their shard's thread.
///
/// Shards never hand data to another thread (thread-per-core, no cross-shard hand-offs),
/// so a `Bytes` built from a lease lives and dies on its shard. Should one ever be dropped
/// elsewhere, the lease is leaked (its buffer never returns to the ring) rather than its
/// `Rc` touched off-thread; debug builds assert instead.
pub(super) struct ShardLocal {
    lease: std::mem::ManuallyDrop<super::buf_ring::Lease>,
    thread: usize,
}

thread_local! {
    static THREAD_MARK: u8 = const { 0 };
}

fn thread_mark() -> usize {
    THREAD_MARK.with(|m| m as *const u8 as usize)
}

impl ShardLocal {
    pub(super) fn new(lease: super::buf_ring::Lease) -> Self {
        ShardLocal { lease: std::mem::ManuallyDrop::new(lease), thread: thread_mark() }
    }
}

// Safety: the only non-Send part is the lease's `Rc` to its ring. Reading the buffer
// through it (`as_ref`) from another thread neither touches the reference count nor races a
// writer: the kernel cannot reuse the buffer while the lease is alive. Dropping, the only
// operation that touches the count, is done only on the creating thread (checked below).
unsafe impl Send for ShardLocal {}

impl AsRef<[u8]> for ShardLocal {
    fn as_ref(&self) -> &[u8] {
        self.lease.bytes()
    }
}

impl Drop for ShardLocal {
    fn drop(&mut self) {
        if self.thread == thread_mark() {
            // Safety: dropped exactly once, here, on the thread that owns the ring.
            unsafe { std::mem::ManuallyDrop::drop(&mut self.lease) }
        } else {
            debug_assert!(false, "a received buffer was dropped off its shard thread");
        }
    }
}
