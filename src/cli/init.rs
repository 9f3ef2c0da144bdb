//! `series init`.

use std::io::Write;
use std::time::Duration;

use clap::Args as ClapArgs;

use super::{emit, notes, CliError, Context};
use crate::app::init::{self, Source};
use crate::model::Version;

/// Create a series from the commits between a base and the tip, or from a
/// posted series (--mbox, --from); inside a git repository it lives under
/// the repository's git folder (`series path` says where)
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Where the series starts: a tag, branch, commit or a unique part of a
    /// ref name [for --mbox/--from: default the cover's base-commit]
    #[arg(
        long,
        required_unless_present_any = ["mbox", "from", "from_b4"],
        add = super::complete::refs()
    )]
    pub base: Option<String>,

    /// Import a b4 prep branch [default: the current branch]: its cover,
    /// change-id, revision, recipients, and each version sent (b4's sent/
    /// tags)
    #[arg(
        long = "from-b4",
        value_name = "BRANCH",
        num_args = 0..=1,
        default_missing_value = "",
        conflicts_with_all = ["mbox", "from", "range", "base", "version", "subject"],
        add = super::complete::branches()
    )]
    pub from_b4: Option<String>,

    /// Import a posted series from an mbox, a maildir or a folder of .eml files
    #[arg(long, value_name = "FILE", conflicts_with_all = ["from", "range"])]
    pub mbox: Option<std::path::PathBuf>,

    /// Import a posted series from its thread in a public-inbox archive
    #[arg(long, value_name = "MSGID", conflicts_with = "range")]
    pub from: Option<String>,

    /// The public-inbox archive [default: git config series.lore, else https://lore.kernel.org/all]
    #[arg(long, value_name = "URL")]
    pub lore: Option<String>,

    /// Seconds the archive may take to answer
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub lore_timeout: u64,

    /// Record the base under this name instead (e.g. an mmotm tag the tree lacks)
    #[arg(long, value_name = "NAME")]
    pub base_name: Option<String>,

    /// The commits to import [default: BASE..HEAD]; `A..B`, or a tip commit
    pub range: Option<String>,

    /// The version being prepared [for --mbox/--from: the version to import,
    /// default the newest complete one]
    #[arg(long = "version", short = 'v', value_name = "N")]
    pub version: Option<Version>,

    /// The cover letter subject
    #[arg(long)]
    pub subject: Option<String>,

    /// Subject prefix
    #[arg(long, default_value = "PATCH")]
    pub prefix: String,

    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let source = if let Some(b) = args.from_b4 {
        Source::B4 {
            branch: Some(b).filter(|b| !b.is_empty()),
        }
    } else if args.mbox.is_some() || args.from.is_some() {
        Source::Mails {
            mbox: args.mbox,
            from: args.from,
            base: args.base,
            version: args.version.map(|v| v.0),
            lore: args.lore,
            lore_timeout: Duration::from_secs(args.lore_timeout.max(1)),
        }
    } else {
        Source::Commits {
            base: args.base.unwrap_or_default(),
            base_name: args.base_name,
            range: args.range,
            version: args.version.map_or(1, |v| v.0),
            subject: args.subject,
            prefix: args.prefix,
        }
    };
    let r = init::run(ctx, source, &mut |n| notes(&[n.to_string()]))?;
    emit(out, &r, args.json)
}
