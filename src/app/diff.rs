//! `series diff`: a range-diff between two versions, laid out as git
//! range-diff lays it out, and the changelog of the current version drafted
//! from it.

use std::io::Write;

use serde::Serialize;

use super::{default_old, version_of, AppError};
use crate::rangediff::{Mark, PatchText};
use crate::store;
use crate::term::{plural, Render};
use crate::workspace::Workspace;

/// What to compare.
#[derive(Debug, Default)]
pub struct Request {
    /// The older version [default: the last sent].
    pub old: Option<String>,
    /// The newer version [default: the current one].
    pub new: Option<String>,
    /// One line per patch, no diffs.
    pub stat: bool,
    /// Merge the drafted changelog into the current version's.
    pub draft: bool,
}

#[derive(Serialize)]
pub struct Side {
    pub number: usize,
    pub commit: String,
    pub subject: String,
    pub change_id: Option<String>,
}

#[derive(Serialize)]
pub struct Row {
    pub mark: &'static str,
    pub old: Option<Side>,
    pub new: Option<Side>,
}

/// A comparison of two versions.
#[derive(Serialize)]
pub struct Compared {
    pub old_version: u32,
    pub new_version: u32,
    pub rows: Vec<Row>,
    pub range_diff: String,
    /// Lines added to "Changes in vN" (with --draft).
    pub drafted: Vec<String>,
    /// The version whose changelog was drafted into.
    #[serde(skip)]
    pub current: u32,
    #[serde(skip)]
    pub shown: String,
}

fn side(texts: &[PatchText], i: Option<usize>) -> Option<Side> {
    i.map(|i| Side {
        number: i + 1,
        commit: texts[i].short.clone(),
        subject: texts[i].subject.clone(),
        change_id: texts[i].change_id.clone(),
    })
}

fn mark_name(m: Mark) -> &'static str {
    match m {
        Mark::Same => "same",
        Mark::Changed => "changed",
        Mark::Dropped => "dropped",
        Mark::Added => "added",
    }
}

/// `series diff`.
pub fn run(ws: &Workspace, req: Request) -> Result<Compared, AppError> {
    let mut current = store::load(&ws.series_dir)?;
    let old = match &req.old {
        Some(a) => version_of(ws, &current, a)?,
        None => default_old(ws, &current)?,
    };
    let new = match &req.new {
        Some(b) => version_of(ws, &current, b)?,
        None => current.clone(),
    };
    let c = crate::versions::compare(&old, &new);
    // With --draft, the changelog drafted from the comparison is merged
    // into the current version's, when the newer side is the current
    // version and it is not sent.
    let mut drafted = Vec::new();
    if req.draft
        && new.manifest.version == current.manifest.version
        && c.old_version < c.new_version
        && crate::versions::sent(&current).is_none()
    {
        let lines = c.draft();
        let entry = current.current_version_mut();
        drafted = crate::versions::merge_draft(&mut entry.changes, &lines);
        if !drafted.is_empty() {
            store::save(&ws.series_dir, &current)?;
        }
    }
    Ok(Compared {
        old_version: c.old_version,
        new_version: c.new_version,
        rows: c
            .rows
            .iter()
            .map(|r| Row {
                mark: mark_name(r.mark),
                old: side(&c.a, r.a),
                new: side(&c.b, r.b),
            })
            .collect(),
        range_diff: c.render(false),
        shown: c.render(req.stat),
        drafted,
        current: current.manifest.version,
    })
}

impl Compared {
    /// What goes to standard error: the lines drafted.
    pub fn notes(&self) -> Vec<String> {
        if self.drafted.is_empty() {
            return Vec::new();
        }
        let mut out = vec![format!(
            "Drafted {} of \"Changes in v{}\" into series/series.toml; edit them there:",
            plural(self.drafted.len(), "line", "lines"),
            self.current
        )];
        out.extend(self.drafted.iter().map(|d| format!("  - {d}")));
        out
    }
}

impl Render for Compared {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for line in self.shown.lines() {
            writeln!(out, "{}", crate::term::range_diff_line(line))?;
        }
        Ok(())
    }
}
