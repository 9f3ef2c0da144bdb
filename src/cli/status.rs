//! `series status`: what the series is, where it stands, what it went through.

use std::io::Write;

use clap::Args as ClapArgs;
use serde::Serialize;

use super::{CliError, Context};
use crate::store::{self, Series};

/// Show the series: name, version, base, patches, cover letter and history
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Status<'a> {
    name: &'a str,
    subject: &'a str,
    version: u32,
    base: &'a store::Base,
    patches: Vec<PatchStatus<'a>>,
    cover: CoverState,
    history: &'a [store::VersionEntry],
    /// Versions kept in series/versions/.
    kept: Vec<u32>,
    /// Whether the current version was sent (it then never changes).
    sent: bool,
    /// Patches (1-based) whose files differ from what was sent.
    edited_since_sent: Vec<usize>,
    /// The git work tree that holds series/ without tracking it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    untracked_in: Option<String>,
    /// A rebase paused on a conflict, if one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    rebase_paused: Option<Paused>,
    /// A send that stopped before every message was accepted, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    send_stopped: Option<Stopped>,
}

#[derive(Serialize)]
struct Paused {
    onto: String,
    /// The patch (1-based) that conflicted.
    patch: usize,
    files: Vec<String>,
    /// Where the conflicted files wait.
    folder: String,
}

#[derive(Serialize)]
struct Stopped {
    version: u32,
    accepted: usize,
    messages: usize,
}

#[derive(Serialize)]
struct PatchStatus<'a> {
    number: usize,
    subject: &'a str,
    change_id: &'a str,
    file: &'a str,
    author: String,
}

#[derive(Serialize)]
struct CoverState {
    lines: usize,
    placeholders: Vec<String>,
}

/// Placeholder text left from `series init` or `git format-patch`.
pub fn placeholders(series: &Series) -> Vec<String> {
    let mut out = Vec::new();
    for p in ["*** SUBJECT HERE ***", "*** BLURB HERE ***"] {
        if series.manifest.subject.contains(p) || series.cover.contains(p) {
            out.push(p.to_string());
        }
    }
    out
}

fn lines(n: usize) -> String {
    format!("{n} line{}", if n == 1 { "" } else { "s" })
}

/// The patches of a sent version whose files were edited since the send.
fn edited_since_sent(ctx: &Context, s: &Series) -> Vec<usize> {
    if crate::versions::sent(s).is_none() {
        return Vec::new();
    }
    let Ok(kept) = store::load_kept(&ctx.series_dir, s.manifest.version) else {
        return Vec::new();
    };
    (0..s.patches.len())
        .filter(|&i| i >= kept.patches.len() || s.stored_patch(i) != kept.stored_patch(i))
        .map(|i| i + 1)
        .collect()
}

/// The rebase paused on a conflict, if there is one.
fn paused(ctx: &Context) -> Option<Paused> {
    let dir = crate::rebase::state_dir(&ctx.project());
    let state = crate::rebase::paused::read(&dir).ok()?;
    Some(Paused {
        onto: state.new_base_name,
        patch: state.next + 1,
        files: state.files,
        folder: super::rel(&crate::rebase::paused::scratch(&dir), &ctx.cwd),
    })
}

/// The send of version `v` that stopped midway, if one did.
fn stopped(ctx: &Context, v: u32) -> Option<Stopped> {
    let j = crate::send::journal::Journal::load(&crate::send::journal::path(&ctx.series_dir, v))
        .ok()
        .flatten()?;
    (!j.complete()).then(|| Stopped {
        version: v,
        accepted: j.sent(),
        messages: j.messages.len(),
    })
}

