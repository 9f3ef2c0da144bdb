//! `series apply`: the series on the kernel tree as a branch of commits,
//! made in memory and written as one pack; with `checkout`, git checks the
//! branch out.

use std::io::Write;

use serde::Serialize;

use super::AppError;
use crate::git::replay::Committer;
use crate::git::{short, Id, Tree};
use crate::model::Person;
use crate::store::{self, Series};
use crate::term::{plural, Render};
use crate::workspace::Workspace;

/// What to apply where.
#[derive(Debug, Default)]
pub struct Request {
    /// The branch [default: series/<name>-v<N>].
    pub branch: Option<String>,
    /// Move the branch if it exists.
    pub force: bool,
    /// Check it out afterwards.
    pub checkout: bool,
}

/// A series applied.
#[derive(Serialize)]
pub struct Applied {
    pub branch: String,
    pub base: store::Base,
    pub commits: Vec<String>,
    /// How many commits of prerequisites (`series depends`) are below
    /// the series' own on the branch.
    pub prerequisites: usize,
    pub checked_out: bool,
}

/// The committer as git am takes it: `GIT_COMMITTER_NAME`/`EMAIL`, else
/// the tree's user.name/user.email; at the workspace's clock.
pub(super) fn committer(ws: &Workspace, tree: &Tree) -> Result<Committer, AppError> {
    let who = match &ws.committer_env {
        (Some(name), Some(email)) => Person {
            name: name.clone(),
            email: email.clone(),
        },
        _ => tree.config_identity()?,
    };
    let now = ws.now();
    Ok(Committer {
        who,
        secs: now.secs,
        offset_minutes: now.offset_minutes,
    })
}

/// Apply `series` on the tree as `req` asks; the commits reach the object
/// store before the branch names them.
pub fn apply_series(
    ws: &Workspace,
    series: &Series,
    req: &Request,
    progress: super::Progress,
) -> Result<Applied, AppError> {
    let m = &series.manifest;
    let branch = req
        .branch
        .clone()
        .unwrap_or_else(|| crate::apply::default_branch(m));
    let (commits, prerequisites, checked_out) = Tree::staged(&ws.tree_path()?, |tree, stage| {
        if tree.has_branch(&branch) && !req.force {
            return Err(AppError::refuse(format!(
                "branch {branch} already exists in {}",
                tree.path().display()
            ))
            .hint("pass --force to move it, or --branch NAME"));
        }
        let committer = committer(ws, tree)?;
        let first = super::depends::stack(ws, series)?;
        let stacked =
            crate::apply::apply_stacked(tree, series, &first, Some(&committer), &mut |i, n, t| {
                progress("apply", i, n, t)
            })?;
        let (prerequisites, commits) = (stacked.prerequisites.len(), stacked.commits);
        let tip: Id = *commits
            .last()
            .ok_or_else(|| AppError::refuse("the series has no patches"))?;
        stage.persist()?;
        if req.checkout {
            tree.set_branch_and_checkout(&branch, tip, req.force)?;
        } else {
            tree.set_branch(&branch, tip, req.force)?;
        }
        Ok::<_, AppError>((commits, prerequisites, req.checkout))
    })?;
    Ok(Applied {
        branch,
        base: m.base.clone(),
        commits: commits.iter().map(|c| c.to_string()).collect(),
        prerequisites,
        checked_out,
    })
}

/// `series apply`.
pub fn run(ws: &Workspace, req: Request, progress: super::Progress) -> Result<Applied, AppError> {
    let series = store::load(&ws.series_dir)?;
    apply_series(ws, &series, &req, progress)
}

impl Render for Applied {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let tip = self
            .commits
            .last()
            .and_then(|c| c.parse::<Id>().ok())
            .map(short)
            .unwrap_or_default();
        let first = match self.prerequisites {
            0 => String::new(),
            n => format!(" after {} of prerequisites", plural(n, "patch", "patches")),
        };
        writeln!(
            out,
            "Applied {} on {}{first} as branch {} ({tip}){}.",
            plural(self.commits.len(), "patch", "patches"),
            self.base.name,
            self.branch,
            if self.checked_out {
                ", checked out"
            } else {
                ""
            }
        )
    }
}
