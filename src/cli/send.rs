//! `series send`: check, show what goes where, then send through
//! `git send-email`, keeping a journal so that a message the server has
//! accepted is never sent again.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args as ClapArgs;

use super::error::TOOL;
use super::format::{self, Addressing, Plan, Prepared};
use super::{CliError, Context};
use crate::clock::Moment;
use crate::git::cmd;
use crate::mail::address;
use crate::model::{Person, Severity};
use crate::outgoing;
use crate::send::journal::{self, Entry, Journal};
use crate::send::{maintainers, recipients, Delivered};
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

    /// Refuse to send while a review comment is open and the lines it
    /// quoted are untouched since
    #[arg(long)]
    pub strict: bool,

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

    /// Seconds get_maintainer.pl may take for one patch (with --auto-cc)
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub maintainers_timeout: u64,

    /// Seconds git send-email may take for one message
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub send_timeout: u64,

    /// Print JSON instead of text: the messages, their recipients and what was sent
    #[arg(long)]
    pub json: bool,

    /// Send a reply written by `series review reply` (outgoing/replies/ID.eml)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["auto_cc", "range_diff"])]
    pub reply: Option<PathBuf>,
}

/// Expand `sendemail.aliasesFile` aliases among the recipients.
fn expand_aliases(ctx: &Context, names: &[String]) -> Vec<String> {
    let Some(file) = ctx.config("sendemail.aliasesfile") else {
        return names.to_vec();
    };
    let kind = ctx
        .config("sendemail.aliasfiletype")
        .unwrap_or_else(|| "mutt".into());
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

/// The last version that was sent.
fn last_sent(series: &Series) -> Option<&store::VersionEntry> {
    let v = series.manifest.version;
    series
        .manifest
        .history
        .iter()
        .rev()
        .find(|h| h.version < v && h.to.is_some())
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    if let Some(file) = &args.reply {
        return send_reply(ctx, &args, file, out);
    }
    if !args.json {
        return run_text(ctx, args, out).map(|_| ());
    }
    let mut text = Vec::new();
    let summary = run_text(ctx, args, &mut text)?;
    super::write_json(out, &summary)?;
    Ok(())
}

/// What `send --json` prints.
fn summary(p: &Sending, dry_run: bool) -> serde_json::Value {
    serde_json::json!({
        "version": p.series.manifest.version,
        "dry_run": dry_run,
        "already_sent": false,
        "folder": p.dir.display().to_string(),
        "signed": p.signed_with.is_some(),
        "messages": p.messages,
    })
}

/// The send, reporting as text to `out`; returns the JSON summary.
fn run_text(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<serde_json::Value, CliError> {
    let series = store::load(&ctx.series_dir)?;
    let v = series.manifest.version;
    let jpath = journal::path(&ctx.series_dir, v);
    let existing = Journal::load(&jpath)?;
    if already_sent(&series, out)? {
        return Ok(
            serde_json::json!({ "version": v, "dry_run": args.dry_run, "already_sent": true, "messages": [] }),
        );
    }
    let p = match &existing {
        Some(j) if !j.complete() => {
            if !args.resume {
                return Err(CliError::user(format!(
                    "a send of v{v} stopped after {} of {} messages",
                    j.sent(),
                    j.messages.len()
                ))
                .hint("run `series send --resume` to send only the rest, with the same Message-Ids and recipients"));
            }
            resumed(ctx, series, j)?
        }
        _ if args.resume => {
            return Err(CliError::user(format!("no send of v{v} to resume"))
                .hint("start one with `series send --to LIST`"))
        }
        _ => fresh(ctx, series, &args)?,
    };
    if p.stale_diffstat {
        return Err(format::stale_diffstat());
    }
    if p.messages[0].to.is_empty() {
        return Err(CliError::user(format!(
            "v{v} has no To: recipient; nothing was written or sent"
        ))
        .hint("pass --to LIST (a list name from MAINTAINERS or an address), or --auto-cc with a kernel tree"));
    }
    format::write_out(ctx, &p, out)?;
    writeln!(out)?;
    show_plan(ctx, &p.series, &p.messages, out)?;
    match &p.signed_with {
        Some(k) => writeln!(
            out,
            "Signed as patatt signs: ed25519 key {} ({}, selector {}).",
            k.source.display(),
            k.identity,
            k.selector
        )?,
        None => writeln!(
            out,
            "Not signed: no patatt.signingkey (`series attest --gen-key` makes one), or --no-sign."
        )?,
    }

    // A resumed send was checked when it started; a new one (and its dry
    // run, which exits as the send would) is checked now.
    let resuming = matches!(&existing, Some(j) if !j.complete());
    let checked = if resuming {
        Ok(())
    } else {
        gate(ctx, &p, args.force, out)
            .and_then(|()| versions_gate(ctx, &p.series, args.force, args.strict, out))
    };
    if args.dry_run {
        writeln!(
            out,
            "Dry run: nothing was sent. `series send` without --dry-run sends these files, keeping the journal."
        )?;
        checked?;
        return Ok(summary(&p, true));
    }
    checked?;

    let journal = match existing {
        Some(j) if !j.complete() => {
            for (e, m) in j.messages.iter().zip(&p.messages) {
                if e.digest != journal::digest(&m.bytes) || e.message_id != m.message_id {
                    return Err(CliError::user(format!(
                        "{} is not the message the stopped send started with",
                        e.file
                    ))
                    .hint("series/ changed since the send started; restore it (git checkout -- series/), then run `series send --resume`"));
                }
            }
            j
        }
        _ => {
            confirm(&p.messages, args.yes, args.json, out)?;
            new_journal(&p, v)
        }
    };
    let limit = Duration::from_secs(args.send_timeout.max(1));
    deliver(ctx, &p, journal, &jpath, &args.link, limit, out)?;
    Ok(summary(&p, false))
}

/// `send --reply FILE`: one reply, recorded in series/review.toml before
/// it goes and marked accepted after, so it is never sent twice; the
/// comment it answers is then answered.
fn send_reply(
    ctx: &Context,
    args: &Args,
    file: &std::path::Path,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    use crate::review::state::{CommentState, Review, SentReply, State};
    let path = if file.is_absolute() {
        file.to_path_buf()
    } else {
        ctx.cwd.join(file)
    };
    let shown = super::rel(&path, &ctx.cwd);
    let bytes =
        std::fs::read(&path).map_err(|e| CliError::user(format!("cannot read {shown}: {e}")))?;
    if String::from_utf8_lossy(&bytes).contains("*** YOUR ANSWER HERE ***") {
        return Err(CliError::user(format!(
            "{shown} still has *** YOUR ANSWER HERE ***; nothing was sent"
        ))
        .hint("write your answer in its place first"));
    }
    let mail = crate::mail::received::parse(&bytes, &shown)?;
    if mail.to.is_empty() {
        return Err(CliError::user(format!(
            "{shown} has no To: recipient; nothing was sent"
        )));
    }
    let mut series = store::load(&ctx.series_dir)?;
    let mut review = Review::parse(&series.review).map_err(|e| CliError::user(e.to_string()))?;
    match review.sent.iter().find(|s| s.message_id == mail.message_id) {
        Some(s) if s.accepted.is_some() => {
            writeln!(
                out,
                "{shown} <{}> was sent on {}; nothing was sent.",
                mail.message_id,
                s.accepted.as_deref().unwrap_or("")
            )?;
            return Ok(());
        }
        Some(_) if !args.resume => {
            return Err(CliError::user(format!(
                "a send of {shown} <{}> stopped before the server's answer was recorded; it may have arrived",
                mail.message_id
            ))
            .hint("check the list archive; `series send --reply FILE --resume` sends it again"))
        }
        _ => {}
    }
    writeln!(out, "{}", mail.subject)?;
    writeln!(out, "    To: {}", mail.to.join(", "))?;
    if !mail.cc.is_empty() {
        writeln!(out, "    Cc: {}", mail.cc.join(", "))?;
    }
    if args.dry_run {
        writeln!(out, "Dry run: nothing was sent.")?;
        return Ok(());
    }
    if !args.yes && !std::io::stdin().is_terminal() {
        return Err(CliError::user(
            "not sending without confirmation: standard input is not a terminal",
        )
        .hint("pass --yes to send from a script"));
    }
    let comment = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| s.len() == 8 && s.bytes().all(|b| b.is_ascii_hexdigit()));
    review.sent.retain(|s| s.message_id != mail.message_id);
    review.sent.push(SentReply {
        message_id: mail.message_id.clone(),
        comment: comment.clone(),
        digest: journal::digest(&bytes),
        accepted: None,
    });
    series.review = review.text().map_err(|e| CliError::user(e.to_string()))?;
    store::save(&ctx.series_dir, &series)?;
    let limit = Duration::from_secs(args.send_timeout.max(1));
    let from = match ctx.config("sendemail.from") {
        Some(_) => None,
        None => Some(mail.from.to_string()),
    };
    cmd::send_email(
        &ctx.config_dir(),
        &path,
        from.as_deref(),
        &mail.to,
        &mail.cc,
        limit,
    )
    .map_err(|e| {
        CliError::user(format!("git send-email failed on {shown}: {e}")).with_code(TOOL)
    })?;
    if let Some(s) = review
        .sent
        .iter_mut()
        .find(|s| s.message_id == mail.message_id)
    {
        s.accepted = Some(ctx.now().rfc2822());
    }
    if let Some(id) = &comment {
        let keep = review.of(id).is_some_and(|c| c.state != State::Open);
        if !keep {
            review.set(CommentState {
                id: id.clone(),
                state: State::Answered,
                version: None,
                note: None,
            });
        }
    }
    series.review = review.text().map_err(|e| CliError::user(e.to_string()))?;
    store::save(&ctx.series_dir, &series)?;
    writeln!(out, "Sent {} <{}>.", mail.subject, mail.message_id)?;
    Ok(())
}

/// The journal of a new send: every message, none accepted yet.
fn new_journal(p: &Sending, v: u32) -> Journal {
    Journal {
        version: v,
        secs: p.now.secs,
        offset_minutes: p.now.offset_minutes,
        nanos: p.now.nanos,
        series_digest: crate::rebase::digest(&p.series),
        from: Some(p.sender.to_string()),
        to: p.to.clone(),
        cc: p.cc.clone(),
        in_reply_to: p.in_reply_to.clone(),
        range_diff_against: p.range_diff_against,
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

/// Say so when this version was sent already: nothing goes twice.
fn already_sent(series: &Series, out: &mut dyn Write) -> Result<bool, CliError> {
    let v = series.manifest.version;
    let Some(h) = series
        .manifest
        .history
        .iter()
        .find(|h| h.version == v && !h.message_ids.is_empty())
    else {
        return Ok(false);
    };
    writeln!(
        out,
        "v{v} was sent on {} (cover {}); nothing was sent.",
        h.date.as_deref().unwrap_or("an unknown day"),
        h.message_ids.first().map(String::as_str).unwrap_or("")
    )?;
    writeln!(
        out,
        "To send a new version, run `series reroll` (it starts v{}).",
        v.saturating_add(1)
    )?;
    Ok(true)
}

/// A first send: the recipients kept in series.toml (those of the last
/// version sent) and the flags' ones; `--auto-cc` adds get_maintainer.pl's people (To) and lists (Cc).
fn fresh(ctx: &Context, mut series: Series, args: &Args) -> Result<Sending, CliError> {
    let drafted = format::draft_changelog(ctx, &mut series)?;
    let mut addressing = args.addressing.clone();
    // A first version goes to the setting's recipients (series.to,
    // series.cc: comma-separated) beside the flags'.
    let kept = &series.manifest.recipients;
    for (key, field, have) in [
        ("series.to", &mut addressing.to, kept.to.is_empty()),
        ("series.cc", &mut addressing.cc, kept.cc.is_empty()),
    ] {
        if have {
            for a in ctx
                .setting(key)
                .iter()
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .filter(|a| !a.is_empty())
            {
                if !field.iter().any(|f| address::same_address(f, a)) {
                    field.push(a.to_string());
                }
            }
        }
    }
    addressing.to = expand_aliases(ctx, &addressing.to);
    addressing.cc = expand_aliases(ctx, &addressing.cc);
    if args.auto_cc {
        let tree = ctx.tree_path().map_err(|e| {
            CliError::user(e.message).hint("--auto-cc runs the tree's scripts/get_maintainer.pl")
        })?;
        // get_maintainer.pl reads the diff; the stored patch files have the
        // same diffs as the mails, so the mails are rendered once, after.
        let limit = Duration::from_secs(args.maintainers_timeout.max(1));
        for i in 0..series.patches.len() {
            let found = maintainers::for_patch(&tree, &series.stored_patch(i), limit)
                .map_err(|e| CliError::user(e.to_string()).with_code(TOOL))?;
            for person in found.people {
                if !addressing
                    .to
                    .iter()
                    .any(|t| address::same_address(t, &person))
                {
                    addressing.to.push(person);
                }
            }
            for l in found.lists {
                if !addressing.cc.iter().any(|t| address::same_address(t, &l)) {
                    addressing.cc.push(l);
                }
            }
        }
    }
    let asked = addressing.asked(ctx, &series)?;
    let in_reply_to = asked.in_reply_to.clone();
    let plan = format::plan(ctx, &series, asked)?;
    let mut p = format::prepare_in(ctx, series, &plan, None)?;
    p.learned |= !drafted.is_empty();
    Ok(Sending::new(p, &plan, in_reply_to))
}

/// A resumed send: rendered with the journal's clock, sender, threading and
/// each message's recorded To and Cc, so the bytes are those it started with.
fn resumed(ctx: &Context, series: Series, j: &Journal) -> Result<Sending, CliError> {
    if j.messages.len() != series.patches.len() + 1 {
        return Err(CliError::user(format!(
            "the send journal of v{} lists {} messages, but the series has {} (a cover and {} patches)",
            j.version,
            j.messages.len(),
            series.patches.len() + 1,
            series.patches.len()
        ))
        .hint("series/ changed since the send started; restore it (git checkout -- series/), then run `series send --resume`"));
    }
    let mut plan = format::plan(ctx, &series, Default::default())?;
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
        plan.asked.range_diff = Some(super::diff::for_cover(ctx, &series, &format!("v{v}"))?);
    }
    plan.asked.to = j.to.clone();
    plan.asked.cc = j.cc.clone();
    plan.exact = Some(
        j.messages
            .iter()
            .map(|e| (e.to.clone(), e.cc.clone()))
            .collect(),
    );
    let p = format::prepare_in(ctx, series, &plan, None)?;
    Ok(Sending::new(p, &plan, j.in_reply_to.clone()))
}

/// A rendered version with what it was rendered for.
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

impl std::ops::Deref for Sending {
    type Target = Prepared;
    fn deref(&self) -> &Prepared {
        &self.prepared
    }
}

fn show_plan(
    ctx: &Context,
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
    if let Some(prev) = last_sent(series) {
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
        if added.is_empty() && dropped.is_empty() {
            writeln!(out, "Recipients are those of v{}.", prev.version)?;
        }
        let reviewers = if series.replies.is_empty() || added.is_empty() {
            Vec::new()
        } else {
            let (board, _) = super::review::board_of(ctx, series)?;
            crate::review::ledger::reviewers(&board, series.manifest.version)
        };
        for a in added {
            match reviewers.iter().find(|(r, _)| address::same_address(r, a)) {
                Some((_, v)) => {
                    writeln!(out, "Added since v{}: {a} (reviewed v{v})", prev.version)?
                }
                None => writeln!(out, "Added since v{}: {a}", prev.version)?,
            }
        }
        for a in dropped {
            writeln!(out, "Dropped since v{}: {a}", prev.version)?;
        }
    }
    Ok(())
}

/// Refuse to send a series with error-level findings, unless --force. The
/// check runs on the very bytes that are about to be sent; the errors are
/// printed.
fn gate(ctx: &Context, p: &Prepared, force: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let flags = super::check::Args {
        json: false,
        strict: false,
        checkpatch_args: None,
        checkpatch_timeout: 300,
        jobs: None,
        no_cache: false,
        build: None,
        build_timeout: 3600,
        max_warnings: None,
    };
    let report = super::check::gather(ctx, p, &flags.options(ctx))?;
    let errors: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    for f in &errors {
        let whose = match f.patch {
            Some(0) => "cover letter".to_string(),
            Some(n) => format!("patch {n}"),
            None => "series".to_string(),
        };
        writeln!(
            out,
            "{whose}: error {}/{}: {}",
            f.source,
            f.rule,
            f.message.lines().next().unwrap_or("")
        )?;
    }
    if force {
        writeln!(out, "Sending anyway (--force).")?;
        return Ok(());
    }
    Err(CliError::user(format!(
        "`series check` finds {} error{}; nothing was sent",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    ))
    .hint("fix the errors listed above, or pass --force to send anyway"))
}

/// A version after the first: warn when its changelog is empty, refuse it
/// when its patches are those of the last version sent (unless --force).
fn versions_gate(
    ctx: &Context,
    series: &Series,
    force: bool,
    strict: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let v = series.manifest.version;
    let empty = v > 1
        && series
            .manifest
            .history
            .iter()
            .find(|h| h.version == v)
            .is_none_or(|h| h.changes.is_empty());
    if empty {
        writeln!(
            out,
            "warning: \"Changes in v{v}\" is empty; write it in series/series.toml (`series diff --draft` drafts it)"
        )?;
    }
    if !series.replies.is_empty() {
        let (board, _) = super::review::board_of(ctx, series)?;
        let open = board
            .comments
            .iter()
            .filter(|t| t.state == crate::review::state::State::Open)
            .count();
        if open > 0 {
            writeln!(
                out,
                "warning: {open} review comment{} still open; `series review` lists them",
                if open == 1 { " is" } else { "s are" }
            )?;
        }
        let untouched: Vec<&crate::review::Tracked> =
            board.comments.iter().filter(|t| t.untouched()).collect();
        for t in &untouched {
            let c = &t.comment;
            writeln!(
                out,
                "warning: comment {} ({}, v{} patch {}{}) is open and the lines it quotes are untouched in v{v}",
                c.id,
                super::printable(&c.who.name),
                c.version,
                c.patch,
                c.location().map(|l| format!(", {l}")).unwrap_or_default()
            )?;
        }
        if strict && !untouched.is_empty() {
            return Err(CliError::user(format!(
                "{} open review comment{} untouched in v{v} (--strict); nothing was sent",
                untouched.len(),
                if untouched.len() == 1 { " is" } else { "s are" }
            ))
            .hint(
                "address them, or `series review resolve ID --note/--wontfix`, then send again",
            ));
        }
    }
    let kept = store::kept_versions(&ctx.series_dir);
    let Some(last) = crate::versions::default_old(series, &kept) else {
        return Ok(());
    };
    let old = crate::versions::load_version(&ctx.series_dir, last)?;
    if !crate::versions::compare(&old, series).identical() {
        return Ok(());
    }
    if force {
        writeln!(
            out,
            "v{v} has the patches of v{last}; sending anyway (--force)."
        )?;
        return Ok(());
    }
    Err(CliError::user(format!(
        "v{v} has the same patches as v{last}; nothing was sent"
    ))
    .hint("change the patches first, or pass --force to send them again as a new version"))
}

/// Ask before sending, on a terminal; refuse without one unless --yes.
fn confirm(
    messages: &[outgoing::Message],
    yes: bool,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    if yes {
        return Ok(());
    }
    // With --json the question would go into the JSON nobody reads on the
    // terminal: a script says --yes.
    if json {
        return Err(
            CliError::usage("`send --json` does not ask before sending; nothing was sent").hint(
                "pass --yes with --json to send, or --dry-run to see the JSON of what would go",
            ),
        );
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
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::user(format!("reading the answer from the terminal: {e}")))?;
    if matches!(line.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(CliError::user("nothing was sent"))
    }
}

/// Send every message the journal has not seen accepted, recording each
/// acceptance before the next, then record the version as sent and keep its
/// recipients for the next version.
fn deliver(
    ctx: &Context,
    p: &Sending,
    mut journal: Journal,
    jpath: &std::path::Path,
    link: &str,
    limit: Duration,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let dir = ctx.config_dir();
    let from = match ctx.config("sendemail.from") {
        Some(_) => None,
        None => Some(p.sender.to_string()),
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
    let mut send_one = |m: &outgoing::Message| -> Result<(), String> {
        while second() <= last.get() {
            std::thread::sleep(Duration::from_millis(20));
        }
        last.set(second());
        let file = p.dir.join(&m.file);
        cmd::send_email(&dir, &file, from.as_deref(), &m.to, &m.cc, limit)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    // Each message is reported as it goes; a closed stdout must not stop
    // a send halfway, so write errors here are left for the end.
    crate::send::deliver(
        &p.messages,
        &mut journal,
        jpath,
        &mut send_one,
        &|| ctx.now().rfc2822(),
        &mut |d| {
            let _ = match d {
                Delivered::Already(m) => writeln!(out, "Already sent: {}", m.subject),
                Delivered::Again(m) => writeln!(
                    out,
                    "warning: {} was being sent when the last send died; it may have arrived, and goes again",
                    m.subject
                ),
                Delivered::Sent(m) => writeln!(out, "Sent {} <{}>", m.subject, m.message_id),
            };
        },
    )?;
    // Every message is accepted: record the version as sent.
    let series = crate::send::record_sent(&p.series, &p.messages, &journal, link);
    let cover = &p.messages[0];
    store::save(&ctx.series_dir, &series)?;
    writeln!(
        out,
        "Sent v{} ({} messages); recorded in series/series.toml with link {}.",
        series.manifest.version,
        p.messages.len(),
        link.replace("{msgid}", &cover.message_id)
    )?;
    Ok(())
}
