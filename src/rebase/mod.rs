//! Rebasing a series onto a new base, in memory: each patch is merged three
//! ways (its own pre-image, the new parent, its post-image) with git2, and
//! nothing is written to `series/` until every patch is clean. A conflict is
//! data: the state to resume from and the files with conflict markers.

pub mod paused;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::git::replay::{ConflictFile, Merge, PreImage};
use crate::git::{GitError, Id, Resolved, Tree};
use crate::model::{file_name_from_slug, slug_of_file_name};
use crate::store::{self, Series};

/// Where a rebase stands when it stopped on a conflict. Kept in
/// `.series-rebase/state.toml` beside `series/`, never inside it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct State {
    pub new_base_name: String,
    pub new_base: String,
    /// Index (0-based) of the patch that conflicted.
    pub next: usize,
    /// The new commit the conflicting patch goes on.
    pub parent: String,
    /// Trees of the conflicting patch before and after it, in the old series.
    pub ancestor: String,
    pub theirs: String,
    /// New commits made so far, one per kept patch before `next`.
    pub commits: Vec<String>,
    /// Patches (0-based) found already in the new base and dropped.
    pub merged: Vec<usize>,
    pub drop_merged: bool,
    pub files: Vec<String>,
    /// Digest of `series/` when the rebase started; it must not change.
    pub series_digest: String,
}

/// What a finished replay made.
#[derive(Clone, Debug, Default)]
pub struct Replayed {
    pub commits: Vec<Id>,
    /// Patches (0-based) the new base already contains.
    pub merged: Vec<usize>,
    /// Patches applied directly because the tree lacks the old base.
    pub without_ancestor: Vec<usize>,
    /// The files each commit replayed in memory changed in place: what
    /// rendering its mail needs to diff, without comparing trees.
    pub in_place: std::collections::HashMap<Id, Vec<Vec<u8>>>,
}

/// Why a rebase stopped.
#[derive(Debug, thiserror::Error)]
pub enum RebaseError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("patch {nr} \"{title}\" conflicts with {base} in {}", .files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>().join(", "))]
    Conflict {
        nr: usize,
        title: String,
        base: String,
        files: Vec<ConflictFile>,
        state: Box<State>,
    },
    #[error("patch {nr} \"{title}\" does not apply on {base} ({why}), and the tree lacks the old base {old_base} to merge from")]
    NoAncestor {
        nr: usize,
        title: String,
        base: String,
        old_base: String,
        why: String,
    },
    #[error("patch {nr} \"{title}\" does not apply to its own old base {old_base} ({why}): the patch file was damaged")]
    Damaged {
        nr: usize,
        title: String,
        old_base: String,
        why: String,
    },
    #[error("{} still has conflict markers", .0.display())]
    Unresolved(PathBuf),
    #[error("the paused rebase's state is damaged: {0}")]
    BadState(String),
    #[error("no rebase is in progress")]
    NotPaused,
    #[error("series/ changed since the rebase stopped")]
    SeriesChanged,
    #[error("a rebase is in progress (scratch folder {})", .0.display())]
    InProgress(PathBuf),
    #[error("cannot write the scratch folder {}: {source}", .path.display())]
    Scratch {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the new base {base} already contains {}", describe(.patches))]
    AlreadyMerged {
        base: String,
        patches: Vec<(usize, String)>,
    },
}

