//! `switchboard-admin gateway`: the local stand-in for API Gateway in `make dev`. One address
//! (127.0.0.1:$SWITCHBOARD_HTTP_PORT) serves every HTTP route of the template, each forwarded to
//! its function's local server, so every path is the deployed one: the webhook at
//! `/{tenant}/sms/sinchconversation/{service}`, agents' media links at `/{tenant}/media/{token}`.
//!
//! Routes come from the template's `HttpApi` events (method and path), never from a list here.
//! Requests are passed on as they are (method, path, query, headers, body streamed) and answers
//! come back as they are (status, headers such as a 302's `Location`, body streamed). Like API
//! Gateway, a request no route matches (another path, or another method) gets
//! 404 `{"message":"Not Found"}`.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use switchboard_local_stack::template::{EventSource, Template};
use tokio::net::{TcpListener, TcpStream};

type Body = BoxBody<Bytes, hyper::Error>;

/// One route of the HTTP API: a method (`None`: any) and a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub function: String,
    pub method: Option<Method>,
    /// Segments of the path template: literals, `{name}` (one segment) or `{name+}` (the rest).
    segments: Vec<String>,
    pub upstream: SocketAddr,
}

impl Route {
    /// The path template, as in the template.
    pub fn path(&self) -> String {
        format!("/{}", self.segments.join("/"))
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        if self.method.as_ref().is_some_and(|m| m != method) {
            return false;
        }
        let Some(path) = path.strip_prefix('/') else {
            return false;
        };
        let actual: Vec<&str> = path.split('/').collect();
        for (at, pattern) in self.segments.iter().enumerate() {
            if pattern.starts_with('{') && pattern.ends_with("+}") {
                // A greedy variable takes the rest, at least one character.
                return actual[at..].iter().any(|s| !s.is_empty());
            }
            let Some(segment) = actual.get(at) else {
                return false;
            };
            let variable = pattern.starts_with('{') && pattern.ends_with('}');
            if (variable && segment.is_empty()) || (!variable && pattern != segment) {
                return false;
            }
        }
        actual.len() == self.segments.len()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routes(Vec<Route>);

impl Routes {
    /// Every `HttpApi`/`Api` route of the template's cargo-lambda functions, each to its
    /// function's address in `upstreams`; a routed function without an address is an error.
    pub fn from_template(
        template: &Template,
        upstreams: &BTreeMap<String, SocketAddr>,
    ) -> Result<Routes, String> {
        let mut routes = Vec::new();
        for (id, _binary, function) in template.cargo_functions() {
            for event in &function.events {
                let EventSource::Http { method, path, .. } = &event.source else {
                    continue;
                };
                let upstream = *upstreams.get(id).ok_or_else(|| {
                    format!("{id} serves HTTP routes but no --upstream {id}=HOST:PORT was given")
                })?;
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
                    function: id.to_owned(),
                    method,
                    segments,
                    upstream,
                });
            }
        }
        Ok(Routes(routes))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.0.iter()
    }

    pub fn find(&self, method: &Method, path: &str) -> Option<&Route> {
        self.0.iter().find(|route| route.matches(method, path))
    }
}

