//! WINDOW_UPDATE (type 9): flow-control credit (SPDY3.md §3.8). SPDY/3 and 3.1 only; on
//! SPDY/2 the frame is skipped like an unknown type ([`Version::has_window_update`]).

use super::{control_head, len32, word, FrameError, FrameType, WindowUpdate};
use crate::spdy::stream_id::StreamId;
use crate::spdy::version::Version;

impl WindowUpdate {
    /// Payload length: stream id and delta.
    pub const LEN: usize = 8;

    /// Decodes the payload; any length other than 8 is [`FrameError::InvalidLength`]
    /// (C10). The delta's reserved top bit is masked off (C84); a delta of 0 is the
    /// session's call (C79).
    pub fn decode(payload: &[u8]) -> Result<Self, FrameError> {
        if payload.len() != Self::LEN {
            return Err(FrameError::InvalidLength { frame_type: FrameType::WINDOW_UPDATE, len: len32(payload) });
        }
        Ok(WindowUpdate { stream_id: StreamId::new(word(payload, 0)), delta: word(payload, 4) & 0x7fff_ffff })
    }

    /// Appends the whole frame (flags 0). The delta's top bit is never sent.
    pub fn encode(&self, version: Version, out: &mut Vec<u8>) {
        out.extend_from_slice(&control_head(version, FrameType::WINDOW_UPDATE, 0, Self::LEN));
        out.extend_from_slice(&self.stream_id.value().to_be_bytes());
        out.extend_from_slice(&(self.delta & 0x7fff_ffff).to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use hex_literal::hex;

    use super::*;

    #[test]
    fn spdy3_examples_decode_and_encode_back() {
        // SPDY3.md §3.8: session +1 MiB, stream 1 +64 KiB.
        for (frame, stream, delta) in [
            (hex!("80 03 00 09 00 00 00 08 00 00 00 00 00 10 00 00"), 0, 0x10_0000),
            (hex!("80 03 00 09 00 00 00 08 00 00 00 01 00 01 00 00"), 1, 0x1_0000),
        ] {
            let update = WindowUpdate::decode(&frame[8..]).unwrap();
            assert_eq!(update, WindowUpdate { stream_id: StreamId::new(stream), delta });
            let mut out = Vec::new();
            update.encode(Version::Spdy31, &mut out);
            assert_eq!(out, frame);
        }
    }

    #[test]
    fn window_update_delta_reserved_bit_is_masked_c84() {
        let update = WindowUpdate::decode(&hex!("80 00 00 01 80 00 01 00")).unwrap();
        assert_eq!(update, WindowUpdate { stream_id: StreamId::new(1), delta: 0x100 });
    }

    #[test]
    fn window_update_with_length_12_is_invalid_c10() {
        assert_eq!(
            WindowUpdate::decode(&[0; 12]),
            Err(FrameError::InvalidLength { frame_type: FrameType::WINDOW_UPDATE, len: 12 })
        );
    }
}