fn describe(patches: &[(usize, String)]) -> String {
    patches
        .iter()
        .map(|(nr, t)| format!("patch {nr} \"{t}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A digest of the manifest and patch files, to notice `series/` changing
/// under a paused rebase.
pub fn digest(series: &Series) -> String {
    // (A manifest TOML cannot write is digested as its debug form: the
    // digest only tells one state from another.)
    let mut all = store::manifest_text(&series.manifest)
        .unwrap_or_else(|_| format!("{:?}", series.manifest))
        .into_bytes();
    for i in 0..series.patches.len() {
        all.push(0);
        all.extend(series.stored_patch(i));
    }
    crate::git::digest(&all)
}

/// Where a replay stopped on a conflict: the patch, the commit it goes
/// on, and the merge's ancestor and patch trees.
struct Stop {
    next: usize,
    parent: Id,
    ancestor: Id,
    theirs: Id,
}

/// The conflict error of a replay stopped at `stop`, with the state to
/// resume from.
fn conflict(
    series: &Series,
    new_base: &Resolved,
    done: &Replayed,
    drop_merged: bool,
    series_digest: &str,
    stop: Stop,
    files: Vec<crate::git::replay::ConflictFile>,
) -> RebaseError {
    let state = State {
        new_base_name: new_base.name.clone(),
        new_base: new_base.id.to_string(),
        next: stop.next,
        parent: stop.parent.to_string(),
        ancestor: stop.ancestor.to_string(),
        theirs: stop.theirs.to_string(),
        commits: done.commits.iter().map(Id::to_string).collect(),
        merged: done.merged.clone(),
        drop_merged,
        files: files.iter().map(|f| f.path.clone()).collect(),
        series_digest: series_digest.to_string(),
    };
    RebaseError::Conflict {
        nr: stop.next + 1,
        title: series.patches[stop.next].title.clone(),
        base: new_base.name.clone(),
        files,
        state: Box::new(state),
    }
}

/// Replay patches `from..` of `series` onto `parent`. `pre` is the tree the
/// patch `from` applied to in the old series, when the tree has the old base.
/// A patch that only changes text files in place is replayed in memory
/// ([`Tree::replay_in_place`]); any other, or one that conflicts, goes
/// through its post-image tree and a tree merge, which also reports why.
// The replay loop: each patch merged, a conflict turned into the state
// to resume from, in one place.
#[allow(clippy::too_many_arguments)]
pub fn replay(
    tree: &Tree,
    series: &Series,
    new_base: &Resolved,
    from: usize,
    mut parent: Id,
    pre: Option<Id>,
    mut done: Replayed,
    drop_merged: bool,
    series_digest: &str,
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<Replayed, RebaseError> {
    let total = series.patches.len();
    let mut pre = pre.map(PreImage::at);
    let landed = match drop_merged {
        true => landed_on(tree, series, new_base),
        false => Vec::new(),
    };
    for i in from..total {
        let mail = &series.patches[i];
        progress(i + 1, total, &mail.title);
        crate::testing::crash_point(&format!("rebase-{}", i + 1));
        if landed.contains(&i) {
            // Landed upstream, perhaps touched up on the way in: not
            // merged again; the old series' tree after it is what the
            // next patch's merge starts from.
            pre = match pre.take() {
                Some(p) => match tree.apply_to(tree.pre_tree(&p)?, mail)? {
                    crate::git::replay::Applied::Tree(t) => Some(PreImage::at(t)),
                    crate::git::replay::Applied::Rejected(_) => None,
                },
                None => None,
            };
            done.merged.push(i);
            continue;
        }
        let ours = tree.tree_id(parent)?;
        let fast = match pre.as_mut() {
            Some(p) => tree.replay_in_place(p, ours, mail)?,
            None => None,
        };
        let mut paths = None;
        let new_tree = match (fast, pre.as_ref()) {
            (Some((t, p)), _) => {
                paths = Some(p);
                t
            }
            (None, Some(p)) => {
                let ancestor = tree.pre_tree(p)?;
                let damaged = |why| RebaseError::Damaged {
                    nr: i + 1,
                    title: mail.title.clone(),
                    old_base: series.manifest.base.name.clone(),
                    why,
                };
                let theirs = tree.apply_to(ancestor, mail)?.or_else(damaged)?;
                pre = Some(PreImage::at(theirs));
                match tree.merge3(ancestor, ours, theirs)? {
                    Merge::Clean(t) => t,
                    Merge::Conflict(files) => {
                        let stop = Stop {
                            next: i,
                            parent,
                            ancestor,
                            theirs,
                        };
                        return Err(conflict(
                            series,
                            new_base,
                            &done,
                            drop_merged,
                            series_digest,
                            stop,
                            files,
                        ));
                    }
                }
            }
            (None, None) => {
                done.without_ancestor.push(i);
                tree.apply_to(ours, mail)?
                    .or_else(|why| RebaseError::NoAncestor {
                        nr: i + 1,
                        title: mail.title.clone(),
                        base: new_base.name.clone(),
                        old_base: series.manifest.base.name.clone(),
                        why,
                    })?
            }
        };
        if new_tree == ours {
            done.merged.push(i);
            continue;
        }
        parent = tree.commit_mail_on(parent, new_tree, mail, None)?;
        done.commits.push(parent);
        if let Some(p) = paths {
            done.in_place.insert(parent, p);
        }
    }
    finished(series, new_base, done, drop_merged)
}

/// The patches (0-based) found on the new base above the old one, by
/// patch-id or by subject and author (as `series status` finds them on
/// `series.upstream`): none when the tree lacks the old base.
fn landed_on(tree: &Tree, series: &Series, new_base: &Resolved) -> Vec<usize> {
    let old = &series.manifest.base.commit;
    match old.parse::<Id>() {
        Ok(id) if tree.has_commit(old) => tree
            .find_landed(&series.patches, id, new_base.id)
            .map(|f| f.into_iter().map(|f| f.patch).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// A replay that went through: refused when patches were found merged
/// already and not asked to drop them.
fn finished(
    series: &Series,
    new_base: &Resolved,
    done: Replayed,
    drop_merged: bool,
) -> Result<Replayed, RebaseError> {
    if !done.merged.is_empty() && !drop_merged {
        return Err(RebaseError::AlreadyMerged {
            base: new_base.name.clone(),
            patches: done
                .merged
                .iter()
                .map(|&i| (i + 1, series.patches[i].title.clone()))
                .collect(),
        });
    }
    Ok(done)
}

/// Start a rebase of `series` onto `new_base`.
pub fn start(
    tree: &Tree,
    series: &Series,
    new_base: &Resolved,
    drop_merged: bool,
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<Replayed, RebaseError> {
    let old = &series.manifest.base.commit;
    let pre = match old.parse::<Id>() {
        Ok(id) if tree.has_commit(old) => Some(tree.tree_id(id)?),
        _ => None,
    };
    replay(
        tree,
        series,
        new_base,
        0,
        new_base.id,
        pre,
        Replayed::default(),
        drop_merged,
        &digest(series),
        progress,
    )
}

/// The series after a finished replay: new patch mails, the new base, the
/// diffstat and this version's changelog line, ready for one save.
pub fn finish(
    tree: &Tree,
    series: &Series,
    new_base: &Resolved,
    done: &Replayed,
) -> Result<Series, GitError> {
    let mut out = series.clone();
    let kept: Vec<usize> = (0..series.patches.len())
        .filter(|i| !done.merged.contains(i))
        .collect();
    let (patches, stat) = tree.mails_and_stat(new_base.id, &done.commits, &done.in_place)?;
    out.patches = patches;
    out.manifest.patches = kept
        .iter()
        .enumerate()
        .map(|(n, &i)| {
            let mut e = series.manifest.patches[i].clone();
            if let Some(slug) = slug_of_file_name(&e.file).map(str::to_string) {
                e.file = file_name_from_slug(None, n + 1, &slug);
            }
            e
        })
        .collect();
    out.manifest.base = store::Base {
        name: new_base.name.clone(),
        commit: new_base.id.to_string(),
    };
    if !done.commits.is_empty() {
        out.manifest.diffstat = stat;
        out.manifest.diffstat_of = Some(out.diffs_digest());
    }
    // A changelog says what changed since the last posting: a version
    // with none before it (a first posting) gets no line.
    let first = !out
        .manifest
        .history
        .iter()
        .any(|h| h.version < out.manifest.version && !h.message_ids.is_empty())
        && out.manifest.version == 1;
    let line = format!("rebased on top of {}", new_base.name);
    let entry = out.current_version_mut();
    entry
        .changes
        .retain(|c| !c.starts_with("rebased on top of "));
    if !first {
        entry.changes.insert(0, line);
    }
    entry.base = Some(new_base.name.clone());
    Ok(out)
}

/// The folder of a paused rebase, beside `series/`.
pub fn state_dir(project: &Path) -> PathBuf {
    project.join(".series-rebase")
}

/// Rebase `series` onto `new_base`, or go on from a paused rebase in `dir`
/// (`cont`): the replayed commits, ready for [`finish`]. On a conflict the
/// paused state is written to `dir` and the error says where.
pub fn run(
    tree: &Tree,
    stage: &crate::git::stage::Stage<'_>,
    series: &Series,
    dir: &Path,
    onto: Option<&str>,
    drop_merged: bool,
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<(Resolved, Replayed), RebaseError> {
    let result = match onto {
        None => {
            let state = paused::read(dir)?;
            if state.series_digest != digest(series) {
                return Err(RebaseError::SeriesChanged);
            }
            paused::resume(tree, series, &state, dir, progress)
        }
        Some(_) if dir.exists() => return Err(RebaseError::InProgress(paused::scratch(dir))),
        Some(name) => {
            let new_base = tree.resolve(name)?;
            start(tree, series, &new_base, drop_merged, progress).map(|done| (new_base, done))
        }
    };
    // The new commits (and a paused rebase's trees) go to the object store
    // before anything names them: the patch files or the paused state.
    match &result {
        Ok(_) => stage.persist()?,
        Err(RebaseError::Conflict { files, state, .. }) => {
            // The merge's trees are named by the paused state, not by a
            // commit: kept, each against the commit it goes on.
            let on = state
                .parent
                .parse::<Id>()
                .ok()
                .map(|p| tree.tree_id(p))
                .transpose()?;
            for t in [&state.ancestor, &state.theirs] {
                if let Ok(t) = t.parse::<Id>() {
                    stage.keep(t, on);
                }
            }
            stage.persist()?;
            paused::write(dir, files, state)?;
        }
        Err(_) => {}
    }
    result
}

/// Conflict hunks of merged text: each region between markers with up to
/// `context` lines around it, prefixed with line numbers.
pub fn conflict_hunks(merged: &[u8], context: usize) -> Vec<String> {
    let text = String::from_utf8_lossy(merged);
    let lines: Vec<&str> = text.lines().collect();
    let mut hunks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].starts_with("<<<<<<<") {
            let start = i;
            while i < lines.len() && !lines[i].starts_with(">>>>>>>") {
                i += 1;
            }
            let lo = start.saturating_sub(context);
            let hi = (i + 1 + context).min(lines.len());
            let mut h = String::new();
            for (n, l) in lines[lo..hi].iter().enumerate() {
                h.push_str(&format!("{:>6}  {l}\n", lo + n + 1));
            }
            hunks.push(h);
        }
        i += 1;
    }
    hunks
}

/// Whether text still holds a conflict: a `<<<<<<<` line, then a
/// `=======` line, then a `>>>>>>>` line, in that order. A lone `=======`
/// (an RST heading, say) is text, not a marker.
pub fn has_markers(text: &[u8]) -> bool {
    let marker = |l: &str, m: &str| l == m || l.strip_prefix(m).is_some_and(|r| r.starts_with(' '));
    let mut stage = 0;
    for l in String::from_utf8_lossy(text).lines() {
        stage = match stage {
            0 if marker(l, "<<<<<<<") => 1,
            1 if l == "=======" => 2,
            1 | 2 if marker(l, "<<<<<<<") => 1,
            2 if marker(l, ">>>>>>>") => return true,
            n => n,
        };
    }
    false
}

impl crate::error::Advice for RebaseError {
    fn kind(&self) -> crate::error::Kind {
        use crate::error::Kind;
        match self {
            RebaseError::Git(g) => g.kind(),
            RebaseError::NoAncestor { .. }
            | RebaseError::Conflict { .. }
            | RebaseError::Unresolved(_) => Kind::Conflict,
            _ => Kind::User,
        }
    }

    fn hint(&self) -> Option<String> {
        crate::error::says(match self {
            RebaseError::Git(g) => return g.hint(),
            RebaseError::AlreadyMerged { .. } => {
                "rerun with --drop-merged to drop them from the series"
            }
            RebaseError::NoAncestor { .. } => {
                "fetch the old base into the tree so the patch can be merged, or rebase onto a nearer base"
            }
            RebaseError::Damaged { .. } => {
                "restore the patch file from git or re-import it with `series init`"
            }
            RebaseError::Conflict { .. } | RebaseError::Scratch { .. } => return None,
            RebaseError::Unresolved(_) => {
                "resolve the markers, then run `series rebase --continue`"
            }
            RebaseError::BadState(_) | RebaseError::SeriesChanged => {
                "run `series rebase --abort` and start again"
            }
            RebaseError::NotPaused => "start one with `series rebase BASE`",
            RebaseError::InProgress(_) => {
                "finish it with `series rebase --continue`, or drop it with `series rebase --abort`"
            }
        })
    }
}
