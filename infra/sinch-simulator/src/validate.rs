//! Request validation as Sinch does it, as far as the reference tells: required fields, exactly
//! one message (or event) kind, enum spellings, Sinch's limits. Written from the reference, not
//! from Switchboard's request types, so a mistake in those types shows up here as a 400.

use serde_json::{Map, Value};

/// The first problem found: the field's path and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub field: String,
    pub description: String,
}

type Checked = Result<(), Violation>;

fn violation(field: impl Into<String>, description: impl Into<String>) -> Checked {
    Err(Violation {
        field: field.into(),
        description: description.into(),
    })
}

/// `ConversationChannel` (reference §6), plus the ids seen in Sinch's own examples.
pub const CHANNELS: &[&str] = &[
    "SMS",
    "RCS",
    "WHATSAPP",
    "MMS",
    "KAKAOTALK",
    "KAKAOTALKCHAT",
    "VIBERBM",
    "LINE",
    "INSTAGRAM",
    "MESSENGER",
    "WECHAT",
    "TELEGRAM",
    "APPLEBC",
    "VIBER",
    "SINCH_CHAT",
];
const MESSAGE_KINDS: &[&str] = &[
    "text_message",
    "media_message",
    "choice_message",
    "card_message",
    "carousel_message",
    "location_message",
    "list_message",
    "contact_info_message",
    "template_message",
];
const APP_MESSAGE_EXTRAS: &[&str] = &[
    "agent",
    "reply_to",
    "explicit_channel_message",
    "explicit_channel_omni_message",
    "channel_specific_message",
];
const CHOICE_KINDS: &[&str] = &[
    "text_message",
    "url_message",
    "call_message",
    "location_message",
    "calendar_message",
    "share_location_message",
];
const EVENT_KINDS: &[&str] = &[
    "composing_event",
    "composing_end_event",
    "read_message_event",
    "agent_joined_event",
    "agent_left_event",
    "comment_reply_event",
    "generic_event",
];
pub const TRIGGERS: &[&str] = &[
    "MESSAGE_INBOUND",
    "MESSAGE_DELIVERY",
    "MESSAGE_SUBMIT",
    "EVENT_INBOUND",
    "EVENT_DELIVERY",
    "CONVERSATION_START",
    "CONVERSATION_STOP",
    "CONVERSATION_DELETE",
    "CONTACT_CREATE",
    "CONTACT_DELETE",
    "CONTACT_UPDATE",
    "CONTACT_MERGE",
    "CONTACT_IDENTITIES_DUPLICATION",
    "CAPABILITY",
    "OPT_IN",
    "OPT_OUT",
    "CHANNEL_EVENT",
    "UNSUPPORTED",
    "SMART_CONVERSATION",
    "MESSAGE_INBOUND_SMART_CONVERSATION_REDACTION",
    "RECORD_NOTIFICATION",
];

fn object<'a>(value: &'a Value, field: &str) -> Result<&'a Map<String, Value>, Violation> {
    value.as_object().ok_or_else(|| Violation {
        field: field.to_owned(),
        description: "must be an object".into(),
    })
}

fn required<'a>(
    parent: &'a Map<String, Value>,
    at: &str,
    name: &str,
) -> Result<&'a Value, Violation> {
    match parent.get(name) {
        Some(Value::Null) | None => Err(Violation {
            field: join(at, name),
            description: "is required".into(),
        }),
        Some(value) => Ok(value),
    }
}

fn join(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_owned()
    } else {
        format!("{at}.{name}")
    }
}

fn string<'a>(parent: &'a Map<String, Value>, at: &str, name: &str) -> Result<&'a str, Violation> {
    let value = required(parent, at, name)?;
    match value.as_str() {
        Some(text) if !text.is_empty() => Ok(text),
        Some(_) => Err(Violation {
            field: join(at, name),
            description: "must not be empty".into(),
        }),
        None => Err(Violation {
            field: join(at, name),
            description: "must be a string".into(),
        }),
    }
}

fn optional_string(parent: &Map<String, Value>, at: &str, name: &str, max: usize) -> Checked {
    match parent.get(name) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(text)) if text.chars().count() <= max => Ok(()),
        Some(Value::String(_)) => {
            violation(join(at, name), format!("longer than {max} characters"))
        }
        Some(_) => violation(join(at, name), "must be a string"),
    }
}

fn one_of(field: &str, value: &str, allowed: &[&str]) -> Checked {
    if allowed.contains(&value) {
        Ok(())
    } else {
        violation(field, format!("invalid value '{value}'"))
    }
}

