//! Socket construction for shards: SO_REUSEPORT listeners and non-blocking client sockets.
//!
//! Exists so that every shard can bind its own listener on the same port (the kernel spreads
//! connections across them; nothing is shared between shards) and get sockets ready for ring
//! ops (non-blocking, close-on-exec, TCP_NODELAY). It does no I/O itself: accept, connect,
//! recv and send all go through the ring.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsFd, OwnedFd};

use socket2::{Domain, Protocol, SockRef, Socket, Type};

/// A non-blocking TCP listener with SO_REUSEADDR and SO_REUSEPORT, bound and listening.
///
/// Bind port 0 and read `local_addr()` to let the first shard pick a port, then bind the
/// others to that port.
pub fn reuseport_listener(addr: SocketAddr, backlog: i32) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM.nonblocking().cloexec(), Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    Ok(socket.into())
}

/// A non-blocking TCP socket for [`super::Ring::connect`] to `peer`, with TCP_NODELAY.
pub fn client_socket(peer: SocketAddr) -> io::Result<OwnedFd> {
    let socket = Socket::new(Domain::for_address(peer), Type::STREAM.nonblocking().cloexec(), Some(Protocol::TCP))?;
    socket.set_nodelay(true)?;
    Ok(socket.into())
}

/// Sets TCP_NODELAY on an accepted socket (request/response traffic must not wait for Nagle).
pub fn set_nodelay(fd: &impl AsFd) -> io::Result<()> {
    SockRef::from(fd).set_nodelay(true)
}
