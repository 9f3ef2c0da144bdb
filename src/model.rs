//! Plain data of a series: people, patches as mails, versions, and validated names.

use std::fmt;
use std::str::FromStr;

/// An author or recipient: display name and address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub email: String,
}

impl fmt::Display for Person {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.name.is_empty() {
            write!(f, "<{}>", self.email)
        } else {
            write!(f, "{} <{}>", self.name, self.email)
        }
    }
}

impl Person {
    /// `Name <addr>` or a bare `addr`, as [`fmt::Display`] writes it.
    pub fn parse(s: &str) -> Option<Person> {
        let s = s.trim();
        match (s.rfind('<'), s.rfind('>')) {
            (Some(l), Some(r)) if l < r => Some(Person {
                name: s[..l].trim().to_string(),
                email: s[l + 1..r].trim().to_string(),
            }),
            _ if s.contains('@') && !s.contains(char::is_whitespace) => Some(Person {
                name: String::new(),
                email: s.to_string(),
            }),
            _ => None,
        }
    }
}

/// One patch as `git format-patch` mails it, split into the parts that do not
/// depend on numbering: who, when, what, and the diff section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatchMail {
    /// The 40-hex commit id on the `From <id> Mon Sep 17 00:00:00 2001` line.
    pub commit: String,
    pub author: Person,
    /// The `Date:` header value, exactly as written (RFC 2822, author's zone).
    pub date: String,
    /// The subject without its `[PATCH ...]` tag.
    pub title: String,
    /// The message body: lines ending in `\n`, no trailing blank lines.
    pub body: String,
    /// Everything between the `---` line and the `-- ` signature: diffstat,
    /// summary, blank line and the diffs. Bytes, since diffs need not be UTF-8.
    pub diff: Vec<u8>,
}

impl PatchMail {
    /// Trailers of the message: `Key: value` lines of the last paragraph.
    pub fn trailers(&self) -> Vec<(String, String)> {
        let last = self.body.trim_end().rsplit("\n\n").next().unwrap_or("");
        let mut out = Vec::new();
        for line in last.lines() {
            match line.split_once(": ") {
                Some((k, v))
                    if !k.is_empty()
                        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
                {
                    out.push((k.to_string(), v.trim().to_string()))
                }
                _ => return Vec::new(),
            }
        }
        out
    }
}

/// The `[PATCH vN i/M]` tag of a subject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Numbering {
    pub prefix: String,
    pub version: Option<u32>,
    pub nr: usize,
    pub total: usize,
    /// Whether to show `i/M` (git numbers when there are several patches or a cover).
    pub numbered: bool,
}

impl Numbering {
    /// `[PATCH]`: one patch, no cover, no version.
    pub fn single() -> Numbering {
        Numbering {
            prefix: "PATCH".into(),
            version: None,
            nr: 1,
            total: 1,
            numbered: false,
        }
    }

    /// The subject tag followed by a space, or nothing.
    pub fn tag(&self) -> String {
        let mut inner = self.prefix.clone();
        if let Some(v) = self.version.filter(|&v| v > 1) {
            if !inner.is_empty() {
                inner.push(' ');
            }
            inner.push_str(&format!("v{v}"));
        }
        if self.numbered {
            let w = self.total.to_string().len();
            if !inner.is_empty() {
                inner.push(' ');
            }
            inner.push_str(&format!("{:0w$}/{}", self.nr, self.total));
        }
        if inner.is_empty() {
            String::new()
        } else {
            format!("[{inner}] ")
        }
    }
}

/// Headers that `send` adds to a mail: threading and recipients.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExtraHeaders {
    pub message_id: Option<String>,
    /// Message-Ids this mail refers to, oldest first; the last is In-Reply-To.
    pub references: Vec<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
}

/// Errors of validated names.
#[derive(Debug, thiserror::Error)]
pub enum NameError {
    #[error("version must be a whole number from 1 up, not {0:?}")]
    Version(String),
    #[error("{0:?} is not a valid change id: use 8 to 64 characters of [A-Za-z0-9._-]")]
    ChangeId(String),
}

/// A version number of the series (v1, v2, ...). Accepts `2` and `v2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32);

