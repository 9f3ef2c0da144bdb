//! The tree's `scripts/get_maintainer.pl`: who should see a patch.

use std::path::Path;
use std::time::Duration;

use crate::process::Run;

/// Recipients get_maintainer.pl names for a patch: people go to To, lists
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
pub fn for_patch(
    tree: &Path,
    patch: &[u8],
    limit: Duration,
) -> Result<Maintainers, MaintainersError> {
    let script = tree.join("scripts/get_maintainer.pl");
    if !script.is_file() {
        return Err(MaintainersError::Missing(tree.to_path_buf()));
    }
    // The script runs from the tree's top. `--no-tree` (skip the check
    // that this is a kernel tree) only where the script knows the option:
    // older ones refuse it.
    let text = std::fs::read(&script).unwrap_or_default();
    let knows_tree = text.windows(7).any(|w| w == b"'tree!'");
    let out = Run::new("perl")
        .arg(&script)
        .args(knows_tree.then_some("--no-tree"))
        .args([
            "--no-rolestats",
            "--no-git",
            "--no-git-fallback",
            "--m",
            "--r",
            "--l",
            "--no-s",
        ])
        .cwd(tree)
        .stdin(patch)
        .limit(limit)
        .checked()
        .map_err(|e| MaintainersError::Failed(e.to_string()))?;
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
