//! The contracts with the contact center: JSON on SQS FIFO queues, defined once here and
//! exported as JSON Schema into `schemas/` (see `schemas/README.md`). Public API: within a
//! schema version, change only additively.

mod inbound;
pub mod schema;

pub use inbound::*;
