//! The retention function's settings, read from the environment once at start-up and
//! validated, so a misconfigured deployment fails at init with a message naming the variable.

use std::time::Duration;

use switchboard_shared::config::MAX_RETENTION_DAYS;
use switchboard_shared::settings::Env;
pub use switchboard_shared::settings::SettingsError;

/// Quarantined callbacks are kept this long unless configured otherwise: long enough for an
/// operator to look at them after an incident, short enough not to keep customer data forever.
pub const DEFAULT_QUARANTINE_DAYS: u32 = 30;

/// Stop this long before Lambda's deadline: more than one S3 request may take (`function.rs`
/// bounds it at 25 s), so a request started just before the margin still ends in time. The
/// run's kit deadline (`Function::deadline_margin`) is Lambda's less this, not the kit's 0.5 s
/// default: the sweep only asks between two requests, and one request cannot be cut midway
/// without leaving its page for the next run to list again.
pub const DEFAULT_DEADLINE_MARGIN: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub config_table: String,
    pub media_bucket: String,
    /// Retention of `quarantine/`, for every tenant.
    pub quarantine_days: u32,
    pub deadline_margin: Duration,
    /// Metrics dimension.
    pub stage: String,
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
        let quarantine_days = env.number(
            "SWITCHBOARD_QUARANTINE_RETENTION_DAYS",
            u64::from(DEFAULT_QUARANTINE_DAYS),
            0..=u64::from(MAX_RETENTION_DAYS),
        )?;
        Ok(Settings {
            config_table: env.required("SWITCHBOARD_CONFIG_TABLE")?,
            media_bucket: env.required("SWITCHBOARD_MEDIA_BUCKET")?,
            // In range, so it fits.
            quarantine_days: u32::try_from(quarantine_days).unwrap_or(DEFAULT_QUARANTINE_DAYS),
            deadline_margin: env.seconds(
                "SWITCHBOARD_RETENTION_DEADLINE_MARGIN_SECS",
                DEFAULT_DEADLINE_MARGIN,
                1..=600,
            )?,
            stage: env
                .optional("SWITCHBOARD_STAGE")
                .unwrap_or_else(|| "local".to_owned()),
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

    const REQUIRED: [(&str, &str); 2] = [
        ("SWITCHBOARD_CONFIG_TABLE", "config"),
        ("SWITCHBOARD_MEDIA_BUCKET", "media"),
    ];

    #[test]
    fn defaults_apply_when_only_the_required_names_are_set() {
        let settings = Settings::from_lookup(lookup(&REQUIRED)).unwrap();
        assert_eq!(settings.quarantine_days, 30);
        assert_eq!(settings.deadline_margin, Duration::from_secs(30));
        assert_eq!(settings.stage, "local");
    }

    #[test]
    fn each_required_name_is_reported_when_missing() {
        for (missing, _) in REQUIRED {
            let pairs: Vec<_> = REQUIRED
                .into_iter()
                .filter(|(k, _)| *k != missing)
                .collect();
            let err = Settings::from_lookup(lookup(&pairs)).unwrap_err();
            assert_eq!(err, SettingsError::Missing(missing));
        }
    }

    #[test]
    fn quarantine_retention_stays_within_the_maximum() {
        let mut pairs = REQUIRED.to_vec();
        pairs.push(("SWITCHBOARD_QUARANTINE_RETENTION_DAYS", "0"));
        assert_eq!(
            Settings::from_lookup(lookup(&pairs))
                .unwrap()
                .quarantine_days,
            0
        );
        let max = (MAX_RETENTION_DAYS + 1).to_string();
        pairs.push(("SWITCHBOARD_QUARANTINE_RETENTION_DAYS", &max));
        let err = Settings::from_lookup(lookup(&pairs))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("SWITCHBOARD_QUARANTINE_RETENTION_DAYS"),
            "{err}"
        );
    }

    #[test]
    fn garbage_is_refused_naming_the_variable() {
        for (name, value) in [
            ("SWITCHBOARD_RETENTION_DEADLINE_MARGIN_SECS", "0"),
            ("SWITCHBOARD_RETENTION_DEADLINE_MARGIN_SECS", "soon"),
            ("SWITCHBOARD_QUARANTINE_RETENTION_DAYS", "a month"),
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
