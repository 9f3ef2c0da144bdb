//! `series depends`: the series this one needs applied first. Each is
//! another series of this repository (by name, folder, or b4 change-id)
//! or a series posted to a list (its cover's Message-Id, read from the
//! archive); the cover letter carries b4's `prerequisite-*` footers and
//! Patchwork's `Depends-on:`, `check` applies a prerequisite of this
//! repository before the series, and `depends` (and `status`) say when
//! one has a newer version or has landed upstream.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::AppError;
use crate::depends::{self, Kind, Prerequisite};
use crate::mail::received::{self, Received};
use crate::model::PatchMail;
use crate::store::{self, Series};
use crate::term::Render;
use crate::workspace::{self, Workspace};

/// What `series depends` is asked.
#[derive(Debug)]
pub enum Request {
    /// With `archive`, also ask it for newer versions of posted
    /// prerequisites.
    List {
        archive: Option<(Option<String>, Duration)>,
    },
    /// A series name, folder or change-id, or a cover's Message-Id.
    Add {
        what: String,
        archive: Option<String>,
        timeout: Duration,
    },
    /// A prerequisite's name (as listed) or its number, from 1.
    Remove { what: String },
}

/// The prerequisites, each with what became of it.
#[derive(Serialize)]
pub struct Depends {
    pub depends: Vec<Shown>,
    #[serde(skip)]
    said: Option<String>,
}

/// One prerequisite and what became of it since it was recorded.
#[derive(Serialize)]
pub struct Shown {
    #[serde(flatten)]
    pub prerequisite: Prerequisite,
    /// In words: a newer version, patches changed, landed upstream.
    pub news: Vec<String>,
}

/// `series depends`.
pub fn run(ws: &Workspace, req: Request) -> Result<Depends, AppError> {
    let mut series = store::load(&ws.series_dir)?;
    let mut asked = None;
    let said = match req {
        Request::List { archive } => {
            asked = archive;
            None
        }
        Request::Add {
            what,
            archive,
            timeout,
        } => {
            let (p, found) = resolve(ws, &series, &what, archive.as_deref(), timeout)?;
            let moved = match found {
                Found::Here(o) => onto_its_base(ws, &mut series, &o.manifest.base, &o.patches)?,
                Found::Posted { mbox, base } => {
                    let kept = kept_patches(&mbox).unwrap_or_default();
                    series
                        .prerequisites
                        .insert(depends::mbox_name(&p.name), mbox);
                    let base = base.map(|commit| store::Base {
                        name: commit.chars().take(12).collect(),
                        commit,
                    });
                    match base {
                        Some(b) => onto_its_base(ws, &mut series, &b, &kept)?,
                        None => None,
                    }
                }
            };
            let mut said = match series
                .manifest
                .depends
                .iter()
                .position(|d| d.name == p.name)
            {
                Some(i) => {
                    let old = std::mem::replace(&mut series.manifest.depends[i], p.clone());
                    format!(
                        "{} now depended on at v{} (was v{})",
                        p.name, p.version, old.version
                    )
                }
                None => {
                    series.manifest.depends.push(p.clone());
                    format!("{} v{} added: {}", p.name, p.version, p.subject)
                }
            };
            if let Some(old) = moved {
                said.push_str(&format!(
                    "\nThe series was on {}'s tip ({old}): its base is now {}'s, {}, and {} applies first.",
                    p.name, p.name, series.manifest.base.name, p.name
                ));
            }
            store::save(&ws.series_dir, &series)?;
            Some(said)
        }
        Request::Remove { what } => {
            let deps = &mut series.manifest.depends;
            let at = what
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=deps.len()).contains(n))
                .map(|n| n - 1)
                .or_else(|| {
                    deps.iter()
                        .position(|d| d.name == what.trim_matches(['<', '>']))
                })
                .ok_or_else(|| {
                    AppError::refuse(format!("the series depends on no {what:?}"))
                        .hint("`series depends` lists them, by number and name")
                })?;
            let gone = deps.remove(at);
            series.prerequisites.remove(&depends::mbox_name(&gone.name));
            store::save(&ws.series_dir, &series)?;
            Some(format!("{} removed", gone.name))
        }
    };
    let lore = match &asked {
        Some((url, timeout)) => Some(crate::lore::Lore::new(
            &ws.archive(url.as_deref()),
            *timeout,
        )?),
        None => None,
    };
    let mut depends = Vec::new();
    for d in &series.manifest.depends {
        let mut news = news(ws, &series, d);
        if let (Some(lore), Kind::MessageId) = (&lore, d.kind) {
            news.extend(archived_news(lore, d)?);
        }
        depends.push(Shown {
            prerequisite: d.clone(),
            news,
        });
    }
    Ok(Depends { depends, said })
}

