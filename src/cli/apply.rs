//! `series apply`: put the series on a kernel tree as a branch of commits.

use std::io::Write;

use clap::Args as ClapArgs;

use super::progress::Progress;
use super::{CliError, Context};
use crate::apply::{self, ApplyError};
use crate::git::replay::Committer;
use crate::git::{short, Tree};
use crate::model::Person;
use crate::store;

/// Make a branch at the base with one commit per patch
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Branch to create [default: series/<name>-v<N>]
    #[arg(long)]
    pub branch: Option<String>,

    /// Move the branch if it exists
    #[arg(long)]
    pub force: bool,

    /// Check the branch out in the tree afterwards
    #[arg(long)]
    pub checkout: bool,

    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let series = store::load(&ctx.series_dir)?;
    let m = &series.manifest;
    let (branch, commits, tip) = Tree::staged(&ctx.tree_path()?, |tree, stage| {
        let branch = args
            .branch
            .unwrap_or_else(|| crate::apply::default_branch(m));
        if tree.has_branch(&branch) && !args.force {
            return Err(CliError::user(format!(
                "branch {branch} already exists in {}",
                tree.path().display()
            ))
            .hint("pass --force to move it, or --branch NAME"));
        }
        if !tree.has_commit(&m.base.commit) {
            return Err(ApplyError::NoBase {
                name: m.base.name.clone(),
                commit: m.base.commit.clone(),
            }
            .into());
        }
        // The committer as git am takes it: GIT_COMMITTER_NAME/EMAIL, else the
        // tree's user.name/user.email; at the clock.
        let who = match &ctx.committer_env {
            (Some(name), Some(email)) => Person {
                name: name.clone(),
                email: email.clone(),
            },
            _ => tree.config_identity()?,
        };
        let now = ctx.now();
        let committer = Committer {
            who,
            secs: now.secs,
            offset_minutes: now.offset_minutes,
        };
        let mut bar = Progress::new();
        let commits = apply::apply(tree, &series, Some(&committer), &mut |i, n, t| {
            bar.step("apply", i, n, t)
        })?;
        bar.done();
        let tip = *commits
            .last()
            .ok_or_else(|| CliError::user("the series has no patches"))?;
        // The commits reach the object store before a branch names them.
        stage.persist()?;
        if args.checkout {
            tree.set_branch_and_checkout(&branch, tip, args.force)?;
        } else {
            tree.set_branch(&branch, tip, args.force)?;
        }
        Ok::<_, CliError>((branch, commits, tip))
    })?;
    if args.json {
        let v = serde_json::json!({
            "branch": branch,
            "base": { "name": m.base.name, "commit": m.base.commit },
            "commits": commits.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
            "checked_out": args.checkout,
        });
        super::write_json(out, &v)?;
        return Ok(());
    }
    writeln!(
        out,
        "Applied {} patch{} on {} as branch {branch} ({}){}.",
        commits.len(),
        if commits.len() == 1 { "" } else { "es" },
        m.base.name,
        short(tip),
        if args.checkout { ", checked out" } else { "" }
    )?;
    Ok(())
}
