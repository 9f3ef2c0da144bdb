//! `series diff`: a range-diff between two versions, and the changelog of
//! the current version drafted from it.

use std::io::Write;

use clap::Args as ClapArgs;
use serde::Serialize;

use super::format::version_arg;
use super::{CliError, Context};
use crate::rangediff::Mark;
use crate::store::{self, Series};
use crate::versions::{self, Comparison};

/// Compare two versions as git range-diff does [default: the last sent
/// version and the current one]
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The older version (vN)
    #[arg(value_name = "OLD")]
    pub old: Option<String>,

    /// The newer version (vN) [default: the current one]
    #[arg(value_name = "NEW")]
    pub new: Option<String>,

    /// One line per patch: what paired with what, no diffs
    #[arg(long)]
    pub stat: bool,

    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,

    /// Merge the changelog drafted from this comparison into the current
    /// version's "Changes in vN" (lines already there are kept)
    #[arg(long, conflicts_with = "no_draft")]
    pub draft: bool,

    /// Do not draft (the default; kept for scripts written before --draft)
    #[arg(long, hide = true)]
    pub no_draft: bool,
}

/// A version by its argument: the current one from series/, an earlier
/// one from series/versions/.
fn version(ctx: &Context, current: &Series, arg: &str) -> Result<Series, CliError> {
    let v = version_arg(arg).ok_or_else(|| {
        CliError::usage(format!("{arg:?} is not a version; name one as vN, e.g. v1"))
    })?;
    if v == current.manifest.version {
        return Ok(current.clone());
    }
    Ok(versions::load_version(&ctx.series_dir, v)?)
}

/// The older version `diff` and `--range-diff` compare with by default.
fn default_old(ctx: &Context, series: &Series) -> Result<Series, CliError> {
    let kept = store::kept_versions(&ctx.series_dir);
    let v = versions::default_old(series, &kept)
        .ok_or(versions::VersionError::NothingKept(series.manifest.version))?;
    Ok(versions::load_version(&ctx.series_dir, v)?)
}

/// The range-diff for a cover letter (`--range-diff[=vN]`): against the
/// version named, or by default the last sent one.
pub fn for_cover(ctx: &Context, series: &Series, spec: &str) -> Result<(u32, String), CliError> {
    let old = if spec.is_empty() {
        default_old(ctx, series)?
    } else {
        version(ctx, series, spec)?
    };
    let c = versions::compare(&old, series);
    Ok((old.manifest.version, c.render(false)))
}

#[derive(Serialize)]
struct Side<'a> {
    number: usize,
    commit: &'a str,
    subject: &'a str,
    change_id: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonRow<'a> {
    mark: &'static str,
    old: Option<Side<'a>>,
    new: Option<Side<'a>>,
}

#[derive(Serialize)]
struct Json<'a> {
    old_version: u32,
    new_version: u32,
    rows: Vec<JsonRow<'a>>,
    range_diff: String,
    drafted: &'a [String],
}

fn side(texts: &[crate::rangediff::PatchText], i: Option<usize>) -> Option<Side<'_>> {
    i.map(|i| Side {
        number: i + 1,
        commit: &texts[i].short,
        subject: &texts[i].subject,
        change_id: texts[i].change_id.as_deref(),
    })
}

fn mark_name(m: Mark) -> &'static str {
    match m {
        Mark::Same => "same",
        Mark::Changed => "changed",
        Mark::Dropped => "dropped",
        Mark::Added => "added",
    }
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let mut current = store::load(&ctx.series_dir)?;
    let old = match &args.old {
        Some(a) => version(ctx, &current, a)?,
        None => default_old(ctx, &current)?,
    };
    let new = match &args.new {
        Some(b) => version(ctx, &current, b)?,
        None => current.clone(),
    };
    let c = versions::compare(&old, &new);
    let drafted = draft(ctx, &mut current, &new, &c, !args.draft)?;
    if args.json {
        let json = Json {
            old_version: c.old_version,
            new_version: c.new_version,
            rows: c
                .rows
                .iter()
                .map(|r| JsonRow {
                    mark: mark_name(r.mark),
                    old: side(&c.a, r.a),
                    new: side(&c.b, r.b),
                })
                .collect(),
            range_diff: c.render(false),
            drafted: &drafted,
        };
        super::write_json(out, &json)?;
        return Ok(());
    }
    for line in c.render(args.stat).lines() {
        writeln!(out, "{}", super::colour::range_diff_line(line))?;
    }
    if !drafted.is_empty() {
        eprintln!(
            "Drafted {} line{} of \"Changes in v{}\" into series/series.toml; edit them there:",
            drafted.len(),
            if drafted.len() == 1 { "" } else { "s" },
            current.manifest.version
        );
        for d in &drafted {
            eprintln!("  - {d}");
        }
    }
    Ok(())
}

/// With `--draft`: merge the changelog drafted from the comparison into
/// the current version's, when the newer side is the current version and
/// it is not sent.
fn draft(
    ctx: &Context,
    current: &mut Series,
    new: &Series,
    c: &Comparison,
    no_draft: bool,
) -> Result<Vec<String>, CliError> {
    if no_draft
        || new.manifest.version != current.manifest.version
        || c.old_version >= c.new_version
        || versions::sent(current).is_some()
    {
        return Ok(Vec::new());
    }
    let lines = c.draft();
    let entry = current.current_version_mut();
    let added = versions::merge_draft(&mut entry.changes, &lines);
    if !added.is_empty() {
        store::save(&ctx.series_dir, current)?;
    }
    Ok(added)
}
