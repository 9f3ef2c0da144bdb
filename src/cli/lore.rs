//! `series lore`: read a public-inbox archive: a thread as an mbox, one
//! message as received, or a search.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args as ClapArgs, Subcommand};

use super::{CliError, Context};
use crate::lore::Lore;

/// Read a public-inbox archive (lore.kernel.org or another)
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The archive [default: git config series.lore, else https://lore.kernel.org/all]
    #[arg(long, global = true, value_name = "URL")]
    pub lore: Option<String>,

    /// Seconds the archive may take to answer
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 60)]
    pub lore_timeout: u64,

    #[command(subcommand)]
    pub what: What,
}

#[derive(Debug, Subcommand)]
pub enum What {
    /// Every message of the thread MSGID is in, as an mbox (mboxrd)
    Thread {
        msgid: String,
        /// Write the mbox here instead of standard output
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// One message, as the archive received it
    Raw { msgid: String },
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

/// Messages as an mboxrd: each after a `From mboxrd@z` line, `From `
/// lines in it quoted with `>`.
fn mboxrd(messages: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in messages {
        let body = match m.strip_prefix(b"From ") {
            Some(_) => m.splitn(2, |&b| b == b'\n').nth(1).unwrap_or(b""),
            None => &m[..],
        };
        out.extend_from_slice(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n");
        for line in body.split_inclusive(|&b| b == b'\n') {
            let quoted = line.iter().take_while(|&&b| b == b'>').count();
            if line[quoted..].starts_with(b"From ") {
                out.push(b'>');
            }
            out.extend_from_slice(line);
        }
        if !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        out.push(b'\n');
    }
    out
}

fn write_to(ctx: &Context, path: &PathBuf, bytes: &[u8]) -> Result<(), CliError> {
    let p = if path.is_absolute() {
        path.clone()
    } else {
        ctx.cwd.join(path)
    };
    std::fs::write(&p, bytes)
        .map_err(|e| CliError::user(format!("cannot write {}: {e}", p.display())))
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let base = super::init::lore_base(ctx, args.lore.as_deref());
    let lore = Lore::new(&base, Duration::from_secs(args.lore_timeout.max(1)))?;
    match args.what {
        What::Thread { msgid, output } => {
            let thread = lore.thread(&msgid)?;
            let bytes = mboxrd(&thread);
            match output {
                Some(p) => {
                    write_to(ctx, &p, &bytes)?;
                    writeln!(out, "{} messages written to {}.", thread.len(), p.display())?;
                }
                None => out.write_all(&bytes)?,
            }
        }
        What::Raw { msgid } => out.write_all(&lore.raw(&msgid)?)?,
        What::Search {
            query,
            mbox,
            threads,
        } => {
            let found = lore.search(&query, threads)?;
            for (i, raw) in found.iter().enumerate() {
                match crate::mail::received::parse(raw, &format!("result {}", i + 1)) {
                    Ok(m) => writeln!(out, "{}  <{}>  {}", m.date, m.message_id, m.subject)?,
                    Err(e) => writeln!(out, "(unreadable: {e})")?,
                }
            }
            if let Some(p) = mbox {
                write_to(ctx, &p, &mboxrd(&found))?;
            }
        }
    }
    Ok(())
}
