//! Review comments: each run of a reviewer's own words in a reply is one
//! comment, with the part of the patch it answers (the quote before it,
//! found in the patch: file and line range). Greetings, sign-offs,
//! attributions, snips, trailers, signatures and list footers are never
//! comment text; acknowledgements ("The rest looks fine.") are kept but
//! ask for nothing; a statement that conditions other patches ("I'll
//! queue 1-3 once 4 is sorted") is placed on what it conditions.

use std::sync::OnceLock;

use regex::Regex;

use crate::diff::patch::{LineKind, Patch};
use crate::mail::body::{Block, Kind as LineKind2};
use crate::model::Person;

use super::{Place, Reply};

pub use super::fate::fate;

/// What a comment asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Words that want an answer or a change.
    Remark,
    /// An acknowledgement with no request ("Thanks!", "The rest looks
    /// fine."): kept, never open.
    Ack,
}

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
    /// The quote it answers as the reviewer quoted it: (depth, text).
    #[serde(skip)]
    pub context: Vec<(usize, String)>,
    /// The reviewer's words.
    pub text: String,
    pub kind: Kind,
    /// Patches (of its version) a statement in it makes conditions on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<usize>,
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

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("a valid pattern"))
}

/// "Hi Aaron," "Hello," "Aaron," at the start of a mail.
fn is_greeting(line: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    let l = line.trim();
    static NAME: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"(?i)^(hi|hello|hey|dear|hallo|hiya|hi there|good (morning|afternoon|evening)|morning)\b[^.?!]{0,40}[,!:]?$",
    )
    .is_match(l)
        || re(&NAME, r"^[A-Z][\w-]{0,20},$").is_match(l) && closing(l).is_none()
}

/// A closing phrase alone on its line, or with the sender's name after it
/// ("Thanks,", "Thanks. Tim", "Cheers, Mel").
fn closing(line: &str) -> Option<bool> {
    static R: OnceLock<Regex> = OnceLock::new();
    let caps = re(
        &R,
        r"(?i)^(many thanks|thanks a lot|thanks again|thanks in advance|thank you|thanks|thx|ta|regards|best regards|kind regards|warm regards|best wishes|cheers|best|br|greetings|ciao|hth)[\s,.!]*(?:-*\s*([a-z][\w.'-]*(?: [a-z][\w.'-]*)?))?[\s.!]*$",
    )
    .captures(line.trim())?;
    Some(caps.get(2).is_some())
}

/// Whether a line is the sender's name (or first or last name, or
/// initials) alone, as one signs a mail.
fn is_name(line: &str, sender: &Person) -> bool {
    let l = line
        .trim()
        .trim_start_matches(['-', '~', ' '])
        .trim_end_matches(['.', ' '])
        .to_lowercase();
    if l.is_empty() || l.split_whitespace().count() > 3 {
        return false;
    }
    let name = sender.name.to_lowercase();
    let local = sender.email.split('@').next().unwrap_or("").to_lowercase();
    let initials: String = name
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .collect();
    l == name
        || name.split_whitespace().any(|w| w == l)
        || l == local
        || (initials.chars().count() >= 2 && l == initials)
}

/// The sender's own words of a run: a greeting out at the start of the
/// mail, a sign-off and the name under it at the end of the sender's text.
fn clean(lines: &[&str], first: bool, last: bool, sender: &Person) -> String {
    let mut kept: Vec<&str> = lines.to_vec();
    let trim = |k: &mut Vec<&str>| {
        while k.first().is_some_and(|l| l.trim().is_empty()) {
            k.remove(0);
        }
        while k.last().is_some_and(|l| l.trim().is_empty()) {
            k.pop();
        }
    };
    trim(&mut kept);
    if first && kept.first().is_some_and(|l| is_greeting(l)) {
        kept.remove(0);
        trim(&mut kept);
    }
    if last {
        if kept
            .last()
            .is_some_and(|l| is_name(l, sender) && closing(l).is_none())
        {
            // A name alone under the text signs the mail, after a
            // closing phrase or not.
            kept.pop();
            trim(&mut kept);
            if kept.last().is_some_and(|l| closing(l) == Some(false)) {
                kept.pop();
                trim(&mut kept);
            }
        } else if kept.last().is_some_and(|l| closing(l).is_some()) && !(first && kept.len() == 1) {
            // ("Thanks!" alone, all a mail says, thanks: it is kept.)
            kept.pop();
            trim(&mut kept);
        }
    }
    // Runs of blank lines become one.
    let mut tidy: Vec<&str> = Vec::new();
    for l in kept {
        if l.trim().is_empty() && tidy.last().is_some_and(|p| p.trim().is_empty()) {
            continue;
        }
        tidy.push(l.trim_end());
    }
    tidy.join("\n")
}

