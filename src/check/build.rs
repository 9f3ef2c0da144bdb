//! Build at the base and at every patch (bisectability, and the compiler's
//! warnings each patch adds) in a scratch worktree that is removed
//! afterwards; the user's checkout is never touched.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;

use crate::git::{cmd, Id};
use crate::model::{Finding, Severity, Source};
use crate::process::{Run, RunError};

/// Why the build check could not run.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Git(#[from] cmd::CmdError),
    #[error("cannot run the build command: {0}")]
    Spawn(std::io::Error),
    #[error("cannot run the build command: {0}")]
    Run(#[source] RunError),
}

/// What the builds found: findings (a patch that breaks the build, the
/// warnings a patch adds) and the warnings patches fixed, in words.
#[derive(Debug, Default)]
pub struct Built {
    pub findings: Vec<Finding>,
    pub fixed: Vec<String>,
    /// Why the check stopped before the last patch, if it did.
    pub stopped: Option<String>,
    /// Patches whose build was found in the cache instead of run.
    pub cached: usize,
}

/// A compiler's diagnostic: `FILE:LINE[:COL]: warning: TEXT` (gcc, clang).
static DIAGNOSTIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([^\s:][^:]*):(\d+):(?:\d+:)? warning: (.+)$").expect("a valid regex")
});

/// The warnings in a build's output: (file, line, text), the file as the
/// compiler named it with a leading `./` dropped.
fn diagnostics(output: &str) -> Vec<(String, u32, String)> {
    output
        .lines()
        .filter_map(|l| {
            let c = DIAGNOSTIC.captures(l)?;
            let file = c[1].trim_start_matches("./").to_string();
            Some((file, c[2].parse().ok()?, c[3].trim().to_string()))
        })
        .collect()
}

/// Debian's ccache masquerade folder: first on PATH, `gcc`, `cc` and
/// `clang` are ccache's, so a build at the next patch compiles again only
/// what changed in what it compiles, even across scratch worktrees.
const CCACHE_DIR: &str = "/usr/lib/ccache";

/// Debian's distcc masquerade folder, the same for distcc.
const DISTCC_DIR: &str = "/usr/lib/distcc";

/// Where and how builds run: the distcc hosts when a farm is configured.
#[derive(Clone, Debug, Default)]
pub struct Farm {
    /// distcc's host list (`DISTCC_HOSTS` syntax: `host[:port][/limit] ...`).
    pub distcc_hosts: Option<String>,
    /// The job slots one build may use here (`check --jobs`, shared by
    /// the builds running at once); none: the CPUs.
    pub jobs: Option<usize>,
}

/// One build to run at every patch: the command, the time one build may
/// take, where it compiles.
pub struct Job<'a> {
    pub command: &'a str,
    pub limit: Duration,
    pub farm: &'a Farm,
    /// Where builds are kept for next time; None: nothing is kept.
    pub cache: Option<&'a Path>,
}

/// The environment of a build: ccache's folder first on PATH when ccache
/// is installed; with distcc hosts, DISTCC_HOSTS set and the compiles sent
/// there (through ccache, as its CCACHE_PREFIX, or distcc's own folder
/// first on PATH); SERIES_BUILD_JOBS the job slots to give make (`make
/// -j$SERIES_BUILD_JOBS`): distcc's over all hosts, else the farm's
/// `jobs`, else the CPUs here.
fn build_env(farm: &Farm) -> Vec<(&'static str, std::ffi::OsString)> {
    let ccache = Path::new(CCACHE_DIR).join("gcc").exists();
    let distcc = farm
        .distcc_hosts
        .as_ref()
        .filter(|_| Path::new(DISTCC_DIR).join("gcc").exists());
    let mut first = Vec::new();
    let mut env = Vec::new();
    if ccache {
        first.push(std::path::PathBuf::from(CCACHE_DIR));
    }
    let mut jobs = farm
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    if let Some(hosts) = distcc {
        env.push(("DISTCC_HOSTS", hosts.into()));
        if ccache {
            env.push(("CCACHE_PREFIX", "distcc".into()));
        } else {
            first.push(std::path::PathBuf::from(DISTCC_DIR));
        }
        let slots = Run::new("distcc")
            .arg("-j")
            .env("DISTCC_HOSTS", hosts)
            .limit(Duration::from_secs(10))
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok());
        jobs = slots.unwrap_or(jobs);
    }
    env.push(("SERIES_BUILD_JOBS", jobs.to_string().into()));
    if !first.is_empty() {
        first.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        if let Ok(path) = std::env::join_paths(first) {
            env.push(("PATH", path));
        }
    }
    env
}

