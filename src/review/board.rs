//! The board: every comment of every version kept, with its state, the
//! version and patch it is on now (paired across versions as the
//! range-diff pairs them), and whether the lines it quoted are untouched.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::*;

/// A comment with what became of it.
#[derive(Clone, Debug)]
pub struct Tracked {
    pub comment: Comment,
    pub state: State,
    /// The version that addressed it, and how (or why not).
    pub version: Option<u32>,
    pub note: Option<String>,
    /// What became of its quoted lines in the current version, when that
    /// is a later one.
    pub fate: Option<Fate>,
    /// The comment's patch in the current version (paired as the
    /// range-diff pairs patches), if any.
    pub now_patch: Option<usize>,
}

impl Tracked {
    /// Open, and its lines are as they were: not addressed yet.
    pub fn untouched(&self) -> bool {
        self.state == State::Open && self.fate == Some(Fate::Untouched)
    }
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

/// Parsed diffs by (version, 1-based patch).
type Parsed = HashMap<(u32, usize), Option<std::rc::Rc<Patch>>>;

/// Patch `p` (1-based) of version `v`, parsed once.
struct Patches<'a> {
    versions: &'a Versions,
    parsed: std::cell::RefCell<Parsed>,
}

impl Patches<'_> {
    fn get(&self, v: u32, p: usize) -> Option<std::rc::Rc<Patch>> {
        self.parsed
            .borrow_mut()
            .entry((v, p))
            .or_insert_with(|| {
                let diff = &self.versions.get(&v)?.patches.get(p.checked_sub(1)?)?.diff;
                Patch::parse(diff).ok().map(std::rc::Rc::new)
            })
            .clone()
    }
}

/// How each version's patches pair with the current version's: version ->
/// (its patch index -> the current patch index).
pub(super) fn pairings(series: &Series, versions: &Versions) -> HashMap<u32, Vec<Option<usize>>> {
    let now = crate::versions::texts(series);
    let mut out = HashMap::new();
    for (&v, s) in versions {
        if v == series.manifest.version {
            out.insert(v, (0..series.patches.len()).map(Some).collect());
            continue;
        }
        let then = crate::versions::texts(s);
        let p = rangediff::pair(&then, &now, rangediff::CREATION_FACTOR);
        out.insert(v, p.a2b);
    }
    out
}

/// Read the replies, place them, list their comments with their states
/// and what became of their lines, and the trailers they give. A reply
/// from `us` to a comment answers it; our own replies make no comments.
pub fn board(series: &Series, versions: &Versions, us: &Us) -> Result<Board, state::StateError> {
    let review = Review::parse(&series.review)?;
    let mut unplaced = Vec::new();
    let replies = replies(series, &mut unplaced);
    let places = place(series, &replies);
    let current = series.manifest.version;
    let patches = Patches {
        versions,
        parsed: Default::default(),
    };
    let pairs = pairings(series, versions);
    let answered: HashSet<&str> = replies
        .iter()
        .filter(|o| us.is(&o.mail.from))
        .filter_map(|o| o.mail.in_reply_to.as_deref())
        .collect();
    let mut comments = Vec::new();
    for (r, place) in replies.iter().zip(&places) {
        let Some(place) = *place else {
            unplaced.push(format!(
                "series/replies/{}: \"{}\" answers no message of this series",
                r.file, r.mail.subject
            ));
            continue;
        };
        if us.is(&r.mail.from) {
            continue;
        }
        let count = versions.get(&place.version).map_or(0, |s| s.patches.len());
        let found = comments::of_reply(r, place, count, &|v, p| patches.get(v, p));
        let is_answered = answered.contains(r.mail.message_id.as_str());
        for c in found {
            let kept = review.of(&c.id);
            let state = match kept {
                Some(k) => k.state,
                None if is_answered => State::Answered,
                None if c.kind == comments::Kind::Ack => State::Ack,
                None => State::Open,
            };
            let now_patch = if c.patch == 0 {
                Some(0)
            } else {
                pairs
                    .get(&c.version)
                    .and_then(|p| p.get(c.patch - 1).copied().flatten())
                    .map(|i| i + 1)
            };
            let fate = if c.version < current && c.patch > 0 {
                let now = now_patch.and_then(|n| series.patches.get(n - 1));
                let others: Vec<&[u8]> = series
                    .patches
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| Some(i + 1) != now_patch)
                    .map(|(_, p)| p.diff.as_slice())
                    .collect();
                comments::fate(&c, now.map(|p| p.diff.as_slice()), &others)
            } else {
                None
            };
            comments.push(Tracked {
                state,
                version: kept.and_then(|k| k.version),
                note: kept.and_then(|k| k.note.clone()),
                fate,
                now_patch,
                comment: c,
            });
        }
    }
    let given = trailers::given(&replies, &places, us);
    Ok(Board {
        replies,
        places,
        comments,
        given,
        unplaced,
    })
}
