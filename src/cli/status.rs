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
    /// The git work tree that holds series/ without tracking it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    untracked_in: Option<String>,
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
        untracked_in: crate::git::untracked_in(&ctx.series_dir).map(|t| t.display().to_string()),
    };
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &status)
            .map_err(|e| CliError::internal(e.to_string()))?;
        writeln!(out)?;
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
        writeln!(out, "{line}")?;
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
