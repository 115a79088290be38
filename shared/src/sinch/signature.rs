//! Verification of the HMAC signature Sinch puts on Conversation API callbacks.
//!
//! Sinch signs `raw_body || "." || nonce || "." || timestamp` with HMAC-SHA256, keyed with the
//! webhook secret's UTF-8 bytes *as they are* (unlike Voice/Verification callbacks, the secret is
//! never base64-decoded), and sends the standard, padded base64 of the tag in
//! `x-sinch-webhook-signature`. The raw body must be the exact bytes Sinch sent: re-serializing
//! JSON breaks the signature.
//!
//! None of Sinch's SDKs checks the timestamp; the docs leave the window to the receiver, so
//! [`verify`] takes it as a parameter ([`DEFAULT_WINDOW`] is our choice, not a Sinch number).
//! Nonce de-duplication needs storage and is the caller's job: only call it after [`verify`]
//! succeeded, and keep nonces for longer than the window.
//!
//! Every [`SignatureError`] means HTTP 401 for the caller. No error message contains a secret or
//! the expected signature.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The base64 of the HMAC-SHA256 tag.
pub const HEADER_SIGNATURE: &str = "x-sinch-webhook-signature";
/// A unique value per callback (a ULID in practice), part of the signed data.
pub const HEADER_NONCE: &str = "x-sinch-webhook-signature-nonce";
/// Unix seconds, as a decimal string, part of the signed data.
pub const HEADER_TIMESTAMP: &str = "x-sinch-webhook-signature-timestamp";
/// Optional; when present it must be [`ALGORITHM`].
pub const HEADER_ALGORITHM: &str = "x-sinch-webhook-signature-algorithm";
/// The only algorithm Sinch uses (the Java JCA name, compared exactly).
pub const ALGORITHM: &str = "HmacSHA256";

/// How far the signature timestamp may be from now, either way, by default.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(300);

/// Header values are attacker-controlled and end up in logs through error messages.
const MAX_ECHOED_CHARS: usize = 64;

/// Why a callback's signature was refused. Every variant means HTTP 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing or empty header {0}")]
    MissingHeader(&'static str),
    #[error("unsupported signature algorithm {0:?} (only {ALGORITHM} is accepted)")]
    UnsupportedAlgorithm(String),
    #[error("malformed signature timestamp (expected Unix seconds as a decimal string)")]
    MalformedTimestamp,
    #[error("signature timestamp is {skew_seconds} s away from now, outside the accepted window")]
    StaleTimestamp {
        /// `now - timestamp`, truncated to whole seconds: positive when the signature is old,
        /// negative when it claims to come from the future.
        skew_seconds: i64,
    },
    #[error("signature is not a padded standard base64 HMAC-SHA256 value")]
    MalformedSignature,
    #[error("signature does not match any configured webhook secret")]
    Mismatch,
    #[error("no webhook secret is configured, so no callback can be authenticated")]
    NoSecretConfigured,
}

impl SignatureError {
    /// The HTTP status to answer with: always 401.
    pub fn http_status(&self) -> u16 {
        401
    }

    /// A short, stable label for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            SignatureError::MissingHeader(_) => "missing_header",
            SignatureError::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            SignatureError::MalformedTimestamp => "malformed_timestamp",
            SignatureError::StaleTimestamp { .. } => "stale_timestamp",
            SignatureError::MalformedSignature => "malformed_signature",
            SignatureError::Mismatch => "mismatch",
            SignatureError::NoSecretConfigured => "no_secret_configured",
        }
    }
}

/// Which of the secrets passed to [`verify`] authenticated the callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MatchedSecret {
    /// Index into the `secrets` slice: 0 is the current secret, 1 the previous one during a
    /// rotation.
    pub index: usize,
}

impl MatchedSecret {
    /// True when the first (current) secret matched.
    pub fn is_current(&self) -> bool {
        self.index == 0
    }
}

/// The signature headers of one callback, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeaders {
    pub signature: String,
    pub nonce: String,
    pub timestamp: String,
    pub algorithm: Option<String>,
}

