#![no_main]
//! Fuzz target: see series::fuzz::maintainers.

libfuzzer_sys::fuzz_target!(|data: &[u8]| series::fuzz::maintainers(data));
