//! `series init`: a series made from commits of a kernel tree, or imported
//! from a posted thread (an mbox, or an archive), with its review. Inside a
//! repository it lives in the home under the git folder and becomes the
//! worktree's current series.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::{describe, keyrings, shown, AppError, Notes};
use crate::git::Tree;
use crate::import;
use crate::store::{self, Series};
use crate::term::{plural, printable, Render};
use crate::workspace::{self, Home, Workspace};

/// Where the series comes from.
#[derive(Debug)]
pub enum Source {
    /// Commits `range` (default BASE..HEAD) on `base`.
    Commits {
        base: String,
        base_name: Option<String>,
        range: Option<String>,
        version: u32,
        subject: Option<String>,
        prefix: String,
    },
    /// A posted thread: an mbox (or maildir, or folder of .eml files), or
    /// the thread of a Message-Id in an archive.
    Mails {
        mbox: Option<PathBuf>,
        from: Option<String>,
        base: Option<String>,
        version: Option<u32>,
        lore: Option<String>,
        lore_timeout: Duration,
    },
    /// A `b4 prep` branch (the current branch when None).
    B4 { branch: Option<String> },
}

/// What `series init` made.
#[derive(Serialize)]
pub struct Made {
    pub name: String,
    pub folder: String,
    pub version: u32,
    pub subject: String,
    pub patches: usize,
    pub base: store::Base,
    /// Imported from mails: where from.
    pub source: Option<String>,
    /// Earlier versions found in the thread.
    pub earlier: Vec<u32>,
    pub replies: usize,
    /// Whether the version made was posted already (final: reroll next).
    pub posted: bool,
    #[serde(skip)]
    pub cover: String,
}

/// Notes said as they come.
struct Said<'a> {
    say: &'a mut dyn FnMut(&str),
}

impl Said<'_> {
    fn push(&mut self, line: String) {
        (self.say)(&line);
    }

    fn extend(&mut self, lines: impl IntoIterator<Item = String>) {
        for l in lines {
            self.push(l);
        }
    }
}

/// `series init`; `say` hears each note as it comes (before a failure).
pub fn run(ws: &Workspace, source: Source, say: &mut dyn FnMut(&str)) -> Result<Made, AppError> {
    let mut notes = Said { say };
    let tree = Tree::open(&ws.tree_path()?)?;
    let base_arg = match &source {
        Source::Commits { base, .. } => Some(base.as_str()),
        Source::Mails { base, .. } => base.as_deref(),
        Source::B4 { .. } => None,
    };
    if let Some(note) = base_arg
        .and_then(|b| tree.resolve(b).ok())
        .and_then(|r| r.guess_note())
    {
        notes.push(format!("note: {note}"));
    }
    let (mut series, from, replies) = made_from(ws, &tree, source, &mut notes)?;
    let dir = place(ws, &mut series)?;
    let _lock = store::lock(&dir, ws.lock_wait)?;
    store::create(&dir, &series)?;
    if let (Some(g), Home::Git { name, .. }) =
        (&ws.git, ws.new_series_dir(&series.manifest.name)?.1)
    {
        if dir.starts_with(workspace::home_of(&g.common_dir)) {
            workspace::set_current(&g.git_dir, Some(&name))?;
        }
    }
    let m = &series.manifest;
    let posted = crate::versions::sent(&series).is_some();
    Ok(Made {
        posted,
        name: m.name.clone(),
        folder: shown(ws, &dir),
        version: m.version,
        subject: m.subject.clone(),
        patches: series.patches.len(),
        base: m.base.clone(),
        earlier: m
            .history
            .iter()
            .filter(|h| h.version < m.version)
            .map(|h| h.version)
            .collect(),
        source: from,
        replies,
        cover: shown(ws, &dir.join(store::COVER)),
    })
}

/// The series `source` makes, where it came from (for mails and b4) and
/// how many replies came with it.
fn made_from(
    ws: &Workspace,
    tree: &Tree,
    source: Source,
    notes: &mut Said,
) -> Result<(Series, Option<String>, usize), AppError> {
    Ok(match source {
        Source::B4 { branch } => {
            let mut said = Vec::new();
            let (series, branch) = super::b4::import(ws, tree, branch.as_deref(), &mut said)?;
            notes.extend(said.into_iter().map(|n| format!("note: {n}")));
            (series, Some(format!("b4 prep branch {branch}")), 0)
        }
        Source::Commits {
            base,
            base_name,
            range,
            version,
            subject,
            prefix,
        } => {
            let opts = import::Options {
                base,
                base_name,
                range,
                version,
                name: ws.asked_name.clone(),
                subject,
                prefix,
            };
            let mut series = import::from_tree(tree, &opts)?;
            if let Some(sig) = ws.setting("series.signature") {
                series.manifest.signature = sig;
            }
            (series, None, 0)
        }
        Source::Mails {
            mbox,
            from,
            base,
            version,
            lore,
            lore_timeout,
        } => {
            let got = fetch(ws, mbox, from, lore.as_deref(), lore_timeout, notes)?;
            let opts = import::MailOptions {
                base,
                version,
                name: ws.asked_name.clone(),
                lore: got.lore.clone(),
            };
            let imported = import::from_mails(tree, &got.mails, &opts)?;
            signatures(ws, &got.raw, notes);
            notes.extend(imported.notes.iter().map(|n| format!("note: {n}")));
            let mut series = imported.series;
            // The replies in the thread are the review of the versions posted.
            let replies = crate::review::add(&mut series, &got.raw, &got.source);
            (series, Some(got.source), replies.new)
        }
    })
}

