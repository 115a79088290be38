//! Tenants are isolated end to end: a command is carried out only for a tenant whose
//! `contact_center.sender_ids` name the record's `SenderId`. In-memory ports; Sinch is a closed
//! loopback port, so any attempt to reach it would fail the record instead of refusing it.

use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use switchboard_shared::config::ApiCredentials;
use switchboard_shared::config::contact_center::MOTO_SENDER_ID;
use switchboard_shared::config::credentials::MemoryCredentials;
use switchboard_shared::config::memory::MemoryConfigSource;
use switchboard_shared::deadline::Deadline;
use switchboard_shared::event_queue::MemoryEventQueue;
use switchboard_shared::kit::Invocation;
use switchboard_shared::kit::fifo::handle_batch;
use switchboard_shared::media::fetch::SafeFetcher;
use switchboard_shared::sinch::api::{ClientSettings, SinchClient};
use switchboard_shared::state::idempotency::{Claim, IdempotencyStore, MemoryIdempotency};
use switchboard_shared::state::reply_map::MemoryReplyIdMap;

use crate::handler::{Outbound, Outcome, Record};
use crate::media::MemoryOutboundObjects;
use crate::settings::Settings;

pub(crate) const EVENTS: &str =
    "https://sqs.eu-west-1.amazonaws.com/123456789012/switchboard-EventsQueue-AbC123.fifo";
pub(crate) const VICTIM_ROLE: &str = "AROAVICTIMROLE000001";
pub(crate) const VICTIM_APP: &str = "01VICTIMAPP000000000000001";

pub(crate) type TestOutbound = Outbound<
    MemoryConfigSource,
    MemoryCredentials,
    MemoryIdempotency,
    MemoryReplyIdMap,
    MemoryOutboundObjects,
    MemoryEventQueue,
>;

/// A tenant whose Sinch is a closed loopback port (nothing ever answers there).
pub(crate) fn tenant(id: &str, app: &str, contact_center: Value) -> Value {
    json!({
        "id": id,
        "services": [{
            "name": "main", "region": "eu", "project_id": format!("p-{id}"), "app_ids": [app],
            "webhook_secret": format!("{id}-webhook-secret"), "api_base_url": "http://127.0.0.1:9"
        }],
        "queues": [{ "address": format!("{app}@whatsapp.sinchconversation.com"), "service": "main" }],
        "contact_center": contact_center
    })
}

pub(crate) fn outbound_with(tenants: &[Value]) -> TestOutbound {
    let config = MemoryConfigSource::default();
    let credentials = MemoryCredentials::default();
    for tenant in tenants {
        config.insert(tenant.clone());
        credentials.insert(
            tenant["id"].as_str().unwrap(),
            "main",
            ApiCredentials {
                key_id: format!("{}-key", tenant["id"].as_str().unwrap()),
                key_secret: String::from("key-secret").into(),
            },
        );
    }
    let settings = Settings::from_lookup(|name| {
        match name {
            "SWITCHBOARD_CONFIG_TABLE" => Some("config"),
            "SWITCHBOARD_STATE_TABLE" => Some("state"),
            "SWITCHBOARD_EVENTS_QUEUE_URL" => Some(EVENTS),
            "SWITCHBOARD_MEDIA_BUCKET" => Some("media"),
            "SWITCHBOARD_PUBLIC_MEDIA_BASE_URL" => Some("https://media.example.test"),
            _ => None,
        }
        .map(str::to_owned)
    })
    .unwrap();
    Outbound::new(
        config,
        credentials,
        MemoryIdempotency::default(),
        MemoryReplyIdMap::default(),
        MemoryOutboundObjects::default(),
        MemoryEventQueue::default(),
        SinchClient::new(ClientSettings::default()).unwrap(),
        SafeFetcher::new(settings.address_policy.clone()).unwrap(),
        settings,
    )
}

