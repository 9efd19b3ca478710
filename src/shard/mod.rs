//! Shards: one pinned thread per core with its own io_uring, SO_REUSEPORT listeners,
//! client connections, backend pools and buffers. Nothing is shared on the hot path: a
//! connection is accepted, served and closed by one shard, and so are its backend
//! connections.
//!
//! This module is wiring. Completions from the ring go to the sans-IO layers
//! ([`SpdyConnection`], [`H1Connection`], [`TlsSession`]); the I/O they ask for goes back
//! to the ring. Policy lives in `gateway` and `backend`, not here.

pub mod tls;

use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::backend::{Pool, PoolPolicy};
use crate::config::{Config, Listener, PlaintextVersion};
use crate::gateway::{BackendAction, BackendFailure, ExchangeId, H1Connection, Policy, SpdyConnection};
use crate::id_map::IdMap;
use crate::runtime::{
    net, BufGroup, BufRingConfig, Chunk, Key, OpId, OpKind, Ring, RingConfig, SendBuf, Slots, TimerId, Token,
};
use crate::spdy::session::{Role, Session};
use crate::spdy::version::Version;
use tls::TlsSession;

/// Token tags: which kind of socket a completion belongs to.
const LISTENER: u8 = 1;
const CLIENT: u8 = 2;
const BACKEND: u8 = 3;
const CLOSE: u8 = 4;

/// How often deadlines (response timeouts, idle sessions, drain) are checked.
const TICK: Duration = Duration::from_millis(50);
/// Quiet time after which a shard returns freed memory to the OS: just past the 1 s after
/// which idle sessions hibernate their inflaters (spdy::session::HIBERNATE_AFTER).
const RELEASE_MEMORY_AFTER: Duration = Duration::from_millis(1500);

/// Process-wide counters, summed over shards (relaxed atomics, touched once per
/// connection or exchange, never per byte).
#[derive(Debug, Default)]
pub struct Counters {
    pub accepted: AtomicU64,
    pub exchanges: AtomicU64,
    pub backend_connects: AtomicU64,
    pub backend_failures: AtomicU64,
}

/// What a shard thread needs.
pub struct ShardContext {
    pub index: usize,
    pub config: Arc<Config>,
    /// One TLS config per listener (None for plaintext listeners).
    pub tls: Vec<Option<Arc<rustls::ServerConfig>>>,
    /// Listeners bound by the main thread for shard 0 and by each shard for itself.
    pub listeners: Vec<TcpListener>,
    /// Set by the signal handler: drain and exit.
    pub stop: Arc<AtomicBool>,
    pub counters: Arc<Counters>,
}

/// Binds this shard's SO_REUSEPORT listeners.
pub fn bind_listeners(config: &Config) -> io::Result<Vec<TcpListener>> {
    config.listeners.iter().map(|l| net::reuseport_listener(l.addr, 4096)).collect()
}

enum Front {
    /// Plaintext, before the first bytes say SPDY or HTTP/1.1; TLS, before ALPN.
    Pending,
    Spdy(Box<SpdyConnection>),
    H1(Box<H1Connection>),
}

struct Client {
    fd: Option<OwnedFd>,
    raw: RawFd,
    listener: usize,
    addr: Vec<u8>,
    /// Boxed: a rustls connection is over a kilobyte inline, and plaintext clients have none.
    tls: Option<Box<TlsSession>>,
    front: Front,
    /// Plaintext bytes seen before the protocol was known.
    sniffed: Vec<u8>,
    recv: Option<OpId>,
    /// Plaintext bytes covered by the send in flight (for `client_sent`).
    sending: Option<usize>,
    out: Vec<Bytes>,
    /// Exchange → backend connection.
    exchanges: IdMap<ExchangeId, Key>,
    eof: bool,
    closing: bool,
}

#[derive(PartialEq, Eq, Debug)]
enum BackendState {
    Connecting,
    Active,
    Idle,
}

struct BackendConn {
    fd: Option<OwnedFd>,
    raw: RawFd,
    backend: usize,
    owner: Option<(Key, ExchangeId)>,
    state: BackendState,
    queue: VecDeque<(Vec<Bytes>, usize)>,
    /// Credit of the send in flight.
    sending: Option<usize>,
    recv: Option<OpId>,
    /// While connecting: the connect and the timer that cancels it at the backend's
    /// `connect_timeout` (a backend that never answers the handshake then fails like one
    /// that refuses it: a retry elsewhere or a 502, and a failure for passive health).
    connecting: Option<(OpId, TimerId)>,
    paused: bool,
    /// The exchange got its response (feeds passive health).
    answered: bool,
}

