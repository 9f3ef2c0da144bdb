//! Commits named by people: an abbreviated id, as a `Fixes:` tag gives one,
//! and whether one commit is in another's history.

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
}
