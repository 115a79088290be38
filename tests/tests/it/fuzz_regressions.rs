//! The fuzz targets (`fuzz/`, `make fuzz`) in the normal test suite: every input saved under
//! `fuzz/regressions/<target>/` (a crash the fuzzer found, kept once its cause is fixed) runs
//! through the very code the fuzzer ran, included here by path; and the repo's callback fixtures,
//! signed as the fuzz seeds are, get through the request target to a queued event, so the
//! fuzzer is known to reach past the signature.

#[allow(dead_code)]
#[path = "../../../fuzz/src/callback_parser.rs"]
mod callback_parser;
#[allow(dead_code)]
#[path = "../../../fuzz/src/signature_headers.rs"]
mod signature_headers;
#[allow(dead_code)]
#[path = "../../../fuzz/src/webhook_request.rs"]
mod webhook_request;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use switchboard_shared::sinch::signature::{
    HEADER_ALGORITHM, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP,
};

/// The checkout's root, found at run time from the test's working directory (cargo runs tests
/// in the package's folder).
fn root() -> PathBuf {
    let start = std::env::current_dir().unwrap();
    start
        .ancestors()
        .find(|dir| dir.join("fuzz/regressions").is_dir())
        .unwrap_or_else(|| panic!("no fuzz/regressions above {}", start.display()))
        .to_path_buf()
}

/// Every file of a folder but the README, sorted by name.
fn inputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file() && path.file_name().unwrap() != "README.md")
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// Runs every saved input of `target`; all of them, so one report names every failing file.
fn replay(target: &str, run: fn(&[u8])) {
    let dir = root().join("fuzz/regressions").join(target);
    let failed: Vec<String> = inputs(&dir)
        .into_iter()
        .filter(|(_, data)| catch_unwind(AssertUnwindSafe(|| run(data))).is_err())
        .map(|(name, _)| name)
        .collect();
    assert!(
        failed.is_empty(),
        "{target}: these saved fuzz inputs still fail: {failed:?}"
    );
}

#[test]
fn callback_parser_regressions() {
    replay("callback_parser", |data| {
        callback_parser::run(data);
    });
}

#[test]
fn signature_headers_regressions() {
    replay("signature_headers", |data| {
        signature_headers::run(data);
    });
}

#[test]
fn webhook_request_regressions() {
    replay("webhook_request", |data| {
        webhook_request::run(data);
    });
}

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let fixtures = inputs(&root().join("shared/tests/fixtures/callbacks"));
    assert!(fixtures.len() >= 10, "the callback fixtures moved");
    fixtures
}

#[test]
fn every_fixture_is_a_callback_that_round_trips() {
    for (name, body) in fixtures() {
        let outcome = callback_parser::run(&body);
        assert_ne!(outcome, callback_parser::Outcome::NotACallback, "{name}");
    }
    assert_eq!(
        callback_parser::run(b"[1, 2]"),
        callback_parser::Outcome::NotACallback
    );
}

#[test]
fn signed_inputs_get_past_the_signature_and_others_do_not() {
    // flags: every header present, signed with the current secret, fresh, HmacSHA256.
    let signed = |secret: &[u8]| {
        let mut data = vec![0b111_1111, 44, 1];
        for field in [&b"sig"[..], b"01JNONCE", b"0", b"x", secret, b"old-secret"] {
            data.extend_from_slice(field);
            data.push(b'\n');
        }
        data.extend_from_slice(b"{\"app_id\":\"A\"}");
        data
    };
    assert!(matches!(
        signature_headers::run(&signed(b"current-secret")),
        signature_headers::Outcome::Accepted(matched) if matched.index == 0
    ));
    // An empty current secret is no secret: the previous one does not make this signature.
    assert!(matches!(
        signature_headers::run(&signed(b"")),
        signature_headers::Outcome::Refused(_)
    ));
    let mut unsigned = signed(b"current-secret");
    unsigned[0] &= !(1 << 4);
    assert!(matches!(
        signature_headers::run(&unsigned),
        signature_headers::Outcome::Refused(_)
    ));
}

/// A request as the seed script writes it: signed by the target with `secret`'s index.
fn seed(flags: u8, path: &str, body: &[u8]) -> Vec<u8> {
    let headers = [
        ("content-type", "application/json"),
        (HEADER_SIGNATURE, "c2lnbmVkIGJ5IHRoZSB0YXJnZXQ="),
        (HEADER_NONCE, "01JFUZZSEEDNONCE0000000000"),
        (HEADER_TIMESTAMP, "0"),
        (HEADER_ALGORITHM, "HmacSHA256"),
    ];
    webhook_request::encode(flags, "POST", path, &headers, body)
}

#[test]
fn signed_fixtures_are_queued_through_the_request_target() {
    use webhook_request::{FRESH, SECRET_SHIFT, SIGN};
    for (name, body) in fixtures() {
        for (secret, path) in [
            (0, "/fuzz/sms/sinchconversation/all"),
            (0, "/fuzz/sms/sinchconversation/main"),
            (2, "/stage/fuzz/sms/sinchconversation/backup"),
            (3, "/demo/sms/sinchconversation/all"),
        ] {
            let outcome =
                webhook_request::run(&seed(SIGN | FRESH | (secret << SECRET_SHIFT), path, &body))
                    .unwrap();
            assert_eq!(
                outcome.response.status, 200,
                "{name} to {path}: {}",
                outcome.response.body
            );
            assert_eq!(outcome.queued.len(), 1, "{name}");
        }
        // The same request unsigned, signed for another tenant, or with a port down.
        for flags in [
            FRESH,
            SIGN | FRESH | (3 << SECRET_SHIFT),
            SIGN | FRESH | webhook_request::QUEUE_DOWN,
            SIGN | FRESH | webhook_request::CONFIG_DOWN,
        ] {
            let outcome =
                webhook_request::run(&seed(flags, "/fuzz/sms/sinchconversation/all", &body))
                    .unwrap();
            assert_ne!(outcome.response.status, 200, "{name} with flags {flags:#b}");
            assert!(outcome.queued.is_empty());
        }
    }
}

#[test]
fn a_signed_body_that_is_not_json_is_kept() {
    use webhook_request::{FRESH, SIGN};
    let outcome = webhook_request::run(&seed(
        SIGN | FRESH,
        "/fuzz/sms/sinchconversation/all",
        b"not json",
    ))
    .unwrap();
    assert_eq!(outcome.response.status, 400);
    assert_eq!(outcome.quarantined.len(), 1);
    assert_eq!(outcome.quarantined[0].1, b"not json");
}
