//! Typed Sinch Conversation API callbacks.
//!
//! A callback is a common envelope (`app_id`, `project_id`, times, metadata) plus exactly one
//! top-level key naming its kind (`message`, `message_delivery_report`, …); [`parse_callback`]
//! dispatches on that key, as Sinch's SDKs do.
//!
//! A callback whose signature verified must never be refused, so parsing is as lenient as it can
//! be: unknown fields are ignored, every enum is open, absent or `null` fields take defaults,
//! empty ids (DISPATCH mode) become `None`, unreadable times become `None`. Only a body that is
//! not a JSON object is an error. An unknown top-level key gives [`CallbackBody::Unknown`], and a
//! known key whose content does not fit the model gives [`CallbackBody::Unparsed`]; in both
//! cases the caller still has the raw bytes to forward.
//!
//! `Serialize` on [`Callback`] writes Sinch's wire shape back (envelope plus one key), so
//! `parse_callback(serde_json::to_vec(&callback))` gives the same callback; `Unknown` and
//! `Unparsed` bodies have no content to write, and only the envelope comes out.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::channel::Channel;

/// An enum of the wire strings Sinch documents today, plus `Other(String)` for the ones it adds
/// later: decoding one never fails.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this build does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// The wire string.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )*
                    $name::Other(other) => other,
                }
            }

            /// Never fails: an unknown string becomes `Other`.
            pub fn from_wire(wire: &str) -> Self {
                match wire {
                    $( $wire => $name::$variant, )*
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl $crate::sinch::callback::de::OpenEnum for $name {
            fn wire(&self) -> &str {
                self.as_str()
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct WireVisitor;
                impl ::serde::de::Visitor<'_> for WireVisitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: ::serde::de::Error>(self, wire: &str) -> Result<$name, E> {
                        Ok($name::from_wire(wire))
                    }
                }
                deserializer.deserialize_str(WireVisitor)
            }
        }
    };
}

mod common;
mod de;
mod event;
pub mod identity;
mod message;
mod notification;

pub use common::{ChannelIdentity, DeliveryStatus, Direction, ProcessingMode, Reason};
pub use de::parse_time;
pub use event::{
    CommentEvent, CommentType, ContactEvent, ContactMessageEvent, EventDeliveryReport,
    EventInbound, GenericEvent, ReactionAction, ReactionEvent,
};
pub use message::{
    ChannelSpecificMessage, ChoiceResponseMessage, ContactMessage, ContactMessageKind, Coordinates,
    FallbackMessage, LocationMessage, MediaCardMessage, MediaMessage, MessageDeliveryReport,
    MessageInbound, MessageSubmitNotification, NfmReply, Product, ProductResponseMessage, ReplyTo,
    TextMessage,
};
pub use notification::{
    CapabilityNotification, CapabilityStatus, ChannelEvent, ChannelEventNotification,
    ConsentStatus, ErrorDetails, OptNotification, UnsupportedCallback,
};

/// Why a body is not a callback at all. Anything else parses (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackParseError {
    /// The message is serde_json's, which names the position but never quotes the body.
    #[error("callback body is not JSON: {0}")]
    NotJson(String),
    #[error("callback body is JSON but not an object (it is {0})")]
    NotAnObject(&'static str),
}

/// The kinds of callback Sinch documents: one webhook trigger and one top-level key each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CallbackKind {
    Message,
    MessageDeliveryReport,
    MessageSubmitNotification,
    Event,
    EventDeliveryReport,
    ConversationStartNotification,
    ConversationStopNotification,
    ConversationDeleteNotification,
    ContactCreateNotification,
    ContactDeleteNotification,
    ContactUpdateNotification,
    ContactMergeNotification,
    DuplicatedContactIdentitiesNotification,
    CapabilityNotification,
    OptInNotification,
    OptOutNotification,
    ChannelEventNotification,
    UnsupportedCallback,
    SmartConversationNotification,
    MessageRedaction,
    RecordNotification,
}

