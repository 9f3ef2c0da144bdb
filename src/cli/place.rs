//! `series path`, `series list`, `series switch`, `series move` and
//! `series edit`: where a series lives and how it is edited.

use std::io::Write;
use std::path::PathBuf;

use clap::Args as ClapArgs;

use super::progress::Progress;
use super::{emit, CliError, Context};
use crate::app::{edit, place};

/// Print the folder the series lives in
#[derive(Debug, ClapArgs)]
pub struct PathArgs {
    /// Print JSON instead of text (the folder, the name, the home)
    #[arg(long)]
    pub json: bool,
}

/// List the series of this repository: name, version, state, open comments, base
#[derive(Debug, ClapArgs)]
pub struct ListArgs {
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// Make another series of this repository the current one of this worktree
#[derive(Debug, ClapArgs)]
pub struct SwitchArgs {
    /// The series' name, as `series list` shows it
    #[arg(add = super::complete::series_names())]
    pub name: String,
}

/// Move the series to a folder of your choice, or with no folder into the
/// repository's git folder (where git clean and git stash leave it alone)
#[derive(Debug, ClapArgs)]
pub struct MoveArgs {
    /// The new folder (it must not exist) [default: the repository's home]
    pub dir: Option<PathBuf>,
}

/// Put the series on its branch, checked out, and read the branch back
/// before every later command; --done leaves that loop
#[derive(Debug, ClapArgs)]
pub struct EditArgs {
    /// The working branch [default: series/<name>-v<N>]
    #[arg(long, conflicts_with = "done")]
    pub branch: Option<String>,

    /// Move the branch if it exists (puts series/ on it again)
    #[arg(long, conflicts_with = "done")]
    pub force: bool,

    /// Leave the edit loop (the branch stays as it is)
    #[arg(long)]
    pub done: bool,

    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn path(ctx: &Context, args: PathArgs, out: &mut dyn Write) -> Result<(), CliError> {
    emit(out, &place::path(ctx)?, args.json)
}

pub fn list(ctx: &Context, args: ListArgs, out: &mut dyn Write) -> Result<(), CliError> {
    emit(out, &place::list(ctx)?, args.json)
}

pub fn switch(ctx: &Context, args: SwitchArgs, out: &mut dyn Write) -> Result<(), CliError> {
    emit(out, &place::switch(ctx, &args.name)?, false)
}

pub fn relocate(ctx: &Context, args: MoveArgs, out: &mut dyn Write) -> Result<(), CliError> {
    emit(out, &place::relocate(ctx, args.dir.as_ref())?, false)
}

pub fn edit(ctx: &Context, args: EditArgs, out: &mut dyn Write) -> Result<(), CliError> {
    if args.done {
        return emit(out, &edit::done(ctx)?, args.json);
    }
    let mut bar = Progress::new();
    let r = edit::start(ctx, args.branch, args.force, &mut |w, i, n, t| {
        bar.step(w, i, n, t)
    })?;
    bar.done();
    emit(out, &r, args.json)
}
