//! Follow-up trailers: `Reviewed-by:`, `Acked-by:`, `Tested-by:` and the
//! others a reply gives, read as b4 reads them (a line `Name: value` of
//! the reply's own text, not quoted, above its signature; a person trailer
//! names the sender), collected per patch and written into the patch
//! files in b4's order. Where series differs from b4 it says why: a
//! conditional trailer ("with that fixed, ...", or one in a reply that
//! makes a patch wait: "once patch 4 is sorted"), one in someone else's
//! name, and one whose value is not exactly one person are shown, never
//! applied; b4 applies the first and drops the others silently.

use crate::mail::body::Kind;
use crate::mail::received::Received;
pub use crate::mail::trailer::Trailer;
use crate::mail::trailer::{self, one_person};
use crate::model::{PatchMail, Person};

use super::{Place, Reply, Us};

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
    /// A person trailer whose value is not exactly one person: shown, not
    /// applied.
    Malformed,
    /// Quoted from another mail: shown, not applied.
    Quoted,
    /// Given for an earlier version whose patch changed materially since
    /// (more than context and line numbers): confirm before applying.
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
    /// Patches of that version the reply made wait, and the words that
    /// did: for those the trailer is conditional.
    pub conditions: Option<(Vec<usize>, String)>,
}

/// The trailers a reply gives in its own words, each with the condition
/// it was given on (if any); and those it quotes.
pub fn of_reply(mail: &Received) -> (Vec<(Trailer, Option<String>)>, Vec<Trailer>) {
    let text = mail.text();
    let mut own = Vec::new();
    let mut quoted = Vec::new();
    // Two-line trailers are joined before they are read.
    let lines: Vec<(Kind, String)> = {
        let mut out: Vec<(Kind, String)> = Vec::new();
        for l in &text.lines {
            let joined = out.last_mut().filter(|(k, prev)| {
                matches!(k, Kind::Trailer | Kind::Own)
                    && matches!(l.kind, Kind::Trailer | Kind::Own)
                    && trailer::parse_line(prev).is_none()
                    && trailer::unwrap_lines(&[prev.as_str(), l.text.as_str()]).len() == 1
            });
            match joined {
                Some((k, prev)) => {
                    prev.push(' ');
                    prev.push_str(l.text.trim());
                    if trailer::parse_line(prev).is_some() {
                        *k = Kind::Trailer;
                    }
                }
                None => out.push((l.kind, l.text.clone())),
            }
        }
        out
    };
    for (i, (kind, l)) in lines.iter().enumerate() {
        match kind {
            Kind::Quote => {
                if let Some(t) = trailer::parse_line(l) {
                    quoted.push(t);
                }
            }
            Kind::Trailer | Kind::Own => {
                let Some(t) = trailer::parse_line(l) else {
                    continue;
                };
                let before = match i.checked_sub(1).map(|k| &lines[k]) {
                    Some((Kind::Own, b)) => b.to_ascii_lowercase(),
                    _ => String::new(),
                };
                let here = l.to_ascii_lowercase();
                let condition = CONDITIONS
                    .iter()
                    .find(|c| {
                        before.contains(*c)
                            || here.split_once(':').is_some_and(|(_, v)| v.contains(*c))
                    })
                    .map(|c| c.trim().to_string());
                own.push((t, condition));
            }
            _ => {}
        }
    }
    (own, quoted)
}

/// Whether the person a trailer names sent the mail (by address, else by
/// name), as b4 checks it. None: a person trailer that names no one.
fn names_sender(t: &Trailer, from: &Person) -> Option<bool> {
    if !t.is_person() {
        return Some(true);
    }
    let p = one_person(&t.value)?;
    Some(
        p.email.eq_ignore_ascii_case(&from.email)
            || (!p.name.is_empty() && p.name.eq_ignore_ascii_case(&from.name)),
    )
}

/// The statement of a reply that makes patches wait, if any: the patches
/// and the sentence.
fn waits(mail: &Received, patches: usize) -> Option<(Vec<usize>, String)> {
    let text = mail.text();
    for l in text.lines.iter().filter(|l| l.kind == Kind::Own) {
        let p = super::comments::conditioned(&l.text, patches);
        if !p.is_empty() {
            return Some((p, l.text.trim().to_string()));
        }
    }
    None
}

/// Every trailer the replies give, with where each was given. Ours are
/// never given: a trailer in our own reply is the author's to write.
pub fn given(replies: &[Reply], places: &[Option<Place>], us: &Us) -> Vec<Given> {
    let mut out = Vec::new();
    for (r, place) in replies.iter().zip(places) {
        let Some(place) = *place else { continue };
        if us.is(&r.mail.from) {
            continue;
        }
        let (own, quoted) = of_reply(&r.mail);
        if own.is_empty() && quoted.is_empty() {
            continue;
        }
        let conditions = if place.patch == 0 {
            waits(&r.mail, 1000)
        } else {
            None
        };
        let mut push = |t: Trailer, verdict: Verdict| {
            out.push(Given {
                trailer: t,
                from: r.mail.from.clone(),
                message_id: r.mail.message_id.clone(),
                date: r.mail.date.clone(),
                place,
                verdict,
                conditions: conditions.clone(),
            })
        };
        for (t, cond) in own {
            let verdict = match (cond, names_sender(&t, &r.mail.from)) {
                (_, None) => Verdict::Malformed,
                (Some(c), _) => Verdict::Conditional(c),
                (None, Some(false)) => Verdict::FromOther,
                (None, Some(true)) => Verdict::New,
            };
            push(t, verdict);
        }
        for t in quoted {
            push(t, Verdict::Quoted);
        }
    }
    out
}

/// The message with `new` trailers added as b4 adds them: after the
/// trailers it has, but the sender's own `Signed-off-by:` moved last;
/// none twice.
pub fn with_trailers(mail: &PatchMail, new: &[Trailer], own: &Person) -> PatchMail {
    let body = mail.body.trim_end();
    let existing = trailer::of_message(body);
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

    fn mail(body: &str) -> Received {
        crate::mail::received::parse(
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
    fn a_forged_person_is_not_the_sender() {
        let from = Person {
            name: "Mallory".into(),
            email: "m@evil.org".into(),
        };
        let t = |v: &str| Trailer {
            name: "Acked-by".into(),
            value: v.into(),
        };
        assert_eq!(names_sender(&t("Linus <torvalds@x.org>>"), &from), None);
        assert_eq!(
            names_sender(&t("Linus <torvalds@x.org>"), &from),
            Some(false)
        );
        assert_eq!(names_sender(&t("Mallory <m@evil.org>"), &from), Some(true));
    }
}
