//! Switchboard's common crate: everything the Lambda functions share and nothing that knows
//! about Lambda itself.

pub mod address;
pub mod aws;
pub mod channel;
pub mod config;
pub mod contract;
pub mod deadline;
pub mod error;
pub mod event_queue;
pub mod json_text;
pub mod lambda;
pub mod media;
pub mod settings;
pub mod sinch;
pub mod sqs;
pub mod state;
pub mod tables;
pub mod telemetry;
