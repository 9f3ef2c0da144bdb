#![no_main]
//! Fuzz target: see series::fuzz::line_applier.

libfuzzer_sys::fuzz_target!(|data: &[u8]| series::fuzz::line_applier(data));
