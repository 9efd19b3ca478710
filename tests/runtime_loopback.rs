//! The io_uring runtime against real loopback sockets: echo servers on the ring, blocking std
//! clients. Every test binds 127.0.0.1 only, bounds its loops, and joins its threads.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use spdygate::runtime::{
    net, BufGroup, BufRingConfig, Completion, Key, Lease, OpId, OpKind, Ring, RingConfig, RingStats,
    SendBuf, Slots, Token,
};

const LISTENER: u8 = 1;
const CONN: u8 = 2;
const CLOSE: u8 = 3;
/// Upper bound on any one test's server loop.
const TEST_DEADLINE: Duration = Duration::from_secs(60);

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// xorshift64*: reproducible sizes and payloads without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

struct EchoConn {
    fd: Option<OwnedFd>,
    /// Received bytes waiting to be echoed, as leases: the echo never copies.
    queue: VecDeque<Lease>,
    sending: bool,
    peer_done: bool,
}

#[derive(Debug, Default)]
struct EchoReport {
    accepted: usize,
    bytes_echoed: u64,
    stats: RingStats,
    fallback: Option<String>,
}

/// An echo server on one ring: multishot accept, multishot recv into `buffers`, and vectored
/// sends of the received leases. Runs until `stop` is set (or the test deadline passes).
fn run_echo(
    listener: TcpListener,
    config: RingConfig,
    buffers: BufRingConfig,
    stop: Arc<AtomicBool>,
) -> io::Result<EchoReport> {
    let mut ring = Ring::new(config)?;
    let group = ring.add_buf_ring(buffers)?;
    let mut report = EchoReport { fallback: ring.setup().fallback.clone(), ..Default::default() };
    ring.accept_multishot(listener.as_raw_fd(), Token::new(LISTENER, Key { index: 0, generation: 0 }));
    let mut conns: Slots<EchoConn> = Slots::new();
    let mut completions = Vec::new();
    let started = Instant::now();
    while !stop.load(Ordering::Relaxed) && started.elapsed() < TEST_DEADLINE {
        ring.wait(1, Some(Duration::from_millis(10)), &mut completions)?;
        for c in completions.drain(..) {
            echo_completion(&mut ring, group, &mut conns, &mut report, c)?;
        }
    }
    report.stats = ring.stats();
    Ok(report)
}

fn echo_completion(
    ring: &mut Ring,
    group: BufGroup,
    conns: &mut Slots<EchoConn>,
    report: &mut EchoReport,
    c: Completion,
) -> io::Result<()> {
    match (c.op, c.token.tag()) {
        (OpKind::Accept, LISTENER) => {
            let fd = c.fd.ok_or_else(|| c.result.unwrap_err())?;
            net::set_nodelay(&fd)?;
            report.accepted += 1;
            let raw = fd.as_raw_fd();
            let key = conns.insert(EchoConn { fd: Some(fd), queue: VecDeque::new(), sending: false, peer_done: false });
            ring.recv_multishot(raw, group, Token::new(CONN, key));
        }
        (OpKind::Recv, CONN) => {
            let key = c.token.key();
            let Some(conn) = conns.get_mut(key) else { return Ok(()) };
            match (c.result, c.buffer) {
                (Ok(n), Some(lease)) if n > 0 => conn.queue.push_back(lease),
                _ => conn.peer_done = !c.more,
            }
            pump(ring, conns, key, report);
        }
        (OpKind::Send, CONN) => {
            let key = c.token.key();
            let Some(conn) = conns.get_mut(key) else { return Ok(()) };
            conn.sending = false;
            report.bytes_echoed += u64::from(c.result?);
            drop(c.send_buf); // the leases go back to the buffer ring here
            pump(ring, conns, key, report);
        }
        (OpKind::Close, CLOSE) => {
            c.result?;
        }
        (op, tag) => panic!("unexpected completion {op:?} tag {tag}: {:?}", c.result),
    }
    Ok(())
}

