//! Text primitives for mail headers, with the exact behaviour of `git format-patch`:
//! word wrapping, RFC 2047 encoded words, RFC 822 quoting and RFC 2822 dates.

/// Maximum header line length git aims for when it folds `From:` and `Subject:`.
pub const HEADER_WIDTH: usize = 78;
/// Maximum length of a line holding RFC 2047 encoded words.
const ENCODED_WIDTH: usize = 76;

/// Whether a byte counts as non-ASCII for git's mail code (ESC counts too).
fn non_ascii(b: u8) -> bool {
    !b.is_ascii() || b == 0x1b
}

/// True when any byte of `s` is non-ASCII in git's sense.
pub fn has_non_ascii(s: &[u8]) -> bool {
    s.iter().any(|&b| non_ascii(b))
}

/// Whether a header value must become RFC 2047 encoded words.
pub fn needs_rfc2047(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter()
        .enumerate()
        .any(|(i, &c)| non_ascii(c) || c == b'\n' || (c == b'=' && b.get(i + 1) == Some(&b'?')))
}

/// Where an encoded word stands, which decides the characters it may carry bare.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum EncodedWordKind {
    Subject,
    Address,
}

fn rfc2047_special(b: u8, kind: EncodedWordKind) -> bool {
    if non_ascii(b) || !(0x20..0x7f).contains(&b) {
        return true;
    }
    if b.is_ascii_whitespace() || b == b'=' || b == b'?' || b == b'_' {
        return true;
    }
    if kind == EncodedWordKind::Subject {
        return false;
    }
    !(b.is_ascii_alphanumeric() || matches!(b, b'!' | b'*' | b'+' | b'-' | b'/'))
}

/// Length in columns of the last line already in `out`.
pub fn last_line_len(out: &str) -> usize {
    match out.rfind('\n') {
        Some(i) => out.len() - i - 1,
        None => out.len(),
    }
}

/// Append `text` as UTF-8 Q-encoded words, folding before 76 columns and never
/// splitting a character.
// Follows git's pretty.c, add_rfc2047 (the encoded-word rules and line
// length of format-patch headers).
pub fn push_rfc2047(out: &mut String, text: &str, kind: EncodedWordKind) {
    const OPEN: &str = "=?UTF-8?q?";
    let mut line_len = last_line_len(out) + OPEN.len();
    out.push_str(OPEN);
    for ch in text.chars() {
        let mut buf = [0u8; 4];
        let bytes = ch.encode_utf8(&mut buf).as_bytes();
        let special = bytes.len() > 1 || rfc2047_special(bytes[0], kind);
        let encoded_len = if special { 3 * bytes.len() } else { 1 };
        if line_len + encoded_len + 2 > ENCODED_WIDTH {
            out.push_str("?=\n ");
            out.push_str(OPEN);
            line_len = OPEN.len() + 1;
        }
        if special {
            for b in bytes {
                out.push_str(&format!("={b:02X}"));
            }
        } else {
            out.push(ch);
        }
        line_len += encoded_len;
    }
    out.push_str("?=");
}

fn rfc822_special(c: char) -> bool {
    matches!(
        c,
        '(' | ')' | '<' | '>' | '[' | ']' | ':' | ';' | '@' | ',' | '.' | '"' | '\\'
    )
}

