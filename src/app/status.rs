//! `series status`: what the series is, where it stands, what it went
//! through; and whether it is ready to send.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use super::{shown, AppError};
use crate::review::state::State;
use crate::store::{self, Series};
use crate::term::{plural, Render};
use crate::workspace::{Home, Workspace};

/// The status of a series.
#[derive(Serialize)]
pub struct Status {
    pub name: String,
    pub subject: String,
    pub version: u32,
    pub base: store::Base,
    /// Where the series lives (`series path`).
    pub folder: String,
    /// `home` (under the repository's git folder) or `folder`.
    pub home: &'static str,
    pub patches: Vec<PatchStatus>,
    pub cover: CoverState,
    pub history: Vec<store::VersionEntry>,
    /// Versions kept in series/versions/.
    pub kept: Vec<u32>,
    /// Whether the current version was sent (it then never changes).
    pub sent: bool,
    /// Patches (1-based) whose files differ from what was sent.
    pub edited_since_sent: Vec<usize>,
    /// The git work tree that holds series/ without tracking it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub untracked_in: Option<String>,
    /// A rebase paused on a conflict, if one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebase_paused: Option<Paused>,
    /// A send that stopped before every message was accepted, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_stopped: Option<Stopped>,
    /// The working branch of `series edit`, if the series is on one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub editing: Option<super::edit::Editing>,
    /// The review comments still open, per patch of the current version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<Review>,
    /// What the last `series check` of the series as it is now found;
    /// none when it has not run since the last change.
    pub checked: Option<super::check::LastCheck>,
    /// What stands between the series and `series send`; empty when ready.
    pub not_ready: Vec<String>,
    /// The series this one depends on, each with what became of it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depends: Vec<super::depends::Shown>,
    /// Where the patches landed on the refs of `series.upstream`; none
    /// when it is not set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream: Option<Upstream>,
}

/// The patches found on the upstream refs (`series.upstream`).
#[derive(Serialize)]
pub struct Upstream {
    /// The refs looked at.
    pub refs: Vec<String>,
    pub landed: Vec<Landed>,
    /// Every patch has landed.
    pub all: bool,
    /// Why the refs could not be looked at, if they could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_checked: Option<String>,
}

/// One patch found upstream.
#[derive(Serialize, Clone, Debug)]
pub struct Landed {
    /// 1-based.
    pub patch: usize,
    pub commit: String,
    pub subject: String,
    /// The ref it was found on.
    pub on: String,
    pub by: crate::git::MatchedBy,
}

