//! `series send`: check, show what goes where, then send through
//! `git send-email`, keeping a journal so nothing is ever sent twice.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::Args as ClapArgs;

use super::error::TOOL;
use super::format::{self, Addressing};
use super::{CliError, Context};
use crate::git::cmd;
use crate::outgoing::{self, Moment};
use crate::send::journal::{self, Entry, Journal};
use crate::send::{maintainers, recipients};
use crate::store::{self, Series};

/// Send the current version: check, render outgoing/vN, confirm, send
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    pub addressing: Addressing,

    /// Write outgoing/vN and show what would be sent, without sending
    #[arg(long)]
    pub dry_run: bool,

    /// Send without asking (for scripts)
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Send even when `series check` finds errors
    #[arg(long)]
    pub force: bool,

    /// Finish a send that stopped midway: only the messages not yet accepted
    #[arg(long)]
    pub resume: bool,

    /// Add the maintainers and lists scripts/get_maintainer.pl names
    #[arg(long)]
    pub auto_cc: bool,

    /// Archive link of the sent version; {msgid} is the cover's Message-Id
    #[arg(
        long,
        value_name = "PATTERN",
        default_value = "https://lore.kernel.org/r/{msgid}"
    )]
    pub link: String,
}

impl From<journal::JournalError> for CliError {
    fn from(e: journal::JournalError) -> Self {
        CliError::user(e.to_string())
            .hint("the journal records what was sent; restore it from git if it was damaged")
    }
}

/// Where git send-email runs: the tree (its sendemail.* settings), else
/// the project folder.
fn send_dir(ctx: &Context) -> PathBuf {
    ctx.tree_path_opt().unwrap_or_else(|| ctx.project())
}

