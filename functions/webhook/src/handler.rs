//! The webhook's work for one request, independent of Lambda: route, size, tenant, service,
//! signature, parse, classify, queue. Every answer is a row of the failure table
//! (docs/failures.md).
//!
//! Two rules shape the order of the steps:
//! - strangers learn nothing: an unknown tenant, an unknown service and a refused signature get
//!   one identical answer, and nothing but the app id is read from a body before it verifies;
//! - nothing authentic is lost: once a callback verifies, it is either queued (whole, or as a
//!   pointer to its bytes kept in S3) or answered with a status that makes Sinch retry.

use chrono::{DateTime, Utc};
use http::{HeaderMap, Method, StatusCode};
use serde::Deserialize;
use switchboard_shared::config::{
    ConfigCache, MessagingService, StoreError, TenantConfig, TenantConfigSource,
};
use switchboard_shared::contract::InboundEvent;
use switchboard_shared::deadline::Deadline;
use switchboard_shared::error::Classify;
use switchboard_shared::json_text;
use switchboard_shared::sinch::callback::{Callback, CallbackParseError, parse_callback};
use switchboard_shared::sinch::signature::{self, SignatureHeaders};
use tracing::{info, warn};

use crate::classify::{classify, kept_in_s3};
use crate::ingest::{GroupKey, IngestError, IngestMessage, IngestQueue};
use crate::quarantine::Quarantine;
use crate::route::{RouteError, ServiceSelector, parse_path};
use crate::settings::Settings;

/// A request as the handler sees it (the kit's HTTP request, borrowed; see `function.rs`).
#[derive(Debug)]
pub struct WebhookRequest<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// When the answer must be on its way: the invocation's deadline (Lambda's, less 0.5 s).
    pub deadline: Deadline,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookResponse {
    pub status: StatusCode,
    /// A small JSON document; never contains secrets, the callback, or why a caller was refused.
    pub body: String,
}

/// Why a request was not accepted: logged (the `reason` field of the "callback refused" line,
/// which a metric filter counts), never told to the caller beyond the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Route,
    Method,
    TooLarge,
    UnknownTenant,
    UnknownService,
    Signature,
    NotJson,
    StoreUnavailable,
    QueueUnavailable,
    QuarantineUnavailable,
    DeadlinePassed,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Route => "route",
            Refusal::Method => "method",
            Refusal::TooLarge => "too_large",
            Refusal::UnknownTenant => "unknown_tenant",
            Refusal::UnknownService => "unknown_service",
            Refusal::Signature => "signature",
            Refusal::NotJson => "not_json",
            Refusal::StoreUnavailable => "store_unavailable",
            Refusal::QueueUnavailable => "queue_unavailable",
            Refusal::QuarantineUnavailable => "quarantine_unavailable",
            Refusal::DeadlinePassed => "deadline",
        }
    }
}

/// The one answer for every caller who is not who they claim to be, whatever the reason.
pub const UNAUTHORIZED_BODY: &str = r#"{"error":"unauthorized"}"#;

impl WebhookResponse {
    fn json(status: StatusCode, value: serde_json::Value) -> WebhookResponse {
        WebhookResponse {
            status,
            body: value.to_string(),
        }
    }

    fn error(status: StatusCode, message: &str) -> WebhookResponse {
        WebhookResponse::json(status, serde_json::json!({ "error": message }))
    }

    fn unauthorized() -> WebhookResponse {
        WebhookResponse {
            status: StatusCode::UNAUTHORIZED,
            body: UNAUTHORIZED_BODY.to_owned(),
        }
    }

    fn retry_later() -> WebhookResponse {
        WebhookResponse::error(StatusCode::SERVICE_UNAVAILABLE, "unavailable; retry later")
    }
}

/// A refusal with the answer for it and what the log needs to know (never secrets).
struct Refused {
    reason: Refusal,
    detail: String,
    response: WebhookResponse,
}