/// The patches of `s` found on the refs of `series.upstream`, each ref
/// looked at in turn (the first that has a patch names it).
pub fn upstream(ws: &Workspace, s: &Series) -> Option<Upstream> {
    let refs = ws.setting_list("series.upstream");
    if refs.is_empty() {
        return None;
    }
    let mut up = Upstream {
        refs: refs.clone(),
        landed: Vec::new(),
        all: false,
        not_checked: None,
    };
    let found = (|| -> Result<Vec<Landed>, String> {
        let tree = crate::git::Tree::open(&ws.tree_path().map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        let base: crate::git::Id = s
            .manifest
            .base
            .commit
            .parse()
            .map_err(|_| "the base is not a commit id".to_string())?;
        let mut out: Vec<Landed> = Vec::new();
        for r in &refs {
            let tip = tree.resolve(r).map_err(|e| e.to_string())?;
            for f in tree
                .find_landed(&s.patches, base, tip.id)
                .map_err(|e| e.to_string())?
            {
                if out.iter().all(|l| l.patch != f.patch + 1) {
                    out.push(Landed {
                        patch: f.patch + 1,
                        commit: f.commit.short(),
                        subject: tree.first_line(f.commit).unwrap_or_default(),
                        on: r.clone(),
                        by: f.by,
                    });
                }
            }
        }
        out.sort_by_key(|l| l.patch);
        Ok(out)
    })();
    match found {
        Ok(l) => {
            up.all = !s.patches.is_empty() && l.len() == s.patches.len();
            up.landed = l;
        }
        Err(e) => up.not_checked = Some(e),
    }
    Some(up)
}

#[derive(Serialize)]
pub struct Paused {
    pub onto: String,
    /// The patch (1-based) that conflicted.
    pub patch: usize,
    pub files: Vec<String>,
    /// Where the conflicted files wait.
    pub folder: String,
}

#[derive(Serialize)]
pub struct Stopped {
    pub version: u32,
    pub accepted: usize,
    pub messages: usize,
}

#[derive(Serialize)]
pub struct PatchStatus {
    pub number: usize,
    pub subject: String,
    pub change_id: String,
    pub file: String,
    pub author: String,
}

#[derive(Serialize)]
pub struct CoverState {
    pub path: String,
    pub lines: usize,
    pub placeholders: Vec<String>,
}

#[derive(Serialize)]
pub struct Review {
    pub replies: usize,
    pub comments: usize,
    pub open: usize,
    /// (where, open, untouched since quoted) per patch, cover first.
    pub per_patch: Vec<(String, usize, usize)>,
}

/// Placeholder text left from `series init` or `git format-patch`.
pub fn placeholders(series: &Series) -> Vec<String> {
    ["*** SUBJECT HERE ***", "*** BLURB HERE ***"]
        .into_iter()
        .filter(|p| series.manifest.subject.contains(p) || series.cover.contains(p))
        .map(str::to_string)
        .collect()
}

/// The patches of a sent version whose files were edited since the send.
fn edited_since_sent(ws: &Workspace, s: &Series) -> Vec<usize> {
    if crate::versions::sent(s).is_none() {
        return Vec::new();
    }
    let Ok(kept) = store::load_kept(&ws.series_dir, s.manifest.version) else {
        return Vec::new();
    };
    (0..s.patches.len())
        .filter(|&i| i >= kept.patches.len() || s.stored_patch(i) != kept.stored_patch(i))
        .map(|i| i + 1)
        .collect()
}

/// The rebase paused on a conflict, if there is one.
pub fn paused(ws: &Workspace) -> Option<Paused> {
    let dir = crate::rebase::state_dir(&ws.project());
    let state = crate::rebase::paused::read(&dir).ok()?;
    Some(Paused {
        onto: state.new_base_name,
        patch: state.next + 1,
        files: state.files,
        folder: shown(ws, &crate::rebase::paused::scratch(&dir)),
    })
}

/// The send of version `v` that stopped midway, if one did.
pub fn stopped(series_dir: &std::path::Path, v: u32) -> Option<Stopped> {
    let path = crate::send::journal::path(series_dir, v);
    let j = crate::send::journal::Journal::load(&path).ok().flatten()?;
    (!j.complete()).then(|| Stopped {
        version: v,
        accepted: j.sent(),
        messages: j.messages.len(),
    })
}

/// The open review comments per patch; those on a patch that has landed
/// upstream (`landed`, 1-based) no longer count.
fn review(ws: &Workspace, s: &Series, landed: &[usize]) -> Option<Review> {
    if s.replies.is_empty() {
        return None;
    }
    let (board, _) = super::board(ws, s).ok()?;
    let mut per: BTreeMap<(usize, String), (usize, usize)> = BTreeMap::new();
    let open = board
        .comments
        .iter()
        .filter(|t| t.state == State::Open)
        .filter(|t| !t.now_patch.is_some_and(|n| landed.contains(&n)));
    for t in open {
        let k = match t.now_patch {
            Some(0) => (0, "cover".to_string()),
            Some(n) => (n, format!("patch {n}")),
            None => (
                usize::MAX,
                format!("v{} patch {} (dropped)", t.comment.version, t.comment.patch),
            ),
        };
        let e = per.entry(k).or_default();
        e.0 += 1;
        e.1 += usize::from(t.untouched());
    }
    Some(Review {
        replies: board.replies.len(),
        comments: board.comments.len(),
        open: per.values().map(|e| e.0).sum(),
        per_patch: per.into_iter().map(|((_, k), (n, u))| (k, n, u)).collect(),
    })
}

/// The status of the workspace's series.
pub fn run(ws: &Workspace) -> Result<Status, AppError> {
    let s = store::load(&ws.series_dir)?;
    let m = &s.manifest;
    let sent = crate::versions::sent(&s).is_some();
    let mut status = Status {
        name: m.name.clone(),
        subject: m.subject.clone(),
        version: m.version,
        base: m.base.clone(),
        folder: ws.series_dir.display().to_string(),
        home: match ws.home {
            Home::Git {
                elsewhere: false, ..
            } => "home",
            _ => "folder",
        },
        patches: m
            .patches
            .iter()
            .zip(&s.patches)
            .enumerate()
            .map(|(i, (e, p))| PatchStatus {
                number: i + 1,
                subject: p.title.clone(),
                change_id: e.change_id.clone(),
                file: e.file.clone(),
                author: p.author.to_string(),
            })
            .collect(),
        cover: CoverState {
            path: shown(ws, &ws.series_dir.join(store::COVER)),
            lines: s.cover.lines().count(),
            placeholders: placeholders(&s),
        },
        history: m.history.clone(),
        kept: store::kept_versions(&ws.series_dir),
        sent,
        edited_since_sent: edited_since_sent(ws, &s),
        untracked_in: crate::git::untracked_in(&ws.series_dir).map(|t| t.display().to_string()),
        rebase_paused: paused(ws),
        send_stopped: stopped(&ws.series_dir, m.version),
        editing: super::edit::editing(ws),
        review: None,
        checked: super::check::last(&s),
        not_ready: Vec::new(),
        upstream: upstream(ws, &s),
        depends: m
            .depends
            .iter()
            .map(|d| super::depends::Shown {
                prerequisite: d.clone(),
                news: super::depends::news(ws, &s, d),
            })
            .collect(),
    };
    let landed: Vec<usize> = status
        .upstream
        .iter()
        .flat_map(|u| u.landed.iter().map(|l| l.patch))
        .collect();
    status.review = review(ws, &s, &landed);
    status.not_ready = not_ready(&status);
    Ok(status)
}

/// What keeps the series from being sent, in words.
fn not_ready(s: &Status) -> Vec<String> {
    let mut out = Vec::new();
    if s.sent {
        out.push(format!("v{} was sent already", s.version));
    }
    if !s.cover.placeholders.is_empty() {
        out.push(format!(
            "the cover letter still has {}",
            s.cover.placeholders.join(" and ")
        ));
    }
    if s.rebase_paused.is_some() {
        out.push("a rebase is paused on a conflict".into());
    }
    if s.send_stopped.is_some() {
        out.push("a send stopped midway (`series send --resume`)".into());
    }
    match &s.checked {
        None if !s.sent => out.push("`series check` has not run since the last change".into()),
        Some(c) if c.errors > 0 => out.push(format!(
            "the last `series check` found {}",
            plural(c.errors, "error", "errors")
        )),
        _ => {}
    }
    if let Some(r) = &s.review {
        let untouched: usize = r.per_patch.iter().map(|p| p.2).sum();
        if untouched > 0 {
            out.push(format!(
                "{} open review comment{} untouched",
                untouched,
                if untouched == 1 { " is" } else { "s are" }
            ));
        }
    }
    out
}

fn history_line(s: &Status, h: &store::VersionEntry) -> String {
    let mut line = format!("  v{}", h.version);
    if h.version == s.version && h.message_ids.is_empty() {
        line.push_str(" (in preparation)");
    }
    if let Some(d) = &h.date {
        line.push_str(&format!(" sent {d}"));
    }
    if let Some(b) = &h.base {
        line.push_str(&format!(" on {b}"));
    }
    if !h.changes.is_empty() {
        line.push_str(&format!(
            ", {}",
            plural(h.changes.len(), "change", "changes")
        ));
    }
    if let Some(l) = &h.link {
        line.push_str(&format!(", {l}"));
    }
    if s.kept.contains(&h.version) {
        line.push_str(&format!(" [kept in versions/v{}]", h.version));
    }
    line
}

impl Render for Status {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "{} v{}: {}", self.name, self.version, self.subject)?;
        let short = self.base.commit.get(..12).unwrap_or(&self.base.commit);
        writeln!(out, "base: {} ({short})", self.base.name)?;
        let total = self.patches.len();
        let w = total.to_string().len();
        writeln!(out, "patches:")?;
        let landed = |n: usize| {
            self.upstream
                .iter()
                .flat_map(|u| &u.landed)
                .find(|l| l.patch == n)
        };
        for p in &self.patches {
            let on = match landed(p.number) {
                Some(l) => format!("  landed as {} on {}", l.commit, l.on),
                None => String::new(),
            };
            writeln!(
                out,
                "  {:>w$}/{total} {}  [{}]{on}",
                p.number, p.subject, p.change_id
            )?;
        }
        for d in &self.depends {
            let p = &d.prerequisite;
            let news = match d.news.as_slice() {
                [] => String::new(),
                n => format!(": {}", n.join("; ")),
            };
            writeln!(
                out,
                "depends on: {} v{} ({}){news}",
                p.name, p.version, p.subject
            )?;
        }
        if let Some(u) = &self.upstream {
            match (&u.not_checked, u.all) {
                (Some(why), _) => writeln!(out, "upstream: not checked: {why}")?,
                (None, true) => writeln!(
                    out,
                    "upstream: the whole series has landed ({})",
                    u.refs.join(", ")
                )?,
                (None, false) => writeln!(
                    out,
                    "upstream: {} of {total} landed on {}",
                    u.landed.len(),
                    u.refs.join(", ")
                )?,
            }
        }
        let lines = plural(self.cover.lines, "line", "lines");
        match self.cover.placeholders.as_slice() {
            [] => writeln!(out, "cover: {}, {lines}", self.cover.path)?,
            p => writeln!(
                out,
                "cover: {}, {lines}; still has {}",
                self.cover.path,
                p.join(" and ")
            )?,
        }
        writeln!(out, "history:")?;
        for h in &self.history {
            writeln!(out, "{}", history_line(self, h))?;
        }
        self.render_state(out)
    }
}

