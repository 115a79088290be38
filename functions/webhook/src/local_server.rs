//! A plain HTTP/1.1 server for `make dev` and black-box tests: the same handler as in Lambda,
//! at the same path as behind API Gateway. Bodies are read up to the size limit plus one byte,
//! so an oversized upload is refused (by the handler) without being buffered whole.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tracing::{error, info, warn};

use crate::handler::{Webhook, WebhookRequest};
use crate::ingest::IngestQueue;
use crate::quarantine::Quarantine;
use switchboard_shared::config::TenantConfigSource;
use switchboard_shared::deadline::{DEFAULT_MARGIN, Deadline};

/// The same budget a request has in Lambda: the template's 10 s timeout minus the margin.
const LOCAL_BUDGET: std::time::Duration =
    std::time::Duration::from_millis(10_000 - DEFAULT_MARGIN.as_millis() as u64);

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

async fn answer<C, Q, R>(
    webhook: Arc<Webhook<C, Q, R>>,
    request: Request<Incoming>,
    max_body_bytes: usize,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible>
where
    C: TenantConfigSource + 'static,
    Q: IngestQueue + 'static,
    R: Quarantine + 'static,
{
    let (parts, body) = request.into_parts();
    let Some(body) = read_at_most(body, max_body_bytes + 1).await else {
        // The client went away mid-body: nobody is left to answer.
        return Ok(reply(
            StatusCode::BAD_REQUEST,
            "{\"error\":\"incomplete body\"}".into(),
        ));
    };
    // In a task of its own, so a panic in the handler answers 500 (as Lambda's runtime does)
    // instead of dropping the connection; the server goes on either way.
    let handled = tokio::spawn(async move {
        webhook
            .handle(WebhookRequest {
                method: &parts.method,
                path: parts.uri.path(),
                headers: &parts.headers,
                body: &body,
                deadline: Deadline::after(LOCAL_BUDGET),
            })
            .await
    })
    .await;
    Ok(match handled {
        Ok(answer) => reply(answer.status, answer.body),
        Err(err) => {
            error!(error = %err, "the handler panicked");
            reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                "{\"error\":\"internal error\"}".into(),
            )
        }
    })
}

/// Reads the body up to `limit` bytes and stops there: an oversized upload is never buffered
/// whole, and the handler (not this reader) decides the 413, as it does in Lambda.
async fn read_at_most(mut body: Incoming, limit: usize) -> Option<Bytes> {
    let mut buffer = BytesMut::new();
    while buffer.len() < limit {
        match body.frame().await {
            None => break,
            Some(Err(_)) => return None,
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    let room = limit - buffer.len();
                    buffer.extend_from_slice(&data[..data.len().min(room)]);
                }
            }
        }
    }
    Some(buffer.freeze())
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
