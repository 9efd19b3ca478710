//! `origin`: the built-in HTTP/1.1 backend (routes in `spdygate::origin`), on our io_uring
//! runtime, thread-per-core: one ring and one SO_REUSEPORT listener per thread, each thread
//! pinned to a core. Prints `origin listening on <addr>` once every listener is bound and
//! exits 0 on SIGTERM or SIGINT.
//!
//! Per connection: one multishot recv (provided buffers), at most one send in flight, the rest
//! assembled when that send completes; the recv is cancelled while the connection's window is
//! full (back-pressure on `/echo` and deep pipelines) and re-armed when it drains.

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use socket2::SockRef;

use spdygate::origin::{Connection, Piece, Scratch, Transmit};
use spdygate::runtime::{
    cpu, net, BufGroup, BufRingConfig, Chunk, Completion, Key, OpId, OpKind, Ring, RingConfig, SendBuf, Slots,
    TimerId, Token,
};

/// mimalloc, as in the gateway: per-thread free lists suit one pinned ring per thread.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Built-in HTTP/1.1 backend for tests, the demo and benchmarks.
#[derive(Parser, Debug)]
#[command(name = "origin", version)]
struct Args {
    /// Address to listen on (port 0 picks a free port; the real one is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Worker threads (one ring each); default: one per available core.
    #[arg(long)]
    threads: Option<usize>,
    /// Do not pin worker threads to cores.
    #[arg(long)]
    no_pin: bool,
}

const LISTENER: u8 = 1;
const CONN: u8 = 2;
const TIMER: u8 = 3;
const LINGER: u8 = 4;
const CLOSE: u8 = 5;

/// How often a worker looks at the stop flag when idle.
const TICK: Duration = Duration::from_millis(100);
/// Bytes assembled per send.
const SEND_BUDGET: usize = 256 * 1024;
/// How long a gracefully closing connection waits for the client's FIN.
const LINGER_TIME: Duration = Duration::from_secs(2);

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("origin: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> io::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(&stop))?;
    signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&stop))?;
    let cores = cpu::cores();
    let threads = args.threads.unwrap_or(cores.len()).max(1);
    let first = net::reuseport_listener(args.listen, 1024)?;
    let addr = first.local_addr()?;
    let mut listeners = vec![first];
    for _ in 1..threads {
        listeners.push(net::reuseport_listener(addr, 1024)?);
    }
    println!("origin listening on {addr}");
    let workers: Vec<_> = listeners
        .into_iter()
        .enumerate()
        .map(|(n, listener)| {
            let stop = Arc::clone(&stop);
            let core = (!args.no_pin && !cores.is_empty()).then(|| cores[n % cores.len()]);
            thread::Builder::new().name(format!("origin-{n}")).spawn(move || {
                if let Some(core) = core {
                    cpu::pin(core);
                }
                Worker::new(&listener)?.run(&stop)
            })
        })
        .collect::<io::Result<_>>()?;
    let mut result = Ok(());
    for worker in workers {
        match worker.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => result = Err(e),
            Err(_) => result = Err(io::Error::other("worker panicked")),
        }
    }
    result
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Recv {
    Armed(OpId),
    /// Cancelled; its final completion has not arrived yet.
    Cancelling,
    Off,
}

struct Conn {
    fd: OwnedFd,
    http: Connection,
    recv: Recv,
    sending: bool,
    /// The peer sent FIN (or the recv failed): never re-arm.
    eof: bool,
    timer: Option<(TimerId, Instant)>,
    /// Sent FIN after the last response; waiting for the client's.
    lingering: bool,
}

struct Worker {
    ring: Ring,
    group: BufGroup,
    listener: RawFd,
    scratch: Scratch,
    conns: Slots<Conn>,
}

impl Worker {
    fn new(listener: &TcpListener) -> io::Result<Worker> {
        let mut ring = Ring::new(RingConfig::default())?;
        let group = ring.add_buf_ring(BufRingConfig::default())?;
        Ok(Worker { ring, group, listener: listener.as_raw_fd(), scratch: Scratch::new(), conns: Slots::with_capacity(1024) })
    }

    fn run(mut self, stop: &AtomicBool) -> io::Result<()> {
        self.ring.accept_multishot(self.listener, Token::new(LISTENER, Key { index: 0, generation: 0 }));
        let mut completions = Vec::with_capacity(256);
        while !stop.load(Ordering::Relaxed) {
            match self.ring.wait(1, Some(TICK), &mut completions) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            let now = Instant::now();
            for c in completions.drain(..) {
                self.complete(c, now);
            }
        }
        Ok(())
    }

