//! `series review` and `series trailers`: replies in (from the archive or
//! a file), comments listed with their states, resolved and answered; the
//! trailers each patch received, and applied.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::{board, given, shown, us, write_file, AppError, Notes};
use crate::review::comments::{Comment, Fate};
use crate::review::ledger::{self, Action};
use crate::review::state::State;
use crate::review::trailers::{Given, Verdict};
use crate::review::Tracked;
use crate::store::{self, Series};
use crate::term::{plural, printable, Render};
use crate::workspace::Workspace;

/// Where replies come from.
#[derive(Debug)]
pub enum Replies {
    /// An mbox, a maildir or a folder of .eml files.
    File(PathBuf),
    /// The archive holding every sent version's thread.
    Archive {
        lore: Option<String>,
        timeout: Duration,
    },
}

/// What `series review fetch` did.
#[derive(Serialize)]
pub struct Fetched {
    pub new: usize,
    pub known: usize,
    pub unrelated: usize,
    /// (address, version reviewed) Cc'd on the current version.
    pub cc_added: Vec<(String, u32)>,
    pub comments: usize,
    pub open: usize,
    #[serde(skip)]
    pub version: u32,
    #[serde(skip)]
    pub notes: Notes,
}

/// The raw mails of every sent version's thread in the archive.
fn from_archive(
    ws: &Workspace,
    series: &Series,
    lore: Option<&str>,
    timeout: Duration,
    notes: &mut Notes,
) -> Result<(Vec<Vec<u8>>, String), AppError> {
    let sent: Vec<(u32, String)> = series
        .manifest
        .history
        .iter()
        .filter_map(|h| h.message_ids.first().map(|m| (h.version, m.clone())))
        .collect();
    if sent.is_empty() {
        return Err(AppError::refuse(
            "no version of this series was sent: there are no replies to fetch",
        )
        .hint("send a version with `series send`, or read replies from a file with --mbox"));
    }
    let base = ws.archive(lore);
    let client = crate::lore::Lore::new(&base, timeout)?;
    let mut raw = Vec::new();
    for (v, id) in &sent {
        match client.thread(id) {
            Ok(mut t) => raw.append(&mut t),
            Err(crate::lore::LoreError::NotFound { .. }) => {
                notes.push(format!("v{v}: its thread is not in {base} (yet)"))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok((raw, base))
}

/// `series review fetch`.
pub fn fetch(ws: &Workspace, from: Replies) -> Result<Fetched, AppError> {
    let mut series = store::load(&ws.series_dir)?;
    let mut notes = Notes::new();
    let (raw, source) = match from {
        Replies::File(path) => {
            let path = given(ws, &path);
            (crate::mailbox::read_source(&path)?, shown(ws, &path))
        }
        Replies::Archive { lore, timeout } => {
            from_archive(ws, &series, lore.as_deref(), timeout, &mut notes)?
        }
    };
    let we = us(ws, &series);
    let intake = crate::review::intake(&mut series, &raw, &source, &we);
    let added = &intake.added;
    notes.extend(
        added
            .unreadable
            .iter()
            .map(|u| format!("note: left out {}", printable(u))),
    );
    if added.new > 0 || !intake.cc_added.is_empty() {
        store::save(&ws.series_dir, &series)?;
    }
    let (b, _) = board(ws, &series)?;
    Ok(Fetched {
        new: added.new,
        known: added.known,
        unrelated: added.unrelated,
        cc_added: intake.cc_added.clone(),
        comments: b.comments.len(),
        open: b.comments.iter().filter(|c| c.state == State::Open).count(),
        version: series.manifest.version,
        notes,
    })
}

impl Render for Fetched {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "{} new repl{} kept in series/replies/ ({} known already, {} other messages left out).",
            self.new,
            if self.new == 1 { "y" } else { "ies" },
            self.known,
            self.unrelated
        )?;
        for (a, v) in &self.cc_added {
            writeln!(
                out,
                "Cc'd on v{}: {} (reviewed v{v}).",
                self.version,
                printable(a)
            )?;
        }
        writeln!(
            out,
            "{}, {} open; `series review` lists them, `series trailers` the trailers.",
            plural(self.comments, "comment", "comments"),
            self.open
        )
    }
}

/// A comment as listed.
#[derive(Serialize)]
pub struct Listed {
    #[serde(flatten)]
    pub comment: Comment,
    pub state: &'static str,
    pub addressed_in: Option<u32>,
    pub note: Option<String>,
    /// What became of the quoted lines in the current version.
    pub lines_now: Option<&'static str>,
    pub touched_in: Option<u32>,
    pub patch_now: Option<usize>,
    pub location: Option<String>,
    #[serde(skip)]
    state_kind: State,
    #[serde(skip)]
    fate: Option<Fate>,
}

/// The comments listed.
#[derive(Serialize)]
#[serde(transparent)]
pub struct List {
    pub comments: Vec<Listed>,
    #[serde(skip)]
    pub all: bool,
    #[serde(skip)]
    pub total: usize,
    #[serde(skip)]
    pub current: u32,
    #[serde(skip)]
    pub notes: Notes,
}

fn state_key(s: State) -> &'static str {
    match s {
        State::Open => "open",
        State::Answered => "answered",
        State::Addressed => "addressed",
        State::Wontfix => "wontfix",
        State::Ack => "ack",
    }
}

