//! `message` (MESSAGE_INBOUND, also the shape of `message_redaction`),
//! `message_delivery_report` (MESSAGE_DELIVERY) and `message_submit_notification`
//! (MESSAGE_SUBMIT).

use chrono::{DateTime, Utc};
use serde::de::Error as _;
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::common::{ChannelIdentity, DeliveryStatus, Direction, ProcessingMode, Reason};
use super::de;

/// An end-user message (`MessageInboundEventItem`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MessageInbound {
    /// The Conversation API message id (a ULID): the de-duplication key for MOs.
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    #[serde(
        deserialize_with = "de::opt_open",
        skip_serializing_if = "Option::is_none"
    )]
    pub direction: Option<Direction>,
    #[serde(
        deserialize_with = "de::null_default",
        skip_serializing_if = "ContactMessage::is_empty"
    )]
    pub contact_message: ContactMessage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_identity: Option<ChannelIdentity>,
    /// `None` in DISPATCH mode.
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub conversation_id: Option<String>,
    /// `None` in DISPATCH mode.
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub contact_id: Option<String>,
    /// Channel-specific; for choice responses, the `message_metadata` of the originating send.
    #[serde(
        deserialize_with = "de::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub metadata: Option<String>,
    #[serde(
        deserialize_with = "de::opt_time",
        skip_serializing_if = "Option::is_none"
    )]
    pub accept_time: Option<DateTime<Utc>>,
    /// The business-side address the contact wrote to (short code, MSISDN…); not on every channel.
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub sender_id: Option<String>,
    #[serde(
        deserialize_with = "de::opt_open",
        skip_serializing_if = "Option::is_none"
    )]
    pub processing_mode: Option<ProcessingMode>,
    #[serde(deserialize_with = "de::flag")]
    pub injected: bool,
}

/// What the contact sent: exactly one kind, plus the app message it answers, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactMessage {
    pub kind: ContactMessageKind,
    /// The earlier app message this one quotes.
    pub reply_to: Option<ReplyTo>,
}

impl ContactMessage {
    /// True when the callback carried no contact message content at all.
    pub fn is_empty(&self) -> bool {
        self.kind == ContactMessageKind::Unknown(Value::Null) && self.reply_to.is_none()
    }
}

