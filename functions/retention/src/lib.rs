//! The retention function: on a schedule, deletes each tenant's media once it is past the
//! tenant's retention, at a cost that follows what expires rather than what is stored.
//!
//! [`handler`] runs one sweep and knows nothing about Lambda; [`function`] makes it a kit
//! function (`switchboard_shared::kit`): settings, clients built once per container, and the
//! schedule shell (EventBridge's scheduled event, or `{"dry_run": true}` by hand), under the
//! invocation's clock and deadline: Lambda's, less `SWITCHBOARD_RETENTION_DEADLINE_MARGIN_SECS`
//! (one S3 request). [`sweep`] is the algorithm, over two ports: the bucket ([`bucket`]: S3, or
//! in memory) and the tenants' retention ([`tenants`]); tests bound a run by a
//! [`budget::RequestBudget`] instead of the clock. There is no local runner any more: locally
//! the binary runs under a Lambda emulator, through the Runtime API, and is invoked by hand.

pub mod bucket;
pub mod budget;
pub mod counting;
pub mod function;
pub mod handler;
pub mod layout;
pub mod memory_bucket;
pub mod metrics;
pub mod s3_bucket;
pub mod settings;
pub mod summary;
pub mod sweep;
pub mod tenants;

pub use function::{AwsRetention, build};
pub use handler::{RetentionFunction, RunRequest};
