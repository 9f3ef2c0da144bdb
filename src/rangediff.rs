//! A range-diff between two versions of a series, laid out as
//! `git range-diff` lays it out. The logic follows git's range-diff.c: each
//! patch becomes a text of sections (metadata, commit message, one section
//! per file, hunks named by file); patches with the same diff sections
//! pair first, then the rest by the least costly assignment, where pairing
//! two patches costs the size of the diff between their texts and leaving
//! one unpaired costs its size times the creation factor. `series` pairs
//! patches with the same change id before either step.
//!
//! The diff between two patch texts is `similar`'s Myers diff with three
//! lines of context, as git's xdiff (without its indent heuristic, which
//! can slide a change past a blank line in rare cases).

use similar::{Algorithm, DiffOp, TextDiff};

use crate::diff::patch::{Change, FileDiff, LineKind};
use crate::diff::Patch;
use crate::model::PatchMail;

/// git range-diff's default `--creation-factor`, in percent.
pub const CREATION_FACTOR: usize = 60;
/// What git counts as "never": a cost no pairing should take.
const COST_MAX: i64 = 1 << 16;

/// One patch as range-diff compares it.
#[derive(Clone, Debug)]
pub struct PatchText {
    /// The whole text: metadata, message and file sections.
    pub text: String,
    /// Where the file sections start in `text` (0 when there are none).
    pub diff_offset: usize,
    /// Lines of the file sections: the cost of leaving the patch unpaired.
    pub diff_size: usize,
    /// The commit id shown, abbreviated.
    pub short: String,
    /// The subject line.
    pub subject: String,
    /// The change id, when the patch has one.
    pub change_id: Option<String>,
}

impl PatchText {
    fn diff(&self) -> &str {
        &self.text[self.diff_offset..]
    }

    /// The metadata and message sections (all of it when there is no diff).
    fn message(&self) -> &str {
        match self.diff_offset {
            0 => &self.text,
            n => &self.text[..n],
        }
    }
}

/// The section line git range-diff writes for one file (range-diff.c,
/// `read_patches`): ` ## path ##`, `(new)`, `(deleted)`, `old => new` for
/// a rename, and a mode change.
fn section(f: &FileDiff) -> String {
    let old = String::from_utf8_lossy(&f.old_path);
    let new = String::from_utf8_lossy(&f.new_path);
    let mut s = String::from(" ## ");
    match f.change {
        Change::Added => s.push_str(&format!("{new} (new)")),
        Change::Deleted => s.push_str(&format!("{old} (deleted)")),
        Change::Renamed(_) => s.push_str(&format!("{old} => {new}")),
        Change::Modified | Change::Copied(_) => s.push_str(&new),
    }
    if let (Some(o), Some(n)) = (f.old_mode, f.new_mode) {
        if o != n
            && matches!(
                f.change,
                Change::Modified | Change::Renamed(_) | Change::Copied(_)
            )
        {
            s.push_str(&format!(" (mode change {o:06o} => {n:06o})"));
        }
    }
    s.push_str(" ##");
    s
}

