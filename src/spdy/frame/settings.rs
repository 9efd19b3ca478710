//! SETTINGS (type 4): the peer's parameters (SPDY3.md §3.4, SPDY2.md §3.4).
//!
//! A 32-bit count then 8-byte entries. SPDY/3 puts the entry flags in the top byte of a
//! big-endian word; SPDY/2 stores the 24-bit id little-endian followed by the flags byte.
//! The count is attacker-chosen: it is checked against the length in u64 and capped at
//! [`MAX_SETTINGS_ENTRIES`] before anything is allocated.

use super::{control_head, len32, word, FrameError, FrameType, Setting, SettingId, Settings, MAX_SETTINGS_ENTRIES};
use crate::spdy::version::Version;

/// Size of one entry on the wire.
const ENTRY_LEN: usize = 8;

impl Settings {
    /// Decodes the payload. "Length MUST equal 4 + 8·n" (SPDY3.md §3.4), computed without
    /// u32 overflow (C11); more than [`MAX_SETTINGS_ENTRIES`] entries is
    /// [`FrameError::TooManySettings`] (C98). Entries keep wire order, flags and duplicates.
    pub fn decode(version: Version, flags: u8, payload: &[u8]) -> Result<Self, FrameError> {
        let invalid = FrameError::InvalidLength { frame_type: FrameType::SETTINGS, len: len32(payload) };
        let Some((count, entries)) = payload.split_first_chunk::<4>() else {
            return Err(invalid);
        };
        let count = u32::from_be_bytes(*count);
        if 4 + ENTRY_LEN as u64 * u64::from(count) != payload.len() as u64 {
            return Err(invalid);
        }
        if count as usize > MAX_SETTINGS_ENTRIES {
            return Err(FrameError::TooManySettings { count });
        }
        let entries = entries
            .chunks_exact(ENTRY_LEN)
            .map(|entry| {
                let (id, flags) = if version.settings_id_little_endian() {
                    (u32::from_le_bytes([entry[0], entry[1], entry[2], 0]), entry[3])
                } else {
                    (word(entry, 0) & 0x00ff_ffff, entry[0])
                };
                Setting { id: SettingId(id), flags, value: word(entry, 4) }
            })
            .collect();
        Ok(Settings { flags, entries })
    }

