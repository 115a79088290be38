//! The outbound function's settings, read from the environment once at start-up and validated.

use std::time::Duration;

use switchboard_shared::config::DEFAULT_CACHE_TTL;
use switchboard_shared::media::address_policy::AddressPolicy;
use switchboard_shared::settings::Env;
pub use switchboard_shared::settings::SettingsError;

#[derive(Debug, Clone)]
pub struct Settings {
    pub config_table: String,
    pub state_table: String,
    pub events_queue_url: String,
    pub media_bucket: String,
    /// Where `outbound/` is served publicly (the CloudFront distribution, or `make dev`'s
    /// stand-in), without a trailing slash; `None` when not configured, and then a command with
    /// an S3 key fails (a deployment always sets it).
    pub public_media_base_url: Option<String>,
    /// How long tenants' config and Sinch credentials are trusted in a warm container.
    pub config_cache_ttl: Duration,
    /// Message groups (conversations) handled at once within a batch.
    pub group_concurrency: usize,
    /// How long "this reply was sent, and its result" is remembered: well past SQS's 4 days.
    pub idempotency_ttl: Duration,
    /// How long a claim blocks other workers; longer than one invocation can run (30 s), so a
    /// live worker's claim is never taken over, and short so a crashed one's is soon.
    pub claim_lease: Duration,
    /// How long the Sinch message id → reply id map is kept (delivery reports and quotes may
    /// come days later).
    pub reply_map_ttl: Duration,
    /// Loopback endpoints media URLs may be fetched from (`SWITCHBOARD_MEDIA_ALLOW_LOCAL`, local
    /// runs only; for tenants with `outbound.fetch_media_urls`).
    pub address_policy: AddressPolicy,
}

impl Settings {
    pub fn from_env() -> Result<Settings, SettingsError> {
        Settings::from_env_view(&Env::process())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingsError> {
        Settings::from_env_view(&Env::from_lookup(get))
    }

    /// From any view of the environment (the kit passes the process's).
    pub fn from_env_view<F: Fn(&str) -> Option<String>>(
        env: &Env<F>,
    ) -> Result<Settings, SettingsError> {
        let public_media_base_url = match env.optional("SWITCHBOARD_PUBLIC_MEDIA_BASE_URL") {
            None => None,
            Some(text) => {
                Some(
                    public_base_url(&text).map_err(|problem| SettingsError::Invalid {
                        name: "SWITCHBOARD_PUBLIC_MEDIA_BASE_URL",
                        problem,
                    })?,
                )
            }
        };
        Ok(Settings {
            config_table: env.required("SWITCHBOARD_CONFIG_TABLE")?,
            state_table: env.required("SWITCHBOARD_STATE_TABLE")?,
            events_queue_url: env.required("SWITCHBOARD_EVENTS_QUEUE_URL")?,
            media_bucket: env.required("SWITCHBOARD_MEDIA_BUCKET")?,
            public_media_base_url,
            config_cache_ttl: env.seconds(
                "SWITCHBOARD_CONFIG_CACHE_TTL_SECS",
                DEFAULT_CACHE_TTL,
                0..=3600,
            )?,
            group_concurrency: env.number("SWITCHBOARD_OUTBOUND_GROUP_CONCURRENCY", 4, 1..=10)?
                as usize,
            idempotency_ttl: Duration::from_secs(
                env.number("SWITCHBOARD_IDEMPOTENCY_TTL_DAYS", 14, 5..=365)? * 86_400,
            ),
            claim_lease: env.seconds(
                "SWITCHBOARD_CLAIM_LEASE_SECS",
                Duration::from_secs(60),
                31..=3600,
            )?,
            reply_map_ttl: Duration::from_secs(
                env.number("SWITCHBOARD_REPLY_MAP_TTL_DAYS", 30, 1..=365)? * 86_400,
            ),
            address_policy: AddressPolicy::with_allowed_local(
                &env.optional("SWITCHBOARD_MEDIA_ALLOW_LOCAL")
                    .unwrap_or_default(),
            )
            .map_err(|problem| SettingsError::Invalid {
                name: "SWITCHBOARD_MEDIA_ALLOW_LOCAL",
                problem,
            })?,
        })
    }
}

/// An http(s) base URL without query or fragment; https unless on loopback (a local stand-in).
fn public_base_url(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text).map_err(|_| format!("'{text}' is not a URL"))?;
    let loopback = switchboard_shared::loopback::is_loopback(&url)
        .ok_or_else(|| format!("'{text}' has no host"))?;
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(format!("'{text}' must be https (http only on loopback)")),
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(format!("'{text}' must not have a query, fragment or user"));
    }
    Ok(text.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(extra: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let mut pairs = vec![
            ("SWITCHBOARD_CONFIG_TABLE", "config"),
            ("SWITCHBOARD_STATE_TABLE", "state"),
            ("SWITCHBOARD_EVENTS_QUEUE_URL", "http://sqs/events.fifo"),
            ("SWITCHBOARD_MEDIA_BUCKET", "media"),
        ];
        pairs.extend_from_slice(extra);
        Settings::from_lookup(switchboard_shared::settings::lookup_in(&pairs))
    }

    #[test]
    fn defaults_outlive_sqs_and_the_lease_outlives_an_invocation() {
        let defaults = settings(&[]).unwrap();
        assert!(defaults.idempotency_ttl > Duration::from_secs(4 * 86_400));
        assert!(defaults.claim_lease > Duration::from_secs(30));
        assert_eq!(defaults.public_media_base_url, None);
        assert!(settings(&[("SWITCHBOARD_CLAIM_LEASE_SECS", "30")]).is_err());
    }

    #[test]
    fn the_public_media_base_is_https_or_loopback_and_the_variable_is_named() {
        let ok = settings(&[(
            "SWITCHBOARD_PUBLIC_MEDIA_BASE_URL",
            "https://d111.cloudfront.net/",
        )])
        .unwrap();
        assert_eq!(
            ok.public_media_base_url.as_deref(),
            Some("https://d111.cloudfront.net")
        );
        assert!(
            settings(&[("SWITCHBOARD_PUBLIC_MEDIA_BASE_URL", "http://127.0.0.1:4567")]).is_ok()
        );
        for bad in [
            "http://media.example.com",
            "ftp://x",
            "https://x/?a=1",
            "nonsense",
        ] {
            let err = settings(&[("SWITCHBOARD_PUBLIC_MEDIA_BASE_URL", bad)]).unwrap_err();
            assert!(
                err.to_string()
                    .contains("SWITCHBOARD_PUBLIC_MEDIA_BASE_URL"),
                "{bad}: {err}"
            );
        }
        // Blank (the template's default before the distribution is wired) is "not configured".
        assert!(
            settings(&[("SWITCHBOARD_PUBLIC_MEDIA_BASE_URL", "")])
                .unwrap()
                .public_media_base_url
                .is_none()
        );
    }

    #[test]
    fn only_loopback_endpoints_can_be_allowed_and_the_variable_is_named() {
        assert_eq!(
            settings(&[]).unwrap().address_policy,
            AddressPolicy::default()
        );
        let local = settings(&[("SWITCHBOARD_MEDIA_ALLOW_LOCAL", "127.0.0.1:8080")]).unwrap();
        assert!(local.address_policy.allows_plain_http("127.0.0.1", 8080));
        let err = settings(&[("SWITCHBOARD_MEDIA_ALLOW_LOCAL", "10.0.0.1:80")]).unwrap_err();
        assert!(
            err.to_string().contains("SWITCHBOARD_MEDIA_ALLOW_LOCAL"),
            "{err}"
        );
    }
}
