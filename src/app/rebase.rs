//! `series rebase`: replay the series onto a new base in memory; save it
//! when every patch is clean, or pause on a conflict with the conflicted
//! files in a scratch folder.

use std::io::Write;

use serde::Serialize;

use super::{shown, AppError};
use crate::error::Kind;
use crate::git::{short, Tree};
use crate::rebase::{self, RebaseError};
use crate::store;
use crate::term::{plural, Render};
use crate::workspace::Workspace;

/// What to do.
#[derive(Debug)]
pub enum Request {
    /// Rebase onto this base.
    Onto { base: String, drop_merged: bool },
    /// Go on after a conflict was resolved.
    Continue,
    /// Drop a paused rebase.
    Abort,
    /// Move onto the new version of the prerequisites (`series depends`).
    Restack,
}

/// A patch the new base already contains.
#[derive(Serialize)]
pub struct Dropped {
    pub number: usize,
    pub subject: String,
}

/// A conflicted file: its path and the hunks with markers.
#[derive(Serialize)]
pub struct ConflictFile {
    pub path: String,
    /// None: added, deleted or renamed on both sides, no text merge.
    pub hunks: Option<Vec<String>>,
}

/// How a rebase ended.
#[derive(Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Rebased {
    Rebased {
        onto: store::Base,
        patches: Vec<String>,
        dropped: Vec<Dropped>,
        /// The tree lacks the old base: patches were applied directly.
        applied_without_old_base: bool,
        #[serde(skip)]
        old_base: String,
        #[serde(skip)]
        notes: super::Notes,
    },
    Conflict {
        patch: usize,
        subject: String,
        onto: String,
        files: Vec<ConflictFile>,
        /// Where the conflicted files wait.
        scratch: String,
    },
    Aborted,
}

/// `series rebase`.
pub fn run(ws: &Workspace, req: Request, progress: super::Progress) -> Result<Rebased, AppError> {
    let dir = rebase::state_dir(&ws.project());
    let (onto, drop_merged) = match req {
        Request::Abort => {
            if !dir.exists() {
                return Err(AppError::refuse("no rebase is in progress"));
            }
            std::fs::remove_dir_all(&dir).map_err(AppError::file(&dir))?;
            return Ok(Rebased::Aborted);
        }
        Request::Continue => (None, false),
        Request::Onto { base, drop_merged } => (Some(base), drop_merged),
        Request::Restack => return restack(ws, progress),
    };
    let series = store::load(&ws.series_dir)?;
    crate::versions::writable(&series)?;
    if let (Some(base), false) = (&onto, series.manifest.depends.is_empty()) {
        return onto_with_prerequisites(ws, &series, base, drop_merged, progress);
    }
    Tree::staged(&ws.tree_path()?, |tree, stage| {
        let mut step = |i: usize, n: usize, t: &str| progress("rebase", i, n, t);
        let result = rebase::run(
            tree,
            stage,
            &series,
            &dir,
            onto.as_deref(),
            drop_merged,
            &mut step,
        );
        let (new_base, done) = match result {
            Ok(r) => r,
            Err(RebaseError::Conflict {
                nr,
                title,
                base,
                files,
                ..
            }) => {
                return Ok(Rebased::Conflict {
                    patch: nr,
                    subject: title,
                    onto: base,
                    files: files
                        .iter()
                        .map(|f| ConflictFile {
                            path: f.path.clone(),
                            hunks: f.merged.as_ref().map(|m| rebase::conflict_hunks(m, 3)),
                        })
                        .collect(),
                    scratch: shown(ws, &rebase::paused::scratch(&dir)),
                })
            }
            Err(e) => return Err(e.into()),
        };
        let new = rebase::finish(tree, &series, &new_base, &done)?;
        store::save(&ws.series_dir, &new)?;
        if dir.exists() {
            let _ = std::fs::remove_dir_all(&dir);
        }
        Ok(Rebased::Rebased {
            onto: store::Base {
                name: new_base.name.clone(),
                commit: new_base.id.to_string(),
            },
            patches: new.patches.iter().map(|p| p.title.clone()).collect(),
            dropped: dropped(&series, &done),
            applied_without_old_base: !done.without_ancestor.is_empty(),
            old_base: series.manifest.base.name.clone(),
            notes: new_base
                .guess_note()
                .into_iter()
                .map(|n| format!("note: {n}"))
                .collect(),
        })
    })
}

