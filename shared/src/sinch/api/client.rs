//! The Sinch Conversation API client: one per container, shared by every message it sends.
//!
//! One connection pool (reqwest over rustls) keeps TCP and TLS connections to Sinch warm across
//! invocations; one [`TokenCache`] keeps OAuth2 tokens. Each call gets a bearer token (cached),
//! retries 429, 5xx and timeouts with backoff within the caller's [`Deadline`]
//! ([`RetryPolicy`]), refreshes the token once when Sinch says it expired, and turns Sinch's
//! error body into a [`SinchError`] that knows whether retrying can help.
//!
//! Where a service's calls go: `https://{region}.conversation.api.sinch.com`, or its
//! `api_base_url`. Tokens come from Sinch's global `https://auth.sinch.com/oauth2/token`, except
//! for a service on loopback (the local simulator), which issues them itself at
//! `{api_base_url}/oauth2/token`: no local run ever sends credentials to the real Sinch.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use crate::config::{ApiCredentials, MessagingService, TenantId};
use crate::deadline::Deadline;

use super::contacts::{ChannelProfile, ChannelProfileRequest, Contact};
use super::error::{FailureReason, SinchError};
use super::retry::RetryPolicy;
use super::send::{
    SendEventRequest, SendEventResponse, SendMessageRequest, SendMessageResponse, SinchRequest,
};
use super::token::{AccessToken, TokenCache, TokenKey, secret_digest};
use super::webhooks::{NewWebhook, Webhook, WebhookList};

/// Sinch's OAuth2 token endpoint; one token works in every region.
pub const AUTH_TOKEN_URL: &str = "https://auth.sinch.com/oauth2/token";

/// Where and as whom to call Sinch for one messaging service.
#[derive(Debug, Clone)]
pub struct ServiceEndpoint {
    pub tenant: String,
    pub service: String,
    pub project_id: String,
    /// No trailing slash.
    pub base_url: String,
    pub token_url: String,
    pub credentials: ApiCredentials,
    /// In AWS Lambda for real: a loopback base URL (the local simulator's) is refused.
    pub refuse_loopback: bool,
}

impl ServiceEndpoint {
    pub fn new(
        tenant: &TenantId,
        service: &MessagingService,
        credentials: ApiCredentials,
    ) -> ServiceEndpoint {
        let base_url = service.api_base_url().trim_end_matches('/').to_owned();
        ServiceEndpoint {
            tenant: tenant.to_string(),
            service: service.name.to_string(),
            project_id: service.project_id.clone(),
            token_url: token_url_for(&base_url),
            base_url,
            credentials,
            refuse_loopback: in_real_lambda(),
        }
    }

    /// The token cache's key: this tenant's service, the endpoint, and the access key by its id
    /// and the digest of its secret (a config naming another tenant's key id never gets that
    /// tenant's token).
    fn token_key(&self) -> TokenKey {
        TokenKey {
            tenant: self.tenant.clone(),
            service: self.service.clone(),
            token_url: self.token_url.clone(),
            key_id: self.credentials.key_id.clone(),
            secret_digest: secret_digest(&self.credentials.key_secret),
        }
    }

    /// `{base}/v1/projects/{project}/{segments…}`, each segment percent-encoded.
    fn url(&self, operation: &'static str, segments: &[&str]) -> Result<url::Url, SinchError> {
        let mut url = url::Url::parse(&self.base_url).map_err(|_| SinchError::Config {
            operation,
            message: format!("service '{}': api base URL is not a URL", self.service),
        })?;
        // A loopback base URL is the local simulator's: in AWS Lambda for real it could only
        // reach something else running beside the function.
        if self.refuse_loopback && crate::loopback::is_loopback_text(&self.base_url) {
            return Err(SinchError::Config {
                operation,
                message: format!(
                    "service '{}': a loopback api base URL is for local runs only",
                    self.service
                ),
            });
        }
        url.path_segments_mut()
            .map_err(|_| SinchError::Config {
                operation,
                message: format!(
                    "service '{}': api base URL cannot have a path",
                    self.service
                ),
            })?
            .pop_if_empty()
            .extend(["v1", "projects", &self.project_id])
            .extend(segments);
        Ok(url)
    }
}

