//! b4 prep branches in and out: `series init --from-b4 [BRANCH]` reads one
//! (its cover, change-id, revision, prefixes, recipients, and each version
//! sent, from b4's tracking data and its `sent/` tags), and `series export
//! --b4 [BRANCH]` makes one from a series, so that a user can move either
//! way. git reads and writes the refs, tags and configuration; the commits
//! go into the object store as one pack, as `series apply` writes them.

use std::io::Write;

use serde::Serialize;

use super::AppError;
use crate::b4::{self, Strategy, Tracked, Tracking};
use crate::git::cmd::git;
use crate::git::{short, Id, Tree};
use crate::import;
use crate::store::{self, Series, VersionEntry};
use crate::term::{plural, Render};
use crate::workspace::Workspace;

/// A git command's output as text, trimmed.
fn out(tree: &Tree, args: &[&str]) -> Result<String, AppError> {
    let f = git(tree.path(), args)?;
    Ok(String::from_utf8_lossy(&f.stdout).trim().to_string())
}

/// A git command's output when it succeeds and says something.
fn out_opt(tree: &Tree, args: &[&str]) -> Option<String> {
    out(tree, args).ok().filter(|s| !s.is_empty())
}

/// The branch's cover strategy, as b4 decides it.
fn strategy(tree: &Tree, branch: &str) -> Result<Strategy, AppError> {
    let name = out_opt(
        tree,
        &["config", &format!("branch.{branch}.b4-prep-cover-strategy")],
    )
    .or_else(|| out_opt(tree, &["config", "b4.prep-cover-strategy"]))
    .unwrap_or_else(|| "commit".into());
    Strategy::parse(&name).ok_or_else(|| {
        AppError::refuse(format!(
            "branch {branch} uses the b4 cover strategy {name:?}, which series does not read"
        ))
        .hint("b4 implements commit, tip-commit and branch-description")
    })
}

/// A b4 prep branch read: where the series starts and ends, its cover and
/// tracking data.
struct Prep {
    strategy: Strategy,
    base: Id,
    /// Where the patches start: the base, or the cover commit on it.
    start: Id,
    /// The range of the patches, `A..B`.
    range: String,
    cover: b4::Cover,
    tracking: Tracking,
}

fn not_prep(branch: &str, why: &str) -> AppError {
    AppError::refuse(format!("branch {branch} is not a b4 prep branch: {why}"))
        .hint("name the branch (`series init --from-b4 b4/NAME`); `b4 prep --show-info` on it says what b4 sees")
}

fn read_prep(tree: &Tree, branch: &str) -> Result<Prep, AppError> {
    let strategy = strategy(tree, branch)?;
    let head = format!("refs/heads/{branch}");
    let fork = |tracking: &Tracking| -> Result<Id, AppError> {
        let base_branch = tracking
            .series
            .base_branch
            .clone()
            .ok_or_else(|| not_prep(branch, "its tracking data names no base-branch"))?;
        let id = out(tree, &["merge-base", &base_branch, &head])?;
        Ok(tree.resolve(&id)?.id)
    };
    match strategy {
        Strategy::Commit | Strategy::TipCommit => {
            let cover_commit = out(
                tree,
                &[
                    "log",
                    "--grep",
                    b4::MARKER,
                    "-F",
                    "--format=%H",
                    "--max-count=1",
                    &head,
                    "--",
                ],
            )?;
            if cover_commit.is_empty() {
                return Err(not_prep(branch, "no commit on it holds b4's tracking data"));
            }
            let message = out(tree, &["log", "-1", "--format=%B", &cover_commit])?;
            let (text, tracking) =
                b4::split_commit_message(&message).map_err(|e| not_prep(branch, &e))?;
            let (base, start, range) = if strategy == Strategy::Commit {
                let base = tree.resolve(&format!("{cover_commit}^"))?.id;
                let start = tree.resolve(&cover_commit)?.id;
                (base, start, format!("{cover_commit}..{head}"))
            } else {
                let base = fork(&tracking)?;
                (base, base, format!("{base}..{cover_commit}^"))
            };
            Ok(Prep {
                strategy,
                base,
                start,
                range,
                cover: b4::read_cover(&text),
                tracking,
            })
        }
        Strategy::BranchDescription => {
            let json = out_opt(tree, &["config", &format!("branch.{branch}.b4-tracking")])
                .ok_or_else(|| not_prep(branch, "it has no branch.<name>.b4-tracking"))?;
            let tracking = b4::parse_tracking(&json).map_err(|e| not_prep(branch, &e))?;
            let text = out_opt(tree, &["config", &format!("branch.{branch}.description")])
                .unwrap_or_default();
            let base = fork(&tracking)?;
            Ok(Prep {
                strategy,
                base,
                start: base,
                range: format!("{base}..{head}"),
                cover: b4::read_cover(&text),
                tracking,
            })
        }
    }
}

