//! Sinch webhook signature verification: the SDKs' known-answer vectors, window, rotation,
//! algorithm header, header lookup and malformed input.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use secrecy::SecretString;
use switchboard_shared::sinch::signature::{
    DEFAULT_WINDOW, MatchedSecret, SignatureError, SignatureHeaders, sign, verify,
};

/// The vector bodies exactly as the reference gives them: JSON string literals whose decoded
/// UTF-8 bytes are the raw HTTP bodies (no trailing newline).
const VECTOR_BODIES_JSON: &str = r#"{
 "A": "{\"app_id\":\"01EB37HMH1M6SV18BSNS3G135H\",\"accepted_time\":\"2020-11-17T15:09:11.659Z\",\"project_id\":\"c36f3d3d-1513-2edd-ae42-11995557ff61\",\"message_delivery_report\":{\"message_id\":\"01EQBC1A3BEK731GY4YXEN0C2R\",\"conversation_id\":\"01EPYATA64TMNZ1FV02JKF12JF\",\"status\":\"QUEUED_ON_CHANNEL\",\"contact_id\":\"01EXA07N79THJ20WSN6AS30TMW\"}}",
 "B": "{\"app_id\":\"\",\"accepted_time\":\"2021-10-18T17:49:13.813615Z\",\"project_id\":\"e2df3a34-a71b-4448-9db5-a8d2baad28e4\",\"contact_create_notification\":{\"contact\":{\"id\":\"01FJA8B466Y0R2GNXD78MD9SM1\",\"channel_identities\":[{\"channel\":\"SMS\",\"identity\":\"48123456789\",\"app_id\":\"\"}],\"display_name\":\"New Test Contact\",\"email\":\"new.contact@email.com\",\"external_id\":\"\",\"metadata\":\"\",\"language\":\"EN_US\"}},\"message_metadata\":\"\"}"
}"#;

const VECTOR_SECRET: &str = "foo_secret1234";
const VECTOR_NONCE: &str = "01FJA8B4A7BM43YGWSG9GBV067";
const VECTOR_TIMESTAMP: &str = "1634579353";
const VECTOR_A_SIGNATURE: &str = "Yc+3R1pIS78xLASybulhs8BsSo9BPB3Pr92QCUoczfk=";
const VECTOR_B_SIGNATURE: &str = "6bpJoRmFoXVjfJIVglMoJzYXxnoxRujzR4k2GOXewOE=";

fn vector_body(name: &str) -> Vec<u8> {
    let bodies: HashMap<String, String> = serde_json::from_str(VECTOR_BODIES_JSON).unwrap();
    bodies[name].clone().into_bytes()
}

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap()
}

fn vector_now() -> DateTime<Utc> {
    at(VECTOR_TIMESTAMP.parse().unwrap())
}

fn secret(text: &str) -> SecretString {
    SecretString::from(text.to_owned())
}

fn headers(signature: &str, nonce: &str, timestamp: &str) -> SignatureHeaders {
    SignatureHeaders {
        signature: signature.to_owned(),
        nonce: nonce.to_owned(),
        timestamp: timestamp.to_owned(),
        algorithm: Some("HmacSHA256".to_owned()),
    }
}

/// Every refusal must be safe to log: no secret, no expected signature.
fn assert_refused(result: Result<MatchedSecret, SignatureError>, secrets: &[&str], expected: &str) {
    let err = result.expect_err("must be refused");
    let message = err.to_string();
    // A short secret ("e") can occur in any English message by chance; a real one cannot.
    for secret in secrets.iter().filter(|secret| secret.chars().count() >= 8) {
        assert!(!message.contains(secret), "{message}");
    }
    assert!(!message.contains(expected), "{message}");
    assert_eq!(err.http_status(), 401);
}

#[test]
fn known_answer_vectors_verify() {
    let key = secret(VECTOR_SECRET);
    for (name, expected) in [("A", VECTOR_A_SIGNATURE), ("B", VECTOR_B_SIGNATURE)] {
        let body = vector_body(name);
        assert_eq!(
            sign(
                VECTOR_SECRET.as_bytes(),
                &body,
                VECTOR_NONCE,
                VECTOR_TIMESTAMP
            ),
            expected,
            "vector {name}"
        );
        let matched = verify(
            &headers(expected, VECTOR_NONCE, VECTOR_TIMESTAMP),
            &body,
            &[&key],
            vector_now(),
            DEFAULT_WINDOW,
        );
        assert_eq!(matched, Ok(MatchedSecret { index: 0 }), "vector {name}");
        assert!(matched.unwrap().is_current());
    }
}