/// Whether every sentence of a text acknowledges and none asks.
pub fn is_ack(text: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    if text.contains('?') || text.trim().is_empty() {
        return false;
    }
    let r = re(
        &R,
        r"(?ix)^(
            (many\ )?thanks(\ (a\ lot|again|for\ (the\ )?(update|patch(es)?|series|work(ing)?(\ on\ this)?|doing\ this|fixing\ this|the\ quick\ (fix|turnaround)|looking\ into\ this)))?
          | thank\ you(\ for\ .{0,40})?
          | (the\ rest|everything\ else|otherwise|other\ than\ that|apart\ from\ that|with\ that|the\ other\ patches|patches?\ [\d,\ and-]+)[,\ ]*(it\ |this\ |that\ )?((all\ )?(looks?|seems?|is|are)\ (fine|good|ok|okay|sane|reasonable|correct|great)|lgtm)(\ to\ me)?
          | (this|it|that|the\ patch|the\ series|the\ change)?\ ?(looks?|seems?)\ (fine|good|ok|okay|sane|reasonable|correct|great)(\ to\ me)?(\ now)?
          | lgtm
          | nice(\ (work|cleanup|catch|find|one))?
          | good\ (catch|find|point)
          | makes\ sense
          | agreed
          | sounds\ (good|fine|reasonable)
          | fair\ enough
          | ok(ay)?
          | right
          | yes
          | indeed
          | great
          | cool
          | no\ (further\ )?(comments|objections|concerns)(\ from\ me)?
          | (applied|queued|picked\ up)(\ to\ [\w./-]+|,?\ thanks)*
          | i\ like\ (this|it)
        )$",
    );
    let sentences: Vec<String> = text
        .split(['.', '!', '\n', ';'])
        .map(|s| s.trim().trim_end_matches(',').to_string())
        .filter(|s| !s.is_empty())
        .collect();
    !sentences.is_empty() && sentences.iter().all(|s| r.is_match(s))
}

/// The patches a statement makes a condition on: the numbers named after
/// "once", "after", "until", "if", "when" or "provided" ("I'll queue 1-3
/// once patch 4 is sorted" conditions patch 4).
pub fn conditioned(text: &str, patches: usize) -> Vec<usize> {
    static COND: OnceLock<Regex> = OnceLock::new();
    static NUM: OnceLock<Regex> = OnceLock::new();
    let cond = re(
        &COND,
        r"(?i)\b(once|after|until|unless|if|when|provided|as soon as|pending)\b([^.;!?]*)",
    );
    let num = re(
        &NUM,
        r"(?i)\b(?:patch(?:es)?\s*#?(\d+)(?:\s*(?:-|–|to|and)\s*(\d+))?|(\d+)/\d+|#(\d+))\b",
    );
    let mut out = Vec::new();
    for c in cond.captures_iter(text) {
        let clause = c.get(2).map_or("", |m| m.as_str());
        for n in num.captures_iter(clause) {
            let a = n
                .get(1)
                .or(n.get(3))
                .or(n.get(4))
                .and_then(|m| m.as_str().parse::<usize>().ok());
            let b = n.get(2).and_then(|m| m.as_str().parse::<usize>().ok());
            if let Some(a) = a {
                // Only the series' own patches: "patches 1-4000000000"
                // names no more than it has.
                for p in a.max(1)..=b.unwrap_or(a).max(a).min(patches) {
                    if !out.contains(&p) {
                        out.push(p);
                    }
                }
            }
        }
    }
    out
}

/// Where a quote is in a patch: the file, the new-side line range and the
/// patch's lines.
type Located = (String, Option<(u32, u32)>, Vec<String>);