fn outbound() -> TestOutbound {
    outbound_with(&[
        tenant("victim", VICTIM_APP, json!({ "sender_ids": [VICTIM_ROLE] })),
        tenant(
            "attacker",
            "01ATTACKERAPP0000000000001",
            json!({ "sender_ids": [MOTO_SENDER_ID] }),
        ),
        tenant("legacy", "01LEGACYAPP000000000000001", json!({})),
    ])
}

pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap()
}

pub(crate) fn invocation() -> Invocation {
    Invocation::new(now(), Deadline::after(Duration::from_secs(5)))
}

pub(crate) fn command(tenant: &str, app: &str, reply_id: &str) -> String {
    json!({
        "schema_version": 1, "reply_id": reply_id, "tenant": tenant,
        "queue_address": format!("{app}@whatsapp.sinchconversation.com"),
        "recipient": { "identity": "46732001122" },
        "message": { "text_message": { "text": "secret customer text" } }
    })
    .to_string()
}

pub(crate) async fn handle(
    outbound: &TestOutbound,
    body: &str,
    sender: Option<&str>,
) -> Result<Outcome, crate::handler::OutboundError> {
    outbound
        .handle(
            Record {
                body,
                group_id: "g",
                message_id: "m-1",
                sender_id: sender,
                receive_count: 1,
            },
            &invocation(),
        )
        .await
}

/// Whether a claim on `key` can still be taken (i.e. nobody took it).
async fn unclaimed(outbound: &TestOutbound, key: &str) -> bool {
    matches!(
        outbound
            .idempotency()
            .claim(
                key,
                "test",
                now(),
                Duration::from_secs(60),
                Duration::from_secs(3600)
            )
            .await
            .unwrap(),
        Claim::Acquired
    )
}

#[tokio::test]
async fn a_command_for_another_tenant_is_not_sent_not_claimed_and_not_answered() {
    let outbound = outbound();
    let body = command("victim", VICTIM_APP, "r-1");
    let outcome = handle(&outbound, &body, Some(MOTO_SENDER_ID))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Outcome::Refused {
            reason: "sender_not_listed"
        }
    );
    assert!(
        outbound.queue().sent().is_empty(),
        "no send_result anywhere"
    );
    assert!(unclaimed(&outbound, "victim#r-1").await, "no claim taken");
    // A role session of another role is no better.
    let outcome = handle(&outbound, &body, Some("AROAOTHERROLE0000001:desk"))
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Refused { .. }), "{outcome:?}");
    assert!(outbound.queue().sent().is_empty());
}

#[tokio::test]
async fn the_tenants_own_role_sessions_are_carried_out() {
    let outbound = outbound();
    // An unknown queue: answered without Sinch, which shows the command got past the check.
    let body = command("victim", "01NOSUCHAPP000000000000001", "r-2");
    let outcome = handle(
        &outbound,
        &body,
        Some(&format!("{VICTIM_ROLE}:agent-desk-7")),
    )
    .await
    .unwrap();
    assert!(
        matches!(&outcome, Outcome::Failed { code, .. } if code == "UNKNOWN_QUEUE"),
        "{outcome:?}"
    );
    assert_eq!(outbound.queue().sent().len(), 1, "answered to its tenant");
}

#[tokio::test]
async fn unknown_tenants_tenants_without_senders_and_records_without_a_sender_are_refused_alike() {
    let outbound = outbound();
    for (body, sender, reason) in [
        (
            command("nobody", VICTIM_APP, "r-3"),
            Some(MOTO_SENDER_ID),
            "unknown_tenant",
        ),
        (
            command("legacy", "01LEGACYAPP000000000000001", "r-4"),
            Some(MOTO_SENDER_ID),
            "tenant_names_no_senders",
        ),
        (command("victim", VICTIM_APP, "r-5"), None, "no_sender_id"),
        (
            "not json at all".to_owned(),
            Some(MOTO_SENDER_ID),
            "unknown_tenant",
        ),
    ] {
        let outcome = handle(&outbound, &body, sender).await.unwrap();
        assert_eq!(outcome, Outcome::Refused { reason }, "{body}");
    }
    assert!(outbound.queue().sent().is_empty());
}

