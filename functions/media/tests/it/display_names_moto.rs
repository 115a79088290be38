//! Display names against the Sinch simulator (started in-process on a random port) and moto:
//! the tenants and their API keys in a config table (which the simulator authenticates against
//! too), the name cache in a state table. What the simulator recorded shows what was asked.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{TimeZone, Utc};
use switchboard_media::enrich::Enricher;
use switchboard_media::fetch::SafeFetcher;
use switchboard_media::forward::MemoryEventQueue;
use switchboard_media::settings::Settings;
use switchboard_media::store::MemoryMediaStore;
use switchboard_media::{MediaStage, Outcome, Record};
use switchboard_shared::config::{ConfigStore, SeedFile};
use switchboard_shared::contract::InboundEvent;
use switchboard_shared::kit::Invocation;
use switchboard_shared::sinch::api::{ClientSettings, SinchClient};
use switchboard_shared::state::delivery::MemoryDeliveryStatus;
use switchboard_shared::state::idempotency::MemoryIdempotency;
use switchboard_shared::state::names::{DisplayNameCache, DynamoDisplayNames};
use switchboard_shared::state::reply_map::MemoryReplyIdMap;
use switchboard_sinch_simulator::directory::Directory;
use switchboard_sinch_simulator::state::Fault;
use switchboard_sinch_simulator::{Simulator, server};

type Stage = MediaStage<
    ConfigStore,
    MemoryIdempotency,
    MemoryDeliveryStatus,
    MemoryMediaStore,
    MemoryEventQueue,
    Enricher<DynamoDisplayNames, MemoryReplyIdMap, ConfigStore>,
>;

const WHATSAPP_APP: &str = "01ACMEWA";
const MESSENGER_APP: &str = "01ACMEFB";

struct World {
    dynamodb: aws_sdk_dynamodb::Client,
    config_table: String,
    state_table: String,
    simulator: Arc<Simulator>,
    simulator_url: String,
}

async fn table(client: &aws_sdk_dynamodb::Client, prefix: &str) -> String {
    let name = switchboard_testkit::unique_prefix(prefix);
    switchboard_shared::tables::create_table(client, &name)
        .await
        .expect("create table");
    name
}

/// Tenant `acme` (look-ups on) and `quiet` (look-ups off), both served by the simulator.
async fn world() -> World {
    let sdk = switchboard_testkit::moto_config().await;
    let dynamodb = switchboard_shared::aws::dynamodb_client(&sdk);
    let config_table = table(&dynamodb, "config").await;
    let state_table = table(&dynamodb, "state").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let simulator_url = format!("http://{}", listener.local_addr().unwrap());
    let tenant = |id: &str, apps: &[&str], queues: serde_json::Value, lookups: bool| {
        serde_json::json!({
            "id": id,
            "services": [{ "name": "main", "region": "eu", "project_id": format!("{id}-project"),
                "app_ids": apps, "access_key_id": format!("{id}-key"),
                "access_key_secret": format!("{id}-secret"), "webhook_secret": "whsec",
                "api_base_url": simulator_url }],
            "queues": queues,
            "media": { "display_name_lookups": lookups }
        })
    };
    let seed = serde_json::json!({ "tenants": [
        tenant("acme", &[WHATSAPP_APP, MESSENGER_APP], serde_json::json!([
            { "address": format!("{WHATSAPP_APP}@whatsapp.sinchconversation.com"), "service": "main" },
            { "address": format!("{MESSENGER_APP}@facebook.sinchconversation.com"), "service": "main" }
        ]), true),
        tenant("quiet", &["01QUIETWA"], serde_json::json!([]), false),
    ]});
    let store = ConfigStore::new(dynamodb.clone(), &config_table);
    for tenant in SeedFile::parse(&seed.to_string()).unwrap().tenants {
        store.put_tenant(&tenant).await.unwrap();
    }
    let settings =
        switchboard_sinch_simulator::settings::Settings::from_lookup(|name| match name {
            "SWITCHBOARD_CONFIG_TABLE" => Some(config_table.clone()),
            "SWITCHBOARD_SINCH_PORT" => Some("0".into()),
            // Nothing listens there: the MO callbacks of these tests go nowhere.
            "SWITCHBOARD_SINCH_WEBHOOK_BASE_URL" => Some("http://127.0.0.1:9".into()),
            "SWITCHBOARD_SINCH_CALLBACKS" => Some("false".into()),
            _ => None,
        })
        .unwrap();
    let simulator = Arc::new(Simulator::new(
        settings,
        Directory::new(store),
        simulator_url.clone(),
    ));
    tokio::spawn(server::serve(
        Arc::clone(&simulator),
        listener,
        std::future::pending(),
    ));
    World {
        dynamodb,
        config_table,
        state_table,
        simulator,
        simulator_url,
    }
}

