//! Versions of a series: starting the next one (`reroll`), the rule that a
//! sent version never changes, comparing two versions (the range-diff) and
//! the changelog drafted from that comparison.

use crate::rangediff::{self, Mark, Pairing, PatchText, Row};
use crate::store::{self, Series, VersionEntry};

/// Why a version operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum VersionError {
    #[error("v{version} was sent on {date}; a sent version never changes")]
    Sent { version: u32, date: String },
    #[error("there is no v{0} to compare: series/versions/ keeps {1}")]
    NoSuchVersion(u32, String),
    #[error("nothing to compare v{0} with: no earlier version is kept in series/versions/")]
    NothingKept(u32),
    #[error("v{0} is the last version a series can have; there is no next one")]
    Last(u32),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// The history entry of the current version when it was sent.
pub fn sent(series: &Series) -> Option<&VersionEntry> {
    let v = series.manifest.version;
    series
        .manifest
        .history
        .iter()
        .find(|h| h.version == v && !h.message_ids.is_empty())
}

/// Refuse to change a sent version.
pub fn writable(series: &Series) -> Result<(), VersionError> {
    match sent(series) {
        Some(h) => Err(VersionError::Sent {
            version: h.version,
            date: h.date.clone().unwrap_or_else(|| "an unknown day".into()),
        }),
        None => Ok(()),
    }
}

/// What `reroll` did.
pub struct Rerolled {
    pub series: Series,
    /// The version kept now (None when it was kept already, at its send).
    pub kept_now: Option<u32>,
    /// Whether the version left behind had been sent.
    pub was_sent: bool,
}

/// Start version N+1: version N is kept as it is (unless kept already),
/// the history gets N+1 with an empty changelog on the current base.
pub fn reroll(series: &Series, kept: &[u32]) -> Result<Rerolled, VersionError> {
    let v = series.manifest.version;
    let next_v = v.checked_add(1).ok_or(VersionError::Last(v))?;
    let was_sent = sent(series).is_some();
    let mut next = series.clone();
    let kept_now = (!kept.contains(&v)).then(|| {
        next.to_keep.push(store::frozen(series));
        v
    });
    next.manifest.version = next_v;
    let base = next.manifest.base.name.clone();
    let entry = next.current_version_mut();
    entry.base = Some(base);
    entry.changes.clear();
    Ok(Rerolled {
        series: next,
        kept_now,
        was_sent,
    })
}

/// The version `diff` compares the current one with by default: the
/// newest kept version that was sent, else the newest kept one.
pub fn default_old(series: &Series, kept: &[u32]) -> Option<u32> {
    let v = series.manifest.version;
    let sent_kept = kept.iter().rev().find(|&&k| {
        k < v
            && series
                .manifest
                .history
                .iter()
                .any(|h| h.version == k && !h.message_ids.is_empty())
    });
    sent_kept
        .or_else(|| kept.iter().rev().find(|&&k| k < v))
        .copied()
}

/// The patches of a series as range-diff reads them.
pub fn texts(series: &Series) -> Vec<PatchText> {
    series
        .patches
        .iter()
        .zip(&series.manifest.patches)
        .map(|(p, e)| rangediff::patch_text(p, Some(&e.change_id)))
        .collect()
}

/// Two versions compared.
pub struct Comparison {
    pub old_version: u32,
    pub new_version: u32,
    pub a: Vec<PatchText>,
    pub b: Vec<PatchText>,
    /// The commit messages of each side's patches.
    pub a_bodies: Vec<String>,
    pub b_bodies: Vec<String>,
    pub pairing: Pairing,
    pub rows: Vec<Row>,
    pub old_base: String,
    pub new_base: String,
}

/// Compare `old` with `new`.
pub fn compare(old: &Series, new: &Series) -> Comparison {
    let a = texts(old);
    let b = texts(new);
    let pairing = rangediff::pair(&a, &b, rangediff::CREATION_FACTOR);
    let rows = rangediff::rows(&a, &b, &pairing);
    Comparison {
        old_version: old.manifest.version,
        new_version: new.manifest.version,
        a,
        b,
        a_bodies: old.patches.iter().map(|p| p.body.clone()).collect(),
        b_bodies: new.patches.iter().map(|p| p.body.clone()).collect(),
        pairing,
        rows,
        old_base: old.manifest.base.name.clone(),
        new_base: new.manifest.base.name.clone(),
    }
}