impl SignatureHeaders {
    /// Reads the headers through `lookup`, which is called with each header name in
    /// **lower case** (e.g. `x-sinch-webhook-signature`). HTTP header names are case-insensitive,
    /// so `lookup` must match case-insensitively unless its map already stores lower-case names
    /// (as `http::HeaderMap` does).
    ///
    /// A missing or empty signature, nonce or timestamp is an error naming that header. The
    /// algorithm header is optional; an empty one counts as absent. Surrounding whitespace is
    /// trimmed from every value except the nonce, which is signed as it is.
    pub fn from_lookup<F, S>(mut lookup: F) -> Result<SignatureHeaders, SignatureError>
    where
        F: FnMut(&str) -> Option<S>,
        S: AsRef<str>,
    {
        let mut required = |name: &'static str, trim: bool| {
            let value = lookup(name).ok_or(SignatureError::MissingHeader(name))?;
            let value = value.as_ref();
            let value = if trim { value.trim() } else { value };
            if value.is_empty() {
                return Err(SignatureError::MissingHeader(name));
            }
            Ok(value.to_owned())
        };
        let signature = required(HEADER_SIGNATURE, true)?;
        let nonce = required(HEADER_NONCE, false)?;
        let timestamp = required(HEADER_TIMESTAMP, true)?;
        let algorithm = lookup(HEADER_ALGORITHM)
            .map(|value| value.as_ref().trim().to_owned())
            .filter(|value| !value.is_empty());
        Ok(SignatureHeaders {
            signature,
            nonce,
            timestamp,
            algorithm,
        })
    }

    /// The headers Sinch would send for `body`: for simulators and tests.
    pub fn signed(secret: &[u8], body: &[u8], nonce: &str, timestamp: &str) -> SignatureHeaders {
        SignatureHeaders {
            signature: sign(secret, body, nonce, timestamp),
            nonce: nonce.to_owned(),
            timestamp: timestamp.to_owned(),
            algorithm: Some(ALGORITHM.to_owned()),
        }
    }

    /// `(lower-case header name, value)` pairs, ready to put on a request.
    pub fn to_pairs(&self) -> Vec<(&'static str, &str)> {
        let mut pairs = vec![
            (HEADER_SIGNATURE, self.signature.as_str()),
            (HEADER_NONCE, self.nonce.as_str()),
            (HEADER_TIMESTAMP, self.timestamp.as_str()),
        ];
        if let Some(algorithm) = &self.algorithm {
            pairs.push((HEADER_ALGORITHM, algorithm.as_str()));
        }
        pairs
    }
}

