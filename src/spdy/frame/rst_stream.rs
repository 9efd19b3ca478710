//! RST_STREAM (type 3): aborts a stream (SPDY3.md §3.3). Exactly 8 bytes on every version;
//! the status is kept as received (an open newtype), SPDY/2's narrower code range is the
//! sender's business ([`Version::rst_status`]).

use super::{control_head, len32, word, FrameError, FrameType, RstStatus, RstStream};
use crate::spdy::stream_id::StreamId;
use crate::spdy::version::Version;

impl RstStream {
    /// Payload length: stream id and status.
    pub const LEN: usize = 8;

    /// Decodes the payload; any length other than 8 is [`FrameError::InvalidLength`] (C7).
    /// Flags are not looked at (C15).
    pub fn decode(payload: &[u8]) -> Result<Self, FrameError> {
        if payload.len() != Self::LEN {
            return Err(FrameError::InvalidLength { frame_type: FrameType::RST_STREAM, len: len32(payload) });
        }
        Ok(RstStream { stream_id: StreamId::new(word(payload, 0)), status: RstStatus(word(payload, 4)) })
    }

    /// Appends the whole frame (flags 0).
    pub fn encode(&self, version: Version, out: &mut Vec<u8>) {
        out.extend_from_slice(&control_head(version, FrameType::RST_STREAM, 0, Self::LEN));
        out.extend_from_slice(&self.stream_id.value().to_be_bytes());
        out.extend_from_slice(&self.status.0.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use hex_literal::hex;

    use super::*;

    #[test]
    fn spdy3_example_is_stream_1_cancel() {
        // SPDY3.md §3.3.
        let frame = hex!("80 03 00 03 00 00 00 08 00 00 00 01 00 00 00 05");
        let rst = RstStream::decode(&frame[8..]).unwrap();
        assert_eq!(rst, RstStream { stream_id: StreamId::new(1), status: RstStatus::CANCEL });
        let mut out = Vec::new();
        rst.encode(Version::Spdy3, &mut out);
        assert_eq!(out, frame);
    }

    #[test]
    fn rst_stream_with_length_9_is_invalid_c7() {
        assert_eq!(
            RstStream::decode(&[0; 9]),
            Err(FrameError::InvalidLength { frame_type: FrameType::RST_STREAM, len: 9 })
        );
        assert!(RstStream::decode(&[0; 7]).is_err());
    }

    #[test]
    fn unknown_status_survives_a_round_trip() {
        let rst = RstStream::decode(&hex!("80 00 00 03 00 00 00 2a")).unwrap();
        assert_eq!((rst.stream_id, rst.status), (StreamId::new(3), RstStatus(42)));
    }
}
