//! `series edit`: the edit loop. The series goes on its working branch,
//! checked out (as `apply --checkout` does); from then on, before any verb
//! reads the series, [`sync`] notices when the branch has moved since
//! `series/` was last written and refreshes `series/` from it, and refuses
//! when both the branch and `series/` changed. `series edit --done` leaves
//! the loop.
//!
//! The loop's state is `.series-edit.toml` in the project folder (beside
//! the series folder): the branch, the commit it pointed at and a digest
//! of `series/`, both as of the last time the two matched.

use std::io::Write;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::AppError;
use crate::git::Tree;
use crate::store::{self, Series};
use crate::term::Render;
use crate::workspace::Workspace;

const STATE: &str = ".series-edit.toml";

/// The recorded state of the loop.
#[derive(Debug, Serialize, Deserialize)]
struct State {
    branch: String,
    /// The branch's commit when `series/` last matched it.
    tip: String,
    /// [`Series::digest`] of `series/` then.
    series: String,
}

/// The working branch, as `status` shows it.
#[derive(Debug, Serialize)]
pub struct Editing {
    pub branch: String,
    /// Whether the branch moved since `series/` last matched it.
    pub moved: bool,
}

fn state_path(ws: &Workspace) -> PathBuf {
    ws.project().join(STATE)
}

fn read(ws: &Workspace) -> Option<State> {
    let text = std::fs::read_to_string(state_path(ws)).ok()?;
    toml::from_str(&text).ok()
}

fn write(ws: &Workspace, s: &State) -> Result<(), AppError> {
    let text = toml::to_string(s).map_err(|e| AppError::refuse(e.to_string()))?;
    super::write_file(&state_path(ws), text.as_bytes())
}

/// The tip of local branch `name`, if the tree has it.
fn tip(tree: &Tree, name: &str) -> Option<String> {
    tree.resolve(&format!("refs/heads/{name}"))
        .ok()
        .map(|r| r.id.to_string())
}

/// The working branch and whether it moved, when the series has one.
pub fn editing(ws: &Workspace) -> Option<Editing> {
    let s = read(ws)?;
    let tree = Tree::open(&ws.tree_path().ok()?).ok()?;
    Some(Editing {
        moved: tip(&tree, &s.branch).is_some_and(|t| t != s.tip),
        branch: s.branch,
    })
}

/// What `series edit` did.
#[derive(Serialize)]
pub struct Started {
    pub branch: String,
    pub patches: usize,
}

/// `series edit`: apply the series on its branch, check it out, and record
/// the loop.
pub fn start(
    ws: &Workspace,
    branch: Option<String>,
    force: bool,
    progress: super::Progress,
) -> Result<Started, AppError> {
    let series = store::load(&ws.series_dir)?;
    crate::versions::writable(&series)?;
    let req = super::apply::Request {
        branch,
        force,
        checkout: true,
    };
    let applied = super::apply::apply_series(ws, &series, &req, progress)?;
    write(
        ws,
        &State {
            branch: applied.branch.clone(),
            tip: applied.commits.last().cloned().unwrap_or_default(),
            series: series.digest(),
        },
    )?;
    Ok(Started {
        branch: applied.branch,
        patches: applied.commits.len(),
    })
}

/// What `series edit --done` did.
#[derive(Serialize)]
pub struct Done {
    pub branch: Option<String>,
}

/// `series edit --done`: leave the loop (the branch stays as it is).
pub fn done(ws: &Workspace) -> Result<Done, AppError> {
    let s = read(ws);
    let path = state_path(ws);
    if path.exists() {
        std::fs::remove_file(&path).map_err(AppError::file(&path))?;
    }
    Ok(Done {
        branch: s.map(|s| s.branch),
    })
}

/// What [`sync`] did.
#[derive(Debug, Serialize)]
pub struct Synced {
    pub branch: String,
    pub patches: usize,
}

/// Before a verb reads the series: when the working branch has moved since
/// `series/` last matched it, refresh `series/` from the branch (under the
/// series lock) and say so; when `series/` changed too, refuse.
pub fn sync(ws: &Workspace, wait: std::time::Duration) -> Result<Option<Synced>, AppError> {
    let Some(state) = read(ws) else {
        return Ok(None);
    };
    let Ok(path) = ws.tree_path() else {
        return Ok(None);
    };
    let tree = Tree::open(&path)?;
    let Some(now) = tip(&tree, &state.branch) else {
        return Err(AppError::refuse(format!(
            "the working branch {} of `series edit` is gone from {}",
            state.branch,
            path.display()
        ))
        .hint(
            "`series edit` puts the series on a branch again; `series edit --done` leaves the loop",
        ));
    };
    if now == state.tip {
        return Ok(None);
    }
    let _lock = store::lock(&ws.series_dir, wait)?;
    let series: Series = store::load(&ws.series_dir)?;
    if series.digest() != state.series {
        return Err(AppError::refuse(format!(
            "both the working branch {} and series/ changed since they last matched",
            state.branch
        ))
        .hint(format!(
            "keep the branch's commits with `series refresh --branch {}`, or series/ with `series edit --force` (it puts series/ on the branch again)",
            state.branch
        )));
    }
    let r = crate::refresh::refresh(&tree, &series, &state.branch, None)?;
    if r.changed() {
        store::save(&ws.series_dir, &r.series)?;
    }
    write(
        ws,
        &State {
            branch: state.branch.clone(),
            tip: now,
            series: r.series.digest(),
        },
    )?;
    Ok(Some(Synced {
        branch: state.branch,
        patches: r.series.patches.len(),
    }))
}

impl Render for Started {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "Editing on branch {} ({} patches), checked out. Change the commits as you like (commit --amend, rebase -i); the next series command reads them back. `series edit --done` leaves the loop.",
            self.branch, self.patches
        )
    }
}

impl Render for Done {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        match &self.branch {
            Some(b) => writeln!(out, "No longer editing on {b}; the branch stays as it is."),
            None => writeln!(out, "The series was not being edited."),
        }
    }
}

impl Render for Synced {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "series: the branch {} moved; series/ refreshed from it ({} patches).",
            self.branch, self.patches
        )
    }
}
