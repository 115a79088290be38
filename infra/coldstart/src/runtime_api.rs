//! A stand-in of the AWS Lambda Runtime API
//! (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>), just enough for one
//! invocation per child process: `GET invocation/next` hands out the armed event once, and
//! any later `next` is held open, as Lambda does while there is no work, until the harness
//! moves on. Every call is reported to the harness with the instant it arrived.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

const PREFIX: &str = "/2018-06-01/runtime/";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    Next,
    Response(&'a str),
    InvocationError(&'a str),
    InitError,
    /// A known path with the wrong method.
    WrongMethod,
    NotFound,
}

/// Pure routing of the Runtime API paths; `path` excludes the query string.
pub fn route<'a>(method: &str, path: &'a str) -> Route<'a> {
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return Route::NotFound;
    };
    let (route, wanted) = match rest {
        "invocation/next" => (Route::Next, "GET"),
        "init/error" => (Route::InitError, "POST"),
        _ => {
            let Some((id, action)) = rest
                .strip_prefix("invocation/")
                .and_then(|inv| inv.split_once('/'))
            else {
                return Route::NotFound;
            };
            if id.is_empty() {
                return Route::NotFound;
            }
            match action {
                "response" => (Route::Response(id), "POST"),
                "error" => (Route::InvocationError(id), "POST"),
                _ => return Route::NotFound,
            }
        }
    };
    if method == wanted {
        route
    } else {
        Route::WrongMethod
    }
}

/// The one event a child gets, with the values of the `Lambda-Runtime-*` headers.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub event: Bytes,
    pub deadline_epoch_ms: u64,
    pub function_arn: String,
    pub trace_id: String,
}

#[derive(Debug)]
pub enum Observation {
    /// `at` is when the request head had been read.
    Next { at: Instant },
    /// `at` is when the whole response body had been read.
    Response {
        at: Instant,
        request_id: String,
        body: Bytes,
    },
    InvocationError {
        at: Instant,
        request_id: String,
        error_type: Option<String>,
        body: Bytes,
    },
    InitError {
        at: Instant,
        error_type: Option<String>,
        body: Bytes,
    },
    Unexpected {
        at: Instant,
        method: String,
        path: String,
    },
}

struct Slot {
    /// Bumped for every run so calls from an earlier, already killed child are ignored.
    generation: u64,
    pending: Option<Invocation>,
}

struct Shared {
    slot: Mutex<Slot>,
    /// Releases `next` calls parked under an older generation.
    generation_changed: watch::Sender<u64>,
    observations: mpsc::UnboundedSender<(u64, Observation)>,
}

impl Shared {
    fn slot(&self) -> MutexGuard<'_, Slot> {
        // A panic while holding this lock cannot leave the slot half-updated.
        self.slot
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn observe(&self, generation: u64, observation: Observation) {
        // The receiver only goes away when the harness is shutting down.
        let _ = self.observations.send((generation, observation));
    }
}

pub struct RuntimeApi {
    shared: Arc<Shared>,
    observations: mpsc::UnboundedReceiver<(u64, Observation)>,
    addr: SocketAddr,
    generation: u64,
}

