//! zlib header compression through flate2 (zlib-rs backend).
use super::{HeaderBlock, HeaderEncoder};
use crate::spdy::version::Version;

pub struct ZlibEncoder;
impl ZlibEncoder {
    pub fn new(_version: Version, _level: u32, _window_bits: u8, _mem_level: u8) -> Self {
        todo!("header-codec work item")
    }
}
impl HeaderEncoder for ZlibEncoder {
    fn encode(&mut self, _block: &HeaderBlock, _out: &mut Vec<u8>) {
        todo!()
    }
    fn state_bytes(&self) -> usize {
        todo!()
    }
}
