//! `series rebase`: replay the series onto a new base, in memory.

use std::fs;
use std::io::Write;
use std::path::Path;

use clap::Args as ClapArgs;

use super::error::CONFLICT;
use super::progress::Progress;
use super::{CliError, Context};
use crate::git::{short, Resolved, Tree};
use crate::rebase::{self, RebaseError, Replayed};
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

    /// Print JSON instead of text (also on a conflict, with exit code 3)
    #[arg(long)]
    pub json: bool,
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
    crate::versions::writable(&series)?;
    Tree::staged(&ctx.tree_path()?, |tree, stage| {
        let mut bar = Progress::new();
        let mut progress = |i: usize, n: usize, t: &str| bar.step("rebase", i, n, t);
        let onto = (!args.cont).then(|| args.base.clone().unwrap_or_default());
        let result = rebase::run(
            tree,
            stage,
            &series,
            &dir,
            onto.as_deref(),
            args.drop_merged,
            &mut progress,
        );
        conclude(ctx, tree, &series, result, &dir, args.json, out)
    })
}

/// Save a finished rebase, or leave the scratch folder for a conflict.
fn conclude(
    ctx: &Context,
    tree: &Tree,
    series: &Series,
    result: Result<(Resolved, Replayed), RebaseError>,
    dir: &Path,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    match result {
        Ok((new_base, done)) => {
            if let Some(note) = new_base.guess_note() {
                eprintln!("note: {note}");
            }
            let new = rebase::finish(tree, series, &new_base, &done)?;
            store::save(&ctx.series_dir, &new)?;
            if dir.exists() {
                let _ = fs::remove_dir_all(dir);
            }
            if json {
                let v = serde_json::json!({
                    "status": "rebased",
                    "onto": { "name": new_base.name, "commit": new_base.id.to_string() },
                    "patches": new.patches.iter().map(|p| p.title.clone()).collect::<Vec<_>>(),
                    "dropped": done.merged.iter().map(|&i| serde_json::json!({
                        "number": i + 1, "subject": series.patches[i].title })).collect::<Vec<_>>(),
                    "applied_without_old_base": !done.without_ancestor.is_empty(),
                });
                super::write_json(out, &v)?;
                return Ok(());
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
            ..
        }) => {
            if json {
                let v = serde_json::json!({
                    "status": "conflict",
                    "patch": nr,
                    "subject": title,
                    "onto": base,
                    "files": files.iter().map(|f| serde_json::json!({
                        "path": f.path,
                        "hunks": f.merged.as_ref().map(|m| rebase::conflict_hunks(m, 3)),
                    })).collect::<Vec<_>>(),
                    "scratch": super::rel(&rebase::paused::scratch(dir), &ctx.cwd),
                });
                super::write_json(out, &v)?;
            }
            for f in files.iter().filter(|_| !json) {
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
            let where_ = super::rel(&rebase::paused::scratch(dir), &ctx.cwd);
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
