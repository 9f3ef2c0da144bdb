//! A mail as a list delivered it, read once through `mailparse`: who, when,
//! its threading (Message-Ids checked, never decoded from RFC 2047), its
//! recipients, the tag of its subject, the list that carried it, and its
//! plain text (transfer encoding, charset and `format=flowed` undone, the
//! list's footer set apart). [`Received::text`] gives the text line by line
//! ([`super::body`]).

use super::body::{self, Text};
use crate::model::Person;

/// Why a mail could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {msg}")]
pub struct MailError {
    pub what: String,
    pub msg: String,
}

/// The tag of a subject: `[RFC PATCH v2 3/5]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tag {
    /// The words of the tag that are not the version or the count: `PATCH`,
    /// `RFC PATCH`, `PATCH mm`.
    pub prefix: String,
    pub version: u32,
    /// `3` of `3/5`; 1 for a lone `[PATCH]`.
    pub nr: usize,
    pub total: usize,
}

/// One received message.
#[derive(Clone, Debug)]
pub struct Received {
    /// The Message-Id without angle brackets.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// The subject, decoded and unfolded, tag included.
    pub subject: String,
    pub from: Person,
    /// The `Date:` header as written.
    pub date: String,
    /// To and Cc, each one address as a header carries it.
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// The plain-text body, decoded (transfer encoding, charset), LF ends,
    /// without the footer its list appended.
    pub body: String,
    /// The footer the list appended, set apart from the body.
    pub footer: Option<String>,
    /// The list that delivered it (the name of its `List-Id`), if any.
    pub list: Option<String>,
    /// The commit of git format-patch's `From <id> Mon Sep 17 ...` line.
    pub commit: Option<String>,
    /// The mail had no Message-Id (git format-patch's mbox without
    /// threading): `message_id` was made from its bytes.
    pub id_made_up: bool,
    /// The message had no text/plain part, only HTML.
    pub html_only: bool,
    /// `Re:` (or `Aw:`, `Fwd:`) before the subject.
    pub is_reply: bool,
    /// The `[PATCH ...]` tag, when the subject has one.
    pub tag: Option<Tag>,
    /// The subject after its tag (and any `Re:`).
    pub title: String,
    /// A check's report (`X-Series-Report:`), as `series check --report`
    /// writes them.
    pub report: bool,
}

impl Received {
    /// Whether the body carries a diff, as a patch does.
    pub fn has_diff(&self) -> bool {
        self.body.contains("\ndiff --git ") || self.body.starts_with("diff --git ")
    }

    /// The text, line by line.
    pub fn text(&self) -> Text {
        Text::parse(&self.body, self.list.as_deref())
    }
}

/// Whether `id` (without angle brackets) can be a Message-Id: printable
/// ASCII, no white space, no angle brackets, a sane length. Anything else
/// could carry a header into a mail that cites it.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 250
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>')
}

/// Message-Ids of a raw (undecoded) header value: every `<...>` that is a
/// valid id, or the bare value when it is one.
pub fn ids_of(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find('<') {
        let Some(len) = rest[start..].find('>') else {
            break;
        };
        let id = rest[start + 1..start + len].trim();
        if valid_id(id) {
            out.push(id.to_string());
        }
        rest = &rest[start + len + 1..];
    }
    let bare = value.trim();
    if out.is_empty() && !value.contains('<') && valid_id(bare) {
        out.push(bare.to_string());
    }
    out
}

/// Split `Re: [PATCH v2 3/5] mm: ...` into (is a reply, tag, title).
pub fn parse_subject(subject: &str) -> (bool, Option<Tag>, String) {
    let mut s = subject.trim();
    let mut reply = false;
    loop {
        let lower = s.to_ascii_lowercase();
        let cut = ["re:", "aw:", "fwd:", "fw:", "sv:"]
            .iter()
            .find(|p| lower.starts_with(*p))
            .map(|p| p.len());
        match cut {
            Some(n) => {
                reply = true;
                s = s[n..].trim_start();
            }
            None => break,
        }
    }
    let Some(inner_end) = s.strip_prefix('[').and_then(|r| r.find(']')) else {
        return (reply, None, s.to_string());
    };
    let inner = &s[1..=inner_end];
    let title = s[inner_end + 2..].trim().to_string();
    let mut tag = Tag {
        version: 1,
        nr: 1,
        total: 1,
        ..Tag::default()
    };
    let mut words = Vec::new();
    for w in inner.split_whitespace() {
        let lw = w.to_ascii_lowercase();
        if let Some(v) = lw.strip_prefix('v').and_then(|v| v.parse::<u32>().ok()) {
            tag.version = v.max(1);
        } else if let Some((a, b)) = w.split_once('/') {
            match (a.parse::<usize>(), b.parse::<usize>()) {
                (Ok(a), Ok(b)) => {
                    tag.nr = a;
                    tag.total = b;
                }
                _ => words.push(w),
            }
        } else {
            words.push(w);
        }
    }
    if !words.iter().any(|w| w.eq_ignore_ascii_case("patch")) {
        return (reply, None, s.to_string());
    }
    tag.prefix = words.join(" ");
    (reply, Some(tag), title)
}