/// A stage (a container) on the world's tables, with this look-up bound.
fn stage(world: &World, lookup_timeout: Duration) -> Stage {
    let settings = Settings::from_lookup(|name| match name {
        "SWITCHBOARD_CONFIG_TABLE" => Some(world.config_table.clone()),
        "SWITCHBOARD_STATE_TABLE" => Some(world.state_table.clone()),
        "SWITCHBOARD_EVENTS_QUEUE_URL" => Some("http://sqs/events.fifo".into()),
        "SWITCHBOARD_MEDIA_BUCKET" => Some("media".into()),
        _ => None,
    })
    .unwrap();
    let config = ConfigStore::new(world.dynamodb.clone(), &world.config_table);
    let sinch = SinchClient::new(ClientSettings {
        attempt_timeout: lookup_timeout,
        ..ClientSettings::default()
    })
    .unwrap();
    MediaStage::new(
        config.clone(),
        MemoryIdempotency::default(),
        MemoryDeliveryStatus::default(),
        MemoryMediaStore::default(),
        MemoryEventQueue::default(),
        SafeFetcher::new(settings.address_policy.clone()).unwrap(),
        Enricher::new(
            DynamoDisplayNames::new(world.dynamodb.clone(), &world.state_table),
            MemoryReplyIdMap::default(),
            config,
            sinch,
            lookup_timeout,
        ),
        settings,
    )
}

/// A text message from `identity` (and `contact_id`, in CONVERSATION mode) on `channel`.
fn text_event(
    event_id: &str,
    tenant: &str,
    app_id: &str,
    channel: &str,
    identity: &str,
    contact_id: Option<&str>,
) -> String {
    serde_json::json!({
        "schema_version": 1, "event_id": event_id, "tenant": tenant, "service": "main",
        "queue_address": null, "app_id": app_id, "project_id": format!("{tenant}-project"),
        "channel": channel,
        "contact": {"id": contact_id, "channel_identity": identity, "display_name": identity},
        "conversation_id": null,
        "processing_mode": if contact_id.is_some() { "CONVERSATION" } else { "DISPATCH" },
        "sinch_times": {"accepted_time": null, "event_time": null},
        "received_at": "2026-12-01T00:00:00Z", "correlation_id": null, "attached_data": {},
        "message_metadata": null, "reply_id": null,
        "kind": "message", "message": {"message_id": format!("{event_id}-msg"),
            "content_kind": "text_message", "text": "hello", "media": [], "location": null,
            "choice_response": null, "quoted_message": null, "sender_id": null, "raw_content": null}
    })
    .to_string()
}

async fn forward(stage: &Stage, body: &str) -> String {
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap();
    let outcome = stage
        .handle(
            Record {
                body,
                group_id: "g",
                message_id: "m1",
                sender_id: None,
                receive_count: 1,
            },
            &Invocation::new(
                now,
                switchboard_shared::deadline::Deadline::after(std::time::Duration::from_secs(60)),
            ),
        )
        .await
        .expect("forwarded, whatever the look-up did");
    assert!(matches!(outcome, Outcome::Forwarded { .. }), "{outcome:?}");
    let sent = stage.queue().sent();
    let event: InboundEvent = serde_json::from_str(&sent.last().unwrap().message.body).unwrap();
    event
        .contact
        .and_then(|c| c.display_name)
        .unwrap_or_default()
}

