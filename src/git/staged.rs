//! Objects kept in memory until an operation has succeeded. A rebase (the
//! one command that opens its tree this way) makes blobs, trees and commits, and reads most of them back at
//! once (the next patch merges onto them, rendering diffs them). Written to
//! the object store one by one, each is deflated into a loose file and read
//! back by inflating it again. A [`Tree`] opened with [`Tree::open_staged`]
//! keeps what it makes in a libgit2 mempack instead, read back from memory;
//! [`Tree::persist`] writes the objects a result needs to the object store
//! (loose, as git writes them: each object deflated once, never hashed
//! twice) before anything on disk names them: a ref,
//! a paused rebase's state, the patch files' `From <commit>` lines, a `git`
//! process. A rebase that fails leaves nothing in the object store. An
//! object libgit2 finds already on disk is not kept in memory: it is read
//! from disk as before.

use std::cell::RefCell;
use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use flate2::write::ZlibEncoder;
use git2::{ObjectType, Oid, Repository};

use super::{Doing, GitError, Id, Tree};

/// The object store on disk, beside the staged repository handle.
pub(super) struct Disk {
    repo: Repository,
    objects: PathBuf,
    /// Ids known to be on disk (written here, or found there).
    known: RefCell<HashSet<Oid>>,
    /// One deflate stream, reset for each object: setting a stream up
    /// (deflateInit2: a window and hash tables of a few hundred KiB) cost
    /// more than deflating most objects of a rebase.
    zlib: RefCell<ZlibEncoder<Vec<u8>>>,
    /// The mempack backend of the staged handle's object database (owned
    /// by that database, which lives as long as the handle).
    mempack: *mut libgit2_sys::git_odb_backend,
    /// Freshens an object already on disk that this handle made again
    /// (it is in the mempack), as git does when asked to write it; one
    /// that is only read (a base commit) is left alone.
    fresh: super::fresh::Fresh,
    /// core.sharedRepository, as [`super::config::shared_repository`].
    shared: i32,
    /// Whether each loose object is fsynced before it is moved into place.
    fsync: bool,
}

impl Disk {
    fn open(path: &Path, mempack: *mut libgit2_sys::git_odb_backend) -> Result<Disk, GitError> {
        let repo = Repository::open(path).doing(|| format!("opening {}", path.display()))?;
        let objects = repo.commondir().join("objects");
        let cfg = super::config_for(Some(&repo));
        // zlib level for loose objects: core.looseCompression, else
        // core.compression, else 1 (git's defaults).
        let level = cfg
            .as_ref()
            .and_then(|c| {
                c.get_i32("core.looseCompression")
                    .or_else(|_| c.get_i32("core.compression"))
                    .ok()
            })
            .map_or(1, |l| if l < 0 { 6 } else { l.min(9) as u32 });
        Ok(Disk {
            repo,
            objects: objects.clone(),
            known: Default::default(),
            zlib: RefCell::new(ZlibEncoder::new(
                Vec::new(),
                flate2::Compression::new(level),
            )),
            mempack,
            fresh: super::fresh::Fresh::new(&objects),
            shared: cfg.as_ref().map_or(0, super::config::shared_repository),
            fsync: cfg.as_ref().is_some_and(super::config::fsync_loose_objects),
        })
    }

    /// Whether the object store holds `id` for good: there, and, when
    /// this handle made it again, freshened ([`super::fresh`]); an object
    /// that could not be freshened is written again, as git writes it.
    fn has(&self, odb: &git2::Odb<'_>, id: Oid) -> bool {
        if self.known.borrow().contains(&id) {
            return true;
        }
        // No refresh of the pack folder on a miss: most ids asked about
        // are new, and a pack that appears meanwhile only costs a second
        // copy of an object.
        let found = odb.exists_ext(id, git2::OdbLookupFlags::NO_REFRESH)
            && (!self.made(id) || self.fresh.freshen(id));
        if found {
            self.known.borrow_mut().insert(id);
        }
        found
    }

    /// Whether the mempack holds `id`: this handle made it.
    fn made(&self, id: Oid) -> bool {
        // SAFETY: `mempack` is the live backend of the staged handle's
        // object database (see `Tree::store`); `exists` only reads.
        unsafe {
            let backend = self.mempack;
            match (*backend).exists {
                Some(exists) => exists(backend, git2::Binding::raw(&id)) != 0,
                None => false,
            }
        }
    }