impl Refused {
    fn new(reason: Refusal, detail: impl Into<String>, response: WebhookResponse) -> Refused {
        Refused {
            reason,
            detail: detail.into(),
            response,
        }
    }

    fn unauthorized(reason: Refusal, detail: impl Into<String>) -> Refused {
        Refused::new(reason, detail, WebhookResponse::unauthorized())
    }

    fn retry_later(reason: Refusal, detail: impl Into<String>) -> Refused {
        Refused::new(reason, detail, WebhookResponse::retry_later())
    }
}

pub struct Webhook<C, Q, R> {
    config: ConfigCache<C>,
    ingest: Q,
    quarantine: R,
    settings: Settings,
}

/// The only field read from a body before its signature verifies: `/all` finds its service
/// (and so its secret) by it. Everything else is skipped unread.
#[derive(Deserialize)]
struct AppIdOnly {
    #[serde(default)]
    app_id: Option<String>,
}

fn peek_app_id(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<AppIdOnly>(body)
        .ok()
        .and_then(|peek| peek.app_id)
        .filter(|id| !id.is_empty())
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

    pub fn ingest(&self) -> &Q {
        &self.ingest
    }

    pub fn quarantine_port(&self) -> &R {
        &self.quarantine
    }

    pub fn config_source(&self) -> &C {
        self.config.source()
    }

    pub async fn handle(&self, request: WebhookRequest<'_>) -> WebhookResponse {
        self.handle_at(request, Utc::now()).await
    }

    pub async fn handle_at(
        &self,
        request: WebhookRequest<'_>,
        now: DateTime<Utc>,
    ) -> WebhookResponse {
        match self.respond(&request, now).await {
            Ok(response) => response,
            Err(refused) => {
                warn!(
                    reason = refused.reason.as_str(),
                    status = refused.response.status.as_u16(),
                    detail = %refused.detail,
                    path = request.path,
                    "callback refused"
                );
                refused.response
            }
        }
    }

    async fn respond(
        &self,
        request: &WebhookRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<WebhookResponse, Refused> {
        let route = match parse_path(request.path) {
            Ok(route) => route,
            Err(RouteError::NoRoute) => {
                return Err(Refused::new(
                    Refusal::Route,
                    "no such route",
                    WebhookResponse::error(StatusCode::NOT_FOUND, "not found"),
                ));
            }
            // A name that cannot exist is an unknown tenant or service like any other.
            Err(RouteError::BadName(err)) => {
                return Err(Refused::unauthorized(
                    Refusal::UnknownTenant,
                    err.to_string(),
                ));
            }
        };
        if request.method != Method::POST {
            return Err(Refused::new(
                Refusal::Method,
                request.method.to_string(),
                WebhookResponse::error(StatusCode::METHOD_NOT_ALLOWED, "callbacks are POSTed"),
            ));
        }
        if request.body.len() > self.settings.max_body_bytes {
            return Err(Refused::new(
                Refusal::TooLarge,
                format!("{} bytes", request.body.len()),
                WebhookResponse::error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &format!(
                        "body is over the limit of {} bytes",
                        self.settings.max_body_bytes
                    ),
                ),
            ));
        }
        let tenant = match request
            .deadline
            .run("config lookup", self.config.tenant(&route.tenant))
            .await
        {
            Ok(Ok(Some(tenant))) => tenant,
            Ok(Ok(None)) => {
                return Err(Refused::unauthorized(
                    Refusal::UnknownTenant,
                    format!("tenant '{}'", route.tenant),
                ));
            }
            Ok(Err(err)) => return Err(store_failure(&err)),
            Err(late) => {
                return Err(Refused::retry_later(
                    Refusal::DeadlinePassed,
                    late.to_string(),
                ));
            }
        };

        let app_id = peek_app_id(request.body);
        let candidates: Vec<&MessagingService> = match &route.service {
            ServiceSelector::Named(name) => match tenant.service(name) {
                Some(service) => vec![service],
                None => {
                    return Err(Refused::unauthorized(
                        Refusal::UnknownService,
                        format!("service '{name}' of tenant '{}'", tenant.id),
                    ));
                }
            },
            ServiceSelector::ByAppId => {
                match app_id.as_deref().and_then(|id| tenant.service_for_app(id)) {
                    Some(service) => vec![service],
                    // No configured app id to go by (not JSON, an app not configured yet, or
                    // Sinch left it empty as on contact notifications): any of the tenant's
                    // services may have signed it, and only one of them can have.
                    None => tenant.services.iter().collect(),
                }
            }
        };
        let service = verify(request, &candidates, now, self.settings.signature_window)
            .map_err(|err| Refused::unauthorized(Refusal::Signature, err.to_string()))?;

        // Authentic from here on: nothing below may lose it.
        let readable = json_text::repair(request.body);
        let callback = match parse_callback(readable.text.as_bytes()) {
            Ok(callback) => callback,
            Err(err) => {
                let reason = not_json_reason(&err, readable.text.as_bytes());
                return self.not_json(&tenant, request, &reason, now).await;
            }
        };
        if let Some(app_id) = app_id.as_deref().filter(|id| !service.serves_app(id)) {
            // Authentic (signed with this service's secret) but for an app not configured here,
            // typically one added in Sinch before Switchboard: forwarded, not lost.
            warn!(tenant = %tenant.id, service = %service.name, app_id, "callback for an app id not configured on its service");
        }
        let mut event = classify(
            tenant.id.as_str(),
            service.name.as_str(),
            &callback,
            readable.text.as_bytes(),
            now,
        );
        if readable.changed {
            // The typed fields read U+FFFD where the bytes could not be read; the bytes
            // themselves stay retrievable.
            let key = self
                .keep(&tenant, request, "callback needed repair to be read", now)
                .await?;
            event.raw_callback_s3_key = Some(key);
        }
        let group_key = GroupKey::of_service(service);
        let message = match IngestMessage::new(&event, &group_key) {
            Ok(message) => message,
            // Too large for SQS, or not serializable: keep the callback, queue a pointer.
            Err(err) => {
                return self
                    .queue_pointer(
                        request,
                        &tenant,
                        &group_key,
                        event,
                        &callback,
                        &err.to_string(),
                        now,
                    )
                    .await;
            }
        };
        match self.send(request, &message).await {
            Ok(()) => Ok(accepted(&tenant, service, &message, &event.event_id)),
            Err(err) if err.is_retryable() => Err(Refused::retry_later(
                Refusal::QueueUnavailable,
                err.to_string(),
            )),
            // SQS refused this message for good: keep the callback, try a pointer instead.
            Err(err) => {
                self.queue_pointer(
                    request,
                    &tenant,
                    &group_key,
                    event,
                    &callback,
                    &err.to_string(),
                    now,
                )
                .await
            }
        }
    }

    /// Keeps the callback in S3 and queues an event that points to it.
    #[allow(clippy::too_many_arguments)]
    async fn queue_pointer(
        &self,
        request: &WebhookRequest<'_>,
        tenant: &TenantConfig,
        group_key: &GroupKey<'_>,
        event: InboundEvent,
        callback: &Callback,
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<WebhookResponse, Refused> {
        let key = self.keep(tenant, request, why, now).await?;
        warn!(tenant = %tenant.id, %key, why, "event cannot travel whole; callback kept in S3");
        let service = event.service.clone();
        let event_id = event.event_id.clone();
        let pointer = IngestMessage::new(&kept_in_s3(event, callback, why, key), group_key)
            .map_err(|err| Refused::retry_later(Refusal::QueueUnavailable, err.to_string()))?;
        self.send(request, &pointer)
            .await
            .map_err(|err| Refused::retry_later(Refusal::QueueUnavailable, err.to_string()))?;
        info!(tenant = %tenant.id, %service, kind = pointer.kind, %event_id, "queued a pointer");
        Ok(accepted_answer(&event_id, pointer.kind))
    }

    async fn send(
        &self,
        request: &WebhookRequest<'_>,
        message: &IngestMessage,
    ) -> Result<(), IngestError> {
        match request
            .deadline
            .run("SendMessage", self.ingest.send(message))
            .await
        {
            Ok(result) => result,
            Err(late) => Err(IngestError::Late(late)),
        }
    }

    /// A signed body that is not JSON: kept in S3 and answered 400 (Sinch would send the same
    /// bytes again; retrying cannot help).
    async fn not_json(
        &self,
        tenant: &TenantConfig,
        request: &WebhookRequest<'_>,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<WebhookResponse, Refused> {
        let key = self.keep(tenant, request, reason, now).await?;
        Err(Refused::new(
            Refusal::NotJson,
            format!("{reason}; kept at {key}"),
            WebhookResponse::json(
                StatusCode::BAD_REQUEST,
                serde_json::json!({ "error": "body is not a JSON callback", "quarantined": true }),
            ),
        ))
    }

    /// Keeps the exact body in S3; if that fails, the answer that makes Sinch retry, so the
    /// body is not lost either way.
    async fn keep(
        &self,
        tenant: &TenantConfig,
        request: &WebhookRequest<'_>,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<String, Refused> {
        let kept = request
            .deadline
            .run(
                "PutObject",
                self.quarantine
                    .keep(tenant.id.as_str(), request.body, reason, now),
            )
            .await;
        match kept {
            Ok(Ok(key)) => Ok(key),
            Ok(Err(err)) => Err(Refused::retry_later(
                Refusal::QuarantineUnavailable,
                err.to_string(),
            )),
            Err(late) => Err(Refused::retry_later(
                Refusal::DeadlinePassed,
                late.to_string(),
            )),
        }
    }
}

/// Why a signed body is not a callback, for the log and the quarantined object's metadata:
/// serde's own message would echo the value it refused (customer content), so only the kind
/// of problem and where it is.
fn not_json_reason(err: &CallbackParseError, body: &[u8]) -> String {
    match err {
        CallbackParseError::NotJson(_) => {
            match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
                Err(parse) => format!(
                    "callback body is not JSON: {}",
                    switchboard_shared::telemetry::json_problem(&parse)
                ),
                Ok(_) => "callback body is JSON but not a callback object".to_owned(),
            }
        }
        // The name of a JSON type: nothing of the body.
        CallbackParseError::NotAnObject(_) => err.to_string(),
    }
}

