//! GOAWAY (type 7): the sender takes no new streams (SPDY3.md §3.6, SPDY2.md §3.5).
//! 8 bytes with a status on SPDY/3; 4 bytes without one on SPDY/2, decoded as OK.

use super::{control_head, len32, word, FrameError, FrameType, GoAway, GoAwayStatus};
use crate::spdy::stream_id::StreamId;
use crate::spdy::version::Version;

impl GoAway {
    /// Decodes the payload; any length other than [`Version::goaway_len`] is
    /// [`FrameError::InvalidLength`] (C9). Any status value is accepted (C110a).
    pub fn decode(version: Version, payload: &[u8]) -> Result<Self, FrameError> {
        if payload.len() != version.goaway_len() {
            return Err(FrameError::InvalidLength { frame_type: FrameType::GOAWAY, len: len32(payload) });
        }
        let status = if version.goaway_len() >= 8 { GoAwayStatus(word(payload, 4)) } else { GoAwayStatus::OK };
        Ok(GoAway { last_good_stream_id: StreamId::new(word(payload, 0)), status })
    }

    /// Appends the whole frame; SPDY/2 drops the status.
    pub fn encode(&self, version: Version, out: &mut Vec<u8>) {
        let len = version.goaway_len();
        out.extend_from_slice(&control_head(version, FrameType::GOAWAY, 0, len));
        out.extend_from_slice(&self.last_good_stream_id.value().to_be_bytes());
        if len >= 8 {
            out.extend_from_slice(&self.status.0.to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use hex_literal::hex;

    use super::*;

    #[test]
    fn spdy3_example_is_last_good_7_protocol_error() {
        // SPDY3.md §3.6.
        let frame = hex!("80 03 00 07 00 00 00 08 00 00 00 07 00 00 00 01");
        let goaway = GoAway::decode(Version::Spdy3, &frame[8..]).unwrap();
        assert_eq!(goaway, GoAway { last_good_stream_id: StreamId::new(7), status: GoAwayStatus::PROTOCOL_ERROR });
        let mut out = Vec::new();
        goaway.encode(Version::Spdy3, &mut out);
        assert_eq!(out, frame);
    }

    #[test]
    fn spdy2_example_has_no_status() {
        // SPDY2.md §3.5.
        let frame = hex!("80 02 00 07 00 00 00 04 00 00 00 07");
        let goaway = GoAway::decode(Version::Spdy2, &frame[8..]).unwrap();
        assert_eq!(goaway, GoAway { last_good_stream_id: StreamId::new(7), status: GoAwayStatus::OK });
        let mut out = Vec::new();
        goaway.encode(Version::Spdy2, &mut out);
        assert_eq!(out, frame);
    }

    #[test]
    fn goaway_with_the_other_versions_length_is_invalid_c9() {
        assert_eq!(
            GoAway::decode(Version::Spdy31, &[0; 4]),
            Err(FrameError::InvalidLength { frame_type: FrameType::GOAWAY, len: 4 })
        );
        assert_eq!(
            GoAway::decode(Version::Spdy2, &[0; 8]),
            Err(FrameError::InvalidLength { frame_type: FrameType::GOAWAY, len: 8 })
        );
    }

    #[test]
    fn unknown_goaway_status_is_kept_c110a() {
        let goaway = GoAway::decode(Version::Spdy3, &hex!("80 00 00 01 00 00 00 0b")).unwrap();
        assert_eq!((goaway.last_good_stream_id, goaway.status), (StreamId::new(1), GoAwayStatus(11)));
    }
}
