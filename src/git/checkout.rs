//! Checking out a commit that differs from the checked-out one in a few
//! paths, in memory and time that grow with those paths.
//!
//! libgit2's checkout holds the whole index in memory (on a kernel tree,
//! 86k entries and the 9 MB file they were read from). Here the index is
//! read as a stream, one entry at a time, twice: once to check that every
//! path the checkout changes is clean in the index and in the worktree, and
//! once, after the worktree is written, to write the new index (into
//! `index.lock`, held from the start and renamed over `index` at the end)
//! with only the changed paths' entries replaced, added or dropped.
//!
//! The layout follows git's read-cache.c: the header, entries of version 2
//! and 3 (NUL-padded to a multiple of 8 bytes) and 4 (each path stored as
//! how much of the previous one to drop and what to add, numbers in
//! varint.c's encoding), the extension frames, the SHA-1 of it all. The
//! TREE extension (cache-tree.c) is rewritten with every folder above a
//! changed path invalidated, as git does when it changes an entry; the
//! caches that only speed git up (untracked cache, fsmonitor, the entry
//! offset tables) are left out, and git writes them again where they are
//! configured. Kept entries that are racily clean (their file changed in the
//! second the old index was written, after it was hashed) are checked and
//! smudged, as read-cache.c's ce_smudge_racily_clean_entry does.
//!
//! Anything outside that (a split or sparse index, unmerged entries,
//! skip-worktree or intent-to-add bits, attributes or settings that convert
//! file contents, symlinks, submodules, a case-insensitive worktree, a path
//! in the way of a folder) makes [`checkout`] answer [`Streamed::No`],
//! found before it changes anything (or, should the locked index read
//! differently the second time, after it has put the files back), and the
//! caller checks out with libgit2.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository};
use sha1::{Digest, Sha1};

use super::GitError;

/// One path the checkout changes: its blob and mode in the checked-out
/// commit and in the target, if it has one there.
#[derive(Clone, Debug)]
pub(crate) struct Change {
    pub path: Vec<u8>,
    pub old: Option<(Oid, u32)>,
    pub new: Option<(Oid, u32)>,
}

/// Whether the streamed checkout was done, or why it was not tried.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Streamed {
    Done,
    No(&'static str),
}

