//! The one model of a unified diff as git writes it: files (names, modes,
//! renames and copies, binary), hunks and lines with their line numbers.
//! It is parsed once from a patch's text, the way `git apply` reads one
//! (apply.c: `parse_git_diff_header`, `parse_fragment`): a hunk's lines are
//! counted by its header, so an added line that starts with `++ ` or `--`
//! is a line, never a file header.

/// One diff, file by file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Patch {
    pub files: Vec<FileDiff>,
}

/// What a file diff does to its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Modified,
    Added,
    Deleted,
    /// Renamed, with the similarity git gave (percent).
    Renamed(u8),
    Copied(u8),
}

/// One file's part of a diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDiff {
    /// The path before (for a new file, the same as `new_path`), unquoted,
    /// without its `a/` prefix.
    pub old_path: Vec<u8>,
    pub new_path: Vec<u8>,
    pub change: Change,
    pub old_mode: Option<u32>,
    pub new_mode: Option<u32>,
    /// `GIT binary patch` or `Binary files ... differ`.
    pub binary: bool,
    pub hunks: Vec<Hunk>,
}

impl FileDiff {
    /// The path as shown: the new one, lossily as text.
    pub fn path(&self) -> String {
        String::from_utf8_lossy(&self.new_path).into_owned()
    }

    /// Lines the file diff adds and removes.
    pub fn counts(&self) -> (usize, usize) {
        let mut add = 0;
        let mut del = 0;
        for l in self.hunks.iter().flat_map(|h| &h.lines) {
            match l.kind {
                LineKind::Added => add += 1,
                LineKind::Removed => del += 1,
                _ => {}
            }
        }
        (add, del)
    }
}

/// One `@@ -a,b +c,d @@ section` hunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hunk {
    pub old_start: u32,
    pub old_lines: u32,
    pub new_start: u32,
    pub new_lines: u32,
    /// The function name after the second `@@`.
    pub section: String,
    pub lines: Vec<DiffLine>,
}

/// What a line of a hunk is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    Context,
    Added,
    Removed,
    /// `\ No newline at end of file`, about the line before.
    NoNewline,
}

/// One line of a hunk, without its marker, with its line numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffLine {
    pub kind: LineKind,
    pub text: Vec<u8>,
    /// Its number in the old file (context and removed lines).
    pub old_no: Option<u32>,
    /// Its number in the new file (context and added lines).
    pub new_no: Option<u32>,
}

impl DiffLine {
    /// The line as the diff writes it: marker and text.
    pub fn marked(&self) -> String {
        let m = match self.kind {
            LineKind::Context => ' ',
            LineKind::Added => '+',
            LineKind::Removed => '-',
            LineKind::NoNewline => '\\',
        };
        format!("{m}{}", String::from_utf8_lossy(&self.text))
    }
}

/// A path from a diff header: C-quoted or plain, with its `a/` or `b/`
/// prefix removed (quote.c, `unquote_c_style`).
pub fn header_path(raw: &[u8]) -> Vec<u8> {
    let raw = trim_end(raw);
    let name = if raw.first() == Some(&b'"') {
        unquote_c(raw).unwrap_or_else(|| raw.to_vec())
    } else {
        // `--- a/x\t` (a tab then a date, as GNU diff writes) ends the name.
        match raw.iter().position(|&b| b == b'\t') {
            Some(t) => raw[..t].to_vec(),
            None => raw.to_vec(),
        }
    };
    match name.iter().position(|&b| b == b'/') {
        Some(i) if i == 1 && (name[0] == b'a' || name[0] == b'b') => name[2..].to_vec(),
        _ => name,
    }
}

fn trim_end(s: &[u8]) -> &[u8] {
    let mut end = s.len();
    while end > 0 && (s[end - 1] == b'\n' || s[end - 1] == b'\r') {
        end -= 1;
    }
    &s[..end]
}

/// Undo git's C quoting: `\\`, `\"`, `\a\b\f\n\r\t\v`, three octal digits.
pub fn unquote_c(s: &[u8]) -> Option<Vec<u8>> {
    let inner = s.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        let c = inner[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let e = *inner.get(i)?;
        i += 1;
        out.push(match e {
            b'a' => 7,
            b'b' => 8,
            b'f' => 12,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'v' => 11,
            b'0'..=b'3' => {
                let digits = inner.get(i..i + 2)?;
                i += 2;
                let mut v = u32::from(e - b'0');
                for d in digits {
                    if !(b'0'..=b'7').contains(d) {
                        return None;
                    }
                    v = v * 8 + u32::from(d - b'0');
                }
                u8::try_from(v).ok()?
            }
            other => other,
        });
    }
    Some(out)
}

