//! Agent commands: contact center → Switchboard (`replies.fifo`), one message or one event for
//! one customer.
//!
//! Message content mirrors Sinch's `AppMessage` (the same field names and enum spellings, so a
//! contact center that knows the Conversation API knows this), with one addition: every media
//! object may name an S3 key under `outbound/{tenant}/…` instead of a URL, and Switchboard turns
//! it into a public URL before sending. Everything around the content (recipient, agent, quote,
//! attached data, channel order, sender, TTL, priority) is Switchboard's own, flat and documented
//! here; `crate::sinch::api::send` maps it onto Sinch's request.
//!
//! Parsing and the rules serde cannot express (exactly one of, sizes, S3 key prefixes, WhatsApp
//! template language codes) are in [`validate`]; an invalid command is answered with a failed
//! `send_result` naming the field, never dropped or retried.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::address::QueueAddress;
use crate::channel::Channel;

mod validate;

pub use validate::{InvalidCommand, parse_command};

/// The version of this contract; bumped only for a change that is not additive.
pub const AGENT_COMMAND_SCHEMA_VERSION: u32 = 1;

/// One agent reply (a message) or one agent-side event (typing) for one customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "Switchboard agent command",
    extend("$id" = "https://switchboard.dev/schemas/agent-command.v1.json"),
    extend("oneOf" = [
        {"required": ["message"], "not": {"required": ["event"]}},
        {"required": ["event"], "not": {"required": ["message"]}}
    ])
)]
pub struct AgentCommand {
    /// Contract version: 1.
    pub schema_version: u32,
    /// The contact center's own id of this reply: the idempotency key (a command with a
    /// `reply_id` already sent is not sent again). 1 to 128 printable ASCII characters, no
    /// spaces. Every `send_result` and delivery report of the reply carries it.
    pub reply_id: String,
    /// The tenant id (as in the webhook path).
    pub tenant: String,
    /// `{app_id}@{subchannel}.sinchconversation.com`: which Sinch app (and so which messaging
    /// service) sends, and the default channel of an identity recipient.
    pub queue_address: QueueAddress,
    pub recipient: Recipient,
    /// The message to send; exactly one of `message` and `event`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<CommandMessage>,
    /// The event to send; exactly one of `message` and `event`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<CommandEvent>,
    /// The Sinch message id of the customer message this reply quotes (WhatsApp shows the
    /// quote; other channels send the reply without it). Messages only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Who answers, shown by channels that support it. Messages only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<Agent>,
    /// Key-value data sent to Sinch as the JSON text of `message_metadata` (event_metadata for
    /// events), which Sinch echoes in the delivery reports. At most 1024 characters as JSON.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attached_data: BTreeMap<String, String>,
    /// Channels to try, in order (Sinch's `channel_priority_order`); each must be configured on
    /// the app. At most one for an event.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channel_priority: Vec<Channel>,
    /// `SMS_SENDER` (MSISDN, short code or alphanumeric sender); overrides the queue's
    /// configured sender. US numbers need one. Messages only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_sender: Option<String>,
    /// `MMS_SENDER`, required by Sinch on MMS. Messages only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mms_sender: Option<String>,
    /// How long Sinch may keep trying, in seconds (3 to 315576000000). No channel failover
    /// once it has passed. Messages only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_seconds: Option<u64>,
    /// Sinch's `queue`; Sinch's default is `NORMAL_PRIORITY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_priority: Option<QueuePriority>,
    /// Sinch's `correlation_id` (at most 128 characters), echoed in delivery reports and later
    /// customer messages; the `reply_id` when absent. Messages only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

impl AgentCommand {
    /// Whether this command sends through `events:send` rather than `messages:send`.
    pub fn is_event(&self) -> bool {
        self.event.is_some()
    }

    /// The S3 keys of every media object of the message, in order of appearance: the objects
    /// to make public before sending.
    pub fn media_s3_keys(&self) -> Vec<&str> {
        let mut keys = Vec::new();
        if let Some(message) = &self.message {
            message.for_each_media(&mut |media| {
                if let Some(key) = media.s3_key.as_deref() {
                    keys.push(key);
                }
            });
        }
        keys
    }
}

/// Who receives: a Sinch contact id, or an identity on a channel (DISPATCH-mode apps need the
/// identity form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    {"required": ["contact_id"], "not": {"anyOf": [{"required": ["channel"]}, {"required": ["identity"]}]}},
    {"required": ["identity"], "not": {"required": ["contact_id"]}}
]))]
pub struct Recipient {
    /// The Sinch contact id (CONVERSATION-mode apps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<String>,
    /// The channel of `identity`; the queue address's channel when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// The customer's address on the channel (MSISDN, PSID…), as in inbound events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
}

