#![no_main]
//! Fuzz target: see series::fuzz::mail.

libfuzzer_sys::fuzz_target!(|data: &[u8]| series::fuzz::mail(data));
