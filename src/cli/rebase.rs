//! `series rebase`: replay the series onto a new base, in memory.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args as ClapArgs;
use git2::Oid;

use super::error::CONFLICT;
use super::progress::Progress;
use super::{CliError, Context};
use crate::git::replay::Merge;
use crate::git::{short, Resolved, Tree};
use crate::rebase::{self, RebaseError, Replayed, State};
use crate::store::{self, Series};

/// Rebase the series onto a new base (a ref, or a unique part of its name)
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The new base, e.g. mmotm-2017-03-14 or v4.11-rc3
    #[arg(required_unless_present_any = ["cont", "abort"], conflicts_with_all = ["cont", "abort"])]
    pub base: Option<String>,

    /// Drop patches the new base already contains
    #[arg(long)]
    pub drop_merged: bool,

    /// Go on after resolving a conflict in the scratch folder
    #[arg(long = "continue", conflicts_with = "abort")]
    pub cont: bool,

    /// Drop a paused rebase and its scratch folder
    #[arg(long)]
    pub abort: bool,
}

impl From<RebaseError> for CliError {
    fn from(e: RebaseError) -> Self {
        match e {
            RebaseError::Git(g) => g.into(),
            RebaseError::AlreadyMerged { .. } => {
                CliError::user(e.to_string()).hint("rerun with --drop-merged to drop them from the series")
            }
            RebaseError::NoAncestor { .. } => CliError::user(e.to_string())
                .with_code(CONFLICT)
                .hint("fetch the old base into the tree so the patch can be merged, or rebase onto a nearer base"),
            RebaseError::Damaged { .. } => {
                CliError::user(e.to_string()).hint("restore the patch file from git or re-import it with `series init`")
            }
            RebaseError::Conflict { .. } => CliError::user(e.to_string()).with_code(CONFLICT),
            RebaseError::Unresolved(_) => CliError::user(e.to_string())
                .with_code(CONFLICT)
                .hint("resolve the markers, then run `series rebase --continue`"),
            RebaseError::BadState(_) => CliError::user(e.to_string()).hint("run `series rebase --abort` and start again"),
        }
    }
}

fn state_file(dir: &Path) -> PathBuf {
    dir.join("state.toml")
}

fn scratch(dir: &Path) -> PathBuf {
    dir.join("work")
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let dir = rebase::state_dir(&ctx.project());
    if args.abort {
        if !dir.exists() {
            return Err(CliError::user("no rebase is in progress"));
        }
        fs::remove_dir_all(&dir)
            .map_err(|e| CliError::user(format!("cannot remove {}: {e}", dir.display())))?;
        writeln!(out, "Rebase aborted; series/ is as it was.")?;
        return Ok(());
    }
    let series = store::load(&ctx.series_dir)?;
    let tree = Tree::open(&ctx.tree_path()?)?;
    let mut bar = Progress::new();
    let mut progress = |i: usize, n: usize, t: &str| bar.step("rebase", i, n, t);
    if args.cont {
        let state = read_state(&dir)?;
        if state.series_digest != rebase::digest(&series) {
            return Err(CliError::user("series/ changed since the rebase stopped")
                .hint("run `series rebase --abort` and start again"));
        }
        let result = resume(&tree, &series, &state, &dir, &mut progress);
        return conclude(ctx, &tree, &series, result, &dir, out);
    }
    if dir.exists() {
        return Err(CliError::user(format!(
            "a rebase is in progress (scratch folder {})",
            super::rel(&scratch(&dir), &ctx.cwd)
        ))
        .hint(
            "finish it with `series rebase --continue`, or drop it with `series rebase --abort`",
        ));
    }
    let name = args.base.unwrap_or_default();
    let new_base = tree.resolve(&name)?;
    let result = rebase::start(&tree, &series, &new_base, args.drop_merged, &mut progress)
        .map(|done| (new_base, done));
    conclude(ctx, &tree, &series, result, &dir, out)
}

fn read_state(dir: &Path) -> Result<State, CliError> {
    let path = state_file(dir);
    let text = fs::read_to_string(&path).map_err(|_| {
        CliError::user("no rebase is in progress").hint("start one with `series rebase BASE`")
    })?;
    toml::from_str(&text).map_err(|e| {
        CliError::user(format!("{}: {}", path.display(), e.to_string().trim()))
            .hint("run `series rebase --abort` and start again")
    })
}