/// One shard: its ring and everything it serves.
pub struct Shard {
    ctx: ShardContext,
    ring: Ring,
    group: BufGroup,
    clients: Slots<Client>,
    backends: Slots<BackendConn>,
    pool: Pool<Key>,
    policy: Policy,
    session_config: crate::spdy::session::SessionConfig,
    draining: Option<Instant>,
    accepts: Vec<OpId>,
    scratch: Vec<u8>,
    /// The clock read once per batch of completions (one `clock_gettime` per wake-up,
    /// not one per completion); deadlines are checked every 50 ms anyway.
    now: Instant,
}

impl Shard {
    pub fn new(ctx: ShardContext) -> io::Result<Shard> {
        let config = Arc::clone(&ctx.config);
        let mut ring = Ring::new(RingConfig::default())?;
        let group = ring.add_buf_ring(BufRingConfig {
            buf_size: config.buffers.recv_buffer_size,
            count: config.buffers.recv_buffer_count,
        })?;
        let b = &config.backends;
        let pool = Pool::new(
            b.servers.len(),
            PoolPolicy {
                balance: b.balance,
                max_idle_per_backend: b.max_idle_per_backend,
                idle_timeout: b.idle_timeout,
                eject_after_failures: b.eject_after_failures,
                eject_for: b.eject_for,
            },
        );
        let policy = Policy {
            max_buffered_per_stream: config.buffers.max_buffered_per_stream,
            max_buffered_per_session: config.buffers.max_buffered_per_session,
            retries: b.retries,
            response_timeout: b.response_timeout,
        };
        Ok(Shard {
            session_config: config.session.clone(),
            ctx,
            ring,
            group,
            clients: Slots::new(),
            backends: Slots::new(),
            pool,
            policy,
            draining: None,
            accepts: Vec::new(),
            scratch: Vec::new(),
            now: Instant::now(),
        })
    }

    /// Runs until stopped and drained.
    pub fn run(mut self) -> io::Result<()> {
        for (i, l) in self.ctx.listeners.iter().enumerate() {
            let op = self.ring.accept_multishot(l.as_raw_fd(), Token::new(LISTENER, Key { index: i as u32, generation: 0 }));
            self.accepts.push(op);
        }
        let mut completions = Vec::with_capacity(256);
        let mut next_tick = Instant::now() + TICK;
        let mut last_busy = Instant::now();
        let mut memory_released = false;
        loop {
            self.ring.wait(1, Some(TICK), &mut completions)?;
            let busy = !completions.is_empty();
            let now = Instant::now();
            self.now = now;
            for c in completions.drain(..) {
                self.complete(c);
            }
            if busy {
                last_busy = now;
                memory_released = false;
            }
            if now >= next_tick {
                next_tick = now + TICK;
                self.tick(now);
                if !memory_released && now.duration_since(last_busy) >= RELEASE_MEMORY_AFTER {
                    crate::runtime::release_idle_memory();
                    memory_released = true;
                }
                if let Some(deadline) = self.draining {
                    if self.clients.is_empty() || now >= deadline {
                        return Ok(());
                    }
                }
            }
        }
    }

    fn complete(&mut self, c: crate::runtime::Completion) {
        let key = c.token.key();
        match (c.token.tag(), c.op) {
            (LISTENER, OpKind::Accept) => {
                if let Some(fd) = c.fd {
                    self.accepted(key.index as usize, fd);
                }
            }
            (CLIENT, OpKind::Recv) => self.client_recv(key, c.result, c.buffer),
            (CLIENT, OpKind::Send) => self.client_sent(key, c.result),
            (BACKEND, OpKind::Connect) => self.backend_connected(key, c.result),
            (BACKEND, OpKind::Timer) => self.backend_connect_timeout(key),
            (BACKEND, OpKind::Recv) => self.backend_recv(key, c.result, c.buffer, c.more),
            (BACKEND, OpKind::Send) => self.backend_sent(key, c.result),
            _ => {}
        }
    }

    // ---- clients --------------------------------------------------------------------

