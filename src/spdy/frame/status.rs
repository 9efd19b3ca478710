//! Wire status codes as open newtypes: unknown codes survive a round trip (a GOAWAY from a
//! peer with status 11 or 7 is still a GOAWAY, CONFORMANCE C110a).

use core::fmt;

/// RST_STREAM status (SPDY3.md §3.3). Codes 8–11 are SPDY/3 only; see
/// [`crate::spdy::Version::rst_status`] for the SPDY/2 mapping.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RstStatus(pub u32);

impl RstStatus {
    pub const PROTOCOL_ERROR: Self = Self(1);
    pub const INVALID_STREAM: Self = Self(2);
    pub const REFUSED_STREAM: Self = Self(3);
    pub const UNSUPPORTED_VERSION: Self = Self(4);
    pub const CANCEL: Self = Self(5);
    pub const INTERNAL_ERROR: Self = Self(6);
    pub const FLOW_CONTROL_ERROR: Self = Self(7);
    pub const STREAM_IN_USE: Self = Self(8);
    pub const STREAM_ALREADY_CLOSED: Self = Self(9);
    pub const INVALID_CREDENTIALS: Self = Self(10);
    pub const FRAME_TOO_LARGE: Self = Self(11);

    /// The spec name, or `None` for codes the drafts do not define (including 0).
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "PROTOCOL_ERROR",
            2 => "INVALID_STREAM",
            3 => "REFUSED_STREAM",
            4 => "UNSUPPORTED_VERSION",
            5 => "CANCEL",
            6 => "INTERNAL_ERROR",
            7 => "FLOW_CONTROL_ERROR",
            8 => "STREAM_IN_USE",
            9 => "STREAM_ALREADY_CLOSED",
            10 => "INVALID_CREDENTIALS",
            11 => "FRAME_TOO_LARGE",
            _ => return None,
        })
    }
}

impl fmt::Debug for RstStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "RstStatus({})", self.0),
        }
    }
}

impl fmt::Display for RstStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// GOAWAY status (SPDY3.md §3.6). We send only 0, 1 and 2 (CONFORMANCE C114) and accept
/// anything. SPDY/2 GOAWAY carries no status; it decodes as [`GoAwayStatus::OK`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct GoAwayStatus(pub u32);

impl GoAwayStatus {
    pub const OK: Self = Self(0);
    pub const PROTOCOL_ERROR: Self = Self(1);
    /// 2, per the errata (the original SPDY/3 text said 11; SPDY3.md §12 row 1).
    pub const INTERNAL_ERROR: Self = Self(2);

    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "OK",
            1 => "PROTOCOL_ERROR",
            2 => "INTERNAL_ERROR",
            _ => return None,
        })
    }
}

impl fmt::Debug for GoAwayStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "GoAwayStatus({})", self.0),
        }
    }
}

impl fmt::Display for GoAwayStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_codes_survive() {
        assert_eq!(RstStatus(42).name(), None);
        assert_eq!(format!("{:?}", RstStatus(42)), "RstStatus(42)");
        assert_eq!(format!("{:?}", GoAwayStatus(11)), "GoAwayStatus(11)");
        assert_eq!(format!("{}", RstStatus::REFUSED_STREAM), "REFUSED_STREAM");
    }
}