/// The series of a b4 prep branch (the current branch when None), with
/// notes on what was read.
pub fn import(
    ws: &Workspace,
    tree: &Tree,
    branch: Option<&str>,
    notes: &mut Vec<String>,
) -> Result<(Series, String), AppError> {
    let branch = prep_branch(tree, branch)?;
    let prep = read_prep(tree, &branch)?;
    let t = &prep.tracking.series;
    let version = t.revision.max(1);
    let base_name = t
        .base_branch
        .clone()
        .or_else(|| tree.name_at(prep.base))
        .unwrap_or_else(|| short(prep.base));
    // The cover commit changes nothing: the patches read from it are those
    // on the base, and the base recorded is the base.
    let opts = import::Options {
        base: prep.start.to_string(),
        base_name: Some(base_name.clone()),
        range: Some(prep.range.clone()),
        version,
        name: ws
            .asked_name
            .clone()
            .or_else(|| Some(branch.trim_start_matches("b4/").to_string())),
        subject: Some(prep.cover.subject.clone()),
        prefix: b4::prefix_from(&t.prefixes),
    };
    let mut series = import::from_tree(tree, &opts)?;
    let parts = cover_parts(&prep.cover.body, version);
    series.cover = format!("{}\n", parts.prose.trim_end());
    let m = &mut series.manifest;
    m.base = store::Base {
        name: base_name,
        commit: prep.base.to_string(),
    };
    m.change_id = Some(t.change_id.clone()).filter(|c| !c.is_empty());
    m.recipients.to = prep.cover.to.clone();
    m.recipients.cc = prep.cover.cc.clone();
    if let Some(sig) = ws.setting("series.signature") {
        m.signature = sig;
    }
    let sent = t.sent();
    for h in m.history.iter_mut() {
        h.changes = parts.changes.get(&h.version).cloned().unwrap_or_default();
        h.link = parts.links.get(&h.version).cloned();
        if let Some((_, id)) = sent.iter().find(|(v, _)| *v == h.version) {
            h.message_ids = vec![id.clone()];
        }
    }
    notes.push(format!(
        "b4 prep branch {branch}: cover strategy {}, change-id {}, revision {version}",
        serde_json::to_value(prep.strategy)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        t.change_id
    ));
    for (v, id) in &sent {
        match sent_version(tree, &series, &branch, t, *v) {
            Ok(Some(old)) => {
                notes.push(format!("v{v} sent as <{id}>, kept from its sent/ tag"));
                series.to_keep.push(old);
            }
            Ok(None) => notes.push(format!(
                "v{v} sent as <{id}>; no sent/ tag holds its patches"
            )),
            Err(e) => notes.push(format!(
                "v{v} sent as <{id}>; its sent/ tag is not kept: {e}"
            )),
        }
    }
    Ok((series, branch))
}

