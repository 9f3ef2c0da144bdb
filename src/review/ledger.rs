//! The ledger of review comments: finding one by a unique prefix of its
//! id, resolving it (addressed, won't fix, open again) with the changelog
//! line that credits the reviewer, and the reviewers the next version is
//! Cc'd to.

use crate::model::Person;
use crate::store::Series;

use super::state::{CommentState, Review, State, StateError};
use super::trailers::Verdict;
use super::{Board, Tracked};

/// Why a comment could not be found or resolved.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("no review comment {0}")]
    Unknown(String),
    #[error("{id} names several review comments: {}", .matches.join(", "))]
    Ambiguous { id: String, matches: Vec<String> },
    #[error("the note is one line of text")]
    BadNote,
    #[error(transparent)]
    State(#[from] StateError),
}

/// The comment whose id is `id`, or starts with it (as git takes an
/// abbreviated commit id): one, or an error naming the candidates.
pub fn find<'a>(board: &'a Board, id: &str) -> Result<&'a Tracked, LedgerError> {
    let id = id.trim();
    if let Some(t) = board.comments.iter().find(|t| t.comment.id == id) {
        return Ok(t);
    }
    let found: Vec<&Tracked> = if id.is_empty() {
        Vec::new()
    } else {
        board
            .comments
            .iter()
            .filter(|t| t.comment.id.starts_with(id))
            .collect()
    };
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(LedgerError::Unknown(id.to_string())),
        many => Err(LedgerError::Ambiguous {
            id: id.to_string(),
            matches: many.iter().map(|t| t.comment.id.clone()).collect(),
        }),
    }
}

/// What to do with a comment.
#[derive(Clone, Debug)]
pub enum Action {
    /// Addressed in the next version, as the note says.
    Note(String),
    /// Will not be changed, and why.
    Wontfix(String),
    Reopen,
}

/// A comment resolved.
pub struct Resolved {
    pub series: Series,
    pub id: String,
    /// The version that addresses it (for a note).
    pub target: u32,
    /// The changelog line drafted now (the current version is not sent).
    pub drafted: Option<String>,
}

/// Resolve comment `id` of `board`: its state in review.toml and, for a
/// note, a changelog line for the version that addresses it (drafted now
/// when that is the current one; at `reroll` otherwise).
pub fn resolve(
    series: &Series,
    board: &Board,
    id: &str,
    action: Action,
    archive: &str,
) -> Result<Resolved, LedgerError> {
    let t = find(board, id)?;
    let id = t.comment.id.clone();
    if let Action::Note(text) | Action::Wontfix(text) = &action {
        if text.trim().is_empty() || text.chars().any(char::is_control) {
            return Err(LedgerError::BadNote);
        }
    }
    let mut review = Review::parse(&series.review)?;
    let current = series.manifest.version;
    let sent = crate::versions::sent(series).is_some();
    let target = if sent {
        current.saturating_add(1)
    } else {
        current
    };
    let state = match &action {
        Action::Note(n) => CommentState {
            id: id.clone(),
            state: State::Addressed,
            version: Some(target),
            note: Some(n.clone()),
        },
        Action::Wontfix(w) => CommentState {
            id: id.clone(),
            state: State::Wontfix,
            version: None,
            note: Some(w.clone()),
        },
        Action::Reopen => CommentState {
            id: id.clone(),
            state: State::Open,
            version: None,
            note: None,
        },
    };
    review.set(state);
    let mut next = series.clone();
    next.review = review.text()?;
    let mut drafted = None;
    if let (Action::Note(n), false) = (&action, sent) {
        let line = changelog_line(t, n, archive);
        let entry = next.current_version_mut();
        if !entry.changes.contains(&line) {
            entry.changes.push(line.clone());
        }
        drafted = Some(line);
    }
    Ok(Resolved {
        series: next,
        id,
        target,
        drafted,
    })
}

/// The changelog lines of the comments addressed in `version`.
pub fn addressed_in(board: &Board, version: u32, archive: &str) -> Vec<String> {
    board
        .comments
        .iter()
        .filter_map(|t| match (t.state, t.version, &t.note) {
            (State::Addressed, Some(v), Some(n)) if v == version => {
                Some(changelog_line(t, n, archive))
            }
            _ => None,
        })
        .collect()
}

/// The link to a mail in the archive: `{archive}/{msgid}/`, or
/// lore.kernel.org's `r/` form for the default archive.
pub fn mail_link(archive: &str, message_id: &str) -> String {
    let base = archive.trim_end_matches('/');
    let id = crate::lore::url_msgid(message_id);
    if base == crate::lore::DEFAULT.trim_end_matches('/') {
        format!("https://lore.kernel.org/r/{id}")
    } else {
        format!("{base}/{id}/")
    }
}

/// The changelog line of an addressed comment, crediting the reviewer and
/// linking their mail.
pub fn changelog_line(t: &Tracked, note: &str, archive: &str) -> String {
    let who = if t.comment.who.name.is_empty() {
        t.comment.who.email.clone()
    } else {
        t.comment.who.name.clone()
    };
    let link = mail_link(archive, &t.comment.message_id);
    match t.now_patch {
        Some(0) | None => format!("cover letter: {note} ({who}, {link})"),
        Some(n) => format!("patch {n}: {note} ({who}, {link})"),
    }
}

/// Everyone who commented on or gave a tag for a version before `before`,
/// as addresses, each once: they are Cc'd on the next version.
pub fn reviewers(board: &Board, before: u32) -> Vec<(String, u32)> {
    let mut out: Vec<(String, u32)> = Vec::new();
    let mut push = |p: &Person, v: u32| {
        let a = crate::mail::received::address_text(&p.name, &p.email);
        if !out
            .iter()
            .any(|(o, _)| crate::mail::address::same_address(o, &a))
        {
            out.push((a, v));
        }
    };
    for t in &board.comments {
        if t.comment.version < before {
            push(&t.comment.who, t.comment.version);
        }
    }
    for g in &board.given {
        if g.place.version < before && g.verdict != Verdict::Quoted {
            push(&g.from, g.place.version);
        }
    }
    out
}

impl crate::error::Advice for LedgerError {
    fn kind(&self) -> crate::error::Kind {
        match self {
            LedgerError::BadNote => crate::error::Kind::Usage,
            _ => crate::error::Kind::User,
        }
    }

    fn hint(&self) -> Option<String> {
        crate::error::says(match self {
            LedgerError::Unknown(_) | LedgerError::Ambiguous { .. } => {
                "`series review --all` lists the comments and their ids"
            }
            LedgerError::BadNote => "give one line of text",
            LedgerError::State(_) => {
                "fix series/review.toml by hand (docs/FORMAT.md) or restore it from git"
            }
        })
    }
}
