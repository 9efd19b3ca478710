//! DATA frames as a whole (SPDY3.md §2.2): for encoding and tests. Received DATA goes
//! through the reader in zero-copy chunks instead ([`super::DataChunk`]).

use super::{data_head, Data};

impl Data<'_> {
    /// Appends the 8-byte head and the payload (debug-asserted ≤ 2^24-1 bytes). To keep
    /// the payload out of the buffer, send [`data_head`] and the payload as two slices.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&data_head(self.stream_id, self.flags, self.payload.len()));
        out.extend_from_slice(self.payload);
    }
}

#[cfg(test)]
mod tests {
    use hex_literal::hex;

    use super::*;
    use crate::spdy::frame::{flags, Frame};
    use crate::spdy::stream_id::StreamId;
    use crate::spdy::version::Version;

    #[test]
    fn spdy3_examples_decode_and_encode_back() {
        // SPDY3.md §2.2: "hi" with FIN, then an empty FIN.
        for (frame, payload) in
            [(&hex!("00 00 00 01 01 00 00 02 68 69")[..], &b"hi"[..]), (&hex!("00 00 00 01 01 00 00 00")[..], &b""[..])]
        {
            let (decoded, used) = Frame::decode(Version::Spdy3, frame).unwrap().unwrap();
            let data = Data { stream_id: StreamId::new(1), flags: flags::FIN, payload };
            assert_eq!((decoded, used), (Frame::Data(data), frame.len()));
            let mut out = Vec::new();
            data.encode(&mut out);
            assert_eq!(out, frame);
        }
    }
}
