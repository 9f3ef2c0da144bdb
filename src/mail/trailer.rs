//! Trailers: `Reviewed-by: Name <addr>`, `Fixes: <id> ("subject")`,
//! `Link: <url>`, read from a mail's text as b4 reads follow-up trailers,
//! and from a commit message's last paragraph.

use crate::model::Person;

/// Trailers that name no person.
pub const NONPERSON: &[&str] = &["fixes", "link", "buglink", "closes", "message-id"];
const LINKS: &[&str] = &["link", "buglink", "closes"];

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

    /// Whether the trailer is about a person (`Reviewed-by`, `Cc`, ...).
    pub fn is_person(&self) -> bool {
        !NONPERSON.contains(&self.lname().as_str())
    }

    /// The person a person trailer names, when its value is exactly one
    /// `Name <address>` (or a bare address), with at most a `# comment`
    /// after it.
    pub fn person(&self) -> Option<Person> {
        if !self.is_person() {
            return None;
        }
        one_person(&self.value)
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

/// Exactly one person: `Name <local@domain>` or `local@domain`, then at most
/// a ` # comment` (as `Cc: stable@vger.kernel.org # 4.9+`). A second
/// address, stray angle brackets or any control character make it none.
pub fn one_person(value: &str) -> Option<Person> {
    if value.chars().any(char::is_control) {
        return None;
    }
    let v = match value.find(" #") {
        Some(i) => &value[..i],
        None => value,
    }
    .trim();
    let valid_addr = |a: &str| {
        let mut parts = a.split('@');
        let (local, domain) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        parts.next().is_none()
            && !local.is_empty()
            && !domain.is_empty()
            && !a
                .chars()
                .any(|c| c.is_whitespace() || matches!(c, '<' | '>' | ',' | '"' | '(' | ')'))
    };
    if let Some(open) = v.find('<') {
        let close = v.find('>')?;
        if close != v.len() - 1 || close < open || v[open + 1..].contains('<') {
            return None;
        }
        let addr = &v[open + 1..close];
        let mut name = v[..open].trim();
        if name.len() >= 2 && name.starts_with('"') && name.ends_with('"') {
            name = &name[1..name.len() - 1];
        }
        if !valid_addr(addr) || name.contains(['<', '>', '@']) {
            return None;
        }
        return Some(Person {
            name: name.to_string(),
            email: addr.to_string(),
        });
    }
    valid_addr(v).then(|| Person {
        name: String::new(),
        email: v.to_string(),
    })
}

/// A `Name: value` trailer of one line, as b4 accepts one in a follow-up:
/// an ASCII name without spaces; a person trailer holds an address; a link
/// only in a link trailer; `Fixes:` starts with a commit id. Lines holding
/// control characters are never trailers.
pub fn parse_line(line: &str) -> Option<Trailer> {
    if line.chars().any(|c| c.is_control() && c != '\t') {
        return None;
    }
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
        "phone", "mail", "email", "e-mail", "subject", "date", "from", "to",
    ]
    .contains(&lname.as_str())
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

/// Undo two common wraps of a trailer over two lines, as b4 does:
/// `Fixes: <id> ("subject` / `more")`, and `Name: Full Name` /
/// `<address>`.
pub fn unwrap_lines(lines: &[&str]) -> Vec<String> {
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

/// The trailers of a commit message: its last paragraph, when every line
/// of it is a `Key: value` line.
pub fn of_message(body: &str) -> Vec<Trailer> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_trailers() {
        for l in [
            "Note: see https://x.org/y",
            "Hi Dave:",
            "Fixes: the bug",
            "Reviewed-by: Dave",
            "Acked-by: Linus Torvalds <torvalds@linux-foundation.org>\u{1b}[8m",
        ] {
            assert!(parse_line(l).is_none(), "{l}");
        }
        assert!(parse_line("Fixes: 0123abcd (\"mm: x\")").is_some());
        assert!(parse_line("Link: https://lore.kernel.org/r/x@y").is_some());
    }

    #[test]
    fn a_person_is_exactly_one_address() {
        let p = one_person("Mel Gorman <mgorman@suse.de>").unwrap();
        assert_eq!(
            (p.name.as_str(), p.email.as_str()),
            ("Mel Gorman", "mgorman@suse.de")
        );
        assert!(one_person("stable@vger.kernel.org # 4.9+").is_some());
        assert!(one_person("\"Gorman, Mel\" <mgorman@suse.de>").is_some());
        for bad in [
            "Linus Torvalds <torvalds@linux-foundation.org>>",
            "Linus <torvalds@x.org>, Mel <mel@x.org>",
            "Linus <torvalds@x.org> Mel",
            "Linus",
            "a@b@c",
            "Linus <torvalds@x.org>\u{7}",
        ] {
            assert!(one_person(bad).is_none(), "{bad}");
        }
    }
}