/// The branch to import: the one named (a local branch), else HEAD's.
fn prep_branch(tree: &Tree, branch: Option<&str>) -> Result<String, AppError> {
    let branch = match branch {
        Some(b) => b.trim_start_matches("refs/heads/").to_string(),
        None => tree.head_branch().ok_or_else(|| {
            AppError::refuse("HEAD is not on a branch")
                .hint("name the b4 prep branch: `series init --from-b4 b4/NAME`")
        })?,
    };
    if !tree.has_branch(&branch) {
        return Err(
            AppError::refuse(format!("{} has no branch {branch}", tree.path().display()))
                .hint("`git branch --list 'b4/*'` lists b4's prep branches"),
        );
    }
    Ok(branch)
}

/// A b4 cover's body taken apart: b4's changelog placeholders (`EDITME`)
/// dropped, and its "- Link to vN: URL" lines read as links.
fn cover_parts(body: &str, version: u32) -> import::cover::Parts {
    let mut parts = import::cover::read(body, version);
    for changes in parts.changes.values_mut() {
        changes.retain(|c| match link_line(c) {
            Some((v, url)) => {
                parts.links.entry(v).or_insert(url);
                false
            }
            None => !c.contains("EDITME"),
        });
    }
    parts
}

/// `Link to vN: URL`, as b4's changelog template writes it.
fn link_line(line: &str) -> Option<(u32, String)> {
    let rest = line.strip_prefix("Link to v")?;
    let (v, url) = rest.split_once(':')?;
    Some((v.trim().parse().ok()?, url.trim().to_string()))
}

/// Version `v` as its `sent/` tag holds it (b4 names the tag by change-id,
/// or by branch before 0.14), its patches paired with the current ones.
fn sent_version(
    tree: &Tree,
    current: &Series,
    branch: &str,
    t: &Tracked,
    v: u32,
) -> Result<Option<Series>, AppError> {
    let Some(tag) = [b4::sent_tag(&t.change_id, v), b4::sent_tag(branch, v)]
        .into_iter()
        .find(|tag| {
            out_opt(
                tree,
                &["rev-parse", "-q", "--verify", &format!("refs/tags/{tag}")],
            )
            .is_some()
        })
    else {
        return Ok(None);
    };
    let message = out(tree, &["tag", "-l", "--format=%(contents)", &tag])?;
    let base = b4::tag_base_commit(&message)
        .ok_or_else(|| AppError::refuse(format!("tag {tag} names no base-commit")))?;
    let tip = out(tree, &["rev-parse", &format!("refs/tags/{tag}^{{commit}}")])?;
    let (subject, body) = message.split_once('\n').unwrap_or((&message, ""));
    let subject = subject
        .trim()
        .strip_prefix('[')
        .and_then(|s| s.split_once("] ").map(|x| x.1))
        .unwrap_or(subject.trim());
    let opts = import::Options {
        base: base.clone(),
        base_name: tree.name_at(tree.resolve(&base)?.id),
        range: Some(format!("{base}..{tip}")),
        version: v,
        name: Some(current.manifest.name.clone()),
        subject: Some(subject.to_string()),
        prefix: current.manifest.prefix.clone(),
    };
    let mut old = import::from_tree(tree, &opts)?;
    old.cover = import::cover::read(body, v).prose;
    old.manifest.change_id = current.manifest.change_id.clone();
    old.manifest.recipients = current.manifest.recipients.clone();
    old.manifest.history = current
        .manifest
        .history
        .iter()
        .filter(|h| h.version <= v)
        .cloned()
        .collect();
    import::take_change_ids(&mut old, current);
    Ok(Some(old))
}

/// What `series export --b4` is asked.
#[derive(Debug, Default)]
pub struct ExportRequest {
    /// The branch to make [default: b4/<name>].
    pub branch: Option<String>,
    /// Move the branch if it exists (sent tags are never moved).
    pub force: bool,
}

/// A b4 prep branch made.
#[derive(Serialize)]
pub struct Exported {
    pub branch: String,
    pub change_id: String,
    pub revision: u32,
    pub cover_commit: String,
    pub commits: usize,
    /// `sent/` tags made for the versions sent.
    pub tags: Vec<String>,
    /// Recipients that are list names no tree resolved, left out.
    pub unresolved: Vec<String>,
}