/// Why a pass stopped: a case for libgit2, or an error to report.
enum Stop {
    No(&'static str),
    Err(GitError),
}

impl From<GitError> for Stop {
    fn from(e: GitError) -> Self {
        Stop::Err(e)
    }
}

type Pass<T> = Result<T, Stop>;

const REGULAR: u32 = 0o100644;
const EXECUTABLE: u32 = 0o100755;
/// Entry flags (read-cache.c): the stage, the extended-flags word, and
/// "assume unchanged".
const STAGE_MASK: u16 = 0x3000;
const EXTENDED: u16 = 0x4000;
const ASSUME_VALID: u16 = 0x8000;
const NAME_MASK: u16 = 0x0fff;

/// Check out the commit whose differences from the checked-out one are
/// `changes` (sorted by path) in `repo`'s worktree and index, refusing to
/// overwrite local changes; `target` names it in errors. HEAD is not moved.
pub(crate) fn checkout(
    repo: &Repository,
    changes: &[Change],
    target: &str,
) -> Result<Streamed, GitError> {
    match run(repo, changes, target) {
        Ok(()) => Ok(Streamed::Done),
        Err(Stop::No(why)) => Ok(Streamed::No(why)),
        Err(Stop::Err(e)) => Err(e),
    }
}

fn run(repo: &Repository, changes: &[Change], target: &str) -> Pass<()> {
    let work = repo
        .workdir()
        .ok_or(Stop::No("the repository has no worktree"))?
        .components()
        .collect::<PathBuf>();
    settings_allow(repo)?;
    // Attributes read as a Tree's diffs read them (`super::attrs`): through
    // a handle without a worktree whose in-memory index holds only the
    // worktree's `.gitattributes` files. libgit2 would read the whole index
    // for them otherwise, and stat every folder's file at each lookup. The
    // worktree's attribute files are the checked-out commit's (the
    // checkout changes none).
    let attrs = Repository::open_bare(repo.path())
        .map_err(|_| Stop::No("the repository cannot be opened twice"))?;
    let mut empty = git2::Index::new().map_err(|_| Stop::No("libgit2 made no index"))?;
    attrs
        .set_index(&mut empty)
        .map_err(|_| Stop::No("libgit2 took no index"))?;
    let files = super::attrs::Attributes::new(Some(work.clone()));
    for c in changes {
        files.load_for(&attrs, &c.path);
        if c.path.rsplit(|&b| b == b'/').next() == Some(b".gitattributes") {
            return Err(Stop::No("the checkout changes attributes"));
        }
        for (_, mode) in c.old.iter().chain(c.new.iter()) {
            if *mode != REGULAR && *mode != EXECUTABLE {
                return Err(Stop::No("a changed path is a symlink or a submodule"));
            }
        }
        if !safe_path(&c.path) {
            return Err(Stop::No("a changed path is not one git would check out"));
        }
        if converts(&attrs, &c.path) {
            return Err(Stop::No("attributes convert a changed file's contents"));
        }
    }
    let index_path = repo.path().join("index");
    if !index_path.exists() {
        return Err(Stop::No("the repository has no index file"));
    }
    let lock = Lock::take(&index_path, &work)?;
    let found = check(&index_path, &work, changes, target)?;
    let mut written = Worktree::new(repo, &work);
    let stats = written.apply(changes)?;
    if crate::store::fail_point("checkout-written") {
        written.undo();
        return Err(io_err(
            io::Error::other("failed on purpose (SERIES_FAIL_AT=checkout-written)"),
            || "writing the index".into(),
        ));
    }
    match write_index(repo, &work, &index_path, &lock, changes, &found, &stats) {
        Ok(()) => {}
        Err(e) => {
            written.undo();
            return Err(e);
        }
    }
    if let Err(e) = lock.commit(&index_path) {
        written.undo();
        return Err(Stop::Err(e));
    }
    Ok(())
}

/// Settings under which the worktree's files are not the blobs as they are
/// stored, or the index is not git's plain one.
fn settings_allow(repo: &Repository) -> Pass<()> {
    let cfg = super::config_for(Some(repo))
        .ok_or(Stop::No("the repository's configuration is unreadable"))?;
    let on = |key: &str| cfg.get_bool(key).unwrap_or(false);
    if cfg.get_string("core.autocrlf").is_ok_and(|v| {
        !matches!(
            v.to_ascii_lowercase().as_str(),
            "false" | "no" | "off" | "0"
        )
    }) {
        return Err(Stop::No("core.autocrlf converts line endings"));
    }
    if cfg.get_bool("core.filemode").is_ok_and(|v| !v) {
        return Err(Stop::No("core.filemode is false"));
    }
    for key in [
        "core.ignorecase",
        "core.sparsecheckout",
        "core.splitindex",
        "index.sparse",
    ] {
        if on(key) {
            return Err(Stop::No("the worktree or the index is not a plain one"));
        }
    }
    if cfg.get_string("core.sharedrepository").is_ok() {
        return Err(Stop::No("core.sharedRepository sets file permissions"));
    }
    Ok(())
}

/// Whether git would check out `path`: no empty, `.` or `..` component and
/// no `.git`, as read-cache.c's verify_path.
fn safe_path(path: &[u8]) -> bool {
    !path.is_empty()
        && path
            .split(|&b| b == b'/')
            .all(|c| !c.is_empty() && c != b"." && c != b".." && !c.eq_ignore_ascii_case(b".git"))
}

/// Whether an attribute could make the file in the worktree differ from
/// its blob (line endings, ident expansion, a filter, an encoding).
fn converts(repo: &Repository, path: &[u8]) -> bool {
    let Ok(p) = std::str::from_utf8(path) else {
        return true;
    };
    [
        "text",
        "eol",
        "crlf",
        "ident",
        "filter",
        "working-tree-encoding",
    ]
    .iter()
    .any(|name| {
        match repo.get_attr(Path::new(p), name, git2::AttrCheckFlags::FILE_THEN_INDEX) {
            Ok(v) => !matches!(
                git2::AttrValue::from_string(v),
                git2::AttrValue::Unspecified | git2::AttrValue::False
            ),
            Err(_) => true,
        }
    })
}

/// `index.lock`, created before the index is first read so that no other
/// git command changes the index between the check and the write, and
/// removed unless committed.
struct Lock {
    path: PathBuf,
    file: Option<File>,
}

impl Lock {
    fn take(index: &Path, work: &Path) -> Pass<Lock> {
        let path = index.with_file_name("index.lock");
        use std::os::unix::fs::OpenOptionsExt;
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o666)
            .open(&path)
        {
            Ok(file) => Ok(Lock {
                path,
                file: Some(file),
            }),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                Err(Stop::Err(GitError::Locked {
                    lock: path,
                    tree: work.to_path_buf(),
                }))
            }
            Err(e) => Err(io_err(e, || format!("creating {}", path.display()))),
        }
    }

    fn file(&self) -> &File {
        self.file
            .as_ref()
            .expect("the lock's file is open until commit")
    }

    /// Put the written index in place.
    fn commit(mut self, index: &Path) -> Result<(), GitError> {
        drop(self.file.take());
        fs::rename(&self.path, index).map_err(|source| GitError::Io {
            doing: format!("renaming {} to {}", self.path.display(), index.display()),
            source,
        })?;
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

fn io_err(source: io::Error, doing: impl FnOnce() -> String) -> Stop {
    Stop::Err(GitError::Io {
        doing: doing(),
        source,
    })
}

/// A reader that hashes what it reads, as the index's trailer covers it.
struct Hashed<R> {
    inner: R,
    sha: Sha1,
    at: u64,
}

/// The index ended early or holds something read-cache.c would reject:
/// libgit2 reports it.
const MALFORMED: &str = "the index is not one series reads";

impl<R: BufRead> Hashed<R> {
    fn new(inner: R) -> Self {
        Hashed {
            inner,
            sha: Sha1::new(),
            at: 0,
        }
    }

    fn exact(&mut self, buf: &mut [u8]) -> Pass<()> {
        self.inner
            .read_exact(buf)
            .map_err(|_| Stop::No(MALFORMED))?;
        self.sha.update(&*buf);
        self.at += buf.len() as u64;
        Ok(())
    }

    fn byte(&mut self) -> Pass<u8> {
        let mut b = [0u8; 1];
        self.exact(&mut b)?;
        Ok(b[0])
    }

    fn u32(&mut self) -> Pass<u32> {
        let mut b = [0u8; 4];
        self.exact(&mut b)?;
        Ok(u32::from_be_bytes(b))
    }

    /// Append bytes up to a NUL (not kept) to `out`.
    fn until_nul(&mut self, out: &mut Vec<u8>) -> Pass<()> {
        let from = out.len();
        self.inner
            .read_until(0, out)
            .map_err(|_| Stop::No(MALFORMED))?;
        self.sha.update(&out[from..]);
        self.at += (out.len() - from) as u64;
        if out.pop() != Some(0) {
            return Err(Stop::No(MALFORMED));
        }
        Ok(())
    }

    /// Read `n` bytes into `out` (replacing what it held).
    fn bytes(&mut self, n: u64, out: &mut Vec<u8>) -> Pass<()> {
        out.clear();
        let got = (&mut self.inner)
            .take(n)
            .read_to_end(out)
            .map_err(|_| Stop::No(MALFORMED))?;
        if got as u64 != n {
            return Err(Stop::No(MALFORMED));
        }
        self.sha.update(&out[..]);
        self.at += n;
        Ok(())
    }

    /// An unsigned number in varint.c's encoding: 7 bits a byte, high bit
    /// set on all but the last, each continuation adding one.
    fn varint(&mut self) -> Pass<usize> {
        let mut c = self.byte()?;
        let mut v = u64::from(c & 127);
        while c & 128 != 0 {
            c = self.byte()?;
            v = v
                .checked_add(1)
                .and_then(|v| v.checked_mul(128))
                .ok_or(Stop::No(MALFORMED))?
                + u64::from(c & 127);
        }
        usize::try_from(v).map_err(|_| Stop::No(MALFORMED))
    }
}

/// An index entry: the 62 bytes of stat data, mode, id and flags, the
/// extended flags, the path.
struct Entry {
    fixed: [u8; 62],
    extended: Option<u16>,
    path: Vec<u8>,
}

impl Entry {
    /// The n-th 32-bit field: ctime s, ns, mtime s, ns, dev, ino, mode,
    /// uid, gid, size.
    fn field(&self, n: usize) -> u32 {
        let b = &self.fixed[n * 4..n * 4 + 4];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    fn set_field(&mut self, n: usize, v: u32) {
        self.fixed[n * 4..n * 4 + 4].copy_from_slice(&v.to_be_bytes());
    }

    fn id(&self) -> Oid {
        Oid::from_bytes(&self.fixed[40..60]).expect("20 bytes make an id")
    }

    fn flags(&self) -> u16 {
        u16::from_be_bytes([self.fixed[60], self.fixed[61]])
    }

    fn mode(&self) -> u32 {
        self.field(6)
    }

    /// An entry for a file just written, from its lstat.
    fn for_file(path: &[u8], id: Oid, mode: u32, st: &fs::Metadata) -> Entry {
        let mut e = Entry {
            fixed: [0; 62],
            extended: None,
            path: path.to_vec(),
        };
        // Stat data is stored cut to 32 bits, as git does.
        let fields = [
            st.ctime() as u32,
            st.ctime_nsec() as u32,
            st.mtime() as u32,
            st.mtime_nsec() as u32,
            st.dev() as u32,
            st.ino() as u32,
            mode,
            st.uid(),
            st.gid(),
            st.size() as u32,
        ];
        for (n, v) in fields.into_iter().enumerate() {
            e.set_field(n, v);
        }
        e.fixed[40..60].copy_from_slice(id.as_bytes());
        let len = path.len().min(usize::from(NAME_MASK)) as u16;
        e.fixed[60..62].copy_from_slice(&len.to_be_bytes());
        e
    }

    /// Whether lstat data `st` is what the entry recorded: git's
    /// ce_match_stat_basic, with nanoseconds always compared (a mismatch
    /// only costs a hash of the file).
    fn stat_matches(&self, st: &fs::Metadata) -> bool {
        let exec = st.mode() & 0o100 != 0;
        st.file_type().is_file()
            && exec == (self.mode() == EXECUTABLE)
            && self.field(0) == st.ctime() as u32
            && self.field(1) == st.ctime_nsec() as u32
            && self.field(2) == st.mtime() as u32
            && self.field(3) == st.mtime_nsec() as u32
            && self.field(5) == st.ino() as u32
            && self.field(7) == st.uid()
            && self.field(8) == st.gid()
            && self.field(9) == st.size() as u32
    }

    /// Whether the file changed in the second the index was written, so
    /// that matching stat data does not prove it unchanged (seconds only,
    /// as git built without USE_NSEC compares them).
    fn racy(&self, index_mtime: i64) -> bool {
        i64::from(self.field(2)) >= index_mtime
    }
}

/// The index's version and entry count, from its header.
fn header<R: BufRead>(r: &mut Hashed<R>) -> Pass<(u32, u32)> {
    let mut sig = [0u8; 4];
    r.exact(&mut sig)?;
    let version = r.u32()?;
    let count = r.u32()?;
    if &sig != b"DIRC" || !(2..=4).contains(&version) {
        return Err(Stop::No(MALFORMED));
    }
    Ok((version, count))
}

/// Read one entry; `prev` is the previous entry's path (version 4).
fn read_entry<R: BufRead>(r: &mut Hashed<R>, version: u32, prev: &[u8]) -> Pass<Entry> {
    let mut fixed = [0u8; 62];
    r.exact(&mut fixed)?;
    let flags = u16::from_be_bytes([fixed[60], fixed[61]]);
    let extended = if flags & EXTENDED != 0 {
        if version < 3 {
            return Err(Stop::No(MALFORMED));
        }
        let mut b = [0u8; 2];
        r.exact(&mut b)?;
        Some(u16::from_be_bytes(b))
    } else {
        None
    };
    let path = if version == 4 {
        let strip = r.varint()?;
        let keep = prev.len().checked_sub(strip).ok_or(Stop::No(MALFORMED))?;
        let mut path = prev[..keep].to_vec();
        r.until_nul(&mut path)?;
        path
    } else {
        let len = usize::from(flags & NAME_MASK);
        let mut path = Vec::with_capacity(len);
        let nul = if len < usize::from(NAME_MASK) {
            path.resize(len, 0);
            r.exact(&mut path)?;
            0
        } else {
            r.until_nul(&mut path)?;
            1
        };
        let head = if extended.is_some() { 64 } else { 62 };
        // Padded with 1 to 8 NULs to a multiple of 8 bytes.
        let total = (head + path.len() + 8) & !7;
        let mut pad = [0u8; 8];
        r.exact(&mut pad[..total - head - path.len() - nul])?;
        path
    };
    Ok(Entry {
        fixed,
        extended,
        path,
    })
}

/// A writer that hashes what it writes.
struct HashedWriter<W: Write> {
    inner: W,
    sha: Sha1,
}

impl<W: Write> HashedWriter<W> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.sha.update(bytes);
        self.inner.write_all(bytes)
    }

    fn varint(&mut self, mut v: usize) -> io::Result<()> {
        let mut buf = [0u8; 16];
        let mut at = buf.len() - 1;
        buf[at] = (v & 127) as u8;
        loop {
            v >>= 7;
            if v == 0 {
                break;
            }
            v -= 1;
            at -= 1;
            buf[at] = 128 | (v & 127) as u8;
        }
        self.put(&buf[at..])
    }

    fn entry(&mut self, e: &Entry, version: u32, prev: &[u8]) -> io::Result<()> {
        self.put(&e.fixed)?;
        if let Some(x) = e.extended {
            self.put(&x.to_be_bytes())?;
        }
        if version == 4 {
            let common = prev.iter().zip(&e.path).take_while(|(a, b)| a == b).count();
            self.varint(prev.len() - common)?;
            self.put(&e.path[common..])?;
            self.put(&[0])
        } else {
            let head = if e.extended.is_some() { 64 } else { 62 };
            let total = (head + e.path.len() + 8) & !7;
            self.put(&e.path)?;
            self.put(&[0u8; 8][..total - head - e.path.len()])
        }
    }
}