/// The two names of a `diff --git a/X b/Y` line. Unquoted names with
/// spaces are split where both halves name the same file, as git does
/// (apply.c, `git_header_name`).
fn git_header_names(rest: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let rest = trim_end(rest);
    if rest.first() == Some(&b'"') {
        let end = rest[1..].iter().position(|&b| b == b'"')? + 2;
        let a = header_path(&rest[..end]);
        let b = header_path(rest.get(end + 1..)?);
        return Some((a, b));
    }
    if let Some(q) = rest.windows(2).position(|w| w == b" \"") {
        return Some((header_path(&rest[..q]), header_path(&rest[q + 1..])));
    }
    // Try every " b/" split; the one whose two names agree wins.
    let mut fallback = None;
    for (i, w) in rest.windows(3).enumerate() {
        if w == b" b/" {
            let (a, b) = (header_path(&rest[..i]), header_path(&rest[i + 1..]));
            if a == b {
                return Some((a, b));
            }
            fallback.get_or_insert((a, b));
        }
    }
    fallback
}

fn parse_range(s: &str) -> Option<(u32, u32)> {
    match s.split_once(',') {
        Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
        None => Some((s.parse().ok()?, 1)),
    }
}

/// `@@ -a,b +c,d @@ section`.
fn hunk_header(line: &[u8]) -> Option<Hunk> {
    let text = std::str::from_utf8(line).ok()?;
    let rest = text.strip_prefix("@@ -")?;
    let (ranges, section) = rest.split_once(" @@")?;
    let (old, new) = ranges.split_once(" +")?;
    let (old_start, old_lines) = parse_range(old)?;
    let (new_start, new_lines) = parse_range(new)?;
    Some(Hunk {
        old_start,
        old_lines,
        new_start,
        new_lines,
        section: section
            .trim_start()
            .trim_end_matches(['\n', '\r'])
            .to_string(),
        lines: Vec::new(),
    })
}

fn octal(s: &[u8]) -> Option<u32> {
    u32::from_str_radix(std::str::from_utf8(trim_end(s)).ok()?.trim(), 8).ok()
}

/// The extended header of a file diff from line `i`, up to its first hunk
/// or the next file (apply.c, `parse_git_diff_header`); the line after it.
fn read_extended_header(lines: &[&[u8]], mut i: usize, f: &mut FileDiff) -> usize {
    let mut copied = false;
    while i < lines.len() {
        let l = lines[i];
        let field = |p: &[u8]| l.strip_prefix(p);
        if l.starts_with(b"diff --git ") || l.starts_with(b"@@ -") {
            break;
        }
        if let Some(m) = field(b"old mode ") {
            f.old_mode = octal(m);
        } else if let Some(m) = field(b"new mode ") {
            f.new_mode = octal(m);
        } else if let Some(m) = field(b"deleted file mode ") {
            f.change = Change::Deleted;
            f.old_mode = octal(m);
        } else if let Some(m) = field(b"new file mode ") {
            f.change = Change::Added;
            f.new_mode = octal(m);
        } else if let Some(p) = field(b"rename from ") {
            f.old_path = header_path_plain(p);
        } else if let Some(p) = field(b"rename to ") {
            f.new_path = header_path_plain(p);
        } else if let Some(p) = field(b"copy from ") {
            f.old_path = header_path_plain(p);
            copied = true;
        } else if let Some(p) = field(b"copy to ") {
            f.new_path = header_path_plain(p);
            copied = true;
        } else if let Some(s) = field(b"similarity index ") {
            let pct = std::str::from_utf8(trim_end(s))
                .ok()
                .and_then(|s| s.trim_end_matches('%').parse().ok())
                .unwrap_or(100);
            f.change = Change::Renamed(pct);
        } else if let Some(m) = field(b"index ") {
            // `index a..b 100644`: the mode when both sides have it.
            if let Some(mode) = m.split(|&b| b == b' ').nth(1) {
                let mode = octal(mode);
                f.old_mode = f.old_mode.or(mode);
                f.new_mode = f.new_mode.or(mode);
            }
        } else if l.starts_with(b"GIT binary patch") || l.starts_with(b"Binary files ") {
            f.binary = true;
        }
        // `--- `/`+++ ` lines: the names were read from the git header.
        i += 1;
    }
    if let (Change::Renamed(p), true) = (f.change, copied) {
        f.change = Change::Copied(p);
    }
    i
}

