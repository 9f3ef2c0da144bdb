//! `series send`: render the version, check it, show what goes where,
//! then hand each message to `git send-email`, keeping a journal so that a
//! message the server has accepted is never sent again. Split in two so the
//! command line can ask in between: [`plan`] (everything up to the
//! question, which is also all a dry run does) and [`deliver`].

mod gates;
mod preview;
pub mod reply;
mod threads;

pub use preview::{preview, reflect, Previewed};

use std::io::Write;
use std::time::Duration;

use serde::Serialize;

use super::mails::{self, Addressing, CheckRequest};
use super::AppError;
use crate::clock::Moment;
use crate::error::Kind;
use crate::git::cmd;
use crate::mail::address;
use crate::model::Person;
use crate::outgoing::Message;
use crate::prepare::{Plan, Prepared};
use crate::send::journal::{self, Entry, Journal};
use crate::send::{maintainers, recipients, Delivered};
use crate::store::{self, Series};
use crate::term::Render;
use crate::workspace::Workspace;

/// What to send and how.
#[derive(Debug, Clone)]
pub struct Request {
    pub addressing: Addressing,
    pub dry_run: bool,
    /// Send even when the check finds errors, or the patches are the last
    /// version's.
    pub force: bool,
    /// Refuse while an open comment's quoted lines are untouched.
    pub strict: bool,
    /// Finish a send that stopped midway.
    pub resume: bool,
    /// Add get_maintainer.pl's people and lists.
    pub auto_cc: bool,
    /// The archive link of the sent version; `{msgid}` is the cover's.
    pub link: String,
    pub maintainers_timeout: Duration,
    pub send_timeout: Duration,
    /// The gate: what `series check` runs before the send.
    pub check: CheckRequest,
}

/// A version rendered for a send, with what it was rendered for.
struct Sending {
    prepared: Prepared,
    signed_with: Option<crate::attest::Key>,
    now: Moment,
    sender: Person,
    in_reply_to: Option<String>,
    range_diff_against: Option<u32>,
}

impl Sending {
    fn new(prepared: Prepared, plan: &Plan, in_reply_to: Option<String>) -> Sending {
        Sending {
            prepared,
            signed_with: plan.sign.clone(),
            now: plan.now,
            sender: plan.sender.clone(),
            in_reply_to,
            range_diff_against: plan.asked.range_diff.as_ref().map(|r| r.0),
        }
    }
}

/// Everything up to the question: the files written, who gets what, the
/// gates' findings and verdict.
#[derive(Serialize)]
pub struct Planned {
    pub version: u32,
    pub dry_run: bool,
    /// Whether the version was sent already (nothing is sent again).
    pub already_sent: bool,
    /// When it was: (date, cover Message-Id).
    #[serde(skip)]
    sent_on: Option<(String, String)>,
    pub folder: String,
    pub signed: bool,
    pub messages: Vec<Message>,
    #[serde(skip)]
    files: Vec<String>,
    /// Who was added or dropped since the last version sent.
    #[serde(skip)]
    changes: Vec<String>,
    #[serde(skip)]
    signature: String,
    /// The gates' lines: errors, warnings, what --force overrode.
    #[serde(skip)]
    gates: Vec<String>,
    #[serde(skip)]
    refused: Option<AppError>,
    #[serde(skip)]
    sending: Option<Sending>,
    #[serde(skip)]
    journal: Option<Journal>,
    #[serde(skip)]
    resuming: bool,
}

impl Planned {
    /// Whether there is anything to send.
    pub fn pending(&self) -> bool {
        !self.already_sent
    }

