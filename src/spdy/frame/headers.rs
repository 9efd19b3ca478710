//! HEADERS (type 8): more headers on an open stream (SPDY3.md §3.7, SPDY2.md §3.2).
//!
//! Same layout as SYN_REPLY, including the SPDY/2 padding; the block stays compressed.

use super::syn_reply::split;
use super::{begin_header_frame, finish_header_frame, FrameError, FrameType, HeaderFrameKind, Headers};
use crate::spdy::version::Version;

impl<'a> Headers<'a> {
    /// Decodes a HEADERS payload. Exactly the fixed part gives an empty `header_block`
    /// (C12a); less is [`FrameError::InvalidLength`] (C12).
    pub fn decode(version: Version, flags: u8, payload: &'a [u8]) -> Result<Self, FrameError> {
        let (stream_id, header_block) = split(version, FrameType::HEADERS, payload)?;
        Ok(Headers { stream_id, flags, header_block })
    }

    /// Appends the whole frame; `header_block` is written as given.
    pub fn encode(&self, version: Version, out: &mut Vec<u8>) {
        let start =
            begin_header_frame(out, version, HeaderFrameKind::Headers { stream_id: self.stream_id }, self.flags);
        out.extend_from_slice(self.header_block);
        finish_header_frame(out, start);
    }
}

#[cfg(test)]
mod tests {
    use hex_literal::hex;

    use super::*;
    use crate::spdy::frame::flags;
    use crate::spdy::stream_id::StreamId;

    #[test]
    fn headers_round_trip_in_both_layouts() {
        let headers = Headers { stream_id: StreamId::new(9), flags: flags::FIN, header_block: &hex!("78 9c") };
        let mut out = Vec::new();
        headers.encode(Version::Spdy3, &mut out);
        assert_eq!(out, hex!("80 03 00 08 01 00 00 06 00 00 00 09 78 9c"));
        assert_eq!(Headers::decode(Version::Spdy3, flags::FIN, &out[8..]), Ok(headers));
        out.clear();
        headers.encode(Version::Spdy2, &mut out);
        assert_eq!(out, hex!("80 02 00 08 01 00 00 08 00 00 00 09 00 00 78 9c"));
        assert_eq!(Headers::decode(Version::Spdy2, flags::FIN, &out[8..]), Ok(headers));
    }

    #[test]
    fn headers_with_length_3_is_invalid_c12() {
        assert_eq!(
            Headers::decode(Version::Spdy31, 0, &[0; 3]),
            Err(FrameError::InvalidLength { frame_type: FrameType::HEADERS, len: 3 })
        );
    }
}
