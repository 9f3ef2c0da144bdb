//! Sending: who receives the series, the journal that makes sending
//! resumable, get_maintainer.pl, and the delivery of a rendered version.

pub mod journal;
pub mod maintainers;
pub mod recipients;
pub mod reflect;

use std::path::Path;

use crate::outgoing::Message;
use crate::store::Series;
use journal::{Journal, JournalError};

/// Why a delivery stopped.
#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(
        "git send-email failed on {file} after {sent} of {total} messages were accepted: {why}"
    )]
    Send {
        file: String,
        sent: usize,
        total: usize,
        why: String,
    },
    #[error("interrupted after {sent} of {total} messages were accepted; the rest were not sent")]
    Interrupted { sent: usize, total: usize },
}

/// What became of one message.
pub enum Delivered<'a> {
    /// The journal had it as accepted already: not sent again.
    Already(&'a Message),
    /// The server accepted it now.
    Sent(&'a Message),
    /// It was in flight when an earlier send died: it may have arrived
    /// already, and goes again.
    Again(&'a Message),
}

/// Send every message the journal has not seen accepted, in order, with
/// `send` (git send-email), saving the journal after each acceptance, so
/// that a message accepted is never sent again. `now` stamps acceptances;
/// `told` hears of each message.
pub fn deliver<'a>(
    messages: &'a [Message],
    journal: &mut Journal,
    jpath: &Path,
    send: &mut dyn FnMut(&Message) -> Result<(), String>,
    now: &dyn Fn() -> String,
    told: &mut dyn FnMut(Delivered<'a>),
) -> Result<(), DeliverError> {
    // A signal between messages stops the send cleanly; one during a
    // message lets that message finish (see process::Run's
    // finish_on_interrupt) and is acted on after it is recorded.
    let _protected = crate::interrupt::protect();
    journal.save(jpath)?;
    for (i, m) in messages.iter().enumerate() {
        if journal.messages[i].accepted.is_some() {
            told(Delivered::Already(m));
            continue;
        }
        if crate::interrupt::interrupted() {
            return Err(DeliverError::Interrupted {
                sent: journal.sent(),
                total: journal.messages.len(),
            });
        }
        if journal.messages[i].in_flight.is_some() {
            told(Delivered::Again(m));
        }
        // Recorded before it is handed over, so a send that dies now
        // knows which message may have gone.
        journal.messages[i].in_flight = Some(now());
        journal.save(jpath)?;
        send(m).map_err(|why| DeliverError::Send {
            file: m.file.clone(),
            sent: journal.sent(),
            total: journal.messages.len(),
            why,
        })?;
        journal.messages[i].accepted = Some(now());
        journal.messages[i].in_flight = None;
        journal.save(jpath)?;
        crate::testing::crash_point(&format!("sent-{i}"));
        told(Delivered::Sent(m));
    }
    Ok(())
}

/// The series once every message of its version was accepted: the date,
/// the Message-Ids, the link (`link` with `{msgid}` for the cover's) and
/// the recipients in the history, the recipients asked for kept as the
/// next version's, and the version itself kept, frozen, in `versions/vN/`.
pub fn record_sent(series: &Series, messages: &[Message], journal: &Journal, link: &str) -> Series {
    let mut series = series.clone();
    let cover = &messages[0];
    let day = crate::text::iso_day(journal.secs, journal.offset_minutes);
    let entry = series.current_version_mut();
    entry.date = Some(day);
    entry.message_ids = messages
        .iter()
        .map(|m| format!("<{}>", m.message_id))
        .collect();
    entry.link = Some(link.replace("{msgid}", &cover.message_id));
    entry.to = Some(cover.to.clone());
    entry.cc = Some(cover.cc.clone());
    series.manifest.recipients.to = journal.to.clone();
    series.manifest.recipients.cc = journal.cc.clone();
    // What was sent is kept as it is: versions/vN/ never changes again.
    let kept = crate::store::frozen(&series);
    series.to_keep.push(kept);
    series
}

impl crate::error::Advice for DeliverError {
    fn kind(&self) -> crate::error::Kind {
        match self {
            DeliverError::Journal(j) => j.kind(),
            DeliverError::Send { .. } => crate::error::Kind::Tool,
            DeliverError::Interrupted { .. } => crate::error::Kind::Interrupted,
        }
    }

    fn hint(&self) -> Option<String> {
        crate::error::says(match self {
            DeliverError::Journal(j) => return j.hint(),
            DeliverError::Send { .. } => {
                "fix the cause, then run `series send --resume` to send only the rest (a message cut off mid-transfer may arrive twice)"
            }
            DeliverError::Interrupted { .. } => {
                "run `series send --resume` to send only the rest, with the same Message-Ids"
            }
        })
    }
}
