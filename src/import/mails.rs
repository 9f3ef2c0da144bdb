//! Making a series from posted mails (`series init --mbox` / `--from`): the
//! newest complete version of the thread, applied on its base as `git am`
//! would, each patch file then written as `git format-patch` writes it.

use std::collections::BTreeMap;

use crate::git::replay::Applied;
use crate::git::Tree;
use crate::mail::received::Received;
use crate::model::{patch_file_name, PatchMail};
use crate::store::{self, Base, Manifest, PatchEntry, Recipients, Series, FORMAT};

use super::history::history;
pub use super::history::missing_versions;
use super::ImportError;

/// What to import from the mails.
#[derive(Clone, Debug, Default)]
pub struct MailOptions {
    /// The base to apply on; else the cover's `base-commit:`.
    pub base: Option<String>,
    /// The version to import; else the newest complete one.
    pub version: Option<u32>,
    pub name: Option<String>,
    /// The archive the mails came from, for each version's link.
    pub lore: Option<String>,
}

/// The series made, and what was left out or noticed on the way.
pub struct Imported {
    pub series: Series,
    pub notes: Vec<String>,
}

/// One version's mails: the cover (if posted) and the patches by number.
#[derive(Default)]
pub(super) struct Posting<'a> {
    pub(super) cover: Option<&'a Received>,
    pub(super) patches: BTreeMap<usize, &'a Received>,
    totals: Vec<usize>,
}

impl Posting<'_> {
    fn total(&self) -> usize {
        self.totals.iter().copied().max().unwrap_or(0)
    }

    fn missing(&self) -> Vec<usize> {
        (1..=self.total())
            .filter(|n| !self.patches.contains_key(n))
            .collect()
    }

    /// The Message-Ids of the posting, cover first; none when a mail
    /// had none of its own (git format-patch's mbox without threading).
    pub(super) fn ids(&self) -> Vec<String> {
        let all: Vec<&Received> = self
            .cover
            .iter()
            .chain(self.patches.values())
            .copied()
            .collect();
        if all.iter().any(|m| m.id_made_up) {
            return Vec::new();
        }
        all.iter().map(|p| format!("<{}>", p.message_id)).collect()
    }

    pub(super) fn first(&self) -> Option<&Received> {
        self.cover.or_else(|| self.patches.values().next().copied())
    }
}

fn refuse(msg: String) -> ImportError {
    ImportError::Mail(msg)
}

/// Sort the mails into versions; replies, HTML-only and duplicate mails
/// are left out with a note, conflicting ones refused.
fn versions<'a>(
    mails: &'a [Received],
    notes: &mut Vec<String>,
) -> Result<BTreeMap<u32, Posting<'a>>, ImportError> {
    let mut out: BTreeMap<u32, Posting> = BTreeMap::new();
    let mut replies_with_diff = 0;
    let mut seen_ids = std::collections::BTreeSet::new();
    for m in mails {
        if !seen_ids.insert(&m.message_id) {
            continue;
        }
        let Some(tag) = &m.tag else { continue };
        if m.is_reply {
            if m.has_diff() {
                replies_with_diff += 1;
            }
            continue;
        }
        if m.html_only {
            return Err(refuse(format!(
                "<{}> \"{}\" has only an HTML part; a patch must be plain text",
                m.message_id, m.subject
            )));
        }
        let posting = out.entry(tag.version).or_default();
        if tag.nr == 0 {
            posting.cover.get_or_insert(m);
            posting.totals.push(tag.total);
            continue;
        }
        if !m.has_diff() {
            notes.push(format!(
                "left out <{}> \"{}\": it has no diff",
                m.message_id, m.subject
            ));
            continue;
        }
        posting.totals.push(tag.total);
        match posting.patches.get(&tag.nr) {
            Some(other) if other.body == m.body => {
                notes.push(format!(
                    "left out <{}>: the same v{} {}/{} as <{}>",
                    m.message_id, tag.version, tag.nr, tag.total, other.message_id
                ));
            }
            Some(other) => {
                return Err(refuse(format!(
                    "v{} patch {}/{} was posted twice with different contents: <{}> and <{}>",
                    tag.version, tag.nr, tag.total, other.message_id, m.message_id
                )))
            }
            None => {
                posting.patches.insert(tag.nr, m);
            }
        }
    }
    if replies_with_diff > 0 {
        notes.push(format!(
            "left out {replies_with_diff} repl{} that carr{} a diff (a reply is not a patch of the series)",
            if replies_with_diff == 1 { "y" } else { "ies" },
            if replies_with_diff == 1 { "ies" } else { "y" }
        ));
    }
    Ok(out)
}