/// Sends everything queued on `key` in one vectored send, or closes it when the peer is done.
fn pump(ring: &mut Ring, conns: &mut Slots<EchoConn>, key: Key, _report: &mut EchoReport) {
    let Some(conn) = conns.get_mut(key) else { return };
    if conn.sending {
        return;
    }
    let raw = conn.fd.as_ref().map_or(-1, |fd| fd.as_raw_fd());
    if !conn.queue.is_empty() {
        let mut buf = SendBuf::new();
        for lease in conn.queue.drain(..) {
            buf.push_lease(lease);
        }
        conn.sending = true;
        ring.send(raw, buf, Token::new(CONN, key));
    } else if conn.peer_done {
        if let Some(fd) = conn.fd.take() {
            ring.close(fd, Token::new(CLOSE, key));
        }
        conns.remove(key);
    }
}

struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    handle: thread::JoinHandle<io::Result<EchoReport>>,
}

impl Server {
    fn start(listener: TcpListener, buffers: BufRingConfig) -> Server {
        Self::start_with(listener, RingConfig::default(), buffers)
    }

    fn start_with(listener: TcpListener, config: RingConfig, buffers: BufRingConfig) -> Server {
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = thread::spawn(move || run_echo(listener, config, buffers, flag));
        Server { addr, stop, handle }
    }

    fn stop(self) -> EchoReport {
        self.stop.store(true, Ordering::Relaxed);
        let report = self.handle.join().expect("server thread panicked").expect("server failed");
        assert_eq!(report.fallback, None, "this kernel supports SINGLE_ISSUER|DEFER_TASKRUN");
        assert_eq!(report.stats.stale_cqes, 0);
        report
    }
}

fn client(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stream.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

#[test]
fn echo_of_1000_random_round_trips_up_to_64_kib_returns_every_byte() {
    let server = Server::start(net::reuseport_listener(loopback(), 128).unwrap(), BufRingConfig::default());
    let addr = server.addr;
    let clients: Vec<_> = (0..4u64)
        .map(|n| {
            thread::spawn(move || {
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (n + 1));
                let mut stream = client(addr);
                let mut echoed = vec![0u8; 64 * 1024];
                let mut total = 0u64;
                for _ in 0..250 {
                    let len = 1 + (rng.next() % (64 * 1024)) as usize;
                    let payload = rng.bytes(len);
                    stream.write_all(&payload).unwrap();
                    stream.read_exact(&mut echoed[..len]).unwrap();
                    assert!(echoed[..len] == payload[..], "echo differs");
                    total += len as u64;
                }
                total
            })
        })
        .collect();
    let sent: u64 = clients.into_iter().map(|h| h.join().unwrap()).sum();
    let report = server.stop();
    assert_eq!(report.accepted, 4);
    assert_eq!(report.bytes_echoed, sent);
}

#[test]
fn recv_rearms_after_enobufs_with_only_two_small_buffers_and_keeps_order() {
    let buffers = BufRingConfig { buf_size: 4096, count: 2 };
    let server = Server::start(net::reuseport_listener(loopback(), 16).unwrap(), buffers);
    let stream = client(server.addr);
    let mut reader = stream.try_clone().unwrap();
    const TOTAL: usize = 4 << 20;
    let writer = thread::spawn(move || {
        let mut stream = stream;
        let mut rng = Rng(42);
        for _ in 0..TOTAL / 65536 {
            stream.write_all(&rng.bytes(65536)).unwrap();
        }
        stream.shutdown(std::net::Shutdown::Write).unwrap();
    });
    let mut expected = Rng(42);
    let mut received = 0;
    let mut chunk = vec![0u8; 65536];
    while received < TOTAL {
        let n = reader.read(&mut chunk).unwrap();
        assert!(n > 0, "server closed after {received} bytes");
        let want = expected.bytes(n);
        // The writer's stream is a sequence of 64 KiB blocks from the same generator, so the
        // bytes so far are a prefix of that sequence whatever the read sizes.
        assert!(chunk[..n] == want[..], "bytes out of order at offset {received}");
        received += n;
    }
    writer.join().unwrap();
    let report = server.stop();
    assert_eq!(report.bytes_echoed, TOTAL as u64);
    assert!(report.stats.enobufs > 0, "the ENOBUFS path was not exercised: {:?}", report.stats);
    assert!(report.stats.rearms >= report.stats.enobufs);
}

