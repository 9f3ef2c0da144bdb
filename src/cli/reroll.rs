//! `series reroll`.

use std::io::Write;

use clap::Args as ClapArgs;

use super::{emit, CliError, Context};

/// Start the next version: keep this one, frozen, in series/versions/
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    emit(out, &crate::app::reroll::run(ctx)?, args.json)
}