/// The patches a replay dropped (the new base holds them), as told.
fn dropped(series: &store::Series, done: &rebase::Replayed) -> Vec<Dropped> {
    done.merged
        .iter()
        .map(|&i| Dropped {
            number: i + 1,
            subject: series.patches[i].title.clone(),
        })
        .collect()
}

/// `series rebase --restack`: the series moved from the version of its
/// prerequisite (of this repository) it depends on to the prerequisite's
/// version now, on the prerequisite's base: each patch merged from the
/// old stack (the base and every prerequisite's patches as depended on)
/// onto the new one (the moved prerequisite's base, and the
/// prerequisites again with that one's patches now), in memory. The
/// prerequisite is then recorded at its new version. A conflict stops it
/// with nothing changed.
fn restack(ws: &Workspace, progress: super::Progress) -> Result<Rebased, AppError> {
    let series = store::load(&ws.series_dir)?;
    crate::versions::writable(&series)?;
    not_paused(ws)?;
    let moved = super::depends::moved_on(ws, &series);
    let Some((at, other)) = moved.into_iter().next() else {
        return Err(AppError::refuse(
            "no prerequisite of this repository has a new version or changed patches",
        )
        .hint("`series depends` lists the prerequisites and what became of them"));
    };
    let name = series.manifest.depends[at].name.clone();
    let old = super::depends::stack(ws, &series)?;
    let mut new = old.clone();
    new[at].1 = other.patches.clone();
    let base = &other.manifest.base;
    let onto = base
        .commit
        .parse()
        .map_err(|_| AppError::refuse(format!("{name}'s base {} is not a commit id", base.name)))?;
    let to = Stack {
        base: crate::git::Resolved {
            name: base.name.clone(),
            id: onto,
            guessed_from: None,
        },
        first: &new,
    };
    let what = format!("{name} v{}", other.manifest.version);
    let (mut next, done) = move_stack(ws, &series, &old, &to, &what, false, progress)?;
    next.manifest.depends[at] = super::depends::prerequisite_of(name.clone(), &other);
    store::save(&ws.series_dir, &next)?;
    Ok(Rebased::Rebased {
        onto: other.manifest.base.clone(),
        patches: next.patches.iter().map(|p| p.title.clone()).collect(),
        dropped: dropped(&series, &done),
        applied_without_old_base: false,
        old_base: series.manifest.base.name.clone(),
        notes: vec![format!(
            "note: restacked onto {what} (was v{})",
            series.manifest.depends[at].version
        )],
    })
}

/// `series rebase BASE` of a series with prerequisites: the series moved
/// from its base with the prerequisites' patches on it to BASE with the
/// same patches on it, in memory. A prerequisite that does not apply on
/// BASE, or a conflict, stops it with nothing changed (there is no
/// paused state to go on from).
fn onto_with_prerequisites(
    ws: &Workspace,
    series: &store::Series,
    base: &str,
    drop_merged: bool,
    progress: super::Progress,
) -> Result<Rebased, AppError> {
    not_paused(ws)?;
    let first = super::depends::stack(ws, series)?;
    let tree = Tree::open(&ws.tree_path()?)?;
    let to = Stack {
        base: tree.resolve(base)?,
        first: &first,
    };
    let what = to.base.name.clone();
    let (next, done) = move_stack(ws, series, &first, &to, &what, drop_merged, progress)?;
    store::save(&ws.series_dir, &next)?;
    Ok(Rebased::Rebased {
        onto: next.manifest.base.clone(),
        patches: next.patches.iter().map(|p| p.title.clone()).collect(),
        dropped: dropped(series, &done),
        applied_without_old_base: false,
        old_base: series.manifest.base.name.clone(),
        notes: to
            .base
            .guess_note()
            .into_iter()
            .map(|n| format!("note: {n}"))
            .chain(std::iter::once(format!(
                "note: the prerequisites' {} went first",
                plural(first.iter().map(|(_, p)| p.len()).sum(), "patch", "patches")
            )))
            .collect(),
    })
}

fn not_paused(ws: &Workspace) -> Result<(), AppError> {
    if rebase::state_dir(&ws.project()).exists() {
        return Err(AppError::refuse("a rebase is paused").hint(
            "finish it with `series rebase --continue`, or drop it with `series rebase --abort`",
        ));
    }
    Ok(())
}

/// A base with prerequisites' patches to go on it first.
struct Stack<'a> {
    base: crate::git::Resolved,
    first: &'a [crate::apply::Prerequisite],
}

