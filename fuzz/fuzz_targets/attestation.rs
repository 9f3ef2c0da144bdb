#![no_main]
//! Fuzz target: see series::fuzz::attestation.

libfuzzer_sys::fuzz_target!(|data: &[u8]| series::fuzz::attestation(data));