/// (kind, top-level key, trigger), in dispatch priority order: if a body ever carried two known
/// keys, the first here wins. One table, so key and trigger cannot drift apart.
const KINDS: &[(CallbackKind, &str, &str)] = &[
    (CallbackKind::Message, "message", "MESSAGE_INBOUND"),
    (
        CallbackKind::MessageDeliveryReport,
        "message_delivery_report",
        "MESSAGE_DELIVERY",
    ),
    (
        CallbackKind::MessageSubmitNotification,
        "message_submit_notification",
        "MESSAGE_SUBMIT",
    ),
    (CallbackKind::Event, "event", "EVENT_INBOUND"),
    (
        CallbackKind::EventDeliveryReport,
        "event_delivery_report",
        "EVENT_DELIVERY",
    ),
    (
        CallbackKind::ConversationStartNotification,
        "conversation_start_notification",
        "CONVERSATION_START",
    ),
    (
        CallbackKind::ConversationStopNotification,
        "conversation_stop_notification",
        "CONVERSATION_STOP",
    ),
    (
        CallbackKind::ConversationDeleteNotification,
        "conversation_delete_notification",
        "CONVERSATION_DELETE",
    ),
    (
        CallbackKind::ContactCreateNotification,
        "contact_create_notification",
        "CONTACT_CREATE",
    ),
    (
        CallbackKind::ContactDeleteNotification,
        "contact_delete_notification",
        "CONTACT_DELETE",
    ),
    (
        CallbackKind::ContactUpdateNotification,
        "contact_update_notification",
        "CONTACT_UPDATE",
    ),
    (
        CallbackKind::ContactMergeNotification,
        "contact_merge_notification",
        "CONTACT_MERGE",
    ),
    (
        CallbackKind::DuplicatedContactIdentitiesNotification,
        "duplicated_contact_identities_notification",
        "CONTACT_IDENTITIES_DUPLICATION",
    ),
    (
        CallbackKind::CapabilityNotification,
        "capability_notification",
        "CAPABILITY",
    ),
    (
        CallbackKind::OptInNotification,
        "opt_in_notification",
        "OPT_IN",
    ),
    (
        CallbackKind::OptOutNotification,
        "opt_out_notification",
        "OPT_OUT",
    ),
    (
        CallbackKind::ChannelEventNotification,
        "channel_event_notification",
        "CHANNEL_EVENT",
    ),
    (
        CallbackKind::UnsupportedCallback,
        "unsupported_callback",
        "UNSUPPORTED",
    ),
    // The spec's enum says SMART_CONVERSATION; the Node SDK and the docs list SMART_CONVERSATIONS.
    (
        CallbackKind::SmartConversationNotification,
        "smart_conversation_notification",
        "SMART_CONVERSATION",
    ),
    (
        CallbackKind::MessageRedaction,
        "message_redaction",
        "MESSAGE_INBOUND_SMART_CONVERSATION_REDACTION",
    ),
    (
        CallbackKind::RecordNotification,
        "record_notification",
        "RECORD_NOTIFICATION",
    ),
];

impl CallbackKind {
    /// Every kind, in dispatch priority order.
    pub fn all() -> impl Iterator<Item = CallbackKind> {
        KINDS.iter().map(|(kind, _, _)| *kind)
    }

    fn entry(self) -> (&'static str, &'static str) {
        KINDS
            .iter()
            .find(|(kind, _, _)| *kind == self)
            .map_or(("", ""), |(_, key, trigger)| (*key, *trigger))
    }

    /// The top-level key, e.g. `message_delivery_report`.
    pub fn key(self) -> &'static str {
        self.entry().0
    }

    /// The webhook trigger, e.g. `MESSAGE_DELIVERY`.
    pub fn trigger(self) -> &'static str {
        self.entry().1
    }

    pub fn from_key(key: &str) -> Option<CallbackKind> {
        KINDS
            .iter()
            .find(|(_, k, _)| *k == key)
            .map(|(kind, _, _)| *kind)
    }

    pub fn from_trigger(trigger: &str) -> Option<CallbackKind> {
        KINDS
            .iter()
            .find(|(_, _, t)| *t == trigger)
            .map(|(kind, _, _)| *kind)
    }
}

/// The trigger reported for a body of no known kind.
pub const UNKNOWN_TRIGGER: &str = "UNKNOWN";

/// One Sinch callback.
#[derive(Debug, Clone, PartialEq)]
pub struct Callback {
    /// `""` when absent.
    pub app_id: String,
    /// `""` when absent (and Sinch does send `""` on some callbacks).
    pub project_id: String,
    /// When Sinch accepted the callback from the channel.
    pub accepted_time: Option<DateTime<Utc>>,
    /// When the channel says the event happened; not always present.
    pub event_time: Option<DateTime<Utc>>,
    /// On MOs, the conversation metadata set by earlier sends, as JSON text. `""` becomes `None`.
    pub message_metadata: Option<String>,
    /// The `correlation_id` of the send request (also carried on later MOs). `""` becomes `None`.
    pub correlation_id: Option<String>,
    pub body: CallbackBody,
}

