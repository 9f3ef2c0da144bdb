//! `series diff`.

use std::io::Write;

use clap::Args as ClapArgs;

use super::{emit, notes, CliError, Context};
use crate::app::diff::{self, Request};

/// Compare two versions as git range-diff does [default: the last sent
/// version and the current one]
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The older version (vN)
    #[arg(value_name = "OLD", add = super::complete::versions())]
    pub old: Option<String>,

    /// The newer version (vN) [default: the current one]
    #[arg(value_name = "NEW", add = super::complete::versions())]
    pub new: Option<String>,

    /// One line per patch: what paired with what, no diffs
    #[arg(long)]
    pub stat: bool,

    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,

    /// Merge the changelog drafted from this comparison into the current
    /// version's "Changes in vN" (lines already there are kept)
    #[arg(long, conflicts_with = "no_draft")]
    pub draft: bool,

    /// Do not draft (the default; kept for scripts written before --draft)
    #[arg(long, hide = true)]
    pub no_draft: bool,
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let req = Request {
        old: args.old,
        new: args.new,
        stat: args.stat,
        draft: args.draft,
    };
    let r = diff::run(ctx, req)?;
    emit(out, &r, args.json)?;
    if !args.json {
        notes(&r.notes());
    }
    Ok(())
}
