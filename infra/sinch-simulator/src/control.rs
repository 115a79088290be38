//! `/_simulator/*`: the inspection and control API for tests and people (see README "Sinch
//! simulator"). Never recorded as a Sinch request.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Simulator;
use crate::callbacks;
use crate::ids;
use crate::reply::Reply;
use crate::state::{Fault, Outcome};

/// The smallest valid PNG (1×1, transparent): the default media of an MO message.
const PIXEL_PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

const DELIVERY_STATUSES: &[&str] = &[
    "QUEUED_ON_CHANNEL",
    "DELIVERED",
    "READ",
    "FAILED",
    "SWITCHING_CHANNEL",
];

fn bad(message: impl Into<String>) -> Reply {
    Reply::json(400, &json!({"error": message.into()}))
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, Reply> {
    serde_json::from_slice(body).map_err(|err| bad(err.to_string()))
}

pub async fn handle(simulator: &Arc<Simulator>, method: &Method, path: &str, body: &[u8]) -> Reply {
    let rest = path.trim_start_matches("/_simulator/");
    let state = &simulator.state;
    let result = match (method.as_str(), rest) {
        ("GET", "requests") => Ok(Reply::json(200, &json!(state.requests()))),
        ("DELETE", "requests") => {
            state.clear_requests();
            Ok(Reply::json(200, &json!({})))
        }
        ("GET", "faults") => Ok(Reply::json(200, &json!(state.faults()))),
        ("POST", "faults") => add_fault(simulator, body),
        ("DELETE", "faults") => {
            state.clear_faults();
            Ok(Reply::json(200, &json!({})))
        }
        ("POST", "delivery") => set_delivery(simulator, body),
        ("GET", "callbacks") => Ok(Reply::json(200, &json!(state.callbacks()))),
        ("DELETE", "callbacks") => {
            state.clear_callbacks();
            Ok(Reply::json(200, &json!({})))
        }
        ("POST", "tokens/expire") => {
            state.expire_tokens();
            Ok(Reply::json(200, &json!({})))
        }
        ("POST", "contacts") => put_contact(simulator, body),
        ("POST", "mo") => send_mo(simulator, body).await,
        ("GET", media) if media.starts_with("media/") => Ok(serve_media(simulator, media)),
        _ => Err(Reply::json(
            404,
            &json!({"error": format!("no simulator endpoint {method} {path}")}),
        )),
    };
    result.unwrap_or_else(|reply| reply)
}

fn add_fault(simulator: &Simulator, body: &[u8]) -> Result<Reply, Reply> {
    let fault: Fault = parse(body)?;
    if let Some(status) = fault.status
        && !(400..=599).contains(&status)
    {
        return Err(bad("status must be an HTTP error status (400 to 599)"));
    }
    if fault.status.is_none() && fault.delay_ms == 0 {
        return Err(bad("a fault needs a status, a delay_ms, or both"));
    }
    simulator.state.add_fault(fault);
    Ok(Reply::json(200, &json!(simulator.state.faults())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveryPlan {
    statuses: Vec<String>,
    #[serde(default)]
    reason: Option<Value>,
    /// For the next `count` accepted sends only; without it, from now on.
    #[serde(default)]
    count: Option<u32>,
}

fn set_delivery(simulator: &Simulator, body: &[u8]) -> Result<Reply, Reply> {
    let plan: DeliveryPlan = parse(body)?;
    if let Some(unknown) = plan
        .statuses
        .iter()
        .find(|s| !DELIVERY_STATUSES.contains(&s.as_str()))
    {
        return Err(bad(format!(
            "unknown delivery status {unknown} (known: {})",
            DELIVERY_STATUSES.join(", ")
        )));
    }
    simulator.state.set_outcome(
        Outcome {
            statuses: plan.statuses,
            reason: plan.reason,
        },
        plan.count,
    );
    Ok(Reply::json(200, &json!({})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewContact {
    project_id: String,
    id: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    channel_identities: Vec<Value>,
    /// What `contacts:getChannelProfile` answers for this contact.
    #[serde(default)]
    profile_name: Option<String>,
}

fn put_contact(simulator: &Simulator, body: &[u8]) -> Result<Reply, Reply> {
    let contact: NewContact = parse(body)?;
    Ok(Reply::json(200, &register_contact(simulator, contact)))
}

/// Stores a contact as `GET /contacts/{id}` answers it; returns it.
fn register_contact(simulator: &Simulator, contact: NewContact) -> Value {
    let identities: Vec<Value> = contact
        .channel_identities
        .iter()
        .map(|i| json!({"channel": i["channel"], "identity": i["identity"], "app_id": i.get("app_id").cloned().unwrap_or(json!(""))}))
        .collect();
    let mut stored = json!({
        "id": contact.id,
        "channel_identities": identities,
        "channel_priority": [],
        "display_name": contact.display_name.unwrap_or_else(|| "Unknown".into()),
        "email": "",
        "external_id": "",
        "metadata": "",
        "language": "UNSPECIFIED",
    });
    if let Some(name) = contact.profile_name {
        stored["profile_name"] = json!(name);
    }
    simulator
        .state
        .put_contact(&contact.project_id, &contact.id, stored.clone());
    stored
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Mo {
    app_id: String,
    /// The app's first queue channel when absent.
    #[serde(default)]
    channel: Option<String>,
    identity: String,
    #[serde(default)]
    contact_id: Option<String>,
    /// The contact's name at Sinch; with `contact_id`, Sinch knows the contact after the
    /// message as it would (`display_name` "Unknown" when not given).
    #[serde(default)]
    display_name: Option<String>,
    /// What `contacts:getChannelProfile` answers for the sender.
    #[serde(default)]
    profile_name: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    media: Option<MoMedia>,
    #[serde(default)]
    location: Option<Value>,
    #[serde(default)]
    reply_to: Option<String>,
    #[serde(default)]
    message_metadata: Option<String>,
    #[serde(default)]
    correlation_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MoMedia {
    #[serde(default = "png")]
    content_type: String,
    #[serde(default = "pixel")]
    filename: String,
    /// The file; a 1×1 PNG when absent.
    #[serde(default)]
    body_base64: Option<String>,
}

fn png() -> String {
    "image/png".into()
}

fn pixel() -> String {
    "pixel.png".into()
}

/// Posts a customer message to the webhook of the app's service, with media the simulator
/// hosts itself (`GET /_simulator/media/…` answers 200 with Content-Type and Content-Length).
async fn send_mo(simulator: &Simulator, body: &[u8]) -> Result<Reply, Reply> {
    let mo: Mo = parse(body)?;
    let service = match simulator.directory.service_for_app(&mo.app_id).await {
        Ok(Some(service)) => service,
        Ok(None) => {
            return Err(bad(format!(
                "no service in the config table has app {}",
                mo.app_id
            )));
        }
        Err(err) => return Err(Reply::json(503, &json!({"error": err.to_string()}))),
    };
    let channel = mo
        .channel
        .clone()
        .or_else(|| service.channel_of(&mo.app_id).map(|c| c.to_string()))
        .unwrap_or_else(|| "WHATSAPP".into());
    let message_id = ids::ulid();
    let mut media_url = None;
    let mut content = match (&mo.text, &mo.media, &mo.location) {
        (Some(text), None, None) => json!({"text_message": {"text": text}}),
        (None, Some(media), None) => {
            let bytes = match &media.body_base64 {
                Some(encoded) => STANDARD
                    .decode(encoded)
                    .map_err(|_| bad("media.body_base64 is not base64"))?,
                None => PIXEL_PNG.to_vec(),
            };
            let id = ids::ulid();
            simulator
                .state
                .host_media(&id, &media.content_type, Bytes::from(bytes));
            let url = format!(
                "{}/_simulator/media/{id}/{}",
                simulator.base_url, media.filename
            );
            media_url = Some(url.clone());
            json!({"media_message": {"url": url}})
        }
        (None, None, Some(location)) => json!({"location_message": {
            "coordinates": {"latitude": location["latitude"], "longitude": location["longitude"]},
            "title": location.get("title").cloned().unwrap_or(json!("Location")),
            "label": location.get("label").cloned().unwrap_or(json!("")),
        }}),
        _ => return Err(bad("give exactly one of text, media and location")),
    };
    if let Some(reply_to) = &mo.reply_to {
        content["reply_to"] = json!({"message_id": reply_to});
    }
    let contact_id = mo.contact_id.clone().unwrap_or_default();
    // In CONVERSATION mode Sinch creates the contact of a first message; a name given here, or
    // a contact not known yet, is registered the way `POST /_simulator/contacts` would.
    let known = !contact_id.is_empty()
        && simulator
            .state
            .contact(&service.project_id, &contact_id)
            .is_some();
    if !contact_id.is_empty() && (!known || mo.display_name.is_some() || mo.profile_name.is_some())
    {
        register_contact(
            simulator,
            NewContact {
                project_id: service.project_id.clone(),
                id: contact_id.clone(),
                display_name: mo.display_name.clone(),
                channel_identities: vec![
                    json!({"channel": channel, "identity": mo.identity, "app_id": mo.app_id}),
                ],
                profile_name: mo.profile_name.clone(),
            },
        );
    }
    let mut callback = json!({
        "app_id": mo.app_id,
        "accepted_time": ids::now(),
        "event_time": ids::now(),
        "project_id": service.project_id,
        "message": {
            "id": message_id,
            "direction": "TO_APP",
            "contact_message": content,
            "channel_identity": {"channel": channel, "identity": mo.identity, "app_id": ""},
            "conversation_id": "",
            "contact_id": contact_id,
            "metadata": "",
            "accept_time": ids::now(),
            "processing_mode": if contact_id.is_empty() { "DISPATCH" } else { "CONVERSATION" },
            "injected": false
        },
        "message_metadata": mo.message_metadata.unwrap_or_default(),
    });
    if let Some(correlation_id) = mo.correlation_id {
        callback["correlation_id"] = json!(correlation_id);
    }
    let sent = callbacks::post(simulator, &service, "message", &callback).await;
    Ok(Reply::json(
        200,
        &json!({"message_id": message_id, "webhook_status": sent.status, "webhook_answer": sent.answer, "media_url": media_url}),
    ))
}

fn serve_media(simulator: &Simulator, path: &str) -> Reply {
    let id = path
        .trim_start_matches("media/")
        .split('/')
        .next()
        .unwrap_or_default();
    match simulator.state.media(id) {
        Some((content_type, bytes)) => Reply::bytes(&content_type, bytes),
        None => Reply::json(404, &json!({"error": "no such media"})),
    }
}