/// The kind-specific part of a callback. The kinds a contact center acts on are typed; the
/// others are kept as JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum CallbackBody {
    Message(MessageInbound),
    MessageDeliveryReport(MessageDeliveryReport),
    MessageSubmitNotification(MessageSubmitNotification),
    Event(EventInbound),
    EventDeliveryReport(EventDeliveryReport),
    ConversationStartNotification(Value),
    ConversationStopNotification(Value),
    ConversationDeleteNotification(Value),
    ContactCreateNotification(Value),
    ContactDeleteNotification(Value),
    ContactUpdateNotification(Value),
    ContactMergeNotification(Value),
    DuplicatedContactIdentitiesNotification(Value),
    CapabilityNotification(CapabilityNotification),
    OptInNotification(OptNotification),
    OptOutNotification(OptNotification),
    ChannelEventNotification(ChannelEventNotification),
    UnsupportedCallback(UnsupportedCallback),
    SmartConversationNotification(Value),
    /// Same shape as `message`.
    MessageRedaction(MessageInbound),
    RecordNotification(Value),
    /// None of the known keys is present. `key` is the first top-level key that is not an
    /// envelope field (preferring one with a non-null value), if any.
    Unknown {
        key: Option<String>,
    },
    /// A known key whose content does not fit the model (e.g. a field of the wrong JSON type).
    /// `reason` is serde_json's message: it may quote a value from the payload, so log it with
    /// the same care as the payload itself.
    Unparsed {
        key: String,
        trigger: String,
        reason: String,
    },
}

impl CallbackBody {
    /// The known kind, also for [`CallbackBody::Unparsed`]; `None` for [`CallbackBody::Unknown`].
    pub fn kind(&self) -> Option<CallbackKind> {
        Some(match self {
            CallbackBody::Message(_) => CallbackKind::Message,
            CallbackBody::MessageDeliveryReport(_) => CallbackKind::MessageDeliveryReport,
            CallbackBody::MessageSubmitNotification(_) => CallbackKind::MessageSubmitNotification,
            CallbackBody::Event(_) => CallbackKind::Event,
            CallbackBody::EventDeliveryReport(_) => CallbackKind::EventDeliveryReport,
            CallbackBody::ConversationStartNotification(_) => {
                CallbackKind::ConversationStartNotification
            }
            CallbackBody::ConversationStopNotification(_) => {
                CallbackKind::ConversationStopNotification
            }
            CallbackBody::ConversationDeleteNotification(_) => {
                CallbackKind::ConversationDeleteNotification
            }
            CallbackBody::ContactCreateNotification(_) => CallbackKind::ContactCreateNotification,
            CallbackBody::ContactDeleteNotification(_) => CallbackKind::ContactDeleteNotification,
            CallbackBody::ContactUpdateNotification(_) => CallbackKind::ContactUpdateNotification,
            CallbackBody::ContactMergeNotification(_) => CallbackKind::ContactMergeNotification,
            CallbackBody::DuplicatedContactIdentitiesNotification(_) => {
                CallbackKind::DuplicatedContactIdentitiesNotification
            }
            CallbackBody::CapabilityNotification(_) => CallbackKind::CapabilityNotification,
            CallbackBody::OptInNotification(_) => CallbackKind::OptInNotification,
            CallbackBody::OptOutNotification(_) => CallbackKind::OptOutNotification,
            CallbackBody::ChannelEventNotification(_) => CallbackKind::ChannelEventNotification,
            CallbackBody::UnsupportedCallback(_) => CallbackKind::UnsupportedCallback,
            CallbackBody::SmartConversationNotification(_) => {
                CallbackKind::SmartConversationNotification
            }
            CallbackBody::MessageRedaction(_) => CallbackKind::MessageRedaction,
            CallbackBody::RecordNotification(_) => CallbackKind::RecordNotification,
            CallbackBody::Unparsed { key, .. } => return CallbackKind::from_key(key),
            CallbackBody::Unknown { .. } => return None,
        })
    }

