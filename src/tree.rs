//! Finding the kernel tree, and reading what it says about mailing lists.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Errors locating a tree.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("no kernel tree: pass --tree PATH, set SERIES_TREE, or run inside a kernel tree")]
    NotFound,
    #[error("{} does not exist", .0.display())]
    Missing(PathBuf),
}

/// Where the tree is: `--tree`, else `SERIES_TREE`, else the current
/// directory when it looks like a kernel tree (`MAINTAINERS` and `scripts/`).
pub fn locate(flag: Option<&Path>, env: Option<&Path>, cwd: &Path) -> Result<PathBuf, TreeError> {
    if let Some(p) = flag.or(env) {
        return existing(p);
    }
    if cwd.join("MAINTAINERS").is_file()
        && cwd.join("scripts").is_dir()
        && cwd.join(".git").exists()
    {
        return Ok(cwd.to_path_buf());
    }
    Err(TreeError::NotFound)
}

fn existing(p: &Path) -> Result<PathBuf, TreeError> {
    if p.exists() {
        Ok(p.to_path_buf())
    } else {
        Err(TreeError::Missing(p.to_path_buf()))
    }
}

/// Mailing lists of a MAINTAINERS file: list name (the address's local part,
/// `linux-mm`) -> address (`linux-mm@kvack.org`).
pub fn maintainers_lists(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("L:") else {
            continue;
        };
        let Some(addr) = rest.split_whitespace().next() else {
            continue;
        };
        // A list address: a local part (the name) and a domain, printable.
        match addr.split_once('@') {
            Some((local, domain))
                if !local.is_empty()
                    && !domain.is_empty()
                    && !addr.chars().any(|c| c.is_control() || c == '<' || c == '>') =>
            {
                out.entry(local.to_string())
                    .or_insert_with(|| addr.to_string());
            }
            _ => {}
        }
    }
    out
}

/// Read the lists of the tree at `tree`, if it has a MAINTAINERS file.
pub fn tree_lists(tree: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(tree.join("MAINTAINERS"))
        .map(|t| maintainers_lists(&t))
        .unwrap_or_default()
}

impl crate::error::Advice for TreeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_from_maintainers() {
        let m = "MEMORY MANAGEMENT\nM:\tAndrew Morton <akpm@linux-foundation.org>\nL:\tlinux-mm@kvack.org\nL:\tlinux-kernel@vger.kernel.org (moderated for non-subscribers)\n";
        let l = maintainers_lists(m);
        assert_eq!(l["linux-mm"], "linux-mm@kvack.org");
        assert_eq!(l["linux-kernel"], "linux-kernel@vger.kernel.org");
        assert_eq!(l.len(), 2);
    }
}