#[test]
fn the_vector_fixtures_are_the_exact_vector_bodies() {
    assert_eq!(
        include_bytes!("../fixtures/callbacks/signature_vector_a_dlr_queued.json").as_slice(),
        vector_body("A").as_slice()
    );
    assert_eq!(
        include_bytes!("../fixtures/callbacks/signature_vector_b_contact_create.json").as_slice(),
        vector_body("B").as_slice()
    );
}

#[test]
fn known_answer_vectors_refuse_any_single_change() {
    let key = secret(VECTOR_SECRET);
    for (name, expected) in [("A", VECTOR_A_SIGNATURE), ("B", VECTOR_B_SIGNATURE)] {
        let body = vector_body(name);
        let good = headers(expected, VECTOR_NONCE, VECTOR_TIMESTAMP);
        let check = |headers: &SignatureHeaders, body: &[u8], key: &SecretString| {
            verify(headers, body, &[key], vector_now(), DEFAULT_WINDOW)
        };

        let mut tampered = body.clone();
        tampered[10] ^= 0x01;
        assert_eq!(check(&good, &tampered, &key), Err(SignatureError::Mismatch));
        let mut newline = body.clone();
        newline.push(b'\n');
        assert_eq!(check(&good, &newline, &key), Err(SignatureError::Mismatch));

        let nonce = headers(expected, "01FJA8B4A7BM43YGWSG9GBV068", VECTOR_TIMESTAMP);
        assert_eq!(check(&nonce, &body, &key), Err(SignatureError::Mismatch));

        let timestamp = headers(expected, VECTOR_NONCE, "1634579354");
        assert_eq!(
            check(&timestamp, &body, &key),
            Err(SignatureError::Mismatch)
        );

        assert_eq!(
            check(&good, &body, &secret("foo_secret1235")),
            Err(SignatureError::Mismatch)
        );

        let first = if expected.starts_with('A') { "B" } else { "A" };
        let flipped = format!("{first}{}", &expected[1..]);
        let signature = headers(&flipped, VECTOR_NONCE, VECTOR_TIMESTAMP);
        assert_refused(check(&signature, &body, &key), &[VECTOR_SECRET], expected);
    }
}

#[test]
fn a_secret_is_used_as_utf8_bytes_never_base64_decoded() {
    // "Zm9vX3NlY3JldDEyMzQ=" is base64 of "foo_secret1234": decoding it would match vector A.
    let looks_like_base64 = secret("Zm9vX3NlY3JldDEyMzQ=");
    let result = verify(
        &headers(VECTOR_A_SIGNATURE, VECTOR_NONCE, VECTOR_TIMESTAMP),
        &vector_body("A"),
        &[&looks_like_base64],
        vector_now(),
        DEFAULT_WINDOW,
    );
    assert_eq!(result, Err(SignatureError::Mismatch));

    let body = b"{}";
    let signature = sign(b"Zm9vX3NlY3JldDEyMzQ=", body, "n", "1");
    assert_eq!(
        verify(
            &headers(&signature, "n", "1"),
            body,
            &[&looks_like_base64],
            at(1),
            DEFAULT_WINDOW
        ),
        Ok(MatchedSecret { index: 0 })
    );
}

#[test]
fn the_previous_secret_is_accepted_during_rotation() {
    let current = secret("new-secret-after-rotation");
    let previous = secret(VECTOR_SECRET);
    let body = vector_body("A");
    let good = headers(VECTOR_A_SIGNATURE, VECTOR_NONCE, VECTOR_TIMESTAMP);
    let matched = verify(
        &good,
        &body,
        &[&current, &previous],
        vector_now(),
        DEFAULT_WINDOW,
    );
    assert_eq!(matched, Ok(MatchedSecret { index: 1 }));
    assert!(!matched.unwrap().is_current());

    let matched = verify(
        &good,
        &body,
        &[&previous, &current],
        vector_now(),
        DEFAULT_WINDOW,
    );
    assert_eq!(matched, Ok(MatchedSecret { index: 0 }));

    let other = secret("another tenant's secret");
    assert_refused(
        verify(
            &good,
            &body,
            &[&current, &other],
            vector_now(),
            DEFAULT_WINDOW,
        ),
        &["new-secret-after-rotation", "another tenant's secret"],
        VECTOR_A_SIGNATURE,
    );
}

