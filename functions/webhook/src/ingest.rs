//! Putting events on `ingest.fifo`: the message group (per-conversation order) and the
//! de-duplication id (one message per callback, however often Sinch delivers it).

use std::future::Future;

use sha2::{Digest, Sha256};
use switchboard_shared::contract::InboundEvent;
use switchboard_shared::deadline::DeadlineExceeded;
use switchboard_shared::error::{AwsError, Classify, Retry};
use switchboard_shared::sqs::{FifoMessage, MessageError, send_fifo};

/// A serialized event with its FIFO routing, built by the shared [`FifoMessage`] (escaped for
/// SQS, size-checked); `kind` and `tenant` are its two string attributes.
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

pub use switchboard_shared::sqs::MAX_MESSAGE_BYTES;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("could not serialize the event: {0}")]
    Serialize(#[from] serde_json::Error),
    #[error("the event is {bytes} bytes with its attributes, over SQS's {MAX_MESSAGE_BYTES}")]
    TooLarge { bytes: usize },
    /// SQS refused or did not answer; whether to retry is in the error.
    #[error("the ingest queue failed: {0}")]
    Queue(#[from] AwsError),
    #[error(transparent)]
    Late(#[from] DeadlineExceeded),
}

impl Classify for IngestError {
    fn retry(&self) -> Retry {
        match self {
            IngestError::Serialize(_) | IngestError::TooLarge { .. } => Retry::Permanent,
            IngestError::Queue(err) => err.retry,
            IngestError::Late(_) => Retry::Retryable,
        }
    }
}

impl From<MessageError> for IngestError {
    fn from(err: MessageError) -> IngestError {
        match err {
            MessageError::Serialize(err) => IngestError::Serialize(err),
            MessageError::TooLarge { bytes } => IngestError::TooLarge { bytes },
        }
    }
}

impl IngestMessage {
    pub fn new(event: &InboundEvent) -> Result<IngestMessage, IngestError> {
        let kind = event.body.kind();
        // The event id is derived from the callback's identity: SQS drops a second message
        // with the same id within its 5-minute window; the media stage de-duplicates beyond.
        let built = FifoMessage::json(
            event,
            group_id(event),
            event.event_id.clone(),
            &[("kind", kind), ("tenant", &event.tenant)],
        )?;
        Ok(IngestMessage {
            body: built.body,
            group_id: built.group_id,
            deduplication_id: built.deduplication_id,
            kind,
            tenant: event.tenant.clone(),
        })
    }

    /// As the shared message type, for [`send_fifo`].
    pub fn fifo(&self) -> FifoMessage {
        FifoMessage {
            body: self.body.clone(),
            group_id: self.group_id.clone(),
            deduplication_id: self.deduplication_id.clone(),
            attributes: [("kind", self.kind), ("tenant", self.tenant.as_str())]
                .into_iter()
                .filter(|(_, value)| !value.is_empty())
                .map(|(name, value)| (name, value.to_owned()))
                .collect(),
        }
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

impl IngestQueue for SqsIngestQueue {
    async fn send(&self, message: &IngestMessage) -> Result<(), IngestError> {
        send_fifo(&self.client, &self.queue_url, &message.fifo())
            .await
            .map_err(IngestError::Queue)
    }
}
