//! Contact look-ups, for display names: `GET /contacts/{id}` (CONVERSATION-mode apps) and
//! `POST /contacts:getChannelProfile` (Messenger, Instagram, Viber Bot and LINE only).

use serde::{Deserialize, Serialize};

use crate::channel::Channel;

use super::send::Recipient;

/// A Sinch contact, as much of it as Switchboard reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Contact {
    pub id: String,
    /// Sinch's default is `Unknown` when nothing better is known.
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub channel_identities: Vec<ContactChannelIdentity>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ContactChannelIdentity {
    pub channel: Channel,
    pub identity: String,
    #[serde(default)]
    pub app_id: Option<String>,
}

/// The body of `contacts:getChannelProfile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelProfileRequest {
    pub app_id: String,
    pub recipient: Recipient,
    pub channel: Channel,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ChannelProfile {
    #[serde(default)]
    pub profile_name: Option<String>,
}
