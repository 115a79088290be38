//! Properties over untrusted input: whatever JSON a signed caller sends, classification does not
//! panic, the event it makes validates against the published schema, and its FIFO routing ids
//! are ones SQS accepts.

use std::sync::OnceLock;

use chrono::Utc;
use proptest::prelude::*;
use serde_json::{Map, Value};
use switchboard_shared::sinch::callback::parse_callback;
use switchboard_webhook::classify::classify;
use switchboard_webhook::ingest::{GroupKey, IngestMessage};
use switchboard_webhook::route::parse_path;

/// Keys Sinch callbacks use, so generated documents reach the typed paths, not only `Unknown`.
const KEYS: &[&str] = &[
    "app_id",
    "project_id",
    "accepted_time",
    "event_time",
    "message_metadata",
    "correlation_id",
    "message",
    "message_delivery_report",
    "event",
    "opt_in_notification",
    "opt_out_notification",
    "channel_event_notification",
    "unsupported_callback",
    "contact_create_notification",
    "id",
    "contact_message",
    "text_message",
    "text",
    "media_message",
    "media_card_message",
    "url",
    "location_message",
    "coordinates",
    "latitude",
    "longitude",
    "title",
    "choice_response_message",
    "reply_to",
    "message_id",
    "channel_identity",
    "channel",
    "identity",
    "conversation_id",
    "contact_id",
    "status",
    "reason",
    "code",
    "contact_event",
    "composing_event",
    "contact_message_event",
    "reaction_event",
    "emoji",
    "request_id",
    "channel_event",
    "event_type",
    "additional_data",
    "payload",
    "processing_mode",
    "sender_id",
    "metadata",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        prop_oneof![
            Just("WHATSAPP".to_owned()),
            Just("DELIVERED".to_owned()),
            Just("2026-11-21T08:17:44.993024Z".to_owned()),
            Just(String::new()),
            ".{0,24}",
        ]
        .prop_map(Value::String),
    ]
}

fn document() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|pairs| {
                Value::Object(
                    pairs
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let path = format!(
            "{}/../../schemas/inbound-event.v1.schema.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        jsonschema::validator_for(&schema).unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_callback_shaped_json_becomes_a_valid_event(top in prop::collection::vec((prop::sample::select(KEYS), document()), 0..8)) {
        let object: Map<String, Value> = top.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let body = serde_json::to_vec(&Value::Object(object)).unwrap();
        let callback = parse_callback(&body).expect("any JSON object is a callback");
        let event = classify("acme", "main", &callback, &body, Utc::now());
        let json = serde_json::to_value(&event).unwrap();
        let errors: Vec<String> = validator().iter_errors(&json).map(|e| e.to_string()).collect();
        prop_assert!(errors.is_empty(), "{errors:?} for {}", String::from_utf8_lossy(&body));

        let message = IngestMessage::new(&event, &GroupKey::new(b"secret")).unwrap();
        prop_assert!(message.group_id.len() <= 128);
        prop_assert!(message.group_id.chars().all(|c| c.is_ascii_alphanumeric() || c.is_ascii_punctuation()));
        prop_assert_eq!(message.deduplication_id.len(), 32);
        prop_assert!(message.deduplication_id.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn arbitrary_paths_never_panic_and_only_the_route_matches(path in "(/[a-z0-9_%.-]{0,12}){0,6}/?") {
        if let Ok(route) = parse_path(&path) {
            prop_assert!(path.contains("/sms/sinchconversation/"));
            prop_assert!(path.contains(route.tenant.as_str()));
        }
    }

    /// Real webhook paths (with an optional stage prefix, trailing slash, `all` or a named
    /// service) always parse, to exactly the tenant and service they name; the same path with
    /// a fixed segment changed never does.
    #[test]
    fn real_webhook_paths_parse_to_what_they_name(
        stage in prop::option::of("[a-z]{1,8}"),
        tenant in "[a-z0-9][a-z0-9_-]{0,20}",
        service in prop_oneof![Just("all".to_owned()), "[a-z0-9][a-z0-9_-]{0,20}"],
        slash in prop::bool::ANY,
        broken in 0usize..3,
    ) {
        let prefix = stage.map(|s| format!("/{s}")).unwrap_or_default();
        let tail = if slash { "/" } else { "" };
        let path = format!("{prefix}/{tenant}/sms/sinchconversation/{service}{tail}");
        let route = parse_path(&path).expect("a real webhook path parses");
        prop_assert_eq!(route.tenant.as_str(), tenant.as_str());
        match &route.service {
            switchboard_webhook::route::ServiceSelector::ByAppId => prop_assert_eq!(service.as_str(), "all"),
            switchboard_webhook::route::ServiceSelector::Named(name) => prop_assert_eq!(name.as_str(), service.as_str()),
        }
        let wrong = match broken {
            0 => format!("{prefix}/{tenant}/mms/sinchconversation/{service}"),
            1 => format!("{prefix}/{tenant}/sms/sinch/{service}"),
            _ => format!("{prefix}/{tenant}/sms/sinchconversation"),
        };
        // Without its fixed segments, a path is never a route.
        prop_assert!(parse_path(&wrong).is_err(), "{}", wrong);
    }
}