/// Whether this process runs in AWS Lambda for real: read from the environment once per
/// container, not on every endpoint a command builds.
fn in_real_lambda() -> bool {
    static IN_REAL_LAMBDA: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *IN_REAL_LAMBDA.get_or_init(|| {
        crate::media::address_policy::running_in_real_lambda(|name| std::env::var(name).ok())
    })
}

/// The token endpoint for a base URL: the base itself on loopback (the simulator), else Sinch's.
pub fn token_url_for(base_url: &str) -> String {
    let loopback = crate::loopback::is_loopback_text(base_url);
    if loopback {
        format!("{}/oauth2/token", base_url.trim_end_matches('/'))
    } else {
        AUTH_TOKEN_URL.to_owned()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientSettings {
    pub retry: RetryPolicy,
    /// One HTTP attempt's limit (the deadline may cut it shorter).
    pub attempt_timeout: Duration,
    pub connect_timeout: Duration,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            retry: RetryPolicy::default(),
            attempt_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
        }
    }
}

/// What Sinch answered to an accepted send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The message id (`messages:send`) or event id (`events:send`).
    pub id: String,
    pub accepted_time: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Clone)]
pub struct SinchClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    tokens: TokenCache,
    retry: RetryPolicy,
}

impl std::fmt::Debug for SinchClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SinchClient")
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: SecretString,
    expires_in: u64,
}

