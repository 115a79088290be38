//! API Gateway HTTP API in front of the functions: the template's `HttpApi` routes, each request
//! turned into a payload format 2.0 event, the function invoked synchronously, and its answer
//! turned into the HTTP response as API Gateway turns it (see `docs/lambda-emulator.md`).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value, json};
use switchboard_local_stack::template::{EventSource, Template};
use tokio::net::TcpListener;

use crate::environment::Outcome;
use crate::function::Function;

/// API Gateway's integration timeout: the caller gets 503 while the function goes on.
pub const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(30);
/// Lambda's limit on a synchronous invocation's request (6 MB).
pub const MAX_EVENT_BYTES: usize = 6 * 1024 * 1024;
/// HTTP API's payload limit (10 MB).
pub const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;

/// One route: a method (`None`: any) and a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub function: String,
    pub method: Option<Method>,
    /// Segments of the path template: literals, `{name}` (one segment) or `{name+}` (the rest).
    segments: Vec<String>,
}

fn is_variable(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

fn is_greedy(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with("+}")
}

impl Route {
    /// `"POST /{tenant}/media/{token}"`, as `routeKey` names it.
    pub fn key(&self) -> String {
        let method = self.method.as_ref().map_or("ANY", Method::as_str);
        format!("{method} /{}", self.segments.join("/"))
    }

    /// The path parameters when `path` matches, `None` otherwise.
    pub fn matches(&self, method: &Method, path: &str) -> Option<BTreeMap<String, String>> {
        if self.method.as_ref().is_some_and(|m| m != method) {
            return None;
        }
        let actual: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        let mut parameters = BTreeMap::new();
        for (at, pattern) in self.segments.iter().enumerate() {
            let name = pattern.trim_start_matches('{').trim_end_matches('}');
            if is_greedy(pattern) {
                let rest = actual.get(at..).unwrap_or_default().join("/");
                if rest.is_empty() {
                    return None;
                }
                parameters.insert(name.trim_end_matches('+').to_owned(), decode(&rest));
                return Some(parameters);
            }
            let segment = actual.get(at)?;
            if is_variable(pattern) {
                if segment.is_empty() {
                    return None;
                }
                parameters.insert(name.to_owned(), decode(segment));
            } else if pattern != segment {
                return None;
            }
        }
        (actual.len() == self.segments.len()).then_some(parameters)
    }

    /// API Gateway's priority: routes without a greedy variable first, then those with more
    /// literal segments; a route for one method before `ANY`.
    fn priority(&self) -> (bool, std::cmp::Reverse<usize>, bool) {
        (
            self.segments.iter().any(|s| is_greedy(s)),
            std::cmp::Reverse(self.segments.iter().filter(|s| !is_variable(s)).count()),
            self.method.is_none(),
        )
    }
}

fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Routes(Vec<Route>);

impl Routes {
    /// Every `HttpApi` route of the template's functions that are in `functions`.
    pub fn from_template(
        template: &Template,
        functions: &BTreeMap<String, Arc<Function>>,
    ) -> Result<Routes, String> {
        let mut routes = Vec::new();
        for (id, function) in &template.functions {
            if !functions.contains_key(id) {
                continue;
            }
            for event in &function.events {
                let EventSource::Http { method, path, .. } = &event.source else {
                    continue;
                };
                let method = match method.as_deref().map(str::to_ascii_uppercase) {
                    None => None,
                    Some(any) if any == "ANY" || any == "X-AMAZON-APIGATEWAY-ANY-METHOD" => None,
                    Some(name) => Some(
                        Method::from_bytes(name.as_bytes())
                            .map_err(|_| format!("{id}: method {name:?} is not an HTTP method"))?,
                    ),
                };
                let path = path.as_deref().unwrap_or("/{proxy+}");
                let segments = path
                    .strip_prefix('/')
                    .ok_or_else(|| format!("{id}: path {path:?} does not start with '/'"))?
                    .split('/')
                    .map(str::to_owned)
                    .collect();
                routes.push(Route {
                    function: id.clone(),
                    method,
                    segments,
                });
            }
        }
        routes.sort_by_key(Route::priority);
        Ok(Routes(routes))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.0.iter()
    }

    pub fn find(&self, method: &Method, path: &str) -> Option<(&Route, BTreeMap<String, String>)> {
        self.0
            .iter()
            .find_map(|route| route.matches(method, path).map(|p| (route, p)))
    }
}

/// What AWS leaves undocumented about payload format 2.0, as settings; the defaults are what
/// third parties observed (docs/lambda-emulator.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unconfirmed {
    /// Empty `cookies`, `queryStringParameters`, `pathParameters` and `body` sent as `null`
    /// instead of left out.
    pub empty_parts_as_null: bool,
    /// A bare JSON string answer (`"Hello"`) sent with its quotes instead of as its content.
    pub keep_json_string_quotes: bool,
}

