//! Commits as git format-patch writes them: the diffstat and summary, the
//! patch text with git's exact headers (index lines abbreviated as git
//! abbreviates, rename scores computed as git computes them), and binary
//! patches. The layout follows git's diff.c (`show_stats`, `show_summary`,
//! `builtin_diff`).

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use git2::{Delta, DiffFindOptions, DiffOptions, ObjectType, Oid};

use super::{Doing, GitError, Tree};
use crate::diff::{self, FileStat, MAIL_STAT_WIDTH};
use crate::text::display_path;

/// One file of a diff: its stat line, its summary lines, and what the
/// whole-series stat needs to know of it.
#[derive(Clone, Debug)]
pub(crate) struct FileEntry {
    /// Where libgit2 sorts it.
    pub key: Vec<u8>,
    pub old_path: Vec<u8>,
    pub new_path: Vec<u8>,
    /// A text file changed in place (same path, same mode).
    pub in_place: bool,
    pub stat: FileStat,
    /// ` create mode ...` and the like; empty for most files.
    pub summary: String,
}

pub(crate) struct DiffParts {
    pub files: Vec<FileEntry>,
    pub patch: Vec<u8>,
}

/// The stat lines and then the summary lines, as git lays them out.
pub(crate) fn render_stat(files: &[FileEntry]) -> String {
    let stats: Vec<FileStat> = files.iter().map(|f| f.stat.clone()).collect();
    let mut text = diff::render_stat(&stats, MAIL_STAT_WIDTH);
    for f in files {
        text.push_str(&f.summary);
    }
    text
}

/// The patch of delta `i` of `d`.
fn file_patch<'d>(
    d: &'d git2::Diff<'_>,
    i: usize,
    path: &[u8],
) -> Result<git2::Patch<'d>, GitError> {
    git2::Patch::from_diff(d, i)
        .doing(|| format!("diffing {}", display_path(path)))?
        .ok_or_else(|| GitError::Git {
            doing: format!("diffing {}", display_path(path)),
            source: git2::Error::from_str("no patch"),
        })
}

impl Tree {
    /// Diff two trees as format-patch does: stat+summary text, and (when
    /// `with_patch`) the patch text with git's exact file headers.
    // Follows git's diff.c (builtin_diff, show_stats) step by step, so that
    // it can be read beside it.
    pub(super) fn diff_trees(
        &self,
        old: &git2::Tree<'_>,
        new: &git2::Tree<'_>,
        with_patch: bool,
    ) -> Result<(String, Vec<u8>), GitError> {
        let parts = self.diff_parts(old, new, with_patch, None)?;
        Ok((render_stat(&parts.files), parts.patch))
    }

