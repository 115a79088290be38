//! Putting events on `ingest.fifo`: the message group (per-conversation order) and the
//! de-duplication id (one message per callback, however often Sinch delivers it).

use std::future::Future;

use aws_sdk_sqs::types::MessageAttributeValue;
use sha2::{Digest, Sha256};
use switchboard_shared::contract::InboundEvent;

/// A serialized event with its FIFO routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestMessage {
    pub body: String,
    pub group_id: String,
    pub deduplication_id: String,
    pub kind: &'static str,
    pub tenant: String,
}

/// SQS allows a group id of at most 128 characters from this set.
fn is_group_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c.is_ascii_punctuation()
}

/// Events of one conversation share a group so they stay in order; without a conversation
/// (DISPATCH mode) the customer's channel identity plays that part; callbacks about neither
/// (channel events, contact notifications) are ordered per app.
pub fn group_id(event: &InboundEvent) -> String {
    let scope = if let Some(conversation) = &event.conversation_id {
        format!("c/{conversation}")
    } else if let (Some(channel), Some(identity)) = (
        &event.channel,
        event
            .contact
            .as_ref()
            .and_then(|c| c.channel_identity.as_ref()),
    ) {
        format!("i/{channel}/{identity}")
    } else {
        format!("a/{}", event.app_id)
    };
    let candidate = format!("{}/{scope}", event.tenant);
    if candidate.len() <= 128 && candidate.chars().all(is_group_id_char) {
        candidate
    } else {
        // Identities are channel-defined; hash any that SQS would refuse, deterministically.
        let digest = hex::encode(Sha256::digest(scope.as_bytes()));
        format!("{}/h/{}", event.tenant, &digest[..40])
    }
}

/// SQS's largest message (body and attributes), in bytes.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("could not serialize the event: {0}")]
    Serialize(#[from] serde_json::Error),
    #[error("the event is {bytes} bytes with its attributes, over SQS's {MAX_MESSAGE_BYTES}")]
    TooLarge { bytes: usize },
    #[error("the ingest queue refused or did not answer: {0}")]
    Unavailable(String),
}

impl IngestMessage {
    pub fn new(event: &InboundEvent) -> Result<IngestMessage, IngestError> {
        let body = serde_json::to_string(event)?;
        let kind = event.body.kind();
        // SQS counts each attribute's name, type and value towards the limit.
        let bytes = body.len() + ATTRIBUTE_OVERHEAD + kind.len() + event.tenant.len();
        if bytes > MAX_MESSAGE_BYTES {
            return Err(IngestError::TooLarge { bytes });
        }
        Ok(IngestMessage {
            body,
            group_id: group_id(event),
            // The event id is derived from the callback's identity: SQS drops a second message
            // with the same id within its 5-minute window; the media stage de-duplicates beyond.
            deduplication_id: event.event_id.clone(),
            kind,
            tenant: event.tenant.clone(),
        })
    }
}

pub trait IngestQueue: Send + Sync {
    fn send(&self, message: &IngestMessage)
    -> impl Future<Output = Result<(), IngestError>> + Send;
}

#[derive(Debug, Clone)]
pub struct SqsIngestQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsIngestQueue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> SqsIngestQueue {
        SqsIngestQueue {
            client,
            queue_url: queue_url.into(),
        }
    }
}

/// "kind" + "tenant" + two times "String".
const ATTRIBUTE_OVERHEAD: usize = 4 + 6 + 2 * 6;

fn string_attribute(value: &str) -> Option<MessageAttributeValue> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .ok()
}

impl IngestQueue for SqsIngestQueue {
    async fn send(&self, message: &IngestMessage) -> Result<(), IngestError> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(&message.body)
            .message_group_id(&message.group_id)
            .message_deduplication_id(&message.deduplication_id)
            .set_message_attributes(Some(
                [("kind", message.kind), ("tenant", message.tenant.as_str())]
                    .into_iter()
                    .filter_map(|(name, value)| Some((name.to_owned(), string_attribute(value)?)))
                    .collect(),
            ))
            .send()
            .await
            .map_err(|err| {
                IngestError::Unavailable(switchboard_shared::aws::describe_error(&err))
            })?;
        Ok(())
    }
}
