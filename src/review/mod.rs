//! The review half: replies to the sent versions, kept as received in
//! `series/replies/`, each placed on the patch it answers; the trailers
//! they give, and every comment they make, tracked until addressed, and
//! carried from version to version.

mod board;
pub mod comments;
mod fate;
pub mod ledger;
pub mod reply;
pub mod state;
pub mod trailers;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::diff::Patch;
use crate::mail::received::Received;
use crate::model::Person;
use crate::rangediff;
use crate::store::Series;
use comments::{Comment, Fate};
use state::{Review, State};
use trailers::{Given, Trailer, Verdict};

use board::pairings;
pub use board::{board, Board, Tracked, Versions};

/// One reply kept in `series/replies/`.
#[derive(Clone, Debug)]
pub struct Reply {
    /// Its file name under `replies/`.
    pub file: String,
    pub mail: Received,
    /// Seconds of its Date (0 when unreadable), to order replies.
    pub secs: i64,
}

/// Where a reply belongs: a version and its patch (0 is the cover).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Place {
    pub version: u32,
    pub patch: usize,
}

/// Who "we" are: the addresses that posted the series (each version's
/// sender, recorded at send and at import), the identity series runs
/// under, and `series.me`. A mail from any of them answers; it is never a
/// comment.
#[derive(Clone, Debug, Default)]
pub struct Us {
    emails: BTreeSet<String>,
}

impl Us {
    /// Us for `series`: `identity` (the configured one), each version's
    /// poster, and `extra` addresses (`series.me`).
    pub fn new(series: &Series, identity: &Person, extra: &[String]) -> Us {
        let mut emails = BTreeSet::new();
        emails.insert(identity.email.to_ascii_lowercase());
        for h in &series.manifest.history {
            if let Some(p) = h.from.as_deref().and_then(Person::parse) {
                emails.insert(p.email.to_ascii_lowercase());
            }
        }
        for e in extra {
            let bare = crate::mail::address::bare_address(e);
            if !bare.is_empty() {
                emails.insert(bare);
            }
        }
        Us { emails }
    }

    /// Whether `p` is one of us.
    pub fn is(&self, p: &Person) -> bool {
        self.emails.contains(&p.email.to_ascii_lowercase())
    }

    /// Whether an address (`Name <addr>` or `addr`) is one of ours.
    pub fn has_address(&self, a: &str) -> bool {
        self.emails.contains(&crate::mail::address::bare_address(a))
    }
}

/// The file a reply is kept in: a readable part of its Message-Id and a
/// digest of all of it, so two Message-Ids never share a file.
pub fn file_name(message_id: &str) -> String {
    let mut name: String = message_id
        .chars()
        .take(60)
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
    let digest = crate::git::digest(message_id.as_bytes());
    format!("{name}-{}.eml", &digest[..12])
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
        match crate::mail::received::parse(bytes, &format!("series/replies/{file}")) {
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
    /// The senders of the replies added now.
    pub senders: Vec<Person>,
}

/// The mails of `raw` parsed, with their bytes; those too large or not
/// readable are said in `unreadable` and left out.
fn parse_all<'a>(
    raw: &'a [Vec<u8>],
    what: &str,
    unreadable: &mut Vec<String>,
) -> Vec<(Received, &'a Vec<u8>)> {
    let mut parsed = Vec::new();
    for (i, bytes) in raw.iter().enumerate() {
        if bytes.len() > crate::mailbox::MAX_MESSAGE {
            unreadable.push(format!(
                "{what}: message {}: {} bytes, larger than series keeps ({} bytes)",
                i + 1,
                bytes.len(),
                crate::mailbox::MAX_MESSAGE
            ));
            continue;
        }
        match crate::mail::received::parse(bytes, &format!("{what}: message {}", i + 1)) {
            Ok(m) => parsed.push((m, bytes)),
            Err(e) => unreadable.push(e.to_string()),
        }
    }
    parsed
}

/// The mails that name each Message-Id in In-Reply-To or References.
fn children_of<'a>(parsed: &'a [(Received, &Vec<u8>)]) -> HashMap<&'a str, Vec<usize>> {
    let mut children: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (m, _)) in parsed.iter().enumerate() {
        let mut parents: Vec<&str> = m.in_reply_to.iter().map(String::as_str).collect();
        parents.extend(m.references.iter().map(String::as_str));
        parents.sort_unstable();
        parents.dedup();
        for p in parents {
            children.entry(p).or_default().push(i);
        }
    }
    children
}

