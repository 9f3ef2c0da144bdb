//! `series reroll`: keep the current version as it is and start the next.

use std::io::Write;

use clap::Args as ClapArgs;

use super::{CliError, Context};
use crate::store;
use crate::versions;

/// Start the next version: keep this one, frozen, in series/versions/
#[derive(Debug, ClapArgs)]
pub struct Args {}

pub fn run(ctx: &Context, _args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let series = store::load(&ctx.series_dir)?;
    let kept = store::kept_versions(&ctx.series_dir);
    let mut r = versions::reroll(&series, &kept)?;
    // Comments resolved as addressed in the new version draft its changelog.
    let new_version = r.series.manifest.version;
    let mut drafted = Vec::new();
    let mut cc_added = Vec::new();
    if !series.replies.is_empty() {
        let (board, _) = super::review::board_of(ctx, &series)?;
        let archive = super::init::lore_base(ctx, None);
        drafted = crate::review::ledger::addressed_in(&board, new_version, &archive);
        r.series.current_version_mut().changes = drafted.clone();
        // Everyone who commented on or gave a tag for an earlier version
        // is Cc'd on this one.
        for (a, v) in crate::review::ledger::reviewers(&board, new_version) {
            if crate::review::add_cc(&mut r.series, &a) {
                cc_added.push((a, v));
            }
        }
    }
    store::save(&ctx.series_dir, &r.series)?;
    let old = series.manifest.version;
    let new = r.series.manifest.version;
    match (r.kept_now, r.was_sent) {
        (_, true) => writeln!(
            out,
            "v{old} was sent and is kept in series/versions/v{old}/."
        )?,
        (Some(_), false) => writeln!(
            out,
            "v{old} was never sent; kept as it is in series/versions/v{old}/."
        )?,
        (None, false) => writeln!(out, "v{old} is kept in series/versions/v{old}/.")?,
    }
    for (a, v) in &cc_added {
        writeln!(
            out,
            "Cc'd on v{new}: {} (reviewed v{v}); remove it from [recipients] in series.toml to leave it out.",
            super::printable(a)
        )?;
    }
    if drafted.is_empty() {
        writeln!(out, "Now preparing v{new}: its changelog is empty.")?;
    } else {
        writeln!(
            out,
            "Now preparing v{new}; its changelog has the comments addressed:"
        )?;
        for d in &drafted {
            writeln!(out, "  - {d}")?;
        }
    }
    writeln!(
        out,
        "Next: change the patches (rebase, or apply, edit and `series refresh`), then `series diff` drafts \"Changes in v{new}\"."
    )?;
    Ok(())
}
