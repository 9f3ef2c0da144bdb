//! The one place that spawns `git`: for `git send-email`, and as the reference
//! implementation in tests. Arguments go straight to the process, never
//! through a shell; the child's stderr is kept for the error.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

/// A `git` run that failed or could not start.
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
}

/// Run `git` with `args` in `dir`, returning its output when it succeeds.
pub fn git<I, S>(dir: &Path, args: I) -> Result<Output, CmdError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    git_env(dir, args, &[])
}

/// [`git`] with extra environment variables.
pub fn git_env<I, S>(dir: &Path, args: I, env: &[(&str, &OsStr)]) -> Result<Output, CmdError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<_> = args
        .into_iter()
        .map(|a| a.as_ref().to_os_string())
        .collect();
    let out = Command::new("git")
        .current_dir(dir)
        .envs(env.iter().copied())
        .args(&args)
        .output()
        .map_err(CmdError::Spawn)?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(CmdError::Failed {
            args: args
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" "),
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

/// Apply `patch` to `tree` with real `git apply --cached` on a temporary
/// index (no worktree, no refs touched), returning the new tree id. The
/// fallback for diffs libgit2 cannot parse, such as a new empty file.
pub fn apply_to_tree(repo: &Path, tree: &str, patch: &[u8]) -> Result<String, CmdError> {
    use std::io::Write as _;
    let tmp = tempfile::tempdir().map_err(CmdError::Spawn)?;
    let index = tmp.path().join("index");
    let patch_file = tmp.path().join("patch");
    std::fs::File::create(&patch_file)
        .and_then(|mut f| f.write_all(patch))
        .map_err(CmdError::Spawn)?;
    let env = [("GIT_INDEX_FILE", index.as_os_str())];
    let run = |args: &[&str]| git_env(repo, args, &env);
    run(&["read-tree", tree])?;
    run(&[
        "apply",
        "--cached",
        "--whitespace=nowarn",
        &patch_file.to_string_lossy(),
    ])?;
    let out = run(&["write-tree"])?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Send one message file with `git send-email`, which honours the user's
/// `sendemail.*` configuration. Threading and recipients come from us: the
/// file's Message-ID, In-Reply-To and References are kept (`--no-thread`),
/// and To/Cc are passed explicitly (`--suppress-cc=all` so nothing else is
/// added). No argument passes through a shell.
pub fn send_email(
    dir: &Path,
    file: &Path,
    from: Option<&str>,
    to: &[String],
    cc: &[String],
) -> Result<Output, CmdError> {
    let mut args: Vec<std::ffi::OsString> = vec![
        "send-email".into(),
        "--no-thread".into(),
        "--suppress-cc=all".into(),
        "--confirm=never".into(),
        "--no-annotate".into(),
        "--no-format-patch".into(),
        "--quiet".into(),
    ];
    if let Some(f) = from {
        args.push(format!("--from={f}").into());
    }
    for t in to {
        args.push(format!("--to={t}").into());
    }
    for c in cc {
        args.push(format!("--cc={c}").into());
    }
    // An absolute path: it cannot be taken for an option. (With "--",
    // send-email hands the path to format-patch as a revision.)
    args.push(file.as_os_str().to_os_string());
    git(dir, args)
}