    /// The top-level key, e.g. `message`; for an unknown kind the key found, or `""`.
    pub fn key(&self) -> &str {
        match self {
            CallbackBody::Unknown { key } => key.as_deref().unwrap_or(""),
            CallbackBody::Unparsed { key, .. } => key,
            known => known.kind().map_or("", CallbackKind::key),
        }
    }

    /// The webhook trigger, e.g. `MESSAGE_INBOUND`; [`UNKNOWN_TRIGGER`] for an unknown kind.
    pub fn trigger(&self) -> &str {
        match self {
            CallbackBody::Unknown { .. } => UNKNOWN_TRIGGER,
            CallbackBody::Unparsed { trigger, .. } => trigger,
            known => known.kind().map_or(UNKNOWN_TRIGGER, CallbackKind::trigger),
        }
    }

    /// True for the kinds with a typed or JSON body, false for `Unknown` and `Unparsed`.
    pub fn is_parsed(&self) -> bool {
        !matches!(
            self,
            CallbackBody::Unknown { .. } | CallbackBody::Unparsed { .. }
        )
    }

    pub fn conversation_id(&self) -> Option<&str> {
        match self {
            CallbackBody::Message(m) | CallbackBody::MessageRedaction(m) => {
                m.conversation_id.as_deref()
            }
            CallbackBody::MessageDeliveryReport(r) => r.conversation_id.as_deref(),
            CallbackBody::MessageSubmitNotification(s) => s.conversation_id.as_deref(),
            CallbackBody::Event(e) => e.conversation_id.as_deref(),
            CallbackBody::EventDeliveryReport(r) => r.conversation_id.as_deref(),
            CallbackBody::UnsupportedCallback(u) => u.conversation_id.as_deref(),
            CallbackBody::ConversationStartNotification(v)
            | CallbackBody::ConversationStopNotification(v)
            | CallbackBody::ConversationDeleteNotification(v) => json_id(v, "/conversation/id"),
            CallbackBody::SmartConversationNotification(v) => json_id(v, "/conversation_id"),
            _ => None,
        }
    }

    pub fn contact_id(&self) -> Option<&str> {
        match self {
            CallbackBody::Message(m) | CallbackBody::MessageRedaction(m) => m.contact_id.as_deref(),
            CallbackBody::MessageDeliveryReport(r) => r.contact_id.as_deref(),
            CallbackBody::MessageSubmitNotification(s) => s.contact_id.as_deref(),
            CallbackBody::Event(e) => e.contact_id.as_deref(),
            CallbackBody::EventDeliveryReport(r) => r.contact_id.as_deref(),
            CallbackBody::UnsupportedCallback(u) => u.contact_id.as_deref(),
            CallbackBody::OptInNotification(o) | CallbackBody::OptOutNotification(o) => {
                o.contact_id.as_deref()
            }
            CallbackBody::CapabilityNotification(c) => c.contact_id.as_deref(),
            CallbackBody::ConversationStartNotification(v)
            | CallbackBody::ConversationStopNotification(v)
            | CallbackBody::ConversationDeleteNotification(v) => {
                json_id(v, "/conversation/contact_id")
            }
            CallbackBody::ContactCreateNotification(v)
            | CallbackBody::ContactDeleteNotification(v)
            | CallbackBody::ContactUpdateNotification(v) => json_id(v, "/contact/id"),
            CallbackBody::ContactMergeNotification(v) => json_id(v, "/preserved_contact/id"),
            CallbackBody::SmartConversationNotification(v) => json_id(v, "/contact_id"),
            _ => None,
        }
    }

