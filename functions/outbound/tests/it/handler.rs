//! The outbound handler's decision table, with in-memory ports for our own state (config,
//! credentials, idempotency, the reply map, the outbound objects, the events queue) and the
//! real Sinch simulator, in-process on a random loopback port, as Sinch (it reads its tenants
//! from a config table on moto, so these tests run under `infra/scripts/with-moto.sh`).
//!
//! Every golden command becomes a request the simulator accepts; 429/503 for a while still
//! ends in exactly one send; a 400 is a failed result and no retry; a command delivered twice,
//! also after it completed, is sent once and answered twice identically; a crashed worker's
//! claim is taken over after its lease; a failure stops its conversation and only it. For a
//! tenant with `outbound.fetch_media_urls`, media URLs (served by a local file server) are
//! fetched into `outbound/` and sent as public URLs, and a fetch that fails for good or for now
//! is a failed result or a retry.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use switchboard_outbound::handler::{Outbound, OutboundError, Outcome, Record};
use switchboard_outbound::media::MemoryOutboundObjects;
use switchboard_outbound::settings::Settings;
use switchboard_shared::config::contact_center::MOTO_SENDER_ID;
use switchboard_shared::config::credentials::MemoryCredentials;
use switchboard_shared::config::memory::MemoryConfigSource;
use switchboard_shared::config::{ApiCredentials, ConfigStore, SeedFile};
use switchboard_shared::deadline::Deadline;
use switchboard_shared::error::{AwsError, Classify, Retry};
use switchboard_shared::event_queue::{MemoryEventQueue, Outgoing};
use switchboard_shared::kit::Invocation;
use switchboard_shared::kit::fifo::handle_batch;
use switchboard_shared::media::fetch::SafeFetcher;
use switchboard_shared::sinch::api::{ClientSettings, RetryPolicy, SinchClient};
use switchboard_shared::state::idempotency::{Claim, IdempotencyStore, MemoryIdempotency};
use switchboard_shared::state::reply_map::{MemoryReplyIdMap, ReplyIdMap};
use switchboard_sinch_simulator::Simulator;
use switchboard_sinch_simulator::directory::Directory;
use switchboard_sinch_simulator::state::Fault;

// Target URLs must be SQS FIFO queue URLs (config::targets); nothing is sent to them here.
const EVENTS: &str = "https://sqs.eu-west-1.amazonaws.com/000000000000/events.fifo";
const TARGET: &str = "https://sqs.eu-west-1.amazonaws.com/000000000000/cc-chat.fifo";
const PUBLIC: &str = "https://media.example.test";
const GROUP: &str = "demo/c/01CONVERSATION";

type TestOutbound = Outbound<
    MemoryConfigSource,
    MemoryCredentials,
    MemoryIdempotency,
    MemoryReplyIdMap,
    MemoryOutboundObjects,
    MemoryEventQueue,
>;

struct Harness {
    outbound: TestOutbound,
    simulator: Arc<Simulator>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The demo tenant of `infra/seed/demo.json` pointed at `base`, plus a Sinch Chat queue with
/// its own target queue.
fn seed(base: &str) -> Value {
    let text = std::fs::read_to_string(root().join("infra/seed/demo.json")).unwrap();
    let mut seed: Value = serde_json::from_str(&text).unwrap();
    let tenant = &mut seed["tenants"][0];
    tenant["services"][0]["api_base_url"] = json!(base);
    for queue in tenant["queues"].as_array_mut().unwrap() {
        if queue["address"].as_str().unwrap().contains("nativechannel") {
            queue["target_queue_url"] = json!(TARGET);
        }
    }
    seed
}

async fn config_table() -> (aws_sdk_dynamodb::Client, String) {
    let sdk = switchboard_testkit::moto_config().await;
    let client = switchboard_shared::aws::dynamodb_client(&sdk);
    let name = switchboard_testkit::unique_prefix("config");
    switchboard_shared::tables::create_table(&client, &name)
        .await
        .expect("create table");
    (client, name)
}

fn settings(extra: &[(&str, &str)]) -> Settings {
    let mut pairs: Vec<(String, String)> = [
        ("SWITCHBOARD_CONFIG_TABLE", "config"),
        ("SWITCHBOARD_STATE_TABLE", "state"),
        ("SWITCHBOARD_EVENTS_QUEUE_URL", EVENTS),
        ("SWITCHBOARD_MEDIA_BUCKET", "media"),
        ("SWITCHBOARD_PUBLIC_MEDIA_BASE_URL", PUBLIC),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Settings::from_lookup(|name| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
    .unwrap()
}

async fn start(extra: &[(&str, &str)]) -> Harness {
    start_tenant(extra, |_| {}).await
}

/// The demo tenant changed by `tweak` (its JSON, as in the seed file).
async fn start_tenant(extra: &[(&str, &str)], tweak: impl FnOnce(&mut Value)) -> Harness {
    let (client, table) = config_table().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut seed = seed(&base);
    tweak(&mut seed["tenants"][0]);
    let store = ConfigStore::new(client, table.clone());
    for tenant in SeedFile::parse(&seed.to_string()).unwrap().tenants {
        store.put_tenant(&tenant).await.unwrap();
    }
    let sim_settings =
        switchboard_sinch_simulator::settings::Settings::from_lookup(|name| match name {
            "SWITCHBOARD_CONFIG_TABLE" => Some(table.clone()),
            "SWITCHBOARD_SINCH_CALLBACKS" => Some("false".into()),
            _ => None,
        })
        .unwrap();
    let simulator = Arc::new(Simulator::new(sim_settings, Directory::new(store), base));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(switchboard_sinch_simulator::server::serve(
        Arc::clone(&simulator),
        listener,
        async {
            let _ = stopped.await;
        },
    ));

    let config = MemoryConfigSource::default();
    config.insert(seed["tenants"][0].clone());
    let credentials = MemoryCredentials::default();
    credentials.insert(
        "demo",
        "main",
        ApiCredentials {
            key_id: "demo-access-key-id".into(),
            key_secret: String::from("demo-access-key-secret").into(),
        },
    );
    let sinch = SinchClient::new(ClientSettings {
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(40),
        },
        ..ClientSettings::default()
    })
    .unwrap();
    let settings = settings(extra);
    let fetcher = SafeFetcher::new(settings.address_policy.clone()).unwrap();
    let outbound = Outbound::new(
        config,
        credentials,
        MemoryIdempotency::default(),
        MemoryReplyIdMap::default(),
        MemoryOutboundObjects::default(),
        MemoryEventQueue::default(),
        sinch,
        fetcher,
        settings,
    );
    Harness {
        outbound,
        simulator,
        _stop: stop,
    }
}

fn golden(name: &str) -> String {
    std::fs::read_to_string(root().join(format!("schemas/examples/agent-command-{name}.json")))
        .unwrap()
}

const GOLDEN: [&str; 13] = [
    "text",
    "media-s3",
    "media-url",
    "choice",
    "card",
    "carousel",
    "location",
    "list",
    "contact-info",
    "whatsapp-template",
    "omni-template",
    "typing",
    "typing-end",
];

/// The day the golden commands' attachments were stored (their keys say 2026-11-21): the
/// handler's clock is passed in, so the tests do not depend on today's date.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap()
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(20))
}