    /// Write an object whose id is known as a loose object, the way git's
    /// object-file.c (`write_loose_object`, `finalize_object_file`) does:
    /// "<type> <size>\0" and the content, deflated, into a temporary file in
    /// the object's folder, made read-only and moved into place without
    /// replacing anything; an object already there is left alone. (libgit2 can only write an object by
    /// hashing it again; the mempack hashed it when it was made.)
    fn write_loose(&self, id: Oid, kind: ObjectType, data: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        let hex = id.to_string();
        let dir = self.objects.join(&hex[..2]);
        let path = dir.join(&hex[2..]);
        let packed = {
            let mut z = self.zlib.borrow_mut();
            // deflateReset: a new stream, whatever the last object left.
            z.reset(Vec::with_capacity(data.len() / 2 + 64))?;
            write!(z, "{} {}\0", kind.str(), data.len())?;
            z.write_all(data)?;
            z.try_finish()?;
            std::mem::take(z.get_mut())
        };
        let temp = || {
            tempfile::Builder::new()
                .prefix("tmp_obj_")
                .permissions(std::fs::Permissions::from_mode(0o444))
                .tempfile_in(&dir)
        };
        // The object's folder is made when it is first needed, with the
        // group's bits under core.sharedRepository (object-file.c,
        // create_tmpfile); the file itself stays 0444 less the umask.
        let mut tmp = match temp() {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match std::fs::create_dir(&dir) {
                    Ok(()) if self.shared != 0 => {
                        let mode = std::fs::metadata(&dir)?.permissions().mode();
                        let shared = super::config::shared_dir_mode(self.shared, mode & 0o7777);
                        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(shared))?;
                    }
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(e),
                }
                temp()?
            }
            other => other?,
        };
        tmp.write_all(&packed)?;
        if self.fsync {
            tmp.as_file().sync_all()?;
        }
        match tmp.persist_noclobber(&path) {
            Ok(_) => Ok(()),
            // Another writer put the same object there first.
            Err(_) if path.exists() => Ok(()),
            Err(e) => Err(e.error),
        }
    }
}

impl Tree {
    /// Open the repository at `path` with new objects kept in memory until
    /// [`Tree::persist`] writes them.
    pub fn open_staged(path: &Path) -> Result<Tree, GitError> {
        let mut tree = Tree::open(path)?;
        {
            let odb = tree
                .repo
                .odb()
                .doing(|| "opening the object store".into())?;
            // Above the loose and packed backends: every new object is
            // written here, and found here first.
            let mempack = odb
                .add_new_mempack_backend(1000)
                .doing(|| "keeping new objects in memory".into())?;
            let mempack = git2::Binding::raw(&mempack);
            // libgit2 writes an object it finds on disk nowhere and touches
            // the file holding it instead: a loose file, or whatever pack
            // holds it, a cruft pack too, where git would write a loose
            // copy. On this handle, the disk's backends answer "not
            // there" when asked to freshen, so that what libgit2 writes
            // (tree updates, libgit2's own patch application) lands in the
            // mempack like the rest, and `persist` freshens or writes each
            // object by git's rules (`super::fresh`).
            // SAFETY: the backends belong to `odb`, alive as long as the
            // handle; `freshen` is a field of libgit2's public backend
            // struct, called only by `git_odb_write` on this thread.
            unsafe {
                let raw = git2::Binding::raw(&odb);
                for k in 0..libgit2_sys::git_odb_num_backends(raw) {
                    let mut b = std::ptr::null_mut();
                    if libgit2_sys::git_odb_get_backend(&mut b, raw, k) == 0
                        && !b.is_null()
                        && b != mempack
                        && (*b).freshen.is_some()
                    {
                        (*b).freshen = Some(not_fresh);
                    }
                }
            }
            tree.disk = Some(Disk::open(path, mempack)?);
        }
        Ok(tree)
    }

    /// Store an object; its id. A staged tree puts it in the mempack
    /// directly: libgit2's `git_odb_write` first looks for the object in
    /// every backend and, not finding a new object, rescans the pack
    /// folder (`git_odb_refresh`: a directory listing and a stat of every
    /// pack) before each write, which cost a rebase of 1000 patches half a
    /// second of system time. An object that is also on disk is kept in
    /// memory too; [`Tree::persist`] does not write it again.
    pub(super) fn store(&self, kind: ObjectType, data: &[u8]) -> Result<Oid, git2::Error> {
        let Some(disk) = &self.disk else {
            return self.repo.odb()?.write(kind, data);
        };
        let id = Oid::hash_object(kind, data)?;
        // SAFETY: `disk.mempack` is the backend open_staged added to this
        // handle's object database, alive as long as `self.repo`; the
        // handle is used on one thread, so nothing writes to the mempack
        // meanwhile (git_odb_write would hold the database's lock). The
        // arguments are what git_odb_write passes a backend.
        let rc = unsafe {
            let backend = disk.mempack;
            match (*backend).write {
                Some(write) => write(
                    backend,
                    git2::Binding::raw(&id),
                    data.as_ptr().cast(),
                    data.len(),
                    kind.raw(),
                ),
                None => -1,
            }
        };
        if rc < 0 {
            return Err(git2::Error::from_str(&format!(
                "could not keep a {} of {} bytes in memory",
                kind.str(),
                data.len()
            )));
        }
        Ok(id)
    }

