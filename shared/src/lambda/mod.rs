//! The FIFO batch runner every SQS-driven function's shell (`kit::fifo`) is built on.

pub mod sqs;
