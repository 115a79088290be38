//! Target `signature_headers`: arbitrary header values, secrets and body through
//! `SignatureHeaders::from_lookup` and `signature::verify`, the gate every callback passes.
//!
//! Input: a flags byte, two bytes of window, then fields separated by `\n`: signature, nonce,
//! timestamp, algorithm, current secret, previous secret, and the body (the rest, newlines
//! included). Flags: bits 0–3 say which of the four headers are present; bit 4 replaces the
//! signature with the right one for the current secret, so the fuzzer gets past the HMAC; bit 5
//! sets the timestamp to "now"; bit 6 sets the algorithm to `HmacSHA256`.
//!
//! Properties: nothing panics; a required header is refused exactly when it is absent or blank;
//! a signature made with a configured, non-empty secret is never refused as malformed or
//! mismatched; one made with the empty key (which anyone can make) is never accepted; an accepted signature is exactly the one the matched secret makes (no forgery);
//! error messages are bounded and do not depend on the secrets.

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use switchboard_shared::sinch::signature::{
    self, ALGORITHM, HEADER_ALGORITHM, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP,
    MatchedSecret, SignatureError, SignatureHeaders,
};

/// The fixed "now" of every run (2025-11-21T08:00:00Z), so a run is reproducible.
pub const NOW: i64 = 1_763_712_000;

const SIGN: u8 = 1 << 4;
const FRESH: u8 = 1 << 5;
const HMAC_SHA256: u8 = 1 << 6;

/// What became of the input, for the regression tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `from_lookup` refused the headers.
    Headers(SignatureError),
    /// `verify` refused the signature.
    Refused(SignatureError),
    Accepted(MatchedSecret),
}

pub fn run(data: &[u8]) -> Outcome {
    let (flags, window, rest) = match data {
        [flags, w0, w1, rest @ ..] => (*flags, u16::from_le_bytes([*w0, *w1]), rest),
        _ => (0, 0, &[][..]),
    };
    let window = if window == u16::MAX {
        Duration::MAX
    } else {
        Duration::from_secs(u64::from(window))
    };
    let mut fields = rest.splitn(7, |byte| *byte == b'\n');
    let mut field = || String::from_utf8_lossy(fields.next().unwrap_or_default()).into_owned();
    let mut values = [field(), field(), field(), field()];
    let secrets = [field(), field()];
    let body = fields.next().unwrap_or_default().to_vec();
    let now = DateTime::<Utc>::from_timestamp(NOW, 0).unwrap_or_default();
    if flags & FRESH != 0 {
        values[2] = NOW.to_string();
    }
    if flags & HMAC_SHA256 != 0 {
        values[3] = ALGORITHM.to_owned();
    }

    let names = [
        HEADER_SIGNATURE,
        HEADER_NONCE,
        HEADER_TIMESTAMP,
        HEADER_ALGORITHM,
    ];
    let present = |index: usize| flags & (1 << index) != 0;
    let lookup = |name: &str| {
        let index = names.iter().position(|known| *known == name)?;
        present(index).then(|| values[index].clone())
    };
    let mut headers = match SignatureHeaders::from_lookup(lookup) {
        Ok(headers) => headers,
        Err(err) => {
            let SignatureError::MissingHeader(name) = err else {
                panic!("from_lookup failed with something else than a missing header: {err:?}");
            };
            let index = names.iter().position(|known| *known == name);
            let blank = |index: usize| {
                let value = &values[index];
                if index == 1 {
                    value.is_empty()
                } else {
                    value.trim().is_empty()
                }
            };
            assert!(
                index.is_some_and(|index| !present(index) || blank(index)),
                "{name} refused as missing although present and not blank"
            );
            return Outcome::Headers(err);
        }
    };
    for (index, name) in names.iter().enumerate().take(3) {
        assert!(present(index), "{name} accepted although absent");
    }

    if flags & SIGN != 0 {
        headers.signature = signature::sign(
            secrets[0].as_bytes(),
            &body,
            &headers.nonce,
            &headers.timestamp,
        );
    }
    let configured: Vec<SecretString> = secrets
        .iter()
        .map(|secret| SecretString::from(secret.clone()))
        .collect();
    let configured: Vec<&SecretString> = configured.iter().collect();
    match signature::verify(&headers, &body, &configured, now, window) {
        Ok(matched) => {
            let secret = &secrets[matched.index];
            assert!(
                signature::is_usable_secret(secret),
                "accepted with a secret that is the empty HMAC key"
            );
            let expected =
                signature::sign(secret.as_bytes(), &body, &headers.nonce, &headers.timestamp);
            assert_eq!(
                headers.signature, expected,
                "accepted a signature the matched secret does not make"
            );
            if flags & SIGN != 0 && !signature::is_usable_secret(&secrets[0]) {
                // HMAC with an empty key is a signature anyone can make.
                panic!(
                    "accepted a signature made with the empty key, through secret {}",
                    matched.index
                );
            }
            if flags & SIGN != 0 {
                assert_eq!(matched.index, 0, "signed with the current secret");
            }
            Outcome::Accepted(matched)
        }
        Err(err) => {
            let message = err.to_string();
            // At most 64 echoed characters, each at most 10 bytes once escaped, plus the text.
            assert!(
                message.len() < 1024,
                "error message of {} bytes",
                message.len()
            );
            // Same request, other secrets of the same lengths: a refusal for the same reason
            // must read the same, or the message depends on (and may reveal) a secret.
            let others: Vec<SecretString> = secrets
                .iter()
                .map(|secret| SecretString::from("#".repeat(secret.len())))
                .collect();
            let others: Vec<&SecretString> = others.iter().collect();
            if let Err(again) = signature::verify(&headers, &body, &others, now, window)
                && again.kind() == err.kind()
            {
                assert_eq!(
                    again.to_string(),
                    message,
                    "the error message depends on the secrets"
                );
            }
            // A secret of only NUL characters is the empty HMAC key: never used, so refused.
            if flags & SIGN != 0 && signature::is_usable_secret(&secrets[0]) {
                assert!(
                    !matches!(
                        err,
                        SignatureError::Mismatch
                            | SignatureError::MalformedSignature
                            | SignatureError::NoSecretConfigured
                    ),
                    "a signature made with the current secret was refused: {err:?}"
                );
            }
            Outcome::Refused(err)
        }
    }
}