    /// The contact's address. Borrowed where the callback has a `channel_identity`; built from
    /// the `channel` and `identity` fields for consent and capability notifications.
    pub fn channel_identity(&self) -> Option<Cow<'_, ChannelIdentity>> {
        let borrowed = match self {
            CallbackBody::Message(m) | CallbackBody::MessageRedaction(m) => {
                m.channel_identity.as_ref()
            }
            CallbackBody::MessageDeliveryReport(r) => r.channel_identity.as_ref(),
            CallbackBody::MessageSubmitNotification(s) => s.channel_identity.as_ref(),
            CallbackBody::Event(e) => e.channel_identity.as_ref(),
            CallbackBody::EventDeliveryReport(r) => r.channel_identity.as_ref(),
            CallbackBody::UnsupportedCallback(u) => u.channel_identity.as_ref(),
            CallbackBody::OptInNotification(o) | CallbackBody::OptOutNotification(o) => {
                return o.channel_identity().map(Cow::Owned);
            }
            CallbackBody::CapabilityNotification(c) => {
                return c.channel_identity().map(Cow::Owned);
            }
            _ => None,
        };
        borrowed.map(Cow::Borrowed)
    }

    /// The channel the callback is about, when it says (an empty channel counts as none).
    pub fn channel(&self) -> Option<&Channel> {
        let channel = match self {
            CallbackBody::Message(m) | CallbackBody::MessageRedaction(m) => {
                identity_channel(&m.channel_identity)
            }
            CallbackBody::MessageDeliveryReport(r) => identity_channel(&r.channel_identity),
            CallbackBody::MessageSubmitNotification(s) => identity_channel(&s.channel_identity),
            CallbackBody::Event(e) => identity_channel(&e.channel_identity),
            CallbackBody::EventDeliveryReport(r) => identity_channel(&r.channel_identity),
            CallbackBody::UnsupportedCallback(u) => u
                .channel
                .as_ref()
                .or_else(|| identity_channel(&u.channel_identity)),
            CallbackBody::OptInNotification(o) | CallbackBody::OptOutNotification(o) => {
                o.channel.as_ref()
            }
            CallbackBody::CapabilityNotification(c) => c.channel.as_ref(),
            CallbackBody::ChannelEventNotification(n) => n.channel_event.channel.as_ref(),
            _ => None,
        };
        channel.filter(|channel| !channel.sinch_id().is_empty())
    }

    /// The Sinch id of what this callback reports on, for de-duplication: `message.id` for an MO,
    /// `message_id` for a delivery report or submit notification (compose it with the status),
    /// `event.id`, `event_id`, `request_id` for consent and capability notifications,
    /// `unsupported_callback.id`. Ids of different kinds can coincide (an MO and its DLRs do not,
    /// but a DLR and a submit notification do), so key de-duplication on [`CallbackBody::key`]
    /// too.
    pub fn sinch_id(&self) -> Option<&str> {
        match self {
            CallbackBody::Message(m) | CallbackBody::MessageRedaction(m) => m.id.as_deref(),
            CallbackBody::MessageDeliveryReport(r) => r.message_id.as_deref(),
            CallbackBody::MessageSubmitNotification(s) => s.message_id.as_deref(),
            CallbackBody::Event(e) => e.id.as_deref(),
            CallbackBody::EventDeliveryReport(r) => r.event_id.as_deref(),
            CallbackBody::OptInNotification(o) | CallbackBody::OptOutNotification(o) => {
                o.request_id.as_deref()
            }
            CallbackBody::CapabilityNotification(c) => c.request_id.as_deref(),
            CallbackBody::UnsupportedCallback(u) => u.id.as_deref(),
            _ => None,
        }
    }

    pub fn processing_mode(&self) -> Option<&ProcessingMode> {
        match self {
            CallbackBody::Message(m) | CallbackBody::MessageRedaction(m) => {
                m.processing_mode.as_ref()
            }
            CallbackBody::MessageDeliveryReport(r) => r.processing_mode.as_ref(),
            CallbackBody::MessageSubmitNotification(s) => s.processing_mode.as_ref(),
            CallbackBody::Event(e) => e.processing_mode.as_ref(),
            CallbackBody::EventDeliveryReport(r) => r.processing_mode.as_ref(),
            CallbackBody::OptInNotification(o) | CallbackBody::OptOutNotification(o) => {
                o.processing_mode.as_ref()
            }
            CallbackBody::UnsupportedCallback(u) => u.processing_mode.as_ref(),
            _ => None,
        }
    }

    /// The content under the top-level key, as JSON; `None` for `Unknown` and `Unparsed`.
    pub fn content(&self) -> Option<Result<Value, serde_json::Error>> {
        Some(match self {
            CallbackBody::Message(m) | CallbackBody::MessageRedaction(m) => serde_json::to_value(m),
            CallbackBody::MessageDeliveryReport(r) => serde_json::to_value(r),
            CallbackBody::MessageSubmitNotification(s) => serde_json::to_value(s),
            CallbackBody::Event(e) => serde_json::to_value(e),
            CallbackBody::EventDeliveryReport(r) => serde_json::to_value(r),
            CallbackBody::CapabilityNotification(c) => serde_json::to_value(c),
            CallbackBody::OptInNotification(o) | CallbackBody::OptOutNotification(o) => {
                serde_json::to_value(o)
            }
            CallbackBody::ChannelEventNotification(n) => serde_json::to_value(n),
            CallbackBody::UnsupportedCallback(u) => serde_json::to_value(u),
            CallbackBody::ConversationStartNotification(v)
            | CallbackBody::ConversationStopNotification(v)
            | CallbackBody::ConversationDeleteNotification(v)
            | CallbackBody::ContactCreateNotification(v)
            | CallbackBody::ContactDeleteNotification(v)
            | CallbackBody::ContactUpdateNotification(v)
            | CallbackBody::ContactMergeNotification(v)
            | CallbackBody::DuplicatedContactIdentitiesNotification(v)
            | CallbackBody::SmartConversationNotification(v)
            | CallbackBody::RecordNotification(v) => Ok(v.clone()),
            CallbackBody::Unknown { .. } | CallbackBody::Unparsed { .. } => return None,
        })
    }

    fn parse(kind: CallbackKind, raw: &str) -> CallbackBody {
        fn typed<'a, T: Deserialize<'a>>(
            raw: &'a str,
            wrap: fn(T) -> CallbackBody,
        ) -> Result<CallbackBody, serde_json::Error> {
            serde_json::from_str(raw).map(wrap)
        }
        let parsed = match kind {
            CallbackKind::Message => typed(raw, CallbackBody::Message),
            CallbackKind::MessageDeliveryReport => typed(raw, CallbackBody::MessageDeliveryReport),
            CallbackKind::MessageSubmitNotification => {
                typed(raw, CallbackBody::MessageSubmitNotification)
            }
            CallbackKind::Event => typed(raw, CallbackBody::Event),
            CallbackKind::EventDeliveryReport => typed(raw, CallbackBody::EventDeliveryReport),
            CallbackKind::ConversationStartNotification => {
                typed(raw, CallbackBody::ConversationStartNotification)
            }
            CallbackKind::ConversationStopNotification => {
                typed(raw, CallbackBody::ConversationStopNotification)
            }
            CallbackKind::ConversationDeleteNotification => {
                typed(raw, CallbackBody::ConversationDeleteNotification)
            }
            CallbackKind::ContactCreateNotification => {
                typed(raw, CallbackBody::ContactCreateNotification)
            }
            CallbackKind::ContactDeleteNotification => {
                typed(raw, CallbackBody::ContactDeleteNotification)
            }
            CallbackKind::ContactUpdateNotification => {
                typed(raw, CallbackBody::ContactUpdateNotification)
            }
            CallbackKind::ContactMergeNotification => {
                typed(raw, CallbackBody::ContactMergeNotification)
            }
            CallbackKind::DuplicatedContactIdentitiesNotification => {
                typed(raw, CallbackBody::DuplicatedContactIdentitiesNotification)
            }
            CallbackKind::CapabilityNotification => {
                typed(raw, CallbackBody::CapabilityNotification)
            }
            CallbackKind::OptInNotification => typed(raw, CallbackBody::OptInNotification),
            CallbackKind::OptOutNotification => typed(raw, CallbackBody::OptOutNotification),
            CallbackKind::ChannelEventNotification => {
                typed(raw, CallbackBody::ChannelEventNotification)
            }
            CallbackKind::UnsupportedCallback => typed(raw, CallbackBody::UnsupportedCallback),
            CallbackKind::SmartConversationNotification => {
                typed(raw, CallbackBody::SmartConversationNotification)
            }
            CallbackKind::MessageRedaction => typed(raw, CallbackBody::MessageRedaction),
            CallbackKind::RecordNotification => typed(raw, CallbackBody::RecordNotification),
        };
        parsed.unwrap_or_else(|err| CallbackBody::Unparsed {
            key: kind.key().to_owned(),
            trigger: kind.trigger().to_owned(),
            reason: err.to_string(),
        })
    }
}