/// What the check found in the index for each change.
struct Found {
    version: u32,
    count: u32,
    /// Whether each change's path has an entry.
    present: Vec<bool>,
    /// The old index file's mtime (seconds), for the racy check.
    mtime: i64,
}

/// The lowercase extensions (ones a reader must understand) this one
/// does not: a split index's `link`, a sparse index's `sdir`, and any
/// newer one.
fn required(sig: &[u8; 4]) -> bool {
    !sig[0].is_ascii_uppercase()
}

/// The first pass: every changed path must be as the checked-out commit
/// has it in the index, and clean (or missing) in the worktree; every
/// added path must be free. Reads the whole index and checks its SHA-1.
fn check(index_path: &Path, work: &Path, changes: &[Change], target: &str) -> Pass<Found> {
    let file = File::open(index_path)
        .map_err(|e| io_err(e, || format!("reading {}", index_path.display())))?;
    let meta = file
        .metadata()
        .map_err(|e| io_err(e, || format!("reading {}", index_path.display())))?;
    let size = meta.len();
    let mut r = Hashed::new(BufReader::with_capacity(64 << 10, file));
    let (version, count) = header(&mut r)?;
    let mut present = vec![false; changes.len()];
    let mut dirty = Vec::new();
    let mut k = 0;
    let mut prev = Vec::new();
    for _ in 0..count {
        let e = read_entry(&mut r, version, &prev)?;
        if e.flags() & STAGE_MASK != 0 {
            return Err(Stop::No("the index has unmerged entries"));
        }
        while k < changes.len() && changes[k].path < e.path {
            k += 1;
        }
        if k < changes.len() && changes[k].path == e.path {
            present[k] = true;
            let c = &changes[k];
            if e.flags() & ASSUME_VALID != 0 || e.extended.is_some_and(|x| x != 0) {
                return Err(Stop::No(
                    "a changed path is marked assume-unchanged, skip-worktree or intent-to-add",
                ));
            }
            match c.old {
                Some((id, mode)) if id == e.id() && mode == e.mode() => {
                    if !clean_in_worktree(&e, work, meta.mtime())? {
                        dirty.push(c.path.clone());
                    }
                }
                // Staged: the index differs from the checked-out commit.
                _ => dirty.push(c.path.clone()),
            }
            k += 1;
        }
        prev = e.path;
    }
    let mut buf = Vec::new();
    while r.at + 20 < size {
        let mut sig = [0u8; 4];
        r.exact(&mut sig)?;
        let len = r.u32()?;
        if required(&sig) {
            return Err(Stop::No(
                "the index has an extension series does not read (split or sparse index)",
            ));
        }
        r.bytes(u64::from(len), &mut buf)?;
    }
    let digest = r.sha.clone().finalize();
    let mut trailer = [0u8; 20];
    r.inner
        .read_exact(&mut trailer)
        .map_err(|_| Stop::No(MALFORMED))?;
    if r.at + 20 != size || (trailer != [0; 20] && trailer[..] != digest[..]) {
        return Err(Stop::No(MALFORMED));
    }
    for (c, &found) in changes.iter().zip(&present) {
        leading_folders_ok(work, c, changes)?;
        match (found, c.old) {
            (false, Some(_)) => {
                return Err(Stop::No(
                    "a path the checkout changes is staged for removal",
                ))
            }
            (false, None) => free_in_worktree(work, c, &mut dirty)?,
            (true, _) => {}
        }
    }
    if !dirty.is_empty() {
        dirty.sort();
        dirty.dedup();
        return Err(Stop::Err(GitError::WouldOverwrite {
            target: target.to_string(),
            tree: work.to_path_buf(),
            paths: dirty
                .iter()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect(),
        }));
    }
    Ok(Found {
        version,
        count,
        present,
        mtime: meta.mtime(),
    })
}

