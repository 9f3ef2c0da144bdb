//! `series review`: replies in (`fetch`), comments listed with their
//! states, `resolve`d, and answered (`reply`); `series trailers`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args as ClapArgs, Subcommand};
use serde::Serialize;

use super::{CliError, Context};
use crate::review::state::{CommentState, Review, State};
use crate::review::trailers::Verdict;
use crate::review::{self, Board, Tracked, Versions};
use crate::store::{self, Series};

/// List the review comments each patch received, with their states
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,

    /// Also list comments answered, addressed or won't fix
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
        /// Seconds the archive may take to answer
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        lore_timeout: u64,
    },
    /// Mark a comment addressed (--note) or won't fix (--wontfix), or open again
    Resolve {
        /// The comment's id, as `series review` shows it
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
        /// The comment's id
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

/// The board of the series as it is.
pub fn board_of(ctx: &Context, series: &Series) -> Result<(Board, Versions), CliError> {
    let versions = versions(ctx, series)?;
    let own = ctx.sender(series);
    let board = review::board(series, &versions, &own).map_err(|e| {
        CliError::user(e.to_string())
            .hint("fix series/review.toml by hand (docs/FORMAT.md) or restore it from git")
    })?;
    Ok((board, versions))
}

#[derive(Serialize)]
struct JsonComment<'a> {
    #[serde(flatten)]
    comment: &'a crate::review::comments::Comment,
    state: &'static str,
    addressed_in: Option<u32>,
    note: Option<&'a str>,
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
        }) => resolve(ctx, &id, note, wontfix, reopen, out),
        Some(What::Reply { id }) => reply(ctx, &id, out),
        None => list(ctx, args.json, args.all, out),
    }
}

