//! Replaying patch mails in memory: apply a mail's diff to a tree, make the
//! commit `git am` would make, and merge three trees. Nothing here touches a
//! worktree, an index file or a ref, except [`Tree::set_branch`].

use git2::{ApplyOptions, Diff, MergeOptions, Oid, Signature, Time};

use super::{Doing, GitError, Tree};
use crate::mail::parse_rfc2822;
use crate::model::PatchMail;

/// A file left conflicted by a three-way merge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConflictFile {
    pub path: String,
    /// The merged content with conflict markers, when it is text.
    pub merged: Option<Vec<u8>>,
}

/// The result of merging a patch onto a new parent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Merge {
    Clean(Oid),
    Conflict(Vec<ConflictFile>),
}

/// The author of a mail as a signature, at the author date.
fn committer_of(mail: &PatchMail) -> Result<Signature<'static>, git2::Error> {
    let (secs, offset) = parse_rfc2822(&mail.date).unwrap_or((0, 0));
    Signature::new(
        &mail.author.name,
        &mail.author.email,
        &Time::new(secs, offset),
    )
}

/// The commit message `git am` makes from a mail.
pub fn am_message(mail: &PatchMail) -> String {
    if mail.body.is_empty() {
        format!("{}\n", mail.title)
    } else {
        format!("{}\n\n{}", mail.title, mail.body)
    }
}

