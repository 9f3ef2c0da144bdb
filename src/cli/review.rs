//! `series review`: replies in (`fetch`), comments listed with their
//! states, `resolve`d, and answered (`reply`); `series trailers`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args as ClapArgs, Subcommand};
use serde::Serialize;

use super::{CliError, Context};
use crate::review::ledger::{self, Action};
use crate::review::state::State;
use crate::review::trailers::Verdict;
use crate::review::{self, Board, Tracked, Us, Versions};
use crate::store::{self, Series};

/// List the review comments each patch received, with their states
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,

    /// Also list comments answered, addressed, won't fix and acknowledgements
    #[arg(long)]
    pub all: bool,

    #[command(subcommand)]
    pub what: Option<What>,
}

#[derive(Debug, Subcommand)]
pub enum What {
    /// Get the replies to every sent version from the archive (or an mbox)
    Fetch {
        /// Read the replies from an mbox, a maildir or a folder of .eml files
        #[arg(long, value_name = "FILE")]
        mbox: Option<PathBuf>,
        /// The public-inbox archive [default: git config series.lore, else lore.kernel.org]
        #[arg(long, value_name = "URL")]
        lore: Option<String>,
        /// Seconds the whole exchange with the archive may take
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        lore_timeout: u64,
    },
    /// Mark a comment addressed (--note) or won't fix (--wontfix), or open again
    Resolve {
        /// The comment's id (or a unique start of it), as `series review` shows it
        id: String,
        /// How the next version addresses it (drafts a changelog line)
        #[arg(long, conflicts_with_all = ["wontfix", "reopen"])]
        note: Option<String>,
        /// Why it will not be changed
        #[arg(long, conflicts_with = "reopen")]
        wontfix: Option<String>,
        /// Open it again
        #[arg(long)]
        reopen: bool,
    },
    /// Write a reply to a comment to outgoing/replies/, ready to edit and send
    Reply {
        /// The comment's id (or a unique start of it)
        id: String,
    },
}

impl Args {
    pub fn writes(&self) -> bool {
        matches!(
            self.what,
            Some(What::Fetch { .. }) | Some(What::Resolve { .. })
        )
    }
}

/// The current series and every kept version, by number.
pub fn versions(ctx: &Context, series: &Series) -> Result<Versions, CliError> {
    let mut out: Versions = BTreeMap::new();
    for v in store::kept_versions(&ctx.series_dir) {
        if v != series.manifest.version {
            out.insert(v, store::load_kept(&ctx.series_dir, v)?);
        }
    }
    out.insert(series.manifest.version, series.clone());
    Ok(out)
}

/// Who "we" are: the configured identity, each version's poster and the
/// addresses of `series.me`.
pub fn us(ctx: &Context, series: &Series) -> Us {
    let extra: Vec<String> = ctx
        .setting("series.me")
        .map(|v| v.split(',').map(|a| a.trim().to_string()).collect())
        .unwrap_or_default();
    Us::new(series, &ctx.sender(series), &extra)
}

/// The board of the series as it is.
pub fn board_of(ctx: &Context, series: &Series) -> Result<(Board, Versions), CliError> {
    let versions = versions(ctx, series)?;
    let board = review::board(series, &versions, &us(ctx, series)).map_err(|e| {
        CliError::user(e.to_string())
            .hint("fix series/review.toml by hand (docs/FORMAT.md) or restore it from git")
    })?;
    Ok((board, versions))
}

/// The archive review links point to.
fn archive(ctx: &Context) -> String {
    super::init::lore_base(ctx, None)
}

#[derive(Serialize)]
struct JsonComment<'a> {
    #[serde(flatten)]
    comment: &'a crate::review::comments::Comment,
    state: &'static str,
    addressed_in: Option<u32>,
    note: Option<&'a str>,
    /// What became of the quoted lines in the current version.
    lines_now: Option<&'static str>,
    touched_in: Option<u32>,
    patch_now: Option<usize>,
    location: Option<String>,
}

