//! Fuzz targets for Switchboard (`make fuzz`). Each module is one target: a `run(data)` that
//! feeds arbitrary bytes to the code under test and panics when a property breaks, so libFuzzer
//! (nightly), the stable harness (`stable-fuzz`) and the regression tests
//! (`tests/tests/it/fuzz_regressions.rs`, which includes these files by path) run the very same
//! code. The modules use no `crate::` items for that reason.

pub mod callback_parser;
pub mod signature_headers;
pub mod webhook_request;

/// The targets by name, for the stable harness.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("callback_parser", |data| {
        callback_parser::run(data);
    }),
    ("signature_headers", |data| {
        signature_headers::run(data);
    }),
    ("webhook_request", |data| {
        webhook_request::run(data);
    }),
];