/// Find a quote in a patch: the longest run of the quote's diff lines,
/// ending at its last one, found in order among the patch's lines. Blank
/// and white-space-only lines are skipped on both sides, and a run must
/// hold a line with some text, so a quoted blank line matches nothing.
pub fn locate(quote: &[String], patch: &Patch) -> Option<Located> {
    let content = |s: &str| s.get(1..).unwrap_or("").trim().len();
    let wanted: Vec<String> = quote
        .iter()
        .map(|l| l.trim_end().to_string())
        .filter(|l| l.starts_with(['+', '-', ' ']) && content(l) > 0)
        .collect();
    let lines: Vec<(String, Option<u32>, String)> = patch
        .lines()
        .filter(|(_, _, l)| l.kind != LineKind::NoNewline)
        .map(|(f, _, l)| {
            (
                f.path(),
                l.new_no.or(l.old_no),
                l.marked().trim_end().to_string(),
            )
        })
        .filter(|(_, _, t)| content(t) > 0)
        .collect();
    let last = wanted.last()?;
    let mut best: Option<(usize, usize)> = None;
    for (end, dl) in lines.iter().enumerate() {
        if &dl.2 != last {
            continue;
        }
        let mut run = 1;
        while run < wanted.len()
            && run <= end
            && lines[end - run].0 == dl.0
            && lines[end - run].2 == wanted[wanted.len() - 1 - run]
        {
            run += 1;
        }
        if best.is_none_or(|(_, r)| run > r) {
            best = Some((end, run));
        }
    }
    let (end, run) = best?;
    let span = &lines[end + 1 - run..=end];
    // A brace alone is found anywhere: it places nothing.
    let text: usize = span.iter().map(|l| content(&l.2)).sum();
    if text < 4 {
        return None;
    }
    let file = span[run - 1].0.clone();
    let nos: Vec<u32> = span.iter().filter_map(|l| l.1).collect();
    let range = match (nos.iter().min(), nos.iter().max()) {
        (Some(a), Some(b)) => Some((*a, *b)),
        _ => None,
    };
    Some((file, range, span.iter().map(|l| l.2.clone()).collect()))
}

/// A comment id: 8 hex digits of the reply's Message-Id and the comment's
/// number in it.
fn comment_id(message_id: &str, n: usize) -> String {
    crate::git::digest(format!("{message_id}#{n}").as_bytes())[..8].to_string()
}

/// The quote a run of own words answers: the nearest quote before it,
/// across snips and attributions but not across other words.
fn context_of<'a>(blocks: &'a [Block<'a>], at: usize) -> Option<&'a Block<'a>> {
    blocks[..at]
        .iter()
        .rev()
        .find(|b| !matches!(b.kind, LineKind2::Snip | LineKind2::Attribution))
        .filter(|b| b.kind == LineKind2::Quote)
}

/// The comments of one reply placed at `place`. `patch_of(v, p)` gives the
/// diff of patch p of version v, when that version is known; a
/// reply to the cover whose quote is found in one patch answers that
/// patch, and one whose statement conditions a patch is placed on it.
pub fn of_reply(
    r: &Reply,
    place: Place,
    patches: usize,
    patch_of: &dyn Fn(u32, usize) -> Option<std::rc::Rc<Patch>>,
) -> Vec<Comment> {
    let text = r.mail.text();
    let blocks = text.blocks();
    let own: Vec<usize> = blocks
        .iter()
        .enumerate()
        .filter(|(_, b)| b.kind == LineKind2::Own)
        .map(|(i, _)| i)
        .collect();
    let mut out = Vec::new();
    for (k, &bi) in own.iter().enumerate() {
        let lines: Vec<&str> = blocks[bi].lines.iter().map(|l| l.text.as_str()).collect();
        let words = clean(&lines, k == 0, k + 1 == own.len(), &r.mail.from);
        if words.trim().is_empty() {
            continue;
        }
        let quote = context_of(&blocks, bi);
        let context: Vec<(usize, String)> = quote
            .map(|q| q.lines.iter().map(|l| (l.depth, l.text.clone())).collect())
            .unwrap_or_default();
        // What the reviewer answers is what they quoted at the top level.
        let answered: Vec<String> = context
            .iter()
            .filter(|(d, _)| *d == 1)
            .map(|(_, t)| t.clone())
            .collect();
        // Deeper quotes place a comment when the top level quotes no
        // patch (an answer to another reviewer's comment on a hunk).
        let deeper: Vec<String> = context.iter().map(|(_, t)| t.clone()).collect();
        let mut at = place;
        let mut found = None;
        for quote in [&answered, &deeper] {
            if quote.is_empty() || found.is_some() {
                continue;
            }
            found = patch_of(at.version, at.patch).and_then(|d| locate(quote, &d));
            if found.is_none() && at.patch == 0 {
                for p in 1..=patches {
                    if let Some(f) = patch_of(at.version, p).and_then(|d| locate(quote, &d)) {
                        at.patch = p;
                        found = Some(f);
                        break;
                    }
                }
            }
        }
        let conditions = conditioned(&words, patches);
        if found.is_none() && at.patch == 0 {
            if let Some(&p) = conditions.first() {
                at.patch = p;
            }
        }
        let (file, lines, quoted) = match found {
            Some((f, l, q)) => (Some(f), l, q),
            None => (None, None, answered),
        };
        let kind = if is_ack(&words) {
            Kind::Ack
        } else {
            Kind::Remark
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
            context,
            text: words,
            kind,
            conditions,
        });
    }
    out
}

