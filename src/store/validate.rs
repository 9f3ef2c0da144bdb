//! What the type system does not check about a manifest: file names that
//! stay inside `series/`, header fields without line breaks, the version,
//! unique change ids.

use super::Manifest;
use crate::model::ChangeId;

/// A plain file name inside a folder of `series/`: no `/`, not `.` or `..`,
/// no control characters. The manifest's file names pass through this, so
/// nothing is read from or written to outside `series/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileName(String);

impl FileName {
    pub fn new(s: &str) -> Result<FileName, String> {
        if s.is_empty()
            || s.starts_with('.')
            || s.contains(['/', '\\'])
            || s.chars().any(char::is_control)
        {
            return Err(format!(
                "{s:?} is not a plain file name (no slash, no leading dot, no control characters)"
            ));
        }
        Ok(FileName(s.to_string()))
    }
}

/// Whether a manifest value that ends up in a mail header is one line of
/// printable text.
fn header_safe(v: &str) -> bool {
    !v.chars().any(char::is_control)
}

/// Whether a recipient is one: a list name (`linux-mm`), or exactly one
/// address, its display name quoted when it holds a comma
/// (`"Doe, John" <john@x.org>`).
pub fn one_recipient(a: &str) -> bool {
    if !header_safe(a) || a.trim().is_empty() {
        return false;
    }
    if !a.contains('@') {
        return !a.contains([',', ' ', '<', '>', '"']);
    }
    match mailparse::addrparse(a) {
        Ok(list) => matches!(
            list.as_slice(),
            [mailparse::MailAddr::Single(s)] if !s.addr.contains(char::is_whitespace)
        ),
        Err(_) => false,
    }
}

/// Everything the type system does not check about a manifest: file names,
/// header fields, the version, unique change ids.
pub(super) fn validate(m: &Manifest) -> Result<(), String> {
    if m.version == 0 {
        return Err("`version = 0`: versions count from 1".into());
    }
    for (what, v) in [
        ("name", &m.name),
        ("subject", &m.subject),
        ("prefix", &m.prefix),
        ("base.name", &m.base.name),
    ] {
        if !header_safe(v) {
            return Err(format!(
                "`{what}` holds a line break or a control character: {v:?}"
            ));
        }
    }
    if let Some(id) = &m.change_id {
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(format!(
                "`change-id` {id:?} is not a b4 change-id (letters, digits, `-`, `_` and `.` only)"
            ));
        }
    }
    for a in m
        .recipients
        .to
        .iter()
        .chain(&m.recipients.cc)
        .chain(m.lists.values())
    {
        if !one_recipient(a) {
            return Err(format!(
                "recipient {a:?} is not one address (a comma outside quotes, a line break or a control character)"
            ));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut files = std::collections::BTreeSet::new();
    for (i, p) in m.patches.iter().enumerate() {
        if p.change_id.parse::<ChangeId>().is_err() {
            return Err(format!(
                "patch {} has an invalid change-id {:?}",
                i + 1,
                p.change_id
            ));
        }
        if !seen.insert(&p.change_id) {
            return Err(format!(
                "patch {} repeats change-id {} of an earlier patch",
                i + 1,
                p.change_id
            ));
        }
        FileName::new(&p.file).map_err(|e| format!("patch {}: {e}", i + 1))?;
        if !files.insert(&p.file) {
            return Err(format!("patch {} repeats the file {}", i + 1, p.file));
        }
    }
    for h in &m.history {
        if h.version == 0 {
            return Err("the history has a version 0: versions count from 1".into());
        }
        for a in h.to.iter().flatten().chain(h.cc.iter().flatten()) {
            if !one_recipient(a) {
                return Err(format!(
                    "v{}'s history holds the recipient {a:?}, which is not one address",
                    h.version
                ));
            }
        }
        for a in h.message_ids.iter().chain(h.from.iter()) {
            if !header_safe(a) {
                return Err(format!(
                    "v{}'s history holds {a:?}, with a line break or a control character",
                    h.version
                ));
            }
        }
    }
    Ok(())
}
