//! `series reroll`: keep the current version as it is and start the next,
//! its changelog drafted from the comments addressed in it, its Cc from
//! everyone who reviewed an earlier one.

use std::io::Write;

use serde::Serialize;

use super::AppError;
use crate::store;
use crate::term::{printable, Render};
use crate::workspace::Workspace;

/// What `series reroll` did.
#[derive(Serialize)]
pub struct Rerolled {
    pub old: u32,
    pub new: u32,
    pub was_sent: bool,
    /// Whether the old version was kept only now (never sent).
    pub kept_now: bool,
    /// The changelog lines drafted from comments addressed in the new version.
    pub drafted: Vec<String>,
    /// (address, version reviewed) added to the Cc.
    pub cc_added: Vec<(String, u32)>,
}

/// `series reroll`.
pub fn run(ws: &Workspace) -> Result<Rerolled, AppError> {
    let series = store::load(&ws.series_dir)?;
    let kept = store::kept_versions(&ws.series_dir);
    let mut r = crate::versions::reroll(&series, &kept)?;
    let new = r.series.manifest.version;
    let mut drafted = Vec::new();
    let mut cc_added = Vec::new();
    if !series.replies.is_empty() {
        let (board, _) = super::board(ws, &series)?;
        drafted = crate::review::ledger::addressed_in(&board, new, &ws.archive(None));
        r.series.current_version_mut().changes = drafted.clone();
        // Everyone who commented on or gave a tag for an earlier version
        // is Cc'd on this one.
        for (a, v) in crate::review::ledger::reviewers(&board, new) {
            if crate::review::add_cc(&mut r.series, &a) {
                cc_added.push((a, v));
            }
        }
    }
    store::save(&ws.series_dir, &r.series)?;
    Ok(Rerolled {
        old: series.manifest.version,
        new,
        was_sent: r.was_sent,
        kept_now: r.kept_now.is_some(),
        drafted,
        cc_added,
    })
}

impl Render for Rerolled {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let (old, new) = (self.old, self.new);
        match (self.kept_now, self.was_sent) {
            (_, true) => writeln!(
                out,
                "v{old} was sent and is kept in series/versions/v{old}/."
            )?,
            (true, false) => writeln!(
                out,
                "v{old} was never sent; kept as it is in series/versions/v{old}/."
            )?,
            (false, false) => writeln!(out, "v{old} is kept in series/versions/v{old}/.")?,
        }
        for (a, v) in &self.cc_added {
            writeln!(
                out,
                "Cc'd on v{new}: {} (reviewed v{v}); remove it from [recipients] in series.toml to leave it out.",
                printable(a)
            )?;
        }
        if self.drafted.is_empty() {
            writeln!(out, "Now preparing v{new}: its changelog is empty.")?;
        } else {
            writeln!(
                out,
                "Now preparing v{new}; its changelog has the comments addressed:"
            )?;
            for d in &self.drafted {
                writeln!(out, "  - {d}")?;
            }
        }
        writeln!(
            out,
            "Next: change the patches (rebase, `series edit`, or apply, edit and `series refresh`), then `series diff` drafts \"Changes in v{new}\"."
        )
    }
}
