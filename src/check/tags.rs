//! Tags as the bots check them before a maintainer reads a series: a
//! `Fixes:` tag names a commit of the tree, in the base's history, by its
//! real subject; each patch's chain of `Signed-off-by:` ends with the
//! person who sends it.

use std::sync::LazyLock;

use regex::Regex;

use crate::git::Tree;
use crate::model::{Finding, Person, Severity, Source};
use crate::store::Series;

fn finding(patch: usize, rule: &str, message: String) -> Finding {
    Finding {
        patch: Some(patch),
        file: None,
        line: None,
        rule: rule.into(),
        severity: Severity::Warning,
        message,
        source: Source::Native,
    }
}

/// `Fixes: <hex> ("<subject>")`; anything else is the `fixes-tag` rule's.
static FIXES: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^([0-9a-fA-F]{4,40}) \("(.*)"\)$"#).expect("a valid regex"));

/// Every `Fixes:` tag of every patch, looked up in the tree: the commit it
/// names must exist, be in the history of the base (else the bug is not
/// in what the series applies to), and have the subject the tag quotes.
pub fn fixes(tree: &Tree, series: &Series) -> Vec<Finding> {
    let base = &series.manifest.base;
    fixes_on(tree, &series.patches, &base.commit, &base.name)
}

/// [`fixes`] for `patches` on the commit `base` (named `base_name`).
pub fn fixes_on(
    tree: &Tree,
    patches: &[crate::model::PatchMail],
    base: &str,
    base_name: &str,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, p) in patches.iter().enumerate() {
        for (key, value) in p.trailers() {
            if !key.eq_ignore_ascii_case("Fixes") {
                continue;
            }
            let Some(c) = FIXES.captures(&value) else {
                continue;
            };
            let (hex, quoted) = (&c[1], &c[2]);
            let Some((id, subject)) = tree.commit_by_prefix(hex) else {
                out.push(finding(
                    i + 1,
                    "fixes-commit",
                    format!(
                        "Fixes: {hex} names no commit of the tree (or more than one); check the id"
                    ),
                ));
                continue;
            };
            if subject != quoted {
                out.push(finding(
                    i + 1,
                    "fixes-subject",
                    format!("Fixes: {hex} is {id_short} (\"{subject}\"), not \"{quoted}\"; quote its subject as it is", id_short = id.short()),
                ));
            }
            if !tree.in_history_of(id, base) {
                out.push(finding(
                    i + 1,
                    "fixes-base",
                    format!(
                        "Fixes: {} (\"{subject}\") is not in the history of the base {}: the series fixes a bug its base does not have",
                        id.short(),
                        base_name
                    ),
                ));
            }
        }
    }
    out
}

/// Each patch's last `Signed-off-by:` must be the sender's: whoever passes
/// a patch on signs it last (Documentation/process/submitting-patches.rst,
/// "Developer's Certificate of Origin"). A patch with no sign-off at all
/// is the `signed-off-by` rule's.
pub fn signoff_chain(series: &Series, sender: &Person) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, p) in series.patches.iter().enumerate() {
        let last = p
            .trailers()
            .into_iter()
            .rfind(|(k, _)| k.eq_ignore_ascii_case("Signed-off-by"));
        let Some((_, who)) = last else {
            continue;
        };
        let signer = Person::parse(&who);
        let same = signer
            .as_ref()
            .is_some_and(|s| crate::mail::address::same_address(&s.email, &sender.email));
        if !same {
            out.push(finding(
                i + 1,
                "signoff-chain",
                format!(
                    "the last Signed-off-by is {who}, but {sender} sends it; who passes a patch on signs it last (git commit -s)"
                ),
            ));
        }
    }
    out
}