/// Move `series` from its base with `old` applied on it to `to`, in
/// memory: each patch merged from the old stack's tip onto the new
/// one's. Returns the series moved (its base `to`'s base) and what the
/// replay did; a conflict is refused, with nothing written.
fn move_stack(
    ws: &Workspace,
    series: &store::Series,
    old: &[crate::apply::Prerequisite],
    to: &Stack<'_>,
    what: &str,
    drop_merged: bool,
    progress: super::Progress,
) -> Result<(store::Series, rebase::Replayed), AppError> {
    Tree::staged(&ws.tree_path()?, |tree, stage| {
        let mut step = |i: usize, n: usize, t: &str| progress("rebase", i, n, t);
        let from_base = series.manifest.base.commit.parse().map_err(|_| {
            AppError::refuse(format!(
                "the base {} is not a commit id",
                series.manifest.base.name
            ))
        })?;
        let old_name = &series.manifest.base.name;
        let old_tip = crate::apply::apply_prerequisites(tree, from_base, old_name, old, None)?
            .last()
            .copied()
            .unwrap_or(from_base);
        let new_tip =
            crate::apply::apply_prerequisites(tree, to.base.id, &to.base.name, to.first, None)?
                .last()
                .copied()
                .unwrap_or(to.base.id);
        let mut from = series.clone();
        from.manifest.base.commit = old_tip.to_string();
        let onto = crate::git::Resolved {
            name: to.base.name.clone(),
            id: new_tip,
            guessed_from: None,
        };
        let done = match rebase::start(tree, &from, &onto, drop_merged, &mut step) {
            Ok(done) => done,
            Err(RebaseError::Conflict {
                nr, title, files, ..
            }) => {
                let paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
                return Err(AppError::refuse(format!(
                    "patch {nr} \"{title}\" conflicts with {what} in {}; series/ is unchanged",
                    paths.join(", ")
                ))
                .kind(Kind::Conflict)
                .hint("rebase by hand: `series apply` (the prerequisites go first), fix on that branch, `series refresh`"));
            }
            Err(e) => return Err(e.into()),
        };
        let mut next = rebase::finish(tree, &from, &onto, &done)?;
        next.manifest.base = store::Base {
            name: to.base.name.clone(),
            commit: to.base.id.to_string(),
        };
        stage.persist()?;
        Ok((next, done))
    })
}

impl Rebased {
    /// A conflict is a failure of the command (exit code 3), after its
    /// report is printed.
    pub fn verdict(&self) -> Result<(), AppError> {
        let Rebased::Conflict {
            patch,
            subject,
            onto,
            files,
            scratch,
        } = self
        else {
            return Ok(());
        };
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        Err(AppError::refuse(format!(
            "patch {patch} \"{subject}\" conflicts with {onto} in {}",
            paths.join(", ")
        ))
        .kind(Kind::Conflict)
        .hint(format!(
            "resolve the files in {scratch}, then run `series rebase --continue`; or `series rebase --abort`. series/ is unchanged"
        )))
    }

    pub fn notes(&self) -> &[String] {
        match self {
            Rebased::Rebased { notes, .. } => notes,
            _ => &[],
        }
    }
}

impl Render for Rebased {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        match self {
            Rebased::Aborted => writeln!(out, "Rebase aborted; series/ is as it was."),
            Rebased::Rebased {
                onto,
                patches,
                dropped,
                applied_without_old_base,
                old_base,
                ..
            } => {
                let id = onto
                    .commit
                    .parse()
                    .map(short)
                    .unwrap_or_else(|_| onto.commit.clone());
                writeln!(
                    out,
                    "Rebased {} onto {} ({id}).",
                    plural(patches.len(), "patch", "patches"),
                    onto.name
                )?;
                for d in dropped {
                    writeln!(
                        out,
                        "Dropped patch {} \"{}\": the new base already contains it.",
                        d.number, d.subject
                    )?;
                }
                if *applied_without_old_base {
                    writeln!(
                        out,
                        "The tree lacks the old base {old_base}: patches were applied directly (offsets allowed, no fuzz), not merged."
                    )?;
                }
                Ok(())
            }
            Rebased::Conflict { files, .. } => {
                for f in files {
                    writeln!(out, "conflict in {}:", f.path)?;
                    match &f.hunks {
                        Some(hunks) => {
                            for h in hunks {
                                writeln!(out, "{h}")?;
                            }
                        }
                        None => writeln!(
                            out,
                            "  (added, deleted or renamed on both sides; no text merge)"
                        )?,
                    }
                }
                Ok(())
            }
        }
    }
}
