//! Target `webhook_request`: an arbitrary request (method, path, headers, body) through the
//! webhook's handler, `Webhook::handle_at`, with in-memory ports: the in-memory config source
//! of `switchboard_shared`, and a queue and a quarantine defined here that record what they are
//! given and can be told to fail.
//!
//! Input: a flags byte, then a request written like HTTP/1: `METHOD PATH\n`, header lines
//! `name: value\n`, an empty line, and the body (the rest, exact bytes). A method or header that
//! `http` refuses cannot reach the handler through any HTTP stack: such inputs stop early
//! (method) or lose that line (header). Flags:
//! - bit 0: sign: the signature header becomes the right one for the body, the nonce and the
//!   timestamp headers (filled in when absent) and the secret of bits 3–4, so the fuzzer gets
//!   past the signature check into parsing, classifying and queueing;
//! - bit 1: the timestamp header becomes "now" (fresh);
//! - bit 2: no algorithm header (optional in Sinch's scheme);
//! - bits 3–4: the secret: tenant `fuzz`'s service `main`, its service `backup`, `backup`'s
//!   previous secret, or tenant `demo`'s (from infra/seed/demo.json);
//! - bits 5, 6, 7: the ingest queue, the quarantine, the config store are unavailable.
//!
//! Properties (beyond "never panics"): the answer is one of the documented statuses, never 500
//! (an authentic callback lost); 503 only when a port failed; 200 only for a request signed
//! with a secret of the tenant in the path, and then exactly one message is queued for that
//! tenant, otherwise none; a queued message is valid JSON within SQS's size limit and holds
//! only characters SQS accepts; an `unsupported` event carries the callback or the key of its
//! copy in the quarantine; a 400 keeps the exact body; no answer and no message contains a
//! secret or access key the request did not carry itself.

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use switchboard_shared::config::StoreError;
use switchboard_shared::config::memory::{MemoryConfigSource, sample_tenant};
use switchboard_shared::deadline::Deadline;
use switchboard_shared::error::{AwsError, Retry};
use switchboard_shared::sinch::signature::{
    self, HEADER_ALGORITHM, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP,
};
use switchboard_webhook::ingest::{IngestError, IngestMessage, IngestQueue, MAX_MESSAGE_BYTES};
use switchboard_webhook::quarantine::{Quarantine, QuarantineError};
use switchboard_webhook::route::parse_path;
use switchboard_webhook::settings::Settings;
use switchboard_webhook::{Webhook, WebhookRequest, WebhookResponse};

/// The fixed "now" of every run (2025-11-21T08:00:00Z), so a run is reproducible.
pub const NOW: i64 = 1_763_712_000;
/// Bodies above this get 413: small, so the fuzzer reaches that answer too.
pub const MAX_BODY_BYTES: usize = 4096;

pub const SIGN: u8 = 1;
pub const FRESH: u8 = 1 << 1;
pub const NO_ALGORITHM: u8 = 1 << 2;
pub const SECRET_SHIFT: u8 = 3;
pub const QUEUE_DOWN: u8 = 1 << 5;
pub const QUARANTINE_DOWN: u8 = 1 << 6;
pub const CONFIG_DOWN: u8 = 1 << 7;

/// (tenant, webhook secret) by the index in bits 3–4 of the flags.
pub const SECRETS: [(&str, &str); 4] = [
    ("fuzz", "fuzz-secret"),
    ("fuzz", "fuzz-backup-secret"),
    ("fuzz", "fuzz-old-secret"),
    ("demo", "demo-webhook-secret"),
];
/// Never to be echoed: every webhook secret and access key of the configuration.
const CONFIDENTIAL: [&str; 6] = [
    "fuzz-secret",
    "fuzz-backup-secret",
    "fuzz-old-secret",
    "demo-webhook-secret",
    "fuzz-key-secret",
    "demo-access-key-secret",
];
const DEFAULT_NONCE: &str = "01JFUZZNONCE00000000000000";
const DEMO_SEED: &str = include_str!("../../infra/seed/demo.json");

