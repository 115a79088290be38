//! The integration tests of switchboard-retention, in one test binary (each `tests/*.rs` was a
//! binary of its own, each linking the AWS SDK again): every former `tests/<name>.rs` is the module
//! `<name>` here, so `cargo test -p switchboard-retention --test it <name>::` runs one of them.
//! The `*_moto` modules need moto (`infra/scripts/with-moto.sh -- cargo test -p
//! switchboard-retention`); `common` is what they share.

mod big_bucket_moto;
mod common;
mod lambda_shell;
mod sweep;
mod sweep_moto;
mod template;
