//! Pieces every SQS- or schedule-driven function shares, independent of any one handler.

pub mod local_sqs;
pub mod sqs;
