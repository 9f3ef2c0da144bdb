//! git configuration, read through libgit2 with git's own files and
//! environment variables.

use std::path::{Path, PathBuf};

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

pub(super) fn config_for(repo: Option<&git2::Repository>) -> Option<git2::Config> {
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

/// A value of a file in git's config format (a tree's `.series-config`).
pub fn file_get(file: &Path, key: &str) -> Option<String> {
    if !file.is_file() {
        return None;
    }
    let cfg = git2::Config::open(file).ok()?;
    cfg.get_string(key).ok().filter(|v| !v.is_empty())
}
