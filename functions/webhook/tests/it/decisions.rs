//! The handler's decision table (docs/failures.md, the webhook's rows) on in-memory ports: every
//! answer, what was queued and what was kept, in milliseconds. The same rows run end to end
//! against moto in tests/tests/it/webhook.rs.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use switchboard_shared::config::StoreError;
use switchboard_shared::config::memory::{MemoryConfigSource, sample_tenant};
use switchboard_shared::contract::{EventBody, InboundEvent};
use switchboard_shared::deadline::Deadline;
use switchboard_shared::sinch::signature::SignatureHeaders;
use switchboard_webhook::handler::UNAUTHORIZED_BODY;
use switchboard_webhook::memory::{Failing, MemoryIngestQueue, MemoryQuarantine};
use switchboard_webhook::settings::Settings;
use switchboard_webhook::{MemoryWebhook, Webhook, WebhookRequest, WebhookResponse};

const TIMESTAMP: i64 = 1_790_000_000;
const APP: &str = "01ACMEAPP";

fn now() -> DateTime<Utc> {
    Utc.timestamp_opt(TIMESTAMP, 0).single().unwrap()
}

fn webhook_with(settings: &[(&str, &str)]) -> MemoryWebhook {
    let config = MemoryConfigSource::default();
    config.insert(sample_tenant("acme"));
    config.insert(sample_tenant("other"));
    let pairs: Vec<(String, String)> = [
        ("SWITCHBOARD_CONFIG_TABLE", "config"),
        ("SWITCHBOARD_INGEST_QUEUE_URL", "http://sqs/ingest.fifo"),
        ("SWITCHBOARD_MEDIA_BUCKET", "media"),
    ]
    .iter()
    .chain(settings.iter())
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let settings = Settings::from_lookup(|name| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
    .unwrap();
    Webhook::new(
        config,
        MemoryIngestQueue::default(),
        MemoryQuarantine::default(),
        settings,
    )
}

fn webhook() -> MemoryWebhook {
    webhook_with(&[])
}

fn signed_headers(secret: &str, body: &[u8], nonce: &str, timestamp: i64) -> HeaderMap {
    let signed = SignatureHeaders::signed(secret.as_bytes(), body, nonce, &timestamp.to_string());
    let mut headers = HeaderMap::new();
    for (name, value) in signed.to_pairs() {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    headers
}

async fn post_with(
    webhook: &MemoryWebhook,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> WebhookResponse {
    webhook
        .handle_at(
            WebhookRequest {
                method: &Method::POST,
                path,
                headers,
                body,
                deadline: Deadline::after(Duration::from_secs(10)),
            },
            now(),
        )
        .await
}

/// Posts `body` to acme's `main` service, signed with acme's secret and a fresh nonce.
async fn post(webhook: &MemoryWebhook, body: &[u8]) -> WebhookResponse {
    let nonce = uuid::Uuid::new_v4().to_string();
    let headers = signed_headers("acme-secret", body, &nonce, TIMESTAMP);
    post_with(webhook, "/acme/sms/sinchconversation/main", &headers, body).await
}

fn queued(webhook: &MemoryWebhook) -> Vec<InboundEvent> {
    webhook
        .ingest()
        .messages()
        .iter()
        .map(|message| serde_json::from_str(&message.body).unwrap())
        .collect()
}

fn dlr(status: &str, extra: serde_json::Value) -> Vec<u8> {
    let mut report = serde_json::json!({
        "message_id": "01MSG", "conversation_id": "01CONV", "status": status,
        "channel_identity": {"channel": "WHATSAPP", "identity": "46700000001"}
    });
    if let (Some(report), Some(extra)) = (report.as_object_mut(), extra.as_object()) {
        report.extend(extra.clone());
    }
    serde_json::json!({"app_id": APP, "project_id": "p", "message_delivery_report": report})
        .to_string()
        .into_bytes()
}

fn text_mo(id: &str, text: &str) -> Vec<u8> {
    serde_json::json!({"app_id": APP, "project_id": "p", "message": {
        "id": id, "conversation_id": "01CONV", "contact_id": "01CONTACT",
        "channel_identity": {"channel": "WHATSAPP", "identity": "46700000001", "app_id": ""},
        "contact_message": {"text_message": {"text": text}}}})
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn the_event_delivery_sequence_of_one_event_is_queued_whole() {
    // Finding 1: three EVENT_DELIVERY reports of one event shared one de-duplication id.
    let webhook = webhook();
    for status in ["QUEUED_ON_CHANNEL", "DELIVERED", "FAILED"] {
        let body = serde_json::json!({"app_id": APP, "project_id": "p", "event_delivery_report": {
            "event_id": "01EVENT", "status": status,
            "channel_identity": {"channel": "WHATSAPP", "identity": "46700000001"}}})
        .to_string();
        assert_eq!(post(&webhook, body.as_bytes()).await.status, StatusCode::OK);
    }
    assert_eq!(webhook.ingest().messages().len(), 3);
}

#[tokio::test]
async fn delivery_reports_that_differ_in_status_channel_or_reason_are_all_queued() {
    let webhook = webhook();
    let bodies = [
        dlr("QUEUED_ON_CHANNEL", serde_json::json!({})),
        dlr("DELIVERED", serde_json::json!({})),
        dlr("READ", serde_json::json!({})),
        dlr(
            "FAILED",
            serde_json::json!({"reason": {"code": "RECIPIENT_NOT_REACHABLE"}}),
        ),
        dlr(
            "FAILED",
            serde_json::json!({"reason": {"code": "OUTSIDE_ALLOWED_SENDING_WINDOW"}}),
        ),
        dlr("SWITCHING_CHANNEL", serde_json::json!({})),
        dlr(
            "SWITCHING_CHANNEL",
            serde_json::json!({"channel_identity": {"channel": "SMS", "identity": "46700000001"}}),
        ),
    ];
    for body in &bodies {
        assert_eq!(post(&webhook, body).await.status, StatusCode::OK);
    }
    assert_eq!(webhook.ingest().messages().len(), bodies.len());
}

#[tokio::test]
async fn message_submit_notifications_are_one_per_channel() {
    let webhook = webhook();
    for channel in ["WHATSAPP", "SMS"] {
        let body = serde_json::json!({"app_id": APP, "project_id": "p", "message_submit_notification": {
            "message_id": "01MSG", "channel_identity": {"channel": channel, "identity": "46700000001"}}})
        .to_string();
        assert_eq!(post(&webhook, body.as_bytes()).await.status, StatusCode::OK);
    }
    assert_eq!(webhook.ingest().messages().len(), 2);
}

#[tokio::test]
async fn delivery_reports_without_status_are_told_apart_by_their_content() {
    let webhook = webhook();
    for reason in ["A", "B"] {
        let body =
            serde_json::json!({"app_id": APP, "project_id": "p", "message_delivery_report": {
            "message_id": "01MSG", "reason": {"code": reason}}})
            .to_string();
        post(&webhook, body.as_bytes()).await;
    }
    assert_eq!(webhook.ingest().messages().len(), 2);
}

#[tokio::test]
async fn the_same_callback_resent_with_other_whitespace_and_key_order_is_queued_once() {
    let webhook = webhook();
    let first = br#"{"app_id":"01ACMEAPP","project_id":"p","message_delivery_report":{"message_id":"01MSG","status":"DELIVERED"}}"#;
    let again =
        br#"{ "message_delivery_report" : { "status" : "DELIVERED", "message_id" : "01MSG" },
        "project_id" : "p", "app_id" : "01ACMEAPP" }"#;
    let a = post(&webhook, first).await;
    let b = post(&webhook, again).await;
    assert_eq!((a.status, b.status), (StatusCode::OK, StatusCode::OK));
    assert_eq!(webhook.ingest().messages().len(), 1);
    let id = |r: &WebhookResponse| {
        serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["event_id"].clone()
    };
    assert_eq!(id(&a), id(&b));
}

#[tokio::test]
async fn a_lone_surrogate_is_read_as_the_replacement_character_and_the_bytes_are_kept() {
    // Finding 2: the customer's message was lost (`unsupported` with `callback: null`).
    let webhook = webhook();
    let body = br#"{"app_id":"01ACMEAPP","project_id":"p","message":{"id":"01SURR","conversation_id":"01CONV","channel_identity":{"channel":"WHATSAPP","identity":"46700000001"},"contact_message":{"text_message":{"text":"hi \ud800 there"}}}}"#;
    let answer = post(&webhook, body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let events = queued(&webhook);
    assert_eq!(events.len(), 1);
    let EventBody::Message { message } = &events[0].body else {
        panic!("a message, not {:?}", events[0].body.kind())
    };
    assert_eq!(message.text.as_deref(), Some("hi \u{FFFD} there"));
    let kept = webhook.quarantine_port().kept();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].body, body.to_vec(), "the exact bytes");
    assert_eq!(
        events[0].raw_callback_s3_key.as_deref(),
        Some(kept[0].key.as_str())
    );
}

#[tokio::test]
async fn characters_sqs_refuses_are_escaped_so_the_message_is_queued() {
    // Finding 3: U+FFFF went raw into the event; real SQS refuses it (this queue does too).
    let webhook = webhook();
    let body = text_mo("01NONCHAR", "a\u{FFFF}b\u{FFFE}c");
    let answer = post(&webhook, &body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let events = queued(&webhook);
    let EventBody::Message { message } = &events[0].body else {
        panic!()
    };
    assert_eq!(
        message.text.as_deref(),
        Some("a\u{FFFF}b\u{FFFE}c"),
        "the text is intact"
    );
    assert!(webhook.quarantine_port().kept().is_empty());
}

#[tokio::test]
async fn the_in_memory_queue_refuses_what_sqs_refuses() {
    // The check the test above relies on: a raw U+FFFF is refused, for good.
    use switchboard_shared::error::Classify;
    use switchboard_webhook::ingest::{IngestMessage, IngestQueue};
    let queue = MemoryIngestQueue::default();
    let message = IngestMessage {
        body: "{\"t\":\"\u{FFFF}\"}".into(),
        group_id: "g".into(),
        deduplication_id: "d".into(),
        kind: "message",
        tenant: "acme".into(),
    };
    let err = queue.send(&message).await.unwrap_err();
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("InvalidMessageContents"), "{err}");
}

#[tokio::test]
async fn unknown_tenant_unknown_service_and_bad_signatures_get_one_identical_answer() {
    let webhook = webhook();
    let body = text_mo("01X", "hello");
    let good = signed_headers("acme-secret", &body, "n1", TIMESTAMP);
    let wrong_secret = signed_headers("other-secret", &body, "n2", TIMESTAMP);
    let stale = signed_headers("acme-secret", &body, "n3", TIMESTAMP - 3600);
    let answers = [
        post_with(&webhook, "/nosuch/sms/sinchconversation/main", &good, &body).await,
        post_with(&webhook, "/BAD!/sms/sinchconversation/main", &good, &body).await,
        post_with(&webhook, "/acme/sms/sinchconversation/nosuch", &good, &body).await,
        post_with(
            &webhook,
            "/acme/sms/sinchconversation/main",
            &wrong_secret,
            &body,
        )
        .await,
        post_with(&webhook, "/acme/sms/sinchconversation/main", &stale, &body).await,
        post_with(
            &webhook,
            "/acme/sms/sinchconversation/main",
            &HeaderMap::new(),
            &body,
        )
        .await,
        post_with(
            &webhook,
            "/acme/sms/sinchconversation/all",
            &wrong_secret,
            &body,
        )
        .await,
    ];
    for answer in &answers {
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.body, UNAUTHORIZED_BODY);
    }
    assert!(webhook.ingest().messages().is_empty());
    // A name that does not exist cost nothing beyond the one index load.
    assert_eq!(
        webhook.config_source().tenant_loads(),
        1,
        "only acme was loaded"
    );
    assert_eq!(webhook.config_source().index_loads(), 1);
}

#[tokio::test]
async fn refusals_never_echo_secrets_or_the_reason() {
    let webhook = webhook();
    let body = text_mo("01X", "hello");
    let wrong = signed_headers("acme-secret-not", &body, "n", TIMESTAMP);
    let answer = post_with(&webhook, "/acme/sms/sinchconversation/main", &wrong, &body).await;
    for secret in ["acme-secret", "acme-key-secret", "skew", "signature"] {
        assert!(!answer.body.contains(secret), "{secret} in {}", answer.body);
    }
}

#[tokio::test]
async fn the_body_limit_is_the_handlers_decision() {
    let webhook = webhook_with(&[("SWITCHBOARD_MAX_BODY_BYTES", "2048")]);
    let body = text_mo("01BIG", &"x".repeat(4096));
    let answer = post(&webhook, &body).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(webhook.ingest().messages().is_empty());
}

#[tokio::test]
async fn not_json_is_kept_and_answered_400() {
    let webhook = webhook();
    let answer = post(&webhook, b"<xml>not json</xml>").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        webhook.quarantine_port().kept()[0].body,
        b"<xml>not json</xml>"
    );
    assert!(webhook.ingest().messages().is_empty());
}

