//! `series apply`.

use std::io::Write;

use clap::Args as ClapArgs;

use super::progress::Progress;
use super::{emit, CliError, Context};
use crate::app::apply::{self, Request};

/// Make a branch at the base with one commit per patch
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Branch to create [default: series/<name>-v<N>]
    #[arg(long, add = super::complete::branches())]
    pub branch: Option<String>,

    /// Move the branch if it exists
    #[arg(long)]
    pub force: bool,

    /// Check the branch out in the tree afterwards (with git checkout)
    #[arg(long)]
    pub checkout: bool,

    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let req = Request {
        branch: args.branch,
        force: args.force,
        checkout: args.checkout,
    };
    let mut bar = Progress::new();
    let r = apply::run(ctx, req, &mut |w, i, n, t| bar.step(w, i, n, t))?;
    bar.done();
    emit(out, &r, args.json)
}