impl Status {
    fn render_state(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let (v, next) = (self.version, self.version.saturating_add(1));
        if self.sent {
            writeln!(
                out,
                "v{v} was sent and is final: `series reroll` starts v{next}."
            )?;
        }
        if !self.edited_since_sent.is_empty() {
            let list: Vec<String> = self
                .edited_since_sent
                .iter()
                .map(|n| n.to_string())
                .collect();
            writeln!(
                out,
                "warning: patch {} differ{} from what was sent as v{v}; run `series reroll` to make the edits v{next}",
                list.join(", "),
                if list.len() == 1 { "s" } else { "" },
            )?;
        }
        if let Some(r) = &self.review {
            let list: Vec<String> = r
                .per_patch
                .iter()
                .map(|(k, n, u)| match u {
                    0 => format!("{k}: {n}"),
                    u => format!("{k}: {n} ({u} untouched)"),
                })
                .collect();
            writeln!(
                out,
                "review: {} replies, {} comments, {} open{}",
                r.replies,
                r.comments,
                r.open,
                if list.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", list.join(", "))
                }
            )?;
        }
        if let Some(e) = &self.editing {
            writeln!(
                out,
                "editing on branch {}{}; `series edit --done` leaves it",
                e.branch,
                if e.moved {
                    " (moved since series/ was written: the next command refreshes from it)"
                } else {
                    ""
                }
            )?;
        }
        if let Some(p) = &self.rebase_paused {
            writeln!(
                out,
                "rebase onto {} paused at patch {}: conflicts in {} ({}); resolve them there, then `series rebase --continue`, or `series rebase --abort`",
                p.onto,
                p.patch,
                p.files.join(", "),
                p.folder
            )?;
        }
        if let Some(s) = &self.send_stopped {
            writeln!(
                out,
                "send of v{} stopped after {} of {} messages were accepted; `series send --resume` sends the rest",
                s.version, s.accepted, s.messages
            )?;
        }
        match &self.checked {
            Some(c) if c.errors == 0 => writeln!(
                out,
                "check: passed, {} ({})",
                plural(c.warnings, "warning", "warnings"),
                c.at
            )?,
            Some(c) => writeln!(
                out,
                "check: {}, {} ({})",
                plural(c.errors, "error", "errors"),
                plural(c.warnings, "warning", "warnings"),
                c.at
            )?,
            None => writeln!(out, "check: not run since the last change")?,
        }
        if let Some(top) = &self.untracked_in {
            writeln!(
                out,
                "warning: {} is inside the git tree {top} but not tracked: `git clean -dfx` there would delete it; `series move` puts it under the tree's git folder, where git leaves it alone",
                self.folder
            )?;
        }
        match self.not_ready.as_slice() {
            [] => writeln!(out, "ready to send"),
            why => writeln!(out, "not ready to send: {}", why.join("; ")),
        }
    }
}
