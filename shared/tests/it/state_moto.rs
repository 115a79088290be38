//! State-table records against moto (a table with the state table's key schema): idempotency
//! claims, completion, release and lease take-over; monotonic delivery status; the Sinch message
//! id → reply id map; the display-name cache. The in-memory
//! idempotency store is checked against the same scenarios, so handler tests that use it hold
//! for the real table too.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use switchboard_shared::state::delivery::{
    Decision, DeliveryStatusStore, DynamoDeliveryStatus, MemoryDeliveryStatus,
};
use switchboard_shared::state::idempotency::{
    Claim, DynamoIdempotency, IdempotencyStore, MemoryIdempotency,
};
use switchboard_shared::state::names::{
    CachedName, DisplayNameCache, DynamoDisplayNames, MemoryDisplayNames,
};
use switchboard_shared::state::reply_map::{DynamoReplyIdMap, MemoryReplyIdMap, ReplyIdMap};

async fn state_table() -> (aws_sdk_dynamodb::Client, String) {
    let sdk = switchboard_testkit::moto_config().await;
    let client = switchboard_shared::aws::dynamodb_client(&sdk);
    let name = switchboard_testkit::unique_prefix("state");
    switchboard_shared::tables::create_table(&client, &name)
        .await
        .expect("create table");
    (client, name)
}

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_790_000_000 + seconds, 0).unwrap()
}

const LEASE: Duration = Duration::from_secs(60);
const TTL: Duration = Duration::from_secs(7 * 86_400);

/// The scenario every store must pass.
async fn the_idempotency_rules_hold(store: &impl IdempotencyStore) {
    // One winner.
    assert_eq!(
        store.claim("e1", "w1", at(0), LEASE, TTL).await.unwrap(),
        Claim::Acquired
    );
    assert!(matches!(
        store.claim("e1", "w2", at(1), LEASE, TTL).await.unwrap(),
        Claim::Busy { .. }
    ));
    // Done: later deliveries get the result, however late (within the TTL).
    store
        .complete("e1", "w1", "sent:01MSG", at(2), TTL)
        .await
        .unwrap();
    assert_eq!(
        store.claim("e1", "w3", at(3600), LEASE, TTL).await.unwrap(),
        Claim::Done {
            result: "sent:01MSG".into()
        }
    );
    // A failed attempt releases its claim: the retry is not blocked.
    assert_eq!(
        store.claim("e2", "w1", at(0), LEASE, TTL).await.unwrap(),
        Claim::Acquired
    );
    store.release("e2", "w1").await.unwrap();
    assert_eq!(
        store.claim("e2", "w2", at(1), LEASE, TTL).await.unwrap(),
        Claim::Acquired
    );
    // A crashed attempt's claim is taken over once its lease has passed.
    assert_eq!(
        store.claim("e3", "w1", at(0), LEASE, TTL).await.unwrap(),
        Claim::Acquired
    );
    assert!(matches!(
        store.claim("e3", "w2", at(30), LEASE, TTL).await.unwrap(),
        Claim::Busy { .. }
    ));
    assert_eq!(
        store.claim("e3", "w2", at(61), LEASE, TTL).await.unwrap(),
        Claim::Acquired
    );
    // Releasing someone else's claim does nothing.
    store.release("e3", "w1").await.unwrap();
    assert!(matches!(
        store.claim("e3", "w4", at(62), LEASE, TTL).await.unwrap(),
        Claim::Busy { .. }
    ));
    // A record past its TTL (DynamoDB deletes late) counts as absent.
    assert_eq!(
        store
            .claim("e1", "w5", at(8 * 86_400), LEASE, TTL)
            .await
            .unwrap(),
        Claim::Acquired
    );
}

#[tokio::test]
async fn idempotency_records_in_the_state_table() {
    let (client, table) = state_table().await;
    the_idempotency_rules_hold(&DynamoIdempotency::new(client, table, "test")).await;
}

#[tokio::test]
async fn the_in_memory_store_follows_the_same_rules() {
    the_idempotency_rules_hold(&MemoryIdempotency::default()).await;
}

#[tokio::test]
async fn delivery_status_never_goes_backwards_and_failed_is_never_dropped() {
    let (client, table) = state_table().await;
    let store = DynamoDeliveryStatus::new(client, table);
    let mut decisions = Vec::new();
    // Six callbacks, six events: the second READ is a repeat from another callback.
    for (n, status) in [
        "READ",
        "DELIVERED",
        "QUEUED_ON_CHANNEL",
        "READ",
        "FAILED",
        "SWITCHING_CHANNEL",
    ]
    .into_iter()
    .enumerate()
    {
        decisions.push(
            store
                .advance("acme", "01MSG", status, &format!("event-{n}"), at(0), TTL)
                .await
                .unwrap(),
        );
    }
    use Decision::{Forward, Stale};
    assert_eq!(decisions, [Forward, Stale, Stale, Stale, Forward, Forward]);
    // In order, every step is forwarded; another message is independent.
    for status in ["QUEUED_ON_CHANNEL", "DELIVERED", "READ"] {
        assert_eq!(
            store
                .advance("acme", "01OTHER", status, status, at(0), TTL)
                .await
                .unwrap(),
            Forward
        );
    }
    assert_eq!(
        store
            .advance("globex", "01MSG", "DELIVERED", "g", at(0), TTL)
            .await
            .unwrap(),
        Forward,
        "tenants do not share statuses"
    );
}