/// A recipient as b4 wants it: an address (a list name resolved through
/// the series' known lists), or None for a name nothing resolves.
fn address(series: &Series, r: &str) -> Option<String> {
    if r.contains('@') {
        Some(r.to_string())
    } else {
        series.manifest.lists.get(r).cloned()
    }
}

/// The changelog below the cover's `---`, newest version first, as b4's
/// reroll lays it out.
fn changelog(series: &Series) -> String {
    let m = &series.manifest;
    let mut out = String::new();
    for h in m.history.iter().rev().filter(|h| h.version > 1) {
        let prev = m.history.iter().find(|p| p.version == h.version - 1);
        let link = prev.and_then(|p| {
            p.link.clone().or_else(|| {
                p.message_ids
                    .first()
                    .map(|id| format!("https://lore.kernel.org/r/{}", id.trim_matches(['<', '>'])))
            })
        });
        if h.changes.is_empty() && link.is_none() {
            continue;
        }
        out.push_str(&format!("Changes in v{}:\n", h.version));
        for c in &h.changes {
            out.push_str(&format!("- {c}\n"));
        }
        if let Some(l) = link {
            out.push_str(&format!("- Link to v{}: {l}\n", h.version - 1));
        }
        out.push('\n');
    }
    out
}

/// Whether version `v` was sent (its Message-Ids are recorded).
fn was_sent(series: &Series, v: u32) -> Option<&VersionEntry> {
    series
        .manifest
        .history
        .iter()
        .find(|h| h.version == v && !h.message_ids.is_empty())
}

/// The cover b4 keeps for `series`: its recipients resolved to addresses;
/// and the list names nothing resolved.
fn b4_cover(series: &Series) -> (b4::Cover, Vec<String>) {
    let m = &series.manifest;
    let mut unresolved = Vec::new();
    let mut resolve = |list: &[String]| -> Vec<String> {
        list.iter()
            .filter_map(|r| {
                let a = address(series, r);
                if a.is_none() {
                    unresolved.push(r.clone());
                }
                a
            })
            .collect()
    };
    let cover = b4::Cover {
        subject: m.subject.clone(),
        body: series.cover.trim().to_string(),
        to: resolve(&m.recipients.to),
        cc: resolve(&m.recipients.cc),
    };
    (cover, unresolved)
}

/// b4's tracking data for `series`: the revision being prepared (one past
/// the last sent), and the cover Message-Id of each version sent.
fn tracking_of(series: &Series, change_id: &str) -> Tracking {
    let m = &series.manifest;
    let sent_now = was_sent(series, m.version).is_some();
    Tracking {
        series: Tracked {
            revision: if sent_now { m.version + 1 } else { m.version },
            change_id: change_id.to_string(),
            prefixes: b4::prefixes_of(&m.prefix),
            history: m
                .history
                .iter()
                .filter_map(|h| {
                    let id = h.message_ids.first()?.trim_matches(['<', '>']).to_string();
                    Some((format!("v{}", h.version), vec![id]))
                })
                .collect(),
            ..Tracked::default()
        },
    }
}

/// Tag `target` as b4 tags a version it sent: the cover, `base-commit:`
/// and `change-id:` in the message.
fn tag_sent(
    tree: &Tree,
    tag: &str,
    target: Id,
    old: &Series,
    change_id: &str,
) -> Result<(), AppError> {
    let om = &old.manifest;
    let text = format!(
        "{}\n\n{}\n\nbase-commit: {}\nchange-id: {change_id}\n",
        om.subject,
        old.cover.trim(),
        om.base.commit
    );
    let target = target.to_string();
    git(
        tree.path(),
        ["tag", "-a", "-m", &text, tag, target.as_str()],
    )?;
    Ok(())
}

