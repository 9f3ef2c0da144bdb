//! Where a series is and what a command runs against: the series folder,
//! found as git finds `.git`; the project folder beside it (`outgoing/`,
//! `.series-rebase/`, `checks/`, `templates/`); the kernel tree; the clock
//! and the identity, read once from the environment.
//!
//! A series lives in one of two homes:
//!
//! - a `series/` folder anywhere (the bundled series, one kept in its own
//!   repository, every series made before homes existed), found in the
//!   current folder or above it, up to the top of its git worktree;
//! - the home under a repository's common git folder,
//!   `$(git rev-parse --git-common-dir)/series/NAME/series/`, which `git
//!   clean`, `git checkout` and `git stash -u` never touch. A repository holds
//!   any number; each worktree has its own current one
//!   (`$(git rev-parse --git-dir)/series-current`), and a file `location`
//!   in place of `NAME/series/` says that series NAME lives in a folder of
//!   its own (`series move`).
//!
//! `--series DIR` (or `SERIES_DIR`) names the folder; `--name NAME` (or
//! `SERIES_NAME`) picks a series of the home; otherwise a `series/` folder
//! found walking up comes first, then the worktree's current series, then
//! the home's only one.

use std::fs;
use std::path::{Path, PathBuf};

use crate::clock::Moment;
use crate::git::Dirs;
use crate::model::Person;
use crate::store::Series;

/// The file of a worktree's git folder naming its current series.
const CURRENT: &str = "series-current";
/// The file that stands for a series of the home kept elsewhere.
const LOCATION: &str = "location";

/// Errors finding a series.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("--name {name}: series are named in the home under a repository's git folder, and {} is not in a git repository", .cwd.display())]
    NoRepository { name: String, cwd: PathBuf },
    #[error("no series {name:?} in {}{}", .home.display(), list_known(.known))]
    Unknown {
        name: String,
        home: PathBuf,
        known: Vec<String>,
    },
    #[error("{} holds {} series and this worktree has none current: {}", .home.display(), .known.len(), .known.join(", "))]
    Several { home: PathBuf, known: Vec<String> },
    #[error("series name {0:?} is not valid: use letters, digits, `-`, `_` and `.`, not starting with `.`")]
    BadName(String),
    #[error("--tree {}: no such folder", .0.display())]
    NoTreeFlag(PathBuf),
    #[error("SERIES_TREE={}: no such folder", .0.display())]
    NoTreeEnv(PathBuf),
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn list_known(names: &[String]) -> String {
    if names.is_empty() {
        String::new()
    } else {
        format!(" (it has {})", names.join(", "))
    }
}

impl crate::error::Advice for WorkspaceError {
    fn kind(&self) -> crate::error::Kind {
        match self {
            WorkspaceError::BadName(_) | WorkspaceError::NoTreeFlag(_) => crate::error::Kind::Usage,
            _ => crate::error::Kind::User,
        }
    }

    fn hint(&self) -> Option<String> {
        crate::error::says(match self {
            WorkspaceError::NoRepository { .. } => {
                "run inside the kernel tree, or name the folder with --series DIR"
            }
            WorkspaceError::Unknown { .. } => {
                "`series list` shows the series; `series init --name NAME` makes one"
            }
            WorkspaceError::Several { .. } => {
                "pick one with `series switch NAME`, or pass --name NAME"
            }
            WorkspaceError::BadName(_) => "for example `--name parallel-free`",
            WorkspaceError::NoTreeFlag(_) => {
                "pass --tree with the path of a kernel tree (a git repository)"
            }
            WorkspaceError::NoTreeEnv(_) => "point SERIES_TREE at a kernel tree, or unset it",
            WorkspaceError::Io { .. } => "check the path and its permissions",
        })
    }
}

/// Which home a series is in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Home {
    /// A `series/` folder found or named.
    Folder,
    /// Series `name` of the home under `common` (the common git folder),
    /// kept there or, with `elsewhere`, in a folder of its own.
    Git {
        common: PathBuf,
        name: String,
        elsewhere: bool,
    },
    /// Nothing found: the folder `series/` in the current folder, where a
    /// command that reads reports it missing.
    Nowhere,
    /// The home holds several series and this worktree has none current.
    Unpicked { home: PathBuf, known: Vec<String> },
}