    fn complete(&mut self, c: Completion, now: Instant) {
        let key = c.token.key();
        match (c.op, c.token.tag()) {
            (OpKind::Accept, LISTENER) => {
                if !c.more {
                    self.ring.accept_multishot(self.listener, c.token);
                }
                match c.fd {
                    Some(fd) => self.accept(fd),
                    None => eprintln!("origin: accept: {:?}", c.result),
                }
            }
            (OpKind::Recv, CONN) => {
                let Some(conn) = self.conns.get_mut(key) else { return };
                match (&c.result, &c.buffer) {
                    (Ok(n), Some(lease)) if *n > 0 => {
                        if !conn.lingering {
                            conn.http.receive(&mut self.scratch, lease.bytes());
                        }
                    }
                    (Ok(_), _) => {
                        conn.eof = true;
                        conn.http.receive_eof();
                    }
                    (Err(e), _) if e.raw_os_error() == Some(libc::ECANCELED) => {}
                    (Err(_), _) => {
                        conn.eof = true;
                        conn.http.receive_eof();
                        if !c.more {
                            conn.recv = Recv::Off;
                        }
                        return self.close(key, true);
                    }
                }
                drop(c.buffer);
                if !c.more {
                    conn.recv = Recv::Off;
                }
                if conn.lingering && conn.eof {
                    return self.close(key, false);
                }
                self.drive(key, now);
            }
            (OpKind::Send, CONN) => {
                if let Some(buf) = c.send_buf {
                    for chunk in buf.into_chunks() {
                        if let Chunk::Owned(v) = chunk {
                            self.scratch.recycle(v);
                        }
                    }
                }
                let Some(conn) = self.conns.get_mut(key) else { return };
                conn.sending = false;
                if c.result.is_err() {
                    return self.close(key, true);
                }
                self.drive(key, now);
            }
            (OpKind::Timer, TIMER) => {
                let Some(conn) = self.conns.get_mut(key) else { return };
                conn.timer = None;
                self.drive(key, now);
            }
            (OpKind::Timer, LINGER) => self.close(key, false),
            _ => {}
        }
    }

    fn accept(&mut self, fd: OwnedFd) {
        if let Err(e) = net::set_nodelay(&fd) {
            eprintln!("origin: TCP_NODELAY: {e}");
        }
        let raw = fd.as_raw_fd();
        let conn = Conn {
            fd,
            http: Connection::new(),
            recv: Recv::Off,
            sending: false,
            eof: false,
            timer: None,
            lingering: false,
        };
        let key = self.conns.insert(conn);
        let op = self.ring.recv_multishot(raw, self.group, Token::new(CONN, key));
        if let Some(conn) = self.conns.get_mut(key) {
            conn.recv = Recv::Armed(op);
        }
    }

    /// Sends what the connection has, sets its timer, closes it, and starts or stops its recv.
    fn drive(&mut self, key: Key, now: Instant) {
        let Some(conn) = self.conns.get_mut(key) else { return };
        if !conn.sending && !conn.lingering {
            match conn.http.poll_transmit(&mut self.scratch, now, SEND_BUDGET) {
                Transmit::Send => {
                    let mut buf = SendBuf::new();
                    for piece in self.scratch.take_pieces() {
                        buf.push(match piece {
                            Piece::Owned(v) => Chunk::Owned(v),
                            Piece::Static(s) => Chunk::Static(s),
                        });
                    }
                    conn.sending = true;
                    self.ring.send(conn.fd.as_raw_fd(), buf, Token::new(CONN, key));
                }
                Transmit::Idle => {}
                Transmit::WaitUntil(deadline) => {
                    if conn.timer.map(|(_, d)| d) != Some(deadline) {
                        if let Some((id, _)) = conn.timer.take() {
                            self.ring.cancel_timer(id);
                        }
                        let id = self.ring.timer(deadline, Token::new(TIMER, key));
                        conn.timer = Some((id, deadline));
                    }
                }
                Transmit::Close => {
                    if conn.eof {
                        return self.close(key, false);
                    }
                    // RFC 9112 §9.6: close the sending side first and keep reading, so that
                    // the client's unread requests do not turn our FIN into a reset.
                    let _ = SockRef::from(&conn.fd).shutdown(Shutdown::Write);
                    conn.lingering = true;
                    if let Some((id, _)) = conn.timer.take() {
                        self.ring.cancel_timer(id);
                    }
                    let id = self.ring.timer(now + LINGER_TIME, Token::new(LINGER, key));
                    conn.timer = Some((id, now + LINGER_TIME));
                }
                // Close at once, as a killed process would: FIN, or RST if input is unread.
                Transmit::Abort => return self.close(key, false),
            }
        }
        let want = !conn.eof && (conn.lingering || conn.http.wants_read());
        match (want, conn.recv) {
            (true, Recv::Off) => {
                let op = self.ring.recv_multishot(conn.fd.as_raw_fd(), self.group, Token::new(CONN, key));
                conn.recv = Recv::Armed(op);
            }
            (false, Recv::Armed(op)) => {
                self.ring.cancel(op);
                conn.recv = Recv::Cancelling;
            }
            _ => {}
        }
    }

    /// Forgets the connection and closes its socket through the ring (cancelling its ops);
    /// `reset` sends RST instead of FIN.
    fn close(&mut self, key: Key, reset: bool) {
        let Some(conn) = self.conns.remove(key) else { return };
        if let Some((id, _)) = conn.timer {
            self.ring.cancel_timer(id);
        }
        if reset {
            let _ = SockRef::from(&conn.fd).set_linger(Some(Duration::ZERO));
        }
        self.ring.close(conn.fd, Token::new(CLOSE, key));
    }
}
