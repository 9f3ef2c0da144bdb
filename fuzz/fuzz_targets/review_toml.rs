#![no_main]
//! Fuzz target: see series::fuzz::review_toml.

libfuzzer_sys::fuzz_target!(|data: &[u8]| series::fuzz::review_toml(data));
