//! `series format`: write the current version as mails for `git send-email`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args as ClapArgs;

use super::{CliError, Context};
use crate::outgoing;
use crate::prepare::{self, Place};
pub use crate::prepare::{Asked, Plan, Prepared};
use crate::store::{self, Series};

/// Write the cover letter and patches of the current version to a folder
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Output folder [default: outgoing/vN beside series/]
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub addressing: Addressing,
}

/// Recipients and threading, shared by `format` and `send`.
#[derive(Debug, Clone, Default, ClapArgs)]
pub struct Addressing {
    /// Add a To: recipient: an address or a list name from MAINTAINERS (repeatable)
    #[arg(long, value_name = "WHO")]
    pub to: Vec<String>,

    /// Add a Cc: recipient: an address or a list name from MAINTAINERS (repeatable)
    #[arg(long, value_name = "WHO")]
    pub cc: Vec<String>,

    /// Thread the cover letter under this Message-Id, or under the cover of
    /// an earlier version given as vN
    #[arg(long, value_name = "MSGID|vN")]
    pub in_reply_to: Option<String>,

    /// Add a range-diff against an earlier version (vN; default the last
    /// one sent) to the cover letter, as git format-patch --range-diff does
    #[arg(long, value_name = "vN", num_args = 0..=1, default_missing_value = "")]
    pub range_diff: Option<String>,

    /// Do not Cc the people named in each patch's trailers
    #[arg(long)]
    pub suppress_cc: bool,

    /// Do not sign the mails (they are signed, as patatt signs, when
    /// patatt.signingkey names an ed25519 key)
    #[arg(long)]
    pub no_sign: bool,
}

impl Addressing {
    /// What the flags ask for: `--in-reply-to vN` names that version's
    /// cover, `--range-diff` is computed against the version it names.
    pub fn asked(&self, ctx: &Context, series: &Series) -> Result<Asked, CliError> {
        let in_reply_to = match &self.in_reply_to {
            Some(r) => Some(earlier_cover(series, r)?),
            None => None,
        };
        let range_diff = match &self.range_diff {
            Some(v) => Some(super::diff::for_cover(ctx, series, v)?),
            None => None,
        };
        Ok(Asked {
            to: self.to.clone(),
            cc: self.cc.clone(),
            in_reply_to,
            suppress_cc: self.suppress_cc,
            range_diff,
            no_sign: self.no_sign,
        })
    }
}

/// A version named as `vN` or `N`.
pub fn version_arg(s: &str) -> Option<u32> {
    s.strip_prefix('v')
        .unwrap_or(s)
        .parse()
        .ok()
        .filter(|&v| v >= 1)
}

/// `--in-reply-to`: a Message-Id as given, or `vN` for that version's
/// cover letter as recorded when it was sent.
fn earlier_cover(series: &Series, given: &str) -> Result<String, CliError> {
    let Some(v) = version_arg(given) else {
        return Ok(given.to_string());
    };
    series
        .manifest
        .history
        .iter()
        .find(|h| h.version == v)
        .and_then(|h| h.message_ids.first())
        .cloned()
        .ok_or_else(|| {
            CliError::user(format!(
                "--in-reply-to {given}: v{v} has no recorded Message-Id (it was not sent by series)"
            ))
            .hint("give the cover letter's Message-Id itself")
        })
}

/// A plan with the clock (`SERIES_NOW` or the real one) and the sender's
/// identity.
pub fn plan(ctx: &Context, series: &Series, asked: Asked) -> Result<Plan, CliError> {
    let sign = if asked.no_sign {
        None
    } else {
        crate::attest::Key::configured(&|k| ctx.config(k), ctx.tree_path_opt().as_deref())
            .map_err(|e| CliError::user(e.to_string()).hint("fix patatt.signingkey (`series attest --gen-key` makes a key), or pass --no-sign"))?
    };
    Ok(Plan {
        asked,
        now: ctx.now(),
        sender: ctx.sender(series),
        exact: None,
        sign,
    })
}

/// Render the version once, where `ctx` says (`output` overrides
/// outgoing/vN beside series/).
pub fn prepare_in(
    ctx: &Context,
    series: Series,
    plan: &Plan,
    output: Option<PathBuf>,
) -> Result<Prepared, CliError> {
    let dir = output
        .map(|o| if o.is_absolute() { o } else { ctx.cwd.join(o) })
        .unwrap_or_else(|| {
            ctx.project()
                .join("outgoing")
                .join(format!("v{}", series.manifest.version))
        });
    let place = Place {
        tree: ctx.tree_path_opt(),
        project: ctx.project(),
        dir,
        cover_name: super::rel(&ctx.series_dir.join(store::COVER), &ctx.cwd),
    };
    Ok(prepare::prepare(series, plan, &place)?)
}

/// The error for a cover diffstat that no longer describes the patches.
pub fn stale_diffstat() -> CliError {
    CliError::user(
        "the patch files changed since the cover letter's diffstat was computed (series/patches was edited)",
    )
    .hint("run with --tree pointing at a kernel tree that has the base (and where every patch applies), so the diffstat is computed again")
}

/// Draft the changelog of a version after the first from the last one
/// kept, when the author has written none of it; `learned` says the
/// series should be saved.
pub fn draft_changelog(ctx: &Context, series: &mut Series) -> Result<Vec<String>, CliError> {
    let kept = store::kept_versions(&ctx.series_dir);
    let Some(v) = crate::versions::default_old(series, &kept) else {
        return Ok(Vec::new());
    };
    let old = crate::versions::load_version(&ctx.series_dir, v)?;
    Ok(crate::versions::draft_changelog(series, &old))
}

/// Write the prepared files and report them.
pub fn write_out(ctx: &Context, p: &Prepared, out: &mut dyn Write) -> Result<(), CliError> {
    // outgoing/vN beside series/ is series' own; a folder given with -o
    // is used when empty or marked by an earlier write.
    let own = ctx.project().join("outgoing");
    outgoing::write(&p.dir, &p.messages, p.dir.starts_with(&own))?;
    if p.learned {
        store::save(&ctx.series_dir, &p.series)?;
    }
    for m in &p.messages {
        writeln!(out, "{}", super::rel(&p.dir.join(&m.file), &ctx.cwd))?;
    }
    Ok(())
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let mut series = store::load(&ctx.series_dir)?;
    let drafted = draft_changelog(ctx, &mut series)?;
    let asked = args.addressing.asked(ctx, &series)?;
    let plan = plan(ctx, &series, asked)?;
    let mut p = prepare_in(ctx, series, &plan, args.output)?;
    p.learned |= !drafted.is_empty();
    if p.stale_diffstat {
        return Err(stale_diffstat());
    }
    write_out(ctx, &p, out)
}
