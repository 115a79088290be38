//! API Gateway (HTTP API, payload v2) → the handler. `lambda_http` has already base64-decoded
//! the body when API Gateway set `isBase64Encoded`, so the handler sees the exact bytes Sinch
//! signed.

use lambda_http::{Body, Error, Request, RequestExt, Response};
use switchboard_shared::deadline::{DEFAULT_MARGIN, Deadline};

use crate::handler::{Webhook, WebhookRequest};
use crate::ingest::IngestQueue;
use crate::quarantine::Quarantine;
use switchboard_shared::config::TenantConfigSource;

/// Used only if a request ever came without a Lambda context: the template's function timeout.
const FALLBACK_BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

pub async fn handle<C: TenantConfigSource, Q: IngestQueue, R: Quarantine>(
    webhook: &Webhook<C, Q, R>,
    request: Request,
) -> Result<Response<Body>, Error> {
    // One deadline for every AWS call of this request: answer 503 (Sinch retries) before
    // Lambda's own timeout would cut the function off without an answer.
    let deadline = Deadline::from_lambda(
        request.lambda_context_ref().map_or_else(
            || std::time::SystemTime::now() + FALLBACK_BUDGET,
            |context| context.deadline(),
        ),
        DEFAULT_MARGIN,
    );
    let answer = webhook
        .handle(WebhookRequest {
            method: request.method(),
            path: request.uri().path(),
            headers: request.headers(),
            body: request.body().as_ref(),
            deadline,
        })
        .await;
    Ok(Response::builder()
        .status(answer.status)
        .header("content-type", "application/json")
        .body(Body::Text(answer.body))?)
}

pub async fn run<C: TenantConfigSource, Q: IngestQueue, R: Quarantine>(
    webhook: Webhook<C, Q, R>,
) -> Result<(), Error> {
    let webhook = &webhook;
    lambda_http::run(lambda_http::service_fn(move |request: Request| {
        handle(webhook, request)
    }))
    .await
}
