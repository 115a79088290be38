//! What SQS accepts in a message, and the one way every function builds and sends one.
//!
//! SQS refuses a message containing any character outside `#x9 | #xA | #xD | #x20–#xD7FF |
//! #xE000–#xFFFD | #x10000–#x10FFFF` (InvalidMessageContents), and anything over 256 KiB with
//! its attributes. Customers can type U+FFFE or U+FFFF; serde_json writes them raw. A JSON
//! document can always say the same thing with `\uXXXX` escapes, so [`escape_for_sqs`] rewrites
//! exactly those characters and the message means the same to every JSON reader.
//!
//! [`FifoMessage`] puts those rules in one place: every queue write (the webhook's to
//! `ingest.fifo`, the inbound stage's and the outbound function's to the contact center's queue)
//! is built by it, so none can skip the escaping or the size check, and [`send_fifo`] is the one
//! SendMessage call.

use serde::Serialize;

use crate::error::{AwsError, Classify, Retry};

/// SQS's largest message (body and attributes), in bytes.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// True for the characters SQS accepts in a message body or string attribute.
pub fn is_sqs_char(c: char) -> bool {
    matches!(c as u32,
        0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}

/// The first character SQS would refuse, with its byte offset.
pub fn first_refused_char(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|(_, c)| !is_sqs_char(*c))
}

/// Rewrites the characters SQS refuses as JSON `\uXXXX` escapes. Only valid on JSON text in
/// which such characters can only stand inside strings, which is true of serde_json's output
/// (its structure is ASCII, and it escapes control characters itself).
pub fn escape_for_sqs(json: String) -> String {
    if first_refused_char(&json).is_none() {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_sqs_char(c) {
            out.push(c);
        } else {
            // Every refused character is in the Basic Multilingual Plane, so one escape is enough.
            out.push_str(&format!("\\u{:04x}", c as u32));
        }
    }
    out
}

/// The bytes SQS counts for a message: the body plus each attribute's name, type and value.
pub fn message_size(body: &str, attributes: &[(&str, &str)]) -> usize {
    body.len()
        + attributes
            .iter()
            .map(|(name, value)| name.len() + "String".len() + value.len())
            .sum::<usize>()
}

/// A message for a FIFO queue: its body in a form SQS accepts, its routing, and its string
/// attributes, within [`MAX_MESSAGE_BYTES`]. Only [`FifoMessage::json`] and
/// [`FifoMessage::text`] make one, so a value of this type is always one SQS will take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FifoMessage {
    pub body: String,
    /// The order: messages of one group are delivered one after another.
    pub group_id: String,
    /// SQS drops a second message with this id within its 5-minute window.
    pub deduplication_id: String,
    /// Name and value of each string attribute; empty values are left out (SQS refuses them,
    /// the whole message with them; moto does not).
    pub attributes: Vec<(&'static str, String)>,
}

/// Why a message could not be built. Both are permanent: the same value gives the same answer.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error("could not serialize the message: {0}")]
    Serialize(#[from] serde_json::Error),
    #[error("the message is {bytes} bytes with its attributes, over SQS's {MAX_MESSAGE_BYTES}")]
    TooLarge { bytes: usize },
}

impl Classify for MessageError {
    fn retry(&self) -> Retry {
        Retry::Permanent
    }
}