/// One build in `wt`: Ok(output) when it succeeded, Err(finding) when it
/// failed or ran out of time at `patch` (none: at the base).
fn build_once(
    wt: &Path,
    command: &str,
    limit: Duration,
    patch: Option<usize>,
    env: &[(&'static str, std::ffi::OsString)],
) -> Result<Result<String, Finding>, BuildError> {
    let at = if patch.is_some() {
        "at this patch"
    } else {
        "at the base, before any patch (nothing was checked)"
    };
    let failed = |rule: &str, message: String| Finding {
        patch,
        file: None,
        line: None,
        rule: rule.into(),
        severity: Severity::Error,
        message,
        source: Source::Build,
    };
    let mut run = Run::new("sh").arg("-c").arg(command).cwd(wt).limit(limit);
    for (k, v) in env {
        run = run.env(k, v);
    }
    let out = match run.output()
    {
        Ok(out) => out,
        Err(RunError::TimedOut { .. }) => {
            return Ok(Err(failed(
                "build-timeout",
                format!(
                    "`{command}` did not finish within {}s {at} and was stopped (raise --build-timeout)",
                    limit.as_secs()
                ),
            )))
        }
        Err(e) => return Err(BuildError::Run(e)),
    };
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        return Ok(Ok(text));
    }
    let tail: Vec<&str> = text.lines().rev().take(15).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Ok(Err(failed(
        "build",
        format!(
            "`{command}` fails {at} ({}):\n{}",
            out.status,
            tail.join("\n")
        ),
    )))
}

/// The warnings known for each file: those of the last build that printed
/// any for it, or (for a file a patch changed) of the last build at all.
type Known = BTreeMap<String, Vec<String>>;

/// Compare one patch's build with what was known: each warning whose text
/// its file did not have is new (matched by text, so a warning moved by
/// the patch is not); a changed file's warning that is gone was fixed.
fn compare(
    known: &mut Known,
    found: Vec<(String, u32, String)>,
    changed: &[String],
    patch: usize,
    out: &mut Built,
) {
    let mut now: Known = BTreeMap::new();
    for (file, line, text) in &found {
        now.entry(file.clone()).or_default().push(text.clone());
        let had = known.get(file).map(Vec::as_slice).unwrap_or(&[]);
        let before = had.iter().filter(|t| *t == text).count();
        let seen = found
            .iter()
            .take_while(|f| !(f.0 == *file && f.1 == *line && f.2 == *text))
            .filter(|f| f.0 == *file && f.2 == *text)
            .count();
        if seen >= before {
            out.findings.push(Finding {
                patch: Some(patch),
                file: Some(file.clone()),
                line: Some(*line),
                rule: "build-warning".into(),
                severity: Severity::Warning,
                message: format!("{text} (new at this patch)"),
                source: Source::Build,
            });
        }
    }
    for file in changed {
        let had = known.get(file).cloned().unwrap_or_default();
        let has = now.get(file).cloned().unwrap_or_default();
        let mut left = has.clone();
        for t in had {
            match left.iter().position(|h| *h == t) {
                Some(i) => {
                    left.remove(i);
                }
                None => out.fixed.push(format!("patch {patch} fixes {file}: {t}")),
            }
        }
        known.insert(file.clone(), has);
    }
    for (file, texts) in now {
        known.insert(file, texts);
    }
}

/// One point of the series: a commit and its tree.
#[derive(Clone, Copy, Debug)]
pub struct Point {
    pub commit: Id,
    pub tree: Id,
}

/// Builds kept for next time, in series' cache: the warnings one build
/// printed, named by the tree it started from (none: a fresh worktree),
/// the tree it built and the command. A series checked again builds only
/// from the first patch whose trees changed.
struct Cache<'a> {
    dir: Option<&'a Path>,
    command: &'a str,
}

type Diagnostics = Vec<(String, u32, String)>;

impl Cache<'_> {
    fn file(&self, from: Option<Id>, to: Id) -> Option<std::path::PathBuf> {
        let from = from.map(|f| f.to_string()).unwrap_or_default();
        let key = crate::text::digest(format!("build\0{}\0{from}\0{to}", self.command).as_bytes());
        self.dir.map(|d| d.join(format!("{key}.json")))
    }

    fn get(&self, from: Option<Id>, to: Id) -> Option<Diagnostics> {
        let bytes = std::fs::read(self.file(from, to)?).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Keep what a build that succeeded printed; written whole or not at
    /// all (a failure to write only costs a build next time).
    fn put(&self, from: Option<Id>, to: Id, found: &Diagnostics) {
        let (Some(file), Ok(json)) = (self.file(from, to), serde_json::to_vec(found)) else {
            return;
        };
        let Some(dir) = file.parent() else { return };
        let _ = std::fs::create_dir_all(dir);
        let tmp = file.with_extension(format!("{}.tmp", std::process::id()));
        if std::fs::write(&tmp, json).is_ok() {
            let _ = std::fs::rename(&tmp, &file);
        }
    }
}

/// A scratch worktree of `tree`, removed (with git's record of it) when
/// dropped, so no path out of a build can leave one behind.
struct Scratch<'a> {
    tree: &'a Path,
    path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl<'a> Scratch<'a> {
    fn new(tree: &'a Path, at: Id) -> Result<Scratch<'a>, BuildError> {
        let dir = tempfile::Builder::new()
            .prefix("series-build-")
            .tempdir()
            .map_err(BuildError::Spawn)?;
        let path = dir.path().join("tree");
        cmd::git(
            tree,
            [
                "worktree",
                "add",
                "-q",
                "--detach",
                &path.to_string_lossy(),
                &at.to_string(),
            ],
        )?;
        Ok(Scratch {
            tree,
            path,
            _dir: dir,
        })
    }
}

impl Drop for Scratch<'_> {
    fn drop(&mut self) {
        let _ = cmd::git(
            self.tree,
            [
                "worktree",
                "remove",
                "--force",
                &self.path.to_string_lossy(),
            ],
        );
        let _ = cmd::git(self.tree, ["worktree", "prune"]);
    }
}

