#![no_main]
//! Fuzz target: see series::fuzz::bench.

libfuzzer_sys::fuzz_target!(|data: &[u8]| series::fuzz::bench(data));
