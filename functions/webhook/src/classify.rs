//! Sinch callback → contact-center event (`contract::InboundEvent`).
//!
//! Pure: no I/O, no clock (the caller passes `now`). The webhook fills what the callback says;
//! the media stage later stores media and resolves names, quotes and reply ids.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use switchboard_shared::address::QueueAddress;
use switchboard_shared::contract::{
    ChannelEvent, ChoiceResponse, Consent, ConsentAction, Contact, ContactEvent, ContactEventType,
    DeliveryReport, EventBody, FailureReason, INBOUND_SCHEMA_VERSION, InboundEvent, InboundMessage,
    Location, MediaItem, MediaStatus, QuotedMessage, Reaction, SinchTimes, Unsupported,
};
use switchboard_shared::sinch::callback::identity::callback_identity;
use switchboard_shared::sinch::callback::{
    self as sinch, Callback, CallbackBody, ContactMessageEvent, ContactMessageKind, MessageInbound,
};

pub fn classify(
    tenant: &str,
    service: &str,
    callback: &Callback,
    raw_body: &[u8],
    now: DateTime<Utc>,
) -> InboundEvent {
    let (channel, identity) = match callback.channel_identity() {
        Some(found) => (
            Some(found.channel.clone()),
            Some(found.identity.clone()).filter(|id| !id.is_empty()),
        ),
        None => (callback.channel().cloned(), None),
    };
    let contact_id = callback.contact_id().map(str::to_owned);
    let contact = (contact_id.is_some() || identity.is_some()).then(|| Contact {
        id: contact_id,
        channel_identity: identity.clone(),
        // No name is in any callback; the media stage looks it up. Until then agents see the identity.
        display_name: identity.clone(),
    });
    let queue_address = channel
        .as_ref()
        .filter(|_| switchboard_shared::address::is_valid_app_id(&callback.app_id))
        .map(|channel| QueueAddress::new(callback.app_id.clone(), channel.clone()));
    InboundEvent {
        schema_version: INBOUND_SCHEMA_VERSION,
        event_id: event_id(tenant, callback, raw_body),
        tenant: tenant.to_owned(),
        service: service.to_owned(),
        queue_address,
        app_id: callback.app_id.clone(),
        project_id: callback.project_id.clone(),
        channel,
        contact,
        conversation_id: callback.conversation_id().map(str::to_owned),
        processing_mode: callback.processing_mode().map(|mode| mode.to_string()),
        sinch_times: SinchTimes {
            accepted_time: callback.accepted_time,
            event_time: callback.event_time,
        },
        received_at: now,
        correlation_id: callback.correlation_id.clone(),
        attached_data: attached_data(callback.message_metadata.as_deref()),
        message_metadata: callback.message_metadata.clone(),
        reply_id: None,
        raw_callback_s3_key: None,
        body: body(callback, raw_body),
    }
}

/// The callback's stable id: the same callback always gets the same id, whether Sinch retried
/// it or two webhooks on one trigger delivered it, and two different callbacks never share one
/// (the rule: docs/event-identity.md; the identity: `sinch::callback::identity`).
pub fn event_id(tenant: &str, callback: &Callback, raw_body: &[u8]) -> String {
    let identity = callback_identity(callback, raw_body);
    let digest =
        Sha256::digest(format!("{tenant}\n{}\n{identity}", callback.body.trigger()).as_bytes());
    hex::encode(&digest[..16])
}

/// Contact Pro's "attached data": the key-value conversation metadata Sinch echoes back.
fn attached_data(message_metadata: Option<&str>) -> BTreeMap<String, String> {
    let Some(Ok(serde_json::Value::Object(object))) =
        message_metadata.map(serde_json::from_str::<serde_json::Value>)
    else {
        return BTreeMap::new();
    };
    object
        .into_iter()
        .map(|(key, value)| match value {
            serde_json::Value::String(text) => (key, text),
            other => (key, other.to_string()),
        })
        .collect()
}

