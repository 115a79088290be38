//! The inbound stage: `ingest.fifo` → customer media into S3 → de-duplicated events, in
//! per-conversation order, on the contact center's queue.
//!
//! [`handler`] holds the logic and knows nothing of Lambda; [`function`] makes it a kit
//! function (`switchboard_shared::kit`): settings, clients built once per container, and the
//! SQS FIFO shell (each conversation in order; a transient failure comes back with the rest of
//! its conversation, a permanent one is done and its conversation goes on), under the
//! invocation's clock and deadline (Lambda's, less 0.5 s). There is no local poller any more:
//! locally the binary runs under a Lambda emulator, through the Runtime API.

pub mod enrich;
pub mod fetch;
pub mod forward;
pub mod function;
pub mod handler;
pub mod links;
pub mod media;
pub mod settings;
pub mod store;

pub use function::{AwsMediaStage, build};
pub use handler::{MediaStage, Outcome, Record};