/// Take the user's resolution from the scratch folder and replay the rest.
fn resume(
    tree: &Tree,
    series: &Series,
    state: &State,
    dir: &Path,
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<(Resolved, Replayed), RebaseError> {
    let parse = |s: &str| {
        Oid::from_str(s).map_err(|_| RebaseError::BadState(format!("{s:?} is not an object id")))
    };
    let new_base = Resolved {
        name: state.new_base_name.clone(),
        id: parse(&state.new_base)?,
    };
    let mut resolved = Vec::new();
    let work = scratch(dir);
    for path in &state.files {
        let p = work.join(path);
        // A file the user removed is resolved as deleted; one that cannot
        // be read is an error, never taken for a deletion.
        let content = match fs::read(&p) {
            Ok(c) => Some(c),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(RebaseError::BadState(format!(
                    "cannot read the resolved file {}: {e}",
                    p.display()
                )))
            }
        };
        if content.as_deref().is_some_and(rebase::has_markers) {
            return Err(RebaseError::Unresolved(p));
        }
        resolved.push((path.clone(), content));
    }
    let parent = parse(&state.parent)?;
    let ancestor = parse(&state.ancestor)?;
    let theirs = parse(&state.theirs)?;
    let ours = tree.tree_id(parent)?;
    let merged_tree = match tree.merge3_resolved(ancestor, ours, theirs, &resolved)? {
        Merge::Clean(t) => t,
        Merge::Conflict(files) => {
            return Err(RebaseError::BadState(format!(
                "{} conflicted but was not in the scratch folder",
                files
                    .iter()
                    .map(|f| f.path.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    };
    let mail = series.patches.get(state.next).ok_or_else(|| {
        RebaseError::BadState(format!(
            "it names patch {} of a series of {}",
            state.next + 1,
            series.patches.len()
        ))
    })?;
    let mut done = Replayed {
        commits: state
            .commits
            .iter()
            .map(|c| parse(c))
            .collect::<Result<_, _>>()?,
        merged: state.merged.clone(),
        without_ancestor: Vec::new(),
    };
    let next_parent = if merged_tree == ours {
        done.merged.push(state.next);
        parent
    } else {
        let c = tree.commit_mail_on(parent, merged_tree, mail, None)?;
        done.commits.push(c);
        c
    };
    rebase::replay(
        tree,
        series,
        &new_base,
        state.next + 1,
        next_parent,
        Some(theirs),
        done,
        state.drop_merged,
        &state.series_digest,
        progress,
    )
    .map(|d| (new_base, d))
}

/// Save a finished rebase, or leave the scratch folder for a conflict.
fn conclude(
    ctx: &Context,
    tree: &Tree,
    series: &Series,
    result: Result<(Resolved, Replayed), RebaseError>,
    dir: &Path,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    match result {
        Ok((new_base, done)) => {
            let new = rebase::finish(tree, series, &new_base, &done)?;
            store::save(&ctx.series_dir, &new)?;
            if dir.exists() {
                let _ = fs::remove_dir_all(dir);
            }
            writeln!(
                out,
                "Rebased {} patch{} onto {} ({}).",
                new.patches.len(),
                if new.patches.len() == 1 { "" } else { "es" },
                new_base.name,
                short(new_base.id)
            )?;
            for &i in &done.merged {
                writeln!(
                    out,
                    "Dropped patch {} \"{}\": the new base already contains it.",
                    i + 1,
                    series.patches[i].title
                )?;
            }
            if !done.without_ancestor.is_empty() {
                writeln!(
                    out,
                    "The tree lacks the old base {}: patches were applied directly (offsets allowed, no fuzz), not merged.",
                    series.manifest.base.name
                )?;
            }
            Ok(())
        }
        Err(RebaseError::Conflict {
            nr,
            title,
            base,
            files,
            state,
        }) => {
            // The scratch folder is built beside its place and renamed in,
            // so a paused rebase is there whole or not at all.
            let write = || -> std::io::Result<()> {
                let parent = dir.parent().unwrap_or(Path::new("."));
                let stage = tempfile::Builder::new()
                    .prefix(".series-rebase-new-")
                    .tempdir_in(parent)?;
                let work = scratch(stage.path());
                fs::create_dir_all(&work)?;
                for f in &files {
                    let p = work.join(&f.path);
                    if let Some(parent) = p.parent() {
                        fs::create_dir_all(parent)?;
                    }
                    fs::write(&p, f.merged.as_deref().unwrap_or_default())?;
                }
                let text = toml::to_string_pretty(&*state).unwrap_or_default();
                let sf = state_file(stage.path());
                fs::write(&sf, text)?;
                fs::File::open(&sf)?.sync_all()?;
                fs::rename(stage.keep(), dir)
            };
            write().map_err(|e| {
                CliError::user(format!(
                    "cannot write the scratch folder {}: {e}",
                    dir.display()
                ))
            })?;
            for f in &files {
                writeln!(out, "conflict in {}:", f.path)?;
                match &f.merged {
                    Some(m) => {
                        for h in rebase::conflict_hunks(m, 3) {
                            writeln!(out, "{h}")?;
                        }
                    }
                    None => writeln!(
                        out,
                        "  (added, deleted or renamed on both sides; no text merge)"
                    )?,
                }
            }
            let where_ = super::rel(&scratch(dir), &ctx.cwd);
            Err(CliError::user(format!(
                "patch {nr} \"{title}\" conflicts with {base} in {}",
                files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>().join(", ")
            ))
            .with_code(CONFLICT)
            .hint(format!(
                "resolve the files in {where_}, then run `series rebase --continue`; or `series rebase --abort`. series/ is unchanged"
            )))
        }
        Err(e) => Err(e.into()),
    }
}
