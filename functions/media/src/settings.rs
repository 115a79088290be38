//! The inbound stage's settings, read from the environment once at start-up and validated.

use std::time::Duration;

use switchboard_shared::config::DEFAULT_CACHE_TTL;
use switchboard_shared::media::address_policy::AddressPolicy;
use switchboard_shared::media::fetch::FetchTimeouts;
use switchboard_shared::settings::Env;
pub use switchboard_shared::settings::SettingsError;

/// The stage's default ceiling: the largest `media.max_bytes` a tenant may set, so by default
/// each tenant's own limit (100 MB unless set) is the one in force.
pub const DEFAULT_MAX_MEDIA_BYTES: u64 = switchboard_shared::config::media::MAX_MEDIA_BYTES;

/// `SWITCHBOARD_MEDIA_MAX_RECEIVES`: by default a record's third receive is its media's last try.
pub const DEFAULT_MAX_RECEIVES: u32 = 3;
/// Below the ingest queue's `maxReceiveCount` (5, template.yaml): the receive that gives up on
/// the media must come before the one that would move the record to the dead-letter queue, with
/// a receive to spare for a failure of the state table or the target queue after it.
pub const MAX_MAX_RECEIVES: u32 = 4;

#[derive(Debug, Clone)]
pub struct Settings {
    pub config_table: String,
    pub state_table: String,
    pub events_queue_url: String,
    pub media_bucket: String,
    pub config_cache_ttl: Duration,
    /// Message groups handled at once within a batch.
    pub group_concurrency: usize,
    /// How long "this event was forwarded" is remembered: well past SQS's 4-day retention.
    pub idempotency_ttl: Duration,
    /// How long a claim blocks other workers before a crashed one is presumed dead.
    pub claim_lease: Duration,
    /// A ceiling over every tenant's `media.max_bytes` (`SWITCHBOARD_MAX_MEDIA_BYTES`).
    pub max_media_bytes: u64,
    /// The most a display-name look-up at Sinch may take (all its calls together).
    pub name_lookup_timeout: Duration,
    /// Connecting to a media host, and its silences (before the headers, between reads):
    /// `SWITCHBOARD_MEDIA_CONNECT_TIMEOUT_MS`, `SWITCHBOARD_MEDIA_READ_TIMEOUT_MS`. The total is
    /// bounded by the invocation's deadline.
    pub fetch_timeouts: FetchTimeouts,
    /// From this receive of a record on (`SWITCHBOARD_MEDIA_MAX_RECEIVES`, 1–4), a media item
    /// that still fails transiently (a host that is down, slow or drips bytes) is marked
    /// `failed` and the event forwarded, instead of the record failing again.
    pub max_receives: u32,
    /// Loopback endpoints a local run may fetch media from (`SWITCHBOARD_MEDIA_ALLOW_LOCAL`).
    pub address_policy: AddressPolicy,
    /// Agents' links for stored items; without it `url` stays empty (tests of other rows).
    pub link: Option<LinkSettings>,
}

/// `SWITCHBOARD_MEDIA_LINK_BASE_URL` and `SWITCHBOARD_MEDIA_LINK_SECRET_ARN`: both or neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSettings {
    /// The HTTP API's URL, without a trailing `/`.
    pub base_url: String,
    pub secret_id: String,
    pub keys_refresh: Duration,
}

