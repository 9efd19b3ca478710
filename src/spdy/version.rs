//! Every difference between SPDY/2, SPDY/3 and SPDY/3.1 lives here and nowhere else
//! (SPDY3.md §10, §11 and SPDY2.md). Other modules ask a [`Version`] instead of
//! comparing versions themselves.

use crate::spdy::frame::RstStatus;
use crate::spdy::header::dictionary;

/// A negotiated SPDY protocol version.
///
/// SPDY/3 and SPDY/3.1 share wire version 3; only the negotiated protocol id tells them
/// apart, and it decides whether the session-level flow-control window exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    Spdy2,
    Spdy3,
    Spdy31,
}

impl Version {
    /// All versions, in server preference order (SPDY3.md §1: spdylay's order).
    pub const PREFERENCE: [Version; 3] = [Version::Spdy31, Version::Spdy3, Version::Spdy2];

    /// The NPN/ALPN protocol id.
    pub const fn alpn_id(self) -> &'static [u8] {
        match self {
            Version::Spdy2 => b"spdy/2",
            Version::Spdy3 => b"spdy/3",
            Version::Spdy31 => b"spdy/3.1",
        }
    }

    /// Parses an ALPN/NPN protocol id (also accepts the same strings for `-p` flags).
    pub fn from_alpn(id: &[u8]) -> Option<Self> {
        match id {
            b"spdy/2" => Some(Version::Spdy2),
            b"spdy/3" => Some(Version::Spdy3),
            b"spdy/3.1" => Some(Version::Spdy31),
            _ => None,
        }
    }

    /// The version field carried by control frames: 2, or 3 for both 3 and 3.1.
    pub const fn wire(self) -> u16 {
        match self {
            Version::Spdy2 => 2,
            Version::Spdy3 | Version::Spdy31 => 3,
        }
    }

    /// Whether per-stream flow control (WINDOW_UPDATE) exists. SPDY/2 has none.
    pub const fn has_stream_flow_control(self) -> bool {
        !matches!(self, Version::Spdy2)
    }

    /// Whether the 3.1 session (stream 0) window exists.
    pub const fn has_session_flow_control(self) -> bool {
        matches!(self, Version::Spdy31)
    }

    /// Width in bytes of the name/value block counts and lengths: 2 in SPDY/2, 4 in SPDY/3.
    pub const fn nv_length_width(self) -> usize {
        match self {
            Version::Spdy2 => 2,
            Version::Spdy3 | Version::Spdy31 => 4,
        }
    }

    /// Whether a zero-length header value is allowed (SPDY/2: no, SPDY2.md §4).
    pub const fn allows_empty_values(self) -> bool {
        !matches!(self, Version::Spdy2)
    }

    /// The zlib preset dictionary for header blocks.
    pub const fn dictionary(self) -> &'static [u8] {
        match self {
            Version::Spdy2 => dictionary::SPDY2,
            Version::Spdy3 | Version::Spdy31 => dictionary::SPDY3,
        }
    }

    /// The DICTID (Adler-32 of [`Self::dictionary`]) expected in the first header block.
    pub const fn dictionary_id(self) -> u32 {
        match self {
            Version::Spdy2 => dictionary::SPDY2_ID,
            Version::Spdy3 | Version::Spdy31 => dictionary::SPDY3_ID,
        }
    }

    /// Number of priority levels: 4 (2 bits) in SPDY/2, 8 (3 bits) in SPDY/3.
    pub const fn priority_levels(self) -> u8 {
        match self {
            Version::Spdy2 => 4,
            Version::Spdy3 | Version::Spdy31 => 8,
        }
    }

    /// Bits to shift SYN_STREAM byte 8 right to get the priority (5 in v3, 6 in v2).
    pub const fn priority_shift(self) -> u32 {
        match self {
            Version::Spdy2 => 6,
            Version::Spdy3 | Version::Spdy31 => 5,
        }
    }

    /// Whether SYN_STREAM byte 9 is the CREDENTIAL slot (SPDY/3, unused in 3.1); in SPDY/2
    /// it is an unused byte, sent as 0 and ignored on receipt (SPDY2.md §3.1).
    pub const fn has_slot(self) -> bool {
        !matches!(self, Version::Spdy2)
    }

    /// Whether WINDOW_UPDATE (type 9) is a frame this version decodes. SPDY/2 specified it
    /// once and withdrew it; a received one is ignored like an unknown type (SPDY2.md §7).
    pub const fn has_window_update(self) -> bool {
        self.has_stream_flow_control()
    }

    /// The lowest priority (largest number) of this version.
    pub const fn lowest_priority(self) -> u8 {
        self.priority_levels() - 1
    }

    /// Unused bytes between the stream id and the header block of SYN_REPLY and HEADERS
    /// (SPDY/2 has 2, SPDY2.md §3.2).
    pub const fn reply_padding(self) -> usize {
        match self {
            Version::Spdy2 => 2,
            Version::Spdy3 | Version::Spdy31 => 0,
        }
    }

    /// Payload length of GOAWAY: 4 in SPDY/2 (no status), 8 in SPDY/3.
    pub const fn goaway_len(self) -> usize {
        match self {
            Version::Spdy2 => 4,
            Version::Spdy3 | Version::Spdy31 => 8,
        }
    }

    /// Whether the SETTINGS entry id is little-endian with the flags byte last (SPDY2.md §3.4).
    pub const fn settings_id_little_endian(self) -> bool {
        matches!(self, Version::Spdy2)
    }

    /// Whether NOOP (type 5) is a defined frame (SPDY/2 only).
    pub const fn has_noop(self) -> bool {
        matches!(self, Version::Spdy2)
    }

    /// Maps the RST_STREAM status we were asked to send to one this version defines:
    /// SPDY/2 stops at 7, so STREAM_IN_USE, STREAM_ALREADY_CLOSED and FRAME_TOO_LARGE
    /// become PROTOCOL_ERROR (CONFORMANCE E6); a code no draft defines (0, or past
    /// FRAME_TOO_LARGE) never reaches the wire — a peer may treat it as a protocol error,
    /// and the reset is then ours to explain — so it becomes INTERNAL_ERROR.
    pub const fn rst_status(self, status: RstStatus) -> RstStatus {
        match (self, status.0) {
            _ if status.name().is_none() => RstStatus::INTERNAL_ERROR,
            (Version::Spdy2, 8..) => RstStatus::PROTOCOL_ERROR,
            _ => status,
        }
    }

    /// Whether DATA flag 0x02 (SPDY/2's never-deployed FLAG_COMPRESSED) makes the frame
    /// uninterpretable: a stream error PROTOCOL_ERROR (SPDY2.md §3.6). SPDY/3 defines no
    /// such flag; unknown DATA flag bits are ignored there (SPDY3.md §12 row 4).
    pub const fn rejects_compressed_data(self) -> bool {
        matches!(self, Version::Spdy2)
    }

    /// Whether DATA (or HEADERS) for a stream already torn down is silently ignored
    /// (SPDY/2, CONFORMANCE E7) instead of answered with RST PROTOCOL_ERROR (C66).
    pub const fn ignores_frames_on_closed_streams(self) -> bool {
        matches!(self, Version::Spdy2)
    }

    /// Whether HTTP request/response pseudo-headers carry a leading colon (`:method` in v3,
    /// `method` in v2).
    pub const fn colon_names(self) -> bool {
        !matches!(self, Version::Spdy2)
    }
}

