//! The webhook as a kit function: its settings, its clients (built once per container), and the
//! HTTP API's request handed to [`Webhook::handle_at`] under the invocation's clock and deadline.

use std::time::Duration;

use switchboard_shared::config::{ConfigStore, TenantConfigSource};
use switchboard_shared::kit::http::{HttpHandler, HttpRequest, HttpResponse};
use switchboard_shared::kit::{self, Function, Invocation};
use switchboard_shared::settings::{Env, SettingsError};

use crate::handler::{Webhook, WebhookRequest};
use crate::ingest::{IngestQueue, SqsIngestQueue};
use crate::quarantine::{Quarantine, S3Quarantine};
use crate::settings::Settings;

/// The webhook wired to real AWS clients (moto locally).
pub type AwsWebhook = Webhook<ConfigStore, SqsIngestQueue, S3Quarantine>;

/// Builds the AWS clients once per process; reused by every invocation of a warm container.
pub async fn build(settings: Settings) -> AwsWebhook {
    // Answer 503 (and let Sinch retry) well inside the function's 10 s timeout when AWS is slow,
    // rather than being cut off by Lambda: 2 s a try, the SDK's retries within 6 s.
    let sdk = switchboard_shared::aws::load_function_sdk_config_with_timeouts(
        Duration::from_secs(2),
        Duration::from_secs(6),
    )
    .await;
    let config = ConfigStore::new(
        switchboard_shared::aws::dynamodb_client(&sdk),
        settings.config_table.clone(),
    );
    let ingest = SqsIngestQueue::new(
        switchboard_shared::aws::sqs_client(&sdk),
        settings.ingest_queue_url.clone(),
    );
    let quarantine = S3Quarantine::new(
        switchboard_shared::aws::s3_client(&sdk),
        settings.media_bucket.clone(),
    );
    Webhook::new(config, ingest, quarantine, settings)
}

impl Function for AwsWebhook {
    const NAME: &'static str = "webhook";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    type Settings = Settings;
    type Trigger = kit::Http;

    fn settings<L: Fn(&str) -> Option<String>>(env: &Env<L>) -> Result<Settings, SettingsError> {
        Settings::from_env_view(env)
    }

    async fn build(settings: Settings) -> Result<Self, kit::Error> {
        Ok(build(settings).await)
    }
}

impl<C: TenantConfigSource, Q: IngestQueue, R: Quarantine> HttpHandler for Webhook<C, Q, R> {
    async fn handle(&self, request: HttpRequest, invocation: &Invocation) -> HttpResponse {
        let answer = self
            .handle_at(
                WebhookRequest {
                    method: &request.method,
                    path: &request.path,
                    headers: &request.headers,
                    body: &request.body,
                    deadline: invocation.deadline,
                },
                invocation.now,
            )
            .await;
        HttpResponse::new(answer.status, answer.body)
            .with_header("content-type", "application/json")
    }
}