fn array<'a>(
    parent: &'a Map<String, Value>,
    at: &str,
    name: &str,
) -> Result<&'a [Value], Violation> {
    match parent.get(name) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(Violation {
            field: join(at, name),
            description: "must be an array".into(),
        }),
    }
}

/// Exactly one of `kinds` set in `parent`; its name.
fn exactly_one<'a>(
    parent: &Map<String, Value>,
    at: &str,
    kinds: &[&'a str],
) -> Result<&'a str, Violation> {
    let present: Vec<&str> = kinds
        .iter()
        .copied()
        .filter(|kind| parent.get(*kind).is_some_and(|v| !v.is_null()))
        .collect();
    match present.as_slice() {
        [one] => Ok(one),
        [] => Err(Violation {
            field: at.to_owned(),
            description: format!("needs one of {}", kinds.join(", ")),
        }),
        many => Err(Violation {
            field: at.to_owned(),
            description: format!("must have exactly one kind, has {}", many.join(", ")),
        }),
    }
}

fn recipient(body: &Map<String, Value>) -> Checked {
    let recipient = object(required(body, "", "recipient")?, "recipient")?;
    match exactly_one(recipient, "recipient", &["contact_id", "identified_by"])? {
        "contact_id" => string(recipient, "recipient", "contact_id").map(|_| ()),
        _ => {
            let at = "recipient.identified_by";
            let by = object(&recipient["identified_by"], at)?;
            let identities = array(by, at, "channel_identities")?;
            if identities.is_empty() {
                return violation(format!("{at}.channel_identities"), "must not be empty");
            }
            for (index, identity) in identities.iter().enumerate() {
                let at = format!("{at}.channel_identities[{index}]");
                let identity = object(identity, &at)?;
                one_of(
                    &format!("{at}.channel"),
                    string(identity, &at, "channel")?,
                    CHANNELS,
                )?;
                string(identity, &at, "identity")?;
            }
            Ok(())
        }
    }
}

fn channel_list(body: &Map<String, Value>, at: &str, name: &str) -> Checked {
    for (index, channel) in array(body, at, name)?.iter().enumerate() {
        let field = format!("{}[{index}]", join(at, name));
        match channel.as_str() {
            Some(channel) => one_of(&field, channel, CHANNELS)?,
            None => return violation(field, "must be a string"),
        }
    }
    Ok(())
}

fn queue(body: &Map<String, Value>) -> Checked {
    match body.get("queue").and_then(Value::as_str) {
        None => Ok(()),
        Some(queue) => one_of("queue", queue, &["NORMAL_PRIORITY", "HIGH_PRIORITY"]),
    }
}

/// `messages:send`.
pub fn send_message(body: &Value) -> Checked {
    let body = object(body, "")?;
    string(body, "", "app_id")?;
    recipient(body)?;
    let message = object(required(body, "", "message")?, "message")?;
    let kind = exactly_one(message, "message", MESSAGE_KINDS)?;
    for key in message.keys() {
        if !MESSAGE_KINDS.contains(&key.as_str()) && !APP_MESSAGE_EXTRAS.contains(&key.as_str()) {
            return violation(format!("message.{key}"), "unknown field");
        }
    }
    let at = format!("message.{kind}");
    let content = object(&message[kind], &at)?;
    match kind {
        "text_message" => string(content, &at, "text").map(|_| ()),
        "media_message" => media(content, &at),
        "choice_message" => choice_message(content, &at),
        "card_message" => card(content, &at),
        "carousel_message" => carousel(content, &at),
        "location_message" => location(content, &at),
        "list_message" => list(content, &at),
        "contact_info_message" => contact_info(content, &at),
        _ => template(content, &at),
    }?;
    if let Some(agent) = message.get("agent") {
        let agent = object(agent, "message.agent")?;
        if let Some(kind) = agent.get("type") {
            let kind = kind.as_str().unwrap_or("");
            one_of(
                "message.agent.type",
                kind,
                &["HUMAN", "BOT", "UNKNOWN_AGENT_TYPE"],
            )?;
        }
    }
    if let Some(reply_to) = message.get("reply_to") {
        string(
            object(reply_to, "message.reply_to")?,
            "message.reply_to",
            "message_id",
        )?;
    }
    channel_list(body, "", "channel_priority_order")?;
    if let Some(properties) = body.get("channel_properties") {
        for (key, value) in object(properties, "channel_properties")? {
            match value.as_str() {
                Some(text) if text.chars().count() <= 1024 => {}
                Some(_) => {
                    return violation(
                        format!("channel_properties.{key}"),
                        "longer than 1024 characters",
                    );
                }
                None => return violation(format!("channel_properties.{key}"), "must be a string"),
            }
        }
    }
    optional_string(body, "", "message_metadata", 1024)?;
    optional_string(body, "", "correlation_id", 128)?;
    if let Some(metadata) = body.get("conversation_metadata") {
        object(metadata, "conversation_metadata")?;
        if metadata.to_string().chars().count() > 2048 {
            return violation("conversation_metadata", "longer than 2048 characters");
        }
    }
    if let Some(ttl) = body.get("ttl") {
        let seconds = ttl
            .as_str()
            .and_then(|t| t.strip_suffix('s'))
            .and_then(|n| n.parse::<u64>().ok());
        match seconds {
            Some(n) if (3..=315_576_000_000).contains(&n) => {}
            _ => return violation("ttl", "must be \"<seconds>s\", 3 to 315576000000"),
        }
    }
    queue(body)?;
    if let Some(strategy) = body.get("processing_strategy").and_then(Value::as_str) {
        one_of(
            "processing_strategy",
            strategy,
            &["DEFAULT", "DISPATCH_ONLY"],
        )?;
    }
    Ok(())
}

