//! Replaying patch mails in memory: apply a mail's diff to a tree (through
//! the one diff model and the line applier of `offsets`; binary patches
//! through libgit2 or `git apply`), and make the commit `git am` would
//! make. Nothing here touches a worktree, an index file or a ref; three-way
//! merges are in `merge`, branches in `branch`.

use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use git2::build::TreeUpdateBuilder;
use git2::{ApplyOptions, Diff, ObjectType, Oid, Signature, Time};

use super::offsets::file_mode;

pub use super::merge::{ConflictFile, Merge};
use super::{Doing, GitError, Id, Tree};
use crate::mail::parse_rfc2822;
use crate::model::{PatchMail, Person};

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

/// The commit message `git am` makes from a mail.
pub fn am_message(mail: &PatchMail) -> String {
    if mail.body.is_empty() {
        format!("{}\n", mail.title)
    } else {
        format!("{}\n\n{}", mail.title, mail.body)
    }
}

fn merge_input<'a>(text: &'a [u8], path: &Path, mode: u32) -> git2::MergeFileInput<'a> {
    let mut i = git2::MergeFileInput::new();
    i.content(text).path(path).mode(Some(file_mode(mode)));
    i
}

/// A path in a tree, as bytes (git allows any but NUL).
pub type FilePath = Vec<u8>;

/// The files of the old series as they stood before the next patch: the
/// old base's tree, and what the patches so far changed in place, kept in
/// memory (ids and texts) rather than written as trees.
#[derive(Debug)]
pub struct PreImage {
    tree: Oid,
    /// Path -> the file's text now, and its blob id when known (a merged
    /// file's post-image is never stored, so never hashed unless needed).
    changed: HashMap<Vec<u8>, (Option<Oid>, Vec<u8>)>,
}

impl PreImage {
    /// The pre-image that is the tree `tree`.
    pub fn at(tree: Id) -> PreImage {
        PreImage {
            tree: tree.0,
            changed: HashMap::new(),
        }
    }
}

impl Tree {
    /// The pre-image as a tree, writing the files changed so far (for a
    /// patch that needs a tree merge, and for a paused rebase's state).
    pub fn pre_tree(&self, pre: &PreImage) -> Result<Id, GitError> {
        if pre.changed.is_empty() {
            return Ok(Id(pre.tree));
        }
        let base = self
            .repo
            .find_tree(pre.tree)
            .doing(|| format!("reading tree {}", pre.tree))?;
        let mut update = TreeUpdateBuilder::new();
        for (path, (_, text)) in &pre.changed {
            let id = self
                .store(ObjectType::Blob, text)
                .doing(|| "storing a blob".into())?;
            let p = Path::new(std::ffi::OsStr::from_bytes(path));
            let mode = base
                .get_path(p)
                .map(|e| e.filemode() as u32)
                .unwrap_or(0o100644);
            update.upsert(p, id, file_mode(mode));
        }
        Ok(Id(update
            .create_updated(&self.repo, &base)
            .doing(|| "writing a tree".into())?))
    }

    /// A file of the pre-image: blob id (when known), mode and text.
    fn pre_file(&self, pre: &PreImage, path: &[u8]) -> Option<(Option<Oid>, u32, Vec<u8>)> {
        let p = Path::new(std::ffi::OsStr::from_bytes(path));
        let entry = self.repo.find_tree(pre.tree).ok()?.get_path(p).ok()?;
        let mode = entry.filemode() as u32;
        match pre.changed.get(path) {
            Some((id, text)) => Some((*id, mode, text.clone())),
            None if entry.kind() == Some(git2::ObjectType::Blob) => {
                let blob = self.repo.find_blob(entry.id()).ok()?;
                Some((Some(entry.id()), mode, blob.content().to_vec()))
            }
            None => None,
        }
    }

