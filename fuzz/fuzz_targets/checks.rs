#![no_main]
//! Fuzz target: see series::fuzz::checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| series::fuzz::checks(data));
