//! Agents' media links: `GET /{tenant}/media/{token}` checks the signed token and redirects to a
//! freshly presigned S3 URL (README "Media links").
//!
//! [`handler`] holds the logic and knows nothing of Lambda; [`lambda_shell`] (API Gateway) and
//! [`local_server`] (`make dev`, tests) are the two thin ways in.

pub mod disposition;
pub mod handler;
pub mod lambda_shell;
pub mod local_server;
pub mod objects;
pub mod settings;

use switchboard_shared::media::link_keys::LinkKeyCache;

pub use handler::{LinkRequest, LinkResponse, MediaLink};

/// The handler wired to real AWS clients (moto locally).
pub type AwsMediaLink = MediaLink<objects::S3Objects>;

/// Builds the clients once per process; reused by every request of a warm container.
pub async fn build(settings: settings::Settings) -> AwsMediaLink {
    // Answer 503 well inside the function's 10 s timeout when AWS is slow: 2 s a try, the
    // SDK's retries within 6 s.
    let sdk = switchboard_shared::aws::load_function_sdk_config_with_timeouts(
        std::time::Duration::from_secs(2),
        std::time::Duration::from_secs(6),
    )
    .await;
    let keys = LinkKeyCache::secrets_manager(
        switchboard_shared::aws::secretsmanager_client(&sdk),
        settings.link_secret_id.clone(),
        settings.keys_refresh,
    );
    let objects = objects::S3Objects::new(
        switchboard_shared::aws::s3_client(&sdk),
        settings.media_bucket.clone(),
    );
    MediaLink::new(keys, objects, settings)
}
