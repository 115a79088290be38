//! The retention function: on a schedule, deletes each tenant's media once it is past the
//! tenant's retention, at a cost that follows what expires rather than what is stored.
//!
//! [`handler`] runs one sweep and knows nothing about Lambda; [`lambda_shell`] and
//! [`local_runner`] are the two thin ways in. [`sweep`] is the algorithm, over two ports:
//! the bucket ([`bucket`]: S3, or in memory) and the tenants' retention ([`tenants`]).

pub mod bucket;
pub mod counting;
pub mod deadline;
pub mod handler;
pub mod lambda_shell;
pub mod layout;
pub mod local_runner;
pub mod memory_bucket;
pub mod metrics;
pub mod s3_bucket;
pub mod settings;
pub mod summary;
pub mod sweep;
pub mod tenants;

use std::time::Duration;

use switchboard_shared::config::ConfigStore;

pub use handler::{RetentionFunction, RunRequest};

/// The function wired to real AWS clients (moto locally).
pub type AwsRetention = RetentionFunction<ConfigStore, s3_bucket::S3Bucket>;

/// Builds the AWS clients once per process; reused by every invocation of a warm container.
pub async fn build(settings: settings::Settings) -> AwsRetention {
    // A hung request must not outlive the run: 10 s a try, the SDK's retries within 25 s, which
    // the deadline margin (default 30 s) covers.
    let sdk = switchboard_shared::aws::load_function_sdk_config_with_timeouts(
        Duration::from_secs(10),
        Duration::from_secs(25),
    )
    .await;
    let config = ConfigStore::new(
        switchboard_shared::aws::dynamodb_client(&sdk),
        settings.config_table.clone(),
    );
    let bucket = s3_bucket::S3Bucket::new(
        switchboard_shared::aws::s3_client(&sdk),
        settings.media_bucket.clone(),
    );
    RetentionFunction::new(config, bucket, settings)
}
