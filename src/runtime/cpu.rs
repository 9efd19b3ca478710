//! Core listing and pinning for thread-per-core shards, plus per-thread CPU time.
//!
//! Exists so that each shard thread stays on one core (its ring, caches and buffers stay
//! warm there). Pinning is best effort: a container may refuse it, and the shard still runs.
//! It refuses to decide how many shards to start; the caller does.

use std::time::Duration;

pub use core_affinity::CoreId;

use super::sys;

/// The cores this process may run on (empty if the platform will not say).
pub fn cores() -> Vec<CoreId> {
    core_affinity::get_core_ids().unwrap_or_default()
}

/// Pins the calling thread to `core`; `false` if the kernel refused.
pub fn pin(core: CoreId) -> bool {
    core_affinity::set_for_current(core)
}

/// CPU time (user + system) the calling thread has used so far, for per-shard accounting
/// and benchmarks.
pub fn thread_cpu_time() -> Duration {
    sys::thread_cpu_time()
}