impl Harness {
    async fn handle(&self, body: &str) -> Result<Outcome, OutboundError> {
        self.outbound
            .handle(
                Record {
                    body,
                    group_id: GROUP,
                    message_id: "m1",
                    // The demo tenant's contact center (infra/seed/demo.json).
                    sender_id: Some(MOTO_SENDER_ID),
                    receive_count: 1,
                },
                &Invocation::new(now(), deadline()),
            )
            .await
    }

    /// Every request to Sinch's send endpoints (token requests left out), oldest first.
    fn sends(&self) -> Vec<Value> {
        self.simulator
            .state
            .requests()
            .into_iter()
            .filter(|r| r.path.ends_with(":send"))
            .map(|r| serde_json::from_str(&r.body).unwrap())
            .collect()
    }

    fn results(&self) -> Vec<Outgoing> {
        self.outbound.queue().sent()
    }

    fn fault(&self, status: u16, count: u32) {
        self.simulator.state.add_fault(Fault {
            status: Some(status),
            count,
            delay_ms: 0,
            path_contains: Some(":send".into()),
            message: None,
            expired: false,
        });
    }

    fn store_media(&self) {
        // Stored with their real types: the stored type must be one the tenant accepts.
        for (key, content_type) in [
            (
                "outbound/demo/2026-11-21/4f3c2a9e7b1d4c6f8a0e5d2b1c3f7a9e/invoice.pdf",
                "application/pdf",
            ),
            (
                "outbound/demo/2026-11-21/9a8b7c6d5e4f4a3b2c1d0e9f8a7b6c5d/router.png",
                "image/png",
            ),
        ] {
            self.outbound.objects().insert(key, content_type, 1234);
        }
    }
}

fn body(outgoing: &Outgoing) -> Value {
    serde_json::from_str(&outgoing.message.body).unwrap()
}