#[tokio::test]
async fn a_transient_queue_failure_asks_sinch_to_retry_and_keeps_nothing() {
    let webhook = webhook();
    webhook.ingest().fail(Some(Failing::Transient));
    let answer = post(&webhook, &text_mo("01T", "hi")).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(webhook.quarantine_port().kept().is_empty());
}

#[tokio::test]
async fn a_permanent_queue_refusal_keeps_the_callback_and_asks_for_a_retry_when_even_the_pointer_fails()
 {
    let webhook = webhook();
    webhook.ingest().fail(Some(Failing::Permanent));
    let body = text_mo("01P", "hi");
    let answer = post(&webhook, &body).await;
    // The pointer is refused too (the queue refuses everything): never 200 with nothing queued.
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(webhook.quarantine_port().kept()[0].body, body);
}

#[tokio::test]
async fn an_event_too_large_for_sqs_travels_as_a_pointer_to_the_kept_callback() {
    let webhook = webhook();
    // A fallback message carries its text twice: 150 KiB of text makes a 300 KiB event.
    let body = serde_json::json!({"app_id": APP, "project_id": "p", "message": {"id": "01BIG",
        "conversation_id": "01CONV",
        "contact_message": {"fallback_message": {"raw_message": "x".repeat(150 * 1024)}}}})
    .to_string();
    let answer = post(&webhook, body.as_bytes()).await;
    assert_eq!(answer.status, StatusCode::OK);
    let events = queued(&webhook);
    let EventBody::Unsupported { unsupported } = &events[0].body else {
        panic!()
    };
    let kept = webhook.quarantine_port().kept();
    assert_eq!(
        unsupported.callback_s3_key.as_deref(),
        Some(kept[0].key.as_str())
    );
    assert_eq!(kept[0].body, body.as_bytes());
}

