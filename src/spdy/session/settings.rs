//! SETTINGS semantics (SPDY3.md §3.4, CONFORMANCE A8, C2, C89, C91, C126): what one
//! received SETTINGS frame changes, and what our first one says.
//!
//! The frame codec hands over entries exactly as they were on the wire; this module
//! applies the rules (first of a repeated id wins, unknown ids and persistence flags
//! ignored, PERSISTED echoes skipped). It keeps no state: "later frames override earlier
//! values" (C97) is the session storing each result. It never persists anything and never
//! asks the peer to (SPDY3.md §3.4, "chosen: never set PERSIST_VALUE or CLEAR_SETTINGS").

use crate::spdy::frame::{flags, Setting, SettingId, Settings};
use crate::spdy::session::flow::MAX_WINDOW;
use crate::spdy::session::Role;

/// The effect of one received SETTINGS frame: the values the session acts on. Ids 1, 2,
/// 3, 5, 6 and 8 are accepted and ignored (informational, or meaningless in 3.1).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct PeerSettings {
    /// Most streams we may have open towards the peer (our pushes, or a client's requests).
    pub(crate) max_concurrent_streams: Option<u32>,
    /// The peer's new per-stream window for what we send; at most 2^31 − 1.
    pub(crate) initial_window_size: Option<u32>,
}

/// How the peer's SETTINGS frame broke the rules.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SettingsError {
    /// INITIAL_WINDOW_SIZE above 2^31 − 1 (C89, SPDY3.md §12 #13): GOAWAY(1).
    InitialWindowTooLarge,
}

/// Applies one received SETTINGS frame's rules:
/// * a repeated id: the first value is used, later ones ignored (C92, "a receiver that
///   finds repeats MUST use the first value");
/// * unknown ids are ignored (C93); ids 1, 2, 3, 5, 6, 8 are accepted and ignored;
/// * PERSIST_VALUE on an entry and CLEAR_SETTINGS on the frame are ignored and the value
///   applied (C94: "servers MUST ignore persistence flags sent by a client");
/// * an entry flagged PERSISTED is skipped entirely, as if absent: it echoes a value the
///   server once asked to persist and says nothing about the sender (C95; nginx does the
///   same). Later entries of the frame still apply, and a skipped entry does not count as
///   the "first" occurrence of its id for C92;
/// * an applied INITIAL_WINDOW_SIZE above 2^31 − 1 is a session error (C89). A skipped
///   entry (PERSISTED, or a repeat) is not applied, so it cannot be an error.
///
/// Role: a server skips PERSISTED entries for the reason above. A client should never
/// see one (only clients send PERSISTED); since we never ask anyone to persist, such an
/// entry cannot be an echo of ours either, so a client skips it too rather than applying
/// a value whose meaning is unknown. PERSIST_VALUE from a server asks the client to
/// remember the value for the next connection; we do not persist, and apply the value
/// for this connection as C94 does for a server.
pub(crate) fn interpret(role: Role, settings: &Settings) -> Result<PeerSettings, SettingsError> {
    let skip_persisted = match role {
        Role::Server => true, // C95
        Role::Client => true, // see above: not an echo of ours, meaning unknown
    };
    let mut out = PeerSettings::default();
    for &Setting { id, flags: entry_flags, value } in &settings.entries {
        if skip_persisted && entry_flags & flags::PERSISTED != 0 {
            continue;
        }
        match id {
            SettingId::MAX_CONCURRENT_STREAMS => {
                out.max_concurrent_streams.get_or_insert(value);
            }
            SettingId::INITIAL_WINDOW_SIZE if out.initial_window_size.is_none() => {
                if i64::from(value) > MAX_WINDOW {
                    return Err(SettingsError::InitialWindowTooLarge);
                }
                out.initial_window_size = Some(value);
            }
            // UPLOAD_BANDWIDTH, DOWNLOAD_BANDWIDTH, ROUND_TRIP_TIME, CURRENT_CWND,
            // DOWNLOAD_RETRANS_RATE, CLIENT_CERTIFICATE_VECTOR_SIZE, and unknown ids.
            _ => {}
        }
    }
    Ok(out)
}