#[tokio::test]
async fn an_invalid_command_naming_another_tenant_is_not_answered_to_that_tenant() {
    let outbound = outbound();
    let body = json!({ "tenant": "victim", "reply_id": "r-6", "message": {} }).to_string();
    let outcome = handle(&outbound, &body, Some(MOTO_SENDER_ID))
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Refused { .. }), "{outcome:?}");
    assert!(outbound.queue().sent().is_empty());
    // From its own sender it is answered, naming the field.
    let outcome = handle(&outbound, &body, Some(VICTIM_ROLE)).await.unwrap();
    assert!(matches!(outcome, Outcome::Failed { .. }), "{outcome:?}");
    assert_eq!(outbound.queue().sent().len(), 1);
}

#[tokio::test]
async fn through_the_kit_a_refused_record_is_done_and_its_group_goes_on() {
    let outbound = outbound();
    let message = |id: &str, body: String| {
        let mut message = SqsMessage::default();
        message.message_id = Some(id.into());
        message.body = Some(body);
        message
            .attributes
            .insert("MessageGroupId".into(), "g".into());
        message
            .attributes
            .insert("SenderId".into(), MOTO_SENDER_ID.into());
        message
    };
    let mut event = SqsEvent::default();
    event.records = vec![
        message("m-1", command("victim", VICTIM_APP, "r-7")),
        message(
            "m-2",
            command("attacker", "01NOSUCHAPP000000000000001", "r-8"),
        ),
    ];
    let response = handle_batch(&outbound, &event, &invocation()).await;
    assert!(
        response.batch_item_failures.is_empty(),
        "done, nothing loops"
    );
    let sent = outbound.queue().sent();
    assert_eq!(sent.len(), 1, "only the attacker's own command is answered");
    assert!(sent[0].message.body.contains("\"tenant\":\"attacker\""));
}

#[tokio::test]
async fn results_go_to_the_queues_target_else_the_tenants_default_target_never_the_shared_queue() {
    const DEFAULT: &str = "https://sqs.eu-west-1.amazonaws.com/123456789012/victim-events.fifo";
    const CHAT: &str = "https://sqs.eu-west-1.amazonaws.com/123456789012/victim-chat.fifo";
    let mut victim = tenant(
        "victim",
        VICTIM_APP,
        json!({ "sender_ids": [VICTIM_ROLE], "default_target_queue_url": DEFAULT }),
    );
    victim["queues"].as_array_mut().unwrap().push(
        json!({ "address": format!("{VICTIM_APP}@nativechannel.sinchconversation.com"),
                      "service": "main", "target_queue_url": CHAT }),
    );
    let outbound = outbound_with(&[victim]);
    // Unknown queues (answered without Sinch): the tenant's default target.
    handle(
        &outbound,
        &command("victim", "01NOSUCHAPP000000000000001", "r-9"),
        Some(VICTIM_ROLE),
    )
    .await
    .unwrap();
    // An invalid command about the chat queue: that queue's own target.
    let invalid = json!({ "tenant": "victim", "reply_id": "r-10",
        "queue_address": format!("{VICTIM_APP}@nativechannel.sinchconversation.com"), "message": {} });
    handle(&outbound, &invalid.to_string(), Some(VICTIM_ROLE))
        .await
        .unwrap();
    let urls: Vec<String> = outbound
        .queue()
        .sent()
        .into_iter()
        .map(|sent| sent.queue_url)
        .collect();
    assert_eq!(urls, [DEFAULT, CHAT]);
}

