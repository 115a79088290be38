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