impl Default for ContactMessage {
    fn default() -> Self {
        ContactMessage {
            kind: ContactMessageKind::Unknown(Value::Null),
            reply_to: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReplyTo {
    /// The Conversation API id of the quoted app message.
    #[serde(default, deserialize_with = "de::string")]
    pub message_id: String,
}

/// One kind of contact message. Kinds this build does not know are kept as
/// [`ContactMessageKind::Unknown`], holding the whole `contact_message` object minus `reply_to`.
#[derive(Debug, Clone, PartialEq)]
pub enum ContactMessageKind {
    Text(TextMessage),
    Media(MediaMessage),
    MediaCard(MediaCardMessage),
    Location(LocationMessage),
    ChoiceResponse(ChoiceResponseMessage),
    Fallback(FallbackMessage),
    ProductResponse(ProductResponseMessage),
    ChannelSpecific(ChannelSpecificMessage),
    Unknown(Value),
}

const CONTACT_MESSAGE_KINDS: &[&str] = &[
    "text_message",
    "media_message",
    "media_card_message",
    "location_message",
    "choice_response_message",
    "fallback_message",
    "product_response_message",
    "channel_specific_message",
];

impl ContactMessageKind {
    /// The wire key, e.g. `text_message`; for an unknown kind its first key, or `""`.
    pub fn key(&self) -> &str {
        match self {
            ContactMessageKind::Text(_) => "text_message",
            ContactMessageKind::Media(_) => "media_message",
            ContactMessageKind::MediaCard(_) => "media_card_message",
            ContactMessageKind::Location(_) => "location_message",
            ContactMessageKind::ChoiceResponse(_) => "choice_response_message",
            ContactMessageKind::Fallback(_) => "fallback_message",
            ContactMessageKind::ProductResponse(_) => "product_response_message",
            ContactMessageKind::ChannelSpecific(_) => "channel_specific_message",
            ContactMessageKind::Unknown(value) => value
                .as_object()
                .and_then(|object| object.keys().next())
                .map_or("", String::as_str),
        }
    }

    /// The URL of the customer's media, for the kinds that carry one.
    pub fn media_url(&self) -> Option<&str> {
        match self {
            ContactMessageKind::Media(media) => Some(media.url.as_str()),
            ContactMessageKind::MediaCard(card) => Some(card.url.as_str()),
            _ => None,
        }
        .filter(|url| !url.is_empty())
    }

    fn from_member(key: &str, value: &Value) -> Result<Self, serde_json::Error> {
        Ok(match key {
            "text_message" => ContactMessageKind::Text(de::member(key, value)?),
            "media_message" => ContactMessageKind::Media(de::member(key, value)?),
            "media_card_message" => ContactMessageKind::MediaCard(de::member(key, value)?),
            "location_message" => ContactMessageKind::Location(de::member(key, value)?),
            "choice_response_message" => {
                ContactMessageKind::ChoiceResponse(de::member(key, value)?)
            }
            "fallback_message" => ContactMessageKind::Fallback(de::member(key, value)?),
            "product_response_message" => {
                ContactMessageKind::ProductResponse(de::member(key, value)?)
            }
            "channel_specific_message" => {
                ContactMessageKind::ChannelSpecific(de::member(key, value)?)
            }
            _ => ContactMessageKind::Unknown(value.clone()),
        })
    }

    fn content(&self) -> Result<Value, serde_json::Error> {
        match self {
            ContactMessageKind::Text(inner) => serde_json::to_value(inner),
            ContactMessageKind::Media(inner) => serde_json::to_value(inner),
            ContactMessageKind::MediaCard(inner) => serde_json::to_value(inner),
            ContactMessageKind::Location(inner) => serde_json::to_value(inner),
            ContactMessageKind::ChoiceResponse(inner) => serde_json::to_value(inner),
            ContactMessageKind::Fallback(inner) => serde_json::to_value(inner),
            ContactMessageKind::ProductResponse(inner) => serde_json::to_value(inner),
            ContactMessageKind::ChannelSpecific(inner) => serde_json::to_value(inner),
            ContactMessageKind::Unknown(value) => Ok(value.clone()),
        }
    }
}

impl<'de> Deserialize<'de> for ContactMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut object = Map::<String, Value>::deserialize(deserializer)?;
        let reply_to = match object.remove("reply_to") {
            None | Some(Value::Null) => None,
            Some(value) => {
                Some(de::member::<ReplyTo>("reply_to", &value).map_err(D::Error::custom)?)
                    .filter(|reply| !reply.message_id.is_empty())
            }
        };
        let kind = match de::pick(&object, CONTACT_MESSAGE_KINDS) {
            Some((key, value)) => {
                ContactMessageKind::from_member(key, value).map_err(D::Error::custom)?
            }
            None if object.is_empty() => ContactMessageKind::Unknown(Value::Null),
            None => ContactMessageKind::Unknown(Value::Object(object)),
        };
        Ok(ContactMessage { kind, reply_to })
    }
}

impl Serialize for ContactMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match &self.kind {
            ContactMessageKind::Unknown(Value::Object(object)) => {
                for (key, value) in object {
                    map.serialize_entry(key, value)?;
                }
            }
            ContactMessageKind::Unknown(_) => {}
            known => {
                let content = known.content().map_err(serde::ser::Error::custom)?;
                map.serialize_entry(known.key(), &content)?;
            }
        }
        if let Some(reply_to) = &self.reply_to {
            map.serialize_entry("reply_to", reply_to)?;
        }
        map.end()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TextMessage {
    #[serde(deserialize_with = "de::string")]
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MediaMessage {
    #[serde(deserialize_with = "de::string")]
    pub url: String,
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub thumbnail_url: Option<String>,
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub filename_override: Option<String>,
}

/// Media with a caption: WhatsApp captioned images and videos, and each attachment of an MMS.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MediaCardMessage {
    #[serde(deserialize_with = "de::string")]
    pub url: String,
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub caption: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LocationMessage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coordinates: Option<Coordinates>,
    #[serde(deserialize_with = "de::string")]
    pub title: String,
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Coordinates {
    #[serde(
        deserialize_with = "de::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub latitude: Option<f64>,
    #[serde(
        deserialize_with = "de::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub longitude: Option<f64>,
}

/// The contact picked a choice of an earlier app message.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ChoiceResponseMessage {
    /// The app message that held the choice.
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub message_id: Option<String>,
    /// Defaults (on Sinch's side) to `<message_id>_<choice text>` when the send set none.
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub postback_data: Option<String>,
}

/// A contact message Sinch could not map to a kind.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FallbackMessage {
    #[serde(
        deserialize_with = "de::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub raw_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
}