fn listed(t: &Tracked, current: u32) -> Listed {
    Listed {
        comment: t.comment.clone(),
        state: state_key(t.state),
        addressed_in: t.version,
        note: t.note.clone(),
        lines_now: t.fate.map(|f| f.word()),
        touched_in: t.fate.filter(|f| *f != Fate::Untouched).map(|_| current),
        patch_now: t.now_patch,
        location: t.comment.location(),
        state_kind: t.state,
        fate: t.fate,
    }
}

/// `series review`: the open comments, or (`all`) every one.
pub fn list(ws: &Workspace, all: bool) -> Result<List, AppError> {
    let series = store::load(&ws.series_dir)?;
    let (b, _) = board(ws, &series)?;
    let current = series.manifest.version;
    Ok(List {
        comments: b
            .comments
            .iter()
            .filter(|t| all || t.state == State::Open)
            .map(|t| listed(t, current))
            .collect(),
        all,
        total: b.comments.len(),
        current,
        notes: b
            .unplaced
            .iter()
            .map(|u| format!("note: {}", printable(u)))
            .collect(),
    })
}

fn where_of(c: &Comment) -> String {
    let patch = if c.patch == 0 {
        format!("v{} cover", c.version)
    } else {
        format!("v{} patch {}", c.version, c.patch)
    };
    match c.location() {
        Some(l) => format!("{patch}, {l}"),
        None => patch,
    }
}

impl Listed {
    fn state_text(&self, current: u32) -> String {
        let mut state = self.state_kind.word().to_string();
        if let (State::Addressed, Some(v)) = (self.state_kind, self.addressed_in) {
            state = format!("addressed in v{v}");
        }
        if let Some(n) = &self.note {
            state.push_str(&format!(": {n}"));
        }
        match (self.fate, self.state_kind) {
            (Some(Fate::Untouched), State::Open) => {
                state.push_str(&format!(" (its lines untouched in v{current})"))
            }
            (Some(f), State::Open) => {
                state.push_str(&format!(" ({} in v{current}: addressed?)", f.word()))
            }
            _ => {}
        }
        crate::term::state(self.state_kind, &format!("[{state}]"))
    }
}

impl Render for List {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.comments.is_empty() {
            return writeln!(
                out,
                "No {}review comments ({} in all).",
                if self.all { "" } else { "open " },
                self.total
            );
        }
        for l in &self.comments {
            let c = &l.comment;
            writeln!(
                out,
                "{}  {}  {}  {}",
                c.id,
                l.state_text(self.current),
                where_of(c),
                printable(&c.who.to_string())
            )?;
            writeln!(out, "    {}  <{}>", printable(&c.date), c.message_id)?;
            let start = c.quoted.len().saturating_sub(3);
            for q in &c.quoted[start..] {
                writeln!(out, "    > {}", printable(q))?;
            }
            for l in c.text.lines() {
                writeln!(out, "    {}", printable(l))?;
            }
            writeln!(out)?;
        }
        Ok(())
    }
}

/// What `series review resolve` did.
#[derive(Serialize)]
pub struct Resolved {
    pub id: String,
    /// addressed, wontfix or open.
    pub now: &'static str,
    pub target: u32,
    pub drafted: Option<String>,
    #[serde(skip)]
    pub version: u32,
}

/// `series review resolve ID`.
pub fn resolve(ws: &Workspace, id: &str, action: Action) -> Result<Resolved, AppError> {
    let series = store::load(&ws.series_dir)?;
    let (b, _) = board(ws, &series)?;
    let now = match action {
        Action::Note(_) => "addressed",
        Action::Wontfix(_) => "wontfix",
        Action::Reopen => "open",
    };
    let done = ledger::resolve(&series, &b, id, action, &ws.archive(None))?;
    store::save(&ws.series_dir, &done.series)?;
    Ok(Resolved {
        id: done.id,
        now,
        target: done.target,
        drafted: done.drafted,
        version: series.manifest.version,
    })
}

impl Render for Resolved {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let (id, target) = (&self.id, self.target);
        match self.now {
            "addressed" => writeln!(out, "{id}: addressed in v{target}.")?,
            "wontfix" => writeln!(out, "{id}: won't fix.")?,
            _ => writeln!(out, "{id}: open again.")?,
        }
        match (&self.drafted, self.now) {
            (Some(l), _) => writeln!(out, "Added to \"Changes in v{target}\": {l}"),
            (None, "addressed") => writeln!(
                out,
                "v{} was sent: `series reroll` starts v{target}, and its changelog gets this line.",
                self.version
            ),
            _ => Ok(()),
        }
    }
}

