//! Switchboard media links: `GET /{tenant}/media/{token}` for agents.
//!
//! A presigned S3 URL dies with the temporary credentials that signed it (hours), long before a
//! tenant's retention (days), so events carry a link of our own instead. The token names the
//! object and the link's expiry and is signed with HMAC-SHA256 under a key kept in Secrets
//! Manager; the link handler checks it and redirects to a freshly presigned URL valid for
//! minutes. A token cannot be guessed, altered, moved to another tenant, or used after expiry.
//!
//! Keys rotate: a token names the key it was signed with (`kid`), and the handler accepts the
//! current key and the previous one, so links issued before a rotation keep working until
//! they expire.
//!
//! Format: `v1.{base64url(json{k,e,i})}.{base64url(hmac)}` where the HMAC covers
//! `v1\n{tenant}\n{payload}` (the tenant is in the path, not in the token, and still signed).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// One signing key, with the id tokens name it by.
pub struct LinkKey {
    pub id: String,
    pub secret: SecretSlice<u8>,
}

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The keys in force: the current one signs; both verify.
#[derive(Debug)]
pub struct LinkKeys {
    pub current: LinkKey,
    pub previous: Option<LinkKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the link expired")]
    Expired,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    /// The S3 key.
    k: String,
    /// Expiry, Unix seconds.
    e: i64,
    /// The key id.
    i: String,
}

/// What a valid token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub s3_key: String,
    pub expires_at: DateTime<Utc>,
}

fn mac(secret: &[u8], tenant: &str, payload: &str) -> Hmac<Sha256> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(b"v1\n");
    mac.update(tenant.as_bytes());
    mac.update(b"\n");
    mac.update(payload.as_bytes());
    mac
}

impl LinkKeys {
    /// A token for `s3_key` of `tenant`, valid until `expires_at`.
    pub fn issue(&self, tenant: &str, s3_key: &str, expires_at: DateTime<Utc>) -> String {
        let payload = Payload {
            k: s3_key.to_owned(),
            e: expires_at.timestamp(),
            i: self.current.id.clone(),
        };
        let json = serde_json::to_vec(&payload).expect("a plain struct serializes");
        let payload = URL_SAFE_NO_PAD.encode(json);
        let signature = mac(self.current.secret.expose_secret(), tenant, &payload)
            .finalize()
            .into_bytes();
        format!("v1.{payload}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// Checks a token presented under `tenant`'s path at `now`. The signature is checked before
    /// the expiry, so only a genuine token can learn that it expired.
    pub fn verify(&self, tenant: &str, token: &str, now: DateTime<Utc>) -> Result<Link, LinkError> {
        let (payload, signature, decoded) = decode(token)?;
        let key = std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .find(|key| key.id == decoded.i)
            .ok_or(LinkError::BadSignature)?;
        // Constant-time comparison.
        mac(key.secret.expose_secret(), tenant, payload)
            .verify_slice(&signature)
            .map_err(|_| LinkError::BadSignature)?;
        let expires_at = DateTime::from_timestamp(decoded.e, 0).ok_or(LinkError::Malformed)?;
        if now >= expires_at {
            return Err(LinkError::Expired);
        }
        Ok(Link {
            s3_key: decoded.k,
            expires_at,
        })
    }

    /// Whether a key of this id is in force (current or previous).
    pub fn knows(&self, key_id: &str) -> bool {
        self.current.id == key_id || self.previous.as_ref().is_some_and(|key| key.id == key_id)
    }
}

/// The id of the key a token claims to be signed with, unverified: lets a verifier that does
/// not know it refresh its keys (a rotation it has not seen yet) before refusing the token.
pub fn token_key_id(token: &str) -> Option<String> {
    decode(token).ok().map(|(_, _, payload)| payload.i)
}

fn decode(token: &str) -> Result<(&str, Vec<u8>, Payload), LinkError> {
    let mut parts = token.split('.');
    let (Some("v1"), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(LinkError::Malformed);
    };
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| LinkError::Malformed)?;
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| LinkError::Malformed)?;
    let decoded: Payload = serde_json::from_slice(&json).map_err(|_| LinkError::Malformed)?;
    Ok((payload, signature, decoded))
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    use super::*;

    fn key(id: &str, secret: &[u8]) -> LinkKey {
        LinkKey {
            id: id.into(),
            secret: SecretSlice::from(secret.to_vec()),
        }
    }

    fn keys() -> LinkKeys {
        LinkKeys {
            current: key("k2", b"current secret"),
            previous: Some(key("k1", b"previous secret")),
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
    }

    const KEY: &str = "inbound/acme/2026-12-01/abc/0-photo.jpg";

    #[test]
    fn a_token_names_its_object_until_it_expires() {
        let token = keys().issue("acme", KEY, now() + Duration::days(30));
        let link = keys().verify("acme", &token, now()).unwrap();
        assert_eq!(link.s3_key, KEY);
        assert_eq!(
            keys().verify("acme", &token, now() + Duration::days(30)),
            Err(LinkError::Expired)
        );
    }

    #[test]
    fn another_tenant_an_altered_token_or_an_unknown_key_is_refused() {
        let token = keys().issue("acme", KEY, now() + Duration::days(1));
        assert_eq!(
            keys().verify("globex", &token, now()),
            Err(LinkError::BadSignature)
        );
        let mut altered = token.clone().into_bytes();
        let at = altered.len() / 3;
        altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
        assert!(
            keys()
                .verify("acme", &String::from_utf8(altered).unwrap(), now())
                .is_err()
        );
        let other = LinkKeys {
            current: key("k9", b"x"),
            previous: None,
        };
        assert_eq!(
            other.verify("acme", &token, now()),
            Err(LinkError::BadSignature)
        );
        for junk in ["", "v1", "v1..", "v2.a.b", "v1.!!.!!", "v1.e30.AAAA"] {
            assert!(keys().verify("acme", junk, now()).is_err(), "{junk}");
        }
    }

    #[test]
    fn a_token_names_its_key_id() {
        let token = keys().issue("acme", KEY, now() + Duration::days(1));
        assert_eq!(token_key_id(&token).as_deref(), Some("k2"));
        assert!(keys().knows("k1") && keys().knows("k2") && !keys().knows("k3"));
        assert_eq!(token_key_id("v1.junk.junk"), None);
    }

    #[test]
    fn links_signed_before_a_rotation_keep_working() {
        let before = LinkKeys {
            current: key("k1", b"previous secret"),
            previous: None,
        };
        let token = before.issue("acme", KEY, now() + Duration::days(1));
        assert_eq!(keys().verify("acme", &token, now()).unwrap().s3_key, KEY);
        let after_next_rotation = LinkKeys {
            current: key("k3", b"new"),
            previous: Some(key("k2", b"current secret")),
        };
        assert_eq!(
            after_next_rotation.verify("acme", &token, now()),
            Err(LinkError::BadSignature)
        );
    }

    proptest! {
        #[test]
        fn any_key_round_trips_and_any_single_byte_change_is_refused(
            s3_key in "[ -~]{1,80}", flip in any::<prop::sample::Index>()
        ) {
            let token = keys().issue("acme", &s3_key, now() + Duration::hours(1));
            prop_assert_eq!(keys().verify("acme", &token, now()).unwrap().s3_key, s3_key);
            let mut bytes = token.into_bytes();
            let at = flip.index(bytes.len());
            bytes[at] = if bytes[at] == b'x' { b'y' } else { b'x' };
            if let Ok(text) = String::from_utf8(bytes) {
                prop_assert!(keys().verify("acme", &text, now()).is_err());
            }
        }
    }
}