fn media(content: &Map<String, Value>, at: &str) -> Checked {
    let url = string(content, at, "url")?;
    match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(()),
        _ => violation(join(at, "url"), "must be an http(s) URL"),
    }
}

fn choices(content: &Map<String, Value>, at: &str, max: usize) -> Checked {
    let list = array(content, at, "choices")?;
    if list.len() > max {
        return violation(join(at, "choices"), format!("at most {max} choices"));
    }
    for (index, choice) in list.iter().enumerate() {
        let at = format!("{}[{index}]", join(at, "choices"));
        let choice = object(choice, &at)?;
        let kind = exactly_one(choice, &at, CHOICE_KINDS)?;
        let inner_at = format!("{at}.{kind}");
        let inner = object(&choice[kind], &inner_at)?;
        match kind {
            "text_message" => string(inner, &inner_at, "text").map(|_| ())?,
            "url_message" => {
                string(inner, &inner_at, "title")?;
                string(inner, &inner_at, "url")?;
            }
            "call_message" => {
                string(inner, &inner_at, "title")?;
                string(inner, &inner_at, "phone_number")?;
            }
            "location_message" => location(inner, &inner_at)?,
            "calendar_message" => {
                for name in [
                    "title",
                    "event_start",
                    "event_end",
                    "event_title",
                    "fallback_url",
                ] {
                    string(inner, &inner_at, name)?;
                }
            }
            _ => {
                string(inner, &inner_at, "title")?;
                string(inner, &inner_at, "fallback_url")?;
            }
        }
    }
    Ok(())
}

fn choice_message(content: &Map<String, Value>, at: &str) -> Checked {
    if array(content, at, "choices")?.is_empty() {
        return violation(join(at, "choices"), "is required");
    }
    choices(content, at, 10)
}

fn card(content: &Map<String, Value>, at: &str) -> Checked {
    if let Some(height) = content.get("height") {
        one_of(
            &join(at, "height"),
            height.as_str().unwrap_or(""),
            &["UNSPECIFIED_HEIGHT", "SHORT", "MEDIUM", "TALL"],
        )?;
    }
    if let Some(media_message) = content.get("media_message") {
        let media_at = join(at, "media_message");
        media(object(media_message, &media_at)?, &media_at)?;
    }
    choices(content, at, 10)
}

fn carousel(content: &Map<String, Value>, at: &str) -> Checked {
    let cards = array(content, at, "cards")?;
    if cards.is_empty() || cards.len() > 10 {
        return violation(join(at, "cards"), "1 to 10 cards");
    }
    for (index, one) in cards.iter().enumerate() {
        let card_at = format!("{}[{index}]", join(at, "cards"));
        card(object(one, &card_at)?, &card_at)?;
    }
    choices(content, at, 3)
}

fn location(content: &Map<String, Value>, at: &str) -> Checked {
    let coordinates_at = join(at, "coordinates");
    let coordinates = object(required(content, at, "coordinates")?, &coordinates_at)?;
    for name in ["latitude", "longitude"] {
        if !required(coordinates, &coordinates_at, name)?.is_number() {
            return violation(join(&coordinates_at, name), "must be a number");
        }
    }
    string(content, at, "title").map(|_| ())
}