/// A series of this repository named by `what`: a folder (holding
/// `series.toml`, or a `series/` that does), a name `series list` shows,
/// or the change-id of one.
fn local(ws: &Workspace, what: &str) -> Option<(String, PathBuf)> {
    let path = super::given(ws, Path::new(what));
    for dir in [path.clone(), path.join("series")] {
        if dir.join(store::MANIFEST).is_file() {
            return Some((what.to_string(), dir));
        }
    }
    let g = ws.git.as_ref()?;
    let names = workspace::names_in(&g.common_dir);
    if names.iter().any(|n| n == what) {
        return Some((
            what.to_string(),
            workspace::series_dir_of(&g.common_dir, what).0,
        ));
    }
    let change_id = what.split(":v").next().unwrap_or(what);
    names.into_iter().find_map(|n| {
        let (dir, _) = workspace::series_dir_of(&g.common_dir, &n);
        let s = store::load(&dir).ok()?;
        (s.manifest.change_id.as_deref() == Some(change_id)).then_some((n, dir))
    })
}

/// What a prerequisite was found as: a series here, or a posted one with
/// its patches' mails (an mbox, to keep under `depends/`).
enum Found {
    Here(Box<Series>),
    Posted {
        mbox: Vec<u8>,
        /// Its cover's `base-commit:`.
        base: Option<String>,
    },
}

/// The prerequisite `what` names: a series here, else a posted one.
fn resolve(
    ws: &Workspace,
    series: &Series,
    what: &str,
    archive: Option<&str>,
    timeout: Duration,
) -> Result<(Prerequisite, Found), AppError> {
    if let Some((name, dir)) = local(ws, what) {
        if dir == ws.series_dir {
            return Err(AppError::refuse("a series cannot depend on itself"));
        }
        let other = store::load(&dir)?;
        return Ok((of_series(name, &other), Found::Here(Box::new(other))));
    }
    if what.contains('@') {
        let (p, mbox, base) = posted(ws, series, what, archive, timeout)?;
        return Ok((p, Found::Posted { mbox, base }));
    }
    if let Some((id, version)) = change_id(what) {
        let lore = crate::lore::Lore::new(&ws.archive(archive), timeout)?;
        let versions = archived_versions(&lore, Some(id), None)?;
        let found = versions
            .iter()
            .find(|(v, _)| version.is_none_or(|want| *v == want))
            .ok_or_else(|| {
                AppError::refuse(format!(
                    "no series here has change-id {id}, and {} has no cover with it{}",
                    lore.base(),
                    version.map(|v| format!(" at v{v}")).unwrap_or_default()
                ))
                .hint("give a name `series list` shows, or the Message-Id of the posted cover")
            })?;
        let (p, mbox, base) = posted(ws, series, &found.1, archive, timeout)?;
        return Ok((p, Found::Posted { mbox, base }));
    }
    Err(AppError::refuse(format!(
        "{what:?} is no series here (by name, folder or change-id) and no Message-Id"
    ))
    .hint("give a name `series list` shows, a series folder, or the Message-Id of a posted cover"))
}

