#![no_main]
//! Fuzz target: see series::fuzz::manifest.

libfuzzer_sys::fuzz_target!(|data: &[u8]| series::fuzz::manifest(data));
