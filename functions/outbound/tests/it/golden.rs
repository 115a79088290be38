//! The contract's golden `send_result` examples (`schemas/examples/send-result-*.json`) are what
//! the outbound function really emits for the golden text command, accepted and refused, and
//! they validate against the published schema. Regenerate after a deliberate change with
//! `SWITCHBOARD_UPDATE_SCHEMAS=1 cargo test -p switchboard-outbound --test it golden::` (`make schemas`).

use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use switchboard_outbound::result::{self, About, Service};
use switchboard_shared::contract::{SendError, parse_command};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn examples() -> Vec<(&'static str, serde_json::Value)> {
    let text = std::fs::read(root().join("schemas/examples/agent-command-text.json")).unwrap();
    let command = parse_command(&text).unwrap();
    let about = About::of(&command);
    let id = result::result_id(&command.tenant, &command.reply_id);
    let service = Service {
        name: "main",
        project_id: "00000000-0000-4000-8000-00000000demo",
    };
    let now = Utc.with_ymd_and_hms(2026, 11, 21, 8, 17, 45).unwrap();
    let accepted_time = Utc.timestamp_millis_opt(1_795_249_065_123).unwrap();
    let accepted = result::accepted(
        &about,
        id.clone(),
        service,
        "01HQDEMOSINCHMESSAGEID0001".into(),
        Some(accepted_time),
        now,
    );
    let failed = result::failed(
        &about,
        id,
        service,
        SendError {
            http_status: Some(400),
            code: "INVALID_ARGUMENT".into(),
            message: "Invalid argument: recipient identity is not a valid phone number".into(),
        },
        now,
    );
    vec![
        (
            "send-result-accepted",
            serde_json::to_value(accepted).unwrap(),
        ),
        ("send-result-failed", serde_json::to_value(failed).unwrap()),
    ]
}

#[test]
fn golden_send_results_are_what_the_function_emits_and_fit_the_schema() {
    let update = std::env::var("SWITCHBOARD_UPDATE_SCHEMAS").as_deref() == Ok("1");
    let schema =
        std::fs::read_to_string(root().join("schemas/inbound-event.v1.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&serde_json::from_str(&schema).unwrap()).unwrap();
    let mut stale = Vec::new();
    for (name, event) in examples() {
        let errors: Vec<String> = validator
            .iter_errors(&event)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
        let path = root().join(format!("schemas/examples/{name}.json"));
        let generated = serde_json::to_string_pretty(&event).unwrap() + "\n";
        if update {
            std::fs::write(&path, &generated).unwrap();
        } else if std::fs::read_to_string(&path).unwrap_or_default() != generated {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "examples differ: {stale:?}; regenerate with SWITCHBOARD_UPDATE_SCHEMAS=1 if deliberate"
    );
}

#[test]
fn every_send_result_example_file_is_one_this_test_checks() {
    let names: Vec<&str> = examples().iter().map(|(name, _)| *name).collect();
    for entry in std::fs::read_dir(root().join("schemas/examples")).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().to_string();
        if file.starts_with("send-result-") {
            let stem = file.trim_end_matches(".json");
            assert!(
                names.contains(&stem),
                "schemas/examples/{file} is not in this test's list"
            );
        }
    }
}
