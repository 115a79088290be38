//! `event` (EVENT_INBOUND) and `event_delivery_report` (EVENT_DELIVERY).

use chrono::{DateTime, Utc};
use serde::de::Error as _;
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::common::{ChannelIdentity, DeliveryStatus, Direction, ProcessingMode, Reason};
use super::de;

/// Something the contact did that is not a message: typing, a reaction… (`EventInbound`).
/// Sinch sends exactly one of `contact_event` and `contact_message_event`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct EventInbound {
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_event: Option<ContactEvent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_message_event: Option<ContactMessageEvent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_identity: Option<ChannelIdentity>,
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub contact_id: Option<String>,
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub conversation_id: Option<String>,
    #[serde(
        deserialize_with = "de::opt_time",
        skip_serializing_if = "Option::is_none"
    )]
    pub accept_time: Option<DateTime<Utc>>,
    #[serde(
        deserialize_with = "de::opt_open",
        skip_serializing_if = "Option::is_none"
    )]
    pub processing_mode: Option<ProcessingMode>,
}

/// An event about the conversation. Unknown kinds keep the whole `contact_event` object.
#[derive(Debug, Clone, PartialEq)]
pub enum ContactEvent {
    Composing,
    ComposingEnd,
    ConversationDeleted,
    /// An Instagram comment.
    Comment(CommentEvent),
    Generic(GenericEvent),
    Unknown(Value),
}

const CONTACT_EVENT_KINDS: &[&str] = &[
    "composing_event",
    "composing_end_event",
    "conversation_deleted_event",
    "comment_event",
    "generic_event",
];

impl ContactEvent {
    /// The wire key, e.g. `composing_event`; for an unknown kind its first key, or `""`.
    pub fn key(&self) -> &str {
        match self {
            ContactEvent::Composing => "composing_event",
            ContactEvent::ComposingEnd => "composing_end_event",
            ContactEvent::ConversationDeleted => "conversation_deleted_event",
            ContactEvent::Comment(_) => "comment_event",
            ContactEvent::Generic(_) => "generic_event",
            ContactEvent::Unknown(value) => first_key(value),
        }
    }

    fn content(&self) -> Result<Value, serde_json::Error> {
        match self {
            ContactEvent::Composing
            | ContactEvent::ComposingEnd
            | ContactEvent::ConversationDeleted => Ok(Value::Object(Map::new())),
            ContactEvent::Comment(inner) => serde_json::to_value(inner),
            ContactEvent::Generic(inner) => serde_json::to_value(inner),
            ContactEvent::Unknown(value) => Ok(value.clone()),
        }
    }
}

impl<'de> Deserialize<'de> for ContactEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let object = Map::<String, Value>::deserialize(deserializer)?;
        Ok(match de::pick(&object, CONTACT_EVENT_KINDS) {
            // The markers carry no data; whatever they hold is irrelevant.
            Some(("composing_event", _)) => ContactEvent::Composing,
            Some(("composing_end_event", _)) => ContactEvent::ComposingEnd,
            Some(("conversation_deleted_event", _)) => ContactEvent::ConversationDeleted,
            Some((key @ "comment_event", value)) => {
                ContactEvent::Comment(de::member(key, value).map_err(D::Error::custom)?)
            }
            Some((key @ "generic_event", value)) => {
                ContactEvent::Generic(de::member(key, value).map_err(D::Error::custom)?)
            }
            _ => ContactEvent::Unknown(Value::Object(object)),
        })
    }
}

impl Serialize for ContactEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let content = self.content().map_err(serde::ser::Error::custom)?;
        serialize_one_of(
            serializer,
            self.key(),
            matches!(self, ContactEvent::Unknown(_)),
            content,
        )
    }
}

/// An event about one message (beta). Unknown kinds keep the whole object.
#[derive(Debug, Clone, PartialEq)]
pub enum ContactMessageEvent {
    Reaction(ReactionEvent),
    /// Kept as JSON: the spec gives it no stable shape yet.
    ShortlinkActivated(Value),
    /// Kept as JSON: the spec gives it no stable shape yet.
    PaymentStatusUpdate(Value),
    Unknown(Value),
}

