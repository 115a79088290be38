//! Sinch-looking ids (26-character ULIDs, Crockford base32) and times.

use chrono::{SecondsFormat, Utc};

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A ULID: 48 bits of milliseconds then 80 random bits, so ids sort by creation time.
pub fn ulid() -> String {
    let millis = Utc::now().timestamp_millis().max(0) as u128;
    let random = u128::from_be_bytes(*uuid::Uuid::new_v4().as_bytes()) & ((1u128 << 80) - 1);
    let mut value = (millis << 80) | random;
    let mut out = [0u8; 26];
    for slot in out.iter_mut().rev() {
        *slot = CROCKFORD[(value & 31) as usize];
        value >>= 5;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An opaque access token.
pub fn token() -> String {
    format!(
        "sim.{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Now, as Sinch writes times: RFC 3339, UTC, milliseconds.
pub fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulids_are_26_crockford_characters_and_sort_by_time() {
        let first = ulid();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = ulid();
        assert_eq!(first.len(), 26);
        assert!(first.bytes().all(|b| CROCKFORD.contains(&b)));
        assert!(first < second);
    }
}