impl RuntimeApi {
    /// Listens on a free port of 127.0.0.1 and serves until dropped with the runtime.
    pub async fn start() -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            slot: Mutex::new(Slot {
                generation: 0,
                pending: None,
            }),
            generation_changed: watch::Sender::new(0),
            observations: tx,
        });
        tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        Ok(Self {
            shared,
            observations: rx,
            addr,
            generation: 0,
        })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Starts a new run whose first `next` gets `invocation`.
    pub fn arm(&mut self, invocation: Invocation) {
        self.bump(Some(invocation));
    }

    /// Ends the run: parked calls are released and late calls ignored.
    pub fn disarm(&mut self) {
        self.bump(None);
    }

    fn bump(&mut self, pending: Option<Invocation>) {
        let generation = {
            let mut slot = self.shared.slot();
            slot.generation += 1;
            slot.pending = pending;
            slot.generation
        };
        self.generation = generation;
        self.shared.generation_changed.send_replace(generation);
    }

    /// The next call of the current run. Cancel-safe (for `select!`).
    pub async fn next_observation(&mut self) -> Option<Observation> {
        loop {
            let (generation, observation) = self.observations.recv().await?;
            if generation == self.generation {
                return Some(observation);
            }
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                // The runtime client writes small requests; don't let Nagle delay them.
                let _ = stream.set_nodelay(true);
                let shared = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(Arc::clone(&shared), req));
                    // Errors here are children being killed mid-connection: expected.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Err(e) => {
                // Typically EMFILE; back off instead of spinning, the run will time out loudly.
                eprintln!("coldstart: runtime API accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

type Reply = Response<Full<Bytes>>;

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Reply, Infallible> {
    let at = Instant::now();
    let generation = shared.slot().generation;
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let error_type = req
        .headers()
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    let reply = match route(&method, &path) {
        Route::Next => next(&shared, generation, at).await,
        Route::Response(id) => match read_body(req).await {
            Ok(body) => {
                let observation = Observation::Response {
                    at: Instant::now(),
                    request_id: id.to_owned(),
                    body,
                };
                shared.observe(generation, observation);
                accepted()
            }
            Err(reply) => reply,
        },
        Route::InvocationError(id) => match read_body(req).await {
            Ok(body) => {
                let observation = Observation::InvocationError {
                    at: Instant::now(),
                    request_id: id.to_owned(),
                    error_type,
                    body,
                };
                shared.observe(generation, observation);
                accepted()
            }
            Err(reply) => reply,
        },
        Route::InitError => match read_body(req).await {
            Ok(body) => {
                let observation = Observation::InitError {
                    at: Instant::now(),
                    error_type,
                    body,
                };
                shared.observe(generation, observation);
                accepted()
            }
            Err(reply) => reply,
        },
        unknown @ (Route::WrongMethod | Route::NotFound) => {
            let status = if unknown == Route::WrongMethod {
                StatusCode::METHOD_NOT_ALLOWED
            } else {
                StatusCode::NOT_FOUND
            };
            shared.observe(generation, Observation::Unexpected { at, method, path });
            reply(
                status,
                "{\"errorMessage\":\"not part of the stand-in Runtime API\"}",
            )
        }
    };
    Ok(reply)
}

async fn next(shared: &Shared, generation: u64, at: Instant) -> Reply {
    let pending = {
        let mut slot = shared.slot();
        if slot.generation == generation {
            slot.pending.take()
        } else {
            None
        }
    };
    shared.observe(generation, Observation::Next { at });
    if let Some(invocation) = pending {
        return invocation_reply(invocation);
    }
    // No more work for this child: hold the call like Lambda does until the run is over.
    let mut changed = shared.generation_changed.subscribe();
    let _ = changed.wait_for(|current| *current != generation).await;
    reply(
        StatusCode::GONE,
        "{\"errorMessage\":\"run over, no more events\"}",
    )
}

fn invocation_reply(invocation: Invocation) -> Reply {
    let built = Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", &invocation.request_id)
        .header(
            "lambda-runtime-deadline-ms",
            invocation.deadline_epoch_ms.to_string(),
        )
        .header(
            "lambda-runtime-invoked-function-arn",
            &invocation.function_arn,
        )
        .header("lambda-runtime-trace-id", &invocation.trace_id)
        .body(Full::new(invocation.event));
    built.unwrap_or_else(|e| {
        // Only reachable with a header value that is not visible ASCII; the harness builds
        // them from sanitized names, so this is a bug worth shouting about.
        eprintln!("coldstart: cannot build the invocation response: {e}");
        reply(StatusCode::INTERNAL_SERVER_ERROR, "{}")
    })
}

async fn read_body(req: Request<Incoming>) -> Result<Bytes, Reply> {
    match req.into_body().collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(_) => Err(reply(StatusCode::BAD_REQUEST, "{}")),
    }
}

fn accepted() -> Reply {
    reply(StatusCode::ACCEPTED, "{\"status\":\"OK\"}")
}

fn reply(status: StatusCode, body: &'static str) -> Reply {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_the_runtime_api() {
        let p = "/2018-06-01/runtime";
        assert_eq!(route("GET", &format!("{p}/invocation/next")), Route::Next);
        assert_eq!(
            route(
                "POST",
                &format!("{p}/invocation/8476a536-e9f4-11e8/response")
            ),
            Route::Response("8476a536-e9f4-11e8")
        );
        assert_eq!(
            route("POST", &format!("{p}/invocation/abc/error")),
            Route::InvocationError("abc")
        );
        assert_eq!(route("POST", &format!("{p}/init/error")), Route::InitError);
    }

    #[test]
    fn wrong_methods_are_told_apart_from_unknown_paths() {
        let p = "/2018-06-01/runtime";
        assert_eq!(
            route("POST", &format!("{p}/invocation/next")),
            Route::WrongMethod
        );
        assert_eq!(
            route("GET", &format!("{p}/invocation/abc/response")),
            Route::WrongMethod
        );
        assert_eq!(route("GET", &format!("{p}/init/error")), Route::WrongMethod);
    }

    #[test]
    fn rejects_near_misses() {
        let p = "/2018-06-01/runtime";
        for path in [
            "/2018-06-01/runtime/invocation/next/".to_owned(),
            format!("{p}/invocation//response"),
            format!("{p}/invocation/abc/response/extra"),
            format!("{p}/invocation/abc/result"),
            format!("{p}/invocation/abc"),
            "/2020-01-01/extension/register".to_owned(),
            "/2018-06-01/runtime".to_owned(),
            "/".to_owned(),
        ] {
            assert_eq!(route("POST", &path), Route::NotFound, "{path}");
            assert_eq!(route("GET", &path), Route::NotFound, "{path}");
        }
    }
}