/// The text git range-diff compares for one patch: `git log -p
/// --no-prefix --pretty=medium` of its commit, rewritten into sections,
/// from the one diff model ([`crate::diff::Patch`]).
pub fn patch_text(mail: &PatchMail, change_id: Option<&str>) -> PatchText {
    let mut text = String::from(" ## Metadata ##\n");
    text.push_str(&format!("Author: {}\n\n", mail.author));
    text.push_str(" ## Commit message ##\n");
    let message = crate::git::replay::am_message(mail);
    for line in message.lines() {
        text.push_str(format!("    {line}").trim_end());
        text.push('\n');
    }
    let mut diff_offset = 0;
    let mut diff_size = 0;
    let mut push = |text: &mut String, line: &str| {
        text.push_str(line);
        text.push('\n');
        diff_size += 1;
    };
    // A stored patch parses (the store reads each one); a diff that does
    // not is compared as its lines.
    let files = match Patch::parse(&mail.diff) {
        Ok(p) => p.files,
        Err(_) => {
            if !mail.diff.is_empty() {
                diff_offset = text.len();
            }
            for l in String::from_utf8_lossy(&mail.diff).lines() {
                push(&mut text, l);
            }
            Vec::new()
        }
    };
    for f in &files {
        text.push('\n');
        if diff_offset == 0 {
            diff_offset = text.len() - 1;
        }
        push(&mut text, &section(f));
        let current = String::from_utf8_lossy(if f.change == Change::Deleted {
            &f.old_path
        } else {
            &f.new_path
        })
        .into_owned();
        if f.binary {
            // git log -p without --binary names the files instead.
            push(
                &mut text,
                &format!(" Binary files {current} and {current} differ"),
            );
            continue;
        }
        for h in &f.hunks {
            if h.section.is_empty() {
                push(&mut text, "@@");
            } else {
                push(&mut text, &format!("@@ {current}: {}", h.section));
            }
            for l in &h.lines {
                let body = String::from_utf8_lossy(&l.text);
                let line = match l.kind {
                    LineKind::Context => format!(" {body}"),
                    LineKind::Added => format!("+{body}"),
                    LineKind::Removed => format!("-{body}"),
                    LineKind::NoNewline => format!(" \\{body}"),
                };
                push(&mut text, &line);
            }
        }
    }
    PatchText {
        text,
        diff_offset,
        diff_size,
        short: mail.commit.chars().take(7).collect(),
        subject: mail.title.clone(),
        change_id: change_id.map(str::to_string),
    }
}

/// The lines of a unified diff of `a` and `b` with three lines of context,
/// hunk headers counted: git's measure of how far two patches are apart.
fn diff_size(a: &str, b: &str) -> i64 {
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .diff_lines(a, b);
    let mut count = 0i64;
    for group in diff.grouped_ops(3) {
        count += 1;
        for op in &group {
            count += match *op {
                DiffOp::Equal { len, .. } => len,
                DiffOp::Delete { old_len, .. } => old_len,
                DiffOp::Insert { new_len, .. } => new_len,
                DiffOp::Replace {
                    old_len, new_len, ..
                } => old_len + new_len,
            } as i64;
        }
    }
    count
}

/// Which patch of `b` each patch of `a` pairs with, and the reverse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pairing {
    pub a2b: Vec<Option<usize>>,
    pub b2a: Vec<Option<usize>>,
}

/// Pair the patches of two versions: the same change id, then the same
/// file sections, then the least costly assignment of the rest.
pub fn pair(a: &[PatchText], b: &[PatchText], creation_factor: usize) -> Pairing {
    let mut p = Pairing {
        a2b: vec![None; a.len()],
        b2a: vec![None; b.len()],
    };
    for (i, pa) in a.iter().enumerate() {
        let Some(id) = &pa.change_id else { continue };
        if let Some(j) = b
            .iter()
            .enumerate()
            .position(|(j, pb)| p.b2a[j].is_none() && pb.change_id.as_ref() == Some(id))
        {
            p.a2b[i] = Some(j);
            p.b2a[j] = Some(i);
        }
    }
    for (i, pa) in a.iter().enumerate() {
        if p.a2b[i].is_some() {
            continue;
        }
        if let Some(j) = (0..b.len()).find(|&j| p.b2a[j].is_none() && b[j].diff() == pa.diff()) {
            p.a2b[i] = Some(j);
            p.b2a[j] = Some(i);
        }
    }
    let free_a: Vec<usize> = (0..a.len()).filter(|&i| p.a2b[i].is_none()).collect();
    let free_b: Vec<usize> = (0..b.len()).filter(|&j| p.b2a[j].is_none()).collect();
    if free_a.is_empty() || free_b.is_empty() {
        return p;
    }
    let n = free_a.len() + free_b.len();
    let mut cost = vec![vec![0i64; n]; n];
    for (r, &i) in free_a.iter().enumerate() {
        for (c, &j) in free_b.iter().enumerate() {
            cost[r][c] = diff_size(a[i].diff(), b[j].diff()).min(COST_MAX);
        }
        let alone = (a[i].diff_size * creation_factor / 100) as i64;
        for cell in cost[r].iter_mut().skip(free_b.len()) {
            *cell = alone;
        }
    }
    for (c, &j) in free_b.iter().enumerate() {
        let alone = (b[j].diff_size * creation_factor / 100) as i64;
        for row in cost.iter_mut().skip(free_a.len()) {
            row[c] = alone;
        }
    }
    let assignment = assign(&cost);
    for (r, &i) in free_a.iter().enumerate() {
        if let Some(&j) = free_b.get(assignment[r]) {
            p.a2b[i] = Some(j);
            p.b2a[j] = Some(i);
        }
    }
    p
}

