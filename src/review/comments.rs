//! Review comments: the reviewer's own words in a reply, each with the
//! part of the patch it answers (the quoted hunk, found in the patch:
//! file and line range), quotes, greetings, sign-offs, signatures and
//! trailers left out.

use crate::model::Person;

use super::{Place, Reply};

/// One comment of one reply.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Comment {
    /// Stable: from the reply's Message-Id and the comment's place in it.
    pub id: String,
    pub message_id: String,
    #[serde(serialize_with = "person_text")]
    pub who: Person,
    pub date: String,
    pub version: u32,
    /// The patch it answers (0 for the cover letter).
    pub patch: usize,
    /// The file and new-side line range of the quoted hunk, when found.
    pub file: Option<String>,
    pub lines: Option<(u32, u32)>,
    /// The quoted lines it answers, as the patch has them.
    pub quoted: Vec<String>,
    /// The reviewer's words.
    pub text: String,
}

fn person_text<S: serde::Serializer>(p: &Person, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string())
}

impl Comment {
    /// `mm/memory.c:120-126`, or the file alone, or nothing.
    pub fn location(&self) -> Option<String> {
        match (&self.file, self.lines) {
            (Some(f), Some((a, b))) if a == b => Some(format!("{f}:{a}")),
            (Some(f), Some((a, b))) => Some(format!("{f}:{a}-{b}")),
            (Some(f), None) => Some(f.clone()),
            _ => None,
        }
    }
}

/// A part of a reply: quoted lines, or the sender's own.
enum Part {
    Quote(Vec<String>),
    Own(Vec<String>),
}

/// The lines of a reply above its signature, split into quoted and own
/// parts; the attribution line before a quote ("On ..., X wrote:") goes.
fn parts(body: &str) -> Vec<Part> {
    let body = body.split("\n-- \n").next().unwrap_or("");
    let lines: Vec<&str> = body.lines().collect();
    let mut out: Vec<Part> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let quoted = l.starts_with('>');
        if !quoted {
            let next_quoted = lines[i + 1..]
                .iter()
                .find(|n| !n.trim().is_empty())
                .is_some_and(|n| n.starts_with('>'));
            let t = l.trim_end();
            if next_quoted
                && (t.ends_with("wrote:") || t.ends_with("writes:") || t.ends_with("wrote :"))
            {
                continue;
            }
        }
        match (out.last_mut(), quoted) {
            (Some(Part::Quote(q)), true) => q.push(l.to_string()),
            (Some(Part::Own(o)), false) => o.push(l.to_string()),
            (_, true) => out.push(Part::Quote(vec![l.to_string()])),
            (_, false) => out.push(Part::Own(vec![l.to_string()])),
        }
    }
    out
}

fn is_greeting(line: &str) -> bool {
    let l = line.trim().to_ascii_lowercase();
    let words = l.split_whitespace().count();
    words <= 4
        && ["hi", "hello", "hey", "dear", "hi,", "hello,"]
            .iter()
            .any(|g| l == *g || l.starts_with(&format!("{g} ")))
}

fn is_closing(line: &str) -> bool {
    let l = line
        .trim()
        .trim_end_matches([',', '.', '!'])
        .to_ascii_lowercase();
    [
        "thanks",
        "thank you",
        "thx",
        "regards",
        "best regards",
        "kind regards",
        "cheers",
        "best",
        "br",
    ]
    .contains(&l.as_str())
        || l.starts_with("thanks,")
}

/// The sender's own words of a part: trailers out, and at the start of
/// the mail a greeting, at its end a sign-off and the name after it.
fn clean(lines: &[String], first: bool, last: bool, sender: &Person) -> String {
    let mut kept: Vec<&str> = lines
        .iter()
        .map(String::as_str)
        .filter(|l| super::trailers::of_reply_line(l).is_none())
        .collect();
    if first {
        while kept.first().is_some_and(|l| l.trim().is_empty()) {
            kept.remove(0);
        }
        if kept.first().is_some_and(|l| is_greeting(l)) {
            kept.remove(0);
        }
    }
    if last {
        if let Some(i) = kept.iter().position(|l| is_closing(l)) {
            let rest = &kept[i + 1..];
            // A sign-off is followed by a name, at most, never by more text.
            if rest.iter().filter(|l| !l.trim().is_empty()).count() <= 1 {
                kept.truncate(i);
            }
        }
    }
    if last {
        // A name alone at the end signs the mail.
        let first_name = sender.name.split_whitespace().next().unwrap_or("");
        while kept.last().is_some_and(|l| l.trim().is_empty()) {
            kept.pop();
        }
        if kept.last().is_some_and(|l| {
            !l.trim().is_empty() && (l.trim() == sender.name || l.trim() == first_name)
        }) {
            kept.pop();
        }
    }
    // Runs of blank lines left by what was taken out become one.
    let mut tidy: Vec<&str> = Vec::new();
    for l in kept {
        if l.trim().is_empty() && tidy.last().is_some_and(|p| p.trim().is_empty()) {
            continue;
        }
        tidy.push(l);
    }
    let text = tidy.join("\n");
    let text = text.trim_matches('\n').trim_end();
    // Conditional trailers' lead-in ("With that fixed,") stays: it is the
    // reviewer's word on the patch.
    text.to_string()
}

