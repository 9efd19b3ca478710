//! Sans-IO HTTP/1.1: message heads (parsed with httparse), body framing and the chunked
//! codec. Used on both sides of the gateway: the backend client (requests out, responses
//! in) and the front for plain HTTP/1.1 clients and the `origin` test backend (requests
//! in, responses out). It never touches a socket: bytes in, heads and body slices out.

pub mod body;
pub mod head;
pub mod write;

pub use body::{BodyDecoder, BodyError, BodyItem};
pub use head::{BodyFraming, FramingError, HeadError, RequestHead, ResponseHead};
