//! The SPDY protocol core (SPDY/3.1, SPDY/3 and SPDY/2), sans-IO.
//!
//! It contains no networking code and reads no clock: callers hand in received bytes
//! and the current time, and take out events, bytes to send and the next deadline.
//! Both roles are served: the gateway runs [`Session`] as [`Role::Server`], the load
//! generator as [`Role::Client`]. Every per-version difference lives in [`version`].

pub mod error;
pub mod frame;
pub mod header;
pub mod session;
pub mod stream_id;
pub mod version;

pub use error::{SessionError, StreamError};
pub use frame::Frame;
pub use session::{Event, Role, Session, SessionConfig};
pub use stream_id::StreamId;
pub use version::Version;