/// The Conversation API calls the simulator received (its token endpoint included).
fn sinch_calls(world: &World) -> Vec<String> {
    world
        .simulator
        .state
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn lookups(world: &World) -> usize {
    sinch_calls(world)
        .iter()
        .filter(|call| call.contains("/contacts"))
        .count()
}

async fn control(world: &World, path: &str, body: serde_json::Value) {
    let answer = reqwest::Client::new()
        .post(format!("{}/_simulator/{path}", world.simulator_url))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{path}: {}", answer.status());
}

#[tokio::test]
async fn the_name_of_a_conversation_contact_is_looked_up_once_and_then_cached() {
    let world = world().await;
    // A customer writes; Sinch (the simulator) now knows the contact and its name.
    control(
        &world,
        "mo",
        serde_json::json!({"app_id": WHATSAPP_APP, "identity": "46700000001",
            "contact_id": "01CONTACTADA", "display_name": "Ada Lovelace", "text": "hi"}),
    )
    .await;
    world.simulator.state.clear_requests();
    let stage = stage(&world, Duration::from_secs(5));
    let event = |id: &str| {
        text_event(
            id,
            "acme",
            WHATSAPP_APP,
            "WHATSAPP",
            "46700000001",
            Some("01CONTACTADA"),
        )
    };
    assert_eq!(forward(&stage, &event("e1")).await, "Ada Lovelace");
    assert_eq!(
        sinch_calls(&world),
        [
            "POST /oauth2/token",
            "GET /v1/projects/acme-project/contacts/01CONTACTADA"
        ]
    );
    // The same container: from memory.
    assert_eq!(forward(&stage, &event("e2")).await, "Ada Lovelace");
    // Another container: from the state table, Sinch not asked again.
    let other = stage_fresh(&world);
    assert_eq!(forward(&other, &event("e3")).await, "Ada Lovelace");
    assert_eq!(lookups(&world), 1, "{:?}", sinch_calls(&world));
    let cached = DynamoDisplayNames::new(world.dynamodb.clone(), &world.state_table)
        .get(
            "acme",
            "01CONTACTADA",
            Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cached.name.as_deref(), Some("Ada Lovelace"));
}

fn stage_fresh(world: &World) -> Stage {
    stage(world, Duration::from_secs(5))
}

#[tokio::test]
async fn a_messenger_customer_is_named_by_the_channel_profile() {
    let world = world().await;
    // DISPATCH mode: no contact id, only the page-scoped id.
    control(
        &world,
        "contacts",
        serde_json::json!({"project_id": "acme-project", "id": "01CONTACTGRACE",
            "channel_identities": [{"channel": "MESSENGER", "identity": "PSID-GRACE"}],
            "profile_name": "Grace Hopper"}),
    )
    .await;
    // CONVERSATION mode, the contact's own name unknown ("Unknown"): the profile still names it.
    control(
        &world,
        "contacts",
        serde_json::json!({"project_id": "acme-project", "id": "01CONTACTALAN",
            "channel_identities": [{"channel": "MESSENGER", "identity": "PSID-ALAN"}],
            "profile_name": "Alan Turing"}),
    )
    .await;
    let stage = stage_fresh(&world);
    let grace = text_event("m1", "acme", MESSENGER_APP, "MESSENGER", "PSID-GRACE", None);
    assert_eq!(forward(&stage, &grace).await, "Grace Hopper");
    let alan = text_event(
        "m2",
        "acme",
        MESSENGER_APP,
        "MESSENGER",
        "PSID-ALAN",
        Some("01CONTACTALAN"),
    );
    assert_eq!(forward(&stage, &alan).await, "Alan Turing");
    let calls = sinch_calls(&world);
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.ends_with("/contacts:getChannelProfile"))
            .count(),
        2,
        "{calls:?}"
    );
    let profile_request = world
        .simulator
        .state
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("contacts:getChannelProfile"))
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&profile_request.body).unwrap();
    assert_eq!(body["app_id"], MESSENGER_APP);
    assert_eq!(
        body["recipient"]["identified_by"]["channel_identities"][0]["identity"],
        "PSID-GRACE"
    );
}