/// The hunk whose header is line `i`, as many lines as its header counts
/// (apply.c, `parse_fragment`); the hunk and the line after it.
fn read_hunk(lines: &[&[u8]], mut i: usize) -> Result<(Hunk, usize), PatchError> {
    let mut h = hunk_header(lines[i]).ok_or_else(|| PatchError {
        line: i + 1,
        what: "a hunk header that cannot be read".into(),
    })?;
    i += 1;
    let (mut old, mut new) = (h.old_lines, h.new_lines);
    let (mut o, mut n) = (h.old_start, h.new_start);
    let too_many = |i: usize, side: &str| PatchError {
        line: i + 1,
        what: format!("more {side} lines than the hunk header counts"),
    };
    while old > 0 || new > 0 {
        // A diff cut inside its last hunk (a mail's quote of one) keeps
        // the lines it has.
        let Some(l) = lines.get(i) else {
            break;
        };
        // The line's text without its line end: a carriage return is part
        // of the text (a CRLF file's line).
        let rest = &l[1.min(l.len())..];
        let body = rest.strip_suffix(b"\n").unwrap_or(rest).to_vec();
        let (kind, old_no, new_no) = match l.first() {
            // An empty line is an empty context line, as git apply reads a
            // diff whose trailing spaces a mailer stripped.
            Some(b' ') | Some(b'\n') => {
                old = old.saturating_sub(1);
                new = new.saturating_sub(1);
                (o, n) = (o + 1, n + 1);
                (LineKind::Context, Some(o - 1), Some(n - 1))
            }
            Some(b'+') => {
                new = new.checked_sub(1).ok_or_else(|| too_many(i, "added"))?;
                n += 1;
                (LineKind::Added, None, Some(n - 1))
            }
            Some(b'-') => {
                old = old.checked_sub(1).ok_or_else(|| too_many(i, "removed"))?;
                o += 1;
                (LineKind::Removed, Some(o - 1), None)
            }
            Some(b'\\') => (LineKind::NoNewline, None, None),
            _ => {
                return Err(PatchError {
                    line: i + 1,
                    what: "a line in a hunk that is not context, added or removed".into(),
                })
            }
        };
        h.lines.push(DiffLine {
            kind,
            text: body,
            old_no,
            new_no,
        });
        i += 1;
    }
    if lines.get(i).is_some_and(|l| l.starts_with(b"\\")) {
        h.lines.push(DiffLine {
            kind: LineKind::NoNewline,
            text: trim_end(&lines[i][1..]).to_vec(),
            old_no: None,
            new_no: None,
        });
        i += 1;
    }
    Ok((h, i))
}

/// Why a diff could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line} of the diff: {what}")]
pub struct PatchError {
    pub line: usize,
    pub what: String,
}

impl Patch {
    /// Parse the diff section of a patch mail (anything before the first
    /// `diff --git` line, such as the diffstat, is skipped; a `-- `
    /// signature after the last hunk ends it).
    pub fn parse(text: &[u8]) -> Result<Patch, PatchError> {
        let lines: Vec<&[u8]> = text.split_inclusive(|&b| b == b'\n').collect();
        let mut files = Vec::new();
        let mut i = 0;
        while i < lines.len() {
            let Some(rest) = lines[i].strip_prefix(b"diff --git ") else {
                i += 1;
                continue;
            };
            let (a, b) = git_header_names(rest).ok_or_else(|| PatchError {
                line: i + 1,
                what: "a `diff --git` line whose names cannot be read".into(),
            })?;
            let mut f = FileDiff {
                old_path: a,
                new_path: b,
                change: Change::Modified,
                old_mode: None,
                new_mode: None,
                binary: false,
                hunks: Vec::new(),
            };
            i = read_extended_header(&lines, i + 1, &mut f);
            // Hunks, each as long as its header says.
            while i < lines.len() && lines[i].starts_with(b"@@ -") {
                let (h, next) = read_hunk(&lines, i)?;
                f.hunks.push(h);
                i = next;
            }
            files.push(f);
        }
        Ok(Patch { files })
    }

    /// The file diff for `path` (its new name, or its old one).
    pub fn file(&self, path: &[u8]) -> Option<&FileDiff> {
        self.files
            .iter()
            .find(|f| f.new_path == path)
            .or_else(|| self.files.iter().find(|f| f.old_path == path))
    }

