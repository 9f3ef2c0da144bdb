//! The layout of a `b4 prep` branch, read and written: the cover letter and
//! b4's tracking data (change-id, revision, prefixes, the Message-Ids of the
//! versions sent), kept where the branch's cover strategy says, and the
//! `sent/` tags b4 makes when it sends a version. This follows b4's
//! `ez.py` (0.14 to 0.16): `load_cover`, `store_cover`, `make_magic_json`,
//! `get_cover_strategy`, `get_sent_tagname` and `get_cover_dests`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The line that separates the cover letter from the tracking data in a
/// cover commit's message.
pub const MARKER: &str = "--- b4-submit-tracking ---";

/// The comment b4 writes under the marker.
const MARKER_COMMENT: &str = "# This section is used internally by b4 prep for tracking purposes.";

/// Where the branch keeps its cover letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// An empty commit at the start of the series (b4's default).
    Commit,
    /// An empty commit at the tip.
    TipCommit,
    /// `branch.<name>.description`, with the tracking data in
    /// `branch.<name>.b4-tracking`.
    BranchDescription,
}

impl Strategy {
    /// The strategy named in `branch.<name>.b4-prep-cover-strategy` (or
    /// `b4.prep-cover-strategy`); None for one b4 does not implement.
    pub fn parse(name: &str) -> Option<Strategy> {
        match name {
            "commit" => Some(Strategy::Commit),
            "tip-commit" => Some(Strategy::TipCommit),
            "branch-description" => Some(Strategy::BranchDescription),
            _ => None,
        }
    }
}

/// b4's tracking data: `{"series": {...}}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tracking {
    pub series: Tracked,
}

/// The fields series reads and writes; any other field b4 keeps there is
/// carried through untouched.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Tracked {
    /// The version being prepared (b4 counts it up after each send).
    pub revision: u32,
    pub change_id: String,
    #[serde(default)]
    pub prefixes: Vec<String>,
    #[serde(default)]
    pub presubject: String,
    /// `vN` -> the cover Message-Ids that version was sent with (several
    /// when it was sent again), without angle brackets.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub history: BTreeMap<String, Vec<String>>,
    /// The branch the series forks from (strategies other than `commit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_branch: Option<String>,
    #[serde(flatten)]
    pub rest: BTreeMap<String, serde_json::Value>,
}

impl Tracked {
    /// The versions sent and the last cover Message-Id of each, in order.
    pub fn sent(&self) -> Vec<(u32, String)> {
        let mut out: Vec<(u32, String)> = self
            .history
            .iter()
            .filter_map(|(v, ids)| {
                let n = v.strip_prefix('v')?.parse().ok()?;
                Some((n, ids.last()?.trim_matches(['<', '>']).to_string()))
            })
            .collect();
        out.sort();
        out
    }
}

/// A cover commit's message taken apart: the cover text and the tracking
/// data after the marker.
pub fn split_commit_message(message: &str) -> Result<(String, Tracking), String> {
    let (cover, after) = message
        .split_once(MARKER)
        .ok_or_else(|| format!("the message has no `{MARKER}` line"))?;
    let json = after
        .find('{')
        .map(|i| &after[i..])
        .ok_or("no tracking data after the marker")?;
    Ok((cover.to_string(), parse_tracking(json)?))
}

/// Tracking data as b4 stores it (JSON).
pub fn parse_tracking(json: &str) -> Result<Tracking, String> {
    serde_json::from_str(json).map_err(|e| format!("b4's tracking data does not parse: {e}"))
}

/// A cover commit's message: the cover text, the marker and the tracking
/// data, laid out as b4's `store_cover` writes them.
pub fn commit_message(cover: &str, tracking: &Tracking) -> String {
    // serde_json's pretty printer indents by two spaces and separates as
    // Python's json.dumps(indent=2) does.
    let json = serde_json::to_string_pretty(tracking).unwrap_or_default();
    format!("{}\n\n{MARKER}\n{MARKER_COMMENT}\n{json}", cover.trim_end())
}

/// A b4 cover letter read as b4 sends it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cover {
    /// The first line.
    pub subject: String,
    /// The rest, without comment lines and without the To:/Cc: trailers.
    pub body: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
}

/// Read cover text: comment lines (`#`) dropped, `>#` unescaped, runs of
/// blank lines made one, the first line the subject, and `To:`/`Cc:`
/// trailers taken out as recipients (b4 adds them to the mail's headers).
pub fn read_cover(text: &str) -> Cover {
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let line = line
            .strip_prefix('>')
            .filter(|l| l.starts_with('#'))
            .unwrap_or(line);
        if line.trim().is_empty() && lines.last().is_some_and(|l| l.trim().is_empty()) {
            continue;
        }
        lines.push(line.to_string());
    }
    while lines.first().is_some_and(|l| l.trim().is_empty()) {
        lines.remove(0);
    }
    let subject = if lines.is_empty() {
        String::new()
    } else {
        lines.remove(0).trim().to_string()
    };
    let mut cover = Cover {
        subject,
        ..Cover::default()
    };
    let mut body = Vec::new();
    let mut below_cut = false;
    for line in lines {
        below_cut |= line == "---";
        let trailer = if below_cut {
            None
        } else if let Some(v) = line.strip_prefix("To: ") {
            Some((&mut cover.to, v))
        } else {
            line.strip_prefix("Cc: ").map(|v| (&mut cover.cc, v))
        };
        match trailer {
            Some((list, v)) => list.push(v.trim().to_string()),
            None => body.push(line),
        }
    }
    let mut text = body.join("\n");
    while text.contains("\n\n\n") {
        text = text.replace("\n\n\n", "\n\n");
    }
    cover.body = text.trim().to_string();
    cover
}