    /// The gates' verdict: a refusal stops the send (and fails the dry run).
    pub fn verdict(&mut self) -> Result<(), AppError> {
        match self.refused.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Whether the command must ask before sending (a resumed send asked
    /// when it started).
    pub fn asks(&self) -> bool {
        !self.resuming
    }
}

/// `series send` up to the question (all of `--dry-run`).
pub fn plan(ws: &Workspace, req: &Request) -> Result<Planned, AppError> {
    let series = store::load(&ws.series_dir)?;
    let v = series.manifest.version;
    let existing = Journal::load(&journal::path(&ws.series_dir, v))?;
    if let Some(h) = series
        .manifest
        .history
        .iter()
        .find(|h| h.version == v && !h.message_ids.is_empty())
    {
        return Ok(Planned {
            already_sent: true,
            sent_on: Some((
                h.date.clone().unwrap_or_else(|| "an unknown day".into()),
                h.message_ids.first().cloned().unwrap_or_default(),
            )),
            ..empty(v, req.dry_run)
        });
    }
    let resuming = matches!(&existing, Some(j) if !j.complete());
    let s = match &existing {
        Some(j) if resuming => {
            if !req.resume {
                return Err(AppError::refuse(format!(
                    "a send of v{v} stopped after {} of {} messages",
                    j.sent(),
                    j.messages.len()
                ))
                .hint("run `series send --resume` to send only the rest, with the same Message-Ids and recipients"));
            }
            resumed(ws, series, j)?
        }
        _ if req.resume => {
            return Err(AppError::refuse(format!("no send of v{v} to resume"))
                .hint("start one with `series send --to LIST`"))
        }
        _ => fresh(ws, series, req, None)?,
    };
    let p = &s.prepared;
    if p.stale_diffstat {
        return Err(mails::stale_diffstat());
    }
    if p.messages[0].to.is_empty() {
        return Err(AppError::refuse(format!(
            "v{v} has no To: recipient; nothing was written or sent"
        ))
        .hint("pass --to LIST (a list name from MAINTAINERS or an address), or --auto-cc with a kernel tree"));
    }
    let files = mails::write_out(ws, p)?;
    let mut planned = Planned {
        folder: p.dir.display().to_string(),
        signed: s.signed_with.is_some(),
        messages: p.messages.clone(),
        files,
        changes: recipient_changes(ws, &p.series, &p.messages)?,
        signature: signature_line(&s),
        resuming,
        ..empty(v, req.dry_run)
    };
    // A resumed send was checked when it started; a new one (and its dry
    // run, which exits as the send would) is checked now.
    if !resuming {
        let checked = gates::check(ws, p, req, &mut planned.gates)
            .and_then(|()| gates::versions(ws, &p.series, req, &mut planned.gates));
        planned.refused = checked.err();
    }
    planned.journal = match existing {
        Some(j) if resuming => Some(same_messages(j, &p.messages)?),
        _ => Some(new_journal(&s, v)),
    };
    planned.sending = Some(s);
    Ok(planned)
}

/// A stopped send's journal, when the messages rendered now are the ones
/// it started with; refused otherwise.
fn same_messages(j: Journal, messages: &[crate::outgoing::Message]) -> Result<Journal, AppError> {
    for (e, m) in j.messages.iter().zip(messages) {
        if e.digest != journal::digest(&m.bytes) || e.message_id != m.message_id {
            return Err(AppError::refuse(format!(
                "{} is not the message the stopped send started with",
                e.file
            ))
            .hint("series/ changed since the send started; restore it (git checkout -- series/), then run `series send --resume`"));
        }
    }
    Ok(j)
}

/// How the mails are signed, in one line.
fn signature_line(s: &Sending) -> String {
    match &s.signed_with {
        Some(k) => format!(
            "Signed as patatt signs: ed25519 key {} ({}, selector {}).",
            k.source.display(),
            k.identity,
            k.selector
        ),
        None => {
            "Not signed: no patatt.signingkey (`series attest --gen-key` makes one), or --no-sign."
                .into()
        }
    }
}

fn empty(version: u32, dry_run: bool) -> Planned {
    Planned {
        version,
        dry_run,
        already_sent: false,
        sent_on: None,
        folder: String::new(),
        signed: false,
        messages: Vec::new(),
        files: Vec::new(),
        changes: Vec::new(),
        signature: String::new(),
        gates: Vec::new(),
        refused: None,
        sending: None,
        journal: None,
        resuming: false,
    }
}

/// Expand `sendemail.aliasesFile` aliases among the recipients.
fn expand_aliases(ws: &Workspace, names: &[String]) -> Vec<String> {
    let Some(file) = ws.config("sendemail.aliasesfile") else {
        return names.to_vec();
    };
    let kind = ws
        .config("sendemail.aliasfiletype")
        .unwrap_or_else(|| "mutt".into());
    let path = match file.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map(|h| std::path::PathBuf::from(h).join(rest))
            .unwrap_or_else(|| file.clone().into()),
        None => file.clone().into(),
    };
    let aliases = std::fs::read_to_string(path)
        .map(|t| recipients::parse_aliases(&t, &kind))
        .unwrap_or_default();
    names
        .iter()
        .flat_map(|n| aliases.get(n).cloned().unwrap_or_else(|| vec![n.clone()]))
        .collect()
}

/// Add `who` to `list` unless an address there is the same.
fn add_new(list: &mut Vec<String>, who: String) {
    if !list.iter().any(|t| address::same_address(t, &who)) {
        list.push(who);
    }
}

/// A first send: the recipients kept in series.toml (those of the last
/// version sent), the settings' (series.to, series.cc) for a first version,
/// the flags'; `--auto-cc` adds get_maintainer.pl's people (To) and lists
/// (Cc).
fn fresh(
    ws: &Workspace,
    mut series: Series,
    req: &Request,
    dir: Option<std::path::PathBuf>,
) -> Result<Sending, AppError> {
    let drafted = mails::draft_changelog(ws, &mut series)?;
    let mut a = req.addressing.clone();
    let kept = &series.manifest.recipients;
    if kept.to.is_empty() {
        for who in ws.setting_list("series.to") {
            add_new(&mut a.to, who);
        }
    }
    if kept.cc.is_empty() {
        for who in ws.setting_list("series.cc") {
            add_new(&mut a.cc, who);
        }
    }
    a.to = expand_aliases(ws, &a.to);
    a.cc = expand_aliases(ws, &a.cc);
    if req.auto_cc {
        let tree = ws.tree_path().map_err(|e| {
            AppError::refuse(e.to_string())
                .hint("--auto-cc runs the tree's scripts/get_maintainer.pl")
        })?;
        // get_maintainer.pl reads the diff; the stored patch files have the
        // same diffs as the mails, so the mails are rendered once, after.
        for i in 0..series.patches.len() {
            let found =
                maintainers::for_patch(&tree, &series.stored_patch(i), req.maintainers_timeout)
                    .map_err(|e| AppError::refuse(e.to_string()).kind(Kind::Tool))?;
            for person in found.people {
                add_new(&mut a.to, person);
            }
            for l in found.lists {
                add_new(&mut a.cc, l);
            }
        }
    }
    if a.in_reply_to.is_none() {
        a.in_reply_to = threads::threading_default(ws, &series, &a);
    }
    let asked = mails::asked(ws, &series, &a)?;
    let in_reply_to = asked.in_reply_to.clone();
    let plan = mails::plan(ws, &series, asked)?;
    let mut p = mails::prepare_in(ws, series, &plan, dir)?;
    p.learned |= !drafted.is_empty();
    Ok(Sending::new(p, &plan, in_reply_to))
}

/// A resumed send: rendered with the journal's clock, sender, threading and
/// each message's recorded To and Cc, so the bytes are those it started with.
fn resumed(ws: &Workspace, series: Series, j: &Journal) -> Result<Sending, AppError> {
    if j.messages.len() != series.patches.len() + 1 {
        return Err(AppError::refuse(format!(
            "the send journal of v{} lists {} messages, but the series has {} (a cover and {} patches)",
            j.version,
            j.messages.len(),
            series.patches.len() + 1,
            series.patches.len()
        ))
        .hint("series/ changed since the send started; restore it (git checkout -- series/), then run `series send --resume`"));
    }
    let mut plan = mails::plan(ws, &series, Default::default())?;
    plan.now = Moment {
        secs: j.secs,
        offset_minutes: j.offset_minutes,
        nanos: j.nanos,
    };
    if let Some(from) = &j.from {
        plan.sender = Person::parse(from).unwrap_or(plan.sender);
    }
    plan.asked.in_reply_to = j.in_reply_to.clone();
    if let Some(v) = j.range_diff_against {
        plan.asked.range_diff = Some(super::range_diff_for_cover(ws, &series, &format!("v{v}"))?);
    }
    plan.asked.to = j.to.clone();
    plan.asked.cc = j.cc.clone();
    plan.exact = Some(
        j.messages
            .iter()
            .map(|e| (e.to.clone(), e.cc.clone()))
            .collect(),
    );
    let p = mails::prepare_in(ws, series, &plan, None)?;
    Ok(Sending::new(p, &plan, j.in_reply_to.clone()))
}

/// The journal of a new send: every message, none accepted yet.
fn new_journal(s: &Sending, v: u32) -> Journal {
    let p = &s.prepared;
    Journal {
        version: v,
        secs: s.now.secs,
        offset_minutes: s.now.offset_minutes,
        nanos: s.now.nanos,
        series_digest: crate::rebase::digest(&p.series),
        from: Some(s.sender.to_string()),
        to: p.to.clone(),
        cc: p.cc.clone(),
        in_reply_to: s.in_reply_to.clone(),
        range_diff_against: s.range_diff_against,
        messages: p
            .messages
            .iter()
            .map(|m| Entry {
                file: m.file.clone(),
                subject: m.subject.clone(),
                message_id: m.message_id.clone(),
                to: m.to.clone(),
                cc: m.cc.clone(),
                digest: journal::digest(&m.bytes),
                accepted: None,
                in_flight: None,
            })
            .collect(),
    }
}

/// Who was added or dropped since the last version that was sent.
fn recipient_changes(
    ws: &Workspace,
    series: &Series,
    messages: &[Message],
) -> Result<Vec<String>, AppError> {
    let v = series.manifest.version;
    let Some(prev) = series
        .manifest
        .history
        .iter()
        .rev()
        .find(|h| h.version < v && h.to.is_some())
    else {
        return Ok(Vec::new());
    };
    let before: Vec<String> = prev
        .to
        .iter()
        .flatten()
        .chain(prev.cc.iter().flatten())
        .map(|a| address::bare_address(a))
        .collect();
    let now: Vec<String> = messages[0]
        .to
        .iter()
        .chain(&messages[0].cc)
        .map(|a| address::bare_address(a))
        .collect();
    let added: Vec<&String> = now.iter().filter(|a| !before.contains(a)).collect();
    let dropped: Vec<&String> = before.iter().filter(|a| !now.contains(a)).collect();
    let mut out = Vec::new();
    if added.is_empty() && dropped.is_empty() {
        out.push(format!("Recipients are those of v{}.", prev.version));
    }
    let reviewers = if series.replies.is_empty() || added.is_empty() {
        Vec::new()
    } else {
        let (board, _) = super::board(ws, series)?;
        crate::review::ledger::reviewers(&board, v)
    };
    for a in added {
        match reviewers.iter().find(|(r, _)| address::same_address(r, a)) {
            Some((_, rv)) => out.push(format!(
                "Added since v{}: {a} (reviewed v{rv})",
                prev.version
            )),
            None => out.push(format!("Added since v{}: {a}", prev.version)),
        }
    }
    for a in dropped {
        out.push(format!("Dropped since v{}: {a}", prev.version));
    }
    Ok(out)
}

/// A version sent.
#[derive(Serialize)]
pub struct Sent {
    pub version: u32,
    pub messages: usize,
    pub link: String,
}

/// Send every message the journal has not seen accepted, recording each
/// acceptance before the next, then record the version as sent and keep
/// its recipients for the next version. `told` hears of each message.
pub fn deliver(
    ws: &Workspace,
    mut planned: Planned,
    link: &str,
    limit: Duration,
    told: &mut dyn FnMut(Delivered<'_>),
) -> Result<Sent, AppError> {
    let (Some(s), Some(mut journal)) = (planned.sending.take(), planned.journal.take()) else {
        return Err(AppError::refuse("nothing to send").kind(Kind::Internal));
    };
    let p = &s.prepared;
    let jpath = journal::path(&ws.series_dir, planned.version);
    let dir = ws.config_dir();
    let from = match ws.config("sendemail.from") {
        Some(_) => None,
        None => Some(s.sender.to_string()),
    };
    // git send-email dates each message with the second it starts in (it
    // spaces the files of one run a second apart): each message starts in
    // a later second than the one before, so readers sort the thread in
    // order.
    let last = std::cell::Cell::new(0u64);
    let second = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    };
    let mut send_one = |m: &Message| -> Result<(), String> {
        while second() <= last.get() {
            std::thread::sleep(Duration::from_millis(20));
        }
        last.set(second());
        let file = p.dir.join(&m.file);
        cmd::send_email(&dir, &file, from.as_deref(), &m.to, &m.cc, None, limit)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    crate::send::deliver(
        &p.messages,
        &mut journal,
        &jpath,
        &mut send_one,
        &|| ws.now().rfc2822(),
        told,
    )?;
    let series = crate::send::record_sent(&p.series, &p.messages, &journal, link);
    store::save(&ws.series_dir, &series)?;
    Ok(Sent {
        version: series.manifest.version,
        messages: p.messages.len(),
        link: link.replace("{msgid}", &p.messages[0].message_id),
    })
}

impl Render for Planned {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if let Some((date, cover)) = &self.sent_on {
            writeln!(
                out,
                "v{} was sent on {date} (cover {cover}); nothing was sent.",
                self.version
            )?;
            return writeln!(
                out,
                "To send a new version, run `series reroll` (it starts v{}).",
                self.version.saturating_add(1)
            );
        }
        for f in &self.files {
            writeln!(out, "{f}")?;
        }
        writeln!(out)?;
        for m in &self.messages {
            writeln!(out, "{}", m.subject)?;
            if !m.to.is_empty() {
                writeln!(out, "    To: {}", m.to.join(", "))?;
            }
            if !m.cc.is_empty() {
                writeln!(out, "    Cc: {}", m.cc.join(", "))?;
            }
        }
        for c in &self.changes {
            writeln!(out, "{c}")?;
        }
        writeln!(out, "{}", self.signature)?;
        for g in &self.gates {
            writeln!(out, "{g}")?;
        }
        if self.dry_run {
            writeln!(
                out,
                "Dry run: nothing was sent. `series send` without --dry-run sends these files, keeping the journal."
            )?;
        }
        Ok(())
    }
}

impl Render for Sent {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "Sent v{} ({} messages); recorded in series/series.toml with link {}.",
            self.version, self.messages, self.link
        )
    }
}
