//! The command line: argument parsing, dispatch, terminal output and exit codes.
//! Exit codes: 0 ok, 1 findings or a user error, 2 usage, 3 conflict,
//! 4 an external tool failed, 5 `status`: not ready to send, 130
//! interrupted, 255 internal error.

mod apply;
mod attest;
mod bench;
mod check;
mod complete;
mod depends;
mod diff;
pub mod error;
mod export;
mod flags;
mod format;
mod init;
mod lore;
mod man;
mod place;
mod progress;
mod rebase;
mod refresh;
mod reroll;
mod review;
mod send;
mod status;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::term::Render;

pub use error::CliError;

/// Keep a Linux kernel patch series as plain files: import it from commits
/// or a mailing list, rebase, check and send it as git does, version it, and
/// track its review.
#[derive(Debug, Parser)]
#[command(name = "series", version)]
pub struct Cli {
    /// The series folder [default: found as git finds .git: a series/
    /// folder here or above, else the repository's current series]
    #[arg(
        long,
        global = true,
        env = "SERIES_DIR",
        value_name = "DIR",
        help_heading = "Global options"
    )]
    pub series: Option<PathBuf>,

    /// The series of the repository's home to use (`series list` names them)
    #[arg(
        id = "series_name",
        long = "name",
        global = true,
        env = "SERIES_NAME",
        value_name = "NAME",
        help_heading = "Global options",
        add = complete::series_names()
    )]
    pub name: Option<String>,

    /// The kernel tree [default: $SERIES_TREE, else git config series.tree,
    /// else the git worktree here when it is a kernel tree]
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        help_heading = "Global options"
    )]
    pub tree: Option<PathBuf>,

    /// Colour: auto (on a terminal, unless NO_COLOR is set), always or never
    #[arg(
        long,
        global = true,
        value_name = "WHEN",
        default_value = "auto",
        help_heading = "Global options"
    )]
    pub color: Colour,

    #[command(subcommand)]
    pub command: Command,
}

/// `--color`.
#[derive(Debug, Clone, Copy, Default, clap::ValueEnum)]
pub enum Colour {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Init(init::Args),
    Status(status::Args),
    Format(format::Args),
    Send(send::Args),
    Bench(bench::Args),
    Rebase(rebase::Args),
    Apply(apply::Args),
    Check(check::Args),
    Depends(depends::Args),
    Reroll(reroll::Args),
    Diff(diff::Args),
    Refresh(refresh::Args),
    Lore(lore::Args),
    Review(review::Args),
    Trailers(review::TrailersArgs),
    Attest(attest::Args),
    Path(place::PathArgs),
    List(place::ListArgs),
    Switch(place::SwitchArgs),
    Move(place::MoveArgs),
    Edit(place::EditArgs),
    Export(export::Args),
    Man(man::ManArgs),
    Completions(man::CompletionsArgs),
    #[command(hide = true)]
    Deliver(send::DeliverArgs),
}

impl Command {
    /// Whether the command may write `series/` (and so holds its lock;
    /// `init` takes the lock of the folder it makes).
    fn writes(&self) -> bool {
        match self {
            Command::Status(_)
            | Command::Check(_)
            | Command::Apply(_)
            | Command::Lore(_)
            | Command::Attest(_)
            | Command::Path(_)
            | Command::List(_)
            | Command::Switch(_)
            | Command::Edit(_)
            | Command::Init(_)
            | Command::Man(_)
            | Command::Deliver(_)
            | Command::Completions(_) => false,
            Command::Bench(b) => b.writes(),
            Command::Depends(d) => d.writes(),
            Command::Review(r) => r.writes(),
            Command::Trailers(t) => t.apply,
            Command::Format(_)
            | Command::Move(_)
            | Command::Export(_)
            | Command::Send(_)
            | Command::Rebase(_)
            | Command::Reroll(_)
            | Command::Refresh(_) => true,
            Command::Diff(d) => d.draft,
        }
    }

