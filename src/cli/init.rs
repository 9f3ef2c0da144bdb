//! `series init`: create `series/` from commits of a kernel tree.

use std::io::Write;

use clap::Args as ClapArgs;

use super::{CliError, Context};
use crate::git::{short, Tree};
use crate::model::{patch_file_name, Version};
use crate::store::{self, Base, Manifest, PatchEntry, Recipients, Series, VersionEntry, FORMAT};

/// The prose a new cover letter starts with; `series check` flags it.
pub const BLURB: &str = "*** BLURB HERE ***\n";
/// The subject a new series starts with until `--subject` or an edit.
pub const SUBJECT: &str = "*** SUBJECT HERE ***";

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

/// The first line of a commit's message: git names patch files after it.
fn first_line(tree: &Tree, id: git2::Oid) -> Option<String> {
    let c = tree.repo().find_commit(id).ok()?;
    let msg = String::from_utf8_lossy(c.message_bytes()).into_owned();
    msg.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let dir = &ctx.series_dir;
    if dir.exists() {
        return Err(CliError::user(format!("{} already exists", dir.display()))
            .hint("remove it first, or pass --series DIR to make another"));
    }
    let tree_path = ctx.tree_path()?;
    let tree = Tree::open(&tree_path)?;
    let base = tree.resolve(&args.base)?;
    let ids = tree.series_commits(&base, args.range.as_deref())?;
    let mut patches = Vec::with_capacity(ids.len());
    for id in &ids {
        patches.push(tree.commit_mail(*id)?);
    }
    let tip = *ids
        .last()
        .ok_or_else(|| CliError::internal("empty range after checks"))?;
    let diffstat = tree.stat_between(base.id, tip)?;
    let name = args
        .name
        .or_else(|| {
            tree.repo()
                .head()
                .ok()
                .and_then(|h| h.shorthand().ok().map(str::to_string))
                .filter(|n| n != "HEAD")
        })
        .unwrap_or_else(|| "series".into());
    let signature = tree
        .config_string("format.signature")
        .unwrap_or_else(|| format!("series {}", env!("CARGO_PKG_VERSION")));
    let entries = ids
        .iter()
        .zip(&patches)
        .enumerate()
        .map(|(i, (id, p))| PatchEntry {
            change_id: id.to_string()[..16].to_string(),
            file: patch_file_name(
                None,
                i + 1,
                &first_line(&tree, *id).unwrap_or_else(|| p.title.clone()),
            ),
        })
        .collect();
    let history = (1..=args.version.0)
        .map(|v| VersionEntry {
            version: v,
            base: (v == args.version.0)
                .then(|| args.base_name.clone().unwrap_or(base.name.clone())),
            ..VersionEntry::default()
        })
        .collect();
    let series = Series {
        manifest: Manifest {
            format: FORMAT,
            name,
            subject: args.subject.unwrap_or_else(|| SUBJECT.into()),
            version: args.version.0,
            prefix: args.prefix,
            signature,
            diffstat,
            diffstat_of: None,
            base: Base {
                name: args.base_name.unwrap_or(base.name.clone()),
                commit: base.id.to_string(),
            },
            recipients: Recipients::default(),
            lists: Default::default(),
            patches: entries,
            history,
        },
        cover: BLURB.into(),
        patches,
        bench: Default::default(),
        on_disk: Vec::new(),
    };
    let mut series = series;
    series.manifest.diffstat_of = Some(series.diffs_digest());
    store::create(dir, &series)?;
    writeln!(
        out,
        "Created {} with {} patch{} on {} ({}), version {}.",
        super::rel(dir, &ctx.cwd),
        series.patches.len(),
        if series.patches.len() == 1 { "" } else { "es" },
        series.manifest.base.name,
        short(base.id),
        series.manifest.version
    )?;
    writeln!(
        out,
        "Next: write the cover letter in {}.",
        super::rel(&dir.join(store::COVER), &ctx.cwd)
    )?;
    Ok(())
}
