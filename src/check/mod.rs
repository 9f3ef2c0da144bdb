//! `series check`: checkpatch, native rules, series consistency, an apply
//! check on the base and an optional build at every patch. Everything is a
//! [`Finding`]; nothing here prints.

pub mod build;
pub mod checkpatch;
pub mod rules;

use crate::git::Tree;
use crate::model::{Finding, Severity, Source};
use crate::outgoing::Message;
use crate::store::Series;

/// What checkpatch did.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum CheckpatchStatus {
    Ran { checked: usize, cached: usize },
    Skipped { reason: String },
}

/// Everything a check found.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub checkpatch: CheckpatchStatus,
    pub apply: Option<String>,
    pub build: Option<String>,
}

impl Report {
    pub fn count(&self, sev: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == sev).count()
    }
}

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

/// Native rules over the cover letter and every patch.
pub fn native(
    series: &Series,
    messages: &[Message],
    prose: &str,
    rules: &[rules::Rule],
) -> Vec<Finding> {
    let mut out = Vec::new();
    let cover_text = format!("{}\n{}", series.manifest.subject, prose);
    for (i, msg) in messages.iter().enumerate() {
        let mail = (i > 0).then(|| &series.patches[i - 1]);
        let subject = mail
            .map(|m| m.title.as_str())
            .unwrap_or(&series.manifest.subject);
        let target = rules::Target {
            patch: i,
            mail,
            subject,
            cover: (i == 0).then_some(cover_text.as_str()),
            rendered: &msg.bytes,
        };
        for r in rules {
            // Patch-only scopes do not apply to the cover, and the cover's
            // subject is prose, not a `subsystem: ` line.
            let cover_only = r.scope == rules::Scope::Cover;
            if (i == 0 && (r.scope != rules::Scope::Mail && !cover_only)) || (i > 0 && cover_only) {
                continue;
            }
            out.extend(rules::run(r, &target));
        }
    }
    out
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
pub fn apply_check(tree: &Tree, series: &Series) -> (Vec<Finding>, Option<String>) {
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
    let Ok(mut at) = git2::Oid::from_str(&base.commit)
        .and_then(|c| tree.repo().find_commit(c).map(|c| c.tree_id()))
    else {
        return (
            Vec::new(),
            Some("skipped: the base commit cannot be read".into()),
        );
    };
    for (i, mail) in series.patches.iter().enumerate() {
        match tree.apply_to(at, mail) {
            Ok(Ok(t)) => at = t,
            Ok(Err(why)) => {
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
                    None,
                )
            }
            Err(e) => return (Vec::new(), Some(format!("failed: {e}"))),
        }
    }
    (Vec::new(), None)
}
