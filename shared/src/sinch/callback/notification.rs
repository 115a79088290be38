//! Consent (`opt_in_notification` / `opt_out_notification`), `channel_event_notification`,
//! `unsupported_callback` and `capability_notification`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::{ChannelIdentity, ProcessingMode, Reason};
use super::de;
use crate::channel::Channel;

open_enum! {
    /// The outcome of an opt-in or opt-out.
    pub enum ConsentStatus {
        OptInSucceeded = "OPT_IN_SUCCEEDED",
        OptInFailed = "OPT_IN_FAILED",
        OptInStatusUnspecified = "OPT_IN_STATUS_UNSPECIFIED",
        OptOutSucceeded = "OPT_OUT_SUCCEEDED",
        OptOutFailed = "OPT_OUT_FAILED",
        OptOutStatusUnspecified = "OPT_OUT_STATUS_UNSPECIFIED",
    }
}

impl ConsentStatus {
    pub fn is_succeeded(&self) -> bool {
        matches!(
            self,
            ConsentStatus::OptInSucceeded | ConsentStatus::OptOutSucceeded
        )
    }
}

/// A contact opted in or out, from a channel notification or an asynchronous registration.
/// The same shape serves `opt_in_notification` and `opt_out_notification`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OptNotification {
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub request_id: Option<String>,
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub contact_id: Option<String>,
    #[serde(
        deserialize_with = "de::opt_channel",
        skip_serializing_if = "Option::is_none"
    )]
    pub channel: Option<Channel>,
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub identity: Option<String>,
    #[serde(
        deserialize_with = "de::opt_open",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<ConsentStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_details: Option<ErrorDetails>,
    #[serde(
        deserialize_with = "de::opt_open",
        skip_serializing_if = "Option::is_none"
    )]
    pub processing_mode: Option<ProcessingMode>,
}

impl OptNotification {
    /// The contact's address, when both the channel and the identity are present.
    pub fn channel_identity(&self) -> Option<ChannelIdentity> {
        Some(ChannelIdentity {
            channel: self.channel.clone()?,
            identity: self.identity.clone()?,
            app_id: None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ErrorDetails {
    #[serde(
        deserialize_with = "de::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
}

/// A channel-level event, e.g. a WhatsApp quality rating change.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ChannelEventNotification {
    #[serde(deserialize_with = "de::null_default")]
    pub channel_event: ChannelEvent,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ChannelEvent {
    #[serde(
        deserialize_with = "de::opt_channel",
        skip_serializing_if = "Option::is_none"
    )]
    pub channel: Option<Channel>,
    /// A free string, e.g. `WHATS_APP_QUALITY_RATING_CHANGED`.
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub event_type: Option<String>,
    /// Channel-dependent content, kept as JSON.
    #[serde(skip_serializing_if = "Value::is_null")]
    pub additional_data: Value,
}

/// A channel callback Sinch could not map, forwarded raw (`UnsupportedCallback`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct UnsupportedCallback {
    #[serde(
        deserialize_with = "de::opt_channel",
        skip_serializing_if = "Option::is_none"
    )]
    pub channel: Option<Channel>,
    /// The channel's own payload, as text (usually JSON). Accepted as a JSON value too, and then
    /// kept as compact JSON text.
    #[serde(
        deserialize_with = "de::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub payload: Option<String>,
    #[serde(
        deserialize_with = "de::opt_open",
        skip_serializing_if = "Option::is_none"
    )]
    pub processing_mode: Option<ProcessingMode>,
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_identity: Option<ChannelIdentity>,
}

open_enum! {
    pub enum CapabilityStatus {
        CapabilityFull = "CAPABILITY_FULL",
        CapabilityPartial = "CAPABILITY_PARTIAL",
        NoCapability = "NO_CAPABILITY",
        CapabilityUnknown = "CAPABILITY_UNKNOWN",
    }
}

/// The answer to a capability query (`CapabilityEvent`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CapabilityNotification {
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub request_id: Option<String>,
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub contact_id: Option<String>,
    #[serde(
        deserialize_with = "de::opt_channel",
        skip_serializing_if = "Option::is_none"
    )]
    pub channel: Option<Channel>,
    #[serde(
        deserialize_with = "de::opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub identity: Option<String>,
    #[serde(
        deserialize_with = "de::opt_open",
        skip_serializing_if = "Option::is_none"
    )]
    pub capability_status: Option<CapabilityStatus>,
    /// Channel-dependent capability names, kept as JSON.
    #[serde(skip_serializing_if = "Value::is_null")]
    pub channel_capabilities: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
}

impl CapabilityNotification {
    /// The contact's address, when both the channel and the identity are present.
    pub fn channel_identity(&self) -> Option<ChannelIdentity> {
        Some(ChannelIdentity {
            channel: self.channel.clone()?,
            identity: self.identity.clone()?,
            app_id: None,
        })
    }
}