    fn accepted(&mut self, listener: usize, fd: OwnedFd) {
        if self.draining.is_some() {
            return;
        }
        let _ = net::set_nodelay(&fd);
        let addr = peer_ip(&fd);
        let tls = match &self.ctx.tls.get(listener) {
            Some(Some(cfg)) => match TlsSession::new(Arc::clone(cfg)) {
                Ok(t) => Some(Box::new(t)),
                Err(_) => return,
            },
            _ => None,
        };
        self.ctx.counters.accepted.fetch_add(1, Ordering::Relaxed);
        let raw = fd.as_raw_fd();
        let key = self.clients.insert(Client {
            fd: Some(fd),
            raw,
            listener,
            addr,
            tls,
            front: Front::Pending,
            sniffed: Vec::new(),
            recv: None,
            sending: None,
            out: Vec::new(),
            exchanges: IdMap::default(),
            eof: false,
            closing: false,
        });
        let op = self.ring.recv_multishot(raw, self.group, Token::new(CLIENT, key));
        if let Some(client) = self.clients.get_mut(key) {
            client.recv = Some(op);
        }
    }

    fn client_recv(&mut self, key: Key, result: io::Result<u32>, buffer: Option<crate::runtime::Lease>) {
        let now = self.now;
        let Some(client) = self.clients.get_mut(key) else { return };
        match result {
            Ok(n) if n > 0 => {
                let Some(lease) = buffer else { return };
                if client.tls.is_some() {
                    self.scratch.clear();
                    let tls = client.tls.as_mut().expect("checked");
                    if tls.recv(lease.bytes(), &mut self.scratch).is_err() {
                        client.closing = true;
                        self.flush_tls_only(key);
                        return;
                    }
                    let plain = Bytes::copy_from_slice(&self.scratch);
                    self.client_plaintext(key, plain, now);
                } else {
                    self.client_plaintext(key, lease.into_bytes_or_copy(), now);
                }
            }
            Ok(_) => {
                // End of stream from the client.
                client.eof = true;
                client.recv = None;
                if let Front::H1(h1) = &mut client.front {
                    h1.client_eof(now);
                } else {
                    client.closing = true;
                }
            }
            Err(e) => {
                client.recv = None;
                if e.raw_os_error() != Some(libc::ECANCELED) {
                    client.closing = true;
                }
            }
        }
        self.pump_client(key, now);
    }

    /// Plaintext from the client: pick the protocol on the first bytes, then feed it.
    fn client_plaintext(&mut self, key: Key, data: Bytes, now: Instant) {
        let Some(client) = self.clients.get_mut(key) else { return };
        if let Front::Pending = client.front {
            let listener: &Listener = &self.ctx.config.listeners[client.listener];
            let chosen = if let Some(tls) = &client.tls {
                if tls.is_handshaking() {
                    if !data.is_empty() {
                        client.sniffed.extend_from_slice(&data);
                    }
                    return;
                }
                Some(tls.alpn().and_then(Version::from_alpn).map(|v| (v, false)))
            } else {
                client.sniffed.extend_from_slice(&data);
                sniff(&client.sniffed, listener.plaintext_version)
            };
            let Some(chosen) = chosen else { return };
            let data = if client.tls.is_some() {
                let mut all = std::mem::take(&mut client.sniffed);
                all.extend_from_slice(&data);
                Bytes::from(all)
            } else {
                Bytes::from(std::mem::take(&mut client.sniffed))
            };
            client.front = match chosen {
                Some((version, detect)) => {
                    let mut config = self.session_config.clone();
                    config.detect_spdy3 = detect;
                    let session = Session::new(Role::Server, version, config, now);
                    Front::Spdy(Box::new(SpdyConnection::new(session, &client.addr, self.policy.clone())))
                }
                None => Front::H1(Box::new(H1Connection::new(&client.addr, client.tls.is_some(), self.policy.clone()))),
            };
            if data.is_empty() {
                return;
            }
            self.feed_front(key, data, now);
            return;
        }
        self.feed_front(key, data, now);
    }

    fn feed_front(&mut self, key: Key, data: Bytes, now: Instant) {
        let Some(client) = self.clients.get_mut(key) else { return };
        match &mut client.front {
            Front::Spdy(spdy) => {
                if spdy.recv_client(&data, now).is_err() {
                    // The GOAWAY is queued; close once it is written.
                    client.closing = true;
                }
            }
            Front::H1(h1) => h1.recv_client(data, now),
            Front::Pending => {}
        }
    }

