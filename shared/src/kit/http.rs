//! The HTTP shell: API Gateway HTTP API (payload v2) events, through `lambda_http`, to an
//! [`HttpHandler`] and its answer back. `lambda_http` has already base64-decoded the body when
//! API Gateway set `isBase64Encoded`, so a handler sees the exact bytes the caller sent (the
//! webhook verifies Sinch's signature over them).

use std::future::Future;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};

use super::{Error, Function, Http, Invocation, Shell};

/// A request as a handler sees it: nothing of API Gateway or Lambda.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: Method,
    /// The raw path, e.g. `/acme/sms/sinchconversation/main`.
    pub path: String,
    pub headers: HeaderMap,
    /// The exact bytes received (API Gateway's base64 decoded).
    pub body: Bytes,
}

/// A handler's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl HttpResponse {
    pub fn new(status: StatusCode, body: impl Into<String>) -> HttpResponse {
        HttpResponse {
            status,
            headers: HeaderMap::new(),
            body: body.into(),
        }
    }

    /// Adds a header. Names are the handler's own constants and values its own text; one that
    /// is not a valid header (a control character in a URL) is left out rather than answered
    /// as a 500, and logged.
    pub fn with_header(mut self, name: &'static str, value: &str) -> HttpResponse {
        match HeaderValue::from_str(value) {
            Ok(value) => {
                self.headers.append(HeaderName::from_static(name), value);
            }
            Err(_) => tracing::error!(
                header = name,
                "a response header value is not valid; left out"
            ),
        }
        self
    }
}

/// A function triggered by the HTTP API.
pub trait HttpHandler: Send + Sync {
    fn handle(
        &self,
        request: HttpRequest,
        invocation: &Invocation,
    ) -> impl Future<Output = HttpResponse> + Send;
}

/// A request without a Lambda context (a test that built one from an event's JSON) gets the
/// time the template gives an HTTP function: 10 s.
pub const NO_CONTEXT_BUDGET: Duration = Duration::from_secs(10);

/// `lambda_http`'s request as the handler's.
pub fn request_of(request: Request) -> HttpRequest {
    let (parts, body) = request.into_parts();
    let body = match body {
        Body::Text(text) => Bytes::from(text),
        Body::Binary(bytes) => Bytes::from(bytes),
        // Empty, and whatever a later `lambda_http` adds: its bytes, as the type exposes them.
        other => Bytes::copy_from_slice(other.as_ref()),
    };
    HttpRequest {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        headers: parts.headers,
        body,
    }
}

/// The handler's answer as `lambda_http`'s response.
pub fn response_of(answer: HttpResponse) -> Result<Response<Body>, http::Error> {
    let mut response = Response::builder().status(answer.status);
    if let Some(headers) = response.headers_mut() {
        *headers = answer.headers;
    }
    response.body(Body::Text(answer.body))
}

/// One request: its invocation (now, and the context's deadline less `margin`), the handler,
/// the answer.
pub async fn handle_request<H: HttpHandler>(
    handler: &H,
    request: Request,
    margin: Duration,
) -> Result<Response<Body>, Error> {
    let lambda_deadline = request.lambda_context_ref().map_or_else(
        || SystemTime::now() + NO_CONTEXT_BUDGET,
        |context| context.deadline(),
    );
    let invocation = Invocation::starting(lambda_deadline, margin);
    let answer = handler.handle(request_of(request), &invocation).await;
    Ok(response_of(answer)?)
}