/// What the handler answered and what the ports were given, for the regression tests.
#[derive(Debug)]
pub struct Outcome {
    pub response: WebhookResponse,
    pub queued: Vec<IngestMessage>,
    pub quarantined: Kept,
}

/// One request, decoded from the fuzzer's bytes.
pub struct FuzzRequest {
    pub flags: u8,
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// `None` for inputs no HTTP stack could deliver (no request line, an invalid method).
pub fn decode(data: &[u8]) -> Option<FuzzRequest> {
    let (&flags, rest) = data.split_first()?;
    let (head, body) = match find(rest, b"\n\n") {
        Some(at) => (&rest[..at], &rest[at + 2..]),
        None => (rest, &[][..]),
    };
    let mut lines = head.split(|byte| *byte == b'\n');
    let request_line = lines.next()?;
    let (method, path) = match find(request_line, b" ") {
        Some(at) => (&request_line[..at], &request_line[at + 1..]),
        None => (request_line, &b"/"[..]),
    };
    let method = Method::from_bytes(method).ok()?;
    let mut headers = HeaderMap::new();
    for line in lines {
        let Some(at) = find(line, b":") else { continue };
        let name = HeaderName::from_bytes(line[..at].trim_ascii());
        let value = HeaderValue::from_bytes(line[at + 1..].trim_ascii());
        if let (Ok(name), Ok(value)) = (name, value) {
            headers.append(name, value);
        }
    }
    Some(FuzzRequest {
        flags,
        method,
        path: String::from_utf8_lossy(path).into_owned(),
        headers,
        body: body.to_vec(),
    })
}

/// The inverse of [`decode`], for seeds and tests.
pub fn encode(
    flags: u8,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut data = vec![flags];
    data.extend_from_slice(format!("{method} {path}\n").as_bytes());
    for (name, value) in headers {
        data.extend_from_slice(format!("{name}: {value}\n").as_bytes());
    }
    data.push(b'\n');
    data.extend_from_slice(body);
    data
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Applies the signing flags: the request as the fuzzer wants the handler to see it.
fn prepare(request: &mut FuzzRequest) {
    let headers = &mut request.headers;
    if request.flags & FRESH != 0 {
        headers.insert(HEADER_TIMESTAMP, HeaderValue::from(NOW));
    }
    if request.flags & NO_ALGORITHM != 0 {
        headers.remove(HEADER_ALGORITHM);
    }
    if request.flags & SIGN == 0 {
        return;
    }
    if !headers.contains_key(HEADER_NONCE) {
        headers.insert(HEADER_NONCE, HeaderValue::from_static(DEFAULT_NONCE));
    }
    if !headers.contains_key(HEADER_TIMESTAMP) {
        headers.insert(HEADER_TIMESTAMP, HeaderValue::from(NOW));
    }
    // Signed as the handler will read them: the first value, as text (the nonce untrimmed).
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let (Some(nonce), Some(timestamp)) = (text(HEADER_NONCE), text(HEADER_TIMESTAMP)) else {
        return;
    };
    let (_, secret) = SECRETS[usize::from((request.flags >> SECRET_SHIFT) & 3)];
    let tag = signature::sign(secret.as_bytes(), &request.body, &nonce, timestamp.trim());
    if let Ok(value) = HeaderValue::from_str(&tag) {
        headers.insert(HEADER_SIGNATURE, value);
    }
}

pub fn run(data: &[u8]) -> Option<Outcome> {
    let mut request = decode(data)?;
    prepare(&mut request);
    let flags = request.flags;
    let queue = RecordingQueue {
        down: flags & QUEUE_DOWN != 0,
        sent: Arc::default(),
    };
    let quarantine = RecordingQuarantine {
        down: flags & QUARANTINE_DOWN != 0,
        kept: Arc::default(),
    };
    let (sent, kept) = (Arc::clone(&queue.sent), Arc::clone(&quarantine.kept));
    let webhook = webhook(flags, queue, quarantine);
    let now = DateTime::<Utc>::from_timestamp(NOW, 0).unwrap_or_default();
    let response = RUNTIME.with(|runtime| {
        runtime.borrow().block_on(webhook.handle_at(
            WebhookRequest {
                method: &request.method,
                path: &request.path,
                headers: &request.headers,
                body: &request.body,
                deadline: Deadline::after(std::time::Duration::from_secs(10)),
            },
            now,
        ))
    });
    drop(webhook);
    let outcome = Outcome {
        response,
        queued: std::mem::take(&mut *lock(&sent)),
        quarantined: std::mem::take(&mut *lock(&kept)),
    };
    check(&request, &outcome);
    Some(outcome)
}

fn check(request: &FuzzRequest, outcome: &Outcome) {
    let status = outcome.response.status;
    let flags = request.flags;
    let answer = &outcome.response.body;
    assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "500: {answer}");
    let documented = [200, 400, 401, 404, 405, 413, 503];
    assert!(
        documented.contains(&status.as_u16()),
        "undocumented status {status}: {answer}"
    );
    assert!(
        serde_json::from_str::<serde_json::Value>(answer).is_ok(),
        "the answer is not JSON: {answer:?}"
    );
    if status == StatusCode::SERVICE_UNAVAILABLE {
        assert!(
            flags & (QUEUE_DOWN | QUARANTINE_DOWN | CONFIG_DOWN) != 0,
            "503 with every port up: {answer}"
        );
    }

    // Secrets the request carries itself (in the path, a header or the body, in any case: an
    // unknown channel name comes back lower-cased in the queue address) are no leak.
    let carries = |haystack: &[u8], secret: &str| {
        find(&haystack.to_ascii_lowercase(), secret.as_bytes()).is_some()
    };
    let carried = |secret: &str| {
        carries(request.path.as_bytes(), secret)
            || request
                .headers
                .values()
                .any(|value| carries(value.as_bytes(), secret))
            || carries(&request.body, secret)
    };
    for secret in CONFIDENTIAL.iter().filter(|secret| !carried(secret)) {
        assert!(
            !answer.contains(secret),
            "the answer contains a secret: {answer}"
        );
        for message in &outcome.queued {
            assert!(
                !message.body.contains(secret),
                "a queued event contains a secret"
            );
        }
    }

    if status != StatusCode::OK {
        assert!(
            outcome.queued.is_empty(),
            "{status} but an event was queued"
        );
    }
    if status == StatusCode::BAD_REQUEST {
        assert!(
            outcome
                .quarantined
                .iter()
                .any(|(_, body)| *body == request.body),
            "400 but the body was not kept"
        );
    }
    if status != StatusCode::OK {
        return;
    }

    assert!(
        flags & SIGN != 0,
        "200 for a request the fuzzer did not sign: {answer}"
    );
    let (owner, _) = SECRETS[usize::from((flags >> SECRET_SHIFT) & 3)];
    let route = parse_path(&request.path).map(|route| route.tenant.to_string());
    assert_eq!(
        route.as_deref().ok(),
        Some(owner),
        "200 for a request signed with another tenant's secret"
    );
    assert_eq!(
        outcome.queued.len(),
        1,
        "200 but {} events queued",
        outcome.queued.len()
    );
    let message = &outcome.queued[0];
    assert_eq!(message.tenant, owner, "queued for another tenant");
    for (what, text) in [
        ("body", &message.body),
        ("group id", &message.group_id),
        ("de-duplication id", &message.deduplication_id),
    ] {
        if let Some(refused) = text.chars().find(|c| !sqs_accepts(*c)) {
            panic!(
                "the queued {what} holds U+{:04X}, which SQS refuses",
                u32::from(refused)
            );
        }
    }
    assert!(
        message.body.len() <= MAX_MESSAGE_BYTES,
        "a queued event of {} bytes",
        message.body.len()
    );
    let event: serde_json::Value = match serde_json::from_str(&message.body) {
        Ok(event) => event,
        Err(err) => panic!("the queued event is not JSON: {err}"),
    };
    if event["kind"] == "unsupported" {
        let unsupported = &event["unsupported"];
        let kept = unsupported["callback_s3_key"].as_str().is_some_and(|key| {
            outcome
                .quarantined
                .iter()
                .any(|(stored, body)| stored == key && *body == request.body)
        });
        assert!(
            !unsupported["callback"].is_null() || kept,
            "an authentic callback was forwarded as unsupported with neither the callback nor a kept copy: {}",
            message.body
        );
    }
}

/// SQS's message characters: `#x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF`
/// (a Rust `char` is never a surrogate).
fn sqs_accepts(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..)
}