    /// Performs what the client's front asks for: backend actions, client writes, reads.
    fn pump_client(&mut self, key: Key, now: Instant) {
        // Backend actions may produce events for the same client (a connect that fails at
        // once), so loop until it is quiet.
        for _ in 0..64 {
            let Some(client) = self.clients.get_mut(key) else { return };
            let action = match &mut client.front {
                Front::Spdy(s) => s.poll_backend_action(),
                Front::H1(h) => h.poll_backend_action(),
                Front::Pending => None,
            };
            let Some(action) = action else { break };
            self.backend_action(key, action, now);
        }
        self.write_client(key);
        self.maybe_close_client(key);
    }

    fn write_client(&mut self, key: Key) {
        let Some(client) = self.clients.get_mut(key) else { return };
        if client.sending.is_some() || client.fd.is_none() {
            return;
        }
        client.out.clear();
        match &mut client.front {
            Front::Spdy(s) => s.take_client_output(&mut client.out),
            Front::H1(h) => h.take_client_output(&mut client.out),
            Front::Pending => {}
        }
        let plain: usize = client.out.iter().map(Bytes::len).sum();
        let mut buf = SendBuf::new();
        if let Some(tls) = client.tls.as_mut() {
            for b in client.out.drain(..) {
                tls.send(&b);
            }
            let mut cipher = Vec::new();
            tls.take_output(&mut cipher);
            if !cipher.is_empty() {
                buf.push_vec(cipher);
            }
        } else {
            for b in client.out.drain(..) {
                if !b.is_empty() {
                    buf.push(Chunk::Shared(b));
                }
            }
        }
        if buf.is_empty() {
            return;
        }
        client.sending = Some(plain);
        self.ring.send(client.raw, buf, Token::new(CLIENT, key));
    }

    /// Sends what TLS has queued (an alert, the handshake) without any plaintext.
    fn flush_tls_only(&mut self, key: Key) {
        self.write_client(key);
        self.maybe_close_client(key);
    }

    fn client_sent(&mut self, key: Key, result: io::Result<u32>) {
        let now = self.now;
        let Some(client) = self.clients.get_mut(key) else { return };
        let plain = client.sending.take().unwrap_or(0);
        if result.is_err() {
            client.closing = true;
            client.eof = true;
        } else {
            match &mut client.front {
                Front::Spdy(s) => s.client_sent(plain, now),
                Front::H1(h) => h.client_sent(plain, now),
                Front::Pending => {}
            }
        }
        self.pump_client(key, now);
    }

    fn maybe_close_client(&mut self, key: Key) {
        let Some(client) = self.clients.get_mut(key) else { return };
        // Handshake bytes from TLS may still be waiting when the front is pending.
        if let (Front::Pending, Some(tls)) = (&client.front, client.tls.as_mut()) {
            if client.sending.is_none() {
                let mut cipher = Vec::new();
                tls.take_output(&mut cipher);
                if !cipher.is_empty() {
                    let mut buf = SendBuf::new();
                    buf.push_vec(cipher);
                    client.sending = Some(0);
                    self.ring.send(client.raw, buf, Token::new(CLIENT, key));
                }
            }
        }
        let front_done = match &client.front {
            Front::Spdy(s) => s.is_done(),
            Front::H1(h) => h.is_done(),
            Front::Pending => client.eof,
        };
        let wants_read = match &client.front {
            Front::Spdy(s) => s.wants_read(),
            Front::H1(h) => h.wants_read(),
            Front::Pending => true,
        };
        // Close once nothing is being written and the front is done, the client is gone
        // after we decided to close, or a connection that never chose a protocol is closing.
        let closable = front_done || (client.closing && (client.eof || matches!(client.front, Front::Pending)));
        if closable && client.sending.is_none() {
            self.close_client(key);
            return;
        }
        let Some(client) = self.clients.get_mut(key) else { return };
        // Reading follows the front's appetite (back-pressure, B5).
        if !client.eof {
            match (wants_read, client.recv) {
                (false, Some(op)) => {
                    self.ring.cancel(op);
                    client.recv = None;
                }
                (true, None) => {
                    client.recv = Some(self.ring.recv_multishot(client.raw, self.group, Token::new(CLIENT, key)));
                }
                _ => {}
            }
        }
    }

