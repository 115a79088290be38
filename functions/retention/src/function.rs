//! Retention as a kit function: its settings, its clients (built once per container), and each
//! scheduled (or hand-made) invocation read into a [`RunRequest`] and run under the invocation.
//! A run with errors ends its invocation with an error naming the first, so Lambda's `Errors`
//! metric (and `RetentionErrorsAlarm`) sees it; its summary line is logged either way.

use std::time::Duration;

use switchboard_shared::config::ConfigStore;
use switchboard_shared::kit::schedule::{ScheduleHandler, ScheduleInput};
use switchboard_shared::kit::{self, Function, Invocation};
use switchboard_shared::settings::{Env, SettingsError};

use crate::bucket::Bucket;
use crate::handler::{RetentionFunction, RunRequest};
use crate::s3_bucket::S3Bucket;
use crate::settings::Settings;
use crate::summary::RunSummary;
use crate::tenants::RetentionSource;

/// The function wired to real AWS clients (moto locally).
pub type AwsRetention = RetentionFunction<ConfigStore, S3Bucket>;

/// Builds the AWS clients once per process; reused by every invocation of a warm container.
pub async fn build(settings: Settings) -> AwsRetention {
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
    let bucket = S3Bucket::new(
        switchboard_shared::aws::s3_client(&sdk),
        settings.media_bucket.clone(),
    );
    RetentionFunction::new(config, bucket, settings)
}

impl Function for AwsRetention {
    const NAME: &'static str = "retention";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    type Settings = Settings;
    type Trigger = kit::Schedule;

    fn settings<L: Fn(&str) -> Option<String>>(env: &Env<L>) -> Result<Settings, SettingsError> {
        Settings::from_env_view(env)
    }

    async fn build(settings: Settings) -> Result<Self, kit::Error> {
        Ok(build(settings).await)
    }

    fn deadline_margin(&self) -> Duration {
        self.settings().deadline_margin
    }
}

impl<C: RetentionSource, B: Bucket> ScheduleHandler for RetentionFunction<C, B> {
    type Summary = RunSummary;

    async fn handle(
        &self,
        input: ScheduleInput,
        invocation: &Invocation,
    ) -> Result<RunSummary, kit::Error> {
        let request = match input {
            ScheduleInput::Scheduled { .. } => RunRequest::default(),
            ScheduleInput::Invoked(payload) => RunRequest::from_event(payload)?,
        };
        let summary = self.run(request, invocation).await;
        if summary.error_count > 0 {
            return Err(format!(
                "retention run had {} error(s), first: {}",
                summary.error_count,
                summary.errors.first().map(String::as_str).unwrap_or("?")
            )
            .into());
        }
        Ok(summary)
    }
}