// Printing: one line after another of the status, as the user reads it.
pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let s = store::load(&ctx.series_dir)?;
    let m = &s.manifest;
    let status = Status {
        name: &m.name,
        subject: &m.subject,
        version: m.version,
        base: &m.base,
        patches: m
            .patches
            .iter()
            .zip(&s.patches)
            .enumerate()
            .map(|(i, (e, p))| PatchStatus {
                number: i + 1,
                subject: &p.title,
                change_id: &e.change_id,
                file: &e.file,
                author: p.author.to_string(),
            })
            .collect(),
        cover: CoverState {
            lines: s.cover.lines().count(),
            placeholders: placeholders(&s),
        },
        history: &m.history,
        kept: store::kept_versions(&ctx.series_dir),
        sent: crate::versions::sent(&s).is_some(),
        edited_since_sent: edited_since_sent(ctx, &s),
        untracked_in: crate::git::untracked_in(&ctx.series_dir).map(|t| t.display().to_string()),
        rebase_paused: paused(ctx),
        send_stopped: stopped(ctx, m.version),
    };
    if args.json {
        super::write_json(out, &status)?;
        return Ok(());
    }
    writeln!(out, "{} v{}: {}", m.name, m.version, m.subject)?;
    let short = m.base.commit.get(..12).unwrap_or(&m.base.commit);
    writeln!(out, "base: {} ({short})", m.base.name)?;
    let total = status.patches.len();
    let w = total.to_string().len();
    writeln!(out, "patches:")?;
    for p in &status.patches {
        writeln!(
            out,
            "  {:>w$}/{total} {}  [{}]",
            p.number, p.subject, p.change_id
        )?;
    }
    let cover_path = super::rel(&ctx.series_dir.join(store::COVER), &ctx.cwd);
    if status.cover.placeholders.is_empty() {
        writeln!(out, "cover: {cover_path}, {}", lines(status.cover.lines))?;
    } else {
        writeln!(
            out,
            "cover: {cover_path}, {}; still has {}",
            lines(status.cover.lines),
            status.cover.placeholders.join(" and ")
        )?;
    }
    writeln!(out, "history:")?;
    for h in &m.history {
        let mut line = format!("  v{}", h.version);
        if h.version == m.version && h.message_ids.is_empty() {
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
                ", {} change{}",
                h.changes.len(),
                if h.changes.len() == 1 { "" } else { "s" }
            ));
        }
        if let Some(l) = &h.link {
            line.push_str(&format!(", {l}"));
        }
        if status.kept.contains(&h.version) {
            line.push_str(&format!(" [kept in versions/v{}]", h.version));
        }
        writeln!(out, "{line}")?;
    }
    if status.sent {
        writeln!(
            out,
            "v{} was sent and is final: `series reroll` starts v{}.",
            m.version,
            m.version.saturating_add(1)
        )?;
    }
    if !status.edited_since_sent.is_empty() {
        let list: Vec<String> = status
            .edited_since_sent
            .iter()
            .map(|n| n.to_string())
            .collect();
        writeln!(
            out,
            "warning: patch {} differ{} from what was sent as v{}; run `series reroll` to make the edits v{}",
            list.join(", "),
            if list.len() == 1 { "s" } else { "" },
            m.version,
            m.version.saturating_add(1)
        )?;
    }
    if !s.replies.is_empty() {
        if let Ok((board, _)) = super::review::board_of(ctx, &s) {
            let mut per: std::collections::BTreeMap<(usize, String), (usize, usize)> =
                Default::default();
            for t in board
                .comments
                .iter()
                .filter(|t| t.state == crate::review::state::State::Open)
            {
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
            let open: usize = per.values().map(|e| e.0).sum();
            let list: Vec<String> = per
                .iter()
                .map(|((_, k), (n, u))| match u {
                    0 => format!("{k}: {n}"),
                    u => format!("{k}: {n} ({u} untouched)"),
                })
                .collect();
            writeln!(
                out,
                "review: {} replies, {} comments, {open} open{}",
                board.replies.len(),
                board.comments.len(),
                if list.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", list.join(", "))
                }
            )?;
        }
    }
    if let Some(p) = &status.rebase_paused {
        writeln!(
            out,
            "rebase onto {} paused at patch {}: conflicts in {} ({}); resolve them there, then `series rebase --continue`, or `series rebase --abort`",
            p.onto,
            p.patch,
            p.files.join(", "),
            p.folder
        )?;
    }
    if let Some(s) = &status.send_stopped {
        writeln!(
            out,
            "send of v{} stopped after {} of {} messages were accepted; `series send --resume` sends the rest",
            s.version, s.accepted, s.messages
        )?;
    }
    if let Some(top) = &status.untracked_in {
        writeln!(
            out,
            "warning: {} is inside the git tree {top} but not tracked: `git clean -dfx` there would delete it; commit it, or keep series/ outside the tree",
            super::rel(&ctx.series_dir, &ctx.cwd)
        )?;
    }
    Ok(())
}