impl<F: Function + HttpHandler> Shell<F> for Http {
    async fn serve(function: F) -> Result<(), Error> {
        let function = &function;
        let margin = function.deadline_margin();
        lambda_http::run(lambda_http::service_fn(move |request: Request| {
            handle_request(function, request, margin)
        }))
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use base64::Engine;
    use lambda_runtime::Context;

    use super::*;

    /// Remembers what it was given; answers a redirect with two headers.
    #[derive(Default)]
    struct Echo {
        seen: Mutex<Vec<(HttpRequest, Duration)>>,
    }

    impl HttpHandler for Echo {
        async fn handle(&self, request: HttpRequest, invocation: &Invocation) -> HttpResponse {
            self.seen
                .lock()
                .unwrap()
                .push((request, invocation.deadline.remaining()));
            HttpResponse::new(StatusCode::FOUND, "")
                .with_header("location", "https://example.com/x?a=1")
                .with_header("cache-control", "no-store")
        }
    }

    fn api_gateway_event(body: &[u8], base64: bool) -> String {
        let body = if base64 {
            base64::engine::general_purpose::STANDARD.encode(body)
        } else {
            String::from_utf8(body.to_vec()).unwrap()
        };
        serde_json::json!({
            "version": "2.0", "routeKey": "POST /{tenant}/x", "rawPath": "/acme/x",
            "rawQueryString": "", "headers": { "x-sinch-webhook-signature": "sig" },
            "requestContext": {
                "accountId": "1", "apiId": "api", "domainName": "api.example", "domainPrefix": "api",
                "http": { "method": "POST", "path": "/acme/x", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.1", "userAgent": "t" },
                "requestId": "r", "routeKey": "POST /{tenant}/x", "stage": "$default",
                "time": "21/Nov/2026:08:00:00 +0000", "timeEpoch": 1795248000000u64
            },
            "body": body, "isBase64Encoded": base64
        })
        .to_string()
    }

    #[tokio::test]
    async fn the_handler_gets_the_exact_bytes_method_path_and_headers() {
        let echo = Echo::default();
        let bytes = b"\xff\x00not utf-8 {\"a\":1}";
        for (body, base64) in [(&bytes[..], true), (&b"{\"plain\":true}"[..], false)] {
            let request = lambda_http::request::from_str(&api_gateway_event(body, base64)).unwrap();
            handle_request(&echo, request, Duration::from_millis(500))
                .await
                .unwrap();
            let (seen, _) = echo.seen.lock().unwrap().pop().unwrap();
            assert_eq!(&seen.body[..], body, "base64={base64}");
            assert_eq!(seen.method, Method::POST);
            assert_eq!(seen.path, "/acme/x");
            assert_eq!(seen.headers["x-sinch-webhook-signature"], "sig");
        }
    }

    #[tokio::test]
    async fn the_answer_keeps_its_status_headers_and_body() {
        let request = lambda_http::request::from_str(&api_gateway_event(b"{}", false)).unwrap();
        let response = handle_request(&Echo::default(), request, Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(response.headers()["location"], "https://example.com/x?a=1");
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(response.body(), &Body::Text(String::new()));
        let text = response_of(HttpResponse::new(StatusCode::OK, "{\"ok\":true}")).unwrap();
        assert_eq!(text.body(), &Body::Text("{\"ok\":true}".into()));
    }

    #[test]
    fn a_header_value_that_is_not_valid_is_left_out() {
        let response = HttpResponse::new(StatusCode::OK, "").with_header("location", "a\nb");
        assert!(response.headers.is_empty());
    }

    #[tokio::test]
    async fn the_invocation_runs_until_the_contexts_deadline_less_the_margin() {
        let echo = Echo::default();
        let mut context = Context::default();
        let lambda_deadline = SystemTime::now() + Duration::from_secs(5);
        context.deadline = lambda_deadline
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let request = lambda_http::request::from_str(&api_gateway_event(b"{}", false))
            .unwrap()
            .with_lambda_context(context);
        handle_request(&echo, request, Duration::from_secs(2))
            .await
            .unwrap();
        let (_, left) = echo.seen.lock().unwrap().pop().unwrap();
        assert!(
            left <= Duration::from_secs(3) && left > Duration::from_millis(2500),
            "{left:?}"
        );
        let request = lambda_http::request::from_str(&api_gateway_event(b"{}", false)).unwrap();
        handle_request(&echo, request, Duration::from_secs(2))
            .await
            .unwrap();
        let (_, left) = echo.seen.lock().unwrap().pop().unwrap();
        assert!(
            left <= NO_CONTEXT_BUDGET - Duration::from_secs(2)
                && left > NO_CONTEXT_BUDGET - Duration::from_secs(3),
            "without a context: {left:?}"
        );
    }
}