fn list(content: &Map<String, Value>, at: &str) -> Checked {
    string(content, at, "title")?;
    let sections = array(content, at, "sections")?;
    if sections.is_empty() {
        return violation(join(at, "sections"), "is required");
    }
    for (s, section) in sections.iter().enumerate() {
        let section_at = format!("{}[{s}]", join(at, "sections"));
        let items = array(object(section, &section_at)?, &section_at, "items")?;
        if items.is_empty() {
            return violation(join(&section_at, "items"), "is required");
        }
        for (i, item) in items.iter().enumerate() {
            let item_at = format!("{section_at}.items[{i}]");
            let item = object(item, &item_at)?;
            match exactly_one(item, &item_at, &["choice", "product"])? {
                "choice" => string(
                    object(&item["choice"], &item_at)?,
                    &join(&item_at, "choice"),
                    "title",
                )
                .map(|_| ())?,
                _ => {
                    let product_at = join(&item_at, "product");
                    let product = object(&item["product"], &product_at)?;
                    string(product, &product_at, "id")?;
                    string(product, &product_at, "marketplace")?;
                }
            }
        }
    }
    Ok(())
}

fn contact_info(content: &Map<String, Value>, at: &str) -> Checked {
    let name_at = join(at, "name");
    string(
        object(required(content, at, "name")?, &name_at)?,
        &name_at,
        "full_name",
    )?;
    let phones = array(content, at, "phone_numbers")?;
    if phones.is_empty() {
        return violation(join(at, "phone_numbers"), "at least one phone number");
    }
    for (index, phone) in phones.iter().enumerate() {
        let phone_at = format!("{}[{index}]", join(at, "phone_numbers"));
        string(object(phone, &phone_at)?, &phone_at, "phone_number")?;
    }
    Ok(())
}

