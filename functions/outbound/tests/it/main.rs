//! The integration tests of switchboard-outbound, in one test binary (each `tests/*.rs` was a
//! binary of its own, each linking the AWS SDK again): every former `tests/<name>.rs` is the module
//! `<name>` here, so `cargo test -p switchboard-outbound --test it <name>::` runs one of them.
//! `aws_moto` and `handler` need moto (`infra/scripts/with-moto.sh -- cargo test -p
//! switchboard-outbound`).

mod aws_moto;
mod golden;
mod handler;
