#![no_main]
//! Fuzz target: see series::fuzz::checkpatch_report.

libfuzzer_sys::fuzz_target!(|data: &[u8]| series::fuzz::checkpatch_report(data));
