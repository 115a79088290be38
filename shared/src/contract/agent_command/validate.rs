//! Reading an agent command and checking what serde cannot: every error names the field
//! (`message.choice_message.choices[3].url_message.url: must be an http or https URL`), so the
//! failed `send_result` tells the contact center exactly what to fix.
//!
//! The limits are Sinch's where the reference gives one (10 choices, 3 carousel choices,
//! 1024-character metadata, 128-character correlation ids, TTL of 3 s or more); a command that
//! passes here is not refused by Sinch for its shape.

use std::collections::BTreeSet;

use super::*;
use crate::config::TenantId;

/// Sinch's limit on `message_metadata` and on each `channel_properties` value.
pub const MAX_METADATA_CHARS: usize = 1024;
/// Sinch's limit on `correlation_id`; also the limit on `reply_id`, which is sent in its place.
pub const MAX_CORRELATION_ID_CHARS: usize = 128;
/// Sinch's TTL range, in seconds.
pub const TTL_SECONDS: std::ops::RangeInclusive<u64> = 3..=315_576_000_000;
/// Sinch's limits on choices.
pub const MAX_CHOICES: usize = 10;
pub const MAX_CAROUSEL_CARDS: usize = 10;
pub const MAX_CAROUSEL_CHOICES: usize = 3;

/// Why a command cannot be sent: the field (a path such as `message.text_message.text`, or
/// `.` for the whole command) and the problem. Permanent: the same command always fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct InvalidCommand {
    pub field: String,
    pub problem: String,
}

impl InvalidCommand {
    /// The code a failed `send_result` carries for it.
    pub const CODE: &'static str = "INVALID_COMMAND";

