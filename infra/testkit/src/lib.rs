//! What the integration tests of the workspace's crates share, written once: the moto endpoint
//! (tests that need it must never pass without it), names no other test uses, the repository's
//! paths, and small loopback servers. Dev-only; it depends on no switchboard crate, so every
//! crate's tests can use it, `shared`'s included.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;

use aws_config::{BehaviorVersion, SdkConfig};
use http::{Request, Response};
use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

/// The repository's root (where template.yaml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The SAM template, template.yaml.
pub fn template_path() -> PathBuf {
    repo_root().join("template.yaml")
}

/// Panics unless `AWS_ENDPOINT_URL` is set: a test that needs moto must never pass without it.
#[track_caller]
pub fn require_moto() {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if !url.is_empty() => {}
        _ => panic!(
            "AWS_ENDPOINT_URL is not set: this test needs moto. Run it through make test / \
             infra/scripts/with-moto.sh -- cargo test -p <crate>"
        ),
    }
}

/// The SDK configuration for moto, after [`require_moto`]: the SDK's defaults, which read
/// `AWS_ENDPOINT_URL` (as `switchboard_shared::aws::load_sdk_config` does).
pub async fn moto_config() -> SdkConfig {
    require_moto();
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// `{tag}-` and ten random hex digits: a name or prefix no other test (or earlier run against
/// the same moto) uses. Lower case if `tag` is, so it also suits bucket names.
pub fn unique_prefix(tag: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{tag}-{}", &id[..10])
}

/// Sample file heads whose bytes sniff as their type.
pub mod media {
    /// A 1×1 PNG's signature and header.
    pub const PNG: &[u8] =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    /// The start of a PDF.
    pub const PDF: &[u8] = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n";
}

/// An HTTP/1 server on a random loopback port, for the rest of the test process, answering
/// every request with `handler`.
pub async fn serve_loopback<F, Fut, B>(handler: F) -> SocketAddr
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<B>, Infallible>> + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handler = handler.clone();
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(handler))
                    .await;
            });
        }
    });
    addr
}

/// A TCP server on a random loopback port, for what a well-behaved HTTP server never does: it
/// reads each request's head and hands the path of its request line and the connection to
/// `misbehave`, which writes (or withholds) whatever bytes it likes.
pub async fn raw_loopback<F, Fut>(misbehave: F) -> SocketAddr
where
    F: Fn(String, TcpStream) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    use tokio::io::AsyncReadExt;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let misbehave = misbehave.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request);
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
                misbehave(path, stream).await;
            });
        }
    });
    addr
}