/// When the series was made on the prerequisite's tip (its base is the
/// prerequisite's base with its patches applied: the same tree), the
/// series moves onto the prerequisite's base, which the prerequisite's
/// patches then go on first. Returns the old base's name when it moved.
fn onto_its_base(
    ws: &Workspace,
    series: &mut Series,
    their_base: &store::Base,
    their_patches: &[PatchMail],
) -> Result<Option<String>, AppError> {
    let Ok(path) = ws.tree_path() else {
        return Ok(None);
    };
    let tree = crate::git::Tree::open(&path)?;
    let (ours, theirs) = (&series.manifest.base.commit, &their_base.commit);
    if ours == theirs || !tree.has_commit(ours) || !tree.has_commit(theirs) {
        return Ok(None);
    }
    let (Ok(ours), Ok(theirs)) = (ours.parse(), theirs.parse()) else {
        return Ok(None);
    };
    let mut at = tree.tree_id(theirs)?;
    for p in their_patches {
        match tree.apply_to(at, p)? {
            crate::git::replay::Applied::Tree(t) => at = t,
            crate::git::replay::Applied::Rejected(_) => return Ok(None),
        }
    }
    if at != tree.tree_id(ours)? {
        return Ok(None);
    }
    let old = std::mem::replace(&mut series.manifest.base, their_base.clone());
    Ok(Some(old.name))
}

/// The series' prerequisites of this repository that moved on (a newer
/// version, or other patches): each one's place in `depends`, and the
/// prerequisite as it is now.
pub fn moved_on(ws: &Workspace, series: &Series) -> Vec<(usize, Series)> {
    series
        .manifest
        .depends
        .iter()
        .enumerate()
        .filter(|(_, d)| d.kind == Kind::Series)
        .filter_map(|(i, d)| {
            let (_, dir) = local(ws, &d.name)?;
            let now = store::load(&dir).ok()?;
            let changed = now.manifest.version != d.version
                || depends::patch_ids(&now.patches) != d.patch_ids;
            changed.then_some((i, now))
        })
        .collect()
}

/// [`of_series`], for a restack.
pub fn prerequisite_of(name: String, other: &Series) -> Prerequisite {
    of_series(name, other)
}

/// A series of this repository as a prerequisite: its current version,
/// with the Message-Id of its cover when that version was sent.
fn of_series(name: String, other: &Series) -> Prerequisite {
    let m = &other.manifest;
    Prerequisite {
        kind: Kind::Series,
        name,
        subject: m.subject.clone(),
        version: m.version,
        change_id: m.change_id.clone(),
        message_id: m
            .history
            .iter()
            .find(|h| h.version == m.version)
            .and_then(|h| h.message_ids.first().cloned()),
        patch_ids: depends::patch_ids(&other.patches),
    }
}

/// A posted series as a prerequisite: the thread of `msgid` read from the
/// archive, its newest complete version; and its patches' mails as an
/// mbox, as the archive gave them.
fn posted(
    ws: &Workspace,
    series: &Series,
    msgid: &str,
    archive: Option<&str>,
    timeout: Duration,
) -> Result<(Prerequisite, Vec<u8>, Option<String>), AppError> {
    let id = msgid.trim().trim_matches(['<', '>']).to_string();
    if series
        .manifest
        .history
        .iter()
        .any(|h| h.message_ids.contains(&id))
    {
        return Err(AppError::refuse("a series cannot depend on itself"));
    }
    let lore = crate::lore::Lore::new(&ws.archive(archive), timeout)?;
    let raw = lore.thread(&id)?;
    let read: Vec<(&Vec<u8>, Received)> = raw
        .iter()
        .filter_map(|b| Some((b, received::parse(b, "a mail of the thread").ok()?)))
        .collect();
    let mails: Vec<Received> = read.iter().map(|(_, r)| r.clone()).collect();
    let (cover, patches, version) = depends::posted(&mails).ok_or_else(|| {
        AppError::refuse(format!(
            "the thread of <{id}> holds no complete version of a series"
        ))
    })?;
    let kept: Vec<Vec<u8>> = patches
        .iter()
        .filter_map(|p| read.iter().find(|(_, r)| r.message_id == p.message_id))
        .map(|(b, _)| b.to_vec())
        .collect();
    let mails: Vec<PatchMail> = patches
        .iter()
        .map(|r| crate::import::mails::patch_mail(r).map(|(p, _)| p))
        .collect::<Result<_, _>>()?;
    // A footer line of the cover (b4 and git format-patch write them).
    let footer = |key: &str| {
        cover.and_then(|c| {
            c.body
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .map(|v| v.trim().to_string())
        })
    };
    let change_id = footer("change-id: ");
    let p = Prerequisite {
        kind: Kind::MessageId,
        name: id,
        subject: cover.unwrap_or(patches[0]).title.clone(),
        version,
        change_id,
        message_id: Some(cover.unwrap_or(patches[0]).message_id.clone()),
        patch_ids: depends::patch_ids(&mails),
    };
    Ok((p, crate::mailbox::mboxrd(&kept), footer("base-commit: ")))
}

