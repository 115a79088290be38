//! The inbound stage on in-memory ports and a local HTTP server that serves files of several
//! types, missing and failing ones, false claims, lies about length, and redirects (also to
//! addresses that must never be fetched); and a raw TCP server for what a well-behaved HTTP
//! server never does: bodies that stall, drip, stop short of their Content-Length or end in a
//! reset, and a host that accepts the connection but never answers. One test per row of the
//! failure table this stage owns.
//!
//! Timeouts are set short here (a 300 ms read timeout) so a stalled host fails fast; the tests
//! assert what becomes of the record, never how long it took.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use chrono::{TimeZone, Utc};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use switchboard_media::enrich::Enricher;
use switchboard_media::fetch::SafeFetcher;
use switchboard_media::forward::MemoryEventQueue;
use switchboard_media::settings::Settings;
use switchboard_media::store::MemoryMediaStore;
use switchboard_media::{MediaStage, Outcome, Record};
use switchboard_shared::config::credentials::MemoryCredentials;
use switchboard_shared::config::memory::{MemoryConfigSource, sample_tenant};
use switchboard_shared::contract::{EventBody, InboundEvent, MediaStatus};
use switchboard_shared::deadline::Deadline;
use switchboard_shared::kit::Invocation;
use switchboard_shared::media::address_policy::AddressPolicy;
use switchboard_shared::state::delivery::MemoryDeliveryStatus;
use switchboard_shared::state::idempotency::MemoryIdempotency;
use switchboard_shared::state::names::MemoryDisplayNames;
use switchboard_shared::state::reply_map::MemoryReplyIdMap;
use switchboard_testkit::media::{PDF, PNG};

type Stage = MediaStage<
    MemoryConfigSource,
    MemoryIdempotency,
    MemoryDeliveryStatus,
    MemoryMediaStore,
    MemoryEventQueue,
    Enricher<MemoryDisplayNames, MemoryReplyIdMap, MemoryCredentials>,
>;

/// The stack's events queue, named as CloudFormation names it (so the stack's own queues are
/// recognised), and the acme WhatsApp queue's own target.
const EVENTS: &str =
    "https://sqs.eu-west-1.amazonaws.com/123456789012/switchboard-EventsQueue-AbC123.fifo";
const ACME_TARGET: &str = "https://sqs.eu-west-1.amazonaws.com/123456789012/acme-whatsapp.fifo";
const ACME_QUEUE: &str = "01ACMEAPP@whatsapp.sinchconversation.com";

const OGG: &[u8] = b"OggS\0\x02\0\0\0\0\0\0\0\0\x01\x02\x03\x04";

async fn serve(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let reply = |status: u16, content_type: &str, body: Vec<u8>| {
        Response::builder()
            .status(status)
            .header("content-type", content_type)
            .body(Full::new(Bytes::from(body)))
            .unwrap()
    };
    let redirect = |to: String| {
        Response::builder()
            .status(StatusCode::FOUND)
            .header("location", to)
            .body(Full::new(Bytes::new()))
            .unwrap()
    };
    Ok(match path.as_str() {
        "/image.png" => reply(200, "image/png", PNG.to_vec()),
        "/voice.ogg" => reply(200, "audio/ogg; codecs=opus", OGG.to_vec()),
        "/doc.pdf" => reply(200, "application/octet-stream", PDF.to_vec()),
        "/fake.png" => reply(
            200,
            "image/png",
            b"<html><script>alert(1)</script></html>".to_vec(),
        ),
        "/page.html" => reply(200, "text/html", b"<html></html>".to_vec()),
        "/big.pdf" => {
            let mut body = PDF.to_vec();
            body.resize(3 * 1024 * 1024, b'x');
            reply(200, "application/pdf", body)
        }
        "/missing" => reply(404, "text/plain", b"no".to_vec()),
        "/flaky" => reply(503, "text/plain", b"later".to_vec()),
        "/throttled" => reply(429, "text/plain", b"slow down".to_vec()),
        "/to-metadata" => redirect("http://169.254.169.254/latest/meta-data/".into()),
        "/to-private" => redirect("https://10.0.0.1/x.png".into()),
        "/to-image" => redirect("/image.png".into()),
        other if other.starts_with("/hop/") => {
            let n: u32 = other[5..].parse().unwrap_or(0);
            redirect(format!("/hop/{}", n + 1))
        }
        _ => reply(404, "text/plain", Vec::new()),
    })
}

async fn file_server() -> SocketAddr {
    switchboard_testkit::serve_loopback(serve).await
}

/// A PDF of `len` bytes (its head sniffs as a PDF), the same for a given length.
fn pdf_of(len: usize) -> Vec<u8> {
    let mut body = PDF.to_vec();
    body.extend((0..len.saturating_sub(PDF.len())).map(|i| (i % 251) as u8));
    body.truncate(len);
    body
}

/// Past the bytes sniffed for the type, so a failure comes once the upload has begun.
const SENT_BEFORE_TROUBLE: usize = 2000;
/// The slow body: this many chunks, with a pause between them shorter than the read timeout.
const SLOW_CHUNKS: usize = 30;
const SLOW_CHUNK: usize = 100;

fn pdf_headers(length: u64) -> String {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/pdf\r\ncontent-length: {length}\r\nconnection: close\r\n\r\n"
    )
}