/// Keep the mails among `raw` that reply to this series (directly or to
/// another reply, by In-Reply-To or References; else by a `Re: [PATCH vN
/// ...]` subject of a sent version) and are not kept yet; ours and others
/// are left out. Linear in the number of mails: replies join the thread
/// from the messages of ours they lead to, breadth first.
pub fn add(series: &mut Series, raw: &[Vec<u8>], what: &str) -> Added {
    let mut added = Added::default();
    let ours = sent_ids(series);
    let mut bad = Vec::new();
    let mut known: BTreeSet<String> = replies(series, &mut bad)
        .into_iter()
        .map(|r| r.mail.message_id)
        .collect();
    let parsed = parse_all(raw, what, &mut added.unreadable);
    // Subjects of ours, for replies whose threading headers were lost.
    let mut titles: BTreeSet<String> = series.patches.iter().map(|p| p.title.clone()).collect();
    titles.insert(series.manifest.subject.clone());
    let sent_versions: BTreeSet<u32> = series
        .manifest
        .history
        .iter()
        .filter(|h| !h.message_ids.is_empty())
        .map(|h| h.version)
        .collect();
    // A check's report may answer the version not sent yet.
    let version = series.manifest.version;
    let by_subject = |m: &Received| {
        m.is_reply
            && m.tag.as_ref().is_some_and(|t| {
                sent_versions.contains(&t.version) || (m.report && t.version == version)
            })
            && titles.contains(&m.title)
    };
    let children = children_of(&parsed);
    let mut taken = vec![false; parsed.len()];
    let mut queue: std::collections::VecDeque<String> = ours.keys().cloned().collect();
    queue.extend(known.iter().cloned());
    for (i, (m, _)) in parsed.iter().enumerate() {
        if by_subject(m) && !ours.contains_key(&m.message_id) {
            taken[i] = true;
            queue.push_back(m.message_id.clone());
        }
    }
    let mut visited: HashSet<String> = HashSet::new();
    while let Some(id) = queue.pop_front() {
        if !visited.insert(id.clone()) {
            continue;
        }
        for &i in children.get(id.as_str()).map(Vec::as_slice).unwrap_or(&[]) {
            if taken[i] || ours.contains_key(&parsed[i].0.message_id) {
                continue;
            }
            taken[i] = true;
            queue.push_back(parsed[i].0.message_id.clone());
        }
    }
    for (i, (m, bytes)) in parsed.iter().enumerate() {
        if !taken[i] {
            continue;
        }
        let name = file_name(&m.message_id);
        // Never replace a reply kept under the same name.
        if !known.insert(m.message_id.clone()) || series.replies.contains_key(&name) {
            added.known += 1;
            continue;
        }
        let mut bytes = (*bytes).clone();
        // Kept without the mbox separator, as the list delivered it.
        if bytes.starts_with(b"From ") {
            let eol = bytes.iter().position(|&b| b == b'\n').unwrap_or(0);
            bytes.drain(..=eol);
        }
        series.replies.insert(name, bytes);
        added.senders.push(m.from.clone());
        added.new += 1;
    }
    added.unrelated = taken.iter().filter(|t| !**t).count();
    added
}

/// Where each reply belongs: by its In-Reply-To and References, through
/// other replies to the message of ours they lead to; else by its
/// subject's `[PATCH vN i/M]`. Each reply's place is found once and
/// remembered, so a long chain costs no more than its length.
pub fn place(series: &Series, replies: &[Reply]) -> Vec<Option<Place>> {
    let ours = sent_ids(series);
    let by_id: HashMap<&str, usize> = replies
        .iter()
        .enumerate()
        .map(|(i, r)| (r.mail.message_id.as_str(), i))
        .collect();
    let subject_place = |m: &Received| -> Option<Place> {
        let tag = m.tag.as_ref()?;
        // A sent version's count; the version being written (not sent
        // yet: a check's report) has as many as the series holds.
        let total = series
            .manifest
            .history
            .iter()
            .find(|h| h.version == tag.version && !h.message_ids.is_empty())
            .map(|h| h.message_ids.len() - 1)
            .or_else(|| (tag.version == series.manifest.version).then_some(series.patches.len()))?;
        (tag.nr <= total && (tag.total == total || total == 0)).then_some(Place {
            version: tag.version,
            patch: tag.nr,
        })
    };
    // The parent a reply's place comes from: a message of ours, or the
    // reply it answers.
    enum Up {
        Ours(Place),
        Reply(usize),
        None,
    }
    // The nearest ancestor known: the message it answers, else the
    // latest of its References that is ours or a reply.
    let up = |r: &Reply| -> Up {
        let parents = r
            .mail
            .in_reply_to
            .iter()
            .chain(r.mail.references.iter().rev());
        for p in parents {
            if let Some(place) = ours.get(p.as_str()) {
                return Up::Ours(*place);
            }
            if let Some(&i) = by_id.get(p.as_str()) {
                return Up::Reply(i);
            }
        }
        Up::None
    };
    let mut memo: Vec<Option<Option<Place>>> = vec![None; replies.len()];
    for start in 0..replies.len() {
        let mut chain = Vec::new();
        let mut at = start;
        let found = loop {
            if let Some(known) = memo[at] {
                break known;
            }
            if chain.contains(&at) || chain.len() > replies.len() {
                break None;
            }
            chain.push(at);
            match up(&replies[at]) {
                Up::Ours(p) => break Some(p),
                Up::Reply(i) => at = i,
                Up::None => break None,
            }
        };
        for i in chain {
            memo[i] = Some(found.or_else(|| subject_place(&replies[i].mail)));
        }
    }
    memo.into_iter().map(Option::flatten).collect()
}