/// What API Gateway knows of a request besides its route.
pub struct RequestFacts<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub raw_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub source_ip: String,
    pub account: &'a str,
    pub api_id: &'a str,
    pub request_id: &'a str,
    pub now: chrono::DateTime<chrono::Utc>,
    pub unconfirmed: Unconfirmed,
}

/// Whether API Gateway passes a body as text: observed for `text/*`, JSON, XML and JavaScript;
/// everything else (a missing type too) is base64.
pub fn is_text(content_type: Option<&str>) -> bool {
    let Some(content_type) = content_type else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || matches!(
            essence.as_str(),
            "application/json" | "application/xml" | "application/javascript"
        )
}

/// The payload format 2.0 event for a request on `route`.
pub fn event(
    route: &Route,
    parameters: &BTreeMap<String, String>,
    request: &RequestFacts,
) -> Value {
    // Header names lower-cased; repeated headers comma-joined; cookies apart.
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    let mut cookies: Vec<String> = Vec::new();
    for (name, value) in request.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == http::header::COOKIE {
            cookies.extend(
                value
                    .split(';')
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty()),
            );
            continue;
        }
        headers
            .entry(name.as_str().to_owned())
            .and_modify(|joined| {
                joined.push(',');
                joined.push_str(&value);
            })
            .or_insert(value);
    }
    let mut query: BTreeMap<String, String> = BTreeMap::new();
    for pair in request.raw_query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (name, value) = (decode_query(name), decode_query(value));
        query
            .entry(name)
            .and_modify(|joined| {
                joined.push(',');
                joined.push_str(&value);
            })
            .or_insert(value);
    }
    let content_type = request
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let text = is_text(content_type) && std::str::from_utf8(request.body).is_ok();
    let user_agent = headers.get("user-agent").cloned().unwrap_or_default();
    let host = headers.get("host").cloned().unwrap_or_default();
    let mut event = Map::new();
    event.insert("version".into(), json!("2.0"));
    event.insert("routeKey".into(), json!(route.key()));
    event.insert("rawPath".into(), json!(request.path));
    event.insert("rawQueryString".into(), json!(request.raw_query));
    let null_if_empty = request.unconfirmed.empty_parts_as_null;
    if !cookies.is_empty() {
        event.insert("cookies".into(), json!(cookies));
    } else if null_if_empty {
        event.insert("cookies".into(), Value::Null);
    }
    event.insert("headers".into(), json!(headers));
    if !query.is_empty() {
        event.insert("queryStringParameters".into(), json!(query));
    } else if null_if_empty {
        event.insert("queryStringParameters".into(), Value::Null);
    }
    event.insert(
        "requestContext".into(),
        json!({
            "accountId": request.account,
            "apiId": request.api_id,
            "domainName": host,
            "domainPrefix": host.split('.').next().unwrap_or_default(),
            "http": {
                "method": request.method.as_str(),
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": user_agent,
            },
            "requestId": request.request_id,
            "routeKey": route.key(),
            "stage": "$default",
            "time": request.now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "timeEpoch": request.now.timestamp_millis(),
        }),
    );
    if !parameters.is_empty() {
        event.insert("pathParameters".into(), json!(parameters));
    } else if null_if_empty {
        event.insert("pathParameters".into(), Value::Null);
    }
    if !request.body.is_empty() {
        let body = match text {
            true => String::from_utf8_lossy(request.body).into_owned(),
            false => BASE64.encode(request.body),
        };
        event.insert("body".into(), json!(body));
    } else if null_if_empty {
        event.insert("body".into(), Value::Null);
    }
    event.insert(
        "isBase64Encoded".into(),
        json!(!text && !request.body.is_empty()),
    );
    Value::Object(event)
}

fn decode_query(text: &str) -> String {
    decode(&text.replace('+', " "))
}

/// An answer ready to send: status, headers (repeatable), body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Answer {
    fn message(status: StatusCode, message: &str) -> Answer {
        Answer {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Bytes::from(json!({ "message": message }).to_string()),
        }
    }

    pub fn internal_error() -> Answer {
        Answer::message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    }

    pub fn not_found() -> Answer {
        Answer::message(StatusCode::NOT_FOUND, "Not Found")
    }

    pub fn service_unavailable() -> Answer {
        Answer::message(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
    }

    pub fn too_large() -> Answer {
        Answer::message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large")
    }
}

