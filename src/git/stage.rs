//! New objects kept in memory until an operation has succeeded, then
//! written as one pack. A rebase makes blobs, trees and commits and reads
//! most of them back at once; written one by one they would be hundreds of
//! loose files (a quarter of a rebase's time went to making them). In a
//! [`Stage`] they wait in a libgit2 mempack, added above the object
//! store's own backends (so every write lands there, and reads find it
//! first), and [`Stage::persist`] packs what the operation made with
//! libgit2's pack builder, which libgit2's pack writer indexes into the
//! object store: one `.pack` and its `.idx`. An operation that fails never
//! persists, and leaves nothing behind.
//!
//! What goes into the pack: each commit made, and the trees and blobs
//! where its tree differs from its parent's (walked only where the ids
//! differ, as `git pack-objects --revs NEW ^PARENT` finds them, without
//! reading the rest of a kernel-sized tree); plus any tree an operation
//! keeps without a commit ([`Stage::keep`]). libgit2's mempack dump would
//! pack each commit with its whole tree (86,000 objects of a kernel tree,
//! deltified: a minute and a gigabyte per operation, measured).
//!
//! Only libgit2's public API is used: `git_odb_add_backend` of a mempack,
//! `git_packbuilder_insert`, `git_packbuilder_write_buf`,
//! `git_odb_write_pack`.

use std::cell::RefCell;
use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use git2::{ObjectType, Oid, PackBuilder};

use super::{Doing, GitError, Id, Tree};

/// The objects an operation has made so far, in memory.
pub struct Stage<'a> {
    tree: &'a Tree,
    odb: &'a git2::Odb<'a>,
    pack: &'a git2::Mempack<'a>,
    /// Trees kept without a commit, each with the tree it differs from.
    kept: RefCell<Vec<(Oid, Option<Oid>)>>,
    /// The pack builder's configuration level, while the handle lives.
    _config: tempfile::TempPath,
}

impl Tree {
    /// Open the repository at `path` and run `f` with new objects kept in
    /// memory; `f` calls [`Stage::persist`] before anything outside the
    /// process names them (a ref, a file with a commit id, a `git` run).
    pub fn staged<R, E>(
        path: &Path,
        f: impl FnOnce(&Tree, &Stage<'_>) -> Result<R, E>,
    ) -> Result<R, E>
    where
        E: From<GitError>,
    {
        let tree = Tree::open(path)?;
        let odb = tree
            .repo
            .odb()
            .doing(|| "opening the object store".into())?;
        // Above the loose and packed backends: every new object is written
        // here, and found here first.
        let pack = odb
            .add_new_mempack_backend(1000)
            .doing(|| "keeping new objects in memory".into())?;
        tree.made.borrow_mut().clear();
        let stage = Stage {
            tree: &tree,
            odb: &odb,
            pack: &pack,
            kept: RefCell::new(Vec::new()),
            _config: light_packing(&tree.repo)?,
        };
        f(&tree, &stage)
    }
}

impl Stage<'_> {
    /// Keep `tree` (made without a commit, such as a paused rebase's) at
    /// the next [`Stage::persist`]: the objects where it differs from
    /// `against`.
    pub fn keep(&self, tree: Id, against: Option<Id>) {
        self.kept.borrow_mut().push((tree.0, against.map(|a| a.0)));
    }

