//! Replaying patch mails in memory: apply a mail's diff to a tree, make the
//! commit `git am` would make, and merge three trees. Nothing here touches a
//! worktree, an index file or a ref, except [`Tree::set_branch`].

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use git2::build::TreeUpdateBuilder;
use git2::{ApplyOptions, Delta, Diff, Oid, Signature, Time};

use super::offsets::file_mode;

use super::{Doing, GitError, Id, Tree};
use crate::mail::parse_rfc2822;
use crate::model::{PatchMail, Person};

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
    Clean(Id),
    Conflict(Vec<ConflictFile>),
}

/// What applying a patch to a tree gave: the new tree, or why the patch
/// does not apply (a hunk that does not match, a file that is not there).
#[derive(Debug)]
pub enum Applied {
    Tree(Id),
    Rejected(String),
}

impl Applied {
    /// The new tree, or `f` of the reason.
    pub fn or_else<E>(self, f: impl FnOnce(String) -> E) -> Result<Id, E> {
        match self {
            Applied::Tree(t) => Ok(t),
            Applied::Rejected(why) => Err(f(why)),
        }
    }
}

/// Who commits, and when: the committer of the commits `series apply` makes.
#[derive(Clone, Debug)]
pub struct Committer {
    pub who: Person,
    pub secs: i64,
    pub offset_minutes: i32,
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

/// An index entry for a blob at `path`, as libgit2's file merge wants it.
fn index_entry(path: &[u8], id: Oid, mode: u32) -> git2::IndexEntry {
    git2::IndexEntry {
        ctime: git2::IndexTime::new(0, 0),
        mtime: git2::IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode,
        uid: 0,
        gid: 0,
        file_size: 0,
        id,
        flags: 0,
        flags_extended: 0,
        path: path.to_vec(),
    }
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
    /// The committer `git am` would use when `GIT_COMMITTER_NAME`/`EMAIL`
    /// are not given: the tree's `user.name`/`user.email`.
    pub fn config_identity(&self) -> Result<Person, GitError> {
        let sig = self
            .repo
            .signature()
            .doing(|| "finding who commits: set user.name and user.email in git config".into())?;
        Ok(Person {
            name: sig.name().unwrap_or("").to_string(),
            email: sig.email().unwrap_or("").to_string(),
        })
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
    pub fn apply_to(&self, tree: Id, mail: &PatchMail) -> Result<Applied, GitError> {
        let tree = tree.0;
        let diff = match self.mail_diff(mail) {
            Ok(d) => d,
            // libgit2 cannot parse every diff git writes (a new empty file
            // has no ---/+++ lines); let git apply it.
            Err(_) => {
                return Ok(match self.apply_with_git(tree, mail) {
                    Ok(t) => Applied::Tree(Id(t)),
                    Err(why) => Applied::Rejected(why),
                })
            }
        };
        match super::offsets::apply(&self.repo, tree, &diff) {
            Ok(t) => Ok(Applied::Tree(Id(t))),
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
                    Ok(mut index) => Ok(Applied::Tree(Id(index
                        .write_tree_to(&self.repo)
                        .doing(|| "writing a tree".into())?))),
                    Err(e) => Ok(Applied::Rejected(e.message().to_string())),
                }
            }
            Err(why) => Ok(Applied::Rejected(why.to_string())),
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
    pub fn tree_id(&self, commit: Id) -> Result<Id, GitError> {
        self.repo
            .find_commit(commit.0)
            .map(|c| Id(c.tree_id()))
            .doing(|| format!("reading commit {commit}"))
    }

    /// Make the commit `git am` would make for `mail` on `parent` with
    /// `tree`. The committer is `committer`, else the author at the author
    /// date (so replaying the same series gives the same commits).
    pub fn commit_mail_on(
        &self,
        parent: Id,
        tree: Id,
        mail: &PatchMail,
        committer: Option<&Committer>,
    ) -> Result<Id, GitError> {
        let author =
            committer_of(mail).doing(|| format!("reading the author of \"{}\"", mail.title))?;
        let given = committer
            .map(|c| {
                Signature::new(
                    &c.who.name,
                    &c.who.email,
                    &Time::new(c.secs, c.offset_minutes),
                )
            })
            .transpose()
            .doing(|| "making the committer's signature".into())?;
        let sig = given.as_ref().unwrap_or(&author);
        let parent = self
            .repo
            .find_commit(parent.0)
            .doing(|| format!("reading commit {parent}"))?;
        let tree = self
            .repo
            .find_tree(tree.0)
            .doing(|| format!("reading tree {tree}"))?;
        self.repo
            .commit(None, &author, sig, &am_message(mail), &tree, &[&parent])
            .map(Id)
            .doing(|| format!("committing \"{}\"", mail.title))
    }

    /// Three-way merge of trees: what changed from `ancestor` to `theirs`
    /// (one patch), applied onto `ours`. Only the paths the patch changes
    /// are read, merged and written, so the cost follows the patch, not the
    /// tree.
    pub fn merge3(&self, ancestor: Id, ours: Id, theirs: Id) -> Result<Merge, GitError> {
        self.merge3_resolved(ancestor, ours, theirs, &[])
    }

    /// [`Tree::merge3`], with the paths in `resolved` (path, content; None
    /// deletes it) taken as the user resolved them instead of merged.
    // One pass over the changes of the patch, each delta kind handled where
    // the next one is, as a three-way merge reads best.
    pub fn merge3_resolved(
        &self,
        ancestor: Id,
        ours: Id,
        theirs: Id,
        resolved: &[(String, Option<Vec<u8>>)],
    ) -> Result<Merge, GitError> {
        let (ancestor, ours, theirs) = (ancestor.0, ours.0, theirs.0);
        let find = |id| {
            self.repo
                .find_tree(id)
                .doing(|| format!("reading tree {id}"))
        };
        let (a, o, t) = (find(ancestor)?, find(ours)?, find(theirs)?);
        let mut changes = self.diff_changed(&a, &t, &mut git2::DiffOptions::new())?;
        let mut find_opts = git2::DiffFindOptions::new();
        find_opts.renames(true);
        changes
            .find_similar(Some(&mut find_opts))
            .doing(|| "finding renames".into())?;

        let mut update = TreeUpdateBuilder::new();
        let mut conflicts = Vec::new();
        let ours_at = |p: &Path| o.get_path(p).ok().map(|e| (e.id(), e.filemode() as u32));
        for delta in changes.deltas() {
            // Paths keep their bytes (git allows any but NUL and `/`); the
            // names are for messages and the scratch folder.
            let old_bytes = delta.old_file().path_bytes().unwrap_or_default();
            let new_bytes = delta.new_file().path_bytes().unwrap_or_default();
            let old_path = Path::new(std::ffi::OsStr::from_bytes(old_bytes));
            let new_path = Path::new(std::ffi::OsStr::from_bytes(new_bytes));
            let old_name = String::from_utf8_lossy(old_bytes).into_owned();
            let new_name = String::from_utf8_lossy(new_bytes).into_owned();
            let (a_id, a_mode) = (delta.old_file().id(), u32::from(delta.old_file().mode()));
            let (t_id, t_mode) = (delta.new_file().id(), u32::from(delta.new_file().mode()));
            if let Some((_, content)) = resolved
                .iter()
                .find(|(p, _)| *p == new_name || *p == old_name)
            {
                if old_path != new_path {
                    update.remove(old_path);
                }
                match content {
                    Some(bytes) => {
                        let id = self
                            .repo
                            .blob(bytes)
                            .doing(|| format!("storing {new_name}"))?;
                        let mode = ours_at(new_path)
                            .or(ours_at(old_path))
                            .map_or(t_mode, |(_, m)| m);
                        update.upsert(new_path, id, file_mode(mode));
                    }
                    None => {
                        update.remove(new_path);
                    }
                }
                continue;
            }
            let conflict = |merged: Option<Vec<u8>>| ConflictFile {
                path: new_name.clone(),
                merged,
            };
            match delta.status() {
                Delta::Added => match ours_at(new_path) {
                    None => {
                        update.upsert(new_path, t_id, file_mode(t_mode));
                    }
                    Some((o_id, _)) if o_id == t_id => {}
                    Some(_) => conflicts.push(conflict(None)),
                },
                Delta::Deleted => match ours_at(old_path) {
                    None => {}
                    Some((o_id, _)) if o_id == a_id => {
                        update.remove(old_path);
                    }
                    Some(_) => conflicts.push(conflict(None)),
                },
                _ => {
                    let Some((o_id, o_mode)) = ours_at(old_path) else {
                        // Gone on our side: fine only if ours already has the result.
                        if ours_at(new_path).map(|(id, _)| id) != Some(t_id) {
                            conflicts.push(conflict(None));
                        }
                        continue;
                    };
                    let mode = if o_mode == a_mode { t_mode } else { o_mode };
                    let id = if o_id == a_id || o_id == t_id {
                        t_id
                    } else {
                        match self
                            .merge_blobs(old_bytes, a_id, o_id, t_id, a_mode, o_mode, t_mode)?
                        {
                            Ok(id) => id,
                            Err(merged) => {
                                conflicts.push(conflict(merged));
                                continue;
                            }
                        }
                    };
                    if old_path != new_path {
                        update.remove(old_path);
                    }
                    update.upsert(new_path, id, file_mode(mode));
                }
            }
        }
        if !conflicts.is_empty() {
            return Ok(Merge::Conflict(conflicts));
        }
        Ok(Merge::Clean(Id(update
            .create_updated(&self.repo, &o)
            .doing(|| "writing the merged tree".into())?)))
    }

    /// Merge one file's three versions; the merged blob, or the text with
    /// conflict markers (None when it is not text).
    #[allow(clippy::too_many_arguments)]
    fn merge_blobs(
        &self,
        path: &[u8],
        a: Oid,
        o: Oid,
        t: Oid,
        a_mode: u32,
        o_mode: u32,
        t_mode: u32,
    ) -> Result<Result<Oid, Option<Vec<u8>>>, GitError> {
        let entry = |id: Oid, mode: u32| index_entry(path, id, mode);
        let mut opts = git2::MergeFileOptions::new();
        opts.our_label("new base")
            .their_label("patch")
            .ancestor_label("old base");
        let r = self
            .repo
            .merge_file_from_index(
                &entry(a, a_mode),
                &entry(o, o_mode),
                &entry(t, t_mode),
                Some(&mut opts),
            )
            .doing(|| format!("merging {}", String::from_utf8_lossy(path)))?;
        if r.is_automergeable() {
            Ok(Ok(self.repo.blob(r.content()).doing(|| {
                format!("storing {}", String::from_utf8_lossy(path))
            })?))
        } else {
            let binary = [a, o, t].iter().any(|id| {
                self.repo
                    .find_blob(*id)
                    .map(|b| b.content()[..b.content().len().min(8000)].contains(&0))
                    .unwrap_or(false)
            });
            Ok(Err((!binary).then(|| r.content().to_vec())))
        }
    }

    /// Point branch `name` at `target`. Refuses to move an existing branch
    /// unless `force`. Returns whether the branch existed.
    pub fn set_branch(&self, name: &str, target: Id, force: bool) -> Result<bool, GitError> {
        let existed = self.repo.find_branch(name, git2::BranchType::Local).is_ok();
        let commit = self
            .repo
            .find_commit(target.0)
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
        // A fresh handle, with the tree's real index (ours has an empty one).
        let repo = git2::Repository::open(&self.path)
            .doing(|| format!("opening {}", self.path.display()))?;
        let refname = format!("refs/heads/{name}");
        let obj = repo
            .revparse_single(&refname)
            .doing(|| format!("reading {refname}"))?;
        let mut co = git2::build::CheckoutBuilder::new();
        co.safe();
        repo.checkout_tree(&obj, Some(&mut co))
            .doing(|| format!("checking out {name}"))?;
        repo.set_head(&refname)
            .doing(|| format!("checking out {name}"))
    }
}
