//! The zlib preset dictionaries for header blocks, copied byte for byte from
//! `shared/spec/*.bin` (the crate builds without `../shared`; a test compares them when
//! it is present). Never retype them: the SPDY/2 one ends in a NUL that is part of it.

/// SPDY/3 and SPDY/3.1 dictionary (1423 bytes).
pub const SPDY3: &[u8] = include_bytes!("dict/spdy3_dictionary.bin");
/// SPDY/2 dictionary (907 bytes: 906 characters and the terminating NUL).
pub const SPDY2: &[u8] = include_bytes!("dict/spdy2_dictionary.bin");
/// Adler-32 of [`SPDY3`], the DICTID of the first SPDY/3 block.
pub const SPDY3_ID: u32 = 0xe3c6_a7c2;
/// Adler-32 of [`SPDY2`].
pub const SPDY2_ID: u32 = 0xdfa2_51b2;

/// Adler-32 (RFC 1950 §9), used to check the DICTIDs above.
pub fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_ids() {
        assert_eq!(SPDY3.len(), 1423);
        assert_eq!(SPDY2.len(), 907);
        assert_eq!(adler32(SPDY3), SPDY3_ID);
        assert_eq!(adler32(SPDY2), SPDY2_ID);
        assert_eq!(&SPDY3[..11], b"\x00\x00\x00\x07options");
        assert!(SPDY3.ends_with(b",enq=0."));
        assert_eq!(SPDY2[906], 0);
    }

    /// Compares with `../shared/spec` and its published sha256 sums when that folder is
    /// beside the checkout (it is in CI).
    #[test]
    fn match_shared_spec_sha256() {
        use sha2::{Digest, Sha256};
        let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/spec");
        let Ok(readme) = std::fs::read_to_string(spec.join("README.md")) else {
            eprintln!("../shared/spec not present; compared against built-in sizes and Adler-32 only");
            return;
        };
        for (file, ours) in [("spdy3_dictionary.bin", SPDY3), ("spdy2_dictionary.bin", SPDY2)] {
            let theirs = std::fs::read(spec.join(file)).expect("dictionary file in shared/spec");
            assert_eq!(theirs, ours, "{file} differs from the crate's copy");
            let sum: String = Sha256::digest(ours).iter().map(|b| format!("{b:02x}")).collect();
            assert!(readme.contains(&sum), "sha256 {sum} of {file} not in shared/spec/README.md");
        }
    }
}