/// The version to import: the one asked for, else the newest complete.
fn choose(
    found: &BTreeMap<u32, Posting>,
    asked: Option<u32>,
    notes: &mut Vec<String>,
) -> Result<u32, ImportError> {
    let describe = |v: u32, p: &Posting| -> String {
        let mut totals = p.totals.clone();
        totals.sort_unstable();
        totals.dedup();
        if totals.len() > 1 {
            let t: Vec<String> = totals.iter().map(|t| format!("of {t}")).collect();
            return format!("v{v} mixes two postings (patches {})", t.join(" and "));
        }
        let missing: Vec<String> = p
            .missing()
            .iter()
            .map(|n| format!("{n}/{}", p.total()))
            .collect();
        format!("v{v} lacks patch {}", missing.join(", "))
    };
    let complete = |p: &Posting| {
        let mut t = p.totals.clone();
        t.dedup();
        p.total() > 0 && p.missing().is_empty() && t.iter().all(|&x| x == p.total())
    };
    if let Some(v) = asked {
        let p = found.get(&v).ok_or_else(|| {
            let have: Vec<String> = found.keys().map(|k| format!("v{k}")).collect();
            refuse(format!(
                "the mails hold no v{v} (they hold {})",
                if have.is_empty() {
                    "no patches".into()
                } else {
                    have.join(", ")
                }
            ))
        })?;
        if !complete(p) {
            return Err(refuse(describe(v, p)));
        }
        return Ok(v);
    }
    if found.is_empty() {
        return Err(refuse(
            "the mails hold no patch ([PATCH] subject and a diff)".into(),
        ));
    }
    for (&v, p) in found.iter().rev() {
        if complete(p) {
            return Ok(v);
        }
        notes.push(format!("{}; importing an earlier version", describe(v, p)));
    }
    let (&v, p) = found.iter().next_back().expect("not empty");
    Err(refuse(format!(
        "no version is complete: {}",
        describe(v, p)
    )))
}

/// The commit message and the diff section of a patch mail, as `git am`
/// splits it: the message up to the `---` line, the diff up to the `-- `
/// signature. An in-body `From:` names the author.
pub(crate) fn patch_mail(m: &Received) -> Result<(PatchMail, Option<String>), ImportError> {
    let text = m.body.as_str();
    let (message, rest) = match text.find("\n---\n") {
        Some(i) => (&text[..i + 1], &text[i + 5..]),
        None => match text.find("\ndiff --git ") {
            Some(i) => (&text[..i + 1], &text[i + 1..]),
            None => return Err(refuse(format!("<{}> has no diff", m.message_id))),
        },
    };
    let (diff, signature) = match rest.rfind("\n-- \n") {
        Some(i) => (&rest[..i + 1], Some(rest[i + 5..].trim_end().to_string())),
        None => (rest, None),
    };
    let mut author = m.from.clone();
    let mut message = message.trim_start_matches('\n');
    if let Some(rest) = message.strip_prefix("From: ") {
        if let Some((line, after)) = rest.split_once('\n') {
            if let Some(p) = crate::mail::parse_person(line) {
                author = p;
                message = after.trim_start_matches('\n');
            }
        }
    }
    let mut body: String = message
        .lines()
        .map(|l| format!("{}\n", l.trim_end()))
        .collect();
    while body.ends_with("\n\n") {
        body.pop();
    }
    if body.trim().is_empty() {
        body.clear();
    }
    if crate::mail::parse_rfc2822(&m.date).is_none() {
        return Err(refuse(format!(
            "<{}> has a Date: git am cannot read: {:?}",
            m.message_id, m.date
        )));
    }
    let mail = PatchMail {
        commit: m.commit.clone().unwrap_or_else(|| "0".repeat(40)),
        author,
        date: m.date.clone(),
        title: m.title.clone(),
        body,
        diff: diff.as_bytes().to_vec(),
    };
    Ok((mail, signature))
}

/// `base-commit: <id>` from the cover, else from the last patch.
fn posted_base(p: &Posting) -> Option<String> {
    posted_footer(p, "base-commit: ")
}

