//! Patch mails: render them byte for byte as `git format-patch` does, and parse
//! them back into [`PatchMail`].

pub mod address;
pub mod body;
pub mod mbox;
pub mod msgid;
pub mod received;
pub mod trailer;

use crate::model::{ExtraHeaders, Numbering, PatchMail, Person};
use crate::text::{self, EncodedWordKind, HEADER_WIDTH};

/// The first line git writes for a commit's mail; the date is a fixed marker.
pub const FROM_LINE_DATE: &str = "Mon Sep 17 00:00:00 2001";

/// Errors reading a patch mail.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("line 1 is not a `From <commit> {FROM_LINE_DATE}` line")]
    FromLine,
    #[error("the header `{0}:` is missing")]
    MissingHeader(&'static str),
    #[error("the `From:` header {0:?} has no address")]
    BadFrom(String),
    #[error("the `Date:` header {0:?} is not a date as git writes it (`Wed, 15 Mar 2017 05:02:11 -0400`)")]
    BadDate(String),
    #[error("the `{0}:` header holds a control character")]
    Control(&'static str),
    #[error(
        "the file has CRLF line endings; convert it to LF (dos2unix) as git format-patch writes it"
    )]
    Crlf,
    #[error("the {0} is not valid UTF-8; series keeps patches as UTF-8 text, as git format-patch writes them (re-encode it with iconv)")]
    NotUtf8Part(&'static str),
    #[error("the headers are not valid UTF-8")]
    NotUtf8,
    #[error("no `---` line separates the message from the diff")]
    NoSeparator,
    #[error("no `-- ` signature line ends the mail")]
    NoSignature,
    #[error("the diff section holds no `diff --git` line")]
    NoDiff,
}

/// Append the `From:` header for `who`, folded and encoded as git does.
pub fn push_from_header(out: &mut String, who: &Person) {
    let mut max = HEADER_WIDTH;
    out.push_str("From: ");
    if text::needs_rfc2047(&who.name) {
        text::push_rfc2047(out, &who.name, EncodedWordKind::Address);
        max = 76;
    } else if let Some(quoted) = text::rfc822_quote(&who.name) {
        text::push_wrapped(out, &quoted, -6, 1, max);
    } else {
        text::push_wrapped(out, &who.name, -6, 1, max);
    }
    if max < text::last_line_len(out) + 2 + who.email.len() + 1 {
        out.push('\n');
    }
    out.push_str(&format!(" <{}>\n", who.email));
}

/// Append `Subject: <tag><title>`, folded or encoded as git does.
pub fn push_subject_header(out: &mut String, tag: &str, title: &str) {
    out.push_str("Subject: ");
    out.push_str(tag);
    if text::needs_rfc2047(title) {
        text::push_rfc2047(out, title, EncodedWordKind::Subject);
    } else {
        let used = text::last_line_len(out) as isize;
        text::push_wrapped(out, title, -used, 1, HEADER_WIDTH);
    }
    out.push('\n');
}

/// Append `Name: a,\n    b\n` as git writes `--to`/`--cc` headers. A
/// display name that is not ASCII is written as an RFC 2047 encoded word
/// (as git send-email would send it), so the header is plain ASCII.
pub fn push_address_header(out: &mut String, name: &str, addrs: &[String]) {
    for (i, a) in addrs.iter().enumerate() {
        out.push_str(if i == 0 { name } else { "   " });
        out.push(' ');
        out.push_str(&address::header_form(a));
        if i + 1 < addrs.len() {
            out.push(',');
        }
        out.push('\n');
    }
}

/// Append the threading headers git writes right after the `From ` line.
pub fn push_thread_headers(out: &mut String, extra: &ExtraHeaders) {
    if let Some(id) = &extra.message_id {
        out.push_str(&format!("Message-ID: <{id}>\n"));
    }
    if let Some(last) = extra.references.last() {
        out.push_str(&format!("In-Reply-To: <{last}>\n"));
        for (i, r) in extra.references.iter().enumerate() {
            out.push_str(if i == 0 { "References: " } else { "\t" });
            out.push_str(&format!("<{r}>\n"));
        }
    }
}

/// The MIME headers git adds when the message is not plain ASCII.
pub const MIME_HEADERS: &str =
    "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n";

