//! The integration tests of switchboard-admin, in one test binary (each `tests/*.rs` was a binary of
//! its own, each linking the AWS SDK again): every former `tests/<name>.rs` is the module `<name>`
//! here, so `cargo test -p switchboard-admin --test it <name>::` runs one of them. They need moto
//! (`infra/scripts/with-moto.sh -- cargo test -p switchboard-admin`).

mod cli_moto;
mod config_store_moto;
mod dlq_moto;
mod events_moto;
mod public_media_moto;
