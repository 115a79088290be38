//! The configuration model. The same types read the seed file (`infra/seed/*.json`), are stored
//! in DynamoDB and are used by the functions, so validation happens in one place.

use std::collections::BTreeSet;
use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::contact_center::ContactCenterSettings;
use super::media::MediaSettings;
use super::outbound::OutboundSettings;
use crate::address::{QueueAddress, is_valid_app_id};

/// Path segment that means "find the service by the callback's app id".
pub const ALL_SERVICES: &str = "all";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "tenant id '{0}' must be 1 to 63 characters: lower-case letters, digits, '-' or '_', starting with a letter or digit"
    )]
    BadTenantId(String),
    #[error(
        "service name '{0}' must be 1 to 63 characters: lower-case letters, digits, '-' or '_', starting with a letter or digit, and not 'all'"
    )]
    BadServiceName(String),
    #[error("tenant '{tenant}': {problem}")]
    Invalid { tenant: String, problem: String },
}

macro_rules! path_name {
    ($(#[$doc:meta])* $name:ident, $err:ident, $reserved:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(text: &str) -> Result<Self, ConfigError> {
                let ok = (1..=63).contains(&text.len())
                    && text.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                    && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
                    && !$reserved.contains(&text);
                if ok { Ok($name(text.to_owned())) } else { Err(ConfigError::$err(text.to_owned())) }
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = ConfigError;
            fn try_from(text: String) -> Result<Self, Self::Error> {
                $name::parse(&text)
            }
        }
        impl From<$name> for String {
            fn from(name: $name) -> String {
                name.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

path_name!(
    /// A tenant's id: the first segment of its webhook path. Restricted so it is safe in paths,
    /// S3 keys, SQS group ids and DynamoDB keys without escaping.
    TenantId, BadTenantId, [""; 0]
);
path_name!(
    /// A messaging service's name within its tenant: the last segment of its webhook path.
    ServiceName, BadServiceName, [ALL_SERVICES]
);

/// Sinch data-center region of a messaging service's apps (an app cannot move region).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    Eu,
    Us,
    Br,
}

impl Region {
    pub fn as_str(self) -> &'static str {
        match self {
            Region::Eu => "eu",
            Region::Us => "us",
            Region::Br => "br",
        }
    }

    pub fn parse(text: &str) -> Option<Region> {
        match text {
            "eu" => Some(Region::Eu),
            "us" => Some(Region::Us),
            "br" => Some(Region::Br),
            _ => None,
        }
    }

    /// The Conversation API base URL of this region.
    pub fn api_base_url(self) -> String {
        format!("https://{}.conversation.api.sinch.com", self.as_str())
    }
}

/// The longest retention a tenant may set, in days. The media bucket's lifecycle rules
/// (template.yaml, `MediaBackstopDays`) are only a backstop behind the retention function and
/// must lie beyond this, so the backstop never removes what a tenant still keeps.
pub const MAX_RETENTION_DAYS: u32 = 365;

/// How long attachments are kept, per tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// "Retention time for public attachments": outbound media and its public (presigned) URL.
    #[serde(default = "Retention::default_public_attachment_days")]
    pub public_attachment_days: u32,
    /// Inbound (customer) media kept in S3 for agents.
    #[serde(default = "Retention::default_inbound_media_days")]
    pub inbound_media_days: u32,
}

impl Retention {
    fn default_public_attachment_days() -> u32 {
        7
    }
    fn default_inbound_media_days() -> u32 {
        30
    }
}

impl Retention {
    /// Refuses a retention beyond [`MAX_RETENTION_DAYS`], naming the field.
    pub fn validate(&self) -> Result<(), String> {
        for (field, days) in [
            (
                "retention.public_attachment_days",
                self.public_attachment_days,
            ),
            ("retention.inbound_media_days", self.inbound_media_days),
        ] {
            if days > MAX_RETENTION_DAYS {
                return Err(format!(
                    "{field} is {days} days; the maximum is {MAX_RETENTION_DAYS}"
                ));
            }
        }
        Ok(())
    }
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            public_attachment_days: Retention::default_public_attachment_days(),
            inbound_media_days: Retention::default_inbound_media_days(),
        }
    }
}