#[test]
fn multishot_accept_takes_200_connections() {
    let server = Server::start(net::reuseport_listener(loopback(), 512).unwrap(), BufRingConfig::default());
    let mut streams: Vec<TcpStream> = (0..200).map(|_| client(server.addr)).collect();
    for (n, stream) in streams.iter_mut().enumerate() {
        stream.write_all(&(n as u32).to_be_bytes()).unwrap();
    }
    for (n, stream) in streams.iter_mut().enumerate() {
        let mut back = [0u8; 4];
        stream.read_exact(&mut back).unwrap();
        assert_eq!(u32::from_be_bytes(back), n as u32);
    }
    drop(streams);
    let report = server.stop();
    assert_eq!(report.accepted, 200);
}

/// Waits (bounded) until `done` says the collected completions are enough.
fn wait_until(ring: &mut Ring, all: &mut Vec<Completion>, done: impl Fn(&[Completion]) -> bool) {
    let started = Instant::now();
    while !done(all) {
        assert!(started.elapsed() < Duration::from_secs(10), "timed out; got {all:?}");
        ring.wait(1, Some(Duration::from_millis(50)), all).unwrap();
    }
}

fn accepted_pair(listener: &TcpListener) -> (TcpStream, OwnedFd) {
    let peer = client(listener.local_addr().unwrap());
    let (server_side, _) = listener.accept().unwrap();
    server_side.set_nonblocking(true).unwrap();
    (peer, OwnedFd::from(server_side))
}

#[test]
fn completions_of_a_closed_connection_are_stale_after_its_slot_is_reused() {
    let listener = TcpListener::bind(loopback()).unwrap();
    let mut ring = Ring::new(RingConfig::default()).unwrap();
    let group = ring.add_buf_ring(BufRingConfig { buf_size: 1024, count: 8 }).unwrap();
    let mut conns: Slots<&'static str> = Slots::new();
    let mut all = Vec::new();

    let (mut peer_a, fd_a) = accepted_pair(&listener);
    let key_a = conns.insert("a");
    ring.recv_multishot(fd_a.as_raw_fd(), group, Token::new(CONN, key_a));
    peer_a.write_all(b"first").unwrap();
    wait_until(&mut ring, &mut all, |all| !all.is_empty());
    assert_eq!(all[0].buffer.as_ref().unwrap().bytes(), b"first");
    all.clear();

    // More bytes arrive, then the connection is closed with its recv still in flight.
    peer_a.write_all(b"late").unwrap();
    ring.close(fd_a, Token::new(CLOSE, key_a));
    conns.remove(key_a);
    let (mut peer_b, fd_b) = accepted_pair(&listener);
    let key_b = conns.insert("b");
    assert_eq!(key_b.index, key_a.index, "slot reused");
    ring.recv_multishot(fd_b.as_raw_fd(), group, Token::new(CONN, key_b));
    peer_b.write_all(b"second").unwrap();

    let a_over = |all: &[Completion]| {
        all.iter().any(|c| c.op == OpKind::Recv && c.token.key() == key_a && !c.more)
            && all.iter().any(|c| c.op == OpKind::Close)
            && all.iter().any(|c| c.token.key() == key_b)
    };
    wait_until(&mut ring, &mut all, a_over);
    let mut got_b = Vec::new();
    for c in all.drain(..) {
        match (c.op, conns.get(c.token.key())) {
            (OpKind::Close, _) => assert!(c.result.is_ok(), "close failed: {:?}", c.result),
            (OpKind::Recv, None) => assert_eq!(c.token.key(), key_a, "only A's completions are stale"),
            (OpKind::Recv, Some(name)) => {
                assert_eq!(*name, "b");
                got_b.extend_from_slice(c.buffer.as_ref().unwrap().bytes());
            }
            (op, _) => panic!("unexpected {op:?}"),
        }
    }
    assert_eq!(got_b, b"second");
    assert_eq!(ring.in_flight(), 1, "only B's recv is left");
    assert_eq!(ring.buffers_free(group), 8, "stale leases went back to the ring");
    assert_eq!(ring.stats().stale_cqes, 0);
    drop(fd_b);
}