/// A b4 change-id (`20170301-tlb-batch-0a1b2c3d4e5f`, as `b4 prep` makes
/// them: a date, a name, a hex tail), with the version after `:vN`.
fn change_id(what: &str) -> Option<(&str, Option<u32>)> {
    let (id, version) = match what.rsplit_once(":v") {
        Some((id, v)) => (id, Some(v.parse().ok()?)),
        None => (what, None),
    };
    let (date, rest) = id.split_once('-')?;
    let dated = date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit());
    let tail = rest.rsplit('-').next()?;
    let hex = !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_hexdigit());
    (dated && hex && !id.contains(char::is_whitespace)).then_some((id, version))
}

/// The versions of a series the archive has: found by b4's change-id
/// query (the cover's `change-id:` footer), else by its subject; each
/// version with its first message's Message-Id (its cover, or a lone
/// patch), newest first.
fn archived_versions(
    lore: &crate::lore::Lore,
    change_id: Option<&str>,
    subject: Option<&str>,
) -> Result<Vec<(u32, String)>, AppError> {
    let query = match (change_id, subject) {
        (Some(id), _) => format!("nq:\"change-id:{id}\""),
        (None, Some(s)) => format!("s:\"{}\"", s.replace('"', " ")),
        (None, None) => return Ok(Vec::new()),
    };
    let mut found: Vec<(u32, String)> = lore
        .search(&query, false)?
        .iter()
        .filter_map(|b| received::parse(b, "a mail the archive found").ok())
        .filter(|m| !m.is_reply)
        .filter(|m| match change_id {
            Some(id) => m
                .body
                .lines()
                .any(|l| l.trim().strip_prefix("change-id:").map(str::trim) == Some(id)),
            None => Some(m.title.as_str()) == subject,
        })
        .filter_map(|m| {
            let t = m.tag.as_ref()?;
            (t.nr == 0 || t.total <= 1).then(|| (t.version, m.message_id.clone()))
        })
        .collect();
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    found.dedup_by_key(|f| f.0);
    Ok(found)
}

/// What the archive has of a posted prerequisite that is newer than the
/// version depended on, in words.
fn archived_news(lore: &crate::lore::Lore, d: &Prerequisite) -> Result<Vec<String>, AppError> {
    let versions = archived_versions(lore, d.change_id.as_deref(), Some(&d.subject))?;
    Ok(versions
        .into_iter()
        .take_while(|(v, _)| *v > d.version)
        .take(1)
        .map(|(v, id)| {
            format!(
                "v{v} is posted (this series depends on v{}), as <{id}>: `series depends add '<{id}>'` to follow it",
                d.version
            )
        })
        .collect())
}

/// The patches kept in an mbox under `depends/`, in their order; None when
/// it holds no complete version.
fn kept_patches(mbox: &[u8]) -> Option<Vec<PatchMail>> {
    let mails: Vec<Received> = crate::mailbox::split_mbox(mbox)
        .iter()
        .filter_map(|b| received::parse(b, "a kept prerequisite").ok())
        .collect();
    let (_, patches, _) = depends::posted(&mails)?;
    patches
        .iter()
        .map(|r| crate::import::mails::patch_mail(r).map(|(p, _)| p).ok())
        .collect()
}

/// The patches of a prerequisite as depended on: of a series of this
/// repository, the version recorded (kept in its `versions/`, else its
/// current one); of a posted one, the mails kept under `depends/`.
pub fn patches_of(ws: &Workspace, series: &Series, d: &Prerequisite) -> Option<Vec<PatchMail>> {
    if d.kind == Kind::MessageId {
        return kept_patches(series.prerequisites.get(&depends::mbox_name(&d.name))?);
    }
    let (_, dir) = local(ws, &d.name)?;
    let now = store::load(&dir).ok()?;
    depended(&dir, now, d)
}

