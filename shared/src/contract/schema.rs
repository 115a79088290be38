//! JSON Schema export of the contracts, checked into `schemas/` and compared in a test.

use crate::contract::{AgentCommand, InboundEvent};

/// File name (under `schemas/`) and pretty JSON of every exported schema.
pub fn all() -> Vec<(&'static str, String)> {
    let inbound = schemars::schema_for!(InboundEvent);
    let command = schemars::schema_for!(AgentCommand);
    vec![
        ("inbound-event.v1.schema.json", pretty(&inbound)),
        ("agent-command.v1.schema.json", pretty(&command)),
    ]
}

fn pretty(schema: &schemars::Schema) -> String {
    // A schema is plain JSON; serialising it cannot fail.
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}