#[test]
fn dropping_the_ring_with_ops_in_flight_and_a_lease_alive_is_safe() {
    let listener = TcpListener::bind(loopback()).unwrap();
    let mut ring = Ring::new(RingConfig::default()).unwrap();
    let group = ring.add_buf_ring(BufRingConfig { buf_size: 512, count: 4 }).unwrap();
    let (mut peer, fd) = accepted_pair(&listener);
    ring.recv_multishot(fd.as_raw_fd(), group, Token(7));
    ring.accept_multishot(listener.as_raw_fd(), Token(8));
    let mut send = SendBuf::new();
    send.push_vec(vec![0xab; 100]);
    ring.send(fd.as_raw_fd(), send, Token(9));
    ring.timeout(Duration::from_secs(30), Token(10));
    peer.write_all(b"kept").unwrap();
    let mut all = Vec::new();
    wait_until(&mut ring, &mut all, |all| all.iter().any(|c| c.op == OpKind::Recv));
    let lease = all.iter_mut().find_map(|c| c.buffer.take()).unwrap();
    assert_eq!(ring.in_flight(), 3, "recv, accept and timeout are still armed");
    drop(ring);
    assert_eq!(lease.bytes(), b"kept", "a lease outlives its ring");
    drop(lease);
    let mut echoed = [0u8; 100];
    peer.read_exact(&mut echoed).unwrap();
    assert_eq!(echoed, [0xab; 100]);
}

#[test]
fn cancelling_a_multishot_recv_ends_it_with_ecanceled() {
    let listener = TcpListener::bind(loopback()).unwrap();
    let mut ring = Ring::new(RingConfig::default()).unwrap();
    let group = ring.add_buf_ring(BufRingConfig { buf_size: 512, count: 4 }).unwrap();
    let (_peer, fd) = accepted_pair(&listener);
    let op: OpId = ring.recv_multishot(fd.as_raw_fd(), group, Token(1));
    let mut all = Vec::new();
    ring.wait(0, None, &mut all).unwrap();
    ring.cancel(op);
    wait_until(&mut ring, &mut all, |all| all.iter().any(|c| !c.more));
    let last = all.pop().unwrap();
    assert_eq!(last.result.unwrap_err().raw_os_error(), Some(libc_ecanceled()));
    assert_eq!(ring.in_flight(), 0);
}

fn libc_ecanceled() -> i32 {
    125 // ECANCELED on Linux
}

#[test]
fn timers_fire_in_deadline_order_and_not_before_their_deadline() {
    let mut ring = Ring::new(RingConfig::default()).unwrap();
    let t0 = Instant::now();
    let tok = |n: u32| Token::new(9, Key { index: n, generation: 0 });
    ring.timer(t0 + Duration::from_millis(30), tok(30));
    let cancelled = ring.timer(t0 + Duration::from_millis(5), tok(5));
    ring.timer(t0 + Duration::from_millis(10), tok(10));
    ring.timer(t0 + Duration::from_millis(20), tok(20));
    ring.timer(t0 + Duration::from_millis(20), tok(21));
    assert!(ring.cancel_timer(cancelled));
    // A kernel timeout op runs beside the heap; a late wakeup may report it in the same batch
    // as heap timers, so only its own deadline is checked, not its place in the order.
    ring.timeout(Duration::from_millis(15), tok(15));
    let mut heap_fired = Vec::new();
    let mut timeout_fired = false;
    let mut all = Vec::new();
    let started = Instant::now();
    while heap_fired.len() < 4 || !timeout_fired {
        assert!(started.elapsed() < Duration::from_secs(5), "timers did not fire: {heap_fired:?}");
        ring.wait(1, None, &mut all).unwrap();
        for c in all.drain(..) {
            assert!(c.result.is_ok(), "{c:?}");
            let n = c.token.key().index;
            assert!(Instant::now() >= t0 + Duration::from_millis(n as u64 / 10 * 10), "timer {n} fired early");
            match c.op {
                OpKind::Timer => heap_fired.push(n),
                OpKind::Timeout => timeout_fired = true,
                op => panic!("unexpected {op:?}"),
            }
        }
    }
    assert_eq!(heap_fired, vec![10, 20, 21, 30], "deadline order, ties in insertion order");
    assert_eq!(ring.timers_pending(), 0);
    assert_eq!(ring.in_flight(), 0);
}