    /// Write every commit made so far (and the trees kept) to the object
    /// store, as one pack, and empty the memory (what follows starts a new
    /// pack).
    pub fn persist(&self) -> Result<(), GitError> {
        let repo = &self.tree.repo;
        // The store as it is on disk, without the memory: an object found
        // there was not written again (libgit2 freshened it instead), and
        // neither was anything below it.
        let disk_repo =
            git2::Repository::open(repo.path()).doing(|| "opening the object store".into())?;
        let disk = disk_repo
            .odb()
            .doing(|| "opening the object store".into())?;
        let mut pb = repo
            .packbuilder()
            .doing(|| "packing the new objects".into())?;
        let mut walk = Walk {
            disk: &disk,
            seen: HashSet::new(),
        };
        let made: Vec<Oid> = self.tree.made.borrow_mut().drain(..).collect();
        for id in made {
            if !walk.is_new(id) {
                continue;
            }
            let c = repo
                .find_commit(id)
                .doing(|| format!("reading commit {id}"))?;
            pb.insert_object(id, None)
                .doing(|| "packing a commit".into())?;
            let parent = c.parents().next().map(|p| p.tree_id());
            self.insert_changed(&mut pb, c.tree_id(), parent, &mut walk)?;
        }
        let kept: Vec<(Oid, Option<Oid>)> = self.kept.borrow_mut().drain(..).collect();
        for (t, against) in kept {
            self.insert_changed(&mut pb, t, against, &mut walk)?;
        }
        let mut buf = git2::Buf::new();
        pb.write_buf(&mut buf)
            .doing(|| "packing the new objects".into())?;
        // An empty pack: a header and a checksum, no object.
        if buf.len() > 32 {
            let mut w = self.odb.packwriter().doing(|| "writing a pack".into())?;
            w.write_all(&buf).map_err(|source| GitError::Io {
                doing: "writing a pack".into(),
                source,
            })?;
            w.commit().doing(|| "indexing the pack".into())?;
        }
        self.pack
            .reset()
            .doing(|| "emptying the objects kept in memory".into())
    }

    /// Add `tree` and, below it, every tree and blob whose id differs from
    /// the same path's in `old`: only where the two differ is anything
    /// read, and only objects made in memory are added.
    fn insert_changed(
        &self,
        pb: &mut PackBuilder<'_>,
        tree: Oid,
        old: Option<Oid>,
        walk: &mut Walk<'_>,
    ) -> Result<(), GitError> {
        if Some(tree) == old || !walk.is_new(tree) {
            return Ok(());
        }
        let repo = &self.tree.repo;
        pb.insert_object(tree, None)
            .doing(|| "packing a tree".into())?;
        let t = repo
            .find_tree(tree)
            .doing(|| format!("reading tree {tree}"))?;
        let o = old.and_then(|o| repo.find_tree(o).ok());
        for e in t.iter() {
            let before = o.as_ref().and_then(|o| o.get_name_bytes(e.name_bytes()));
            let before = before.filter(|b| b.kind() == e.kind());
            if before.as_ref().is_some_and(|b| b.id() == e.id()) {
                continue;
            }
            match e.kind() {
                Some(ObjectType::Tree) => {
                    self.insert_changed(pb, e.id(), before.map(|b| b.id()), walk)?;
                }
                Some(ObjectType::Blob) if walk.is_new(e.id()) => {
                    pb.insert_object(e.id(), None)
                        .doing(|| "packing a blob".into())?;
                }
                // Submodule commits are not objects of this repository.
                _ => {}
            }
        }
        Ok(())
    }
}

/// A configuration level of this process only, for its pack builder:
/// `pack.windowMemory` of one byte leaves one delta candidate per object
/// instead of ten, as `git replay` (loose objects) makes none; a later
/// `git gc` deltifies the pack. libgit2 writes the file, which is removed
/// with the stage.
fn light_packing(repo: &git2::Repository) -> Result<tempfile::TempPath, GitError> {
    let file = tempfile::Builder::new()
        .prefix("series-pack-")
        .suffix(".config")
        .tempfile()
        .map_err(|source| GitError::Io {
            doing: "making a configuration for the pack".into(),
            source,
        })?
        .into_temp_path();
    let mut level =
        git2::Config::open(&file).doing(|| "making a configuration for the pack".into())?;
    level
        .set_i64("pack.windowMemory", 1)
        .doing(|| "making a configuration for the pack".into())?;
    repo.config()
        .and_then(|mut c| c.add_file(&file, git2::ConfigLevel::App, true))
        .doing(|| "making a configuration for the pack".into())?;
    Ok(file)
}

/// The objects a persist has looked at, and the store on disk.
struct Walk<'a> {
    disk: &'a git2::Odb<'a>,
    seen: HashSet<Oid>,
}

impl Walk<'_> {
    /// Whether `id` is seen for the first time and is not on disk: made in
    /// memory, to be packed.
    fn is_new(&mut self, id: Oid) -> bool {
        self.seen.insert(id) && !self.disk.exists(id)
    }
}