/// `Name <addr>` as a header carries one address: the name quoted when it
/// holds a comma, a colon or another special, so that it stays one
/// recipient; control characters dropped.
pub fn address_text(name: &str, email: &str) -> String {
    let name: String = name.chars().filter(|c| !c.is_control()).collect();
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    let email: String = email.chars().filter(|c| !c.is_control()).collect();
    if name.is_empty() {
        return email;
    }
    match crate::text::rfc822_quote(&name) {
        Some(q) => format!("{q} <{email}>"),
        None => format!("{name} <{email}>"),
    }
}

/// A display name with its RFC 2047 encoded words decoded.
fn decode_words(name: &str) -> String {
    if !name.contains("=?") {
        return name.to_string();
    }
    let line = format!("X: {name}\n\n");
    match mailparse::parse_header(line.as_bytes()) {
        Ok((h, _)) => h.get_value(),
        Err(_) => name.to_string(),
    }
}

/// The name of a list from its `List-Id` (`Linux MM <linux-mm.kvack.org>`
/// is `linux-mm`).
fn list_name(list_id: &str) -> Option<String> {
    let id = list_id
        .rsplit_once('<')
        .map(|(_, r)| r.trim_end_matches('>'))
        .unwrap_or(list_id)
        .trim();
    let name = id.split('.').next()?.trim();
    (!name.is_empty() && valid_id(name)).then(|| name.to_string())
}

/// A message's `From <commit> ...` line, when it starts with one: the
/// commit when it names one (git format-patch's), and the mail after it.
fn from_line_commit(raw: &[u8]) -> (Option<String>, &[u8]) {
    match raw.iter().position(|&b| b == b'\n') {
        Some(eol) if super::mbox::is_from_line(&raw[..eol]) => {
            let line = String::from_utf8_lossy(&raw[5..eol]).into_owned();
            let id = line.split_whitespace().next().unwrap_or("").to_string();
            let is_commit = id.len() == 40 && id.bytes().all(|b| b.is_ascii_hexdigit());
            (is_commit.then_some(id), &raw[eol + 1..])
        }
        _ => (None, raw),
    }
}

/// The recipients of every `name` header. Addresses are parsed from the
/// raw header, and only then are their display names decoded: a name that
/// decodes to `Doe, John` stays one recipient.
fn addresses(headers: &mailparse::headers::Headers, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for h in mailparse::MailHeaderMap::get_all_headers(headers, name) {
        let raw = String::from_utf8_lossy(h.get_value_raw()).replace(['\r', '\n'], " ");
        let Ok(list) = mailparse::addrparse(&raw) else {
            continue;
        };
        for a in list.iter() {
            let singles = match a {
                mailparse::MailAddr::Single(s) => vec![s.clone()],
                mailparse::MailAddr::Group(g) => g.addrs.clone(),
            };
            for s in singles {
                let ok = s.addr.contains('@')
                    && !s.addr.chars().any(|c| {
                        c.is_control() || c.is_whitespace() || "<>,\";:()[]\\".contains(c)
                    });
                if ok {
                    let display = s
                        .display_name
                        .as_deref()
                        .map(decode_words)
                        .unwrap_or_default();
                    out.push(address_text(&display, &s.addr));
                }
            }
        }
    }
    out
}

/// The list a mail came through: List-Id, X-Mailing-List, or the address
/// in Mailing-List.
fn list_of(get: &dyn Fn(&str) -> String) -> Option<String> {
    list_name(&get("List-Id"))
        .or_else(|| list_name(&get("X-Mailing-List")))
        .or_else(|| {
            let m = get("Mailing-List");
            let addr = m.split_whitespace().find(|w| w.contains('@'))?;
            Some(addr.trim_end_matches(';').split('@').next()?.to_string())
        })
}