    /// [`Tree::diff_trees`] before the stat is laid out: one entry per file
    /// in git's order. With `paths`, only those paths are diffed.
    pub(super) fn diff_parts(
        &self,
        old: &git2::Tree<'_>,
        new: &git2::Tree<'_>,
        with_patch: bool,
        paths: Option<&[Vec<u8>]>,
    ) -> Result<DiffParts, GitError> {
        let mut opts = patch_options();
        let mut d = match paths {
            Some(p) => self.diff_paths(old, new, &mut opts, p)?,
            None => self.diff_changed(old, new, &mut opts)?,
        };
        let mut find = DiffFindOptions::new();
        find.renames(true)
            .rename_threshold(50)
            .exact_match_only(false);
        d.find_similar(Some(&mut find))
            .doing(|| "finding renames".into())?;

        // The binary payloads need a second pass over the whole diff: only
        // made when a file turns out to be binary.
        let mut files = Vec::new();
        let mut patch_text = Vec::new();
        for i in 0..d.deltas().len() {
            let Some(delta) = d.get_delta(i) else {
                continue;
            };
            let old_path = path_bytes(delta.old_file().path_bytes());
            let new_path = path_bytes(delta.new_file().path_bytes());
            let old_mode = u32::from(delta.old_file().mode());
            let new_mode = u32::from(delta.new_file().mode());
            let old_id = delta.old_file().id();
            let new_id = delta.new_file().id();
            let score = if delta.status() == Delta::Renamed {
                Some(self.rename_score(old_id, new_id))
            } else {
                None
            };
            let mut p = file_patch(&d, i, &new_path)?;
            let binary = delta.flags().is_binary();
            let name = match delta.status() {
                Delta::Renamed | Delta::Copied => diff::rename_name(&old_path, &new_path),
                _ => display_path(&new_path),
            };
            let (added, deleted) = self.counts(&p, binary, old_id, new_id)?;
            let mut summary = String::new();
            let (o, n) = (&old_path, &new_path);
            push_summary(&mut summary, &delta, o, n, old_mode, new_mode, score);
            let in_place =
                delta.status() == Delta::Modified && o == n && old_mode == new_mode && !binary;
            // libgit2's order of deltas (diff.c, git_diff_delta__cmp).
            let key = match delta.status() {
                Delta::Added | Delta::Renamed | Delta::Copied => new_path.clone(),
                _ => old_path.clone(),
            };
            files.push(FileEntry {
                key,
                old_path,
                new_path,
                in_place,
                stat: FileStat {
                    name,
                    added,
                    deleted,
                    binary,
                },
                summary,
            });
            if with_patch {
                let buf = p.to_buf().doing(|| "printing the diff".into())?;
                let fixed =
                    self.fix_header(&buf, old_id, new_id, old_mode, new_mode, binary, score);
                patch_text.extend_from_slice(&self.with_binary(fixed, binary, old_id, new_id));
            }
        }
        Ok(DiffParts {
            files,
            patch: patch_text,
        })
    }

    /// Lines added and deleted (the blobs' sizes for a binary file, as
    /// git's diffstat counts bytes).
    fn counts(
        &self,
        p: &git2::Patch<'_>,
        binary: bool,
        old_id: Oid,
        new_id: Oid,
    ) -> Result<(usize, usize), GitError> {
        if binary {
            return Ok((self.blob_size(new_id), self.blob_size(old_id)));
        }
        let (_, a, d) = p.line_stats().doing(|| "counting lines".into())?;
        Ok((a, d))
    }

    /// A file's diff with its binary payload as git writes it: each
    /// direction its own delta (or literal), deflated with the system's
    /// zlib, as git links it.
    fn with_binary(&self, mut fixed: Vec<u8>, binary: bool, old_id: Oid, new_id: Oid) -> Vec<u8> {
        if !binary {
            return fixed;
        }
        if let Some(cut) = find_bytes(&fixed, b"GIT binary patch\n") {
            fixed.truncate(cut);
            fixed.extend_from_slice(b"GIT binary patch\n");
            let old_data = self.blob_bytes(old_id);
            let new_data = self.blob_bytes(new_id);
            fixed.extend_from_slice(&diff::binary::section(&old_data, &new_data));
            fixed.extend_from_slice(&diff::binary::section(&new_data, &old_data));
        }
        fixed
    }

