//! The whole front end: parse and check one file. Bytes that are not UTF-8
//! are decoded lossily, as `fuzz_regressions` in tests/suite/robustness.rs
//! does, so every crasher found here replays there unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = flowc::check::check_source("fuzz.flow", &text);
});
