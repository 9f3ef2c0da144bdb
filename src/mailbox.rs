//! Mail as it comes from a list: an mbox (git format-patch's, or mboxrd as
//! public-inbox serves it), a maildir or a folder of `.eml` files, each
//! message read through `mailparse` into what a series import and the
//! review loop need: who, when, threading, the tag of its subject and its
//! plain-text body.

use std::fs;
use std::path::{Path, PathBuf};

use crate::model::Person;

/// Why a mail source could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: no mail in it (an mbox starts with a `From ` line; a maildir has cur/ or new/; a folder holds .eml files)", .0.display())]
    Empty(PathBuf),
    #[error("{what}: {msg}")]
    Bad { what: String, msg: String },
}

/// The messages of a source, raw, in order: an mbox file is split on its
/// `From ` lines; a maildir's `cur/` and `new/` and a folder's `.eml` (and
/// `.patch`) files are read in name order; any other file is one message.
pub fn read_source(path: &Path) -> Result<Vec<Vec<u8>>, MailboxError> {
    let io = |source| MailboxError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = fs::metadata(path).map_err(io)?;
    let mails = if meta.is_dir() {
        let maildir = path.join("cur").is_dir() || path.join("new").is_dir();
        let folders: Vec<PathBuf> = if maildir {
            vec![path.join("cur"), path.join("new")]
        } else {
            vec![path.to_path_buf()]
        };
        let mut names = Vec::new();
        for f in folders.iter().filter(|f| f.is_dir()) {
            for e in fs::read_dir(f).map_err(io)? {
                let p = e.map_err(io)?.path();
                let wanted = maildir
                    || p.extension()
                        .is_some_and(|x| x == "eml" || x == "patch" || x == "mbox");
                if wanted && p.is_file() {
                    names.push(p);
                }
            }
        }
        names.sort();
        let mut out = Vec::new();
        for p in names {
            let bytes = fs::read(&p).map_err(|source| MailboxError::Io {
                path: p.clone(),
                source,
            })?;
            out.extend(split_mbox(&bytes));
        }
        out
    } else {
        split_mbox(&fs::read(path).map_err(io)?)
    };
    if mails.is_empty() {
        return Err(MailboxError::Empty(path.to_path_buf()));
    }
    Ok(mails)
}

/// Whether a line is an mbox separator: `From ` then a sender and a date
/// ending in a four-digit year, as git's mailsplit recognises one.
fn is_from_line(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"From ") else {
        return false;
    };
    let rest = String::from_utf8_lossy(rest);
    let rest = rest.trim_end();
    let mut words = rest.split_whitespace();
    let sender = words.next();
    let year = rest.rsplit(' ').next().unwrap_or("");
    sender.is_some()
        && rest.contains(':')
        && year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
}

/// Split an mbox into messages. The separator line is kept, since git
/// format-patch's names the commit. An mboxrd (`From mboxrd@z ...`, as
/// public-inbox writes) has its `>From ` quoting undone; a file that does
/// not start with a separator is one message.
pub fn split_mbox(bytes: &[u8]) -> Vec<Vec<u8>> {
    let bytes = normalize_newlines(bytes);
    if !is_from_line(bytes.split(|&b| b == b'\n').next().unwrap_or(b"")) {
        return if bytes.iter().all(u8::is_ascii_whitespace) {
            Vec::new()
        } else {
            vec![bytes]
        };
    }
    let rd = bytes.starts_with(b"From mboxrd@z ");
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut prev_blank = true;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let bare = line.strip_suffix(b"\n").unwrap_or(line);
        if prev_blank && is_from_line(bare) {
            if let Some(last) = out.last_mut() {
                // The blank line before a separator belongs to the mbox.
                if last.ends_with(b"\n\n") {
                    last.pop();
                }
            }
            out.push(line.to_vec());
            prev_blank = false;
            continue;
        }
        prev_blank = bare.is_empty();
        let Some(cur) = out.last_mut() else { continue };
        let quoted = bare.iter().take_while(|&&b| b == b'>').count();
        if rd && quoted > 0 && bare[quoted..].starts_with(b"From ") {
            cur.extend_from_slice(&line[1..]);
        } else {
            cur.extend_from_slice(line);
        }
    }
    out
}

