//! `switchboard-admin public-media`: the local stand-in for `PublicMediaDistribution`, the
//! CloudFront distribution that makes agents' attachments public (README "Public URLs for
//! agents' attachments").
//!
//! It answers as the distribution does, over plain HTTP on loopback: `GET`/`HEAD
//! /outbound/{rest of the key}` gives 200 with the object's exact bytes, its Content-Length
//! and its stored Content-Type (never a redirect, never chunked), streamed from the bucket; an
//! object that is not there (retention deleted it) gives 404, and so does every path outside
//! `outbound/`. The query string is ignored, as the distribution's cache policy ignores it.
//! Not imitated: the 5-minute cache (a deleted object is 404 at once here) and Range requests.

use std::convert::Infallible;
use std::sync::Arc;

use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use http::header::{
    ALLOW, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE, ETAG, LAST_MODIFIED,
};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use switchboard_shared::error::AwsError;
use tokio::net::TcpListener;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Body = UnsyncBoxBody<Bytes, BoxError>;

/// The only prefix the distribution serves.
const PUBLIC_PREFIX: &str = "outbound/";

pub struct PublicMedia {
    s3: aws_sdk_s3::Client,
    bucket: String,
}

impl PublicMedia {
    pub fn new(s3: aws_sdk_s3::Client, bucket: impl Into<String>) -> PublicMedia {
        PublicMedia {
            s3,
            bucket: bucket.into(),
        }
    }
}

/// Serves until `shutdown` completes. One task per connection.
pub async fn serve(
    media: Arc<PublicMedia>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => return Ok(()),
        };
        let media = Arc::clone(&media);
        tokio::spawn(async move {
            let service = service_fn(move |request| answer(Arc::clone(&media), request));
            // A client that goes away mid-file ends its connection; nothing to report.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(
    media: Arc<PublicMedia>,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let method = request.method().clone();
    if method != Method::GET && method != Method::HEAD {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Ok(response);
    }
    let Some(key) = object_key(request.uri().path()) else {
        return Ok(not_found());
    };
    Ok(if method == Method::HEAD {
        head(&media, &key).await
    } else {
        get(&media, &key).await
    })
}

/// The S3 key a request path names, when it is one the distribution serves: under
/// `outbound/`, percent-decoded as S3 decodes it, with no empty, `.` or `..` segment (a
/// path a server might normalise into another prefix is refused, not resolved).
pub fn object_key(path: &str) -> Option<String> {
    let encoded = path.strip_prefix('/')?;
    let key = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .ok()?;
    let rest = key.strip_prefix(PUBLIC_PREFIX)?;
    let safe = !rest.is_empty()
        && rest
            .split('/')
            .all(|segment| !matches!(segment, "" | "." | ".."));
    safe.then(|| key.into_owned())
}

async fn get(media: &PublicMedia, key: &str) -> Response<Body> {
    let result = media
        .s3
        .get_object()
        .bucket(&media.bucket)
        .key(key)
        .send()
        .await;
    match result {
        Ok(object) => respond(
            stream(object.body),
            ObjectHeaders {
                content_type: object.content_type,
                content_length: object.content_length,
                e_tag: object.e_tag,
                cache_control: object.cache_control,
                content_disposition: object.content_disposition,
                last_modified: object.last_modified,
            },
        ),
        Err(err) => failure(AwsError::from_sdk("GetObject", &err)),
    }
}

async fn head(media: &PublicMedia, key: &str) -> Response<Body> {
    let result = media
        .s3
        .head_object()
        .bucket(&media.bucket)
        .key(key)
        .send()
        .await;
    match result {
        Ok(object) => respond(
            Empty::new().map_err(|never| match never {}).boxed_unsync(),
            ObjectHeaders {
                content_type: object.content_type,
                content_length: object.content_length,
                e_tag: object.e_tag,
                cache_control: object.cache_control,
                content_disposition: object.content_disposition,
                last_modified: object.last_modified,
            },
        ),
        Err(err) => failure(AwsError::from_sdk("HeadObject", &err)),
    }
}

/// What GET and HEAD both answer with: the object's stored headers.
struct ObjectHeaders {
    content_type: Option<String>,
    content_length: Option<i64>,
    e_tag: Option<String>,
    cache_control: Option<String>,
    content_disposition: Option<String>,
    last_modified: Option<aws_smithy_types::DateTime>,
}

fn respond(body: Body, object: ObjectHeaders) -> Response<Body> {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    set(headers, CONTENT_TYPE, object.content_type.as_deref());
    set(
        headers,
        CONTENT_LENGTH,
        object.content_length.map(|n| n.to_string()).as_deref(),
    );
    set(headers, ETAG, object.e_tag.as_deref());
    set(headers, CACHE_CONTROL, object.cache_control.as_deref());
    set(
        headers,
        CONTENT_DISPOSITION,
        object.content_disposition.as_deref(),
    );
    set(
        headers,
        LAST_MODIFIED,
        http_date(object.last_modified).as_deref(),
    );
    response
}

/// The object's bytes as S3 sends them, chunk by chunk: memory does not grow with the file.
fn stream(body: ByteStream) -> Body {
    body.into_inner().boxed_unsync()
}

fn set(headers: &mut http::HeaderMap, name: http::HeaderName, value: Option<&str>) {
    if let Some(value) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
        headers.insert(name, value);
    }
}

fn http_date(time: Option<aws_sdk_s3::primitives::DateTime>) -> Option<String> {
    time?
        .fmt(aws_sdk_s3::primitives::DateTimeFormat::HttpDate)
        .ok()
}

/// A missing object is 404 (S3 says 404 to a caller who may list the bucket; the real
/// distribution, which may not, passes on S3's 403); anything else is the bucket's fault: 502.
fn failure(error: AwsError) -> Response<Body> {
    if error.http_status == Some(404) {
        return not_found();
    }
    eprintln!("public-media: {error}");
    text(StatusCode::BAD_GATEWAY, "the media bucket did not answer\n")
}

fn not_found() -> Response<Body> {
    text(StatusCode::NOT_FOUND, "Not Found\n")
}

fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut response = Response::new(
        Full::new(Bytes::from_static(body.as_bytes()))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

#[cfg(test)]
mod tests {
    use super::object_key;

    #[test]
    fn only_keys_under_outbound_are_served() {
        assert_eq!(
            object_key("/outbound/acme/2026-12-01/01J/photo.png").as_deref(),
            Some("outbound/acme/2026-12-01/01J/photo.png")
        );
        assert_eq!(
            object_key("/outbound/acme/a%20b%C3%A4.pdf").as_deref(),
            Some("outbound/acme/a bä.pdf")
        );
        for refused in [
            "/",
            "/outbound",
            "/outbound/",
            "/inbound/acme/x.png",
            "/quarantine/acme/x",
            "/outbound/../inbound/acme/x.png",
            "/outbound/acme/%2E%2E/%2E%2E/inbound/x",
            "/outbound/acme//x",
            "/outbound/./x",
            "/Outbound/acme/x",
            "/%6Futbound/../inbound/x",
            "/outbound/acme/%FF",
            "outbound/acme/x",
        ] {
            assert_eq!(object_key(refused), None, "{refused}");
        }
    }
}
