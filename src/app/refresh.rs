//! `series refresh`: bring a branch's commits back into `series/`.

use std::io::Write;

use serde::Serialize;

use super::AppError;
use crate::git::Tree;
use crate::refresh::Fate;
use crate::store;
use crate::term::{plural, Render};
use crate::workspace::Workspace;

/// What to read back.
#[derive(Debug, Default)]
pub struct Request {
    /// The branch [default: series/<name>-v<N>].
    pub branch: Option<String>,
    /// The branch starts on another base than the series'.
    pub base: Option<String>,
    /// Show what would change without saving.
    pub dry_run: bool,
}

/// One patch of the refreshed series, or one dropped.
#[derive(Serialize)]
pub struct Line {
    /// Position now (None: dropped).
    pub nr: Option<usize>,
    /// Position before (None: new).
    pub was: Option<usize>,
    pub subject: String,
    /// unchanged, modified, new or dropped.
    pub fate: &'static str,
}

/// What `series refresh` did.
#[derive(Serialize)]
pub struct Refreshed {
    pub branch: String,
    pub lines: Vec<Line>,
    /// The new base, when it changed.
    pub base: Option<store::Base>,
    pub changed: bool,
    pub saved: bool,
    pub patches: usize,
}

/// `series refresh`.
pub fn run(ws: &Workspace, req: Request) -> Result<Refreshed, AppError> {
    let series = store::load(&ws.series_dir)?;
    let tree = Tree::open(&ws.tree_path()?)?;
    let branch = req
        .branch
        .unwrap_or_else(|| crate::apply::default_branch(&series.manifest));
    let r = crate::refresh::refresh(&tree, &series, &branch, req.base.as_deref())?;
    let changed = r.changed();
    let saved = changed && !req.dry_run;
    if saved {
        store::save(&ws.series_dir, &r.series)?;
    }
    Ok(Refreshed {
        lines: r
            .lines
            .iter()
            .map(|l| Line {
                nr: l.nr,
                was: l.was.map(|w| w + 1),
                subject: l.subject.clone(),
                fate: match &l.fate {
                    None => "dropped",
                    Some(Fate::New) => "new",
                    Some(Fate::Same) => "unchanged",
                    Some(Fate::Modified) => "modified",
                },
            })
            .collect(),
        base: r.base_changed.then(|| r.series.manifest.base.clone()),
        changed,
        saved,
        patches: r.series.patches.len(),
        branch,
    })
}

impl Render for Refreshed {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for l in &self.lines {
            let what = match (l.fate, l.was, l.nr) {
                ("dropped", Some(w), _) => format!("dropped (was {w})"),
                ("new", _, _) => "new".to_string(),
                (f, Some(w), Some(n)) if w != n => format!("{f}, was {w}"),
                (f, _, _) => f.to_string(),
            };
            let nr = l.nr.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
            writeln!(out, "{nr:>3}  {what:<22} {}", l.subject)?;
        }
        if let Some(b) = &self.base {
            writeln!(
                out,
                "Base: {} ({})",
                b.name,
                b.commit.get(..12).unwrap_or(&b.commit)
            )?;
        }
        if !self.changed {
            return writeln!(
                out,
                "series/ already matches {}; nothing changed.",
                self.branch
            );
        }
        if !self.saved {
            return writeln!(out, "Dry run: series/ was not changed.");
        }
        writeln!(
            out,
            "Refreshed series/ from {}: {}.",
            self.branch,
            plural(self.patches, "patch", "patches")
        )
    }
}