/// Where the new series goes; refuses a folder that is there already.
fn place(ws: &Workspace, series: &mut Series) -> Result<PathBuf, AppError> {
    let (dir, _) = ws.new_series_dir(&series.manifest.name)?;
    if dir.exists() {
        return Err(
            AppError::refuse(format!("{} already exists", dir.display())).hint(match ws.home {
                Home::Git { .. } | Home::Nowhere if ws.git.is_some() => {
                    "name the new series with --name NAME (`series list` shows those there are)"
                }
                _ => "remove it first, or pass --series DIR to make another",
            }),
        );
    }
    Ok(dir)
}

/// A thread read: its raw mails, those parsed, where from.
struct Got {
    raw: Vec<Vec<u8>>,
    mails: Vec<crate::mail::received::Received>,
    source: String,
    lore: Option<String>,
}

/// Read the mails: from a file, or the thread in the archive (with the
/// threads of the earlier versions its cover links to, so that their
/// review is tracked too).
fn fetch(
    ws: &Workspace,
    mbox: Option<PathBuf>,
    from: Option<String>,
    lore: Option<&str>,
    limit: Duration,
    notes: &mut Said,
) -> Result<Got, AppError> {
    let (mut raw, source, lore) = match (&mbox, &from) {
        (Some(path), _) => (
            crate::mailbox::read_source(&super::given(ws, path))?,
            shown(ws, &super::given(ws, path)),
            None,
        ),
        (None, Some(msgid)) => {
            let base = ws.archive(lore);
            let client = crate::lore::Lore::new(&base, limit)?;
            (
                client.thread(msgid)?,
                format!("{base} (thread of <{}>)", msgid.trim_matches(['<', '>'])),
                Some(base),
            )
        }
        (None, None) => return Err(AppError::usage("pass --mbox FILE or --from MSGID")),
    };
    let read = |raw: &[Vec<u8>], notes: &mut Notes| {
        let mut mails = Vec::new();
        for (i, bytes) in raw.iter().enumerate() {
            match crate::mail::received::parse(bytes, &format!("{source}: message {}", i + 1)) {
                Ok(m) => mails.push(m),
                // A thread holds mail that is not ours to read (a From:
                // git cannot use, two From: headers): said, then left out.
                Err(e) => notes.push(format!("note: left out {}", printable(&e.to_string()))),
            }
        }
        mails
    };
    let mut left = Notes::new();
    let mut mails = read(&raw, &mut left);
    if let Some(base) = &lore {
        let client = crate::lore::Lore::new(base, limit)?;
        for (v, id) in import::missing_versions(&mails) {
            match client.thread(&id) {
                Ok(more) => {
                    notes.push(format!("note: fetched v{v}'s thread <{id}> from {base}"));
                    raw.extend(more);
                }
                Err(e) => notes.push(format!(
                    "note: v{v}'s thread <{id}>: {}",
                    printable(&e.to_string())
                )),
            }
        }
        left.clear();
        mails = read(&raw, &mut left);
    }
    notes.extend(left);
    Ok(Got {
        raw,
        mails,
        source,
        lore,
    })
}

/// Signatures present are checked and told, patch by patch; a signer who
/// is not the patch's author is named as such.
fn signatures(ws: &Workspace, raw: &[Vec<u8>], notes: &mut Said) {
    let rings = keyrings(ws);
    for bytes in raw {
        let Ok(mail) = crate::mail::received::parse(bytes, "mail") else {
            continue;
        };
        let found =
            crate::attest::verify(bytes, &rings, Duration::from_secs(60)).unwrap_or_default();
        let author = in_body_author(&mail.body).unwrap_or_else(|| mail.from.clone());
        for a in found {
            let mut note = describe(&a);
            if !a.identity.eq_ignore_ascii_case(&author.email) {
                note.push_str(&format!("; the signer is not the author ({author})"));
            }
            notes.push(format!(
                "note: {}: {}",
                printable(&mail.subject),
                printable(&note)
            ));
        }
    }
}

/// The author an in-body `From:` line names, as git am reads it.
fn in_body_author(body: &str) -> Option<crate::model::Person> {
    let first = body.trim_start_matches('\n').lines().next()?;
    crate::mail::parse_person(first.strip_prefix("From: ")?)
}

impl Render for Made {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let short = self.base.commit.get(..12).unwrap_or("");
        let Some(source) = &self.source else {
            writeln!(
                out,
                "Created {} with {} on {} ({short}), version {}.",
                self.folder,
                plural(self.patches, "patch", "patches"),
                self.base.name,
                self.version
            )?;
            return writeln!(out, "Next: write the cover letter in {}.", self.cover);
        };
        writeln!(
            out,
            "Imported v{} \"{}\" ({}) from {source} on {} ({short}) into {}.",
            self.version,
            self.subject,
            plural(self.patches, "patch", "patches"),
            self.base.name,
            self.folder
        )?;
        if !self.earlier.is_empty() {
            let list: Vec<String> = self.earlier.iter().map(|v| format!("v{v}")).collect();
            writeln!(out, "Earlier versions kept: {}.", list.join(", "))?;
        }
        if self.replies > 0 {
            writeln!(
                out,
                "Kept {} in series/replies/: `series review` lists the comments.",
                plural(self.replies, "reply", "replies")
            )?;
        }
        if !self.posted {
            return writeln!(out, "v{} is not posted yet.", self.version);
        }
        writeln!(
            out,
            "v{} was posted, so it is final: `series reroll` starts v{}.",
            self.version,
            self.version.saturating_add(1)
        )
    }
}
