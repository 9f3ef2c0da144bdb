//! Marking an object that is already stored as just used, when an
//! operation makes it again, as git's object-file.c does when it is asked
//! to write an object it has (`freshen_packed_object`,
//! `freshen_loose_object`): the mtime of its loose file, or of the pack
//! holding it, set to now, so that a `git gc` running meanwhile does not
//! take it for old unreachable garbage before a ref names it. An object
//! only in a cruft pack (one with a `.mtimes` file), or whose file cannot
//! be touched, is not fresh; git writes a loose copy of it then, and so
//! does the caller.
//!
//! Packs are found through their `.idx` files (version 1 and 2: the
//! fan-out table, then the sorted ids), listed once, when first needed.

use std::cell::{Cell, OnceCell};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use git2::Oid;

/// The object folders of a store and its alternates, and their packs.
pub(super) struct Fresh {
    dirs: Vec<PathBuf>,
    packs: OnceCell<Vec<Pack>>,
}

/// A pack, by its index.
struct Pack {
    pack: PathBuf,
    idx: File,
    /// Where the sorted ids start, and each entry's size (20, or 24 in a
    /// version 1 index, whose entries start with an offset).
    ids_at: u64,
    entry: u64,
    skip: u64,
    fanout: Box<[u32; 256]>,
    cruft: bool,
    /// Touched already by this process (git's `freshened` flag).
    touched: Cell<bool>,
}

impl Fresh {
    pub(super) fn new(objects: &Path) -> Fresh {
        Fresh {
            dirs: super::abbrev::object_dirs(objects),
            packs: OnceCell::new(),
        }
    }

    /// Freshen `id` where it is stored; whether a file holding it was
    /// touched.
    pub(super) fn freshen(&self, id: Oid) -> bool {
        let hex = id.to_string();
        if self
            .dirs
            .iter()
            .any(|d| touch(&d.join(&hex[..2]).join(&hex[2..])))
        {
            return true;
        }
        let packs = self.packs.get_or_init(|| list_packs(&self.dirs));
        for p in packs.iter().filter(|p| !p.cruft) {
            if p.holds(id.as_bytes()) && (p.touched.get() || touch(&p.pack)) {
                p.touched.set(true);
                return true;
            }
        }
        false
    }
}

/// Set a file's mtime to now; whether that worked.
fn touch(path: &Path) -> bool {
    File::open(path).is_ok_and(|f| f.set_modified(SystemTime::now()).is_ok())
}

fn list_packs(dirs: &[PathBuf]) -> Vec<Pack> {
    let mut out = Vec::new();
    for d in dirs {
        let Ok(entries) = std::fs::read_dir(d.join("pack")) else {
            continue;
        };
        let mut names: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "idx"))
            .collect();
        names.sort();
        out.extend(names.iter().filter_map(|idx| Pack::open(idx)));
    }
    out
}

impl Pack {
    fn open(idx_path: &Path) -> Option<Pack> {
        let pack = idx_path.with_extension("pack");
        if !pack.is_file() {
            return None;
        }
        let idx = File::open(idx_path).ok()?;
        let mut head = [0u8; 8];
        idx.read_exact_at(&mut head, 0).ok()?;
        let (fanout_at, entry, skip) = if head == *b"\xfftOc\0\0\0\x02" {
            (8, 20, 0)
        } else if head[..4] == *b"\xfftOc" {
            return None;
        } else {
            (0, 24, 4)
        };
        let mut raw = vec![0u8; 1024];
        idx.read_exact_at(&mut raw, fanout_at).ok()?;
        let mut fanout = Box::new([0u32; 256]);
        for (k, b) in raw.chunks_exact(4).enumerate() {
            fanout[k] = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        }
        Some(Pack {
            cruft: idx_path.with_extension("mtimes").exists(),
            pack,
            idx,
            ids_at: fanout_at + 1024,
            entry,
            skip,
            fanout,
            touched: Cell::new(false),
        })
    }

    /// Whether the index lists `id`: a binary search among the ids that
    /// start with its first byte.
    fn holds(&self, id: &[u8]) -> bool {
        let b = usize::from(id[0]);
        let (mut lo, mut hi) = (
            if b == 0 {
                0
            } else {
                u64::from(self.fanout[b - 1])
            },
            u64::from(self.fanout[b]),
        );
        let mut buf = [0u8; 20];
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self
                .idx
                .read_exact_at(&mut buf, self.ids_at + mid * self.entry + self.skip)
                .is_err()
            {
                return false;
            }
            match buf[..].cmp(id) {
                std::cmp::Ordering::Equal => return true,
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        false
    }
}
