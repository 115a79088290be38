//! The outbound function: agent commands from `replies.fifo` → Sinch `messages:send` /
//! `events:send`, each reply sent once, in per-conversation order, and a `send_result` for
//! every command on the contact center's queue.
//!
//! [`handler`] holds the logic and knows nothing of Lambda; [`lambda_shell`] (Lambda's SQS
//! event source) and the local event-source shell (`make dev`) are the ways in.

pub mod fetch_media;
pub mod handler;
pub mod lambda_shell;
pub mod media;
pub mod result;
pub mod settings;

use std::time::Duration;

use switchboard_shared::config::ConfigStore;
use switchboard_shared::event_queue::SqsEventQueue;
use switchboard_shared::media::fetch::SafeFetcher;
use switchboard_shared::sinch::api::{ClientSettings, SinchClient};
use switchboard_shared::state::idempotency::DynamoIdempotency;
use switchboard_shared::state::reply_map::DynamoReplyIdMap;

pub use handler::{Outbound, OutboundError, Outcome, Record};

/// The idempotency scope of replies in the state table (`IDEM#reply#{tenant}#{reply_id}`).
pub const IDEMPOTENCY_SCOPE: &str = "reply";

/// The function wired to real AWS clients (moto locally) and Sinch (or the simulator).
pub type AwsOutbound = Outbound<
    ConfigStore,
    ConfigStore,
    DynamoIdempotency,
    DynamoReplyIdMap,
    media::S3OutboundObjects,
    SqsEventQueue,
>;

/// Builds the clients once per process; reused by every batch of a warm container (one
/// connection pool and one token cache for Sinch).
pub async fn build(settings: settings::Settings) -> Result<AwsOutbound, String> {
    let sdk = switchboard_shared::aws::load_function_sdk_config_with_timeouts(
        Duration::from_secs(3),
        Duration::from_secs(10),
    )
    .await;
    let dynamodb = switchboard_shared::aws::dynamodb_client(&sdk);
    let config = ConfigStore::new(dynamodb.clone(), settings.config_table.clone());
    let sinch = SinchClient::new(ClientSettings::default()).map_err(|err| err.to_string())?;
    let fetcher = SafeFetcher::new(settings.address_policy.clone())?;
    Ok(Outbound::new(
        config.clone(),
        config,
        DynamoIdempotency::new(
            dynamodb.clone(),
            settings.state_table.clone(),
            IDEMPOTENCY_SCOPE,
        ),
        DynamoReplyIdMap::new(dynamodb, settings.state_table.clone()),
        media::S3OutboundObjects::new(
            switchboard_shared::aws::s3_client(&sdk),
            settings.media_bucket.clone(),
        ),
        SqsEventQueue::new(switchboard_shared::aws::sqs_client(&sdk)),
        sinch,
        fetcher,
        settings,
    ))
}
