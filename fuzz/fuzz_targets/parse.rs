//! Parser only: any UTF-8 text must parse (into a tree plus diagnostics)
//! without panicking, hanging or overflowing the stack.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = flowc::syntax::parse(flowc::source::FileId(0), text);
    }
});
