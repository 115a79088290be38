//! The contract's golden examples (`schemas/examples/`) are what the webhook really makes of
//! Sinch's own callback examples, and every event it makes validates against the published
//! schema. Regenerate the examples after a deliberate change with
//! `SWITCHBOARD_UPDATE_SCHEMAS=1 cargo test -p switchboard-webhook --test it golden::`.

use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use switchboard_shared::sinch::callback::parse_callback;
use switchboard_webhook::classify::classify;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn event_json(fixture: &str) -> serde_json::Value {
    let body =
        std::fs::read(root().join(format!("shared/tests/fixtures/callbacks/{fixture}.json")))
            .unwrap();
    let callback = parse_callback(&body).unwrap();
    let received_at = Utc.with_ymd_and_hms(2026, 11, 21, 8, 17, 45).unwrap();
    serde_json::to_value(classify("acme", "main", &callback, &body, received_at)).unwrap()
}

fn validator() -> jsonschema::Validator {
    let text =
        std::fs::read_to_string(root().join("schemas/inbound-event.v1.schema.json")).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap())
        .expect("the schema is a valid JSON Schema")
}

/// (example file, fixture it is made from)
const EXAMPLES: &[(&str, &str)] = &[
    ("message-text", "mo_whatsapp_text_reply_to"),
    ("message-media-card", "mo_whatsapp_media_card"),
    ("message-location", "mo_whatsapp_location"),
    ("delivery-failed", "dlr_whatsapp_failed_outside_window"),
    ("contact-event-typing", "event_rcs_composing"),
    ("contact-event-reaction", "event_messenger_reaction"),
    ("consent-opt-out", "opt_out_whatsapp"),
    ("channel-event", "channel_event_whatsapp_quality"),
    ("unsupported", "unsupported_messenger_echo"),
];

#[test]
fn golden_examples_are_what_the_webhook_makes() {
    // Exactly "1", as for the schemas; `make test` unsets it.
    let update = std::env::var("SWITCHBOARD_UPDATE_SCHEMAS").as_deref() == Ok("1");
    let mut stale = Vec::new();
    for (example, fixture) in EXAMPLES {
        let path = root().join(format!("schemas/examples/{example}.json"));
        let generated = serde_json::to_string_pretty(&event_json(fixture)).unwrap() + "\n";
        if update {
            std::fs::write(&path, &generated).unwrap();
        } else if std::fs::read_to_string(&path).unwrap_or_default() != generated {
            stale.push(*example);
        }
    }
    assert!(
        stale.is_empty(),
        "examples differ: {stale:?}; regenerate with SWITCHBOARD_UPDATE_SCHEMAS=1 if deliberate"
    );
}

#[test]
fn every_example_file_is_one_this_test_checks() {
    // An example nobody regenerates or compares would drift from the code unnoticed.
    let dir = root().join("schemas/examples");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        // Agent commands (the other direction) are checked by shared/tests/it/agent_command.rs,
        // send results (made by the outbound function) by functions/outbound/tests/it/golden.rs.
        if name.starts_with("agent-command-") || name.starts_with("send-result-") {
            continue;
        }
        assert!(
            path.extension().is_some_and(|e| e == "json")
                && EXAMPLES.iter().any(|(example, _)| *example == name),
            "schemas/examples/{} is not in this test's list",
            path.file_name().unwrap().to_string_lossy()
        );
    }
}

#[test]
fn every_event_made_from_every_fixture_validates_against_the_schema() {
    let validator = validator();
    let dir = root().join("shared/tests/fixtures/callbacks");
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry
            .unwrap()
            .path()
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let event = event_json(&name);
        let errors: Vec<String> = validator
            .iter_errors(&event)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
}

#[test]
fn the_schema_rejects_what_the_contract_forbids() {
    let validator = validator();
    let good = event_json("mo_whatsapp_text_reply_to");
    assert!(validator.is_valid(&good));
    for broken in [
        {
            let mut e = good.clone();
            e["kind"] = "telepathy".into();
            e
        },
        {
            let mut e = good.clone();
            e.as_object_mut().unwrap().remove("event_id");
            e
        },
        {
            let mut e = good.clone();
            e["message"]["media"] = serde_json::json!([{"source_url": "x", "status": "lost"}]);
            e
        },
        {
            let mut e = good.clone();
            e["attached_data"] = serde_json::json!({"n": 1});
            e
        },
    ] {
        assert!(!validator.is_valid(&broken), "accepted: {broken}");
    }
}