/// A footer line's value (`base-commit: `, b4's `change-id: `) from the
/// cover, else from the last patch.
fn posted_footer(p: &Posting, key: &str) -> Option<String> {
    let last = p.patches.values().next_back().copied();
    p.cover.into_iter().chain(last).find_map(|m| {
        m.body
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|s| s.trim().to_string())
    })
}

/// A short series name from a subject: its words, lower case, dashed.
fn name_from(subject: &str) -> String {
    let words: Vec<String> = subject
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let mut name = String::new();
    for w in words
        .iter()
        .skip_while(|w| subject.contains(&format!("{w}:")) && words.len() > 1)
        .take(4)
    {
        if !name.is_empty() {
            name.push('-');
        }
        name.push_str(w);
    }
    if name.is_empty() {
        "series".into()
    } else {
        name
    }
}

/// The series of the newest complete version in `mails`, applied on its
/// base in `tree`. Nothing is written but the objects of its commits.
pub fn from_mails(
    tree: &Tree,
    mails: &[Received],
    opts: &MailOptions,
) -> Result<Imported, ImportError> {
    let mut notes = Vec::new();
    let found = versions(mails, &mut notes)?;
    let v = choose(&found, opts.version, &mut notes)?;
    let posting = &found[&v];
    let base = import_base(tree, opts.base.as_deref(), posting)?;
    let (patches, signature) = applied(tree, posting, v, &base)?;
    let tip = patches.last().map(|p| p.0).unwrap_or(base.id);
    let first = posting
        .first()
        .ok_or_else(|| refuse(format!("v{v} has no patch")))?;
    let subject = match posting.cover {
        Some(c) => c.title.clone(),
        None => first.title.clone(),
    };
    let parts = match posting.cover {
        Some(c) => super::cover::read(&c.body, v),
        None => super::cover::Parts {
            prose: super::BLURB.to_string(),
            ..Default::default()
        },
    };
    let notes_of = patch_notes_of(posting, v);
    let mut history = history(&found, v, &parts, opts.lore.as_deref(), &notes_of);
    if let Some(entry) = history.iter_mut().find(|h| h.version == v) {
        entry.base = Some(base.name.clone());
        entry.to = Some(first.to.clone());
        entry.cc = Some(first.cc.clone());
    }
    let prose = parts.prose;
    let tag = first.tag.clone().unwrap_or_default();
    let entries = entries_of(tree, &patches);
    let mut series = Series::new(
        Manifest {
            format: FORMAT,
            name: opts.name.clone().unwrap_or_else(|| name_from(&subject)),
            subject,
            version: v,
            prefix: if tag.prefix.is_empty() {
                "PATCH".into()
            } else {
                tag.prefix
            },
            change_id: posted_footer(posting, "change-id: ").filter(|id| {
                !id.is_empty()
                    && id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            }),
            signature: signature.unwrap_or_else(|| format!("series {}", env!("CARGO_PKG_VERSION"))),
            diffstat: tree.stat_between(base.id, tip)?,
            diffstat_of: None,
            base: Base {
                name: base.name.clone(),
                commit: base.id.to_string(),
            },
            recipients: Recipients {
                to: first.to.clone(),
                cc: first.cc.clone(),
            },
            lists: Default::default(),
            depends: Vec::new(),
            patches: entries,
            history,
        },
        prose,
        patches.into_iter().map(|p| p.1).collect(),
    );
    series.manifest.diffstat_of = Some(series.diffs_digest());
    // Earlier complete versions are kept too, applied on their own base
    // (else this one's), so their review is placed on their patches and
    // compared with this version's.
    for (&k, p) in found.iter().filter(|(k, p)| **k < v && complete(p)) {
        match earlier(tree, &series, p, k, &base) {
            Ok(old) => series.to_keep.push(old),
            Err(e) => notes.push(format!("v{k} is not kept: {e}")),
        }
    }
    // The version imported was posted: it is kept as posted, and final.
    series.to_keep.push(store::frozen(&series));
    Ok(Imported { series, notes })
}

/// The changelog notes below each patch's `---`, by patch number.
fn patch_notes_of(posting: &Posting, v: u32) -> Vec<(usize, BTreeMap<u32, Vec<String>>)> {
    posting
        .patches
        .iter()
        .map(|(nr, m)| {
            let section = m.body.split_once("\n---\n").map_or("", |x| x.1);
            (*nr, super::cover::patch_notes(section, v))
        })
        .filter(|(_, n)| !n.is_empty())
        .collect()
}

