//! Sending: who receives the series.

pub mod recipients;
