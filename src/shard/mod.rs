//! Shards: one pinned thread per core with its own io_uring, listeners, client
//! connections, backend pools and buffers. Nothing is shared on the hot path.

pub mod tls;