/// The base to import on: the one asked for, else the posting's
/// `base-commit:` (named by a ref at it when there is one).
fn import_base(
    tree: &Tree,
    asked: Option<&str>,
    posting: &Posting,
) -> Result<crate::git::Resolved, ImportError> {
    match (asked, posted_base(posting)) {
        (Some(b), _) => Ok(tree.resolve(b)?),
        (None, Some(id)) if tree.has_commit(&id) => {
            let mut found = tree.resolve(&id)?;
            if let Some(name) = tree.name_at(found.id) {
                found.name = name;
            }
            Ok(found)
        }
        (None, Some(id)) => Err(refuse(format!(
            "the cover names base-commit {id}, which {} does not have",
            tree.path().display()
        ))),
        (None, None) => Err(refuse("the mails name no base-commit".into())),
    }
}

/// The manifest's entries of patches made: a change id from the commit,
/// the file name git format-patch gives.
fn entries_of(tree: &Tree, made: &[Made]) -> Vec<PatchEntry> {
    made.iter()
        .enumerate()
        .map(|(i, (id, p))| PatchEntry {
            change_id: p.commit[..16].to_string(),
            file: patch_file_name(
                None,
                i + 1,
                &tree.first_line(*id).unwrap_or_else(|| p.title.clone()),
            ),
        })
        .collect()
}

/// Earlier version `k` of `series`, posted as `p`, applied on its own base
/// (else `fallback`); its patches take the change ids of the patches they
/// pair with.
fn earlier(
    tree: &Tree,
    series: &Series,
    p: &Posting,
    k: u32,
    fallback: &crate::git::Resolved,
) -> Result<Series, ImportError> {
    let on = posted_base(p)
        .filter(|id| tree.has_commit(id))
        .and_then(|id| tree.resolve(&id).ok())
        .unwrap_or_else(|| fallback.clone());
    let (made, _) = applied(tree, p, k, &on)?;
    let mut old = series.clone();
    old.to_keep.clear();
    old.manifest.version = k;
    old.manifest.history.retain(|h| h.version <= k);
    old.manifest.base = Base {
        name: on.name.clone(),
        commit: on.id.to_string(),
    };
    old.patches = made.iter().map(|m| m.1.clone()).collect();
    old.manifest.patches = entries_of(tree, &made);
    if let Some(c) = p.cover {
        old.cover = super::cover::read(&c.body, k).prose;
        old.manifest.subject = c.title.clone();
    }
    let tip = made.last().map(|m| m.0).unwrap_or(on.id);
    old.manifest.diffstat = tree.stat_between(on.id, tip)?;
    old.manifest.diffstat_of = Some(old.diffs_digest());
    super::take_change_ids(&mut old, series);
    Ok(old)
}

/// Whether a posting has every patch it numbers, and one count.
fn complete(p: &Posting) -> bool {
    let mut t = p.totals.clone();
    t.dedup();
    p.total() > 0 && p.missing().is_empty() && t.iter().all(|&x| x == p.total())
}

/// A commit made from a mail, and the mail as git format-patch writes it.
type Made = (crate::git::Id, PatchMail);

/// A posting's patches applied one after another on `base`, as `git am`
/// would: each commit and its mail, and the posting's signature.
fn applied(
    tree: &Tree,
    posting: &Posting,
    v: u32,
    base: &crate::git::Resolved,
) -> Result<(Vec<Made>, Option<String>), ImportError> {
    let mut parent = base.id;
    let mut patches = Vec::new();
    let mut signature = None;
    for (nr, m) in &posting.patches {
        let (mail, sig) = patch_mail(m)?;
        signature = signature.or(sig);
        let onto = tree.tree_id(parent)?;
        let new_tree = match tree.apply_to(onto, &mail)? {
            Applied::Tree(t) => t,
            Applied::Rejected(why) => {
                return Err(refuse(format!(
                    "v{v} patch {nr}/{} \"{}\" does not apply on {}: {why}",
                    posting.total(),
                    mail.title,
                    if *nr == 1 {
                        base.name.clone()
                    } else {
                        format!("patch {}", nr - 1)
                    }
                )))
            }
        };
        // Committed as the author at the author date, so the same mails
        // give the same commits.
        parent = tree.commit_mail_on(parent, new_tree, &mail, None)?;
        let mut made = tree.commit_mail(parent)?;
        if let Some(c) = &m.commit {
            made.commit = c.clone();
        }
        patches.push((parent, made));
    }
    Ok((patches, signature))
}
