//! Applying a diff the way `git apply` does: each hunk's pre-image must
//! match exactly (no fuzz), at the stated line or, when lines have moved, at
//! the nearest offset. libgit2's apply only matches at the stated line and
//! reads the whole tree into an index; this reads and writes only the paths
//! the diff touches. Binary patches are left to libgit2.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use git2::build::TreeUpdateBuilder;
use git2::{Delta, Diff, DiffLineType, FileMode, Oid, Patch, Repository};

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
    /// Where the hunk starts in the file as earlier hunks left it: git
    /// apply looks for it there first (apply.c, `apply_one_fragment`:
    /// `frag->newpos - 1`).
    new_start: usize,
    pre: Vec<Vec<u8>>,
    post: Vec<Vec<u8>>,
    /// Must match at the first line: a hunk at line 0 or 1 (git apply's
    /// `match_beginning`, apply.c).
    match_beginning: bool,
    /// Must match at the last line: a hunk without trailing context
    /// (git apply's `match_end`).
    match_end: bool,
}

fn split_lines(data: &[u8]) -> Vec<&[u8]> {
    data.split_inclusive(|&b| b == b'\n').collect()
}

fn strip_newline(lines: &mut [Vec<u8>]) {
    if let Some(last) = lines.last_mut() {
        if last.last() == Some(&b'\n') {
            last.pop();
        }
    }
}

fn hunks(patch: &Patch<'_>) -> Result<Vec<Hunk>, git2::Error> {
    let mut out = Vec::new();
    for h in 0..patch.num_hunks() {
        let (hunk, n) = patch.hunk(h)?;
        let mut pre = Vec::new();
        let mut post = Vec::new();
        let mut previous = DiffLineType::Context;
        let mut trailing = 0usize;
        for l in 0..n {
            let line = patch.line_in_hunk(h, l)?;
            let kind = line.origin_value();
            // Only text lines have content to read: libgit2 may leave the
            // content of a marker line null, which git2 cannot take as a
            // slice.
            let content = match kind {
                DiffLineType::Context | DiffLineType::Deletion | DiffLineType::Addition => {
                    line.content().to_vec()
                }
                _ => Vec::new(),
            };
            match kind {
                DiffLineType::Context => {
                    pre.push(content.clone());
                    post.push(content);
                    trailing += 1;
                }
                DiffLineType::Deletion => {
                    pre.push(content);
                    trailing = 0;
                }
                DiffLineType::Addition => {
                    post.push(content);
                    trailing = 0;
                }
                // "\ No newline at end of file" means the line right before
                // it has no newline. (libgit2's labels for these markers do
                // not say which side, so go by position.)
                DiffLineType::DeleteEOFNL | DiffLineType::AddEOFNL | DiffLineType::ContextEOFNL => {
                    match previous {
                        DiffLineType::Deletion => strip_newline(&mut pre),
                        DiffLineType::Addition => strip_newline(&mut post),
                        _ => {
                            strip_newline(&mut pre);
                            strip_newline(&mut post);
                        }
                    }
                }
                _ => {}
            }
            previous = kind;
        }
        let old_start = hunk.old_start() as usize;
        out.push(Hunk {
            new_start: hunk.new_start() as usize,
            pre,
            post,
            match_beginning: old_start <= 1,
            match_end: trailing == 0,
        });
    }
    Ok(out)
}

/// Apply hunks to `lines`, searching outward from each hunk's position.
fn apply_hunks<'a>(
    mut lines: Vec<&'a [u8]>,
    hunks: &'a [Hunk],
    path: &str,
) -> Result<Vec<&'a [u8]>, OffsetError> {
    for (k, h) in hunks.iter().enumerate() {
        let want = h.new_start.saturating_sub(1).min(lines.len());
        let fits = |at: usize| {
            at + h.pre.len() <= lines.len()
                && (!h.match_beginning || at == 0)
                && (!h.match_end || at + h.pre.len() == lines.len())
                && lines[at..at + h.pre.len()]
                    .iter()
                    .zip(&h.pre)
                    .all(|(l, p)| *l == p.as_slice())
        };
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
        lines.splice(at..at + h.pre.len(), h.post.iter().map(Vec::as_slice));
    }
    Ok(lines)
}

/// git2's file mode for a raw mode.
pub(super) fn file_mode(mode: u32) -> FileMode {
    match mode {
        0o100755 => FileMode::BlobExecutable,
        0o120000 => FileMode::Link,
        0o160000 => FileMode::Commit,
        _ => FileMode::Blob,
    }
}

