//! Types used by several callback kinds.

use serde::{Deserialize, Serialize};

use super::de;
use crate::channel::Channel;

/// A contact's address on one channel (`ChannelIdentity`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChannelIdentity {
    /// `Channel::Other("")` when Sinch left it out.
    #[serde(default = "de::no_channel", deserialize_with = "de::channel")]
    pub channel: Channel,
    /// An MSISDN (usually without "+"), or an app-scoped id such as a Messenger PSID.
    #[serde(default, deserialize_with = "de::string")]
    pub identity: String,
    /// Set for app-scoped identities (Messenger, Instagram, LINE, WeChat, Viber Bot).
    #[serde(
        default,
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub app_id: Option<String>,
}

/// Why a message failed, or why Sinch could not map a contact message (`Reason`).
/// Codes stay open strings: Sinch adds codes, and the SDKs already disagree on the list.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Reason {
    /// E.g. `OUTSIDE_ALLOWED_SENDING_WINDOW`; `""` when absent.
    #[serde(deserialize_with = "de::string")]
    pub code: String,
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// E.g. `UNSPECIFIED_SUB_CODE`, `ATTACHMENT_REJECTED`.
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub sub_code: Option<String>,
    /// The raw channel error code (WhatsApp).
    #[serde(
        deserialize_with = "de::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub channel_code: Option<String>,
}

open_enum! {
    /// `CONVERSATION` keeps contacts and conversations; `DISPATCH` (the default for apps created
    /// since April 2025) leaves their ids empty.
    pub enum ProcessingMode {
        Conversation = "CONVERSATION",
        Dispatch = "DISPATCH",
    }
}

open_enum! {
    /// Always `TO_APP` on inbound callbacks.
    pub enum Direction {
        ToApp = "TO_APP",
        ToContact = "TO_CONTACT",
        UndefinedDirection = "UNDEFINED_DIRECTION",
    }
}

open_enum! {
    /// A message's or event's delivery status (`DeliveryStatus`).
    pub enum DeliveryStatus {
        QueuedOnChannel = "QUEUED_ON_CHANNEL",
        Delivered = "DELIVERED",
        Read = "READ",
        Failed = "FAILED",
        /// Failed on one channel; Sinch is trying the next of `channel_priority_order`.
        SwitchingChannel = "SWITCHING_CHANNEL",
        /// Exists in the spec, but no callback is sent for it.
        Queued = "QUEUED",
    }
}

impl DeliveryStatus {
    /// `READ` and `FAILED` end a message's life; nothing after them should change its status.
    pub fn is_terminal(&self) -> bool {
        matches!(self, DeliveryStatus::Read | DeliveryStatus::Failed)
    }
}
