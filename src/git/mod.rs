//! The only door to git. Everything that reads or writes a git repository goes
//! through [`Tree`] (git2); [`cmd`] is the one place that spawns `git` itself.

pub mod cmd;
mod id;
pub use id::{BadId, Id};
mod offsets;
pub use offsets::apply_text;
pub mod replay;
mod similarity;

use std::path::{Path, PathBuf};

use git2::{Delta, DiffFindOptions, DiffOptions, ObjectType, Oid, Repository};

use crate::diff::{self, FileStat, MAIL_STAT_WIDTH};
use crate::mail::{self, text::display_path};
use crate::model::{PatchMail, Person};

/// Errors from git operations, each naming the repository, revision or commit.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{path} is not a git repository")]
    NotARepo { path: PathBuf },
    #[error("unknown revision {rev:?} in {tree}{}", near_list(.near))]
    UnknownRev {
        rev: String,
        tree: PathBuf,
        near: Vec<String>,
    },
    #[error("{rev:?} names several refs: {}", .matches.join(", "))]
    Ambiguous { rev: String, matches: Vec<String> },
    #[error("the range {range} holds no commits")]
    EmptyRange { range: String },
    #[error("commit {id} ({subject}) is a merge; a series is a straight line of commits")]
    Merge { id: String, subject: String },
    #[error("the range {range} does not start on the base {base}: commit {id} ({subject}) has parent {parent}")]
    NotOnBase {
        range: String,
        base: String,
        id: String,
        subject: String,
        parent: String,
    },
    #[error("git failed while {doing}: {source}")]
    Git {
        doing: String,
        #[source]
        source: git2::Error,
    },
}

fn near_list(near: &[String]) -> String {
    if near.is_empty() {
        String::new()
    } else {
        format!("; near matches: {}", near.join(", "))
    }
}

/// Attach what we were doing to a git2 error.
pub(crate) trait Doing<T> {
    fn doing(self, what: impl FnOnce() -> String) -> Result<T, GitError>;
}

impl<T> Doing<T> for Result<T, git2::Error> {
    fn doing(self, what: impl FnOnce() -> String) -> Result<T, GitError> {
        self.map_err(|source| GitError::Git {
            doing: what(),
            source,
        })
    }
}

/// A base as the user named it and the commit it resolved to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The full name: the ref's short name, or the revision as given.
    pub name: String,
    pub id: Id,
}

/// A kernel tree (any git repository) opened through git2.
pub struct Tree {
    repo: Repository,
    path: PathBuf,
    abbrev: usize,
}

