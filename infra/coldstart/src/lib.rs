//! Cold-start benchmark harness: a stand-in of the AWS Lambda Runtime API on 127.0.0.1 that
//! starts a function binary, hands it one event, and times how long it takes to ask for work
//! and to answer it. See `coldstart --help`.

pub mod cli;
pub mod harness;
pub mod proc_status;
pub mod report;
pub mod runtime_api;
pub mod stats;

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T, E = Error> = std::result::Result<T, E>;