fn json_id<'v>(value: &'v Value, pointer: &str) -> Option<&'v str> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
}

impl Callback {
    /// See [`CallbackBody::key`].
    pub fn key(&self) -> &str {
        self.body.key()
    }

    /// See [`CallbackBody::trigger`].
    pub fn trigger(&self) -> &str {
        self.body.trigger()
    }

    pub fn kind(&self) -> Option<CallbackKind> {
        self.body.kind()
    }

    pub fn conversation_id(&self) -> Option<&str> {
        self.body.conversation_id()
    }

    pub fn contact_id(&self) -> Option<&str> {
        self.body.contact_id()
    }

    /// See [`CallbackBody::channel_identity`].
    pub fn channel_identity(&self) -> Option<Cow<'_, ChannelIdentity>> {
        self.body.channel_identity()
    }

    pub fn channel(&self) -> Option<&Channel> {
        self.body.channel()
    }

    /// See [`CallbackBody::sinch_id`].
    pub fn sinch_id(&self) -> Option<&str> {
        self.body.sinch_id()
    }

    pub fn processing_mode(&self) -> Option<&ProcessingMode> {
        self.body.processing_mode()
    }
}

const ENVELOPE_FIELDS: &[&str] = &[
    "app_id",
    "project_id",
    "accepted_time",
    "event_time",
    "message_metadata",
    "correlation_id",
];

