//! Inbound events: Switchboard → contact center (`events.fifo`), one `kind` per event.
//!
//! The webhook builds these from Sinch callbacks and puts them on `ingest.fifo`; the media stage
//! completes them (media stored in S3, display names, quoted messages, reply ids) and forwards
//! them unchanged in shape. Fields that a later stage fills are present and empty until then.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::address::QueueAddress;
use crate::channel::Channel;

/// The version of this contract; bumped only for a change that is not additive.
pub const INBOUND_SCHEMA_VERSION: u32 = 1;

/// One event for the contact center.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Switchboard inbound event", extend("$id" = "https://switchboard.dev/schemas/inbound-event.v1.json"))]
pub struct InboundEvent {
    /// Contract version: 1.
    pub schema_version: u32,
    /// Stable id derived from the Sinch callback's identity: the same callback delivered twice
    /// has the same `event_id`. Use it to de-duplicate.
    pub event_id: String,
    pub tenant: String,
    /// The messaging service (Sinch project + region) the callback came through.
    pub service: String,
    /// `{app_id}@{subchannel}.sinchconversation.com`; absent for callbacks that name no channel.
    pub queue_address: Option<QueueAddress>,
    pub app_id: String,
    pub project_id: String,
    pub channel: Option<Channel>,
    pub contact: Option<Contact>,
    /// Sinch conversation id; absent in DISPATCH processing mode.
    pub conversation_id: Option<String>,
    /// `CONVERSATION` or `DISPATCH`, when Sinch says.
    pub processing_mode: Option<String>,
    pub sinch_times: SinchTimes,
    /// When Switchboard accepted the callback.
    pub received_at: DateTime<Utc>,
    /// The `correlation_id` of the send that this event relates to (Sinch keeps the last one).
    pub correlation_id: Option<String>,
    /// Key-value metadata: the conversation metadata Sinch echoes in `message_metadata`,
    /// when it is a JSON object (non-string values as their JSON text).
    pub attached_data: BTreeMap<String, String>,
    /// Sinch's `message_metadata` exactly as received, when not empty.
    pub message_metadata: Option<String>,
    /// The contact center's id of the agent reply this event concerns (delivery reports,
    /// send results, quotes of agent messages), once known.
    pub reply_id: Option<String>,
    /// Where the callback's exact bytes are kept (a `quarantine/` key in the media bucket) when
    /// they could not be read as they came: invalid UTF-8 or escapes such as lone surrogates,
    /// which read as U+FFFD in this event's fields. Absent for every well-formed callback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_callback_s3_key: Option<String>,
    #[serde(flatten)]
    pub body: EventBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Contact {
    /// Sinch contact id; absent in DISPATCH processing mode.
    pub id: Option<String>,
    /// The customer's address on the channel (MSISDN without '+', PSID…).
    pub channel_identity: Option<String>,
    /// The customer's name when known, else the channel identity.
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SinchTimes {
    /// When Sinch accepted the callback's event.
    pub accepted_time: Option<DateTime<Utc>>,
    /// When the channel says the event happened.
    pub event_time: Option<DateTime<Utc>>,
}

/// What happened, by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventBody {
    /// A customer message.
    Message { message: InboundMessage },
    /// The delivery status of an agent reply.
    Delivery { delivery: DeliveryReport },
    /// Typing, typing end, chat ended, reactions and other customer-side events.
    ContactEvent { contact_event: ContactEvent },
    /// Opt-in / opt-out.
    Consent { consent: Consent },
    /// A channel-level notification (e.g. WhatsApp quality rating).
    ChannelEvent { channel_event: ChannelEvent },
    /// Whether Sinch accepted an agent reply.
    SendResult { send_result: SendResult },
    /// A callback this contract does not model, kept whole.
    Unsupported { unsupported: Unsupported },
}

impl EventBody {
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::Message { .. } => "message",
            EventBody::Delivery { .. } => "delivery",
            EventBody::ContactEvent { .. } => "contact_event",
            EventBody::Consent { .. } => "consent",
            EventBody::ChannelEvent { .. } => "channel_event",
            EventBody::SendResult { .. } => "send_result",
            EventBody::Unsupported { .. } => "unsupported",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InboundMessage {
    /// Sinch's message id.
    pub message_id: String,
    /// Sinch's name of the content kind: `text_message`, `media_message`, `media_card_message`,
    /// `location_message`, `choice_response_message`, `fallback_message`,
    /// `product_response_message`, `channel_specific_message`, or a newer one.
    pub content_kind: String,
    pub text: Option<String>,
    pub media: Vec<MediaItem>,
    pub location: Option<Location>,
    pub choice_response: Option<ChoiceResponse>,
    /// The earlier message this one replies to.
    pub quoted_message: Option<QuotedMessage>,
    /// The business-side address the customer wrote to (short code, MSISDN), when given.
    pub sender_id: Option<String>,
    /// Content that has no field above (fallback, product response, channel-specific or newer
    /// kinds), exactly as Sinch sent it.
    pub raw_content: Option<serde_json::Value>,
}

/// A media attachment. The webhook records where it is; the media stage stores it in S3.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MediaItem {
    /// Where the channel/Sinch hosts the file.
    pub source_url: String,
    pub thumbnail_url: Option<String>,
    pub filename: Option<String>,
    pub caption: Option<String>,
    pub status: MediaStatus,
    /// The object in the media bucket, once stored.
    pub s3_key: Option<String>,
    /// The agent's link to the stored file, `{api}/{tenant}/media/{token}`: each GET redirects
    /// to a short-lived presigned URL. Open it when needed; do not keep what it redirects to.
    pub url: Option<String>,
    /// When `url` stops working: the end of the tenant's inbound media retention.
    pub url_expires_at: Option<DateTime<Utc>>,
    pub content_type: Option<String>,
    pub size_bytes: Option<u64>,
    /// Why the media could not be stored (status `failed`).
    pub failure_reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MediaStatus {
    /// Not fetched yet (only on `ingest.fifo`, never on `events.fifo`).
    Pending,
    Stored,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    pub title: Option<String>,
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChoiceResponse {
    /// The Sinch id of the agent message that offered the choice.
    pub message_id: Option<String>,
    pub postback_data: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct QuotedMessage {
    /// The Sinch id of the quoted (agent) message.
    pub message_id: String,
    /// The contact center's reply id of the quoted message, once resolved.
    pub reply_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeliveryReport {
    /// Sinch's id of the agent message.
    pub message_id: String,
    /// `QUEUED_ON_CHANNEL`, `DELIVERED`, `READ`, `FAILED`, `SWITCHING_CHANNEL`, or a newer one.
    pub status: String,
    pub reason: Option<FailureReason>,
    /// The `message_metadata` of the send, echoed back by Sinch.
    pub metadata: Option<String>,
}

/// Sinch's reason for a failure, as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FailureReason {
    /// e.g. `OUTSIDE_ALLOWED_SENDING_WINDOW`, `RECIPIENT_NOT_REACHABLE`.
    pub code: Option<String>,
    pub description: Option<String>,
    pub sub_code: Option<String>,
    /// The channel's own error code (WhatsApp).
    pub channel_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ContactEvent {
    /// Sinch's event id, when given.
    pub event_id: Option<String>,
    #[serde(rename = "type")]
    pub event_type: ContactEventType,
    pub reaction: Option<Reaction>,
    /// The event exactly as Sinch sent it, for types without fields here (`comment`, `other`).
    pub raw: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactEventType {
    Typing,
    TypingEnd,
    /// The customer ended the chat (Sinch Chat) or deleted the conversation.
    ChatEnded,
    Reaction,
    /// A comment on a post (Instagram).
    Comment,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Reaction {
    pub emoji: Option<String>,
    /// `REACTION_ACTION_REACT`, `REACTION_ACTION_UNREACT`, …
    pub action: Option<String>,
    /// The Sinch id of the message reacted to.
    pub message_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Consent {
    pub action: ConsentAction,
    /// Sinch's status, e.g. `OPT_IN_SUCCEEDED`, `OPT_OUT_FAILED`.
    pub status: Option<String>,
    pub request_id: Option<String>,
    pub error_description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentAction {
    OptIn,
    OptOut,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChannelEvent {
    /// e.g. `WHATS_APP_QUALITY_RATING_CHANGED`.
    pub event_type: Option<String>,
    pub additional_data: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SendResult {
    pub outcome: SendOutcome,
    /// Sinch's id for the sent message or event (accepted).
    pub sinch_message_id: Option<String>,
    /// Why it failed (failed).
    pub error: Option<SendError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SendOutcome {
    Accepted,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SendError {
    pub http_status: Option<u16>,
    /// Sinch's `error.status`, e.g. `INVALID_ARGUMENT`, or Switchboard's own code.
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Unsupported {
    /// The Sinch trigger, e.g. `CONTACT_CREATE`, `UNSUPPORTED`; `UNKNOWN` for a new one.
    pub trigger: String,
    /// The callback's type-specific top-level key, when it has one.
    pub callback_key: Option<String>,
    /// Why it is not modelled, when it was expected to be (e.g. a field of the wrong type).
    pub reason: Option<String>,
    /// The whole callback exactly as Sinch sent it; `null` when it was too large for the queue
    /// and is kept in S3 instead (`callback_s3_key`).
    pub callback: serde_json::Value,
    /// Where the callback is kept in the media bucket when it could not travel in the event.
    #[serde(default)]
    pub callback_s3_key: Option<String>,
}
