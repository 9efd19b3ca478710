//! Incremental frame reader.
use crate::spdy::stream_id::StreamId;
use super::Frame;

pub struct FrameReader;
pub enum ReadItem<'a> {
    Frame(Frame<'a>),
    Data(DataChunk<'a>),
}
pub struct DataChunk<'a> {
    pub stream_id: StreamId,
    pub flags: u8,
    pub frame_len: u32,
    pub offset: u32,
    pub bytes: &'a [u8],
}