/// A Sinch project's apps in one region, with the credentials to call them and the one webhook
/// secret they all sign callbacks with.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagingService {
    pub name: ServiceName,
    pub region: Region,
    pub project_id: String,
    pub app_ids: Vec<String>,
    /// OAuth2 client id: the project access key's id. Required in a seed file; stored apart
    /// from the rest (the `SECRETS#` partition) so that only functions that call Sinch can read
    /// it, and absent when a service is loaded for the webhook.
    #[serde(default)]
    pub access_key_id: Option<String>,
    #[serde(default)]
    pub access_key_secret: Option<SecretString>,
    pub webhook_secret: SecretString,
    /// The secret being rotated out; accepted on callbacks until removed.
    #[serde(default)]
    pub previous_webhook_secret: Option<SecretString>,
    /// Overrides the region's API base URL (sandboxes, the local Sinch simulator).
    #[serde(default)]
    pub api_base_url: Option<String>,
}

impl MessagingService {
    pub fn serves_app(&self, app_id: &str) -> bool {
        self.app_ids.iter().any(|id| id == app_id)
    }

    /// The secrets a callback may be signed with: current first, then previous.
    pub fn webhook_secrets(&self) -> Vec<&SecretString> {
        std::iter::once(&self.webhook_secret)
            .chain(self.previous_webhook_secret.as_ref())
            .collect()
    }

    pub fn api_base_url(&self) -> String {
        self.api_base_url
            .clone()
            .unwrap_or_else(|| self.region.api_base_url())
    }
}

/// A contact-center queue: one Sinch app on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueConfig {
    pub address: QueueAddress,
    pub service: ServiceName,
    /// Where this queue's events go; the shared events queue when absent.
    #[serde(default)]
    pub target_queue_url: Option<String>,
    /// `SMS_SENDER` for outbound SMS (required for US numbers).
    #[serde(default)]
    pub sms_sender: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    pub id: TenantId,
    #[serde(default)]
    pub retention: Retention,
    pub services: Vec<MessagingService>,
    #[serde(default)]
    pub queues: Vec<QueueConfig>,
    /// Customer media limits and display-name look-ups; the defaults when absent.
    #[serde(default)]
    pub media: MediaSettings,
    /// Agents' replies: whether media URLs are fetched first; the defaults when absent.
    #[serde(default)]
    pub outbound: OutboundSettings,
    /// Who may send agent commands for the tenant, and where its events go by default. Absent:
    /// no sender is allowed (every command refused) and events go to the stack's events queue.
    #[serde(default)]
    pub contact_center: ContactCenterSettings,
}

impl TenantConfig {
    pub fn service(&self, name: &ServiceName) -> Option<&MessagingService> {
        self.services.iter().find(|service| &service.name == name)
    }

    pub fn service_for_app(&self, app_id: &str) -> Option<&MessagingService> {
        self.services
            .iter()
            .find(|service| service.serves_app(app_id))
    }

    pub fn queue(&self, address: &QueueAddress) -> Option<&QueueConfig> {
        self.queues.iter().find(|queue| &queue.address == address)
    }

    /// What a seed file or a write to the store must have on top of [`TenantConfig::validate`]:
    /// the Sinch API credentials of every service.
    /// Also the shape of every queue's `target_queue_url` (an SQS FIFO queue URL): checked when a
    /// tenant is written, not when it is read, so a tenant stored before the check existed still
    /// verifies its callbacks (the functions refuse such a target where they use it).
    pub fn validate_complete(&self) -> Result<(), ConfigError> {
        self.validate()?;
        for queue in &self.queues {
            if let Some(url) = &queue.target_queue_url {
                super::targets::check_target_queue_url(url).map_err(|problem| {
                    ConfigError::Invalid {
                        tenant: self.id.to_string(),
                        problem: format!("queues['{}'].target_queue_url {problem}", queue.address),
                    }
                })?;
            }
        }
        for service in &self.services {
            if service.access_key_id.is_none() || service.access_key_secret.is_none() {
                return Err(ConfigError::Invalid {
                    tenant: self.id.to_string(),
                    problem: format!(
                        "service '{}': access_key_id and access_key_secret are required",
                        service.name
                    ),
                });
            }
        }
        Ok(())
    }

