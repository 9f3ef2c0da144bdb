//! Build at every patch (bisectability) in a scratch worktree that is
//! removed afterwards; the user's checkout is never touched.

use std::path::Path;
use std::time::Duration;

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

/// Check out each commit in turn in a scratch worktree of `tree` and run
/// `command` (through `sh -c`, as the user wrote it) there. Stops at the
/// first patch that breaks the build; `limit` bounds each build.
// The scratch worktree made, used at each commit and always removed,
// in one place so that the removal cannot be missed.
pub fn run(
    tree: &Path,
    commits: &[Id],
    command: &str,
    limit: Duration,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<Finding>, BuildError> {
    let scratch = tempfile::Builder::new()
        .prefix("series-build-")
        .tempdir()
        .map_err(BuildError::Spawn)?;
    let wt = scratch.path().join("tree");
    let Some(first) = commits.first() else {
        return Ok(Vec::new());
    };
    cmd::git(
        tree,
        [
            "worktree",
            "add",
            "-q",
            "--detach",
            &wt.to_string_lossy(),
            &first.to_string(),
        ],
    )?;
    let result = (|| {
        for (i, c) in commits.iter().enumerate() {
            progress(i + 1, commits.len());
            cmd::git(&wt, ["checkout", "-q", "--detach", &c.to_string()])?;
            let out = match Run::new("sh")
                .arg("-c")
                .arg(command)
                .cwd(&wt)
                .limit(limit)
                .output()
            {
                Ok(out) => out,
                Err(RunError::TimedOut { .. }) => {
                    return Ok(vec![Finding {
                        patch: Some(i + 1),
                        file: None,
                        line: None,
                        rule: "build-timeout".into(),
                        severity: Severity::Error,
                        message: format!(
                            "`{command}` did not finish within {}s at this patch and was stopped (raise --build-timeout)",
                            limit.as_secs()
                        ),
                        source: Source::Build,
                    }])
                }
                Err(e) => return Err(BuildError::Run(e)),
            };
            if !out.status.success() {
                let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
                text.push_str(&String::from_utf8_lossy(&out.stderr));
                let tail: Vec<&str> = text.lines().rev().take(15).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                return Ok(vec![Finding {
                    patch: Some(i + 1),
                    file: None,
                    line: None,
                    rule: "build".into(),
                    severity: Severity::Error,
                    message: format!(
                        "`{command}` fails at this patch ({}):\n{}",
                        out.status,
                        tail.join("\n")
                    ),
                    source: Source::Build,
                }]);
            }
        }
        Ok(Vec::new())
    })();
    let _ = cmd::git(
        tree,
        ["worktree", "remove", "--force", &wt.to_string_lossy()],
    );
    let _ = cmd::git(tree, ["worktree", "prune"]);
    result
}