fn full(work: &Path, path: &[u8]) -> PathBuf {
    work.join(std::ffi::OsStr::from_bytes(path))
}

/// Whether the worktree's file for `e` holds what the entry records (or is
/// missing: git checks a deleted file out again without asking).
fn clean_in_worktree(e: &Entry, work: &Path, index_mtime: i64) -> Pass<bool> {
    let p = full(work, &e.path);
    let st = match fs::symlink_metadata(&p) {
        Ok(st) => st,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(true),
        Err(err) => return Err(io_err(err, || format!("reading {}", p.display()))),
    };
    if !st.file_type().is_file() {
        return Ok(false);
    }
    if e.stat_matches(&st) && !e.racy(index_mtime) {
        return Ok(true);
    }
    let exec = st.mode() & 0o100 != 0;
    if exec != (e.mode() == EXECUTABLE) {
        return Ok(false);
    }
    let id = Oid::hash_file(ObjectType::Blob, &p).map_err(|err| {
        io_err(io::Error::other(err.message().to_string()), || {
            format!("reading {}", p.display())
        })
    })?;
    Ok(id == e.id())
}

/// An added path must not exist in the worktree: an untracked file there
/// would be lost.
fn free_in_worktree(work: &Path, c: &Change, dirty: &mut Vec<Vec<u8>>) -> Pass<()> {
    let p = full(work, &c.path);
    match fs::symlink_metadata(&p) {
        Ok(st) if st.is_dir() => Err(Stop::No("an added file's path is a folder in the worktree")),
        Ok(_) => {
            dirty.push(c.path.clone());
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(e, || format!("reading {}", p.display()))),
    }
}

