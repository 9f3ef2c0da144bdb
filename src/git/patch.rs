//! Commits as git format-patch writes them: the diffstat and summary, the
//! patch text with git's exact headers (index lines abbreviated as git
//! abbreviates, rename scores computed as git computes them), and binary
//! patches. The layout follows git's diff.c (`show_stats`, `show_summary`,
//! `builtin_diff`).

use git2::{Delta, DiffFindOptions, DiffOptions, ObjectType, Oid};

use super::{Doing, GitError, Tree};
use crate::diff::{self, FileStat, MAIL_STAT_WIDTH};
use crate::mail::text::display_path;

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
        let mut opts = DiffOptions::new();
        opts.id_abbrev(40)
            .show_binary(true)
            .context_lines(3)
            .interhunk_lines(0);
        let mut d = self.diff_changed(old, new, &mut opts)?;
        let mut find = DiffFindOptions::new();
        find.renames(true)
            .rename_threshold(50)
            .exact_match_only(false);
        d.find_similar(Some(&mut find))
            .doing(|| "finding renames".into())?;

        // The binary payloads need a second pass over the whole diff: only
        // made when a file turns out to be binary.
        let mut binaries: Option<BinaryDeltas> = None;
        let mut stats = Vec::new();
        let mut summary = String::new();
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
            let mut p = git2::Patch::from_diff(&d, i)
                .doing(|| format!("diffing {}", display_path(&new_path)))?
                .ok_or_else(|| GitError::Git {
                    doing: format!("diffing {}", display_path(&new_path)),
                    source: git2::Error::from_str("no patch"),
                })?;
            let binary = delta.flags().is_binary();
            let name = match delta.status() {
                Delta::Renamed | Delta::Copied => diff::rename_name(&old_path, &new_path),
                _ => display_path(&new_path),
            };
            let (added, deleted) = if binary {
                (self.blob_size(new_id), self.blob_size(old_id))
            } else {
                let (_, a, d) = p.line_stats().doing(|| "counting lines".into())?;
                (a, d)
            };
            stats.push(FileStat {
                name,
                added,
                deleted,
                binary,
            });
            push_summary(
                &mut summary,
                &delta,
                &old_path,
                &new_path,
                old_mode,
                new_mode,
                score,
            );
            if with_patch {
                let buf = p.to_buf().doing(|| "printing the diff".into())?;
                let mut fixed =
                    self.fix_header(&buf, old_id, new_id, old_mode, new_mode, binary, score);
                if binary && binaries.is_none() {
                    binaries = Some(binary_deltas(&d)?);
                }
                let found = binaries.iter().flatten().find(|(k, _, _)| *k == i);
                if let Some((_, fwd, rev)) = found {
                    let cut = find_bytes(&fixed, b"GIT binary patch\n").unwrap_or(fixed.len());
                    fixed.truncate(cut);
                    fixed.extend_from_slice(b"GIT binary patch\n");
                    let old_data = self.blob_bytes(old_id);
                    let new_data = self.blob_bytes(new_id);
                    fixed.extend_from_slice(&diff::binary::body(&new_data, fwd.as_deref()));
                    fixed.extend_from_slice(&diff::binary::body(&old_data, rev.as_deref()));
                }
                patch_text.extend_from_slice(&fixed);
            }
        }
        let mut text = diff::render_stat(&stats, MAIL_STAT_WIDTH);
        text.push_str(&summary);
        Ok((text, patch_text))
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
        if paths.is_empty() {
            // Nothing differs: a path list that matches nothing.
            opts.pathspec("\u{1}series-nothing");
        }
        for p in &paths {
            opts.pathspec(p.as_slice());
        }
        opts.disable_pathspec_match(true);
        self.repo
            .diff_tree_to_tree(Some(old), Some(new), Some(opts))
            .doing(|| "diffing trees".into())
    }

    /// Collect the paths of blobs that differ between two trees, skipping
    /// subtrees whose ids are equal.
    pub(super) fn changed_paths(
        &self,
        old: Option<&git2::Tree<'_>>,
        new: Option<&git2::Tree<'_>>,
        prefix: &mut Vec<u8>,
        out: &mut Vec<Vec<u8>>,
    ) -> Result<(), GitError> {
        // name, id, is a tree, mode
        type Entry = (Vec<u8>, Oid, bool, i32);
        let entries = |t: Option<&git2::Tree<'_>>| -> Vec<Entry> {
            t.map(|t| {
                t.iter()
                    .map(|e| {
                        (
                            e.name_bytes().to_vec(),
                            e.id(),
                            e.kind() == Some(ObjectType::Tree),
                            e.filemode(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
        };
        let (a, b) = (entries(old), entries(new));
        let mut names: Vec<&Vec<u8>> = a
            .iter()
            .map(|e| &e.0)
            .chain(b.iter().map(|e| &e.0))
            .collect();
        names.sort();
        names.dedup();
        // A kernel tree's folders hold hundreds of entries: look names up.
        let index = |v: &[Entry]| -> std::collections::HashMap<Vec<u8>, usize> {
            v.iter()
                .enumerate()
                .map(|(i, e)| (e.0.clone(), i))
                .collect()
        };
        let (ia, ib) = (index(&a), index(&b));
        for name in names {
            let ea = ia.get(name).map(|&i| &a[i]);
            let eb = ib.get(name).map(|&i| &b[i]);
            if let (Some(x), Some(y)) = (ea, eb) {
                if x.1 == y.1 && x.2 == y.2 && x.3 == y.3 {
                    continue;
                }
            }
            let len = prefix.len();
            prefix.extend_from_slice(name);
            let sub = |e: Option<&Entry>| -> Result<Option<git2::Tree<'_>>, GitError> {
                match e {
                    Some((_, id, true, _)) => Ok(Some(
                        self.repo
                            .find_tree(*id)
                            .doing(|| format!("reading tree {id}"))?,
                    )),
                    _ => Ok(None),
                }
            };
            let (ta, tb) = (sub(ea)?, sub(eb)?);
            if ta.is_some() || tb.is_some() {
                prefix.push(b'/');
                self.changed_paths(ta.as_ref(), tb.as_ref(), prefix, out)?;
            }
            if ea.is_some_and(|e| !e.2) || eb.is_some_and(|e| !e.2) {
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
        let Ok(odb) = self.repo.odb() else {
            return hex[..self.abbrev].to_string();
        };
        let mut len = self.abbrev;
        while len < hex.len() {
            let Ok(prefix) = Oid::from_str(&hex[..len]) else {
                break;
            };
            if odb.exists_prefix(prefix, len).is_ok() {
                break;
            }
            len += 1;
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

/// The raw deltas libgit2 computed for each binary file: delta index, then
/// forward (old to new) and reverse, when libgit2 chose a delta.
type BinaryDeltas = Vec<(usize, Option<Vec<u8>>, Option<Vec<u8>>)>;

fn binary_deltas(d: &git2::Diff<'_>) -> Result<BinaryDeltas, GitError> {
    let mut out: BinaryDeltas = Vec::new();
    // foreach calls the file callback once per delta, in order.
    let files = std::cell::Cell::new(0usize);
    let raw = |f: git2::DiffBinaryFile<'_>| match f.kind() {
        git2::DiffBinaryKind::Delta => diff::binary::inflate(f.data()).ok(),
        _ => None,
    };
    d.foreach(
        &mut |_, _| {
            files.set(files.get() + 1);
            true
        },
        Some(&mut |_, b| {
            out.push((
                files.get().saturating_sub(1),
                raw(b.new_file()),
                raw(b.old_file()),
            ));
            true
        }),
        None,
        None,
    )
    .doing(|| "reading binary diffs".into())?;
    Ok(out)
}

fn find_bytes(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn path_bytes(p: Option<&[u8]>) -> Vec<u8> {
    p.map(<[u8]>::to_vec).unwrap_or_default()
}
