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

/// One file a patch changes: its paths (bytes: git allows any but NUL and
/// `/`; the names are for messages), and the ancestor's and the patch's
/// blob and mode.
struct FileChange {
    old_bytes: Vec<u8>,
    new_bytes: Vec<u8>,
    a_id: Oid,
    a_mode: u32,
    t_id: Oid,
    t_mode: u32,
}

impl FileChange {
    fn of(delta: &git2::DiffDelta<'_>) -> FileChange {
        FileChange {
            old_bytes: delta.old_file().path_bytes().unwrap_or_default().to_vec(),
            new_bytes: delta.new_file().path_bytes().unwrap_or_default().to_vec(),
            a_id: delta.old_file().id(),
            a_mode: u32::from(delta.old_file().mode()),
            t_id: delta.new_file().id(),
            t_mode: u32::from(delta.new_file().mode()),
        }
    }

    fn old_path(&self) -> &Path {
        Path::new(std::ffi::OsStr::from_bytes(&self.old_bytes))
    }

    fn new_path(&self) -> &Path {
        Path::new(std::ffi::OsStr::from_bytes(&self.new_bytes))
    }

    fn old_name(&self) -> String {
        String::from_utf8_lossy(&self.old_bytes).into_owned()
    }

    fn new_name(&self) -> String {
        String::from_utf8_lossy(&self.new_bytes).into_owned()
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
            let c = FileChange::of(&delta);
            if let Some((_, content)) = resolved
                .iter()
                .find(|(p, _)| *p == c.new_name() || *p == c.old_name())
            {
                let mode = ours_at(c.new_path())
                    .or(ours_at(c.old_path()))
                    .map_or(c.t_mode, |(_, m)| m);
                self.put_resolved(&mut update, &c, content.as_deref(), mode)?;
                continue;
            }
            let conflict = |merged: Option<Vec<u8>>| ConflictFile {
                path: c.new_name(),
                merged,
            };
            match delta.status() {
                Delta::Added => match ours_at(c.new_path()) {
                    None => {
                        update.upsert(c.new_path(), c.t_id, file_mode(c.t_mode));
                    }
                    Some((o_id, _)) if o_id == c.t_id => {}
                    Some(_) => conflicts.push(conflict(None)),
                },
                Delta::Deleted => match ours_at(c.old_path()) {
                    None => {}
                    Some((o_id, _)) if o_id == c.a_id => {
                        update.remove(c.old_path());
                    }
                    Some(_) => conflicts.push(conflict(None)),
                },
                _ => match ours_at(c.old_path()) {
                    // Gone on our side: fine only if ours already has the result.
                    None if ours_at(c.new_path()).map(|(id, _)| id) != Some(c.t_id) => {
                        conflicts.push(conflict(None))
                    }
                    None => {}
                    Some(ours) => {
                        if let Err(merged) = self.merge_changed(&mut update, &c, ours)? {
                            conflicts.push(conflict(merged));
                        }
                    }
                },
            }
        }
        if !conflicts.is_empty() {
            return Ok(Merge::Conflict(conflicts));
        }
        Ok(Merge::Clean(Id(update
            .create_updated(&self.repo, &o)
            .doing(|| "writing the merged tree".into())?)))
    }

    /// A path the user resolved: its content (None deletes it) at `mode`.
    fn put_resolved(
        &self,
        update: &mut TreeUpdateBuilder,
        c: &FileChange,
        content: Option<&[u8]>,
        mode: u32,
    ) -> Result<(), GitError> {
        if c.old_path() != c.new_path() {
            update.remove(c.old_path());
        }
        match content {
            Some(bytes) => {
                let id = self
                    .store(ObjectType::Blob, bytes)
                    .doing(|| format!("storing {}", c.new_name()))?;
                update.upsert(c.new_path(), id, file_mode(mode));
            }
            None => {
                update.remove(c.new_path());
            }
        }
        Ok(())
    }

    /// A file the patch changes (or renames) that ours has as `ours` (id,
    /// mode): the patch's version when ours is the ancestor's, else the
    /// merge of the three; Err with the conflicted text when they conflict.
    fn merge_changed(
        &self,
        update: &mut TreeUpdateBuilder,
        c: &FileChange,
        (o_id, o_mode): (Oid, u32),
    ) -> Result<Result<(), Option<Vec<u8>>>, GitError> {
        let mode = if o_mode == c.a_mode { c.t_mode } else { o_mode };
        let id = if o_id == c.a_id || o_id == c.t_id {
            c.t_id
        } else {
            let merged = self.merge_blobs(
                &c.old_bytes,
                c.a_id,
                o_id,
                c.t_id,
                c.a_mode,
                o_mode,
                c.t_mode,
            )?;
            match merged {
                Ok(id) => id,
                Err(text) => return Ok(Err(text)),
            }
        };
        if c.old_path() != c.new_path() {
            update.remove(c.old_path());
        }
        update.upsert(c.new_path(), id, file_mode(mode));
        Ok(Ok(()))
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
