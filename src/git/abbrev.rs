//! How many hex digits git writes for an abbreviated object id, from the
//! number of packed objects: `core.abbrev`, else git's own estimate
//! (object-name.c, `find_unique_abbrev_r`; packfile.c,
//! `repo_approximate_object_count`), here read from the pack indexes and a
//! multi-pack index of the object store and its alternates.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use git2::{Oid, Repository};

use super::config::config_for;

/// git's default abbreviation: `core.abbrev` when set, else from the number of
/// packed objects (7 for small repositories, 12 for a kernel tree), as git's
/// `repo_approximate_object_count` counts them (object-file.c, packfile.c):
/// every pack of the repository's object store, which for a linked worktree
/// is the common one, and of its alternates; a multi-pack index counts for
/// the packs it covers.
pub(super) fn default_abbrev(repo: &Repository) -> usize {
    if let Some(cfg) = config_for(Some(repo)) {
        if let Ok(v) = cfg.get_string("core.abbrev") {
            if let Ok(n) = v.parse::<usize>() {
                return n.clamp(4, 40);
            }
            if v == "no" || v == "false" {
                return 40;
            }
        }
    }
    let count: u64 = object_dirs(&repo.commondir().join("objects"))
        .iter()
        .map(|d| packed_object_count(&d.join("pack")))
        .sum();
    let bits = if count == 0 {
        0
    } else {
        63 - count.leading_zeros() as usize
    };
    let len = (bits + 1).div_ceil(2);
    len.max(7)
}

/// An object folder and, in order, the folders its `info/alternates` names
/// (relative ones from the folder), each once.
pub(super) fn object_dirs(objects: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let mut todo = vec![objects.to_path_buf()];
    while let Some(d) = todo.pop() {
        let key = std::fs::canonicalize(&d).unwrap_or_else(|_| d.clone());
        if out.contains(&key) || out.len() > 16 {
            continue;
        }
        let text = std::fs::read_to_string(d.join("info/alternates")).unwrap_or_default();
        out.push(key);
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let alt = Path::new(line);
            todo.push(if alt.is_absolute() {
                alt.to_path_buf()
            } else {
                d.join(alt)
            });
        }
    }
    out
}