#[tokio::test]
async fn a_target_that_is_one_of_the_stacks_own_queues_is_a_config_error_and_nothing_is_sent() {
    for target in [
        "https://sqs.eu-west-1.amazonaws.com/123456789012/switchboard-RepliesQueue-Zz9.fifo",
        "https://sqs.eu-west-1.amazonaws.com/123456789012/switchboard-IngestDeadLetterQueue-Zz9.fifo",
        "http://127.0.0.1:4566/123456789012/victim.fifo",
        "https://sqs.eu-west-1.amazonaws.com/123456789012/not-fifo",
    ] {
        let outbound = outbound_with(&[tenant(
            "victim",
            VICTIM_APP,
            json!({ "sender_ids": [VICTIM_ROLE], "default_target_queue_url": EVENTS }),
        )
        .tap(|t| t["queues"][0]["target_queue_url"] = json!(target))]);
        let outcome = handle(
            &outbound,
            &command("victim", VICTIM_APP, "r-11"),
            Some(VICTIM_ROLE),
        )
        .await
        .unwrap();
        assert_eq!(
            outcome,
            Outcome::Refused {
                reason: "target_invalid"
            },
            "{target}"
        );
        assert!(outbound.queue().sent().is_empty(), "{target}");
        assert!(unclaimed(&outbound, "victim#r-11").await, "{target}");
    }
}

trait Tap {
    fn tap(self, f: impl FnOnce(&mut Self)) -> Self;
}

impl Tap for Value {
    fn tap(mut self, f: impl FnOnce(&mut Self)) -> Self {
        f(&mut self);
        self
    }
}

fn media_command(key: &str) -> String {
    json!({
        "schema_version": 1, "reply_id": key, "tenant": "victim",
        "queue_address": format!("{VICTIM_APP}@whatsapp.sinchconversation.com"),
        "recipient": { "identity": "46732001122" },
        "message": { "media_message": { "s3_key": key } }
    })
    .to_string()
}

/// The failed result's code and message for a media command whose object is stored with
/// `content_type` (`None`: no such object).
async fn attachment(day: &str, content_type: Option<&str>) -> (String, String) {
    let mut victim = tenant("victim", VICTIM_APP, json!({ "sender_ids": [VICTIM_ROLE] }));
    victim["media"] = json!({ "allowed_types": ["image/*", "application/pdf"] });
    let outbound = outbound_with(&[victim]);
    let key = format!("outbound/victim/{day}/0123456789abcdef0123456789abcdef/file.bin");
    if let Some(content_type) = content_type {
        outbound.objects().insert(&key, content_type, 10);
    }
    let outcome = handle(&outbound, &media_command(&key), Some(VICTIM_ROLE))
        .await
        .unwrap();
    let Outcome::Failed { code, .. } = outcome else {
        panic!("{outcome:?}");
    };
    let sent = outbound.queue().sent();
    let body: Value = serde_json::from_str(&sent[0].message.body).unwrap();
    (
        code,
        body["send_result"]["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

#[tokio::test]
async fn an_attachment_dated_more_than_a_day_ahead_is_refused() {
    // The invocation's day is 2026-12-01: tomorrow passes this check (and fails on its type).
    let (code, _) = attachment("2026-12-02", Some("text/html")).await;
    assert_eq!(code, "MEDIA_TYPE_NOT_ALLOWED");
    for day in ["2026-12-03", "2027-12-01"] {
        let (code, message) = attachment(day, Some("image/png")).await;
        assert_eq!(code, "MEDIA_DATE_IN_FUTURE", "{day}");
        assert!(
            message.contains(day) && message.contains("2026-12-01"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn an_attachment_stored_with_a_type_the_tenant_does_not_accept_is_refused_naming_it() {
    for (stored, shown) in [
        ("text/html", "\"text/html\""),
        ("image/svg+xml", "\"image/svg+xml\""),
        ("video/mp4", "\"video/mp4\""),
        ("application/octet-stream", "\"application/octet-stream\""),
        ("", "no Content-Type"),
    ] {
        let (code, message) = attachment("2026-12-01", Some(stored)).await;
        assert_eq!(code, "MEDIA_TYPE_NOT_ALLOWED", "{stored}");
        assert!(
            message.contains(shown) && message.contains("media.allowed_types"),
            "{message}"
        );
    }
    let (code, _) = attachment("2026-12-01", None).await;
    assert_eq!(code, "MEDIA_NOT_FOUND");
}
