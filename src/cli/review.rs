//! `series review` and `series trailers`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args as ClapArgs, Subcommand};

use super::{emit, notes, CliError, Context};
use crate::app::review::{self, Replies};
use crate::review::ledger::Action;

/// List the review comments each patch received, with their states
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,

    /// Also list comments answered, addressed, won't fix and acknowledgements
    #[arg(long)]
    pub all: bool,

    #[command(subcommand)]
    pub what: Option<What>,
}

#[derive(Debug, Subcommand)]
pub enum What {
    /// Get the replies to every sent version from the archive (or an mbox)
    Fetch {
        /// Read the replies from an mbox, a maildir or a folder of .eml files
        #[arg(long, value_name = "FILE")]
        mbox: Option<PathBuf>,
        /// The public-inbox archive [default: git config series.lore, else lore.kernel.org]
        #[arg(long, value_name = "URL")]
        lore: Option<String>,
        /// Seconds the whole exchange with the archive may take
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        lore_timeout: u64,
    },
    /// Mark a comment addressed (--note) or won't fix (--wontfix), or open again
    Resolve {
        /// The comment's id (or a unique start of it), as `series review` shows it
        #[arg(add = super::complete::comment_ids())]
        id: String,
        /// How the next version addresses it (drafts a changelog line)
        #[arg(long, conflicts_with_all = ["wontfix", "reopen"])]
        note: Option<String>,
        /// Why it will not be changed
        #[arg(long, conflicts_with = "reopen")]
        wontfix: Option<String>,
        /// Open it again
        #[arg(long)]
        reopen: bool,
    },
    /// Write a reply to a comment to outgoing/replies/, ready to edit and send
    Reply {
        /// The comment's id (or a unique start of it)
        #[arg(add = super::complete::comment_ids())]
        id: String,
    },
}

impl Args {
    pub fn writes(&self) -> bool {
        matches!(
            self.what,
            Some(What::Fetch { .. }) | Some(What::Resolve { .. })
        )
    }
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    match args.what {
        Some(What::Fetch {
            mbox,
            lore,
            lore_timeout,
        }) => {
            let from = match mbox {
                Some(path) => Replies::File(path),
                None => Replies::Archive {
                    lore,
                    timeout: Duration::from_secs(lore_timeout.max(1)),
                },
            };
            let r = review::fetch(ctx, from)?;
            notes(&r.notes);
            emit(out, &r, args.json)
        }
        Some(What::Resolve {
            id,
            note,
            wontfix,
            reopen,
        }) => {
            let action = match (note, wontfix, reopen) {
                (Some(n), _, _) => Action::Note(n),
                (_, Some(w), _) => Action::Wontfix(w),
                (_, _, true) => Action::Reopen,
                _ => {
                    return Err(CliError::usage(
                        "say how: --note TEXT, --wontfix REASON or --reopen",
                    ))
                }
            };
            emit(out, &review::resolve(ctx, &id, action)?, args.json)
        }
        Some(What::Reply { id }) => emit(out, &review::reply(ctx, &id)?, args.json),
        None => {
            let r = review::list(ctx, args.all)?;
            notes(&r.notes);
            emit(out, &r, args.json)
        }
    }
}

/// Show the trailers (Reviewed-by, Acked-by, ...) each patch received;
/// --apply writes them into the patch files
#[derive(Debug, ClapArgs)]
pub struct TrailersArgs {
    /// Write the new trailers into the patch files
    #[arg(long)]
    pub apply: bool,

    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn trailers(ctx: &Context, args: TrailersArgs, out: &mut dyn Write) -> Result<(), CliError> {
    emit(out, &review::trailers(ctx, args.apply)?, args.json)
}
