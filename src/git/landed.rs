//! Where a series' patches landed upstream, found as `git cherry` finds
//! them (patch-ids.c): the commits above the base on an upstream ref
//! whose changes are a patch's (the same patch-id, libgit2's, which is
//! git's `--stable` one), else whose subject and author are a patch's (a
//! patch a maintainer touched up on the way in). Only commits that touch
//! the series' files have their patch-id computed, and only when they
//! touch exactly a patch's files, as git first compares the files a
//! change touches before its text.

use std::collections::{BTreeSet, HashMap};

use git2::{DiffOptions, Oid};

use super::{Doing, GitError, Id, Tree};
use crate::model::PatchMail;

/// How an upstream commit was matched to a patch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchedBy {
    PatchId,
    SubjectAndAuthor,
}

/// A patch (0-based) found upstream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub patch: usize,
    pub commit: Id,
    pub by: MatchedBy,
}

/// The most commits looked at above the base (linux-next is about 15,000
/// above a release): past it, the walk stops.
const MOST: usize = 200_000;

impl Tree {
    /// The patches of `patches` found in the history of `tip` but not of
    /// `base`; a patch-id match is preferred to a subject-and-author one.
    pub fn find_landed(
        &self,
        patches: &[PatchMail],
        base: Id,
        tip: Id,
    ) -> Result<Vec<Found>, GitError> {
        let files: Vec<BTreeSet<String>> = patches.iter().map(|p| paths_of(&p.diff)).collect();
        let ids: Vec<Option<Oid>> = patches
            .iter()
            .map(|p| {
                git2::Diff::from_buffer(&p.diff)
                    .and_then(|d| d.patchid(None))
                    .ok()
            })
            .collect();
        let by_subject: HashMap<(String, String), usize> = patches
            .iter()
            .enumerate()
            .map(|(i, p)| ((p.title.clone(), p.author.email.to_ascii_lowercase()), i))
            .collect();
        let all: BTreeSet<&String> = files.iter().flatten().collect();
        let mut found: Vec<Option<Found>> = vec![None; patches.len()];
        let mut walk = self.repo.revwalk().doing(|| "walking upstream".into())?;
        walk.push(tip.0).doing(|| format!("walking from {tip}"))?;
        walk.hide(base.0)
            .doing(|| format!("walking above {base}"))?;
        for oid in walk.take(MOST) {
            let oid = oid.doing(|| "walking upstream".into())?;
            let c = self
                .repo
                .find_commit(oid)
                .doing(|| format!("reading {oid}"))?;
            if c.parent_count() != 1 {
                continue;
            }
            let key = (
                c.summary().ok().flatten().unwrap_or("").to_string(),
                c.author().email().unwrap_or("").to_ascii_lowercase(),
            );
            if let Some(&i) = by_subject.get(&key) {
                if found[i].is_none() {
                    found[i] = Some(Found {
                        patch: i,
                        commit: Id(oid),
                        by: MatchedBy::SubjectAndAuthor,
                    });
                }
            }
            if all.is_empty() {
                continue;
            }
            let (old, new) = (
                c.parent(0)
                    .and_then(|p| p.tree())
                    .doing(|| format!("reading {oid}"))?,
                c.tree().doing(|| format!("reading {oid}"))?,
            );
            let mut only = DiffOptions::new();
            for f in &all {
                only.pathspec(f.as_str());
            }
            only.disable_pathspec_match(true);
            let touched = self
                .repo
                .diff_tree_to_tree(Some(&old), Some(&new), Some(&mut only))
                .doing(|| format!("comparing {oid} with its parent"))?;
            if touched.deltas().len() == 0 {
                continue;
            }
            let whole = self
                .repo
                .diff_tree_to_tree(Some(&old), Some(&new), None)
                .doing(|| format!("comparing {oid} with its parent"))?;
            let paths: BTreeSet<String> = whole
                .deltas()
                .flat_map(|d| [d.old_file().path(), d.new_file().path()])
                .flatten()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            let same_files: Vec<usize> = (0..patches.len())
                .filter(|&i| files[i] == paths && ids[i].is_some())
                .filter(|&i| !matches!(&found[i], Some(f) if f.by == MatchedBy::PatchId))
                .collect();
            if same_files.is_empty() {
                continue;
            }
            let Ok(pid) = whole.patchid(None) else {
                continue;
            };
            for i in same_files {
                if ids[i] == Some(pid) {
                    found[i] = Some(Found {
                        patch: i,
                        commit: Id(oid),
                        by: MatchedBy::PatchId,
                    });
                }
            }
        }
        Ok(found.into_iter().flatten().collect())
    }
}

/// The paths a patch's diff names, old and new.
fn paths_of(diff: &[u8]) -> BTreeSet<String> {
    match crate::diff::Patch::parse(diff) {
        Ok(p) => p
            .files
            .iter()
            .flat_map(|f| [&f.old_path, &f.new_path])
            .filter(|p| !p.is_empty() && p.as_slice() != b"/dev/null")
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect(),
        Err(_) => BTreeSet::new(),
    }
}
