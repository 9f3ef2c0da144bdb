#![no_main]
//! Fuzz target: see series::fuzz::list_mail.

libfuzzer_sys::fuzz_target!(|data: &[u8]| series::fuzz::list_mail(data));