impl Tree {
    /// Open the repository at `path` (not searching parents).
    pub fn open(path: &Path) -> Result<Tree, GitError> {
        // libgit2 re-hashes every object it reads; git does not, and on a
        // kernel tree that doubles the cost of every tree walk.
        git2::opts::strict_hash_verification(false);
        let repo = Repository::open(path).map_err(|_| GitError::NotARepo {
            path: path.to_path_buf(),
        })?;
        // Diffs look up .gitattributes (diff drivers) in the worktree and
        // the index; reading a kernel tree's index file costs more than the
        // whole rest of a rebase. Nothing here uses the index, so give this
        // handle an empty one in memory. (Checkout opens its own handle.)
        if let Ok(mut empty) = git2::Index::new() {
            let _ = repo.set_index(&mut empty);
        }
        let abbrev = default_abbrev(&repo);
        Ok(Tree {
            repo,
            path: path.to_path_buf(),
            abbrev,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current branch's short name, when HEAD is on one.
    pub fn head_branch(&self) -> Option<String> {
        let h = self.repo.head().ok()?;
        h.shorthand()
            .ok()
            .map(str::to_string)
            .filter(|n| n != "HEAD")
    }

    /// The first non-empty line of a commit's message (git names patch
    /// files after it).
    pub fn first_line(&self, id: Id) -> Option<String> {
        let c = self.repo.find_commit(id.0).ok()?;
        let msg = String::from_utf8_lossy(c.message_bytes()).into_owned();
        msg.lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(str::to_string)
    }

    /// A string setting from the repository's git configuration.
    pub fn config_string(&self, key: &str) -> Option<String> {
        config_for(Some(&self.repo))?.get_string(key).ok()
    }
}

/// The one digest of series: git's blob id of `bytes` (SHA-1, 40 hex), used
/// for the checkpatch cache, the send journal and what the diffstat and a
/// paused rebase were computed from.
pub fn digest(bytes: &[u8]) -> String {
    Oid::hash_object(ObjectType::Blob, bytes)
        .map(|o| o.to_string())
        .unwrap_or_default()
}

/// When `dir` lies inside a git work tree but nothing under it is tracked
/// (`git clean -dfx` would delete it), that work tree's top.
pub fn untracked_in(dir: &Path) -> Option<PathBuf> {
    let repo = git2::Repository::discover(dir).ok()?;
    let top = repo.workdir()?.canonicalize().ok()?;
    let dir = dir.canonicalize().ok()?;
    let rel = dir.strip_prefix(&top).ok()?;
    if rel.as_os_str().is_empty() {
        return None;
    }
    let mut prefix = rel.to_string_lossy().into_owned();
    prefix.push('/');
    let index = repo.index().ok()?;
    let tracked = index.iter().any(|e| e.path.starts_with(prefix.as_bytes()));
    (!tracked).then_some(top)
}

/// A git configuration value as git reads it in `dir`: the system file
/// (unless `GIT_CONFIG_NOSYSTEM`; `GIT_CONFIG_SYSTEM` names another), the
/// user's (`GIT_CONFIG_GLOBAL`, else `$XDG_CONFIG_HOME/git/config` and
/// `~/.gitconfig`), then the repository's when `dir` is in one, the later
/// winning. Read through libgit2, not a `git config` process; libgit2's own
/// default search does not honour git's environment variables, hence the
/// files are named here as git's config.c finds them.
pub fn config_get(dir: &Path, key: &str) -> Option<String> {
    let repo = git2::Repository::discover(dir).ok();
    let cfg = config_for(repo.as_ref())?;
    cfg.get_string(key).ok().filter(|v| !v.is_empty())
}

fn config_for(repo: Option<&git2::Repository>) -> Option<git2::Config> {
    use git2::ConfigLevel;
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    let mut cfg = git2::Config::new().ok()?;
    let mut add = |p: PathBuf, level: ConfigLevel| {
        if p.is_file() {
            let _ = cfg.add_file(&p, level, true);
        }
    };
    let truthy = |v: std::ffi::OsString| !matches!(v.to_str(), Some("0" | "false" | "no" | ""));
    if !env("GIT_CONFIG_NOSYSTEM").is_some_and(truthy) {
        add(
            env("GIT_CONFIG_SYSTEM").map_or_else(|| PathBuf::from("/etc/gitconfig"), PathBuf::from),
            ConfigLevel::System,
        );
    }
    match env("GIT_CONFIG_GLOBAL") {
        Some(g) => add(PathBuf::from(g), ConfigLevel::Global),
        None => {
            let home = env("HOME").map(PathBuf::from);
            let xdg = env("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|h| h.join(".config")));
            if let Some(x) = xdg {
                add(x.join("git/config"), ConfigLevel::XDG);
            }
            if let Some(h) = home {
                add(h.join(".gitconfig"), ConfigLevel::Global);
            }
        }
    }
    if let Some(r) = repo {
        add(r.commondir().join("config"), ConfigLevel::Local);
    }
    Some(cfg)
}

impl Tree {
    /// Resolve a revision, or a short name contained in exactly one ref name
    /// (`mmotm-2017-03-14` finds `v4.11-rc2-mmotm-2017-03-14-15-41`).
    pub fn resolve(&self, rev: &str) -> Result<Resolved, GitError> {
        if let Ok(obj) = self.repo.revparse_single(rev) {
            if let Ok(commit) = obj.peel_to_commit() {
                return Ok(Resolved {
                    name: rev.to_string(),
                    id: Id(commit.id()),
                });
            }
        }
        let names = self.ref_names()?;
        let mut matches: Vec<&(String, String)> = names
            .iter()
            .filter(|(short, _)| short.contains(rev))
            .collect();
        // The same name as a tag and a remote branch is still one base when
        // they agree; prefer exact short names.
        if let Some(exact) = matches.iter().find(|(s, _)| s == rev) {
            matches = vec![*exact];
        }
        match matches.as_slice() {
            [(short, full)] => {
                let commit = self
                    .repo
                    .revparse_single(full)
                    .and_then(|o| o.peel_to_commit())
                    .doing(|| format!("reading {full}"))?;
                Ok(Resolved {
                    name: short.clone(),
                    id: Id(commit.id()),
                })
            }
            [] => Err(GitError::UnknownRev {
                rev: rev.to_string(),
                tree: self.path.clone(),
                near: nearest(rev, names.iter().map(|(s, _)| s.as_str())),
            }),
            many => Err(GitError::Ambiguous {
                rev: rev.to_string(),
                matches: many.iter().map(|(s, _)| s.clone()).collect(),
            }),
        }
    }

    /// Short and full names of tags and branches, local and remote.
    fn ref_names(&self) -> Result<Vec<(String, String)>, GitError> {
        let refs = self.repo.references().doing(|| "listing refs".into())?;
        let mut out = Vec::new();
        for r in refs.flatten() {
            let (Ok(full), Ok(short)) = (r.name(), r.shorthand()) else {
                continue;
            };
            if full.starts_with("refs/tags/")
                || full.starts_with("refs/heads/")
                || full.starts_with("refs/remotes/")
            {
                out.push((short.to_string(), full.to_string()));
            }
        }
        out.sort();
        Ok(out)
    }

    /// The commits of `range` (default `base..HEAD`), oldest first, checked to
    /// be a straight line that starts on `base`.
    pub fn series_commits(
        &self,
        base: &Resolved,
        range: Option<&str>,
    ) -> Result<Vec<Id>, GitError> {
        let (range_text, bottom, top) = match range {
            Some(r) if r.contains("..") => {
                let (a, b) = r.split_once("..").unwrap_or((r, ""));
                let b = if b.is_empty() { "HEAD" } else { b };
                (r.to_string(), self.resolve(a)?.id, self.resolve(b)?.id)
            }
            Some(r) => (format!("{}..{r}", base.name), base.id, self.resolve(r)?.id),
            None => (
                format!("{}..HEAD", base.name),
                base.id,
                self.resolve("HEAD")?.id,
            ),
        };
        let mut walk = self.repo.revwalk().doing(|| "walking commits".into())?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
            .doing(|| "walking commits".into())?;
        walk.push(top.0).doing(|| format!("walking {range_text}"))?;
        walk.hide(bottom.0)
            .doing(|| format!("walking {range_text}"))?;
        let ids: Vec<Oid> = walk
            .collect::<Result<_, _>>()
            .doing(|| format!("walking {range_text}"))?;
        if ids.is_empty() {
            return Err(GitError::EmptyRange { range: range_text });
        }
        for id in &ids {
            let c = self
                .repo
                .find_commit(*id)
                .doing(|| format!("reading {id}"))?;
            if c.parent_count() > 1 {
                return Err(GitError::Merge {
                    id: short(Id(*id)),
                    subject: c.summary().ok().flatten().unwrap_or("").to_string(),
                });
            }
        }
        let mut expected = base.id.0;
        for id in &ids {
            let c = self
                .repo
                .find_commit(*id)
                .doing(|| format!("reading {id}"))?;
            let subject = c.summary().ok().flatten().unwrap_or("").to_string();
            let parent = c.parent_id(0).unwrap_or(Oid::ZERO_SHA1);
            if parent != expected {
                return Err(GitError::NotOnBase {
                    range: range_text,
                    base: format!("{} ({})", base.name, short(base.id)),
                    id: short(Id(*id)),
                    subject,
                    parent: short(Id(parent)),
                });
            }
            expected = *id;
        }
        Ok(ids.into_iter().map(Id).collect())
    }

    /// A commit as the mail `git format-patch` writes for it.
    pub fn commit_mail(&self, id: Id) -> Result<PatchMail, GitError> {
        let id = id.0;
        let c = self
            .repo
            .find_commit(id)
            .doing(|| format!("reading commit {id}"))?;
        let parent = c
            .parent(0)
            .doing(|| format!("reading the parent of {id}"))?;
        let old = parent
            .tree()
            .doing(|| format!("reading the tree of {}", parent.id()))?;
        let new = c.tree().doing(|| format!("reading the tree of {id}"))?;
        let (stat, body) = self.diff_trees(&old, &new, true)?;
        let mut section = stat.into_bytes();
        section.push(b'\n');
        section.extend_from_slice(&body);
        let author = c.author();
        let when = author.when();
        // git format-patch re-encodes a commit that declares another
        // `encoding` to UTF-8 (pretty.c, logmsg_reencode); one that declares
        // none must already be UTF-8.
        let label = c
            .message_encoding()
            .ok()
            .flatten()
            .unwrap_or("UTF-8")
            .to_string();
        let decode = |bytes: &[u8], what: &str| -> Result<String, GitError> {
            let enc = encoding_rs::Encoding::for_label(label.as_bytes()).ok_or_else(|| {
                GitError::Git {
                    doing: format!("reading commit {id}"),
                    source: git2::Error::from_str(&format!("unknown encoding {label:?}")),
                }
            })?;
            match enc.decode_without_bom_handling_and_without_replacement(bytes) {
                Some(t) => Ok(t.into_owned()),
                None => Err(GitError::Git {
                    doing: format!("reading commit {id}"),
                    source: git2::Error::from_str(&format!(
                        "its {what} is not valid {label}; fix the commit (git commit --amend) so it can be mailed"
                    )),
                }),
            }
        };
        let message = decode(c.message_bytes(), "message")?;
        let (title, body) = mail::split_message(&message);
        Ok(PatchMail {
            commit: id.to_string(),
            author: Person {
                name: decode(author.name_bytes(), "author name")?,
                email: decode(author.email_bytes(), "author email")?,
            },
            date: mail::text::rfc2822_date(when.seconds(), when.offset_minutes()),
            title,
            body,
            diff: section,
        })
    }

    /// The diffstat and summary between two commits, as in a cover letter.
    pub fn stat_between(&self, a: Id, b: Id) -> Result<String, GitError> {
        let ta = self.tree_of(a.0)?;
        let tb = self.tree_of(b.0)?;
        Ok(self.diff_trees(&ta, &tb, false)?.0)
    }

    /// The diffstat of a whole series, from its patch files: the patches
    /// applied in memory on the base, then the base and the result diffed.
    /// None when the tree lacks the base or a patch does not apply.
    pub fn series_stat(
        &self,
        base: &str,
        patches: &[PatchMail],
    ) -> Result<Option<String>, GitError> {
        if !self.has_commit(base) {
            return Ok(None);
        }
        let Ok(base) = Oid::from_str(base) else {
            return Ok(None);
        };
        let start = self.tree_of(base)?;
        let mut at = Id(start.id());
        for p in patches {
            match self.apply_to(at, p)? {
                replay::Applied::Tree(t) => at = t,
                replay::Applied::Rejected(_) => return Ok(None),
            }
        }
        let end = self
            .repo
            .find_tree(at.0)
            .doing(|| format!("reading tree {at}"))?;
        Ok(Some(self.diff_trees(&start, &end, false)?.0))
    }

    fn tree_of(&self, id: Oid) -> Result<git2::Tree<'_>, GitError> {
        self.repo
            .find_commit(id)
            .and_then(|c| c.tree())
            .doing(|| format!("reading the tree of {id}"))
    }

    /// Diff two trees as format-patch does: stat+summary text, and (when
    /// `with_patch`) the patch text with git's exact file headers.
    fn diff_trees(
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

        let binaries = if with_patch {
            binary_deltas(&d)?
        } else {
            Vec::new()
        };
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
                if let Some((_, fwd, rev)) = binaries.iter().find(|(k, _, _)| *k == i) {
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
    fn changed_paths(
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
        for name in names {
            let ea = a.iter().find(|e| &e.0 == name);
            let eb = b.iter().find(|e| &e.0 == name);
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
        similarity::rename_score(&read(old), &read(new))
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

    /// Whether an object exists and is a commit.
    pub fn has_commit(&self, id: &str) -> bool {
        Oid::from_str(id)
            .ok()
            .and_then(|oid| self.repo.find_object(oid, Some(ObjectType::Commit)).ok())
            .is_some()
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

/// Twelve hex digits of an id, for messages.
pub fn short(id: Id) -> String {
    let id = id.0;
    id.to_string()[..12].to_string()
}

/// git's default abbreviation: `core.abbrev` when set, else from the number of
/// packed objects (7 for small repositories, 12 for a kernel tree), as git's
/// `repo_approximate_object_count` counts them (object-file.c, packfile.c):
/// every pack of the repository's object store, which for a linked worktree
/// is the common one, and of its alternates; a multi-pack index counts for
/// the packs it covers.
fn default_abbrev(repo: &Repository) -> usize {
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
fn object_dirs(objects: &Path) -> Vec<PathBuf> {
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

/// Up to five names closest to `wanted` by edit distance.
pub fn nearest<'a>(wanted: &str, names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut scored: Vec<(usize, &str)> = names
        .map(|n| (strsim(wanted, n), n))
        .filter(|(d, n)| {
            *d <= wanted.len().max(3) / 2 + 2 || n.contains(wanted) || wanted.contains(*n)
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(5)
        .map(|(_, n)| n.to_string())
        .collect()
}

/// Levenshtein distance.
fn strsim(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