    fn close_client(&mut self, key: Key) {
        let Some(mut client) = self.clients.remove(key) else { return };
        for (_, backend_key) in client.exchanges.drain() {
            self.close_backend(backend_key);
        }
        if let Some(fd) = client.fd.take() {
            self.ring.close(fd, Token::new(CLOSE, key));
        }
    }

    // ---- backends -------------------------------------------------------------------

    fn backend_action(&mut self, client_key: Key, action: BackendAction, now: Instant) {
        match action {
            BackendAction::Open { exchange, .. } => self.open_backend(client_key, exchange, now),
            BackendAction::Send { exchange, bufs, credit } => {
                let Some(bk) = self.backend_of(client_key, exchange) else { return };
                if let Some(conn) = self.backends.get_mut(bk) {
                    conn.queue.push_back((bufs, credit));
                }
                self.send_backend(bk);
            }
            BackendAction::PauseRead { exchange } => {
                let Some(bk) = self.backend_of(client_key, exchange) else { return };
                if let Some(conn) = self.backends.get_mut(bk) {
                    conn.paused = true;
                    if let Some(op) = conn.recv.take() {
                        self.ring.cancel(op);
                    }
                }
            }
            BackendAction::ResumeRead { exchange } => {
                let Some(bk) = self.backend_of(client_key, exchange) else { return };
                if let Some(conn) = self.backends.get_mut(bk) {
                    conn.paused = false;
                    if conn.recv.is_none() && conn.state == BackendState::Active {
                        conn.recv = Some(self.ring.recv_multishot(conn.raw, self.group, Token::new(BACKEND, bk)));
                    }
                }
            }
            BackendAction::Release { exchange, reusable } => {
                let Some(client) = self.clients.get_mut(client_key) else { return };
                let Some(bk) = client.exchanges.remove(&exchange) else { return };
                let Some(conn) = self.backends.get_mut(bk) else { return };
                let backend = conn.backend;
                self.pool.finish(backend, conn.answered, now);
                conn.owner = None;
                let idle_ok = reusable && conn.queue.is_empty() && conn.sending.is_none() && conn.state == BackendState::Active;
                if idle_ok && self.draining.is_none() {
                    conn.state = BackendState::Idle;
                    conn.answered = false;
                    conn.paused = false;
                    if conn.recv.is_none() {
                        conn.recv = Some(self.ring.recv_multishot(conn.raw, self.group, Token::new(BACKEND, bk)));
                    }
                    if let Err(k) = self.pool.put_idle(backend, bk, now) {
                        self.close_backend(k);
                    }
                } else {
                    self.close_backend(bk);
                }
            }
        }
    }

    fn backend_of(&self, client_key: Key, exchange: ExchangeId) -> Option<Key> {
        self.clients.get(client_key)?.exchanges.get(&exchange).copied()
    }

    fn open_backend(&mut self, client_key: Key, exchange: ExchangeId, now: Instant) {
        self.ctx.counters.exchanges.fetch_add(1, Ordering::Relaxed);
        let Some(backend) = self.pool.pick(now) else {
            self.fail_exchange(client_key, exchange, BackendFailure::Connect, now);
            return;
        };
        if let Some(bk) = self.pool.take_idle(backend, now) {
            if let Some(conn) = self.backends.get_mut(bk) {
                conn.state = BackendState::Active;
                conn.owner = Some((client_key, exchange));
                if let Some(client) = self.clients.get_mut(client_key) {
                    client.exchanges.insert(exchange, bk);
                }
                return;
            }
        }
        let addr: SocketAddr = self.ctx.config.backends.servers[backend];
        let fd = match net::client_socket(addr) {
            Ok(fd) => fd,
            Err(_) => {
                self.pool.finish(backend, false, now);
                self.fail_exchange(client_key, exchange, BackendFailure::Connect, now);
                return;
            }
        };
        self.ctx.counters.backend_connects.fetch_add(1, Ordering::Relaxed);
        let raw = fd.as_raw_fd();
        let bk = self.backends.insert(BackendConn {
            fd: Some(fd),
            raw,
            backend,
            owner: Some((client_key, exchange)),
            state: BackendState::Connecting,
            queue: VecDeque::new(),
            sending: None,
            recv: None,
            connecting: None,
            paused: false,
            answered: false,
        });
        if let Some(client) = self.clients.get_mut(client_key) {
            client.exchanges.insert(exchange, bk);
        }
        let op = self.ring.connect(raw, addr, Token::new(BACKEND, bk));
        let timer = self.ring.timer(now + self.ctx.config.backends.connect_timeout, Token::new(BACKEND, bk));
        if let Some(conn) = self.backends.get_mut(bk) {
            conn.connecting = Some((op, timer));
        }
    }

