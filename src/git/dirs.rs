//! Where a path's repository is, as git finds it from there.

use std::path::{Path, PathBuf};

use git2::Repository;

/// The folders of the repository a path lies in, as git finds them from
/// there (walking up): its git folder (per worktree), the common one
/// (shared by linked worktrees) and its worktree's top, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dirs {
    pub git_dir: PathBuf,
    pub common_dir: PathBuf,
    pub worktree: Option<PathBuf>,
}

/// [`Dirs`] of the repository `from` lies in, if any.
pub fn dirs(from: &Path) -> Option<Dirs> {
    let repo = Repository::discover(from).ok()?;
    let clean = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    Some(Dirs {
        git_dir: clean(repo.path()),
        common_dir: clean(repo.commondir()),
        worktree: repo.workdir().map(clean),
    })
}

/// When `dir` lies inside a git work tree but nothing under it is tracked
/// (`git clean -dfx` would delete it), that work tree's top.
pub fn untracked_in(dir: &Path) -> Option<PathBuf> {
    let repo = git2::Repository::discover(dir).ok()?;
    let top = repo.workdir()?.canonicalize().ok()?;
    let dir = dir.canonicalize().ok()?;
    // The git folder is git's own: clean and stash never touch it.
    if repo.path().canonicalize().is_ok_and(|g| dir.starts_with(g)) {
        return None;
    }
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