/// A diff parsed by libgit2, refused when it holds a NUL byte: libgit2
/// copies each line with `git__strndup`, which stops at a NUL, but keeps
/// the line's full length, so reading such a line reads past the copy
/// (found by the fuzz corpus under valgrind). Callers fall back to `git
/// apply`, which reads such lines whole.
pub(super) fn parse_diff(text: &[u8]) -> Result<Diff<'static>, git2::Error> {
    if text.contains(&0) {
        return Err(git2::Error::from_str("the diff holds a NUL byte"));
    }
    Diff::from_buffer(text)
}

/// Apply `diff` to the tree `base` with offsets allowed; returns the new
/// tree. Only the changed paths are read and written (a tree update), so
/// the cost follows the patch, not the size of the tree.
pub fn apply(repo: &Repository, base: Oid, diff: &Diff<'_>) -> Result<Oid, OffsetError> {
    let tree = repo.find_tree(base)?;
    let mut update = TreeUpdateBuilder::new();
    for i in 0..diff.deltas().len() {
        let Some(delta) = diff.get_delta(i) else {
            continue;
        };
        // Paths keep their bytes; the names are for messages.
        let old_bytes = delta.old_file().path_bytes().unwrap_or_default();
        let new_bytes = delta.new_file().path_bytes().unwrap_or_default();
        let old_p = Path::new(std::ffi::OsStr::from_bytes(old_bytes));
        let new_p = Path::new(std::ffi::OsStr::from_bytes(new_bytes));
        let old_path = String::from_utf8_lossy(old_bytes).into_owned();
        let new_path = String::from_utf8_lossy(new_bytes).into_owned();
        if delta.flags().is_binary() {
            return Err(OffsetError::Unsupported(new_path));
        }
        let patch =
            Patch::from_diff(diff, i)?.ok_or_else(|| OffsetError::Unsupported(new_path.clone()))?;
        let hs = hunks(&patch)?;
        let new_mode = u32::from(delta.new_file().mode());
        match delta.status() {
            Delta::Deleted => {
                tree.get_path(old_p)
                    .map_err(|_| OffsetError::Missing(old_path.clone()))?;
                update.remove(old_p);
            }
            Delta::Added => {
                if tree.get_path(new_p).is_ok() {
                    return Err(OffsetError::Missing(format!("{new_path} (already exists)")));
                }
                let data: Vec<u8> = hs.iter().flat_map(|h| h.post.concat()).collect();
                update.upsert(new_p, repo.blob(&data)?, file_mode(new_mode));
            }
            Delta::Modified | Delta::Renamed | Delta::Copied => {
                let old = tree
                    .get_path(old_p)
                    .map_err(|_| OffsetError::Missing(old_path.clone()))?;
                let id = if hs.is_empty() {
                    old.id()
                } else {
                    let blob = repo.find_blob(old.id())?;
                    let lines = apply_hunks(split_lines(blob.content()), &hs, &new_path)?;
                    repo.blob(&lines.concat())?
                };
                if delta.status() == Delta::Renamed {
                    update.remove(old_p);
                }
                let mode = if new_mode == 0 {
                    old.filemode() as u32
                } else {
                    new_mode
                };
                update.upsert(new_p, id, file_mode(mode));
            }
            _ => return Err(OffsetError::Unsupported(new_path)),
        }
    }
    Ok(update.create_updated(repo, &tree)?)
}

/// One file a diff changes in place: same path, same mode, text.
pub struct InPlace {
    pub path: Vec<u8>,
    /// The file's hunks, applied by [`InPlace::apply`].
    hunks: Vec<Hunk>,
}

impl InPlace {
    /// The file's new text from its old text, as [`apply`] applies it.
    pub fn apply(&self, old: &[u8]) -> Result<Vec<u8>, OffsetError> {
        let name = String::from_utf8_lossy(&self.path);
        Ok(apply_hunks(split_lines(old), &self.hunks, &name)?.concat())
    }
}

/// The files `diff` changes, when it only changes text files in place (no
/// file added, deleted, renamed or copied, no mode change, nothing binary);
/// None otherwise, for [`apply`] and a tree merge to handle.
pub fn in_place(diff: &Diff<'_>) -> Result<Option<Vec<InPlace>>, OffsetError> {
    let mut out = Vec::new();
    for i in 0..diff.deltas().len() {
        let Some(delta) = diff.get_delta(i) else {
            return Ok(None);
        };
        let old = delta.old_file().path_bytes().unwrap_or_default();
        let new = delta.new_file().path_bytes().unwrap_or_default();
        let same_mode = delta.new_file().mode() == delta.old_file().mode()
            || u32::from(delta.new_file().mode()) == 0;
        if delta.status() != Delta::Modified
            || old != new
            || !same_mode
            || delta.flags().is_binary()
        {
            return Ok(None);
        }
        let Some(patch) = Patch::from_diff(diff, i)? else {
            return Ok(None);
        };
        out.push(InPlace {
            path: new.to_vec(),
            hunks: hunks(&patch)?,
        });
    }
    Ok(Some(out))
}