    fn new(field: impl Into<String>, problem: impl Into<String>) -> InvalidCommand {
        InvalidCommand {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

/// Reads and validates a command from the bytes of an SQS message body.
pub fn parse_command(body: &[u8]) -> Result<AgentCommand, InvalidCommand> {
    let json: serde_json::Value = serde_json::from_slice(body).map_err(|err| {
        InvalidCommand::new(
            ".",
            format!("is not JSON: {}", strip_position(&err.to_string())),
        )
    })?;
    // serde would also read a struct from an array of its fields; the contract is an object.
    if !json.is_object() {
        return Err(InvalidCommand::new(".", "must be a JSON object"));
    }
    // serde reads a message with two kinds as "expected value"; say what is wrong instead.
    if let Some(message) = json.get("message").and_then(|m| m.as_object())
        && message.len() > 1
    {
        let kinds: Vec<&str> = message.keys().map(String::as_str).collect();
        return Err(InvalidCommand::new(
            "message",
            format!(
                "has {} kinds ({}); a message has exactly one",
                kinds.len(),
                kinds.join(", ")
            ),
        ));
    }
    let command: AgentCommand = serde_path_to_error::deserialize(json).map_err(from_serde)?;
    command.validate()?;
    Ok(command)
}

fn from_serde(err: serde_path_to_error::Error<serde_json::Error>) -> InvalidCommand {
    let path = err.path().to_string();
    let problem = strip_position(&err.into_inner().to_string());
    // serde reports a missing field at the struct that lacks it; name the field itself.
    if let Some(name) = problem
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        return InvalidCommand::new(join(&path, name), "is required");
    }
    InvalidCommand::new(path, problem)
}

/// serde_json appends " at line L column C", which means nothing to a queue consumer.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

fn join(path: &str, name: &str) -> String {
    if path == "." || path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

type Checked = Result<(), InvalidCommand>;

fn fail(field: impl Into<String>, problem: impl Into<String>) -> Checked {
    Err(InvalidCommand::new(field, problem))
}

fn non_empty(field: &str, value: &str) -> Checked {
    if value.trim().is_empty() {
        return fail(field, "must not be empty");
    }
    Ok(())
}

fn at_most(field: &str, value: &str, max: usize) -> Checked {
    non_empty(field, value)?;
    let chars = value.chars().count();
    if chars > max {
        return fail(field, format!("is {chars} characters long; at most {max}"));
    }
    Ok(())
}

fn http_url(field: &str, value: &str) -> Checked {
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(()),
        _ => fail(field, "must be an absolute http or https URL"),
    }
}

fn known_channel(field: &str, channel: &Channel) -> Checked {
    if let Channel::Other(id) = channel {
        return fail(field, format!("unknown channel '{id}'"));
    }
    Ok(())
}

fn count(field: &str, len: usize, range: std::ops::RangeInclusive<usize>) -> Checked {
    if !range.contains(&len) {
        let (min, max) = (range.start(), range.end());
        return fail(
            field,
            if *min == 0 {
                format!("has {len} entries; at most {max}")
            } else {
                format!("has {len} entries; {min} to {max} are allowed")
            },
        );
    }
    Ok(())
}

impl AgentCommand {
    /// Checks every rule serde does not; the first problem found is returned.
    pub fn validate(&self) -> Checked {
        if self.schema_version != AGENT_COMMAND_SCHEMA_VERSION {
            return fail(
                "schema_version",
                format!(
                    "{} is not supported; this Switchboard reads version {AGENT_COMMAND_SCHEMA_VERSION}",
                    self.schema_version
                ),
            );
        }
        check_reply_id(&self.reply_id)?;
        TenantId::parse(&self.tenant)
            .map_err(|err| InvalidCommand::new("tenant", err.to_string()))?;
        self.check_recipient()?;
        match (&self.message, &self.event) {
            (Some(_), Some(_)) => return fail(".", "has both a message and an event; send one"),
            (None, None) => return fail("message", "is required (or an event)"),
            (Some(message), None) => check_message(message, &self.tenant)?,
            (None, Some(_)) => self.check_event_fields()?,
        }
        if let Some(reply_to) = &self.reply_to {
            non_empty("reply_to", reply_to)?;
        }
        if let Some(agent) = &self.agent {
            non_empty("agent.display_name", &agent.display_name)?;
            if let Some(url) = &agent.picture_url {
                http_url("agent.picture_url", url)?;
            }
        }
        if !self.attached_data.is_empty() {
            let json = serde_json::to_string(&self.attached_data).unwrap_or_default();
            let chars = json.chars().count();
            if chars > MAX_METADATA_CHARS {
                return fail(
                    "attached_data",
                    format!(
                        "is {chars} characters as JSON; Sinch takes at most {MAX_METADATA_CHARS}"
                    ),
                );
            }
        }
        let mut seen = BTreeSet::new();
        for (index, channel) in self.channel_priority.iter().enumerate() {
            let field = format!("channel_priority[{index}]");
            known_channel(&field, channel)?;
            if !seen.insert(channel) {
                return fail(field, format!("{channel} is listed twice"));
            }
        }
        for (field, sender) in [
            ("sms_sender", &self.sms_sender),
            ("mms_sender", &self.mms_sender),
        ] {
            if let Some(sender) = sender {
                at_most(field, sender, MAX_METADATA_CHARS)?;
            }
        }
        if let Some(ttl) = self.ttl_seconds
            && !TTL_SECONDS.contains(&ttl)
        {
            return fail(
                "ttl_seconds",
                format!(
                    "{ttl} is outside {}..={}",
                    TTL_SECONDS.start(),
                    TTL_SECONDS.end()
                ),
            );
        }
        if let Some(id) = &self.correlation_id {
            at_most("correlation_id", id, MAX_CORRELATION_ID_CHARS)?;
        }
        Ok(())
    }

    fn check_recipient(&self) -> Checked {
        let recipient = &self.recipient;
        match (&recipient.contact_id, &recipient.identity) {
            (Some(_), Some(_)) => fail("recipient", "has both contact_id and identity; give one"),
            (None, None) => fail("recipient", "needs contact_id, or identity (with channel)"),
            (Some(contact_id), None) => {
                if recipient.channel.is_some() {
                    return fail(
                        "recipient.channel",
                        "goes with identity, not with contact_id",
                    );
                }
                non_empty("recipient.contact_id", contact_id)
            }
            (None, Some(identity)) => {
                non_empty("recipient.identity", identity)?;
                match &recipient.channel {
                    Some(channel) => known_channel("recipient.channel", channel),
                    None => Ok(()),
                }
            }
        }
    }

    /// Sinch's `events:send` has no quote, agent, sender, TTL or correlation id: a command that
    /// sets one with an event is refused rather than silently losing it.
    fn check_event_fields(&self) -> Checked {
        let message_only = [
            ("reply_to", self.reply_to.is_some()),
            ("agent", self.agent.is_some()),
            ("sms_sender", self.sms_sender.is_some()),
            ("mms_sender", self.mms_sender.is_some()),
            ("ttl_seconds", self.ttl_seconds.is_some()),
            ("correlation_id", self.correlation_id.is_some()),
        ];
        if let Some((field, _)) = message_only.iter().find(|(_, set)| *set) {
            return fail(*field, "applies to messages only, not to an event");
        }
        if self.channel_priority.len() > 1 {
            return fail(
                "channel_priority",
                "an event goes to one channel; list at most one",
            );
        }
        Ok(())
    }
}

fn check_reply_id(reply_id: &str) -> Checked {
    if reply_id.is_empty() {
        return fail("reply_id", "must not be empty");
    }
    if reply_id.len() > MAX_CORRELATION_ID_CHARS {
        return fail(
            "reply_id",
            format!(
                "is {} characters long; at most {MAX_CORRELATION_ID_CHARS}",
                reply_id.len()
            ),
        );
    }
    // It becomes part of DynamoDB keys, SQS de-duplication ids and Sinch's correlation id.
    if !reply_id.bytes().all(|b| b.is_ascii_graphic()) {
        return fail("reply_id", "must be printable ASCII without spaces");
    }
    Ok(())
}

fn check_message(message: &CommandMessage, tenant: &str) -> Checked {
    let at = format!("message.{}", message.kind());
    match message {
        CommandMessage::TextMessage(text) => non_empty(&format!("{at}.text"), &text.text),
        CommandMessage::MediaMessage(media) => check_media(&at, media, tenant),
        CommandMessage::ChoiceMessage(choice) => {
            if let Some(text) = &choice.text_message {
                non_empty(&format!("{at}.text_message.text"), &text.text)?;
            }
            check_choices(&format!("{at}.choices"), &choice.choices, 1..=MAX_CHOICES)
        }
        CommandMessage::CardMessage(card) => check_card(&at, card, tenant),
        CommandMessage::CarouselMessage(carousel) => {
            count(
                &format!("{at}.cards"),
                carousel.cards.len(),
                1..=MAX_CAROUSEL_CARDS,
            )?;
            for (index, card) in carousel.cards.iter().enumerate() {
                check_card(&format!("{at}.cards[{index}]"), card, tenant)?;
            }
            check_choices(
                &format!("{at}.choices"),
                &carousel.choices,
                0..=MAX_CAROUSEL_CHOICES,
            )
        }
        CommandMessage::LocationMessage(location) => check_location(&at, location),
        CommandMessage::ListMessage(list) => check_list(&at, list, tenant),
        CommandMessage::ContactInfoMessage(contact) => check_contact_info(&at, contact),
        CommandMessage::TemplateMessage(template) => check_template(&at, template),
    }
}

fn check_media(at: &str, media: &Media, tenant: &str) -> Checked {
    match (&media.s3_key, &media.url) {
        (Some(_), Some(_)) => return fail(at, "has both s3_key and url; give one"),
        (None, None) => return fail(at, "needs s3_key or url"),
        (Some(key), None) => check_s3_key(&format!("{at}.s3_key"), key, tenant)?,
        (None, Some(url)) => http_url(&format!("{at}.url"), url)?,
    }
    if let Some(url) = &media.thumbnail_url {
        http_url(&format!("{at}.thumbnail_url"), url)?;
    }
    if let Some(name) = &media.filename_override {
        non_empty(&format!("{at}.filename_override"), name)?;
    }
    Ok(())
}

/// Shortest unguessable segment of an outbound key: 22 characters of `A-Za-z0-9_-` is what 16
/// random bytes (128 bits) give in URL-safe base64; a UUID (with or without dashes) is longer.
pub const MIN_UNGUESSABLE_SEGMENT_CHARS: usize = 22;

/// The key must be the tenant's own outbound object: a command must not publish another
/// tenant's files, or inbound media, or anything outside `outbound/`. And since the object is
/// served publicly under its key, the key must be `outbound/{tenant}/{yyyy-mm-dd}/{random}/{file}`:
/// the day (UTC) is what retention counts from, and `{random}` (at least
/// [`MIN_UNGUESSABLE_SEGMENT_CHARS`] of `A-Za-z0-9_-`) keeps the public URL unguessable.
fn check_s3_key(field: &str, key: &str, tenant: &str) -> Checked {
    let prefix = format!("outbound/{tenant}/");
    let Some(rest) = key.strip_prefix(&prefix) else {
        return fail(field, format!("must start with {prefix}"));
    };
    if key.len() > 1024 {
        return fail(field, "is longer than S3's 1024 bytes");
    }
    if rest
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return fail(field, "must not have empty, '.' or '..' segments");
    }
    let shape = format!(
        "must be {prefix}{{yyyy-mm-dd}}/{{random}}/{{file}}, {{random}} at least \
         {MIN_UNGUESSABLE_SEGMENT_CHARS} characters of A-Za-z0-9_- (e.g. a UUID)"
    );
    let parts: Vec<&str> = rest.split('/').collect();
    let [day, random, _file, ..] = parts.as_slice() else {
        return fail(field, shape);
    };
    // The same reading of the day as the retention function's, so every key sent is one it
    // expires on time.
    if crate::media::expiry::parse_day(day).is_none() {
        return fail(field, shape);
    }
    if random.chars().count() < MIN_UNGUESSABLE_SEGMENT_CHARS
        || !random
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return fail(field, shape);
    }
    Ok(())
}

