//! The only door to git. Everything that reads or writes a git repository goes
//! through [`Tree`] (git2's public API: no backend of libgit2 is touched
//! underneath, no git file is written by hand) or [`cmd`], the one place
//! that spawns `git` on a repository: it checks branches out, writes the
//! tags and branch settings of a b4 export, makes the scratch worktrees of
//! `check --build`, sends mail, and applies a binary patch libgit2 cannot
//! parse. (`git mailinfo`, which reads a message and no repository, runs
//! from `attest`.) New objects of a rebase or an apply wait in a libgit2
//! mempack and reach the object store as one pack ([`stage`]).

mod abbrev;
mod branch;
pub mod cmd;
mod config;
mod dirs;
pub use dirs::{dirs, untracked_in, Dirs};
mod id;
mod landed;
mod lookup;
pub use landed::{Found, MatchedBy};
pub use lookup::Public;
mod merge;
use abbrev::default_abbrev;
use config::config_for;
pub use config::{config_get, file_get};
pub use id::{BadId, Id};
mod offsets;
pub use offsets::{apply_file, apply_text};
mod patch;
pub mod replay;
mod similarity;
pub mod stage;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository};

use crate::mail;
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
    #[error("checking out {target} would overwrite local changes in {}: {}", .tree.display(), .paths.join(", "))]
    WouldOverwrite {
        target: String,
        tree: PathBuf,
        paths: Vec<String>,
    },
    #[error("{} exists: another git command is changing the index of {}", .lock.display(), .tree.display())]
    Locked { lock: PathBuf, tree: PathBuf },
    #[error("git could not check out {branch}: {why}")]
    Checkout { branch: String, why: String },
    #[error("{doing} failed: {source}")]
    Io {
        doing: String,
        #[source]
        source: std::io::Error,
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
    /// What the user typed, when no ref has that name and it was taken for
    /// the one ref whose name contains it.
    pub guessed_from: Option<String>,
}

impl Resolved {
    /// A note for the user when the name was guessed, else None.
    pub fn guess_note(&self) -> Option<String> {
        self.guessed_from.as_ref().map(|g| {
            format!(
                "no ref is named \"{g}\"; took {}, the one ref whose name contains it",
                self.name
            )
        })
    }
}

