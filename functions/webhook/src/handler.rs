//! The webhook's work for one request, independent of Lambda: route, size, tenant, service,
//! signature, parse, classify, queue. Every answer here is a row of DESIGN.md §5.

use chrono::{DateTime, Utc};
use http::{HeaderMap, Method, StatusCode};
use switchboard_shared::config::{
    ConfigCache, MessagingService, StoreError, TenantConfig, TenantConfigSource,
};
use switchboard_shared::sinch::callback::{Callback, parse_callback};
use switchboard_shared::sinch::signature::{self, SignatureHeaders};
use tracing::{info, warn};

use crate::classify::{classify, too_large_for_queue};
use crate::ingest::{IngestError, IngestMessage, IngestQueue};
use crate::quarantine::Quarantine;
use crate::route::{ServiceSelector, parse_path};
use crate::settings::Settings;

/// A request as both shells (Lambda, local server) see it.
#[derive(Debug)]
pub struct WebhookRequest<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookResponse {
    pub status: StatusCode,
    /// A small JSON document; never contains secrets or the callback itself.
    pub body: String,
}

impl WebhookResponse {
    fn json(status: StatusCode, value: serde_json::Value) -> WebhookResponse {
        WebhookResponse {
            status,
            body: value.to_string(),
        }
    }

    fn error(status: StatusCode, message: impl Into<String>) -> WebhookResponse {
        WebhookResponse::json(status, serde_json::json!({ "error": message.into() }))
    }
}

pub struct Webhook<C, Q, R> {
    config: ConfigCache<C>,
    ingest: Q,
    quarantine: R,
    settings: Settings,
}

impl<C: TenantConfigSource, Q: IngestQueue, R: Quarantine> Webhook<C, Q, R> {
    pub fn new(config_source: C, ingest: Q, quarantine: R, settings: Settings) -> Self {
        let config = ConfigCache::new(config_source, settings.config_cache_ttl);
        Webhook {
            config,
            ingest,
            quarantine,
            settings,
        }
    }

    pub async fn handle(&self, request: WebhookRequest<'_>) -> WebhookResponse {
        self.handle_at(request, Utc::now()).await
    }

    pub async fn handle_at(
        &self,
        request: WebhookRequest<'_>,
        now: DateTime<Utc>,
    ) -> WebhookResponse {
        let response = self.respond(&request, now).await;
        // Accepted callbacks are logged once, where they are queued, with their event id.
        if !response.status.is_success() {
            warn!(status = response.status.as_u16(), path = request.path, answer = %response.body, "callback refused");
        }
        response
    }

