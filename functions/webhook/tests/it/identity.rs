//! The identity rule (docs/event-identity.md), by property, one test per callback kind: two
//! callbacks get the same `event_id` exactly when they agree on what names them, however the
//! rest varies; the same callback re-sent with other whitespace and key order keeps its id.

use proptest::prelude::*;
use serde_json::{Value, json};
use switchboard_shared::sinch::callback::parse_callback;
use switchboard_webhook::classify::event_id;

fn id_of(text: &str) -> String {
    let callback = parse_callback(text.as_bytes()).expect("generated callbacks parse");
    event_id("acme", &callback, text.as_bytes())
}

/// The same JSON document written differently: keys in reverse order, spaces and newlines.
fn rewritten(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| b.0.cmp(a.0));
            let inner: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("\n  {} :  {}", Value::String(k.clone()), rewritten(v)))
                .collect();
            format!("{{ {} }}", inner.join(" ,"))
        }
        Value::Array(items) => format!(
            "[ {} ]",
            items.iter().map(rewritten).collect::<Vec<_>>().join(" , ")
        ),
        scalar => scalar.to_string(),
    }
}

fn envelope(key: &str, content: Value, noise: &str) -> Value {
    // Envelope fields vary between generated callbacks; they never name one.
    json!({"app_id": "01APP", "project_id": "p", "accepted_time": "2026-11-21T08:00:00Z",
           "message_metadata": noise, key: content})
}

fn status() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "QUEUED_ON_CHANNEL",
        "DELIVERED",
        "READ",
        "FAILED",
        "SWITCHING_CHANNEL",
    ])
    .prop_map(str::to_owned)
}

fn channel() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["WHATSAPP", "SMS", "RCS", "MESSENGER"]).prop_map(str::to_owned)
}

fn small_id() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["01A", "01B"]).prop_map(str::to_owned)
}

fn reason() -> impl Strategy<Value = Option<String>> {
    prop::option::of(
        prop::sample::select(vec![
            "RECIPIENT_NOT_REACHABLE",
            "OUTSIDE_ALLOWED_SENDING_WINDOW",
        ])
        .prop_map(str::to_owned),
    )
}

fn with_reason(mut content: Value, reason: &Option<String>) -> Value {
    if let Some(code) = reason {
        content["reason"] = json!({"code": code});
    }
    content
}