/// The stage moves the status, then fails to forward (the queue is down): the record comes
/// back, and its second attempt must be forwarded, not dropped as stale against itself.
async fn a_retry_of_the_event_that_moved_the_status_is_forwarded(store: &impl DeliveryStatusStore) {
    use Decision::{Forward, Stale};
    let advance = |status: &'static str, event: &'static str| {
        store.advance("acme", "01RETRY", status, event, at(0), TTL)
    };
    assert_eq!(
        advance("DELIVERED", "event-delivered").await.unwrap(),
        Forward
    );
    assert_eq!(
        advance("DELIVERED", "event-delivered").await.unwrap(),
        Forward,
        "the same event again: its first attempt never reached the queue"
    );
    assert_eq!(
        advance("DELIVERED", "another-delivered").await.unwrap(),
        Stale,
        "a second report of the same status from another callback is a repeat"
    );
    assert_eq!(advance("READ", "event-read").await.unwrap(), Forward);
    assert_eq!(
        advance("DELIVERED", "event-delivered").await.unwrap(),
        Stale,
        "once READ was forwarded, the older report stays dropped"
    );
}

#[tokio::test]
async fn delivery_status_retries_of_the_same_event_in_the_state_table() {
    let (client, table) = state_table().await;
    a_retry_of_the_event_that_moved_the_status_is_forwarded(&DynamoDeliveryStatus::new(
        client, table,
    ))
    .await;
}

#[tokio::test]
async fn delivery_status_retries_of_the_same_event_in_memory() {
    a_retry_of_the_event_that_moved_the_status_is_forwarded(&MemoryDeliveryStatus::default()).await;
}

/// The scenario both reply-id maps must pass.
async fn the_reply_id_map_rules_hold(map: &impl ReplyIdMap) {
    map.remember("acme", "01MSG", "reply-1", at(0), TTL)
        .await
        .expect("remember");
    assert_eq!(
        map.reply_id("acme", "01MSG", at(10)).await.expect("read"),
        Some("reply-1".to_owned())
    );
    assert_eq!(
        map.reply_id("globex", "01MSG", at(10)).await.expect("read"),
        None,
        "another tenant's message id is not ours"
    );
    assert_eq!(
        map.reply_id("acme", "01OTHER", at(10)).await.expect("read"),
        None
    );
    let past_expiry = at(TTL.as_secs() as i64 + 1);
    assert_eq!(
        map.reply_id("acme", "01MSG", past_expiry)
            .await
            .expect("read"),
        None,
        "an expired record DynamoDB has not deleted yet reads as unknown"
    );
}

#[tokio::test]
async fn reply_ids_in_the_state_table() {
    let (client, table) = state_table().await;
    the_reply_id_map_rules_hold(&DynamoReplyIdMap::new(client, table)).await;
}

#[tokio::test]
async fn the_in_memory_reply_id_map_follows_the_same_rules() {
    the_reply_id_map_rules_hold(&MemoryReplyIdMap::default()).await;
}

/// The scenario both display-name caches must pass.
async fn the_display_name_rules_hold(cache: &impl DisplayNameCache) {
    let day = Duration::from_secs(86_400);
    assert_eq!(cache.get("acme", "01CONTACT", at(0)).await.unwrap(), None);
    let named = CachedName {
        name: Some("Ada Lovelace".into()),
    };
    cache
        .put("acme", "01CONTACT", &named, at(0), day)
        .await
        .unwrap();
    assert_eq!(
        cache.get("acme", "01CONTACT", at(3600)).await.unwrap(),
        Some(named.clone())
    );
    assert_eq!(
        cache.get("globex", "01CONTACT", at(3600)).await.unwrap(),
        None,
        "tenants do not share contacts"
    );
    // "Sinch knows no name" is an answer too, and is told apart from "not cached".
    let nameless = CachedName { name: None };
    cache
        .put("acme", "01NAMELESS", &nameless, at(0), day)
        .await
        .unwrap();
    assert_eq!(
        cache.get("acme", "01NAMELESS", at(10)).await.unwrap(),
        Some(nameless)
    );
    assert_eq!(
        cache.get("acme", "01CONTACT", at(86_401)).await.unwrap(),
        None,
        "after a day the name is looked up again, though DynamoDB has not deleted the record"
    );
    // A later answer replaces the earlier one.
    let renamed = CachedName {
        name: Some("Ada King".into()),
    };
    cache
        .put("acme", "01CONTACT", &renamed, at(86_401), day)
        .await
        .unwrap();
    assert_eq!(
        cache.get("acme", "01CONTACT", at(86_402)).await.unwrap(),
        Some(renamed)
    );
}

#[tokio::test]
async fn display_names_in_the_state_table() {
    let (client, table) = state_table().await;
    the_display_name_rules_hold(&DynamoDisplayNames::new(client, table)).await;
}

#[tokio::test]
async fn the_in_memory_display_name_cache_follows_the_same_rules() {
    the_display_name_rules_hold(&MemoryDisplayNames::default()).await;
}
