//! `series refresh`.

use std::io::Write;

use clap::Args as ClapArgs;

use super::{emit, CliError, Context};
use crate::app::refresh::{self, Request};

/// Read the commits of a branch back into series/ (after `series apply`,
/// commit --amend or rebase -i)
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The branch [default: the one `series apply` makes, series/<name>-v<N>]
    #[arg(long, add = super::complete::branches())]
    pub branch: Option<String>,

    /// The branch starts on another base than the series' (a ref or a
    /// unique part of its name)
    #[arg(long, add = super::complete::refs())]
    pub base: Option<String>,

    /// Show what would change without saving
    #[arg(long)]
    pub dry_run: bool,

    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let req = Request {
        branch: args.branch,
        base: args.base,
        dry_run: args.dry_run,
    };
    emit(out, &refresh::run(ctx, req)?, args.json)
}
