//! `series lore`: read a public-inbox archive: a thread as an mbox, one
//! message as received, or a search.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::{given, write_file, AppError};
use crate::lore::Lore;
use crate::term::Render;
use crate::workspace::Workspace;

/// What to read.
#[derive(Debug)]
pub enum Request {
    /// Every message of the thread MSGID is in, as an mbox.
    Thread {
        msgid: String,
        output: Option<PathBuf>,
    },
    /// One message, as the archive received it.
    Raw { msgid: String },
    /// The messages a search finds.
    Search {
        query: String,
        mbox: Option<PathBuf>,
        threads: bool,
    },
}

/// A message a search found.
#[derive(Serialize)]
pub struct Found {
    pub date: String,
    pub message_id: String,
    pub subject: String,
}

/// What was read.
#[derive(Serialize)]
#[serde(tag = "what", rename_all = "kebab-case")]
pub enum Read {
    /// Written to a file, or (`mbox`) for standard output.
    Thread {
        messages: usize,
        written: Option<String>,
        #[serde(skip)]
        mbox: Vec<u8>,
    },
    Raw {
        #[serde(skip)]
        bytes: Vec<u8>,
        text: String,
    },
    Search {
        found: Vec<Found>,
        unreadable: Vec<String>,
        written: Option<String>,
    },
}

use crate::mailbox::mboxrd;

/// `series lore`, against `archive` (a flag, else the configured one).
pub fn run(
    ws: &Workspace,
    archive: Option<&str>,
    timeout: Duration,
    req: Request,
) -> Result<Read, AppError> {
    let lore = Lore::new(&ws.archive(archive), timeout)?;
    match req {
        Request::Thread { msgid, output } => {
            let thread = lore.thread(&msgid)?;
            let mbox = mboxrd(&thread);
            let written = match output {
                Some(p) => {
                    write_file(&given(ws, &p), &mbox)?;
                    Some(p.display().to_string())
                }
                None => None,
            };
            Ok(Read::Thread {
                messages: thread.len(),
                written,
                mbox,
            })
        }
        Request::Raw { msgid } => {
            let bytes = lore.raw(&msgid)?;
            Ok(Read::Raw {
                text: String::from_utf8_lossy(&bytes).into_owned(),
                bytes,
            })
        }
        Request::Search {
            query,
            mbox,
            threads,
        } => {
            let raw = lore.search(&query, threads)?;
            let mut found = Vec::new();
            let mut unreadable = Vec::new();
            for (i, m) in raw.iter().enumerate() {
                match crate::mail::received::parse(m, &format!("result {}", i + 1)) {
                    Ok(m) => found.push(Found {
                        date: m.date,
                        message_id: m.message_id,
                        subject: m.subject,
                    }),
                    Err(e) => unreadable.push(e.to_string()),
                }
            }
            let written = match mbox {
                Some(p) => {
                    write_file(&given(ws, &p), &mboxrd(&raw))?;
                    Some(p.display().to_string())
                }
                None => None,
            };
            Ok(Read::Search {
                found,
                unreadable,
                written,
            })
        }
    }
}

impl Render for Read {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        match self {
            Read::Thread {
                messages,
                written: Some(p),
                ..
            } => writeln!(out, "{messages} messages written to {p}."),
            Read::Thread { mbox, .. } => out.write_all(mbox),
            Read::Raw { bytes, .. } => out.write_all(bytes),
            Read::Search {
                found, unreadable, ..
            } => {
                for f in found {
                    writeln!(out, "{}  <{}>  {}", f.date, f.message_id, f.subject)?;
                }
                for u in unreadable {
                    writeln!(out, "(unreadable: {u})")?;
                }
                Ok(())
            }
        }
    }
}
