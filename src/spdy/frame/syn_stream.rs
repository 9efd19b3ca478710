//! SYN_STREAM (type 1): opens a stream (SPDY3.md §3.1, SPDY2.md §3.1).
//!
//! The fixed part is 10 bytes on every version; only the priority width (3 bits vs 2)
//! and the slot byte (SPDY/3 only) differ, and both come from [`Version`]. The header
//! block stays compressed and borrowed; this module never inflates it.

use super::{begin_header_frame, finish_header_frame, len32, word, FrameError, FrameType, HeaderFrameKind, SynStream};
use crate::spdy::stream_id::StreamId;
use crate::spdy::version::Version;

impl<'a> SynStream<'a> {
    /// Stream id, associated-to id, priority byte, slot (or unused) byte.
    pub const FIXED_LEN: usize = 10;

    /// Decodes a SYN_STREAM payload in `version`'s layout. A payload of exactly
    /// [`Self::FIXED_LEN`] gives an empty `header_block` (the session's call, C12a); a
    /// shorter one is [`FrameError::InvalidLength`] (C12). Reserved bits are masked and
    /// unused priority bits ignored (C31).
    pub fn decode(version: Version, flags: u8, payload: &'a [u8]) -> Result<Self, FrameError> {
        let Some((fixed, header_block)) = payload.split_first_chunk::<{ SynStream::FIXED_LEN }>() else {
            return Err(FrameError::InvalidLength { frame_type: FrameType::SYN_STREAM, len: len32(payload) });
        };
        Ok(SynStream {
            stream_id: StreamId::new(word(fixed, 0)),
            associated_to: StreamId::new(word(fixed, 4)),
            priority: fixed[8] >> version.priority_shift(),
            slot: if version.has_slot() { fixed[9] } else { 0 },
            flags,
            header_block,
        })
    }

    /// Appends the whole frame; `header_block` is written as given.
    pub fn encode(&self, version: Version, out: &mut Vec<u8>) {
        let kind = HeaderFrameKind::SynStream {
            stream_id: self.stream_id,
            associated_to: self.associated_to,
            priority: self.priority,
            slot: self.slot,
        };
        let start = begin_header_frame(out, version, kind, self.flags);
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
    fn spdy3_fixed_part_example_decodes() {
        // SPDY3.md §3.1: stream 1, assoc 0, priority 3, slot 0.
        let syn = SynStream::decode(Version::Spdy3, 0, &hex!("00 00 00 01 00 00 00 00 60 00")).unwrap();
        assert_eq!(syn.stream_id, StreamId::new(1));
        assert_eq!(syn.associated_to, StreamId::ZERO);
        assert_eq!(syn.priority, 3);
        assert_eq!(syn.slot, 0);
        assert!(syn.header_block.is_empty());
    }

    #[test]
    fn spdy2_fixed_part_example_decodes_two_bit_priority() {
        // SPDY2.md §3.1: stream 1, assoc 0, priority 1.
        let syn = SynStream::decode(Version::Spdy2, 0, &hex!("00 00 00 01 00 00 00 00 40 00")).unwrap();
        assert_eq!(syn.priority, 1);
        let mut out = Vec::new();
        syn.encode(Version::Spdy2, &mut out);
        assert_eq!(out, hex!("80 02 00 01 00 00 00 0a 00 00 00 01 00 00 00 00 40 00"));
    }

    #[test]
    fn reserved_and_unused_bits_are_ignored_c31() {
        // Reserved top bits on both ids, unused priority bits and a slot on 3.1.
        let payload = hex!("80 00 00 05 80 00 00 02 7f 09 aa");
        let syn = SynStream::decode(Version::Spdy31, flags::FIN, &payload).unwrap();
        assert_eq!(syn.stream_id, StreamId::new(5));
        assert_eq!(syn.associated_to, StreamId::new(2));
        assert_eq!(syn.priority, 3);
        assert_eq!(syn.slot, 9);
        assert_eq!(syn.header_block, &hex!("aa"));
        // SPDY/2 has no slot: byte 9 is unused.
        let v2 = SynStream::decode(Version::Spdy2, 0, &payload).unwrap();
        assert_eq!((v2.priority, v2.slot), (1, 0));
    }

    #[test]
    fn syn_stream_of_nine_bytes_is_invalid_c12() {
        assert_eq!(
            SynStream::decode(Version::Spdy3, 0, &[0; 9]),
            Err(FrameError::InvalidLength { frame_type: FrameType::SYN_STREAM, len: 9 })
        );
    }

    #[test]
    fn encode_clamps_priority_to_the_version_range() {
        let syn = SynStream {
            stream_id: StreamId::new(3),
            associated_to: StreamId::ZERO,
            priority: 7,
            slot: 4,
            flags: flags::FIN | flags::UNIDIRECTIONAL,
            header_block: &hex!("01 02"),
        };
        let mut out = Vec::new();
        syn.encode(Version::Spdy3, &mut out);
        assert_eq!(out, hex!("80 03 00 01 03 00 00 0c 00 00 00 03 00 00 00 00 e0 04 01 02"));
        out.clear();
        syn.encode(Version::Spdy2, &mut out);
        assert_eq!(out, hex!("80 02 00 01 03 00 00 0c 00 00 00 03 00 00 00 00 c0 00 01 02"));
    }
}