#[tokio::test]
async fn an_unavailable_quarantine_asks_for_a_retry() {
    let webhook = webhook();
    webhook.quarantine_port().fail(true);
    assert_eq!(
        post(&webhook, b"not json").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn an_unavailable_config_store_asks_for_a_retry() {
    let webhook = webhook();
    webhook
        .config_source()
        .fail_with(Some(StoreError::Unavailable("down".into())));
    assert_eq!(
        post(&webhook, &text_mo("01S", "hi")).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn a_passed_deadline_answers_503_before_any_call() {
    let webhook = webhook();
    let body = text_mo("01D", "hi");
    let headers = signed_headers("acme-secret", &body, "n", TIMESTAMP);
    let answer = webhook
        .handle_at(
            WebhookRequest {
                method: &Method::POST,
                path: "/acme/sms/sinchconversation/main",
                headers: &headers,
                body: &body,
                deadline: Deadline::after(Duration::ZERO),
            },
            now(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(webhook.ingest().messages().is_empty());
}

#[tokio::test]
async fn a_custom_signature_window_is_honoured() {
    let webhook = webhook_with(&[("SWITCHBOARD_SIGNATURE_WINDOW_SECS", "10")]);
    let body = text_mo("01W", "hi");
    let inside = signed_headers("acme-secret", &body, "n1", TIMESTAMP - 10);
    let outside = signed_headers("acme-secret", &body, "n2", TIMESTAMP - 11);
    let path = "/acme/sms/sinchconversation/main";
    assert_eq!(
        post_with(&webhook, path, &inside, &body).await.status,
        StatusCode::OK
    );
    assert_eq!(
        post_with(&webhook, path, &outside, &body).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn callbacks_without_conversation_or_identity_are_ordered_per_app() {
    let webhook = webhook();
    let body = serde_json::json!({"app_id": APP, "project_id": "p", "channel_event_notification": {
        "channel_event": {"channel": "WHATSAPP", "event_type": "QUALITY_RATING", "additional_data": {}}}})
    .to_string();
    assert_eq!(post(&webhook, body.as_bytes()).await.status, StatusCode::OK);
    assert_eq!(
        webhook.ingest().messages()[0].group_id,
        format!("acme/a/{APP}")
    );
}

#[tokio::test]
async fn the_all_route_finds_the_service_by_app_id_and_reads_nothing_else_first() {
    let webhook = webhook();
    let body = text_mo("01ALL", "hi");
    let headers = signed_headers("acme-secret", &body, "n", TIMESTAMP);
    let answer = post_with(&webhook, "/acme/sms/sinchconversation/all", &headers, &body).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(queued(&webhook)[0].service, "main");
}

#[tokio::test]
async fn non_post_and_foreign_paths_are_refused_without_a_lookup() {
    let webhook = webhook();
    let headers = HeaderMap::new();
    let get = webhook
        .handle_at(
            WebhookRequest {
                method: &Method::GET,
                path: "/acme/sms/sinchconversation/main",
                headers: &headers,
                body: b"",
                deadline: Deadline::after(Duration::from_secs(10)),
            },
            now(),
        )
        .await;
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);
    let elsewhere = post_with(&webhook, "/wp-admin/login.php", &headers, b"{}").await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    assert_eq!(webhook.config_source().index_loads(), 0);
}