fn check_choices(
    at: &str,
    choices: &[Choice],
    allowed: std::ops::RangeInclusive<usize>,
) -> Checked {
    count(at, choices.len(), allowed)?;
    for (index, choice) in choices.iter().enumerate() {
        check_choice(&format!("{at}[{index}]"), choice)?;
    }
    Ok(())
}

fn check_choice(at: &str, choice: &Choice) -> Checked {
    let kinds = [
        choice.text_message.is_some(),
        choice.url_message.is_some(),
        choice.call_message.is_some(),
        choice.location_message.is_some(),
        choice.calendar_message.is_some(),
        choice.share_location_message.is_some(),
    ];
    if kinds.iter().filter(|set| **set).count() != 1 {
        return fail(
            at,
            "needs exactly one of text_message, url_message, call_message, location_message, \
             calendar_message, share_location_message",
        );
    }
    if let Some(text) = &choice.text_message {
        non_empty(&format!("{at}.text_message.text"), &text.text)?;
    }
    if let Some(url) = &choice.url_message {
        non_empty(&format!("{at}.url_message.title"), &url.title)?;
        http_url(&format!("{at}.url_message.url"), &url.url)?;
    }
    if let Some(call) = &choice.call_message {
        non_empty(&format!("{at}.call_message.title"), &call.title)?;
        let number = &call.phone_number;
        let digits = number.strip_prefix('+').unwrap_or("");
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return fail(
                format!("{at}.call_message.phone_number"),
                "must be E.164: '+' and digits",
            );
        }
    }
    if let Some(location) = &choice.location_message {
        check_location(&format!("{at}.location_message"), location)?;
    }
    if let Some(calendar) = &choice.calendar_message {
        let at = format!("{at}.calendar_message");
        non_empty(&format!("{at}.title"), &calendar.title)?;
        non_empty(&format!("{at}.event_title"), &calendar.event_title)?;
        if calendar.event_end < calendar.event_start {
            return fail(format!("{at}.event_end"), "is before event_start");
        }
        http_url(&format!("{at}.fallback_url"), &calendar.fallback_url)?;
    }
    if let Some(share) = &choice.share_location_message {
        non_empty(&format!("{at}.share_location_message.title"), &share.title)?;
        http_url(
            &format!("{at}.share_location_message.fallback_url"),
            &share.fallback_url,
        )?;
    }
    Ok(())
}

