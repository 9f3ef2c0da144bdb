//! `series refresh`: bring a branch's commits back into series/.

use std::io::Write;

use clap::Args as ClapArgs;

use super::{CliError, Context};
use crate::git::Tree;
use crate::refresh::{self, Fate};
use crate::store;

/// Read the commits of a branch back into series/ (after `series apply`,
/// commit --amend or rebase -i)
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The branch [default: the one `series apply` makes, series/<name>-v<N>]
    #[arg(long)]
    pub branch: Option<String>,

    /// The branch starts on another base than the series' (a ref or a
    /// unique part of its name)
    #[arg(long)]
    pub base: Option<String>,

    /// Show what would change without saving
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let series = store::load(&ctx.series_dir)?;
    let tree = Tree::open(&ctx.tree_path()?)?;
    let m = &series.manifest;
    let branch = args
        .branch
        .unwrap_or_else(|| crate::apply::default_branch(m));
    let r = refresh::refresh(&tree, &series, &branch, args.base.as_deref())?;
    for l in &r.lines {
        let what = match (&l.fate, l.was, l.nr) {
            (None, Some(w), _) => format!("dropped (was {})", w + 1),
            (Some(Fate::New), _, _) => "new".to_string(),
            (Some(f), Some(w), Some(n)) => {
                let mut s = if *f == Fate::Same {
                    "unchanged"
                } else {
                    "modified"
                }
                .to_string();
                if w + 1 != n {
                    s.push_str(&format!(", was {}", w + 1));
                }
                s
            }
            _ => String::new(),
        };
        let nr = l.nr.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
        writeln!(out, "{nr:>3}  {what:<22} {}", l.subject)?;
    }
    if r.base_changed {
        writeln!(
            out,
            "Base: {} ({})",
            r.series.manifest.base.name,
            &r.series.manifest.base.commit[..12]
        )?;
    }
    if !r.changed() {
        writeln!(out, "series/ already matches {branch}; nothing changed.")?;
        return Ok(());
    }
    if args.dry_run {
        writeln!(out, "Dry run: series/ was not changed.")?;
        return Ok(());
    }
    store::save(&ctx.series_dir, &r.series)?;
    writeln!(
        out,
        "Refreshed series/ from {branch}: {} patch{}.",
        r.series.patches.len(),
        if r.series.patches.len() == 1 {
            ""
        } else {
            "es"
        }
    )?;
    Ok(())
}
