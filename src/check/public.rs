//! A public base: the 0-day robot, the AI reviewers and every reader who
//! runs `b4 am` must find the series' base (`base-commit:`) in a tree they
//! can fetch. It is public when a remote-tracking branch (`refs/remotes/`)
//! or a ref named in `series.publicRefs` has it in its history.

use crate::git::{Id, Public, Tree};
use crate::model::{Finding, Severity, Source};
use crate::store::Series;

/// Whether the base and the prerequisites are public: a warning when the
/// base is not (naming the nearest public ancestor), one for each
/// prerequisite never posted, and what was found, in words.
pub fn check(tree: &Tree, series: &Series, extra_refs: &[String]) -> (Vec<Finding>, String) {
    let (mut found, said) = base_check(tree, series, extra_refs);
    // A prerequisite reaches the bots by its posting (b4 fetches it by
    // its Message-Id); one never posted is nowhere they can look.
    for d in series
        .manifest
        .depends
        .iter()
        .filter(|d| d.message_id.is_none())
    {
        found.push(Finding {
            patch: Some(0),
            file: None,
            line: None,
            rule: "public-base".into(),
            severity: Severity::Warning,
            message: format!(
                "prerequisite {} v{} was never posted: the bots and b4 cannot fetch its patches (send it first, then `series depends add {}` again)",
                d.name, d.version, d.name
            ),
            source: Source::Series,
        });
    }
    (found, said)
}

fn base_check(tree: &Tree, series: &Series, extra_refs: &[String]) -> (Vec<Finding>, String) {
    let base = &series.manifest.base;
    let Ok(id) = base.commit.parse::<Id>() else {
        return (
            Vec::new(),
            "not checked: the base is not a commit id".into(),
        );
    };
    if !tree.has_commit(&base.commit) {
        return (
            Vec::new(),
            format!("not checked: the tree has no base commit {}", id.short()),
        );
    }
    let refs = tree.public_refs(extra_refs);
    if refs.is_empty() {
        return (
            Vec::new(),
            "not checked: the tree has no remote-tracking branch (git fetch one, or name public refs in git config series.publicRefs)".into(),
        );
    }
    let warn = |message: String| Finding {
        patch: Some(0),
        file: None,
        line: None,
        rule: "public-base".into(),
        severity: Severity::Warning,
        message,
        source: Source::Series,
    };
    match tree.public_place(id, &refs) {
        Public::On(name) => (Vec::new(), format!("{} is on {name}", base.name)),
        Public::Below {
            ancestor,
            on,
            private,
        } => (
            vec![warn(format!(
                "the base {} ({}) is on no public ref: {private} commit{} above {} (\"{}\", on {on}) are only here; the bots cannot apply the series (rebase it onto a public commit, or push the base)",
                base.name,
                id.short(),
                if private == 1 { "" } else { "s" },
                ancestor.short(),
                tree.first_line(ancestor).unwrap_or_default(),
            ))],
            format!("{} is not public; nearest public ancestor {} on {on}", base.name, ancestor.short()),
        ),
        Public::Unrelated => (
            vec![warn(format!(
                "the base {} ({}) shares no history with any public ref; the bots cannot apply the series",
                base.name,
                id.short()
            ))],
            format!("{} shares no history with the public refs", base.name),
        ),
    }
}