    /// Whether the command works on one series (and so needs one picked).
    fn needs_series(&self) -> bool {
        let mail = matches!(self, Command::Check(c) if c.mail.is_some());
        !mail
            && !matches!(
                self,
                Command::Init(_)
                    | Command::List(_)
                    | Command::Switch(_)
                    | Command::Lore(_)
                    | Command::Attest(_)
                    | Command::Man(_)
                    | Command::Completions(_)
            )
    }

    /// Whether the command reads the series, and so first reads back the
    /// working branch of `series edit` when it moved.
    fn syncs(&self) -> bool {
        !matches!(
            self,
            Command::Init(_)
                | Command::Status(_)
                | Command::Lore(_)
                | Command::Attest(_)
                | Command::Path(_)
                | Command::List(_)
                | Command::Switch(_)
                | Command::Move(_)
                | Command::Edit(_)
                | Command::Man(_)
                | Command::Completions(_)
        ) && !matches!(self, Command::Rebase(r) if r.abort)
            && !matches!(self, Command::Check(c) if c.mail.is_some())
    }
}

/// How long a writer waits for another to finish: `SERIES_LOCK_WAIT`
/// seconds, else 10.
fn lock_wait() -> Result<std::time::Duration, CliError> {
    match std::env::var("SERIES_LOCK_WAIT") {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse::<u64>()
            .map(std::time::Duration::from_secs)
            .map_err(|_| {
                CliError::usage(format!("SERIES_LOCK_WAIT={v:?} is not a number of seconds"))
            }),
        _ => Ok(std::time::Duration::from_secs(10)),
    }
}

pub use crate::workspace::Workspace as Context;

/// The command line: the verbs and flags `Cli` derives, with the global
/// options left out of the help of `man` and `completions`, which have no
/// series or tree to use them on.
pub fn command() -> clap::Command {
    use clap::builder::{EnumValueParser, ValueParser};
    let hidden = |id: &'static str, long: &'static str, parser: ValueParser| {
        clap::Arg::new(id)
            .long(long)
            .hide(true)
            .value_parser(parser)
    };
    let mut cmd = <Cli as clap::CommandFactory>::command();
    for verb in ["man", "completions"] {
        // An argument of the verb's own, hidden, takes the place of the
        // global one of the same id (clap propagates a global argument
        // only where none of that id exists).
        cmd = cmd.mut_subcommand(verb, |sub| {
            sub.arg(hidden("series", "series", ValueParser::path_buf()))
                .arg(hidden("series_name", "name", ValueParser::string()))
                .arg(hidden("tree", "tree", ValueParser::path_buf()))
                .arg(hidden(
                    "color",
                    "color",
                    EnumValueParser::<Colour>::new().into(),
                ))
        });
    }
    cmd
}

/// Run the CLI and return its exit code.
pub fn main() -> ExitCode {
    crate::interrupt::install();
    // A panic is a bug: one line says so and asks for a report, and the
    // exit code is the documented 255.
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let _ = writeln!(
            std::io::stderr(),
            "error: series hit a bug ({what}{at}); please report it with the command you ran"
        );
    }));
    match std::panic::catch_unwind(main_inner) {
        Ok(code) => code,
        Err(_) => ExitCode::from(error::Kind::Internal.code()),
    }
}

fn main_inner() -> ExitCode {
    // The shell asking for completions (`COMPLETE=bash series -- ...`,
    // from the script `series completions` prints): answer and exit.
    clap_complete::CompleteEnv::with_factory(command).complete();
    let parsed = command()
        .try_get_matches()
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let mut stdout = std::io::stdout().lock();
    let result = run(cli, &mut stdout);
    if let Some(line) = crate::testing::trace() {
        let _ = writeln!(std::io::stderr(), "{line}");
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) if e.message.is_empty() => ExitCode::from(e.code),
        Err(e) => {
            let _ = stdout.flush();
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "error: {}", e.message);
            for c in &e.causes {
                let _ = writeln!(err, "  caused by: {c}");
            }
            if let Some(h) = &e.hint {
                let _ = writeln!(err, "hint: {h}");
            }
            ExitCode::from(e.code)
        }
    }
}