/// The diff lines of a patch that matter to a review: added and removed
/// lines per file, without context, line numbers or the diffstat. Two
/// versions of a patch with the same material lines changed nothing a
/// reviewer looked at.
pub fn material(diff: &[u8]) -> Vec<(String, Vec<String>)> {
    match Patch::parse(diff) {
        Ok(p) => p
            .files
            .iter()
            .map(|f| {
                let lines = f
                    .hunks
                    .iter()
                    .flat_map(|h| &h.lines)
                    .filter(|l| {
                        matches!(
                            l.kind,
                            crate::diff::patch::LineKind::Added
                                | crate::diff::patch::LineKind::Removed
                        )
                    })
                    .map(|l| l.marked())
                    .collect();
                let name = format!(
                    "{} {:?} {:?}",
                    f.path(),
                    f.change,
                    (f.old_mode, f.new_mode, f.binary)
                );
                (name, lines)
            })
            .collect(),
        Err(_) => vec![(String::from_utf8_lossy(diff).into_owned(), Vec::new())],
    }
}

/// The trailers each patch of the current version gets: (1-based patch,
/// each trailer given with its verdict for this patch), in b4's order
/// (the patch's own in reply order, then the cover's). A trailer given to
/// an earlier version whose patch changed materially since is "changed
/// since: confirm"; one whose reply conditions this patch is conditional.
pub fn trailers_per_patch(
    series: &Series,
    versions: &Versions,
    given: &[Given],
) -> Vec<(usize, Vec<Given>)> {
    let current = series.manifest.version;
    let pairs = pairings(series, versions);
    let mut out = Vec::new();
    for (i, mail) in series.patches.iter().enumerate() {
        let have = crate::mail::trailer::of_message(&mail.body);
        let mut list: Vec<Given> = Vec::new();
        let ordered = given
            .iter()
            .filter(|g| g.place.patch != 0)
            .chain(given.iter().filter(|g| g.place.patch == 0));
        for g in ordered {
            let v = g.place.version;
            // The patch of version v this one pairs with.
            let then = pairs
                .get(&v)
                .and_then(|p| p.iter().position(|b| *b == Some(i)))
                .map(|k| k + 1);
            let for_this = g.place.patch == 0 || then == Some(g.place.patch);
            if !for_this {
                continue;
            }
            let mut g = g.clone();
            if let (Verdict::New, Some(cond)) = (&g.verdict, &g.conditions) {
                if then.is_some_and(|n| cond.0.contains(&n)) {
                    g.verdict = Verdict::Conditional(cond.1.clone());
                }
            }
            if v != current && matches!(g.verdict, Verdict::New) {
                let old = then.and_then(|n| versions.get(&v)?.patches.get(n - 1));
                let same = old.is_some_and(|o| material(&o.diff) == material(&mail.diff));
                if !same {
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

/// What taking in mails did: the replies added, and the reviewers of an
/// earlier version now Cc'd on the one being prepared.
pub struct Intake {
    pub added: Added,
    pub cc_added: Vec<(String, u32)>,
}

/// Keep the replies among `raw` ([`add`]); when the current version is
/// being prepared (not sent), the senders of the replies added now to an
/// earlier version join its Cc (each once; removing one from
/// `[recipients]` keeps them out until they write again).
pub fn intake(series: &mut Series, raw: &[Vec<u8>], what: &str, us: &Us) -> Intake {
    let added = add(series, raw, what);
    let mut cc_added = Vec::new();
    if crate::versions::sent(series).is_none() && added.new > 0 {
        let current = series.manifest.version;
        let mut bad = Vec::new();
        let all = replies(series, &mut bad);
        let places = place(series, &all);
        for p in &added.senders {
            if us.is(p) {
                continue;
            }
            let version = all
                .iter()
                .zip(&places)
                .filter(|(r, _)| r.mail.from.email.eq_ignore_ascii_case(&p.email))
                .filter_map(|(_, pl)| pl.map(|pl| pl.version))
                .find(|v| *v < current);
            let Some(v) = version else { continue };
            let a = crate::mail::received::address_text(&p.name, &p.email);
            if add_cc(series, &a) {
                cc_added.push((a, v));
            }
        }
    }
    Intake { added, cc_added }
}

/// Add `a` to the series' Cc unless it is a recipient already.
pub fn add_cc(series: &mut Series, a: &str) -> bool {
    let r = &series.manifest.recipients;
    let known =
        r.to.iter()
            .chain(&r.cc)
            .any(|o| crate::mail::address::same_address(o, a));
    if !known {
        series.manifest.recipients.cc.push(a.to_string());
    }
    !known
}