/// The folders above a changed path must be folders in the worktree, or
/// missing: a symlink there would lead a write outside the worktree, and a
/// file there is in the way unless the checkout removes it.
fn leading_folders_ok(work: &Path, c: &Change, changes: &[Change]) -> Pass<()> {
    let mut at = 0;
    while let Some(i) = c.path[at..].iter().position(|&b| b == b'/') {
        let dir = &c.path[..at + i];
        match fs::symlink_metadata(full(work, dir)) {
            Ok(st) if st.is_dir() => {}
            Ok(_) => {
                let removed = changes
                    .binary_search_by(|x| x.path.as_slice().cmp(dir))
                    .is_ok_and(|k| changes[k].new.is_none());
                return if removed && c.old.is_none() {
                    Ok(())
                } else {
                    Err(Stop::No(
                        "a folder above a changed path is a file or a symlink in the worktree",
                    ))
                };
            }
            Err(_) => return Ok(()),
        }
        at += i + 1;
    }
    Ok(())
}

/// The worktree's changes, kept so that they can be undone.
struct Worktree<'r> {
    repo: &'r Repository,
    work: &'r Path,
    /// The changes applied so far.
    done: Vec<Change>,
}

impl<'r> Worktree<'r> {
    fn new(repo: &'r Repository, work: &'r Path) -> Self {
        Worktree {
            repo,
            work,
            done: Vec::new(),
        }
    }

