//! A reply to a review comment, as a mail client's "reply to all" writes
//! it: To the commenter, Cc everyone else on their mail (but us), threaded
//! under it, the comment quoted at `> ` and what it quoted at `>> `. Every
//! header value comes from a parsed, checked mail: a Message-Id that is not
//! one was dropped when the mail was read, and a display name is quoted so
//! that it stays one recipient.

use crate::clock::Moment;
use crate::mail::address::same_address;
use crate::mail::received::{address_text, valid_id};
use crate::model::Person;

use super::{Board, Tracked, Us};

/// The placeholder a draft holds until the author writes the answer.
pub const PLACEHOLDER: &str = "*** YOUR ANSWER HERE ***";

/// A reply drafted to one comment.
#[derive(Debug, Clone)]
pub struct Draft {
    pub message_id: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bytes: Vec<u8>,
}

/// Why no draft was made.
#[derive(Debug, thiserror::Error)]
pub enum DraftError {
    #[error("the reply that made comment {0} is no longer in series/replies/")]
    Gone(String),
}

/// Quote `text` at `depth` levels: `>> a`, or `>>` for an empty line.
fn quoted(depth: usize, text: &str) -> String {
    let marks = ">".repeat(depth);
    if text.is_empty() {
        marks
    } else {
        format!("{marks} {text}")
    }
}

/// Everyone on the mail's To and Cc but the reviewer, us and doubles: a
/// mail client's reply-all.
fn reply_all(
    mail: &crate::mail::received::Received,
    reviewer: &str,
    mine: &str,
    us: &Us,
) -> Vec<String> {
    let mut cc: Vec<String> = Vec::new();
    for a in mail.to.iter().chain(&mail.cc) {
        let skip = same_address(a, reviewer)
            || same_address(a, mine)
            || us.has_address(a)
            || cc.iter().any(|o| same_address(o, a));
        if !skip {
            cc.push(a.clone());
        }
    }
    cc
}

/// The draft's body: the attribution, what the comment answered and the
/// comment, quoted at their levels, then the placeholder; control
/// characters but line breaks and tabs left out.
fn quoted_body(c: &super::comments::Comment) -> String {
    let name = if c.who.name.is_empty() {
        c.who.email.clone()
    } else {
        c.who.name.clone()
    };
    let mut body = format!("On {}, {name} wrote:\n", c.date);
    for (depth, line) in &c.context {
        body.push_str(&quoted(depth + 1, line));
        body.push('\n');
    }
    if !c.context.is_empty() {
        body.push_str(">\n");
    }
    for l in c.text.lines() {
        body.push_str(&quoted(1, l));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(PLACEHOLDER);
    body.push('\n');
    body.chars()
        .filter(|ch| !ch.is_control() || *ch == '\n' || *ch == '\t')
        .collect()
}

/// Draft the reply to comment `t`, from `me`, at `now`.
pub fn draft(
    board: &Board,
    t: &Tracked,
    us: &Us,
    me: &Person,
    now: Moment,
) -> Result<Draft, DraftError> {
    let c = &t.comment;
    let r = board
        .replies
        .iter()
        .find(|r| r.mail.message_id == c.message_id)
        .ok_or_else(|| DraftError::Gone(c.id.clone()))?;
    let reviewer = address_text(&c.who.name, &c.who.email);
    let mine = address_text(&me.name, &me.email);
    let cc = reply_all(&r.mail, &reviewer, &mine, us);
    let subject = {
        let s = r.mail.subject.trim();
        if s.to_ascii_lowercase().starts_with("re:") {
            s.to_string()
        } else {
            format!("Re: {s}")
        }
    };
    let domain = me
        .email
        .rsplit('@')
        .next()
        .filter(|d| valid_id(d))
        .unwrap_or("localhost");
    let message_id = format!("series-reply-{}-{}@{domain}", c.id, now.secs);
    let mut refs: Vec<String> = r
        .mail
        .references
        .iter()
        .filter(|x| valid_id(x))
        .map(|x| format!("<{x}>"))
        .collect();
    refs.push(format!("<{}>", r.mail.message_id));
    let mut text = String::new();
    crate::mail::push_from_header(&mut text, me);
    crate::mail::push_address_header(&mut text, "To:", std::slice::from_ref(&reviewer));
    crate::mail::push_address_header(&mut text, "Cc:", &cc);
    crate::mail::push_subject_header(&mut text, "", &subject);
    text.push_str(&format!("Date: {}\n", now.rfc2822()));
    text.push_str(&format!("Message-ID: <{message_id}>\n"));
    text.push_str(&format!("In-Reply-To: <{}>\n", r.mail.message_id));
    text.push_str(&format!("References: {}\n", refs.join("\n ")));
    let body = quoted_body(c);
    if crate::text::has_non_ascii(text.as_bytes()) || !body.is_ascii() {
        text.push_str(crate::mail::MIME_HEADERS);
    }
    text.push('\n');
    text.push_str(&body);
    Ok(Draft {
        message_id,
        to: vec![reviewer],
        cc,
        bytes: text.into_bytes(),
    })
}
