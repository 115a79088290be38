//! The Lambda Runtime API (2018-06-01) of one execution environment: what a function process
//! reaches at `AWS_LAMBDA_RUNTIME_API`. `GET /next` long-polls for the next invocation and gets
//! it with the `Lambda-Runtime-*` headers; `POST /{id}/response` and `/{id}/error` answer it
//! (202, or 400 `InvalidRequestID` for an id that is not the current one, 403
//! `InvalidStateTransition` for a second answer, 413 above 6 MiB + 100 B); `POST /init/error`
//! reports a failed init. One server per environment, so which process called is never in doubt.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

const PREFIX: &str = "/2018-06-01/runtime/";

/// Lambda's limit on a synchronous response (6 MiB + 100 bytes).
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024 + 100;

/// One invocation as the runtime receives it from `/next`.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub request_id: String,
    pub payload: Bytes,
    pub deadline_epoch_ms: u64,
    pub function_arn: String,
    pub trace_id: String,
}

/// How the runtime answered an invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Response(Bytes),
    /// `/error`: the body the runtime posted and its `Lambda-Runtime-Function-Error-Type`.
    Error {
        error_type: Option<String>,
        body: Bytes,
    },
    /// `/response` with a body over [`MAX_RESPONSE_BYTES`].
    TooLarge {
        bytes: usize,
    },
}

/// What the emulator hands the server: an invocation, and where its answer goes.
pub struct Pending {
    pub delivery: Delivery,
    pub answer: oneshot::Sender<Answer>,
}

struct Current {
    request_id: String,
    answer: Option<oneshot::Sender<Answer>>,
}

struct State {
    pending: tokio::sync::Mutex<mpsc::Receiver<Pending>>,
    current: Mutex<Option<Current>>,
    /// Set once the runtime first asks for work (its init is done).
    ready: watch::Sender<bool>,
    init_error: Mutex<Option<Bytes>>,
}

