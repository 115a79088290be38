//! The `send_result` event: what the contact center hears of every agent command, on the
//! events queue (or the queue's own target) in the command's message group.
//!
//! A command that was claimed (valid, so it has a tenant and a `reply_id`) has one result,
//! stored whole in its idempotency record; a redelivery re-emits exactly that text, so the
//! contact center sees the same `event_id` and body however often the command comes back. Its
//! `event_id`, also the queue's de-duplication id, is derived from tenant + `reply_id`. A
//! command too broken to claim is answered from what can be read of it, with an `event_id`
//! derived from its bytes (a corrected command under the same `reply_id` is not shadowed).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use switchboard_shared::address::QueueAddress;
use switchboard_shared::channel::Channel;
use switchboard_shared::contract::{
    AgentCommand, Contact, EventBody, INBOUND_SCHEMA_VERSION, InboundEvent, SendError, SendOutcome,
    SendResult, SinchTimes,
};

/// What a `send_result` says about its command, read leniently so an invalid command is
/// answered too.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct About {
    pub tenant: String,
    pub reply_id: Option<String>,
    pub queue_address: Option<QueueAddress>,
    pub channel: Option<Channel>,
    pub contact: Option<Contact>,
    pub correlation_id: Option<String>,
    pub attached_data: BTreeMap<String, String>,
}

impl About {
    pub fn of(command: &AgentCommand) -> About {
        let recipient = &command.recipient;
        let channel = recipient
            .channel
            .clone()
            .or_else(|| Some(command.queue_address.channel.clone()));
        About {
            tenant: command.tenant.clone(),
            reply_id: Some(command.reply_id.clone()),
            queue_address: Some(command.queue_address.clone()),
            channel,
            contact: Some(Contact {
                id: recipient.contact_id.clone(),
                channel_identity: recipient.identity.clone(),
                display_name: recipient.identity.clone(),
            }),
            // What Sinch was given (the reply id when the command named none).
            correlation_id: Some(
                command
                    .correlation_id
                    .clone()
                    .unwrap_or_else(|| command.reply_id.clone()),
            ),
            attached_data: command.attached_data.clone(),
        }
    }

    /// The tenant, `reply_id` and queue address of a body that is not a valid command, where
    /// they can be read; empty where not.
    pub fn loose(body: &str) -> About {
        let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        let text = |name: &str| json.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        let queue_address: Option<QueueAddress> =
            text("queue_address").and_then(|a| a.parse().ok());
        // Only what could be valid is echoed, so a huge field cannot make the result larger
        // than SQS takes.
        About {
            tenant: text("tenant").filter(|t| t.len() <= 63).unwrap_or_default(),
            reply_id: text("reply_id").filter(|r| r.len() <= 128),
            channel: queue_address.as_ref().map(|a| a.channel.clone()),
            queue_address,
            ..About::default()
        }
    }
}

/// The `event_id` (and de-duplication id) of a claimed command's result.
pub fn result_id(tenant: &str, reply_id: &str) -> String {
    digest(&["send_result", tenant, reply_id])
}

/// The `event_id` of the result of a body that could not be claimed.
pub fn invalid_result_id(body: &str) -> String {
    digest(&["invalid_command", body])
}

fn digest(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        // Length-prefixed, so ("a#b", "c") and ("a", "b#c") differ.
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    hex::encode(hash.finalize())
}

/// The service a result names, when it was found.
#[derive(Debug, Clone, Copy, Default)]
pub struct Service<'a> {
    pub name: &'a str,
    pub project_id: &'a str,
}

pub fn accepted(
    about: &About,
    event_id: String,
    service: Service<'_>,
    sinch_id: String,
    accepted_time: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> InboundEvent {
    event(
        about,
        event_id,
        service,
        SendResult {
            outcome: SendOutcome::Accepted,
            sinch_message_id: Some(sinch_id),
            error: None,
        },
        accepted_time,
        now,
    )
}

pub fn failed(
    about: &About,
    event_id: String,
    service: Service<'_>,
    error: SendError,
    now: DateTime<Utc>,
) -> InboundEvent {
    event(
        about,
        event_id,
        service,
        SendResult {
            outcome: SendOutcome::Failed,
            sinch_message_id: None,
            error: Some(error),
        },
        None,
        now,
    )
}

fn event(
    about: &About,
    event_id: String,
    service: Service<'_>,
    send_result: SendResult,
    accepted_time: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> InboundEvent {
    InboundEvent {
        schema_version: INBOUND_SCHEMA_VERSION,
        event_id,
        tenant: about.tenant.clone(),
        service: service.name.to_owned(),
        queue_address: about.queue_address.clone(),
        app_id: about
            .queue_address
            .as_ref()
            .map(|a| a.app_id.clone())
            .unwrap_or_default(),
        project_id: service.project_id.to_owned(),
        channel: about.channel.clone(),
        contact: about.contact.clone(),
        conversation_id: None,
        processing_mode: None,
        sinch_times: SinchTimes {
            accepted_time,
            event_time: None,
        },
        received_at: now,
        correlation_id: about.correlation_id.clone(),
        attached_data: about.attached_data.clone(),
        message_metadata: None,
        reply_id: about.reply_id.clone(),
        raw_callback_s3_key: None,
        body: EventBody::SendResult { send_result },
    }
}

/// Sinch's id in an accepted result.
pub fn accepted_sinch_id(event: &InboundEvent) -> Option<&str> {
    match &event.body {
        EventBody::SendResult { send_result } if send_result.outcome == SendOutcome::Accepted => {
            send_result.sinch_message_id.as_deref()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_ids_are_stable_and_tell_tenants_and_replies_apart() {
        assert_eq!(result_id("acme", "r-1"), result_id("acme", "r-1"));
        assert_ne!(result_id("acme", "r-1"), result_id("acme", "r-2"));
        assert_ne!(result_id("acme", "r-1"), result_id("globex", "r-1"));
        assert_ne!(result_id("a#b", "c"), result_id("a", "b#c"));
        assert_eq!(result_id("acme", "r-1").len(), 64, "fits SQS's 128");
    }

    #[test]
    fn a_broken_body_still_names_what_it_can() {
        let about = About::loose(
            r#"{"tenant":"acme","reply_id":"r-9","queue_address":"01APP@whatsapp.sinchconversation.com","message":{}}"#,
        );
        assert_eq!(about.tenant, "acme");
        assert_eq!(about.reply_id.as_deref(), Some("r-9"));
        assert_eq!(about.channel, Some(Channel::WhatsApp));
        assert_eq!(About::loose("not json"), About::default());
        let huge = format!(
            r#"{{"tenant":"acme","reply_id":"{}"}}"#,
            "r".repeat(300_000)
        );
        assert_eq!(About::loose(&huge).reply_id, None);
    }
}
