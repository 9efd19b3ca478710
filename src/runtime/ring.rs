//! One io_uring per shard: op submission, CQE dispatch, multishot re-arming, timers.
//!
//! Exists so that a shard can drive all of its sockets from one completion loop: it submits
//! ops tagged with its own [`Token`]s and gets back [`Completion`]s carrying those tokens,
//! the bytes received (as [`Lease`]s) and the buffers it lent to sends. It is not async and
//! not `Send`: the thread that creates a ring is the only one that ever touches it (which is
//! what makes IORING_SETUP_SINGLE_ISSUER | DEFER_TASKRUN safe). It refuses to interpret tokens.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{IntoRawFd, OwnedFd, RawFd};
use std::rc::Rc;
use std::time::{Duration, Instant};

use io_uring::{cqueue, types, IoUring};

use super::buf_ring::{BufGroup, BufRingConfig, BufRingInner, Lease};
use super::op::{Key, OpId, OpKind, SendBuf, Slots, Token};
use super::sys::{self, MsgParts, Sqe};
use super::timer::{TimerId, Timers};

/// How to set up a ring.
#[derive(Clone, Copy, Debug)]
pub struct RingConfig {
    /// Submission queue entries (rounded up to a power of two by the kernel).
    pub entries: u32,
    /// Completion queue entries; multishot ops post many CQEs per SQE, so keep it larger.
    pub cq_entries: u32,
    /// Ask for IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN. Completions are then
    /// produced only inside [`Ring::wait`], on this thread (the gateway issue measured 5.3 µs
    /// vs 13 µs of CPU per HTTP/1.1 request with a minimal client; `uring_pingpong`, ring
    /// against ring on a loaded 2-vCPU VM, saw 7-9 µs per side either way). If the kernel
    /// refuses, the ring falls back without them and [`Ring::setup`] says why.
    pub single_issuer_defer_taskrun: bool,
    /// Kernel submission-queue polling thread (excludes DEFER_TASKRUN). Off by default: it burns
    /// a core per ring, which a thread-per-core design cannot spare.
    pub sqpoll: bool,
}

impl Default for RingConfig {
    fn default() -> Self {
        Self { entries: 256, cq_entries: 4096, single_issuer_defer_taskrun: true, sqpoll: false }
    }
}

/// What the kernel actually accepted.
#[derive(Clone, Debug)]
pub struct SetupReport {
    pub single_issuer: bool,
    pub defer_taskrun: bool,
    pub sqpoll: bool,
    /// Why the requested flags were dropped, if they were.
    pub fallback: Option<String>,
}

/// Counters for tests, benches and per-shard metrics.
#[derive(Clone, Copy, Default, Debug)]
pub struct RingStats {
    pub sqes: u64,
    pub cqes: u64,
    /// CQEs whose op was no longer known (should stay 0; counted, never acted on).
    pub stale_cqes: u64,
    /// Multishot recvs ended by an empty buffer ring (re-armed when buffers come back).
    pub enobufs: u64,
    /// Multishot ops re-armed after ending (ENOBUFS or plain end of multishot).
    pub rearms: u64,
    /// Sends resubmitted after the kernel took only part of the bytes.
    pub partial_sends: u64,
}

/// One event for the caller.
#[derive(Debug)]
pub struct Completion {
    pub token: Token,
    pub op: OpKind,
    /// Accept: `Ok(fd)` (also in `fd`). Recv: `Ok(bytes)`, `Ok(0)` at end of stream. Send:
    /// `Ok(total bytes)`, all of them. Connect/Close: `Ok(0)`. Timeout/Timer: `Ok(0)` when it
    /// fired. A cancelled op ends with `ECANCELED`.
    pub result: io::Result<u32>,
    /// More completions of this op will follow. When `false`, the op is over and its
    /// [`OpId`] is dead.
    pub more: bool,
    /// Recv: the bytes received, leased until dropped.
    pub buffer: Option<Lease>,
    /// Send: the buffers the op owned, given back on success and on failure.
    pub send_buf: Option<SendBuf>,
    /// Accept: the new connection (non-blocking, close-on-exec). Closed if dropped.
    pub fd: Option<OwnedFd>,
}

impl Completion {
    fn new(token: Token, op: OpKind, result: io::Result<u32>, more: bool) -> Completion {
        Completion { token, op, result, more, buffer: None, send_buf: None, fd: None }
    }
}

/// Resources an op owns from submission to its final CQE.
enum Body {
    Accept,
    Recv { group: u16, parked: bool },
    Send(Box<SendState>),
    Connect(Box<socket2::SockAddr>),
    Close,
    Timeout(Box<types::Timespec>),
}