    /// A path no tree may hold, as git's verify_path (read-cache.c) sees
    /// it: absolute, empty, with a `.` or `..` component, or inside `.git`.
    pub fn unsafe_path(&self) -> Option<String> {
        let bad = |p: &[u8]| {
            p.is_empty()
                || p.starts_with(b"/")
                || p.split(|&b| b == b'/').any(|c| {
                    c.is_empty() || c == b"." || c == b".." || c.eq_ignore_ascii_case(b".git")
                })
        };
        self.files
            .iter()
            .flat_map(|f| [&f.old_path, &f.new_path])
            .find(|p| bad(p))
            .map(|p| String::from_utf8_lossy(p).into_owned())
    }

    /// Every hunk line with its file, in order.
    pub fn lines(&self) -> impl Iterator<Item = (&FileDiff, &Hunk, &DiffLine)> {
        self.files.iter().flat_map(|f| {
            f.hunks
                .iter()
                .flat_map(move |h| h.lines.iter().map(move |l| (f, h, l)))
        })
    }
}

/// A path in a `rename from` line: C-quoted or plain, no prefix.
fn header_path_plain(raw: &[u8]) -> Vec<u8> {
    let raw = trim_end(raw);
    if raw.first() == Some(&b'"') {
        unquote_c(raw).unwrap_or_else(|| raw.to_vec())
    } else {
        raw.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_names_split_when_unrenamed_and_renamed() {
        let split = |s: &str| git_header_names(s.as_bytes());
        assert_eq!(
            split("a/x y b/x y"),
            Some((b"x y".to_vec(), b"x y".to_vec()))
        );
        assert_eq!(
            split("a/old b/new"),
            Some((b"old".to_vec(), b"new".to_vec()))
        );
        assert_eq!(split("a b"), None);
        assert_eq!(split("x"), None);
    }

    const DIFF: &str = " mm/x.c | 3 ++-\n 1 file changed\n\ndiff --git a/mm/x.c b/mm/x.c\nindex 1111111..2222222 100644\n--- a/mm/x.c\n+++ b/mm/x.c\n@@ -10,3 +10,4 @@ void f(void)\n a\n-b\n++ not a header\n+--also a line\n c\n-- \n2.47.3\n";

    #[test]
    fn lines_are_counted_by_the_hunk_header() {
        let p = Patch::parse(DIFF.as_bytes()).unwrap();
        assert_eq!(p.files.len(), 1);
        let f = &p.files[0];
        assert_eq!(f.path(), "mm/x.c");
        assert_eq!(f.old_mode, Some(0o100644));
        let h = &f.hunks[0];
        assert_eq!(h.section, "void f(void)");
        let marked: Vec<String> = h.lines.iter().map(DiffLine::marked).collect();
        assert_eq!(
            marked,
            [" a", "-b", "++ not a header", "+--also a line", " c"]
        );
        assert_eq!(h.lines[2].new_no, Some(11));
        assert_eq!(h.lines[4].old_no, Some(12));
        assert_eq!(f.counts(), (2, 1));
    }

    #[test]
    fn renames_modes_binaries_and_quoted_names() {
        let text = "diff --git a/old name.c b/new name.c\nsimilarity index 90%\nrename from old name.c\nrename to new name.c\ndiff --git \"a/t\\303\\251.bin\" \"b/t\\303\\251.bin\"\nnew file mode 100755\nindex 0000000..3333333\nGIT binary patch\nliteral 3\nKcmZQz0000\n\nliteral 0\nHcmV?d00001\n\n";
        let p = Patch::parse(text.as_bytes()).unwrap();
        assert_eq!(p.files[0].change, Change::Renamed(90));
        assert_eq!(p.files[0].old_path, b"old name.c");
        assert_eq!(p.files[0].new_path, b"new name.c");
        assert_eq!(p.files[1].change, Change::Added);
        assert_eq!(p.files[1].new_mode, Some(0o100755));
        assert!(p.files[1].binary);
        assert_eq!(p.files[1].new_path, "té.bin".as_bytes());
    }

    #[test]
    fn a_cut_hunk_keeps_its_lines_and_garbage_is_an_error() {
        let cut = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n";
        assert_eq!(
            Patch::parse(cut.as_bytes()).unwrap().files[0].hunks[0]
                .lines
                .len(),
            1
        );
        let garbage = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n?\n";
        assert!(Patch::parse(garbage.as_bytes()).is_err());
    }
}
