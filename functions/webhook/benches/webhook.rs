//! The webhook's own CPU work per callback, next to the bare HMAC-SHA256 that signature
//! verification cannot avoid. No AWS calls: those are I/O and measured by the cold-start
//! benchmark (`make bench`, see BENCHMARKS.md).
//!
//! One criterion group per body size (1, 4 and 64 KiB: a WhatsApp MO text whose text is padded
//! to the size), each with `Throughput::Bytes(body size)` and three functions:
//! - `bare_hmac_sha256`: HMAC-SHA256 of exactly the signed bytes (`body.nonce.timestamp`), the floor;
//! - `webhook_work`: what the handler does per callback between I/O: read the signature headers,
//!   verify the signature, parse the callback, classify it into the inbound event, build the
//!   ingest message (serialize the event, group and de-duplication ids);
//! - `handler_in_memory`: `Webhook::handle_at` on the same request with an in-memory config
//!   source (a warm cache hit after the first call) and queue that accept everything, so routing,
//!   the config cache and the response are included; block_on of a current-thread runtime adds a
//!   little.
//!
//! Run: `cargo bench -p switchboard-webhook --bench webhook` (about a minute).

use std::hint::black_box;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use sha2::Sha256;
use switchboard_shared::config::memory::MemoryConfigSource;
use switchboard_shared::config::{SeedFile, TenantConfig};
use switchboard_shared::deadline::Deadline;
use switchboard_shared::sinch::callback::parse_callback;
use switchboard_shared::sinch::signature::{self, SignatureHeaders};
use switchboard_webhook::classify::classify;
use switchboard_webhook::ingest::{GroupKey, IngestMessage};
use switchboard_webhook::memory::{MemoryIngestQueue, MemoryQuarantine};
use switchboard_webhook::settings::Settings;
use switchboard_webhook::{MemoryWebhook, Webhook, WebhookRequest};

/// The demo tenant of `make dev`; the bench signs with its secret and routes to its service.
const SEED: &str = include_str!("../../../infra/seed/demo.json");
const TENANT: &str = "demo";
const SERVICE: &str = "main";
const SECRET: &str = "demo-webhook-secret";
const APP_ID: &str = "01DEMOAPP00000000000000001";
const PATH: &str = "/demo/sms/sinchconversation/main";
const NONCE: &str = "01JDBENCHNONCE000000000000";
const TIMESTAMP: i64 = 1_763_712_000;
const WINDOW: Duration = Duration::from_secs(300);
const SIZES: [usize; 3] = [1024, 4 * 1024, 64 * 1024];

/// A WhatsApp MO text callback of exactly `size` bytes: the text is padded with plain sentences.
fn callback_body(size: usize) -> Vec<u8> {
    let with_text = |text: &str| {
        format!(
            r#"{{"app_id":"{APP_ID}","accepted_time":"2025-11-21T08:00:00.993024Z","event_time":"2025-11-21T07:59:59.814Z","project_id":"00000000-0000-4000-8000-00000000demo","message":{{"id":"01JDBENCHMSG00000000000000","direction":"TO_APP","contact_message":{{"text_message":{{"text":"{text}"}}}},"channel_identity":{{"channel":"WHATSAPP","identity":"46712312312","app_id":"{APP_ID}"}},"conversation_id":"01JDBENCHCONV0000000000000","contact_id":"01JDBENCHCONTACT0000000000","metadata":"","accept_time":"2025-11-21T08:00:00.915829Z","sender_id":"46701234567","processing_mode":"CONVERSATION","injected":false}},"message_metadata":"{{\"queue\":\"billing\"}}","correlation_id":"case-42"}}"#
        )
    };
    let base = with_text("").len();
    assert!(
        size > base,
        "a {size}-byte body cannot hold the {base}-byte callback"
    );
    let sentence = "Hello, I have a question about my order 4711: the parcel has not arrived yet. ";
    let text: String = sentence.chars().cycle().take(size - base).collect();
    let body = with_text(&text).into_bytes();
    assert_eq!(body.len(), size);
    body
}

struct Fixture {
    size: usize,
    body: Vec<u8>,
    headers: HeaderMap,
    timestamp: String,
    /// The demo tenant's config, as the handler has it after the config lookup.
    tenant: TenantConfig,
    now: DateTime<Utc>,
}

