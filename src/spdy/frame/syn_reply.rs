//! SYN_REPLY (type 2): accepts a stream (SPDY3.md §3.2, SPDY2.md §3.2).
//!
//! Stream id, then (SPDY/2 only) two unused bytes, then the compressed block. HEADERS
//! shares the layout; both use [`fixed_len`]. Nothing here inflates the block.

use super::{begin_header_frame, finish_header_frame, len32, word, FrameError, FrameType, HeaderFrameKind, SynReply};
use crate::spdy::stream_id::StreamId;
use crate::spdy::version::Version;

/// The fixed part of SYN_REPLY and HEADERS: the stream id plus the SPDY/2 padding.
pub(super) const fn fixed_len(version: Version) -> usize {
    4 + version.reply_padding()
}

/// Splits a SYN_REPLY/HEADERS payload into stream id and block, or `InvalidLength` (C12).
pub(super) fn split(version: Version, frame_type: FrameType, payload: &[u8]) -> Result<(StreamId, &[u8]), FrameError> {
    match payload.get(fixed_len(version)..) {
        Some(block) => Ok((StreamId::new(word(payload, 0)), block)),
        None => Err(FrameError::InvalidLength { frame_type, len: len32(payload) }),
    }
}

impl<'a> SynReply<'a> {
    /// Decodes a SYN_REPLY payload. Exactly the fixed part gives an empty `header_block`
    /// (the session's call, C12a); less is [`FrameError::InvalidLength`] (C12).
    pub fn decode(version: Version, flags: u8, payload: &'a [u8]) -> Result<Self, FrameError> {
        let (stream_id, header_block) = split(version, FrameType::SYN_REPLY, payload)?;
        Ok(SynReply { stream_id, flags, header_block })
    }

    /// Appends the whole frame; `header_block` is written as given.
    pub fn encode(&self, version: Version, out: &mut Vec<u8>) {
        let start =
            begin_header_frame(out, version, HeaderFrameKind::SynReply { stream_id: self.stream_id }, self.flags);
        out.extend_from_slice(self.header_block);
        finish_header_frame(out, start);
    }
}

#[cfg(test)]
mod tests {
    use hex_literal::hex;

    use super::*;
    use crate::spdy::frame::flags;

    #[test]
    fn spdy3_syn_reply_round_trips() {
        let frame = hex!("80 03 00 02 01 00 00 06 00 00 00 01 ab cd");
        let reply = SynReply::decode(Version::Spdy3, flags::FIN, &frame[8..]).unwrap();
        assert_eq!(reply, SynReply { stream_id: StreamId::new(1), flags: flags::FIN, header_block: &hex!("ab cd") });
        let mut out = Vec::new();
        reply.encode(Version::Spdy3, &mut out);
        assert_eq!(out, frame);
    }

    #[test]
    fn spdy2_syn_reply_has_two_unused_bytes() {
        let frame = hex!("80 02 00 02 00 00 00 08 00 00 00 01 00 00 ab cd");
        let reply = SynReply::decode(Version::Spdy2, 0, &frame[8..]).unwrap();
        assert_eq!(reply.header_block, &hex!("ab cd"));
        let mut out = Vec::new();
        reply.encode(Version::Spdy2, &mut out);
        assert_eq!(out, frame);
    }

    #[test]
    fn syn_reply_shorter_than_its_fixed_part_is_invalid_c12() {
        assert_eq!(
            SynReply::decode(Version::Spdy3, 0, &[0; 3]),
            Err(FrameError::InvalidLength { frame_type: FrameType::SYN_REPLY, len: 3 })
        );
        // SPDY/2: 4 bytes is still short of the padding.
        assert_eq!(
            SynReply::decode(Version::Spdy2, 0, &[0; 5]),
            Err(FrameError::InvalidLength { frame_type: FrameType::SYN_REPLY, len: 5 })
        );
    }

    #[test]
    fn syn_reply_of_exactly_the_fixed_part_has_an_empty_block_c12a() {
        let reply = SynReply::decode(Version::Spdy3, 0, &hex!("00 00 00 07")).unwrap();
        assert_eq!((reply.stream_id, reply.header_block.len()), (StreamId::new(7), 0));
    }
}
