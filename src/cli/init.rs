//! `series init`: create `series/` from commits of a kernel tree.

use std::io::Write;

use clap::Args as ClapArgs;

use super::{CliError, Context};
use crate::git::Tree;
use crate::import;
use crate::model::Version;
use crate::store;

/// Create series/ from the commits between a base and the tip
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Where the series starts: a tag, branch, commit or a unique part of a ref name
    #[arg(long)]
    pub base: String,

    /// Record the base under this name instead (e.g. an mmotm tag the tree lacks)
    #[arg(long, value_name = "NAME")]
    pub base_name: Option<String>,

    /// The commits to import [default: BASE..HEAD]; `A..B`, or a tip commit
    pub range: Option<String>,

    /// The version being prepared
    #[arg(long = "version", short = 'v', default_value = "1", value_name = "N")]
    pub version: Version,

    /// Short name of the series [default: the tree's current branch]
    #[arg(long)]
    pub name: Option<String>,

    /// The cover letter subject
    #[arg(long)]
    pub subject: Option<String>,

    /// Subject prefix
    #[arg(long, default_value = "PATCH")]
    pub prefix: String,
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let dir = &ctx.series_dir;
    if dir.exists() {
        return Err(CliError::user(format!("{} already exists", dir.display()))
            .hint("remove it first, or pass --series DIR to make another"));
    }
    let tree = Tree::open(&ctx.tree_path()?)?;
    let opts = import::Options {
        base: args.base,
        base_name: args.base_name,
        range: args.range,
        version: args.version.0,
        name: args.name,
        subject: args.subject,
        prefix: args.prefix,
    };
    let series = import::from_tree(&tree, &opts)?;
    store::create(dir, &series)?;
    writeln!(
        out,
        "Created {} with {} patch{} on {} ({}), version {}.",
        super::rel(dir, &ctx.cwd),
        series.patches.len(),
        if series.patches.len() == 1 { "" } else { "es" },
        series.manifest.base.name,
        series.manifest.base.commit.get(..12).unwrap_or(""),
        series.manifest.version
    )?;
    writeln!(
        out,
        "Next: write the cover letter in {}.",
        super::rel(&dir.join(store::COVER), &ctx.cwd)
    )?;
    Ok(())
}
