//! `series apply`: put the series on a kernel tree as a branch of commits.

use std::io::Write;

use clap::Args as ClapArgs;

use super::progress::Progress;
use super::{CliError, Context};
use crate::apply::{self, ApplyError};
use crate::git::{short, Tree};
use crate::outgoing::Moment;
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
}

impl From<ApplyError> for CliError {
    fn from(e: ApplyError) -> Self {
        match e {
            ApplyError::Git(g) => g.into(),
            ApplyError::NoBase { .. } => CliError::user(e.to_string())
                .hint("fetch the base into the tree, or `series rebase` onto a base it has"),
            ApplyError::DoesNotApply { .. } => {
                CliError::user(e.to_string()).hint("`series check` shows why; rebase the series")
            }
        }
    }
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let series = store::load(&ctx.series_dir)?;
    let tree = Tree::open(&ctx.tree_path()?)?;
    let m = &series.manifest;
    let branch = args
        .branch
        .unwrap_or_else(|| format!("series/{}-v{}", m.name, m.version));
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
    let now = std::env::var("SERIES_NOW")
        .ok()
        .filter(|v| !v.is_empty())
        .map(|_| Moment::now())
        .transpose()?
        .map(|m| (m.secs, m.offset_minutes));
    let committer = tree.user_signature(now)?;
    let mut bar = Progress::new();
    let commits = apply::apply(&tree, &series, Some(&committer), &mut |i, n, t| {
        bar.step("apply", i, n, t)
    })?;
    bar.done();
    let tip = *commits
        .last()
        .ok_or_else(|| CliError::user("the series has no patches"))?;
    tree.set_branch(&branch, tip, args.force)?;
    if args.checkout {
        tree.checkout_branch(&branch)?;
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
