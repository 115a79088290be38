//! The outbound function as a kit function: its settings, its clients (built once per
//! container), and each `replies.fifo` record handed to [`Outbound::handle`] under the
//! invocation. A failure is classified by [`OutboundError`]'s own `Classify`: transient, the
//! record comes back with the rest of its conversation; permanent, it is answered with a failed
//! `send_result` ([`Outbound::answer_permanent`]) and is done.

use std::time::Duration;

use switchboard_shared::config::credentials::CredentialSource;
use switchboard_shared::config::{ConfigStore, TenantConfigSource};
use switchboard_shared::error::Classify;
use switchboard_shared::event_queue::{EventQueue, SqsEventQueue};
use switchboard_shared::kit::fifo::{FifoHandler, Record, RecordError};
use switchboard_shared::kit::{self, Function, Invocation};
use switchboard_shared::media::fetch::SafeFetcher;
use switchboard_shared::settings::{Env, SettingsError};
use switchboard_shared::sinch::api::{ClientSettings, SinchClient};
use switchboard_shared::state::idempotency::{DynamoIdempotency, IdempotencyStore};
use switchboard_shared::state::reply_map::{DynamoReplyIdMap, ReplyIdMap};

use crate::IDEMPOTENCY_SCOPE;
use crate::handler::Outbound;
use crate::media::{self, OutboundObjects};
use crate::settings::Settings;

/// Kept back from the invocation's deadline to store results and answer SQS after the last
/// Sinch call gives up: a DynamoDB write and an SQS send, each with the SDK's own retries (the
/// clients' 3 s a try), so more than the kit's default 0.5 s.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(3);

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
pub async fn build(settings: Settings) -> Result<AwsOutbound, String> {
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

impl Function for AwsOutbound {
    const NAME: &'static str = "outbound";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    type Settings = Settings;
    type Trigger = kit::Fifo;

    fn settings<L: Fn(&str) -> Option<String>>(env: &Env<L>) -> Result<Settings, SettingsError> {
        Settings::from_env_view(env)
    }

    async fn build(settings: Settings) -> Result<Self, kit::Error> {
        Ok(build(settings).await?)
    }

    fn deadline_margin(&self) -> Duration {
        DEADLINE_MARGIN
    }
}

impl<C, K, I, R, M, Q> FifoHandler for Outbound<C, K, I, R, M, Q>
where
    C: TenantConfigSource,
    K: CredentialSource,
    I: IdempotencyStore,
    R: ReplyIdMap,
    M: OutboundObjects,
    Q: EventQueue,
{
    fn group_concurrency(&self) -> usize {
        self.settings().group_concurrency
    }

    async fn handle(&self, record: Record<'_>, invocation: &Invocation) -> Result<(), RecordError> {
        let failure = match Outbound::handle(self, record, invocation).await {
            Ok(_) => return Ok(()),
            Err(failure) if failure.is_retryable() => {
                return Err(RecordError::classified(&failure));
            }
            Err(failure) => failure,
        };
        match self.answer_permanent(record, &failure, invocation).await {
            Ok(()) => Err(RecordError::permanent(format!(
                "{failure}; answered with a failed send_result (INTERNAL)"
            ))),
            Err(answer) if answer.is_retryable() => Err(RecordError::transient(format!(
                "{failure}; its failed send_result could not be sent now: {answer}"
            ))),
            Err(answer) => Err(RecordError::permanent(format!(
                "{failure}; nor can its failed send_result be sent: {answer}"
            ))),
        }
    }
}
