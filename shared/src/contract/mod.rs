//! The contracts with the contact center: JSON on SQS FIFO queues, defined once here and
//! exported as JSON Schema into `schemas/` (see `schemas/README.md`). Public API: within a
//! schema version, change only additively.

pub mod agent_command;
mod inbound;
pub mod schema;

pub use agent_command::{
    AGENT_COMMAND_SCHEMA_VERSION, AgentCommand, CommandEvent, CommandMessage, InvalidCommand,
    parse_command,
};
pub use inbound::*;