fn body(callback: &Callback, raw_body: &[u8]) -> EventBody {
    match &callback.body {
        CallbackBody::Message(message) => EventBody::Message {
            message: inbound_message(message),
        },
        CallbackBody::MessageDeliveryReport(report) => match &report.message_id {
            Some(message_id) => EventBody::Delivery {
                delivery: DeliveryReport {
                    message_id: message_id.clone(),
                    status: report
                        .status
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    reason: report.reason.as_ref().map(failure_reason),
                    metadata: report.metadata.clone(),
                },
            },
            None => unsupported(
                callback,
                raw_body,
                Some("delivery report without message_id"),
            ),
        },
        CallbackBody::Event(event) => {
            let contact_event = if let Some(contact_event) = &event.contact_event {
                let event_type = match contact_event {
                    sinch::ContactEvent::Composing => ContactEventType::Typing,
                    sinch::ContactEvent::ComposingEnd => ContactEventType::TypingEnd,
                    sinch::ContactEvent::ConversationDeleted => ContactEventType::ChatEnded,
                    sinch::ContactEvent::Comment(_) => ContactEventType::Comment,
                    sinch::ContactEvent::Generic(_) | sinch::ContactEvent::Unknown(_) => {
                        ContactEventType::Other
                    }
                };
                let raw = matches!(
                    event_type,
                    ContactEventType::Comment | ContactEventType::Other
                )
                .then(|| serde_json::to_value(contact_event).ok())
                .flatten();
                ContactEvent {
                    event_id: event.id.clone(),
                    event_type,
                    reaction: None,
                    raw,
                }
            } else if let Some(ContactMessageEvent::Reaction(reaction)) =
                &event.contact_message_event
            {
                ContactEvent {
                    event_id: event.id.clone(),
                    event_type: ContactEventType::Reaction,
                    reaction: Some(Reaction {
                        emoji: reaction.emoji.clone(),
                        action: reaction.action.as_ref().map(ToString::to_string),
                        message_id: reaction.message_id.clone(),
                    }),
                    raw: None,
                }
            } else {
                ContactEvent {
                    event_id: event.id.clone(),
                    event_type: ContactEventType::Other,
                    reaction: None,
                    raw: event
                        .contact_message_event
                        .as_ref()
                        .and_then(|inner| serde_json::to_value(inner).ok()),
                }
            };
            EventBody::ContactEvent { contact_event }
        }
        CallbackBody::OptInNotification(notification)
        | CallbackBody::OptOutNotification(notification) => EventBody::Consent {
            consent: Consent {
                action: if matches!(callback.body, CallbackBody::OptInNotification(_)) {
                    ConsentAction::OptIn
                } else {
                    ConsentAction::OptOut
                },
                status: notification.status.as_ref().map(ToString::to_string),
                request_id: notification.request_id.clone(),
                error_description: notification
                    .error_details
                    .as_ref()
                    .and_then(|details| details.description.clone()),
            },
        },
        CallbackBody::ChannelEventNotification(notification) => EventBody::ChannelEvent {
            channel_event: ChannelEvent {
                event_type: notification.channel_event.event_type.clone(),
                additional_data: Some(notification.channel_event.additional_data.clone())
                    .filter(|data| !data.is_null()),
            },
        },
        CallbackBody::Unparsed { reason, .. } => unsupported(callback, raw_body, Some(reason)),
        _ => unsupported(callback, raw_body, None),
    }
}