fn check_card(at: &str, card: &CardMessage, tenant: &str) -> Checked {
    let blank = |text: &Option<String>| text.as_deref().is_none_or(|t| t.trim().is_empty());
    if blank(&card.title) && blank(&card.description) && card.media_message.is_none() {
        return fail(at, "needs a title, a description or a media_message");
    }
    if let Some(media) = &card.media_message {
        check_media(&format!("{at}.media_message"), media, tenant)?;
    }
    check_choices(&format!("{at}.choices"), &card.choices, 0..=MAX_CHOICES)
}

fn check_location(at: &str, location: &LocationMessage) -> Checked {
    let Coordinates {
        latitude,
        longitude,
    } = location.coordinates;
    if !(-90.0..=90.0).contains(&latitude) {
        return fail(
            format!("{at}.coordinates.latitude"),
            "must be within -90..=90",
        );
    }
    if !(-180.0..=180.0).contains(&longitude) {
        return fail(
            format!("{at}.coordinates.longitude"),
            "must be within -180..=180",
        );
    }
    non_empty(&format!("{at}.title"), &location.title)
}

fn check_list(at: &str, list: &ListMessage, tenant: &str) -> Checked {
    non_empty(&format!("{at}.title"), &list.title)?;
    if let Some(media) = &list.media {
        check_media(&format!("{at}.media"), media, tenant)?;
    }
    if list.sections.is_empty() {
        return fail(format!("{at}.sections"), "needs at least one section");
    }
    let mut products = false;
    for (s, section) in list.sections.iter().enumerate() {
        let at = format!("{at}.sections[{s}]");
        if section.items.is_empty() {
            return fail(format!("{at}.items"), "needs at least one item");
        }
        for (i, item) in section.items.iter().enumerate() {
            let at = format!("{at}.items[{i}]");
            match (&item.choice, &item.product) {
                (Some(choice), None) => {
                    non_empty(&format!("{at}.choice.title"), &choice.title)?;
                    if let Some(media) = &choice.media {
                        check_media(&format!("{at}.choice.media"), media, tenant)?;
                    }
                }
                (None, Some(product)) => {
                    products = true;
                    non_empty(&format!("{at}.product.id"), &product.id)?;
                    non_empty(&format!("{at}.product.marketplace"), &product.marketplace)?;
                }
                _ => return fail(at, "needs exactly one of choice and product"),
            }
        }
    }
    let catalog = list
        .message_properties
        .as_ref()
        .and_then(|p| p.catalog_id.as_deref())
        .is_some_and(|id| !id.trim().is_empty());
    if products && !catalog {
        return fail(
            format!("{at}.message_properties.catalog_id"),
            "is required when the list holds products",
        );
    }
    Ok(())
}

