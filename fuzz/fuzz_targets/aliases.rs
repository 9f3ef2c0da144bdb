#![no_main]
//! Fuzz target: see series::fuzz::aliases.

libfuzzer_sys::fuzz_target!(|data: &[u8]| series::fuzz::aliases(data));
