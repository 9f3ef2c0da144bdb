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
use crate::model::PatchMail;
use crate::store::{self, Series};
use crate::term::Render;
use crate::workspace::{self, Workspace};

/// What `series depends` is asked.
#[derive(Debug)]
pub enum Request {
    List,
    /// A series name, folder or change-id, or a cover's Message-Id.
    Add {
        what: String,
        archive: Option<String>,
        timeout: Duration,
    },
    /// A prerequisite's name (as listed) or its number, from 1.
    Remove {
        what: String,
    },
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
    let said = match req {
        Request::List => None,
        Request::Add {
            what,
            archive,
            timeout,
        } => {
            let (p, other) = resolve(ws, &series, &what, archive.as_deref(), timeout)?;
            let moved = match &other {
                Some(o) => onto_its_base(ws, &mut series, o)?,
                None => None,
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
            store::save(&ws.series_dir, &series)?;
            Some(format!("{} removed", gone.name))
        }
    };
    let depends = series
        .manifest
        .depends
        .iter()
        .map(|d| Shown {
            prerequisite: d.clone(),
            news: news(ws, &series, d),
        })
        .collect();
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

/// The prerequisite `what` names: a series here (returned too), else a
/// posted one.
fn resolve(
    ws: &Workspace,
    series: &Series,
    what: &str,
    archive: Option<&str>,
    timeout: Duration,
) -> Result<(Prerequisite, Option<Series>), AppError> {
    if let Some((name, dir)) = local(ws, what) {
        if dir == ws.series_dir {
            return Err(AppError::refuse("a series cannot depend on itself"));
        }
        let other = store::load(&dir)?;
        return Ok((of_series(name, &other), Some(other)));
    }
    if what.contains('@') {
        return Ok((posted(ws, series, what, archive, timeout)?, None));
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
    other: &Series,
) -> Result<Option<String>, AppError> {
    let Ok(path) = ws.tree_path() else {
        return Ok(None);
    };
    let tree = crate::git::Tree::open(&path)?;
    let (ours, theirs) = (&series.manifest.base.commit, &other.manifest.base.commit);
    if ours == theirs || !tree.has_commit(ours) || !tree.has_commit(theirs) {
        return Ok(None);
    }
    let (Ok(ours), Ok(theirs)) = (ours.parse(), theirs.parse()) else {
        return Ok(None);
    };
    let mut at = tree.tree_id(theirs)?;
    for p in &other.patches {
        match tree.apply_to(at, p)? {
            crate::git::replay::Applied::Tree(t) => at = t,
            crate::git::replay::Applied::Rejected(_) => return Ok(None),
        }
    }
    if at != tree.tree_id(ours)? {
        return Ok(None);
    }
    let old = std::mem::replace(&mut series.manifest.base, other.manifest.base.clone());
    Ok(Some(old.name))
}

/// The series' prerequisites of this repository that moved on (a newer
/// version, or other patches): each one's place in `depends`, its patches
/// as depended on, and the prerequisite as it is now.
pub fn moved_on(ws: &Workspace, series: &Series) -> Vec<(usize, Vec<PatchMail>, Series)> {
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
            let old = depended(&dir, now.clone(), d)?;
            changed.then_some((i, old, now))
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
/// archive, its newest complete version.
fn posted(
    ws: &Workspace,
    series: &Series,
    msgid: &str,
    archive: Option<&str>,
    timeout: Duration,
) -> Result<Prerequisite, AppError> {
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
    let mails: Vec<crate::mail::received::Received> = raw
        .iter()
        .filter_map(|b| crate::mail::received::parse(b, "a mail of the thread").ok())
        .collect();
    let (cover, patches, version) = depends::posted(&mails).ok_or_else(|| {
        AppError::refuse(format!(
            "the thread of <{id}> holds no complete version of a series"
        ))
    })?;
    let mails: Vec<PatchMail> = patches
        .iter()
        .map(|r| crate::import::mails::patch_mail(r).map(|(p, _)| p))
        .collect::<Result<_, _>>()?;
    let change_id = cover.and_then(|c| {
        c.body
            .lines()
            .find_map(|l| l.strip_prefix("change-id: "))
            .map(|v| v.trim().to_string())
    });
    Ok(Prerequisite {
        kind: Kind::MessageId,
        name: id,
        subject: cover.unwrap_or(patches[0]).title.clone(),
        version,
        change_id,
        message_id: Some(cover.unwrap_or(patches[0]).message_id.clone()),
        patch_ids: depends::patch_ids(&mails),
    })
}

/// The patches of a prerequisite of this repository as depended on: the
/// version recorded (kept in its `versions/`), else its current one.
pub fn patches_of(ws: &Workspace, d: &Prerequisite) -> Option<Vec<PatchMail>> {
    if d.kind != Kind::Series {
        return None;
    }
    let (_, dir) = local(ws, &d.name)?;
    let now = store::load(&dir).ok()?;
    depended(&dir, now, d)
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