fn link_settings<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<Option<LinkSettings>, SettingsError> {
    let base_url = env.optional("SWITCHBOARD_MEDIA_LINK_BASE_URL");
    let secret_id = env.optional("SWITCHBOARD_MEDIA_LINK_SECRET_ARN");
    let (base_url, secret_id) = match (base_url, secret_id) {
        (None, None) => return Ok(None),
        (Some(_), None) => return Err(SettingsError::Missing("SWITCHBOARD_MEDIA_LINK_SECRET_ARN")),
        (None, Some(_)) => return Err(SettingsError::Missing("SWITCHBOARD_MEDIA_LINK_BASE_URL")),
        (Some(base_url), Some(secret_id)) => (base_url, secret_id),
    };
    let invalid = |problem: &str| SettingsError::Invalid {
        name: "SWITCHBOARD_MEDIA_LINK_BASE_URL",
        problem: problem.to_owned(),
    };
    let parsed = url::Url::parse(&base_url).map_err(|err| invalid(&err.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https")
        || parsed.host_str().is_none()
        || parsed.query().is_some()
        || parsed.fragment().is_some()
        || !parsed.username().is_empty()
    {
        return Err(invalid(
            "must be an http(s) URL without user, query or fragment, e.g. https://abc.execute-api.eu-west-1.amazonaws.com",
        ));
    }
    Ok(Some(LinkSettings {
        base_url: base_url.trim_end_matches('/').to_owned(),
        secret_id,
        keys_refresh: env.seconds(
            "SWITCHBOARD_MEDIA_LINK_KEYS_REFRESH_SECS",
            switchboard_shared::media::link_keys::DEFAULT_REFRESH,
            10..=3600,
        )?,
    }))
}

/// Below 100 ms a healthy host on a busy network would fail; a read timeout past the function's
/// 60 s timeout could never fire (the deadline would come first).
fn fetch_timeouts<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<FetchTimeouts, SettingsError> {
    let defaults = FetchTimeouts::default();
    let millis = |d: Duration| d.as_millis() as u64;
    Ok(FetchTimeouts {
        connect: Duration::from_millis(env.number(
            "SWITCHBOARD_MEDIA_CONNECT_TIMEOUT_MS",
            millis(defaults.connect),
            100..=30_000,
        )?),
        read: Duration::from_millis(env.number(
            "SWITCHBOARD_MEDIA_READ_TIMEOUT_MS",
            millis(defaults.read),
            100..=60_000,
        )?),
    })
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
        let allow_local = env
            .optional("SWITCHBOARD_MEDIA_ALLOW_LOCAL")
            .unwrap_or_default();
        Ok(Settings {
            config_table: env.required("SWITCHBOARD_CONFIG_TABLE")?,
            state_table: env.required("SWITCHBOARD_STATE_TABLE")?,
            events_queue_url: env.required("SWITCHBOARD_EVENTS_QUEUE_URL")?,
            media_bucket: env.required("SWITCHBOARD_MEDIA_BUCKET")?,
            config_cache_ttl: env.seconds(
                "SWITCHBOARD_CONFIG_CACHE_TTL_SECS",
                DEFAULT_CACHE_TTL,
                0..=3600,
            )?,
            group_concurrency: env.number("SWITCHBOARD_MEDIA_GROUP_CONCURRENCY", 4, 1..=10)?
                as usize,
            idempotency_ttl: Duration::from_secs(
                env.number("SWITCHBOARD_IDEMPOTENCY_TTL_DAYS", 14, 5..=365)? * 86_400,
            ),
            claim_lease: env.seconds(
                "SWITCHBOARD_CLAIM_LEASE_SECS",
                Duration::from_secs(120),
                10..=3600,
            )?,
            max_media_bytes: env.number(
                "SWITCHBOARD_MAX_MEDIA_BYTES",
                DEFAULT_MAX_MEDIA_BYTES,
                1024..=5 * 1024 * 1024 * 1024,
            )?,
            name_lookup_timeout: Duration::from_millis(env.number(
                "SWITCHBOARD_NAME_LOOKUP_TIMEOUT_MS",
                2000,
                100..=10_000,
            )?),
            fetch_timeouts: fetch_timeouts(env)?,
            max_receives: env.number(
                "SWITCHBOARD_MEDIA_MAX_RECEIVES",
                u64::from(DEFAULT_MAX_RECEIVES),
                1..=u64::from(MAX_MAX_RECEIVES),
            )? as u32,
            // Refused in AWS Lambda for real (the rule: `running_in_real_lambda`).
            address_policy: AddressPolicy::with_allowed_local_in(&allow_local, |name| {
                env.optional(name)
            })
            .map_err(|problem| SettingsError::Invalid {
                name: "SWITCHBOARD_MEDIA_ALLOW_LOCAL",
                problem,
            })?,
            link: link_settings(env)?,
        })
    }
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
    fn defaults_and_the_idempotency_ttl_outlives_sqs_retention() {
        let settings = settings(&[]).unwrap();
        assert!(settings.idempotency_ttl > Duration::from_secs(4 * 86_400));
        assert_eq!(settings.max_media_bytes, DEFAULT_MAX_MEDIA_BYTES);
        assert_eq!(settings.name_lookup_timeout, Duration::from_secs(2));
        assert_eq!(settings.address_policy, AddressPolicy::default());
        assert_eq!(
            settings.fetch_timeouts,
            FetchTimeouts {
                connect: Duration::from_secs(5),
                read: Duration::from_secs(20)
            }
        );
    }

    #[test]
    fn fetch_timeouts_are_read_in_milliseconds_and_bounded() {
        let short = settings(&[
            ("SWITCHBOARD_MEDIA_CONNECT_TIMEOUT_MS", "250"),
            ("SWITCHBOARD_MEDIA_READ_TIMEOUT_MS", "300"),
        ])
        .unwrap();
        assert_eq!(short.fetch_timeouts.connect, Duration::from_millis(250));
        assert_eq!(short.fetch_timeouts.read, Duration::from_millis(300));
        for (name, value) in [
            ("SWITCHBOARD_MEDIA_CONNECT_TIMEOUT_MS", "0"),
            ("SWITCHBOARD_MEDIA_READ_TIMEOUT_MS", "600000"),
            ("SWITCHBOARD_MEDIA_READ_TIMEOUT_MS", "soon"),
        ] {
            let err = settings(&[(name, value)]).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn max_receives_is_one_to_four_three_by_default() {
        assert_eq!(settings(&[]).unwrap().max_receives, 3);
        for ok in ["1", "4"] {
            let read = settings(&[("SWITCHBOARD_MEDIA_MAX_RECEIVES", ok)]).unwrap();
            assert_eq!(read.max_receives.to_string(), ok);
        }
        // 5 would be the ingest queue's maxReceiveCount: the record would reach the
        // dead-letter queue instead.
        for bad in ["0", "5", "-1", "three"] {
            let err = settings(&[("SWITCHBOARD_MEDIA_MAX_RECEIVES", bad)]).unwrap_err();
            assert!(
                err.to_string().contains("SWITCHBOARD_MEDIA_MAX_RECEIVES"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn the_link_needs_both_its_base_url_and_its_secret() {
        assert_eq!(settings(&[]).unwrap().link, None);
        let both = settings(&[
            ("SWITCHBOARD_MEDIA_LINK_BASE_URL", "http://127.0.0.1:3000/"),
            ("SWITCHBOARD_MEDIA_LINK_SECRET_ARN", "arn:secret"),
        ])
        .unwrap()
        .link
        .unwrap();
        assert_eq!(both.base_url, "http://127.0.0.1:3000");
        let err = settings(&[("SWITCHBOARD_MEDIA_LINK_BASE_URL", "https://x")]).unwrap_err();
        assert_eq!(
            err,
            SettingsError::Missing("SWITCHBOARD_MEDIA_LINK_SECRET_ARN")
        );
        let err = settings(&[
            ("SWITCHBOARD_MEDIA_LINK_BASE_URL", "ftp://x?y"),
            ("SWITCHBOARD_MEDIA_LINK_SECRET_ARN", "arn:secret"),
        ])
        .unwrap_err();
        assert!(
            err.to_string().contains("SWITCHBOARD_MEDIA_LINK_BASE_URL"),
            "{err}"
        );
    }

    #[test]
    fn only_loopback_endpoints_can_be_allowed_and_the_variable_is_named() {
        assert!(settings(&[("SWITCHBOARD_MEDIA_ALLOW_LOCAL", "127.0.0.1:8080")]).is_ok());
        let err = settings(&[("SWITCHBOARD_MEDIA_ALLOW_LOCAL", "10.0.0.1:80")]).unwrap_err();
        assert!(
            err.to_string().contains("SWITCHBOARD_MEDIA_ALLOW_LOCAL"),
            "{err}"
        );
        let err = settings(&[("SWITCHBOARD_MEDIA_ALLOW_LOCAL", "localhost:8080")]).unwrap_err();
        assert!(err.to_string().contains("literal IP:port"), "{err}");
    }

    #[test]
    fn the_local_escape_stops_the_stage_in_lambda_for_real() {
        let lambda = ("AWS_LAMBDA_FUNCTION_NAME", "switchboard-MediaFunction-1");
        let err =
            settings(&[lambda, ("SWITCHBOARD_MEDIA_ALLOW_LOCAL", "127.0.0.1:8080")]).unwrap_err();
        assert!(
            err.to_string().contains("SWITCHBOARD_MEDIA_ALLOW_LOCAL")
                && err.to_string().contains("refused in AWS Lambda"),
            "{err}"
        );
        assert!(settings(&[lambda]).is_ok(), "without the escape it starts");
        // Under the local emulator, with the SDK pointed at moto on loopback.
        assert!(
            settings(&[
                lambda,
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
                ("SWITCHBOARD_MEDIA_ALLOW_LOCAL", "127.0.0.1:8080"),
            ])
            .is_ok()
        );
    }
}