/// Our first SETTINGS frame (C2): MAX_CONCURRENT_STREAMS and INITIAL_WINDOW_SIZE, in
/// increasing id order (§3.4: "Entries SHOULD be sent in increasing ID order"; old
/// Chromium rejected anything else), no frame or entry flags and never id 8 (C126). The
/// window is announced once and never lowered afterwards (C91); the session sends this
/// only at start. A window above 2^31 − 1 would be a protocol error at the peer (C89), so
/// it is capped there.
pub(crate) fn initial(max_concurrent_streams: u32, initial_window_size: u32) -> Settings {
    debug_assert!(initial_window_size >= 65_536, "C91: announce at least 65 536");
    let window = u32::try_from(i64::from(initial_window_size).min(MAX_WINDOW)).unwrap_or(0x7fff_ffff);
    Settings {
        flags: 0,
        entries: vec![
            Setting { id: SettingId::MAX_CONCURRENT_STREAMS, flags: 0, value: max_concurrent_streams },
            Setting { id: SettingId::INITIAL_WINDOW_SIZE, flags: 0, value: window },
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: u32, flags: u8, value: u32) -> Setting {
        Setting { id: SettingId(id), flags, value }
    }

    fn frame(entries: Vec<Setting>) -> Settings {
        Settings { flags: 0, entries }
    }

    #[test]
    fn max_concurrent_streams_and_initial_window_are_reported() {
        let s = frame(vec![entry(4, 0, 100), entry(7, 0, 1 << 20)]);
        assert_eq!(
            interpret(Role::Server, &s),
            Ok(PeerSettings { max_concurrent_streams: Some(100), initial_window_size: Some(1 << 20) })
        );
    }

    #[test]
    fn an_empty_frame_changes_nothing() {
        assert_eq!(interpret(Role::Server, &frame(vec![])), Ok(PeerSettings::default()));
    }

    #[test]
    fn max_concurrent_streams_zero_is_kept_c96() {
        let s = frame(vec![entry(4, 0, 0)]);
        assert_eq!(interpret(Role::Server, &s).unwrap().max_concurrent_streams, Some(0));
    }

    #[test]
    fn a_repeated_id_uses_the_first_value_c92() {
        let s = frame(vec![entry(7, 0, 1000), entry(4, 0, 10), entry(7, 0, 2000), entry(4, 0, 20)]);
        assert_eq!(
            interpret(Role::Server, &s),
            Ok(PeerSettings { max_concurrent_streams: Some(10), initial_window_size: Some(1000) })
        );
    }

    #[test]
    fn a_repeated_oversized_window_is_ignored_not_an_error_c92() {
        let s = frame(vec![entry(7, 0, 1000), entry(7, 0, 0x8000_0000)]);
        assert_eq!(interpret(Role::Server, &s).unwrap().initial_window_size, Some(1000));
    }

    #[test]
    fn unknown_ids_are_ignored_c93() {
        let s = frame(vec![entry(0, 0, 5), entry(9, 0, 5), entry(0xff_ffff, 0, 5), entry(4, 0, 50)]);
        assert_eq!(
            interpret(Role::Server, &s),
            Ok(PeerSettings { max_concurrent_streams: Some(50), initial_window_size: None })
        );
    }

    #[test]
    fn informational_ids_are_accepted_and_ignored() {
        let s = frame([1, 2, 3, 5, 6, 8].iter().map(|&id| entry(id, 0, 0xffff_ffff)).collect());
        assert_eq!(interpret(Role::Server, &s), Ok(PeerSettings::default()));
        assert_eq!(interpret(Role::Client, &s), Ok(PeerSettings::default()));
    }

    #[test]
    fn persistence_flags_are_ignored_and_the_value_applied_c94() {
        let mut s = frame(vec![entry(4, flags::PERSIST_VALUE, 64), entry(7, flags::PERSIST_VALUE, 70_000)]);
        s.flags = flags::CLEAR_SETTINGS;
        let expected = PeerSettings { max_concurrent_streams: Some(64), initial_window_size: Some(70_000) };
        assert_eq!(interpret(Role::Server, &s), Ok(expected));
        // A client receiving PERSIST_VALUE from a server does not persist; it applies it.
        let expected = PeerSettings { max_concurrent_streams: Some(64), initial_window_size: Some(70_000) };
        assert_eq!(interpret(Role::Client, &s), Ok(expected));
    }

    #[test]
    fn persisted_entries_are_skipped_and_later_entries_applied_c95() {
        let s = frame(vec![
            entry(4, flags::PERSISTED, 100),
            entry(7, flags::PERSISTED | flags::PERSIST_VALUE, 0xffff_ffff),
            entry(4, 0, 7),
            entry(7, 0, 90_000),
        ]);
        let expected = PeerSettings { max_concurrent_streams: Some(7), initial_window_size: Some(90_000) };
        assert_eq!(interpret(Role::Server, &s), Ok(expected));
    }

    #[test]
    fn a_client_skips_persisted_entries_too() {
        let s = frame(vec![entry(4, flags::PERSISTED, 100), entry(7, 0, 90_000)]);
        assert_eq!(
            interpret(Role::Client, &s),
            Ok(PeerSettings { max_concurrent_streams: None, initial_window_size: Some(90_000) })
        );
    }

    #[test]
    fn an_initial_window_above_2_31_minus_1_is_an_error_c89() {
        let s = frame(vec![entry(4, 0, 100), entry(7, 0, 0x8000_0000)]);
        assert_eq!(interpret(Role::Server, &s), Err(SettingsError::InitialWindowTooLarge));
        let s = frame(vec![entry(7, 0, 0x7fff_ffff)]);
        assert_eq!(interpret(Role::Server, &s).unwrap().initial_window_size, Some(0x7fff_ffff));
    }

    #[test]
    fn an_initial_window_of_zero_is_allowed_b9() {
        // Legal, if hostile; the send-progress timeout deals with it (B9).
        let s = frame(vec![entry(7, 0, 0)]);
        assert_eq!(interpret(Role::Server, &s).unwrap().initial_window_size, Some(0));
    }

    #[test]
    fn our_first_settings_has_both_values_in_id_order_and_no_flags_c2_c126() {
        let s = initial(256, 1 << 20);
        assert_eq!(s.flags, 0);
        assert_eq!(s.entries, [entry(4, 0, 256), entry(7, 0, 1 << 20)]);
        assert!(s.entries.windows(2).all(|w| w[0].id < w[1].id));
        assert!(s.entries.iter().all(|e| e.flags == 0 && e.id != SettingId::CLIENT_CERTIFICATE_VECTOR_SIZE));
        // What we send, we would accept ourselves.
        assert_eq!(
            interpret(Role::Client, &s),
            Ok(PeerSettings { max_concurrent_streams: Some(256), initial_window_size: Some(1 << 20) })
        );
    }

    #[test]
    fn our_initial_window_is_capped_at_2_31_minus_1() {
        let s = initial(100, u32::MAX);
        assert_eq!(s.entries[1].value, 0x7fff_ffff);
    }
}