thread_local! {
    static RUNTIME: RefCell<tokio::runtime::Runtime> = RefCell::new(
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap_or_else(|err| panic!("no tokio runtime: {err}")),
    );
}

type FuzzWebhook = Webhook<MemoryConfigSource, RecordingQueue, RecordingQuarantine>;

/// A fresh webhook per input, so an input's answer never depends on the ones before it.
fn webhook(flags: u8, queue: RecordingQueue, quarantine: RecordingQuarantine) -> FuzzWebhook {
    let config = MemoryConfigSource::default();
    let mut fuzz = sample_tenant("fuzz");
    if let Some(services) = fuzz["services"].as_array_mut() {
        services.push(serde_json::json!({
            "name": "backup", "region": "us", "project_id": "fuzz-backup-project",
            "app_ids": ["01FUZZBACKUPAPP"],
            "access_key_id": "fuzz-backup-key", "access_key_secret": "fuzz-key-secret",
            "webhook_secret": "fuzz-backup-secret", "previous_webhook_secret": "fuzz-old-secret"
        }));
    }
    config.insert(fuzz);
    let demo: serde_json::Value = serde_json::from_str(DEMO_SEED).unwrap_or_default();
    for tenant in demo["tenants"].as_array().into_iter().flatten() {
        config.insert(tenant.clone());
    }
    if flags & CONFIG_DOWN != 0 {
        config.fail_with(Some(StoreError::Unavailable(
            "fuzz: config store down".to_owned(),
        )));
    }
    let settings = Settings::from_lookup(|name| match name {
        "SWITCHBOARD_CONFIG_TABLE" => Some("fuzz-config".to_owned()),
        "SWITCHBOARD_INGEST_QUEUE_URL" => {
            Some("http://127.0.0.1/123456789012/fuzz-ingest.fifo".to_owned())
        }
        "SWITCHBOARD_MEDIA_BUCKET" => Some("fuzz-media".to_owned()),
        "SWITCHBOARD_MAX_BODY_BYTES" => Some(MAX_BODY_BYTES.to_string()),
        _ => None,
    })
    .unwrap_or_else(|err| panic!("fuzz settings: {err}"));
    Webhook::new(config, queue, quarantine, settings)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A transient AWS failure, as SQS or S3 answer when they are down.
fn down(operation: &'static str) -> AwsError {
    AwsError {
        operation,
        code: Some("ServiceUnavailable".to_owned()),
        http_status: Some(503),
        retry: Retry::Retryable,
        message: "fuzz: down".to_owned(),
    }
}

struct RecordingQueue {
    down: bool,
    sent: Arc<Mutex<Vec<IngestMessage>>>,
}

impl IngestQueue for RecordingQueue {
    async fn send(&self, message: &IngestMessage) -> Result<(), IngestError> {
        if self.down {
            return Err(IngestError::Queue(down("SendMessage")));
        }
        lock(&self.sent).push(message.clone());
        Ok(())
    }
}

/// (key, body) of every body kept.
type Kept = Vec<(String, Vec<u8>)>;

struct RecordingQuarantine {
    down: bool,
    kept: Arc<Mutex<Kept>>,
}

impl Quarantine for RecordingQuarantine {
    async fn keep(
        &self,
        tenant: &str,
        body: &[u8],
        _: &str,
        _: DateTime<Utc>,
    ) -> Result<String, QuarantineError> {
        if self.down {
            return Err(QuarantineError(down("PutObject")));
        }
        let mut kept = lock(&self.kept);
        let key = format!("quarantine/{tenant}/{}.bin", kept.len());
        kept.push((key.clone(), body.to_vec()));
        Ok(key)
    }
}
