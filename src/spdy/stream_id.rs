//! Stream identifiers: 31-bit, odd for client-initiated streams, even for server-initiated
//! (pushed) streams, 0 reserved for "the session" (3.1 WINDOW_UPDATE, GOAWAY "none").

use core::fmt;

/// A 31-bit SPDY stream id. The reserved top bit is always masked off.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId(u32);

impl StreamId {
    /// The session itself (never a stream).
    pub const ZERO: Self = Self(0);
    /// Largest id a stream may carry (SPDY3.md §6.1: ids never wrap).
    pub const MAX: Self = Self(0x7fff_ffff);

    /// Builds an id from a wire word, masking the reserved bit.
    pub const fn new(raw: u32) -> Self {
        Self(raw & 0x7fff_ffff)
    }

    pub const fn value(self) -> u32 {
        self.0
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Client-initiated streams are odd.
    pub const fn is_client_initiated(self) -> bool {
        self.0 & 1 == 1
    }

    /// Server-initiated (pushed) streams are even and non-zero.
    pub const fn is_server_initiated(self) -> bool {
        self.0 != 0 && self.0 & 1 == 0
    }

    /// The next id of the same parity, or `None` once the 31-bit space is used up.
    pub const fn next(self) -> Option<Self> {
        if self.0 > Self::MAX.0 - 2 {
            None
        } else {
            Some(Self(self.0 + 2))
        }
    }
}

impl fmt::Debug for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StreamId({})", self.0)
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<u32> for StreamId {
    fn from(raw: u32) -> Self {
        Self::new(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_bit_is_masked() {
        assert_eq!(StreamId::new(0x8000_0001).value(), 1);
    }

    #[test]
    fn parity() {
        assert!(StreamId::new(1).is_client_initiated());
        assert!(StreamId::new(2).is_server_initiated());
        assert!(!StreamId::ZERO.is_server_initiated());
        assert!(!StreamId::ZERO.is_client_initiated());
    }

    #[test]
    fn ids_never_wrap() {
        assert_eq!(StreamId::new(0x7fff_fffd).next(), Some(StreamId::MAX));
        assert_eq!(StreamId::MAX.next(), None);
        assert_eq!(StreamId::new(0x7fff_fffe).next(), None);
    }
}