/// Read one raw message. `what` names it in errors.
pub fn parse(raw: &[u8], what: &str) -> Result<Received, MailError> {
    let bad = |msg: String| MailError {
        what: what.to_string(),
        msg,
    };
    let raw = super::mbox::normalize_newlines(raw);
    let (commit, mail_bytes) = from_line_commit(&raw);
    let mail = mailparse::parse_mail(mail_bytes).map_err(|e| bad(e.to_string()))?;
    let headers = mail.get_headers();
    // git mailinfo reads the last From: and Subject:, a reader the first:
    // a mail with two is refused rather than read as either.
    for name in ["From", "Subject", "Message-ID", "Date"] {
        let n = mailparse::MailHeaderMap::get_all_headers(&headers, name).len();
        if n > 1 {
            return Err(bad(format!(
                "it has {n} {name}: headers; a mail has one (a forged header was added?)"
            )));
        }
    }
    let get =
        |name: &str| mailparse::MailHeaderMap::get_first_value(&headers, name).unwrap_or_default();
    // Message-Ids are read as written: an RFC 2047 word in one is not
    // decoded (it could hold a line break), and an id that is not one is
    // left out.
    let raw_value = |name: &str| -> String {
        mailparse::MailHeaderMap::get_first_header(&headers, name)
            .map(|h| String::from_utf8_lossy(h.get_value_raw()).replace(['\r', '\n'], " "))
            .unwrap_or_default()
    };
    let id_header = raw_value("Message-ID");
    let (message_id, id_made_up) = match ids_of(&id_header).into_iter().next() {
        Some(id) => (id, false),
        // No Message-Id at all (a valid `git am` input): one made from
        // the mail's bytes, marked so it is never cited.
        None if id_header.trim().is_empty() => (
            format!("{}@made-up.invalid", &crate::text::digest(&raw)[..20]),
            true,
        ),
        None => return Err(bad(format!("its Message-ID {id_header:?} is not one"))),
    };
    let subject_raw = get("Subject");
    if subject_raw.chars().any(|c| c.is_control() && c != '\t') {
        return Err(bad("its Subject: holds a control character".into()));
    }
    let subject = subject_raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let from_header = get("From");
    let from = crate::mail::parse_person(&from_header)
        .map(|p| Person {
            name: p.name.split_whitespace().collect::<Vec<_>>().join(" "),
            email: p.email,
        })
        .ok_or_else(|| bad(format!("a From: header git cannot use: {from_header:?}")))?;
    let addresses = |name: &str| addresses(&headers, name);
    let list = list_of(&get);
    let (decoded, html_only) = plain_body(&mail).map_err(bad)?;
    let (body, footer) = body::strip_footer(&decoded, list.as_deref());
    let (is_reply, tag, title) = parse_subject(&subject);
    Ok(Received {
        message_id,
        in_reply_to: ids_of(&raw_value("In-Reply-To")).into_iter().next(),
        references: ids_of(&raw_value("References")),
        subject,
        from,
        date: get("Date").trim().to_string(),
        to: addresses("To"),
        cc: addresses("Cc"),
        body,
        footer,
        list,
        commit,
        id_made_up,
        html_only,
        is_reply,
        tag,
        title,
        report: !get("X-Series-Report").trim().is_empty(),
    })
}

/// The text/plain body of a message (the first such part of a multipart
/// one), decoded; `true` when there is only HTML.
fn plain_body(mail: &mailparse::ParsedMail) -> Result<(String, bool), String> {
    fn find<'a>(m: &'a mailparse::ParsedMail<'a>) -> Option<&'a mailparse::ParsedMail<'a>> {
        if m.subparts.is_empty() {
            let t = m.ctype.mimetype.to_ascii_lowercase();
            return (t == "text/plain" || t.is_empty()).then_some(m);
        }
        m.subparts.iter().find_map(find)
    }
    match find(mail) {
        Some(part) => {
            let body = part
                .get_body()
                .map_err(|e| format!("the body cannot be decoded: {e}"))?;
            let param = |k: &str| {
                part.ctype.params.get(k).is_some_and(|v| {
                    v.eq_ignore_ascii_case(if k == "format" { "flowed" } else { "yes" })
                })
            };
            let body = body.replace("\r\n", "\n");
            if param("format") {
                Ok((unflow(&body, param("delsp")), false))
            } else {
                Ok((body, false))
            }
        }
        None => Ok((String::new(), true)),
    }
}

/// Undo `format=flowed` (RFC 3676): a line ending in a space continues on
/// the next line of the same quote depth; space-stuffing is removed; with
/// `delsp=yes` the space at the break goes too.
pub fn unflow(body: &str, delsp: bool) -> String {
    let mut out = String::new();
    let mut pending: Option<(usize, String)> = None;
    for raw in body.split('\n') {
        let depth = raw.chars().take_while(|&c| c == '>').count();
        let mut text = &raw[depth..];
        if let Some(t) = text.strip_prefix(' ') {
            text = t;
        }
        let soft = text.ends_with(' ') && text != "-- ";
        let piece = if soft && delsp {
            &text[..text.len() - 1]
        } else {
            text
        };
        let line = match pending.take() {
            Some((d, mut acc)) if d == depth => {
                acc.push_str(piece);
                acc
            }
            Some((d, acc)) => {
                out.push_str(&requote(d, &acc));
                out.push('\n');
                piece.to_string()
            }
            None => piece.to_string(),
        };
        if soft {
            pending = Some((depth, line));
        } else {
            out.push_str(&requote(depth, &line));
            out.push('\n');
        }
    }
    if let Some((d, acc)) = pending {
        out.push_str(&requote(d, &acc));
        out.push('\n');
    }
    // split('\n') saw one more (empty) piece after the last line end.
    if out.ends_with("\n\n") && !body.ends_with("\n\n") {
        out.pop();
    }
    if !body.ends_with('\n') && out.ends_with('\n') {
        out.pop();
    }
    out
}