struct SendState {
    buf: SendBuf,
    sent: usize,
    msg: MsgParts,
}

struct OpState {
    token: Token,
    fd: RawFd,
    /// Set by cancel/cancel_fd/close: never re-arm or resubmit this op again.
    cancelled: bool,
    body: Body,
}

/// `user_data` of our own AsyncCancel ops: kind `Cancel`, no slot; their CQEs are dropped.
const CANCEL_USER_DATA: u64 = (OpKind::Cancel as u64) << 56;

/// A shard's ring. See the module docs for the threading rule.
pub struct Ring {
    uring: IoUring,
    ops: Slots<OpState>,
    groups: Vec<Rc<BufRingInner>>,
    /// Recv ops ended by ENOBUFS, waiting for a buffer to come back.
    parked: Vec<Key>,
    /// Completions produced without a CQE (a parked recv cancelled before re-arming).
    ready: Vec<Completion>,
    timers: Timers,
    cqe_scratch: Vec<(u64, i32, u32)>,
    setup: SetupReport,
    stats: RingStats,
    /// `Rc` field makes the ring `!Send`: one issuer thread, by construction.
    _not_send: std::marker::PhantomData<Rc<()>>,
}

impl Ring {
    pub fn new(config: RingConfig) -> io::Result<Ring> {
        let cq_entries = config.cq_entries.max(config.entries.saturating_mul(2));
        let build = |fast: bool| {
            let mut builder = IoUring::builder();
            builder.setup_cqsize(cq_entries).setup_submit_all();
            if config.sqpoll {
                builder.setup_sqpoll(1000);
            } else if fast {
                builder.setup_single_issuer().setup_defer_taskrun();
            }
            builder.build(config.entries)
        };
        let want_fast = config.single_issuer_defer_taskrun && !config.sqpoll;
        let (uring, fallback) = match build(want_fast) {
            Ok(uring) => (uring, None),
            Err(e) if want_fast => {
                let reason = format!("kernel refused SINGLE_ISSUER|DEFER_TASKRUN ({e}); running without them");
                eprintln!("spdygate runtime: {reason}");
                (build(false)?, Some(reason))
            }
            Err(e) => return Err(e),
        };
        let setup = SetupReport {
            single_issuer: want_fast && fallback.is_none(),
            defer_taskrun: want_fast && fallback.is_none(),
            sqpoll: config.sqpoll,
            fallback,
        };
        Ok(Ring {
            uring,
            ops: Slots::with_capacity(1024),
            groups: Vec::new(),
            parked: Vec::new(),
            ready: Vec::new(),
            timers: Timers::default(),
            cqe_scratch: Vec::with_capacity(256),
            setup,
            stats: RingStats::default(),
            _not_send: std::marker::PhantomData,
        })
    }

    pub fn setup(&self) -> &SetupReport {
        &self.setup
    }

    pub fn stats(&self) -> RingStats {
        self.stats
    }

    /// Ops submitted whose final completion has not been delivered yet.
    pub fn in_flight(&self) -> usize {
        self.ops.len()
    }

    /// Pending timers.
    pub fn timers_pending(&self) -> usize {
        self.timers.len()
    }

    /// Registers a provided buffer ring; its buffers feed [`Ring::recv_multishot`].
    pub fn add_buf_ring(&mut self, config: BufRingConfig) -> io::Result<BufGroup> {
        let bgid = u16::try_from(self.groups.len()).map_err(|_| io::Error::other("too many buffer groups"))?;
        let inner = BufRingInner::new(bgid, config).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        inner.register(&self.uring.submitter())?;
        self.groups.push(inner);
        Ok(BufGroup(bgid))
    }

    /// Buffers of `group` not currently leased.
    pub fn buffers_free(&self, group: BufGroup) -> u32 {
        self.groups[group.0 as usize].free()
    }

    /// Multishot accept on `listener` (which the caller keeps open until the op ends). Each
    /// completion carries a new connection in `fd`; the op re-arms itself if the kernel ends it.
    pub fn accept_multishot(&mut self, listener: RawFd, token: Token) -> OpId {
        self.start(OpKind::Accept, OpState { token, fd: listener, cancelled: false, body: Body::Accept })
    }

