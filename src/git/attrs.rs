//! The worktree's `.gitattributes` files, as libgit2's diffs see them.
//!
//! Rendering a patch looks up the `diff` attribute of each file (the
//! kernel's `.gitattributes` says `*.c diff=cpp`, which picks the function
//! line of every hunk header). libgit2 caches nothing between two patches:
//! every lookup resolves the worktree's real path (a readlink per
//! component) and stats a `.gitattributes` in every folder above the file,
//! `info/attributes` and the system's file. Rebasing 100 patches on a
//! kernel tree, that was about 700 lookups, each some ten system calls (a
//! readlink per component of the worktree's path, a stat per folder), and
//! 4% of the CPU time (perf).
//!
//! A [`super::Tree`] handle therefore has no worktree: libgit2 looks
//! attributes up in its index, which is in memory and holds nothing but the
//! worktree's `.gitattributes` files, each read once per process when a
//! file below its folder is first diffed. git reads them from the worktree
//! too (falling back to the index only for a file the worktree lacks,
//! which series, reading no index, does not), also once per process.
//! `info/attributes`, `core.attributesFile` and the system's file are
//! still read by libgit2 itself.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use git2::{ObjectType, Oid, Repository};

/// The folders whose `.gitattributes` a handle has read.
pub(super) struct Attributes {
    /// The worktree, when the repository has one.
    work: Option<PathBuf>,
    seen: RefCell<HashSet<Vec<u8>>>,
    /// An in-memory object store added below the disk's, for a
    /// `.gitattributes` whose contents the object store lacks (changed in
    /// the worktree); owned by the repository's object database.
    spare: Cell<*mut libgit2_sys::git_odb_backend>,
}

impl Attributes {
    pub(super) fn new(work: Option<PathBuf>) -> Attributes {
        Attributes {
            work,
            seen: Default::default(),
            spare: Cell::new(std::ptr::null_mut()),
        }
    }

    /// Put the `.gitattributes` of every folder above `path` (and the top
    /// folder's) into `repo`'s index, those not read before.
    pub(super) fn load_for(&self, repo: &Repository, path: &[u8]) {
        let Some(work) = &self.work else {
            return;
        };
        // The top folder, then each folder down to the file's.
        let dirs = std::iter::once(0).chain(
            path.iter()
                .enumerate()
                .filter(|(_, &b)| b == b'/')
                .map(|(k, _)| k),
        );
        for end in dirs {
            let dir = &path[..end];
            if self.seen.borrow().contains(dir) {
                continue;
            }
            self.seen.borrow_mut().insert(dir.to_vec());
            let rel = if dir.is_empty() {
                b".gitattributes".to_vec()
            } else {
                [dir, b"/.gitattributes"].concat()
            };
            if let Ok(bytes) = std::fs::read(work.join(std::ffi::OsStr::from_bytes(&rel))) {
                self.add(repo, &rel, &bytes);
            }
        }
    }

    fn add(&self, repo: &Repository, rel: &[u8], bytes: &[u8]) {
        let Ok(id) = Oid::hash_object(ObjectType::Blob, bytes) else {
            return;
        };
        let Ok(odb) = repo.odb() else {
            return;
        };
        if !odb.exists(id) && !self.keep(&odb, id, bytes) {
            return;
        }
        let Ok(mut index) = repo.index() else {
            return;
        };
        let entry = git2::IndexEntry {
            ctime: git2::IndexTime::new(0, 0),
            mtime: git2::IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode: 0o100644,
            uid: 0,
            gid: 0,
            file_size: bytes.len() as u32,
            id,
            flags: rel.len().min(0xfff) as u16,
            flags_extended: 0,
            path: rel.to_vec(),
        };
        let _ = index.add(&entry);
    }

    /// Keep `bytes` in the spare in-memory store; whether that worked.
    fn keep(&self, odb: &git2::Odb<'_>, id: Oid, bytes: &[u8]) -> bool {
        if self.spare.get().is_null() {
            // Priority 0: below the loose and pack backends, so that
            // nothing else is ever written here.
            if let Ok(pack) = odb.add_new_mempack_backend(0) {
                self.spare.set(git2::Binding::raw(&pack));
            }
        }
        let backend = self.spare.get();
        if backend.is_null() {
            return false;
        }
        // SAFETY: the mempack added above, owned by the repository's object
        // database, which lives as long as the handle whose `Attributes`
        // this is; written as git_odb_write writes a backend, on this
        // thread.
        unsafe {
            match (*backend).write {
                Some(write) => {
                    write(
                        backend,
                        git2::Binding::raw(&id),
                        bytes.as_ptr().cast(),
                        bytes.len(),
                        ObjectType::Blob.raw(),
                    ) == 0
                }
                None => false,
            }
        }
    }
}