fn schema_validator() -> jsonschema::Validator {
    let text =
        std::fs::read_to_string(root().join("schemas/inbound-event.v1.schema.json")).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

#[tokio::test]
async fn every_golden_command_is_accepted_and_answered_with_one_valid_send_result() {
    let harness = start(&[]).await;
    harness.store_media();
    for name in GOLDEN {
        let outcome = harness.handle(&golden(name)).await;
        assert!(
            matches!(outcome, Ok(Outcome::Accepted { .. })),
            "{name}: {outcome:?} (simulator said: {:?})",
            harness
                .simulator
                .state
                .requests()
                .last()
                .map(|r| r.body.clone())
        );
    }
    let sends = harness.sends();
    assert_eq!(sends.len(), GOLDEN.len(), "one request per command");
    // Media by S3 key goes out as its public URL; SMS takes the queue's sender.
    let media = &sends[1]["message"]["media_message"];
    assert_eq!(
        media["url"],
        format!("{PUBLIC}/outbound/demo/2026-11-21/4f3c2a9e7b1d4c6f8a0e5d2b1c3f7a9e/invoice.pdf")
    );
    assert!(media.get("s3_key").is_none(), "{media}");
    assert!(
        sends
            .iter()
            .any(|s| s["channel_properties"]["SMS_SENDER"] == "+15550100"),
        "the SMS queue's configured sender is used"
    );
    // One token for all of it: the client's cache works across commands.
    let tokens = harness
        .simulator
        .state
        .requests()
        .iter()
        .filter(|r| r.path == "/oauth2/token")
        .count();
    assert_eq!(tokens, 1);

    let results = harness.results();
    assert_eq!(results.len(), GOLDEN.len());
    let validator = schema_validator();
    for (result, name) in results.iter().zip(GOLDEN) {
        let event = body(result);
        let errors: Vec<String> = validator
            .iter_errors(&event)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
        assert_eq!(event["kind"], "send_result");
        assert_eq!(event["send_result"]["outcome"], "accepted", "{name}");
        assert_eq!(
            result.message.group_id, GROUP,
            "the command's message group"
        );
        assert_eq!(result.message.deduplication_id, event["event_id"]);
        assert_eq!(result.queue_url, EVENTS);
        let reply_id = event["reply_id"].as_str().unwrap();
        let sinch_id = event["send_result"]["sinch_message_id"].as_str().unwrap();
        let mapped = harness
            .outbound
            .reply_map()
            .reply_id("demo", sinch_id, now())
            .await
            .unwrap();
        if name.starts_with("typing") {
            assert_eq!(mapped, None, "events have no delivery reports to map");
        } else {
            assert_eq!(mapped.as_deref(), Some(reply_id), "{name}");
        }
    }
}

#[tokio::test]
async fn throttling_and_outages_for_a_while_still_end_in_exactly_one_send() {
    let harness = start(&[]).await;
    // Within one attempt's retries (3 per call here): answered after two refusals.
    harness.fault(429, 2);
    assert!(matches!(
        harness.handle(&golden("text")).await,
        Ok(Outcome::Accepted { .. })
    ));
    // Longer than one invocation's retries: the record fails, the claim is released, and the
    // redelivery sends it.
    harness.fault(503, 6);
    let command = golden("location");
    let first = harness.handle(&command).await.unwrap_err();
    assert!(first.is_retryable(), "{first}");
    let second = harness.handle(&command).await.unwrap_err();
    assert!(second.is_retryable(), "{second}");
    assert!(matches!(
        harness.handle(&command).await,
        Ok(Outcome::Accepted { .. })
    ));
    assert!(matches!(
        harness.handle(&command).await,
        Ok(Outcome::AlreadyHandled { .. })
    ));
    let faults_left = harness.simulator.state.faults();
    assert!(faults_left.is_empty(), "{faults_left:?}");
    // 2 + 1 requests for the text; 6 refused (3 per delivery) + 1 accepted for the location.
    assert_eq!(harness.sends().len(), 3 + 7);
    let results = harness.results();
    let accepted: Vec<&str> = results
        .iter()
        .map(|r| {
            body(r)["send_result"]["outcome"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .map(|o| {
            if o == "accepted" {
                "accepted"
            } else {
                "failed"
            }
        })
        .collect();
    assert_eq!(accepted, ["accepted", "accepted", "accepted"]);
    assert_eq!(
        results[1].message.body, results[2].message.body,
        "the redelivery's result is the same"
    );
}

#[tokio::test]
async fn a_400_is_a_failed_result_with_sinchs_reason_and_is_never_sent_again() {
    let harness = start(&[]).await;
    harness.fault(400, 1);
    let command = golden("text");
    let outcome = harness.handle(&command).await.unwrap();
    assert_eq!(
        outcome,
        Outcome::Failed {
            reply_id: Some("cc-reply-0001".into()),
            code: "INVALID_ARGUMENT".into()
        }
    );
    assert!(matches!(
        harness.handle(&command).await,
        Ok(Outcome::AlreadyHandled { .. })
    ));
    assert_eq!(harness.sends().len(), 1, "not retried");
    let results = harness.results();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0], results[1], "the same result, twice");
    let error = &body(&results[0])["send_result"]["error"];
    assert_eq!(error["http_status"], 400);
    assert_eq!(error["code"], "INVALID_ARGUMENT");
    assert!(!error["message"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn the_same_command_twice_is_sent_once_and_answered_twice_identically() {
    let harness = start(&[]).await;
    let command = golden("choice");
    let first = harness.handle(&command).await.unwrap();
    let again = harness.handle(&command).await.unwrap();
    assert!(matches!(first, Outcome::Accepted { .. }));
    assert_eq!(
        again,
        Outcome::AlreadyHandled {
            reply_id: "cc-reply-0004".into()
        }
    );
    assert_eq!(harness.sends().len(), 1);
    let results = harness.results();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0], results[1]);
}

#[tokio::test]
async fn a_crashed_workers_claim_blocks_until_its_lease_ends_then_is_taken_over() {
    let harness = start(&[]).await;
    let command = golden("text");
    let key = "demo#cc-reply-0001";
    let lease = harness.outbound.settings().claim_lease;
    let ttl = harness.outbound.settings().idempotency_ttl;
    // Another worker claimed it just now (and is presumed to be sending): not sent here.
    let claimed_at = now();
    assert_eq!(
        harness
            .outbound
            .idempotency()
            .claim(key, "crashed-worker", claimed_at, lease, ttl)
            .await
            .unwrap(),
        Claim::Acquired
    );
    let busy = harness.handle(&command).await.unwrap_err();
    assert!(matches!(busy, OutboundError::Busy(_)) && busy.is_retryable());
    assert!(harness.sends().is_empty());
    // After its lease, the claim is taken over and the reply sent, once.
    let later =
        claimed_at + chrono::Duration::from_std(lease).unwrap() + chrono::Duration::seconds(1);
    let outcome = harness
        .outbound
        .handle(
            Record {
                body: &command,
                group_id: GROUP,
                message_id: "m1",
                sender_id: Some(MOTO_SENDER_ID),
                receive_count: 1,
            },
            &Invocation::new(later, deadline()),
        )
        .await;
    assert!(
        matches!(outcome, Ok(Outcome::Accepted { .. })),
        "{outcome:?}"
    );
    assert_eq!(harness.sends().len(), 1);
}

fn sqs_record(id: &str, group: &str, body: &str) -> SqsMessage {
    let mut message = SqsMessage::default();
    message.message_id = Some(id.into());
    message.body = Some(body.into());
    message
        .attributes
        .insert("MessageGroupId".into(), group.into());
    message
        .attributes
        .insert("SenderId".into(), MOTO_SENDER_ID.into());
    message
}

fn with_reply_id(command: &str, reply_id: &str, text: Option<&str>) -> String {
    let mut json: Value = serde_json::from_str(command).unwrap();
    json["reply_id"] = json!(reply_id);
    if let Some(text) = text {
        json["message"]["text_message"]["text"] = json!(text);
    }
    json.to_string()
}

#[tokio::test]
async fn a_failure_stops_its_conversation_and_only_it_and_order_holds_on_retry() {
    let harness = start(&[]).await;
    harness.store_media();
    let a1 = with_reply_id(&golden("media-s3"), "a1", None);
    let a2 = with_reply_id(&golden("text"), "a2", Some("second in A"));
    let b1 = with_reply_id(&golden("text"), "b1", Some("first in B"));
    // S3 is unavailable: a1 (with an attachment) cannot be resolved.
    harness.outbound.objects().fail_with(Some(AwsError {
        operation: "HeadObject",
        code: Some("ServiceUnavailable".into()),
        http_status: Some(503),
        retry: Retry::Retryable,
        message: "ServiceUnavailable".into(),
    }));
    let mut event = SqsEvent::default();
    event.records = vec![
        sqs_record("m-a1", "demo/c/A", &a1),
        sqs_record("m-b1", "demo/c/B", &b1),
        sqs_record("m-a2", "demo/c/A", &a2),
    ];
    let response = handle_batch(
        &harness.outbound,
        &event,
        &Invocation::new(now(), deadline()),
    )
    .await;
    let failed: Vec<String> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, ["m-a1", "m-a2"], "a1 failed, a2 waits behind it");
    let sends = harness.sends();
    assert_eq!(sends.len(), 1);
    assert_eq!(sends[0]["message"]["text_message"]["text"], "first in B");

    // SQS delivers A's records again, in order; now they go, a1 before a2.
    harness.outbound.objects().fail_with(None);
    let mut again = SqsEvent::default();
    again.records = vec![
        sqs_record("m-a1", "demo/c/A", &a1),
        sqs_record("m-a2", "demo/c/A", &a2),
    ];
    let response = handle_batch(
        &harness.outbound,
        &again,
        &Invocation::new(now(), deadline()),
    )
    .await;
    assert!(response.batch_item_failures.is_empty());
    let sends = harness.sends();
    assert_eq!(sends.len(), 3);
    assert!(sends[1]["message"].get("media_message").is_some());
    assert_eq!(sends[2]["message"]["text_message"]["text"], "second in A");
    let groups: Vec<(String, String)> = harness
        .results()
        .iter()
        .map(|r| {
            (
                body(r)["reply_id"].as_str().unwrap().to_owned(),
                r.message.group_id.clone(),
            )
        })
        .collect();
    assert_eq!(
        groups,
        [
            ("b1".to_owned(), "demo/c/B".to_owned()),
            ("a1".to_owned(), "demo/c/A".to_owned()),
            ("a2".to_owned(), "demo/c/A".to_owned())
        ]
    );
}

#[tokio::test]
async fn an_invalid_command_is_answered_naming_the_field_and_never_sent() {
    let harness = start(&[]).await;
    let mut command: Value = serde_json::from_str(&golden("text")).unwrap();
    command["message"]["text_message"]["text"] = json!("  ");
    let outcome = harness.handle(&command.to_string()).await.unwrap();
    assert_eq!(
        outcome,
        Outcome::Failed {
            reply_id: Some("cc-reply-0001".into()),
            code: "INVALID_COMMAND".into()
        }
    );
    // A body naming no tenant cannot be checked against any tenant's senders: refused like a
    // stranger's command, done, not retried, and answered nowhere.
    assert_eq!(
        harness.handle("this is not JSON").await.unwrap(),
        Outcome::Refused {
            reason: "unknown_tenant"
        }
    );
    // A huge unknown field (serde quotes its name) and a huge reply id: the result stays small.
    let mut huge: Value = serde_json::from_str(&golden("text")).unwrap();
    huge["reply_id"] = json!("r".repeat(200_000));
    huge["x".repeat(200_000)] = json!(1);
    assert!(harness.handle(&huge.to_string()).await.is_ok());
    assert!(harness.sends().is_empty());
    let results = harness.results();
    assert_eq!(results.len(), 2);
    let bounded = body(&results[1]);
    assert!(
        results[1].message.body.len() < 4096,
        "{} bytes",
        results[1].message.body.len()
    );
    assert_eq!(bounded["reply_id"], Value::Null);
    assert_eq!(bounded["send_result"]["error"]["code"], "INVALID_COMMAND");
    let first = body(&results[0]);
    assert_eq!(first["reply_id"], "cc-reply-0001");
    assert_eq!(first["tenant"], "demo");
    assert_eq!(results[0].message.group_id, GROUP);
    assert!(
        first["send_result"]["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("message.text_message.text: must not be empty"),
        "{first}"
    );
    let validator = schema_validator();
    for result in &results {
        assert!(validator.is_valid(&body(result)));
    }
}

#[tokio::test]
async fn what_cannot_be_resolved_fails_for_good_with_a_reason() {
    let harness = start(&[]).await;
    // The object named by the S3 key does not exist.
    let outcome = harness.handle(&golden("media-s3")).await.unwrap();
    assert!(
        matches!(&outcome, Outcome::Failed { code, .. } if code == "MEDIA_NOT_FOUND"),
        "{outcome:?}"
    );
    // An object stored on a day past the tenant's retention (7 days): about to be deleted.
    let old_key = "outbound/demo/2020-01-01/4f3c2a9e7b1d4c6f8a0e5d2b1c3f7a9e/invoice.pdf";
    harness
        .outbound
        .objects()
        .insert(old_key, "application/pdf", 10);
    let stale = with_reply_id(&golden("media-s3"), "stale-media", None).replace(
        "outbound/demo/2026-11-21/4f3c2a9e7b1d4c6f8a0e5d2b1c3f7a9e/invoice.pdf",
        old_key,
    );
    let outcome = harness.handle(&stale).await.unwrap();
    assert!(
        matches!(&outcome, Outcome::Failed { code, .. } if code == "MEDIA_EXPIRED"),
        "{outcome:?}"
    );
    // A queue the tenant does not have.
    let unknown =
        golden("text").replace("01DEMOAPP00000000000000001", "01NOSUCHAPP000000000000000");
    let outcome = harness.handle(&unknown).await.unwrap();
    assert!(
        matches!(&outcome, Outcome::Failed { code, .. } if code == "UNKNOWN_QUEUE"),
        "{outcome:?}"
    );
    assert!(harness.sends().is_empty());
    let messages: Vec<String> = harness
        .results()
        .iter()
        .map(|r| {
            body(r)["send_result"]["error"]["message"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(messages[0].contains("no such object"), "{messages:?}");
    assert!(
        messages[1].contains("past the tenant's retention"),
        "{messages:?}"
    );
    assert!(messages[2].starts_with("queue_address:"), "{messages:?}");
}

#[tokio::test]
async fn without_a_public_media_url_an_attachment_by_key_fails_and_a_text_still_goes() {
    let harness = start(&[("SWITCHBOARD_PUBLIC_MEDIA_BASE_URL", "")]).await;
    harness.store_media();
    let outcome = harness.handle(&golden("media-s3")).await.unwrap();
    assert!(
        matches!(&outcome, Outcome::Failed { code, .. } if code == "PUBLIC_MEDIA_NOT_CONFIGURED"),
        "{outcome:?}"
    );
    assert!(matches!(
        harness.handle(&golden("media-url")).await,
        Ok(Outcome::Accepted { .. })
    ));
}

#[tokio::test]
async fn a_queue_with_its_own_target_gets_its_results_there() {
    let harness = start(&[]).await;
    let command = golden("text")
        .replace("@whatsapp.", "@nativechannel.")
        .replace("\"channel\": \"WHATSAPP\",", "");
    let outcome = harness.handle(&command).await;
    assert!(
        matches!(outcome, Ok(Outcome::Accepted { .. })),
        "{outcome:?}"
    );
    assert_eq!(harness.results()[0].queue_url, TARGET);
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_and_the_reply_sent_once() {
    let harness = start(&[]).await;
    assert!(harness.handle(&golden("text")).await.is_ok());
    harness.simulator.state.expire_tokens();
    let outcome = harness.handle(&golden("location")).await;
    assert!(
        matches!(outcome, Ok(Outcome::Accepted { .. })),
        "{outcome:?}"
    );
    let sends = harness.sends();
    // The location was tried with the old token (401 expired), then with a new one.
    assert_eq!(sends.len(), 3);
    assert_eq!(harness.results().len(), 2);
}

/// A measurement, not part of `make test` (a thousand sends through the simulator take
/// about 15 s): how many token requests 1,000 sends of one service cost in one warm container.
/// Run: `infra/scripts/with-moto.sh -- cargo test -p switchboard-outbound --test it handler:: -- --ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn token_requests_per_1000_sends() {
    let harness = start(&[]).await;
    let text = golden("text");
    for batch in 0..100 {
        let mut event = SqsEvent::default();
        event.records = (0..10)
            .map(|i| {
                let n = batch * 10 + i;
                sqs_record(
                    &format!("m-{n}"),
                    &format!("demo/c/{}", n % 7),
                    &with_reply_id(&text, &format!("bulk-{n}"), None),
                )
            })
            .collect();
        let response = handle_batch(
            &harness.outbound,
            &event,
            &Invocation::new(now(), deadline()),
        )
        .await;
        assert!(response.batch_item_failures.is_empty());
    }
    let requests = harness.simulator.state.requests();
    let sends = requests
        .iter()
        .filter(|r| r.path.ends_with(":send"))
        .count();
    let tokens = requests
        .iter()
        .filter(|r| r.path == "/oauth2/token")
        .count();
    println!("{sends} sends, {tokens} token request(s)");
    assert_eq!(sends, 1000);
    assert_eq!(tokens, 1);
}

// ---- Media URLs fetched first (`outbound.fetch_media_urls`) ----

use switchboard_testkit::media::{PDF, PNG};

/// Requests per path, over all tests of this binary (each test uses its own path prefix).
fn hits() -> &'static Mutex<HashMap<String, usize>> {
    static HITS: std::sync::OnceLock<Mutex<HashMap<String, usize>>> = std::sync::OnceLock::new();
    HITS.get_or_init(Default::default)
}

fn hits_of(path: &str) -> usize {
    hits().lock().unwrap().get(path).copied().unwrap_or(0)
}

/// Serves by the last path segment: `/{test}/{file}`.
async fn serve(
    request: http::Request<hyper::body::Incoming>,
) -> Result<http::Response<http_body_util::Full<bytes::Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let seen = {
        let mut hits = hits().lock().unwrap();
        let count = hits.entry(path.clone()).or_default();
        *count += 1;
        *count
    };
    let reply = |status: u16, content_type: &str, body: Vec<u8>| {
        http::Response::builder()
            .status(status)
            .header("content-type", content_type)
            .body(http_body_util::Full::new(bytes::Bytes::from(body)))
            .unwrap()
    };
    let file = path.rsplit('/').next().unwrap_or_default();
    Ok(match file {
        // The server claims nothing useful: the bytes say what it is.
        "photo.png" | "thumb.png" => reply(200, "application/octet-stream", PNG.to_vec()),
        "big.pdf" => {
            let mut body = PDF.to_vec();
            body.resize(4096, b'x');
            reply(200, "application/pdf", body)
        }
        "page.html" => reply(200, "text/html", b"<html></html>".to_vec()),
        "down.png" => reply(503, "text/plain", b"later".to_vec()),
        "once-down.png" if seen == 1 => reply(503, "text/plain", b"later".to_vec()),
        "once-down.png" => reply(200, "image/png", PNG.to_vec()),
        "to-metadata.png" => http::Response::builder()
            .status(302)
            .header("location", "https://169.254.169.254/latest/meta-data/")
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .unwrap(),
        _ => reply(404, "text/plain", b"no".to_vec()),
    })
}

async fn file_server() -> SocketAddr {
    switchboard_testkit::serve_loopback(serve).await
}

/// A harness whose demo tenant fetches media URLs (or not), with its media limited to 2048
/// bytes, and a file server it may reach.
async fn start_fetching(fetch: bool) -> (Harness, SocketAddr) {
    start_fetching_with(fetch, &[]).await
}

async fn start_fetching_with(fetch: bool, extra: &[(&str, &str)]) -> (Harness, SocketAddr) {
    let files = file_server().await;
    let allow = files.to_string();
    let mut env = vec![("SWITCHBOARD_MEDIA_ALLOW_LOCAL", allow.as_str())];
    env.extend_from_slice(extra);
    let harness = start_tenant(&env, |tenant| {
        tenant["outbound"] = json!({ "fetch_media_urls": fetch });
        tenant["media"]["max_bytes"] = json!(2048);
    })
    .await;
    (harness, files)
}

fn media_command(reply_id: &str, url: &str, thumbnail: Option<&str>) -> String {
    let mut json: Value = serde_json::from_str(&golden("media-url")).unwrap();
    json["reply_id"] = json!(reply_id);
    json["message"]["media_message"] = json!({ "url": url });
    if let Some(thumbnail) = thumbnail {
        json["message"]["media_message"]["thumbnail_url"] = json!(thumbnail);
    }
    json.to_string()
}

/// The object a public URL names, from the harness's memory store.
fn copy_of(harness: &Harness, public: &str) -> (String, Vec<u8>) {
    let key = public
        .strip_prefix(&format!("{PUBLIC}/"))
        .unwrap_or_else(|| panic!("not a public media URL: {public}"));
    assert!(
        key.starts_with("outbound/demo/2026-11-21/"),
        "stored under today's outbound/ prefix: {key}"
    );
    let random = key.split('/').nth(3).unwrap();
    assert!(random.len() >= 22, "an unguessable segment: {key}");
    harness
        .outbound
        .objects()
        .uploaded()
        .remove(key)
        .unwrap_or_else(|| panic!("no object {key}"))
}

#[tokio::test]
async fn a_tenant_that_fetches_media_urls_sends_the_public_url_of_the_stored_copy() {
    let (harness, files) = start_fetching(true).await;
    let photo = format!("http://{files}/fetched/photo.png");
    let thumb = format!("http://{files}/fetched/thumb.png");
    let command = media_command("fetch-1", &photo, Some(&thumb));
    let outcome = harness.handle(&command).await.unwrap();
    assert!(matches!(outcome, Outcome::Accepted { .. }), "{outcome:?}");
    let sends = harness.sends();
    let media = &sends[0]["message"]["media_message"];
    let (content_type, bytes) = copy_of(&harness, media["url"].as_str().unwrap());
    assert_eq!(content_type, "image/png", "sniffed, not the server's claim");
    assert_eq!(bytes, PNG, "the exact bytes");
    let (thumb_type, _) = copy_of(&harness, media["thumbnail_url"].as_str().unwrap());
    assert_eq!(thumb_type, "image/png");
    assert_eq!(
        media["url"].as_str().unwrap().rsplit('/').next(),
        Some("photo.png")
    );
    assert_eq!(hits_of("/fetched/photo.png"), 1);

    // Sent: a redelivery re-emits the result and fetches nothing again.
    assert!(matches!(
        harness.handle(&command).await,
        Ok(Outcome::AlreadyHandled { .. })
    ));
    assert_eq!(hits_of("/fetched/photo.png"), 1, "not fetched again");
    assert_eq!(harness.sends().len(), 1);

    // A carousel whose cards share an image: fetched once, both cards get the copy.
    let mut carousel: Value = serde_json::from_str(&golden("carousel")).unwrap();
    carousel["reply_id"] = json!("fetch-carousel");
    let shared = format!("http://{files}/carousel/photo.png");
    for card in carousel["message"]["carousel_message"]["cards"]
        .as_array_mut()
        .unwrap()
    {
        card["media_message"] = json!({ "url": shared });
    }
    let outcome = harness.handle(&carousel.to_string()).await.unwrap();
    assert!(matches!(outcome, Outcome::Accepted { .. }), "{outcome:?}");
    let sends = harness.sends();
    let cards = sends[1]["message"]["carousel_message"]["cards"]
        .as_array()
        .unwrap();
    let first = cards[0]["media_message"]["url"].as_str().unwrap();
    assert_eq!(cards[1]["media_message"]["url"], first);
    assert_eq!(copy_of(&harness, first).1, PNG);
    assert_eq!(hits_of("/carousel/photo.png"), 1);
    assert_eq!(harness.outbound.objects().uploaded().len(), 3);
}

#[tokio::test]
async fn without_the_tenant_option_a_media_url_is_passed_on_unchanged() {
    let (harness, files) = start_fetching(false).await;
    let photo = format!("http://{files}/off/photo.png");
    let outcome = harness
        .handle(&media_command("off-1", &photo, None))
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Accepted { .. }), "{outcome:?}");
    assert_eq!(harness.sends()[0]["message"]["media_message"]["url"], photo);
    assert_eq!(hits_of("/off/photo.png"), 0, "never fetched");
    assert!(harness.outbound.objects().uploaded().is_empty());
}

#[tokio::test]
async fn a_media_url_that_cannot_be_fetched_for_good_is_a_failed_result_saying_why() {
    let (harness, files) = start_fetching(true).await;
    let cases = [
        (format!("http://{files}/bad/missing.png"), "answered 404"),
        (
            "https://10.0.0.1/photo.png".to_owned(),
            "blocked address: private address",
        ),
        (
            format!("http://{files}/bad/to-metadata.png"),
            "blocked address: instance metadata address",
        ),
        (
            format!("http://{files}/bad/big.pdf"),
            "larger than the limit of 2048 bytes",
        ),
        (
            format!("http://{files}/bad/page.html"),
            "files of type text/html are not accepted",
        ),
    ];
    for (index, (url, reason)) in cases.iter().enumerate() {
        let reply_id = format!("bad-{index}");
        let outcome = harness
            .handle(&media_command(&reply_id, url, None))
            .await
            .unwrap();
        assert!(
            matches!(&outcome, Outcome::Failed { code, .. } if code == "MEDIA_FETCH_FAILED"),
            "{url}: {outcome:?}"
        );
        let result = body(harness.results().last().unwrap());
        assert_eq!(result["reply_id"], reply_id.as_str());
        assert_eq!(result["send_result"]["outcome"], "failed");
        let message = result["send_result"]["error"]["message"].as_str().unwrap();
        assert!(message.contains(reason), "{url}: {message}");
        assert!(message.contains("fetching media from"), "{message}");
        assert!(
            !message.contains(url.as_str()),
            "the URL may be signed: {message}"
        );
    }
    // A command refused for one of its S3 keys fetches none of its URLs.
    let mut carousel: Value = serde_json::from_str(&golden("carousel")).unwrap();
    carousel["reply_id"] = json!("bad-key");
    carousel["message"]["carousel_message"]["cards"][0]["media_message"] =
        json!({ "url": format!("http://{files}/order/photo.png") });
    carousel["message"]["carousel_message"]["cards"][1]["media_message"] = json!({
        "s3_key": "outbound/demo/2026-11-21/4f3c2a9e7b1d4c6f8a0e5d2b1c3f7a9e/invoice.pdf"
    });
    let outcome = harness.handle(&carousel.to_string()).await.unwrap();
    assert!(
        matches!(&outcome, Outcome::Failed { code, .. } if code == "MEDIA_NOT_FOUND"),
        "{outcome:?}"
    );
    assert_eq!(hits_of("/order/photo.png"), 0);
    assert!(harness.sends().is_empty(), "nothing reached Sinch");
    assert!(harness.outbound.objects().uploaded().is_empty());
}

#[tokio::test]
async fn a_media_host_that_is_down_fails_the_record_which_comes_back_and_then_sends() {
    let (harness, files) = start_fetching(true).await;
    let down = media_command("down-1", &format!("http://{files}/down/down.png"), None);
    let err = harness.handle(&down).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(err.to_string().contains("answered 503"), "{err}");
    assert!(harness.results().is_empty(), "no result: it is not over");
    // The claim was released: the next delivery tries again (and is not refused as busy).
    let err = harness.handle(&down).await.unwrap_err();
    assert!(err.to_string().contains("answered 503"), "{err}");

    let once = media_command(
        "once-1",
        &format!("http://{files}/once/once-down.png"),
        None,
    );
    assert!(harness.handle(&once).await.unwrap_err().is_retryable());
    let outcome = harness.handle(&once).await.unwrap();
    assert!(matches!(outcome, Outcome::Accepted { .. }), "{outcome:?}");
    assert_eq!(hits_of("/once/once-down.png"), 2);
    assert_eq!(
        harness.sends().len(),
        1,
        "sent once, after the host came back"
    );
}

#[tokio::test]
async fn without_a_public_media_url_nothing_is_fetched_and_the_reply_fails_saying_so() {
    let (harness, files) =
        start_fetching_with(true, &[("SWITCHBOARD_PUBLIC_MEDIA_BASE_URL", "")]).await;
    let command = media_command("no-base", &format!("http://{files}/nobase/photo.png"), None);
    let outcome = harness.handle(&command).await.unwrap();
    assert!(
        matches!(&outcome, Outcome::Failed { code, .. } if code == "PUBLIC_MEDIA_NOT_CONFIGURED"),
        "{outcome:?}"
    );
    assert_eq!(hits_of("/nobase/photo.png"), 0);
    assert!(harness.sends().is_empty());
}

/// A permanent failure that escapes the handler's own answers (here: a stored result that is no
/// longer an event) is answered with a failed `send_result` (`INTERNAL`) and is done: the kit's
/// FIFO shell does not report it, and the rest of its conversation goes on. A transient failure
/// still holds its conversation (`a_failure_stops_its_conversation_…` above).
#[tokio::test]
async fn a_permanent_failure_is_answered_and_its_conversation_goes_on() {
    let harness = start(&[]).await;
    let a1 = with_reply_id(&golden("text"), "p1", Some("first in A"));
    let a2 = with_reply_id(&golden("text"), "p2", Some("second in A"));
    let settings = harness.outbound.settings();
    let key = "demo#p1";
    let idempotency = harness.outbound.idempotency();
    idempotency
        .claim(
            key,
            "w",
            now(),
            settings.claim_lease,
            settings.idempotency_ttl,
        )
        .await
        .unwrap();
    idempotency
        .complete(key, "w", "not an event", now(), settings.idempotency_ttl)
        .await
        .unwrap();
    let mut event = SqsEvent::default();
    event.records = vec![
        sqs_record("m-p1", "demo/c/A", &a1),
        sqs_record("m-p2", "demo/c/A", &a2),
    ];
    let response = handle_batch(
        &harness.outbound,
        &event,
        &Invocation::new(now(), deadline()),
    )
    .await;
    assert!(
        response.batch_item_failures.is_empty(),
        "{:?}",
        response.batch_item_failures
    );
    let sends = harness.sends();
    assert_eq!(sends.len(), 1, "p1 was not sent again");
    assert_eq!(sends[0]["message"]["text_message"]["text"], "second in A");
    let results: Vec<Value> = harness.results().iter().map(body).collect();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["reply_id"], "p1");
    assert_eq!(results[0]["send_result"]["outcome"], "failed");
    assert_eq!(results[0]["send_result"]["error"]["code"], "INTERNAL");
    assert_eq!(results[1]["reply_id"], "p2");
    assert_eq!(results[1]["send_result"]["outcome"], "accepted");
}
