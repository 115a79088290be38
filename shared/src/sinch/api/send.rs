//! Agent command → Sinch request: the exact `messages:send` / `events:send` bodies.
//!
//! Pure functions, no I/O: the caller resolves what needs the network first (the messaging
//! service and queue config, a public URL for every S3 key of the command) and passes it in.
//! Field names and enum spellings are Sinch's (reference: SendMessageRequest, AppMessage,
//! SendEventRequest): `agent` and `reply_to` sit inside `message`, `ttl` is `"<n>s"`, the queue
//! priority goes in `queue`, senders in `channel_properties`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::channel::Channel;
use crate::contract::agent_command::{Agent, Media, QueuePriority};
use crate::contract::{AgentCommand, CommandEvent, CommandMessage};

/// What the request needs beyond the command.
#[derive(Debug, Clone, Copy)]
pub struct SendContext<'a> {
    /// The queue's configured `SMS_SENDER`, used when the command names none.
    pub queue_sms_sender: Option<&'a str>,
    /// The public URL of every S3 key in the command (see [`AgentCommand::media_s3_keys`]).
    pub public_urls: &'a BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// The caller did not resolve an S3 key to a public URL: a bug, not the command's fault.
    #[error("no public URL was resolved for S3 key {0}")]
    NoPublicUrl(String),
    /// The command was not validated first.
    #[error("the command has neither a message nor an event")]
    Empty,
}

/// One request to Sinch: a message or an event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SinchRequest {
    Message(Box<SendMessageRequest>),
    Event(SendEventRequest),
}

/// `POST /v1/projects/{project}/messages:send`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SendMessageRequest {
    pub app_id: String,
    pub recipient: Recipient,
    pub message: AppMessage,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub channel_priority_order: Vec<Channel>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub channel_properties: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_metadata: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// `"<seconds>s"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueuePriority>,
}

/// Sinch's `AppMessage`: exactly one content kind, plus the agent and the quote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppMessage {
    #[serde(flatten)]
    pub content: CommandMessage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<Agent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<ReplyTo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyTo {
    pub message_id: String,
}

/// Exactly one of `contact_id` and `identified_by`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identified_by: Option<IdentifiedBy>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentifiedBy {
    pub channel_identities: Vec<ChannelIdentity>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelIdentity {
    pub channel: Channel,
    pub identity: String,
}

/// `POST /v1/projects/{project}/events:send`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SendEventRequest {
    pub app_id: String,
    pub recipient: Recipient,
    pub event: AppEvent,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub channel_priority_order: Vec<Channel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_metadata: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueuePriority>,
}

/// Sinch's `AppEvent`, one key per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AppEvent {
    ComposingEvent {},
    ComposingEndEvent {},
}

/// Sinch's answer to `messages:send`: the message is queued, not delivered.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SendMessageResponse {
    pub message_id: String,
    #[serde(default)]
    pub accepted_time: Option<DateTime<Utc>>,
}

/// Sinch's answer to `events:send`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SendEventResponse {
    pub event_id: String,
    #[serde(default)]
    pub accepted_time: Option<DateTime<Utc>>,
}

/// The request for a validated command.
pub fn build_request(
    command: &AgentCommand,
    context: &SendContext<'_>,
) -> Result<SinchRequest, MappingError> {
    match (&command.message, command.event) {
        (Some(message), _) => build_message(command, message, context)
            .map(|request| SinchRequest::Message(Box::new(request))),
        (None, Some(event)) => Ok(SinchRequest::Event(build_event(command, event))),
        (None, None) => Err(MappingError::Empty),
    }
}

fn build_message(
    command: &AgentCommand,
    message: &CommandMessage,
    context: &SendContext<'_>,
) -> Result<SendMessageRequest, MappingError> {
    let mut content = message.clone();
    let mut missing = None;
    content.for_each_media_mut(&mut |media: &mut Media| {
        if let Some(key) = media.s3_key.take() {
            match context.public_urls.get(&key) {
                Some(url) => media.url = Some(url.clone()),
                None => missing = Some(key),
            }
        }
    });
    if let Some(key) = missing {
        return Err(MappingError::NoPublicUrl(key));
    }
    let mut channel_properties = BTreeMap::new();
    if let Some(sender) = command.sms_sender.as_deref().or(context.queue_sms_sender) {
        channel_properties.insert("SMS_SENDER".to_owned(), sender.to_owned());
    }
    if let Some(sender) = &command.mms_sender {
        channel_properties.insert("MMS_SENDER".to_owned(), sender.clone());
    }
    Ok(SendMessageRequest {
        app_id: command.queue_address.app_id.clone(),
        recipient: recipient(command),
        message: AppMessage {
            content,
            agent: command.agent.clone(),
            reply_to: command
                .reply_to
                .clone()
                .map(|message_id| ReplyTo { message_id }),
        },
        channel_priority_order: command.channel_priority.clone(),
        channel_properties,
        message_metadata: metadata(command),
        // The reply id by default: delivery reports then name the reply even before the
        // message id → reply id map is read.
        correlation_id: Some(
            command
                .correlation_id
                .clone()
                .unwrap_or_else(|| command.reply_id.clone()),
        ),
        ttl: command.ttl_seconds.map(|seconds| format!("{seconds}s")),
        queue: command.queue_priority,
    })
}