#[test]
fn no_usable_secret_is_refused() {
    let body = vector_body("A");
    let good = headers(VECTOR_A_SIGNATURE, VECTOR_NONCE, VECTOR_TIMESTAMP);
    assert_eq!(
        verify(&good, &body, &[], vector_now(), DEFAULT_WINDOW),
        Err(SignatureError::NoSecretConfigured)
    );
    // An empty key would let anyone sign: it must not count as configured.
    let empty = secret("");
    let forged = sign(b"", &body, VECTOR_NONCE, VECTOR_TIMESTAMP);
    assert_eq!(
        verify(
            &headers(&forged, VECTOR_NONCE, VECTOR_TIMESTAMP),
            &body,
            &[&empty],
            vector_now(),
            DEFAULT_WINDOW
        ),
        Err(SignatureError::NoSecretConfigured)
    );
    // ...but an empty current secret does not stop the previous one from working.
    let previous = secret(VECTOR_SECRET);
    assert_eq!(
        verify(
            &good,
            &body,
            &[&empty, &previous],
            vector_now(),
            DEFAULT_WINDOW
        ),
        Ok(MatchedSecret { index: 1 })
    );
}

#[test]
fn the_timestamp_window_applies_both_ways() {
    let key = secret("s3cr3t");
    let body = br#"{"app_id":"x"}"#;
    let timestamp = 1_700_000_000_i64;
    let ts = timestamp.to_string();
    let signed = SignatureHeaders::signed(b"s3cr3t", body, "nonce", &ts);
    let check = |now: DateTime<Utc>, window: Duration| verify(&signed, body, &[&key], now, window);

    assert_eq!(DEFAULT_WINDOW, Duration::from_secs(300));
    for offset in [0, 1, -1, 299, -299, 300, -300] {
        assert!(
            check(at(timestamp + offset), DEFAULT_WINDOW).is_ok(),
            "{offset}"
        );
    }
    // now is 301 s after the signature: too old.
    assert_eq!(
        check(at(timestamp + 301), DEFAULT_WINDOW),
        Err(SignatureError::StaleTimestamp { skew_seconds: 301 })
    );
    // now is 301 s before the signature: from the future.
    assert_eq!(
        check(at(timestamp - 301), DEFAULT_WINDOW),
        Err(SignatureError::StaleTimestamp { skew_seconds: -301 })
    );
    assert!(check(at(timestamp + 3600), DEFAULT_WINDOW).is_err());
    assert!(check(at(timestamp + 3600), Duration::from_secs(3600)).is_ok());
    assert!(check(at(timestamp + 1), Duration::ZERO).is_err());
    assert!(check(at(timestamp), Duration::ZERO).is_ok());
}

#[test]
fn a_malformed_timestamp_is_refused() {
    let key = secret("k");
    for bad in [
        "",
        "abc",
        "1634579353.5",
        "-1634579353",
        "+1634579353",
        "2021-10-18T17:49:13Z",
    ] {
        let signed = SignatureHeaders::signed(b"k", b"{}", "n", bad);
        let result = verify(&signed, b"{}", &[&key], vector_now(), DEFAULT_WINDOW);
        assert_eq!(result, Err(SignatureError::MalformedTimestamp), "{bad:?}");
    }
}

#[test]
fn the_algorithm_header_must_be_absent_or_hmac_sha256() {
    let key = secret(VECTOR_SECRET);
    let body = vector_body("A");
    let with = |algorithm: Option<&str>| {
        let mut headers = headers(VECTOR_A_SIGNATURE, VECTOR_NONCE, VECTOR_TIMESTAMP);
        headers.algorithm = algorithm.map(str::to_owned);
        verify(&headers, &body, &[&key], vector_now(), DEFAULT_WINDOW)
    };
    assert!(with(Some("HmacSHA256")).is_ok());
    assert!(with(None).is_ok());
    for bad in [
        "HmacSHA512",
        "hmacsha256",
        "HMAC-SHA256",
        "HmacSHA1",
        "none",
    ] {
        assert_eq!(
            with(Some(bad)),
            Err(SignatureError::UnsupportedAlgorithm(bad.to_owned())),
            "{bad}"
        );
    }
    // Checked before the timestamp.
    let mut stale = headers(VECTOR_A_SIGNATURE, VECTOR_NONCE, "1");
    stale.algorithm = Some("HmacMD5".to_owned());
    assert!(matches!(
        verify(&stale, &body, &[&key], vector_now(), DEFAULT_WINDOW),
        Err(SignatureError::UnsupportedAlgorithm(_))
    ));
}

