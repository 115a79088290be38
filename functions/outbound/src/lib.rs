//! The outbound function: agent commands from `replies.fifo` → Sinch `messages:send` /
//! `events:send`, each reply sent once, in per-conversation order, and a `send_result` for
//! every command on the contact center's queue.
//!
//! [`handler`] holds the logic and knows nothing of Lambda; [`function`] makes it a kit
//! function (`switchboard_shared::kit`): settings, clients built once per container, and the
//! SQS FIFO shell (each conversation in order; a transient failure comes back with the rest of
//! its conversation; a permanent one is answered with a failed `send_result` and is done, so its
//! conversation goes on), under the invocation's clock and deadline (Lambda's, less
//! [`function::DEADLINE_MARGIN`]). There is no local poller any more: locally the binary runs
//! under a Lambda emulator, through the Runtime API.

pub mod fetch_media;
pub mod function;
pub mod handler;
pub mod media;
pub mod result;
pub mod settings;

pub use function::{AwsOutbound, build};
pub use handler::{Outbound, OutboundError, Outcome, Record};

/// The idempotency scope of replies in the state table (`IDEM#reply#{tenant}#{reply_id}`).
pub const IDEMPOTENCY_SCOPE: &str = "reply";

#[cfg(test)]
mod isolation_tests;
