//! The media link as a kit function: its settings, its clients (built once per container), and
//! the HTTP API's request handed to [`MediaLink::handle`] under the invocation's clock. The
//! whole answer runs under the invocation's deadline (Lambda's, less 0.5 s): a hung Secrets
//! Manager or S3 call answers 503 in time rather than being cut off by Lambda.

use std::time::Duration;

use http::StatusCode;
use switchboard_shared::kit::http::{HttpHandler, HttpRequest, HttpResponse};
use switchboard_shared::kit::{self, Function, Invocation};
use switchboard_shared::media::link_keys::LinkKeyCache;
use switchboard_shared::settings::{Env, SettingsError};
use tracing::warn;

use crate::handler::{LinkRequest, MediaLink, RESPONSE_HEADERS, UNAVAILABLE_BODY};
use crate::objects::{MediaObjects, S3Objects};
use crate::settings::Settings;

/// The handler wired to real AWS clients (moto locally).
pub type AwsMediaLink = MediaLink<S3Objects>;

/// Builds the clients once per process; reused by every request of a warm container.
pub async fn build(settings: Settings) -> AwsMediaLink {
    // Answer 503 well inside the function's 10 s timeout when AWS is slow: 2 s a try, the
    // SDK's retries within 6 s.
    let sdk = switchboard_shared::aws::load_function_sdk_config_with_timeouts(
        Duration::from_secs(2),
        Duration::from_secs(6),
    )
    .await;
    let keys = LinkKeyCache::secrets_manager(
        switchboard_shared::aws::secretsmanager_client(&sdk),
        settings.link_secret_id.clone(),
        settings.keys_refresh,
    );
    let objects = S3Objects::new(
        switchboard_shared::aws::s3_client(&sdk),
        settings.media_bucket.clone(),
    );
    MediaLink::new(keys, objects, settings)
}

impl Function for AwsMediaLink {
    const NAME: &'static str = "media-link";
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

impl<O: MediaObjects> HttpHandler for MediaLink<O> {
    async fn handle(&self, request: HttpRequest, invocation: &Invocation) -> HttpResponse {
        let link = LinkRequest {
            method: &request.method,
            path: &request.path,
        };
        let answer = match invocation
            .deadline
            .run(
                "the media link",
                MediaLink::handle(self, link, invocation.now),
            )
            .await
        {
            Ok(answer) => answer,
            Err(late) => {
                warn!(error = %late, reason = "deadline", "media link failed");
                crate::LinkResponse {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    location: None,
                    body: UNAVAILABLE_BODY,
                }
            }
        };
        let mut response = HttpResponse::new(answer.status, answer.body);
        for (name, value) in RESPONSE_HEADERS {
            response = response.with_header(name, value);
        }
        match &answer.location {
            Some(location) => response.with_header("location", location),
            None => response.with_header("content-type", "application/json"),
        }
    }
}