/// Exactly one message kind, named as in Sinch's `AppMessage`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommandMessage {
    TextMessage(TextMessage),
    MediaMessage(Media),
    ChoiceMessage(ChoiceMessage),
    CardMessage(CardMessage),
    CarouselMessage(CarouselMessage),
    LocationMessage(LocationMessage),
    ListMessage(ListMessage),
    ContactInfoMessage(ContactInfoMessage),
    TemplateMessage(TemplateMessage),
}

impl CommandMessage {
    /// Sinch's name of the kind, e.g. `text_message`.
    pub fn kind(&self) -> &'static str {
        match self {
            CommandMessage::TextMessage(_) => "text_message",
            CommandMessage::MediaMessage(_) => "media_message",
            CommandMessage::ChoiceMessage(_) => "choice_message",
            CommandMessage::CardMessage(_) => "card_message",
            CommandMessage::CarouselMessage(_) => "carousel_message",
            CommandMessage::LocationMessage(_) => "location_message",
            CommandMessage::ListMessage(_) => "list_message",
            CommandMessage::ContactInfoMessage(_) => "contact_info_message",
            CommandMessage::TemplateMessage(_) => "template_message",
        }
    }

    /// Calls `visit` for every media object, in order of appearance.
    pub fn for_each_media<'a>(&'a self, visit: &mut impl FnMut(&'a Media)) {
        match self {
            CommandMessage::MediaMessage(media) => visit(media),
            CommandMessage::CardMessage(card) => card.media_message.iter().for_each(visit),
            CommandMessage::CarouselMessage(carousel) => {
                for card in &carousel.cards {
                    card.media_message.iter().for_each(&mut *visit);
                }
            }
            CommandMessage::ListMessage(list) => {
                list.media.iter().for_each(&mut *visit);
                for item in list.sections.iter().flat_map(|s| &s.items) {
                    if let Some(media) = item.choice.as_ref().and_then(|c| c.media.as_ref()) {
                        visit(media);
                    }
                }
            }
            _ => {}
        }
    }

    /// Calls `visit` for every media object, mutably (to put public URLs in place of S3 keys).
    pub fn for_each_media_mut(&mut self, visit: &mut impl FnMut(&mut Media)) {
        match self {
            CommandMessage::MediaMessage(media) => visit(media),
            CommandMessage::CardMessage(card) => card.media_message.iter_mut().for_each(visit),
            CommandMessage::CarouselMessage(carousel) => {
                for card in &mut carousel.cards {
                    card.media_message.iter_mut().for_each(&mut *visit);
                }
            }
            CommandMessage::ListMessage(list) => {
                list.media.iter_mut().for_each(&mut *visit);
                for item in list.sections.iter_mut().flat_map(|s| &mut s.items) {
                    if let Some(media) = item.choice.as_mut().and_then(|c| c.media.as_mut()) {
                        visit(media);
                    }
                }
            }
            _ => {}
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TextMessage {
    /// Not empty.
    pub text: String,
}

/// A file: an S3 object under `outbound/{tenant}/` (made public by Switchboard for the tenant's
/// `public_attachment_days`), or a URL Sinch's channels can fetch (http or https).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    {"required": ["s3_key"], "not": {"required": ["url"]}},
    {"required": ["url"], "not": {"required": ["s3_key"]}}
]))]
pub struct Media {
    /// `outbound/{tenant}/{yyyy-mm-dd}/{random}/{file}` in the media bucket: the day (UTC) the
    /// object was stored, which retention counts from, and a random segment of at least 22
    /// characters of `A-Za-z0-9_-` (e.g. a UUID), because the object is served publicly under
    /// its key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Used where the channel supports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
    /// The file name the customer sees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename_override: Option<String>,
}

/// Text with up to 10 choices (buttons, quick replies).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoiceMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_message: Option<TextMessage>,
    /// 1 to 10.
    pub choices: Vec<Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_properties: Option<ChoiceMessageProperties>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoiceMessageProperties {
    /// Footer text of a WhatsApp reply-button message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp_footer: Option<String>,
}

