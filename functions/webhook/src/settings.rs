//! The webhook's settings, read from the environment once at start-up and validated, so a
//! misconfigured deployment fails at init with a clear message instead of on the first callback.

use std::time::Duration;

use switchboard_shared::config::DEFAULT_CACHE_TTL;
use switchboard_shared::settings::Env;
pub use switchboard_shared::settings::SettingsError;
use switchboard_shared::sinch::signature::DEFAULT_WINDOW;

/// SQS's message size limit minus room for the event envelope around the callback.
const MAX_BODY_CEILING: usize = 240 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub config_table: String,
    pub ingest_queue_url: String,
    /// Quarantine for signed callbacks that are not JSON (`quarantine/` prefix).
    pub media_bucket: String,
    pub signature_window: Duration,
    pub max_body_bytes: usize,
    pub config_cache_ttl: Duration,
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
        Ok(Settings {
            config_table: env.required("SWITCHBOARD_CONFIG_TABLE")?,
            ingest_queue_url: env.required("SWITCHBOARD_INGEST_QUEUE_URL")?,
            media_bucket: env.required("SWITCHBOARD_MEDIA_BUCKET")?,
            signature_window: env.seconds(
                "SWITCHBOARD_SIGNATURE_WINDOW_SECS",
                DEFAULT_WINDOW,
                1..=3600,
            )?,
            max_body_bytes: env.bytes(
                "SWITCHBOARD_MAX_BODY_BYTES",
                MAX_BODY_CEILING,
                1024..=MAX_BODY_CEILING,
            )?,
            config_cache_ttl: env.seconds(
                "SWITCHBOARD_CONFIG_CACHE_TTL_SECS",
                DEFAULT_CACHE_TTL,
                0..=3600,
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const REQUIRED: [(&str, &str); 3] = [
        ("SWITCHBOARD_CONFIG_TABLE", "config"),
        ("SWITCHBOARD_INGEST_QUEUE_URL", "http://sqs/ingest.fifo"),
        ("SWITCHBOARD_MEDIA_BUCKET", "media"),
    ];

    #[test]
    fn defaults_apply_when_only_the_required_names_are_set() {
        let settings = Settings::from_lookup(lookup(&REQUIRED)).unwrap();
        assert_eq!(settings.signature_window, Duration::from_secs(300));
        assert_eq!(settings.max_body_bytes, MAX_BODY_CEILING);
        assert_eq!(settings.config_cache_ttl, Duration::from_secs(60));
    }

    #[test]
    fn each_required_name_is_reported_when_missing() {
        for (skip, (missing, _)) in REQUIRED.iter().enumerate() {
            let pairs: Vec<_> = REQUIRED
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, p)| *p)
                .collect();
            let err = Settings::from_lookup(lookup(&pairs)).unwrap_err();
            assert_eq!(err, SettingsError::Missing(missing));
        }
    }

    #[test]
    fn out_of_range_and_garbage_numbers_are_refused() {
        for (name, value) in [
            ("SWITCHBOARD_SIGNATURE_WINDOW_SECS", "0"),
            ("SWITCHBOARD_SIGNATURE_WINDOW_SECS", "five"),
            ("SWITCHBOARD_MAX_BODY_BYTES", "10000000"),
        ] {
            let mut pairs = REQUIRED.to_vec();
            pairs.push((name, value));
            let err = Settings::from_lookup(lookup(&pairs))
                .unwrap_err()
                .to_string();
            assert!(err.contains(name), "{err}");
        }
    }
}
