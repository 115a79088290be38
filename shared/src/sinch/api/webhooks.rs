//! Webhook management (reference §7), for setup tools: list an app's webhooks, create one, delete
//! one. The secret is write-only here: sent on create, never printed.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};

/// A webhook as Sinch returns it (the secret, which Sinch may echo, is not kept).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Webhook {
    pub id: String,
    pub app_id: String,
    pub target: String,
    /// `HTTP` (Sinch's default is `DISMISS`, which sends nothing).
    #[serde(default)]
    pub target_type: Option<String>,
    #[serde(default)]
    pub triggers: Vec<String>,
}

/// The body of `POST /webhooks`.
#[derive(Debug, Clone, Serialize)]
pub struct NewWebhook {
    pub app_id: String,
    /// At most 742 characters.
    pub target: String,
    /// Always `HTTP`.
    pub target_type: &'static str,
    /// e.g. `MESSAGE_INBOUND`, `MESSAGE_DELIVERY`, `EVENT_INBOUND`.
    pub triggers: Vec<String>,
    #[serde(serialize_with = "expose")]
    pub secret: SecretString,
}

impl NewWebhook {
    pub fn http(app_id: &str, target: &str, triggers: &[&str], secret: SecretString) -> NewWebhook {
        NewWebhook {
            app_id: app_id.to_owned(),
            target: target.to_owned(),
            target_type: "HTTP",
            triggers: triggers.iter().map(|t| (*t).to_owned()).collect(),
            secret,
        }
    }
}

fn expose<S: Serializer>(secret: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

/// `GET /apps/{app_id}/webhooks`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct WebhookList {
    #[serde(default)]
    pub webhooks: Vec<Webhook>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_is_sent_but_never_printed() {
        let hook = NewWebhook::http(
            "01APP",
            "https://x.example/acme/sms/sinchconversation/main",
            &["MESSAGE_INBOUND"],
            SecretString::from("s3cr3t-value".to_owned()),
        );
        assert!(!format!("{hook:?}").contains("s3cr3t-value"));
        let body = serde_json::to_value(&hook).unwrap();
        assert_eq!(body["secret"], "s3cr3t-value");
        assert_eq!(body["target_type"], "HTTP");
    }
}