/// One choice: exactly one of the kinds, plus the postback data returned when chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    {"required": ["text_message"]}, {"required": ["url_message"]}, {"required": ["call_message"]},
    {"required": ["location_message"]}, {"required": ["calendar_message"]},
    {"required": ["share_location_message"]}
]))]
pub struct Choice {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_message: Option<TextMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_message: Option<UrlMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_message: Option<CallMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_message: Option<LocationMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar_message: Option<CalendarMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_location_message: Option<ShareLocationMessage>,
    /// Returned in the customer's choice response; Sinch's default is `{message_id}_{title}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postback_data: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UrlMessage {
    pub title: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallMessage {
    pub title: String,
    /// E.164 with a leading `+`.
    pub phone_number: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarMessage {
    pub title: String,
    pub event_start: DateTime<Utc>,
    pub event_end: DateTime<Utc>,
    pub event_title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_description: Option<String>,
    /// Opened where the channel cannot add calendar events.
    pub fallback_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareLocationMessage {
    pub title: String,
    pub fallback_url: String,
}

/// A card: title, description and/or media, with up to 10 choices.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CardMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_message: Option<Media>,
    /// At most 10.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<CardHeight>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_properties: Option<CardMessageProperties>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CardHeight {
    UnspecifiedHeight,
    Short,
    Medium,
    Tall,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CardMessageProperties {
    /// Header text of a WhatsApp reply-button message without media.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp_header: Option<String>,
}

/// 1 to 10 cards, with up to 3 choices under the carousel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CarouselMessage {
    pub cards: Vec<CardMessage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationMessage {
    pub coordinates: Coordinates,
    /// Shown next to the map link.
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Coordinates {
    /// -90 to 90.
    pub latitude: f64,
    /// -180 to 180.
    pub longitude: f64,
}

/// A list of choices or products in sections (WhatsApp list and product messages).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListMessage {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<Media>,
    /// At least one.
    pub sections: Vec<ListSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_properties: Option<ListMessageProperties>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListSection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// At least one.
    pub items: Vec<ListItem>,
}

/// Exactly one of `choice` and `product`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    {"required": ["choice"], "not": {"required": ["product"]}},
    {"required": ["product"], "not": {"required": ["choice"]}}
]))]
pub struct ListItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<ListChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<ListProduct>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListChoice {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<Media>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postback_data: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListProduct {
    pub id: String,
    pub marketplace: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListMessageProperties {
    /// Required when the list holds products.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_id: Option<String>,
    /// The text of the button that opens the list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub menu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp_header: Option<String>,
}

/// A contact card (vCard-like).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInfoMessage {
    pub name: NameInfo,
    /// At least one.
    pub phone_numbers: Vec<PhoneNumberInfo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<AddressInfo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email_addresses: Vec<EmailInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrganizationInfo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<UrlInfo>,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthday: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NameInfo {
    pub full_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneNumberInfo {
    pub phone_number: String,
    /// e.g. `WORK`, `HOME`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Two letters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailInfo {
    pub email_address: String,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UrlInfo {
    pub url: String,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// A template: an omni-channel template (Sinch Template Management), channel-specific templates
/// (a WhatsApp template by its name), or both (the channel template wins on its channel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("anyOf" = [{"required": ["omni_template"]}, {"required": ["channel_template"]}]))]
pub struct TemplateMessage {
    /// `version` is required (`latest` works).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omni_template: Option<TemplateReference>,
    /// Keyed by Sinch channel id, e.g. `WHATSAPP`. A WhatsApp template's `template_id` is the
    /// template's name, and its `language_code` is required, with an underscore (`en_US`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub channel_template: BTreeMap<Channel, TemplateReference>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateReference {
    pub template_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// BCP-47 with an underscore, e.g. `en_US`, `sr_Latn`, `en`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_code: Option<String>,
    /// WhatsApp keys follow Sinch's grammar, e.g. `body[1]text`, `header[1]image.link`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, String>,
}

/// An agent-side event, sent through Sinch's `events:send`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum CommandEvent {
    /// The agent is typing (Sinch `composing_event`).
    Typing,
    /// The agent stopped typing (Sinch `composing_end_event`).
    TypingEnd,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Agent {
    pub display_name: String,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub agent_type: Option<AgentType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AgentType {
    Human,
    Bot,
}

/// Sinch's `queue`: which of the app's outbound queues the message waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum QueuePriority {
    #[serde(rename = "NORMAL_PRIORITY")]
    Normal,
    #[serde(rename = "HIGH_PRIORITY")]
    High,
}