fn inbound_message(message: &MessageInbound) -> InboundMessage {
    let content = &message.contact_message;
    let mut inbound = InboundMessage {
        message_id: message.id.clone().unwrap_or_default(),
        content_kind: content.kind.key().to_owned(),
        text: None,
        media: Vec::new(),
        location: None,
        choice_response: None,
        quoted_message: content
            .reply_to
            .as_ref()
            .filter(|reply| !reply.message_id.is_empty())
            .map(|reply| QuotedMessage {
                message_id: reply.message_id.clone(),
                reply_id: None,
            }),
        sender_id: message.sender_id.clone(),
        raw_content: None,
    };
    match &content.kind {
        ContactMessageKind::Text(text) => inbound.text = Some(text.text.clone()),
        ContactMessageKind::Media(media) => {
            inbound.media.push(pending_media(
                &media.url,
                media.thumbnail_url.clone(),
                media.filename_override.clone(),
                None,
            ));
        }
        ContactMessageKind::MediaCard(card) => {
            inbound.text = card.caption.clone();
            inbound
                .media
                .push(pending_media(&card.url, None, None, card.caption.clone()));
        }
        ContactMessageKind::Location(location) => {
            let coordinates = location.coordinates.as_ref();
            match coordinates.and_then(|c| Some((c.latitude?, c.longitude?))) {
                Some((latitude, longitude)) => {
                    inbound.location = Some(Location {
                        latitude,
                        longitude,
                        title: Some(location.title.clone()).filter(|t| !t.is_empty()),
                        label: location.label.clone(),
                    });
                }
                None => inbound.raw_content = serde_json::to_value(content).ok(),
            }
        }
        ContactMessageKind::ChoiceResponse(choice) => {
            inbound.choice_response = Some(ChoiceResponse {
                message_id: choice.message_id.clone(),
                postback_data: choice.postback_data.clone(),
            });
        }
        ContactMessageKind::Fallback(fallback) => {
            inbound.text = fallback.raw_message.clone();
            inbound.raw_content = serde_json::to_value(content).ok();
        }
        ContactMessageKind::ProductResponse(_)
        | ContactMessageKind::ChannelSpecific(_)
        | ContactMessageKind::Unknown(_) => {
            inbound.raw_content = serde_json::to_value(content).ok();
        }
    }
    inbound
}

fn pending_media(
    url: &str,
    thumbnail_url: Option<String>,
    filename: Option<String>,
    caption: Option<String>,
) -> MediaItem {
    MediaItem {
        source_url: url.to_owned(),
        thumbnail_url,
        filename,
        caption,
        status: MediaStatus::Pending,
        s3_key: None,
        url: None,
        url_expires_at: None,
        content_type: None,
        size_bytes: None,
        failure_reason: None,
    }
}

fn failure_reason(reason: &sinch::Reason) -> FailureReason {
    FailureReason {
        code: Some(reason.code.clone()).filter(|code| !code.is_empty()),
        description: reason.description.clone(),
        sub_code: reason.sub_code.clone(),
        channel_code: reason.channel_code.clone(),
    }
}

fn unsupported(callback: &Callback, raw_body: &[u8], reason: Option<&str>) -> EventBody {
    EventBody::Unsupported {
        unsupported: Unsupported {
            trigger: callback.body.trigger().to_owned(),
            callback_key: Some(callback.body.key().to_owned()).filter(|key| !key.is_empty()),
            reason: reason.map(str::to_owned),
            // Parsed before, so it is JSON; `Null` only if that ever stopped being true.
            callback: serde_json::from_slice(raw_body).unwrap_or(serde_json::Value::Null),
            callback_s3_key: None,
        },
    }
}

/// The event for an authentic callback that cannot travel whole (too large for an SQS message,
/// or refused by SQS for good): the same envelope, the callback itself kept in S3 at `s3_key`,
/// so the contact center learns of it and nothing is lost.
pub fn kept_in_s3(
    mut event: InboundEvent,
    callback: &Callback,
    why: &str,
    s3_key: String,
) -> InboundEvent {
    event.body = EventBody::Unsupported {
        unsupported: Unsupported {
            trigger: callback.body.trigger().to_owned(),
            callback_key: Some(callback.body.key().to_owned()).filter(|key| !key.is_empty()),
            reason: Some(format!("{why}; the callback is kept in the media bucket")),
            callback: serde_json::Value::Null,
            callback_s3_key: Some(s3_key.clone()),
        },
    };
    event.raw_callback_s3_key = Some(s3_key);
    event
}
