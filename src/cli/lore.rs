//! `series lore`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args as ClapArgs, Subcommand};

use super::{emit, CliError, Context};
use crate::app::lore::{self, Request};

/// Read a public-inbox archive (lore.kernel.org or another)
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The archive [default: git config series.lore, else https://lore.kernel.org/all]
    #[arg(long, global = true, value_name = "URL")]
    pub lore: Option<String>,

    /// Seconds the archive may take to answer
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 60)]
    pub lore_timeout: u64,

    /// Print JSON instead of text (the thread's and the message's count and
    /// file; a search's results)
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub what: What,
}

#[derive(Debug, Subcommand)]
pub enum What {
    /// Every message of the thread MSGID is in, as an mbox (mboxrd)
    Thread {
        /// A Message-Id of any message of the thread, with or without <>
        msgid: String,
        /// Write the mbox here instead of standard output
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// One message, as the archive received it
    Raw {
        /// The message's Message-Id, with or without <>
        msgid: String,
    },
    /// The messages a search finds: one line each (date, Message-Id, subject)
    Search {
        /// public-inbox's query language, e.g. 's:"parallel free" f:aaron.lu'
        query: String,
        /// Write the messages found as an mbox here
        #[arg(long, value_name = "FILE")]
        mbox: Option<PathBuf>,
        /// With the whole thread of each message found
        #[arg(long)]
        threads: bool,
    },
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let req = match args.what {
        What::Thread { msgid, output } => Request::Thread { msgid, output },
        What::Raw { msgid } => Request::Raw { msgid },
        What::Search {
            query,
            mbox,
            threads,
        } => Request::Search {
            query,
            mbox,
            threads,
        },
    };
    let limit = Duration::from_secs(args.lore_timeout.max(1));
    let r = lore::run(ctx, args.lore.as_deref(), limit, req)?;
    emit(out, &r, args.json)
}