const CONTACT_MESSAGE_EVENT_KINDS: &[&str] = &[
    "reaction_event",
    "shortlink_activated_event",
    "payment_status_update_event",
];

impl ContactMessageEvent {
    /// The wire key, e.g. `reaction_event`; for an unknown kind its first key, or `""`.
    pub fn key(&self) -> &str {
        match self {
            ContactMessageEvent::Reaction(_) => "reaction_event",
            ContactMessageEvent::ShortlinkActivated(_) => "shortlink_activated_event",
            ContactMessageEvent::PaymentStatusUpdate(_) => "payment_status_update_event",
            ContactMessageEvent::Unknown(value) => first_key(value),
        }
    }

    fn content(&self) -> Result<Value, serde_json::Error> {
        match self {
            ContactMessageEvent::Reaction(inner) => serde_json::to_value(inner),
            ContactMessageEvent::ShortlinkActivated(value)
            | ContactMessageEvent::PaymentStatusUpdate(value)
            | ContactMessageEvent::Unknown(value) => Ok(value.clone()),
        }
    }
}

impl<'de> Deserialize<'de> for ContactMessageEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let object = Map::<String, Value>::deserialize(deserializer)?;
        Ok(match de::pick(&object, CONTACT_MESSAGE_EVENT_KINDS) {
            Some((key @ "reaction_event", value)) => {
                ContactMessageEvent::Reaction(de::member(key, value).map_err(D::Error::custom)?)
            }
            Some(("shortlink_activated_event", value)) => {
                ContactMessageEvent::ShortlinkActivated(value.clone())
            }
            Some(("payment_status_update_event", value)) => {
                ContactMessageEvent::PaymentStatusUpdate(value.clone())
            }
            _ => ContactMessageEvent::Unknown(Value::Object(object)),
        })
    }
}

impl Serialize for ContactMessageEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let content = self.content().map_err(serde::ser::Error::custom)?;
        let unknown = matches!(self, ContactMessageEvent::Unknown(_));
        serialize_one_of(serializer, self.key(), unknown, content)
    }
}

fn first_key(value: &Value) -> &str {
    value
        .as_object()
        .and_then(|object| object.keys().next())
        .map_or("", String::as_str)
}

/// A known kind is written as `{key: content}`; an unknown one is written back as it came.
fn serialize_one_of<S: Serializer>(
    serializer: S,
    key: &str,
    unknown: bool,
    content: Value,
) -> Result<S::Ok, S::Error> {
    if unknown {
        return match content {
            Value::Object(object) => object.serialize(serializer),
            _ => Map::new().serialize(serializer),
        };
    }
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry(key, &content)?;
    map.end()
}

open_enum! {
    pub enum CommentType {
        Feed = "FEED",
        Live = "LIVE",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CommentEvent {
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub text: Option<String>,
    #[serde(
        deserialize_with = "de::opt_open",
        skip_serializing_if = "Option::is_none"
    )]
    pub comment_type: Option<CommentType>,
    /// The id of the post or live video commented on.
    #[serde(
        deserialize_with = "de::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub commented_on: Option<String>,
    /// The commenter's user name.
    #[serde(
        deserialize_with = "de::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub user: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GenericEvent {
    #[serde(skip_serializing_if = "Value::is_null")]
    pub payload: Value,
}

open_enum! {
    pub enum ReactionAction {
        React = "REACTION_ACTION_REACT",
        Unreact = "REACTION_ACTION_UNREACT",
        Unknown = "REACTION_ACTION_UNKNOWN",
    }
}

/// The contact reacted to (or un-reacted from) an app message.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ReactionEvent {
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub emoji: Option<String>,
    #[serde(
        deserialize_with = "de::opt_open",
        skip_serializing_if = "Option::is_none"
    )]
    pub action: Option<ReactionAction>,
    /// The app message reacted to.
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub message_id: Option<String>,
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub reaction_category: Option<String>,
}

/// The status of an app event sent with `events:send` (`EventDeliveryReport`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct EventDeliveryReport {
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub event_id: Option<String>,
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