    /// The connect of `bk` ran past the connect timeout: cancelled, it completes with an
    /// error and fails like a refused connect (see `backend_connected`).
    fn backend_connect_timeout(&mut self, bk: Key) {
        let Some(conn) = self.backends.get_mut(bk) else { return };
        if let Some((op, _)) = conn.connecting.take() {
            self.ring.cancel(op);
        }
    }

    /// Reports a failure to the exchange's owner (called where no backend conn exists).
    fn fail_exchange(&mut self, client_key: Key, exchange: ExchangeId, failure: BackendFailure, now: Instant) {
        self.ctx.counters.backend_failures.fetch_add(1, Ordering::Relaxed);
        let Some(client) = self.clients.get_mut(client_key) else { return };
        client.exchanges.remove(&exchange);
        match &mut client.front {
            Front::Spdy(s) => s.backend_failed(exchange, failure, now),
            Front::H1(h) => h.backend_failed(exchange, failure, now),
            Front::Pending => {}
        }
        // The caller's pump loop picks up the actions this produced.
    }

    fn backend_connected(&mut self, bk: Key, result: io::Result<u32>) {
        let now = self.now;
        let Some(conn) = self.backends.get_mut(bk) else { return };
        if let Some((_, timer)) = conn.connecting.take() {
            self.ring.cancel_timer(timer);
        }
        match result {
            Ok(_) => {
                conn.state = BackendState::Active;
                if !conn.paused {
                    conn.recv = Some(self.ring.recv_multishot(conn.raw, self.group, Token::new(BACKEND, bk)));
                }
                self.send_backend(bk);
            }
            Err(_) => {
                let owner = conn.owner.take();
                let backend = conn.backend;
                self.pool.finish(backend, false, now);
                self.close_backend(bk);
                if let Some((ck, ex)) = owner {
                    self.fail_exchange(ck, ex, BackendFailure::Connect, now);
                    self.pump_client(ck, now);
                }
            }
        }
    }

    fn send_backend(&mut self, bk: Key) {
        let Some(conn) = self.backends.get_mut(bk) else { return };
        if conn.sending.is_some() || conn.state != BackendState::Active || conn.queue.is_empty() {
            return;
        }
        let mut buf = SendBuf::new();
        let mut credit = 0;
        while let Some((bufs, c)) = conn.queue.pop_front() {
            credit += c;
            for b in bufs {
                if !b.is_empty() {
                    buf.push(Chunk::Shared(b));
                }
            }
            if buf.chunks().len() >= 64 {
                break;
            }
        }
        conn.sending = Some(credit);
        if buf.is_empty() {
            // Nothing but empty buffers: complete at once.
            conn.sending = None;
            if let Some((ck, ex)) = conn.owner {
                self.with_front(ck, |f, now| f.backend_sent(ex, credit, now));
            }
            return;
        }
        self.ring.send(conn.raw, buf, Token::new(BACKEND, bk));
    }

    fn backend_sent(&mut self, bk: Key, result: io::Result<u32>) {
        let now = self.now;
        let Some(conn) = self.backends.get_mut(bk) else { return };
        let credit = conn.sending.take().unwrap_or(0);
        let owner = conn.owner;
        match result {
            Ok(_) => {
                if let Some((ck, ex)) = owner {
                    self.with_front(ck, |f, now| f.backend_sent(ex, credit, now));
                    self.send_backend(bk);
                    self.pump_client(ck, now);
                } else {
                    self.send_backend(bk);
                }
            }
            Err(_) => self.backend_broke(bk, now),
        }
    }