fn fetch(
    ctx: &Context,
    mbox: Option<PathBuf>,
    lore: Option<String>,
    timeout: u64,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut series = store::load(&ctx.series_dir)?;
    let sent: Vec<(u32, String)> = series
        .manifest
        .history
        .iter()
        .filter_map(|h| h.message_ids.first().map(|m| (h.version, m.clone())))
        .collect();
    if sent.is_empty() && mbox.is_none() {
        return Err(CliError::user(
            "no version of this series was sent: there are no replies to fetch",
        )
        .hint("send a version with `series send`, or read replies from a file with --mbox"));
    }
    let mut raw = Vec::new();
    let source = match mbox {
        Some(path) => {
            raw = crate::mailbox::read_source(&path)?;
            super::rel(&path, &ctx.cwd)
        }
        None => {
            let base = super::init::lore_base(ctx, lore.as_deref());
            let client = crate::lore::Lore::new(&base, Duration::from_secs(timeout.max(1)))?;
            for (v, id) in &sent {
                match client.thread(id) {
                    Ok(mut t) => raw.append(&mut t),
                    Err(crate::lore::LoreError::NotFound { .. }) => {
                        writeln!(out, "v{v}: its thread is not in {base} (yet)")?
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            base
        }
    };
    let added = review::add(&mut series, &raw, &source);
    for u in &added.unreadable {
        eprintln!("note: left out {u}");
    }
    if added.new > 0 {
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
        eprintln!("note: {u}");
    }
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
                touched_in: t.touched_in,
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
        if let (Some(v), State::Open) = (t.touched_in, t.state) {
            state.push_str(&format!(" (touched in v{v}: addressed?)"));
        }
        let state = super::colour::state(t.state, &format!("[{state}]"));
        writeln!(out, "{}  {state}  {}  {}", c.id, where_of(t), c.who)?;
        writeln!(out, "    {}  <{}>", c.date, c.message_id)?;
        for q in c
            .quoted
            .iter()
            .rev()
            .take(3)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            writeln!(out, "    > {q}")?;
        }
        for l in c.text.lines() {
            writeln!(out, "    {l}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// The comment with `id`, or an error that says where the ids are.
fn comment<'a>(board: &'a Board, id: &str) -> Result<&'a Tracked, CliError> {
    board
        .comments
        .iter()
        .find(|t| t.comment.id == id)
        .ok_or_else(|| {
            CliError::user(format!("no review comment {id}"))
                .hint("`series review --all` lists the comments and their ids")
        })
}

fn resolve(
    ctx: &Context,
    id: &str,
    note: Option<String>,
    wontfix: Option<String>,
    reopen: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut series = store::load(&ctx.series_dir)?;
    let (board, _) = board_of(ctx, &series)?;
    let t = comment(&board, id)?;
    for text in note.iter().chain(&wontfix) {
        if text.trim().is_empty() || text.chars().any(char::is_control) {
            return Err(CliError::usage("the note is one line of text"));
        }
    }
    let mut review = Review::parse(&series.review).map_err(|e| CliError::user(e.to_string()))?;
    let current = series.manifest.version;
    let sent = crate::versions::sent(&series).is_some();
    let target = if sent { current + 1 } else { current };
    let state = match (&note, &wontfix, reopen) {
        (Some(n), _, _) => CommentState {
            id: id.to_string(),
            state: State::Addressed,
            version: Some(target),
            note: Some(n.clone()),
        },
        (_, Some(w), _) => CommentState {
            id: id.to_string(),
            state: State::Wontfix,
            version: None,
            note: Some(w.clone()),
        },
        (_, _, true) => CommentState {
            id: id.to_string(),
            state: State::Open,
            version: None,
            note: None,
        },
        _ => {
            return Err(CliError::usage(
                "say how: --note TEXT, --wontfix REASON or --reopen",
            ))
        }
    };
    review.set(state);
    series.review = review.text();
    let mut drafted = None;
    if let Some(n) = &note {
        let line = review::changelog_line(t, n);
        if !sent {
            let entry = series.current_version_mut();
            if !entry.changes.contains(&line) {
                entry.changes.push(line.clone());
            }
            drafted = Some(line);
        }
    }
    store::save(&ctx.series_dir, &series)?;
    match (&note, &wontfix) {
        (Some(_), _) => writeln!(out, "{id}: addressed in v{target}.")?,
        (_, Some(_)) => writeln!(out, "{id}: won't fix.")?,
        _ => writeln!(out, "{id}: open again.")?,
    }
    if let Some(l) = drafted {
        writeln!(out, "Added to \"Changes in v{target}\": {l}")?;
    } else if note.is_some() {
        writeln!(out, "v{current} was sent: `series reroll` starts v{target}, and its changelog gets this line.")?;
    }
    Ok(())
}

/// The reply file of a comment: quoting it, addressed to the reviewer,
/// Cc the lists of that version, threaded under the reviewer's mail.
fn reply(ctx: &Context, id: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let series = store::load(&ctx.series_dir)?;
    let (board, _) = board_of(ctx, &series)?;
    let t = comment(&board, id)?;
    let c = &t.comment;
    let r = board
        .replies
        .iter()
        .find(|r| r.mail.message_id == c.message_id)
        .ok_or_else(|| CliError::internal(format!("the reply of comment {id} is gone")))?;
    let own = ctx.sender(&series);
    let entry = series
        .manifest
        .history
        .iter()
        .find(|h| h.version == c.version);
    let mut cc: Vec<String> = entry
        .map(|h| {
            h.to.iter()
                .flatten()
                .chain(h.cc.iter().flatten())
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let reviewer = c.who.to_string();
    cc.retain(|a| {
        !crate::mail::address::same_address(a, &reviewer)
            && !crate::mail::address::same_address(a, &own.to_string())
    });
    let subject = {
        let s = r.mail.subject.trim();
        if s.to_ascii_lowercase().starts_with("re:") {
            s.to_string()
        } else {
            format!("Re: {s}")
        }
    };
    let now = ctx.now();
    let domain = own.email.rsplit('@').next().unwrap_or("localhost");
    let msgid = format!("series-reply-{id}-{}@{domain}", now.secs);
    let mut refs: Vec<String> = r.mail.references.iter().map(|x| format!("<{x}>")).collect();
    refs.push(format!("<{}>", r.mail.message_id));
    let mut text = String::new();
    crate::mail::push_from_header(&mut text, &own);
    crate::mail::push_address_header(&mut text, "To:", std::slice::from_ref(&reviewer));
    if !cc.is_empty() {
        crate::mail::push_address_header(&mut text, "Cc:", &cc);
    }
    crate::mail::push_subject_header(&mut text, "", &subject);
    text.push_str(&format!("Date: {}\n", now.rfc2822()));
    text.push_str(&format!("Message-ID: <{msgid}>\n"));
    text.push_str(&format!("In-Reply-To: <{}>\n", r.mail.message_id));
    text.push_str(&format!("References: {}\n", refs.join(" ")));
    if crate::mail::text::has_non_ascii(text.as_bytes()) || !c.text.is_ascii() {
        text.push_str("MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n");
    }
    text.push('\n');
    let name = if c.who.name.is_empty() {
        c.who.email.clone()
    } else {
        c.who.name.clone()
    };
    text.push_str(&format!("On {}, {name} wrote:\n", c.date));
    for q in &c.quoted {
        text.push_str(&format!("> {q}\n"));
    }
    if !c.quoted.is_empty() {
        text.push_str(">\n");
    }
    for l in c.text.lines() {
        text.push_str(&format!("> {l}\n").replace("> \n", ">\n"));
    }
    text.push_str("\n*** YOUR ANSWER HERE ***\n");
    let dir = ctx.project().join("outgoing").join("replies");
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::user(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join(format!("{id}.eml"));
    std::fs::write(&path, text)
        .map_err(|e| CliError::user(format!("cannot write {}: {e}", path.display())))?;
    writeln!(out, "{}", super::rel(&path, &ctx.cwd))?;
    writeln!(
        out,
        "Write your answer in place of *** YOUR ANSWER HERE ***, then `series send --reply {}`.",
        super::rel(&path, &ctx.cwd)
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
        Verdict::Quoted => "quoted from another mail: not applied".into(),
        Verdict::ChangedSince(v) => format!("given for v{v}, patch changed since: not applied"),
    }
}

pub fn trailers(ctx: &Context, args: TrailersArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let series = store::load(&ctx.series_dir)?;
    let (board, versions) = board_of(ctx, &series)?;
    let per = review::trailers_per_patch(&series, &versions, &board.given);
    if args.json {
        let mut items = Vec::new();
        for (nr, list) in &per {
            for g in list {
                items.push(JsonTrailer {
                    patch: *nr,
                    trailer: g.trailer.line(),
                    from: g.from.to_string(),
                    message_id: g.message_id.clone(),
                    given_to: if g.place.patch == 0 {
                        format!("v{} cover", g.place.version)
                    } else {
                        format!("v{} patch {}", g.place.version, g.place.patch)
                    },
                    verdict: match &g.verdict {
                        Verdict::New => "new".into(),
                        Verdict::Present => "present".into(),
                        Verdict::Conditional(_) => "conditional".into(),
                        Verdict::FromOther => "from-other".into(),
                        Verdict::Quoted => "quoted".into(),
                        Verdict::ChangedSince(_) => "changed-since".into(),
                    },
                });
            }
        }
        super::write_json(out, &items)?;
        if !args.apply {
            return Ok(());
        }
    } else {
        for (nr, list) in &per {
            if list.is_empty() {
                continue;
            }
            writeln!(
                out,
                "{nr}/{} {}",
                series.patches.len(),
                series.patches[nr - 1].title
            )?;
            for g in list {
                let given = if g.place.patch == 0 {
                    format!("on the v{} cover", g.place.version)
                } else {
                    format!("on v{} patch {}", g.place.version, g.place.patch)
                };
                writeln!(
                    out,
                    "    {}  [{}]",
                    g.trailer.line(),
                    verdict_text(&g.verdict)
                )?;
                writeln!(out, "        from {} {given}, <{}>", g.from, g.message_id)?;
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
