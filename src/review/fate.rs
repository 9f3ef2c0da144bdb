//! What became of the lines a comment quoted in the next version of its
//! patch: untouched, changed, moved or removed.

use crate::diff::patch::{LineKind, Patch};

use super::comments::{Comment, Fate};

impl Fate {
    pub fn word(self) -> &'static str {
        match self {
            Fate::Untouched => "untouched",
            Fate::Changed => "changed",
            Fate::Moved => "moved",
            Fate::Removed => "removed",
        }
    }
}

/// The lines of a comment's quote that say something (its added lines,
/// else every line with text).
fn telling(c: &Comment) -> Vec<String> {
    let has = |l: &String| l.get(1..).is_some_and(|t| !t.trim().is_empty());
    let added: Vec<String> = c
        .quoted
        .iter()
        .filter(|l| l.starts_with('+') && has(l))
        .map(|l| l.trim_end().to_string())
        .collect();
    if !added.is_empty() {
        return added;
    }
    c.quoted
        .iter()
        .filter(|l| l.starts_with(['-', ' ']) && has(l))
        .map(|l| l.trim_end().to_string())
        .collect()
}

/// Where `wanted` stands in a diff: per file, how many of its lines are
/// there and whether they are there as one run.
fn presence(wanted: &[String], diff: &[u8]) -> Vec<(String, usize, bool)> {
    let Ok(patch) = Patch::parse(diff) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for f in &patch.files {
        let lines: Vec<String> = f
            .hunks
            .iter()
            .flat_map(|h| &h.lines)
            .map(|l| l.marked().trim_end().to_string())
            .collect();
        let count = wanted.iter().filter(|w| lines.contains(w)).count();
        let run = count == wanted.len()
            && lines
                .windows(wanted.len().max(1))
                .any(|w| w.iter().zip(wanted).all(|(a, b)| a == b));
        if count > 0 {
            out.push((f.path(), count, run));
        }
    }
    out
}

/// Whether the patch still changes the comment's file where its lines
/// were (within a few lines): they were rewritten, not dropped.
fn near(c: &Comment, diff: &[u8]) -> bool {
    let (Some(file), Some((a, b))) = (&c.file, c.lines) else {
        return false;
    };
    let Ok(patch) = Patch::parse(diff) else {
        return false;
    };
    let Some(f) = patch.file(file.as_bytes()) else {
        return false;
    };
    f.hunks.iter().flat_map(|h| &h.lines).any(|l| {
        l.kind != LineKind::Context
            && l.new_no
                .or(l.old_no)
                .is_some_and(|n| n + 3 >= a && n <= b + 3)
    })
}

/// What became of a comment's quoted lines: `now` is the diff of the patch
/// it pairs with in the later version (None: dropped), `others` the other
/// patches' diffs of that version.
pub fn fate(c: &Comment, now: Option<&[u8]>, others: &[&[u8]]) -> Option<Fate> {
    let wanted = telling(c);
    if wanted.is_empty() {
        return None;
    }
    let here = now.map(|d| presence(&wanted, d)).unwrap_or_default();
    let same_file = |p: &(String, usize, bool)| c.file.as_deref().is_none_or(|f| f == p.0);
    if here.iter().any(|p| p.2 && same_file(p)) {
        return Some(Fate::Untouched);
    }
    if here.iter().any(|p| p.2) {
        return Some(Fate::Moved);
    }
    if others
        .iter()
        .any(|d| presence(&wanted, d).iter().any(|p| p.2))
    {
        return Some(Fate::Moved);
    }
    if here.iter().any(|p| p.1 > 0) || now.is_some_and(|d| near(c, d)) {
        return Some(Fate::Changed);
    }
    Some(Fate::Removed)
}
