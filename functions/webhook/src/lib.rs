//! The webhook function: Sinch callbacks in, verified and classified events out on `ingest.fifo`.
//!
//! [`handler`] holds all the logic and knows nothing about Lambda; [`function`] makes it a kit
//! function (`switchboard_shared::kit`): settings, clients built once per container, and the
//! HTTP API shell, which hands each request to the handler with the invocation's clock and
//! deadline (Lambda's, less 0.5 s). There is no local server any more: locally the binary runs
//! under a Lambda emulator, through the Runtime API.

pub mod classify;
pub mod function;
pub mod handler;
pub mod ingest;
pub mod memory;
pub mod quarantine;
pub mod route;
pub mod settings;

pub use function::{AwsWebhook, build};
pub use handler::{Webhook, WebhookRequest, WebhookResponse};

/// The webhook on in-memory ports: tests, benchmarks and fuzzing.
pub type MemoryWebhook = Webhook<
    switchboard_shared::config::memory::MemoryConfigSource,
    memory::MemoryIngestQueue,
    memory::MemoryQuarantine,
>;

/// The name the end-to-end crate's Lambda shell test (`tests/tests/lambda_shell.rs`) calls: the
/// kit's HTTP shell with the default margin, nothing of its own. It can go once that test calls
/// `switchboard_shared::kit::http::handle_request`.
pub mod lambda_shell {
    use lambda_http::{Body, Request, Response};
    use switchboard_shared::deadline::DEFAULT_MARGIN;
    use switchboard_shared::kit::{self, http::handle_request};

    pub async fn handle(
        webhook: &crate::AwsWebhook,
        request: Request,
    ) -> Result<Response<Body>, kit::Error> {
        handle_request(webhook, request, DEFAULT_MARGIN).await
    }
}
