//! Commits named by people: an abbreviated id, as a `Fixes:` tag gives one,
//! whether one commit is in another's history, and whether a commit is
//! public (on a ref others can fetch).

use git2::{ObjectType, Oid};

use super::{Id, Tree};

impl Tree {
    /// The commit an abbreviated id (4 to 40 hex digits) names, and its
    /// subject; none when the tree has no such commit or the prefix is
    /// ambiguous.
    pub fn commit_by_prefix(&self, hex: &str) -> Option<(Id, String)> {
        if hex.len() < 4 || hex.len() > 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let obj = self
            .repo
            .revparse_single(&format!("{hex}^{{commit}}"))
            .ok()?;
        if obj.kind() != Some(ObjectType::Commit) {
            return None;
        }
        let id = Id(obj.id());
        let subject = self.first_line(id).unwrap_or_default();
        Some((id, subject))
    }

    /// The bytes of the file at `path` in the commit `commit` (40 hex
    /// digits); none when there is no such commit or file.
    pub fn file_at(&self, commit: &str, path: &str) -> Option<Vec<u8>> {
        let c = self.repo.find_commit(Oid::from_str(commit).ok()?).ok()?;
        let entry = c.tree().ok()?.get_path(std::path::Path::new(path)).ok()?;
        let blob = self.repo.find_blob(entry.id()).ok()?;
        Some(blob.content().to_vec())
    }

    /// Whether `ancestor` is `tip` or in its history.
    pub fn in_history_of(&self, ancestor: Id, tip: &str) -> bool {
        let Ok(tip) = Oid::from_str(tip) else {
            return false;
        };
        ancestor.0 == tip
            || self
                .repo
                .graph_descendant_of(tip, ancestor.0)
                .unwrap_or(false)
    }

    /// The public refs: every remote-tracking branch (`refs/remotes/`) and
    /// each ref `extra` names (full, or as `git rev-parse` reads it), with
    /// the commit each points to.
    pub fn public_refs(&self, extra: &[String]) -> Vec<(String, Id)> {
        let mut out = Vec::new();
        if let Ok(refs) = self.repo.references_glob("refs/remotes/*") {
            for r in refs.flatten() {
                let (Ok(name), Ok(c)) = (r.shorthand(), r.peel_to_commit()) else {
                    continue;
                };
                if !name.ends_with("/HEAD") {
                    out.push((name.to_string(), Id(c.id())));
                }
            }
        }
        for name in extra {
            if let Ok(c) = self.repo.revparse_single(&format!("{name}^{{commit}}")) {
                out.push((name.clone(), Id(c.id())));
            }
        }
        out
    }

    /// Where `commit` stands against the public refs: on one of them (its
    /// name), or else the nearest public ancestor (the merge base with
    /// the fewest commits between it and `commit`) and that ref's name.
    pub fn public_place(&self, commit: Id, refs: &[(String, Id)]) -> Public {
        if let Some((name, _)) = refs
            .iter()
            .find(|(_, tip)| self.in_history_of(commit, &tip.to_string()))
        {
            return Public::On(name.clone());
        }
        let nearest = refs
            .iter()
            .filter_map(|(name, tip)| {
                let base = self.repo.merge_base(commit.0, tip.0).ok()?;
                let (ahead, _) = self.repo.graph_ahead_behind(commit.0, base).ok()?;
                Some((ahead, Id(base), name.clone()))
            })
            .min_by_key(|(ahead, _, _)| *ahead);
        match nearest {
            Some((ahead, id, name)) => Public::Below {
                ancestor: id,
                on: name,
                private: ahead,
            },
            None => Public::Unrelated,
        }
    }
}

/// A commit against the public refs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Public {
    /// In the history of this public ref.
    On(String),
    /// Not public: `private` commits above `ancestor`, the nearest public
    /// one, which is on `on`.
    Below {
        ancestor: Id,
        on: String,
        private: usize,
    },
    /// No history shared with any public ref.
    Unrelated,
}