#[test]
fn from_lookup_asks_for_lower_case_names() {
    // A caller whose headers keep their original case must match case-insensitively.
    let received: Vec<(&str, &str)> = vec![
        ("Content-Type", "application/json"),
        ("X-Sinch-Webhook-Signature", VECTOR_A_SIGNATURE),
        ("X-SINCH-WEBHOOK-SIGNATURE-NONCE", VECTOR_NONCE),
        ("x-sinch-webhook-signature-timestamp", VECTOR_TIMESTAMP),
        ("X-Sinch-Webhook-Signature-Algorithm", "HmacSHA256"),
    ];
    let mut asked = Vec::new();
    let headers = SignatureHeaders::from_lookup(|name: &str| {
        asked.push(name.to_owned());
        received
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| *value)
    })
    .unwrap();
    assert!(
        asked.iter().all(|name| *name == name.to_ascii_lowercase()),
        "{asked:?}"
    );
    assert_eq!(
        headers,
        self::headers(VECTOR_A_SIGNATURE, VECTOR_NONCE, VECTOR_TIMESTAMP)
    );

    let key = secret(VECTOR_SECRET);
    assert!(
        verify(
            &headers,
            &vector_body("A"),
            &[&key],
            vector_now(),
            DEFAULT_WINDOW
        )
        .is_ok()
    );

    // A lower-case map (like http::HeaderMap) works with a plain lookup, and owned values too.
    let lower: HashMap<String, String> = received
        .iter()
        .map(|(key, value)| (key.to_ascii_lowercase(), (*value).to_owned()))
        .collect();
    let from_map = SignatureHeaders::from_lookup(|name| lower.get(name).cloned()).unwrap();
    assert_eq!(from_map, headers);
    assert_eq!(
        from_map.to_pairs(),
        vec![
            ("x-sinch-webhook-signature", VECTOR_A_SIGNATURE),
            ("x-sinch-webhook-signature-nonce", VECTOR_NONCE),
            ("x-sinch-webhook-signature-timestamp", VECTOR_TIMESTAMP),
            ("x-sinch-webhook-signature-algorithm", "HmacSHA256"),
        ]
    );
}

#[test]
fn from_lookup_names_the_missing_header() {
    let full: HashMap<&str, &str> = [
        ("x-sinch-webhook-signature", VECTOR_A_SIGNATURE),
        ("x-sinch-webhook-signature-nonce", VECTOR_NONCE),
        ("x-sinch-webhook-signature-timestamp", VECTOR_TIMESTAMP),
    ]
    .into_iter()
    .collect();
    let parsed = SignatureHeaders::from_lookup(|name| full.get(name).copied()).unwrap();
    assert_eq!(parsed.algorithm, None);

    for missing in full.keys() {
        let mut partial = full.clone();
        partial.remove(missing);
        let err = SignatureHeaders::from_lookup(|name| partial.get(name).copied()).unwrap_err();
        assert_eq!(err, SignatureError::MissingHeader(missing));
        assert!(err.to_string().contains(missing));

        let mut empty = full.clone();
        empty.insert(missing, "");
        let err = SignatureHeaders::from_lookup(|name| empty.get(name).copied()).unwrap_err();
        assert_eq!(err, SignatureError::MissingHeader(missing));
    }

    let mut blank_algorithm = full.clone();
    blank_algorithm.insert("x-sinch-webhook-signature-algorithm", " ");
    let parsed = SignatureHeaders::from_lookup(|name| blank_algorithm.get(name).copied()).unwrap();
    assert_eq!(parsed.algorithm, None);
}

#[test]
fn garbage_signatures_are_refused_without_panicking() {
    let key = secret(VECTOR_SECRET);
    let body = vector_body("A");
    let unpadded = VECTOR_A_SIGNATURE.trim_end_matches('=');
    let url_safe = "Yc-3R1pIS78xLASybulhs8BsSo9BPB3Pr92QCUoczfk=";
    let long = "A".repeat(10_000);
    let cases = [
        "not base64 at all!",
        "====",
        "=",
        "Yc+3",
        unpadded,
        url_safe,
        "\u{00e9}\u{00e9}\u{00e9}\u{00e9}",
        long.as_str(),
        // Valid base64 of 16 bytes: the wrong length for HMAC-SHA256.
        "AAAAAAAAAAAAAAAAAAAAAA==",
    ];
    for garbage in cases {
        let result = verify(
            &headers(garbage, VECTOR_NONCE, VECTOR_TIMESTAMP),
            &body,
            &[&key],
            vector_now(),
            DEFAULT_WINDOW,
        );
        assert_eq!(
            result,
            Err(SignatureError::MalformedSignature),
            "{garbage:?}"
        );
    }
    // Well-formed, right length, wrong value.
    let zeros = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let result = verify(
        &headers(zeros, VECTOR_NONCE, VECTOR_TIMESTAMP),
        &body,
        &[&key],
        vector_now(),
        DEFAULT_WINDOW,
    );
    assert_eq!(result, Err(SignatureError::Mismatch));
}