impl Fixture {
    fn new(size: usize) -> Fixture {
        let body = callback_body(size);
        let timestamp = TIMESTAMP.to_string();
        let signed = SignatureHeaders::signed(SECRET.as_bytes(), &body, NONCE, &timestamp);
        let mut headers = HeaderMap::new();
        for (name, value) in signed.to_pairs() {
            headers.insert(
                HeaderName::from_static(name),
                HeaderValue::from_str(value).expect("header value"),
            );
        }
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Fixture {
            size,
            body,
            headers,
            timestamp,
            tenant: demo_tenant(),
            now: Utc
                .timestamp_opt(TIMESTAMP + 1, 0)
                .single()
                .expect("valid time"),
        }
    }
}

fn bare_hmac_sha256(fixture: &Fixture) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(&fixture.body);
    mac.update(b".");
    mac.update(NONCE.as_bytes());
    mac.update(b".");
    mac.update(fixture.timestamp.as_bytes());
    mac.finalize().into_bytes().into()
}

/// The handler's per-callback CPU work, in its order, without routing, config and I/O.
fn webhook_work(fixture: &Fixture) -> IngestMessage {
    let headers = &fixture.headers;
    let signature_headers = SignatureHeaders::from_lookup(|name| {
        headers.get(name).and_then(|value| value.to_str().ok())
    })
    .expect("headers");
    let service = fixture
        .tenant
        .services
        .iter()
        .find(|service| service.name.as_str() == SERVICE)
        .expect("service");
    signature::verify(
        &signature_headers,
        &fixture.body,
        &service.webhook_secrets(),
        fixture.now,
        WINDOW,
    )
    .expect("verifies");
    let callback = parse_callback(&fixture.body).expect("parses");
    let event = classify(TENANT, SERVICE, &callback, &fixture.body, fixture.now);
    IngestMessage::new(&event, &GroupKey::new(b"bench-secret")).expect("serializes")
}

fn demo_tenant() -> TenantConfig {
    let seed = SeedFile::parse(SEED).expect("demo seed parses");
    seed.tenants
        .into_iter()
        .find(|tenant| tenant.id.as_str() == TENANT)
        .expect("demo tenant in the seed")
}

fn in_memory_webhook() -> MemoryWebhook {
    let settings = Settings::from_lookup(|name| match name {
        "SWITCHBOARD_CONFIG_TABLE" => Some("bench-config".to_owned()),
        "SWITCHBOARD_INGEST_QUEUE_URL" => {
            Some("http://127.0.0.1/123456789012/bench-ingest.fifo".to_owned())
        }
        "SWITCHBOARD_MEDIA_BUCKET" => Some("bench-media".to_owned()),
        // Long enough that every iteration after the first is a cache hit, as in a warm container.
        "SWITCHBOARD_CONFIG_CACHE_TTL_SECS" => Some("3600".to_owned()),
        _ => None,
    })
    .expect("settings");
    // The demo tenant from the seed file, as DynamoDB would give it back.
    let config = MemoryConfigSource::default();
    let seed: serde_json::Value = serde_json::from_str(SEED).expect("demo seed is JSON");
    for tenant in seed["tenants"].as_array().expect("tenants") {
        config.insert(tenant.clone());
    }
    Webhook::new(
        config,
        MemoryIngestQueue::default(),
        MemoryQuarantine::default(),
        settings,
    )
}

fn handle(
    runtime: &tokio::runtime::Runtime,
    webhook: &MemoryWebhook,
    fixture: &Fixture,
) -> StatusCode {
    let request = WebhookRequest {
        method: &Method::POST,
        path: PATH,
        headers: &fixture.headers,
        body: &fixture.body,
        deadline: Deadline::after(Duration::from_secs(10)),
    };
    runtime
        .block_on(webhook.handle_at(request, fixture.now))
        .status
}

fn per_callback(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("tokio runtime");
    let webhook = in_memory_webhook();
    for size in SIZES {
        let fixture = Fixture::new(size);
        // The bench measures the success path: make sure that is the path it takes.
        let message = webhook_work(&fixture);
        assert_eq!(message.kind, "message");
        assert_eq!(handle(&runtime, &webhook, &fixture), StatusCode::OK);

        let mut group = c.benchmark_group(format!("callback_{}KiB", fixture.size / 1024));
        group.throughput(Throughput::Bytes(fixture.size as u64));
        group.bench_function("bare_hmac_sha256", |b| {
            b.iter(|| bare_hmac_sha256(black_box(&fixture)))
        });
        group.bench_function("webhook_work", |b| {
            b.iter(|| webhook_work(black_box(&fixture)))
        });
        group.bench_function("handler_in_memory", |b| {
            b.iter(|| handle(&runtime, &webhook, black_box(&fixture)))
        });
        group.finish();
    }
}

fn config() -> Criterion {
    // 9 benchmarks x (0.5 s warm-up + 2 s measurement) plus analysis: well under a minute.
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = per_callback
}
criterion_main!(benches);