/// How API Gateway turns the function's output into the response (payload format 2.0).
pub fn shape(output: &[u8], unconfirmed: Unconfirmed) -> Result<Answer, String> {
    let value: Value = serde_json::from_slice(output).map_err(|err| format!("not JSON: {err}"))?;
    let Some(object) = value.as_object().filter(|o| o.contains_key("statusCode")) else {
        // Valid JSON without a statusCode: 200, the output as a JSON body (a string's content).
        let body = match &value {
            Value::String(text) if !unconfirmed.keep_json_string_quotes => text.clone(),
            other => other.to_string(),
        };
        return Ok(Answer {
            status: StatusCode::OK,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Bytes::from(body),
        });
    };
    let status = object["statusCode"]
        .as_u64()
        .and_then(|code| u16::try_from(code).ok())
        .and_then(|code| StatusCode::from_u16(code).ok())
        .ok_or_else(|| format!("statusCode {} is not an HTTP status", object["statusCode"]))?;
    let mut headers = Vec::new();
    match object.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (name, value) in map {
                let value = match value {
                    Value::String(text) => text.clone(),
                    Value::Number(_) | Value::Bool(_) => value.to_string(),
                    other => return Err(format!("header {name} is {other}")),
                };
                headers.push((name.to_ascii_lowercase(), value));
            }
        }
        Some(other) => return Err(format!("headers is {other}")),
    }
    match object.get("cookies") {
        None | Some(Value::Null) => {}
        Some(Value::Array(cookies)) => {
            for cookie in cookies {
                let cookie = cookie.as_str().ok_or("a cookie is not a string")?;
                headers.push(("set-cookie".into(), cookie.to_owned()));
            }
        }
        Some(other) => return Err(format!("cookies is {other}")),
    }
    let base64 = match object.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(flag)) => *flag,
        Some(other) => return Err(format!("isBase64Encoded is {other}")),
    };
    let body = match object.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(text)) if base64 => Bytes::from(
            BASE64
                .decode(text)
                .map_err(|err| format!("body is not base64: {err}"))?,
        ),
        Some(Value::String(text)) => Bytes::from(text.clone()),
        Some(other) => return Err(format!("body is {other}")),
    };
    for (name, value) in &headers {
        if http::HeaderName::from_bytes(name.as_bytes()).is_err()
            || HeaderValue::from_str(value).is_err()
        {
            return Err(format!("header {name} cannot be sent"));
        }
    }
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// The answer for an invocation's outcome.
pub fn answer_for(function: &str, outcome: &Outcome, unconfirmed: Unconfirmed) -> Answer {
    match outcome {
        Outcome::Response(output) => shape(output, unconfirmed).unwrap_or_else(|reason| {
            // Only in $context.integrationErrorMessage on AWS; here in the log.
            tracing::warn!(%function, %reason, "malformed Lambda proxy response");
            Answer::internal_error()
        }),
        Outcome::Failed { error_type, .. } => {
            tracing::warn!(%function, %error_type, "the function failed");
            Answer::internal_error()
        }
    }
}

/// The HTTP API: serves `routes` on `listener` until `shutdown`.
pub async fn serve(
    routes: Routes,
    functions: BTreeMap<String, Arc<Function>>,
    account: String,
    unconfirmed: Unconfirmed,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let shared = Arc::new((routes, functions, account, unconfirmed));
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => continue,
            },
            () = &mut shutdown => return,
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let shared = Arc::clone(&shared);
                async move {
                    let (routes, functions, account, unconfirmed) = &*shared;
                    let answer =
                        handle(routes, functions, account, *unconfirmed, peer, request).await;
                    Ok::<_, Infallible>(into_response(answer))
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn into_response(answer: Answer) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(answer.body));
    *response.status_mut() = answer.status;
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

