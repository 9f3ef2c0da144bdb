//! Sending: who receives the series, the journal that makes sending
//! resumable, and get_maintainer.pl.

pub mod journal;
pub mod maintainers;
pub mod recipients;