    /// Checks what serde cannot: cross references, uniqueness, non-empty secrets, URLs.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |problem: String| ConfigError::Invalid {
            tenant: self.id.to_string(),
            problem,
        };
        self.retention.validate().map_err(invalid)?;
        self.media.validate().map_err(invalid)?;
        self.contact_center.validate().map_err(invalid)?;
        if self.services.is_empty() {
            return Err(invalid("has no messaging service".into()));
        }
        let mut names = BTreeSet::new();
        let mut apps = BTreeSet::new();
        for service in &self.services {
            let at = |problem: &str| invalid(format!("service '{}': {problem}", service.name));
            if !names.insert(&service.name) {
                return Err(at("is defined twice"));
            }
            if service.project_id.trim().is_empty() {
                return Err(at("project_id is empty"));
            }
            if service.app_ids.is_empty() {
                return Err(at("has no app_ids"));
            }
            for app_id in &service.app_ids {
                if !is_valid_app_id(app_id) {
                    return Err(at(&format!(
                        "app id '{app_id}' must be 1 to 64 ASCII letters or digits"
                    )));
                }
                if !apps.insert(app_id) {
                    return Err(at(&format!(
                        "app id '{app_id}' belongs to more than one service"
                    )));
                }
            }
            if service
                .access_key_id
                .as_deref()
                .is_some_and(|id| id.trim().is_empty())
                || service
                    .access_key_secret
                    .as_ref()
                    .is_some_and(|secret| secret.expose_secret().is_empty())
            {
                return Err(at("access_key_id and access_key_secret must not be empty"));
            }
            if service.webhook_secret.expose_secret().is_empty() {
                return Err(at(
                    "webhook_secret is empty; unsigned callbacks are never accepted",
                ));
            }
            // Control characters cannot be typed into Sinch's dashboard, and a trailing NUL
            // makes a different secret sign the same (HMAC zero-pads keys).
            for (field, secret) in std::iter::once(("webhook_secret", &service.webhook_secret))
                .chain(
                    service
                        .previous_webhook_secret
                        .iter()
                        .map(|s| ("previous_webhook_secret", s)),
                )
            {
                if secret.expose_secret().chars().any(char::is_control) {
                    return Err(at(&format!("{field} contains control characters")));
                }
            }
            if service
                .previous_webhook_secret
                .as_ref()
                .is_some_and(|s| s.expose_secret().is_empty())
            {
                return Err(at("previous_webhook_secret is empty; remove it instead"));
            }
            if let Some(url) = service.api_base_url.as_deref() {
                check_api_base_url(url)
                    .map_err(|problem| at(&format!("api_base_url {problem}")))?;
            }
        }
        let mut addresses = BTreeSet::new();
        for queue in &self.queues {
            let at = |problem: String| invalid(format!("queue '{}': {problem}", queue.address));
            if !addresses.insert(&queue.address) {
                return Err(at("is defined twice".into()));
            }
            let service = self
                .service(&queue.service)
                .ok_or_else(|| at(format!("names unknown service '{}'", queue.service)))?;
            if !service.serves_app(&queue.address.app_id) {
                return Err(at(format!(
                    "app id is not one of service '{}'",
                    queue.service
                )));
            }
        }
        Ok(())
    }
}

/// Where a service's bearer token may be sent: https to a Sinch host, or http(s) to loopback
/// (the local simulator). Parsed with a real URL parser, so tricks like
/// `http://localhost:1@evil.example` (user info) or `http://127.0.0.1.evil.example` are refused.
fn check_api_base_url(text: &str) -> Result<(), &'static str> {
    let url = url::Url::parse(text).map_err(|_| "is not a URL")?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry user info");
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not carry a query or fragment");
    }
    let loopback = crate::loopback::is_loopback(&url).ok_or("has no host")?;
    // Sinch's regional Conversation API hosts, and no other sinch.com host: a tenant's access
    // key is sent to this host for a token.
    let sinch_host = matches!(url.host(), Some(url::Host::Domain(name))
        if REGIONAL_HOSTS.iter().any(|host| name.eq_ignore_ascii_case(host)));
    match url.scheme() {
        "https" if sinch_host || loopback => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(
            "must be https:// to a regional Conversation API host (us., eu. or br.conversation.api.sinch.com), or http(s):// to loopback (the local simulator)",
        ),
    }
}

/// Sinch's Conversation API hosts, one per region.
const REGIONAL_HOSTS: [&str; 3] = [
    "us.conversation.api.sinch.com",
    "eu.conversation.api.sinch.com",
    "br.conversation.api.sinch.com",
];