    /// The diff of files known to be the only ones that differ, each
    /// changed in place (same path, same mode), diffed blob to blob: no
    /// tree is compared. The same result as [`Tree::diff_parts`]; None when
    /// a file is not such a change (or is binary), for it to handle.
    pub(super) fn diff_in_place(
        &self,
        old: &git2::Tree<'_>,
        new: &git2::Tree<'_>,
        paths: &[Vec<u8>],
    ) -> Result<Option<DiffParts>, GitError> {
        let mut opts = patch_options();
        let mut sorted: Vec<&Vec<u8>> = paths.iter().collect();
        sorted.sort();
        let mut files = Vec::new();
        let mut patch_text = Vec::new();
        for path in sorted {
            let p = Path::new(std::ffi::OsStr::from_bytes(path));
            let (Ok(a), Ok(b)) = (old.get_path(p), new.get_path(p)) else {
                return Ok(None);
            };
            let (mode, b_mode) = (a.filemode() as u32, b.filemode() as u32);
            let blob = Some(ObjectType::Blob);
            if mode != b_mode || a.kind() != blob || b.kind() != blob {
                return Ok(None);
            }
            if a.id() == b.id() {
                continue;
            }
            let name = || display_path(path);
            let find = |id: Oid| {
                self.repo
                    .find_blob(id)
                    .doing(|| format!("reading {}", name()))
            };
            let (ab, bb) = (find(a.id())?, find(b.id())?);
            let mut patch = git2::Patch::from_blobs(&ab, Some(p), &bb, Some(p), Some(&mut opts))
                .doing(|| format!("diffing {}", name()))?;
            if patch.delta().flags().is_binary() {
                return Ok(None);
            }
            let (_, added, deleted) = patch.line_stats().doing(|| "counting lines".into())?;
            let buf = patch.to_buf().doing(|| "printing the diff".into())?;
            patch_text.extend_from_slice(&self.fix_header(
                &buf,
                a.id(),
                b.id(),
                mode,
                mode,
                false,
                None,
            ));
            files.push(FileEntry {
                key: path.clone(),
                old_path: path.clone(),
                new_path: path.clone(),
                in_place: true,
                stat: FileStat {
                    name: name(),
                    added,
                    deleted,
                    binary: false,
                },
                summary: String::new(),
            });
        }
        Ok(Some(DiffParts {
            files,
            patch: patch_text,
        }))
    }