impl SinchClient {
    pub fn new(settings: ClientSettings) -> Result<SinchClient, SinchError> {
        let http = reqwest::Client::builder()
            .timeout(settings.attempt_timeout)
            .connect_timeout(settings.connect_timeout)
            // A bearer token must never follow a redirect to another host.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| SinchError::Config {
                operation: "BuildClient",
                message: err.without_url().to_string(),
            })?;
        Ok(SinchClient {
            inner: Arc::new(Inner {
                http,
                tokens: TokenCache::new(),
                retry: settings.retry,
            }),
        })
    }

    /// Sends a message or an event.
    pub async fn send(
        &self,
        endpoint: &ServiceEndpoint,
        request: &SinchRequest,
        deadline: &Deadline,
    ) -> Result<Accepted, SinchError> {
        match request {
            SinchRequest::Message(message) => {
                let answer = self.send_message(endpoint, message, deadline).await?;
                Ok(Accepted {
                    id: answer.message_id,
                    accepted_time: answer.accepted_time,
                })
            }
            SinchRequest::Event(event) => {
                let answer = self.send_event(endpoint, event, deadline).await?;
                Ok(Accepted {
                    id: answer.event_id,
                    accepted_time: answer.accepted_time,
                })
            }
        }
    }

    pub async fn send_message(
        &self,
        endpoint: &ServiceEndpoint,
        request: &SendMessageRequest,
        deadline: &Deadline,
    ) -> Result<SendMessageResponse, SinchError> {
        let body = json_body("SendMessage", request)?;
        self.call_json(
            endpoint,
            "SendMessage",
            Method::POST,
            &["messages:send"],
            Some(body),
            deadline,
        )
        .await
    }

    pub async fn send_event(
        &self,
        endpoint: &ServiceEndpoint,
        request: &SendEventRequest,
        deadline: &Deadline,
    ) -> Result<SendEventResponse, SinchError> {
        let body = json_body("SendEvent", request)?;
        self.call_json(
            endpoint,
            "SendEvent",
            Method::POST,
            &["events:send"],
            Some(body),
            deadline,
        )
        .await
    }

    pub async fn get_contact(
        &self,
        endpoint: &ServiceEndpoint,
        contact_id: &str,
        deadline: &Deadline,
    ) -> Result<Contact, SinchError> {
        self.call_json(
            endpoint,
            "GetContact",
            Method::GET,
            &["contacts", contact_id],
            None,
            deadline,
        )
        .await
    }

    pub async fn get_channel_profile(
        &self,
        endpoint: &ServiceEndpoint,
        request: &ChannelProfileRequest,
        deadline: &Deadline,
    ) -> Result<ChannelProfile, SinchError> {
        let body = json_body("GetChannelProfile", request)?;
        self.call_json(
            endpoint,
            "GetChannelProfile",
            Method::POST,
            &["contacts:getChannelProfile"],
            Some(body),
            deadline,
        )
        .await
    }

    pub async fn list_webhooks(
        &self,
        endpoint: &ServiceEndpoint,
        app_id: &str,
        deadline: &Deadline,
    ) -> Result<Vec<Webhook>, SinchError> {
        let list: WebhookList = self
            .call_json(
                endpoint,
                "ListWebhooks",
                Method::GET,
                &["apps", app_id, "webhooks"],
                None,
                deadline,
            )
            .await?;
        Ok(list.webhooks)
    }

    pub async fn create_webhook(
        &self,
        endpoint: &ServiceEndpoint,
        webhook: &NewWebhook,
        deadline: &Deadline,
    ) -> Result<Webhook, SinchError> {
        let body = json_body("CreateWebhook", webhook)?;
        self.call_json(
            endpoint,
            "CreateWebhook",
            Method::POST,
            &["webhooks"],
            Some(body),
            deadline,
        )
        .await
    }

    pub async fn delete_webhook(
        &self,
        endpoint: &ServiceEndpoint,
        webhook_id: &str,
        deadline: &Deadline,
    ) -> Result<(), SinchError> {
        self.call(
            endpoint,
            "DeleteWebhook",
            Method::DELETE,
            &["webhooks", webhook_id],
            None,
            deadline,
        )
        .await
        .map(|_| ())
    }

    async fn call_json<T: DeserializeOwned>(
        &self,
        endpoint: &ServiceEndpoint,
        operation: &'static str,
        method: Method,
        segments: &[&str],
        body: Option<Bytes>,
        deadline: &Deadline,
    ) -> Result<T, SinchError> {
        let answer = self
            .call(endpoint, operation, method, segments, body, deadline)
            .await?;
        serde_json::from_slice(&answer).map_err(|err| SinchError::UnexpectedAnswer {
            operation,
            message: err.to_string(),
        })
    }

    /// One API call with retries; the answer's body on 2xx.
    async fn call(
        &self,
        endpoint: &ServiceEndpoint,
        operation: &'static str,
        method: Method,
        segments: &[&str],
        body: Option<Bytes>,
        deadline: &Deadline,
    ) -> Result<Bytes, SinchError> {
        let url = endpoint.url(operation, segments)?;
        let result = self
            .inner
            .retry
            .run(operation, deadline, || {
                self.attempt(
                    endpoint,
                    operation,
                    method.clone(),
                    url.clone(),
                    body.clone(),
                )
            })
            .await;
        match &result {
            Ok(_) => {
                tracing::debug!(operation, tenant = %endpoint.tenant, service = %endpoint.service, "Sinch call succeeded")
            }
            Err(err) => {
                tracing::warn!(operation, tenant = %endpoint.tenant, service = %endpoint.service, error = %err, "Sinch call failed")
            }
        }
        result
    }

    /// One attempt: a token, the request, and one more try with a new token if Sinch says the
    /// token expired (it can expire between the cache's check and Sinch's).
    async fn attempt(
        &self,
        endpoint: &ServiceEndpoint,
        operation: &'static str,
        method: Method,
        url: url::Url,
        body: Option<Bytes>,
    ) -> Result<Bytes, SinchError> {
        let key = endpoint.token_key();
        let mut refreshed = false;
        loop {
            let token = self
                .inner
                .tokens
                .get(&key, || self.fetch_token(endpoint, operation))
                .await?;
            let mut request = self
                .inner
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token.expose_secret());
            if let Some(body) = &body {
                request = request
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let response = request.send().await.map_err(transport(operation))?;
            let status = response.status();
            let expired = status == http::StatusCode::UNAUTHORIZED
                && response
                    .headers()
                    .get_all(WWW_AUTHENTICATE)
                    .iter()
                    .any(|value| {
                        value
                            .to_str()
                            .is_ok_and(|text| text.to_ascii_lowercase().contains("expired"))
                    });
            let answer = response.bytes().await.map_err(transport(operation))?;
            if status.is_success() {
                return Ok(answer);
            }
            if expired && !refreshed {
                tracing::debug!(operation, "Sinch says the token expired; refreshing once");
                self.inner.tokens.invalidate(&key, &token).await;
                refreshed = true;
                continue;
            }
            return Err(SinchError::Api {
                operation,
                http_status: status.as_u16(),
                reason: FailureReason::from_body(status.as_u16(), &answer),
            });
        }
    }

    /// OAuth2 client credentials: Basic key id and secret, `grant_type=client_credentials`.
    async fn fetch_token(
        &self,
        endpoint: &ServiceEndpoint,
        operation: &'static str,
    ) -> Result<AccessToken, SinchError> {
        let failed = |http_status: Option<u16>, message: String| SinchError::Token {
            operation,
            http_status,
            message,
        };
        let issued_at = Instant::now();
        let credentials = &endpoint.credentials;
        let response = self
            .inner
            .http
            .post(&endpoint.token_url)
            .basic_auth(
                &credentials.key_id,
                Some(credentials.key_secret.expose_secret()),
            )
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .map_err(|err| failed(None, err.without_url().to_string()))?;
        let status = response.status().as_u16();
        let answer = response
            .bytes()
            .await
            .map_err(|err| failed(None, err.without_url().to_string()))?;
        if !(200..300).contains(&status) {
            return Err(failed(
                Some(status),
                FailureReason::from_body(status, &answer).to_string(),
            ));
        }
        let token: TokenResponse = serde_json::from_slice(&answer).map_err(|_| {
            failed(
                Some(status),
                "the answer has no access_token and expires_in".into(),
            )
        })?;
        tracing::debug!(tenant = %endpoint.tenant, service = %endpoint.service, expires_in = token.expires_in, "new Sinch access token");
        Ok(AccessToken::new(
            token.access_token,
            issued_at,
            Duration::from_secs(token.expires_in),
        ))
    }
}

