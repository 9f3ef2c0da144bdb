//! Applying a diff the way `git apply` does: each hunk's pre-image must
//! match exactly (no fuzz), at the stated line or, when lines have moved, at
//! the nearest offset. libgit2's apply only matches at the stated line and
//! reads the whole tree into an index; this reads and writes only the paths
//! the diff touches. It reads the diff through the one diff model
//! ([`crate::diff::Patch`]); binary patches are left to libgit2.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use git2::build::TreeUpdateBuilder;
use git2::{Diff, FileMode, Oid, Repository};

use crate::diff::patch::{Change, LineKind};
use crate::diff::Patch;

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

/// A hunk of the diff model as the applier needs it: its pre- and
/// post-image lines with their line ends.
fn hunk(h: &crate::diff::patch::Hunk) -> Hunk {
    let mut pre = Vec::new();
    let mut post = Vec::new();
    let mut previous = LineKind::Context;
    let mut trailing = 0usize;
    for l in &h.lines {
        let mut text = l.text.clone();
        text.push(b'\n');
        match l.kind {
            LineKind::Context => {
                pre.push(text.clone());
                post.push(text);
                trailing += 1;
            }
            LineKind::Removed => {
                pre.push(text);
                trailing = 0;
            }
            LineKind::Added => {
                post.push(text);
                trailing = 0;
            }
            // "\ No newline at end of file": the line right before it has
            // no newline, on its side.
            LineKind::NoNewline => match previous {
                LineKind::Removed => strip_newline(&mut pre),
                LineKind::Added => strip_newline(&mut post),
                _ => {
                    strip_newline(&mut pre);
                    strip_newline(&mut post);
                }
            },
        }
        previous = l.kind;
    }
    Hunk {
        new_start: h.new_start as usize,
        pre,
        post,
        match_beginning: h.old_start <= 1,
        match_end: trailing == 0,
    }
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
/// (found by the fuzz corpus under valgrind). Only binary patches go to
/// libgit2; callers fall back to `git apply`.
pub(super) fn parse_diff(text: &[u8]) -> Result<Diff<'static>, git2::Error> {
    if text.contains(&0) {
        return Err(git2::Error::from_str("the diff holds a NUL byte"));
    }
    Diff::from_buffer(text)
}

fn path_of(p: &[u8]) -> &Path {
    Path::new(std::ffi::OsStr::from_bytes(p))
}

/// Apply `patch` to the tree `base` with offsets allowed; returns the new
/// tree. Only the changed paths are read and written (a tree update), so
/// the cost follows the patch, not the size of the tree. A binary file
/// diff is [`OffsetError::Unsupported`].
pub fn apply(repo: &Repository, base: Oid, patch: &Patch) -> Result<Oid, OffsetError> {
    let tree = repo.find_tree(base)?;
    let mut update = TreeUpdateBuilder::new();
    for f in &patch.files {
        // Paths keep their bytes; the names are for messages.
        let (old_p, new_p) = (path_of(&f.old_path), path_of(&f.new_path));
        let old_path = String::from_utf8_lossy(&f.old_path).into_owned();
        let new_path = f.path();
        if f.binary {
            return Err(OffsetError::Unsupported(new_path));
        }
        let hs: Vec<Hunk> = f.hunks.iter().map(hunk).collect();
        match f.change {
            Change::Deleted => {
                tree.get_path(old_p)
                    .map_err(|_| OffsetError::Missing(old_path.clone()))?;
                update.remove(old_p);
            }
            Change::Added => {
                if tree.get_path(new_p).is_ok() {
                    return Err(OffsetError::Missing(format!("{new_path} (already exists)")));
                }
                let data: Vec<u8> = hs.iter().flat_map(|h| h.post.concat()).collect();
                let mode = f.new_mode.unwrap_or(0o100644);
                update.upsert(new_p, repo.blob(&data)?, file_mode(mode));
            }
            Change::Modified | Change::Renamed(_) | Change::Copied(_) => {
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
                if matches!(f.change, Change::Renamed(_)) {
                    update.remove(old_p);
                }
                let mode = f.new_mode.unwrap_or(old.filemode() as u32);
                update.upsert(new_p, id, file_mode(mode));
            }
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

/// The files `patch` changes, when it only changes text files in place (no
/// file added, deleted, renamed or copied, no mode change, nothing binary);
/// None otherwise, for [`apply`] and a tree merge to handle.
pub fn in_place(patch: &Patch) -> Option<Vec<InPlace>> {
    let mut out = Vec::new();
    for f in &patch.files {
        let same_mode = f.old_mode == f.new_mode || f.new_mode.is_none();
        if f.change != Change::Modified || f.old_path != f.new_path || !same_mode || f.binary {
            return None;
        }
        out.push(InPlace {
            path: f.new_path.clone(),
            hunks: f.hunks.iter().map(hunk).collect(),
        });
    }
    Some(out)
}

/// Apply one file's hunks of a parsed diff to `file`'s text with the same
/// rules as [`apply`], in memory. None when it does not apply.
pub fn apply_file(file: &[u8], diff: &crate::diff::patch::FileDiff) -> Option<Vec<u8>> {
    let hs: Vec<Hunk> = diff.hunks.iter().map(hunk).collect();
    apply_hunks(split_lines(file), &hs, "kernel-doc")
        .ok()
        .map(|l| l.concat())
}

/// Apply the first file of a unified diff to `file`'s text with the same
/// rules as [`apply`], in memory: the line applier on its own, for the fuzz
/// targets. None when the diff does not parse or does not apply.
pub fn apply_text(file: &[u8], diff_text: &[u8]) -> Option<Vec<u8>> {
    let patch = Patch::parse(diff_text).ok()?;
    let hs: Vec<Hunk> = patch.files.first()?.hunks.iter().map(hunk).collect();
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
    /// NUL byte, and reading the line read past its copy. libgit2 is not
    /// given such a diff; the diff model reads the line whole, as git
    /// apply does.
    #[test]
    fn a_diff_with_a_nul_byte_is_read_whole() {
        let diff = b"diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\0b\n+c\n";
        assert!(parse_diff(diff).is_err());
        assert_eq!(apply_text(b"a\0b\n", diff), Some(b"c\n".to_vec()));
        assert_eq!(apply_text(b"a\0c\n", diff), None);
        let clean = b"diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-ab\n+c\n";
        assert_eq!(apply_text(b"ab\n", clean), Some(b"c\n".to_vec()));
    }

    /// A carriage return is part of a line's text: a CRLF file's lines
    /// match and keep it.
    #[test]
    fn a_crlf_file_keeps_its_line_ends() {
        let diff = b"diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\r\n-b\r\n+c\r\n";
        assert_eq!(
            apply_text(b"a\r\nb\r\n", diff),
            Some(b"a\r\nc\r\n".to_vec())
        );
        assert_eq!(apply_text(b"a\nb\n", diff), None);
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
