#![forbid(unsafe_code)]
//! The one integration-test binary: `series` run as a user would, against
//! real git repositories, with git itself as the reference.

mod attest;
mod b4;
mod bench;
mod check;
mod checkout;
mod common;
mod complete;
mod corpus;
mod depends;
mod errors;
mod firstday;
mod format_patch;
mod habits;
mod help;
mod hostile;
mod import;
mod outgoing;
mod rebase;
mod review;
mod send;
mod store;
mod thread;
mod trust;
mod upstream;
mod versions;
mod workspace;