impl Comparison {
    /// The range-diff text, as `git range-diff` prints it.
    pub fn render(&self, stat: bool) -> String {
        rangediff::render(&self.a, &self.b, &self.rows, stat)
    }

    /// Whether the two versions have the same patches, in the same order.
    pub fn identical(&self) -> bool {
        self.a.len() == self.b.len() && self.rows.iter().all(|r| r.mark == Mark::Same && r.a == r.b)
    }

    /// The patches of the newer version that moved: those outside the
    /// longest run of paired patches that kept their relative order.
    fn moved(&self) -> Vec<bool> {
        let paired: Vec<(usize, usize)> = (0..self.b.len())
            .filter_map(|j| self.pairing.b2a[j].map(|i| (j, i)))
            .collect();
        let keep = longest_increasing(&paired.iter().map(|p| p.1).collect::<Vec<_>>());
        let mut moved = vec![false; self.b.len()];
        for (k, (j, _)) in paired.iter().enumerate() {
            moved[*j] = !keep.contains(&k);
        }
        moved
    }

    /// The changelog lines this comparison suggests, one per change: the
    /// base, then each patch added, dropped, moved or modified (which
    /// files, or the message), in the newer version's order.
    pub fn draft(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.old_base != self.new_base {
            out.push(format!("rebased on {}", self.new_base));
        }
        let total = self.b.len();
        let moved = self.moved();
        for row in &self.rows {
            match (row.a, row.b) {
                (Some(i), None) => out.push(format!(
                    "dropped v{}'s patch {}: \"{}\"",
                    self.old_version,
                    i + 1,
                    self.a[i].subject
                )),
                (None, Some(j)) => out.push(format!(
                    "patch {}/{total} is new: \"{}\"",
                    j + 1,
                    self.b[j].subject
                )),
                (Some(i), Some(j)) => {
                    let mut what = Vec::new();
                    if moved[j] {
                        what.push(format!("moved from {}", i + 1));
                    }
                    if row.mark == Mark::Changed {
                        let (message, files) = rangediff::what_changed(&self.a[i], &self.b[j]);
                        if self.a[i].subject != self.b[j].subject {
                            what.push(format!("was \"{}\"", self.a[i].subject));
                        } else if message {
                            what.extend(message_change(&self.a_bodies[i], &self.b_bodies[j]));
                        }
                        if !files.is_empty() {
                            what.push(format!("changes in {}", files.join(", ")));
                        }
                    }
                    if !what.is_empty() {
                        out.push(format!(
                            "patch {}/{total} \"{}\": {}",
                            j + 1,
                            self.b[j].subject,
                            what.join("; ")
                        ));
                    }
                }
                (None, None) => {}
            }
        }
        out
    }
}

/// How a commit message changed: trailers collected or dropped (a review
/// tag is not a rewording), or the words themselves.
fn message_change(old: &str, new: &str) -> Vec<String> {
    use crate::mail::trailer::of_message;
    let (ta, tb) = (of_message(old), of_message(new));
    let words = |body: &str, t: &[crate::mail::trailer::Trailer]| -> String {
        let body = body.trim_end();
        match (t.is_empty(), body.rfind("\n\n")) {
            (false, Some(i)) => body[..i].to_string(),
            (false, None) => String::new(),
            (true, _) => body.to_string(),
        }
    };
    if words(old, &ta) != words(new, &tb) {
        return vec!["commit message reworded".into()];
    }
    let who = |t: &crate::mail::trailer::Trailer| match t.person() {
        Some(p) if !p.name.is_empty() => format!("{} ({})", t.name, p.name),
        _ => t.line(),
    };
    let added: Vec<String> = tb
        .iter()
        .filter(|t| !ta.iter().any(|o| o.same(t)))
        .map(who)
        .collect();
    let dropped: Vec<String> = ta
        .iter()
        .filter(|t| !tb.iter().any(|o| o.same(t)))
        .map(who)
        .collect();
    let mut out = Vec::new();
    if !added.is_empty() {
        out.push(format!("collected {}", added.join(", ")));
    }
    if !dropped.is_empty() {
        out.push(format!("dropped {}", dropped.join(", ")));
    }
    out
}

/// Merge drafted changelog lines into `changes`: each one not there yet
/// is added after what is there. Returns the lines added.
pub fn merge_draft(changes: &mut Vec<String>, drafted: &[String]) -> Vec<String> {
    let mut added = Vec::new();
    for d in drafted {
        if !changes.contains(d) {
            changes.push(d.clone());
            added.push(d.clone());
        }
    }
    added
}

