//! The inbound stage: `ingest.fifo` → customer media into S3 → de-duplicated events, in
//! per-conversation order, on the contact center's queue.
//!
//! [`handler`] holds the logic and knows nothing of Lambda; [`lambda_shell`] (Lambda's SQS
//! event source) and the local event-source shell (`make dev`) are the ways in.

pub mod enrich;
pub mod fetch;
pub mod forward;
pub mod handler;
pub mod lambda_shell;
pub mod links;
pub mod media;
pub mod settings;
pub mod store;

use std::time::Duration;

use switchboard_shared::config::ConfigStore;
use switchboard_shared::sinch::api::{ClientSettings, SinchClient};
use switchboard_shared::state::delivery::DynamoDeliveryStatus;
use switchboard_shared::state::idempotency::DynamoIdempotency;
use switchboard_shared::state::names::DynamoDisplayNames;
use switchboard_shared::state::reply_map::DynamoReplyIdMap;

pub use handler::{MediaStage, Outcome, Record};

/// The stage wired to real AWS clients (moto locally).
pub type AwsMediaStage = MediaStage<
    ConfigStore,
    DynamoIdempotency,
    DynamoDeliveryStatus,
    store::S3MediaStore,
    forward::SqsEventQueue,
    enrich::Enricher<DynamoDisplayNames, DynamoReplyIdMap, ConfigStore>,
>;

/// Builds the clients once per process; reused by every batch of a warm container.
pub async fn build(settings: settings::Settings) -> Result<AwsMediaStage, String> {
    let sdk = switchboard_shared::aws::load_function_sdk_config_with_timeouts(
        Duration::from_secs(10),
        Duration::from_secs(30),
    )
    .await;
    let dynamodb = switchboard_shared::aws::dynamodb_client(&sdk);
    let fetcher = fetch::SafeFetcher::with_timeouts(
        settings.address_policy.clone(),
        settings.fetch_timeouts,
    )?;
    let config = ConfigStore::new(dynamodb.clone(), settings.config_table.clone());
    // Name look-ups are bounded by their own deadline; one attempt never takes all of it.
    let sinch = SinchClient::new(ClientSettings {
        attempt_timeout: settings.name_lookup_timeout,
        connect_timeout: settings.name_lookup_timeout.min(Duration::from_secs(1)),
        ..ClientSettings::default()
    })
    .map_err(|err| err.to_string())?;
    let enricher = enrich::Enricher::new(
        DynamoDisplayNames::new(dynamodb.clone(), settings.state_table.clone()),
        DynamoReplyIdMap::new(dynamodb.clone(), settings.state_table.clone()),
        config.clone(),
        sinch,
        settings.name_lookup_timeout,
    );
    let links = settings.link.as_ref().map(|link| {
        links::MediaLinks::new(
            switchboard_shared::media::link_keys::LinkKeyCache::secrets_manager(
                switchboard_shared::aws::secretsmanager_client(&sdk),
                link.secret_id.clone(),
                link.keys_refresh,
            ),
            &link.base_url,
        )
    });
    let stage = MediaStage::new(
        config,
        DynamoIdempotency::new(dynamodb.clone(), settings.state_table.clone(), "inbound"),
        DynamoDeliveryStatus::new(dynamodb, settings.state_table.clone()),
        store::S3MediaStore::new(
            switchboard_shared::aws::s3_client(&sdk),
            settings.media_bucket.clone(),
        ),
        forward::SqsEventQueue::new(switchboard_shared::aws::sqs_client(&sdk)),
        fetcher,
        enricher,
        settings,
    );
    Ok(match links {
        Some(links) => stage.with_links(links),
        None => stage,
    })
}