    /// Remove the files the target drops, then write the ones it changes
    /// or adds; return the lstat of each written file, by change. On a
    /// failure, what was done is undone.
    fn apply(&mut self, changes: &[Change]) -> Pass<Vec<Option<fs::Metadata>>> {
        let mut stats = vec![None; changes.len()];
        let order = changes
            .iter()
            .enumerate()
            .filter(|(_, c)| c.new.is_none())
            .chain(changes.iter().enumerate().filter(|(_, c)| c.new.is_some()));
        for (k, c) in order {
            let step = match c.new {
                None => self.remove(&c.path).map(|()| None),
                Some((id, mode)) => self.write(&c.path, id, mode).map(Some),
            };
            match step {
                Ok(st) => {
                    stats[k] = st;
                    self.done.push(c.clone());
                }
                Err(e) => {
                    self.undo();
                    return Err(e);
                }
            }
        }
        Ok(stats)
    }

    fn remove(&self, path: &[u8]) -> Pass<()> {
        let p = full(self.work, path);
        match fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(e, || format!("removing {}", p.display()))),
        }
        // Folders left empty go too, as git removes them.
        let mut dir = p.parent();
        while let Some(d) = dir {
            if d == self.work || fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
        Ok(())
    }

    /// Write the blob beside the file and rename it into place, so that a
    /// failure never leaves half a file.
    fn write(&self, path: &[u8], id: Oid, mode: u32) -> Pass<fs::Metadata> {
        let p = full(self.work, path);
        let parent = p.parent().unwrap_or(self.work);
        let fail = |e: io::Error| io_err(e, || format!("writing {}", p.display()));
        fs::create_dir_all(parent).map_err(fail)?;
        let blob = self.repo.find_blob(id).map_err(|source| {
            Stop::Err(GitError::Git {
                doing: format!("reading blob {id}"),
                source,
            })
        })?;
        // The mode git gives a new file; the umask applies.
        let perm = if mode == EXECUTABLE { 0o777 } else { 0o666 };
        let mut tmp = tempfile::Builder::new()
            .prefix(".series-checkout-")
            .permissions(fs::Permissions::from_mode(perm))
            .tempfile_in(parent)
            .map_err(fail)?;
        tmp.write_all(blob.content()).map_err(fail)?;
        tmp.persist(&p).map_err(|e| fail(e.error))?;
        fs::symlink_metadata(&p).map_err(fail)
    }

    /// Put back the checked-out commit's files for every change done.
    fn undo(&mut self) {
        for c in std::mem::take(&mut self.done).iter().rev() {
            let _ = match c.old {
                Some((id, mode)) => self.write(&c.path, id, mode).map(|_| ()),
                None => self.remove(&c.path),
            };
        }
    }
}