fn config(ctx: &Context, key: &str) -> Option<String> {
    cmd::git(&send_dir(ctx), ["config", "--get", key])
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Expand `sendemail.aliasesFile` aliases among the recipients.
fn expand_aliases(ctx: &Context, names: &[String]) -> Vec<String> {
    let Some(file) = config(ctx, "sendemail.aliasesfile") else {
        return names.to_vec();
    };
    let kind = config(ctx, "sendemail.aliasfiletype").unwrap_or_else(|| "mutt".into());
    let path = if let Some(rest) = file.strip_prefix("~/") {
        std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(rest))
            .unwrap_or_else(|| PathBuf::from(&file))
    } else {
        PathBuf::from(&file)
    };
    let aliases = std::fs::read_to_string(path)
        .map(|t| recipients::parse_aliases(&t, &kind))
        .unwrap_or_default();
    names
        .iter()
        .flat_map(|n| aliases.get(n).cloned().unwrap_or_else(|| vec![n.clone()]))
        .collect()
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let mut addressing = args.addressing.clone();
    addressing.to = expand_aliases(ctx, &addressing.to);
    addressing.cc = expand_aliases(ctx, &addressing.cc);
    let series = store::load(&ctx.series_dir)?;
    let v = series.manifest.version;
    let jpath = journal::path(&ctx.series_dir, v);
    let existing = Journal::load(&jpath)?;
    let sent_entry = series
        .manifest
        .history
        .iter()
        .find(|h| h.version == v && !h.message_ids.is_empty());
    if let Some(h) = sent_entry {
        writeln!(
            out,
            "v{v} was sent on {} (cover {}); nothing was sent.",
            h.date.as_deref().unwrap_or("an unknown day"),
            h.message_ids.first().map(String::as_str).unwrap_or("")
        )?;
        writeln!(
            out,
            "To send a new version, raise `version` in series/series.toml."
        )?;
        return Ok(());
    }
    if let Some(j) = &existing {
        if !args.resume && !j.complete() {
            return Err(CliError::user(format!(
                "a send of v{v} stopped after {} of {} messages",
                j.sent(),
                j.messages.len()
            ))
            .hint("run `series send --resume` to send only the rest, with the same Message-Ids"));
        }
    } else if args.resume {
        return Err(CliError::user(format!("no send of v{v} to resume"))
            .hint("start one with `series send --to LIST`"));
    }

    // The clock: a resume renders with the journal's, so the Message-Ids
    // and dates are those of the messages already accepted.
    let now = match &existing {
        Some(j) => Moment {
            secs: j.secs,
            offset_minutes: j.offset_minutes,
            nanos: j.nanos,
        },
        None => Moment::now()?,
    };
    let mut p = format::prepare_at(ctx, &addressing, None, Some(now))?;
    if args.auto_cc {
        let tree = ctx.tree_path().map_err(|e| {
            CliError::user(e.message).hint("--auto-cc runs the tree's scripts/get_maintainer.pl")
        })?;
        for m in &p.messages[1..] {
            let found = maintainers::for_patch(&tree, &m.bytes)
                .map_err(|e| CliError::user(e.to_string()).with_code(TOOL))?;
            for l in found.lists {
                if !addressing.to.iter().any(|t| outgoing::same_address(t, &l)) {
                    addressing.to.push(l);
                }
            }
            for c in found.people {
                if !addressing.cc.iter().any(|t| outgoing::same_address(t, &c)) {
                    addressing.cc.push(c);
                }
            }
        }
        p = format::prepare_at(ctx, &addressing, None, Some(now))?;
    }
    format::write_out(ctx, &p, out)?;
    writeln!(out)?;
    show_plan(&p.series, &p.messages, out)?;

    if args.dry_run {
        let dir = super::rel(&p.dir, &ctx.cwd);
        writeln!(
            out,
            "Dry run: nothing was sent. `git send-email {dir}/*` sends these files as they are."
        )?;
        return Ok(());
    }

    let journal = match existing {
        Some(j) => {
            for (e, m) in j.messages.iter().zip(&p.messages) {
                if e.digest != journal::digest(&m.bytes) || e.message_id != m.message_id {
                    return Err(CliError::user(format!(
                        "{} is not the message the stopped send started with",
                        e.file
                    ))
                    .hint("series/ changed since; restore it, or remove the journal to start a new send (messages already accepted would go out again)"));
                }
            }
            j
        }
        None => {
            gate(ctx, &args)?;
            confirm(&p.messages, args.yes, out)?;
            Journal {
                version: v,
                secs: now.secs,
                offset_minutes: now.offset_minutes,
                nanos: now.nanos,
                series_digest: crate::rebase::digest(&p.series),
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
                    })
                    .collect(),
            }
        }
    };
    deliver(ctx, &p, journal, &jpath, &args, out)
}

fn show_plan(
    series: &Series,
    messages: &[outgoing::Message],
    out: &mut dyn Write,
) -> Result<(), CliError> {
    for m in messages {
        writeln!(out, "{}", m.subject)?;
        if !m.to.is_empty() {
            writeln!(out, "    To: {}", m.to.join(", "))?;
        }
        if !m.cc.is_empty() {
            writeln!(out, "    Cc: {}", m.cc.join(", "))?;
        }
    }
    // Who was added or dropped since the last version that was sent.
    let v = series.manifest.version;
    if let Some(prev) = series
        .manifest
        .history
        .iter()
        .rev()
        .find(|h| h.version < v && h.to.is_some())
    {
        let before: Vec<String> = prev
            .to
            .iter()
            .flatten()
            .chain(prev.cc.iter().flatten())
            .map(|a| outgoing::bare_address(a))
            .collect();
        let now: Vec<String> = messages[0]
            .to
            .iter()
            .chain(&messages[0].cc)
            .map(|a| outgoing::bare_address(a))
            .collect();
        let added: Vec<&String> = now.iter().filter(|a| !before.contains(a)).collect();
        let dropped: Vec<&String> = before.iter().filter(|a| !now.contains(a)).collect();
        if added.is_empty() && dropped.is_empty() {
            writeln!(out, "Recipients are those of v{}.", prev.version)?;
        }
        for a in added {
            writeln!(out, "Added since v{}: {a}", prev.version)?;
        }
        for a in dropped {
            writeln!(out, "Dropped since v{}: {a}", prev.version)?;
        }
    }
    Ok(())
}