/// Draft the changelog of the version being prepared from its comparison
/// with `old`, when the author has written none of it (only the lines of
/// `review resolve --note` are there): the drafted lines join them. What
/// the author wrote is never touched. Returns the lines added.
pub fn draft_changelog(series: &mut Series, old: &Series) -> Vec<String> {
    if sent(series).is_some() || old.manifest.version >= series.manifest.version {
        return Vec::new();
    }
    let lines = compare(old, series).draft();
    let entry = series.current_version_mut();
    if entry.changes.iter().any(|c| !is_note_line(c)) {
        return Vec::new();
    }
    // Drafted lines first, then the notes, as `diff --draft` orders them.
    let notes = std::mem::take(&mut entry.changes);
    let mut added = merge_draft(&mut entry.changes, &lines);
    for n in notes {
        if !entry.changes.contains(&n) {
            entry.changes.push(n);
        }
    }
    added.retain(|a| !a.is_empty());
    added
}

/// Whether a changelog line is one `review resolve --note` drafted
/// (`patch 2: NOTE (Reviewer, link)`).
pub fn is_note_line(line: &str) -> bool {
    (line.starts_with("patch ") || line.starts_with("cover letter: "))
        && line.ends_with(')')
        && line.contains(" (")
        && line.contains("://")
}

/// The positions (into `seq`) of one longest strictly increasing
/// subsequence of `seq`.
fn longest_increasing(seq: &[usize]) -> Vec<usize> {
    // tails[k]: index in seq of the smallest tail of a run of length k+1.
    let mut tails: Vec<usize> = Vec::new();
    let mut prev = vec![usize::MAX; seq.len()];
    for (i, &x) in seq.iter().enumerate() {
        let k = tails.partition_point(|&t| seq[t] < x);
        if k > 0 {
            prev[i] = tails[k - 1];
        }
        if k == tails.len() {
            tails.push(i);
        } else {
            tails[k] = i;
        }
    }
    let mut out = Vec::new();
    let mut at = tails.last().copied();
    while let Some(i) = at {
        out.push(i);
        at = (prev[i] != usize::MAX).then(|| prev[i]);
    }
    out.reverse();
    out
}

/// Load kept version `v`, or say which are kept.
pub fn load_version(dir: &std::path::Path, v: u32) -> Result<Series, VersionError> {
    let kept = store::kept_versions(dir);
    if !kept.contains(&v) {
        let list = if kept.is_empty() {
            "none".to_string()
        } else {
            kept.iter()
                .map(|k| format!("v{k}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(VersionError::NoSuchVersion(v, list));
    }
    Ok(store::load_kept(dir, v)?)
}

impl crate::error::Advice for VersionError {
    fn hint(&self) -> Option<String> {
        match self {
            VersionError::Store(s) => s.hint(),
            VersionError::Sent { version, .. } => Some(format!(
                "run `series reroll` to start v{} from it, then change that",
                version.saturating_add(1)
            )),
            VersionError::NoSuchVersion(..) => crate::error::says(
                "`series status` lists the versions; a version is kept by `series send` and `series reroll`",
            ),
            VersionError::Last(_) => crate::error::says("fix `version` in series/series.toml"),
            VersionError::NothingKept(_) => crate::error::says(
                "versions are kept by `series send` and `series reroll`; name both versions to compare others",
            ),
        }
    }
}

#[cfg(test)]
mod draft_tests {
    use super::*;

    #[test]
    fn collected_tags_are_not_a_rewording() {
        let old = "Free in workers.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>\n";
        let new = "Free in workers.\n\nReviewed-by: Mel Gorman <mgorman@suse.de>\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>\n";
        assert_eq!(
            message_change(old, new),
            ["collected Reviewed-by (Mel Gorman)"]
        );
        let reworded =
            "Free the pages in workers.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>\n";
        assert_eq!(message_change(old, reworded), ["commit message reworded"]);
    }

    #[test]
    fn a_draft_joins_the_notes_already_written() {
        let note =
            "patch 2: documented the threshold (Michal Hocko, https://lore.kernel.org/r/a@b)";
        assert!(is_note_line(note));
        assert!(!is_note_line("rebased on v4.12"));
        let mut changes = vec![note.to_string()];
        let added = merge_draft(&mut changes, &["rebased on v4.12".into(), note.into()]);
        assert_eq!(added, ["rebased on v4.12"]);
        assert_eq!(changes.len(), 2);
    }
}