/// The second pass: the new index into the lock file.
fn write_index(
    repo: &Repository,
    work: &Path,
    index_path: &Path,
    lock: &Lock,
    changes: &[Change],
    found: &Found,
    stats: &[Option<fs::Metadata>],
) -> Pass<()> {
    let fail_read = |e: io::Error| io_err(e, || format!("reading {}", index_path.display()));
    let fail_write = |e: io::Error| io_err(e, || format!("writing {}", lock.path.display()));
    let file = File::open(index_path).map_err(fail_read)?;
    let size = file.metadata().map_err(fail_read)?.len();
    let mut r = Hashed::new(BufReader::with_capacity(64 << 10, file));
    let (version, count) = header(&mut r)?;
    if (version, count) != (found.version, found.count) {
        return Err(Stop::No("the index changed while locked"));
    }
    let mut fresh = changes
        .iter()
        .zip(stats)
        .filter_map(|(c, st)| Some(Entry::for_file(&c.path, c.new?.0, c.new?.1, st.as_ref()?)));
    let added = changes
        .iter()
        .zip(&found.present)
        .filter(|(c, &p)| !p && c.new.is_some())
        .count();
    let dropped = changes
        .iter()
        .zip(&found.present)
        .filter(|(c, &p)| p && c.new.is_none())
        .count();
    let new_count = count as usize + added - dropped;
    let mut w = HashedWriter {
        inner: BufWriter::with_capacity(64 << 10, lock.file()),
        sha: Sha1::new(),
    };
    let new_count = u32::try_from(new_count).map_err(|_| Stop::No(MALFORMED))?;
    w.put(b"DIRC")
        .and_then(|()| w.put(&version.to_be_bytes()))
        .and_then(|()| w.put(&new_count.to_be_bytes()))
        .map_err(fail_write)?;
    let mut next = fresh.next();
    let mut prev_in = Vec::new();
    let mut prev_out: Vec<u8> = Vec::new();
    let mut k = 0;
    for _ in 0..count {
        let mut e = read_entry(&mut r, version, &prev_in)?;
        // New entries that sort before this one.
        while let Some(n) = next.as_ref().filter(|n| n.path < e.path) {
            w.entry(n, version, &prev_out).map_err(fail_write)?;
            prev_out.clone_from(&n.path);
            next = fresh.next();
        }
        while k < changes.len() && changes[k].path < e.path {
            k += 1;
        }
        if k < changes.len() && changes[k].path == e.path {
            // Replaced by its new entry (written next), or dropped.
            k += 1;
        } else {
            if e.racy(found.mtime) && e.field(9) != 0 && racily_changed(&e, work)? {
                e.set_field(9, 0);
            }
            w.entry(&e, version, &prev_out).map_err(fail_write)?;
            prev_out.clone_from(&e.path);
        }
        prev_in = std::mem::take(&mut e.path);
    }
    while let Some(n) = next {
        w.entry(&n, version, &prev_out).map_err(fail_write)?;
        prev_out.clone_from(&n.path);
        next = fresh.next();
    }
    let mut buf = Vec::new();
    while r.at + 20 < size {
        let mut sig = [0u8; 4];
        r.exact(&mut sig)?;
        let len = r.u32()?;
        r.bytes(u64::from(len), &mut buf)?;
        let kept = match &sig {
            b"TREE" => invalidate_tree(&buf, changes),
            b"REUC" => Some(std::mem::take(&mut buf)),
            _ => None,
        };
        if let Some(data) = kept {
            let len = u32::try_from(data.len()).map_err(|_| Stop::No(MALFORMED))?;
            w.put(&sig).map_err(fail_write)?;
            w.put(&len.to_be_bytes()).map_err(fail_write)?;
            w.put(&data).map_err(fail_write)?;
        }
    }
    let digest = w.sha.clone().finalize();
    let trailer: [u8; 20] = if skip_hash(repo) {
        [0; 20]
    } else {
        digest.into()
    };
    w.inner.write_all(&trailer).map_err(fail_write)?;
    w.inner.flush().map_err(fail_write)?;
    Ok(())
}

/// Whether git writes the index without its SHA-1 (index.skipHash, which
/// feature.manyFiles turns on).
fn skip_hash(repo: &Repository) -> bool {
    let Some(cfg) = super::config_for(Some(repo)) else {
        return false;
    };
    cfg.get_bool("index.skiphash")
        .or_else(|_| cfg.get_bool("feature.manyfiles"))
        .unwrap_or(false)
}

/// A racy kept entry whose stat data git could take as a match for its
/// file while the contents differ: it must be smudged (size 0) so that git
/// looks at the file again.
fn racily_changed(e: &Entry, work: &Path) -> Pass<bool> {
    let p = full(work, &e.path);
    let Ok(st) = fs::symlink_metadata(&p) else {
        return Ok(false);
    };
    // Git may compare no more than the mtime's seconds and the size
    // (core.checkStat=minimal, core.trustctime=false, a build without
    // USE_NSEC): wherever those match, a changed file would pass as clean.
    if !st.file_type().is_file()
        || e.field(2) != st.mtime() as u32
        || e.field(9) != st.size() as u32
    {
        return Ok(false);
    }
    Ok(Oid::hash_file(ObjectType::Blob, &p).map_or(true, |id| id != e.id()))
}