fn plain(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut response = Response::new(
        Full::new(Bytes::from_static(body.as_bytes()))
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// Forwards one request to `upstream` and its answer back, both bodies streamed.
async fn forward(
    upstream: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response<Body>, String> {
    let stream = TcpStream::connect(upstream)
        .await
        .map_err(|err| format!("connect {upstream}: {err}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|err| format!("handshake with {upstream}: {err}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let response = sender
        .send_request(request)
        .await
        .map_err(|err| format!("request to {upstream}: {err}"))?;
    Ok(response.map(BodyExt::boxed))
}

async fn answer(routes: Arc<Routes>, request: Request<Incoming>) -> Response<Body> {
    let Some(route) = routes.find(request.method(), request.uri().path()) else {
        return plain(StatusCode::NOT_FOUND, r#"{"message":"Not Found"}"#);
    };
    let function = route.function.clone();
    match forward(route.upstream, request).await {
        Ok(response) => response,
        Err(err) => {
            // What API Gateway answers when the integration fails.
            eprintln!("gateway: {function}: {err}");
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"message":"Internal Server Error"}"#,
            )
        }
    }
}

/// Serves `routes` on `listener` until `shutdown`.
pub async fn serve(
    routes: Routes,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let routes = Arc::new(routes);
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => return Ok(()),
        };
        let routes = Arc::clone(&routes);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let routes = Arc::clone(&routes);
                async move { Ok::<_, Infallible>(answer(routes, request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
Resources:
  Api: {Type: AWS::Serverless::HttpApi}
  Hook:
    Type: AWS::Serverless::Function
    Metadata: {BuildMethod: rust-cargolambda, BuildProperties: {Binary: hook}}
    Properties:
      CodeUri: .
      Handler: bootstrap
      Runtime: provided.al2023
      Events:
        In: {Type: HttpApi, Properties: {ApiId: !Ref Api, Method: POST, Path: '/{tenant}/sms/sinchconversation/{service}'}}
  Link:
    Type: AWS::Serverless::Function
    Metadata: {BuildMethod: rust-cargolambda, BuildProperties: {Binary: link}}
    Properties:
      CodeUri: .
      Handler: bootstrap
      Runtime: provided.al2023
      Events:
        Get: {Type: HttpApi, Properties: {ApiId: !Ref Api, Method: GET, Path: '/{tenant}/media/{token}'}}
"#;

    fn upstreams(hook: SocketAddr, link: SocketAddr) -> BTreeMap<String, SocketAddr> {
        BTreeMap::from([("Hook".to_owned(), hook), ("Link".to_owned(), link)])
    }

    fn routes(hook: SocketAddr, link: SocketAddr) -> Routes {
        let template = Template::from_yaml_str(TEMPLATE).unwrap();
        Routes::from_template(&template, &upstreams(hook, link)).unwrap()
    }

    #[test]
    fn requests_go_to_the_function_whose_route_matches_as_api_gateway_would() {
        let hook: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let link: SocketAddr = "127.0.0.1:2".parse().unwrap();
        let routes = routes(hook, link);
        let to = |method: Method, path: &str| routes.find(&method, path).map(|r| r.upstream);
        assert_eq!(
            to(Method::POST, "/acme/sms/sinchconversation/all"),
            Some(hook)
        );
        assert_eq!(to(Method::GET, "/acme/media/v1.a.b"), Some(link));
        assert_eq!(to(Method::GET, "/acme/sms/sinchconversation/all"), None);
        assert_eq!(to(Method::POST, "/acme/media/v1.a.b"), None);
        assert_eq!(to(Method::GET, "/acme/media/"), None);
        assert_eq!(to(Method::GET, "/acme/media/a/b"), None);
        assert_eq!(to(Method::GET, "/"), None);
    }

    #[test]
    fn a_routed_function_without_an_address_is_named() {
        let template = Template::from_yaml_str(TEMPLATE).unwrap();
        let only_hook = BTreeMap::from([(
            "Hook".to_owned(),
            "127.0.0.1:1".parse::<SocketAddr>().unwrap(),
        )]);
        let err = Routes::from_template(&template, &only_hook).unwrap_err();
        assert!(err.contains("Link"), "{err}");
    }

    /// A server that answers every request with what it received, or a redirect for `/redirect`.
    async fn echo_server() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let service = service_fn(|request: Request<Incoming>| async move {
                        let head = format!(
                            "{} {} x-test={}",
                            request.method(),
                            request.uri(),
                            request
                                .headers()
                                .get("x-test")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("")
                        );
                        let body = request.into_body().collect().await.unwrap().to_bytes();
                        let response = Response::builder()
                            .status(if head.contains("/media/") { 302 } else { 200 })
                            .header(
                                "location",
                                "http://127.0.0.1:4566/bucket/key?X-Amz-Signature=abc",
                            )
                            .header("cache-control", "no-store")
                            .body(Full::new(Bytes::from(format!(
                                "{head}\n{}",
                                String::from_utf8_lossy(&body)
                            ))))
                            .unwrap();
                        Ok::<_, Infallible>(response)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        address
    }

    async fn call(
        gateway: SocketAddr,
        method: Method,
        path: &str,
        body: &'static str,
    ) -> (StatusCode, http::HeaderMap, String) {
        let stream = TcpStream::connect(gateway).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "127.0.0.1")
            .header("x-test", "kept")
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        (
            parts.status,
            parts.headers,
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    #[tokio::test]
    async fn requests_and_answers_pass_through_unchanged() {
        let hook = echo_server().await;
        let link = echo_server().await;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let gateway = listener.local_addr().unwrap();
        tokio::spawn(serve(routes(hook, link), listener, std::future::pending()));

        let (status, _, body) = call(
            gateway,
            Method::POST,
            "/acme/sms/sinchconversation/all?x=1",
            "{\"signed\":true}",
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            body,
            "POST /acme/sms/sinchconversation/all?x=1 x-test=kept\n{\"signed\":true}"
        );

        let (status, headers, _) = call(gateway, Method::GET, "/acme/media/v1.a.b", "").await;
        assert_eq!(status, 302);
        assert_eq!(
            headers["location"],
            "http://127.0.0.1:4566/bucket/key?X-Amz-Signature=abc"
        );
        assert_eq!(headers["cache-control"], "no-store");

        let (status, _, body) = call(gateway, Method::GET, "/nowhere", "").await;
        assert_eq!(
            (status.as_u16(), body.as_str()),
            (404, r#"{"message":"Not Found"}"#)
        );
    }
}
