//! `series format`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args as ClapArgs;

use super::flags::Addressing;
use super::{emit, CliError, Context};

/// Write the cover letter and patches of the current version to a folder
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Output folder [default: outgoing/vN beside series/]
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub addressing: Addressing,

    /// Print JSON instead of text (the folder and the files)
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let r = crate::app::format::run(ctx, args.output, &args.addressing.request())?;
    emit(out, &r, args.json)
}