/// The TREE extension with the folders above each changed path marked
/// invalid (entry count -1, no id); None when it does not parse, and then
/// it is left out, which git also accepts.
fn invalidate_tree(data: &[u8], changes: &[Change]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len());
    let mut at = 0;
    let mut dir = Vec::new();
    tree_node(data, &mut at, &mut dir, changes, &mut out, 0)?;
    (at == data.len()).then_some(out)
}

/// One node of the cache tree and, after it, its subtrees: the folder's
/// name, NUL, its entry count (-1 when invalid), a space, the number of
/// subtrees, a newline, and the tree id when valid.
fn tree_node(
    data: &[u8],
    at: &mut usize,
    dir: &mut Vec<u8>,
    changes: &[Change],
    out: &mut Vec<u8>,
    depth: usize,
) -> Option<()> {
    if depth > 4096 {
        return None;
    }
    let rest = data.get(*at..)?;
    let nul = rest.iter().position(|&b| b == 0)?;
    let name = &rest[..nul];
    let rest = &rest[nul + 1..];
    let space = rest.iter().position(|&b| b == b' ')?;
    let nl = rest.iter().position(|&b| b == b'\n')?;
    if nl < space {
        return None;
    }
    let entries: i64 = std::str::from_utf8(&rest[..space]).ok()?.parse().ok()?;
    let subtrees: usize = std::str::from_utf8(&rest[space + 1..nl])
        .ok()?
        .parse()
        .ok()?;
    let mut used = nul + 1 + nl + 1;
    let id = if entries >= 0 {
        let id = rest.get(nl + 1..nl + 21)?;
        used += 20;
        Some(id)
    } else {
        None
    };
    let len = dir.len();
    if !name.is_empty() || depth > 0 {
        dir.extend_from_slice(name);
        dir.push(b'/');
    }
    // The first change at or after this folder's prefix is under it, if any is.
    let first = changes.partition_point(|c| c.path.as_slice() < dir.as_slice());
    let touched = changes.get(first).is_some_and(|c| c.path.starts_with(dir));
    out.extend_from_slice(name);
    out.push(0);
    match id {
        Some(id) if !touched => {
            out.extend_from_slice(format!("{entries} {subtrees}\n").as_bytes());
            out.extend_from_slice(id);
        }
        _ => out.extend_from_slice(format!("-1 {subtrees}\n").as_bytes()),
    }
    *at += used;
    for _ in 0..subtrees {
        tree_node(data, at, dir, changes, out, depth + 1)?;
    }
    dir.truncate(len);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_as_varint_c_writes_them() {
        for v in [
            0usize,
            1,
            127,
            128,
            129,
            16511,
            16512,
            1 << 20,
            usize::MAX >> 8,
        ] {
            let mut w = HashedWriter {
                inner: Vec::new(),
                sha: Sha1::new(),
            };
            w.varint(v).unwrap();
            let mut r = Hashed::new(&w.inner[..]);
            assert_eq!(r.varint().ok(), Some(v), "{v}");
            assert_eq!(r.at as usize, w.inner.len());
        }
        // 128 is 0x80 0x00 in varint.c's encoding (the continuation adds one).
        let mut w = HashedWriter {
            inner: Vec::new(),
            sha: Sha1::new(),
        };
        w.varint(128).unwrap();
        assert_eq!(w.inner, [0x80, 0x00]);
    }

    #[test]
    fn the_cache_tree_is_invalidated_above_each_changed_path_only() {
        let id = [7u8; 20];
        let mut data = Vec::new();
        let mut node = |name: &str, entries: i64, subs: usize| {
            data.extend_from_slice(name.as_bytes());
            data.push(0);
            data.extend_from_slice(format!("{entries} {subs}\n").as_bytes());
            if entries >= 0 {
                data.extend_from_slice(&id);
            }
        };
        node("", 10, 2);
        node("mm", 4, 1);
        node("kasan", 2, 0);
        node("net", 5, 0);
        let change = Change {
            path: b"mm/kasan/x.c".to_vec(),
            old: None,
            new: None,
        };
        let out = invalidate_tree(&data, &[change]).unwrap();
        let mut want = Vec::new();
        want.extend_from_slice(b"\0-1 2\nmm\0-1 1\nkasan\0-1 0\nnet\x005 0\n");
        want.extend_from_slice(&id);
        assert_eq!(out, want);
    }
}
