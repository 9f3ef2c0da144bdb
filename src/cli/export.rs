//! `series export`.

use std::io::Write;

use clap::Args as ClapArgs;

use super::{emit, CliError, Context};
use crate::app::b4::{self, ExportRequest};

/// Make a b4 prep branch from the series: a cover commit holding the cover
/// letter and b4's tracking data, the patches on it, and a sent/ tag for
/// each version sent
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Export for b4 (`b4 prep`, `b4 send`); the only format
    #[arg(long, required = true)]
    pub b4: bool,

    /// The branch to make [default: b4/<name>]
    pub branch: Option<String>,

    /// Move the branch if it exists (sent/ tags, what b4 sent, are never moved)
    #[arg(long)]
    pub force: bool,

    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let r = b4::export(
        ctx,
        ExportRequest {
            branch: args.branch,
            force: args.force,
        },
    )?;
    emit(out, &r, args.json)
}
