//! libFuzzer entry for the `signature_headers` target; the target itself is `switchboard_fuzz::signature_headers`,
//! shared with the stable harness and the regression tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = switchboard_fuzz::signature_headers::run(data);
});
