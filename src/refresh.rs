//! Bringing a branch's commits back into `series/` (`series refresh`):
//! after the series was applied, amended or `git rebase -i`'d on a branch,
//! each commit becomes the patch file `git format-patch` writes for it and
//! keeps the change id of the patch it came from.

use crate::git::{GitError, Id, Resolved, Tree};
use crate::model::{patch_file_name, PatchMail};
use crate::rangediff::{self, Mark};
use crate::store::{Base, PatchEntry, Series};
use crate::versions::{self, VersionError};

/// Why nothing was refreshed.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Version(#[from] VersionError),
}

/// What became of each patch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    /// The same patch, byte for byte.
    Same,
    /// The same change, amended: message or code.
    Modified,
    /// A commit no patch of the series matches: a new change id.
    New,
}

/// One patch of the refreshed series, or one dropped.
#[derive(Clone, Debug)]
pub struct Line {
    /// Position in the refreshed series (None: dropped).
    pub nr: Option<usize>,
    /// Position in the series before (None: new).
    pub was: Option<usize>,
    pub subject: String,
    pub fate: Option<Fate>,
}

/// The refreshed series and what happened to each patch.
pub struct Refreshed {
    pub series: Series,
    pub lines: Vec<Line>,
    pub base_changed: bool,
}

impl Refreshed {
    /// Whether anything differs from the series before.
    pub fn changed(&self) -> bool {
        self.base_changed
            || self.lines.iter().any(|l| {
                l.fate != Some(Fate::Same) || l.nr.is_none() || l.nr.map(|n| n - 1) != l.was
            })
    }
}

/// Read BASE..BRANCH into the series. `base` is the series' own base
/// unless a new one is given.
pub fn refresh(
    tree: &Tree,
    series: &Series,
    branch: &str,
    base: Option<&str>,
) -> Result<Refreshed, RefreshError> {
    versions::writable(series)?;
    let old_base = &series.manifest.base;
    let base = match base {
        Some(b) => tree.resolve(b)?,
        None => Resolved {
            guessed_from: None,
            name: old_base.name.clone(),
            id: old_base
                .commit
                .parse::<Id>()
                .ok()
                .filter(|_| tree.has_commit(&old_base.commit))
                .ok_or_else(|| GitError::UnknownRev {
                    rev: format!("{} ({})", old_base.name, old_base.commit),
                    tree: tree.path().to_path_buf(),
                    near: Vec::new(),
                })?,
        },
    };
    let mut ids = tree.series_commits(&base, Some(branch))?;
    let mut mails: Vec<PatchMail> = ids
        .iter()
        .map(|id| tree.commit_mail(*id))
        .collect::<Result<_, _>>()?;
    // The prerequisites' commits `series apply` put first are not the
    // series': the leading commits with their patch-ids, in order.
    let first: Vec<&String> = series
        .manifest
        .depends
        .iter()
        .flat_map(|d| &d.patch_ids)
        .collect();
    let theirs = mails
        .iter()
        .zip(&first)
        .take_while(|(m, id)| crate::depends::patch_id(&m.diff).as_ref() == Some(**id))
        .count();
    let below = match theirs {
        0 => base.id,
        n => ids[n - 1],
    };
    ids.drain(..theirs);
    mails.drain(..theirs);
    let change_ids = match_changes(series, &mails);
    let mut next = series.clone();
    next.patches = mails;
    next.manifest.patches = ids
        .iter()
        .zip(&change_ids)
        .enumerate()
        .map(|(i, (id, change))| PatchEntry {
            change_id: change.clone(),
            file: patch_file_name(
                None,
                i + 1,
                &tree
                    .first_line(*id)
                    .unwrap_or_else(|| next.patches[i].title.clone()),
            ),
        })
        .collect();
    let tip = ids.last().copied().unwrap_or(below);
    next.manifest.diffstat = tree.stat_between(below, tip)?;
    next.manifest.diffstat_of = Some(next.diffs_digest());
    let base_changed = base.id.to_string() != old_base.commit;
    if base_changed {
        next.manifest.base = Base {
            name: base.name.clone(),
            commit: base.id.to_string(),
        };
        let name = base.name.clone();
        next.current_version_mut().base = Some(name);
    }
    let lines = report(series, &next);
    Ok(Refreshed {
        series: next,
        lines,
        base_changed,
    })
}

/// A change id for each commit: the patch with the same commit id, else
/// the one patch with the same subject, else the one range-diff pairs it
/// with (the same diff, or close enough); else a new id from the commit.
fn match_changes(series: &Series, mails: &[PatchMail]) -> Vec<String> {
    let old_ids: Vec<&str> = series
        .manifest
        .patches
        .iter()
        .map(|p| p.change_id.as_str())
        .collect();
    let mut given: Vec<Option<String>> = vec![None; mails.len()];
    let mut taken = vec![false; series.patches.len()];
    for (j, m) in mails.iter().enumerate() {
        if let Some(i) = series.patches.iter().position(|p| p.commit == m.commit) {
            if !taken[i] {
                taken[i] = true;
                given[j] = Some(old_ids[i].to_string());
            }
        }
    }
    for (j, m) in mails.iter().enumerate() {
        if given[j].is_some() {
            continue;
        }
        let same: Vec<usize> = (0..series.patches.len())
            .filter(|&i| !taken[i] && series.patches[i].title == m.title)
            .collect();
        let others = mails
            .iter()
            .enumerate()
            .filter(|(k, o)| *k != j && given[*k].is_none() && o.title == m.title)
            .count();
        if let ([i], 0) = (same.as_slice(), others) {
            taken[*i] = true;
            given[j] = Some(old_ids[*i].to_string());
        }
    }
    let a = versions::texts(series);
    let b: Vec<_> = mails
        .iter()
        .zip(&given)
        .map(|(m, g)| rangediff::patch_text(m, g.as_deref()))
        .collect();
    let pairing = rangediff::pair(&a, &b, rangediff::CREATION_FACTOR);
    mails
        .iter()
        .enumerate()
        .map(|(j, m)| match (&given[j], pairing.b2a[j]) {
            (Some(g), _) => g.clone(),
            (None, Some(i)) => old_ids[i].to_string(),
            (None, None) => m.commit.chars().take(16).collect(),
        })
        .collect()
}

/// What happened to each patch, in the new order, dropped ones after.
fn report(old: &Series, new: &Series) -> Vec<Line> {
    let c = versions::compare(old, new);
    let mut lines = Vec::new();
    for row in &c.rows {
        match (row.a, row.b) {
            (a, Some(j)) => lines.push(Line {
                nr: Some(j + 1),
                was: a,
                subject: c.b[j].subject.clone(),
                fate: Some(match (a, row.mark) {
                    (None, _) => Fate::New,
                    (Some(_), Mark::Same) => Fate::Same,
                    _ => Fate::Modified,
                }),
            }),
            (Some(i), None) => lines.push(Line {
                nr: None,
                was: Some(i),
                subject: c.a[i].subject.clone(),
                fate: None,
            }),
            (None, None) => {}
        }
    }
    lines
}

impl crate::error::Advice for RefreshError {
    fn hint(&self) -> Option<String> {
        match self {
            RefreshError::Git(g) => g.hint(),
            RefreshError::Version(v) => v.hint(),
        }
    }
}