    /// Write to the object store every object reachable from `ids` (commits
    /// or trees) that it lacks: a commit's parents first, a tree's entries
    /// before the tree, so that what is on disk is never missing a part.
    /// Only entries that differ from the first parent's tree are visited.
    /// Nothing to do for a tree opened with [`Tree::open`].
    pub fn persist(&self, ids: &[Id]) -> Result<(), GitError> {
        let Some(disk) = &self.disk else {
            return Ok(());
        };
        let on_disk = disk
            .repo
            .odb()
            .doing(|| "opening the object store".into())?;
        let mem = self
            .repo
            .odb()
            .doing(|| "opening the object store".into())?;
        let w = Writer {
            disk,
            on_disk,
            mem,
            tree: self,
        };
        for id in ids {
            let kind = w
                .mem
                .read_header(id.0)
                .map(|(_, k)| k)
                .doing(|| format!("reading {id}"))?;
            match kind {
                ObjectType::Commit => w.commit(id.0)?,
                _ => w.tree(id.0, None)?,
            }
        }
        Ok(())
    }
}

/// A disk backend's answer to "freshen this object" on a staged handle.
extern "C" fn not_fresh(
    _backend: *mut libgit2_sys::git_odb_backend,
    _id: *const libgit2_sys::git_oid,
) -> std::os::raw::c_int {
    libgit2_sys::GIT_ENOTFOUND
}

struct Writer<'a> {
    disk: &'a Disk,
    on_disk: git2::Odb<'a>,
    mem: git2::Odb<'a>,
    tree: &'a Tree,
}

impl Writer<'_> {
    fn copy(&self, id: Oid) -> Result<(), GitError> {
        let obj = self.mem.read(id).doing(|| format!("reading {id}"))?;
        self.disk
            .write_loose(id, obj.kind(), obj.data())
            .map_err(|e| GitError::Git {
                doing: format!("writing object {id}"),
                source: git2::Error::from_str(&e.to_string()),
            })?;
        self.disk.known.borrow_mut().insert(id);
        Ok(())
    }

    /// A commit and the commits under it that the store lacks, oldest
    /// first (a series' chain can be long: no recursion over it).
    fn commit(&self, top: Oid) -> Result<(), GitError> {
        let tree = self.tree;
        let repo = &tree.repo;
        let find = |id: Oid| {
            repo.find_commit(id)
                .doing(|| format!("reading commit {id}"))
        };
        let mut chain = Vec::new();
        let mut at = Some(top);
        while let Some(id) = at.filter(|id| !self.disk.has(&self.on_disk, *id)) {
            chain.push(id);
            at = find(id)?.parent_id(0).ok();
        }
        while let Some(id) = chain.pop() {
            let c = find(id)?;
            for p in c.parent_ids().skip(1) {
                self.commit(p)?;
            }
            let old = c.parent(0).ok().map(|p| p.tree_id());
            self.tree(c.tree_id(), old)?;
            self.copy(id)?;
        }
        Ok(())
    }

    /// A tree and what under it the store lacks. `old` is a tree on disk to
    /// compare with: an entry with the same name and id there is on disk.
    fn tree(&self, id: Oid, old: Option<Oid>) -> Result<(), GitError> {
        if old == Some(id) || self.disk.has(&self.on_disk, id) {
            return Ok(());
        }
        let tree = self.tree;
        let repo = &tree.repo;
        let t = repo.find_tree(id).doing(|| format!("reading tree {id}"))?;
        let o = match old {
            Some(o) => Some(repo.find_tree(o).doing(|| format!("reading tree {o}"))?),
            None => None,
        };
        // Entries are sorted the same way in both trees: walk them side by
        // side, looking a name up only where the listings part.
        let mut todo = Vec::new();
        let mut others = o.as_ref().map(|o| o.iter().peekable());
        for e in t.iter() {
            let name = e.name_bytes();
            let same = match others.as_mut() {
                Some(it) => {
                    let positional = it.peek().filter(|x| x.name_bytes() == name).map(|x| x.id());
                    let found = match positional {
                        Some(x) => {
                            it.next();
                            Some(x)
                        }
                        None => o
                            .as_ref()
                            .and_then(|o| o.get_name_bytes(name))
                            .map(|x| x.id()),
                    };
                    found
                }
                None => None,
            };
            if same == Some(e.id()) {
                continue;
            }
            match e.kind() {
                Some(ObjectType::Tree) => todo.push((e.id(), true, same)),
                Some(ObjectType::Blob) => todo.push((e.id(), false, None)),
                // A submodule's commit lives in another repository.
                _ => {}
            }
        }
        drop(others);
        for (child, is_tree, old_child) in todo {
            if is_tree {
                self.tree(child, old_child)?;
            } else if !self.disk.has(&self.on_disk, child) {
                self.copy(child)?;
            }
        }
        self.copy(id)
    }
}