/// Apply the first file of a unified diff to `file`'s text with the same
/// rules as [`apply`], in memory: the line applier on its own, for the fuzz
/// targets. None when the diff does not parse or does not apply.
pub fn apply_text(file: &[u8], diff_text: &[u8]) -> Option<Vec<u8>> {
    let diff = parse_diff(diff_text).ok()?;
    let patch = Patch::from_diff(&diff, 0).ok()??;
    let hs = hunks(&patch).ok()?;
    apply_hunks(split_lines(file), &hs, "fuzz")
        .ok()
        .map(|l| l.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &str) -> Vec<Vec<u8>> {
        split_lines(s.as_bytes())
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect()
    }

    /// Regression: libgit2 kept the full length of a line it had cut at a
    /// NUL byte, and reading the line read past its copy.
    #[test]
    fn a_diff_with_a_nul_byte_is_left_to_git_apply() {
        let diff = b"diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\0b\n+c\n";
        assert!(parse_diff(diff).is_err());
        assert_eq!(apply_text(b"a\0b\n", diff), None);
        let clean = b"diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-ab\n+c\n";
        assert_eq!(apply_text(b"ab\n", clean), Some(b"c\n".to_vec()));
    }

    #[test]
    fn finds_moved_context_and_refuses_fuzz() {
        let h = Hunk {
            new_start: 2,
            pre: lines("b\nc\nd\n"),
            post: lines("b\nC\nd\n"),
            match_beginning: false,
            match_end: false,
        };
        let moved = split_lines(b"x\ny\na\nb\nc\nd\ne\n");
        let out = apply_hunks(moved, std::slice::from_ref(&h), "f").unwrap();
        assert_eq!(out.concat(), b"x\ny\na\nb\nC\nd\ne\n");
        let changed = split_lines(b"a\nb\nz\nd\n");
        assert!(matches!(
            apply_hunks(changed, &[h], "f"),
            Err(OffsetError::NoMatch { .. })
        ));
    }

    #[test]
    fn each_hunk_is_looked_for_where_the_earlier_ones_left_the_file() {
        // Hunk 1 adds two lines; hunk 2's context ("k") is there twice.
        // git apply looks for hunk 2 at its new-side line, so it lands on
        // the first "k", two lines below where it was; carrying hunk 1's
        // growth twice would pick the second.
        let text = split_lines(b"a\nb\nc\nj\nk\nl\nm\nn\nk\nl\n");
        let h1 = Hunk {
            new_start: 1,
            pre: lines("a\nb\n"),
            post: lines("a\nx\ny\nb\n"),
            match_beginning: true,
            match_end: false,
        };
        let h2 = Hunk {
            new_start: 7,
            pre: lines("k\nl\n"),
            post: lines("k\nNEW\nl\n"),
            match_beginning: false,
            match_end: false,
        };
        let hs = [h1, h2];
        let out = apply_hunks(text, &hs, "f").unwrap();
        assert_eq!(out.concat(), b"a\nx\ny\nb\nc\nj\nk\nNEW\nl\nm\nn\nk\nl\n");
    }

    #[test]
    fn a_hunk_at_line_one_must_match_at_the_beginning() {
        // git apply refuses this too: a hunk at line 1 whose context moved.
        let h = Hunk {
            new_start: 1,
            pre: lines("a\nb\n"),
            post: lines("A\nb\n"),
            match_beginning: true,
            match_end: false,
        };
        let moved = split_lines(b"new\na\nb\nc\n");
        assert!(matches!(
            apply_hunks(moved, std::slice::from_ref(&h), "f"),
            Err(OffsetError::NoMatch { .. })
        ));
        let hs = [h];
        let out = apply_hunks(split_lines(b"a\nb\nc\n"), &hs, "f").unwrap();
        assert_eq!(out.concat(), b"A\nb\nc\n");
    }

    #[test]
    fn a_hunk_without_trailing_context_must_match_at_the_end() {
        let h = Hunk {
            new_start: 3,
            pre: lines("b\nc\n"),
            post: lines("b\nc\nd\n"),
            match_beginning: false,
            match_end: true,
        };
        let grown = split_lines(b"x\na\nb\nc\nmore\n");
        assert!(matches!(
            apply_hunks(grown, std::slice::from_ref(&h), "f"),
            Err(OffsetError::NoMatch { .. })
        ));
        let moved = split_lines(b"x\ny\na\nb\nc\n");
        let hs = [h];
        let out = apply_hunks(moved, &hs, "f").unwrap();
        assert_eq!(out.concat(), b"x\ny\na\nb\nc\nd\n");
    }
}
