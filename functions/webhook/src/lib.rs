//! The webhook function: Sinch callbacks in, verified and classified events out on `ingest.fifo`.
//!
//! [`handler`] holds all the logic and knows nothing about Lambda; [`lambda_shell`] and
//! [`local_server`] are the two thin ways in (API Gateway in AWS, plain HTTP for `make dev`).

pub mod classify;
pub mod handler;
pub mod ingest;
pub mod lambda_shell;
pub mod local_server;
pub mod memory;
pub mod quarantine;
pub mod route;
pub mod settings;

use switchboard_shared::config::ConfigStore;

pub use handler::{Webhook, WebhookRequest, WebhookResponse};

/// The webhook on in-memory ports: tests, benchmarks and fuzzing.
pub type MemoryWebhook = Webhook<
    switchboard_shared::config::memory::MemoryConfigSource,
    memory::MemoryIngestQueue,
    memory::MemoryQuarantine,
>;

/// The webhook wired to real AWS clients (moto locally).
pub type AwsWebhook = Webhook<ConfigStore, ingest::SqsIngestQueue, quarantine::S3Quarantine>;

/// Builds the AWS clients once per process; reused by every invocation of a warm container.
pub async fn build(settings: settings::Settings) -> AwsWebhook {
    // Answer 503 (and let Sinch retry) well inside the function's 10 s timeout when AWS is slow,
    // rather than being cut off by Lambda: 2 s a try, the SDK's retries within 6 s.
    let sdk = switchboard_shared::aws::load_function_sdk_config_with_timeouts(
        std::time::Duration::from_secs(2),
        std::time::Duration::from_secs(6),
    )
    .await;
    let config = ConfigStore::new(
        switchboard_shared::aws::dynamodb_client(&sdk),
        settings.config_table.clone(),
    );
    let ingest = ingest::SqsIngestQueue::new(
        switchboard_shared::aws::sqs_client(&sdk),
        settings.ingest_queue_url.clone(),
    );
    let quarantine = quarantine::S3Quarantine::new(
        switchboard_shared::aws::s3_client(&sdk),
        settings.media_bucket.clone(),
    );
    Webhook::new(config, ingest, quarantine, settings)
}
