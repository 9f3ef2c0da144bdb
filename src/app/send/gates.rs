//! The gates of a send: what the check finds on the very bytes about to
//! go, and what a version after the first must be (a changelog, its review
//! answered, patches that changed). Each says what it found in lines for
//! the plan, and refuses unless forced.

use super::{AppError, Request};
use crate::model::Severity;
use crate::prepare::Prepared;
use crate::store::{self, Series};
use crate::term::printable;
use crate::workspace::Workspace;

/// Refuse a series with error-level findings, unless forced. The check
/// runs on the very bytes that are about to be sent; the errors are said.
pub(super) fn check(
    ws: &Workspace,
    p: &Prepared,
    req: &Request,
    said: &mut Vec<String>,
) -> Result<(), AppError> {
    let report = crate::app::mails::check(ws, p, &req.check, &|_, _, _| {})?;
    let errors: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    // Warnings do not stop a send, but those of the rules of the lists it
    // goes to (a rule file with `lists`: netdev's 24 hours, mm's base) are
    // said before it goes.
    let of_lists: Vec<String> = crate::check::rules::load(Some(&ws.project().join("checks")))
        .map(|rules| {
            rules
                .into_iter()
                .filter(|r| !r.lists.is_empty())
                .map(|r| r.id)
                .collect()
        })
        .unwrap_or_default();
    let lists: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warning && of_lists.contains(&f.rule))
        .collect();
    if errors.is_empty() && lists.is_empty() {
        return Ok(());
    }
    said.push(String::new());
    for (f, level) in errors
        .iter()
        .map(|f| (f, "error"))
        .chain(lists.iter().map(|f| (f, "warning")))
    {
        let whose = match f.patch {
            Some(0) => "cover letter".to_string(),
            Some(n) => format!("patch {n}"),
            None => "series".to_string(),
        };
        said.push(format!(
            "{whose}: {level} {}/{}: {}",
            f.source,
            f.rule,
            f.message.lines().next().unwrap_or("")
        ));
    }
    if errors.is_empty() {
        return Ok(());
    }
    if req.force {
        said.push("Sending anyway (--force).".into());
        return Ok(());
    }
    Err(AppError::refuse(format!(
        "`series check` finds {} error{}; nothing was sent",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    ))
    .hint("fix the errors listed above, or pass --force to send anyway"))
}

/// A version after the first: warn when its changelog is empty or review
/// comments are open, refuse (with `strict`) while an open comment's lines
/// are untouched, and refuse patches identical to the last version's
/// (unless forced).
pub(super) fn versions(
    ws: &Workspace,
    series: &Series,
    req: &Request,
    said: &mut Vec<String>,
) -> Result<(), AppError> {
    let v = series.manifest.version;
    let empty = v > 1
        && series
            .manifest
            .history
            .iter()
            .find(|h| h.version == v)
            .is_none_or(|h| h.changes.is_empty());
    if empty {
        said.push(format!(
            "warning: \"Changes in v{v}\" is empty; write it in series/series.toml (`series diff --draft` drafts it)"
        ));
    }
    if !series.replies.is_empty() {
        review_gate(ws, series, req.strict, said)?;
    }
    let kept = store::kept_versions(&ws.series_dir);
    let Some(last) = crate::versions::default_old(series, &kept) else {
        return Ok(());
    };
    let old = crate::versions::load_version(&ws.series_dir, last)?;
    if !crate::versions::compare(&old, series).identical() {
        return Ok(());
    }
    if req.force {
        said.push(format!(
            "v{v} has the patches of v{last}; sending anyway (--force)."
        ));
        return Ok(());
    }
    Err(AppError::refuse(format!(
        "v{v} has the same patches as v{last}; nothing was sent"
    ))
    .hint("change the patches first, or pass --force to send them again as a new version"))
}

fn review_gate(
    ws: &Workspace,
    series: &Series,
    strict: bool,
    said: &mut Vec<String>,
) -> Result<(), AppError> {
    let v = series.manifest.version;
    let (board, _) = crate::app::board(ws, series)?;
    let open = board
        .comments
        .iter()
        .filter(|t| t.state == crate::review::state::State::Open)
        .count();
    if open > 0 {
        said.push(format!(
            "warning: {open} review comment{} still open; `series review` lists them",
            if open == 1 { " is" } else { "s are" }
        ));
    }
    let untouched: Vec<&crate::review::Tracked> =
        board.comments.iter().filter(|t| t.untouched()).collect();
    for t in &untouched {
        let c = &t.comment;
        said.push(format!(
            "warning: comment {} ({}, v{} patch {}{}) is open and the lines it quotes are untouched in v{v}",
            c.id,
            printable(&c.who.name),
            c.version,
            c.patch,
            c.location().map(|l| format!(", {l}")).unwrap_or_default()
        ));
    }
    if strict && !untouched.is_empty() {
        return Err(AppError::refuse(format!(
            "{} open review comment{} untouched in v{v} (--strict); nothing was sent",
            untouched.len(),
            if untouched.len() == 1 { " is" } else { "s are" }
        ))
        .hint("address them, or `series review resolve ID --note/--wontfix`, then send again"));
    }
    Ok(())
}