/// Render a patch mail exactly as `git format-patch` would for its commit.
pub fn render_patch(
    mail: &PatchMail,
    numbering: &Numbering,
    extra: &ExtraHeaders,
    signature: &str,
) -> Vec<u8> {
    let mut head = format!("From {} {FROM_LINE_DATE}\n", mail.commit);
    push_thread_headers(&mut head, extra);
    push_from_header(&mut head, &mail.author);
    head.push_str(&format!("Date: {}\n", mail.date));
    push_subject_header(&mut head, &numbering.tag(), &mail.title);
    if text::has_non_ascii(mail.title.as_bytes()) || text::has_non_ascii(mail.body.as_bytes()) {
        head.push_str(MIME_HEADERS);
    }
    push_address_header(&mut head, "To:", &extra.to);
    push_address_header(&mut head, "Cc:", &extra.cc);
    head.push('\n');
    head.push_str(&mail.body);
    head.push_str("---\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(&mail.diff);
    out.extend_from_slice(signature_block(signature).as_bytes());
    out
}

/// The `-- ` signature block that ends every mail.
pub fn signature_block(signature: &str) -> String {
    format!("-- \n{signature}\n\n")
}

/// The subject title git derives from a commit message: the first paragraph,
/// lines trimmed and joined with spaces. Returns it and the body that follows.
pub fn split_message(message: &str) -> (String, String) {
    let mut lines = message.lines().peekable();
    while lines.peek().is_some_and(|l| l.trim().is_empty()) {
        lines.next();
    }
    let mut title_parts = Vec::new();
    for line in lines.by_ref() {
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        title_parts.push(l);
    }
    let mut body = String::new();
    let mut started = false;
    for line in lines {
        let l = line.trim_end();
        if !started && l.is_empty() {
            continue;
        }
        started = true;
        body.push_str(l);
        body.push('\n');
    }
    let trimmed = body.trim_end().len();
    body.truncate(trimmed);
    if !body.is_empty() {
        body.push('\n');
    }
    (title_parts.join(" "), body)
}

/// Unfold header lines (continuations start with a space or tab).
fn unfold_headers(head: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push('\n');
                last.1.push_str(line);
            }
        } else if let Some((k, v)) = line.split_once(':') {
            out.push((
                k.trim().to_string(),
                v.trim_start_matches([' ', '\t']).to_string(),
            ));
        }
    }
    out
}

/// Decode an RFC 2047 header value as a mail reader would.
fn decode_header(name: &str, raw: &str) -> String {
    let line = format!("{name}: {raw}\n\n");
    match mailparse::parse_header(line.as_bytes()) {
        Ok((h, _)) => h.get_value(),
        Err(_) => raw.to_string(),
    }
}

/// Strip a leading `[...]` tag from a subject.
fn strip_tag(subject: &str) -> &str {
    let s = subject.trim_start();
    if s.starts_with('[') {
        if let Some(end) = s.find(']') {
            return s[end + 1..].trim_start();
        }
    }
    s
}

/// Find `needle` in `hay` at or after `from`.
fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The author a `From:` header names: decoded, without control
/// characters, its name's runs of white space made one space, as git
/// mailinfo reads a header (mailinfo.c, cleanup_space), so that a render
/// folds it back to the same bytes.
fn author_of(from_raw: &str) -> Result<Person, ParseError> {
    let from = decode_header("From", from_raw);
    if from.chars().any(char::is_control) {
        return Err(ParseError::Control("From"));
    }
    let mut author = parse_person(&from).ok_or(ParseError::BadFrom(from.clone()))?;
    author.name = author.name.split_whitespace().collect::<Vec<_>>().join(" ");
    if author
        .name
        .chars()
        .chain(author.email.chars())
        .any(char::is_control)
    {
        return Err(ParseError::Control("From"));
    }
    Ok(author)
}

/// A patch mail's body from `body_start`: the commit message (up to the
/// `---` line), the diff, and the signature after the last `-- ` line.
fn parts_of(bytes: &[u8], body_start: usize) -> Result<(String, Vec<u8>, String), ParseError> {
    let sep = if bytes[body_start..].starts_with(b"---\n") {
        body_start
    } else {
        find(bytes, b"\n---\n", body_start - 1).ok_or(ParseError::NoSeparator)? + 1
    };
    let body = String::from_utf8(bytes[body_start..sep].to_vec())
        .map_err(|_| ParseError::NotUtf8Part("commit message"))?;
    let diff_start = sep + 4;
    let sig_at = bytes
        .windows(4)
        .rposition(|w| w == b"\n-- ")
        .filter(|&p| p + 1 >= diff_start && bytes.get(p + 4) == Some(&b'\n'))
        .ok_or(ParseError::NoSignature)?
        + 1;
    let diff = bytes[diff_start..sig_at].to_vec();
    if find(&diff, b"diff --git ", 0).is_none() {
        return Err(ParseError::NoDiff);
    }
    let sig_text = std::str::from_utf8(&bytes[sig_at + 4..])
        .map_err(|_| ParseError::NotUtf8Part("signature"))?;
    Ok((body, diff, sig_text.trim_end_matches('\n').to_string()))
}

