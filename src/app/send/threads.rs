//! Where a new version goes in the lists' threads when the send names no
//! `--in-reply-to`: as the lists' rule files say (`new_version`).

use super::super::mails::Addressing;
use crate::mail::address;
use crate::store::Series;
use crate::workspace::Workspace;

/// How the lists a send goes to want a new version threaded, when the
/// send names no `--in-reply-to` (`new_version` in their rule files,
/// `checks/*.toml`): `vN-1`, under the previous version's cover, when the
/// previous version was sent and every list that says anything asks for
/// that; else none, a thread of its own.
pub(super) fn threading_default(ws: &Workspace, series: &Series, a: &Addressing) -> Option<String> {
    use crate::check::rules::{self, Threading};
    let m = &series.manifest;
    let previous_sent = m
        .history
        .iter()
        .any(|h| h.version + 1 == m.version && !h.message_ids.is_empty());
    if m.version < 2 || !previous_sent {
        return None;
    }
    let recipients: Vec<String> =
        a.to.iter()
            .chain(&a.cc)
            .chain(&m.recipients.to)
            .chain(&m.recipients.cc)
            .map(|r| address::bare_address(r))
            .collect();
    // A list is named by its address, or by its name (`netdev`).
    let goes_to = |list: &str| {
        recipients
            .iter()
            .any(|r| r == list || list.split('@').next() == Some(r.as_str()))
    };
    let said: Vec<Threading> = rules::threading(Some(&ws.project().join("checks")))
        .into_iter()
        .filter(|(lists, _)| lists.iter().any(|l| goes_to(l)))
        .map(|(_, t)| t)
        .collect();
    let under_previous =
        !said.is_empty() && said.iter().all(|t| *t == Threading::InReplyToPrevious);
    under_previous.then(|| format!("v{}", m.version - 1))
}
