//! `series rebase`.

use std::io::Write;

use clap::Args as ClapArgs;

use super::progress::Progress;
use super::{emit, notes, CliError, Context};
use crate::app::rebase::{self, Request};

/// Rebase the series onto a new base (a ref, or a unique part of its name)
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The new base, e.g. mmotm-2017-03-14 or v4.11-rc3
    #[arg(
        required_unless_present_any = ["cont", "abort", "restack"],
        conflicts_with_all = ["cont", "abort", "restack"],
        add = super::complete::refs()
    )]
    pub base: Option<String>,

    /// Drop patches the new base already contains
    #[arg(long)]
    pub drop_merged: bool,

    /// Go on after resolving a conflict in the scratch folder
    #[arg(long = "continue", conflicts_with = "abort")]
    pub cont: bool,

    /// Drop a paused rebase and its scratch folder
    #[arg(long)]
    pub abort: bool,

    /// Move onto the new version of a prerequisite (`series depends`):
    /// from its old patches to its patches now, on its base
    #[arg(long, conflicts_with_all = ["cont", "abort", "drop_merged"])]
    pub restack: bool,

    /// Print JSON instead of text (also on a conflict, with exit code 3)
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let req = match (args.abort, args.cont, args.base) {
        _ if args.restack => Request::Restack,
        (true, _, _) => Request::Abort,
        (_, true, _) => Request::Continue,
        (_, _, base) => Request::Onto {
            base: base.unwrap_or_default(),
            drop_merged: args.drop_merged,
        },
    };
    let mut bar = Progress::new();
    let r = rebase::run(ctx, req, &mut |w, i, n, t| bar.step(w, i, n, t))?;
    bar.done();
    notes(r.notes());
    emit(out, &r, args.json)?;
    Ok(r.verdict()?)
}
