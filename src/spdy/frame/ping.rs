//! PING (type 6): liveness and RTT (SPDY3.md §3.5). Exactly 4 bytes on every version; id
//! parity is the session's business.

use super::{control_head, len32, word, FrameError, FrameType, Ping};
use crate::spdy::version::Version;

impl Ping {
    /// Payload length: the ping id.
    pub const LEN: usize = 4;

    /// Decodes the payload; any length other than 4 is [`FrameError::InvalidLength`] (C8).
    pub fn decode(payload: &[u8]) -> Result<Self, FrameError> {
        if payload.len() != Self::LEN {
            return Err(FrameError::InvalidLength { frame_type: FrameType::PING, len: len32(payload) });
        }
        Ok(Ping { id: word(payload, 0) })
    }

    /// Appends the whole frame (flags 0).
    pub fn encode(&self, version: Version, out: &mut Vec<u8>) {
        out.extend_from_slice(&control_head(version, FrameType::PING, 0, Self::LEN));
        out.extend_from_slice(&self.id.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use hex_literal::hex;

    use super::*;

    #[test]
    fn spdy3_example_is_ping_1() {
        // SPDY3.md §3.5.
        let frame = hex!("80 03 00 06 00 00 00 04 00 00 00 01");
        let ping = Ping::decode(&frame[8..]).unwrap();
        assert_eq!(ping, Ping { id: 1 });
        let mut out = Vec::new();
        ping.encode(Version::Spdy3, &mut out);
        assert_eq!(out, frame);
    }

    #[test]
    fn ping_id_uses_all_32_bits() {
        // The ping id is unsigned 32-bit; there is no reserved bit to mask.
        assert_eq!(Ping::decode(&hex!("ff ff ff fe")), Ok(Ping { id: 0xffff_fffe }));
    }

    #[test]
    fn ping_with_length_8_is_invalid_c8() {
        assert_eq!(Ping::decode(&[0; 8]), Err(FrameError::InvalidLength { frame_type: FrameType::PING, len: 8 }));
        assert!(Ping::decode(&[]).is_err());
    }
}