    fn backend_recv(&mut self, bk: Key, result: io::Result<u32>, buffer: Option<crate::runtime::Lease>, more: bool) {
        let now = self.now;
        let Some(conn) = self.backends.get_mut(bk) else { return };
        if !more {
            conn.recv = None;
        }
        match result {
            Ok(n) if n > 0 => {
                let Some(lease) = buffer else { return };
                match (conn.state == BackendState::Idle, conn.owner) {
                    (false, Some((ck, ex))) => {
                        conn.answered = true;
                        let data = lease.into_bytes_or_copy();
                        self.with_front(ck, |f, now| f.backend_recv(ex, data, now));
                        self.pump_client(ck, now);
                    }
                    // Bytes on an idle connection: nobody asked; it cannot be trusted.
                    _ => self.drop_idle(bk),
                }
            }
            Ok(_) => match conn.owner {
                Some((ck, ex)) => {
                    self.with_front(ck, |f, now| f.backend_eof(ex, now));
                    self.pump_client(ck, now);
                    self.close_backend(bk);
                }
                None => self.drop_idle(bk),
            },
            Err(e) if e.raw_os_error() == Some(libc::ECANCELED) => {}
            Err(_) => self.backend_broke(bk, now),
        }
    }

    fn backend_broke(&mut self, bk: Key, now: Instant) {
        let Some(conn) = self.backends.get_mut(bk) else { return };
        match conn.owner {
            Some((ck, ex)) => {
                self.ctx.counters.backend_failures.fetch_add(1, Ordering::Relaxed);
                self.with_front(ck, |f, now| f.backend_failed(ex, BackendFailure::Broken, now));
                self.pump_client(ck, now);
            }
            None => self.drop_idle(bk),
        }
    }

    fn drop_idle(&mut self, bk: Key) {
        self.pool.remove_idle(bk);
        self.close_backend(bk);
    }

    fn close_backend(&mut self, bk: Key) {
        let Some(mut conn) = self.backends.remove(bk) else { return };
        if conn.state == BackendState::Idle {
            self.pool.remove_idle(bk);
        }
        if let Some((op, timer)) = conn.connecting.take() {
            // nobody waits for this connect any more: do not let it hold the socket
            self.ring.cancel(op);
            self.ring.cancel_timer(timer);
        }
        if let Some(fd) = conn.fd.take() {
            self.ring.close(fd, Token::new(CLOSE, bk));
        }
    }

    /// Calls into a client's front, whatever its kind.
    fn with_front(&mut self, ck: Key, f: impl FnOnce(&mut dyn FrontOps, Instant)) {
        let now = self.now;
        let Some(client) = self.clients.get_mut(ck) else { return };
        match &mut client.front {
            Front::Spdy(s) => f(&mut **s, now),
            Front::H1(h) => f(&mut **h, now),
            Front::Pending => {}
        }
    }

    // ---- time -----------------------------------------------------------------------

    fn tick(&mut self, now: Instant) {
        if self.draining.is_none() && self.ctx.stop.load(Ordering::Relaxed) {
            self.start_drain(now);
        }
        let keys: Vec<Key> = self
            .clients
            .iter_mut()
            .filter_map(|(k, c)| {
                let deadline = match &c.front {
                    Front::Spdy(s) => s.poll_timeout(),
                    Front::H1(h) => h.poll_timeout(),
                    Front::Pending => None,
                };
                deadline.filter(|d| *d <= now).map(|_| k)
            })
            .collect();
        for key in keys {
            if let Some(client) = self.clients.get_mut(key) {
                match &mut client.front {
                    Front::Spdy(s) => s.handle_timeout(now),
                    Front::H1(h) => h.handle_timeout(now),
                    Front::Pending => {}
                }
            }
            self.pump_client(key, now);
        }
        let mut expired = Vec::new();
        self.pool.expire(now, &mut expired);
        for bk in expired {
            self.close_backend(bk);
        }
    }

    /// SIGTERM: stop accepting, GOAWAY every session, let streams finish until the deadline.
    fn start_drain(&mut self, now: Instant) {
        self.draining = Some(now + self.ctx.config.drain_timeout);
        for op in self.accepts.drain(..) {
            self.ring.cancel(op);
        }
        let keys: Vec<Key> = self.clients.iter_mut().map(|(k, _)| k).collect();
        for key in keys {
            if let Some(client) = self.clients.get_mut(key) {
                match &mut client.front {
                    Front::Spdy(s) => s.goaway(now),
                    Front::H1(_) | Front::Pending => client.closing = true,
                }
            }
            self.pump_client(key, now);
        }
    }
}