    /// Replay a patch that only changes text files in place onto `ours`
    /// without writing its post-image as a tree: each file's new text is
    /// made from the pre-image in memory and merged with ours only where
    /// ours differs from both. The same result as [`Tree::apply_to`] then
    /// [`Tree::merge3`]; None when the patch is of another kind, does not
    /// apply, or conflicts, for those two to handle and report. On success
    /// `pre` moves on past the patch; the new tree and the paths changed.
    pub fn replay_in_place(
        &self,
        pre: &mut PreImage,
        ours: Id,
        mail: &PatchMail,
    ) -> Result<Option<(Id, Vec<FilePath>)>, GitError> {
        let Ok(patch) = crate::diff::Patch::parse(&mail.diff) else {
            return Ok(None);
        };
        let files = match super::offsets::in_place(&patch) {
            Some(f) if !f.is_empty() => f,
            _ => return Ok(None),
        };
        let o = self
            .repo
            .find_tree(ours.0)
            .doing(|| format!("reading tree {ours}"))?;
        let mut update = TreeUpdateBuilder::new();
        let mut moved = Vec::new();
        for f in &files {
            let Some((a_id, a_mode, old)) = self.pre_file(pre, &f.path) else {
                return Ok(None);
            };
            let Ok(new) = f.apply(&old) else {
                return Ok(None);
            };
            let p = Path::new(std::ffi::OsStr::from_bytes(&f.path));
            let Ok(entry) = o.get_path(p) else {
                return Ok(None);
            };
            let (o_id, o_mode) = (entry.id(), entry.filemode() as u32);
            if o_mode != a_mode {
                return Ok(None);
            }
            let name = || String::from_utf8_lossy(&f.path).into_owned();
            let store = |text: &[u8]| {
                self.store(ObjectType::Blob, text)
                    .doing(|| format!("storing {}", name()))
            };
            // The blob to commit, and the post-image's id when that is it.
            let (id, t_id) = if a_id == Some(o_id) {
                // Ours still has the pre-image: the post-image it is.
                let id = store(&new)?;
                (id, Some(id))
            } else {
                let ours_blob = self
                    .repo
                    .find_blob(o_id)
                    .doing(|| format!("reading {}", name()))?;
                let ours_text = ours_blob.content();
                if ours_text == new.as_slice() {
                    (o_id, Some(o_id))
                } else if ours_text == old.as_slice() {
                    let id = store(&new)?;
                    (id, Some(id))
                } else {
                    // Merged from the texts in hand: only ours is read,
                    // and only the result is stored.
                    let (ai, oi, ti) = (
                        merge_input(&old, p, a_mode),
                        merge_input(ours_text, p, a_mode),
                        merge_input(&new, p, a_mode),
                    );
                    let merged = git2::merge_file(&ai, &oi, &ti, None)
                        .doing(|| format!("merging {}", name()))?;
                    if !merged.is_automergeable() {
                        return Ok(None);
                    }
                    (store(merged.content())?, None)
                }
            };
            update.upsert(p, id, file_mode(o_mode));
            moved.push((f.path.clone(), t_id, new));
        }
        let tree = update
            .create_updated(&self.repo, &o)
            .doing(|| "writing the merged tree".into())?;
        let paths = moved.iter().map(|(p, _, _)| p.clone()).collect();
        for (path, id, text) in moved {
            pre.changed.insert(path, (id, text));
        }
        Ok(Some((Id(tree), paths)))
    }

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
        super::offsets::parse_diff(&mail.diff[start..])
            .doing(|| format!("reading the diff of \"{}\"", mail.title))
    }

    /// Apply the mail's diff to `tree` in memory, as `git apply` does:
    /// offsets allowed, no fuzz. Returns the new tree, or why it does not
    /// apply (which hunk of which file).
    pub fn apply_to(&self, tree: Id, mail: &PatchMail) -> Result<Applied, GitError> {
        let tree = tree.0;
        // Paths git apply refuses (verify_path in apply.c): absolute, or
        // climbing out with `..`, or into `.git`.
        let patch = match crate::diff::Patch::parse(&mail.diff) {
            Ok(p) => p,
            Err(e) => return Ok(Applied::Rejected(e.to_string())),
        };
        if let Some(bad) = patch.unsafe_path() {
            return Ok(Applied::Rejected(format!(
                "the diff names the path {bad:?}, which git apply refuses (absolute, `..` or `.git`)"
            )));
        }
        match super::offsets::apply(&self.repo, tree, &patch) {
            Ok(t) => Ok(Applied::Tree(Id(t))),
            Err(super::offsets::OffsetError::Git(e)) => Err(GitError::Git {
                doing: format!("applying \"{}\"", mail.title),
                source: e,
            }),
            // Binary patches: libgit2 applies them (exactly), or git apply
            // when libgit2 cannot read the diff.
            Err(super::offsets::OffsetError::Unsupported(_)) => self.apply_binary(tree, mail),
            Err(why) => Ok(Applied::Rejected(why.to_string())),
        }
    }

    /// A diff with a binary file, applied by libgit2 (exactly), or by git
    /// apply when libgit2 cannot read it.
    fn apply_binary(&self, tree: Oid, mail: &PatchMail) -> Result<Applied, GitError> {
        let Ok(diff) = self.mail_diff(mail) else {
            return Ok(match self.apply_with_git(tree, mail) {
                Ok(t) => Applied::Tree(Id(t)),
                Err(why) => Applied::Rejected(why),
            });
        };
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

    /// Apply a diff libgit2 cannot parse with `git apply`, on the files it
    /// names copied out of `tree` into a scratch folder: git reads nothing
    /// of the object store, so objects still in memory need not be written
    /// first.
    fn apply_with_git(&self, tree: Oid, mail: &PatchMail) -> Result<Oid, String> {
        let start = mail
            .diff
            .windows(11)
            .position(|w| w == b"diff --git ")
            .unwrap_or(0);
        let diff = &mail.diff[start..];
        let patch = crate::diff::Patch::parse(diff).map_err(|e| e.to_string())?;
        let base = self.repo.find_tree(tree).map_err(|e| e.to_string())?;
        let path_of = |p: &[u8]| Path::new(std::ffi::OsStr::from_bytes(p)).to_path_buf();
        let mut files = Vec::new();
        let mut touched: Vec<Vec<u8>> = Vec::new();
        for f in &patch.files {
            for p in [&f.old_path, &f.new_path] {
                if !touched.contains(p) {
                    touched.push(p.clone());
                }
            }
            if let Ok(entry) = base.get_path(&path_of(&f.old_path)) {
                let blob = self.repo.find_blob(entry.id()).map_err(|e| e.to_string())?;
                files.push(super::cmd::File {
                    path: f.old_path.clone(),
                    mode: entry.filemode() as u32,
                    bytes: blob.content().to_vec(),
                });
            }
        }
        let after = super::cmd::apply_to_files(&files, &touched, diff).map_err(|e| match e {
            super::cmd::CmdError::Failed { stderr, .. } => stderr,
            other => other.to_string(),
        })?;
        let mut update = TreeUpdateBuilder::new();
        for (path, now) in after {
            let p = path_of(&path);
            match now {
                Some(file) => {
                    let id = self
                        .store(ObjectType::Blob, &file.bytes)
                        .map_err(|e| e.to_string())?;
                    update.upsert(&p, id, file_mode(file.mode));
                }
                None => {
                    update.remove(&p);
                }
            }
        }
        update
            .create_updated(&self.repo, &base)
            .map_err(|e| e.to_string())
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
        // The bytes git_commit_create would write, stored without its
        // search of every backend (see Tree::store).
        let id = self
            .repo
            .commit_create_buffer(&author, sig, &am_message(mail), &tree, &[&parent])
            .and_then(|buf| self.store(ObjectType::Commit, &buf))
            .doing(|| format!("committing \"{}\"", mail.title))?;
        Ok(Id(id))
    }

    /// An empty commit on `parent` (its tree unchanged) with `message`,
    /// authored and committed by `who` (a b4 cover commit).
    pub fn empty_commit_on(
        &self,
        parent: Id,
        message: &str,
        who: &Committer,
    ) -> Result<Id, GitError> {
        let sig = Signature::new(
            &who.who.name,
            &who.who.email,
            &Time::new(who.secs, who.offset_minutes),
        )
        .doing(|| "making the committer's signature".into())?;
        let parent = self
            .repo
            .find_commit(parent.0)
            .doing(|| format!("reading commit {parent}"))?;
        let tree = parent.tree().doing(|| "reading the parent's tree".into())?;
        let id = self
            .repo
            .commit_create_buffer(&sig, &sig, message, &tree, &[&parent])
            .and_then(|buf| self.store(ObjectType::Commit, &buf))
            .doing(|| "committing the cover letter".into())?;
        Ok(Id(id))
    }
}