/// A quoted line as the patch had it: one level of `>` and the space
/// after it removed.
fn unquote(line: &str) -> String {
    let rest = line.strip_prefix('>').unwrap_or(line);
    rest.strip_prefix(' ').unwrap_or(rest).to_string()
}

/// Each line of a diff section with its file and line numbers.
struct DiffLine {
    text: String,
    file: String,
    new_no: Option<u32>,
    old_no: Option<u32>,
}

fn diff_lines(diff: &[u8]) -> Vec<DiffLine> {
    let text = String::from_utf8_lossy(diff);
    let mut out = Vec::new();
    let (mut file, mut old, mut new) = (String::new(), 0u32, 0u32);
    let mut in_hunk = false;
    for l in text.lines() {
        if let Some(rest) = l.strip_prefix("diff --git ") {
            file = rest.rsplit(" b/").next().unwrap_or(rest).to_string();
            in_hunk = false;
            continue;
        }
        if let Some(rest) = l.strip_prefix("@@ -") {
            let mut nums = rest
                .split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty());
            old = nums.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            new = rest
                .split_once(" +")
                .and_then(|(_, r)| r.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            in_hunk = true;
            out.push(DiffLine {
                text: l.to_string(),
                file: file.clone(),
                new_no: None,
                old_no: None,
            });
            continue;
        }
        if !in_hunk {
            continue;
        }
        let (o, n) = match l.chars().next() {
            Some('+') => {
                new += 1;
                (None, Some(new - 1))
            }
            Some('-') => {
                old += 1;
                (Some(old - 1), None)
            }
            Some(' ') | None => {
                old += 1;
                new += 1;
                (Some(old - 1), Some(new - 1))
            }
            _ => (None, None),
        };
        out.push(DiffLine {
            text: l.to_string(),
            file: file.clone(),
            new_no: n,
            old_no: o,
        });
    }
    out
}

/// Where a quote is in a patch: the file, the new-side line range and the
/// patch's lines.
type Located = (String, Option<(u32, u32)>, Vec<String>);

/// Find a quote in a patch by the longest run of quoted lines that ends
/// the quote.
fn locate(quote: &[String], diff: &[u8]) -> Option<Located> {
    let lines = diff_lines(diff);
    let q: Vec<String> = quote
        .iter()
        .map(|l| unquote(l))
        .filter(|l| !l.trim().is_empty() || l.starts_with(' '))
        .collect();
    let wanted: Vec<&String> = q
        .iter()
        .filter(|l| l.starts_with(['+', '-', ' ']) || l.starts_with("@@"))
        .collect();
    let last = wanted.last()?;
    let mut best: Option<(usize, usize)> = None;
    for (end, dl) in lines.iter().enumerate() {
        if dl.text.trim_end() != last.trim_end() {
            continue;
        }
        let mut run = 1;
        while run < wanted.len()
            && run <= end
            && lines[end - run].text.trim_end() == wanted[wanted.len() - 1 - run].trim_end()
        {
            run += 1;
        }
        if best.is_none_or(|(_, r)| run > r) {
            best = Some((end, run));
        }
    }
    let (end, run) = best?;
    let span = &lines[end + 1 - run..=end];
    let file = span[run - 1].file.clone();
    let nos: Vec<u32> = span
        .iter()
        .filter(|l| l.file == file)
        .filter_map(|l| l.new_no.or(l.old_no))
        .collect();
    let range = match (nos.iter().min(), nos.iter().max()) {
        (Some(a), Some(b)) => Some((*a, *b)),
        _ => None,
    };
    Some((file, range, span.iter().map(|l| l.text.clone()).collect()))
}