fn build_event(command: &AgentCommand, event: CommandEvent) -> SendEventRequest {
    let recipient = recipient(command);
    // An event goes to one channel. For a contact, that is the queue's channel (the one the
    // agent is chatting on), not whichever channel Sinch would pick for a message.
    let channel_priority_order =
        if command.channel_priority.is_empty() && recipient.contact_id.is_some() {
            vec![command.queue_address.channel.clone()]
        } else {
            command.channel_priority.clone()
        };
    SendEventRequest {
        app_id: command.queue_address.app_id.clone(),
        recipient,
        event: match event {
            CommandEvent::Typing => AppEvent::ComposingEvent {},
            CommandEvent::TypingEnd => AppEvent::ComposingEndEvent {},
        },
        channel_priority_order,
        event_metadata: metadata(command),
        queue: command.queue_priority,
    }
}

fn recipient(command: &AgentCommand) -> Recipient {
    let given = &command.recipient;
    match (&given.contact_id, &given.identity) {
        (Some(contact_id), _) => Recipient {
            contact_id: Some(contact_id.clone()),
            identified_by: None,
        },
        (None, identity) => Recipient {
            contact_id: None,
            identified_by: Some(IdentifiedBy {
                channel_identities: vec![ChannelIdentity {
                    channel: given
                        .channel
                        .clone()
                        .unwrap_or_else(|| command.queue_address.channel.clone()),
                    identity: identity.clone().unwrap_or_default(),
                }],
            }),
        },
    }
}