/// Quote a display name as an RFC 822 quoted string when it holds specials.
// Follows git's pretty.c, add_rfc822_quoted and needs_rfc822_quoting.
pub fn rfc822_quote(name: &str) -> Option<String> {
    if !name.chars().any(rfc822_special) {
        return None;
    }
    let mut q = String::with_capacity(name.len() + 2);
    q.push('"');
    for c in name.chars() {
        if c == '"' || c == '\\' {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    Some(q)
}

/// Display width of one character, as git counts it for wrapping.
fn char_width(c: char) -> usize {
    if c.is_control() {
        0
    } else if is_wide(c) {
        2
    } else {
        1
    }
}

fn is_wide(c: char) -> bool {
    let u = c as u32;
    matches!(u,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF |
        0x4E00..=0x9FFF | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF |
        0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x1F300..=0x1F64F |
        0x1F900..=0x1F9FF | 0x20000..=0x3FFFD)
}

/// Display width of a string.
pub fn str_width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// Append `text` wrapped at `width` columns. A negative `indent1` says that many
/// columns of the first line are already used; `indent2` indents later lines.
/// This follows git's `strbuf_add_wrapped_text` (utf8.c) so folded headers
/// match git's.
pub fn push_wrapped(out: &mut String, text: &str, indent1: isize, indent2: usize, width: usize) {
    let chars: Vec<char> = text.chars().collect();
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let mut i = 0usize;
    let mut bol = 0usize;
    let mut indent: usize = indent1.max(0) as usize;
    let mut w: usize = indent;
    let mut space: Option<usize> = None;
    if indent1 < 0 {
        w = (-indent1) as usize;
        space = Some(0);
    }
    loop {
        let c = at(i);
        if c == '\0' || c.is_ascii_whitespace() {
            if w <= width || space.is_none() {
                let mut start = bol;
                if c == '\0' && i == start {
                    return;
                }
                match space {
                    Some(s) => start = s,
                    None => out.extend(std::iter::repeat_n(' ', indent)),
                }
                out.extend(&chars[start..i]);
                if c == '\0' {
                    return;
                }
                let mut sp = i;
                space = Some(sp);
                if c == '\t' {
                    w |= 0x07;
                } else if c == '\n' {
                    sp += 1;
                    space = Some(sp);
                    if !at(sp).is_alphanumeric() {
                        // A blank line (a new paragraph) stays one.
                        if at(sp) == '\n' {
                            out.push('\n');
                        }
                        out.push('\n');
                        i = sp + usize::from(at(sp).is_ascii_whitespace());
                        bol = i;
                        space = None;
                        indent = indent2;
                        w = indent;
                        continue;
                    } else {
                        out.push(' ');
                    }
                }
                w += 1;
                i += 1;
            } else {
                out.push('\n');
                let sp = space.unwrap_or(i);
                i = sp + usize::from(at(sp).is_ascii_whitespace());
                bol = i;
                space = None;
                indent = indent2;
                w = indent;
            }
            continue;
        }
        w += char_width(c);
        i += 1;
    }
}

/// Names of weekdays and months for RFC 2822 dates.
const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Civil date from days since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Format seconds since the epoch at an offset (minutes east of UTC) as git's
/// RFC 2822 date: `Wed, 15 Mar 2017 05:02:11 -0400` (day not zero-padded).
pub fn rfc2822_date(secs: i64, offset_minutes: i32) -> String {
    let local = secs + i64::from(offset_minutes) * 60;
    let days = local.div_euclid(86_400);
    let rem = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let weekday = WEEKDAYS[days.rem_euclid(7) as usize];
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.unsigned_abs();
    format!(
        "{weekday}, {d} {} {y} {:02}:{:02}:{:02} {sign}{:02}{:02}",
        MONTHS[(m - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        off / 60,
        off % 60
    )
}

/// `YYYY-MM-DD` of seconds since the epoch at an offset.
pub fn iso_day(secs: i64, offset_minutes: i32) -> String {
    let (y, m, d) = civil_from_days((secs + i64::from(offset_minutes) * 60).div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Quote a path the way git does in diff headers and diffstats when it holds
/// control characters, quotes, backslashes or non-ASCII bytes.
// Follows git's quote.c, quote_c_style.
pub fn c_quote(path: &[u8]) -> Option<String> {
    let needs = path
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\' || b >= 0x7f);
    if !needs {
        return None;
    }
    let mut q = String::from("\"");
    for &b in path {
        match b {
            b'\x07' => q.push_str("\\a"),
            b'\x08' => q.push_str("\\b"),
            b'\t' => q.push_str("\\t"),
            b'\n' => q.push_str("\\n"),
            b'\x0b' => q.push_str("\\v"),
            b'\x0c' => q.push_str("\\f"),
            b'\r' => q.push_str("\\r"),
            b'"' => q.push_str("\\\""),
            b'\\' => q.push_str("\\\\"),
            b if !(0x20..0x7f).contains(&b) => q.push_str(&format!("\\{b:03o}")),
            b => q.push(b as char),
        }
    }
    q.push('"');
    Some(q)
}

/// A path as git prints it: quoted when needed, else as is.
pub fn display_path(path: &[u8]) -> String {
    c_quote(path).unwrap_or_else(|| String::from_utf8_lossy(path).into_owned())
}

/// The id git gives a blob of these bytes (SHA-1, in hex): a stable digest
/// for file names and comparisons.
pub fn digest(bytes: &[u8]) -> String {
    git2::Oid::hash_object(git2::ObjectType::Blob, bytes)
        .map(|o| o.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_git() {
        assert_eq!(
            rfc2822_date(1_489_568_531, -240),
            "Wed, 15 Mar 2017 05:02:11 -0400"
        );
        assert_eq!(
            rfc2822_date(1_488_441_600, 0),
            "Thu, 2 Mar 2017 08:00:00 +0000"
        );
        assert_eq!(rfc2822_date(0, 330), "Thu, 1 Jan 1970 05:30:00 +0530");
        assert_eq!(iso_day(1_487_894_400, 0), "2017-02-24");
    }

    #[test]
    fn wrap_folds_long_subject_at_spaces() {
        let mut out = String::from("Subject: [PATCH 1/5] ");
        let title =
            "mm: this is a rather long subject line that will certainly need folding somewhere";
        let used = out.len() as isize;
        push_wrapped(&mut out, title, -used, 1, HEADER_WIDTH);
        assert!(out.contains("\n "), "{out}");
        assert!(out.lines().all(|l| l.len() <= HEADER_WIDTH));
    }

    #[test]
    fn rfc2047_encodes_utf8_whole_characters() {
        let mut out = String::from("Subject: ");
        push_rfc2047(&mut out, "caf\u{e9} = ok", EncodedWordKind::Subject);
        assert_eq!(out, "Subject: =?UTF-8?q?caf=C3=A9=20=3D=20ok?=");
    }

    #[test]
    fn quoting() {
        assert_eq!(rfc822_quote("Lu, Aaron").as_deref(), Some("\"Lu, Aaron\""));
        assert_eq!(rfc822_quote("Aaron Lu"), None);
        assert_eq!(c_quote(b"a\tb").as_deref(), Some("\"a\\tb\""));
        assert_eq!(c_quote("é".as_bytes()).as_deref(), Some("\"\\303\\251\""));
    }
}
