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

/// core.sharedRepository as git's setup.c reads it (`git_config_perm`): 0
/// for the umask, 0o660 for `group` (or true, or 1), 0o664 for `all`,
/// `world`, `everybody` (or 2), or an octal mode to restrict to, negated.
/// A mode git would refuse (the owner without read and write) is taken as
/// the umask.
pub(super) fn shared_repository(cfg: &git2::Config) -> i32 {
    const GROUP: i32 = 0o660;
    const EVERYBODY: i32 = 0o664;
    let Ok(v) = cfg.get_string("core.sharedrepository") else {
        return 0;
    };
    match v.trim() {
        // A key with no value is true.
        "" | "group" => GROUP,
        "umask" => 0,
        "all" | "world" | "everybody" => EVERYBODY,
        v => match i32::from_str_radix(v, 8) {
            Ok(0) => 0,
            Ok(1) => GROUP,
            Ok(2) => EVERYBODY,
            Ok(i) if i & 0o600 == 0o600 => -(i & 0o666),
            Ok(_) => 0,
            Err(_) => match v.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" => GROUP,
                _ => 0,
            },
        },
    }
}

/// The mode git gives a folder it made in the object store, from the mode
/// it was made with, under core.sharedRepository `shared` (path.c:
/// `calc_shared_perm`, then `adjust_shared_perm`'s folder bits: execute
/// where readable, and set-group-id).
pub(super) fn shared_dir_mode(shared: i32, mode: u32) -> u32 {
    let mut tweak = shared.unsigned_abs();
    if mode & 0o200 == 0 {
        tweak &= !0o222;
    }
    if mode & 0o100 != 0 {
        tweak |= (tweak & 0o444) >> 2;
    }
    let mut m = if shared < 0 {
        (mode & !0o777) | tweak
    } else {
        mode | tweak
    };
    m |= (m & 0o444) >> 2;
    (m | 0o2000) & 0o7777
}

/// Whether git fsyncs the loose objects it writes: `core.fsync` naming
/// `loose-object` or a group that holds it (`objects`, `committed`,
/// `added`, `all`) and not taking it out again with a `-`, or the older
/// `core.fsyncObjectFiles` (config.c, `parse_fsync_components`). Off by
/// default, as in git.
pub(super) fn fsync_loose_objects(cfg: &git2::Config) -> bool {
    let mut on = cfg.get_bool("core.fsyncobjectfiles").unwrap_or(false);
    if let Ok(list) = cfg.get_string("core.fsync") {
        let (mut plus, mut minus) = (false, false);
        for item in list.split(',').map(str::trim) {
            let (negated, name) = match item.strip_prefix('-') {
                Some(n) => (true, n),
                None => (false, item),
            };
            if matches!(
                name,
                "loose-object" | "objects" | "committed" | "added" | "all"
            ) {
                if negated {
                    minus = true;
                } else {
                    plus = true;
                }
            }
        }
        on = (on && !minus) || plus;
    }
    on
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg_with(pairs: &[(&str, &str)]) -> (tempfile::TempDir, git2::Config) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, "").unwrap();
        let mut cfg = git2::Config::open(&path).unwrap();
        for (k, v) in pairs {
            cfg.set_str(k, v).unwrap();
        }
        (dir, cfg)
    }

    #[test]
    fn shared_repository_values_read_as_git_reads_them() {
        for (v, want) in [
            ("umask", 0),
            ("false", 0),
            ("0", 0),
            ("group", 0o660),
            ("true", 0o660),
            ("1", 0o660),
            ("all", 0o664),
            ("everybody", 0o664),
            ("2", 0o664),
            ("0640", -0o640),
            ("0600", -0o600),
        ] {
            let (_d, cfg) = cfg_with(&[("core.sharedRepository", v)]);
            assert_eq!(shared_repository(&cfg), want, "{v}");
        }
        let (_d, cfg) = cfg_with(&[]);
        assert_eq!(shared_repository(&cfg), 0);
    }

    #[test]
    fn a_shared_folder_gets_group_bits_and_set_group_id() {
        // mkdir 0777 under umask 022, then group: what git's folders get.
        assert_eq!(shared_dir_mode(0o660, 0o755), 0o2775);
        assert_eq!(shared_dir_mode(0o664, 0o700), 0o2775);
        // An octal mode replaces the permission bits.
        assert_eq!(shared_dir_mode(-0o640, 0o755), 0o2750);
    }

    #[test]
    fn loose_objects_are_fsynced_only_when_configured() {
        let on = |pairs: &[(&str, &str)]| {
            let (_d, cfg) = cfg_with(pairs);
            fsync_loose_objects(&cfg)
        };
        assert!(!on(&[]));
        assert!(on(&[("core.fsync", "loose-object")]));
        assert!(on(&[("core.fsync", "reference,committed")]));
        assert!(!on(&[("core.fsync", "pack,reference")]));
        assert!(on(&[("core.fsyncObjectFiles", "true")]));
        assert!(!on(&[
            ("core.fsyncObjectFiles", "true"),
            ("core.fsync", "-loose-object")
        ]));
    }
}