fn accepted(
    tenant: &TenantConfig,
    service: &MessagingService,
    message: &IngestMessage,
    event_id: &str,
) -> WebhookResponse {
    info!(tenant = %tenant.id, service = %service.name, kind = message.kind, event_id, "queued");
    accepted_answer(event_id, message.kind)
}

fn accepted_answer(event_id: &str, kind: &str) -> WebhookResponse {
    WebhookResponse::json(
        StatusCode::OK,
        serde_json::json!({ "accepted": true, "event_id": event_id, "kind": kind }),
    )
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

fn store_failure(err: &StoreError) -> Refused {
    let status = if err.is_retryable() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    Refused::new(
        Refusal::StoreUnavailable,
        err.to_string(),
        WebhookResponse::error(status, "configuration unavailable; retry later"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_that_is_not_a_callback_is_described_without_its_content() {
        for body in [
            &br#"{"message": {"text": "my number is +46701234567"#[..],
            br#"{"message": "+46701234567"} +46701234567"#,
            br#"+46701234567"#,
            br#"{"a": "\u+46701234567"}"#,
            br#"["+46701234567"]"#,
        ] {
            let err = parse_callback(body).unwrap_err();
            let reason = not_json_reason(&err, body);
            assert!(!reason.contains("4670123456"), "{reason}");
            assert!(reason.starts_with("callback body is"), "{reason}");
        }
    }
}
