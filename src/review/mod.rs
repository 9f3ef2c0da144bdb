//! The review half: replies to the sent versions, kept as received in
//! `series/replies/`, each placed on the patch it answers; the trailers
//! they give, and every comment they make, tracked until addressed.

pub mod comments;
pub mod state;
pub mod trailers;

use std::collections::{BTreeMap, BTreeSet};

use crate::mailbox::{self, Posted};
use crate::store::Series;

/// One reply kept in `series/replies/`.
#[derive(Clone, Debug)]
pub struct Reply {
    /// Its file name under `replies/`.
    pub file: String,
    pub mail: Posted,
    /// Seconds of its Date (0 when unreadable), to order replies.
    pub secs: i64,
}

/// Where a reply belongs: a version and its patch (0 is the cover).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    pub version: u32,
    pub patch: usize,
}

/// The file a reply is kept in: its Message-Id, made a plain file name.
pub fn file_name(message_id: &str) -> String {
    let mut name: String = message_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "@.-_+=".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    while name.starts_with('.') {
        name.replace_range(..1, "_");
    }
    name.truncate(150);
    format!("{name}.eml")
}

/// Every Message-Id this series sent: id -> where.
pub fn sent_ids(series: &Series) -> BTreeMap<String, Place> {
    let mut out = BTreeMap::new();
    for h in &series.manifest.history {
        for (i, id) in h.message_ids.iter().enumerate() {
            let bare = id.trim().trim_start_matches('<').trim_end_matches('>');
            out.insert(
                bare.to_string(),
                Place {
                    version: h.version,
                    patch: i,
                },
            );
        }
    }
    out
}

/// The replies kept, parsed, oldest first (by date, then file name); a
/// file that cannot be read as mail is skipped and named in `bad`.
pub fn replies(series: &Series, bad: &mut Vec<String>) -> Vec<Reply> {
    let mut out = Vec::new();
    for (file, bytes) in &series.replies {
        match mailbox::parse(bytes, &format!("series/replies/{file}")) {
            Ok(mail) => {
                let secs = crate::mail::parse_rfc2822(&mail.date)
                    .map(|d| d.0)
                    .unwrap_or(0);
                out.push(Reply {
                    file: file.clone(),
                    mail,
                    secs,
                });
            }
            Err(e) => bad.push(e.to_string()),
        }
    }
    out.sort_by(|a, b| a.secs.cmp(&b.secs).then_with(|| a.file.cmp(&b.file)));
    out
}

/// What `add` did with the mails it was given.
#[derive(Debug, Default)]
pub struct Added {
    pub new: usize,
    pub known: usize,
    /// Mails that are not replies to this series (ours, or elsewhere).
    pub unrelated: usize,
    pub unreadable: Vec<String>,
}

/// Keep the mails among `raw` that reply to this series (directly or to
/// another reply, by In-Reply-To or References; else by a `Re: [PATCH vN
/// ...]` subject of a sent version) and are not kept yet; ours and others
/// are left out.
pub fn add(series: &mut Series, raw: &[Vec<u8>], what: &str) -> Added {
    let mut added = Added::default();
    let ours = sent_ids(series);
    let mut bad = Vec::new();
    let mut known: BTreeSet<String> = replies(series, &mut bad)
        .into_iter()
        .map(|r| r.mail.message_id)
        .collect();
    let mut parsed: Vec<(Posted, &Vec<u8>)> = Vec::new();
    for (i, bytes) in raw.iter().enumerate() {
        match mailbox::parse(bytes, &format!("{what}: message {}", i + 1)) {
            Ok(m) => parsed.push((m, bytes)),
            Err(e) => added.unreadable.push(e.to_string()),
        }
    }
    // Subjects of ours, for replies whose threading headers were lost.
    let mut titles: BTreeSet<String> = series.patches.iter().map(|p| p.title.clone()).collect();
    titles.insert(series.manifest.subject.clone());
    let by_subject = |m: &Posted| {
        m.is_reply
            && m.tag.as_ref().is_some_and(|t| {
                series
                    .manifest
                    .history
                    .iter()
                    .any(|h| h.version == t.version && !h.message_ids.is_empty())
            })
            && titles.contains(&m.title)
    };
    // A reply to a reply joins once its parent has: go round until stable.
    let mut taken = vec![false; parsed.len()];
    loop {
        let mut more = false;
        for (i, (m, bytes)) in parsed.iter().enumerate() {
            if taken[i] || ours.contains_key(&m.message_id) {
                continue;
            }
            let refs = m.in_reply_to.iter().chain(&m.references);
            let related = refs
                .clone()
                .any(|r| ours.contains_key(r) || known.contains(r))
                || by_subject(m);
            if !related {
                continue;
            }
            taken[i] = true;
            more = true;
            if !known.insert(m.message_id.clone()) {
                added.known += 1;
                continue;
            }
            let mut bytes = (*bytes).clone();
            // Kept without the mbox separator, as the list delivered it.
            if bytes.starts_with(b"From ") {
                let eol = bytes.iter().position(|&b| b == b'\n').unwrap_or(0);
                bytes.drain(..=eol);
            }
            series.replies.insert(file_name(&m.message_id), bytes);
            added.new += 1;
        }
        if !more {
            break;
        }
    }
    added.unrelated = taken.iter().filter(|t| !**t).count();
    added
}

