//! How many hex digits git writes for an abbreviated object id, from the
//! number of packed objects: `core.abbrev`, else git's own estimate
//! (object-name.c, `find_unique_abbrev_r`; packfile.c,
//! `repo_approximate_object_count`), here read from the pack indexes and a
//! multi-pack index of the object store and its alternates.

use std::path::{Path, PathBuf};

use git2::Repository;

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
