//! The JSON Schemas in `schemas/` are the contract's published form: they must be exactly what
//! the Rust types produce. Regenerate after a deliberate change with
//! `SWITCHBOARD_UPDATE_SCHEMAS=1 cargo test -p switchboard-shared --test it schemas::`.

use std::path::PathBuf;

fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

#[test]
fn checked_in_schemas_match_the_rust_types() {
    // Exactly "1": a stray `SWITCHBOARD_UPDATE_SCHEMAS=0` (or empty) in someone's environment
    // must not turn this check into a rewrite that always passes. `make test` unsets it.
    let update = std::env::var("SWITCHBOARD_UPDATE_SCHEMAS").as_deref() == Ok("1");
    let mut stale = Vec::new();
    for (name, generated) in switchboard_shared::contract::schema::all() {
        let path = schemas_dir().join(name);
        if update {
            std::fs::write(&path, &generated).unwrap();
            continue;
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        if checked_in != generated {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "schemas differ from the Rust types: {stale:?}. If the change is deliberate (and additive \
         within the version), run: SWITCHBOARD_UPDATE_SCHEMAS=1 cargo test -p switchboard-shared --test it schemas::"
    );
}

#[test]
fn the_inbound_schema_names_every_kind_and_requires_the_common_fields() {
    let text = std::fs::read_to_string(schemas_dir().join("inbound-event.v1.schema.json")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    for kind in [
        "message",
        "delivery",
        "contact_event",
        "consent",
        "channel_event",
        "send_result",
        "unsupported",
    ] {
        assert!(
            text.contains(&format!("\"const\": \"{kind}\"")),
            "kind {kind} missing"
        );
    }
    let required = schema["required"].as_array().unwrap();
    for field in [
        "schema_version",
        "event_id",
        "tenant",
        "service",
        "app_id",
        "attached_data",
        "received_at",
    ] {
        assert!(required.iter().any(|r| r == field), "{field} not required");
    }
}
