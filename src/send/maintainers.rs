//! The tree's `scripts/get_maintainer.pl`: who should see a patch.

use std::path::Path;
use std::process::{Command, Stdio};

/// Recipients get_maintainer.pl names for a patch: lists go to To, people
/// to Cc (as b4 does).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Maintainers {
    pub lists: Vec<String>,
    pub people: Vec<String>,
}

/// get_maintainer.pl failed or is missing.
#[derive(Debug, thiserror::Error)]
pub enum MaintainersError {
    #[error("{} has no scripts/get_maintainer.pl", .0.display())]
    Missing(std::path::PathBuf),
    #[error("get_maintainer.pl failed: {0}")]
    Failed(String),
}

/// Run get_maintainer.pl on one patch (given as bytes, on stdin).
pub fn for_patch(tree: &Path, patch: &[u8]) -> Result<Maintainers, MaintainersError> {
    let script = tree.join("scripts/get_maintainer.pl");
    if !script.is_file() {
        return Err(MaintainersError::Missing(tree.to_path_buf()));
    }
    let mut child = Command::new("perl")
        .arg(&script)
        .args([
            "--no-rolestats",
            "--no-git",
            "--no-git-fallback",
            "--no-tree",
            "--m",
            "--r",
            "--l",
            "--no-s",
        ])
        .current_dir(tree)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| MaintainersError::Failed(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        let bytes = patch.to_vec();
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = stdin.write_all(&bytes);
        });
    }
    let out = child
        .wait_with_output()
        .map_err(|e| MaintainersError::Failed(e.to_string()))?;
    if !out.status.success() {
        return Err(MaintainersError::Failed(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    let mut m = Maintainers::default();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let line = line.trim();
        if line.is_empty() || !line.contains('@') {
            continue;
        }
        if line.contains('<') {
            m.people.push(line.to_string());
        } else {
            m.lists.push(line.to_string());
        }
    }
    Ok(m)
}
