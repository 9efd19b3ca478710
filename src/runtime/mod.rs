//! The io_uring runtime under each shard: a completion loop, not an async executor.
//!
//! Exists because the gateway needs what no off-the-shelf io_uring runtime here gives it:
//! provided buffer rings, multishot accept/recv, and rings set up with SINGLE_ISSUER |
//! DEFER_TASKRUN. One [`Ring`] per shard thread, nothing shared between shards, no locks.
//! It knows nothing about SPDY or HTTP: tokens in, completions out. Every `unsafe` block
//! lives in `sys.rs`.
//!
//! Call pattern of a shard:
//!
//! ```text
//! let mut ring = Ring::new(RingConfig::default())?;          // on the shard thread
//! let group = ring.add_buf_ring(BufRingConfig::default())?;   // 16 KiB x 256
//! let listener = net::reuseport_listener(addr, 1024)?;
//! ring.accept_multishot(listener.as_raw_fd(), Token::new(LISTENER, key));
//! loop {
//!     ring.wait(1, None, &mut completions)?;                  // timers are completions too
//!     for c in completions.drain(..) {
//!         let Some(conn) = conns.get_mut(c.token.key()) else { continue };  // stale: drop it
//!         match c.op { Accept => ring.recv_multishot(fd, group, token), Recv => feed c.buffer,
//!                      Send => reuse c.send_buf, Timer => ..., ... }
//!     }
//! }
//! ```
//!
//! Ownership: a [`SendBuf`] moves into [`Ring::send`] and comes back in the completion; a
//! received buffer is a [`Lease`] that returns to the kernel when its last clone drops;
//! closing goes through [`Ring::close`] (cancel every op on the fd, then close), and ops keep
//! their memory until their final CQE, so a dropped connection never frees what the kernel
//! still writes.

// Only sys.rs may opt back in.
#![deny(unsafe_code)]

mod buf_ring;
pub mod cpu;
pub mod net;
mod op;
mod ring;
mod sys;
mod timer;

pub use buf_ring::{BufGroup, BufRingConfig, Lease};
pub use op::{Chunk, Key, OpId, OpKind, SendBuf, Slots, Token};
pub use ring::{Completion, Ring, RingConfig, RingStats, SetupReport};
pub use timer::TimerId;

/// Returns memory freed on this thread to the OS at once (see `sys::allocator_collect`):
/// for a shard that has gone idle, so idle sessions cost only what they hold.
pub fn release_idle_memory() {
    sys::allocator_collect();
}
