//! What a posted cover letter says besides its prose: the changelog of
//! each version in the forms people write ("Changes in v2:", "v2 changes:",
//! "Changes since v1:", "v1 -> v2:", "Changelog:" with `vN:` items or
//! headings), the links to earlier versions ("v1: URL", "v1 is here:" with
//! the URL below, "Link to v1: URL"), and what git format-patch or series
//! generated (shortlog, diffstat, base-commit, signature). The prose is
//! what is left; the rest goes to the history.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;

/// A cover letter taken apart.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parts {
    /// The author's own words.
    pub prose: String,
    /// Changes per version, in the order written.
    pub changes: BTreeMap<u32, Vec<String>>,
    /// Links to versions, by version.
    pub links: BTreeMap<u32, String>,
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("a valid pattern"))
}

/// A URL in a line, if it has one.
pub fn url_in(line: &str) -> Option<String> {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"(?i)\b(https?://[^\s<>()\]]+)")
        .captures(line)
        .map(|c| c[1].trim_end_matches(['.', ',', ';', '>']).to_string())
}

/// The Message-Id in an archive link (lore's `/r/ID`, `/LIST/ID/`,
/// patchwork's `/patch/ID/`, lkml.kernel.org's `/r/ID`, marc's `?i=ID`).
pub fn msgid_of_link(url: &str) -> Option<String> {
    let u = url.trim_end_matches('/');
    let decoded = |s: &str| -> String {
        let mut out = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' && i + 2 < b.len() {
                if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                    out.push(v);
                    i += 3;
                    continue;
                }
            }
            out.push(b[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    let host_ok = [
        "lore.kernel.org",
        "lkml.kernel.org",
        "patchwork",
        "marc.info",
    ]
    .iter()
    .any(|h| u.contains(h))
        || u.contains("127.0.0.1");
    if !host_ok {
        return None;
    }
    if let Some((_, q)) = u.split_once("?i=") {
        let id = decoded(q.split('&').next()?);
        return id.contains('@').then_some(id);
    }
    let mut parts: Vec<&str> = u.split('/').collect();
    // A lore link may end in /T/, /t.mbox.gz, /raw or #anchor.
    while parts
        .last()
        .is_some_and(|p| matches!(*p, "T" | "t" | "raw" | "t.mbox.gz" | "") || p.starts_with('#'))
    {
        parts.pop();
    }
    let id = decoded(parts.last()?.split('#').next()?);
    (id.contains('@') && crate::mail::received::valid_id(&id)).then_some(id)
}

/// A changelog heading and the version it is for (`current` for one that
/// names none, or names the version it is "since").
fn heading(line: &str, current: u32) -> Option<Option<u32>> {
    static IN: OnceLock<Regex> = OnceLock::new();
    static SINCE: OnceLock<Regex> = OnceLock::new();
    static VCHANGES: OnceLock<Regex> = OnceLock::new();
    static ARROW: OnceLock<Regex> = OnceLock::new();
    static BARE: OnceLock<Regex> = OnceLock::new();
    static LOG: OnceLock<Regex> = OnceLock::new();
    let l = line
        .trim()
        .trim_matches(|c| c == '=' || c == '#' || c == '*' || c == '[' || c == ']')
        .trim();
    let num = |s: &str| s.parse::<u32>().ok();
    if let Some(c) = re(&IN, r"(?i)^changes\s+(in|for)\s+v?(\d+)\s*:?$").captures(l) {
        return Some(num(&c[2]));
    }
    if let Some(c) = re(
        &SINCE,
        r"(?i)^(changes|changed)\s+(since|from)\s+v?(\d+)(\s*(->|to|-->|→)\s*v?(\d+))?\s*:?$",
    )
    .captures(l)
    {
        return Some(match c.get(6) {
            Some(to) => num(to.as_str()),
            None => num(&c[3]).map(|v| v.saturating_add(1)).or(Some(current)),
        });
    }
    if let Some(c) = re(
        &VCHANGES,
        r"(?i)^v(\d+)\s*(changes|changelog|updates)\s*:?$",
    )
    .captures(l)
    {
        return Some(num(&c[1]));
    }
    if let Some(c) = re(
        &ARROW,
        r"(?i)^(changes\s+)?v?(\d+)\s*(->|-->|→|to|\.\.)\s*v?(\d+)\s*:?$",
    )
    .captures(l)
    {
        return Some(num(&c[4]));
    }
    if let Some(c) = re(&BARE, r"(?i)^v(\d+)\s*:$").captures(l) {
        return Some(num(&c[1]));
    }
    if re(
        &LOG,
        r"(?i)^(changelog|change\s*log|changes|revision history|version history|history)\s*:?$",
    )
    .is_match(l)
    {
        return Some(None);
    }
    None
}

/// A list item's text (`- x`, `* x`, `+ x`, `o x`, `1. x`, `1) x`).
fn item(line: &str) -> Option<&str> {
    static R: OnceLock<Regex> = OnceLock::new();
    let t = line.trim_start();
    re(&R, r"^([-*+•o]|\d{1,2}[.)])\s+(.*)$")
        .captures(t)
        .map(|c| c.get(2).map_or("", |m| m.as_str()))
}

/// `v2: text` inside a changelog: the version and the text.
fn versioned(line: &str) -> Option<(u32, &str)> {
    static R: OnceLock<Regex> = OnceLock::new();
    let c = re(&R, r"(?i)^\s*(?:[-*+•]\s+)?v(\d+)\s*[:\-]\s+(.+)$").captures(line)?;
    let v = c[1].parse().ok()?;
    Some((v, c.get(2).map_or("", |m| m.as_str())))
}

/// A line that links an earlier version: the version and the URL (or
/// None when the URL is on the next line).
fn link(line: &str) -> Option<(u32, Option<String>)> {
    static R: OnceLock<Regex> = OnceLock::new();
    let l = line.trim();
    let c = re(
        &R,
        r"(?i)^(?:\[\s*)?(?:link\s+to\s+|previous\s+(?:version|posting)\s*\(?)?v(\d+)\)?(?:\s*\])?(?:\s+(?:is|was|can be found|posted|link|posting|thread))?(?:\s+(?:here|at|on lore))?\s*[:=-]?\s*(.*)$",
    )
    .captures(l)?;
    let v = c[1].parse().ok()?;
    let rest = c.get(2).map_or("", |m| m.as_str()).trim();
    if rest.is_empty() {
        return l.ends_with(':').then_some((v, None));
    }
    let url = url_in(rest)?;
    // The whole rest is the link (angle brackets or a trailing dot aside).
    let bare = rest.trim_matches(['<', '>', '.', ' ']);
    (bare == url || bare.starts_with(&url)).then_some((v, Some(url)))
}

/// Whether a line is something git format-patch or series generated:
/// from here on, nothing is prose.
fn generated(line: &str) -> bool {
    static SHORTLOG: OnceLock<Regex> = OnceLock::new();
    line.starts_with("base-commit: ")
        || line.starts_with("prerequisite-")
        || line.starts_with("change-id: ")
        || line == "-- "
        || line.starts_with("*** BLURB HERE ***")
        || re(&SHORTLOG, r"^\S.* \(\d+\):$").is_match(line)
}

/// Take a cover letter apart. `current` is the version it was posted as.
pub fn read(body: &str, current: u32) -> Parts {
    let lines: Vec<&str> = body.lines().collect();
    let end = lines
        .iter()
        .position(|l| generated(l))
        .unwrap_or(lines.len());
    let lines = &lines[..end];
    let mut parts = Parts::default();
    let mut prose: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < end {
        let l = lines[i];
        // A link to a version, on its line or the next.
        if let Some((v, url, next)) = link_at(lines, i) {
            parts.links.insert(v, url);
            i = next;
            continue;
        }
        let Some(version) = heading(l, current) else {
            prose.push(l);
            i += 1;
            continue;
        };
        i = changelog(lines, i + 1, version, current, &mut parts);
    }
    parts.prose = prose_text(prose);
    parts
}

/// A link to a version at line `i`, with its URL on the same line or the
/// next one that is not blank: the version, the URL, the line after it.
fn link_at(lines: &[&str], i: usize) -> Option<(u32, String, usize)> {
    let (v, url) = link(lines[i])?;
    if let Some(u) = url {
        return Some((v, u, i + 1));
    }
    let k = lines[i + 1..].iter().position(|n| !n.trim().is_empty())?;
    let next = lines[i + 1 + k];
    let u = url_in(next).filter(|u| next.trim().trim_matches(['<', '>']) == u.as_str())?;
    Some((v, u, i + k + 2))
}

/// A changelog section from line `i` (below its heading, which named
/// `version`, or none for the current one): its items, until a line that
/// is neither an item, a continuation nor another heading. Returns the
/// line after it.
fn changelog(
    lines: &[&str],
    mut i: usize,
    version: Option<u32>,
    current: u32,
    parts: &mut Parts,
) -> usize {
    let end = lines.len();
    let mut at = version.unwrap_or(current);
    let mut last: Option<(u32, usize)> = None;
    // An underline below the heading.
    if lines.get(i).is_some_and(|n| {
        let t = n.trim();
        !t.is_empty() && t.chars().all(|c| c == '-' || c == '=')
    }) {
        i += 1;
    }
    while i < end {
        let n = lines[i];
        let t = n.trim();
        if t.is_empty() {
            // A blank line ends the section unless more of it follows.
            let more = lines[i + 1..]
                .iter()
                .find(|x| !x.trim().is_empty())
                .is_some_and(|x| {
                    link(x).is_none()
                        && (item(x).is_some()
                            || versioned(x).is_some()
                            || heading(x, current).is_some())
                });
            if !more {
                break;
            }
            i += 1;
            continue;
        }
        if link(n).is_some_and(|(_, u)| u.is_some()) {
            break;
        }
        if let Some(Some(v)) = heading(n, current) {
            at = v;
            last = None;
        } else if let Some((v, text)) = versioned(n).filter(|_| version.is_none()) {
            let list = parts.changes.entry(v).or_default();
            list.push(text.trim().to_string());
            last = Some((v, list.len() - 1));
        } else if let Some(text) = item(n) {
            let list = parts.changes.entry(at).or_default();
            list.push(text.trim().to_string());
            last = Some((at, list.len() - 1));
        } else if let (Some((v, k)), true) = (last, n.starts_with([' ', '\t'])) {
            if let Some(x) = parts.changes.get_mut(&v).and_then(|l| l.get_mut(k)) {
                x.push(' ');
                x.push_str(t);
            }
        } else if last.is_none() && parts.changes.get(&at).is_none_or(Vec::is_empty) {
            // A one-paragraph changelog without bullets.
            let list = parts.changes.entry(at).or_default();
            list.push(t.to_string());
            last = Some((at, list.len() - 1));
        } else {
            break;
        }
        i += 1;
    }
    i
}

/// The prose lines as one text: blank lines and a `---` at the ends
/// dropped, runs of blank lines (where sections were cut) made one.
fn prose_text(mut prose: Vec<&str>) -> String {
    while prose
        .last()
        .is_some_and(|l| l.trim().is_empty() || l.trim() == "---")
    {
        prose.pop();
    }
    while prose.first().is_some_and(|l| l.trim().is_empty()) {
        prose.remove(0);
    }
    let mut text = prose.join("\n");
    while text.contains("\n\n\n") {
        text = text.replace("\n\n\n", "\n\n");
    }
    text.push('\n');
    text
}

/// The notes a patch mail carries under its `---` line, above the
/// diffstat ("v2: use list_add_tail"), by version (`current` when a note
/// names none).
pub fn patch_notes(section: &str, current: u32) -> BTreeMap<u32, Vec<String>> {
    let mut notes: Vec<&str> = Vec::new();
    for l in section.lines() {
        let stat = l.starts_with(' ')
            && (l.contains(" | ")
                || l.contains(" file changed")
                || l.contains(" files changed")
                || l.starts_with(" create mode")
                || l.starts_with(" delete mode")
                || l.starts_with(" rename ")
                || l.starts_with(" mode change"));
        if stat || l.starts_with("diff --git ") {
            break;
        }
        notes.push(l);
    }
    if notes.iter().all(|l| l.trim().is_empty()) {
        return BTreeMap::new();
    }
    let text = format!("Changes:\n{}\n", notes.join("\n"));
    read(&text, current).changes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_people_write() {
        let cover = "We free memory in parallel.\n\nv2 changes:\n- queue with list_add_tail\n- free_batch_page is a bool\n  now, not an int\n\nv1 is here:\nhttps://lkml.org/lkml/2017/2/24/245\n\nAaron Lu (5):\n  mm: x\n";
        let p = read(cover, 2);
        assert_eq!(p.prose, "We free memory in parallel.\n");
        assert_eq!(
            p.changes[&2],
            [
                "queue with list_add_tail",
                "free_batch_page is a bool now, not an int"
            ]
        );
        assert_eq!(p.links[&1], "https://lkml.org/lkml/2017/2/24/245");
    }

    #[test]
    fn several_versions_and_headings() {
        for (text, v) in [
            ("Changes in v3:\n- a\n\nChanges in v2:\n- b\n", 3),
            ("Changes since v2:\n- a\n\nChanges since v1:\n- b\n", 3),
            ("v2 -> v3:\n- a\nv1 -> v2:\n- b\n", 3),
            ("Changelog:\nv3: a\nv2: b\n", 3),
            ("Changelog:\n\nv3:\n  - a\n\nv2:\n  - b\n", 3),
        ] {
            let p = read(
                &format!("Prose.\n\n{text}\nv1: https://lore.kernel.org/r/a@b\n"),
                v,
            );
            assert_eq!(
                p.changes.get(&3).map(Vec::as_slice),
                Some(&["a".to_string()][..]),
                "{text}"
            );
            assert_eq!(
                p.changes.get(&2).map(Vec::as_slice),
                Some(&["b".to_string()][..]),
                "{text}"
            );
            assert_eq!(p.prose, "Prose.\n", "{text}");
            assert_eq!(p.links[&1], "https://lore.kernel.org/r/a@b");
        }
    }

    #[test]
    fn links_in_their_forms() {
        for l in [
            "v1: https://lore.kernel.org/r/a@b",
            "Link to v1: https://lore.kernel.org/r/a@b",
            "[v1] https://lore.kernel.org/r/a@b",
            "v1: <https://lore.kernel.org/r/a@b>",
        ] {
            assert_eq!(
                link(l),
                Some((1, Some("https://lore.kernel.org/r/a@b".into()))),
                "{l}"
            );
        }
        assert_eq!(link("v1 is here:"), Some((1, None)));
        assert_eq!(link("v1 was slower than this one."), None);
        assert_eq!(
            msgid_of_link("https://lore.kernel.org/linux-mm/1489568404-7817-1-git-send-email-aaron.lu@intel.com/T/#u"),
            Some("1489568404-7817-1-git-send-email-aaron.lu@intel.com".into())
        );
        assert_eq!(msgid_of_link("https://lkml.org/lkml/2017/2/24/245"), None);
    }

    #[test]
    fn notes_under_a_patchs_separator() {
        let n = patch_notes(
            "v2: use list_add_tail\nv3: drop the knob\n\n mm/memory.c | 3 ++-\n",
            3,
        );
        assert_eq!(n[&2], ["use list_add_tail"]);
        assert_eq!(n[&3], ["drop the knob"]);
        assert!(patch_notes(" mm/memory.c | 3 ++-\n", 2).is_empty());
    }
}
