//! `series check`.

use std::io::Write;
use std::sync::Mutex;

use clap::Args as ClapArgs;

use super::flags::CheckFlags;
use super::progress::Progress;
use super::{emit, CliError, Context};

/// Check the series: checkpatch, native rules, apply, numbering, build
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Print the findings as JSON
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub flags: CheckFlags,

    /// Fail when there are more warnings than this
    #[arg(long, value_name = "N")]
    pub max_warnings: Option<usize>,

    /// Also write the findings as report mails, one reply per patch, as the
    /// build bots send them (an mbox `series review fetch --mbox` keeps)
    #[arg(long, value_name = "FILE")]
    pub report: Option<std::path::PathBuf>,
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let bar = Mutex::new(Progress::new());
    let r = crate::app::check::run(
        ctx,
        &args.flags.request(),
        args.report.as_deref(),
        &|what, done, n| {
            if let Ok(mut b) = bar.lock() {
                b.show(&format!("{what} {done}/{n}"));
            }
        },
    )?;
    drop(bar);
    emit(out, &r, args.json)?;
    Ok(r.verdict(args.max_warnings)?)
}
