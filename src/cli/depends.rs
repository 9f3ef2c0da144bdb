//! `series depends`.

use std::io::Write;
use std::time::Duration;

use clap::{Args as ClapArgs, Subcommand};

use super::{emit, CliError, Context};
use crate::app::depends::{self, Request};

/// List the series this one needs applied first; add or remove one
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,

    /// Also ask the archive for newer versions of posted prerequisites
    /// (by b4's change-id query, else by subject)
    #[arg(long)]
    pub archive: bool,

    /// The public-inbox archive [default: git config series.lore, else lore.kernel.org]
    #[arg(long, value_name = "URL", requires = "archive")]
    pub lore: Option<String>,

    /// Seconds each exchange with the archive may take
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub lore_timeout: u64,

    #[command(subcommand)]
    pub what: Option<What>,
}

#[derive(Debug, Subcommand)]
pub enum What {
    /// Depend on a series: its name (`series list`), folder or b4
    /// change-id, or the Message-Id of a posted cover (read from the archive)
    Add {
        #[arg(value_name = "SERIES|MSGID", add = super::complete::series_names())]
        what: String,
        /// The public-inbox archive [default: git config series.lore, else lore.kernel.org]
        #[arg(long, value_name = "URL")]
        lore: Option<String>,
        /// Seconds the exchange with the archive may take
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        lore_timeout: u64,
    },
    /// Stop depending on one: its name or number, as `series depends` lists it
    Remove {
        #[arg(value_name = "NAME|N")]
        what: String,
    },
}

impl Args {
    pub fn writes(&self) -> bool {
        self.what.is_some()
    }
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let req = match args.what {
        None => Request::List {
            archive: args
                .archive
                .then(|| (args.lore, Duration::from_secs(args.lore_timeout.max(1)))),
        },
        Some(What::Add {
            what,
            lore,
            lore_timeout,
        }) => Request::Add {
            what,
            archive: lore,
            timeout: Duration::from_secs(lore_timeout.max(1)),
        },
        Some(What::Remove { what }) => Request::Remove { what },
    };
    emit(out, &depends::run(ctx, req)?, args.json)
}