#[test]
fn connect_through_the_ring_reaches_a_listener_and_sends() {
    let listener = TcpListener::bind(loopback()).unwrap();
    let mut ring = Ring::new(RingConfig::default()).unwrap();
    let addr = listener.local_addr().unwrap();
    let fd = net::client_socket(addr).unwrap();
    ring.connect(fd.as_raw_fd(), addr, Token(1));
    let mut all = Vec::new();
    wait_until(&mut ring, &mut all, |all| !all.is_empty());
    assert_eq!(all[0].op, OpKind::Connect);
    assert_eq!(all[0].result.as_ref().unwrap(), &0);
    let (mut accepted, _) = listener.accept().unwrap();
    let mut buf = SendBuf::new();
    buf.push(spdygate::runtime::Chunk::Static(b"GET / HTTP/1.1\r\n"));
    buf.push_vec(b"\r\n".to_vec());
    ring.send(fd.as_raw_fd(), buf, Token(2));
    all.clear();
    wait_until(&mut ring, &mut all, |all| !all.is_empty());
    assert_eq!(all[0].result.as_ref().unwrap(), &18);
    assert_eq!(all[0].send_buf.as_ref().unwrap().len(), 18, "the send buffer comes back");
    let mut got = [0u8; 18];
    accepted.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"GET / HTTP/1.1\r\n\r\n");
}

#[test]
fn connect_to_a_closed_port_reports_econnrefused() {
    let addr = TcpListener::bind(loopback()).unwrap().local_addr().unwrap(); // listener dropped here
    let mut ring = Ring::new(RingConfig::default()).unwrap();
    let fd = net::client_socket(addr).unwrap();
    ring.connect(fd.as_raw_fd(), addr, Token(1));
    let mut all = Vec::new();
    wait_until(&mut ring, &mut all, |all| !all.is_empty());
    let err = all[0].result.as_ref().unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
}

#[test]
fn two_shards_with_reuseport_listeners_on_one_port_both_serve() {
    let first = net::reuseport_listener(loopback(), 128).unwrap();
    let addr = first.local_addr().unwrap();
    let second = net::reuseport_listener(addr, 128).unwrap();
    let shards = [Server::start(first, BufRingConfig::default()), Server::start(second, BufRingConfig::default())];
    let mut streams: Vec<TcpStream> = (0..64).map(|_| client(addr)).collect();
    for stream in &mut streams {
        stream.write_all(b"ping").unwrap();
        let mut back = [0u8; 4];
        stream.read_exact(&mut back).unwrap();
        assert_eq!(&back, b"ping");
    }
    drop(streams);
    let reports: Vec<EchoReport> = shards.into_iter().map(Server::stop).collect();
    assert_eq!(reports[0].accepted + reports[1].accepted, 64);
    assert!(reports.iter().all(|r| r.accepted > 0), "one shard served nothing: {reports:?}");
}

#[test]
fn a_send_of_more_chunks_than_iov_max_into_a_small_socket_buffer_arrives_whole() {
    let listener = TcpListener::bind(loopback()).unwrap();
    let mut ring = Ring::new(RingConfig::default()).unwrap();
    let (peer, fd) = accepted_pair(&listener);
    socket2::SockRef::from(&fd).set_send_buffer_size(4096).unwrap();
    let mut rng = Rng(7);
    let mut buf = SendBuf::new();
    let mut expected = Vec::new();
    // 3000 chunks (> IOV_MAX = 1024) totalling ~1.5 MiB: at least two sendmsg rounds.
    for n in 0..3000 {
        let chunk = rng.bytes(1 + n % 1000);
        expected.extend_from_slice(&chunk);
        buf.push_vec(chunk);
    }
    let total = expected.len();
    let reader = thread::spawn(move || {
        let mut peer = peer;
        let mut got = vec![0u8; total];
        peer.read_exact(&mut got).unwrap();
        got
    });
    ring.send(fd.as_raw_fd(), buf, Token(1));
    let mut all = Vec::new();
    wait_until(&mut ring, &mut all, |all| !all.is_empty());
    assert_eq!(*all[0].result.as_ref().unwrap() as usize, total);
    assert_eq!(all[0].send_buf.as_ref().unwrap().chunks().len(), 3000);
    assert!(ring.stats().partial_sends >= 1, "{:?}", ring.stats());
    assert!(reader.join().unwrap() == expected, "bytes differ");
}

