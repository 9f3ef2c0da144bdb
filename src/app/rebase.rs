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
/// old stack (the base and the old prerequisite's patches) onto the new
/// one (the prerequisite's base and its patches now), in memory. The
/// prerequisite is then recorded at its new version. A conflict stops it
/// with nothing changed.
fn restack(ws: &Workspace, progress: super::Progress) -> Result<Rebased, AppError> {
    let series = store::load(&ws.series_dir)?;
    crate::versions::writable(&series)?;
    if rebase::state_dir(&ws.project()).exists() {
        return Err(AppError::refuse("a rebase is paused").hint(
            "finish it with `series rebase --continue`, or drop it with `series rebase --abort`",
        ));
    }
    let moved = super::depends::moved_on(ws, &series);
    let Some((at, old, other)) = moved.into_iter().next() else {
        return Err(AppError::refuse(
            "no prerequisite of this repository has a new version or changed patches",
        )
        .hint("`series depends` lists the prerequisites and what became of them"));
    };
    let name = series.manifest.depends[at].name.clone();
    Tree::staged(&ws.tree_path()?, |tree, stage| {
        let mut step = |i: usize, n: usize, t: &str| progress("restack", i, n, t);
        let mut nothing = |_: usize, _: usize, _: &str| {};
        // The old stack: the base and the prerequisite's patches then.
        let mut old_stack = series.clone();
        old_stack.patches = old;
        let old_tip = crate::apply::apply(tree, &old_stack, None, &mut nothing)?
            .last()
            .copied();
        // The new one: its base and its patches now.
        let new_tip = crate::apply::apply(tree, &other, None, &mut nothing)?
            .last()
            .copied();
        let (Some(old_tip), Some(new_tip)) = (old_tip, new_tip) else {
            return Err(AppError::refuse(format!("{name} has no patches")));
        };
        let mut from = series.clone();
        from.manifest.base.commit = old_tip.to_string();
        let onto = crate::git::Resolved {
            name: format!("{name} v{}", other.manifest.version),
            id: new_tip,
            guessed_from: None,
        };
        let done = match rebase::start(tree, &from, &onto, false, &mut step) {
            Ok(done) => done,
            Err(RebaseError::Conflict {
                nr, title, files, ..
            }) => {
                let paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
                return Err(AppError::refuse(format!(
                    "patch {nr} \"{title}\" conflicts with {name} v{} in {}; series/ is unchanged",
                    other.manifest.version,
                    paths.join(", ")
                ))
                .kind(Kind::Conflict)
                .hint(format!(
                    "rebase by hand: `series apply` on {name}'s new branch, fix, `series refresh`; or keep depending on the version you have"
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let mut new = rebase::finish(tree, &from, &onto, &done)?;
        new.manifest.base = other.manifest.base.clone();
        new.manifest.depends[at] = super::depends::prerequisite_of(name.clone(), &other);
        stage.persist()?;
        store::save(&ws.series_dir, &new)?;
        Ok(Rebased::Rebased {
            onto: other.manifest.base.clone(),
            patches: new.patches.iter().map(|p| p.title.clone()).collect(),
            dropped: dropped(&series, &done),
            applied_without_old_base: false,
            old_base: series.manifest.base.name.clone(),
            notes: vec![format!(
                "note: restacked onto {name} v{} (was v{})",
                other.manifest.version, series.manifest.depends[at].version
            )],
        })
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
