//! spdygate: an io_uring, thread-per-core SPDY gateway onto HTTP/1.1 backends.
//!
//! Layers depend downward only:
//!
//! ```text
//! spdy, http1 (protocol, sans-IO)  <-  gateway (policy, sans-IO)  <-  backend, shard (wiring)  <-  runtime (io_uring)  <-  bin/*
//! ```
//!
//! The protocol layers never touch a socket, a thread, a clock or io_uring: bytes and
//! `now` go in, events, frames to send and the next deadline come out.

pub mod backend;
pub mod config;
pub mod gateway;
pub mod http1;
pub mod id_map;
pub mod loadgen;
pub mod origin;
pub mod runtime;
pub mod shard;
pub mod spdy;

#[cfg(test)]
mod testing;