#[test]
fn a_recv_parked_on_enobufs_is_rearmed_by_a_returned_lease_and_can_be_cancelled() {
    let listener = TcpListener::bind(loopback()).unwrap();
    let mut ring = Ring::new(RingConfig::default()).unwrap();
    let group = ring.add_buf_ring(BufRingConfig { buf_size: 256, count: 2 }).unwrap();
    let (mut peer, fd) = accepted_pair(&listener);
    let op = ring.recv_multishot(fd.as_raw_fd(), group, Token(1));
    peer.write_all(&[0x5a; 2048]).unwrap();
    let mut all = Vec::new();
    let started = Instant::now();
    // Hold every lease: the ring runs dry and the recv parks.
    while ring.stats().enobufs == 0 {
        assert!(started.elapsed() < Duration::from_secs(10), "never ran out of buffers");
        ring.wait(1, Some(Duration::from_millis(20)), &mut all).unwrap();
    }
    assert_eq!(ring.buffers_free(group), 0);
    let held: usize = all.iter().map(|c| c.buffer.as_ref().map_or(0, Lease::len)).sum();
    assert_eq!(held, 512);
    // One lease back: the next wait re-arms and the recv delivers more bytes.
    let rearms = ring.stats().rearms;
    all.remove(0);
    wait_until(&mut ring, &mut all, |all| all.len() >= 2);
    assert!(ring.stats().rearms > rearms);
    // Hold them all again until it parks, then cancel: the parked op ends without the kernel.
    while ring.stats().enobufs < 2 {
        assert!(started.elapsed() < Duration::from_secs(10), "did not park again");
        ring.wait(1, Some(Duration::from_millis(20)), &mut all).unwrap();
    }
    ring.cancel(op);
    wait_until(&mut ring, &mut all, |all| all.iter().any(|c| !c.more));
    let last = all.iter().find(|c| !c.more).unwrap();
    assert_eq!(last.result.as_ref().unwrap_err().raw_os_error(), Some(libc_ecanceled()));
    assert_eq!(ring.in_flight(), 0);
    all.clear();
    assert_eq!(ring.buffers_free(group), 2);
}

#[test]
fn a_ring_without_single_issuer_and_defer_taskrun_serves_the_same_echo() {
    let config = RingConfig { single_issuer_defer_taskrun: false, ..RingConfig::default() };
    let buffers = BufRingConfig { buf_size: 1024, count: 4 };
    let server = Server::start_with(net::reuseport_listener(loopback(), 16).unwrap(), config, buffers);
    let mut stream = client(server.addr);
    let mut rng = Rng(3);
    for len in [1, 1000, 1024, 1025, 5000, 40_000] {
        let payload = rng.bytes(len);
        stream.write_all(&payload).unwrap();
        let mut back = vec![0u8; len];
        stream.read_exact(&mut back).unwrap();
        assert!(back == payload, "echo of {len} bytes differs");
    }
    drop(stream);
    let report = server.stop();
    assert_eq!(report.bytes_echoed, 1 + 1000 + 1024 + 1025 + 5000 + 40_000);
}

#[test]
fn closing_a_connection_with_a_blocked_send_gives_the_send_buffer_back() {
    let listener = TcpListener::bind(loopback()).unwrap();
    let mut ring = Ring::new(RingConfig::default()).unwrap();
    let (peer, fd) = accepted_pair(&listener);
    socket2::SockRef::from(&fd).set_send_buffer_size(4096).unwrap();
    socket2::SockRef::from(&peer).set_recv_buffer_size(4096).unwrap();
    let mut buf = SendBuf::new();
    buf.push_vec(vec![0x11; 8 << 20]); // far more than the peer (which never reads) can take
    ring.send(fd.as_raw_fd(), buf, Token(1));
    let mut all = Vec::new();
    ring.wait(0, None, &mut all).unwrap();
    assert!(all.is_empty(), "an 8 MiB send to a peer that never reads cannot finish");
    ring.close(fd, Token(2));
    wait_until(&mut ring, &mut all, |all| all.len() == 2);
    let send = all.iter().find(|c| c.op == OpKind::Send).unwrap();
    assert_eq!(send.result.as_ref().unwrap_err().raw_os_error(), Some(libc_ecanceled()));
    assert_eq!(send.send_buf.as_ref().unwrap().len(), 8 << 20, "the buffer comes back whole");
    let close = all.iter().find(|c| c.op == OpKind::Close).unwrap();
    assert!(close.result.is_ok());
    assert_eq!(ring.in_flight(), 0);
    drop(peer);
}