/// What the command line asked for and read from the environment.
#[derive(Clone, Debug, Default)]
pub struct Ask {
    /// `--series DIR` / `SERIES_DIR`.
    pub series: Option<PathBuf>,
    /// `--name NAME` / `SERIES_NAME`.
    pub name: Option<String>,
    /// `--tree PATH`.
    pub tree: Option<PathBuf>,
    /// `SERIES_TREE`.
    pub tree_env: Option<PathBuf>,
    /// `SERIES_NOW`: a fixed clock for reproducible output.
    pub now: Option<Moment>,
    /// `GIT_COMMITTER_NAME` and `GIT_COMMITTER_EMAIL`.
    pub committer: (Option<String>, Option<String>),
    /// The command makes a series (`init`): a name outside a repository
    /// names the new series rather than picking one of a home.
    pub creating: bool,
    /// How long a writer waits for another (`SERIES_LOCK_WAIT`).
    pub lock_wait: std::time::Duration,
}

/// Where a command runs: every verb's starting point.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// The series folder (`series.toml`, `cover.md`, `patches/`, ...).
    pub series_dir: PathBuf,
    pub home: Home,
    pub cwd: PathBuf,
    /// The repository the current folder is in, if any.
    pub git: Option<Dirs>,
    /// `--name`, as asked.
    pub asked_name: Option<String>,
    pub tree_flag: Option<PathBuf>,
    pub tree_env: Option<PathBuf>,
    pub fixed_now: Option<Moment>,
    pub committer_env: (Option<String>, Option<String>),
    pub lock_wait: std::time::Duration,
}

/// Whether `name` can name a series (and so a folder).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The home folder of a repository: `<common git folder>/series`.
pub fn home_of(common: &Path) -> PathBuf {
    common.join("series")
}

/// The names of the series in the home under `common`, sorted.
pub fn names_in(common: &Path) -> Vec<String> {
    let mut out: Vec<String> = fs::read_dir(home_of(common))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| valid_name(n))
        .filter(|n| {
            let d = home_of(common).join(n);
            d.join("series").join("series.toml").is_file() || d.join(LOCATION).is_file()
        })
        .collect();
    out.sort();
    out
}

/// Where series `name` of the home under `common` keeps its files, and
/// whether that is a folder of its own.
pub fn series_dir_of(common: &Path, name: &str) -> (PathBuf, bool) {
    let entry = home_of(common).join(name);
    match fs::read_to_string(entry.join(LOCATION)) {
        Ok(text) if !text.trim().is_empty() => (PathBuf::from(text.trim()), true),
        _ => (entry.join("series"), false),
    }
}

/// The current series of the worktree whose git folder is `git_dir`.
pub fn current_of(git_dir: &Path) -> Option<String> {
    let text = fs::read_to_string(git_dir.join(CURRENT)).ok()?;
    let name = text.trim().to_string();
    valid_name(&name).then_some(name)
}

/// Make `name` the current series of the worktree whose git folder is
/// `git_dir`; None makes none current.
pub fn set_current(git_dir: &Path, name: Option<&str>) -> Result<(), WorkspaceError> {
    let path = git_dir.join(CURRENT);
    let io = |source| WorkspaceError::Io {
        path: path.clone(),
        source,
    };
    match name {
        Some(n) => {
            let tmp = git_dir.join(format!("{CURRENT}.tmp"));
            fs::write(&tmp, format!("{n}\n")).map_err(io)?;
            fs::rename(&tmp, &path).map_err(io)
        }
        None => match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(e)),
            _ => Ok(()),
        },
    }
}

/// A `series/` folder holding a series in `from` or above it, up to
/// `top` (the worktree's top) when there is one.
fn walk_up(from: &Path, top: Option<&Path>) -> Option<PathBuf> {
    let mut dir = Some(from);
    while let Some(d) = dir {
        let candidate = d.join("series");
        if candidate.join("series.toml").is_file() {
            return Some(candidate);
        }
        if top.is_some_and(|t| d == t) {
            return None;
        }
        dir = d.parent();
    }
    None
}

impl Workspace {
    /// Find the series the command line asks for (see the module comment).
    /// A tree named that is not there is an error up front, never a quiet
    /// fallback to no tree.
    pub fn open(cwd: &Path, mut ask: Ask) -> Result<Workspace, WorkspaceError> {
        ask.tree = ask
            .tree
            .map(|t| if t.is_absolute() { t } else { cwd.join(t) });
        match (&ask.tree, &ask.tree_env) {
            (Some(t), _) if !t.is_dir() => return Err(WorkspaceError::NoTreeFlag(t.clone())),
            (None, Some(t)) if !t.is_dir() => return Err(WorkspaceError::NoTreeEnv(t.clone())),
            _ => {}
        }
        let git = crate::git::dirs(cwd);
        let (series_dir, home) = locate(cwd, &ask, git.as_ref())?;
        Ok(Workspace {
            series_dir,
            home,
            cwd: cwd.to_path_buf(),
            git,
            asked_name: ask.name,
            tree_flag: ask.tree,
            tree_env: ask.tree_env,
            fixed_now: ask.now,
            committer_env: ask.committer,
            lock_wait: ask.lock_wait,
        })
    }

