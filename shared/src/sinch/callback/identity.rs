//! The identity of a callback: what names it, so that the same callback delivered again has the
//! same `event_id` and two different callbacks never share one (docs/event-identity.md).
//!
//! The identity names the callback, not the thing it is about: a message has several delivery
//! reports (one per status, and one per channel while Sinch switches channel), so a report's
//! identity is its message id *and* everything that tells two reports apart. Where Sinch gives
//! no id, or a part that tells two callbacks apart is missing, the identity is the callback's
//! content in canonical form (keys sorted, no whitespace), so two callbacks that differ in
//! anything at all still differ, and a re-sent one (other nonce, timestamp, whitespace or key
//! order) does not.

use serde_json::Value;

use super::{Callback, CallbackBody, ChannelIdentity, Reason};

/// The canonical JSON text of a value: object keys sorted at every level, no whitespace.
/// Written out here rather than relying on serde_json's map order, which a dependency's feature
/// (`preserve_order`) could change for the whole build.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (n, (key, inner)) in entries.into_iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(inner, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (n, inner) in items.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                write_canonical(inner, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Parts that name a callback; every part is present (an absent one makes the caller fall back
/// to the content).
struct Parts(Vec<(&'static str, String)>);

impl Parts {
    fn new() -> Parts {
        Parts(Vec::new())
    }

    /// A part that must be there for the explicit identity to hold.
    fn required(mut self, name: &'static str, value: Option<String>) -> Option<Parts> {
        let value = value.filter(|v| !v.is_empty())?;
        self.0.push((name, value));
        Some(self)
    }

    /// A part that tells two callbacks apart when present (kept as `""` when absent, which is
    /// itself a difference from any present value).
    fn optional(mut self, name: &'static str, value: Option<String>) -> Parts {
        self.0.push((name, value.unwrap_or_default()));
        self
    }

    fn channel(self, identity: Option<&ChannelIdentity>) -> Parts {
        self.optional("channel", identity.map(|c| c.channel.to_string()))
            .optional("identity", identity.map(|c| c.identity.clone()))
    }

    fn reason(self, reason: Option<&Reason>) -> Parts {
        self.optional("reason", reason.map(|r| r.code.clone()))
            .optional("sub_code", reason.and_then(|r| r.sub_code.clone()))
            .optional("channel_code", reason.and_then(|r| r.channel_code.clone()))
    }

    fn text(self) -> String {
        let object: serde_json::Map<String, Value> = self
            .0
            .into_iter()
            .map(|(name, value)| (name.to_owned(), Value::String(value)))
            .collect();
        canonical_json(&Value::Object(object))
    }
}

fn text<T: ToString>(value: Option<&T>) -> Option<String> {
    value.map(ToString::to_string)
}

/// The explicit identity from Sinch's ids, where the kind has one and every required part is
/// there.
fn explicit(body: &CallbackBody) -> Option<String> {
    let parts = match body {
        CallbackBody::Message(m) | CallbackBody::MessageRedaction(m) => {
            Parts::new().required("id", m.id.clone())?
        }
        CallbackBody::MessageDeliveryReport(r) => Parts::new()
            .required("message_id", r.message_id.clone())?
            .required("status", text(r.status.as_ref()))?
            .channel(r.channel_identity.as_ref())
            .reason(r.reason.as_ref()),
        CallbackBody::MessageSubmitNotification(s) => Parts::new()
            .required("message_id", s.message_id.clone())?
            .required(
                "channel",
                s.channel_identity.as_ref().map(|c| c.channel.to_string()),
            )?
            .optional(
                "identity",
                s.channel_identity.as_ref().map(|c| c.identity.clone()),
            ),
        CallbackBody::Event(e) => Parts::new().required("id", e.id.clone())?,
        CallbackBody::EventDeliveryReport(r) => Parts::new()
            .required("event_id", r.event_id.clone())?
            .required("status", text(r.status.as_ref()))?
            .channel(r.channel_identity.as_ref())
            .reason(r.reason.as_ref()),
        CallbackBody::OptInNotification(o) | CallbackBody::OptOutNotification(o) => Parts::new()
            .required("request_id", o.request_id.clone())?
            .required("status", text(o.status.as_ref()))?
            .optional("channel", text(o.channel.as_ref()))
            .optional("identity", o.identity.clone())
            .optional(
                "error",
                o.error_details.as_ref().and_then(|e| e.description.clone()),
            ),
        CallbackBody::CapabilityNotification(c) => Parts::new()
            .required("request_id", c.request_id.clone())?
            .optional("channel", text(c.channel.as_ref()))
            .optional("identity", c.identity.clone())
            .optional("status", text(c.capability_status.as_ref()))
            .reason(c.reason.as_ref()),
        // Contact, conversation and channel notifications, unsupported and unknown kinds: a
        // contact is updated many times under one id, so only the content names them.
        _ => return None,
    };
    Some(format!("id:{}", parts.text()))
}

/// The identity text of a callback; `raw` is the callback's JSON text (the readable text it was
/// parsed from), read again only when the explicit identity does not hold, so the common case
/// (a message or report with Sinch's ids) costs no second parse.
pub fn callback_identity(callback: &Callback, raw: &[u8]) -> String {
    if let Some(identity) = explicit(&callback.body) {
        return identity;
    }
    let document: Value = serde_json::from_slice(raw).unwrap_or(Value::Null);
    let key = callback.body.key();
    let content = match document.get(key) {
        Some(content) if !key.is_empty() => content,
        // No kind to go by: the whole callback names itself.
        _ => &document,
    };
    format!("content:{}", canonical_json(content))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_level_and_drops_whitespace() {
        let a: Value =
            serde_json::from_str(r#"{ "b": [ {"y":1, "x":2} ], "a": "\u00e9" }"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a":"é","b":[{"x":2,"y":1}]}"#).unwrap();
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(canonical_json(&a), r#"{"a":"é","b":[{"x":2,"y":1}]}"#);
    }
}