/// The cover text b4 keeps: subject, body, then the recipients as
/// trailers, and the changelog below a `---` line as b4's reroll writes it.
pub fn write_cover(cover: &Cover, changelog: &str) -> String {
    let mut out = format!("{}\n\n{}\n", cover.subject, cover.body.trim_end());
    if !cover.to.is_empty() || !cover.cc.is_empty() {
        out.push('\n');
        for a in &cover.to {
            out.push_str(&format!("To: {a}\n"));
        }
        for a in &cover.cc {
            out.push_str(&format!("Cc: {a}\n"));
        }
    }
    if !changelog.trim().is_empty() {
        out.push_str("\n---\n");
        out.push_str(changelog.trim_end());
        out.push('\n');
    }
    out
}

/// The tag b4 makes when it sends version `v`: `sent/<base>-v<v>`, where
/// base is the change-id (b4 0.14 and later) or the branch name without
/// `b4/` (earlier).
pub fn sent_tag(base: &str, v: u32) -> String {
    format!("sent/{}-v{v}", base.strip_prefix("b4/").unwrap_or(base))
}

/// The `base-commit:` a sent tag's message names.
pub fn tag_base_commit(message: &str) -> Option<String> {
    message.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("base-commit")
            .then(|| v.trim().to_string())
    })
}

/// A new change-id as b4 makes one: the day, a slug of the name, and
/// twelve hex digits (from `seed`, where b4 takes random ones).
pub fn new_change_id(day: &str, name: &str, seed: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug
        .split('-')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let hex = crate::text::digest(seed.as_bytes());
    format!(
        "{}-{slug}-{}",
        day.replace('-', ""),
        &hex[..12.min(hex.len())]
    )
}

/// The subject prefix series writes for b4's extra prefixes (`RFC` ->
/// `PATCH RFC`, as b4 lays the subject out).
pub fn prefix_from(prefixes: &[String]) -> String {
    let mut words = vec!["PATCH".to_string()];
    words.extend(
        prefixes
            .iter()
            .filter(|p| !p.eq_ignore_ascii_case("patch"))
            .cloned(),
    );
    words.join(" ")
}

/// b4's extra prefixes for a series prefix: its words but `PATCH`.
pub fn prefixes_of(prefix: &str) -> Vec<String> {
    prefix
        .split_whitespace()
        .filter(|w| !w.eq_ignore_ascii_case("patch"))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cover_commit_message_splits_and_is_written_back_the_same() {
        let tracking = Tracking {
            series: Tracked {
                revision: 2,
                change_id: "20261205-parallel-free-0123456789ab".into(),
                prefixes: vec!["RFC".into()],
                history: [("v1".to_string(), vec!["x@y".to_string()])].into(),
                ..Tracked::default()
            },
        };
        let msg = commit_message("subject\n\nbody\n", &tracking);
        assert!(msg.contains("\n\n--- b4-submit-tracking ---\n# This section"));
        let (cover, back) = split_commit_message(&msg).unwrap();
        assert_eq!(back, tracking);
        assert_eq!(cover.trim_end(), "subject\n\nbody");
        assert_eq!(back.series.sent(), vec![(1, "x@y".to_string())]);
    }

    #[test]
    fn a_cover_loses_comments_and_gives_its_recipients() {
        let c = read_cover(
            "mm: a subject\n\n# a note to self\nThe body.\n>## A header\n\n\n\nTo: A <a@x.org>\nCc: b@x.org\nSigned-off-by: Me <me@x.org>\n---\nChanges in v2:\n- Cc: kept below the cut\n",
        );
        assert_eq!(c.subject, "mm: a subject");
        assert_eq!(c.to, vec!["A <a@x.org>"]);
        assert_eq!(c.cc, vec!["b@x.org"]);
        assert!(c
            .body
            .starts_with("The body.\n## A header\n\nSigned-off-by"));
        assert!(c.body.ends_with("- Cc: kept below the cut"));
    }

    #[test]
    fn tags_change_ids_and_prefixes_are_named_as_b4_names_them() {
        assert_eq!(sent_tag("b4/parallel-free", 2), "sent/parallel-free-v2");
        assert_eq!(sent_tag("20261205-x-0a", 1), "sent/20261205-x-0a-v1");
        let id = new_change_id("2026-12-05", "mm: Parallel free", "seed");
        assert!(id.starts_with("20261205-mm-parallel-free-"), "{id}");
        assert_eq!(id.len(), "20261205-mm-parallel-free-".len() + 12);
        assert_eq!(prefix_from(&["RFC".into()]), "PATCH RFC");
        assert_eq!(prefixes_of("RFC PATCH"), vec!["RFC"]);
        assert_eq!(
            tag_base_commit("x\n\nbase-commit: abc\nchange-id: y\n").as_deref(),
            Some("abc")
        );
    }
}