fn identity_channel(identity: &Option<ChannelIdentity>) -> Option<&Channel> {
    identity.as_ref().map(|identity| &identity.channel)
}

/// The top-level members in document order (a `serde_json::Map` would sort them, or not,
/// depending on a feature flag), each value left unparsed.
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> serde::de::Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, &'de RawValue>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

fn is_null(raw: &RawValue) -> bool {
    raw.get().trim() == "null"
}

fn json_type(raw: &str) -> &'static str {
    match raw.trim_start().as_bytes().first() {
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

/// Parses a callback body (the exact bytes received). Fails only when the body is not JSON or not
/// a JSON object; see the module docs for how everything else is tolerated.
pub fn parse_callback(body: &[u8]) -> Result<Callback, CallbackParseError> {
    let raw: &RawValue =
        serde_json::from_slice(body).map_err(|err| CallbackParseError::NotJson(err.to_string()))?;
    let text = raw.get();
    if !text.trim_start().starts_with('{') {
        return Err(CallbackParseError::NotAnObject(json_type(text)));
    }
    let Members(members) =
        serde_json::from_str(text).map_err(|err| CallbackParseError::NotJson(err.to_string()))?;

    let mut callback = Callback {
        app_id: String::new(),
        project_id: String::new(),
        accepted_time: None,
        event_time: None,
        message_metadata: None,
        correlation_id: None,
        body: CallbackBody::Unknown { key: None },
    };
    let mut others: Vec<(&str, &RawValue)> = Vec::new();
    // With duplicate keys the last one wins, as in serde_json's own maps.
    for (key, raw) in &members {
        if !ENVELOPE_FIELDS.contains(&key.as_str()) {
            others.push((key.as_str(), raw));
            continue;
        }
        // Envelope values are small; one the model cannot read is treated as absent.
        let value: Value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
        match key.as_str() {
            "app_id" => callback.app_id = value.as_str().unwrap_or_default().to_owned(),
            "project_id" => callback.project_id = value.as_str().unwrap_or_default().to_owned(),
            "accepted_time" => callback.accepted_time = de::time_of(&value),
            "event_time" => callback.event_time = de::time_of(&value),
            "message_metadata" => callback.message_metadata = de::text_of(&value),
            "correlation_id" => callback.correlation_id = de::text_of(&value),
            _ => {}
        }
    }

    let known = KINDS.iter().find_map(|(kind, key, _)| {
        others
            .iter()
            .rev()
            .find(|(name, raw)| name == key && !is_null(raw))
            .map(|(_, raw)| (*kind, *raw))
    });
    callback.body = match known {
        Some((kind, raw)) => CallbackBody::parse(kind, raw.get()),
        None => CallbackBody::Unknown {
            key: others
                .iter()
                .find(|(_, raw)| !is_null(raw))
                .or_else(|| others.first())
                .map(|(key, _)| (*key).to_owned()),
        },
    };
    Ok(callback)
}

impl Serialize for Callback {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("app_id", &self.app_id)?;
        map.serialize_entry("project_id", &self.project_id)?;
        if let Some(time) = &self.accepted_time {
            map.serialize_entry("accepted_time", time)?;
        }
        if let Some(time) = &self.event_time {
            map.serialize_entry("event_time", time)?;
        }
        if let Some(metadata) = &self.message_metadata {
            map.serialize_entry("message_metadata", metadata)?;
        }
        if let Some(correlation_id) = &self.correlation_id {
            map.serialize_entry("correlation_id", correlation_id)?;
        }
        if let Some(content) = self.body.content() {
            let content = content.map_err(serde::ser::Error::custom)?;
            map.serialize_entry(self.body.key(), &content)?;
        }
        map.end()
    }
}