/// Parse a patch mail as `git format-patch` writes it. Returns the mail and
/// its signature text. One pass down the mail, header by header, in the
/// order git writes them; the checks stand where each part is read.
pub fn parse_patch(bytes: &[u8]) -> Result<(PatchMail, String), ParseError> {
    let first_end = find(bytes, b"\n", 0).ok_or(ParseError::FromLine)?;
    if first_end > 0 && bytes[first_end - 1] == b'\r' {
        return Err(ParseError::Crlf);
    }
    let first = std::str::from_utf8(&bytes[..first_end]).map_err(|_| ParseError::FromLine)?;
    let commit = first
        .strip_prefix("From ")
        .and_then(|r| r.strip_suffix(FROM_LINE_DATE))
        .map(str::trim)
        .filter(|c| c.len() == 40 && c.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or(ParseError::FromLine)?
        .to_string();
    let head_end = find(bytes, b"\n\n", first_end).ok_or(ParseError::MissingHeader("Subject"))?;
    // No header lines at all leaves an empty head (then From: is missing).
    let head = std::str::from_utf8(bytes.get(first_end + 1..head_end).unwrap_or_default())
        .map_err(|_| ParseError::NotUtf8)?;
    let headers = unfold_headers(head);
    let get = |name: &'static str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .ok_or(ParseError::MissingHeader(name))
    };
    // Control characters are refused in the raw headers (beyond the line
    // breaks and tabs of folding) and again once decoded.
    let raw_control = |v: &str| v.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
    for name in ["From", "Date", "Subject"] {
        if raw_control(&get(name)?) {
            return Err(ParseError::Control(name));
        }
    }
    let author = author_of(&get("From")?)?;
    let date = get("Date")?;
    if parse_rfc2822(&date).is_none() {
        return Err(ParseError::BadDate(date));
    }
    let subject = decode_header("Subject", &get("Subject")?);
    if subject.replace('\n', "").chars().any(char::is_control) {
        return Err(ParseError::Control("Subject"));
    }
    // Unfolded and with runs of white space made one space, as git am reads
    // a subject (mailinfo.c, cleanup_space): git's folding drops white space
    // at the fold, so only then does a render of the title fold back to the
    // same bytes.
    let unfolded = subject.replace('\n', "");
    let title = strip_tag(&unfolded)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");

    let (body, diff, signature) = parts_of(bytes, head_end + 2)?;
    Ok((
        PatchMail {
            commit,
            author,
            date,
            title,
            body,
            diff,
        },
        signature,
    ))
}

