//! The HTTP/1.1 server: reads a request, records it (unless it is for `/_simulator/`), applies
//! the first matching fault, and hands it to the API or the control endpoints.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::reply::Reply;
use crate::state::Recorded;
use crate::{Simulator, api, control};

/// Larger bodies are refused with 413; Sinch's own limits are far below.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

pub async fn serve(
    simulator: Arc<Simulator>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => return Ok(()),
        };
        let simulator = Arc::clone(&simulator);
        tokio::spawn(async move {
            let service = service_fn(move |request| answer(Arc::clone(&simulator), request));
            if let Err(err) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %err, "connection ended with an error");
            }
        });
    }
}

async fn answer(
    simulator: Arc<Simulator>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let (parts, body) = request.into_parts();
    let reply = match read_at_most(body, MAX_BODY_BYTES + 1).await {
        None => Reply::sinch_error(400, "incomplete body"),
        Some(body) if body.len() > MAX_BODY_BYTES => Reply::sinch_error(413, "request too large"),
        Some(body) => route(&simulator, &parts, &body).await,
    };
    let mut response = Response::new(Full::new(reply.body));
    *response.status_mut() = reply.status;
    if let Ok(value) = http::HeaderValue::from_str(&reply.content_type) {
        response
            .headers_mut()
            .insert(http::header::CONTENT_TYPE, value);
    }
    for (name, value) in reply.headers {
        response.headers_mut().append(name, value);
    }
    Ok(response)
}

async fn route(simulator: &Arc<Simulator>, parts: &http::request::Parts, body: &Bytes) -> Reply {
    let path = parts.uri.path();
    if path.starts_with("/_simulator/") {
        return control::handle(simulator, &parts.method, path, body).await;
    }
    simulator.state.record(record(parts, body));
    if let Some(fault) = simulator.state.take_fault(path) {
        if fault.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
        }
        if let Some(status) = fault.status {
            tracing::info!(status, path, "answering with an injected fault");
            let message = fault
                .message
                .clone()
                .unwrap_or_else(|| default_message(status));
            let reply = Reply::sinch_error(status, &message);
            return if status == 401 && fault.expired {
                reply.with_header(
                    http::header::WWW_AUTHENTICATE,
                    "Bearer error=\"invalid_token\", error_description=\"The access token expired\"",
                )
            } else {
                reply
            };
        }
    }
    api::handle(simulator, &parts.method, path, &parts.headers, body).await
}

fn default_message(status: u16) -> String {
    match status {
        429 => "Too many requests (simulated)".into(),
        400 => "Invalid argument (simulated)".into(),
        _ => format!(
            "{} (simulated)",
            StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("error")
        ),
    }
}

fn record(parts: &http::request::Parts, body: &Bytes) -> Recorded {
    let mut headers = serde_json::Map::new();
    for name in parts.headers.keys() {
        let values: Vec<String> = parts
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        headers.insert(name.as_str().to_owned(), values.join(", ").into());
    }
    Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers,
        body: String::from_utf8_lossy(body).into_owned(),
    }
}

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