fn template(content: &Map<String, Value>, at: &str) -> Checked {
    let omni = content.get("omni_template").filter(|v| !v.is_null());
    let channel = content.get("channel_template").filter(|v| !v.is_null());
    if omni.is_none() && channel.is_none() {
        return violation(at, "needs omni_template or channel_template");
    }
    if let Some(omni) = omni {
        let omni_at = join(at, "omni_template");
        let omni = object(omni, &omni_at)?;
        string(omni, &omni_at, "template_id")?;
        string(omni, &omni_at, "version")?;
    }
    if let Some(channel) = channel {
        let channel_at = join(at, "channel_template");
        for (name, reference) in object(channel, &channel_at)? {
            let reference_at = join(&channel_at, name);
            one_of(&reference_at, name, CHANNELS)?;
            let reference = object(reference, &reference_at)?;
            string(reference, &reference_at, "template_id")?;
            if name == "WHATSAPP" {
                let code = string(reference, &reference_at, "language_code")?;
                if code.contains('-') {
                    return violation(
                        join(&reference_at, "language_code"),
                        "WhatsApp templates take an underscore, e.g. en_US",
                    );
                }
            }
            if let Some(parameters) = reference.get("parameters") {
                for (key, value) in object(parameters, &join(&reference_at, "parameters"))? {
                    if !value.is_string() {
                        return violation(
                            format!("{reference_at}.parameters.{key}"),
                            "must be a string",
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

/// `events:send`.
pub fn send_event(body: &Value) -> Checked {
    let body = object(body, "")?;
    string(body, "", "app_id")?;
    recipient(body)?;
    let event = object(required(body, "", "event")?, "event")?;
    exactly_one(event, "event", EVENT_KINDS)?;
    channel_list(body, "", "channel_priority_order")?;
    if array(body, "", "channel_priority_order")?.len() > 1 {
        return violation("channel_priority_order", "an event takes one channel");
    }
    optional_string(body, "", "event_metadata", 1024)?;
    queue(body)
}

/// `contacts:getChannelProfile`: the channels that have profiles.
pub fn channel_profile(body: &Value) -> Checked {
    let body = object(body, "")?;
    string(body, "", "app_id")?;
    recipient(body)?;
    one_of(
        "channel",
        string(body, "", "channel")?,
        &["MESSENGER", "INSTAGRAM", "VIBER", "LINE"],
    )
}

/// `POST /webhooks`.
pub fn new_webhook(body: &Value) -> Checked {
    let body = object(body, "")?;
    string(body, "", "app_id")?;
    let target = string(body, "", "target")?;
    if target.chars().count() > 742 {
        return violation("target", "longer than 742 characters");
    }
    let host = url::Url::parse(target)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    match host {
        None => return violation("target", "must be a URL"),
        Some(host) if host.starts_with("conversation-api.") && host.ends_with(".sinch.com") => {
            return violation("target", "Conversation API hosts cannot be targets");
        }
        Some(_) => {}
    }
    if let Some(kind) = body.get("target_type") {
        one_of(
            "target_type",
            kind.as_str().unwrap_or(""),
            &["HTTP", "DISMISS"],
        )?;
    }
    let triggers = array(body, "", "triggers")?;
    if triggers.is_empty() {
        return violation("triggers", "is required");
    }
    for (index, trigger) in triggers.iter().enumerate() {
        one_of(
            &format!("triggers[{index}]"),
            trigger.as_str().unwrap_or(""),
            TRIGGERS,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn text() -> Value {
        json!({
            "app_id": "01APP",
            "recipient": {"identified_by": {"channel_identities": [{"channel": "WHATSAPP", "identity": "4673"}]}},
            "message": {"text_message": {"text": "hi"}, "agent": {"display_name": "Bob", "type": "HUMAN"}},
            "ttl": "60s", "queue": "HIGH_PRIORITY", "correlation_id": "c"
        })
    }

    fn field_of(body: &Value) -> String {
        send_message(body).unwrap_err().field
    }

    #[test]
    fn a_well_formed_send_passes() {
        assert_eq!(send_message(&text()), Ok(()));
    }

    #[test]
    fn what_sinch_refuses_is_refused_naming_the_field() {
        let mut two_kinds = text();
        two_kinds["message"]["media_message"] = json!({"url": "https://x.example/a.png"});
        assert_eq!(field_of(&two_kinds), "message");
        let mut no_app = text();
        no_app.as_object_mut().unwrap().remove("app_id");
        assert_eq!(field_of(&no_app), "app_id");
        let mut queue = text();
        queue["queue"] = json!("HIGH");
        assert_eq!(field_of(&queue), "queue");
        let mut ttl = text();
        ttl["ttl"] = json!(60);
        assert_eq!(field_of(&ttl), "ttl");
        let mut channel = text();
        channel["recipient"]["identified_by"]["channel_identities"][0]["channel"] =
            json!("WhatsApp");
        assert_eq!(
            field_of(&channel),
            "recipient.identified_by.channel_identities[0].channel"
        );
        let mut both = text();
        both["recipient"]["contact_id"] = json!("c");
        assert_eq!(field_of(&both), "recipient");
        let mut agent = text();
        agent["message"]["agent"]["type"] = json!("human");
        assert_eq!(field_of(&agent), "message.agent.type");
        let mut template = text();
        template["message"] = json!({"template_message": {"channel_template": {"WHATSAPP": {"template_id": "t", "language_code": "en-US"}}}});
        assert_eq!(
            field_of(&template),
            "message.template_message.channel_template.WHATSAPP.language_code"
        );
        let mut choices = text();
        choices["message"] = json!({"choice_message": {"choices": vec![json!({"text_message": {"text": "x"}}); 11]}});
        assert_eq!(field_of(&choices), "message.choice_message.choices");
        let mut metadata = text();
        metadata["message_metadata"] = json!("m".repeat(1025));
        assert_eq!(field_of(&metadata), "message_metadata");
    }

    #[test]
    fn events_need_one_kind_and_one_channel() {
        let event = json!({"app_id": "01APP", "recipient": {"contact_id": "c"}, "event": {"composing_event": {}}});
        assert_eq!(send_event(&event), Ok(()));
        let mut unknown = event.clone();
        unknown["event"] = json!({"typing": {}});
        assert_eq!(send_event(&unknown).unwrap_err().field, "event");
        let mut channels = event.clone();
        channels["channel_priority_order"] = json!(["WHATSAPP", "SMS"]);
        assert_eq!(
            send_event(&channels).unwrap_err().field,
            "channel_priority_order"
        );
    }

    #[test]
    fn webhooks_need_a_target_and_known_triggers() {
        let hook = json!({"app_id": "01APP", "target": "https://x.example/h", "target_type": "HTTP", "triggers": ["MESSAGE_INBOUND"]});
        assert_eq!(new_webhook(&hook), Ok(()));
        let mut trigger = hook.clone();
        trigger["triggers"] = json!(["MESSAGE_INBOUNDS"]);
        assert_eq!(new_webhook(&trigger).unwrap_err().field, "triggers[0]");
        let mut target = hook.clone();
        target["target"] = json!("https://conversation-api.eu.sinch.com/x");
        assert_eq!(new_webhook(&target).unwrap_err().field, "target");
    }
}
