//! The end-to-end tests, in one test binary (each `tests/*.rs` was a binary of its own, each
//! linking the AWS SDK and every function crate again): every former `tests/<name>.rs` is the
//! module `<name>` here, so `cargo test -p switchboard-e2e --test it <name>::` runs one of them.
//! They need moto (`make test`, or `infra/scripts/with-moto.sh -- cargo test -p switchboard-e2e`).

mod fuzz_regressions;
mod inbound_stage;
mod lambda_semantics;
mod lambda_shell;
mod make_dev;
mod official_sdk;
mod outbound;
mod sdk_request_models;
mod sinch_client;
mod sinch_simulator;
mod webhook;
