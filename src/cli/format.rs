//! `series format`: write the current version as mails for `git send-email`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args as ClapArgs;

use super::{CliError, Context};
use crate::clock::Moment;
use crate::model::Person;
use crate::outgoing::{self, Message, Options};
use crate::send::recipients;
use crate::store::{self, Series};
use crate::template;

/// Write the cover letter and patches of the current version to a folder
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Output folder [default: outgoing/vN beside series/]
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub addressing: Addressing,
}

/// Recipients and threading, shared by `format` and `send`.
#[derive(Debug, Clone, Default, ClapArgs)]
pub struct Addressing {
    /// Add a To: recipient: an address or a list name from MAINTAINERS (repeatable)
    #[arg(long, value_name = "WHO")]
    pub to: Vec<String>,

    /// Add a Cc: recipient: an address or a list name from MAINTAINERS (repeatable)
    #[arg(long, value_name = "WHO")]
    pub cc: Vec<String>,

    /// Thread the cover letter under this Message-Id (an earlier version)
    #[arg(long, value_name = "MSGID")]
    pub in_reply_to: Option<String>,

    /// Do not Cc the people named in each patch's trailers
    #[arg(long)]
    pub suppress_cc: bool,
}

/// A rendered version, ready to write or send.
pub struct Prepared {
    pub series: Series,
    pub messages: Vec<Message>,
    /// The cover's diffstat describes other patches than the files hold.
    pub stale_diffstat: bool,
    /// The cover letter prose as rendered from `cover.md`.
    pub prose: String,
    /// The recipients asked for, resolved, before each patch's trailer Cc.
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub dir: PathBuf,
    /// Whether resolving list names taught the series new names to save.
    pub learned: bool,
}

/// Render the cover letter prose from `cover.md`, with `bench_table(NAME)`
/// (and `bench_table(NAME, ascii=true)` for `+-`) available to it.
pub fn render_prose(series: &Series, ctx: &Context) -> Result<String, CliError> {
    let file = super::rel(&ctx.series_dir.join(store::COVER), &ctx.cwd);
    let benches = series.bench.clone();
    Ok(template::render_with(
        &file,
        &series.cover,
        minijinja::Value::UNDEFINED,
        move |env| {
            env.add_function(
                "bench_table",
                move |name: String, kwargs: minijinja::value::Kwargs| {
                    let ascii: Option<bool> = kwargs.get("ascii")?;
                    kwargs.assert_all_used()?;
                    let fail = |msg: String| {
                        minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, msg)
                    };
                    let text = benches
                        .get(&crate::bench::file_name(&name))
                        .ok_or_else(|| fail(format!("no bench {name:?} in series/bench/")))?;
                    let b =
                        crate::bench::Bench::parse(&name, text).map_err(|e| fail(e.to_string()))?;
                    let t = crate::bench::table::render(&name, &b, ascii.unwrap_or(false))
                        .map_err(|e| fail(e.to_string()))?;
                    Ok(t.trim_end_matches('\n').to_string())
                },
            );
        },
    )?)
}

/// How to render a version: recipients as given, the clock, and (for a
/// resumed send) the exact recipients of each message.
#[derive(Clone, Debug)]
pub struct Plan {
    pub addressing: Addressing,
    pub now: Moment,
    pub sender: Person,
    pub exact: Option<Vec<(Vec<String>, Vec<String>)>>,
    pub output: Option<PathBuf>,
}

impl Plan {
    /// A plan with the real (or `SERIES_NOW`) clock and the sender's identity.
    pub fn new(ctx: &Context, series: &Series, addressing: &Addressing) -> Result<Plan, CliError> {
        Ok(Plan {
            addressing: addressing.clone(),
            now: ctx.now(),
            sender: ctx.sender(series),
            exact: None,
            output: None,
        })
    }
}