/// A WhatsApp cart. The spec, Java and Python SDKs call the text `title`, the Node SDK `text`;
/// both are kept and [`ProductResponseMessage::title`] reads either.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProductResponseMessage {
    #[serde(
        deserialize_with = "de::null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub products: Vec<Product>,
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub title: Option<String>,
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub text: Option<String>,
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub catalog_id: Option<String>,
}

impl ProductResponseMessage {
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref().or(self.text.as_deref())
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Product {
    #[serde(deserialize_with = "de::string")]
    pub id: String,
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub marketplace: Option<String>,
    #[serde(
        deserialize_with = "de::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub quantity: Option<i64>,
    #[serde(
        deserialize_with = "de::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub item_price: Option<f64>,
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub currency: Option<String>,
}

/// A channel-specific reply, e.g. a WhatsApp Flow or address reply (`message_type: nfm_reply`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ChannelSpecificMessage {
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub message_type: Option<String>,
    /// Kept as JSON: its shape depends on `message_type`. See [`ChannelSpecificMessage::nfm_reply`].
    #[serde(skip_serializing_if = "Value::is_null")]
    pub message: Value,
}

impl ChannelSpecificMessage {
    /// The WhatsApp `nfm_reply` (Flows, address messages), when this is one and it is readable.
    pub fn nfm_reply(&self) -> Option<NfmReply> {
        self.message
            .get("nfm_reply")
            .and_then(|reply| NfmReply::deserialize(reply).ok())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NfmReply {
    /// `flow` or `address_message`.
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// The form answers, as JSON text.
    #[serde(
        deserialize_with = "de::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub response_json: Option<String>,
    #[serde(
        deserialize_with = "de::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub body: Option<String>,
}

/// The status of an app message (`MessageDeliveryReceiptEvent`). De-duplicate on
/// `(message_id, status)`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MessageDeliveryReport {
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub message_id: Option<String>,
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub conversation_id: Option<String>,
    #[serde(
        deserialize_with = "de::opt_open",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<DeliveryStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_identity: Option<ChannelIdentity>,
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub contact_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// The send request's `message_metadata`, echoed.
    #[serde(
        deserialize_with = "de::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub metadata: Option<String>,
    #[serde(
        deserialize_with = "de::opt_open",
        skip_serializing_if = "Option::is_none"
    )]
    pub processing_mode: Option<ProcessingMode>,
}

/// An app message was handed to the channel (`MessageSubmitEvent`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MessageSubmitNotification {
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub message_id: Option<String>,
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub conversation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_identity: Option<ChannelIdentity>,
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub contact_id: Option<String>,
    /// The AppMessage as sent, kept as JSON.
    #[serde(skip_serializing_if = "Value::is_null")]
    pub submitted_message: Value,
    #[serde(
        deserialize_with = "de::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub metadata: Option<String>,
    #[serde(
        deserialize_with = "de::opt_open",
        skip_serializing_if = "Option::is_none"
    )]
    pub processing_mode: Option<ProcessingMode>,
}
