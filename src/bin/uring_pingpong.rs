//! Measures the runtime: CPU µs per HTTP/1.1-sized request/response round trip, per side.
//!
//! A ring-based client sends a fixed 74-byte GET and waits for a fixed 119-byte response from
//! a ring-based server over loopback, one request at a time, N times; each thread reports its
//! own CPU time (CLOCK_THREAD_CPUTIME_ID). Runs once with SINGLE_ISSUER|DEFER_TASKRUN and once
//! without. Usage: `[PINGPONG_PIN=1] uring_pingpong [round_trips] [fast|plain|both]`. Prints; asserts nothing.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::thread;
use std::time::{Duration, Instant};

use spdygate::runtime::{cpu, net, BufRingConfig, Chunk, OpKind, Ring, RingConfig, SendBuf, Token};

const REQUEST: &[u8] = b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: pingpong\r\nAccept: */*\r\n\r\n";
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nServer: spdygate-pingpong\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nConnection: keep-alive\r\n\r\npong";

struct Side {
    cpu: Duration,
    wall: Duration,
    round_trips: u64,
}

fn ring_config(fast: bool) -> RingConfig {
    RingConfig { single_issuer_defer_taskrun: fast, ..RingConfig::default() }
}

fn one_request(response: bool) -> SendBuf {
    let mut buf = SendBuf::new();
    buf.push(Chunk::Static(if response { RESPONSE } else { REQUEST }));
    buf
}

/// Serves one connection: answers every complete request, until the client closes.
fn server(listener: std::net::TcpListener, fast: bool) -> io::Result<Side> {
    let mut ring = Ring::new(ring_config(fast))?;
    let group = ring.add_buf_ring(BufRingConfig::default())?;
    ring.accept_multishot(listener.as_raw_fd(), Token(0));
    let mut out = Vec::new();
    let mut conn: Option<OwnedFd> = None;
    let (mut received, mut answered, mut sending) = (0usize, 0usize, false);
    let mut start = (Duration::ZERO, Instant::now());
    loop {
        ring.wait(1, idle_limit(), &mut out)?;
        if out.is_empty() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "server idle for 10 s"));
        }
        for c in out.drain(..) {
            match c.op {
                OpKind::Accept => {
                    let fd = c.fd.ok_or_else(|| c.result.unwrap_err())?;
                    net::set_nodelay(&fd)?;
                    ring.recv_multishot(fd.as_raw_fd(), group, Token(1));
                    conn = Some(fd);
                    start = (cpu::thread_cpu_time(), Instant::now());
                }
                OpKind::Recv => match c.result? {
                    0 => {
                        let side = Side {
                            cpu: cpu::thread_cpu_time() - start.0,
                            wall: start.1.elapsed(),
                            round_trips: answered as u64,
                        };
                        return Ok(side);
                    }
                    n => received += n as usize,
                },
                OpKind::Send => {
                    c.result?;
                    answered += 1;
                    sending = false;
                }
                _ => {}
            }
        }
        if !sending && received / REQUEST.len() > answered {
            if let Some(fd) = &conn {
                ring.send(fd.as_raw_fd(), one_request(true), Token(2));
                sending = true;
            }
        }
    }
}

fn client(addr: SocketAddr, round_trips: u64, fast: bool) -> io::Result<Side> {
    let mut ring = Ring::new(ring_config(fast))?;
    let group = ring.add_buf_ring(BufRingConfig::default())?;
    let fd = net::client_socket(addr)?;
    ring.connect(fd.as_raw_fd(), addr, Token(0));
    let mut out = Vec::new();
    ring.wait(1, Some(Duration::from_secs(5)), &mut out)?;
    match out.pop() {
        Some(c) if c.op == OpKind::Connect => c.result.map(drop)?,
        other => return Err(io::Error::other(format!("connect: {other:?}"))),
    }
    let start = (cpu::thread_cpu_time(), Instant::now());
    ring.recv_multishot(fd.as_raw_fd(), group, Token(1));
    let (mut done, mut received) = (0u64, 0usize);
    ring.send(fd.as_raw_fd(), one_request(false), Token(2));
    while done < round_trips {
        ring.wait(1, idle_limit(), &mut out)?;
        if out.is_empty() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "client idle for 10 s"));
        }
        for c in out.drain(..) {
            match c.op {
                OpKind::Recv => {
                    let n = c.result?;
                    if n == 0 {
                        return Err(io::Error::other("server closed"));
                    }
                    received += n as usize;
                }
                OpKind::Send => {
                    c.result?;
                }
                _ => {}
            }
        }
        if received >= RESPONSE.len() {
            received -= RESPONSE.len();
            done += 1;
            if done < round_trips {
                ring.send(fd.as_raw_fd(), one_request(false), Token(2));
            }
        }
    }
    let side = Side { cpu: cpu::thread_cpu_time() - start.0, wall: start.1.elapsed(), round_trips: done };
    ring.close(fd, Token(3));
    ring.wait(1, Some(Duration::from_secs(1)), &mut out)?;
    Ok(side)
}

/// Pins the calling thread to the `n`th available core when `PINGPONG_PIN=1`.
fn maybe_pin(n: usize) {
    if std::env::var_os("PINGPONG_PIN").is_some_and(|v| v == "1") {
        let cores = cpu::cores();
        if let Some(core) = cores.get(n % cores.len().max(1)) {
            cpu::pin(*core);
        }
    }
}

fn run(round_trips: u64, fast: bool) -> io::Result<()> {
    let listener = net::reuseport_listener("127.0.0.1:0".parse().expect("literal address"), 16)?;
    let addr = listener.local_addr()?;
    let server = thread::spawn(move || {
        maybe_pin(0);
        server(listener, fast)
    });
    maybe_pin(1);
    let client = client(addr, round_trips, fast)?;
    let server = server.join().map_err(|_| io::Error::other("server panicked"))??;
    let per = |d: Duration, n: u64| d.as_secs_f64() * 1e6 / n.max(1) as f64;
    println!(
        "{:<28} round trips {:>7}  client CPU {:>5.2} µs/rt  server CPU {:>5.2} µs/rt  wall {:>5.2} µs/rt",
        if fast { "SINGLE_ISSUER|DEFER_TASKRUN" } else { "no setup flags" },
        client.round_trips,
        per(client.cpu, client.round_trips),
        per(server.cpu, server.round_trips),
        per(client.wall, client.round_trips),
    );
    let _ = server.wall;
    Ok(())
}

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let round_trips = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let mode = args.next().unwrap_or_else(|| "both".into());
    if mode != "plain" {
        run(round_trips, true)?;
    }
    if mode != "fast" {
        run(round_trips, false)?;
    }
    Ok(())
}

/// The wait limit per loop: 10 s, or none with `PINGPONG_NO_LIMIT=1` (plain submit_and_wait).
fn idle_limit() -> Option<Duration> {
    match std::env::var_os("PINGPONG_NO_LIMIT") {
        Some(v) if v == "1" => None,
        _ => Some(Duration::from_secs(10)),
    }
}
