//! The send journal, `series/journal-vN.toml`: every message of a send with
//! its Message-Id, and whether the server accepted it. Written atomically
//! after each accepted message, so a send that stops midway resumes with the
//! same Message-Ids and never sends a message twice.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The journal of one version's send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Journal {
    pub version: u32,
    /// The clock the messages were rendered with (dates, Message-Ids).
    pub secs: i64,
    pub offset_minutes: i32,
    pub nanos: u32,
    /// Digest of series/ when the send started; a resume needs the same.
    pub series_digest: String,
    /// The sender the messages were rendered for (From, Message-Ids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The recipients asked for (flags, kept ones, get_maintainer.pl),
    /// before each patch's trailer Cc: what the next version starts from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<String>,
    /// The Message-Id the cover replies to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    /// The version the cover's range-diff was against, if it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range_diff_against: Option<u32>,
    #[serde(rename = "message")]
    pub messages: Vec<Entry>,
}

/// One message of a send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Entry {
    pub file: String,
    pub subject: String,
    pub message_id: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// Digest of the rendered bytes.
    pub digest: String,
    /// When the server accepted it (RFC 2822), once it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<String>,
    /// When it was handed to git send-email, until the server's answer
    /// was recorded: a message in flight when a send died may have been
    /// delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_flight: Option<String>,
}

/// Errors reading or writing the journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{}: {msg}", .path.display())]
    Bad { path: PathBuf, msg: String },
    #[error("cannot write {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Where version `v`'s journal lives.
pub fn path(series_dir: &Path, v: u32) -> PathBuf {
    series_dir.join(format!("journal-v{v}.toml"))
}

/// A digest of bytes (git's blob id), to tell rendered messages apart.
pub fn digest(bytes: &[u8]) -> String {
    crate::git::digest(bytes)
}

impl Journal {
    pub fn load(path: &Path) -> Result<Option<Journal>, JournalError> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text)
                .map(Some)
                .map_err(|e| JournalError::Bad {
                    path: path.to_path_buf(),
                    msg: e.to_string().trim().to_string(),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(JournalError::Io {
                path: path.to_path_buf(),
                source: e,
            }),
        }
    }

    /// Write atomically: a temporary file in the same folder, then rename.
    pub fn save(&self, path: &Path) -> Result<(), JournalError> {
        let err = |source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        };
        let text = toml::to_string_pretty(self).map_err(|e| JournalError::Bad {
            path: path.to_path_buf(),
            msg: format!("cannot be written: {e}"),
        })?;
        let tmp = path.with_extension(format!("toml.tmp{}", std::process::id()));
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp).map_err(err)?;
            f.write_all(text.as_bytes()).map_err(err)?;
            f.sync_all().map_err(err)?;
        }
        std::fs::rename(&tmp, path).map_err(err)
    }

    pub fn sent(&self) -> usize {
        self.messages
            .iter()
            .filter(|m| m.accepted.is_some())
            .count()
    }

    pub fn complete(&self) -> bool {
        self.sent() == self.messages.len()
    }
}

impl crate::error::Advice for JournalError {
    fn hint(&self) -> Option<String> {
        crate::error::says(
            "the journal records what was sent; restore it from git if it was damaged",
        )
    }
}