/// The calls the shard makes on either kind of front.
trait FrontOps {
    fn backend_recv(&mut self, ex: ExchangeId, data: Bytes, now: Instant);
    fn backend_eof(&mut self, ex: ExchangeId, now: Instant);
    fn backend_failed(&mut self, ex: ExchangeId, failure: BackendFailure, now: Instant);
    fn backend_sent(&mut self, ex: ExchangeId, credit: usize, now: Instant);
}

impl FrontOps for SpdyConnection {
    fn backend_recv(&mut self, ex: ExchangeId, data: Bytes, now: Instant) {
        SpdyConnection::backend_recv(self, ex, data, now)
    }
    fn backend_eof(&mut self, ex: ExchangeId, now: Instant) {
        SpdyConnection::backend_eof(self, ex, now)
    }
    fn backend_failed(&mut self, ex: ExchangeId, failure: BackendFailure, now: Instant) {
        SpdyConnection::backend_failed(self, ex, failure, now)
    }
    fn backend_sent(&mut self, ex: ExchangeId, credit: usize, now: Instant) {
        SpdyConnection::backend_sent(self, ex, credit, now)
    }
}

impl FrontOps for H1Connection {
    fn backend_recv(&mut self, ex: ExchangeId, data: Bytes, now: Instant) {
        H1Connection::backend_recv(self, ex, data, now)
    }
    fn backend_eof(&mut self, ex: ExchangeId, now: Instant) {
        H1Connection::backend_eof(self, ex, now)
    }
    fn backend_failed(&mut self, ex: ExchangeId, failure: BackendFailure, now: Instant) {
        H1Connection::backend_failed(self, ex, failure, now)
    }
    fn backend_sent(&mut self, ex: ExchangeId, credit: usize, now: Instant) {
        H1Connection::backend_sent(self, ex, credit, now)
    }
}

/// Plaintext has no ALPN: a SPDY control frame (`80 02` or `80 03`) starts a SPDY session,
/// anything else is HTTP/1.1. `None`: not enough bytes yet. `Some(None)`: HTTP/1.1.
/// `Some(Some((version, detect)))`: SPDY, where `detect` asks the session to tell 3 from 3.1
/// by behaviour.
fn sniff(first: &[u8], pinned: PlaintextVersion) -> Option<Option<(Version, bool)>> {
    match first {
        [] => None,
        [0x80] => None,
        [0x80, 2, ..] => Some(Some((Version::Spdy2, false))),
        [0x80, 3, ..] => Some(Some(match pinned {
            PlaintextVersion::Spdy3 => (Version::Spdy3, false),
            PlaintextVersion::Spdy31 => (Version::Spdy31, false),
            PlaintextVersion::Auto | PlaintextVersion::Spdy2 => (Version::Spdy31, true),
        })),
        _ => Some(None),
    }
}

/// The peer's IP as text (for X-Forwarded-For).
fn peer_ip(fd: &OwnedFd) -> Vec<u8> {
    socket2::SockRef::from(fd)
        .peer_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .map(|a| a.ip().to_string().into_bytes())
        .unwrap_or_else(|| b"unknown".to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accepted_connection_is_small_before_its_first_frame() {
        // Issue target: ≤ 1 KB per idle connection before its first frame.
        eprintln!("Client: {} bytes", std::mem::size_of::<Client>());
        assert!(std::mem::size_of::<Client>() <= 384, "Client is {} bytes", std::mem::size_of::<Client>());
    }

    #[test]
    fn sniff_tells_spdy_from_http1() {
        assert_eq!(sniff(b"", PlaintextVersion::Auto), None);
        assert_eq!(sniff(&[0x80], PlaintextVersion::Auto), None);
        assert_eq!(sniff(&[0x80, 3, 0, 4], PlaintextVersion::Auto), Some(Some((Version::Spdy31, true))));
        assert_eq!(sniff(&[0x80, 3, 0, 4], PlaintextVersion::Spdy3), Some(Some((Version::Spdy3, false))));
        assert_eq!(sniff(&[0x80, 2, 0, 1], PlaintextVersion::Auto), Some(Some((Version::Spdy2, false))));
        assert_eq!(sniff(b"GET / HTTP/1.1\r\n", PlaintextVersion::Auto), Some(None));
    }
}
