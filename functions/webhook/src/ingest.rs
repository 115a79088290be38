//! Putting events on `ingest.fifo`: the message group (per-conversation order) and the
//! de-duplication id (one message per callback, however often Sinch delivers it).

use std::future::Future;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
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

/// The key that turns customer identifiers into group ids: the current `webhook_secret` of the
/// messaging service that received the callback (a secret the webhook already holds, per tenant
/// and service, never in the template; rotated with the secret). The same identity under the
/// same key always gives the same group, so a customer's events stay in order; without the key
/// a group id cannot be linked to a phone number (which could otherwise be guessed by hashing
/// every number). When the key changes (a secret rotation, step 1), new events of a customer
/// go to a new group: only the order between events already queued under the old group and the
/// first ones under the new one is lost, for the few seconds they are in flight together.
pub struct GroupKey<'a>(&'a [u8]);

impl<'a> GroupKey<'a> {
    pub const fn new(secret: &'a [u8]) -> GroupKey<'a> {
        GroupKey(secret)
    }

    /// The service's current webhook secret.
    pub fn of_service(service: &'a switchboard_shared::config::MessagingService) -> GroupKey<'a> {
        use secrecy::ExposeSecret;
        GroupKey(service.webhook_secret.expose_secret().as_bytes())
    }

    /// HMAC-SHA256 (RFC 2104) of `message` under the key, in hex, cut to 128 bits.
    fn digest(&self, message: &[u8]) -> String {
        hex::encode(&hmac_sha256(self.0, message)[..16])
    }
}

/// HMAC-SHA256 (RFC 2104).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Events of one conversation share a group so they stay in order; without a conversation
/// (DISPATCH mode) the customer's channel identity plays that part, as a keyed digest
/// (`{tenant}/i/{channel}/{32 hex}`: never the phone number itself); callbacks about neither
/// (channel events, contact notifications) are ordered per app. Sinch's conversation and app
/// ids name no customer and stay as they are.
pub fn group_id(event: &InboundEvent, key: &GroupKey<'_>) -> String {
    let scope = if let Some(conversation) = &event.conversation_id {
        format!("c/{conversation}")
    } else if let (Some(channel), Some(identity)) = (
        &event.channel,
        event
            .contact
            .as_ref()
            .and_then(|c| c.channel_identity.as_ref()),
    ) {
        // Tenant and channel are bound into the digest too, each field length-prefixed.
        let channel = channel.to_string();
        let mut message = b"switchboard group id v1".to_vec();
        for field in [event.tenant.as_str(), channel.as_str(), identity.as_str()] {
            message.extend_from_slice(&(field.len() as u64).to_be_bytes());
            message.extend_from_slice(field.as_bytes());
        }
        format!("i/{channel}/{}", key.digest(&message))
    } else {
        format!("a/{}", event.app_id)
    };
    let candidate = format!("{}/{scope}", event.tenant);
    if candidate.len() <= 128 && candidate.chars().all(is_group_id_char) {
        candidate
    } else {
        // Ids SQS would refuse (Sinch's ids are channel-defined): keyed too, deterministically.
        format!("{}/h/{}", event.tenant, key.digest(scope.as_bytes()))
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
    /// `key`: the group key of the service that received the callback ([`GroupKey`]).
    pub fn new(event: &InboundEvent, key: &GroupKey<'_>) -> Result<IngestMessage, IngestError> {
        let kind = event.body.kind();
        // The event id is derived from the callback's identity: SQS drops a second message
        // with the same id within its 5-minute window; the media stage de-duplicates beyond.
        let built = FifoMessage::json(
            event,
            group_id(event, key),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_hmac_sha256() {
        // RFC 4231, test cases 2 and 6 (a key longer than a block).
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex::encode(hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }
}
