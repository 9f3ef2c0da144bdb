//! `series/review.toml`: what became of each review comment, and the
//! replies `series send --reply` sent. Comments themselves are read from
//! the replies each time; only their states are kept here.

use serde::{Deserialize, Serialize};

/// The format of review.toml this build reads and writes.
pub const FORMAT: u32 = 1;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Review {
    pub format: u32,
    #[serde(default, rename = "comment", skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<CommentState>,
    #[serde(default, rename = "sent-reply", skip_serializing_if = "Vec::is_empty")]
    pub sent: Vec<SentReply>,
}

/// What the author said about one comment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CommentState {
    pub id: String,
    pub state: State,
    /// The version that addresses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// How it was addressed, or why it will not be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    Open,
    Answered,
    Addressed,
    Wontfix,
    /// An acknowledgement that asks for nothing: kept, never open.
    Ack,
}

impl State {
    pub fn word(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Answered => "answered",
            State::Addressed => "addressed",
            State::Wontfix => "won't fix",
            State::Ack => "acknowledgement",
        }
    }
}

/// A reply sent with `series send --reply`: recorded before it goes and
/// marked accepted after, so it is never sent twice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SentReply {
    pub message_id: String,
    /// The comment it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<String>,
}

/// Why review.toml could not be read.
#[derive(Debug, thiserror::Error)]
#[error("series/review.toml: {0}")]
pub struct StateError(pub String);

impl Review {
    pub fn parse(text: &str) -> Result<Review, StateError> {
        if text.trim().is_empty() {
            return Ok(Review {
                format: FORMAT,
                ..Review::default()
            });
        }
        let r: Review =
            toml::from_str(text).map_err(|e| StateError(e.to_string().trim().to_string()))?;
        if r.format > FORMAT {
            return Err(StateError(format!(
                "format {}, newer than this series understands ({FORMAT})",
                r.format
            )));
        }
        for c in &r.comments {
            if c.note
                .as_deref()
                .is_some_and(|n| n.chars().any(char::is_control))
            {
                return Err(StateError(format!(
                    "comment {}: the note holds a control character",
                    c.id
                )));
            }
        }
        Ok(r)
    }

    pub fn text(&self) -> Result<String, StateError> {
        let body = toml::to_string_pretty(self)
            .map_err(|e| StateError(format!("cannot be written: {e}")))?;
        Ok(format!(
            "# Review state of this series; see docs/FORMAT.md.\n{body}"
        ))
    }

    pub fn of(&self, id: &str) -> Option<&CommentState> {
        self.comments.iter().find(|c| c.id == id)
    }

    /// Set a comment's state, replacing what was there.
    pub fn set(&mut self, c: CommentState) {
        self.comments.retain(|o| o.id != c.id);
        self.comments.push(c);
        self.comments.sort_by(|a, b| a.id.cmp(&b.id));
    }
}