async fn handle(
    routes: &Routes,
    functions: &BTreeMap<String, Arc<Function>>,
    account: &str,
    unconfirmed: Unconfirmed,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Answer {
    let (parts, body) = request.into_parts();
    let Some((route, parameters)) = routes.find(&parts.method, parts.uri.path()) else {
        return Answer::not_found();
    };
    let Some(function) = functions.get(&route.function).cloned() else {
        return Answer::internal_error();
    };
    let body = match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Answer::too_large(),
    };
    let request_id = uuid::Uuid::new_v4().to_string();
    let facts = RequestFacts {
        method: &parts.method,
        path: parts.uri.path(),
        raw_query: parts.uri.query().unwrap_or_default(),
        headers: &parts.headers,
        body: &body,
        source_ip: peer.ip().to_string(),
        account,
        api_id: "local",
        request_id: &request_id,
        now: chrono::Utc::now(),
        unconfirmed,
    };
    let payload = Bytes::from(event(route, &parameters, &facts).to_string());
    if payload.len() > MAX_EVENT_BYTES {
        return Answer::too_large();
    }
    let Some(slot) = function.try_slot() else {
        tracing::warn!(function = %function.name(), "throttled: every concurrent execution is busy");
        return Answer::message(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
    };
    let name = route.function.clone();
    // The invocation runs on past the integration timeout, as in AWS; the caller does not wait.
    let invocation = tokio::spawn(async move { function.invoke(&slot, payload).await });
    match tokio::time::timeout(INTEGRATION_TIMEOUT, invocation).await {
        Ok(Ok(outcome)) => answer_for(&name, &outcome, unconfirmed),
        Ok(Err(_)) => Answer::internal_error(),
        Err(_) => Answer::service_unavailable(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: Option<&str>, path: &str) -> Route {
        Route {
            function: "F".into(),
            method: method.map(|m| Method::from_bytes(m.as_bytes()).unwrap()),
            segments: path[1..].split('/').map(str::to_owned).collect(),
        }
    }

    #[test]
    fn a_route_yields_its_path_parameters_decoded() {
        let r = route(Some("POST"), "/{tenant}/sms/sinchconversation/{service}");
        let p = r
            .matches(&Method::POST, "/acme/sms/sinchconversation/ma%20in")
            .unwrap();
        assert_eq!(p["tenant"], "acme");
        assert_eq!(p["service"], "ma in");
        assert!(
            r.matches(&Method::GET, "/acme/sms/sinchconversation/main")
                .is_none()
        );
        assert!(
            r.matches(&Method::POST, "/acme/sms/sinchconversation")
                .is_none()
        );
        assert!(
            r.matches(&Method::POST, "/acme/sms/sinchconversation/main/x")
                .is_none()
        );
        assert!(
            r.matches(&Method::POST, "//sms/sinchconversation/main")
                .is_none()
        );
        let greedy = route(None, "/files/{proxy+}");
        assert_eq!(
            greedy.matches(&Method::GET, "/files/a/b").unwrap()["proxy"],
            "a/b"
        );
        assert!(greedy.matches(&Method::GET, "/files/").is_none());
    }

    #[test]
    fn an_exact_route_wins_over_a_greedy_one() {
        let mut routes = vec![route(None, "/{proxy+}"), route(Some("GET"), "/a/{b}")];
        routes.sort_by_key(Route::priority);
        let routes = Routes(routes);
        assert_eq!(
            routes.find(&Method::GET, "/a/x").unwrap().0.key(),
            "GET /a/{b}"
        );
        assert_eq!(
            routes.find(&Method::POST, "/a/x").unwrap().0.key(),
            "ANY /{proxy+}"
        );
    }

    fn facts<'a>(headers: &'a HeaderMap, body: &'a [u8], query: &'a str) -> RequestFacts<'a> {
        RequestFacts {
            method: &Method::POST,
            path: "/acme/media/t%2Bk",
            raw_query: query,
            headers,
            body,
            source_ip: "127.0.0.1".into(),
            account: "123456789012",
            api_id: "local",
            request_id: "r-1",
            now: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            unconfirmed: Unconfirmed::default(),
        }
    }

    #[test]
    fn the_event_is_payload_format_2_0() {
        let mut headers = HeaderMap::new();
        headers.insert("Content-Type", HeaderValue::from_static("application/json"));
        headers.append("X-Multi", HeaderValue::from_static("a"));
        headers.append("X-Multi", HeaderValue::from_static("b"));
        headers.insert("Cookie", HeaderValue::from_static("s=1; t=2"));
        let r = route(Some("POST"), "/{tenant}/media/{token}");
        let params = r.matches(&Method::POST, "/acme/media/t%2Bk").unwrap();
        let event = event(
            &r,
            &params,
            &facts(&headers, br#"{"a":1}"#, "p=1&p=2&q=a+b"),
        );
        assert_eq!(event["version"], "2.0");
        assert_eq!(event["routeKey"], "POST /{tenant}/media/{token}");
        assert_eq!(event["rawPath"], "/acme/media/t%2Bk");
        assert_eq!(event["rawQueryString"], "p=1&p=2&q=a+b");
        assert_eq!(event["queryStringParameters"]["p"], "1,2");
        assert_eq!(event["queryStringParameters"]["q"], "a b");
        assert_eq!(event["pathParameters"]["token"], "t+k");
        assert_eq!(event["headers"]["x-multi"], "a,b");
        assert_eq!(event["headers"]["content-type"], "application/json");
        assert!(event["headers"].get("cookie").is_none());
        assert_eq!(event["cookies"], json!(["s=1", "t=2"]));
        assert_eq!(event["body"], r#"{"a":1}"#);
        assert_eq!(event["isBase64Encoded"], false);
        assert_eq!(event["requestContext"]["http"]["method"], "POST");
        assert_eq!(event["requestContext"]["stage"], "$default");
        assert_eq!(event["requestContext"]["timeEpoch"], 1_700_000_000_000i64);
        assert_eq!(
            event["requestContext"]["time"],
            "14/Nov/2023:22:13:20 +0000"
        );
    }

    #[test]
    fn a_body_that_is_not_text_is_base64_and_empty_parts_are_left_out() {
        let headers = HeaderMap::new();
        let r = route(Some("POST"), "/x");
        let event = event(&r, &BTreeMap::new(), &facts(&headers, b"{}", ""));
        assert_eq!(event["isBase64Encoded"], true, "no content type: binary");
        assert_eq!(event["body"], BASE64.encode(b"{}"));
        for absent in ["cookies", "queryStringParameters", "pathParameters"] {
            assert!(event.get(absent).is_none(), "{absent}");
        }
        let empty = super::event(&r, &BTreeMap::new(), &facts(&headers, b"", ""));
        assert!(empty.get("body").is_none());
        assert_eq!(empty["isBase64Encoded"], false);
        assert!(is_text(Some("text/plain; charset=utf-8")));
        assert!(is_text(Some("Application/JSON")));
        assert!(!is_text(Some("application/x-www-form-urlencoded")));
        assert!(!is_text(Some("application/octet-stream")));
    }

    #[test]
    fn a_proxy_response_becomes_the_http_response() {
        let answer = shape(
            br#"{"statusCode":302,"headers":{"Location":"https://x/y","Cache-Control":"no-store"},
                 "cookies":["a=1","b=2"],"body":"aGk=","isBase64Encoded":true}"#,
            Unconfirmed::default(),
        )
        .unwrap();
        assert_eq!(answer.status, StatusCode::FOUND);
        assert!(
            answer
                .headers
                .contains(&("location".into(), "https://x/y".into()))
        );
        assert_eq!(
            answer
                .headers
                .iter()
                .filter(|(n, _)| n == "set-cookie")
                .count(),
            2
        );
        assert_eq!(answer.body, Bytes::from_static(b"hi"));
    }

    #[test]
    fn json_without_a_status_code_is_a_200_json_body() {
        let answer = shape(br#"{"ok":true}"#, Unconfirmed::default()).unwrap();
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.body, Bytes::from_static(br#"{"ok":true}"#));
        assert_eq!(
            shape(br#""Hello""#, Unconfirmed::default()).unwrap().body,
            Bytes::from_static(b"Hello")
        );
    }

    #[test]
    fn a_malformed_answer_is_a_500() {
        for bad in [
            &b"not json"[..],
            br#"{"statusCode":"200"}"#,
            br#"{"statusCode":99}"#,
            br#"{"statusCode":200,"body":"%%%","isBase64Encoded":true}"#,
            br#"{"statusCode":200,"headers":[1]}"#,
            br#"{"statusCode":200,"body":{"a":1}}"#,
        ] {
            assert!(
                shape(bad, Unconfirmed::default()).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
            let answer = answer_for(
                "F",
                &Outcome::Response(Bytes::copy_from_slice(bad)),
                Unconfirmed::default(),
            );
            assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(
                answer.body,
                Bytes::from_static(br#"{"message":"Internal Server Error"}"#)
            );
        }
        let failed = answer_for(
            "F",
            &Outcome::failed("Sandbox.Timedout", "x".into()),
            Unconfirmed::default(),
        );
        assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn the_undocumented_choices_are_settings() {
        let quoted = Unconfirmed {
            keep_json_string_quotes: true,
            ..Unconfirmed::default()
        };
        assert_eq!(
            shape(br#""Hello""#, quoted).unwrap().body,
            Bytes::from_static(br#""Hello""#)
        );
        let headers = HeaderMap::new();
        let mut request = facts(&headers, b"", "");
        request.unconfirmed.empty_parts_as_null = true;
        let event = event(&route(Some("POST"), "/x"), &BTreeMap::new(), &request);
        for part in ["cookies", "queryStringParameters", "pathParameters", "body"] {
            assert_eq!(event.get(part), Some(&Value::Null), "{part}");
        }
    }
}
