//! The stage within each tenant's `media` settings (size while streaming, types, hosts, also
//! through redirects), the reply ids it fills from the Sinch message id → reply id map, and
//! what a display name costs a warm container: in-memory ports and a local HTTP server started
//! by the test.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, TimeZone, Utc};
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use http_body_util::Full;
use http_body_util::combinators::BoxBody;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use switchboard_media::enrich::Enricher;
use switchboard_media::fetch::SafeFetcher;
use switchboard_media::forward::MemoryEventQueue;
use switchboard_media::settings::Settings;
use switchboard_media::store::MemoryMediaStore;
use switchboard_media::{MediaStage, Outcome, Record};
use switchboard_shared::config::credentials::MemoryCredentials;
use switchboard_shared::config::memory::{MemoryConfigSource, sample_tenant};
use switchboard_shared::contract::{EventBody, InboundEvent, MediaItem, MediaStatus};
use switchboard_shared::error::{AwsError, Classify, Retry};
use switchboard_shared::kit::Invocation;
use switchboard_shared::sinch::api::{ClientSettings, SinchClient};
use switchboard_shared::state::StateError;
use switchboard_shared::state::delivery::MemoryDeliveryStatus;
use switchboard_shared::state::idempotency::MemoryIdempotency;
use switchboard_shared::state::names::{CachedName, DisplayNameCache, MemoryDisplayNames};
use switchboard_shared::state::reply_map::{MemoryReplyIdMap, ReplyIdMap};
use switchboard_testkit::media::{PDF, PNG};

type Stage = MediaStage<
    MemoryConfigSource,
    MemoryIdempotency,
    MemoryDeliveryStatus,
    MemoryMediaStore,
    MemoryEventQueue,
    Enricher<MemoryDisplayNames, Replies, MemoryCredentials>,
>;

/// The reply-id map in memory, which can be made to fail as an unavailable table would.
#[derive(Default)]
struct Replies {
    map: MemoryReplyIdMap,
    failing: AtomicBool,
}

impl ReplyIdMap for Replies {
    async fn remember(
        &self,
        tenant: &str,
        message_id: &str,
        reply_id: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<(), StateError> {
        self.map
            .remember(tenant, message_id, reply_id, now, ttl)
            .await
    }

    async fn reply_id(
        &self,
        tenant: &str,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StateError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(StateError::Aws(AwsError {
                operation: "GetItem",
                code: Some("ProvisionedThroughputExceededException".into()),
                http_status: Some(400),
                retry: Retry::Retryable,
                message: "throttled (simulated)".into(),
            }));
        }
        self.map.reply_id(tenant, message_id, now).await
    }
}

/// A body sent in chunks with no Content-Length: only counting while streaming can stop it.
struct Chunked {
    chunks: Vec<Bytes>,
}