/// The least costly assignment of rows to columns of a square matrix
/// (the Hungarian method with potentials): row r goes to column out[r].
fn assign(cost: &[Vec<i64>]) -> Vec<usize> {
    let n = cost.len();
    let inf = i64::MAX / 4;
    // 1-based, column 0 is the virtual start.
    let mut u = vec![0i64; n + 1];
    let mut v = vec![0i64; n + 1];
    let mut owner = vec![0usize; n + 1];
    let mut way = vec![0usize; n + 1];
    for r in 1..=n {
        owner[0] = r;
        let mut j0 = 0;
        let mut minv = vec![inf; n + 1];
        let mut used = vec![false; n + 1];
        loop {
            used[j0] = true;
            let i0 = owner[j0];
            let mut delta = inf;
            let mut j1 = 0;
            for j in 1..=n {
                if used[j] {
                    continue;
                }
                let cur = cost[i0 - 1][j - 1] - u[i0] - v[j];
                if cur < minv[j] {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if minv[j] < delta {
                    delta = minv[j];
                    j1 = j;
                }
            }
            for j in 0..=n {
                if used[j] {
                    u[owner[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if owner[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            owner[j0] = owner[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut out = vec![0; n];
    for j in 1..=n {
        if owner[j] > 0 {
            out[owner[j] - 1] = j - 1;
        }
    }
    out
}

/// How a pair of the range-diff compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// The same patch.
    Same,
    /// Paired, but changed.
    Changed,
    /// Only in the older version (dropped).
    Dropped,
    /// Only in the newer version (added).
    Added,
}

impl Mark {
    pub fn symbol(self) -> char {
        match self {
            Mark::Same => '=',
            Mark::Changed => '!',
            Mark::Dropped => '<',
            Mark::Added => '>',
        }
    }
}

/// One line of the range-diff: a pair, or a patch alone.
#[derive(Clone, Debug)]
pub struct Row {
    pub a: Option<usize>,
    pub b: Option<usize>,
    pub mark: Mark,
}

/// The rows in git's order: the newer version's, each dropped patch of the
/// older version placed once every patch before it was shown.
pub fn rows(a: &[PatchText], b: &[PatchText], p: &Pairing) -> Vec<Row> {
    let mut out = Vec::new();
    let mut shown = vec![false; a.len()];
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while i < a.len() && shown[i] {
            i += 1;
        }
        if i < a.len() && p.a2b[i].is_none() {
            out.push(Row {
                a: Some(i),
                b: None,
                mark: Mark::Dropped,
            });
            i += 1;
            continue;
        }
        while j < b.len() && p.b2a[j].is_none() {
            out.push(Row {
                a: None,
                b: Some(j),
                mark: Mark::Added,
            });
            j += 1;
        }
        if j < b.len() {
            if let Some(ai) = p.b2a[j] {
                let mark = if a[ai].text == b[j].text {
                    Mark::Same
                } else {
                    Mark::Changed
                };
                out.push(Row {
                    a: Some(ai),
                    b: Some(j),
                    mark,
                });
                shown[ai] = true;
            }
            j += 1;
        }
    }
    out
}

/// The header line of a row, as git prints it.
pub fn row_header(a: &[PatchText], b: &[PatchText], row: &Row) -> String {
    let width = (1 + a.len().max(b.len())).to_string().len();
    let first = row.a.map(|i| &a[i]).or(row.b.map(|j| &b[j]));
    let dashes = "-".repeat(first.map(|p| p.short.len()).unwrap_or(7));
    let side = |pt: Option<(usize, &PatchText)>| match pt {
        Some((i, p)) => format!("{:>width$}:  {}", i + 1, p.short),
        None => format!("{:>width$}:  {}", "-", dashes),
    };
    format!(
        "{} {} {} {}",
        side(row.a.map(|i| (i, &a[i]))),
        row.mark.symbol(),
        side(row.b.map(|j| (j, &b[j]))),
        first.map(|p| p.subject.as_str()).unwrap_or("")
    )
}

/// The name a hunk of the inner diff is shown under: the nearest section
/// or hunk line at or before `before` in the old text, as git's funcname
/// rule for range-diff finds it, cut to 80 bytes.
fn section_name(old: &[&str], before: usize) -> Option<String> {
    for l in old[..before.min(old.len())].iter().rev() {
        let l = l.trim_end_matches('\n');
        let name = if let Some(rest) = l.strip_prefix(" ## ").and_then(|r| r.strip_suffix(" ##")) {
            Some(rest)
        } else {
            let body = l.strip_prefix(|c: char| c != '@').unwrap_or(l);
            body.strip_prefix("@@ ").or_else(|| l.strip_prefix("@@ "))
        };
        if let Some(n) = name {
            let mut n = n.trim_end().to_string();
            if n.len() > 80 {
                let mut cut = 80;
                while !n.is_char_boundary(cut) {
                    cut -= 1;
                }
                n.truncate(cut);
            }
            return Some(n);
        }
    }
    None
}

/// The diff between two patch texts, indented by four spaces, as git
/// range-diff shows a changed pair.
pub fn inner_diff(a: &str, b: &str) -> String {
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .diff_lines(a, b);
    let old: Vec<&str> = a.split_inclusive('\n').collect();
    let mut out = String::new();
    for group in diff.grouped_ops(3) {
        let start = group.first().map(|op| op.old_range().start).unwrap_or(0);
        match section_name(&old, start) {
            Some(name) if !name.is_empty() => out.push_str(&format!("    @@ {name}\n")),
            _ => out.push_str("    @@\n"),
        }
        for op in &group {
            for change in diff.iter_changes(op) {
                let tag = match change.tag() {
                    similar::ChangeTag::Equal => ' ',
                    similar::ChangeTag::Delete => '-',
                    similar::ChangeTag::Insert => '+',
                };
                out.push_str("    ");
                out.push(tag);
                out.push_str(change.value());
                if !change.value().ends_with('\n') {
                    out.push('\n');
                }
            }
        }
    }
    out
}

/// The whole range-diff as text, as `git range-diff` prints it; with
/// `stat`, only the header lines.
pub fn render(a: &[PatchText], b: &[PatchText], rows: &[Row], stat: bool) -> String {
    let mut out = String::new();
    for row in rows {
        out.push_str(&row_header(a, b, row));
        out.push('\n');
        if stat || row.mark != Mark::Changed {
            continue;
        }
        if let (Some(i), Some(j)) = (row.a, row.b) {
            out.push_str(&inner_diff(&a[i].text, &b[j].text));
        }
    }
    out
}

/// What differs between two paired patches, in words: the message, and
/// which files' changes.
pub fn what_changed(a: &PatchText, b: &PatchText) -> (bool, Vec<String>) {
    let message = a.message() != b.message();
    let files_a = sections(a.diff());
    let files_b = sections(b.diff());
    let mut files = Vec::new();
    for (name, body) in &files_b {
        match files_a.iter().find(|(n, _)| n == name) {
            Some((_, old)) if old == body => {}
            _ => files.push(name.clone()),
        }
    }
    for (name, _) in &files_a {
        if !files_b.iter().any(|(n, _)| n == name) {
            files.push(name.clone());
        }
    }
    (message, files)
}

/// The file sections of a diff text: (file, the section's lines).
fn sections(diff: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in diff.split_inclusive('\n') {
        if let Some(name) = line
            .strip_prefix(" ## ")
            .and_then(|r| r.trim_end().strip_suffix(" ##"))
        {
            let file = name
                .trim_end_matches(" (new)")
                .trim_end_matches(" (deleted)")
                .split(" (mode change")
                .next()
                .unwrap_or(name)
                .to_string();
            out.push((file, String::new()));
        } else if let Some(last) = out.last_mut() {
            last.1.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_assignment_is_the_cheapest() {
        let cost = vec![vec![4, 1, 3], vec![2, 0, 5], vec![3, 2, 2]];
        let a = assign(&cost);
        let total: i64 = a.iter().enumerate().map(|(r, &c)| cost[r][c]).sum();
        assert_eq!(total, 5);
        let mut cols = a.clone();
        cols.sort_unstable();
        assert_eq!(cols, vec![0, 1, 2]);
    }
}
