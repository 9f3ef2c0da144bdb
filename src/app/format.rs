//! `series format`: the current version as mails for `git send-email`.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use super::mails::{self, Addressing};
use super::AppError;
use crate::store;
use crate::term::Render;
use crate::workspace::Workspace;

/// The files written.
#[derive(Serialize)]
pub struct Formatted {
    pub folder: String,
    pub files: Vec<String>,
}

/// `series format`, into `output` or outgoing/vN.
pub fn run(ws: &Workspace, output: Option<PathBuf>, a: &Addressing) -> Result<Formatted, AppError> {
    let mut series = store::load(&ws.series_dir)?;
    let drafted = mails::draft_changelog(ws, &mut series)?;
    let asked = mails::asked(ws, &series, a)?;
    let plan = mails::plan(ws, &series, asked)?;
    let mut p = mails::prepare_in(ws, series, &plan, output)?;
    p.learned |= !drafted.is_empty();
    if p.stale_diffstat {
        return Err(mails::stale_diffstat());
    }
    let files = mails::write_out(ws, &p)?;
    Ok(Formatted {
        folder: super::shown(ws, &p.dir),
        files,
    })
}

impl Render for Formatted {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for f in &self.files {
            writeln!(out, "{f}")?;
        }
        Ok(())
    }
}
