//! The inbound stage as a kit function: its settings, its clients (built once per container),
//! and each `ingest.fifo` record handed to [`MediaStage::handle`] under the invocation, its
//! failure classified by [`StageError`]'s own `Classify` (transient: the record comes back with
//! the rest of its conversation; permanent: done, logged, the conversation goes on).

use std::time::Duration;

use switchboard_shared::config::{ConfigStore, TenantConfigSource};
use switchboard_shared::kit::fifo::{FifoHandler, Record, RecordError};
use switchboard_shared::kit::{self, Function, Invocation};
use switchboard_shared::settings::{Env, SettingsError};
use switchboard_shared::sinch::api::{ClientSettings, SinchClient};
use switchboard_shared::state::delivery::{DeliveryStatusStore, DynamoDeliveryStatus};
use switchboard_shared::state::idempotency::{DynamoIdempotency, IdempotencyStore};
use switchboard_shared::state::names::DynamoDisplayNames;
use switchboard_shared::state::reply_map::DynamoReplyIdMap;

use crate::enrich::{self, Enrich};
use crate::forward::EventQueue;
use crate::handler::{MediaStage, StageError};
use crate::settings::Settings;
use crate::store::MediaStore;
use crate::{fetch, forward, links, store};

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
pub async fn build(settings: Settings) -> Result<AwsMediaStage, String> {
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

impl Function for AwsMediaStage {
    const NAME: &'static str = "media";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    type Settings = Settings;
    type Trigger = kit::Fifo;

    fn settings<L: Fn(&str) -> Option<String>>(env: &Env<L>) -> Result<Settings, SettingsError> {
        Settings::from_env_view(env)
    }

    async fn build(settings: Settings) -> Result<Self, kit::Error> {
        Ok(build(settings).await?)
    }
}

impl<C, I, D, S, Q, E> FifoHandler for MediaStage<C, I, D, S, Q, E>
where
    C: TenantConfigSource,
    I: IdempotencyStore,
    D: DeliveryStatusStore,
    S: MediaStore,
    Q: EventQueue,
    E: Enrich,
{
    fn group_concurrency(&self) -> usize {
        self.settings().group_concurrency
    }

    async fn handle(&self, record: Record<'_>, invocation: &Invocation) -> Result<(), RecordError> {
        MediaStage::handle(self, record, invocation)
            .await
            .map(|_| ())
            .map_err(|err: StageError| RecordError::classified(&err))
    }
}
