//! libFuzzer entry for the `callback_parser` target; the target itself is `switchboard_fuzz::callback_parser`,
//! shared with the stable harness and the regression tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = switchboard_fuzz::callback_parser::run(data);
});