#[tokio::test]
async fn any_lookup_failure_leaves_the_identity_and_never_fails_the_event() {
    let world = world().await;
    control(
        &world,
        "contacts",
        serde_json::json!({"project_id": "acme-project", "id": "01CONTACTX",
            "display_name": "Known Name",
            "channel_identities": [{"channel": "WHATSAPP", "identity": "46700000009"}]}),
    )
    .await;
    let event = |id: &str, identity: &str, contact: &str| {
        text_event(
            id,
            "acme",
            WHATSAPP_APP,
            "WHATSAPP",
            identity,
            Some(contact),
        )
    };
    // Sinch answers 500 (every retry within the bound).
    world.simulator.state.add_fault(Fault {
        status: Some(500),
        count: 100,
        delay_ms: 0,
        path_contains: Some("/contacts/".into()),
        message: None,
        expired: false,
    });
    let stage = stage(&world, Duration::from_millis(800));
    assert_eq!(
        forward(&stage, &event("f1", "46700000009", "01CONTACTX")).await,
        "46700000009"
    );
    world.simulator.state.clear_faults();
    // Sinch is slower than the bound.
    world.simulator.state.add_fault(Fault {
        status: None,
        count: 100,
        delay_ms: 5_000,
        path_contains: Some("/contacts/".into()),
        message: None,
        expired: false,
    });
    let stage = stage_with_timeout(&world, Duration::from_millis(300));
    assert_eq!(
        forward(&stage, &event("f2", "46700000009", "01CONTACTX")).await,
        "46700000009"
    );
    world.simulator.state.clear_faults();
    // Sinch does not know the contact (404): the identity, and that answer is cached.
    let stage = stage_fresh(&world);
    assert_eq!(
        forward(&stage, &event("f3", "46700000010", "01NOBODY")).await,
        "46700000010"
    );
    // The service's API credentials are gone from the config.
    world
        .dynamodb
        .delete_item()
        .table_name(&world.config_table)
        .key("pk", AttributeValue::S("SECRETS#acme".into()))
        .key("sk", AttributeValue::S("SERVICE#main".into()))
        .send()
        .await
        .unwrap();
    world.simulator.state.clear_requests();
    let stage = stage_fresh(&world);
    assert_eq!(
        forward(&stage, &event("f4", "46700000009", "01CONTACTX")).await,
        "46700000009"
    );
    assert_eq!(lookups(&world), 0, "nothing to ask Sinch with");
    // Failures were not cached in the state table: once Sinch answers, the name comes.
    let cache = DynamoDisplayNames::new(world.dynamodb.clone(), &world.state_table);
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap();
    assert_eq!(cache.get("acme", "01CONTACTX", now).await.unwrap(), None);
    assert_eq!(
        cache
            .get("acme", "01NOBODY", now)
            .await
            .unwrap()
            .map(|c| c.name),
        Some(None),
        "Sinch's 'no such contact' is an answer"
    );
}

fn stage_with_timeout(world: &World, timeout: Duration) -> Stage {
    stage(world, timeout)
}

#[tokio::test]
async fn a_tenant_with_lookups_off_never_calls_sinch() {
    let world = world().await;
    control(
        &world,
        "contacts",
        serde_json::json!({"project_id": "quiet-project", "id": "01CONTACTQ",
            "display_name": "Not Asked",
            "channel_identities": [{"channel": "WHATSAPP", "identity": "46700000077"}]}),
    )
    .await;
    let stage = stage_fresh(&world);
    let event = text_event(
        "q1",
        "quiet",
        "01QUIETWA",
        "WHATSAPP",
        "46700000077",
        Some("01CONTACTQ"),
    );
    assert_eq!(forward(&stage, &event).await, "46700000077");
    assert_eq!(
        sinch_calls(&world),
        Vec::<String>::new(),
        "not even a token"
    );
}