fn requote(depth: usize, text: &str) -> String {
    if depth == 0 {
        text.to_string()
    } else {
        format!("{} {text}", ">".repeat(depth))
    }
}

impl crate::error::Advice for MailError {
    fn hint(&self) -> Option<String> {
        crate::error::says(
            "give a mail as a mail client saves it (headers, a blank line, the body)",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_split_into_tag_and_title() {
        let (r, t, title) = parse_subject("Re: [RFC PATCH v3 2/7] mm: free");
        assert!(r);
        let t = t.unwrap();
        assert_eq!(
            (t.prefix.as_str(), t.version, t.nr, t.total),
            ("RFC PATCH", 3, 2, 7)
        );
        assert_eq!(title, "mm: free");
        let (_, t, _) = parse_subject("[PATCH] mm: one");
        assert_eq!(t.unwrap().total, 1);
        let (_, t, title) = parse_subject("[GIT PULL] mm");
        assert!(t.is_none());
        assert_eq!(title, "[GIT PULL] mm");
    }

    #[test]
    fn flowed_text_is_joined_per_quote_depth() {
        let body = "> a long \n> line\nmy answer \nwraps here\n";
        assert_eq!(unflow(body, false), "> a long line\nmy answer wraps here\n");
        assert_eq!(unflow("abc \ndef\n", true), "abcdef\n");
    }

    #[test]
    fn message_ids_carry_no_header() {
        let raw = "Message-ID: <x@x.org =?utf-8?q?=0ATo:_evil=40evil.org?=>\nIn-Reply-To: <a b@c>\nReferences: <ok@x> <bad\n\tid@x> <also-ok@y>\nFrom: A <a@x.org>\nSubject: Re: x\n\nbody\n";
        let m = parse(raw.as_bytes(), "t");
        assert!(m.is_err(), "an id with a space is no id");
        let raw = raw.replacen(
            "<x@x.org =?utf-8?q?=0ATo:_evil=40evil.org?=>",
            "<x@x.org>",
            1,
        );
        let m = parse(raw.as_bytes(), "t").unwrap();
        assert_eq!(m.in_reply_to, None);
        assert_eq!(m.references, ["ok@x", "also-ok@y"]);
    }

    #[test]
    fn two_from_headers_are_refused() {
        let raw = "From: Mallory <m@x.org>\nSubject: x\nMessage-ID: <a@b>\nFrom: Linus <torvalds@x.org>\n\nbody\n";
        let e = parse(raw.as_bytes(), "t").unwrap_err();
        assert!(e.msg.contains("2 From: headers"), "{e}");
    }

    #[test]
    fn a_name_with_a_comma_stays_one_recipient() {
        let raw = "From: A <a@x.org>\nTo: \"Doe, John\" <john@x.org>, \"evil@evil.org, Rita\" <rita@x.org>\nSubject: x\nMessage-ID: <a@b>\n\nbody\n";
        let m = parse(raw.as_bytes(), "t").unwrap();
        assert_eq!(
            m.to,
            [
                "\"Doe, John\" <john@x.org>",
                "\"evil@evil.org, Rita\" <rita@x.org>"
            ]
        );
    }

    #[test]
    fn an_encoded_name_with_a_comma_stays_one_recipient() {
        let raw = "From: A <a@x.org>\nTo: =?UTF-8?q?Reviewer=2C=20Rita?= <rita@x.org>, =?UTF-8?q?J=C3=A9r=C3=B4me?= <j@x.org>\nSubject: x\nMessage-ID: <a@b>\n\nbody\n";
        let m = parse(raw.as_bytes(), "t").unwrap();
        assert_eq!(
            m.to,
            ["\"Reviewer, Rita\" <rita@x.org>", "Jérôme <j@x.org>"]
        );
    }

    #[test]
    fn the_list_footer_is_set_apart() {
        let raw = "From: A <a@x.org>\nSubject: x\nMessage-ID: <a@b>\nList-ID: <linux-mm.kvack.org>\n\nbody\n\n--\nTo unsubscribe, send a message with 'unsubscribe linux-mm' in\nthe body to majordomo@kvack.org.\n";
        let m = parse(raw.as_bytes(), "t").unwrap();
        assert_eq!(m.list.as_deref(), Some("linux-mm"));
        assert_eq!(m.body, "body\n");
        assert!(m.footer.unwrap().contains("unsubscribe linux-mm"));
    }
}
