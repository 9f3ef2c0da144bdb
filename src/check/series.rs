//! The series' own consistency and shape (history, numbering, canonical
//! patch files, the cover letter) and the apply check of every patch on
//! the base.

use crate::git::Tree;
use crate::model::{Finding, Severity, Source};
use crate::store::Series;

fn series_finding(rule: &str, severity: Severity, message: String) -> Finding {
    Finding {
        patch: None,
        file: None,
        line: None,
        rule: rule.into(),
        severity,
        message,
        source: Source::Series,
    }
}

/// Series-level checks: versions and numbering, canonical files, the cover.
pub fn consistency(
    series: &Series,
    stored: &[(String, Vec<u8>)],
    prose: Result<&str, String>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let m = &series.manifest;
    let mut seen = std::collections::BTreeSet::new();
    for h in &m.history {
        if !seen.insert(h.version) {
            out.push(series_finding(
                "history",
                Severity::Error,
                format!("version {} appears twice in the history", h.version),
            ));
        }
        if h.version > m.version {
            out.push(series_finding(
                "history",
                Severity::Error,
                format!(
                    "the history has v{} but the series is at v{}",
                    h.version, m.version
                ),
            ));
        }
        if h.version < m.version && h.link.is_none() {
            out.push(series_finding(
                "history-link",
                Severity::Warning,
                format!(
                    "v{} has no link; the cover letter cannot point back to it",
                    h.version
                ),
            ));
        }
    }
    if m.patches.len() != series.patches.len() {
        out.push(series_finding(
            "numbering",
            Severity::Error,
            "the manifest and the patch files disagree on the number of patches".into(),
        ));
    }
    for (i, (name, bytes)) in stored.iter().enumerate() {
        if i < series.patches.len() && series.stored_patch(i) != *bytes {
            out.push(Finding {
                patch: Some(i + 1),
                file: Some(format!("series/patches/{name}")),
                line: None,
                rule: "canonical".into(),
                severity: Severity::Warning,
                message: "the stored patch is not as series writes it; the next save rewrites it"
                    .into(),
                source: Source::Series,
            });
        }
        let want = crate::model::slug_of_file_name(name).map(|_| format!("{:04}-", i + 1));
        if want.is_some_and(|w| !name.starts_with(&w)) {
            out.push(series_finding(
                "numbering",
                Severity::Warning,
                format!("patch {} is stored as {name}", i + 1),
            ));
        }
    }
    // The series' shape, as the bots check it: more than one patch goes
    // out under a cover letter that says what the series does.
    if series.patches.len() > 1 && prose.as_ref().is_ok_and(|p| p.trim().is_empty()) {
        out.push(Finding {
            patch: Some(0),
            file: Some("series/cover.md".into()),
            line: None,
            rule: "cover-empty".into(),
            severity: Severity::Error,
            message: format!(
                "a series of {} patches needs a cover letter saying what it does and why; series/cover.md is empty",
                series.patches.len()
            ),
            source: Source::Series,
        });
    }
    if let Err(e) = prose {
        out.push(Finding {
            patch: Some(0),
            file: Some("series/cover.md".into()),
            line: None,
            rule: "cover-template".into(),
            severity: Severity::Error,
            message: e,
            source: Source::Series,
        });
    }
    out
}

/// Apply every patch in order on the base, in memory. Returns findings and
/// a note when the check could not run.
/// The apply check: its findings, and what it found in words (`every
/// patch applies on BASE`, `stops at patch N`, or why it was skipped).
pub fn apply_check(
    tree: &Tree,
    series: &Series,
    first: &[(String, Option<Vec<crate::model::PatchMail>>)],
) -> (Vec<Finding>, Option<String>) {
    let base = &series.manifest.base;
    if !tree.has_commit(&base.commit) {
        return (
            Vec::new(),
            Some(format!(
                "skipped: the tree has no base commit {} ({})",
                base.commit.get(..12).unwrap_or(&base.commit),
                base.name
            )),
        );
    }
    let Some(mut at) = base
        .commit
        .parse::<crate::git::Id>()
        .ok()
        .and_then(|c| tree.tree_id(c).ok())
    else {
        return (
            Vec::new(),
            Some("skipped: the base commit cannot be read".into()),
        );
    };
    // The prerequisites first, each as depended on; a posted one whose
    // patches are not here is left out, and the note says so.
    let mut after = Vec::new();
    let mut missing = Vec::new();
    for (name, patches) in first {
        let Some(patches) = patches else {
            missing.push(name.as_str());
            continue;
        };
        for (j, mail) in patches.iter().enumerate() {
            match tree.apply_to(at, mail) {
                Ok(crate::git::replay::Applied::Tree(t)) => at = t,
                Ok(crate::git::replay::Applied::Rejected(why)) => {
                    return (
                        vec![Finding {
                            patch: Some(0),
                            file: None,
                            line: None,
                            rule: "prerequisite".into(),
                            severity: Severity::Error,
                            message: format!(
                                "prerequisite {name}, patch {} \"{}\", does not apply on {}: {why}",
                                j + 1,
                                mail.title,
                                base.name
                            ),
                            source: Source::Apply,
                        }],
                        Some(format!("stops at prerequisite {name}, patch {}", j + 1)),
                    )
                }
                Err(e) => return (Vec::new(), Some(format!("failed: {e}"))),
            }
        }
        after.push(name.as_str());
    }
    for (i, mail) in series.patches.iter().enumerate() {
        match tree.apply_to(at, mail) {
            Ok(crate::git::replay::Applied::Tree(t)) => at = t,
            Ok(crate::git::replay::Applied::Rejected(why)) => {
                return (
                    vec![Finding {
                        patch: Some(i + 1),
                        file: None,
                        line: None,
                        rule: "apply".into(),
                        severity: Severity::Error,
                        message: format!(
                            "does not apply on {} after the patches before it: {why}",
                            base.name
                        ),
                        source: Source::Apply,
                    }],
                    Some(format!("stops at patch {}", i + 1)),
                )
            }
            Err(e) => return (Vec::new(), Some(format!("failed: {e}"))),
        }
    }
    let mut note = format!("every patch applies on {}", base.name);
    if !after.is_empty() {
        note.push_str(&format!(" after {}", after.join(", ")));
    }
    if !missing.is_empty() {
        note.push_str(&format!(
            " (without {}: a posted series' patches are not kept here)",
            missing.join(", ")
        ));
    }
    (Vec::new(), Some(note))
}
