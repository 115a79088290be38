//! API Gateway (HTTP API, payload v2) → the handler. `lambda_http` has already base64-decoded
//! the body when API Gateway set `isBase64Encoded`, so the handler sees the exact bytes Sinch
//! signed.

use lambda_http::{Body, Error, Request, Response};

use crate::handler::{Webhook, WebhookRequest};
use crate::ingest::IngestQueue;
use crate::quarantine::Quarantine;
use switchboard_shared::config::TenantConfigSource;

pub async fn handle<C: TenantConfigSource, Q: IngestQueue, R: Quarantine>(
    webhook: &Webhook<C, Q, R>,
    request: Request,
) -> Result<Response<Body>, Error> {
    let answer = webhook
        .handle(WebhookRequest {
            method: request.method(),
            path: request.uri().path(),
            headers: request.headers(),
            body: request.body().as_ref(),
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