/// Every prerequisite's patches as depended on, in order, to apply before
/// the series; refused when one's patches are not to be found.
pub fn stack(ws: &Workspace, series: &Series) -> Result<Vec<crate::apply::Prerequisite>, AppError> {
    series
        .manifest
        .depends
        .iter()
        .map(|d| {
            patches_of(ws, series, d)
                .map(|p| (d.name.clone(), p))
                .ok_or_else(|| {
                    AppError::refuse(format!(
                        "the patches of prerequisite {} (v{}) are not to be found here",
                        d.name, d.version
                    ))
                    .hint(match d.kind {
                        Kind::MessageId => format!("`series depends add {}` again reads and keeps them", d.name),
                        Kind::Series => format!("the series {} or its kept v{} is gone; `series depends remove {}`, or add what it became", d.name, d.version, d.name),
                    })
                })
        })
        .collect()
}

/// Of a prerequisite loaded from `dir` as it is `now`, the patches of the
/// version `d` depends on.
fn depended(dir: &Path, now: Series, d: &Prerequisite) -> Option<Vec<PatchMail>> {
    if now.manifest.version == d.version {
        return Some(now.patches);
    }
    store::load_kept(dir, d.version).ok().map(|s| s.patches)
}

/// What became of a prerequisite since it was recorded, in words.
pub fn news(ws: &Workspace, series: &Series, d: &Prerequisite) -> Vec<String> {
    if d.kind != Kind::Series {
        return Vec::new();
    }
    let Some((dir, now)) =
        local(ws, &d.name).and_then(|(_, dir)| store::load(&dir).ok().map(|s| (dir, s)))
    else {
        return vec!["no longer found here".to_string()];
    };
    let mut out = Vec::new();
    if now.manifest.version > d.version {
        out.push(format!(
            "has v{} now (this series depends on v{}): `series depends add {}` to follow it",
            now.manifest.version, d.version, d.name
        ));
    } else if depends::patch_ids(&now.patches) != d.patch_ids {
        out.push(format!(
            "its patches changed since: `series depends add {}` to follow them",
            d.name
        ));
    }
    let posted = now
        .manifest
        .history
        .iter()
        .find(|h| h.version == d.version)
        .and_then(|h| h.message_ids.first());
    if let (None, Some(id)) = (&d.message_id, posted) {
        out.push(format!(
            "v{} was posted since, as <{id}>: `series depends add {}` records it for the cover's footers",
            d.version, d.name
        ));
    }
    if let Some(on) = depended(&dir, now, d).and_then(|p| landed(ws, series, &p)) {
        out.push(format!("has landed on {on}"));
    }
    out
}

/// The upstream ref (`series.upstream`) on which every one of `patches`
/// is found above the series' base, if one is.
fn landed(ws: &Workspace, series: &Series, patches: &[PatchMail]) -> Option<String> {
    let refs = ws.setting_list("series.upstream");
    if refs.is_empty() || patches.is_empty() {
        return None;
    }
    let tree = crate::git::Tree::open(&ws.tree_path().ok()?).ok()?;
    let base = series.manifest.base.commit.parse().ok()?;
    refs.into_iter().find(|r| {
        tree.resolve(r)
            .and_then(|tip| tree.find_landed(patches, base, tip.id))
            .is_ok_and(|f| f.len() == patches.len())
    })
}

impl Render for Depends {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if let Some(s) = &self.said {
            writeln!(out, "{s}")?;
        }
        if self.depends.is_empty() {
            return writeln!(out, "The series depends on no other series.");
        }
        for (i, d) in self.depends.iter().enumerate() {
            let p = &d.prerequisite;
            writeln!(
                out,
                "{}. {} v{}: {} ({})",
                i + 1,
                p.name,
                p.version,
                p.subject,
                crate::term::plural(p.patch_ids.len(), "patch", "patches")
            )?;
            for n in &d.news {
                writeln!(out, "   {n}")?;
            }
        }
        Ok(())
    }
}