impl FifoMessage {
    /// `value` as JSON, escaped for SQS, size-checked.
    pub fn json(
        value: &impl Serialize,
        group_id: impl Into<String>,
        deduplication_id: impl Into<String>,
        attributes: &[(&'static str, &str)],
    ) -> Result<FifoMessage, MessageError> {
        FifoMessage::text(
            serde_json::to_string(value)?,
            group_id,
            deduplication_id,
            attributes,
        )
    }

    /// JSON text already serialized (a stored result sent again byte for byte), escaped for
    /// SQS (a no-op on text escaped before) and size-checked.
    pub fn text(
        json: String,
        group_id: impl Into<String>,
        deduplication_id: impl Into<String>,
        attributes: &[(&'static str, &str)],
    ) -> Result<FifoMessage, MessageError> {
        let body = escape_for_sqs(json);
        let attributes: Vec<(&'static str, String)> = attributes
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| (*name, (*value).to_owned()))
            .collect();
        let sized: Vec<(&str, &str)> = attributes
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        let bytes = message_size(&body, &sized);
        if bytes > MAX_MESSAGE_BYTES {
            return Err(MessageError::TooLarge { bytes });
        }
        Ok(FifoMessage {
            body,
            group_id: group_id.into(),
            deduplication_id: deduplication_id.into(),
            attributes,
        })
    }

    /// The value of a string attribute, if the message has it.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Sends `message` to the FIFO queue at `queue_url`: the one SendMessage of every function.
pub async fn send_fifo(
    client: &aws_sdk_sqs::Client,
    queue_url: &str,
    message: &FifoMessage,
) -> Result<(), AwsError> {
    let attributes = message
        .attributes
        .iter()
        .filter_map(|(name, value)| {
            aws_sdk_sqs::types::MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .ok()
                .map(|attribute| ((*name).to_owned(), attribute))
        })
        .collect();
    client
        .send_message()
        .queue_url(queue_url)
        .message_body(&message.body)
        .message_group_id(&message.group_id)
        .message_deduplication_id(&message.deduplication_id)
        .set_message_attributes(Some(attributes))
        .send()
        .await
        .map_err(|err| AwsError::from_sdk("SendMessage", &err))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_noncharacters_customers_can_type_are_escaped() {
        let json =
            serde_json::to_string(&serde_json::json!({"text": "a\u{FFFE}b\u{FFFF}c"})).unwrap();
        assert!(
            first_refused_char(&json).is_some(),
            "serde_json writes them raw"
        );
        let safe = escape_for_sqs(json);
        assert_eq!(safe, r#"{"text":"a\ufffeb\uffffc"}"#);
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["text"], "a\u{FFFE}b\u{FFFF}c");
    }

    #[test]
    fn accepted_text_is_returned_unchanged() {
        let json = r#"{"t":"héllo 👋 \u0001"}"#.to_owned();
        assert_eq!(escape_for_sqs(json.clone()), json);
    }

    proptest! {
        #[test]
        fn any_string_serializes_to_an_sqs_message_that_means_the_same(text in any::<String>()) {
            let safe = escape_for_sqs(serde_json::to_string(&serde_json::json!({ "text": text })).unwrap());
            prop_assert!(first_refused_char(&safe).is_none());
            let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
            prop_assert_eq!(back["text"].as_str(), Some(text.as_str()));
        }
    }

    fn attributes() -> [(&'static str, &'static str); 2] {
        [("kind", "message"), ("tenant", "acme")]
    }

    #[test]
    fn a_message_is_escaped_and_keeps_its_routing_and_attributes() {
        let message = FifoMessage::json(
            &serde_json::json!({"text": "a\u{FFFF}b"}),
            "acme/c/1",
            "ev-1",
            &attributes(),
        )
        .unwrap();
        assert_eq!(message.body, r#"{"text":"a\uffffb"}"#);
        assert_eq!(message.group_id, "acme/c/1");
        assert_eq!(message.deduplication_id, "ev-1");
        assert_eq!(message.attribute("kind"), Some("message"));
        assert_eq!(message.attribute("tenant"), Some("acme"));
    }

    #[test]
    fn an_empty_attribute_is_left_out_rather_than_refused_by_sqs() {
        let message = FifoMessage::text("{}".into(), "g", "d", &[("tenant", "")]).unwrap();
        assert!(message.attributes.is_empty());
        assert_eq!(message.attribute("tenant"), None);
    }

    #[test]
    fn the_limit_counts_the_attributes_too() {
        let attributes = attributes();
        let room = MAX_MESSAGE_BYTES
            - attributes
                .iter()
                .map(|(n, v)| n.len() + "String".len() + v.len())
                .sum::<usize>();
        let fits = "x".repeat(room);
        assert!(FifoMessage::text(fits.clone(), "g", "d", &attributes).is_ok());
        let err = FifoMessage::text(fits + "x", "g", "d", &attributes).unwrap_err();
        assert!(
            matches!(err, MessageError::TooLarge { bytes } if bytes == MAX_MESSAGE_BYTES + 1),
            "{err}"
        );
        assert!(!err.is_retryable());
    }

    #[test]
    fn text_escaped_before_is_sent_again_byte_for_byte() {
        let first =
            FifoMessage::json(&serde_json::json!({"t": "\u{FFFE}"}), "g", "d", &[]).unwrap();
        let again = FifoMessage::text(first.body.clone(), "g", "d", &[]).unwrap();
        assert_eq!(again.body, first.body);
    }

    proptest! {
        /// Whatever the text and attributes: either a message SQS accepts, within the limit,
        /// that reads back as the same value, or a typed "too large" naming a size over it.
        #[test]
        fn a_built_message_is_always_one_sqs_accepts(
            text in any::<String>(),
            tenant in "[a-z0-9-]{0,20}",
            padding in 0usize..300_000,
        ) {
            let value = serde_json::json!({ "text": text, "pad": "p".repeat(padding) });
            match FifoMessage::json(&value, "g", "d", &[("tenant", &tenant)]) {
                Ok(message) => {
                    prop_assert!(first_refused_char(&message.body).is_none());
                    let sized: Vec<(&str, &str)> =
                        message.attributes.iter().map(|(n, v)| (*n, v.as_str())).collect();
                    prop_assert!(message_size(&message.body, &sized) <= MAX_MESSAGE_BYTES);
                    let back: serde_json::Value = serde_json::from_str(&message.body).unwrap();
                    prop_assert_eq!(back, value);
                }
                Err(MessageError::TooLarge { bytes }) => prop_assert!(bytes > MAX_MESSAGE_BYTES),
                Err(other) => prop_assert!(false, "{}", other),
            }
        }
    }
}