fn keyed_mac(secret: &[u8], body: &[u8], nonce: &str, timestamp: &str) -> HmacSha256 {
    // HMAC takes keys of any length (long ones are hashed first), so no input can make this fail.
    #[allow(clippy::expect_used)]
    let mut mac =
        <HmacSha256 as KeyInit>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(body);
    mac.update(b".");
    mac.update(nonce.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac
}

/// The `x-sinch-webhook-signature` value Sinch would send: padded standard base64 of
/// HMAC-SHA256(`secret`, `body || "." || nonce || "." || timestamp`).
/// `secret` is the webhook secret's UTF-8 bytes, not base64-decoded.
pub fn sign(secret: &[u8], body: &[u8], nonce: &str, timestamp: &str) -> String {
    STANDARD.encode(
        keyed_mac(secret, body, nonce, timestamp)
            .finalize()
            .into_bytes(),
    )
}

/// Authenticates a callback: `body` must be the exact bytes received (after undoing API
/// Gateway's base64, if any).
///
/// Checks, in order: the algorithm header (absent or exactly `HmacSHA256`); the timestamp
/// (`|now - timestamp| <= window`); that at least one secret is configured; then the HMAC against
/// each secret in turn, comparing in constant time. Empty secrets are skipped: an empty key would
/// let anyone forge a signature, so it is treated as "not configured". So are secrets of only
/// NUL characters: HMAC pads a short key with zero bytes, which makes them the empty key.
pub fn verify(
    headers: &SignatureHeaders,
    body: &[u8],
    secrets: &[&SecretString],
    now: DateTime<Utc>,
    window: Duration,
) -> Result<MatchedSecret, SignatureError> {
    if let Some(algorithm) = &headers.algorithm
        && algorithm != ALGORITHM
    {
        return Err(SignatureError::UnsupportedAlgorithm(
            algorithm.chars().take(MAX_ECHOED_CHARS).collect(),
        ));
    }
    check_timestamp(&headers.timestamp, now, window)?;

    let usable = secrets
        .iter()
        .enumerate()
        .filter(|(_, secret)| is_usable_secret(secret.expose_secret()));
    if usable.clone().next().is_none() {
        return Err(SignatureError::NoSecretConfigured);
    }

    let tag = STANDARD
        .decode(headers.signature.as_bytes())
        .map_err(|_| SignatureError::MalformedSignature)?;
    if tag.len() != 32 {
        return Err(SignatureError::MalformedSignature);
    }

    for (index, secret) in usable {
        let mac = keyed_mac(
            secret.expose_secret().as_bytes(),
            body,
            &headers.nonce,
            &headers.timestamp,
        );
        if mac.verify_slice(&tag).is_ok() {
            return Ok(MatchedSecret { index });
        }
    }
    Err(SignatureError::Mismatch)
}

/// A secret that is not, for HMAC, the empty key (HMAC zero-pads keys shorter than a block).
pub fn is_usable_secret(secret: &str) -> bool {
    secret.bytes().any(|b| b != 0)
}

/// Parses the timestamp header (Unix seconds, digits only) and checks it against the window,
/// with `now`'s sub-second part included so the bound is exact.
fn check_timestamp(
    timestamp: &str,
    now: DateTime<Utc>,
    window: Duration,
) -> Result<(), SignatureError> {
    // Digits only: `i64::from_str` would also take a sign, and the length cap keeps it in range.
    if timestamp.is_empty()
        || timestamp.len() > 18
        || !timestamp.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(SignatureError::MalformedTimestamp);
    }
    let value: i128 = timestamp
        .parse()
        .map_err(|_| SignatureError::MalformedTimestamp)?;

    const NANOS: i128 = 1_000_000_000;
    // Every source shows Unix seconds, but the docs only say "UTC": a value this large cannot be
    // seconds (it would be after the year 5000), so it is read as milliseconds rather than
    // refusing every callback should Sinch ever send those. The window applies either way.
    const LARGEST_SECONDS: i128 = 100_000_000_000;
    let timestamp_nanos = if value > LARGEST_SECONDS {
        value * 1_000_000
    } else {
        value * NANOS
    };
    let now_nanos = i128::from(now.timestamp()) * NANOS + i128::from(now.timestamp_subsec_nanos());
    let skew_nanos = now_nanos - timestamp_nanos;
    // A `Duration` is below 2^64 seconds, so its nanoseconds fit an i128 comfortably.
    let window_nanos = i128::try_from(window.as_nanos()).unwrap_or(i128::MAX);
    if skew_nanos.abs() > window_nanos {
        let skew_seconds = i64::try_from(skew_nanos / NANOS).unwrap_or(if skew_nanos < 0 {
            i64::MIN
        } else {
            i64::MAX
        });
        return Err(SignatureError::StaleTimestamp { skew_seconds });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    #[test]
    fn millisecond_timestamps_are_read_as_such_and_still_windowed() {
        let window = Duration::from_secs(300);
        assert!(check_timestamp("1634579353000", at(1_634_579_353), window).is_ok());
        assert!(check_timestamp("1634579353000", at(1_634_579_653), window).is_ok());
        assert!(matches!(
            check_timestamp("1634579353000", at(1_634_579_654), window),
            Err(SignatureError::StaleTimestamp { .. })
        ));
    }

    #[test]
    fn timestamp_bounds_are_inclusive_and_sub_second_exact() {
        let window = Duration::from_secs(300);
        assert!(check_timestamp("1000", at(1300), window).is_ok());
        assert!(check_timestamp("1000", at(700), window).is_ok());
        let just_after = DateTime::from_timestamp(1300, 1).unwrap();
        assert_eq!(
            check_timestamp("1000", just_after, window),
            Err(SignatureError::StaleTimestamp { skew_seconds: 300 })
        );
        assert_eq!(
            check_timestamp("1000", at(699), window),
            Err(SignatureError::StaleTimestamp { skew_seconds: -301 })
        );
    }

    #[test]
    fn timestamp_must_be_plain_digits() {
        for bad in [
            "",
            "+1000",
            "-1000",
            "10.5",
            " 1000",
            "1e3",
            "0x10",
            "9999999999999999999",
        ] {
            assert_eq!(
                check_timestamp(bad, at(1000), DEFAULT_WINDOW),
                Err(SignatureError::MalformedTimestamp),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn huge_windows_and_far_timestamps_do_not_overflow() {
        assert!(check_timestamp("999999999999999999", at(0), Duration::MAX).is_ok());
        assert!(matches!(
            check_timestamp("999999999999999999", at(0), DEFAULT_WINDOW),
            Err(SignatureError::StaleTimestamp { skew_seconds }) if skew_seconds < 0
        ));
    }

    #[test]
    fn a_secret_of_only_nul_characters_is_the_empty_key_and_is_never_used() {
        // Found by fuzzing: HMAC zero-pads keys, so "\0" signs exactly as "" does.
        let body = b"{}";
        let headers = SignatureHeaders::signed(b"", body, "n", "1790000000");
        let nul = SecretString::from("\0\0".to_owned());
        assert_eq!(
            verify(&headers, body, &[&nul], at(1_790_000_000), DEFAULT_WINDOW),
            Err(SignatureError::NoSecretConfigured)
        );
        assert!(!is_usable_secret("\0") && !is_usable_secret("") && is_usable_secret("a\0"));
    }

    #[test]
    fn messages_never_echo_more_than_a_short_prefix() {
        let headers = SignatureHeaders {
            signature: "x".into(),
            nonce: "n".into(),
            timestamp: "0".into(),
            algorithm: Some("A".repeat(10_000)),
        };
        let err = verify(&headers, b"", &[], at(0), DEFAULT_WINDOW).unwrap_err();
        assert!(err.to_string().len() < 200);
        assert_eq!(err.http_status(), 401);
    }
}