    /// A tree-to-tree diff that reads only the subtrees that differ:
    /// libgit2 walks every entry of both trees otherwise.
    pub(crate) fn diff_changed(
        &self,
        old: &git2::Tree<'_>,
        new: &git2::Tree<'_>,
        opts: &mut DiffOptions,
    ) -> Result<git2::Diff<'_>, GitError> {
        let mut paths = Vec::new();
        self.changed_paths(Some(old), Some(new), &mut Vec::new(), &mut paths)?;
        self.diff_paths(old, new, opts, &paths)
    }

    /// A tree-to-tree diff of the given paths only.
    pub(crate) fn diff_paths(
        &self,
        old: &git2::Tree<'_>,
        new: &git2::Tree<'_>,
        opts: &mut DiffOptions,
        paths: &[Vec<u8>],
    ) -> Result<git2::Diff<'_>, GitError> {
        if paths.is_empty() {
            // Nothing differs: a path list that matches nothing.
            opts.pathspec("\u{1}series-nothing");
        }
        for p in paths {
            opts.pathspec(p.as_slice());
        }
        opts.disable_pathspec_match(true);
        self.repo
            .diff_tree_to_tree(Some(old), Some(new), Some(opts))
            .doing(|| "diffing trees".into())
    }

    /// Collect the paths of blobs that differ between two trees, skipping
    /// subtrees whose ids are equal. Both trees' entries are walked side by
    /// side in git's order (a file and a folder of the same name are two
    /// entries), so a folder costs one pass and no allocation per entry.
    pub(super) fn changed_paths(
        &self,
        old: Option<&git2::Tree<'_>>,
        new: Option<&git2::Tree<'_>>,
        prefix: &mut Vec<u8>,
        out: &mut Vec<Vec<u8>>,
    ) -> Result<(), GitError> {
        use std::cmp::Ordering;
        let is_tree = |e: &git2::TreeEntry<'_>| e.kind() == Some(ObjectType::Tree);
        let (mut i, mut j) = (0, 0);
        loop {
            let (ea, eb) = (old.and_then(|t| t.get(i)), new.and_then(|t| t.get(j)));
            let ord = match (&ea, &eb) {
                (Some(x), Some(y)) => {
                    git_order(x.name_bytes(), is_tree(x), y.name_bytes(), is_tree(y))
                }
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => break,
            };
            let (x, y) = match ord {
                Ordering::Less => {
                    i += 1;
                    (ea, None)
                }
                Ordering::Greater => {
                    j += 1;
                    (None, eb)
                }
                Ordering::Equal => {
                    i += 1;
                    j += 1;
                    (ea, eb)
                }
            };
            if let (Some(x), Some(y)) = (&x, &y) {
                if x.id() == y.id() && x.filemode() == y.filemode() {
                    continue;
                }
            }
            let Some(name) = x.as_ref().or(y.as_ref()).map(|e| e.name_bytes().to_vec()) else {
                continue;
            };
            let len = prefix.len();
            prefix.extend_from_slice(&name);
            let sub =
                |e: &Option<git2::TreeEntry<'_>>| -> Result<Option<git2::Tree<'_>>, GitError> {
                    match e {
                        Some(e) if is_tree(e) => Ok(Some(
                            self.repo
                                .find_tree(e.id())
                                .doing(|| format!("reading tree {}", e.id()))?,
                        )),
                        _ => Ok(None),
                    }
                };
            let (ta, tb) = (sub(&x)?, sub(&y)?);
            if ta.is_some() || tb.is_some() {
                prefix.push(b'/');
                self.changed_paths(ta.as_ref(), tb.as_ref(), prefix, out)?;
            }
            if x.as_ref().is_some_and(|e| !is_tree(e)) || y.as_ref().is_some_and(|e| !is_tree(e)) {
                prefix.truncate(len + name.len());
                out.push(prefix.clone());
            }
            prefix.truncate(len);
        }
        Ok(())
    }

    /// Rewrite libgit2's file header lines where git prints them differently:
    /// the abbreviated ids of the `index` line and the similarity score.
    #[allow(clippy::too_many_arguments)]
    fn fix_header(
        &self,
        buf: &[u8],
        old_id: Oid,
        new_id: Oid,
        old_mode: u32,
        new_mode: u32,
        binary: bool,
        score: Option<u32>,
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(buf.len() + 16);
        let has_hunks = find_bytes(buf, b"\n@@ ").is_some();
        let mut in_header = true;
        for line in buf.split_inclusive(|&b| b == b'\n') {
            if in_header
                && (line.starts_with(b"--- ")
                    || line.starts_with(b"@@")
                    || line.starts_with(b"GIT binary patch")
                    || line.starts_with(b"Binary files"))
            {
                in_header = false;
            }
            if !has_hunks && (line.starts_with(b"--- ") || line.starts_with(b"+++ ")) && !binary {
                continue;
            }
            // git trims the function context of a hunk header (cut at 80
            // bytes) of trailing white space; libgit2 does not.
            if line.starts_with(b"@@ -") {
                let body = line.strip_suffix(b"\n").unwrap_or(line);
                let end = body
                    .iter()
                    .rposition(|b| !b.is_ascii_whitespace())
                    .map_or(0, |i| i + 1);
                out.extend_from_slice(&body[..end]);
                out.push(b'\n');
                continue;
            }
            if in_header && line.starts_with(b"index ") {
                let full = binary;
                let a = self.abbrev_id(old_id, full);
                let b = self.abbrev_id(new_id, full);
                out.extend_from_slice(format!("index {a}..{b}").as_bytes());
                if old_mode == new_mode {
                    out.extend_from_slice(format!(" {old_mode:06o}").as_bytes());
                }
                out.push(b'\n');
                continue;
            }
            if in_header && line.starts_with(b"similarity index ") {
                if let Some(s) = score {
                    out.extend_from_slice(format!("similarity index {s}%\n").as_bytes());
                    continue;
                }
            }
            out.extend_from_slice(line);
        }
        out
    }

    fn rename_score(&self, old: Oid, new: Oid) -> u32 {
        if old == new {
            return 100;
        }
        let read = |id| {
            self.repo
                .find_blob(id)
                .map(|b| b.content().to_vec())
                .unwrap_or_default()
        };
        super::similarity::rename_score(&read(old), &read(new))
    }

    fn blob_bytes(&self, id: Oid) -> Vec<u8> {
        if id.is_zero() {
            return Vec::new();
        }
        self.repo
            .find_blob(id)
            .map(|b| b.content().to_vec())
            .unwrap_or_default()
    }

    fn blob_size(&self, id: Oid) -> usize {
        if id.is_zero() {
            return 0;
        }
        self.repo
            .odb()
            .and_then(|odb| odb.read_header(id))
            .map(|(size, _)| size)
            .unwrap_or(0)
    }

    /// An id abbreviated as git does: the repository's default length, made
    /// longer until it is unique.
    pub fn abbrev_id(&self, id: Oid, full: bool) -> String {
        let hex = id.to_string();
        if full {
            return hex;
        }
        if id.is_zero() {
            return hex[..self.abbrev].to_string();
        }
        // Longer until no other object shares the start, as git's
        // find_unique_abbrev does.
        let Ok(odb) = self.repo.odb() else {
            return hex[..self.abbrev].to_string();
        };
        let mut len = self.abbrev;
        while len < hex.len() {
            let short = Oid::from_str(&hex[..len]).unwrap_or(id);
            match odb.exists_prefix(short, len) {
                Err(e) if e.code() == git2::ErrorCode::Ambiguous => len += 1,
                _ => break,
            }
        }
        hex[..len].to_string()
    }
}

