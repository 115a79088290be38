//! What SQS accepts in a message, written once for every function that sends one.
//!
//! SQS refuses a message containing any character outside `#x9 | #xA | #xD | #x20–#xD7FF |
//! #xE000–#xFFFD | #x10000–#x10FFFF` (InvalidMessageContents), and anything over 256 KiB with
//! its attributes. Customers can type U+FFFE or U+FFFF; serde_json writes them raw. A JSON
//! document can always say the same thing with `\uXXXX` escapes, so [`escape_for_sqs`] rewrites
//! exactly those characters and the message means the same to every JSON reader.

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
}
