//! The one place that spawns `git` on a repository: `git send-email`, the
//! checkout of a branch, a scratch worktree for `check --build`, the refs,
//! tags and settings of a b4 prep branch, and a binary patch libgit2 cannot
//! parse. Every run goes
//! through [`crate::process::Run`]: arguments straight to the process, never
//! through a shell, the child's stderr kept for the error, and a time limit.

use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;

use crate::process::{Finished, Run, RunError};

/// How long a plain git command may take.
const GIT_LIMIT: Duration = Duration::from_secs(600);

/// A `git` run that failed, could not start or ran out of time.
#[derive(Debug, thiserror::Error)]
pub enum CmdError {
    #[error("could not start git: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("`git {args}` failed ({status}): {stderr}")]
    Failed {
        args: String,
        status: String,
        stderr: String,
    },
    #[error("`git {args}` did not finish within {}s and was stopped", .limit.as_secs())]
    TimedOut { args: String, limit: Duration },
    #[error("`git {args}` was stopped: series was interrupted")]
    Interrupted { args: String },
}

fn run(base: Run, args: Vec<std::ffi::OsString>, limit: Duration) -> Result<Finished, CmdError> {
    let shown = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    match base.args(&args).limit(limit).checked() {
        Ok(f) => Ok(f),
        Err(RunError::Spawn { source, .. }) => Err(CmdError::Spawn(source)),
        Err(RunError::Failed { status, stderr, .. }) => Err(CmdError::Failed {
            args: shown,
            status,
            stderr,
        }),
        Err(RunError::TimedOut { limit, .. }) => Err(CmdError::TimedOut { args: shown, limit }),
        Err(RunError::Interrupted { .. }) => Err(CmdError::Interrupted { args: shown }),
    }
}

fn collect<I, S>(args: I) -> Vec<std::ffi::OsString>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    args.into_iter()
        .map(|a| a.as_ref().to_os_string())
        .collect()
}

/// Run `git` with `args` in `dir`, returning its output when it succeeds.
pub fn git<I, S>(dir: &Path, args: I) -> Result<Finished, CmdError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    git_env(dir, args, &[])
}

/// [`git`] with extra environment variables.
pub fn git_env<I, S>(dir: &Path, args: I, env: &[(&str, &OsStr)]) -> Result<Finished, CmdError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut base = Run::new("git").cwd(dir);
    for (k, v) in env {
        base = base.env(k, v);
    }
    run(base, collect(args), GIT_LIMIT)
}

/// A file handed to or taken back from `git apply`.
pub struct File {
    pub path: Vec<u8>,
    pub mode: u32,
    pub bytes: Vec<u8>,
}

/// A path the patch touched and the file it left there (None: gone).
pub type Applied = (Vec<u8>, Option<File>);

/// Apply `patch` with real `git apply` to `files` laid out in a scratch
/// folder outside any repository; `touched` names every path the patch
/// may create, change or delete. Returns each of those as the patch left
/// it (None: gone). The fallback for diffs libgit2 cannot parse, such as
/// a new empty file.
pub fn apply_to_files(
    files: &[File],
    touched: &[Vec<u8>],
    patch: &[u8],
) -> Result<Vec<Applied>, CmdError> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().map_err(CmdError::Spawn)?;
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).map_err(CmdError::Spawn)?;
    let at = |p: &[u8]| work.join(std::ffi::OsStr::from_bytes(p));
    for f in files {
        let path = at(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(CmdError::Spawn)?;
        }
        if f.mode == 0o120000 {
            std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(&f.bytes), &path)
                .map_err(CmdError::Spawn)?;
        } else {
            std::fs::write(&path, &f.bytes).map_err(CmdError::Spawn)?;
            let mode = if f.mode & 0o111 != 0 { 0o755 } else { 0o644 };
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
                .map_err(CmdError::Spawn)?;
        }
    }
    let patch_file = tmp.path().join("patch");
    std::fs::write(&patch_file, patch).map_err(CmdError::Spawn)?;
    // No repository above the scratch folder is looked for.
    let env = [("GIT_CEILING_DIRECTORIES", tmp.path().as_os_str())];
    git_env(
        &work,
        [
            std::ffi::OsStr::new("apply"),
            std::ffi::OsStr::new("--whitespace=nowarn"),
            patch_file.as_os_str(),
        ],
        &env,
    )?;
    let mut out = Vec::new();
    for p in touched {
        let path = at(p);
        let now = match std::fs::symlink_metadata(&path) {
            Err(_) => None,
            Ok(m) if m.file_type().is_symlink() => Some(File {
                path: p.clone(),
                mode: 0o120000,
                bytes: std::fs::read_link(&path)
                    .map_err(CmdError::Spawn)?
                    .as_os_str()
                    .as_bytes()
                    .to_vec(),
            }),
            Ok(m) => Some(File {
                path: p.clone(),
                mode: if m.permissions().mode() & 0o111 != 0 {
                    0o100755
                } else {
                    0o100644
                },
                bytes: std::fs::read(&path).map_err(CmdError::Spawn)?,
            }),
        };
        out.push((p.clone(), now));
    }
    Ok(out)
}

