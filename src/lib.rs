//! `series`: keep a Linux kernel patch series as plain files, and carry it from
//! commits to the mailing list and back.
//!
//! The library holds every domain operation; only [`cli`] talks to a terminal.

#![forbid(unsafe_code)]

pub mod app;
pub mod apply;
pub mod attest;
pub mod b4;
pub mod bench;
pub mod check;
pub mod cli;
pub mod clock;
pub mod depends;
pub mod diff;
pub mod error;
#[doc(hidden)]
pub mod fuzz;
pub mod git;
pub mod import;
pub mod interrupt;
pub mod lore;
pub mod mail;
pub mod mailbox;
pub mod model;
pub mod names;
pub mod outgoing;
pub mod prepare;
pub mod process;
pub mod rangediff;
pub mod rebase;
pub mod refresh;
pub mod review;
pub mod send;
pub mod store;
pub mod template;
pub mod term;
pub mod testing;
pub mod text;
pub mod tree;
pub mod versions;
pub mod workspace;
