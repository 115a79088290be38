//! The webhook's settings, read from the environment once at start-up and validated, so a
//! misconfigured deployment fails at init with a clear message instead of on the first callback.

use std::time::Duration;

use switchboard_shared::config::DEFAULT_CACHE_TTL;
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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name}: {problem}")]
    Invalid { name: &'static str, problem: String },
}

impl Settings {
    pub fn from_env() -> Result<Settings, SettingsError> {
        Settings::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingsError> {
        let required = |name: &'static str| {
            get(name)
                .filter(|value| !value.trim().is_empty())
                .ok_or(SettingsError::Missing(name))
        };
        let number = |name: &'static str,
                      default: u64,
                      range: std::ops::RangeInclusive<u64>|
         -> Result<u64, SettingsError> {
            let Some(text) = get(name).filter(|value| !value.trim().is_empty()) else {
                return Ok(default);
            };
            let value: u64 = text.trim().parse().map_err(|_| SettingsError::Invalid {
                name,
                problem: format!("'{text}' is not a whole number"),
            })?;
            if !range.contains(&value) {
                return Err(SettingsError::Invalid {
                    name,
                    problem: format!("{value} is outside {}..={}", range.start(), range.end()),
                });
            }
            Ok(value)
        };
        Ok(Settings {
            config_table: required("SWITCHBOARD_CONFIG_TABLE")?,
            ingest_queue_url: required("SWITCHBOARD_INGEST_QUEUE_URL")?,
            media_bucket: required("SWITCHBOARD_MEDIA_BUCKET")?,
            signature_window: Duration::from_secs(number(
                "SWITCHBOARD_SIGNATURE_WINDOW_SECS",
                DEFAULT_WINDOW.as_secs(),
                1..=3600,
            )?),
            max_body_bytes: usize::try_from(number(
                "SWITCHBOARD_MAX_BODY_BYTES",
                MAX_BODY_CEILING as u64,
                1024..=MAX_BODY_CEILING as u64,
            )?)
            .unwrap_or(MAX_BODY_CEILING),
            config_cache_ttl: Duration::from_secs(number(
                "SWITCHBOARD_CONFIG_CACHE_TTL_SECS",
                DEFAULT_CACHE_TTL.as_secs(),
                0..=3600,
            )?),
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
