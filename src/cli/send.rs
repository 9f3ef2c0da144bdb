//! `series send`: the plan (files, recipients, gates) is shown, the
//! question asked on a terminal, then the messages go.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args as ClapArgs;

use super::error::Kind;
use super::flags::Addressing;
use super::{emit, write_json, CliError, Context};
use crate::app::mails::CheckRequest;
use crate::app::send::{self, reply as send_reply};
use crate::send::Delivered;
use crate::term::Render;

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

    /// Send the version to these addresses only, with PREVIEW in the
    /// subject prefix, for a look before the real send; nothing is
    /// recorded (repeatable)
    #[arg(
        long,
        value_name = "ADDR",
        conflicts_with_all = ["reply", "resume", "auto_cc", "to", "cc", "dry_run"]
    )]
    pub preview_to: Vec<String>,

    /// Send the version as the real send would (the same headers, To and
    /// Cc) to yourself only, for a look at what the list will get;
    /// nothing is recorded
    #[arg(long, conflicts_with_all = ["reply", "resume", "dry_run", "preview_to"])]
    pub reflect: bool,
}

/// `series deliver` (hidden): the sendmail command git send-email runs for
/// `send --reflect`; the message on stdin goes to `--to` alone.
#[derive(Debug, ClapArgs)]
pub struct DeliverArgs {
    #[arg(long, value_name = "ADDR")]
    pub to: String,
    #[arg(long, value_name = "ADDR")]
    pub from: String,
    /// What git send-email adds for a sendmail program (-i, -f, its
    /// recipients): ignored
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub rest: Vec<String>,
}

/// Pass the message on stdin to `--to` alone over git send-email's
/// configured transport (see `crate::send::reflect`).
pub fn deliver_reflected(cwd: &std::path::Path, args: DeliverArgs) -> Result<(), CliError> {
    use crate::send::reflect;
    use std::io::Read;
    let mut message = Vec::new();
    std::io::stdin()
        .take(64 << 20)
        .read_to_end(&mut message)
        .map_err(|e| CliError::internal(format!("cannot read the message: {e}")))?;
    let fail = |e: reflect::ReflectError| CliError::caused(&e).kind(Kind::Tool);
    let transport = reflect::Transport::from_config(cwd).map_err(fail)?;
    reflect::deliver(
        &transport,
        &args.from,
        &args.to,
        &message,
        cwd,
        Duration::from_secs(300),
    )
    .map_err(fail)
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    if let Some(file) = &args.reply {
        return reply(ctx, &args, file, out);
    }
    if !args.preview_to.is_empty() {
        let limit = Duration::from_secs(args.send_timeout.max(1));
        let r = send::preview(ctx, &args.preview_to, args.addressing.no_sign, limit)?;
        return emit(out, &r, args.json);
    }
    let req = send::Request {
        addressing: args.addressing.clone().request(),
        dry_run: args.dry_run,
        force: args.force,
        strict: args.strict,
        resume: args.resume,
        auto_cc: args.auto_cc,
        link: args.link.clone(),
        maintainers_timeout: Duration::from_secs(args.maintainers_timeout.max(1)),
        send_timeout: Duration::from_secs(args.send_timeout.max(1)),
        // The gate is the check `series check` runs by default.
        check: CheckRequest::default(),
    };
    if args.reflect {
        return emit(out, &send::reflect(ctx, &req)?, args.json);
    }
    let mut planned = send::plan(ctx, &req)?;
    // With --json nothing but the summary is printed, at the end.
    let mut sink = Vec::new();
    let summary = serde_json::to_value(&planned).map_err(|e| CliError::internal(e.to_string()))?;
    let (sent, verdict) = {
        let text: &mut dyn Write = if args.json { &mut sink } else { &mut *out };
        planned.render(text)?;
        if !planned.pending() || args.dry_run {
            // A dry run exits as the send would.
            (None, planned.verdict())
        } else {
            planned.verdict()?;
            if planned.asks() {
                confirm(planned.messages.len(), args.yes, args.json, text)?;
            }
            (Some(deliver(ctx, planned, &req, text)?), Ok(()))
        }
    };
    let Some(sent) = sent else {
        if args.json {
            write_json(out, &summary)?;
        }
        return Ok(verdict?);
    };
    if args.json {
        let mut v = summary;
        v["dry_run"] = false.into();
        return write_json(out, &v);
    }
    emit(out, &sent, false)
}

/// Hand the messages over, telling of each as it goes; a closed stdout
/// must not stop a send halfway, so write errors here are ignored.
fn deliver(
    ctx: &Context,
    planned: send::Planned,
    req: &send::Request,
    text: &mut dyn Write,
) -> Result<send::Sent, CliError> {
    Ok(send::deliver(
        ctx,
        planned,
        &req.link,
        req.send_timeout,
        &mut |d| {
            let _ = match d {
            Delivered::Already(m) => writeln!(text, "Already sent: {}", m.subject),
            Delivered::Again(m) => writeln!(
                text,
                "warning: {} was being sent when the last send died; it may have arrived, and goes again",
                m.subject
            ),
            Delivered::Sent(m) => writeln!(text, "Sent {} <{}>", m.subject, m.message_id),
        };
        },
    )?)
}

/// Ask before sending, on a terminal; refuse without one unless --yes.
fn confirm(count: usize, yes: bool, json: bool, out: &mut dyn Write) -> Result<(), CliError> {
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
    write!(out, "Send these {count} messages? [y/N] ")?;
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

/// `send --reply FILE`.
fn reply(
    ctx: &Context,
    args: &Args,
    file: &std::path::Path,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let r = send_reply::read(ctx, file, args.resume)?;
    r.render(out)?;
    if r.sent_on.is_some() {
        return Ok(());
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
    let limit = Duration::from_secs(args.send_timeout.max(1));
    emit(out, &send_reply::send(ctx, r, limit)?, false)
}