/// Attached data as the JSON text Sinch carries in `message_metadata` (keys sorted, so the same
/// command always gives the same text).
fn metadata(command: &AgentCommand) -> Option<String> {
    if command.attached_data.is_empty() {
        return None;
    }
    serde_json::to_string(&command.attached_data).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::parse_command;
    use serde_json::json;

    const MEDIA_KEY: &str = "outbound/demo/2026-11-21/4f3c2a9e7b1d4c6f8a0e5d2b1c3f7a9e/invoice.pdf";
    const CARD_KEY: &str = "outbound/demo/2026-11-21/9a8b7c6d5e4f4a3b2c1d0e9f8a7b6c5d/router.png";
    const APP1: &str = "01DEMOAPP00000000000000001";

    fn golden(name: &str) -> AgentCommand {
        let text = match name {
            "text" => include_str!("../../../../schemas/examples/agent-command-text.json"),
            "media-s3" => include_str!("../../../../schemas/examples/agent-command-media-s3.json"),
            "media-url" => {
                include_str!("../../../../schemas/examples/agent-command-media-url.json")
            }
            "choice" => include_str!("../../../../schemas/examples/agent-command-choice.json"),
            "card" => include_str!("../../../../schemas/examples/agent-command-card.json"),
            "carousel" => include_str!("../../../../schemas/examples/agent-command-carousel.json"),
            "location" => include_str!("../../../../schemas/examples/agent-command-location.json"),
            "list" => include_str!("../../../../schemas/examples/agent-command-list.json"),
            "contact-info" => {
                include_str!("../../../../schemas/examples/agent-command-contact-info.json")
            }
            "whatsapp-template" => {
                include_str!("../../../../schemas/examples/agent-command-whatsapp-template.json")
            }
            "omni-template" => {
                include_str!("../../../../schemas/examples/agent-command-omni-template.json")
            }
            "typing" => include_str!("../../../../schemas/examples/agent-command-typing.json"),
            "typing-end" => {
                include_str!("../../../../schemas/examples/agent-command-typing-end.json")
            }
            other => panic!("no example {other}"),
        };
        parse_command(text.as_bytes()).unwrap()
    }

    fn urls() -> BTreeMap<String, String> {
        BTreeMap::from([
            (
                MEDIA_KEY.to_owned(),
                "https://media.example.net/o/abc/invoice.pdf".to_owned(),
            ),
            (
                CARD_KEY.to_owned(),
                "https://media.example.net/o/def/router.png".to_owned(),
            ),
        ])
    }

    fn body(name: &str, queue_sms_sender: Option<&str>) -> serde_json::Value {
        let urls = urls();
        let context = SendContext {
            queue_sms_sender,
            public_urls: &urls,
        };
        serde_json::to_value(build_request(&golden(name), &context).unwrap()).unwrap()
    }

    fn whatsapp_identity() -> serde_json::Value {
        json!({"identified_by": {"channel_identities": [{"channel": "WHATSAPP", "identity": "46732001122"}]}})
    }

    #[test]
    fn text_with_quote_agent_metadata_correlation_and_priority() {
        assert_eq!(
            body("text", None),
            json!({
                "app_id": APP1,
                "recipient": whatsapp_identity(),
                "message": {
                    "text_message": {"text": "Hi Anna, I'm Bob from support."},
                    "agent": {"display_name": "Bob", "type": "HUMAN"},
                    "reply_to": {"message_id": "01HMSGID0000000000000000AA"}
                },
                "message_metadata": "{\"agent\":\"bob\",\"ticket\":\"T-1\"}",
                "correlation_id": "case-42",
                "queue": "HIGH_PRIORITY"
            })
        );
    }

    #[test]
    fn media_by_s3_key_goes_out_as_its_public_url() {
        assert_eq!(
            body("media-s3", None),
            json!({
                "app_id": APP1,
                "recipient": whatsapp_identity(),
                "message": {
                    "media_message": {
                        "url": "https://media.example.net/o/abc/invoice.pdf",
                        "filename_override": "invoice-T-1.pdf"
                    },
                    "agent": {"display_name": "Bob", "type": "HUMAN"}
                },
                "correlation_id": "cc-reply-0002"
            })
        );
    }

    #[test]
    fn media_by_url_is_passed_on() {
        assert_eq!(
            body("media-url", None)["message"],
            json!({"media_message": {
                "url": "https://cdn.example.com/catalog/spring.jpg",
                "thumbnail_url": "https://cdn.example.com/catalog/spring-thumb.jpg"
            }})
        );
    }

    #[test]
    fn choice_message() {
        assert_eq!(
            body("choice", None)["message"],
            json!({"choice_message": {
                "text_message": {"text": "How would you like us to contact you?"},
                "choices": [
                    {"text_message": {"text": "Email"}, "postback_data": "contact_email"},
                    {"call_message": {"title": "Call us", "phone_number": "+46732009999"}},
                    {"url_message": {"title": "Open your case", "url": "https://support.example.com/cases/T-1"}}
                ],
                "message_properties": {"whatsapp_footer": "Support team"}
            }})
        );
    }

    #[test]
    fn card_message_to_a_contact_id() {
        let body = body("card", None);
        assert_eq!(
            body["recipient"],
            json!({"contact_id": "01EQ4174TGGY5B1VPTPGHW19R0"})
        );
        assert_eq!(
            body["message"],
            json!({"card_message": {
                "title": "Your replacement router",
                "description": "Ships tomorrow. Confirm the address?",
                "media_message": {"url": "https://media.example.net/o/def/router.png"},
                "choices": [
                    {"text_message": {"text": "Confirm"}, "postback_data": "confirm"},
                    {"text_message": {"text": "Change address"}, "postback_data": "change"}
                ],
                "height": "MEDIUM"
            }})
        );
    }

    #[test]
    fn carousel_message() {
        assert_eq!(
            body("carousel", None)["message"],
            json!({"carousel_message": {
                "cards": [
                    {"title": "Basic", "description": "10 GB, 9 EUR",
                     "media_message": {"url": "https://cdn.example.com/plans/basic.png"},
                     "choices": [{"text_message": {"text": "Choose Basic"}, "postback_data": "plan_basic"}]},
                    {"title": "Plus", "description": "50 GB, 19 EUR",
                     "media_message": {"url": "https://cdn.example.com/plans/plus.png"},
                     "choices": [{"text_message": {"text": "Choose Plus"}, "postback_data": "plan_plus"}]}
                ],
                "choices": [{"text_message": {"text": "Talk to an agent"}, "postback_data": "agent"}]
            }})
        );
    }

    #[test]
    fn location_message() {
        assert_eq!(
            body("location", None)["message"],
            json!({"location_message": {
                "coordinates": {"latitude": 55.727802, "longitude": 13.175061},
                "title": "Service point",
                "label": "ICA Jägaren, Lund"
            }})
        );
    }

    #[test]
    fn list_message() {
        assert_eq!(
            body("list", None)["message"],
            json!({"list_message": {
                "title": "Pick a time slot",
                "description": "All times are local.",
                "sections": [{"title": "Tomorrow", "items": [
                    {"choice": {"title": "09:00-10:00", "postback_data": "slot_0900"}},
                    {"choice": {"title": "13:00-14:00", "description": "Technician: Eva", "postback_data": "slot_1300"}}
                ]}],
                "message_properties": {"menu": "Choose", "whatsapp_header": "Visit booking"}
            }})
        );
    }

    #[test]
    fn contact_info_message() {
        assert_eq!(
            body("contact-info", None)["message"],
            json!({"contact_info_message": {
                "name": {"full_name": "Acme Support", "first_name": "Acme", "last_name": "Support"},
                "phone_numbers": [{"phone_number": "+46732009999", "type": "WORK"}],
                "email_addresses": [{"email_address": "support@example.com", "type": "WORK"}],
                "organization": {"company": "Acme AB", "department": "Customer care"},
                "urls": [{"url": "https://support.example.com", "type": "WORK"}]
            }})
        );
    }

    #[test]
    fn whatsapp_channel_template() {
        let body = body("whatsapp-template", None);
        assert_eq!(
            body["message"],
            json!({"template_message": {"channel_template": {"WHATSAPP": {
                "template_id": "case_update",
                "language_code": "en_US",
                "parameters": {"body[1]text": "T-1", "body[2]text": "resolved"}
            }}}})
        );
        assert_eq!(body["message_metadata"], "{\"ticket\":\"T-1\"}");
    }

    #[test]
    fn omni_template_by_sms_with_sender_and_ttl() {
        assert_eq!(
            body("omni-template", Some("+15559999")),
            json!({
                "app_id": "01DEMOAPP00000000000000002",
                "recipient": {"identified_by": {"channel_identities": [{"channel": "SMS", "identity": "15551234567"}]}},
                "message": {"template_message": {"omni_template": {
                    "template_id": "01HTEMPLATE000000000000000",
                    "version": "latest",
                    "language_code": "en_US",
                    "parameters": {"name": "Anna"}
                }}},
                "channel_properties": {"SMS_SENDER": "+15550100"},
                "correlation_id": "cc-reply-0011",
                "ttl": "86400s"
            })
        );
    }

    #[test]
    fn the_queue_sender_is_used_when_the_command_names_none_and_mms_sender_is_passed() {
        let mut command = golden("text");
        command.mms_sender = Some("+15550111".into());
        let urls = urls();
        let context = SendContext {
            queue_sms_sender: Some("+15550100"),
            public_urls: &urls,
        };
        let body = serde_json::to_value(build_request(&command, &context).unwrap()).unwrap();
        assert_eq!(
            body["channel_properties"],
            json!({"SMS_SENDER": "+15550100", "MMS_SENDER": "+15550111"})
        );
        command.channel_priority = vec![Channel::WhatsApp, Channel::Sms];
        let body = serde_json::to_value(build_request(&command, &context).unwrap()).unwrap();
        assert_eq!(body["channel_priority_order"], json!(["WHATSAPP", "SMS"]));
    }

    #[test]
    fn typing_events_go_to_events_send() {
        assert_eq!(
            body("typing", None),
            json!({
                "app_id": APP1,
                "recipient": whatsapp_identity(),
                "event": {"composing_event": {}}
            })
        );
        assert_eq!(
            body("typing-end", None),
            json!({
                "app_id": APP1,
                "recipient": whatsapp_identity(),
                "event": {"composing_end_event": {}},
                "channel_priority_order": ["WHATSAPP"]
            })
        );
    }

    #[test]
    fn an_event_for_a_contact_goes_to_the_queue_channel_with_its_metadata() {
        let mut command = golden("typing");
        command.recipient = crate::contract::agent_command::Recipient {
            contact_id: Some("01CONTACT".into()),
            channel: None,
            identity: None,
        };
        command.attached_data.insert("ticket".into(), "T-1".into());
        command.queue_priority = Some(QueuePriority::Normal);
        let urls = urls();
        let context = SendContext {
            queue_sms_sender: Some("+1555"),
            public_urls: &urls,
        };
        let body = serde_json::to_value(build_request(&command, &context).unwrap()).unwrap();
        assert_eq!(
            body,
            json!({
                "app_id": APP1,
                "recipient": {"contact_id": "01CONTACT"},
                "event": {"composing_event": {}},
                "channel_priority_order": ["WHATSAPP"],
                "event_metadata": "{\"ticket\":\"T-1\"}",
                "queue": "NORMAL_PRIORITY"
            })
        );
    }

    #[test]
    fn an_identity_without_channel_takes_the_queue_channel() {
        let mut command = golden("text");
        command.recipient.channel = None;
        let urls = urls();
        let context = SendContext {
            queue_sms_sender: None,
            public_urls: &urls,
        };
        let body = serde_json::to_value(build_request(&command, &context).unwrap()).unwrap();
        assert_eq!(body["recipient"], whatsapp_identity());
    }

    #[test]
    fn an_unresolved_s3_key_is_an_error_not_a_request_without_media() {
        let empty = BTreeMap::new();
        let context = SendContext {
            queue_sms_sender: None,
            public_urls: &empty,
        };
        assert_eq!(
            build_request(&golden("card"), &context),
            Err(MappingError::NoPublicUrl(CARD_KEY.into()))
        );
    }
}
