//! Replaying patch mails in memory: apply a mail's diff to a tree, make the
//! commit `git am` would make, and merge three trees. Nothing here touches a
//! worktree, an index file or a ref, except [`Tree::set_branch`].

use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use git2::build::TreeUpdateBuilder;
use git2::{ApplyOptions, Delta, Diff, ObjectType, Oid, Signature, Time};

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
                            .store(ObjectType::Blob, bytes)
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
            Ok(Ok(self.store(ObjectType::Blob, r.content()).doing(
                || format!("storing {}", String::from_utf8_lossy(path)),
            )?))
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

    /// Point branch `name` at `target` and check it out, as
    /// [`Tree::checkout_branch`]; when the checkout is refused or fails, the
    /// branch is put back as it was (removed, or at its old commit).
    pub fn set_branch_and_checkout(
        &self,
        name: &str,
        target: Id,
        force: bool,
    ) -> Result<(), GitError> {
        let before = self
            .repo
            .find_branch(name, git2::BranchType::Local)
            .ok()
            .and_then(|b| b.get().target());
        self.set_branch(name, target, force)?;
        let result = self.checkout_branch(name);
        if result.is_err() {
            let _ = match before {
                Some(old) => self
                    .repo
                    .reference(
                        &format!("refs/heads/{name}"),
                        old,
                        true,
                        "series: checkout failed",
                    )
                    .map(drop),
                None => self
                    .repo
                    .find_branch(name, git2::BranchType::Local)
                    .and_then(|mut b| b.delete()),
            };
        }
        result
    }

    /// Check out branch `name` in the tree's worktree with git itself
    /// (`git checkout`), which updates the index and the files and refuses
    /// to overwrite local changes or untracked files.
    pub fn checkout_branch(&self, name: &str) -> Result<(), GitError> {
        let path = self.path.clone();
        let lock = self.repo.path().join("index.lock");
        super::cmd::git(&path, ["checkout", "--quiet", name]).map_err(|e| match e {
            super::cmd::CmdError::Failed { stderr, .. } => {
                let paths = overwritten(&stderr);
                if stderr.contains("index.lock': File exists") {
                    GitError::Locked { lock, tree: path }
                } else if paths.is_empty() {
                    GitError::Checkout {
                        branch: name.to_string(),
                        why: stderr,
                    }
                } else {
                    GitError::WouldOverwrite {
                        target: name.to_string(),
                        tree: path.clone(),
                        paths,
                    }
                }
            }
            other => GitError::Checkout {
                branch: name.to_string(),
                why: other.to_string(),
            },
        })?;
        Ok(())
    }
}

/// The files git names when a checkout would overwrite them: the
/// tab-indented lines under its "would be overwritten" message.
fn overwritten(stderr: &str) -> Vec<String> {
    if !stderr.contains("would be overwritten") {
        return Vec::new();
    }
    stderr
        .lines()
        .filter(|l| l.starts_with('\t'))
        .map(|l| l.trim().to_string())
        .collect()
}
