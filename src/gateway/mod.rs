//! The gateway policy layer (sans-IO): what to do with a SPDY stream and its backend
//! exchange. It decides and translates; the shard performs the I/O it asks for.

pub mod connection;
pub mod h1front;
pub mod response;
pub mod translate;

pub use connection::{BackendAction, BackendFailure, ExchangeId, Policy, SpdyConnection};
pub use h1front::H1Connection;
