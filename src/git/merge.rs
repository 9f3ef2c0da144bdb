//! Three-way merges of trees, as a rebase needs them: only the paths a
//! patch changes are read, merged (libgit2's file merge, git's xdiff
//! merge) and written.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use git2::build::TreeUpdateBuilder;
use git2::{Delta, ObjectType, Oid};

use super::offsets::file_mode;
use super::{Doing, GitError, Id, Tree};

/// A file left conflicted by a three-way merge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConflictFile {
    pub path: String,
    /// The merged content with conflict markers, when it is text.
    pub merged: Option<Vec<u8>>,
}

/// The result of merging a patch onto a new parent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Merge {
    Clean(Id),
    Conflict(Vec<ConflictFile>),
}

/// An index entry for a blob at `path`, as libgit2's file merge wants it.
fn index_entry(path: &[u8], id: Oid, mode: u32) -> git2::IndexEntry {
    git2::IndexEntry {
        ctime: git2::IndexTime::new(0, 0),
        mtime: git2::IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode,
        uid: 0,
        gid: 0,
        file_size: 0,
        id,
        flags: 0,
        flags_extended: 0,
        path: path.to_vec(),
    }
}

impl Tree {
    /// Three-way merge of trees: what changed from `ancestor` to `theirs`
    /// (one patch), applied onto `ours`. Only the paths the patch changes
    /// are read, merged and written, so the cost follows the patch, not the
    /// tree.
    pub fn merge3(&self, ancestor: Id, ours: Id, theirs: Id) -> Result<Merge, GitError> {
        self.merge3_resolved(ancestor, ours, theirs, &[])
    }

    /// [`Tree::merge3`], with the paths in `resolved` (path, content; None
    /// deletes it) taken as the user resolved them instead of merged.
    // One pass over the changes of the patch, each delta kind handled where
    // the next one is, as a three-way merge reads best.
    pub fn merge3_resolved(
        &self,
        ancestor: Id,
        ours: Id,
        theirs: Id,
        resolved: &[(String, Option<Vec<u8>>)],
    ) -> Result<Merge, GitError> {
        let (ancestor, ours, theirs) = (ancestor.0, ours.0, theirs.0);
        let find = |id| {
            self.repo
                .find_tree(id)
                .doing(|| format!("reading tree {id}"))
        };
        let (a, o, t) = (find(ancestor)?, find(ours)?, find(theirs)?);
        let mut changes = self.diff_changed(&a, &t, &mut git2::DiffOptions::new())?;
        let mut find_opts = git2::DiffFindOptions::new();
        find_opts.renames(true);
        changes
            .find_similar(Some(&mut find_opts))
            .doing(|| "finding renames".into())?;

        let mut update = TreeUpdateBuilder::new();
        let mut conflicts = Vec::new();
        let ours_at = |p: &Path| o.get_path(p).ok().map(|e| (e.id(), e.filemode() as u32));
        for delta in changes.deltas() {
            // Paths keep their bytes (git allows any but NUL and `/`); the
            // names are for messages and the scratch folder.
            let old_bytes = delta.old_file().path_bytes().unwrap_or_default();
            let new_bytes = delta.new_file().path_bytes().unwrap_or_default();
            let old_path = Path::new(std::ffi::OsStr::from_bytes(old_bytes));
            let new_path = Path::new(std::ffi::OsStr::from_bytes(new_bytes));
            let old_name = String::from_utf8_lossy(old_bytes).into_owned();
            let new_name = String::from_utf8_lossy(new_bytes).into_owned();
            let (a_id, a_mode) = (delta.old_file().id(), u32::from(delta.old_file().mode()));
            let (t_id, t_mode) = (delta.new_file().id(), u32::from(delta.new_file().mode()));
            if let Some((_, content)) = resolved
                .iter()
                .find(|(p, _)| *p == new_name || *p == old_name)
            {
                if old_path != new_path {
                    update.remove(old_path);
                }
                match content {
                    Some(bytes) => {
                        let id = self
                            .store(ObjectType::Blob, bytes)
                            .doing(|| format!("storing {new_name}"))?;
                        let mode = ours_at(new_path)
                            .or(ours_at(old_path))
                            .map_or(t_mode, |(_, m)| m);
                        update.upsert(new_path, id, file_mode(mode));
                    }
                    None => {
                        update.remove(new_path);
                    }
                }
                continue;
            }
            let conflict = |merged: Option<Vec<u8>>| ConflictFile {
                path: new_name.clone(),
                merged,
            };
            match delta.status() {
                Delta::Added => match ours_at(new_path) {
                    None => {
                        update.upsert(new_path, t_id, file_mode(t_mode));
                    }
                    Some((o_id, _)) if o_id == t_id => {}
                    Some(_) => conflicts.push(conflict(None)),
                },
                Delta::Deleted => match ours_at(old_path) {
                    None => {}
                    Some((o_id, _)) if o_id == a_id => {
                        update.remove(old_path);
                    }
                    Some(_) => conflicts.push(conflict(None)),
                },
                _ => {
                    let Some((o_id, o_mode)) = ours_at(old_path) else {
                        // Gone on our side: fine only if ours already has the result.
                        if ours_at(new_path).map(|(id, _)| id) != Some(t_id) {
                            conflicts.push(conflict(None));
                        }
                        continue;
                    };
                    let mode = if o_mode == a_mode { t_mode } else { o_mode };
                    let id = if o_id == a_id || o_id == t_id {
                        t_id
                    } else {
                        match self
                            .merge_blobs(old_bytes, a_id, o_id, t_id, a_mode, o_mode, t_mode)?
                        {
                            Ok(id) => id,
                            Err(merged) => {
                                conflicts.push(conflict(merged));
                                continue;
                            }
                        }
                    };
                    if old_path != new_path {
                        update.remove(old_path);
                    }
                    update.upsert(new_path, id, file_mode(mode));
                }
            }
        }
        if !conflicts.is_empty() {
            return Ok(Merge::Conflict(conflicts));
        }
        Ok(Merge::Clean(Id(update
            .create_updated(&self.repo, &o)
            .doing(|| "writing the merged tree".into())?)))
    }

    /// Merge one file's three versions; the merged blob, or the text with
    /// conflict markers (None when it is not text).
    #[allow(clippy::too_many_arguments)]
    fn merge_blobs(
        &self,
        path: &[u8],
        a: Oid,
        o: Oid,
        t: Oid,
        a_mode: u32,
        o_mode: u32,
        t_mode: u32,
    ) -> Result<Result<Oid, Option<Vec<u8>>>, GitError> {
        let entry = |id: Oid, mode: u32| index_entry(path, id, mode);
        let mut opts = git2::MergeFileOptions::new();
        opts.our_label("new base")
            .their_label("patch")
            .ancestor_label("old base");
        let r = self
            .repo
            .merge_file_from_index(
                &entry(a, a_mode),
                &entry(o, o_mode),
                &entry(t, t_mode),
                Some(&mut opts),
            )
            .doing(|| format!("merging {}", String::from_utf8_lossy(path)))?;
        if r.is_automergeable() {
            Ok(Ok(self.store(ObjectType::Blob, r.content()).doing(
                || format!("storing {}", String::from_utf8_lossy(path)),
            )?))
        } else {
            let binary = [a, o, t].iter().any(|id| {
                self.repo
                    .find_blob(*id)
                    .map(|b| b.content()[..b.content().len().min(8000)].contains(&0))
                    .unwrap_or(false)
            });
            Ok(Err((!binary).then(|| r.content().to_vec())))
        }
    }
}
