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

    /// Check one mail (a file, or - for stdin) on its own instead of the
    /// series, as b4 and bots call a check command: in the tree here
    #[arg(long, value_name = "FILE|-")]
    pub mail: Option<std::path::PathBuf>,

    /// With --mail: print b4's check JSON (b4 review), Patchwork's checks,
    /// or one line per finding as checkpatch --terse (b4 prep --check, b4 am)
    #[arg(long, value_enum, requires = "mail", value_name = "FORMAT")]
    pub format: Option<Format>,

    /// Also write the findings as report mails, one reply per patch, as the
    /// build bots send them (an mbox `series review fetch --mbox` keeps)
    #[arg(long, value_name = "FILE")]
    pub report: Option<std::path::PathBuf>,
}

/// `--format`, as typed.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    /// b4's check JSON (b4 review's review-perpatch-check-cmd)
    B4,
    /// Patchwork's checks API
    Patchwork,
    /// One line per finding (b4 prep --check, b4 am)
    Terse,
}

impl From<Format> for crate::app::check::MailFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::B4 => Self::B4,
            Format::Patchwork => Self::Patchwork,
            Format::Terse => Self::Terse,
        }
    }
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    if let Some(mail) = &args.mail {
        let bytes = match mail.as_os_str() == "-" {
            true => {
                let mut b = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut b)
                    .map_err(|e| CliError::user(format!("cannot read the mail on stdin: {e}")))?;
                b
            }
            false => std::fs::read(mail).map_err(|e| {
                crate::app::AppError::refuse(format!("cannot read {}: {e}", mail.display()))
            })?,
        };
        let checked = crate::app::check::mail(ctx, &args.flags.request(), &bytes)?;
        checked.write(out, args.format.map(Into::into), args.json)?;
        return Ok(checked.verdict()?);
    }
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
