//! The SPDY session state machine (both roles).
pub struct Session;
pub struct SessionConfig;
pub enum Event {}
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Client,
    Server,
}
