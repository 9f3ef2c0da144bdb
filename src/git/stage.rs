//! New objects kept in memory until an operation has succeeded, then
//! written as one pack. A rebase makes blobs, trees and commits and reads
//! most of them back at once; written one by one they would be hundreds of
//! loose files (a quarter of a rebase's time went to making them). In a
//! [`Stage`] they wait in a libgit2 mempack, added above the object
//! store's own backends (so every write lands there, and reads find it
//! first), and [`Stage::persist`] dumps it as a pack that libgit2's pack
//! writer indexes into the object store: one `.pack` and its `.idx`. An
//! operation that fails never persists, and leaves nothing behind.
//!
//! Only libgit2's public API is used: `git_odb_add_backend` of a mempack,
//! `git_mempack_dump`, `git_odb_write_pack`.

use std::io::Write;
use std::path::Path;

use super::{Doing, GitError, Tree};

/// The objects an operation has made so far, in memory.
pub struct Stage<'a> {
    tree: &'a Tree,
    odb: &'a git2::Odb<'a>,
    pack: &'a git2::Mempack<'a>,
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
        let stage = Stage {
            tree: &tree,
            odb: &odb,
            pack: &pack,
        };
        f(&tree, &stage)
    }
}

impl Stage<'_> {
    /// Write every object made so far to the object store, as one pack,
    /// and empty the memory (what follows starts a new pack).
    pub fn persist(&self) -> Result<(), GitError> {
        let mut buf = git2::Buf::new();
        self.pack
            .dump(&self.tree.repo, &mut buf)
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
}