fn check_contact_info(at: &str, contact: &ContactInfoMessage) -> Checked {
    non_empty(&format!("{at}.name.full_name"), &contact.name.full_name)?;
    if contact.phone_numbers.is_empty() {
        return fail(
            format!("{at}.phone_numbers"),
            "needs at least one phone number",
        );
    }
    for (index, phone) in contact.phone_numbers.iter().enumerate() {
        non_empty(
            &format!("{at}.phone_numbers[{index}].phone_number"),
            &phone.phone_number,
        )?;
    }
    for (index, email) in contact.email_addresses.iter().enumerate() {
        non_empty(
            &format!("{at}.email_addresses[{index}].email_address"),
            &email.email_address,
        )?;
    }
    for (index, url) in contact.urls.iter().enumerate() {
        http_url(&format!("{at}.urls[{index}].url"), &url.url)?;
    }
    Ok(())
}

fn check_template(at: &str, template: &TemplateMessage) -> Checked {
    if template.omni_template.is_none() && template.channel_template.is_empty() {
        return fail(at, "needs omni_template or channel_template");
    }
    if let Some(omni) = &template.omni_template {
        let at = format!("{at}.omni_template");
        check_template_reference(&at, omni, false)?;
        match &omni.version {
            Some(version) => non_empty(&format!("{at}.version"), version)?,
            None => return fail(format!("{at}.version"), "is required (`latest` works)"),
        }
    }
    for (channel, reference) in &template.channel_template {
        let at = format!("{at}.channel_template.{channel}");
        known_channel(&at, channel)?;
        let whatsapp = *channel == Channel::WhatsApp;
        check_template_reference(&at, reference, whatsapp)?;
        if whatsapp && reference.language_code.is_none() {
            return fail(
                format!("{at}.language_code"),
                "is required for a WhatsApp template (e.g. en_US)",
            );
        }
    }
    Ok(())
}

fn check_template_reference(
    at: &str,
    reference: &TemplateReference,
    underscore_only: bool,
) -> Checked {
    non_empty(&format!("{at}.template_id"), &reference.template_id)?;
    if let Some(code) = &reference.language_code {
        let field = format!("{at}.language_code");
        if underscore_only && code.contains('-') {
            return fail(
                field,
                format!("'{code}': WhatsApp takes an underscore (e.g. en_US), not '-'"),
            );
        }
        let mut parts = code.split(['_', '-']);
        let language = parts.next().unwrap_or("");
        let language_ok =
            (2..=3).contains(&language.len()) && language.bytes().all(|b| b.is_ascii_alphabetic());
        let rest_ok = parts
            .all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        if !language_ok || !rest_ok {
            return fail(
                field,
                format!("'{code}' is not a language code such as en_US or sr_Latn"),
            );
        }
    }
    for key in reference.parameters.keys() {
        non_empty(&format!("{at}.parameters"), key)?;
    }
    Ok(())
}
