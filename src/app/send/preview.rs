//! A look before the real send, recorded nowhere: `series send
//! --preview-to` (to chosen reviewers, PREVIEW in the prefix) and `series
//! send --reflect` (the real mails, headers and all, to the sender only).

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

/// A preview or a reflect sent.
#[derive(Serialize)]
pub struct Previewed {
    pub version: u32,
    /// Who received it (the envelope's recipients).
    pub to: Vec<String>,
    pub subjects: Vec<String>,
    /// A reflect: the headers name the real recipients, not `to`.
    pub reflect: bool,
}

impl Render for Previewed {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for s in &self.subjects {
            writeln!(out, "  {s}")?;
        }
        writeln!(
            out,
            "v{} {} to {}: {} (not recorded: the version is not sent)",
            self.version,
            if self.reflect {
                "reflected, with the real send's headers,"
            } else {
                "previewed"
            },
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
    let scratch = scratch()?;
    let p = mails::prepare_in(ws, series, &plan, Some(scratch.path().to_path_buf()))?;
    let to = p.messages[0].to.clone();
    hand_over(ws, &p, None, limit)?;
    Ok(Previewed {
        version: p.series.manifest.version,
        to,
        subjects: p.messages.iter().map(|m| m.subject.clone()).collect(),
        reflect: false,
    })
}

/// `series send --reflect`: the version rendered as `req` would send it
/// (the same recipients, threading, cover and signatures), each message
/// handed to git send-email as the real send hands it, but with series
/// itself as git send-email's sendmail command, which passes the message
/// to the sender alone (see [`crate::send::reflect`]). Nothing is
/// recorded, and the Message-Ids are the reflect's own.
pub fn reflect(ws: &Workspace, req: &super::Request) -> Result<Previewed, AppError> {
    let mut series = store::load(&ws.series_dir)?;
    series.manifest.name = format!("{}-reflect", series.manifest.name);
    let scratch = scratch()?;
    let s = super::fresh(ws, series, req, Some(scratch.path().to_path_buf()))?;
    let p = &s.prepared;
    if p.messages[0].to.is_empty() {
        return Err(AppError::refuse(format!(
            "v{} has no To: recipient; nothing was reflected",
            p.series.manifest.version
        ))
        .hint("give the recipients of the real send: --to LIST, or --auto-cc with a kernel tree"));
    }
    let me = ws.sender(&p.series);
    let via = crate::send::reflect::sendmail_cmd(&me.email, &me.email)
        .map_err(|e| AppError::refuse(format!("cannot find series' own program: {e}")))?;
    hand_over(ws, p, Some(&via), req.send_timeout)?;
    Ok(Previewed {
        version: p.series.manifest.version,
        to: vec![me.to_string()],
        subjects: p.messages.iter().map(|m| m.subject.clone()).collect(),
        reflect: true,
    })
}

fn scratch() -> Result<tempfile::TempDir, AppError> {
    tempfile::Builder::new()
        .prefix("series-preview-")
        .tempdir()
        .map_err(|e| AppError::refuse(format!("cannot make a scratch folder: {e}")))
}

/// Write the rendered messages and hand each to git send-email (with
/// `sendmail_cmd`, when given, as its sendmail command).
fn hand_over(
    ws: &Workspace,
    p: &crate::prepare::Prepared,
    sendmail_cmd: Option<&str>,
    limit: Duration,
) -> Result<(), AppError> {
    if p.stale_diffstat {
        return Err(mails::stale_diffstat());
    }
    crate::outgoing::write(&p.dir, &p.messages, false)
        .map_err(|e| AppError::refuse(format!("cannot write the mails: {e}")))?;
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
            sendmail_cmd,
            limit,
        )
        .map_err(|e| {
            AppError::refuse(format!("{}: {e}", m.subject))
                .kind(Kind::Tool)
                .hint("nothing is recorded for a preview or a reflect; fix the mail setup and run it again")
        })?;
    }
    Ok(())
}