/// Append git's `--summary` lines for one file.
fn push_summary(
    out: &mut String,
    delta: &git2::DiffDelta<'_>,
    old_path: &[u8],
    new_path: &[u8],
    old_mode: u32,
    new_mode: u32,
    score: Option<u32>,
) {
    match delta.status() {
        Delta::Added => out.push_str(&format!(
            " create mode {new_mode:06o} {}\n",
            display_path(new_path)
        )),
        Delta::Deleted => out.push_str(&format!(
            " delete mode {old_mode:06o} {}\n",
            display_path(old_path)
        )),
        Delta::Renamed => {
            out.push_str(&format!(
                " rename {} ({}%)\n",
                diff::rename_name(old_path, new_path),
                score.unwrap_or(100)
            ));
            if old_mode != new_mode {
                out.push_str(&format!(" mode change {old_mode:06o} => {new_mode:06o}\n"));
            }
        }
        _ => {
            if old_mode != new_mode && old_mode != 0 && new_mode != 0 {
                out.push_str(&format!(
                    " mode change {old_mode:06o} => {new_mode:06o} {}\n",
                    display_path(new_path)
                ));
            }
        }
    }
}

fn find_bytes(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn path_bytes(p: Option<&[u8]>) -> Vec<u8> {
    p.map(<[u8]>::to_vec).unwrap_or_default()
}

/// How git orders the entries of a tree: by name, a folder's name compared
/// as if it ended in '/' (git's read-cache.c, `base_name_compare`).
fn git_order(a: &[u8], a_tree: bool, b: &[u8], b_tree: bool) -> std::cmp::Ordering {
    let n = a.len().min(b.len());
    a[..n].cmp(&b[..n]).then_with(|| {
        let end =
            |name: &[u8], tree: bool| name.get(n).copied().unwrap_or(if tree { b'/' } else { 0 });
        end(a, a_tree).cmp(&end(b, b_tree))
    })
}

/// The options of every diff rendered as a patch: full ids (abbreviated
/// later), binary payloads, three lines of context, hunks kept apart as
/// git keeps them, and git's default diff.indentHeuristic (where a changed
/// block can slide, its ends go where the indentation says).
fn patch_options() -> DiffOptions {
    let mut opts = DiffOptions::new();
    opts.id_abbrev(40)
        .show_binary(true)
        .context_lines(3)
        .interhunk_lines(0)
        .indent_heuristic(true);
    opts
}