    /// Multishot recv on `fd` into buffers of `group`. The op re-arms itself when the kernel
    /// ends it, including after ENOBUFS (once a lease on that group is dropped), so it ends only
    /// at end of stream (`Ok(0)`), on an error, or when cancelled.
    pub fn recv_multishot(&mut self, fd: RawFd, group: BufGroup, token: Token) -> OpId {
        assert!((group.0 as usize) < self.groups.len(), "unknown buffer group {}", group.0);
        let body = Body::Recv { group: group.0, parked: false };
        self.start(OpKind::Recv, OpState { token, fd, cancelled: false, body })
    }

    /// Sends all of `buf` with `sendmsg` (resubmitting the rest after a partial send). `buf` is
    /// given back in the completion's `send_buf`, whatever the outcome.
    pub fn send(&mut self, fd: RawFd, buf: SendBuf, token: Token) -> OpId {
        let state = Box::new(SendState { buf, sent: 0, msg: MsgParts::new() });
        self.start(OpKind::Send, OpState { token, fd, cancelled: false, body: Body::Send(state) })
    }

    /// Connects `fd` (from [`super::net::client_socket`]) to `peer` through the ring.
    pub fn connect(&mut self, fd: RawFd, peer: SocketAddr, token: Token) -> OpId {
        let addr = Box::new(socket2::SockAddr::from(peer));
        self.start(OpKind::Connect, OpState { token, fd, cancelled: false, body: Body::Connect(addr) })
    }

    /// Cancels every op on `fd`, then closes it through the ring. Ops in flight keep their
    /// buffers until their (ECANCELED) completions arrive, so nothing the kernel may still
    /// touch is freed early.
    pub fn close(&mut self, fd: OwnedFd, token: Token) -> OpId {
        let fd = fd.into_raw_fd();
        self.cancel_fd(fd);
        self.start(OpKind::Close, OpState { token, fd, cancelled: false, body: Body::Close })
    }

    /// A one-shot ring timeout after `after` (prefer [`Ring::timer`]: no SQE per timer).
    pub fn timeout(&mut self, after: Duration, token: Token) -> OpId {
        let ts = Box::new(types::Timespec::from(after));
        self.start(OpKind::Timeout, OpState { token, fd: -1, cancelled: false, body: Body::Timeout(ts) })
    }

    /// A timer on the shard's heap; it completes (kind `Timer`) in the first `wait` at or after
    /// `deadline`.
    pub fn timer(&mut self, deadline: Instant, token: Token) -> TimerId {
        self.timers.add(deadline, token)
    }

    /// `false` if the timer already fired or was cancelled.
    pub fn cancel_timer(&mut self, id: TimerId) -> bool {
        self.timers.cancel(id)
    }

    /// Asks the kernel to cancel `op`. Its final completion (ECANCELED, or its natural result
    /// if it won the race) still arrives through `wait`. No-op if the op is over.
    pub fn cancel(&mut self, op: OpId) {
        let key = op.key();
        let Some(state) = self.ops.get_mut(key) else { return };
        if state.cancelled {
            return;
        }
        state.cancelled = true;
        if self.finish_if_parked(key) {
            return;
        }
        self.push(sys::sqe_cancel(op.user_data(), CANCEL_USER_DATA));
    }

    /// Cancels every op on `fd` (scans the in-flight ops: O(in flight)).
    pub fn cancel_fd(&mut self, fd: RawFd) {
        let mut parked = Vec::new();
        for (key, state) in self.ops.iter_mut() {
            if state.fd == fd && !state.cancelled {
                state.cancelled = true;
                if matches!(state.body, Body::Recv { parked: true, .. }) {
                    parked.push(key);
                }
            }
        }
        for key in parked {
            self.finish_if_parked(key);
        }
        self.push(sys::sqe_cancel_fd(fd, CANCEL_USER_DATA));
    }

    /// Submits queued ops, waits until `min_complete` completions are available, or `timeout`
    /// passes, or the earliest timer is due, and appends every available completion to `out`.
    /// `min_complete == 0` never sleeps.
    pub fn wait(&mut self, min_complete: usize, timeout: Option<Duration>, out: &mut Vec<Completion>) -> io::Result<()> {
        self.rearm_parked();
        out.append(&mut self.ready);
        let mut limit = timeout;
        if let Some(deadline) = self.timers.next_deadline() {
            let due = deadline.saturating_duration_since(Instant::now());
            limit = Some(limit.map_or(due, |l| l.min(due)));
        }
        let want = if out.is_empty() { min_complete } else { 0 };
        self.enter(want, limit)?;
        self.reap(out);
        if self.timers.len() > 0 {
            let now = Instant::now();
            while let Some(token) = self.timers.pop_expired(now) {
                out.push(Completion::new(token, OpKind::Timer, Ok(0), false));
            }
        }
        Ok(())
    }