    /// For a command that works on a series: an error when none could be
    /// picked (several in the home and none current), or a name given
    /// that the home does not have.
    pub fn require(&self) -> Result<(), WorkspaceError> {
        match &self.home {
            Home::Unpicked { home, known } => Err(WorkspaceError::Several {
                home: home.clone(),
                known: known.clone(),
            }),
            Home::Git {
                common,
                name,
                elsewhere: false,
            } if !self.series_dir.exists() => Err(WorkspaceError::Unknown {
                name: name.clone(),
                home: home_of(common),
                known: names_in(common),
            }),
            _ => Ok(()),
        }
    }

    /// The series' name in the home, when it is in one.
    pub fn name(&self) -> Option<&str> {
        match &self.home {
            Home::Git { name, .. } => Some(name),
            _ => None,
        }
    }

    /// The folder holding the series folder: where `outgoing/`,
    /// `.series-rebase/`, `checks/` and `templates/` live.
    pub fn project(&self) -> PathBuf {
        match self.series_dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => self.cwd.clone(),
        }
    }

    /// The clock: `SERIES_NOW` when it was set, else the real one.
    pub fn now(&self) -> Moment {
        self.fixed_now.unwrap_or_else(Moment::now)
    }

    /// The kernel tree: `--tree`, else `SERIES_TREE`, else git config
    /// `series.tree` (read where series runs), else the worktree the
    /// current folder is in when it is a kernel tree; or an error with a
    /// hint.
    pub fn tree_path(&self) -> Result<PathBuf, crate::tree::TreeError> {
        let configured = match (&self.tree_flag, &self.tree_env) {
            (None, None) => crate::git::config_get(&self.cwd, "series.tree").map(|t| {
                let p = PathBuf::from(&t);
                match t.strip_prefix("~/") {
                    Some(rest) => std::env::var_os("HOME")
                        .map(PathBuf::from)
                        .unwrap_or_default()
                        .join(rest),
                    None if p.is_relative() => self.cwd.join(p),
                    None => p,
                }
            }),
            _ => None,
        };
        let top = self.git.as_ref().and_then(|g| g.worktree.clone());
        crate::tree::locate(
            self.tree_flag.as_deref().or(configured.as_deref()),
            self.tree_env.as_deref(),
            top.as_deref().unwrap_or(&self.cwd),
        )
    }

    /// The kernel tree, when one can be found.
    pub fn tree_path_opt(&self) -> Option<PathBuf> {
        self.tree_path().ok()
    }

    /// Where git configuration is read: the tree, else the project folder.
    pub fn config_dir(&self) -> PathBuf {
        self.tree_path_opt().unwrap_or_else(|| self.project())
    }

    /// A git configuration value, read where `git send-email` would read it.
    pub fn config(&self, key: &str) -> Option<String> {
        crate::git::config_get(&self.config_dir(), key)
    }

    /// A setting of series: git config (the tree's repository, then the
    /// user's, as git reads them), else the tree's shipped `.series-config`
    /// (git config format, as b4 reads `.b4-config`). Flags and environment
    /// variables, where a setting has them, come before both.
    pub fn setting(&self, key: &str) -> Option<String> {
        self.config(key).or_else(|| {
            let tree = self.tree_path_opt()?;
            crate::git::file_get(&tree.join(".series-config"), key)
        })
    }

    /// A boolean setting as git reads one (`true`/`yes`/`on`/`1`, or the
    /// key alone; `false`/`no`/`off`/`0`); None when unset or unreadable.
    pub fn setting_bool(&self, key: &str) -> Option<bool> {
        match self.setting(key)?.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" | "" => Some(true),
            "false" | "no" | "off" | "0" => Some(false),
            _ => None,
        }
    }

    /// A comma-separated setting as a list, empty entries left out.
    pub fn setting_list(&self, key: &str) -> Vec<String> {
        self.setting(key)
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Who sends, as git format-patch takes it for a cover letter: the
    /// committer identity (`GIT_COMMITTER_NAME`/`EMAIL`, else `user.name` /
    /// `user.email`), else the first patch's author.
    pub fn sender(&self, series: &Series) -> Person {
        let name = self
            .committer_env
            .0
            .clone()
            .or_else(|| self.config("user.name"));
        let email = self
            .committer_env
            .1
            .clone()
            .or_else(|| self.config("user.email"));
        match (name, email) {
            (Some(name), Some(email)) => Person { name, email },
            (None, Some(email)) => Person {
                name: String::new(),
                email,
            },
            _ => crate::outgoing::first_author(series),
        }
    }

    /// The public-inbox archive: `flag`, else `series.lore`, else lore.
    pub fn archive(&self, flag: Option<&str>) -> String {
        flag.map(str::to_string)
            .or_else(|| self.setting("series.lore"))
            .unwrap_or_else(|| crate::lore::DEFAULT.to_string())
    }

    /// Where `series init` makes a new series named `name` when no folder
    /// was named: the home of the repository the current folder is in, else
    /// `series/` in the current folder. With `--series DIR` or `--name` it
    /// is where those point.
    pub fn new_series_dir(&self, name: &str) -> Result<(PathBuf, Home), WorkspaceError> {
        if !matches!(self.home, Home::Nowhere | Home::Unpicked { .. }) {
            return Ok((self.series_dir.clone(), self.home.clone()));
        }
        if !valid_name(name) {
            return Err(WorkspaceError::BadName(name.to_string()));
        }
        match &self.git {
            Some(g) => {
                let (dir, elsewhere) = series_dir_of(&g.common_dir, name);
                Ok((
                    dir,
                    Home::Git {
                        common: g.common_dir.clone(),
                        name: name.to_string(),
                        elsewhere,
                    },
                ))
            }
            None => Ok((self.cwd.join("series"), Home::Folder)),
        }
    }
}