/// Parse `Name <addr>` (the name may be quoted) into a [`Person`].
pub fn parse_person(s: &str) -> Option<Person> {
    let addrs = mailparse::addrparse(s).ok()?;
    let p = match addrs.first()? {
        mailparse::MailAddr::Single(info) => Person {
            name: info.display_name.clone().unwrap_or_default(),
            email: info.addr.clone(),
        },
        mailparse::MailAddr::Group(_) => return None,
    };
    // What git can write back as `Name <email>`: no angle brackets in
    // either part, no white space in the address.
    let bad = |c: char| c == '<' || c == '>' || c.is_control();
    if p.email.is_empty()
        || p.email.chars().any(|c| bad(c) || c.is_whitespace())
        || p.name.chars().any(bad)
    {
        return None;
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PatchMail {
        PatchMail {
            commit: "0".repeat(40),
            author: Person {
                name: "Aaron Lu".into(),
                email: "aaron.lu@intel.com".into(),
            },
            date: "Wed, 15 Mar 2017 17:00:00 +0800".into(),
            title: "mm: parallel free pages".into(),
            body: "Free them in workers.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>\n".into(),
            diff: b" mm/memory.c | 1 +\n 1 file changed, 1 insertion(+)\n\ndiff --git a/mm/memory.c b/mm/memory.c\n".to_vec(),
        }
    }

    #[test]
    fn render_then_parse_round_trips() {
        let n = Numbering {
            prefix: "PATCH".into(),
            version: Some(2),
            nr: 2,
            total: 5,
            numbered: true,
        };
        let bytes = render_patch(&sample(), &n, &ExtraHeaders::default(), "2.47.3");
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("Subject: [PATCH v2 2/5] mm: parallel free pages\n\nFree"));
        let (back, sig) = parse_patch(&bytes).unwrap();
        assert_eq!(back, sample());
        assert_eq!(sig, "2.47.3");
    }

    #[test]
    fn non_ascii_names_and_subjects_are_encoded() {
        let mut m = sample();
        m.author.name = "Jérôme Glisse".into();
        m.title = "mm: fix ± sign".into();
        let n = Numbering::single();
        let bytes = render_patch(&m, &n, &ExtraHeaders::default(), "x");
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("From: =?UTF-8?q?J=C3=A9r=C3=B4me=20Glisse?= <aaron.lu@intel.com>"));
        assert!(text.contains("Content-Type: text/plain; charset=UTF-8"));
        let (back, _) = parse_patch(&bytes).unwrap();
        assert_eq!(back.author.name, "Jérôme Glisse");
        assert_eq!(back.title, "mm: fix ± sign");
    }

    #[test]
    fn damaged_mails_are_refused() {
        assert!(matches!(parse_patch(b"hello\n"), Err(ParseError::FromLine)));
        let good = render_patch(
            &sample(),
            &Numbering {
                prefix: "PATCH".into(),
                version: None,
                nr: 1,
                total: 1,
                numbered: false,
            },
            &ExtraHeaders::default(),
            "x",
        );
        let cut = &good[..good.len() - 8];
        assert!(matches!(parse_patch(cut), Err(ParseError::NoSignature)));
    }

    #[test]
    fn a_name_with_a_run_of_spaces_renders_the_same_every_time() {
        let mut m = sample();
        m.author.name = format!("Aaron Lu{}x", " ".repeat(90));
        let n = Numbering::single();
        let once = render_patch(&m, &n, &ExtraHeaders::default(), "x");
        let (back, _) = parse_patch(&once).unwrap();
        let twice = render_patch(&back, &n, &ExtraHeaders::default(), "x");
        let (again, _) = parse_patch(&twice).unwrap();
        assert_eq!(
            render_patch(&again, &n, &ExtraHeaders::default(), "x"),
            twice
        );
        assert_eq!(back.author.name, "Aaron Lu x");
    }

    #[test]
    fn split_message_joins_the_first_paragraph() {
        let (t, b) = split_message("\nmm: one\ntwo  \n\n\nbody  \n\n\n");
        assert_eq!(t, "mm: one two");
        assert_eq!(b, "body\n");
    }
}

/// Seconds since the epoch and zone offset (minutes) of an RFC 2822 date
/// such as git writes: `Wed, 15 Mar 2017 05:02:11 -0400`.
pub fn parse_rfc2822(date: &str) -> Option<(i64, i32)> {
    // A comment after the zone (`-0400 (EDT)`) is not part of it, as git
    // mailinfo reads a date (date.c, parse_date).
    let date = match date.find('(') {
        Some(i) if date.trim_end().ends_with(')') => date[..i].trim_end(),
        _ => date,
    };
    // mailparse reads anything as some date; insist on a time of day.
    if !date.contains(':') {
        return None;
    }
    let secs = mailparse::dateparse(date).ok()?;
    let zone = date.split_whitespace().last()?;
    let (sign, digits) = match zone.as_bytes().first()? {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => return Some((secs, 0)),
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits[2..].parse().ok()?;
    if m >= 60 || !(0..=crate::clock::LAST_SECOND).contains(&secs) {
        return None;
    }
    Some((secs, sign * (h * 60 + m)))
}

#[cfg(test)]
mod date_tests {
    #[test]
    fn rfc2822_dates_parse_with_their_zone() {
        assert_eq!(
            super::parse_rfc2822("Wed, 15 Mar 2017 05:02:11 -0400"),
            Some((1_489_568_531, -240))
        );
        assert_eq!(
            super::parse_rfc2822("Thu, 2 Mar 2017 08:00:00 +0000"),
            Some((1_488_441_600, 0))
        );
        assert_eq!(super::parse_rfc2822("not a date"), None);
        assert_eq!(
            super::parse_rfc2822("Wed, 15 Mar 2017 05:02:11 -0400 (EDT)"),
            Some((1_489_568_531, -240))
        );
        // A zone that is not four ASCII digits is refused, not sliced.
        assert_eq!(
            super::parse_rfc2822("Wed, 15 Mar 2017 05:02:11 +\u{e9}00"),
            None
        );
        assert_eq!(
            super::parse_rfc2822("Wed, 15 Mar 2017 05:02:11 +0077"),
            None
        );
    }
}