/// Resolve recipients and render every message of a loaded series, once.
pub fn prepare(ctx: &Context, mut series: Series, plan: &Plan) -> Result<Prepared, CliError> {
    let tree_lists = ctx
        .tree_path_opt()
        .map(|t| crate::tree::tree_lists(&t))
        .unwrap_or_default();
    let (mut learned, stale_diffstat) = fresh_diffstat(ctx, &mut series)?;
    let addressing = &plan.addressing;
    let m = &series.manifest;
    let (to, cc, names) = recipients::resolve_to_cc(
        (&m.recipients.to, &addressing.to),
        (&m.recipients.cc, &addressing.cc),
        &tree_lists,
        &m.lists,
    )
    .map_err(|e| {
        CliError::caused(&e).hint("give a full address, or run with --tree pointing at a kernel tree whose MAINTAINERS lists it")
    })?;
    for (k, v) in names {
        if series.manifest.lists.get(&k) != Some(&v) {
            series.manifest.lists.insert(k, v);
            learned = true;
        }
    }
    let prose = render_prose(&series, ctx)?;
    let opts = Options {
        to: to.clone(),
        cc: cc.clone(),
        patch_cc: if addressing.suppress_cc {
            Vec::new()
        } else {
            let sender = plan.sender.to_string();
            series
                .patches
                .iter()
                .map(|m| recipients::trailer_cc(m, &sender))
                .collect()
        },
        in_reply_to: addressing.in_reply_to.as_ref().map(|s| {
            s.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        }),
        sender: plan.sender.clone(),
        exact: plan.exact.clone(),
        now: plan.now,
        project: ctx.project(),
    };
    let messages = outgoing::render(&series, &prose, &opts)?;
    let dir = plan
        .output
        .clone()
        .map(|o| if o.is_absolute() { o } else { ctx.cwd.join(o) })
        .unwrap_or_else(|| {
            ctx.project()
                .join("outgoing")
                .join(format!("v{}", series.manifest.version))
        });
    Ok(Prepared {
        series,
        messages,
        stale_diffstat,
        prose,
        to,
        cc,
        dir,
        learned,
    })
}

/// Make sure the cover's diffstat describes the patch files as they are:
/// when they changed since it was computed (a hand edit), compute it again
/// on a tree that has the base. Returns whether it changed, and whether it
/// is stale still (no tree with the base at hand, or a patch that does not
/// apply there).
fn fresh_diffstat(ctx: &Context, series: &mut Series) -> Result<(bool, bool), CliError> {
    let now = series.diffs_digest();
    if series.manifest.diffstat_of.as_deref() == Some(now.as_str()) {
        return Ok((false, false));
    }
    let stat = match ctx.tree_path_opt() {
        Some(t) => crate::git::Tree::open(&t)?
            .series_stat(&series.manifest.base.commit, &series.patches)?,
        None => None,
    };
    match stat {
        Some(stat) => {
            series.manifest.diffstat = stat;
            series.manifest.diffstat_of = Some(now);
            Ok((true, false))
        }
        // A series written before the digest was kept: trusted as it is.
        None if series.manifest.diffstat_of.is_none() => Ok((false, false)),
        None => Ok((false, true)),
    }
}

/// The error for a cover diffstat that no longer describes the patches.
pub fn stale_diffstat() -> CliError {
    CliError::user(
        "the patch files changed since the cover letter's diffstat was computed (series/patches was edited)",
    )
    .hint("run with --tree pointing at a kernel tree that has the base (and where every patch applies), so the diffstat is computed again")
}

/// Write the prepared files and report them.
pub fn write_out(ctx: &Context, p: &Prepared, out: &mut dyn Write) -> Result<(), CliError> {
    outgoing::write(&p.dir, &p.messages)?;
    if p.learned {
        store::save(&ctx.series_dir, &p.series)?;
    }
    for m in &p.messages {
        writeln!(out, "{}", super::rel(&p.dir.join(&m.file), &ctx.cwd))?;
    }
    Ok(())
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let series = store::load(&ctx.series_dir)?;
    let mut plan = Plan::new(ctx, &series, &args.addressing)?;
    plan.output = args.output;
    let p = prepare(ctx, series, &plan)?;
    if p.stale_diffstat {
        return Err(stale_diffstat());
    }
    write_out(ctx, &p, out)
}