fn json_body<T: serde::Serialize>(operation: &'static str, value: &T) -> Result<Bytes, SinchError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|err| SinchError::Config {
            operation,
            message: format!("the request cannot be written as JSON: {err}"),
        })
}

fn transport(operation: &'static str) -> impl Fn(reqwest::Error) -> SinchError {
    move |err| SinchError::Transport {
        operation,
        message: err.without_url().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(base: &str) -> ServiceEndpoint {
        ServiceEndpoint {
            tenant: "acme".into(),
            service: "main".into(),
            project_id: "p 1".into(),
            base_url: base.into(),
            token_url: token_url_for(base),
            credentials: ApiCredentials {
                key_id: "key".into(),
                key_secret: SecretString::from("key-secret".to_owned()),
            },
            refuse_loopback: false,
        }
    }

    #[test]
    fn in_aws_lambda_a_loopback_base_url_is_refused_before_any_call() {
        let mut simulator = endpoint("http://127.0.0.1:3001");
        assert!(simulator.url("Send", &["messages:send"]).is_ok(), "locally");
        simulator.refuse_loopback = true;
        let refused = simulator.url("Send", &["messages:send"]).unwrap_err();
        assert!(matches!(refused, SinchError::Config { .. }), "{refused:?}");
        assert_eq!(refused.code(), "SERVICE_MISCONFIGURED");
        let mut sinch = endpoint("https://eu.conversation.api.sinch.com");
        sinch.refuse_loopback = true;
        assert!(sinch.url("Send", &["messages:send"]).is_ok());
    }

    #[test]
    fn tokens_come_from_sinch_except_on_loopback() {
        assert_eq!(
            token_url_for("https://eu.conversation.api.sinch.com"),
            AUTH_TOKEN_URL
        );
        assert_eq!(
            token_url_for("http://127.0.0.1:3001"),
            "http://127.0.0.1:3001/oauth2/token"
        );
        assert_eq!(
            token_url_for("http://localhost:3001/"),
            "http://localhost:3001/oauth2/token"
        );
        assert_eq!(
            token_url_for("http://[::1]:3001"),
            "http://[::1]:3001/oauth2/token"
        );
        assert_eq!(
            token_url_for("http://127.0.0.1.evil.example"),
            AUTH_TOKEN_URL
        );
    }

    #[test]
    fn urls_name_the_project_and_encode_each_segment() {
        let url = endpoint("https://eu.conversation.api.sinch.com")
            .url("SendMessage", &["messages:send"])
            .unwrap();
        assert_eq!(
            url.as_str(),
            "https://eu.conversation.api.sinch.com/v1/projects/p%201/messages:send"
        );
        let url = endpoint("http://127.0.0.1:3001/sandbox")
            .url("GetContact", &["contacts", "a/b?c"])
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:3001/sandbox/v1/projects/p%201/contacts/a%2Fb%3Fc"
        );
    }

    #[test]
    fn the_endpoint_follows_the_service_config() {
        let seed = serde_json::json!({"tenants": [{
            "id": "acme",
            "services": [{"name": "main", "region": "us", "project_id": "p", "app_ids": ["01APP"],
                          "access_key_id": "k", "access_key_secret": "s", "webhook_secret": "w"},
                         {"name": "sim", "region": "eu", "project_id": "p2", "app_ids": ["01SIM"],
                          "access_key_id": "k", "access_key_secret": "s", "webhook_secret": "w",
                          "api_base_url": "http://127.0.0.1:3001/"}]
        }]});
        let tenant = &crate::config::SeedFile::parse(&seed.to_string())
            .unwrap()
            .tenants[0];
        let credentials = ApiCredentials {
            key_id: "k".into(),
            key_secret: SecretString::from("s".to_owned()),
        };
        let us = ServiceEndpoint::new(&tenant.id, &tenant.services[0], credentials.clone());
        assert_eq!(us.base_url, "https://us.conversation.api.sinch.com");
        assert_eq!(us.token_url, AUTH_TOKEN_URL);
        let sim = ServiceEndpoint::new(&tenant.id, &tenant.services[1], credentials);
        assert_eq!(sim.base_url, "http://127.0.0.1:3001");
        assert_eq!(sim.token_url, "http://127.0.0.1:3001/oauth2/token");
    }

    #[test]
    fn the_token_key_is_what_authenticates_not_only_the_key_id() {
        let base = endpoint("http://127.0.0.1:1");
        assert_eq!(base.token_key(), endpoint("http://127.0.0.1:1").token_key());
        let mut other_tenant = endpoint("http://127.0.0.1:1");
        other_tenant.tenant = "globex".into();
        let mut other_service = endpoint("http://127.0.0.1:1");
        other_service.service = "us".into();
        let mut other_secret = endpoint("http://127.0.0.1:1");
        other_secret.credentials.key_secret = SecretString::from("anything".to_owned());
        for other in [other_tenant, other_service, other_secret] {
            assert_ne!(base.token_key(), other.token_key(), "{other:?}");
        }
        let printed = format!("{:?}", base.token_key());
        assert!(!printed.contains("key-secret"), "{printed}");
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let printed = format!(
            "{:?} {:?}",
            endpoint("http://127.0.0.1:1"),
            SinchClient::new(ClientSettings::default()).unwrap()
        );
        assert!(!printed.contains("key-secret"), "{printed}");
    }
}
