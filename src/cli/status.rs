//! `series status`.

use std::io::Write;

use clap::Args as ClapArgs;

use super::{emit, CliError, Context};

/// Show the series: name, version, base, patches, cover letter and history
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,

    /// Exit with 1 (and say why) unless the series is ready to send
    #[arg(long)]
    pub ready: bool,
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let s = crate::app::status::run(ctx)?;
    emit(out, &s, args.json)?;
    if args.ready && !s.not_ready.is_empty() {
        return Err(CliError::user(format!(
            "not ready to send: {}",
            s.not_ready.join("; ")
        )));
    }
    Ok(())
}
