//! Branches: made, moved, and checked out by git itself.

use super::{Doing, GitError, Id, Tree};

impl Tree {
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
