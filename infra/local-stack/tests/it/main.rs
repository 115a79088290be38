//! The integration tests of switchboard-local-stack, in one test binary (each `tests/*.rs` was a
//! binary of its own, each linking the AWS SDK again): every former `tests/<name>.rs` is the module
//! `<name>` here, so `cargo test -p switchboard-local-stack --test it <name>::` runs one of them.
//! `local_stack_moto` needs moto (`infra/scripts/with-moto.sh -- cargo test -p
//! switchboard-local-stack`); `common` reads the template for the `template_*` checks.

mod common;
mod local_stack_moto;
mod template_checks;
mod template_iam;
mod template_media_link;
mod template_outbound;
mod template_public_media;
mod template_tenancy;