/// A kernel tree (any git repository) opened through git2.
pub struct Tree {
    repo: Repository,
    path: PathBuf,
    abbrev: usize,
    /// Commits this handle made (what a [`stage`] packs).
    made: std::cell::RefCell<Vec<Oid>>,
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
        // the index; reading a kernel tree's index costs more than the rest
        // of a rebase, and nothing here uses it: an empty index in memory.
        if let Ok(mut empty) = git2::Index::new() {
            let _ = repo.set_index(&mut empty);
        }
        let abbrev = default_abbrev(&repo);
        Ok(Tree {
            repo,
            path: path.to_path_buf(),
            abbrev,
            made: Default::default(),
        })
    }

    /// Store an object through the object database: in a [`stage`]'s
    /// memory while one is open, else on disk as libgit2 writes it.
    pub(crate) fn store(&self, kind: ObjectType, data: &[u8]) -> Result<Oid, git2::Error> {
        let id = self.repo.odb()?.write(kind, data)?;
        if kind == ObjectType::Commit {
            self.made.borrow_mut().push(id);
        }
        Ok(id)
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

pub use crate::text::digest;

impl Tree {
    /// Resolve a revision, or a short name contained in exactly one ref name
    /// (`mmotm-2017-03-14` finds `v4.11-rc2-mmotm-2017-03-14-15-41`).
    pub fn resolve(&self, rev: &str) -> Result<Resolved, GitError> {
        if let Ok(obj) = self.repo.revparse_single(rev) {
            if let Ok(commit) = obj.peel_to_commit() {
                return Ok(Resolved {
                    name: rev.to_string(),
                    id: Id(commit.id()),
                    guessed_from: None,
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
                    guessed_from: (short != rev).then(|| rev.to_string()),
                    name: short.clone(),
                    id: Id(commit.id()),
                })
            }
            [] => Err(GitError::UnknownRev {
                rev: rev.to_string(),
                tree: self.path.clone(),
                near: crate::names::nearest(rev, names.iter().map(|(s, _)| s.as_str())),
            }),
            many => Err(GitError::Ambiguous {
                rev: rev.to_string(),
                matches: many.iter().map(|(s, _)| s.clone()).collect(),
            }),
        }
    }

    /// The short name of a tag or branch that points at `id`, tags first.
    pub fn name_at(&self, id: Id) -> Option<String> {
        let names = self.ref_names().ok()?;
        let at = |full: &str| {
            self.repo
                .revparse_single(full)
                .and_then(|o| o.peel_to_commit())
                .is_ok_and(|c| c.id() == id.0)
        };
        let tags = names.iter().filter(|(_, f)| f.starts_with("refs/tags/"));
        let others = names.iter().filter(|(_, f)| !f.starts_with("refs/tags/"));
        tags.chain(others)
            .find(|(_, full)| at(full))
            .map(|(short, _)| short.clone())
    }

    /// Short and full names of tags and branches, local and remote.
    /// Tags, branches and remote-tracking branches: (short name, full
    /// name), sorted.
    pub fn ref_names(&self) -> Result<Vec<(String, String)>, GitError> {
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
        Ok(self.commit_mail_parts(id, None)?.0)
    }

    /// The mails of a straight line of commits on `base`, and the diffstat
    /// and summary of the whole line (as the cover letter shows it). A file
    /// only one commit changes, in place, has that commit's stat line: its
    /// diff from `base` to the last commit is that commit's diff. Only the
    /// other files are diffed again.
    /// `in_place` names, for some commits, the files they change in place
    /// and nothing else (a replay knows): those are diffed file by file.
    pub fn mails_and_stat(
        &self,
        base: Id,
        commits: &[Id],
        in_place: &HashMap<Id, Vec<Vec<u8>>>,
    ) -> Result<(Vec<PatchMail>, String), GitError> {
        let mut mails = Vec::with_capacity(commits.len());
        let mut touched: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut kept = Vec::new();
        for id in commits {
            let hint = in_place.get(id).map(Vec::as_slice);
            let (mail, files) = self.commit_mail_parts(*id, hint)?;
            mails.push(mail);
            for f in files {
                *touched.entry(f.old_path.clone()).or_default() += 1;
                if f.new_path != f.old_path {
                    *touched.entry(f.new_path.clone()).or_default() += 1;
                }
                if f.in_place {
                    kept.push(f);
                }
            }
        }
        let Some(tip) = commits.last() else {
            return Ok((mails, String::new()));
        };
        let mut once: Vec<patch::FileEntry> = kept
            .into_iter()
            .filter(|f| touched.get(&f.old_path) == Some(&1))
            .collect();
        once.sort_by(|a, b| a.key.cmp(&b.key));
        let skip: std::collections::HashSet<&[u8]> =
            once.iter().map(|f| f.old_path.as_slice()).collect();
        let (ta, tb) = (self.tree_of(base.0)?, self.tree_of(tip.0)?);
        let mut paths = Vec::new();
        self.changed_paths(Some(&ta), Some(&tb), &mut Vec::new(), &mut paths)?;
        paths.retain(|p| !skip.contains(p.as_slice()));
        let rest = self.diff_parts(&ta, &tb, false, Some(&paths))?.files;
        // Both lists are in libgit2's order; so is their merge.
        let mut all = Vec::with_capacity(once.len() + rest.len());
        let (mut a, mut b) = (once.into_iter().peekable(), rest.into_iter().peekable());
        loop {
            let take_a = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => x.key <= y.key,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            all.extend(if take_a { a.next() } else { b.next() });
        }
        Ok((mails, patch::render_stat(&all)))
    }

    fn commit_mail_parts(
        &self,
        id: Id,
        in_place: Option<&[Vec<u8>]>,
    ) -> Result<(PatchMail, Vec<patch::FileEntry>), GitError> {
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
        let quick = match in_place {
            Some(paths) => self.diff_in_place(&old, &new, paths)?,
            None => None,
        };
        let parts = match quick {
            Some(p) => p,
            None => self.diff_parts(&old, &new, true, None)?,
        };
        let mut section = patch::render_stat(&parts.files).into_bytes();
        section.push(b'\n');
        section.extend_from_slice(&parts.patch);
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
        let mail = PatchMail {
            commit: id.to_string(),
            author: Person {
                name: decode(author.name_bytes(), "author name")?,
                email: decode(author.email_bytes(), "author email")?,
            },
            date: crate::text::rfc2822_date(when.seconds(), when.offset_minutes()),
            title,
            body,
            diff: section,
        };
        Ok((mail, parts.files))
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

    /// Whether an object exists and is a commit.
    pub fn has_commit(&self, id: &str) -> bool {
        Oid::from_str(id)
            .ok()
            .and_then(|oid| self.repo.find_object(oid, Some(ObjectType::Commit)).ok())
            .is_some()
    }
}

/// Twelve hex digits of an id, for messages.
pub fn short(id: Id) -> String {
    let id = id.0;
    id.to_string()[..12].to_string()
}

impl crate::error::Advice for GitError {
    fn hint(&self) -> Option<String> {
        crate::error::says(match self {
            GitError::NotARepo { .. } => "pass --tree PATH to a kernel git tree",
            GitError::UnknownRev { .. } => {
                "name a tag, branch or commit that the tree has (git fetch it first)"
            }
            GitError::Ambiguous { .. } => "give more of the name, or the full ref",
            GitError::EmptyRange { .. } => {
                "commit the patches on top of the base, or pass the RANGE that holds them"
            }
            GitError::Merge { .. } => {
                "linearise the range (git rebase) or pass a RANGE without merges"
            }
            GitError::NotOnBase { .. } => {
                "pass --base with the parent of the first patch, or a RANGE that starts at the base"
            }
            GitError::WouldOverwrite { .. } => {
                "commit or stash them (git stash --include-untracked), then run the command again"
            }
            GitError::Locked { .. } => {
                "wait for the other git command to finish; if none is running, remove the lock file"
            }
            GitError::Checkout { .. } => {
                "commit or stash your changes (git stash --include-untracked), then run the command again"
            }
            GitError::Io { .. } | GitError::Git { .. } => return None,
        })
    }
}
