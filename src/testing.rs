//! Test support shared by the unit tests of the sans-IO layers.
//!
//! Those layers may not read a clock (scripts/check-layers.sh refuses `Instant::now` under
//! src/spdy, src/http1, src/gateway), yet `std::time::Instant` has no constructor other
//! than `now()`. Tests take one arbitrary base instant from here and express every other
//! time as an offset from it, so their timelines stay exact and reproducible.

use std::time::Instant;

/// An arbitrary base instant for simulated timelines. Only differences from it matter.
pub(crate) fn epoch() -> Instant {
    Instant::now()
}
