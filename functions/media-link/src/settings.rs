//! The link handler's settings, read from the environment once at start-up and validated.

use std::time::Duration;

use switchboard_shared::media::link_keys::DEFAULT_REFRESH;
use switchboard_shared::settings::Env;
pub use switchboard_shared::settings::SettingsError;

/// How long the presigned URL behind a redirect is valid: long enough to start a download on a
/// slow phone, short enough that a leaked one is soon useless (Rails' default is 5 minutes).
pub const DEFAULT_PRESIGN: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub media_bucket: String,
    /// The Secrets Manager secret (ARN or name) whose versions are the link keys.
    pub link_secret_id: String,
    pub presign_expiry: Duration,
    /// How long a container trusts the keys it read before reading them again.
    pub keys_refresh: Duration,
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
            media_bucket: env.required("SWITCHBOARD_MEDIA_BUCKET")?,
            link_secret_id: env.required("SWITCHBOARD_MEDIA_LINK_SECRET_ARN")?,
            presign_expiry: env.seconds(
                "SWITCHBOARD_MEDIA_LINK_PRESIGN_SECS",
                DEFAULT_PRESIGN,
                10..=3600,
            )?,
            keys_refresh: env.seconds(
                "SWITCHBOARD_MEDIA_LINK_KEYS_REFRESH_SECS",
                DEFAULT_REFRESH,
                10..=3600,
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        Settings::from_lookup(|name| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    const REQUIRED: [(&str, &str); 2] = [
        ("SWITCHBOARD_MEDIA_BUCKET", "media"),
        (
            "SWITCHBOARD_MEDIA_LINK_SECRET_ARN",
            "arn:aws:secretsmanager:x",
        ),
    ];

    #[test]
    fn defaults_and_required_names() {
        let ok = settings(&REQUIRED).unwrap();
        assert_eq!(ok.presign_expiry, Duration::from_secs(300));
        assert_eq!(ok.keys_refresh, Duration::from_secs(300));
        for (missing, _) in REQUIRED {
            let rest: Vec<_> = REQUIRED
                .into_iter()
                .filter(|(k, _)| *k != missing)
                .collect();
            assert_eq!(settings(&rest), Err(SettingsError::Missing(missing)));
        }
    }

    #[test]
    fn a_presigned_url_lives_minutes_not_hours() {
        let mut pairs = REQUIRED.to_vec();
        pairs.push(("SWITCHBOARD_MEDIA_LINK_PRESIGN_SECS", "86400"));
        let err = settings(&pairs).unwrap_err().to_string();
        assert!(err.contains("SWITCHBOARD_MEDIA_LINK_PRESIGN_SECS"), "{err}");
    }
}
