//! `series send`: render the version for the lists and send it.

use std::io::Write;

use clap::Args as ClapArgs;

use super::format::{self, Addressing};
use super::{CliError, Context};

/// Send the current version: render outgoing/vN, show what goes where, then send
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    pub addressing: Addressing,

    /// Write outgoing/vN and show what would be sent, without sending
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let p = format::prepare(ctx, &args.addressing, None)?;
    format::write_out(ctx, &p, out)?;
    writeln!(out)?;
    for m in &p.messages {
        writeln!(out, "{}", m.subject)?;
        if !m.to.is_empty() {
            writeln!(out, "    To: {}", m.to.join(", "))?;
        }
        if !m.cc.is_empty() {
            writeln!(out, "    Cc: {}", m.cc.join(", "))?;
        }
    }
    let dir = super::rel(&p.dir, &ctx.cwd);
    if args.dry_run {
        writeln!(
            out,
            "Dry run: nothing was sent. `git send-email {dir}/*` sends these files as they are."
        )?;
        Ok(())
    } else {
        Err(
            CliError::user("sending is not built yet; nothing was sent").hint(format!(
                "the files in {dir} are ready for `git send-email {dir}/*`"
            )),
        )
    }
}
