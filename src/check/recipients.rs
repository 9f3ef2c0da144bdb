//! Every address the tree's `scripts/get_maintainer.pl` names for a patch
//! is among the recipients of that patch's mail, as netdev's bot checks
//! ("cc_maintainers"); the missing ones are named.

use std::path::Path;
use std::time::Duration;

use crate::mail::address::same_address;
use crate::model::{Finding, Person, Severity, Source};
use crate::outgoing::Message;
use crate::send::maintainers::{self, MaintainersError};
use crate::store::Series;

/// The address of a recipient as written (`Name <addr>` or `addr`).
fn address(who: &str) -> String {
    Person::parse(who)
        .map(|p| p.email)
        .unwrap_or_else(|| who.trim().to_string())
}

/// Findings for the addresses each patch's mail lacks, and what was run,
/// in words. `messages` are the mails as rendered, the cover first.
pub fn check(
    tree: &Path,
    series: &Series,
    messages: &[Message],
    limit: Duration,
) -> (Vec<Finding>, String) {
    let mut out = Vec::new();
    let (mut named, mut lacking) = (0, 0);
    // get_maintainer.pl reads all of MAINTAINERS for each patch (a quarter
    // of a second on a 6.12 tree): the patches are asked at once, a few at
    // a time, then read in order.
    let patches: Vec<Vec<u8>> = (0..series.patches.len())
        .map(|i| series.stored_patch(i))
        .collect();
    let width = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut answers = Vec::with_capacity(patches.len());
    for chunk in patches.chunks(width) {
        let got: Vec<_> = std::thread::scope(|s| {
            let running: Vec<_> = chunk
                .iter()
                .map(|p| s.spawn(move || maintainers::for_patch(tree, p, limit)))
                .collect();
            running
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(MaintainersError::Failed("its thread stopped".into()))
                    })
                })
                .collect()
        });
        answers.extend(got);
    }
    let mut answers = answers.into_iter();
    for (i, m) in messages.iter().enumerate().skip(1) {
        let Some(answer) = answers.next() else {
            break;
        };
        let wanted = match answer {
            Ok(w) => w,
            Err(MaintainersError::Missing(_)) => {
                return (
                    out,
                    "skipped: the tree has no scripts/get_maintainer.pl".into(),
                )
            }
            Err(e) => {
                out.push(Finding {
                    patch: Some(i),
                    file: None,
                    line: None,
                    rule: "get-maintainer".into(),
                    severity: Severity::Error,
                    message: format!("{e}; the recipients could not be checked"),
                    source: Source::Native,
                });
                return (out, "failed".into());
            }
        };
        let has: Vec<String> = m.to.iter().chain(&m.cc).map(|r| address(r)).collect();
        let missing: Vec<&String> = wanted
            .people
            .iter()
            .chain(&wanted.lists)
            .filter(|w| !has.iter().any(|h| same_address(h, &address(w))))
            .collect();
        named += wanted.people.len() + wanted.lists.len();
        lacking += missing.len();
        if !missing.is_empty() {
            let list: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
            out.push(Finding {
                patch: Some(i),
                file: None,
                line: None,
                rule: "recipients".into(),
                severity: Severity::Warning,
                message: format!(
                    "get_maintainer.pl names {} this mail does not go to: {}; `series send --auto-cc` adds them (or --to/--cc)",
                    list.len(),
                    list.join(", ")
                ),
                source: Source::Native,
            });
        }
    }
    let note = format!(
        "get_maintainer.pl named {named} addresses for {}, {lacking} missing",
        crate::term::plural(series.patches.len(), "patch", "patches"),
    );
    (out, note)
}