/// Build at `base`, then at each point in turn, in a scratch worktree of
/// `tree`, with `job.command` (through `sh -c`, as the user wrote it);
/// `changed[i]` are the files patch i+1 changes. Reports the first patch
/// that breaks the build and the warnings each patch adds over the
/// base's; `job.limit` bounds each build. Builds kept in `job.cache` are
/// not run again: the worktree is made only at the first point not kept,
/// built there once from the point before it, and every build from then
/// on runs and is kept.
pub fn run(
    tree: &Path,
    base: Point,
    points: &[Point],
    changed: &[Vec<String>],
    job: &Job<'_>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Built, BuildError> {
    let (command, limit) = (job.command, job.limit);
    let env = build_env(job.farm);
    let cache = Cache {
        dir: job.cache,
        command,
    };
    let mut out = Built::default();
    let mut known = Known::new();
    let mut live: Option<Scratch<'_>> = None;
    progress(0, points.len());
    let at_base = match cache.get(None, base.tree) {
        Some(found) => found,
        None => {
            let wt = Scratch::new(tree, base.commit)?;
            match build_once(&wt.path, command, limit, None, &env)? {
                Ok(text) => {
                    let found = diagnostics(&text);
                    cache.put(None, base.tree, &found);
                    live = Some(wt);
                    found
                }
                // A base that does not build is no pass: nothing was checked.
                Err(f) => {
                    out.findings.push(f);
                    out.stopped = Some(format!(
                        "`{command}` fails at the base; nothing was checked"
                    ));
                    return Ok(out);
                }
            }
        }
    };
    for (file, _, t) in at_base {
        known.entry(file).or_default().push(t);
    }
    let mut prev = base;
    for (i, p) in points.iter().enumerate() {
        progress(i + 1, points.len());
        let kept = live
            .is_none()
            .then(|| cache.get(Some(prev.tree), p.tree))
            .flatten();
        let found = match kept {
            Some(found) => {
                out.cached += 1;
                found
            }
            None => {
                let wt = match live.take() {
                    Some(wt) => wt,
                    None => {
                        // The first build not kept: a worktree built at the
                        // point before it, for the build at this one to start from.
                        let wt = Scratch::new(tree, prev.commit)?;
                        let before = (i > 0).then_some(i);
                        if let Err(f) = build_once(&wt.path, command, limit, before, &env)? {
                            out.findings.push(f);
                            return Ok(out);
                        }
                        wt
                    }
                };
                cmd::git(
                    &wt.path,
                    ["checkout", "-q", "--detach", &p.commit.to_string()],
                )?;
                let built = build_once(&wt.path, command, limit, Some(i + 1), &env)?;
                live = Some(wt);
                match built {
                    Ok(text) => {
                        let found = diagnostics(&text);
                        cache.put(Some(prev.tree), p.tree, &found);
                        found
                    }
                    Err(f) => {
                        out.findings.push(f);
                        return Ok(out);
                    }
                }
            }
        };
        let none = Vec::new();
        let files = changed.get(i).unwrap_or(&none);
        compare(&mut known, found, files, i + 1, &mut out);
        prev = *p;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcc_and_clang_warnings_are_read_with_or_without_a_column() {
        let out = "  CC      mm/memory.o\nmm/memory.c:42:7: warning: unused variable 'x' [-Wunused-variable]\n./mm/free.c:9: warning: no previous prototype for 'f'\nmm/memory.c:50:1: error: expected ';'\nIn file included from mm/memory.c:3:\n";
        assert_eq!(
            diagnostics(out),
            [
                (
                    "mm/memory.c".to_string(),
                    42,
                    "unused variable 'x' [-Wunused-variable]".to_string()
                ),
                (
                    "mm/free.c".to_string(),
                    9,
                    "no previous prototype for 'f'".to_string()
                ),
            ]
        );
    }

    #[test]
    fn a_moved_warning_is_old_a_new_one_is_new_and_a_gone_one_was_fixed() {
        let mut known = Known::new();
        known.insert(
            "a.c".into(),
            vec!["unused variable 'x'".into(), "old".into()],
        );
        let mut out = Built::default();
        let found = vec![
            ("a.c".to_string(), 20, "unused variable 'x'".to_string()),
            ("a.c".to_string(), 30, "unused variable 'x'".to_string()),
        ];
        compare(&mut known, found, &["a.c".to_string()], 2, &mut out);
        assert_eq!(out.findings.len(), 1);
        assert_eq!(out.findings[0].line, Some(30));
        assert_eq!(out.fixed, ["patch 2 fixes a.c: old"]);
    }
}
