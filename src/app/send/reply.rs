//! `series send --reply FILE`: one reply written by `series review reply`,
//! recorded in series/review.toml before it goes and marked accepted
//! after, so it is never sent twice; the comment it answers is then
//! answered.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::app::{given, shown, AppError};
use crate::error::Kind;
use crate::mail::received::Received;
use crate::review::state::{CommentState, Review, SentReply, State};
use crate::send::journal;
use crate::store;
use crate::term::Render;
use crate::workspace::Workspace;

/// A reply read and checked, ready to go.
#[derive(Serialize)]
pub struct Reply {
    pub file: String,
    pub subject: String,
    pub message_id: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// When it was sent already (nothing goes again).
    pub sent_on: Option<String>,
    #[serde(skip)]
    path: PathBuf,
    #[serde(skip)]
    mail: Option<Received>,
    #[serde(skip)]
    bytes: Vec<u8>,
}

/// Read the reply and refuse what must not go: a placeholder left, no
/// recipient, a send that stopped without an answer (unless `resume`).
pub fn read(ws: &Workspace, file: &Path, resume: bool) -> Result<Reply, AppError> {
    let path = given(ws, file);
    let file = shown(ws, &path);
    let bytes = std::fs::read(&path).map_err(AppError::file(&path))?;
    if String::from_utf8_lossy(&bytes).contains(crate::review::reply::PLACEHOLDER) {
        return Err(AppError::refuse(format!(
            "{file} still has {}; nothing was sent",
            crate::review::reply::PLACEHOLDER
        ))
        .hint("write your answer in its place first"));
    }
    let mail = crate::mail::received::parse(&bytes, &file)?;
    if mail.to.is_empty() {
        return Err(AppError::refuse(format!(
            "{file} has no To: recipient; nothing was sent"
        )));
    }
    let series = store::load(&ws.series_dir)?;
    let review = Review::parse(&series.review)?;
    let sent_on = match review.sent.iter().find(|s| s.message_id == mail.message_id) {
        Some(s) if s.accepted.is_some() => s.accepted.clone(),
        Some(_) if !resume => {
            return Err(AppError::refuse(format!(
                "a send of {file} <{}> stopped before the server's answer was recorded; it may have arrived",
                mail.message_id
            ))
            .hint("check the list archive; `series send --reply FILE --resume` sends it again"))
        }
        _ => None,
    };
    Ok(Reply {
        file,
        subject: mail.subject.clone(),
        message_id: mail.message_id.clone(),
        to: mail.to.clone(),
        cc: mail.cc.clone(),
        sent_on,
        path,
        mail: Some(mail),
        bytes,
    })
}

/// A reply sent.
#[derive(Serialize)]
pub struct Answered {
    pub subject: String,
    pub message_id: String,
}

/// Record the reply, hand it to git send-email, record its acceptance and
/// mark the comment it answers (its file is named by the comment's id).
pub fn send(ws: &Workspace, r: Reply, limit: Duration) -> Result<Answered, AppError> {
    let Some(mail) = r.mail else {
        return Err(AppError::refuse("nothing to send").kind(Kind::Internal));
    };
    let mut series = store::load(&ws.series_dir)?;
    let mut review = Review::parse(&series.review)?;
    let comment = r
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| s.len() == 8 && s.bytes().all(|b| b.is_ascii_hexdigit()));
    review.sent.retain(|s| s.message_id != mail.message_id);
    review.sent.push(SentReply {
        message_id: mail.message_id.clone(),
        comment: comment.clone(),
        digest: journal::digest(&r.bytes),
        accepted: None,
    });
    series.review = review.text()?;
    store::save(&ws.series_dir, &series)?;
    let from = match ws.config("sendemail.from") {
        Some(_) => None,
        None => Some(mail.from.to_string()),
    };
    crate::git::cmd::send_email(
        &ws.config_dir(),
        &r.path,
        from.as_deref(),
        &mail.to,
        &mail.cc,
        None,
        limit,
    )
    .map_err(|e| {
        AppError::refuse(format!("git send-email failed on {}: {e}", r.file)).kind(Kind::Tool)
    })?;
    if let Some(s) = review
        .sent
        .iter_mut()
        .find(|s| s.message_id == mail.message_id)
    {
        s.accepted = Some(ws.now().rfc2822());
    }
    if let Some(id) = &comment {
        if !review.of(id).is_some_and(|c| c.state != State::Open) {
            review.set(CommentState {
                id: id.clone(),
                state: State::Answered,
                version: None,
                note: None,
            });
        }
    }
    series.review = review.text()?;
    store::save(&ws.series_dir, &series)?;
    Ok(Answered {
        subject: mail.subject,
        message_id: mail.message_id,
    })
}

impl Render for Reply {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if let Some(on) = &self.sent_on {
            return writeln!(
                out,
                "{} <{}> was sent on {on}; nothing was sent.",
                self.file, self.message_id
            );
        }
        writeln!(out, "{}", self.subject)?;
        writeln!(out, "    To: {}", self.to.join(", "))?;
        if !self.cc.is_empty() {
            writeln!(out, "    Cc: {}", self.cc.join(", "))?;
        }
        Ok(())
    }
}

impl Render for Answered {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "Sent {} <{}>.", self.subject, self.message_id)
    }
}