/// Where each reply belongs: by its In-Reply-To and References, through
/// other replies to the message of ours they lead to; else by its
/// subject's `[PATCH vN i/M]`.
pub fn place(series: &Series, replies: &[Reply]) -> Vec<Option<Place>> {
    let ours = sent_ids(series);
    let by_id: BTreeMap<&str, usize> = replies
        .iter()
        .enumerate()
        .map(|(i, r)| (r.mail.message_id.as_str(), i))
        .collect();
    let subject_place = |m: &Posted| -> Option<Place> {
        let tag = m.tag.as_ref()?;
        let total = series
            .manifest
            .history
            .iter()
            .find(|h| h.version == tag.version)
            .map(|h| h.message_ids.len().saturating_sub(1))?;
        (tag.nr <= total && (tag.total == total || total == 0)).then_some(Place {
            version: tag.version,
            patch: tag.nr,
        })
    };
    let mut out = Vec::with_capacity(replies.len());
    for r in replies {
        let mut at = &r.mail;
        let mut seen = BTreeSet::new();
        let mut found = None;
        loop {
            if !seen.insert(at.message_id.clone()) {
                break;
            }
            let parents: Vec<&String> = at
                .in_reply_to
                .iter()
                .chain(at.references.iter().rev())
                .collect();
            if let Some(p) = parents.iter().find_map(|p| ours.get(p.as_str())) {
                found = Some(*p);
                break;
            }
            match parents.iter().find_map(|p| by_id.get(p.as_str())) {
                Some(&i) => at = &replies[i].mail,
                None => break,
            }
        }
        out.push(found.or_else(|| subject_place(&r.mail)));
    }
    out
}

/// The parent of a reply among the other replies, if it answers one.
pub fn parent_reply(replies: &[Reply], r: &Reply) -> Option<usize> {
    let id = r.mail.in_reply_to.as_ref()?;
    replies.iter().position(|o| &o.mail.message_id == id)
}

use crate::model::Person;
use crate::rangediff;
use comments::Comment;
use state::{Review, State};
use trailers::{Given, Trailer, Verdict};

/// A comment with what became of it.
#[derive(Clone, Debug)]
pub struct Tracked {
    pub comment: Comment,
    pub state: State,
    /// The version that addressed it, and how (or why not).
    pub version: Option<u32>,
    pub note: Option<String>,
    /// A later version changed the lines it quotes: addressed?
    pub touched_in: Option<u32>,
    /// The comment's patch in the current version (by change id), if any.
    pub now_patch: Option<usize>,
}

/// Everything the replies say about the series.
pub struct Board {
    pub replies: Vec<Reply>,
    pub places: Vec<Option<Place>>,
    pub comments: Vec<Tracked>,
    pub given: Vec<Given>,
    /// Replies that could not be read or placed.
    pub unplaced: Vec<String>,
}

/// The versions a board reads: version -> its series (the current one
/// and those kept).
pub type Versions = BTreeMap<u32, Series>;

/// The change id of patch `p` (1-based) of version `v`.
fn change_of(versions: &Versions, v: u32, p: usize) -> Option<&str> {
    versions
        .get(&v)?
        .manifest
        .patches
        .get(p.checked_sub(1)?)
        .map(|e| e.change_id.as_str())
}

/// The 1-based number of the patch with `change` in `series`.
fn number_of(series: &Series, change: &str) -> Option<usize> {
    series
        .manifest
        .patches
        .iter()
        .position(|e| e.change_id == change)
        .map(|i| i + 1)
}

/// The diff section of patch `p` of version `v`.
pub fn diff_of(versions: &Versions, v: u32, p: usize) -> Option<Vec<u8>> {
    let s = versions.get(&v)?;
    s.patches.get(p.checked_sub(1)?).map(|m| m.diff.clone())
}

