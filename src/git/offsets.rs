//! Applying a diff the way `git apply` does when lines have moved: each
//! hunk's pre-image must match exactly (no fuzz), but may be found at an
//! offset from where the hunk says, the nearest match winning. libgit2's
//! apply only matches at the stated line, so this handles text files and
//! leaves anything else (binary patches) to libgit2.

use std::path::Path;

use git2::{Delta, Diff, DiffLineType, Index, IndexEntry, IndexTime, Oid, Patch, Repository};

/// Why the diff did not apply.
#[derive(Debug)]
pub enum OffsetError {
    /// A hunk's pre-image is nowhere in the file.
    NoMatch {
        path: String,
        hunk: usize,
    },
    /// The file to change is not in the tree, or a new file already is.
    Missing(String),
    /// Not a text change this applier handles.
    Unsupported(String),
    Git(git2::Error),
}

impl std::fmt::Display for OffsetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OffsetError::NoMatch { path, hunk } => {
                write!(f, "hunk {hunk} of {path} does not match")
            }
            OffsetError::Missing(p) => write!(f, "{p} is not where the patch expects it"),
            OffsetError::Unsupported(p) => write!(f, "{p} has changes that only apply exactly"),
            OffsetError::Git(e) => write!(f, "{e}"),
        }
    }
}

impl From<git2::Error> for OffsetError {
    fn from(e: git2::Error) -> Self {
        OffsetError::Git(e)
    }
}

struct Hunk {
    old_start: usize,
    pre: Vec<Vec<u8>>,
    post: Vec<Vec<u8>>,
}

fn split_lines(data: &[u8]) -> Vec<Vec<u8>> {
    data.split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn hunks(patch: &Patch<'_>) -> Result<Vec<Hunk>, git2::Error> {
    let mut out = Vec::new();
    for h in 0..patch.num_hunks() {
        let (hunk, n) = patch.hunk(h)?;
        let mut pre = Vec::new();
        let mut post = Vec::new();
        for l in 0..n {
            let line = patch.line_in_hunk(h, l)?;
            let content = line.content().to_vec();
            match line.origin_value() {
                DiffLineType::Context => {
                    pre.push(content.clone());
                    post.push(content);
                }
                DiffLineType::Deletion => pre.push(content),
                DiffLineType::Addition => post.push(content),
                // "\ No newline at end of file": the line before it already
                // lacks its newline in `content`.
                _ => {}
            }
        }
        out.push(Hunk {
            old_start: hunk.old_start() as usize,
            pre,
            post,
        });
    }
    Ok(out)
}

/// Apply hunks to `lines`, searching outward from each hunk's position.
fn apply_hunks(
    mut lines: Vec<Vec<u8>>,
    hunks: &[Hunk],
    path: &str,
) -> Result<Vec<Vec<u8>>, OffsetError> {
    let mut offset: isize = 0;
    for (k, h) in hunks.iter().enumerate() {
        let want = (h.old_start.max(1) as isize - 1 + offset).max(0) as usize;
        let fits =
            |at: usize| at + h.pre.len() <= lines.len() && lines[at..at + h.pre.len()] == h.pre[..];
        let mut found = None;
        let span = lines.len() + 1;
        for d in 0..span {
            if want + d <= lines.len() && fits(want + d) {
                found = Some(want + d);
                break;
            }
            if d > 0 && d <= want && fits(want - d) {
                found = Some(want - d);
                break;
            }
        }
        let at = found.ok_or_else(|| OffsetError::NoMatch {
            path: path.to_string(),
            hunk: k + 1,
        })?;
        offset += at as isize - (h.old_start.max(1) as isize - 1);
        lines.splice(at..at + h.pre.len(), h.post.iter().cloned());
        offset += h.post.len() as isize - h.pre.len() as isize;
    }
    Ok(lines)
}

fn entry(path: &[u8], id: Oid, mode: u32, size: usize) -> IndexEntry {
    IndexEntry {
        ctime: IndexTime::new(0, 0),
        mtime: IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode,
        uid: 0,
        gid: 0,
        file_size: size as u32,
        id,
        flags: 0,
        flags_extended: 0,
        path: path.to_vec(),
    }
}

/// Apply `diff` to the tree `base` with offsets allowed; returns the new tree.
pub fn apply(repo: &Repository, base: Oid, diff: &Diff<'_>) -> Result<Oid, OffsetError> {
    let tree = repo.find_tree(base)?;
    let mut index = Index::new()?;
    index.read_tree(&tree)?;
    for i in 0..diff.deltas().len() {
        let Some(delta) = diff.get_delta(i) else {
            continue;
        };
        let old_path = delta.old_file().path_bytes().unwrap_or_default().to_vec();
        let new_path = delta.new_file().path_bytes().unwrap_or_default().to_vec();
        let shown = String::from_utf8_lossy(&new_path).into_owned();
        if delta.flags().is_binary() {
            return Err(OffsetError::Unsupported(shown));
        }
        let patch =
            Patch::from_diff(diff, i)?.ok_or_else(|| OffsetError::Unsupported(shown.clone()))?;
        let hs = hunks(&patch)?;
        let new_mode = u32::from(delta.new_file().mode());
        match delta.status() {
            Delta::Deleted => {
                if index
                    .get_path(Path::new(&*String::from_utf8_lossy(&old_path)), 0)
                    .is_none()
                {
                    return Err(OffsetError::Missing(
                        String::from_utf8_lossy(&old_path).into_owned(),
                    ));
                }
                index.remove_path(Path::new(&*String::from_utf8_lossy(&old_path)))?;
            }
            Delta::Added => {
                if index.get_path(Path::new(&shown), 0).is_some() {
                    return Err(OffsetError::Missing(format!("{shown} (already exists)")));
                }
                let data: Vec<u8> = hs.iter().flat_map(|h| h.post.concat()).collect();
                let id = repo.blob(&data)?;
                index.add(&entry(&new_path, id, new_mode, data.len()))?;
            }
            Delta::Modified | Delta::Renamed | Delta::Copied => {
                let old_shown = String::from_utf8_lossy(&old_path).into_owned();
                let old = index
                    .get_path(Path::new(&old_shown), 0)
                    .ok_or_else(|| OffsetError::Missing(old_shown.clone()))?;
                let blob = repo.find_blob(old.id)?;
                let lines = apply_hunks(split_lines(blob.content()), &hs, &shown)?;
                let data = lines.concat();
                let id = repo.blob(&data)?;
                if delta.status() == Delta::Renamed {
                    index.remove_path(Path::new(&old_shown))?;
                }
                let mode = if new_mode == 0 { old.mode } else { new_mode };
                index.add(&entry(&new_path, id, mode, data.len()))?;
            }
            _ => return Err(OffsetError::Unsupported(shown)),
        }
    }
    Ok(index.write_tree_to(repo)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &str) -> Vec<Vec<u8>> {
        split_lines(s.as_bytes())
    }

    #[test]
    fn finds_moved_context_and_refuses_fuzz() {
        let h = Hunk {
            old_start: 2,
            pre: lines("b\nc\nd\n"),
            post: lines("b\nC\nd\n"),
        };
        let moved = lines("x\ny\na\nb\nc\nd\ne\n");
        let out = apply_hunks(moved, std::slice::from_ref(&h), "f").unwrap();
        assert_eq!(out.concat(), b"x\ny\na\nb\nC\nd\ne\n");
        let changed = lines("a\nb\nz\nd\n");
        assert!(matches!(
            apply_hunks(changed, &[h], "f"),
            Err(OffsetError::NoMatch { .. })
        ));
    }
}