impl Body for Chunked {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.chunks.is_empty() {
            Poll::Ready(None)
        } else {
            let chunk = self.chunks.remove(0);
            Poll::Ready(Some(Ok(Frame::data(chunk))))
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

type Reply = Response<BoxBody<Bytes, Infallible>>;

async fn serve(request: Request<Incoming>) -> Result<Reply, Infallible> {
    let path = request.uri().path().to_owned();
    let port = request
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.rsplit_once(':'))
        .map(|(_, port)| port.to_owned())
        .unwrap_or_default();
    let reply = |content_type: &str, body: Vec<u8>| {
        Response::builder()
            .status(200)
            .header("content-type", content_type)
            .body(Full::new(Bytes::from(body)).boxed())
            .unwrap()
    };
    Ok(match path.as_str() {
        "/image.png" => reply("image/png", PNG.to_vec()),
        "/doc.pdf" => reply("application/pdf", PDF.to_vec()),
        "/notes.txt" => reply("text/plain", b"call me back".to_vec()),
        // 64 KiB in 1 KiB chunks, no Content-Length.
        "/streamed.pdf" => {
            let mut chunks = vec![Bytes::from_static(PDF)];
            chunks.extend((0..64).map(|_| Bytes::from(vec![b'x'; 1024])));
            Response::builder()
                .status(200)
                .header("content-type", "application/pdf")
                .body(Chunked { chunks }.boxed())
                .unwrap()
        }
        // From the allowed host to another loopback host that is not on the list.
        "/to-other-host" => Response::builder()
            .status(StatusCode::FOUND)
            .header("location", format!("http://127.0.0.2:{port}/image.png"))
            .body(Full::new(Bytes::new()).boxed())
            .unwrap(),
        _ => Response::builder()
            .status(404)
            .body(Full::new(Bytes::new()).boxed())
            .unwrap(),
    })
}

async fn file_server() -> SocketAddr {
    switchboard_testkit::serve_loopback(serve).await
}

fn settings(allow: &str) -> Settings {
    let pairs = [
        ("SWITCHBOARD_CONFIG_TABLE", "config".to_owned()),
        ("SWITCHBOARD_STATE_TABLE", "state".to_owned()),
        (
            "SWITCHBOARD_EVENTS_QUEUE_URL",
            "http://sqs/events.fifo".to_owned(),
        ),
        ("SWITCHBOARD_MEDIA_BUCKET", "media".to_owned()),
        ("SWITCHBOARD_MEDIA_ALLOW_LOCAL", allow.to_owned()),
    ];
    Settings::from_lookup(|name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
    .unwrap()
}

/// The stage; tenant `acme` has these `media` settings (its default when `null`).
async fn stage(media: serde_json::Value) -> (Stage, SocketAddr) {
    let addr = file_server().await;
    // 127.0.0.2 (loopback too, where nothing listens) stands for a second local host.
    let settings = settings(&format!("{addr},127.0.0.2:{}", addr.port()));
    let config = MemoryConfigSource::default();
    let mut tenant = sample_tenant("acme");
    if !media.is_null() {
        tenant["media"] = media;
    }
    config.insert(tenant);
    let enricher = Enricher::new(
        MemoryDisplayNames::default(),
        Replies::default(),
        MemoryCredentials::default(),
        SinchClient::new(ClientSettings::default()).unwrap(),
        Duration::from_secs(1),
    );
    let stage = MediaStage::new(
        config,
        MemoryIdempotency::default(),
        MemoryDeliveryStatus::default(),
        MemoryMediaStore::default(),
        MemoryEventQueue::default(),
        SafeFetcher::new(settings.address_policy.clone()).unwrap(),
        enricher,
        settings,
    );
    (stage, addr)
}

fn base(event_id: &str) -> serde_json::Value {
    serde_json::json!({
        "schema_version": 1, "event_id": event_id, "tenant": "acme", "service": "main",
        "queue_address": null, "app_id": "01ACMEAPP", "project_id": "acme-project",
        "channel": "WHATSAPP", "contact": null, "conversation_id": "01CONV",
        "processing_mode": "CONVERSATION", "sinch_times": {"accepted_time": null, "event_time": null},
        "received_at": "2026-12-01T00:00:00Z", "correlation_id": null, "attached_data": {},
        "message_metadata": null, "reply_id": null
    })
}

fn message_event(event_id: &str, urls: &[String], quoted: Option<&str>) -> String {
    let media: Vec<serde_json::Value> = urls
        .iter()
        .map(|url| serde_json::json!({"source_url": url, "thumbnail_url": null, "filename": null, "caption": null,
            "status": "pending", "s3_key": null, "url": null, "url_expires_at": null, "content_type": null,
            "size_bytes": null, "failure_reason": null}))
        .collect();
    let mut event = base(event_id);
    event["kind"] = "message".into();
    event["message"] = serde_json::json!({"message_id": format!("{event_id}-msg"),
        "content_kind": if urls.is_empty() { "text_message" } else { "media_message" },
        "text": if urls.is_empty() { Some("hi") } else { None },
        "media": media, "location": null, "choice_response": null,
        "quoted_message": quoted.map(|id| serde_json::json!({"message_id": id, "reply_id": null})),
        "sender_id": null, "raw_content": null});
    event.to_string()
}

fn dlr_event(event_id: &str, message_id: &str, status: &str) -> String {
    let mut event = base(event_id);
    event["kind"] = "delivery".into();
    event["delivery"] = serde_json::json!({"message_id": message_id, "status": status, "reason": null, "metadata": null});
    event.to_string()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap()
}

async fn handle(
    stage: &Stage,
    body: &str,
) -> Result<Outcome, switchboard_media::handler::StageError> {
    stage
        .handle(
            Record {
                body,
                group_id: "acme/c/01CONV",
                message_id: "m1",
                sender_id: None,
                receive_count: 1,
            },
            &Invocation::new(
                now(),
                switchboard_shared::deadline::Deadline::after(std::time::Duration::from_secs(60)),
            ),
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

fn items(event: &InboundEvent) -> Vec<MediaItem> {
    match &event.body {
        EventBody::Message { message } => message.media.clone(),
        _ => panic!("not a message"),
    }
}

fn outcome_of(item: &MediaItem) -> (MediaStatus, String) {
    (
        item.status,
        item.failure_reason
            .clone()
            .or(item.content_type.clone())
            .unwrap_or_default(),
    )
}

#[tokio::test]
async fn a_tenants_size_limit_is_enforced_while_streaming_without_content_length() {
    let (stage, addr) = stage(serde_json::json!({ "max_bytes": 16 * 1024 })).await;
    let urls = vec![
        format!("http://{addr}/streamed.pdf"),
        format!("http://{addr}/doc.pdf"),
    ];
    handle(&stage, &message_event("size", &urls, None))
        .await
        .unwrap();
    let media = items(&forwarded(&stage)[0]);
    assert_eq!(media[0].status, MediaStatus::Failed);
    assert!(
        media[0]
            .failure_reason
            .as_deref()
            .unwrap()
            .contains("larger than the limit of 16384 bytes"),
        "{:?}",
        media[0].failure_reason
    );
    assert_eq!(
        outcome_of(&media[1]),
        (MediaStatus::Stored, "application/pdf".into())
    );
    let stored = stage.store().objects.lock().unwrap().clone();
    assert_eq!(
        stored.len(),
        1,
        "the file over the limit left nothing behind"
    );

    // Under the default (100 MB), the same file is stored.
    let (stage, addr) = stage_default().await;
    handle(
        &stage,
        &message_event("size2", &[format!("http://{addr}/streamed.pdf")], None),
    )
    .await
    .unwrap();
    let media = items(&forwarded(&stage)[0]);
    assert_eq!(media[0].status, MediaStatus::Stored);
    assert_eq!(media[0].size_bytes, Some((PDF.len() + 64 * 1024) as u64));
}

async fn stage_default() -> (Stage, SocketAddr) {
    stage(serde_json::Value::Null).await
}

#[tokio::test]
async fn only_the_tenants_types_are_stored() {
    let (stage, addr) = stage(serde_json::json!({ "allowed_types": ["image/*"] })).await;
    let urls = vec![
        format!("http://{addr}/image.png"),
        format!("http://{addr}/doc.pdf"),
        format!("http://{addr}/notes.txt"),
    ];
    handle(&stage, &message_event("types", &urls, None))
        .await
        .unwrap();
    let media = items(&forwarded(&stage)[0]);
    assert_eq!(
        media.iter().map(outcome_of).collect::<Vec<_>>(),
        [
            (MediaStatus::Stored, "image/png".to_owned()),
            (
                MediaStatus::Failed,
                "files of type application/pdf are not accepted".to_owned()
            ),
            (
                MediaStatus::Failed,
                "files of type text/plain are not accepted".to_owned()
            ),
        ]
    );
    // The defaults take all three.
    let (stage, addr) = stage_default().await;
    let urls: Vec<String> = ["image.png", "doc.pdf", "notes.txt"]
        .iter()
        .map(|p| format!("http://{addr}/{p}"))
        .collect();
    handle(&stage, &message_event("types2", &urls, None))
        .await
        .unwrap();
    assert!(
        items(&forwarded(&stage)[0])
            .iter()
            .all(|i| i.status == MediaStatus::Stored)
    );
}

#[tokio::test]
async fn a_host_off_the_tenants_list_is_never_contacted_even_through_a_redirect() {
    let (stage, addr) = stage(serde_json::json!({ "allowed_hosts": ["127.0.0.1"] })).await;
    let port = addr.port();
    let urls = vec![
        format!("http://127.0.0.1:{port}/image.png"),
        format!("http://127.0.0.2:{port}/image.png"),
        format!("http://127.0.0.1:{port}/to-other-host"),
    ];
    let outcome = handle(&stage, &message_event("hosts", &urls, None))
        .await
        .unwrap();
    assert!(
        matches!(outcome, Outcome::Forwarded { .. }),
        "a disallowed host fails the item, not the event"
    );
    let media = items(&forwarded(&stage)[0]);
    assert_eq!(
        outcome_of(&media[0]),
        (MediaStatus::Stored, "image/png".into())
    );
    for item in &media[1..] {
        assert_eq!(
            outcome_of(item),
            (
                MediaStatus::Failed,
                "the media host 127.0.0.2 is not on this tenant's list of allowed hosts".into()
            ),
            "{}",
            item.source_url
        );
    }
}

#[tokio::test]
async fn a_delivery_report_of_an_agent_message_carries_its_reply_id() {
    let (stage, _) = stage_default().await;
    stage
        .enricher()
        .replies()
        .remember(
            "acme",
            "01AGENTMSG",
            "cc-reply-1",
            now(),
            Duration::from_secs(86_400),
        )
        .await
        .unwrap();
    handle(&stage, &dlr_event("d1", "01AGENTMSG", "DELIVERED"))
        .await
        .unwrap();
    handle(&stage, &dlr_event("d2", "01UNKNOWN", "DELIVERED"))
        .await
        .unwrap();
    let events = forwarded(&stage);
    assert_eq!(events[0].reply_id.as_deref(), Some("cc-reply-1"));
    assert_eq!(
        events[1].reply_id, None,
        "a message we did not send: no reply id, not an error"
    );
}

#[tokio::test]
async fn a_customer_quoting_an_agent_message_names_its_reply_id() {
    let (stage, _) = stage_default().await;
    stage
        .enricher()
        .replies()
        .remember(
            "acme",
            "01AGENTMSG",
            "cc-reply-7",
            now(),
            Duration::from_secs(86_400),
        )
        .await
        .unwrap();
    handle(&stage, &message_event("q1", &[], Some("01AGENTMSG")))
        .await
        .unwrap();
    handle(&stage, &message_event("q2", &[], Some("01CUSTOMERMSG")))
        .await
        .unwrap();
    handle(&stage, &message_event("q3", &[], None))
        .await
        .unwrap();
    let quoted: Vec<(Option<String>, Option<String>)> = forwarded(&stage)
        .iter()
        .map(|event| match &event.body {
            EventBody::Message { message } => (
                message
                    .quoted_message
                    .as_ref()
                    .and_then(|q| q.reply_id.clone()),
                event.reply_id.clone(),
            ),
            _ => panic!("not a message"),
        })
        .collect();
    assert_eq!(
        quoted,
        [
            (Some("cc-reply-7".into()), Some("cc-reply-7".into())),
            (None, None),
            (None, None)
        ]
    );
}

#[tokio::test]
async fn a_reply_map_failure_is_retried_never_forwarded_without_the_reply_id() {
    let (stage, _) = stage_default().await;
    stage
        .enricher()
        .replies()
        .remember(
            "acme",
            "01AGENTMSG",
            "cc-reply-1",
            now(),
            Duration::from_secs(86_400),
        )
        .await
        .unwrap();
    stage
        .enricher()
        .replies()
        .failing
        .store(true, Ordering::SeqCst);
    let body = dlr_event("d1", "01AGENTMSG", "DELIVERED");
    let err = handle(&stage, &body).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(stage.queue().sent().is_empty());
    // The record comes back once the table answers, and the claim does not block it.
    stage
        .enricher()
        .replies()
        .failing
        .store(false, Ordering::SeqCst);
    handle(&stage, &body).await.unwrap();
    assert_eq!(forwarded(&stage)[0].reply_id.as_deref(), Some("cc-reply-1"));
}

/// A text event from a CONVERSATION-mode contact.
fn text_from_contact(event_id: &str, contact_id: &str) -> String {
    let mut event: serde_json::Value =
        serde_json::from_str(&message_event(event_id, &[], None)).unwrap();
    event["contact"] = serde_json::json!({"id": contact_id, "channel_identity": "46700000001",
        "display_name": "46700000001"});
    event.to_string()
}

#[tokio::test]
async fn a_warm_container_names_a_known_contact_without_any_call() {
    let (stage, _) = stage_default().await;
    let names = stage.enricher().names();
    names
        .put(
            "acme",
            "01CONTACT",
            &CachedName {
                name: Some("Ada Lovelace".into()),
            },
            now(),
            Duration::from_secs(86_400),
        )
        .await
        .unwrap();
    let (reads, writes) = (names.reads(), names.writes());
    for id in ["t1", "t2", "t3"] {
        handle(&stage, &text_from_contact(id, "01CONTACT"))
            .await
            .unwrap();
    }
    let shown: Vec<Option<String>> = forwarded(&stage)
        .into_iter()
        .map(|e| e.contact.and_then(|c| c.display_name))
        .collect();
    assert_eq!(shown, vec![Some("Ada Lovelace".to_owned()); 3]);
    assert_eq!(
        (names.reads() - reads, names.writes() - writes),
        (1, 0),
        "one cache read for the first event, then memory only"
    );
}

#[tokio::test]
async fn an_unavailable_name_cache_and_no_credentials_leave_the_identity() {
    let (stage, _) = stage_default().await;
    stage.enricher().names().fail(true);
    handle(&stage, &text_from_contact("u1", "01CONTACT"))
        .await
        .expect("a name is never worth a failed event");
    let event = &forwarded(&stage)[0];
    assert_eq!(
        event.contact.as_ref().unwrap().display_name.as_deref(),
        Some("46700000001")
    );
}