/// Refuse to send a series with error-level findings, unless --force.
fn gate(ctx: &Context, args: &Args) -> Result<(), CliError> {
    let check_args = super::check::Args {
        json: false,
        strict: false,
        checkpatch_args: None,
        checkpatch_timeout: 300,
        jobs: None,
        no_cache: false,
        build: None,
        max_warnings: None,
    };
    let (report, _) = super::check::gather(ctx, &check_args)?;
    let errors = report.count(crate::model::Severity::Error);
    if errors > 0 && !args.force {
        return Err(CliError::user(format!(
            "`series check` finds {errors} error{}; nothing was sent",
            if errors == 1 { "" } else { "s" }
        ))
        .hint("run `series check` to see them; fix them, or pass --force to send anyway"));
    }
    Ok(())
}

/// Ask before sending, on a terminal; refuse without one unless --yes.
fn confirm(messages: &[outgoing::Message], yes: bool, out: &mut dyn Write) -> Result<(), CliError> {
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(CliError::user(
            "not sending without confirmation: standard input is not a terminal",
        )
        .hint("pass --yes to send from a script"));
    }
    write!(out, "Send these {} messages? [y/N] ", messages.len())?;
    out.flush()?;
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    if matches!(line.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(CliError::user("nothing was sent"))
    }
}

/// Send every message the journal has not seen accepted, recording each
/// acceptance before the next, then record the version as sent.
fn deliver(
    ctx: &Context,
    p: &format::Prepared,
    mut journal: Journal,
    jpath: &std::path::Path,
    args: &Args,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    journal.save(jpath)?;
    let dir = send_dir(ctx);
    let from = match config(ctx, "sendemail.from") {
        Some(_) => None,
        None => Some(outgoing::sender(&p.series).to_string()),
    };
    for (i, m) in p.messages.iter().enumerate() {
        if journal.messages[i].accepted.is_some() {
            writeln!(out, "Already sent: {}", m.subject)?;
            continue;
        }
        let file = p.dir.join(&m.file);
        cmd::send_email(&dir, &file, from.as_deref(), &m.to, &m.cc).map_err(|e| {
            CliError::user(format!(
                "git send-email failed on {} after {} of {} messages were accepted: {e}",
                m.file,
                journal.sent(),
                journal.messages.len()
            ))
            .with_code(TOOL)
            .hint("fix the cause, then run `series send --resume` to send only the rest")
        })?;
        journal.messages[i].accepted = Some(Moment::now().map(|n| n.rfc2822()).unwrap_or_default());
        journal.save(jpath)?;
        store::crash_point(&format!("sent-{i}"));
        writeln!(out, "Sent {} <{}>", m.subject, m.message_id)?;
    }
    // Every message is accepted: record the version as sent.
    let mut series = p.series.clone();
    let cover = &p.messages[0];
    let day = crate::mail::text::iso_day(journal.secs, journal.offset_minutes);
    let entry = series.current_version_mut();
    entry.date = Some(day);
    entry.message_ids = p
        .messages
        .iter()
        .map(|m| format!("<{}>", m.message_id))
        .collect();
    entry.link = Some(args.link.replace("{msgid}", &cover.message_id));
    entry.to = Some(cover.to.clone());
    entry.cc = Some(cover.cc.clone());
    store::save(&ctx.series_dir, &series)?;
    writeln!(
        out,
        "Sent v{} ({} messages); recorded in series/series.toml with link {}.",
        series.manifest.version,
        p.messages.len(),
        args.link.replace("{msgid}", &cover.message_id)
    )?;
    Ok(())
}