/// The object count and the packs of a multi-pack index, if there is one.
fn midx(dir: &Path) -> Option<(u64, Vec<String>)> {
    let bytes = std::fs::read(dir.join("multi-pack-index")).ok()?;
    if !bytes.starts_with(b"MIDX") || bytes.len() < 12 {
        return None;
    }
    let chunks = usize::from(bytes[6]);
    let be32 = |at: usize| -> Option<u32> {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let be64 = |at: usize| -> Option<u64> {
        let b = bytes.get(at..at + 8)?;
        Some(u64::from_be_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    };
    let mut count = None;
    let mut names = Vec::new();
    for k in 0..=chunks {
        let at = 12 + 12 * k;
        let id = bytes.get(at..at + 4)?;
        let off = usize::try_from(be64(at + 4)?).ok()?;
        match id {
            b"OIDF" => count = Some(u64::from(be32(off + 255 * 4)?)),
            b"PNAM" => {
                let end = usize::try_from(be64(at + 16)?).ok()?;
                names = bytes
                    .get(off..end)?
                    .split(|&b| b == 0)
                    .filter(|n| !n.is_empty())
                    .map(|n| String::from_utf8_lossy(n).into_owned())
                    .collect();
            }
            _ => {}
        }
    }
    Some((count?, names))
}

/// Objects counted from pack index headers, as git approximates the count.
fn packed_object_count(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let (mut total, covered) = midx(dir).unwrap_or_default();
    for e in entries.flatten() {
        let p = e.path();
        if p.extension().and_then(|x| x.to_str()) != Some("idx") {
            continue;
        }
        let name = e.file_name().to_string_lossy().into_owned();
        if covered
            .iter()
            .any(|c| c == &name || c.replace(".pack", ".idx") == name)
        {
            continue;
        }
        let Ok(bytes) = read_prefix(&p, 8 + 256 * 4) else {
            continue;
        };
        let fanout_at = if bytes.starts_with(b"\xfftOc") { 8 } else { 0 };
        let last = fanout_at + 255 * 4;
        if let Some(b) = bytes.get(last..last + 4) {
            total += u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        }
    }
    total
}

fn read_prefix(path: &Path, n: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::with_capacity(n);
    std::fs::File::open(path)?
        .take(n as u64)
        .read_to_end(&mut buf)?;
    Ok(buf)
}

/// Whether an abbreviated id names one object only, asked of the object
/// store as git asks it (object-name.c, `find_unique_abbrev_r`: the packs
/// and a listing of the loose objects, each folder read once). libgit2's
/// `git_odb_exists_prefix` stats every file of the loose folder for every
/// prefix and, when the packs lack it, rescans the pack folder: in a
/// rebase that has just written thousands of loose objects, that work grew
/// with the square of the series.
pub(super) struct Unique {
    /// The pack backends of the object store and its alternates, owned by
    /// `_owner` (freed with it) and asked directly.
    packs: Vec<*mut libgit2_sys::git_odb_backend>,
    _owner: Option<git2::Odb<'static>>,
    /// The object folders, the store's first.
    dirs: Vec<PathBuf>,
    loose: std::cell::RefCell<HashMap<(usize, u8), Listing>>,
}

/// One fan-out folder as read: its mtime then, and the loose objects'
/// remaining 38 hex digits, sorted.
struct Listing {
    mtime: SystemTime,
    /// Whether the folder had been left alone for a while when read. A
    /// folder changed within the file system's timestamp granularity of the
    /// read may change again without its mtime moving (git's "racy" case,
    /// read-cache.c, `is_racy_timestamp`), so such a listing is read again.
    settled: bool,
    names: Vec<[u8; 38]>,
}

impl Unique {
    pub(super) fn new(repo: &Repository) -> Unique {
        let dirs = object_dirs(&repo.commondir().join("objects"));
        let mut packs = Vec::new();
        let mut owner = None;
        // SAFETY: the calls are libgit2's documented way to make an object
        // database of chosen backends; each backend, once added, belongs to
        // the database, which `_owner` frees when dropped, and the pointers
        // kept are used only while it lives.
        unsafe {
            let mut odb = std::ptr::null_mut();
            if libgit2_sys::git_odb_new(&mut odb) == 0 && !odb.is_null() {
                owner = Some(<git2::Odb<'static> as git2::Binding>::from_raw(odb));
                for d in &dirs {
                    let Ok(c) = std::ffi::CString::new(d.as_os_str().as_encoded_bytes()) else {
                        continue;
                    };
                    let mut backend = std::ptr::null_mut();
                    if libgit2_sys::git_odb_backend_pack(&mut backend, c.as_ptr()) == 0
                        && !backend.is_null()
                        && libgit2_sys::git_odb_add_backend(odb, backend, 1) == 0
                    {
                        packs.push(backend);
                    }
                }
            }
        }
        Unique {
            packs,
            _owner: owner,
            dirs,
            loose: Default::default(),
        }
    }

    /// Whether some object other than `id` has an id that starts with the
    /// first `len` hex digits of `id` (`hex`, its 40 digits).
    pub(super) fn ambiguous(&self, id: Oid, hex: &str, len: usize) -> bool {
        let Ok(prefix) = Oid::from_str(&hex[..len]) else {
            return false;
        };
        for &backend in &self.packs {
            let mut found = libgit2_sys::git_oid {
                id: Default::default(),
            };
            // SAFETY: `backend` lives as long as `_owner` (see `new`); the
            // arguments are those git_odb_exists_prefix passes a backend,
            // and `found` is written only on success.
            let rc = unsafe {
                match (*backend).exists_prefix {
                    Some(f) => f(&mut found, backend, git2::Binding::raw(&prefix), len),
                    None => libgit2_sys::GIT_ENOTFOUND,
                }
            };
            if rc == libgit2_sys::GIT_EAMBIGUOUS || (rc == 0 && found.id[..20] != *id.as_bytes()) {
                return true;
            }
        }
        let Ok(first) = u8::from_str_radix(&hex[..2], 16) else {
            return false;
        };
        let want = &hex.as_bytes()[2..len];
        let mut loose = self.loose.borrow_mut();
        for (k, d) in self.dirs.iter().enumerate() {
            let dir = d.join(&hex[..2]);
            let Ok(mtime) = std::fs::metadata(&dir).and_then(|m| m.modified()) else {
                continue;
            };
            let fresh = match loose.get(&(k, first)) {
                Some(l) => l.settled && l.mtime == mtime,
                None => false,
            };
            if !fresh {
                let settled = SystemTime::now()
                    .duration_since(mtime)
                    .is_ok_and(|age| age > std::time::Duration::from_secs(2));
                let names = list_loose(&dir);
                loose.insert(
                    (k, first),
                    Listing {
                        mtime,
                        settled,
                        names,
                    },
                );
            }
            let names = &loose[&(k, first)].names;
            let at = names.partition_point(|n| &n[..want.len()] < want);
            if names[at..]
                .iter()
                .take_while(|n| n.starts_with(want))
                .any(|n| n[..] != hex.as_bytes()[2..])
            {
                return true;
            }
        }
        false
    }
}

/// The loose objects of one fan-out folder: the 38 hex digits after the
/// folder's two, sorted.
fn list_loose(dir: &Path) -> Vec<[u8; 38]> {
    let mut out: Vec<[u8; 38]> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name();
            let b = name.as_encoded_bytes();
            (b.len() == 38 && b.iter().all(u8::is_ascii_hexdigit))
                .then(|| b.to_ascii_lowercase().try_into().ok())
                .flatten()
        })
        .collect();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A blob whose id starts with the first `len` hex digits of `id`.
    fn sharing(id: Oid, len: usize) -> Vec<u8> {
        let want = &id.to_string()[..len];
        (0u64..)
            .map(|i| format!("{i}\n").into_bytes())
            .find(|b| {
                let other = Oid::hash_object(git2::ObjectType::Blob, b).unwrap();
                other != id && other.to_string().starts_with(want)
            })
            .unwrap()
    }

    #[test]
    fn a_loose_object_written_after_a_folder_was_listed_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let id = repo.blob(b"first\n").unwrap();
        let hex = id.to_string();
        let unique = Unique::new(&repo);
        assert!(!unique.ambiguous(id, &hex, 4), "alone, 4 digits name it");
        // Written into the folder just listed, at once: whether or not its
        // mtime moved within the timestamp granularity, the listing is
        // read again.
        let other = repo.blob(&sharing(id, 4)).unwrap();
        assert_eq!(other.to_string()[..4], hex[..4]);
        assert!(
            unique.ambiguous(id, &hex, 4),
            "{other} shares {}",
            &hex[..4]
        );
        assert!(
            !unique.ambiguous(id, &hex, 40),
            "the whole id names one object"
        );
    }
}
