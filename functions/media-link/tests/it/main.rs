//! The integration tests of switchboard-media-link, in one test binary (each `tests/*.rs` was a
//! binary of its own, each linking the AWS SDK again): every former `tests/<name>.rs` is the module
//! `<name>` here, so `cargo test -p switchboard-media-link --test it <name>::` runs one of them.
//! `moto` needs moto (`infra/scripts/with-moto.sh -- cargo test -p switchboard-media-link`).

mod handler;
mod moto;
