//! `series status`.

use std::io::Write;

use clap::Args as ClapArgs;

use super::error::Kind;
use super::{emit, CliError, Context};

/// Show the series, its last check and whether it is ready to send (exit
/// code 0) or not (exit code 5, and why)
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let s = crate::app::status::run(ctx)?;
    emit(out, &s, args.json)?;
    if s.not_ready.is_empty() {
        return Ok(());
    }
    // The reasons are in what was just printed (`not ready to send: ...`,
    // or the JSON's `not_ready`): the exit code alone says it.
    Err(CliError::silent(Kind::NotReady))
}
