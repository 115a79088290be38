//! The integration tests of switchboard-webhook, in one test binary (each `tests/*.rs` was a binary
//! of its own, each linking the AWS SDK again): every former `tests/<name>.rs` is the module
//! `<name>` here, so `cargo test -p switchboard-webhook --test it <name>::` runs one of them.

mod classify;
mod decisions;
mod golden;
mod identity;
mod properties;
