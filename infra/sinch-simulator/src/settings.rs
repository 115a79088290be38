//! The simulator's settings, from the environment at start-up.

use std::time::Duration;

use switchboard_shared::settings::Env;
pub use switchboard_shared::settings::SettingsError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `SWITCHBOARD_SINCH_PORT` (default 3001; 0 picks a free port). Always on 127.0.0.1.
    pub port: u16,
    /// `SWITCHBOARD_CONFIG_TABLE`: where tenants, services and their API keys are.
    pub config_table: String,
    /// `SWITCHBOARD_SINCH_WEBHOOK_BASE_URL` (default `http://127.0.0.1:3000`): callbacks go to
    /// `{base}/{tenant}/sms/sinchconversation/{service}`.
    pub webhook_base_url: String,
    /// `SWITCHBOARD_SINCH_TOKEN_TTL_SECS` (default 3600): the `expires_in` of issued tokens.
    pub token_ttl: Duration,
    /// `SWITCHBOARD_SINCH_CALLBACK_DELAY_MS` (default 200): pause before each delivery report.
    pub callback_delay: Duration,
    /// `SWITCHBOARD_SINCH_CALLBACKS` (default true): post delivery reports after accepted sends.
    pub delivery_callbacks: bool,
}

impl Settings {
    pub fn from_env() -> Result<Settings, SettingsError> {
        Settings::from(&Env::process())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingsError> {
        Settings::from(&Env::from_lookup(get))
    }

    fn from<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Settings, SettingsError> {
        let port = env.number("SWITCHBOARD_SINCH_PORT", 3001, 0..=65535)? as u16;
        let webhook_base_url = env
            .optional("SWITCHBOARD_SINCH_WEBHOOK_BASE_URL")
            .unwrap_or_else(|| "http://127.0.0.1:3000".into());
        match url::Url::parse(&webhook_base_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            _ => {
                return Err(SettingsError::Invalid {
                    name: "SWITCHBOARD_SINCH_WEBHOOK_BASE_URL",
                    problem: format!("'{webhook_base_url}' is not an http(s) URL"),
                });
            }
        }
        Ok(Settings {
            port,
            config_table: env.required("SWITCHBOARD_CONFIG_TABLE")?,
            webhook_base_url: webhook_base_url.trim_end_matches('/').to_owned(),
            token_ttl: env.seconds(
                "SWITCHBOARD_SINCH_TOKEN_TTL_SECS",
                Duration::from_secs(3600),
                1..=86_400,
            )?,
            callback_delay: Duration::from_millis(env.number(
                "SWITCHBOARD_SINCH_CALLBACK_DELAY_MS",
                200,
                0..=60_000,
            )?),
            delivery_callbacks: env.flag("SWITCHBOARD_SINCH_CALLBACKS", true)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_refusals() {
        let settings =
            Settings::from_lookup(|name| (name == "SWITCHBOARD_CONFIG_TABLE").then(|| "t".into()))
                .unwrap();
        assert_eq!(settings.port, 3001);
        assert_eq!(settings.webhook_base_url, "http://127.0.0.1:3000");
        assert_eq!(settings.token_ttl, Duration::from_secs(3600));
        assert!(settings.delivery_callbacks);
        assert!(
            Settings::from_lookup(|_| None).is_err(),
            "the config table is required"
        );
        let bad = Settings::from_lookup(|name| match name {
            "SWITCHBOARD_CONFIG_TABLE" => Some("t".into()),
            "SWITCHBOARD_SINCH_WEBHOOK_BASE_URL" => Some("ftp://x".into()),
            _ => None,
        });
        assert!(bad.unwrap_err().to_string().contains("WEBHOOK_BASE_URL"));
    }
}
