//! Follow-up trailers: `Reviewed-by:`, `Acked-by:`, `Tested-by:` and the
//! others a reply gives, read as b4 reads them (a line `Name: value` of
//! the reply's own text, not quoted, above its signature; a person trailer
//! names the sender), collected per patch and written into the patch
//! files in b4's order. Where series differs from b4 it says why: a
//! conditional trailer ("with that fixed, ...") and one in someone else's
//! name are shown, never applied; b4 applies the first and drops the
//! second silently.

use crate::mailbox::Posted;
use crate::model::{PatchMail, Person};

use super::{Place, Reply};

/// Trailers that name no person.
const NONPERSON: &[&str] = &["fixes", "link", "buglink", "closes"];
const LINKS: &[&str] = &["link", "buglink", "closes"];
/// Words that make a trailer conditional when they are on its line or on
/// the line before it.
const CONDITIONS: &[&str] = &[
    "with that fixed",
    "with this fixed",
    "with those fixed",
    "with the above",
    "with that addressed",
    "with that changed",
    "if you ",
    "once ",
    "provided ",
    "assuming ",
    "after fixing",
    "with the nit",
    "with these",
];

/// One trailer as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trailer {
    pub name: String,
    pub value: String,
}

impl Trailer {
    pub fn line(&self) -> String {
        format!("{}: {}", self.name, self.value)
    }

    fn lname(&self) -> String {
        self.name.to_ascii_lowercase()
    }

    /// The person a trailer names, when it names one.
    pub fn person(&self) -> Option<Person> {
        if NONPERSON.contains(&self.lname().as_str()) {
            return None;
        }
        let v = self.value.split(" #").next().unwrap_or(&self.value);
        crate::mail::parse_person(v)
    }

    /// The same trailer: names equal but for case, the same person (by
    /// address) or the same value.
    pub fn same(&self, other: &Trailer) -> bool {
        if self.lname() != other.lname() {
            return false;
        }
        match (self.person(), other.person()) {
            (Some(a), Some(b)) => a.email.eq_ignore_ascii_case(&b.email),
            _ => self.value.trim() == other.value.trim(),
        }
    }
}

/// Why a trailer is not applied, or that it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Applied by `--apply` (not in the patch yet).
    New,
    /// In the patch already.
    Present,
    /// Given on a condition (the words): shown, not applied.
    Conditional(String),
    /// In the name of someone other than the sender: shown, not applied.
    FromOther,
    /// Quoted from another mail: shown, not applied.
    Quoted,
    /// Given for an earlier version whose patch differs from this one.
    ChangedSince(u32),
}

/// A trailer a reply gave, with where it came from.
#[derive(Clone, Debug)]
pub struct Given {
    pub trailer: Trailer,
    pub from: Person,
    pub message_id: String,
    pub date: String,
    /// The patch (or cover) of the version it was given to.
    pub place: Place,
    pub verdict: Verdict,
}

/// Undo two common wraps of a trailer over two lines, as b4 does:
/// `Fixes: <id> ("subject` / `more")`, and `Name: Full Name` /
/// `<address>`.
fn unwrap_lines(lines: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in lines {
        if let Some(last) = out.last_mut() {
            let open_paren = last.contains(": ") && last.contains('(') && !last.contains(')');
            let name_only = last.contains(": ") && !last.contains('<') && !last.contains('@');
            if (open_paren && l.trim_end().ends_with(')') && !l.starts_with('>'))
                || (name_only && l.starts_with('<') && l.trim_end().ends_with('>'))
            {
                last.push(' ');
                last.push_str(l.trim());
                continue;
            }
        }
        out.push(l.to_string());
    }
    out
}

/// A `Name: value` trailer of one line, as b4 accepts it in a follow-up:
/// ASCII name; a person trailer holds an address; a link only in a link
/// trailer; `Fixes:` starts with a commit id.
fn trailer_of(line: &str) -> Option<Trailer> {
    let line = line.trim_start();
    let (name, value) = line.split_once(':')?;
    let value = value.strip_prefix(|c: char| c.is_whitespace())?.trim();
    let first = name.chars().next()?;
    if !(first.is_ascii_alphanumeric() || first == '_')
        || name.len() < 2
        || name.contains(char::is_whitespace)
        || !name.is_ascii()
        || value.is_empty()
    {
        return None;
    }
    let lname = name.to_ascii_lowercase();
    if [
        "phone", "mail", "email", "e-mail", "subject", "date", "from", "to", "cc",
    ]
    .contains(&lname.as_str())
        && lname != "cc"
    {
        return None;
    }
    let has_mail = value.split_whitespace().any(|w| {
        let w = w.trim_matches(['<', '>', ',', '(', ')']);
        w.contains('@') && w.split('@').nth(1).is_some_and(|d| d.contains('.'))
    });
    if !has_mail && !NONPERSON.contains(&lname.as_str()) {
        return None;
    }
    if (value.contains("http://") || value.contains("https://")) && !LINKS.contains(&lname.as_str())
    {
        return None;
    }
    if lname == "fixes"
        && !value
            .chars()
            .take(6)
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    {
        return None;
    }
    Some(Trailer {
        name: name.to_string(),
        value: value.to_string(),
    })
}

/// The trailer a line of a reply's own text is, if it is one.
pub fn of_reply_line(line: &str) -> Option<Trailer> {
    if line.starts_with('>') {
        return None;
    }
    trailer_of(line)
}

