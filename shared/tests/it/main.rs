//! The integration tests of switchboard-shared, in one test binary (each `tests/*.rs` binary linked
//! the AWS SDK again): every former `tests/<name>.rs` is the module `<name>` here, so
//! `cargo test -p switchboard-shared --test it <name>::` runs one of them. The fixtures stay in
//! `tests/fixtures`.

mod agent_command;
mod config_isolation_moto;
mod schemas;
mod sinch_callbacks;
mod sinch_signature;
mod state_moto;