/// The series folder and its home, for the module comment's rules.
fn locate(cwd: &Path, ask: &Ask, git: Option<&Dirs>) -> Result<(PathBuf, Home), WorkspaceError> {
    if let Some(dir) = &ask.series {
        let dir = if dir.is_absolute() {
            dir.clone()
        } else {
            cwd.join(dir)
        };
        return Ok((dir, Home::Folder));
    }
    if let Some(name) = &ask.name {
        if !valid_name(name) {
            return Err(WorkspaceError::BadName(name.clone()));
        }
        match git {
            Some(g) => return Ok(in_home(g, name)),
            None if !ask.creating => {
                return Err(WorkspaceError::NoRepository {
                    name: name.clone(),
                    cwd: cwd.to_path_buf(),
                })
            }
            None => {}
        }
    }
    let top = git.and_then(|g| g.worktree.as_deref());
    if let Some(dir) = walk_up(cwd, top) {
        return Ok((dir, Home::Folder));
    }
    // A new series is named by what it is made from, never after the
    // current one.
    if let Some(g) = git.filter(|_| !ask.creating) {
        if let Some(name) = current_of(&g.git_dir) {
            return Ok(in_home(g, &name));
        }
        match names_in(&g.common_dir).as_slice() {
            [] => {}
            [one] => return Ok(in_home(g, one)),
            several => {
                return Ok((
                    cwd.join("series"),
                    Home::Unpicked {
                        home: home_of(&g.common_dir),
                        known: several.to_vec(),
                    },
                ))
            }
        }
    }
    Ok((cwd.join("series"), Home::Nowhere))
}

fn in_home(g: &Dirs, name: &str) -> (PathBuf, Home) {
    let (dir, elsewhere) = series_dir_of(&g.common_dir, name);
    (
        dir,
        Home::Git {
            common: g.common_dir.clone(),
            name: name.to_string(),
            elsewhere,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_file_names_without_a_leading_dot() {
        for good in ["parallel-free", "v2_rework", "mm.free"] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["", ".hidden", "a/b", "..", "a b", "ä"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn a_series_folder_is_found_up_to_the_worktree_top_and_not_above() {
        let t = tempfile::tempdir().unwrap();
        let top = t.path().join("tree");
        fs::create_dir_all(top.join("mm/sub")).unwrap();
        fs::create_dir_all(t.path().join("series")).unwrap();
        fs::write(t.path().join("series/series.toml"), "").unwrap();
        assert_eq!(walk_up(&top.join("mm/sub"), Some(&top)), None);
        fs::create_dir_all(top.join("series")).unwrap();
        fs::write(top.join("series/series.toml"), "").unwrap();
        assert_eq!(
            walk_up(&top.join("mm/sub"), Some(&top)),
            Some(top.join("series"))
        );
    }
}