/// The trailers a reply gives in its own words, each with the condition
/// it was given on (if any); and those it quotes.
pub fn of_reply(mail: &Posted) -> (Vec<(Trailer, Option<String>)>, Vec<Trailer>) {
    let body = mail.body.split("\n-- \n").next().unwrap_or("");
    let lines: Vec<&str> = body.lines().collect();
    let lines = unwrap_lines(&lines);
    let mut own = Vec::new();
    let mut quoted = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if let Some(q) = l.strip_prefix('>') {
            if let Some(t) = trailer_of(q.trim_start_matches(['>', ' '])) {
                quoted.push(t);
            }
            continue;
        }
        let Some(t) = trailer_of(l) else { continue };
        let before = if i > 0 && !lines[i - 1].starts_with('>') {
            lines[i - 1].to_ascii_lowercase()
        } else {
            String::new()
        };
        let here = l.to_ascii_lowercase();
        let condition = CONDITIONS
            .iter()
            .find(|c| {
                before.contains(*c) || here.split_once(':').is_some_and(|(_, v)| v.contains(*c))
            })
            .map(|c| c.trim().to_string());
        own.push((t, condition));
    }
    (own, quoted)
}

/// Whether the person a trailer names sent the mail (by address, else by
/// name), as b4 checks it.
fn names_sender(t: &Trailer, from: &Person) -> bool {
    match t.person() {
        None => true,
        Some(p) => {
            p.email.eq_ignore_ascii_case(&from.email)
                || (!p.name.is_empty() && p.name.eq_ignore_ascii_case(&from.name))
        }
    }
}

/// Every trailer the replies give, with where each was given.
pub fn given(replies: &[Reply], places: &[Option<Place>]) -> Vec<Given> {
    let mut out = Vec::new();
    for (r, place) in replies.iter().zip(places) {
        let Some(place) = *place else { continue };
        let (own, quoted) = of_reply(&r.mail);
        let mut push = |t: Trailer, verdict: Verdict| {
            out.push(Given {
                trailer: t,
                from: r.mail.from.clone(),
                message_id: r.mail.message_id.clone(),
                date: r.mail.date.clone(),
                place,
                verdict,
            })
        };
        for (t, cond) in own {
            let verdict = match cond {
                Some(c) => Verdict::Conditional(c),
                None if !names_sender(&t, &r.mail.from) => Verdict::FromOther,
                None => Verdict::New,
            };
            push(t, verdict);
        }
        for t in quoted {
            push(t, Verdict::Quoted);
        }
    }
    out
}

/// The trailers of a message body: its last paragraph, when every line
/// of it is a trailer.
pub fn body_trailers(body: &str) -> Vec<Trailer> {
    let last = body.trim_end().rsplit("\n\n").next().unwrap_or("");
    let mut out = Vec::new();
    for line in last.lines() {
        match line.split_once(": ") {
            Some((k, v))
                if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
            {
                out.push(Trailer {
                    name: k.to_string(),
                    value: v.trim().to_string(),
                })
            }
            _ => return Vec::new(),
        }
    }
    out
}

/// The message with `new` trailers added as b4 adds them: after the
/// trailers it has, but the sender's own `Signed-off-by:` moved last;
/// none twice.
pub fn with_trailers(mail: &PatchMail, new: &[Trailer], own: &Person) -> PatchMail {
    let body = mail.body.trim_end();
    let existing = body_trailers(body);
    let (message, mut trailers) = if existing.is_empty() {
        (body.to_string(), Vec::new())
    } else {
        let cut = body.rfind("\n\n").map(|i| &body[..i]).unwrap_or("");
        (cut.to_string(), existing)
    };
    let mine = Trailer {
        name: "Signed-off-by".into(),
        value: own.to_string(),
    };
    let had_mine = trailers.iter().any(|t| t.same(&mine));
    trailers.retain(|t| !t.same(&mine));
    for t in new {
        if t.same(&mine) || trailers.iter().any(|x| x.same(t)) {
            continue;
        }
        trailers.push(t.clone());
    }
    if had_mine {
        trailers.push(mine);
    }
    let mut text = message.trim_end().to_string();
    if !trailers.is_empty() {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        let lines: Vec<String> = trailers.iter().map(Trailer::line).collect();
        text.push_str(&lines.join("\n"));
    }
    if !text.is_empty() {
        text.push('\n');
    }
    PatchMail {
        body: text,
        ..mail.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(body: &str) -> Posted {
        crate::mailbox::parse(
            format!("Message-ID: <a@b>\nFrom: Dave Hansen <dave.hansen@intel.com>\nSubject: Re: [PATCH 1/2] x\nDate: Wed, 15 Mar 2017 05:02:11 -0400\n\n{body}").as_bytes(),
            "test",
        )
        .unwrap()
    }

    #[test]
    fn own_conditional_and_quoted_trailers_are_told_apart() {
        let m = mail("> Reviewed-by: Mel Gorman <mgorman@suse.de>\n\nLooks good.\n\nWith that fixed,\nAcked-by: Dave Hansen <dave.hansen@intel.com>\nTested-by: Dave Hansen <dave.hansen@intel.com>\n-- \nReviewed-by: nobody@example.org\n");
        let (own, quoted) = of_reply(&m);
        assert_eq!(own.len(), 2);
        assert_eq!(own[0].1.as_deref(), Some("with that fixed"));
        assert_eq!(own[1].1, None);
        assert_eq!(quoted.len(), 1);
        assert_eq!(quoted[0].name, "Reviewed-by");
    }

    #[test]
    fn not_trailers() {
        for l in [
            "Note: see https://x.org/y",
            "Hi Dave:",
            "Fixes: the bug",
            "Reviewed-by: Dave",
        ] {
            assert!(trailer_of(l).is_none(), "{l}");
        }
        assert!(trailer_of("Fixes: 0123abcd (\"mm: x\")").is_some());
        assert!(trailer_of("Link: https://lore.kernel.org/r/x@y").is_some());
    }
}
