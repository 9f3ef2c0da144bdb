//! `series send --preview-to`: the version as it will go out, to chosen
//! reviewers only, recorded nowhere.

use std::io::Write;
use std::time::Duration;

use serde::Serialize;

use super::super::mails::{self, Addressing};
use super::super::AppError;
use super::expand_aliases;
use crate::error::Kind;
use crate::git::cmd;
use crate::store;
use crate::term::Render;
use crate::workspace::Workspace;

/// A preview sent (`series send --preview-to`).
#[derive(Serialize)]
pub struct Previewed {
    pub version: u32,
    pub to: Vec<String>,
    pub subjects: Vec<String>,
}

impl Render for Previewed {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for s in &self.subjects {
            writeln!(out, "  {s}")?;
        }
        writeln!(
            out,
            "v{} previewed to {}: {} (not recorded: the version is not sent)",
            self.version,
            self.to.join(", "),
            crate::term::plural(self.subjects.len(), "message", "messages")
        )
    }
}

/// `series send --preview-to ADDR...`: the version as it will go out, with
/// PREVIEW before its subject prefix, to `who` only (no Cc, no trailer
/// Cc), each message handed to git send-email. Nothing is recorded: no
/// journal, the version stays unsent, its recipients are not kept, and
/// the Message-Ids are the preview's own (the real send makes others).
pub fn preview(
    ws: &Workspace,
    who: &[String],
    no_sign: bool,
    limit: Duration,
) -> Result<Previewed, AppError> {
    let mut series = store::load(&ws.series_dir)?;
    let m = &mut series.manifest;
    m.prefix = format!("PREVIEW {}", m.prefix);
    m.name = format!("{}-preview", m.name);
    m.recipients = Default::default();
    let a = Addressing {
        to: expand_aliases(ws, who),
        suppress_cc: true,
        no_sign,
        ..Default::default()
    };
    let asked = mails::asked(ws, &series, &a)?;
    let plan = mails::plan(ws, &series, asked)?;
    let scratch = tempfile::Builder::new()
        .prefix("series-preview-")
        .tempdir()
        .map_err(|e| AppError::refuse(format!("cannot make a scratch folder: {e}")))?;
    let p = mails::prepare_in(ws, series, &plan, Some(scratch.path().to_path_buf()))?;
    if p.stale_diffstat {
        return Err(mails::stale_diffstat());
    }
    crate::outgoing::write(&p.dir, &p.messages, false)
        .map_err(|e| AppError::refuse(format!("cannot write the preview: {e}")))?;
    let from = match ws.config("sendemail.from") {
        Some(_) => None,
        None => Some(ws.sender(&p.series).to_string()),
    };
    let dir = ws.config_dir();
    for m in &p.messages {
        cmd::send_email(
            &dir,
            &p.dir.join(&m.file),
            from.as_deref(),
            &m.to,
            &m.cc,
            limit,
        )
        .map_err(|e| {
            AppError::refuse(format!("{}: {e}", m.subject))
                .kind(Kind::Tool)
                .hint("nothing is recorded for a preview; fix the mail setup and run it again")
        })?;
    }
    Ok(Previewed {
        version: p.series.manifest.version,
        to: p.messages[0].to.clone(),
        subjects: p.messages.iter().map(|m| m.subject.clone()).collect(),
    })
}