/// Checks the rule for a pair: ids equal exactly when the naming parts are equal, and each
/// callback keeps its id when rewritten.
fn check<K: PartialEq + std::fmt::Debug>(
    a: (K, Value),
    b: (K, Value),
) -> Result<(), TestCaseError> {
    let (id_a, id_b) = (id_of(&a.1.to_string()), id_of(&b.1.to_string()));
    prop_assert_eq!(
        id_of(&rewritten(&a.1)),
        id_a.clone(),
        "rewritten {}",
        rewritten(&a.1)
    );
    prop_assert_eq!(a.0 == b.0, id_a == id_b, "{:?} vs {:?}", a.0, b.0);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn message_inbound_is_named_by_its_message_id(
        pair in prop::array::uniform2((small_id(), "[a-z]{0,3}", "[a-z]{0,3}"))
    ) {
        let make = |(id, text, noise): &(String, String, String)| (id.clone(), envelope("message", json!({
            "id": id, "conversation_id": "01C",
            "channel_identity": {"channel": "WHATSAPP", "identity": "4670"},
            "contact_message": {"text_message": {"text": text}}}), noise));
        check(make(&pair[0]), make(&pair[1]))?;
    }

    #[test]
    fn message_delivery_reports_are_named_by_message_status_channel_and_reason(
        pair in prop::array::uniform2((small_id(), status(), channel(), reason(), "[a-z]{0,3}"))
    ) {
        let make = |(id, status, channel, reason, noise): &(String, String, String, Option<String>, String)| (
            (id.clone(), status.clone(), channel.clone(), reason.clone()),
            envelope("message_delivery_report", with_reason(json!({
                "message_id": id, "status": status, "metadata": noise,
                "channel_identity": {"channel": channel, "identity": "4670"}}), reason), noise));
        check(make(&pair[0]), make(&pair[1]))?;
    }

    #[test]
    fn message_submit_notifications_are_named_by_message_and_channel(
        pair in prop::array::uniform2((small_id(), channel(), "[a-z]{0,3}"))
    ) {
        let make = |(id, channel, noise): &(String, String, String)| ((id.clone(), channel.clone()),
            envelope("message_submit_notification", json!({
                "message_id": id, "channel_identity": {"channel": channel, "identity": "4670"}}), noise));
        check(make(&pair[0]), make(&pair[1]))?;
    }

    #[test]
    fn inbound_events_are_named_by_their_event_id(
        pair in prop::array::uniform2((small_id(), prop::bool::ANY, "[a-z]{0,3}"))
    ) {
        let make = |(id, composing, noise): &(String, bool, String)| (id.clone(), envelope("event", json!({
            "id": id, "conversation_id": "01C",
            "channel_identity": {"channel": "RCS", "identity": "4670"},
            "contact_event": if *composing { json!({"composing_event": {}}) } else { json!({"composing_end_event": {}}) }}), noise));
        check(make(&pair[0]), make(&pair[1]))?;
    }

    #[test]
    fn event_delivery_reports_are_named_by_event_status_channel_and_reason(
        pair in prop::array::uniform2((small_id(), status(), channel(), reason(), "[a-z]{0,3}"))
    ) {
        let make = |(id, status, channel, reason, noise): &(String, String, String, Option<String>, String)| (
            (id.clone(), status.clone(), channel.clone(), reason.clone()),
            envelope("event_delivery_report", with_reason(json!({
                "event_id": id, "status": status,
                "channel_identity": {"channel": channel, "identity": "4670"}}), reason), noise));
        check(make(&pair[0]), make(&pair[1]))?;
    }

    #[test]
    fn consent_notifications_are_named_by_request_status_and_channel(
        pair in prop::array::uniform2((prop::bool::ANY, small_id(), prop::sample::select(vec!["OPT_IN_SUCCEEDED", "OPT_IN_FAILED"]), channel(), "[a-z]{0,3}"))
    ) {
        let make = |(opt_in, id, status, channel, noise): &(bool, String, &'static str, String, String)| (
            (*opt_in, id.clone(), *status, channel.clone()),
            envelope(if *opt_in { "opt_in_notification" } else { "opt_out_notification" }, json!({
                "request_id": id, "status": status, "channel": channel, "identity": "4670"}), noise));
        check(make(&pair[0]), make(&pair[1]))?;
    }

    #[test]
    fn capability_notifications_are_named_by_request_channel_and_status(
        pair in prop::array::uniform2((small_id(), channel(), prop::sample::select(vec!["CAPABILITY_FULL", "NO_CAPABILITY"]), "[a-z]{0,3}"))
    ) {
        let make = |(id, channel, status, noise): &(String, String, &'static str, String)| (
            (id.clone(), channel.clone(), *status),
            envelope("capability_notification", json!({
                "request_id": id, "channel": channel, "identity": "4670", "capability_status": status}), noise));
        check(make(&pair[0]), make(&pair[1]))?;
    }

    #[test]
    fn contact_updates_are_named_by_their_whole_content(
        pair in prop::array::uniform2((small_id(), "[a-z]{0,2}", "[a-z]{0,3}"))
    ) {
        // One contact is updated many times under one id: only the content tells updates apart.
        let make = |(id, name, noise): &(String, String, String)| ((id.clone(), name.clone()),
            envelope("contact_update_notification", json!({"contact": {"id": id, "display_name": name}}), noise));
        check(make(&pair[0]), make(&pair[1]))?;
    }

    #[test]
    fn channel_events_are_named_by_their_whole_content(
        pair in prop::array::uniform2((channel(), "[A-Z]{0,2}", "[a-z]{0,3}"))
    ) {
        let make = |(channel, rating, noise): &(String, String, String)| ((channel.clone(), rating.clone()),
            envelope("channel_event_notification", json!({"channel_event": {
                "channel": channel, "event_type": "QUALITY_RATING", "additional_data": {"rating": rating}}}), noise));
        check(make(&pair[0]), make(&pair[1]))?;
    }

    #[test]
    fn unknown_kinds_are_named_by_their_whole_content(
        pair in prop::array::uniform2(("[a-z]{0,2}", "[a-z]{0,3}"))
    ) {
        let make = |(x, noise): &(String, String)| (x.clone(), envelope("future_notification", json!({"x": x}), noise));
        check(make(&pair[0]), make(&pair[1]))?;
    }

    #[test]
    fn kinds_never_share_an_id(id in small_id()) {
        let a = envelope("message_delivery_report", json!({"message_id": id, "status": "DELIVERED"}), "");
        let b = envelope("event_delivery_report", json!({"event_id": id, "status": "DELIVERED"}), "");
        prop_assert_ne!(id_of(&a.to_string()), id_of(&b.to_string()));
    }
}
