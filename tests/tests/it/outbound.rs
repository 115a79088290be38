//! The reply path end to end on the real binaries: agent commands put on `replies.fifo`, the
//! `outbound` Lambda binary fed by the template's event source mapping under the local Lambda
//! emulator, the Sinch simulator standing in
//! for Sinch (tokens checked against the config table's access keys), an attachment by S3 key
//! checked in the stack's bucket, and one `send_result` per command on `events.fifo`, in the
//! command's message group; the same command put again is answered again and not sent again;
//! a command for another tenant, whose contact center is not the sender, is not sent at all.

use std::time::Duration;

use switchboard_e2e::emulated::{self, Emulated, Run};
use switchboard_e2e::simulator::SimulatorStack;
use switchboard_e2e::*;
use switchboard_shared::config::SeedFile;
use switchboard_shared::state::reply_map::{DynamoReplyIdMap, ReplyIdMap};

const PUBLIC: &str = "https://media.example.test";

/// An attachment stored today (an older day could be past the tenant's retention).
fn key() -> String {
    format!(
        "outbound/acme/{}/4f3c2a9e7b1d4c6f8a0e5d2b1c3f7a9e/invoice.pdf",
        chrono::Utc::now().format("%Y-%m-%d")
    )
}
const GROUP: &str = "acme/c/01E2ECONVERSATION";

fn command(reply_id: &str, message: serde_json::Value) -> String {
    serde_json::json!({
        "schema_version": 1, "reply_id": reply_id, "tenant": "acme",
        "queue_address": format!("{APP}@whatsapp.sinchconversation.com"),
        "recipient": {"identity": "46712312312"},
        "message": message,
        "agent": {"display_name": "Bob", "type": "HUMAN"}
    })
    .to_string()
}

async fn put(sqs: &aws_sdk_sqs::Client, queue_url: &str, body: &str, dedup: &str) {
    sqs.send_message()
        .queue_url(queue_url)
        .message_body(body)
        .message_group_id(GROUP)
        .message_deduplication_id(dedup)
        .send()
        .await
        .expect("put the command");
}

async fn wait_for(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    count: usize,
    timeout: Duration,
) -> Vec<(serde_json::Value, String)> {
    let started = std::time::Instant::now();
    let mut events = Vec::new();
    while events.len() < count && started.elapsed() < timeout {
        events.extend(drain(sqs, queue_url).await);
    }
    events
}