/// Send one message file with `git send-email`, which honours the user's
/// `sendemail.*` configuration. Threading and recipients come from us: the
/// file's Message-ID, In-Reply-To and References are kept (`--no-thread`),
/// and To/Cc are passed explicitly (`--suppress-cc=all` so nothing else is
/// added). No argument passes through a shell. `limit` bounds the whole
/// exchange with the server (one that accepts and never greets, say).
pub fn send_email(
    dir: &Path,
    file: &Path,
    from: Option<&str>,
    to: &[String],
    cc: &[String],
    sendmail_cmd: Option<&str>,
    limit: Duration,
) -> Result<Finished, CmdError> {
    // `git send-email` is git running the git-send-email script as its
    // child; run the script itself, so that the process tied to series
    // is the one that talks to the server.
    let (program, first): (std::ffi::OsString, Option<&str>) = match send_email_script(dir) {
        Some(p) => (p.into_os_string(), None),
        None => ("git".into(), Some("send-email")),
    };
    let mut args: Vec<std::ffi::OsString> = first.into_iter().map(Into::into).collect();
    args.extend::<Vec<std::ffi::OsString>>(vec![
        "--no-thread".into(),
        "--suppress-cc=all".into(),
        "--confirm=never".into(),
        "--no-annotate".into(),
        "--no-format-patch".into(),
        "--quiet".into(),
    ]);
    if let Some(f) = from {
        args.push(format!("--from={f}").into());
    }
    if let Some(c) = sendmail_cmd {
        args.push(format!("--sendmail-cmd={c}").into());
    }
    // Display names git send-email could split are encoded first.
    for t in to {
        args.push(format!("--to={}", crate::mail::address::header_form(t)).into());
    }
    for c in cc {
        args.push(format!("--cc={}", crate::mail::address::header_form(c)).into());
    }
    // An absolute path: it cannot be taken for an option. (With "--",
    // send-email hands the path to format-patch as a revision.)
    args.push(file.as_os_str().to_os_string());
    // On Ctrl-C the message being handed over is let through and recorded;
    // if series itself is killed, the child dies with it.
    run(
        Run::new(program).cwd(dir).finish_on_interrupt().tied(),
        args,
        limit,
    )
}

/// git's own `git-send-email` script (`git --exec-path`), when there.
fn send_email_script(dir: &Path) -> Option<std::path::PathBuf> {
    static FOUND: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    FOUND
        .get_or_init(|| {
            let out = git(dir, ["--exec-path"]).ok()?;
            let exec = String::from_utf8(out.stdout).ok()?;
            let script = Path::new(exec.trim()).join("git-send-email");
            script.is_file().then_some(script)
        })
        .clone()
}

impl crate::error::Advice for CmdError {
    fn kind(&self) -> crate::error::Kind {
        match self {
            CmdError::Interrupted { .. } => crate::error::Kind::Interrupted,
            _ => crate::error::Kind::Tool,
        }
    }
}