/// `series export --b4`: the series as a b4 prep branch (cover strategy
/// `commit`); the change-id made for it is saved in the series.
pub fn export(ws: &Workspace, req: ExportRequest) -> Result<Exported, AppError> {
    let mut series = store::load(&ws.series_dir)?;
    let m = &series.manifest;
    let branch = req
        .branch
        .clone()
        .unwrap_or_else(|| format!("b4/{}", m.name));
    let now = ws.now();
    let change_id = m.change_id.clone().unwrap_or_else(|| {
        b4::new_change_id(
            &crate::text::iso_day(now.secs, now.offset_minutes),
            &m.name,
            &format!("{}\n{}\n{}", m.name, m.base.commit, series.diffs_digest()),
        )
    });
    let (cover, unresolved) = b4_cover(&series);
    let tracking = tracking_of(&series, &change_id);
    let message = b4::commit_message(&b4::write_cover(&cover, &changelog(&series)), &tracking);
    let kept = store::kept_versions(&ws.series_dir)
        .into_iter()
        .filter(|v| was_sent(&series, *v).is_some())
        .map(|v| store::load_kept(&ws.series_dir, v))
        .collect::<Result<Vec<_>, _>>()?;
    let (cover_commit, commits, tags) = Tree::staged(&ws.tree_path()?, |tree, stage| {
        if tree.has_branch(&branch) && !req.force {
            return Err(AppError::refuse(format!(
                "branch {branch} already exists in {}",
                tree.path().display()
            ))
            .hint("pass --force to move it, or name another branch"));
        }
        let who = super::apply::committer(ws, tree)?;
        let base: Id = tree.resolve(&series.manifest.base.commit)?.id;
        let cover_commit = tree.empty_commit_on(base, &message, &who)?;
        let commits =
            crate::apply::apply_on(tree, &series, cover_commit, Some(&who), &mut |_, _, _| {})?;
        let tip = *commits.last().unwrap_or(&cover_commit);
        // Each version sent, as its sent/ tag: its patches on its base.
        let mut tagged = Vec::new();
        for old in &kept {
            let tag = b4::sent_tag(&change_id, old.manifest.version);
            let exists = out_opt(
                tree,
                &["rev-parse", "-q", "--verify", &format!("refs/tags/{tag}")],
            )
            .is_some();
            // A sent tag is what b4 sent: never moved, --force or not.
            if exists {
                continue;
            }
            let commits = crate::apply::apply(tree, old, Some(&who), &mut |_, _, _| {})?;
            if let Some(t) = commits.last() {
                tagged.push((tag, *t, old));
            }
        }
        stage.persist()?;
        tree.set_branch(&branch, tip, req.force)?;
        for (tag, target, old) in &tagged {
            tag_sent(tree, tag, *target, old, &change_id)?;
        }
        let tags = tagged.into_iter().map(|t| t.0).collect();
        Ok::<_, AppError>((cover_commit, commits.len(), tags))
    })?;
    git(
        &ws.tree_path()?,
        [
            "config",
            &format!("branch.{branch}.b4-prep-cover-strategy"),
            "commit",
        ],
    )?;
    if series.manifest.change_id.is_none() {
        series.manifest.change_id = Some(change_id.clone());
        store::save(&ws.series_dir, &series)?;
    }
    Ok(Exported {
        branch,
        change_id,
        revision: tracking.series.revision,
        cover_commit: cover_commit.to_string(),
        commits,
        tags,
        unresolved,
    })
}

impl Render for Exported {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "Made b4 prep branch {} (change-id {}, revision {}): a cover commit and {}.",
            self.branch,
            self.change_id,
            self.revision,
            plural(self.commits, "patch", "patches")
        )?;
        if !self.tags.is_empty() {
            writeln!(out, "Tagged the versions sent: {}.", self.tags.join(", "))?;
        }
        if !self.unresolved.is_empty() {
            writeln!(
                out,
                "warning: left out of the cover's recipients (no address known): {}",
                self.unresolved.join(", ")
            )?;
        }
        writeln!(
            out,
            "Next: `git checkout {}` and `b4 prep --show-info`, or `b4 send`.",
            self.branch
        )
    }
}