impl FromStr for Version {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.strip_prefix('v').unwrap_or(s);
        match digits.parse::<u32>() {
            Ok(n) if n >= 1 => Ok(Version(n)),
            _ => Err(NameError::Version(s.to_string())),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// Identifies a patch across versions, independent of its position.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChangeId(String);

impl ChangeId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ChangeId {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (8..=64).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if ok {
            Ok(ChangeId(s.to_string()))
        } else {
            Err(NameError::ChangeId(s.to_string()))
        }
    }
}

impl fmt::Display for ChangeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The file name git gives a patch: `NNNN-<sanitized subject>.patch`, with a
/// `vN-` prefix for a reroll, cut to git's 64-character default.
pub fn patch_file_name(version: Option<u32>, nr: usize, title: &str) -> String {
    file_name_from_slug(version, nr, &sanitize_subject(title))
}

/// The sanitized subject inside a stored patch file name (`0003-<slug>.patch`).
pub fn slug_of_file_name(file: &str) -> Option<&str> {
    let stem = file.strip_suffix(".patch")?;
    let (num, slug) = stem.split_once('-')?;
    num.bytes().all(|b| b.is_ascii_digit()).then_some(slug)
}

/// [`patch_file_name`] from an already sanitized subject.
pub fn file_name_from_slug(version: Option<u32>, nr: usize, slug: &str) -> String {
    const MAX: usize = 64;
    const SUFFIX: &str = ".patch";
    let mut name = String::new();
    if let Some(v) = version.filter(|&v| v > 1) {
        name.push_str(&format!("v{v}-"));
    }
    name.push_str(&format!("{nr:04}-{slug}"));
    let max = MAX - (SUFFIX.len() + 1);
    if name.len() > max {
        name.truncate(max);
    }
    name.push_str(SUFFIX);
    name
}

/// git's `%f`: keep letters, digits, `.` and `_`, turn runs of anything else
/// into one `-`, squeeze `..`, and trim trailing `.` and `-`.
// Follows git's pretty.c, format_sanitized_subject.
pub fn sanitize_subject(title: &str) -> String {
    let b = title.as_bytes();
    let mut out = String::new();
    let mut space = 2u8;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_alphanumeric() || c == b'.' || c == b'_' {
            if space == 1 {
                out.push('-');
            }
            space = 0;
            out.push(c as char);
            if c == b'.' {
                while b.get(i + 1) == Some(&b'.') {
                    i += 1;
                }
            }
        } else {
            space |= 1;
        }
        i += 1;
    }
    while out.ends_with('.') || out.ends_with('-') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        let n = |v, nr, total, numbered| Numbering {
            prefix: "PATCH".into(),
            version: v,
            nr,
            total,
            numbered,
        };
        assert_eq!(n(None, 1, 1, false).tag(), "[PATCH] ");
        assert_eq!(n(Some(2), 3, 5, true).tag(), "[PATCH v2 3/5] ");
        assert_eq!(n(None, 3, 12, true).tag(), "[PATCH 03/12] ");
        assert_eq!(n(Some(2), 0, 5, true).tag(), "[PATCH v2 0/5] ");
    }

    #[test]
    fn file_names_follow_git() {
        assert_eq!(
            patch_file_name(None, 1, "mm: add tlb_flush_mmu_free_batches"),
            "0001-mm-add-tlb_flush_mmu_free_batches.patch"
        );
        assert_eq!(
            patch_file_name(
                Some(2),
                3,
                "mm: use a dedicated workqueue for the free workers"
            ),
            "v2-0003-mm-use-a-dedicated-workqueue-for-the-free-workers.patch"
        );
        assert_eq!(sanitize_subject("a...b -- c."), "a.b-c");
    }

    #[test]
    fn versions_and_change_ids_are_validated() {
        assert_eq!("v3".parse::<Version>().unwrap(), Version(3));
        assert!("0".parse::<Version>().is_err());
        assert!("x".parse::<Version>().is_err());
        assert!("abc".parse::<ChangeId>().is_err());
        assert!("0123abcd".parse::<ChangeId>().is_ok());
    }

    #[test]
    fn trailers_come_from_the_last_paragraph() {
        let p = PatchMail {
            commit: String::new(),
            author: Person {
                name: "A".into(),
                email: "a@x".into(),
            },
            date: String::new(),
            title: "t".into(),
            body: "Text.\n\nCc: B <b@x>\nSigned-off-by: A <a@x>\n".into(),
            diff: Vec::new(),
        };
        assert_eq!(p.trailers().len(), 2);
        assert_eq!(p.trailers()[1].0, "Signed-off-by");
    }
}

/// How serious a finding is.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    /// checkpatch's CHECK (only with --strict): a suggestion.
    Check,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Check => "check",
        })
    }
}

/// Which checker found it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Checkpatch,
    Native,
    Apply,
    Build,
    Series,
    /// A check command of b4's protocol (`check --external`).
    External,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Checkpatch => "checkpatch",
            Source::Native => "native",
            Source::Apply => "apply",
            Source::Build => "build",
            Source::Series => "series",
            Source::External => "external",
        })
    }
}

/// One result of a check.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    /// 1-based patch number; 0 is the cover letter; None is the series.
    pub patch: Option<usize>,
    pub file: Option<String>,
    pub line: Option<u32>,
    /// The rule: a checkpatch type such as LONG_LINE, or a native rule id.
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    pub source: Source,
}

impl Finding {
    /// Where it is: `FILE:LINE`, `FILE`, or nothing.
    pub fn place(&self) -> Option<String> {
        match (&self.file, self.line) {
            (Some(file), Some(l)) => Some(format!("{file}:{l}")),
            (Some(file), None) => Some(file.clone()),
            _ => None,
        }
    }
}