/// Read the replies, place them, list their comments with their states
/// and the trailers they give. `own` is the author: a reply from them to
/// a comment answers it.
pub fn board(
    series: &Series,
    versions: &Versions,
    own: &Person,
) -> Result<Board, state::StateError> {
    let review = Review::parse(&series.review)?;
    let mut unplaced = Vec::new();
    let replies = replies(series, &mut unplaced);
    let places = place(series, &replies);
    let current = series.manifest.version;
    let mut comments = Vec::new();
    for (r, place) in replies.iter().zip(&places) {
        let Some(place) = *place else {
            unplaced.push(format!(
                "series/replies/{}: \"{}\" answers no message of this series",
                r.file, r.mail.subject
            ));
            continue;
        };
        if r.mail.from.email.eq_ignore_ascii_case(&own.email) {
            continue;
        }
        let patches = versions.get(&place.version).map_or(0, |s| s.patches.len());
        let found = comments::of_reply(r, place, patches, &|v, p| diff_of(versions, v, p));
        for c in found {
            let answered = replies.iter().any(|o| {
                o.mail.in_reply_to.as_deref() == Some(c.message_id.as_str())
                    && o.mail.from.email.eq_ignore_ascii_case(&own.email)
            });
            let kept = review.of(&c.id);
            let state = match kept {
                Some(k) => k.state,
                None if answered => State::Answered,
                None => State::Open,
            };
            let change = change_of(versions, c.version, c.patch);
            let now_patch = match change {
                Some(ch) => number_of(series, ch),
                None if c.patch == 0 => Some(0),
                None => None,
            };
            let touched_in = match (now_patch, c.version < current) {
                (Some(n), true) if n > 0 => series
                    .patches
                    .get(n - 1)
                    .filter(|m| !comments::still_there(&c, &m.diff))
                    .map(|_| current),
                _ => None,
            };
            comments.push(Tracked {
                state,
                version: kept.and_then(|k| k.version),
                note: kept.and_then(|k| k.note.clone()),
                touched_in,
                now_patch,
                comment: c,
            });
        }
    }
    let given = trailers::given(&replies, &places);
    Ok(Board {
        replies,
        places,
        comments,
        given,
        unplaced,
    })
}

/// The trailers each patch of the current version gets: (1-based patch,
/// each trailer given with its verdict for this patch), in b4's order
/// (the patch's own in reply order, then the cover's).
pub fn trailers_per_patch(
    series: &Series,
    versions: &Versions,
    given: &[Given],
) -> Vec<(usize, Vec<Given>)> {
    let current = series.manifest.version;
    let texts = crate::versions::texts(series);
    let diff_text = |s: &Series, i: usize| -> Option<String> {
        let m = s.patches.get(i)?;
        let t = rangediff::patch_text(m, None);
        Some(t.text[t.diff_offset..].to_string())
    };
    let mut out = Vec::new();
    for (i, mail) in series.patches.iter().enumerate() {
        let change = &series.manifest.patches[i].change_id;
        let have = trailers::body_trailers(&mail.body);
        let mut list: Vec<Given> = Vec::new();
        let ordered = given
            .iter()
            .filter(|g| g.place.patch != 0)
            .chain(given.iter().filter(|g| g.place.patch == 0));
        for g in ordered {
            let v = g.place.version;
            let for_this = if g.place.patch == 0 {
                true
            } else {
                change_of(versions, v, g.place.patch) == Some(change.as_str())
            };
            if !for_this {
                continue;
            }
            let mut g = g.clone();
            if v != current {
                let then = versions
                    .get(&v)
                    .and_then(|s| number_of(s, change).and_then(|n| diff_text(s, n - 1)));
                let now = Some(texts[i].text[texts[i].diff_offset..].to_string());
                if (then.is_none() || then != now) && matches!(g.verdict, Verdict::New) {
                    g.verdict = Verdict::ChangedSince(v);
                }
            }
            if matches!(g.verdict, Verdict::New) && have.iter().any(|t| t.same(&g.trailer)) {
                g.verdict = Verdict::Present;
            }
            if list
                .iter()
                .any(|o| o.trailer.same(&g.trailer) && o.verdict == g.verdict)
            {
                continue;
            }
            list.push(g);
        }
        out.push((i + 1, list));
    }
    out
}

/// The series with every `New` trailer written into its patch.
pub fn apply_trailers(
    series: &Series,
    per_patch: &[(usize, Vec<Given>)],
    own: &Person,
) -> (Series, usize) {
    let mut next = series.clone();
    let mut count = 0;
    for (nr, list) in per_patch {
        let new: Vec<Trailer> = list
            .iter()
            .filter(|g| g.verdict == Verdict::New)
            .map(|g| g.trailer.clone())
            .collect();
        if new.is_empty() {
            continue;
        }
        count += new.len();
        let mail = &series.patches[nr - 1];
        next.patches[nr - 1] = trailers::with_trailers(mail, &new, own);
    }
    (next, count)
}

/// The changelog line of an addressed comment, crediting the reviewer.
pub fn changelog_line(t: &Tracked, note: &str) -> String {
    let who = if t.comment.who.name.is_empty() {
        t.comment.who.email.clone()
    } else {
        t.comment.who.name.clone()
    };
    match t.now_patch {
        Some(0) | None => format!("cover letter: {note} ({who})"),
        Some(n) => format!("patch {n}: {note} ({who})"),
    }
}