/// The refusal of an access key id another tenant already names: the field and that tenant
/// (an operator's tool says it; never the key's secret, nor the id itself, which is the other
/// tenant's credential half).
pub(crate) fn access_key_reused(service_index: usize, owner: &TenantId) -> String {
    format!(
        "services[{service_index}].access_key_id is already the access key of tenant '{owner}'; \
         a Sinch access key belongs to one tenant (its tokens send as that tenant)"
    )
}

/// The seed file: the format `make dev` and the admin CLI read (see README "Configuration").
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    pub tenants: Vec<TenantConfig>,
}

impl SeedFile {
    pub fn parse(json: &str) -> Result<SeedFile, ConfigError> {
        let seed: SeedFile = serde_json::from_str(json).map_err(|err| ConfigError::Invalid {
            tenant: "(seed file)".into(),
            problem: err.to_string(),
        })?;
        let mut ids = BTreeSet::new();
        // access key id → the tenant that names it first.
        let mut key_ids = std::collections::BTreeMap::new();
        for tenant in &seed.tenants {
            if !ids.insert(&tenant.id) {
                return Err(ConfigError::Invalid {
                    tenant: tenant.id.to_string(),
                    problem: "is defined twice".into(),
                });
            }
            tenant.validate_complete()?;
            for (index, service) in tenant.services.iter().enumerate() {
                let Some(key_id) = service.access_key_id.as_deref() else {
                    continue;
                };
                match key_ids.get(key_id) {
                    Some(&owner) if owner != &tenant.id => {
                        return Err(ConfigError::Invalid {
                            tenant: tenant.id.to_string(),
                            problem: access_key_reused(index, owner),
                        });
                    }
                    _ => {
                        key_ids.insert(key_id, &tenant.id);
                    }
                }
            }
        }
        Ok(seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(json: serde_json::Value) -> Result<TenantConfig, String> {
        let tenant: TenantConfig = serde_json::from_value(json).map_err(|e| e.to_string())?;
        tenant.validate().map_err(|e| e.to_string())?;
        Ok(tenant)
    }

    fn valid() -> serde_json::Value {
        serde_json::json!({
            "id": "acme",
            "services": [{
                "name": "main", "region": "eu", "project_id": "p-1",
                "app_ids": ["01EB37HMH1M6SV18ABNS3G135H"],
                "access_key_id": "key", "access_key_secret": "key-secret",
                "webhook_secret": "whsec", "previous_webhook_secret": "old"
            }],
            "queues": [{ "address": "01EB37HMH1M6SV18ABNS3G135H@whatsapp.sinchconversation.com", "service": "main" }]
        })
    }

    #[test]
    fn a_valid_tenant_resolves_services_apps_and_queues() {
        let config = tenant(valid()).unwrap();
        assert_eq!(config.retention, Retention::default());
        let service = config
            .service_for_app("01EB37HMH1M6SV18ABNS3G135H")
            .unwrap();
        assert_eq!(service.name.as_str(), "main");
        assert_eq!(service.webhook_secrets().len(), 2);
        assert_eq!(
            service.api_base_url(),
            "https://eu.conversation.api.sinch.com"
        );
        assert!(config.service_for_app("01OTHER").is_none());
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let config = tenant(valid()).unwrap();
        let printed = format!("{config:?}");
        for secret in ["key-secret", "whsec", "\"old\""] {
            assert!(!printed.contains(secret), "{secret} leaked: {printed}");
        }
    }

    #[test]
    fn each_mistake_gets_a_clear_error() {
        type Mutation = Box<dyn Fn(&mut serde_json::Value)>;
        let cases: Vec<(&str, Mutation)> = vec![
            ("tenant id", Box::new(|v| v["id"] = "Acme!".into())),
            (
                "not 'all'",
                Box::new(|v| v["services"][0]["name"] = "all".into()),
            ),
            (
                "unknown variant",
                Box::new(|v| v["services"][0]["region"] = "ap".into()),
            ),
            (
                "project_id is empty",
                Box::new(|v| v["services"][0]["project_id"] = "".into()),
            ),
            (
                "has no app_ids",
                Box::new(|v| v["services"][0]["app_ids"] = serde_json::json!([])),
            ),
            (
                "webhook_secret is empty",
                Box::new(|v| v["services"][0]["webhook_secret"] = "".into()),
            ),
            (
                "api_base_url",
                Box::new(|v| v["services"][0]["api_base_url"] = "http://sinch.example".into()),
            ),
            (
                "unknown service",
                Box::new(|v| v["queues"][0]["service"] = "other".into()),
            ),
            (
                "not one of service",
                Box::new(|v| v["queues"][0]["address"] = "01XYZ@sms.sinchconversation.com".into()),
            ),
            (
                "unknown field",
                Box::new(|v| v["services"][0]["webhook_secert"] = "typo".into()),
            ),
        ];
        for (expected, mutate) in cases {
            let mut json = valid();
            mutate(&mut json);
            let err = tenant(json).unwrap_err();
            assert!(err.contains(expected), "expected '{expected}' in: {err}");
        }
    }

    #[test]
    fn api_base_urls_go_to_sinch_over_https_or_to_loopback() {
        for good in [
            "http://127.0.0.1:8080",
            "http://localhost/x",
            "http://[::1]:3001",
            "https://127.0.0.1:3001",
            "https://us.conversation.api.sinch.com",
            "https://EU.Conversation.API.Sinch.com/",
        ] {
            assert_eq!(check_api_base_url(good), Ok(()), "{good}");
        }
        for bad in [
            "http://127.0.0.1.evil.example",
            "http://localhost:1@evil.example",
            "https://user:pw@eu.conversation.api.sinch.com",
            "https://sandbox.example",
            "https://evilsinch.com",
            "https://sinch.com.evil.example",
            "https://auth.sinch.com",
            "https://eu.template.api.sinch.com",
            "https://xx.conversation.api.sinch.com",
            "http://eu.conversation.api.sinch.com",
            "ftp://127.0.0.1",
            "not a url",
            "https://eu.conversation.api.sinch.com/?x=1",
        ] {
            assert!(check_api_base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_retention_beyond_the_maximum_is_refused_naming_the_field() {
        for field in ["public_attachment_days", "inbound_media_days"] {
            let mut json = valid();
            json["retention"] = serde_json::json!({ field: MAX_RETENTION_DAYS });
            assert!(tenant(json.clone()).is_ok(), "{field} at the maximum");
            json["retention"] = serde_json::json!({ field: MAX_RETENTION_DAYS + 1 });
            let err = tenant(json).unwrap_err();
            assert!(
                err.contains(&format!("retention.{field}")) && err.contains("maximum"),
                "{err}"
            );
        }
    }

    #[test]
    fn media_settings_default_when_absent_and_are_validated_naming_the_field() {
        let config = tenant(valid()).unwrap();
        assert_eq!(config.media, MediaSettings::default());
        let mut json = valid();
        json["media"] = serde_json::json!({ "max_bytes": 2048, "display_name_lookups": false });
        let config = tenant(json).unwrap();
        assert_eq!(config.media.max_bytes, 2048);
        assert!(!config.media.display_name_lookups);
        assert_eq!(
            config.media.allowed_types,
            MediaSettings::default().allowed_types
        );
        let mut json = valid();
        json["media"] = serde_json::json!({ "allowed_types": ["text/html"] });
        let err = tenant(json).unwrap_err();
        assert!(
            err.contains("tenant 'acme'") && err.contains("media.allowed_types"),
            "{err}"
        );
        let mut json = valid();
        json["media"] = serde_json::json!({ "max_byte": 1 });
        assert!(tenant(json).unwrap_err().contains("unknown field"));
    }

    #[test]
    fn outbound_settings_default_when_absent() {
        let config = tenant(valid()).unwrap();
        assert!(!config.outbound.fetch_media_urls);
        let mut json = valid();
        json["outbound"] = serde_json::json!({ "fetch_media_urls": true });
        assert!(tenant(json).unwrap().outbound.fetch_media_urls);
        let mut json = valid();
        json["outbound"] = serde_json::json!({ "fetch_media": true });
        assert!(tenant(json).unwrap_err().contains("unknown field"));
    }

    #[test]
    fn webhook_secrets_with_control_characters_are_refused() {
        for (field, value) in [
            ("webhook_secret", "abc\u{0}"),
            ("previous_webhook_secret", "\u{0}"),
        ] {
            let mut json = valid();
            json["services"][0][field] = value.into();
            let err = tenant(json).unwrap_err();
            assert!(
                err.contains(&format!("{field} contains control characters")),
                "{err}"
            );
        }
    }

    #[test]
    fn a_bad_api_base_url_is_refused_naming_the_field() {
        let mut json = valid();
        json["services"][0]["api_base_url"] = "http://localhost:1@evil.example".into();
        let err = tenant(json).unwrap_err();
        assert!(
            err.contains("api_base_url") && err.contains("user info"),
            "{err}"
        );
    }

    #[test]
    fn duplicate_service_names_and_shared_app_ids_are_refused() {
        let mut json = valid();
        let second = json["services"][0].clone();
        json["services"].as_array_mut().unwrap().push(second);
        assert!(tenant(json).unwrap_err().contains("defined twice"));

        let mut json = valid();
        let mut second = json["services"][0].clone();
        second["name"] = "other".into();
        json["services"].as_array_mut().unwrap().push(second);
        let err = tenant(json).unwrap_err();
        assert!(err.contains("belongs to more than one service"), "{err}");
    }

    #[test]
    fn a_seed_needs_api_credentials_but_a_loaded_webhook_view_does_not() {
        let mut json = valid();
        json["services"][0]
            .as_object_mut()
            .unwrap()
            .remove("access_key_secret");
        assert!(tenant(json.clone()).is_ok());
        let seed = serde_json::json!({ "tenants": [json] }).to_string();
        let err = SeedFile::parse(&seed).unwrap_err().to_string();
        assert!(err.contains("access_key_secret are required"), "{err}");
    }

    #[test]
    fn seed_files_refuse_duplicate_tenants() {
        let seed = serde_json::json!({ "tenants": [valid(), valid()] }).to_string();
        assert!(
            SeedFile::parse(&seed)
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
        let seed = serde_json::json!({ "tenants": [valid()] }).to_string();
        assert_eq!(SeedFile::parse(&seed).unwrap().tenants.len(), 1);
    }

    #[test]
    fn two_tenants_of_one_seed_cannot_share_an_access_key() {
        let mut other = valid();
        other["id"] = "globex".into();
        other["services"][0]["access_key_secret"] = "any-other-secret".into();
        let seed = serde_json::json!({ "tenants": [valid(), other.clone()] }).to_string();
        let err = SeedFile::parse(&seed).unwrap_err().to_string();
        assert!(
            err.contains("tenant 'globex'")
                && err.contains("services[0].access_key_id")
                && err.contains("tenant 'acme'"),
            "{err}"
        );
        assert!(
            !err.contains("key-secret") && !err.contains("any-other-secret"),
            "{err}"
        );
        other["services"][0]["access_key_id"] = "globex-key".into();
        let seed = serde_json::json!({ "tenants": [valid(), other] }).to_string();
        assert_eq!(SeedFile::parse(&seed).unwrap().tenants.len(), 2);
    }

    #[test]
    fn the_contact_center_is_read_and_checked_naming_the_field() {
        let config = tenant(valid()).unwrap();
        assert!(
            config.contact_center.sender_ids.is_empty(),
            "absent: no sender"
        );
        let mut json = valid();
        json["contact_center"] = serde_json::json!({
            "sender_ids": ["AROAEXAMPLEROLE00001"],
            "default_target_queue_url": "https://sqs.eu-west-1.amazonaws.com/123456789012/acme.fifo"
        });
        let config = tenant(json.clone()).unwrap();
        assert_eq!(config.contact_center.sender_ids, ["AROAEXAMPLEROLE00001"]);
        json["contact_center"]["sender_ids"] = serde_json::json!(["AROA EXAMPLE"]);
        let err = tenant(json.clone()).unwrap_err();
        assert!(err.contains("contact_center.sender_ids[0]"), "{err}");
        json["contact_center"]["sender_ids"] = serde_json::json!([]);
        json["contact_center"]["default_target_queue_url"] =
            "https://sqs.eu-west-1.amazonaws.com/123456789012/acme".into();
        let err = tenant(json).unwrap_err();
        assert!(
            err.contains("contact_center.default_target_queue_url") && err.contains("FIFO"),
            "{err}"
        );
    }

    #[test]
    fn a_seed_refuses_a_target_that_is_not_a_fifo_queue_url() {
        let mut json = valid();
        json["queues"][0]["target_queue_url"] = "https://evil.example/123456789012/x.fifo".into();
        assert!(tenant(json.clone()).is_ok(), "a stored one still loads");
        let seed = serde_json::json!({ "tenants": [json] }).to_string();
        let err = SeedFile::parse(&seed).unwrap_err().to_string();
        assert!(
            err.contains(
                "queues['01EB37HMH1M6SV18ABNS3G135H@whatsapp.sinchconversation.com'].target_queue_url"
            ),
            "{err}"
        );
    }
}