    /// Appends the whole frame in `version`'s entry layout. Ids are 24-bit; higher bits are
    /// dropped.
    pub fn encode(&self, version: Version, out: &mut Vec<u8>) {
        let len = 4 + ENTRY_LEN * self.entries.len();
        out.extend_from_slice(&control_head(version, FrameType::SETTINGS, self.flags, len));
        out.extend_from_slice(&(self.entries.len() as u32).to_be_bytes());
        for entry in &self.entries {
            let id = entry.id.0.to_le_bytes();
            if version.settings_id_little_endian() {
                out.extend_from_slice(&[id[0], id[1], id[2], entry.flags]);
            } else {
                out.extend_from_slice(&[entry.flags, id[2], id[1], id[0]]);
            }
            out.extend_from_slice(&entry.value.to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use hex_literal::hex;

    use super::*;
    use crate::spdy::frame::flags;

    fn setting(id: SettingId, flags: u8, value: u32) -> Setting {
        Setting { id, flags, value }
    }

    #[test]
    fn spdy3_server_example_decodes_and_encodes_back() {
        // SPDY3.md §3.4: MAX_CONCURRENT_STREAMS = 100, INITIAL_WINDOW_SIZE = 1 MiB.
        let frame = hex!("80 03 00 04 00 00 00 14 00 00 00 02 00 00 00 04 00 00 00 64 00 00 00 07 00 10 00 00");
        let settings = Settings::decode(Version::Spdy3, 0, &frame[8..]).unwrap();
        assert_eq!(
            settings.entries,
            [setting(SettingId::MAX_CONCURRENT_STREAMS, 0, 100), setting(SettingId::INITIAL_WINDOW_SIZE, 0, 0x10_0000),]
        );
        let mut out = Vec::new();
        settings.encode(Version::Spdy3, &mut out);
        assert_eq!(out, frame);
    }

    #[test]
    fn spdy3_persisted_entry_keeps_its_flag() {
        // SPDY3.md §3.4: "An entry with PERSISTED flag, id 4, value 100".
        let settings = Settings::decode(Version::Spdy3, 0, &hex!("00 00 00 01 02 00 00 04 00 00 00 64")).unwrap();
        assert_eq!(settings.entries, [setting(SettingId::MAX_CONCURRENT_STREAMS, flags::PERSISTED, 100)]);
    }

    #[test]
    fn spdy2_example_has_a_little_endian_id() {
        // SPDY2.md §3.4: MAX_CONCURRENT_STREAMS = 100, then the same with PERSIST_VALUE.
        let frame = hex!("80 02 00 04 00 00 00 0c 00 00 00 01 04 00 00 00 00 00 00 64");
        let settings = Settings::decode(Version::Spdy2, 0, &frame[8..]).unwrap();
        assert_eq!(settings.entries, [setting(SettingId::MAX_CONCURRENT_STREAMS, 0, 100)]);
        let mut out = Vec::new();
        settings.encode(Version::Spdy2, &mut out);
        assert_eq!(out, frame);

        let persist = Settings::decode(Version::Spdy2, 0, &hex!("00 00 00 01 04 00 00 01 00 00 00 64")).unwrap();
        assert_eq!(persist.entries, [setting(SettingId::MAX_CONCURRENT_STREAMS, flags::PERSIST_VALUE, 100)]);
        // The same bytes read with the SPDY/3 layout mean something else entirely.
        let v3 = Settings::decode(Version::Spdy3, 0, &hex!("00 00 00 01 04 00 00 01 00 00 00 64")).unwrap();
        assert_eq!(v3.entries, [setting(SettingId(1), 4, 100)]);
    }

    #[test]
    fn duplicates_and_order_are_kept_c92() {
        let payload = hex!("00 00 00 03 00 00 00 07 00 00 00 01 00 00 00 04 00 00 00 02 00 00 00 07 00 00 00 03");
        let settings = Settings::decode(Version::Spdy31, flags::CLEAR_SETTINGS, &payload).unwrap();
        assert_eq!(settings.flags, flags::CLEAR_SETTINGS);
        let ids: Vec<u32> = settings.entries.iter().map(|e| e.id.0).collect();
        assert_eq!(ids, [7, 4, 7]);
    }

    #[test]
    fn settings_shorter_than_the_count_is_invalid_c11() {
        assert_eq!(
            Settings::decode(Version::Spdy3, 0, &[0; 3]),
            Err(FrameError::InvalidLength { frame_type: FrameType::SETTINGS, len: 3 })
        );
    }

    #[test]
    fn settings_count_disagreeing_with_length_is_invalid_c11() {
        assert_eq!(
            Settings::decode(Version::Spdy3, 0, &hex!("00 00 00 02 00 00 00 04 00 00 00 64")),
            Err(FrameError::InvalidLength { frame_type: FrameType::SETTINGS, len: 12 })
        );
        assert!(Settings::decode(Version::Spdy3, 0, &hex!("00 00 00 00 00")).is_err());
    }

    #[test]
    fn settings_count_2_pow_29_does_not_wrap_c11() {
        // 4 + 8 * 2^29 is 4 in u32 arithmetic.
        assert_eq!(
            Settings::decode(Version::Spdy3, 0, &hex!("20 00 00 00")),
            Err(FrameError::InvalidLength { frame_type: FrameType::SETTINGS, len: 4 })
        );
        // ... and 2^29 + 1 entries would "need" 12 bytes.
        assert!(Settings::decode(Version::Spdy3, 0, &hex!("20 00 00 01 00 00 00 04 00 00 00 64")).is_err());
    }

    #[test]
    fn settings_with_65_entries_is_too_many_c98() {
        let mut payload = 65u32.to_be_bytes().to_vec();
        payload.resize(4 + 8 * 65, 0);
        assert_eq!(Settings::decode(Version::Spdy3, 0, &payload), Err(FrameError::TooManySettings { count: 65 }));
        let mut payload = 64u32.to_be_bytes().to_vec();
        payload.resize(4 + 8 * 64, 0);
        assert_eq!(Settings::decode(Version::Spdy3, 0, &payload).unwrap().entries.len(), 64);
    }
}