#[tokio::test]
async fn commands_on_the_replies_queue_reach_sinch_once_and_results_reach_the_events_queue() {
    let mut sim =
        SimulatorStack::start("outbound", &[("SWITCHBOARD_SINCH_CALLBACKS", "false")]).await;
    // The template points it at the CloudFront distribution, which has no local twin here.
    sim.stack
        .set_environment("SWITCHBOARD_PUBLIC_MEDIA_BASE_URL", PUBLIC);
    // Point acme's service at this simulator (it reads the table on every look-up).
    let mut seed: serde_json::Value = serde_json::from_str(&seed_json()).unwrap();
    seed["tenants"][0]["services"][0]["api_base_url"] = sim.simulator.base_url.clone().into();
    for tenant in SeedFile::parse(&seed.to_string()).unwrap().tenants {
        sim.store.put_tenant(&tenant).await.unwrap();
    }
    let env = sim
        .stack
        .function_environment("OutboundFunction")
        .expect("outbound env");
    let key = key();
    let sdk = sdk().await;
    let sqs = switchboard_shared::aws::sqs_client(&sdk);
    let s3 = switchboard_shared::aws::s3_client(&sdk);
    s3.put_object()
        .bucket(&env["SWITCHBOARD_MEDIA_BUCKET"])
        .key(&key)
        .content_type("application/pdf")
        .body(b"%PDF-1.7 e2e".to_vec().into())
        .send()
        .await
        .expect("the agent's attachment");

    let _outbound = Emulated::start(
        &sim.stack,
        sim.stack.template(),
        &[Run {
            function: "OutboundFunction",
            extra_env: &[],
        }],
        &workspace_root()
            .join(".local/e2e-logs")
            .join(unique_prefix("outbound")),
        emulated::options(false),
    );

    let replies = &emulated::queue_urls(&sim.stack)["RepliesQueue"];
    let events = &env["SWITCHBOARD_EVENTS_QUEUE_URL"];
    let text = command(
        "e2e-reply-1",
        serde_json::json!({"text_message": {"text": "Hello from the agent"}}),
    );
    let media = command(
        "e2e-reply-2",
        serde_json::json!({"media_message": {"s3_key": key}}),
    );
    put(&sqs, replies, &text, "d1").await;
    put(&sqs, replies, &media, "d2").await;

    let results = wait_for(&sqs, events, 2, Duration::from_secs(60)).await;
    assert_eq!(results.len(), 2, "{results:?}");
    for ((event, group), reply_id) in results.iter().zip(["e2e-reply-1", "e2e-reply-2"]) {
        assert_eq!(event["kind"], "send_result");
        assert_eq!(event["reply_id"], reply_id, "in the order put");
        assert_eq!(event["send_result"]["outcome"], "accepted", "{event}");
        assert_eq!(group, GROUP);
    }
    let sends: Vec<serde_json::Value> = sim
        .simulator
        .requests()
        .into_iter()
        .filter(|r| r["path"].as_str().unwrap_or("").ends_with("/messages:send"))
        .map(|r| serde_json::from_str(r["body"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(sends.len(), 2);
    assert_eq!(
        sends[1]["message"]["media_message"]["url"],
        format!("{PUBLIC}/{key}")
    );
    // Sinch's message id → reply id, for the inbound stage's delivery reports and quotes.
    let map = DynamoReplyIdMap::new(
        switchboard_shared::aws::dynamodb_client(&sdk),
        env["SWITCHBOARD_STATE_TABLE"].clone(),
    );
    for (event, _) in &results {
        let id = event["send_result"]["sinch_message_id"]
            .as_str()
            .unwrap_or("");
        assert_eq!(id.len(), 26, "Sinch's message id: {event}");
        let mapped = map.reply_id("acme", id, chrono::Utc::now()).await.unwrap();
        assert_eq!(mapped.as_deref(), event["reply_id"].as_str());
    }

    // The contact center puts the first command again (a new SQS de-duplication id, as after
    // SQS's five minutes): answered again, identically, and not sent again.
    put(&sqs, replies, &text, "d1-again").await;
    let again = wait_for(&sqs, events, 1, Duration::from_secs(60)).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].0, results[0].0, "the same send_result");
    assert_eq!(sim.simulator.count("/messages:send"), 2, "sent once");
    assert_eq!(sim.simulator.count("/oauth2/token"), 1, "one token");

    // A command for globex put by acme's contact center (moto's one sender, which globex does
    // not name): not sent, not answered on any events queue, and done (not retried).
    let stranger = serde_json::json!({
        "schema_version": 1, "reply_id": "e2e-stranger-1", "tenant": "globex",
        "queue_address": "01GLOBEXAPP000000000000000@whatsapp.sinchconversation.com",
        "recipient": {"identity": "46712312399"},
        "message": {"text_message": {"text": "sent as someone else"}}
    })
    .to_string();
    put(&sqs, replies, &stranger, "d-stranger").await;
    let answered = wait_for(&sqs, events, 1, Duration::from_secs(10)).await;
    assert!(
        answered.is_empty(),
        "nothing about globex reaches anyone: {answered:?}"
    );
    assert_eq!(
        sim.simulator.count("/messages:send"),
        2,
        "globex's Sinch untouched"
    );
    let left = sqs
        .get_queue_attributes()
        .queue_url(replies)
        .attribute_names(
            aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
        )
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .expect("replies queue attributes")
        .attributes
        .unwrap_or_default();
    let waiting: u64 = left.values().map(|v| v.parse::<u64>().unwrap_or(0)).sum();
    assert_eq!(
        waiting, 0,
        "the refused command is done, not retried into the DLQ"
    );
}