/// Behaviours no HTTP library would produce, written byte by byte. The path of the request
/// line picks one.
async fn misbehave(path: String, mut stream: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt;
    let forever = || tokio::time::sleep(Duration::from_secs(3600));
    match path.as_str() {
        // The headers and the start of the body, then silence with the connection open.
        "/stall" => {
            let _ = stream.write_all(pdf_headers(10_000).as_bytes()).await;
            let _ = stream
                .write_all(&pdf_of(10_000)[..SENT_BEFORE_TROUBLE])
                .await;
            forever().await;
        }
        // Every chunk in time; the whole takes far longer than one read timeout.
        "/slow" => {
            let body = pdf_of(SLOW_CHUNKS * SLOW_CHUNK);
            let _ = stream
                .write_all(pdf_headers(body.len() as u64).as_bytes())
                .await;
            for chunk in body.chunks(SLOW_CHUNK) {
                if stream.write_all(chunk).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        // A byte at a time, for ever (the length is under the limit, so it is not refused
        // up front): never idle long enough for the read timeout.
        "/drip" => {
            let _ = stream.write_all(pdf_headers(900_000).as_bytes()).await;
            let _ = stream.write_all(&pdf_of(SENT_BEFORE_TROUBLE)).await;
            loop {
                if stream.write_all(b"x").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        // Promises 10 000 bytes, sends 2 000, closes.
        "/short" => {
            let _ = stream.write_all(pdf_headers(10_000).as_bytes()).await;
            let _ = stream
                .write_all(&pdf_of(10_000)[..SENT_BEFORE_TROUBLE])
                .await;
            let _ = stream.shutdown().await;
        }
        // Announces more than any limit, then sends nothing: reading the body would stall.
        "/huge" => {
            let _ = stream
                .write_all(pdf_headers(50 * 1024 * 1024 * 1024).as_bytes())
                .await;
            forever().await;
        }
        // The start of the body, then a TCP reset (a zero linger turns the close into an RST).
        "/reset" => {
            let _ = stream.write_all(pdf_headers(10_000).as_bytes()).await;
            let _ = stream
                .write_all(&pdf_of(10_000)[..SENT_BEFORE_TROUBLE])
                .await;
            let _ = stream.flush().await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = stream.set_zero_linger();
            drop(stream);
        }
        // Reads the request and never says a word.
        _ => forever().await,
    }
}

async fn raw_server() -> SocketAddr {
    switchboard_testkit::raw_loopback(misbehave).await
}

fn settings(allow: &str) -> Settings {
    settings_with(allow, &[])
}

fn settings_with(allow: &str, extra: &[(&'static str, &str)]) -> Settings {
    let mut pairs = vec![
        ("SWITCHBOARD_CONFIG_TABLE", "config".to_owned()),
        ("SWITCHBOARD_STATE_TABLE", "state".to_owned()),
        ("SWITCHBOARD_EVENTS_QUEUE_URL", EVENTS.to_owned()),
        ("SWITCHBOARD_MEDIA_BUCKET", "media".to_owned()),
        ("SWITCHBOARD_MAX_MEDIA_BYTES", (1024 * 1024).to_string()),
        ("SWITCHBOARD_MEDIA_ALLOW_LOCAL", allow.to_owned()),
    ];
    pairs.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    Settings::from_lookup(|name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
    .unwrap()
}

async fn stage() -> (Stage, SocketAddr) {
    let addr = file_server().await;
    (stage_for(settings(&addr.to_string())), addr)
}

/// A stage with a 300 ms read timeout, the file server and the misbehaving one.
async fn impatient_stage() -> (Stage, SocketAddr, SocketAddr) {
    let files = file_server().await;
    let raw = raw_server().await;
    let settings = settings_with(
        &format!("{files},{raw}"),
        &[
            ("SWITCHBOARD_MEDIA_READ_TIMEOUT_MS", "300"),
            ("SWITCHBOARD_MEDIA_CONNECT_TIMEOUT_MS", "1000"),
        ],
    );
    (stage_for(settings), files, raw)
}

fn stage_for(settings: Settings) -> Stage {
    stage_with_config(settings, MemoryConfigSource::default())
}

/// acme, its WhatsApp queue with its own target.
fn acme() -> serde_json::Value {
    let mut tenant = sample_tenant("acme");
    tenant["queues"] = serde_json::json!([{
        "address": ACME_QUEUE, "service": "main", "target_queue_url": ACME_TARGET
    }]);
    tenant
}

fn stage_with_config(settings: Settings, config: MemoryConfigSource) -> Stage {
    config.insert(acme());
    stage_over(settings, config)
}

/// A stage over `config` as it is.
fn stage_over(settings: Settings, config: MemoryConfigSource) -> Stage {
    let fetcher =
        SafeFetcher::with_timeouts(settings.address_policy.clone(), settings.fetch_timeouts)
            .unwrap();
    MediaStage::new(
        config,
        MemoryIdempotency::default(),
        MemoryDeliveryStatus::default(),
        MemoryMediaStore::default(),
        MemoryEventQueue::default(),
        fetcher,
        // These events name no contact and quote nothing: enrichment has nothing to add.
        Enricher::new(
            MemoryDisplayNames::default(),
            MemoryReplyIdMap::default(),
            MemoryCredentials::default(),
            switchboard_shared::sinch::api::SinchClient::new(Default::default()).unwrap(),
            std::time::Duration::from_secs(1),
        ),
        settings,
    )
}

fn media_event(event_id: &str, urls: &[String]) -> String {
    let media: Vec<serde_json::Value> = urls
        .iter()
        .map(|url| serde_json::json!({"source_url": url, "thumbnail_url": null, "filename": null, "caption": null,
            "status": "pending", "s3_key": null, "url": null, "url_expires_at": null, "content_type": null,
            "size_bytes": null, "failure_reason": null}))
        .collect();
    serde_json::json!({
        "schema_version": 1, "event_id": event_id, "tenant": "acme", "service": "main",
        "queue_address": "01ACMEAPP@whatsapp.sinchconversation.com", "app_id": "01ACMEAPP", "project_id": "p",
        "channel": "WHATSAPP", "contact": null, "conversation_id": "01CONV", "processing_mode": "CONVERSATION",
        "sinch_times": {"accepted_time": null, "event_time": null}, "received_at": "2026-12-01T00:00:00Z",
        "correlation_id": null, "attached_data": {}, "message_metadata": null, "reply_id": null,
        "kind": "message", "message": {"message_id": "01MSG", "content_kind": "media_message", "text": null,
            "media": media, "location": null, "choice_response": null, "quoted_message": null,
            "sender_id": null, "raw_content": null}
    })
    .to_string()
}

fn dlr_event(event_id: &str, status: &str) -> String {
    serde_json::json!({
        "schema_version": 1, "event_id": event_id, "tenant": "acme", "service": "main",
        "queue_address": null, "app_id": "01ACMEAPP", "project_id": "p", "channel": "WHATSAPP", "contact": null,
        "conversation_id": "01CONV", "processing_mode": null,
        "sinch_times": {"accepted_time": null, "event_time": null}, "received_at": "2026-12-01T00:00:00Z",
        "correlation_id": null, "attached_data": {}, "message_metadata": null, "reply_id": null,
        "kind": "delivery", "delivery": {"message_id": "01AGENTMSG", "status": status, "reason": null, "metadata": null}
    })
    .to_string()
}

async fn handle(
    stage: &Stage,
    body: &str,
) -> Result<Outcome, switchboard_media::handler::StageError> {
    handle_within(stage, body, Deadline::after(Duration::from_secs(60))).await
}

async fn handle_within(
    stage: &Stage,
    body: &str,
    deadline: Deadline,
) -> Result<Outcome, switchboard_media::handler::StageError> {
    handle_received(stage, body, 1, deadline).await
}

/// The record on its `receive_count`th receive from SQS.
async fn handle_received(
    stage: &Stage,
    body: &str,
    receive_count: u32,
    deadline: Deadline,
) -> Result<Outcome, switchboard_media::handler::StageError> {
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap();
    stage
        .handle(
            Record {
                body,
                group_id: "acme/c/01CONV",
                message_id: "m1",
                sender_id: None,
                receive_count,
            },
            &Invocation::new(now, deadline),
        )
        .await
}

fn forwarded(stage: &Stage) -> Vec<InboundEvent> {
    stage
        .queue()
        .sent()
        .iter()
        .map(|o| serde_json::from_str(&o.message.body).unwrap())
        .collect()
}

fn items(event: &InboundEvent) -> Vec<switchboard_shared::contract::MediaItem> {
    match &event.body {
        EventBody::Message { message } => message.media.clone(),
        _ => panic!("not a message"),
    }
}

#[tokio::test]
async fn media_is_stored_with_its_real_type_and_the_event_forwarded_to_the_queues_target() {
    let (stage, addr) = stage().await;
    let urls: Vec<String> = ["image.png", "voice.ogg", "doc.pdf", "to-image"]
        .iter()
        .map(|p| format!("http://{addr}/{p}"))
        .collect();
    let outcome = handle(&stage, &media_event("ev1", &urls)).await.unwrap();
    assert!(
        matches!(outcome, Outcome::Forwarded { ref queue_url, .. } if queue_url == ACME_TARGET),
        "{outcome:?}"
    );
    let sent = stage.queue().sent();
    assert_eq!(
        (
            sent[0].message.group_id.as_str(),
            sent[0].message.deduplication_id.as_str()
        ),
        ("acme/c/01CONV", "ev1")
    );
    let media = items(&forwarded(&stage)[0]);
    let types: Vec<_> = media
        .iter()
        .map(|i| (i.status, i.content_type.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        types,
        [
            (MediaStatus::Stored, "image/png".to_owned()),
            (MediaStatus::Stored, "audio/ogg".to_owned()),
            (MediaStatus::Stored, "application/pdf".to_owned()),
            (MediaStatus::Stored, "image/png".to_owned()),
        ]
    );
    let objects = stage.store().objects.lock().unwrap().clone();
    let key = media[0].s3_key.clone().unwrap();
    assert!(
        key.starts_with("inbound/acme/2026-12-01/ev1/0-image.png"),
        "{key}"
    );
    assert_eq!(objects[&key].1, PNG, "the exact bytes");
    assert_eq!(media[2].size_bytes, Some(PDF.len() as u64));
}

#[tokio::test]
async fn permanent_media_failures_forward_the_event_with_the_item_failed_and_why() {
    let (stage, addr) = stage().await;
    let cases = [
        (format!("http://{addr}/missing"), "404"),
        (format!("http://{addr}/fake.png"), "does not look like"),
        (format!("http://{addr}/page.html"), "text/html"),
        (format!("http://{addr}/big.pdf"), "larger than the limit"),
        (format!("http://{addr}/to-metadata"), "http"),
        (format!("http://{addr}/to-private"), "blocked address"),
        (format!("http://{addr}/hop/0"), "redirect"),
        ("https://127.0.0.1/x.png".to_owned(), "blocked address"),
        ("https://10.0.0.1/x.png".to_owned(), "blocked address"),
        (
            "https://169.254.169.254/latest/meta-data/".to_owned(),
            "metadata",
        ),
        ("https://[::1]/x.png".to_owned(), "blocked address"),
        ("https://localhost/x.png".to_owned(), "blocked address"),
        ("http://example.com/x.png".to_owned(), "https only"),
    ];
    let urls: Vec<String> = cases.iter().map(|(u, _)| u.clone()).collect();
    handle(&stage, &media_event("ev2", &urls)).await.unwrap();
    let media = items(&forwarded(&stage)[0]);
    for ((url, why), item) in cases.iter().zip(&media) {
        assert_eq!(item.status, MediaStatus::Failed, "{url}");
        let reason = item.failure_reason.clone().unwrap_or_default();
        assert!(reason.contains(why), "{url}: {reason}");
    }
    assert!(
        stage.store().objects.lock().unwrap().is_empty(),
        "nothing stored"
    );
}

#[tokio::test]
async fn a_transient_failure_fails_the_record_and_forwards_nothing_until_it_passes() {
    let (stage, addr) = stage().await;
    let body = media_event("ev3", &[format!("http://{addr}/flaky")]);
    assert!(handle(&stage, &body).await.is_err());
    assert!(stage.queue().sent().is_empty(), "never forwarded half-done");
    // The claim was released: a retry is not blocked (and would forward once it passes).
    stage.queue().fail(true);
    let retry = media_event("ev3", &[format!("http://{addr}/image.png")]);
    assert!(handle(&stage, &retry).await.is_err(), "the queue is down");
    stage.queue().fail(false);
    assert!(matches!(
        handle(&stage, &retry).await.unwrap(),
        Outcome::Forwarded { .. }
    ));
}

#[tokio::test]
async fn the_same_event_is_forwarded_once_however_often_it_comes() {
    let (stage, addr) = stage().await;
    let body = media_event("ev4", &[format!("http://{addr}/image.png")]);
    for _ in 0..3 {
        handle(&stage, &body).await.unwrap();
    }
    assert_eq!(stage.queue().sent().len(), 1);
    assert!(matches!(
        handle(&stage, &body).await.unwrap(),
        Outcome::AlreadyForwarded { .. }
    ));
}

#[tokio::test]
async fn delivery_reports_out_of_order_never_move_a_status_backwards() {
    let (stage, _) = stage().await;
    for (id, status) in [
        ("d1", "DELIVERED"),
        ("d2", "QUEUED_ON_CHANNEL"),
        ("d3", "READ"),
        ("d4", "DELIVERED"),
        ("d5", "FAILED"),
    ] {
        handle(&stage, &dlr_event(id, status)).await.unwrap();
    }
    let statuses: Vec<String> = forwarded(&stage)
        .iter()
        .map(|e| match &e.body {
            EventBody::Delivery { delivery } => delivery.status.clone(),
            _ => panic!(),
        })
        .collect();
    assert_eq!(statuses, ["DELIVERED", "READ", "FAILED"]);
    assert_eq!(
        stage.queue().sent()[0].queue_url,
        EVENTS,
        "no queue address: the events queue"
    );
}

#[tokio::test]
async fn a_delivery_report_whose_forward_failed_is_forwarded_on_its_retry() {
    let (stage, _) = stage().await;
    let report = dlr_event("d-retry", "DELIVERED");
    stage.queue().fail(true);
    assert!(
        handle(&stage, &report).await.is_err(),
        "the queue is down after the status moved"
    );
    stage.queue().fail(false);
    assert!(
        matches!(
            handle(&stage, &report).await.unwrap(),
            Outcome::Forwarded { .. }
        ),
        "its own step is not stale: the report was never forwarded"
    );
    assert_eq!(forwarded(&stage).len(), 1);
}

#[tokio::test]
async fn a_record_that_is_not_an_event_fails_without_forwarding() {
    let (stage, _) = stage().await;
    assert!(handle(&stage, "{not json").await.is_err());
    assert!(stage.queue().sent().is_empty());
}

#[tokio::test]
async fn without_the_local_allow_list_loopback_is_never_fetched() {
    let addr = file_server().await;
    let fetcher = SafeFetcher::new(AddressPolicy::default()).unwrap();
    let err = fetcher
        .get(&format!("http://{addr}/image.png"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("https only"), "{err}");
}

#[tokio::test]
async fn a_stored_item_carries_an_agent_link_until_the_end_of_the_tenants_retention() {
    use secrecy::SecretSlice;
    use switchboard_shared::media::link::{LinkKey, LinkKeys};
    use switchboard_shared::media::link_keys::LinkKeyCache;
    let link_keys = || LinkKeys {
        current: LinkKey {
            id: "k1".into(),
            secret: SecretSlice::from(b"0123456789abcdef0123456789abcdef".to_vec()),
        },
        previous: None,
    };
    let (stage, addr) = stage().await;
    let stage = stage.with_links(switchboard_media::links::MediaLinks::new(
        LinkKeyCache::fixed(link_keys()),
        "https://api.example",
    ));
    let urls = [
        format!("http://{addr}/image.png"),
        format!("http://{addr}/missing"),
    ];
    handle(&stage, &media_event("ev-link", &urls))
        .await
        .unwrap();
    let media = items(&forwarded(&stage)[0]);
    let url = media[0].url.clone().unwrap();
    let token = url.strip_prefix("https://api.example/acme/media/").unwrap();
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap();
    let link = link_keys().verify("acme", token, now).unwrap();
    assert_eq!(Some(link.s3_key), media[0].s3_key);
    // sample_tenant keeps inbound media 30 days (the default): stored on December 1st, the
    // object may go from January 1st 00:00.
    let end = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
    assert_eq!(media[0].url_expires_at, Some(end));
    assert_eq!(link.expires_at, end);
    assert_eq!(
        (media[1].url.clone(), media[1].url_expires_at),
        (None, None)
    );
}

/// A record whose media fails transiently: it fails (to be retried), nothing is forwarded or
/// stored, and its claim is released (the retry, once the media can be had, is forwarded).
/// Returns the reason.
async fn assert_transient(stage: &Stage, files: SocketAddr, event_id: &str, url: String) -> String {
    use switchboard_media::fetch::FetchError;
    use switchboard_media::handler::StageError;
    let err = handle(stage, &media_event(event_id, std::slice::from_ref(&url)))
        .await
        .unwrap_err();
    let StageError::Media(FetchError::Transient(reason)) = err else {
        panic!("{url}: not a transient media failure: {err:?}");
    };
    assert!(stage.queue().sent().is_empty(), "{url}: nothing forwarded");
    assert!(
        stage.store().objects.lock().unwrap().is_empty(),
        "{url}: no object, not even a partial one"
    );
    let retry = media_event(event_id, &[format!("http://{files}/image.png")]);
    assert!(
        matches!(
            handle(stage, &retry).await.unwrap(),
            Outcome::Forwarded { .. }
        ),
        "{url}: the claim was released"
    );
    reason
}

#[tokio::test]
async fn a_body_that_stalls_after_the_headers_is_a_transient_failure() {
    let (stage, files, raw) = impatient_stage().await;
    let reason = assert_transient(&stage, files, "ev-stall", format!("http://{raw}/stall")).await;
    assert!(
        !reason.contains(switchboard_shared::media::download::OUT_OF_TIME),
        "the read timeout, not the deadline: {reason}"
    );
}

#[tokio::test]
async fn a_host_that_accepts_the_connection_but_never_answers_is_a_transient_failure() {
    let (stage, files, raw) = impatient_stage().await;
    let reason = assert_transient(&stage, files, "ev-silent", format!("http://{raw}/silent")).await;
    assert!(
        !reason.contains(switchboard_shared::media::download::OUT_OF_TIME),
        "the read timeout, not the deadline: {reason}"
    );
}

#[tokio::test]
async fn a_content_length_that_promises_more_than_is_sent_is_a_transient_failure() {
    let (stage, files, raw) = impatient_stage().await;
    assert_transient(&stage, files, "ev-short", format!("http://{raw}/short")).await;
}

#[tokio::test]
async fn a_connection_reset_mid_body_is_a_transient_failure() {
    let (stage, files, raw) = impatient_stage().await;
    assert_transient(&stage, files, "ev-reset", format!("http://{raw}/reset")).await;
}

#[tokio::test]
async fn a_429_is_a_transient_failure() {
    let (stage, files, _) = impatient_stage().await;
    let reason =
        assert_transient(&stage, files, "ev-429", format!("http://{files}/throttled")).await;
    assert!(reason.contains("429"), "{reason}");
}

#[tokio::test]
async fn a_download_still_running_at_the_deadline_is_cut_off_and_nothing_is_stored() {
    use switchboard_media::handler::FORWARD_RESERVE;
    let (stage, files, raw) = impatient_stage().await;
    // The body never ends but is never idle: only the deadline stops it.
    let err = handle_within(
        &stage,
        &media_event("ev-drip", &[format!("http://{raw}/drip")]),
        Deadline::after(FORWARD_RESERVE + Duration::from_millis(500)),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains(switchboard_shared::media::download::OUT_OF_TIME),
        "{err}"
    );
    assert!(stage.queue().sent().is_empty());
    assert!(stage.store().objects.lock().unwrap().is_empty());
    let retry = media_event("ev-drip", &[format!("http://{files}/image.png")]);
    assert!(matches!(
        handle(&stage, &retry).await.unwrap(),
        Outcome::Forwarded { .. }
    ));
}

#[tokio::test]
async fn a_slow_but_steady_body_is_stored_whole() {
    let (stage, _, raw) = impatient_stage().await;
    handle(
        &stage,
        &media_event("ev-slow", &[format!("http://{raw}/slow")]),
    )
    .await
    .unwrap();
    let media = items(&forwarded(&stage)[0]);
    assert_eq!(media[0].status, MediaStatus::Stored, "{:?}", media[0]);
    let key = media[0].s3_key.clone().unwrap();
    let objects = stage.store().objects.lock().unwrap().clone();
    assert!(
        objects[&key].1 == pdf_of(SLOW_CHUNKS * SLOW_CHUNK),
        "the exact bytes"
    );
    assert_eq!(media[0].size_bytes, Some((SLOW_CHUNKS * SLOW_CHUNK) as u64));
}

#[tokio::test]
async fn a_content_length_over_the_limit_fails_the_item_before_the_body_is_read() {
    let (stage, _, raw) = impatient_stage().await;
    // The server sends no body at all: reading it would end in the read timeout (transient),
    // so a permanent failure shows the header alone decided.
    handle(
        &stage,
        &media_event("ev-huge", &[format!("http://{raw}/huge")]),
    )
    .await
    .unwrap();
    let media = items(&forwarded(&stage)[0]);
    assert_eq!(media[0].status, MediaStatus::Failed);
    let reason = media[0].failure_reason.clone().unwrap_or_default();
    assert!(reason.contains("larger than the limit"), "{reason}");
    assert!(stage.store().objects.lock().unwrap().is_empty());
}

/// A tenant whose configuration cannot be read for good (corrupt in the store): the event is
/// still forwarded, to the events queue, with each pending item failed and why, and the record
/// is done (a permanent failure that a retry would only repeat, holding the conversation back).
#[tokio::test]
async fn an_unreadable_tenant_config_forwards_the_event_with_its_media_failed() {
    let addr = file_server().await;
    let config = MemoryConfigSource::default();
    config.fail_with(Some(switchboard_shared::config::StoreError::Corrupt {
        tenant: "acme".into(),
        problem: "queues: not a list".into(),
    }));
    let stage = stage_with_config(settings(&addr.to_string()), config);
    let body = media_event("ev-corrupt", &[format!("http://{addr}/image.png")]);
    assert!(matches!(
        handle(&stage, &body).await.unwrap(),
        Outcome::Forwarded { .. }
    ));
    let sent = stage.queue().sent();
    assert_eq!(sent[0].queue_url, EVENTS, "its own target is unknown");
    let media = items(&forwarded(&stage)[0]);
    assert_eq!(media[0].status, MediaStatus::Failed);
    let reason = media[0].failure_reason.clone().unwrap_or_default();
    assert!(reason.contains("configuration cannot be read"), "{reason}");
    assert!(
        stage.store().objects.lock().unwrap().is_empty(),
        "nothing fetched"
    );
}

/// Through the kit's FIFO shell: a record that is not an event fails for good, is logged and
/// done; the next record of its conversation is forwarded, and nothing is reported to SQS. A
/// transient failure is reported with the rest of its conversation.
#[tokio::test]
async fn a_permanent_failure_does_not_hold_its_conversation_back_but_a_transient_one_does() {
    use switchboard_shared::kit::fifo::handle_batch;
    let (stage, addr) = stage().await;
    let record = |id: &str, body: String| {
        let mut message = aws_lambda_events::event::sqs::SqsMessage::default();
        message.message_id = Some(id.into());
        message.body = Some(body);
        message
            .attributes
            .insert("MessageGroupId".into(), "acme/c/01CONV".into());
        message
    };
    let mut event = aws_lambda_events::event::sqs::SqsEvent::default();
    event.records = vec![
        record("m1", "{not json".into()),
        record(
            "m2",
            media_event("ev-after", &[format!("http://{addr}/image.png")]),
        ),
    ];
    let invocation = Invocation::new(Utc::now(), Deadline::after(Duration::from_secs(60)));
    let response = handle_batch(&stage, &event, &invocation).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(forwarded(&stage).len(), 1, "m2 went on");

    event.records = vec![
        record(
            "m3",
            media_event("ev-flaky", &[format!("http://{addr}/flaky")]),
        ),
        record(
            "m4",
            media_event("ev-behind", &[format!("http://{addr}/image.png")]),
        ),
    ];
    let response = handle_batch(&stage, &event, &invocation).await;
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["m3", "m4"]);
    assert_eq!(forwarded(&stage).len(), 1, "nothing more forwarded");
}

/// Where events go: `config::targets`, as in the outbound function.
mod targets {
    use switchboard_media::handler::StageError;
    use switchboard_shared::error::Classify;

    use super::*;

    const DEFAULT: &str = "https://sqs.eu-west-1.amazonaws.com/123456789012/acme-events.fifo";

    /// acme with `contact_center.default_target_queue_url` `default` and its WhatsApp queue's
    /// own target `queue` (either may be absent).
    fn acme_targeting(default: Option<&str>, queue: Option<&str>) -> serde_json::Value {
        let mut tenant = sample_tenant("acme");
        tenant["queues"] = serde_json::json!([{
            "address": ACME_QUEUE, "service": "main", "target_queue_url": queue
        }]);
        if let Some(default) = default {
            tenant["contact_center"]["default_target_queue_url"] = serde_json::json!(default);
        }
        tenant
    }

    async fn stage_for_tenant(tenant: serde_json::Value) -> (Stage, SocketAddr) {
        let addr = file_server().await;
        let config = MemoryConfigSource::default();
        config.insert(tenant);
        (stage_over(settings(&addr.to_string()), config), addr)
    }

    fn targets_sent(stage: &Stage) -> Vec<String> {
        stage
            .queue()
            .sent()
            .into_iter()
            .map(|sent| sent.queue_url)
            .collect()
    }

    #[tokio::test]
    async fn events_go_to_the_tenants_default_target_when_their_queue_names_none() {
        let (stage, addr) = stage_for_tenant(acme_targeting(Some(DEFAULT), None)).await;
        let media = media_event("ev-default", &[format!("http://{addr}/image.png")]);
        handle(&stage, &media).await.unwrap();
        // A delivery report names no queue: the tenant's default too.
        handle(&stage, &dlr_event("d-default", "DELIVERED"))
            .await
            .unwrap();
        assert_eq!(
            targets_sent(&stage),
            [DEFAULT, DEFAULT],
            "never the stack's events queue"
        );
    }

    #[tokio::test]
    async fn a_queues_own_target_wins_over_the_tenants_default() {
        let (stage, addr) =
            stage_for_tenant(acme_targeting(Some(DEFAULT), Some(ACME_TARGET))).await;
        let media = media_event("ev-own", &[format!("http://{addr}/image.png")]);
        let outcome = handle(&stage, &media).await.unwrap();
        assert!(
            matches!(outcome, Outcome::Forwarded { ref queue_url, .. } if queue_url == ACME_TARGET),
            "{outcome:?}"
        );
        handle(&stage, &dlr_event("d-own", "DELIVERED"))
            .await
            .unwrap();
        assert_eq!(targets_sent(&stage), [ACME_TARGET, DEFAULT]);
    }

    /// A refused target is a config error a retry cannot fix, but the event has nowhere safe to
    /// go: the record fails transiently (it stays on ingest.fifo, then the ingest dead-letter
    /// queue), before any media is fetched; nothing is sent anywhere, not even to the events
    /// queue.
    #[tokio::test]
    async fn a_refused_target_fails_the_record_before_anything_moves_and_sends_nothing() {
        const REPLIES: &str =
            "https://sqs.eu-west-1.amazonaws.com/123456789012/switchboard-RepliesQueue-Zz9.fifo";
        const INGEST_DLQ: &str = "https://sqs.eu-west-1.amazonaws.com/123456789012/switchboard-IngestDeadLetterQueue-Zz9.fifo";
        let queue_field = format!("queues['{ACME_QUEUE}'].target_queue_url");
        let default_field = "contact_center.default_target_queue_url".to_owned();
        for (default, queue, field, problem) in [
            (None, Some(REPLIES), &queue_field, "this stack's own queues"),
            (
                Some(DEFAULT),
                Some(INGEST_DLQ),
                &queue_field,
                "this stack's own queues",
            ),
            (
                None,
                Some("http://127.0.0.1:4566/123456789012/acme.fifo"),
                &queue_field,
                "loopback",
            ),
            (
                None,
                Some("https://sqs.eu-west-1.amazonaws.com/123456789012/acme-events"),
                &queue_field,
                "not a FIFO queue",
            ),
            (
                Some(INGEST_DLQ),
                None,
                &default_field,
                "this stack's own queues",
            ),
        ] {
            let (stage, addr) = stage_for_tenant(acme_targeting(default, queue)).await;
            let body = media_event("ev-refused", &[format!("http://{addr}/image.png")]);
            let err = handle(&stage, &body).await.unwrap_err();
            let StageError::Target(refused) = &err else {
                panic!("{queue:?}/{default:?}: not a refused target: {err:?}");
            };
            assert_eq!(
                (&refused.tenant, &refused.field),
                (&"acme".to_owned(), field)
            );
            assert!(refused.problem.contains(problem), "{}", refused.problem);
            assert!(err.is_retryable(), "kept on ingest.fifo: {err}");
            assert!(stage.queue().sent().is_empty(), "{queue:?}: nothing sent");
            assert!(
                stage.store().objects.lock().unwrap().is_empty(),
                "{queue:?}: no media fetched"
            );
            // Every time it comes back, the same answer.
            assert!(matches!(
                handle(&stage, &body).await,
                Err(StageError::Target(_))
            ));
        }
    }
}

/// `SWITCHBOARD_MEDIA_MAX_RECEIVES` (3 here, the default): from that receive of a record on, a
/// media host that still fails transiently no longer holds the conversation back.
mod last_receive {
    use switchboard_media::fetch::FetchError;
    use switchboard_media::handler::{FORWARD_RESERVE, StageError};
    use switchboard_shared::media::download::OUT_OF_TIME;

    use super::*;

    fn within_a_minute() -> Deadline {
        Deadline::after(Duration::from_secs(60))
    }

    #[tokio::test]
    async fn on_its_last_allowed_receive_the_event_is_forwarded_with_the_failing_item_failed() {
        let (stage, addr) = stage().await;
        assert_eq!(stage.settings().max_receives, 3);
        let body = media_event(
            "ev-last",
            &[
                format!("http://{addr}/flaky"),
                format!("http://{addr}/image.png"),
            ],
        );
        let outcome = handle_received(&stage, &body, 3, within_a_minute())
            .await
            .unwrap();
        assert!(
            matches!(outcome, Outcome::Forwarded { ref queue_url, .. } if queue_url == ACME_TARGET),
            "{outcome:?}"
        );
        let event = &forwarded(&stage)[0];
        let media = items(event);
        assert_eq!(media[0].status, MediaStatus::Failed);
        let reason = media[0].failure_reason.clone().unwrap_or_default();
        assert!(
            reason.starts_with("the media could not be fetched in 3 attempts: ")
                && reason.contains("503"),
            "{reason}"
        );
        assert_eq!(
            (media[0].s3_key.clone(), media[0].url.clone()),
            (None, None)
        );
        assert_eq!(
            media[1].status,
            MediaStatus::Stored,
            "the others still stored"
        );
        // The rest of the event as it came: only the failed item changed.
        let mut sent = serde_json::to_value(event).unwrap();
        let mut original: serde_json::Value = serde_json::from_str(&body).unwrap();
        sent["message"]["media"] = serde_json::Value::Null;
        original["message"]["media"] = serde_json::Value::Null;
        assert_eq!(sent["message"], original["message"]);
        assert_eq!(sent["event_id"], "ev-last");
        // Done: the claim completed, a redelivery is not forwarded again.
        assert!(matches!(
            handle_received(&stage, &body, 4, within_a_minute())
                .await
                .unwrap(),
            Outcome::AlreadyForwarded { .. }
        ));
    }

    #[tokio::test]
    async fn on_an_earlier_receive_a_transient_media_failure_still_fails_the_record() {
        let (stage, addr) = stage().await;
        let body = media_event("ev-early", &[format!("http://{addr}/flaky")]);
        for receive in [1, 2] {
            let err = handle_received(&stage, &body, receive, within_a_minute())
                .await
                .unwrap_err();
            assert!(
                matches!(err, StageError::Media(FetchError::Transient(_))),
                "receive {receive}: {err:?}"
            );
            assert!(stage.queue().sent().is_empty(), "receive {receive}");
        }
        // The claim was released each time: the third receive gives up on the item.
        handle_received(&stage, &body, 3, within_a_minute())
            .await
            .unwrap();
        let media = items(&forwarded(&stage)[0]);
        assert_eq!(media[0].status, MediaStatus::Failed);
    }

    #[tokio::test]
    async fn a_download_cut_off_by_the_deadline_on_the_last_receive_fails_the_item_in_time() {
        let (stage, _, raw) = impatient_stage().await;
        // A host that drips bytes, never idle for the read timeout: only the deadline stops it,
        // with FORWARD_RESERVE left to forward and complete the claim.
        let body = media_event("ev-drip-last", &[format!("http://{raw}/drip")]);
        let deadline = Deadline::after(FORWARD_RESERVE + Duration::from_millis(500));
        handle_received(&stage, &body, 3, deadline).await.unwrap();
        let media = items(&forwarded(&stage)[0]);
        assert_eq!(media[0].status, MediaStatus::Failed);
        let reason = media[0].failure_reason.clone().unwrap_or_default();
        assert_eq!(
            reason,
            format!("the media could not be fetched in 3 attempts: {OUT_OF_TIME}")
        );
        assert!(
            stage.store().objects.lock().unwrap().is_empty(),
            "nothing of it stored"
        );
    }

    #[tokio::test]
    async fn on_the_last_receive_the_target_queue_failing_still_fails_the_record() {
        let (stage, addr) = stage().await;
        let body = media_event("ev-last-queue", &[format!("http://{addr}/flaky")]);
        stage.queue().fail(true);
        let err = handle_received(&stage, &body, 3, within_a_minute())
            .await
            .unwrap_err();
        assert!(matches!(err, StageError::Queue(_)), "{err:?}");
        stage.queue().fail(false);
        handle_received(&stage, &body, 4, within_a_minute())
            .await
            .unwrap();
        assert_eq!(forwarded(&stage).len(), 1);
    }

    #[tokio::test]
    async fn max_receives_of_one_gives_up_on_the_first_receive() {
        let addr = file_server().await;
        let stage = stage_for(settings_with(
            &addr.to_string(),
            &[("SWITCHBOARD_MEDIA_MAX_RECEIVES", "1")],
        ));
        let body = media_event("ev-once", &[format!("http://{addr}/throttled")]);
        handle_received(&stage, &body, 1, within_a_minute())
            .await
            .unwrap();
        let reason = items(&forwarded(&stage)[0])[0]
            .failure_reason
            .clone()
            .unwrap_or_default();
        assert!(
            reason.starts_with("the media could not be fetched in 1 attempts: ")
                && reason.contains("429"),
            "{reason}"
        );
    }

    /// Through the kit's FIFO shell: SQS's ApproximateReceiveCount reaches the stage. On the
    /// third receive the record is done and the record behind it in its conversation goes on.
    #[tokio::test]
    async fn through_the_kit_the_receive_count_is_sqss() {
        use switchboard_shared::kit::fifo::handle_batch;
        let (stage, addr) = stage().await;
        let record = |id: &str, body: String, receives: &str| {
            let mut message = aws_lambda_events::event::sqs::SqsMessage::default();
            message.message_id = Some(id.into());
            message.body = Some(body);
            message
                .attributes
                .insert("MessageGroupId".into(), "acme/c/01CONV".into());
            message
                .attributes
                .insert("ApproximateReceiveCount".into(), receives.into());
            message
        };
        let batch = |receives: &str| {
            let mut event = aws_lambda_events::event::sqs::SqsEvent::default();
            event.records = vec![
                record(
                    "m1",
                    media_event("ev-kit", &[format!("http://{addr}/flaky")]),
                    receives,
                ),
                record(
                    "m2",
                    media_event("ev-kit-next", &[format!("http://{addr}/image.png")]),
                    receives,
                ),
            ];
            event
        };
        let invocation = Invocation::new(Utc::now(), within_a_minute());
        let failed = |response: aws_lambda_events::event::sqs::SqsBatchResponse| {
            response
                .batch_item_failures
                .into_iter()
                .map(|f| f.item_identifier)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            failed(handle_batch(&stage, &batch("2"), &invocation).await),
            ["m1", "m2"]
        );
        assert!(forwarded(&stage).is_empty());
        assert!(failed(handle_batch(&stage, &batch("3"), &invocation).await).is_empty());
        let ids: Vec<String> = forwarded(&stage).into_iter().map(|e| e.event_id).collect();
        assert_eq!(ids, ["ev-kit", "ev-kit-next"]);
    }
}