    async fn respond(&self, request: &WebhookRequest<'_>, now: DateTime<Utc>) -> WebhookResponse {
        let route = match parse_path(request.path) {
            Ok(route) => route,
            Err(err) => return WebhookResponse::error(StatusCode::NOT_FOUND, err.to_string()),
        };
        if request.method != Method::POST {
            return WebhookResponse::error(StatusCode::METHOD_NOT_ALLOWED, "callbacks are POSTed");
        }
        if request.body.len() > self.settings.max_body_bytes {
            return WebhookResponse::error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "body of {} bytes is over the limit of {}",
                    request.body.len(),
                    self.settings.max_body_bytes
                ),
            );
        }
        let tenant = match self.config.tenant(&route.tenant).await {
            Ok(Some(tenant)) => tenant,
            Ok(None) => {
                return WebhookResponse::error(
                    StatusCode::NOT_FOUND,
                    format!("unknown tenant '{}'", route.tenant),
                );
            }
            Err(err) => return store_failure(&err),
        };

        // Parsed before the signature check because `/all` finds its service (and so its secret)
        // by the body's app id; nothing parsed is trusted or used until the signature verifies.
        let parsed = parse_callback(request.body);
        let app_id = parsed
            .as_ref()
            .ok()
            .map(|callback| callback.app_id.clone())
            .filter(|id| !id.is_empty());
        let known_service = app_id
            .as_deref()
            .and_then(|app_id| tenant.service_for_app(app_id));
        let candidates: Vec<&MessagingService> = match (&route.service, known_service) {
            (ServiceSelector::Named(name), _) => match tenant.service(name) {
                Some(service) => vec![service],
                None => {
                    return WebhookResponse::error(
                        StatusCode::NOT_FOUND,
                        format!("unknown service '{name}' of tenant '{}'", tenant.id),
                    );
                }
            },
            (ServiceSelector::ByAppId, Some(service)) => vec![service],
            // No configured app id to go by (not JSON, an app not configured yet, or Sinch left
            // it empty as on contact notifications): any of the tenant's services may have
            // signed it, and only one of them can have.
            (ServiceSelector::ByAppId, None) => tenant.services.iter().collect(),
        };

        let service = match verify(request, &candidates, now, self.settings.signature_window) {
            Ok(service) => service,
            Err(err) => {
                // Always 401, whatever the app id: an unauthenticated caller learns nothing about
                // which apps exist. Logged once, with the reason, as a refusal.
                return WebhookResponse::error(
                    StatusCode::UNAUTHORIZED,
                    format!("signature refused: {err}"),
                );
            }
        };

        let callback = match parsed {
            Ok(callback) => callback,
            Err(err) => {
                return self
                    .quarantine(&tenant, request.body, &err.to_string(), now)
                    .await;
            }
        };
        if let Some(app_id) = app_id
            .as_deref()
            .filter(|app_id| !service.serves_app(app_id))
        {
            // Authentic (signed with this service's secret) but for an app not configured here,
            // typically one added in Sinch before Switchboard: forwarded, not lost.
            warn!(tenant = %tenant.id, service = %service.name, app_id, "callback for an app id not configured on its service");
        }
        self.forward(&tenant, service, &callback, request.body, now)
            .await
    }

    async fn quarantine(
        &self,
        tenant: &TenantConfig,
        body: &[u8],
        reason: &str,
        now: DateTime<Utc>,
    ) -> WebhookResponse {
        match self.keep(tenant, body, reason, now).await {
            Ok(key) => {
                warn!(tenant = %tenant.id, %key, reason, "signed body is not a JSON callback; quarantined");
                WebhookResponse::json(
                    StatusCode::BAD_REQUEST,
                    serde_json::json!({ "error": format!("body is not a JSON callback: {reason}"), "quarantined": true }),
                )
            }
            Err(response) => response,
        }
    }

    /// Keeps the exact body in S3; if that fails, the answer that makes Sinch retry, so the
    /// body is not lost either way.
    async fn keep(
        &self,
        tenant: &TenantConfig,
        body: &[u8],
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<String, WebhookResponse> {
        self.quarantine
            .keep(tenant.id.as_str(), body, reason, now)
            .await
            .map_err(|err| {
                warn!(tenant = %tenant.id, error = %err, reason, "could not keep the body in S3; asking Sinch to retry");
                WebhookResponse::error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "could not keep the body; retry later",
                )
            })
    }

    async fn forward(
        &self,
        tenant: &TenantConfig,
        service: &MessagingService,
        callback: &Callback,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> WebhookResponse {
        let event = classify(
            tenant.id.as_str(),
            service.name.as_str(),
            callback,
            body,
            now,
        );
        let event_id = event.event_id.clone();
        let message = match IngestMessage::new(&event) {
            Ok(message) => message,
            Err(IngestError::TooLarge { bytes }) => {
                // Authentic but too big to travel whole: keep the callback, send a pointer.
                let key = match self
                    .keep(tenant, body, "event too large for the queue", now)
                    .await
                {
                    Ok(key) => key,
                    Err(response) => return response,
                };
                warn!(tenant = %tenant.id, %key, bytes, "event too large for the queue; callback kept in S3");
                match IngestMessage::new(&too_large_for_queue(event, callback, bytes, key)) {
                    Ok(message) => message,
                    Err(err) => {
                        return WebhookResponse::error(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            err.to_string(),
                        );
                    }
                }
            }
            Err(err) => {
                return WebhookResponse::error(StatusCode::INTERNAL_SERVER_ERROR, err.to_string());
            }
        };
        if let Err(err) = self.ingest.send(&message).await {
            warn!(tenant = %tenant.id, error = %err, "ingest queue unavailable; asking Sinch to retry");
            return WebhookResponse::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "could not queue the callback; retry later",
            );
        }
        info!(tenant = %tenant.id, service = %service.name, kind = message.kind, %event_id, "queued");
        WebhookResponse::json(
            StatusCode::OK,
            serde_json::json!({ "accepted": true, "event_id": event_id, "kind": message.kind }),
        )
    }
}

fn verify<'s>(
    request: &WebhookRequest<'_>,
    candidates: &[&'s MessagingService],
    now: DateTime<Utc>,
    window: std::time::Duration,
) -> Result<&'s MessagingService, signature::SignatureError> {
    let headers = SignatureHeaders::from_lookup(|name| {
        request
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
    })?;
    let mut last_error = signature::SignatureError::NoSecretConfigured;
    for service in candidates {
        match signature::verify(
            &headers,
            request.body,
            &service.webhook_secrets(),
            now,
            window,
        ) {
            Ok(_) => return Ok(service),
            Err(err) => last_error = err,
        }
    }
    Err(last_error)
}

fn store_failure(err: &StoreError) -> WebhookResponse {
    warn!(error = %err, "config store failed");
    let status = if err.is_retryable() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    WebhookResponse::error(status, "configuration unavailable; retry later")
}
