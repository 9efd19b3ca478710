//! The uncompressed name/value block layout (SPDY3.md §4; 16-bit fields in SPDY/2) and
//! its validation rules (CONFORMANCE C37–C44, C47, C48).
// Implementation: see the header-codec work item.
