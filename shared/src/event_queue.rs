//! Putting events on the contact center's queue: `events.fifo`, or a queue's own target from the
//! config, in the message group the caller names (a conversation stays in order end to end) and
//! with a de-duplication id the caller derives from what the event is about (the inbound stage:
//! the `event_id`; the outbound function: tenant + `reply_id`). Used by the inbound stage and the
//! outbound function alike; the in-memory queue is for their handler tests.

use std::future::Future;
use std::sync::Mutex;

use crate::error::AwsError;

/// One event ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub queue_url: String,
    pub group_id: String,
    pub deduplication_id: String,
    pub body: String,
    pub kind: &'static str,
    pub tenant: String,
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

/// SQS refuses an empty attribute value (the whole message with it), so an empty one (e.g. the
/// tenant of a command too broken to name one) is left out.
fn attribute(value: &str) -> Option<aws_sdk_sqs::types::MessageAttributeValue> {
    if value.is_empty() {
        return None;
    }
    aws_sdk_sqs::types::MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .ok()
}

impl EventQueue for SqsEventQueue {
    async fn send(&self, event: &Outgoing) -> Result<(), AwsError> {
        self.client
            .send_message()
            .queue_url(&event.queue_url)
            .message_body(&event.body)
            .message_group_id(&event.group_id)
            .message_deduplication_id(&event.deduplication_id)
            .set_message_attributes(Some(
                [("kind", event.kind), ("tenant", event.tenant.as_str())]
                    .into_iter()
                    .filter_map(|(name, value)| Some((name.to_owned(), attribute(value)?)))
                    .collect(),
            ))
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("SendMessage", &err))?;
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_attribute_is_left_out_rather_than_refused_by_sqs() {
        // moto accepts empty attribute values; SQS refuses the whole message.
        assert!(attribute("").is_none());
        let tenant = attribute("acme").expect("an attribute");
        assert_eq!(tenant.string_value(), Some("acme"));
        assert_eq!(tenant.data_type(), "String");
    }
}