/// What became of the lines a comment quoted, in a later version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Fate {
    /// The same lines, in the same file, still there.
    Untouched,
    /// Some of them are gone or changed.
    Changed,
    /// All there, elsewhere: another file or another patch.
    Moved,
    /// None of them is there any more (or the patch was dropped).
    Removed,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_condition_naming_a_huge_range_names_only_the_series_patches() {
        assert_eq!(
            conditioned("once patches 2-4000000000 are sorted", 3),
            vec![2, 3]
        );
        assert_eq!(conditioned("if patch 9 is fixed", 3), Vec::<usize>::new());
        assert_eq!(conditioned("once patch 4 is sorted", 5), vec![4]);
    }

    fn mel() -> Person {
        Person {
            name: "Mel Gorman".into(),
            email: "mgorman@techsingularity.net".into(),
        }
    }

    #[test]
    fn greetings_signoffs_and_names_are_left_out() {
        let l = ["Hi Aaron,", "", "Why static?", "", "Thanks,", "Mel"];
        assert_eq!(clean(&l, true, true, &mel()), "Why static?");
        let l = ["Why static?", "", "Thanks. Tim"];
        assert_eq!(clean(&l, false, true, &mel()), "Why static?");
        let l = ["Thanks, I'll queue 1-3 in mm-unstable once patch 4 is sorted."];
        assert_eq!(
            clean(&l, true, true, &mel()),
            "Thanks, I'll queue 1-3 in mm-unstable once patch 4 is sorted."
        );
        let l = ["Looks fine.", "", "Mel"];
        assert_eq!(clean(&l, false, true, &mel()), "Looks fine.");
        // All a mail says: kept.
        assert_eq!(clean(&["Thanks!"], true, true, &mel()), "Thanks!");
        assert_eq!(clean(&["Thanks!"], false, true, &mel()), "");
    }

    #[test]
    fn acknowledgements_ask_for_nothing() {
        for a in [
            "The rest looks fine.",
            "Thanks!",
            "Looks good to me.",
            "LGTM",
            "Otherwise looks good.",
            "Nice cleanup.",
            "Applied to mm-unstable, thanks.",
        ] {
            assert!(is_ack(a), "{a}");
        }
        for r in [
            "Why static?",
            "Looks fine, but please rename f3.",
            "The rest looks fine. Please document the threshold.",
            "Thanks, I'll queue 1-3 in mm-unstable once patch 4 is sorted.",
        ] {
            assert!(!is_ack(r), "{r}");
        }
    }

    #[test]
    fn conditions_name_the_patches_they_wait_for() {
        assert_eq!(
            conditioned(
                "Thanks, I'll queue 1-3 in mm-unstable once patch 4 is sorted.",
                5
            ),
            [4]
        );
        assert_eq!(
            conditioned("Applies if 2/5 and patch 3 go first", 5),
            [2, 3]
        );
        assert_eq!(conditioned("Patch 4 looks fine.", 5), Vec::<usize>::new());
    }

    #[test]
    fn a_quote_is_found_in_the_patch_with_its_lines() {
        let diff = b" a | 2 ++\n\ndiff --git a/mm/x.c b/mm/x.c\nindex 1..2 100644\n--- a/mm/x.c\n+++ b/mm/x.c\n@@ -10,3 +10,5 @@ void f(void)\n a\n+bbbbbbbb\n+cccccccc\n d\n e\n";
        let diff = &Patch::parse(diff).unwrap();
        let q = vec!["+bbbbbbbb".to_string(), "+cccccccc".to_string()];
        let (file, range, lines) = locate(&q, diff).unwrap();
        assert_eq!(file, "mm/x.c");
        assert_eq!(range, Some((11, 12)));
        assert_eq!(lines, vec!["+bbbbbbbb", "+cccccccc"]);
        // A quoted blank line, or one short line, places nothing.
        assert!(locate(&[" ".to_string()], diff).is_none());
        assert!(locate(&[" a".to_string()], diff).is_none());
        assert!(locate(&["+}".to_string()], diff).is_none());
    }
}
