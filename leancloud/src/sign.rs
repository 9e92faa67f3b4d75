//! `X-LC-Sign` request signing (protocol notes §1.2): `sign = lowercase_hex(md5(ts + key))`
//! with `ts` in Unix milliseconds; the header is `sign,ts` (app key) or `sign,ts,master`.
//!
//! No clock-skew window is checked: the real one was not found.

use md5::{Digest, Md5};

/// Which key a signature was made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privilege {
    App,
    Master,
}

/// Lowercase hex of `md5(timestamp_ms + key)`.
pub fn sign(key: &str, timestamp_ms: i64) -> String {
    let digest = Md5::digest(format!("{timestamp_ms}{key}").as_bytes());
    hex::encode(digest)
}

/// The `X-LC-Sign` header value: `sign,ts` or, with the master key, `sign,ts,master`.
pub fn header_value(key: &str, timestamp_ms: i64, master: bool) -> String {
    let sig = sign(key, timestamp_ms);
    if master {
        format!("{sig},{timestamp_ms},master")
    } else {
        format!("{sig},{timestamp_ms}")
    }
}

/// Check an `X-LC-Sign` header against the app key (`sign,ts`) or the master key
/// (`sign,ts,master`). The signature must be lowercase hex, the timestamp decimal digits.
/// Any other suffix (e.g. `ax-sig-1`, the Android-X key) and an empty key never match.
pub fn verify(header: &str, app_key: &str, master_key: &str) -> Option<Privilege> {
    let mut parts = header.split(',');
    let sig = parts.next()?;
    let ts = parts.next()?;
    let (key, privilege) = match (parts.next(), parts.next()) {
        (None, _) => (app_key, Privilege::App),
        (Some("master"), None) => (master_key, Privilege::Master),
        _ => return None,
    };
    if key.is_empty() || ts.is_empty() || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let expected = hex::encode(Md5::digest(format!("{ts}{key}").as_bytes()));
    (sig == expected).then_some(privilege)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TS: i64 = 1_453_014_943_466;
    const APP_KEY: &str = "UtOCzqb67d3sN12Kts4URwy8";
    const MASTER_KEY: &str = "DyJegPlemooo4X1tg94gQkw1";

    #[test]
    fn app_key_signature_matches_the_documented_vector() {
        assert_eq!(sign(APP_KEY, TS), "d5bcbb897e19b2f6633c716dfdfaf9be");
        assert_eq!(
            header_value(APP_KEY, TS, false),
            "d5bcbb897e19b2f6633c716dfdfaf9be,1453014943466"
        );
    }

    #[test]
    fn master_key_header_matches_the_documented_vector() {
        assert_eq!(
            header_value(MASTER_KEY, TS, true),
            "e074720658078c898aa0d4b1b82bdf4b,1453014943466,master"
        );
    }

    #[test]
    fn verify_tells_which_key_signed() {
        assert_eq!(
            verify(
                "d5bcbb897e19b2f6633c716dfdfaf9be,1453014943466",
                APP_KEY,
                MASTER_KEY
            ),
            Some(Privilege::App)
        );
        assert_eq!(
            verify(
                "e074720658078c898aa0d4b1b82bdf4b,1453014943466,master",
                APP_KEY,
                MASTER_KEY
            ),
            Some(Privilege::Master)
        );
    }

    #[test]
    fn verify_rejects_uppercase_hex() {
        assert_eq!(
            verify(
                "D5BCBB897E19B2F6633C716DFDFAF9BE,1453014943466",
                APP_KEY,
                MASTER_KEY
            ),
            None
        );
    }

    #[test]
    fn verify_rejects_a_key_signed_for_the_other_privilege() {
        // Master-signed without the suffix, and app-signed with it.
        assert_eq!(
            verify(&header_value(MASTER_KEY, TS, false), APP_KEY, MASTER_KEY),
            None
        );
        assert_eq!(
            verify(&header_value(APP_KEY, TS, true), APP_KEY, MASTER_KEY),
            None
        );
    }

    #[test]
    fn verify_treats_unknown_suffixes_and_garbage_as_no_match() {
        let sig = sign(APP_KEY, TS);
        for header in [
            format!("{sig},{TS},ax-sig-1"),
            format!("{sig},{TS},master,extra"),
            sig.clone(),
            String::new(),
            format!("{sig},"),
            format!("{sig},12x"),
            format!("{sig},{TS},"),
            ",,,".to_string(),
        ] {
            assert_eq!(verify(&header, APP_KEY, MASTER_KEY), None, "{header:?}");
        }
    }

    #[test]
    fn an_empty_key_never_verifies() {
        assert_eq!(verify(&header_value("", TS, true), APP_KEY, ""), None);
        assert_eq!(verify(&header_value("", TS, false), "", MASTER_KEY), None);
    }

    #[test]
    fn verify_accepts_any_timestamp_it_can_recompute() {
        let ts = 42;
        assert_eq!(
            verify(&header_value(APP_KEY, ts, false), APP_KEY, MASTER_KEY),
            Some(Privilege::App)
        );
    }
}
