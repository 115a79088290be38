//! A plain HTTP/1.1 server for `make dev` and black-box tests: the same handler as in Lambda,
//! at the same path as behind API Gateway. Request bodies are ignored (the route is a GET).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tracing::{error, info, warn};

use crate::handler::{LinkRequest, LinkResponse, MediaLink, RESPONSE_HEADERS};
use crate::objects::MediaObjects;

pub async fn serve<O: MediaObjects + 'static>(
    link: Arc<MediaLink<O>>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => return Ok(()),
        };
        let link = Arc::clone(&link);
        tokio::spawn(async move {
            let service = service_fn(move |request| answer(Arc::clone(&link), request));
            if let Err(err) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                warn!(%peer, error = %err, "connection ended with an error");
            }
        });
    }
}

async fn answer<O: MediaObjects + 'static>(
    link: Arc<MediaLink<O>>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, _body) = request.into_parts();
    // In a task of its own, so a panic answers 500 (as Lambda's runtime does) and the server
    // goes on.
    let handled = tokio::spawn(async move {
        link.handle(
            LinkRequest {
                method: &parts.method,
                path: parts.uri.path(),
            },
            chrono::Utc::now(),
        )
        .await
    })
    .await;
    Ok(match handled {
        Ok(answer) => reply(answer),
        Err(err) => {
            error!(error = %err, "the handler panicked");
            reply(LinkResponse {
                status: http::StatusCode::INTERNAL_SERVER_ERROR,
                location: None,
                body: r#"{"error":"internal error"}"#,
            })
        }
    })
}

fn reply(answer: LinkResponse) -> Response<Full<Bytes>> {
    let mut response = Response::builder().status(answer.status);
    for (name, value) in RESPONSE_HEADERS {
        response = response.header(name, value);
    }
    response = match answer.location {
        Some(location) => response.header("location", location),
        None => response.header("content-type", "application/json"),
    };
    response
        .body(Full::new(Bytes::from_static(answer.body.as_bytes())))
        .unwrap_or_else(|_| {
            // Only an invalid Location could fail here; never expected from the SDK.
            let mut fallback = Response::new(Full::new(Bytes::new()));
            *fallback.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            fallback
        })
}

/// Binds the local address.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind(addr).await?;
    info!(address = %listener.local_addr()?, "media link listening");
    Ok(listener)
}