fn normalize_newlines(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
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

/// One message, parsed.
#[derive(Clone, Debug)]
pub struct Posted {
    /// The Message-Id without angle brackets.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// The subject, decoded and unfolded, tag included.
    pub subject: String,
    pub from: Person,
    /// The `Date:` header as written.
    pub date: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// The plain-text body, decoded (transfer encoding, charset), LF ends.
    pub body: String,
    /// The commit of git format-patch's `From <id> Mon Sep 17 ...` line.
    pub commit: Option<String>,
    /// The message had no text/plain part, only HTML.
    pub html_only: bool,
    /// `Re:` (or `Aw:`, `Fwd:`) before the subject.
    pub is_reply: bool,
    /// The `[PATCH ...]` tag, when the subject has one.
    pub tag: Option<Tag>,
    /// The subject after its tag (and any `Re:`).
    pub title: String,
}

impl Posted {
    /// Whether the body carries a diff, as a patch does.
    pub fn has_diff(&self) -> bool {
        self.body.contains("\ndiff --git ") || self.body.starts_with("diff --git ")
    }
}

/// Message-Ids of a header: every `<...>`, or the bare value.
fn ids_of(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find('<') {
        let Some(len) = rest[start..].find('>') else {
            break;
        };
        let id = rest[start + 1..start + len].trim();
        if !id.is_empty() {
            out.push(id.to_string());
        }
        rest = &rest[start + len + 1..];
    }
    if out.is_empty() && !value.trim().is_empty() && !value.contains(char::is_whitespace) {
        out.push(value.trim().to_string());
    }
    out
}

/// Split `Re: [PATCH v2 3/5] mm: ...` into (is a reply, tag, title).
pub fn parse_subject(subject: &str) -> (bool, Option<Tag>, String) {
    let mut s = subject.trim();
    let mut reply = false;
    loop {
        let lower = s.to_ascii_lowercase();
        let cut = ["re:", "aw:", "fwd:", "fw:"]
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

/// Parse one raw message. `what` names it in errors.
pub fn parse(raw: &[u8], what: &str) -> Result<Posted, MailboxError> {
    let bad = |msg: String| MailboxError::Bad {
        what: what.to_string(),
        msg,
    };
    let raw = normalize_newlines(raw);
    let (commit, mail_bytes) = match raw.iter().position(|&b| b == b'\n') {
        Some(eol) if is_from_line(&raw[..eol]) => {
            let line = String::from_utf8_lossy(&raw[5..eol]).into_owned();
            let id = line.split_whitespace().next().unwrap_or("").to_string();
            let is_commit = id.len() == 40 && id.bytes().all(|b| b.is_ascii_hexdigit());
            (is_commit.then_some(id), &raw[eol + 1..])
        }
        _ => (None, &raw[..]),
    };
    let mail = mailparse::parse_mail(mail_bytes).map_err(|e| bad(e.to_string()))?;
    let headers = mail.get_headers();
    let get =
        |name: &str| mailparse::MailHeaderMap::get_first_value(&headers, name).unwrap_or_default();
    let message_id = ids_of(&get("Message-ID"))
        .into_iter()
        .next()
        .ok_or_else(|| bad("no Message-ID header".into()))?;
    let subject = get("Subject")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let from_header = get("From");
    let from = crate::mail::parse_person(&from_header)
        .ok_or_else(|| bad(format!("a From: header git cannot use: {from_header:?}")))?;
    let addresses = |name: &str| -> Vec<String> {
        mailparse::MailHeaderMap::get_all_values(&headers, name)
            .iter()
            .flat_map(|v| {
                mailparse::addrparse(v)
                    .map(|list| {
                        list.iter()
                            .flat_map(|a| match a {
                                mailparse::MailAddr::Single(s) => vec![s.to_string()],
                                mailparse::MailAddr::Group(g) => {
                                    g.addrs.iter().map(|s| s.to_string()).collect()
                                }
                            })
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            })
            .collect()
    };
    let (body, html_only) = plain_body(&mail).map_err(bad)?;
    let (is_reply, tag, title) = parse_subject(&subject);
    Ok(Posted {
        message_id,
        in_reply_to: ids_of(&get("In-Reply-To")).into_iter().next(),
        references: ids_of(&get("References")),
        subject,
        from,
        date: get("Date").trim().to_string(),
        to: addresses("To"),
        cc: addresses("Cc"),
        body: body.replace("\r\n", "\n"),
        commit,
        html_only,
        is_reply,
        tag,
        title,
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
    fn mboxrd_quoting_is_undone_and_separators_split() {
        let mbox = b"From mboxrd@z Thu Jan  1 00:00:00 1970\nSubject: a\n\n>From here\n>>From there\n\nFrom mboxrd@z Thu Jan  1 00:00:00 1970\nSubject: b\n\nbody\n";
        let m = split_mbox(mbox);
        assert_eq!(m.len(), 2);
        assert!(
            m[0].ends_with(b"\nFrom here\n>From there\n"),
            "{:?}",
            String::from_utf8_lossy(&m[0])
        );
        let plain = b"From 0123456789012345678901234567890123456789 Mon Sep 17 00:00:00 2001\nSubject: a\n\n>From kept\n";
        assert!(split_mbox(plain)[0].ends_with(b">From kept\n"));
    }
}