/// A reply drafted.
#[derive(Serialize)]
pub struct Drafted {
    pub file: String,
}

/// `series review reply ID`: a reply to all of the comment's mail, in
/// outgoing/replies/ID.eml, to edit and `series send --reply`.
pub fn reply(ws: &Workspace, id: &str) -> Result<Drafted, AppError> {
    let series = store::load(&ws.series_dir)?;
    let (b, _) = board(ws, &series)?;
    let t = ledger::find(&b, id)?;
    let draft = crate::review::reply::draft(&b, t, &us(ws, &series), &ws.sender(&series), ws.now())
        .map_err(|e| AppError::refuse(e.to_string()).kind(crate::error::Kind::Internal))?;
    let path = ws
        .project()
        .join("outgoing")
        .join("replies")
        .join(format!("{}.eml", t.comment.id));
    write_file(&path, &draft.bytes)?;
    Ok(Drafted {
        file: shown(ws, &path),
    })
}

impl Render for Drafted {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "{}", self.file)?;
        writeln!(
            out,
            "Write your answer in place of {}, then `series send --reply {}`.",
            crate::review::reply::PLACEHOLDER,
            self.file
        )
    }
}

/// A trailer a patch received.
#[derive(Serialize)]
pub struct Trailer {
    pub patch: usize,
    pub trailer: String,
    pub from: String,
    pub message_id: String,
    pub given_to: String,
    pub verdict: &'static str,
    #[serde(skip)]
    pub said: String,
}

/// The trailers of every patch, and how many were applied.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Trailers {
    pub trailers: Vec<Trailer>,
    #[serde(skip)]
    pub titles: Vec<String>,
    #[serde(skip)]
    pub applied: Option<usize>,
}

fn verdict_text(v: &Verdict) -> String {
    match v {
        Verdict::New => "new".into(),
        Verdict::Present => "present".into(),
        Verdict::Conditional(c) => format!("conditional (\"{c}\"): not applied"),
        Verdict::FromOther => "in someone else's name: not applied".into(),
        Verdict::Malformed => "not one person's name and address: not applied".into(),
        Verdict::Quoted => "quoted from another mail: not applied".into(),
        Verdict::ChangedSince(v) => {
            format!("given for v{v}, patch changed since: confirm, not applied")
        }
    }
}

fn verdict_key(v: &Verdict) -> &'static str {
    match v {
        Verdict::New => "new",
        Verdict::Present => "present",
        Verdict::Conditional(_) => "conditional",
        Verdict::FromOther => "from-other",
        Verdict::Malformed => "malformed",
        Verdict::Quoted => "quoted",
        Verdict::ChangedSince(_) => "changed-since",
    }
}

fn given_to(g: &Given) -> String {
    if g.place.patch == 0 {
        format!("v{} cover", g.place.version)
    } else {
        format!("v{} patch {}", g.place.version, g.place.patch)
    }
}

/// `series trailers`, and with `apply` the new ones written into the
/// patch files.
pub fn trailers(ws: &Workspace, apply: bool) -> Result<Trailers, AppError> {
    let series = store::load(&ws.series_dir)?;
    let (b, versions) = board(ws, &series)?;
    let per = crate::review::trailers_per_patch(&series, &versions, &b.given);
    let list: Vec<Trailer> = per
        .iter()
        .flat_map(|(nr, list)| {
            list.iter().map(move |g| Trailer {
                patch: *nr,
                trailer: g.trailer.line(),
                from: g.from.to_string(),
                message_id: g.message_id.clone(),
                given_to: given_to(g),
                verdict: verdict_key(&g.verdict),
                said: verdict_text(&g.verdict),
            })
        })
        .collect();
    let applied = if apply {
        crate::versions::writable(&series)?;
        let (next, count) = crate::review::apply_trailers(&series, &per, &ws.sender(&series));
        if count > 0 {
            store::save(&ws.series_dir, &next)?;
        }
        Some(count)
    } else {
        None
    };
    Ok(Trailers {
        trailers: list,
        titles: series.patches.iter().map(|p| p.title.clone()).collect(),
        applied,
    })
}

impl Render for Trailers {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let total = self.titles.len();
        let mut last = 0;
        for t in &self.trailers {
            if t.patch != last {
                writeln!(out, "{}/{total} {}", t.patch, self.titles[t.patch - 1])?;
                last = t.patch;
            }
            writeln!(out, "    {}  [{}]", printable(&t.trailer), t.said)?;
            let on = match t.given_to.strip_suffix(" cover") {
                Some(v) => format!("on the {v} cover"),
                None => format!("on {}", t.given_to),
            };
            writeln!(
                out,
                "        from {} {on}, <{}>",
                printable(&t.from),
                t.message_id
            )?;
        }
        if let Some(count) = self.applied {
            writeln!(
                out,
                "Applied {} to series/patches.",
                plural(count, "trailer", "trailers")
            )?;
        }
        Ok(())
    }
}
