//! Switchboard's common crate: everything the Lambda functions share.
//!
//! Only [`kit`] knows about Lambda: it is every function's `main` and its trigger's shell
//! (HTTP API, SQS FIFO, schedule), so the rest, and every function's handler, never sees a
//! Lambda type. [`sqs::FifoMessage`] is the one way anything is written to a queue.

pub mod address;
pub mod aws;
pub mod channel;
pub mod config;
pub mod contract;
pub mod deadline;
pub mod error;
pub mod event_queue;
pub mod json_text;
pub mod kit;
pub mod lambda;
pub mod loopback;
pub mod media;
pub mod settings;
pub mod sinch;
pub mod sqs;
pub mod state;
pub mod tables;
pub mod telemetry;