impl Tree {
    /// The committer `git am` would use: `GIT_COMMITTER_NAME`/`_EMAIL`, else
    /// the tree's `user.name`/`user.email`; at `now`, else the clock.
    pub fn user_signature(&self, now: Option<(i64, i32)>) -> Result<Signature<'static>, GitError> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let (name, email) = match (env("GIT_COMMITTER_NAME"), env("GIT_COMMITTER_EMAIL")) {
            (Some(n), Some(e)) => (n, e),
            _ => {
                let sig = self.repo.signature().doing(|| {
                    "finding who commits: set user.name and user.email in git config".into()
                })?;
                (
                    sig.name().unwrap_or("").to_string(),
                    sig.email().unwrap_or("").to_string(),
                )
            }
        };
        match now {
            Some((secs, off)) => Signature::new(&name, &email, &Time::new(secs, off)),
            None => Signature::now(&name, &email),
        }
        .doing(|| "making a signature".into())
    }

    /// The mail's diff as a git2 diff.
    pub fn mail_diff(&self, mail: &PatchMail) -> Result<Diff<'static>, GitError> {
        let start = mail
            .diff
            .windows(11)
            .position(|w| w == b"diff --git ")
            .unwrap_or(0);
        Diff::from_buffer(&mail.diff[start..])
            .doing(|| format!("reading the diff of \"{}\"", mail.title))
    }

    /// Apply the mail's diff to `tree` in memory, as `git apply` does:
    /// offsets allowed, no fuzz. Returns the new tree, or why it does not
    /// apply (which hunk of which file).
    pub fn apply_to(&self, tree: Oid, mail: &PatchMail) -> Result<Result<Oid, String>, GitError> {
        let diff = match self.mail_diff(mail) {
            Ok(d) => d,
            // libgit2 cannot parse every diff git writes (a new empty file
            // has no ---/+++ lines); let git apply it.
            Err(_) => return Ok(self.apply_with_git(tree, mail)),
        };
        match super::offsets::apply(&self.repo, tree, &diff) {
            Ok(t) => Ok(Ok(t)),
            Err(super::offsets::OffsetError::Git(e)) => Err(GitError::Git {
                doing: format!("applying \"{}\"", mail.title),
                source: e,
            }),
            // Binary patches: libgit2 applies them (exactly).
            Err(super::offsets::OffsetError::Unsupported(_)) => {
                let base = self
                    .repo
                    .find_tree(tree)
                    .doing(|| format!("reading tree {tree}"))?;
                let mut opts = ApplyOptions::new();
                match self.repo.apply_to_tree(&base, &diff, Some(&mut opts)) {
                    Ok(mut index) => Ok(Ok(index
                        .write_tree_to(&self.repo)
                        .doing(|| "writing a tree".into())?)),
                    Err(e) => Ok(Err(e.message().to_string())),
                }
            }
            Err(why) => Ok(Err(why.to_string())),
        }
    }

    fn apply_with_git(&self, tree: Oid, mail: &PatchMail) -> Result<Oid, String> {
        let start = mail
            .diff
            .windows(11)
            .position(|w| w == b"diff --git ")
            .unwrap_or(0);
        let dir = self.repo.workdir().unwrap_or_else(|| self.repo.path());
        let id = super::cmd::apply_to_tree(dir, &tree.to_string(), &mail.diff[start..]).map_err(
            |e| match e {
                super::cmd::CmdError::Failed { stderr, .. } => stderr,
                other => other.to_string(),
            },
        )?;
        Oid::from_str(&id).map_err(|e| e.to_string())
    }

    /// The tree of a commit.
    pub fn tree_id(&self, commit: Oid) -> Result<Oid, GitError> {
        self.repo
            .find_commit(commit)
            .map(|c| c.tree_id())
            .doing(|| format!("reading commit {commit}"))
    }

    /// Make the commit `git am` would make for `mail` on `parent` with
    /// `tree`. The committer is `committer`, else the author at the author
    /// date (so replaying the same series gives the same commits).
    pub fn commit_mail_on(
        &self,
        parent: Oid,
        tree: Oid,
        mail: &PatchMail,
        committer: Option<&Signature<'_>>,
    ) -> Result<Oid, GitError> {
        let author =
            committer_of(mail).doing(|| format!("reading the author of \"{}\"", mail.title))?;
        let sig = committer.unwrap_or(&author);
        let parent = self
            .repo
            .find_commit(parent)
            .doing(|| format!("reading commit {parent}"))?;
        let tree = self
            .repo
            .find_tree(tree)
            .doing(|| format!("reading tree {tree}"))?;
        self.repo
            .commit(None, &author, sig, &am_message(mail), &tree, &[&parent])
            .doing(|| format!("committing \"{}\"", mail.title))
    }

    /// Three-way merge of trees: what changed from `ancestor` to `theirs`,
    /// applied onto `ours`.
    pub fn merge3(&self, ancestor: Oid, ours: Oid, theirs: Oid) -> Result<Merge, GitError> {
        let find = |id| {
            self.repo
                .find_tree(id)
                .doing(|| format!("reading tree {id}"))
        };
        let (a, o, t) = (find(ancestor)?, find(ours)?, find(theirs)?);
        let mut opts = MergeOptions::new();
        opts.find_renames(true);
        let mut index = self
            .repo
            .merge_trees(&a, &o, &t, Some(&opts))
            .doing(|| "merging trees".into())?;
        if !index.has_conflicts() {
            return Ok(Merge::Clean(
                index
                    .write_tree_to(&self.repo)
                    .doing(|| "writing a tree".into())?,
            ));
        }
        let mut files = Vec::new();
        let conflicts = index.conflicts().doing(|| "reading conflicts".into())?;
        for c in conflicts {
            let c = c.doing(|| "reading conflicts".into())?;
            let path = [&c.our, &c.their, &c.ancestor]
                .into_iter()
                .flatten()
                .next()
                .map(|e| String::from_utf8_lossy(&e.path).into_owned())
                .unwrap_or_default();
            let merged = match (&c.ancestor, &c.our, &c.their) {
                (Some(a), Some(o), Some(t)) => {
                    let mut fo = git2::MergeFileOptions::new();
                    fo.our_label("new base")
                        .their_label("patch")
                        .ancestor_label("old base");
                    self.repo
                        .merge_file_from_index(a, o, t, Some(&mut fo))
                        .ok()
                        .map(|r| r.content().to_vec())
                }
                _ => None,
            };
            files.push(ConflictFile { path, merged });
        }
        Ok(Merge::Conflict(files))
    }

    /// Build the tree of a merge of three trees with the conflicted paths
    /// taken from `resolved` (path, content; None deletes the path).
    pub fn merge3_resolved(
        &self,
        ancestor: Oid,
        ours: Oid,
        theirs: Oid,
        resolved: &[(String, Option<Vec<u8>>)],
    ) -> Result<Oid, GitError> {
        let find = |id| {
            self.repo
                .find_tree(id)
                .doing(|| format!("reading tree {id}"))
        };
        let (a, o, t) = (find(ancestor)?, find(ours)?, find(theirs)?);
        let mut index = self
            .repo
            .merge_trees(&a, &o, &t, None)
            .doing(|| "merging trees".into())?;
        for (path, content) in resolved {
            let _ = index.conflict_remove(std::path::Path::new(path));
            if let Some(bytes) = content {
                let blob = self.repo.blob(bytes).doing(|| format!("storing {path}"))?;
                let mode = o
                    .get_path(std::path::Path::new(path))
                    .map(|e| e.filemode() as u32)
                    .unwrap_or(0o100644);
                let entry = git2::IndexEntry {
                    ctime: git2::IndexTime::new(0, 0),
                    mtime: git2::IndexTime::new(0, 0),
                    dev: 0,
                    ino: 0,
                    mode,
                    uid: 0,
                    gid: 0,
                    file_size: bytes.len() as u32,
                    id: blob,
                    flags: 0,
                    flags_extended: 0,
                    path: path.as_bytes().to_vec(),
                };
                index.add(&entry).doing(|| format!("staging {path}"))?;
            } else {
                let _ = index.remove_path(std::path::Path::new(path));
            }
        }
        index
            .write_tree_to(&self.repo)
            .doing(|| "writing a tree".into())
    }

    /// Point branch `name` at `target`. Refuses to move an existing branch
    /// unless `force`. Returns whether the branch existed.
    pub fn set_branch(&self, name: &str, target: Oid, force: bool) -> Result<bool, GitError> {
        let existed = self.repo.find_branch(name, git2::BranchType::Local).is_ok();
        let commit = self
            .repo
            .find_commit(target)
            .doing(|| format!("reading commit {target}"))?;
        self.repo
            .branch(name, &commit, force)
            .doing(|| format!("creating branch {name}"))?;
        Ok(existed)
    }

    /// Whether a local branch exists.
    pub fn has_branch(&self, name: &str) -> bool {
        self.repo.find_branch(name, git2::BranchType::Local).is_ok()
    }

    /// Check out branch `name` in the tree's worktree, refusing to overwrite
    /// local changes.
    pub fn checkout_branch(&self, name: &str) -> Result<(), GitError> {
        let refname = format!("refs/heads/{name}");
        let obj = self
            .repo
            .revparse_single(&refname)
            .doing(|| format!("reading {refname}"))?;
        let mut co = git2::build::CheckoutBuilder::new();
        co.safe();
        self.repo
            .checkout_tree(&obj, Some(&mut co))
            .doing(|| format!("checking out {name}"))?;
        self.repo
            .set_head(&refname)
            .doing(|| format!("checking out {name}"))
    }
}