fn state_key(s: State) -> &'static str {
    match s {
        State::Open => "open",
        State::Answered => "answered",
        State::Addressed => "addressed",
        State::Wontfix => "wontfix",
        State::Ack => "ack",
    }
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    match args.what {
        Some(What::Fetch {
            mbox,
            lore,
            lore_timeout,
        }) => fetch(ctx, mbox, lore, lore_timeout, out),
        Some(What::Resolve {
            id,
            note,
            wontfix,
            reopen,
        }) => {
            let action = match (note, wontfix, reopen) {
                (Some(n), _, _) => Action::Note(n),
                (_, Some(w), _) => Action::Wontfix(w),
                (_, _, true) => Action::Reopen,
                _ => {
                    return Err(CliError::usage(
                        "say how: --note TEXT, --wontfix REASON or --reopen",
                    ))
                }
            };
            resolve(ctx, &id, action, out)
        }
        Some(What::Reply { id }) => reply(ctx, &id, out),
        None => list(ctx, args.json, args.all, out),
    }
}

/// The raw mails of every sent version's thread in the archive.
fn from_archive(
    ctx: &Context,
    series: &Series,
    lore: Option<&str>,
    timeout: u64,
    out: &mut dyn Write,
) -> Result<(Vec<Vec<u8>>, String), CliError> {
    let sent: Vec<(u32, String)> = series
        .manifest
        .history
        .iter()
        .filter_map(|h| h.message_ids.first().map(|m| (h.version, m.clone())))
        .collect();
    if sent.is_empty() {
        return Err(CliError::user(
            "no version of this series was sent: there are no replies to fetch",
        )
        .hint("send a version with `series send`, or read replies from a file with --mbox"));
    }
    let base = super::init::lore_base(ctx, lore);
    let client = crate::lore::Lore::new(&base, Duration::from_secs(timeout.max(1)))?;
    let mut raw = Vec::new();
    for (v, id) in &sent {
        match client.thread(id) {
            Ok(mut t) => raw.append(&mut t),
            Err(crate::lore::LoreError::NotFound { .. }) => {
                writeln!(out, "v{v}: its thread is not in {base} (yet)")?
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok((raw, base))
}

fn fetch(
    ctx: &Context,
    mbox: Option<PathBuf>,
    lore: Option<String>,
    timeout: u64,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut series = store::load(&ctx.series_dir)?;
    let (raw, source) = match mbox {
        Some(path) => (
            crate::mailbox::read_source(&path)?,
            super::rel(&path, &ctx.cwd),
        ),
        None => from_archive(ctx, &series, lore.as_deref(), timeout, out)?,
    };
    let us = us(ctx, &series);
    let intake = review::intake(&mut series, &raw, &source, &us);
    let added = &intake.added;
    for u in &added.unreadable {
        eprintln!("note: left out {}", super::printable(u));
    }
    if added.new > 0 || !intake.cc_added.is_empty() {
        store::save(&ctx.series_dir, &series)?;
    }
    writeln!(
        out,
        "{} new repl{} kept in series/replies/ ({} known already, {} other messages left out).",
        added.new,
        if added.new == 1 { "y" } else { "ies" },
        added.known,
        added.unrelated
    )?;
    for (a, v) in &intake.cc_added {
        writeln!(
            out,
            "Cc'd on v{}: {} (reviewed v{v}).",
            series.manifest.version,
            super::printable(a)
        )?;
    }
    let (board, _) = board_of(ctx, &series)?;
    let open = board
        .comments
        .iter()
        .filter(|c| c.state == State::Open)
        .count();
    writeln!(
        out,
        "{} comment{}, {open} open; `series review` lists them, `series trailers` the trailers.",
        board.comments.len(),
        if board.comments.len() == 1 { "" } else { "s" }
    )?;
    Ok(())
}

fn where_of(t: &Tracked) -> String {
    let c = &t.comment;
    let patch = if c.patch == 0 {
        format!("v{} cover", c.version)
    } else {
        format!("v{} patch {}", c.version, c.patch)
    };
    match c.location() {
        Some(l) => format!("{patch}, {l}"),
        None => patch,
    }
}

fn list(ctx: &Context, json: bool, all: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let series = store::load(&ctx.series_dir)?;
    let (board, _) = board_of(ctx, &series)?;
    for u in &board.unplaced {
        eprintln!("note: {}", super::printable(u));
    }
    let current = series.manifest.version;
    let shown: Vec<&Tracked> = board
        .comments
        .iter()
        .filter(|t| all || t.state == State::Open)
        .collect();
    if json {
        let items: Vec<JsonComment> = shown
            .iter()
            .map(|t| JsonComment {
                comment: &t.comment,
                state: state_key(t.state),
                addressed_in: t.version,
                note: t.note.as_deref(),
                lines_now: t.fate.map(|f| f.word()),
                touched_in: t
                    .fate
                    .filter(|f| *f != crate::review::comments::Fate::Untouched)
                    .map(|_| current),
                patch_now: t.now_patch,
                location: t.comment.location(),
            })
            .collect();
        super::write_json(out, &items)?;
        return Ok(());
    }
    if shown.is_empty() {
        writeln!(
            out,
            "No {}review comments ({} in all).",
            if all { "" } else { "open " },
            board.comments.len()
        )?;
        return Ok(());
    }
    for t in shown {
        let c = &t.comment;
        let mut state = t.state.word().to_string();
        if let (State::Addressed, Some(v)) = (t.state, t.version) {
            state = format!("addressed in v{v}");
        }
        if let Some(n) = &t.note {
            state.push_str(&format!(": {n}"));
        }
        match (t.fate, t.state) {
            (Some(crate::review::comments::Fate::Untouched), State::Open) => {
                state.push_str(&format!(" (its lines untouched in v{current})"))
            }
            (Some(f), State::Open) => {
                state.push_str(&format!(" ({} in v{current}: addressed?)", f.word()))
            }
            _ => {}
        }
        let state = super::colour::state(t.state, &format!("[{state}]"));
        writeln!(
            out,
            "{}  {state}  {}  {}",
            c.id,
            where_of(t),
            super::printable(&c.who.to_string())
        )?;
        writeln!(out, "    {}  <{}>", super::printable(&c.date), c.message_id)?;
        for q in c
            .quoted
            .iter()
            .rev()
            .take(3)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            writeln!(out, "    > {}", super::printable(q))?;
        }
        for l in c.text.lines() {
            writeln!(out, "    {}", super::printable(l))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn resolve(ctx: &Context, id: &str, action: Action, out: &mut dyn Write) -> Result<(), CliError> {
    let series = store::load(&ctx.series_dir)?;
    let (board, _) = board_of(ctx, &series)?;
    let how = action.clone();
    let done = ledger::resolve(&series, &board, id, action, &archive(ctx))?;
    store::save(&ctx.series_dir, &done.series)?;
    let (id, target) = (&done.id, done.target);
    match how {
        Action::Note(_) => writeln!(out, "{id}: addressed in v{target}.")?,
        Action::Wontfix(_) => writeln!(out, "{id}: won't fix.")?,
        Action::Reopen => writeln!(out, "{id}: open again.")?,
    }
    match (&done.drafted, how) {
        (Some(l), _) => writeln!(out, "Added to \"Changes in v{target}\": {l}")?,
        (None, Action::Note(_)) => writeln!(
            out,
            "v{} was sent: `series reroll` starts v{target}, and its changelog gets this line.",
            series.manifest.version
        )?,
        _ => {}
    }
    Ok(())
}

/// The reply file of a comment, as a reply to all of its mail.
fn reply(ctx: &Context, id: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let series = store::load(&ctx.series_dir)?;
    let (board, _) = board_of(ctx, &series)?;
    let t = ledger::find(&board, id)?;
    let draft = crate::review::reply::draft(
        &board,
        t,
        &us(ctx, &series),
        &ctx.sender(&series),
        ctx.now(),
    )
    .map_err(|e| CliError::internal(e.to_string()))?;
    let dir = ctx.project().join("outgoing").join("replies");
    let path = dir.join(format!("{}.eml", t.comment.id));
    super::write_file(&path, &draft.bytes)?;
    let shown = super::rel(&path, &ctx.cwd);
    writeln!(out, "{shown}")?;
    writeln!(
        out,
        "Write your answer in place of {}, then `series send --reply {shown}`.",
        crate::review::reply::PLACEHOLDER
    )?;
    Ok(())
}

/// Show the trailers (Reviewed-by, Acked-by, ...) each patch received;
/// --apply writes them into the patch files
#[derive(Debug, ClapArgs)]
pub struct TrailersArgs {
    /// Write the new trailers into the patch files
    #[arg(long)]
    pub apply: bool,

    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct JsonTrailer {
    patch: usize,
    trailer: String,
    from: String,
    message_id: String,
    given_to: String,
    verdict: String,
}

fn verdict_text(v: &Verdict) -> String {
    match v {
        Verdict::New => "new".into(),
        Verdict::Present => "present".into(),
        Verdict::Conditional(c) => format!("conditional (\"{c}\"): not applied"),
        Verdict::FromOther => "in someone else's name: not applied".into(),
        Verdict::Malformed => "not one person's name and address: not applied".into(),
        Verdict::Quoted => "quoted from another mail: not applied".into(),
        Verdict::ChangedSince(v) => {
            format!("given for v{v}, patch changed since: confirm, not applied")
        }
    }
}

fn verdict_key(v: &Verdict) -> &'static str {
    match v {
        Verdict::New => "new",
        Verdict::Present => "present",
        Verdict::Conditional(_) => "conditional",
        Verdict::FromOther => "from-other",
        Verdict::Malformed => "malformed",
        Verdict::Quoted => "quoted",
        Verdict::ChangedSince(_) => "changed-since",
    }
}

fn given_to(g: &crate::review::trailers::Given) -> String {
    if g.place.patch == 0 {
        format!("v{} cover", g.place.version)
    } else {
        format!("v{} patch {}", g.place.version, g.place.patch)
    }
}

pub fn trailers(ctx: &Context, args: TrailersArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let series = store::load(&ctx.series_dir)?;
    let (board, versions) = board_of(ctx, &series)?;
    let per = review::trailers_per_patch(&series, &versions, &board.given);
    if args.json {
        let items: Vec<JsonTrailer> = per
            .iter()
            .flat_map(|(nr, list)| {
                list.iter().map(move |g| JsonTrailer {
                    patch: *nr,
                    trailer: g.trailer.line(),
                    from: g.from.to_string(),
                    message_id: g.message_id.clone(),
                    given_to: given_to(g),
                    verdict: verdict_key(&g.verdict).into(),
                })
            })
            .collect();
        super::write_json(out, &items)?;
    } else {
        for (nr, list) in per.iter().filter(|(_, l)| !l.is_empty()) {
            writeln!(
                out,
                "{nr}/{} {}",
                series.patches.len(),
                series.patches[nr - 1].title
            )?;
            for g in list {
                writeln!(
                    out,
                    "    {}  [{}]",
                    super::printable(&g.trailer.line()),
                    verdict_text(&g.verdict)
                )?;
                let on = if g.place.patch == 0 {
                    format!("on the v{} cover", g.place.version)
                } else {
                    format!("on v{} patch {}", g.place.version, g.place.patch)
                };
                writeln!(
                    out,
                    "        from {} {on}, <{}>",
                    super::printable(&g.from.to_string()),
                    g.message_id
                )?;
            }
        }
    }
    if !args.apply {
        return Ok(());
    }
    crate::versions::writable(&series)?;
    let own = ctx.sender(&series);
    let (next, count) = review::apply_trailers(&series, &per, &own);
    if count > 0 {
        store::save(&ctx.series_dir, &next)?;
    }
    if !args.json {
        writeln!(
            out,
            "Applied {count} trailer{} to series/patches.",
            if count == 1 { "" } else { "s" }
        )?;
    }
    Ok(())
}