#[test]
fn error_messages_are_distinct_and_clear() {
    let errors = [
        SignatureError::MissingHeader("x-sinch-webhook-signature"),
        SignatureError::UnsupportedAlgorithm("HmacSHA512".into()),
        SignatureError::MalformedTimestamp,
        SignatureError::StaleTimestamp { skew_seconds: -301 },
        SignatureError::MalformedSignature,
        SignatureError::Mismatch,
        SignatureError::NoSecretConfigured,
    ];
    let mut kinds: Vec<&str> = errors.iter().map(SignatureError::kind).collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(kinds.len(), errors.len());
    assert!(errors[0].to_string().contains("x-sinch-webhook-signature"));
    assert!(errors[1].to_string().contains("HmacSHA512"));
    assert!(errors[3].to_string().contains("-301"));
    assert!(errors.iter().all(|err| err.http_status() == 401));
}

const BASE64_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

proptest! {
    // No regression files: a failure prints its minimal input, which belongs in a named test.
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(256)
    })]

    #[test]
    fn sign_then_verify_succeeds_and_any_single_change_is_refused(
        secret_text in "\\PC{1,80}",
        body in proptest::collection::vec(any::<u8>(), 0..512),
        nonce in "\\PC{0,40}",
        timestamp in 0_i64..4_000_000_000,
        position in any::<prop::sample::Index>(),
        replacement in any::<prop::sample::Index>(),
    ) {
        let ts = timestamp.to_string();
        let key = secret(&secret_text);
        let now = at(timestamp);
        let signed = SignatureHeaders::signed(secret_text.as_bytes(), &body, &nonce, &ts);
        let expected = signed.signature.clone();
        prop_assert_eq!(
            verify(&signed, &body, &[&key], now, DEFAULT_WINDOW),
            Ok(MatchedSecret { index: 0 })
        );

        // Body: flip one bit, or append a byte to an empty body.
        let mut body_changed = body.clone();
        if body_changed.is_empty() {
            body_changed.push(b' ');
        } else {
            let at_byte = position.index(body_changed.len());
            body_changed[at_byte] ^= 0x01;
        }
        let result = verify(&signed, &body_changed, &[&key], now, DEFAULT_WINDOW);
        prop_assert_eq!(result, Err(SignatureError::Mismatch));

        let mut nonce_changed = signed.clone();
        nonce_changed.nonce.push('x');
        let result = verify(&nonce_changed, &body, &[&key], now, DEFAULT_WINDOW);
        prop_assert_eq!(result, Err(SignatureError::Mismatch));

        // Still inside the window, so only the HMAC can refuse it.
        let mut timestamp_changed = signed.clone();
        timestamp_changed.timestamp = (timestamp + 1).to_string();
        let result = verify(&timestamp_changed, &body, &[&key], now, DEFAULT_WINDOW);
        prop_assert_eq!(result, Err(SignatureError::Mismatch));

        // Appending a NUL would not change the HMAC (short keys are zero-padded), so append 'x'.
        let other_key = secret(&format!("{secret_text}x"));
        let result = verify(&signed, &body, &[&other_key], now, DEFAULT_WINDOW);
        assert_refused(result, &[&secret_text], &expected);

        // Signature: replace one base64 character (not padding) with another.
        let mut chars: Vec<u8> = signed.signature.clone().into_bytes();
        let data_len = chars.iter().take_while(|c| **c != b'=').count();
        let at_char = position.index(data_len);
        let mut new_char = BASE64_ALPHABET[replacement.index(BASE64_ALPHABET.len())];
        if new_char == chars[at_char] {
            new_char = if new_char == b'A' { b'B' } else { b'A' };
        }
        chars[at_char] = new_char;
        let mut signature_changed = signed.clone();
        signature_changed.signature = String::from_utf8(chars).unwrap();
        let result = verify(&signature_changed, &body, &[&key], now, DEFAULT_WINDOW);
        prop_assert!(matches!(
            result,
            Err(SignatureError::Mismatch | SignatureError::MalformedSignature)
        ));
    }

    #[test]
    fn arbitrary_signature_headers_never_panic(
        signature in "\\PC{0,100}",
        nonce in "\\PC{0,20}",
        timestamp in "\\PC{0,20}",
        algorithm in proptest::option::of("\\PC{0,20}"),
        body in proptest::collection::vec(any::<u8>(), 0..64),
        now in any::<i32>(),
    ) {
        let key = secret("k");
        let headers = SignatureHeaders { signature, nonce, timestamp, algorithm };
        let _ = verify(&headers, &body, &[&key], at(i64::from(now)), DEFAULT_WINDOW);
    }
}
