//! A plain HTTP/1.1 server for `make dev` and black-box tests: the same handler as in Lambda,
//! at the same path as behind API Gateway. Bodies are read up to the size limit plus one byte,
//! so an oversized upload is refused without being buffered whole.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tracing::{info, warn};

use crate::handler::{Webhook, WebhookRequest};
use crate::ingest::IngestQueue;
use crate::quarantine::Quarantine;
use switchboard_shared::config::TenantConfigSource;

pub async fn serve<C, Q, R>(
    webhook: Arc<Webhook<C, Q, R>>,
    listener: TcpListener,
    max_body_bytes: usize,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()>
where
    C: TenantConfigSource + 'static,
    Q: IngestQueue + 'static,
    R: Quarantine + 'static,
{
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => return Ok(()),
        };
        let webhook = Arc::clone(&webhook);
        tokio::spawn(async move {
            let service =
                service_fn(move |request| answer(Arc::clone(&webhook), request, max_body_bytes));
            if let Err(err) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                warn!(%peer, error = %err, "connection ended with an error");
            }
        });
    }
}

async fn answer<C: TenantConfigSource, Q: IngestQueue, R: Quarantine>(
    webhook: Arc<Webhook<C, Q, R>>,
    request: Request<Incoming>,
    max_body_bytes: usize,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, max_body_bytes + 1).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            // Over the limit (or the client went away): same answer the handler gives.
            return Ok(reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("{{\"error\":\"body is over the limit of {max_body_bytes} bytes\"}}"),
            ));
        }
    };
    let answer = webhook
        .handle(WebhookRequest {
            method: &parts.method,
            path: parts.uri.path(),
            headers: &parts.headers,
            body: &body,
        })
        .await;
    Ok(reply(answer.status, answer.body))
}

fn reply(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// Binds the local address, printing it so scripts and tests can find a random port.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind(addr).await?;
    info!(address = %listener.local_addr()?, "webhook listening");
    Ok(listener)
}