impl core::fmt::Display for Version {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Safety of unwrap-free: alpn ids are ASCII literals.
        f.write_str(match self {
            Version::Spdy2 => "spdy/2",
            Version::Spdy3 => "spdy/3",
            Version::Spdy31 => "spdy/3.1",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpn_round_trip() {
        for v in Version::PREFERENCE {
            assert_eq!(Version::from_alpn(v.alpn_id()), Some(v));
            assert_eq!(v.to_string().as_bytes(), v.alpn_id());
        }
        assert_eq!(Version::from_alpn(b"h2"), None);
    }

    #[test]
    fn spdy2_maps_new_rst_codes_to_protocol_error() {
        assert_eq!(Version::Spdy2.rst_status(RstStatus::FRAME_TOO_LARGE), RstStatus::PROTOCOL_ERROR);
        assert_eq!(Version::Spdy2.rst_status(RstStatus::CANCEL), RstStatus::CANCEL);
        assert_eq!(Version::Spdy3.rst_status(RstStatus::FRAME_TOO_LARGE), RstStatus::FRAME_TOO_LARGE);
    }

    #[test]
    fn undefined_rst_codes_are_sent_as_internal_error() {
        // found by the session fuzz target: an application reset with status 0 went out as is
        for v in Version::PREFERENCE {
            for code in [0, 12, 255, u32::MAX] {
                assert_eq!(v.rst_status(RstStatus(code)), RstStatus::INTERNAL_ERROR, "{v} {code}");
            }
            for code in 1..=7 {
                assert_eq!(v.rst_status(RstStatus(code)), RstStatus(code), "{v} {code}");
            }
        }
    }
}
