//! libFuzzer entry for the `webhook_request` target; the target itself is `switchboard_fuzz::webhook_request`,
//! shared with the stable harness and the regression tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = switchboard_fuzz::webhook_request::run(data);
});