    fn enter(&mut self, want: usize, limit: Option<Duration>) -> io::Result<()> {
        let result = match (want, limit) {
            (0, _) | (_, Some(Duration::ZERO)) => {
                // Submit and run deferred task work without sleeping: wait for one CQE with a
                // zero timeout (ETIME when there is none).
                let ts = types::Timespec::new();
                self.uring.submitter().submit_with_args(1, &types::SubmitArgs::new().timespec(&ts))
            }
            (want, None) => self.uring.submit_and_wait(want),
            (want, Some(limit)) => {
                let ts = types::Timespec::from(limit);
                self.uring.submitter().submit_with_args(want, &types::SubmitArgs::new().timespec(&ts))
            }
        };
        match result {
            Ok(_) => Ok(()),
            // ETIME: timeout; EINTR: signal; EBUSY/EAGAIN: CQ backlog, drained below.
            Err(e) if matches!(e.raw_os_error(), Some(libc::ETIME | libc::EINTR | libc::EBUSY | libc::EAGAIN)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn reap(&mut self, out: &mut Vec<Completion>) {
        let mut cqes = std::mem::take(&mut self.cqe_scratch);
        cqes.extend(self.uring.completion().map(|cqe| (cqe.user_data(), cqe.result(), cqe.flags())));
        for (user_data, result, flags) in cqes.drain(..) {
            self.complete(user_data, result, flags, out);
        }
        self.cqe_scratch = cqes;
    }

    fn complete(&mut self, user_data: u64, res: i32, flags: u32, out: &mut Vec<Completion>) {
        self.stats.cqes += 1;
        let Some((kind, key)) = OpId::decode(user_data) else {
            self.stats.stale_cqes += 1;
            return;
        };
        if kind == OpKind::Cancel {
            return;
        }
        let id = OpId::new(kind, key);
        let more = cqueue::more(flags);
        let Some(state) = self.ops.get_mut(key) else {
            self.stats.stale_cqes += 1;
            return;
        };
        let token = state.token;
        let cancelled = state.cancelled;
        match &mut state.body {
            Body::Accept => {
                let fd = (res >= 0).then(|| sys::adopt_fd(res));
                let rearm = res >= 0 && !more && !cancelled;
                let more = more || rearm;
                let mut completion = Completion::new(token, kind, result(res), more);
                completion.fd = fd;
                out.push(completion);
                if rearm {
                    self.stats.rearms += 1;
                    self.issue(id);
                } else if !more {
                    self.ops.remove(key);
                }
            }
            Body::Recv { group, parked } => {
                let group = *group;
                let buffer = cqueue::buffer_select(flags)
                    .and_then(|bid| self.groups[group as usize].lease(bid, res.max(0) as u32));
                if res == -libc::ENOBUFS && !more && !cancelled {
                    *parked = true;
                    self.parked.push(key);
                    self.stats.enobufs += 1;
                    return;
                }
                let rearm = res > 0 && !more && !cancelled;
                let more = more || rearm;
                let mut completion = Completion::new(token, kind, result(res), more);
                completion.buffer = buffer;
                out.push(completion);
                if rearm {
                    self.stats.rearms += 1;
                    self.issue(id);
                } else if !more {
                    self.ops.remove(key);
                }
            }
            Body::Send(send) => {
                if res > 0 {
                    send.sent += res as usize;
                    if send.sent < send.buf.len() && !cancelled {
                        self.stats.partial_sends += 1;
                        self.issue(id);
                        return;
                    }
                }
                let outcome = match res {
                    r if r < 0 => result(r),
                    _ if send.sent < send.buf.len() && cancelled => result(-libc::ECANCELED),
                    _ if send.sent < send.buf.len() => {
                        Err(io::Error::new(io::ErrorKind::WriteZero, "sendmsg stopped before the end"))
                    }
                    _ => Ok(send.sent as u32),
                };
                let Some(OpState { body: Body::Send(send), .. }) = self.ops.remove(key) else { return };
                let mut completion = Completion::new(token, kind, outcome, false);
                completion.send_buf = Some(send.buf);
                out.push(completion);
            }
            Body::Connect(_) | Body::Close => {
                self.ops.remove(key);
                out.push(Completion::new(token, kind, result(res), false));
            }
            Body::Timeout(_) => {
                self.ops.remove(key);
                let outcome = if res == -libc::ETIME { Ok(0) } else { result(res) };
                out.push(Completion::new(token, kind, outcome, false));
            }
        }
    }

    /// Re-arms ENOBUFS-parked recvs whose group has a buffer back.
    fn rearm_parked(&mut self) {
        let mut i = 0;
        while i < self.parked.len() {
            let key = self.parked[i];
            let Some(state) = self.ops.get_mut(key) else {
                self.parked.swap_remove(i);
                continue;
            };
            let Body::Recv { group, parked } = &mut state.body else {
                self.parked.swap_remove(i);
                continue;
            };
            if self.groups[*group as usize].free() == 0 {
                i += 1;
                continue;
            }
            *parked = false;
            self.parked.swap_remove(i);
            self.stats.rearms += 1;
            self.issue(OpId::new(OpKind::Recv, key));
        }
    }

    /// Ends a cancelled recv that is parked (not in the kernel) with ECANCELED.
    fn finish_if_parked(&mut self, key: Key) -> bool {
        let Some(OpState { body: Body::Recv { parked: true, .. }, .. }) = self.ops.get(key) else {
            return false;
        };
        self.parked.retain(|k| *k != key);
        if let Some(state) = self.ops.remove(key) {
            let err = io::Error::from_raw_os_error(libc::ECANCELED);
            self.ready.push(Completion::new(state.token, OpKind::Recv, Err(err), false));
        }
        true
    }

    fn start(&mut self, kind: OpKind, state: OpState) -> OpId {
        let id = OpId::new(kind, self.ops.insert(state));
        self.issue(id);
        id
    }

    /// (Re)submits the op `id` from the state it owns in the slab.
    fn issue(&mut self, id: OpId) {
        let Some(state) = self.ops.get_mut(id.key()) else { return };
        let user_data = id.user_data();
        let fd = state.fd;
        let sqe = match &mut state.body {
            Body::Accept => sys::sqe_accept_multi(fd, user_data),
            Body::Recv { group, .. } => sys::sqe_recv_multi(fd, *group, user_data),
            Body::Send(send) => {
                let SendState { buf, sent, msg } = &mut **send;
                sys::sqe_sendmsg(fd, buf, *sent, msg, user_data)
            }
            Body::Connect(addr) => sys::sqe_connect(fd, addr, user_data),
            Body::Close => sys::sqe_close(fd, user_data),
            Body::Timeout(ts) => sys::sqe_timeout(ts, user_data),
        };
        self.push(sqe);
    }

    fn push(&mut self, sqe: Sqe) {
        while !sys::push(&mut self.uring, &sqe) {
            // Submission queue full: hand the queued SQEs to the kernel, then retry. If the
            // kernel pushes back (CQ backlog), park the CQEs we can see for the next `wait`.
            if self.uring.submit().is_err() {
                let backlog: Vec<_> =
                    self.uring.completion().map(|cqe| (cqe.user_data(), cqe.result(), cqe.flags())).collect();
                let mut out = Vec::new();
                for (user_data, res, flags) in backlog {
                    self.complete(user_data, res, flags, &mut out);
                }
                self.ready.append(&mut out);
            }
        }
        self.stats.sqes += 1;
    }
}

fn result(res: i32) -> io::Result<u32> {
    if res < 0 {
        Err(io::Error::from_raw_os_error(-res))
    } else {
        Ok(res as u32)
    }
}

impl Drop for Ring {
    /// Cancels everything and reaps until no op is in flight, so that op-owned memory is freed
    /// only after the kernel is done with it. If the kernel does not finish within ~1 s, the
    /// op state and buffer rings are leaked instead of freed.
    fn drop(&mut self) {
        if !self.ops.is_empty() {
            let parked: Vec<Key> = self.parked.drain(..).collect();
            for (_, state) in self.ops.iter_mut() {
                state.cancelled = true;
            }
            for key in parked {
                self.ops.remove(key);
            }
            self.push(sys::sqe_cancel_any(CANCEL_USER_DATA));
            let mut sink = Vec::new();
            for _ in 0..100 {
                if self.ops.is_empty() {
                    break;
                }
                if self.enter(1, Some(Duration::from_millis(10))).is_err() {
                    break;
                }
                self.reap(&mut sink);
                sink.clear();
            }
        }
        if !self.ops.is_empty() {
            std::mem::forget(std::mem::take(&mut self.ops));
            for group in &self.groups {
                std::mem::forget(Rc::clone(group));
            }
            return;
        }
        for group in &self.groups {
            let _ = self.uring.submitter().unregister_buf_ring(group.bgid);
        }
    }
}
