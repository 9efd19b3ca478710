//! CONFORMANCE.md, rule by rule, against a server-role `Session` driven with raw frames.
mod support;
use support::*;