/// A comment id: 8 hex digits of the reply's Message-Id and the comment's
/// number in it.
fn comment_id(message_id: &str, n: usize) -> String {
    crate::git::digest(format!("{message_id}#{n}").as_bytes())[..8].to_string()
}

/// The comments of one reply placed at `place`. `diff_of(v, p)` gives the
/// diff section of patch p of version v, when that version is known; a
/// reply to the cover whose quote is found in one patch answers that patch.
pub fn of_reply(
    r: &Reply,
    place: Place,
    patches: usize,
    diff_of: &dyn Fn(u32, usize) -> Option<Vec<u8>>,
) -> Vec<Comment> {
    let parts = parts(&r.mail.body);
    let own_count = parts.iter().filter(|p| matches!(p, Part::Own(_))).count();
    let mut out = Vec::new();
    let mut seen_own = 0;
    for (i, part) in parts.iter().enumerate() {
        let Part::Own(lines) = part else { continue };
        seen_own += 1;
        let text = clean(lines, seen_own == 1, seen_own == own_count, &r.mail.from);
        if text.is_empty() {
            continue;
        }
        let quote = match i.checked_sub(1).map(|k| &parts[k]) {
            Some(Part::Quote(q)) => Some(q),
            _ => None,
        };
        let mut at = place;
        let mut found = None;
        if let Some(q) = quote {
            found = diff_of(at.version, at.patch).and_then(|d| locate(q, &d));
            if found.is_none() && at.patch == 0 {
                for p in 1..=patches {
                    if let Some(f) = diff_of(at.version, p).and_then(|d| locate(q, &d)) {
                        at.patch = p;
                        found = Some(f);
                        break;
                    }
                }
            }
        }
        let (file, lines, quoted) = match found {
            Some((f, l, q)) => (Some(f), l, q),
            None => (
                None,
                None,
                quote
                    .map(|q| q.iter().map(|l| unquote(l)).collect())
                    .unwrap_or_default(),
            ),
        };
        out.push(Comment {
            id: comment_id(&r.mail.message_id, out.len()),
            message_id: r.mail.message_id.clone(),
            who: r.mail.from.clone(),
            date: r.mail.date.clone(),
            version: at.version,
            patch: at.patch,
            file,
            lines,
            quoted,
            text,
        });
    }
    out
}

/// Whether the lines a comment quotes that the patch added are all still
/// in `diff` (a later version of the patch): false means touched.
pub fn still_there(c: &Comment, diff: &[u8]) -> bool {
    let text = String::from_utf8_lossy(diff);
    let now: std::collections::BTreeSet<&str> = text.lines().map(str::trim_end).collect();
    c.quoted
        .iter()
        .filter(|l| l.starts_with('+') && l.len() > 1)
        .all(|l| now.contains(l.trim_end()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_greetings_and_signoffs_are_left_out() {
        let body = "Hi Aaron,\n\nOn Wed, Mar 15, 2017, Aaron Lu wrote:\n> +\tfree_pages(batch);\n> +\tbatch = next;\n\nThis frees 256K pages without a cond_resched().\n\n> +static int threshold;\n\nWhy static?\n\nThanks,\nDave\n";
        let p = parts(body);
        assert_eq!(p.len(), 5);
        let dave = Person {
            name: "Dave Hansen".into(),
            email: "dave.hansen@intel.com".into(),
        };
        let Part::Own(o) = &p[0] else { panic!() };
        assert_eq!(clean(o, true, false, &dave), "");
        let Part::Own(o) = &p[4] else { panic!() };
        assert_eq!(clean(o, false, true, &dave), "Why static?");
    }

    #[test]
    fn a_quote_is_found_in_the_patch_with_its_lines() {
        let diff = b" a | 2 ++\n\ndiff --git a/mm/x.c b/mm/x.c\nindex 1..2 100644\n--- a/mm/x.c\n+++ b/mm/x.c\n@@ -10,3 +10,5 @@ void f(void)\n a\n+b\n+c\n d\n e\n";
        let q = vec!["> +b".to_string(), "> +c".to_string()];
        let (file, range, lines) = locate(&q, diff).unwrap();
        assert_eq!(file, "mm/x.c");
        assert_eq!(range, Some((11, 12)));
        assert_eq!(lines, vec!["+b", "+c"]);
    }
}