/// Dispatch one parsed command line, writing data to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<(), CliError> {
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::internal(format!("no current directory: {e}")))?;
    // Help in other forms needs no series, tree or settings.
    let command = match cli.command {
        Command::Man(a) => return man::man(&cwd, a, out),
        Command::Completions(a) => return man::completions(a, out),
        Command::Deliver(a) => return send::deliver_reflected(&cwd, a),
        other => other,
    };
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let fixed_now = match env("SERIES_NOW") {
        Some(v) => Some(crate::clock::Moment::parse(&v).ok_or(crate::clock::BadNow(v))?),
        None => None,
    };
    crate::term::init(match cli.color {
        Colour::Auto => crate::term::When::Auto,
        Colour::Always => crate::term::When::Always,
        Colour::Never => crate::term::When::Never,
    });
    let tree_env = std::env::var_os("SERIES_TREE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let ask = crate::workspace::Ask {
        series: cli.series,
        name: cli.name,
        tree: cli.tree,
        tree_env,
        now: fixed_now,
        committer: (env("GIT_COMMITTER_NAME"), env("GIT_COMMITTER_EMAIL")),
        creating: matches!(command, Command::Init(_)),
        lock_wait: lock_wait()?,
    };
    let ctx = crate::workspace::Workspace::open(&cwd, ask)?;
    if command.needs_series() {
        ctx.require()?;
    }
    if command.syncs() {
        if let Some(synced) = crate::app::edit::sync(&ctx, ctx.lock_wait)? {
            let _ = synced.render(&mut std::io::stderr());
        }
    }
    // Every command that may write series/ holds the series lock from
    // before it reads to after its last save; readers take none.
    let _lock = if command.writes() {
        Some(crate::store::lock(&ctx.series_dir, ctx.lock_wait)?)
    } else {
        None
    };
    match command {
        Command::Init(a) => init::run(&ctx, a, out),
        Command::Status(a) => status::run(&ctx, a, out),
        Command::Format(a) => format::run(&ctx, a, out),
        Command::Send(a) => send::run(&ctx, a, out),
        Command::Bench(a) => bench::run(&ctx, a, out),
        Command::Rebase(a) => rebase::run(&ctx, a, out),
        Command::Apply(a) => apply::run(&ctx, a, out),
        Command::Check(a) => check::run(&ctx, a, out),
        Command::Depends(a) => depends::run(&ctx, a, out),
        Command::Reroll(a) => reroll::run(&ctx, a, out),
        Command::Diff(a) => diff::run(&ctx, a, out),
        Command::Refresh(a) => refresh::run(&ctx, a, out),
        Command::Lore(a) => lore::run(&ctx, a, out),
        Command::Review(a) => review::run(&ctx, a, out),
        Command::Trailers(a) => review::trailers(&ctx, a, out),
        Command::Attest(a) => attest::run(&ctx, a, out),
        Command::Path(a) => place::path(&ctx, a, out),
        Command::List(a) => place::list(&ctx, a, out),
        Command::Switch(a) => place::switch(&ctx, a, out),
        Command::Move(a) => place::relocate(&ctx, a, out),
        Command::Edit(a) => place::edit(&ctx, a, out),
        Command::Export(a) => export::run(&ctx, a, out),
        // Answered above, before a workspace was opened.
        Command::Man(_) | Command::Completions(_) | Command::Deliver(_) => Ok(()),
    }
}

/// Write `value` as pretty JSON and a newline; a closed pipe is quiet, as
/// for text.
pub fn write_json(out: &mut dyn Write, value: &impl serde::Serialize) -> Result<(), CliError> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| CliError::internal(e.to_string()))?;
    writeln!(out, "{text}")?;
    Ok(())
}

/// Print a verb's result: as JSON, or as its text.
pub fn emit<T: serde::Serialize + Render>(
    out: &mut dyn Write,
    result: &T,
    json: bool,
) -> Result<(), CliError> {
    if json {
        return write_json(out, result);
    }
    result.render(out)?;
    Ok(())
}

/// Lines for standard error, each as it is.
pub fn notes(lines: &[String]) {
    let mut err = std::io::stderr().lock();
    for l in lines {
        let _ = writeln!(err, "{l}");
    }
}
