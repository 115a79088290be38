//! Putting events on the contact center's queue: `events.fifo`, or a queue's own target from the
//! config, in the message group the caller names (a conversation stays in order end to end) and
//! with a de-duplication id the caller derives from what the event is about (the inbound stage:
//! the `event_id`; the outbound function: tenant + `reply_id`). Used by the inbound stage and the
//! outbound function alike; the in-memory queue is for their handler tests.

use std::future::Future;
use std::sync::Mutex;

use crate::error::AwsError;
use crate::sqs::{FifoMessage, send_fifo};

/// One event ready to send: the queue and the message, built by [`FifoMessage`] (escaped,
/// size-checked), so nothing reaches SQS by another way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub queue_url: String,
    pub message: FifoMessage,
}

pub trait EventQueue: Send + Sync {
    fn send(&self, event: &Outgoing) -> impl Future<Output = Result<(), AwsError>> + Send;
}

#[derive(Debug, Clone)]
pub struct SqsEventQueue {
    client: aws_sdk_sqs::Client,
}

impl SqsEventQueue {
    pub fn new(client: aws_sdk_sqs::Client) -> SqsEventQueue {
        SqsEventQueue { client }
    }
}

impl EventQueue for SqsEventQueue {
    async fn send(&self, event: &Outgoing) -> Result<(), AwsError> {
        send_fifo(&self.client, &event.queue_url, &event.message).await
    }
}

/// Records what was sent; can be told to fail. For handler tests.
#[derive(Default)]
pub struct MemoryEventQueue {
    sent: Mutex<Vec<Outgoing>>,
    failing: Mutex<bool>,
}

impl MemoryEventQueue {
    pub fn sent(&self) -> Vec<Outgoing> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn fail(&self, failing: bool) {
        *self.failing.lock().unwrap_or_else(|p| p.into_inner()) = failing;
    }
}

impl EventQueue for MemoryEventQueue {
    async fn send(&self, event: &Outgoing) -> Result<(), AwsError> {
        if *self.failing.lock().unwrap_or_else(|p| p.into_inner()) {
            return Err(AwsError {
                operation: "SendMessage",
                code: Some("ServiceUnavailable".into()),
                http_status: Some(503),
                retry: crate::error::Retry::Retryable,
                message: "ServiceUnavailable: (in-memory test port)".into(),
            });
        }
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(event.clone());
        Ok(())
    }
}
