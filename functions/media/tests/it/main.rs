//! The integration tests of switchboard-media, in one test binary (each `tests/*.rs` was a binary
//! of its own, each linking the AWS SDK again): every former `tests/<name>.rs` is the module
//! `<name>` here, so `cargo test -p switchboard-media --test it <name>::` runs one of them. The
//! `*_moto` modules need moto (`infra/scripts/with-moto.sh -- cargo test -p switchboard-media`).

mod display_names_moto;
mod stage;
mod store_moto;
mod tenant_media;