impl State {
    fn current(&self) -> MutexGuard<'_, Option<Current>> {
        // Nothing is left half-written under this lock, so a poisoned one is still consistent.
        self.current.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The server side of one environment's Runtime API.
pub struct RuntimeApi {
    pub addr: SocketAddr,
    pub invocations: mpsc::Sender<Pending>,
    pub ready: watch::Receiver<bool>,
    state: Arc<State>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RuntimeApi {
    pub async fn start() -> std::io::Result<RuntimeApi> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (invocations, receiver) = mpsc::channel(1);
        let (ready, ready_rx) = watch::channel(false);
        let state = Arc::new(State {
            pending: tokio::sync::Mutex::new(receiver),
            current: Mutex::new(None),
            ready,
            init_error: Mutex::new(None),
        });
        let server_state = Arc::clone(&state);
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = Arc::clone(&server_state);
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let state = Arc::clone(&state);
                        async move { Ok::<_, Infallible>(serve(&state, request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(RuntimeApi {
            addr,
            invocations,
            ready: ready_rx,
            state,
            server,
        })
    }

    /// The body of `/init/error`, once the runtime reported one.
    pub fn init_error(&self) -> Option<Bytes> {
        self.state
            .init_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

fn json(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

fn api_error(status: StatusCode, error_type: &str, message: &str) -> Response<Full<Bytes>> {
    json(
        status,
        serde_json::json!({ "errorType": error_type, "errorMessage": message }).to_string(),
    )
}

fn accepted() -> Response<Full<Bytes>> {
    json(StatusCode::ACCEPTED, r#"{"status":"OK"}"#.to_owned())
}

#[derive(Debug, PartialEq, Eq)]
enum Route<'a> {
    Next,
    Response(&'a str),
    Error(&'a str),
    InitError,
}

fn route<'a>(method: &Method, path: &'a str) -> Option<Route<'a>> {
    let rest = path.strip_prefix(PREFIX)?;
    match (method, rest) {
        (&Method::GET, "invocation/next") => Some(Route::Next),
        (&Method::POST, "init/error") => Some(Route::InitError),
        (&Method::POST, _) => {
            let (id, action) = rest.strip_prefix("invocation/")?.split_once('/')?;
            match action {
                _ if id.is_empty() => None,
                "response" => Some(Route::Response(id)),
                "error" => Some(Route::Error(id)),
                _ => None,
            }
        }
        _ => None,
    }
}

async fn serve(state: &State, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let Some(route) = route(request.method(), &path) else {
        return api_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "no such Runtime API route",
        );
    };
    match route {
        Route::Next => next(state).await,
        Route::InitError => {
            let body = read_body(request).await.unwrap_or_default();
            *state.init_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(body);
            accepted()
        }
        Route::Response(id) | Route::Error(id) => {
            let error_type = request
                .headers()
                .get("lambda-runtime-function-error-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let is_error = matches!(route, Route::Error(_));
            let body = read_body(request).await;
            let mut current = state.current();
            let Some(invocation) = current.as_mut().filter(|c| c.request_id == id) else {
                return api_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestID",
                    "Invalid request ID",
                );
            };
            let Some(sender) = invocation.answer.take() else {
                return api_error(
                    StatusCode::FORBIDDEN,
                    "InvalidStateTransition",
                    "State transition from Ready to InvocationResponse failed",
                );
            };
            let (answer, too_large) = match (is_error, body) {
                (true, Ok(body)) => (Answer::Error { error_type, body }, false),
                (false, Ok(body)) => (Answer::Response(body), false),
                (_, Err(bytes)) => (Answer::TooLarge { bytes }, true),
            };
            // The emulator may have given up on it (a timeout): then nobody listens any more.
            let _ = sender.send(answer);
            if too_large {
                return api_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "RequestEntityTooLarge",
                    "Response payload too large",
                );
            }
            accepted()
        }
    }
}

/// The body, or the size it reached past the limit.
async fn read_body(request: Request<Incoming>) -> Result<Bytes, usize> {
    match Limited::new(request.into_body(), MAX_RESPONSE_BYTES)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(_) => Err(MAX_RESPONSE_BYTES + 1),
    }
}

async fn next(state: &State) -> Response<Full<Bytes>> {
    state.ready.send_replace(true);
    let pending = {
        let mut receiver = state.pending.lock().await;
        receiver.recv().await
    };
    let Some(Pending { delivery, answer }) = pending else {
        // The environment is being shut down: the runtime is told to exit.
        return api_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Runtime.ExitError",
            "environment shut down",
        );
    };
    *state.current() = Some(Current {
        request_id: delivery.request_id.clone(),
        answer: Some(answer),
    });
    let mut response = Response::new(Full::new(delivery.payload));
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = http::HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", &delivery.request_id);
    set(
        "lambda-runtime-deadline-ms",
        &delivery.deadline_epoch_ms.to_string(),
    );
    set(
        "lambda-runtime-invoked-function-arn",
        &delivery.function_arn,
    );
    set("lambda-runtime-trace-id", &delivery.trace_id);
    set("content-type", "application/json");
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_the_runtime_apis() {
        let at = |m: Method, p: &'static str| route(&m, p);
        assert_eq!(
            at(Method::GET, "/2018-06-01/runtime/invocation/next"),
            Some(Route::Next)
        );
        assert_eq!(
            at(Method::POST, "/2018-06-01/runtime/invocation/abc/response"),
            Some(Route::Response("abc"))
        );
        assert_eq!(
            at(Method::POST, "/2018-06-01/runtime/invocation/abc/error"),
            Some(Route::Error("abc"))
        );
        assert_eq!(
            at(Method::POST, "/2018-06-01/runtime/init/error"),
            Some(Route::InitError)
        );
        assert_eq!(
            at(Method::POST, "/2018-06-01/runtime/invocation/next"),
            None
        );
        assert_eq!(
            at(Method::POST, "/2018-06-01/runtime/invocation//response"),
            None
        );
        assert_eq!(at(Method::GET, "/other"), None);
    }
}
