//! The command line: argument parsing, dispatch, terminal output and exit codes.
//! Exit codes: 0 ok, 1 findings or a user error, 2 usage, 3 conflict,
//! 4 an external tool failed, 255 internal error.

mod apply;
mod attest;
mod bench;
mod check;
pub mod colour;
mod diff;
pub mod error;
mod format;
mod init;
mod lore;
mod man;
mod progress;
mod rebase;
mod refresh;
mod reroll;
mod review;
mod send;
mod status;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use error::CliError;

/// Keep a Linux kernel patch series as plain files: import it from commits
/// or a mailing list, rebase, check and send it as git does, version it, and
/// track its review.
#[derive(Debug, Parser)]
#[command(name = "series", version)]
pub struct Cli {
    /// The series folder [default: ./series]
    #[arg(long, global = true, env = "SERIES_DIR", value_name = "DIR")]
    pub series: Option<PathBuf>,

    /// The kernel tree [default: $SERIES_TREE, or the current directory if it is one]
    #[arg(long, global = true, value_name = "PATH")]
    pub tree: Option<PathBuf>,

    /// Colour: auto (on a terminal, unless NO_COLOR is set), always or never
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub color: colour::When,

    #[command(subcommand)]
    pub command: Command,
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
    Reroll(reroll::Args),
    Diff(diff::Args),
    Refresh(refresh::Args),
    Lore(lore::Args),
    Review(review::Args),
    Trailers(review::TrailersArgs),
    Attest(attest::Args),
    Man(man::ManArgs),
    Completions(man::CompletionsArgs),
}

impl Command {
    /// Whether the command may write `series/`.
    fn writes(&self) -> bool {
        match self {
            Command::Status(_)
            | Command::Check(_)
            | Command::Apply(_)
            | Command::Lore(_)
            | Command::Attest(_)
            | Command::Man(_)
            | Command::Completions(_) => false,
            Command::Bench(b) => b.writes(),
            Command::Review(r) => r.writes(),
            Command::Trailers(t) => t.apply,
            Command::Init(_)
            | Command::Format(_)
            | Command::Send(_)
            | Command::Rebase(_)
            | Command::Reroll(_)
            | Command::Refresh(_) => true,
            Command::Diff(d) => d.draft,
        }
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

/// What every verb needs: where the series is, where it runs, and what
/// the environment said, read once here at the edge.
pub struct Context {
    pub series_dir: PathBuf,
    pub tree_flag: Option<PathBuf>,
    pub cwd: PathBuf,
    /// `SERIES_NOW`: a fixed clock for reproducible output.
    pub fixed_now: Option<crate::clock::Moment>,
    /// `SERIES_TREE`.
    pub tree_env: Option<PathBuf>,
    /// `GIT_COMMITTER_NAME` and `GIT_COMMITTER_EMAIL`.
    pub committer_env: (Option<String>, Option<String>),
}

impl Context {
    /// The folder holding `series/`: where `outgoing/` and `templates/` live.
    pub fn project(&self) -> PathBuf {
        match self.series_dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => self.cwd.clone(),
        }
    }

    /// The clock: `SERIES_NOW` when it was set, else the real one.
    pub fn now(&self) -> crate::clock::Moment {
        self.fixed_now.unwrap_or_else(crate::clock::Moment::now)
    }

    /// The kernel tree: `--tree`, else `SERIES_TREE`, else git config
    /// `series.tree` (read where series runs), else the current directory
    /// when it is a kernel tree; or an error with a hint.
    pub fn tree_path(&self) -> Result<PathBuf, CliError> {
        let configured = match (&self.tree_flag, &self.tree_env) {
            (None, None) => crate::git::config_get(&self.cwd, "series.tree").map(|t| {
                let p = PathBuf::from(&t);
                match t.strip_prefix("~/") {
                    Some(rest) => std::env::var_os("HOME")
                        .map(PathBuf::from)
                        .unwrap_or_default()
                        .join(rest),
                    None if p.is_relative() => self.cwd.join(p),
                    None => p,
                }
            }),
            _ => None,
        };
        crate::tree::locate(
            self.tree_flag.as_deref().or(configured.as_deref()),
            self.tree_env.as_deref(),
            &self.cwd,
        )
        .map_err(CliError::from)
    }

    /// A setting of series: git config (the tree's repository, then the
    /// user's, as git reads them), else the tree's shipped `.series-config`
    /// (git config format, as b4 reads `.b4-config`). Flags and environment
    /// variables, where a setting has them, come before both.
    pub fn setting(&self, key: &str) -> Option<String> {
        self.config(key).or_else(|| {
            let tree = self.tree_path_opt()?;
            crate::git::file_get(&tree.join(".series-config"), key)
        })
    }

    /// The kernel tree, when one can be found.
    pub fn tree_path_opt(&self) -> Option<PathBuf> {
        self.tree_path().ok()
    }

    /// Where git configuration is read: the tree, else the project folder.
    pub fn config_dir(&self) -> PathBuf {
        self.tree_path_opt().unwrap_or_else(|| self.project())
    }

    /// A git configuration value, read where `git send-email` would read it.
    pub fn config(&self, key: &str) -> Option<String> {
        crate::git::config_get(&self.config_dir(), key)
    }

    /// Who sends, as git format-patch takes it for a cover letter: the
    /// committer identity (`GIT_COMMITTER_NAME`/`EMAIL`, else `user.name` /
    /// `user.email`), else the first patch's author.
    pub fn sender(&self, series: &crate::store::Series) -> crate::model::Person {
        let fallback = crate::outgoing::first_author(series);
        let name = self
            .committer_env
            .0
            .clone()
            .or_else(|| self.config("user.name"));
        let email = self
            .committer_env
            .1
            .clone()
            .or_else(|| self.config("user.email"));
        match (name, email) {
            (Some(name), Some(email)) => crate::model::Person { name, email },
            (None, Some(email)) => crate::model::Person {
                name: String::new(),
                email,
            },
            _ => fallback,
        }
    }
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
        Err(_) => ExitCode::from(error::INTERNAL),
    }
}

fn main_inner() -> ExitCode {
    let cli = match Cli::try_parse() {
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
    let series_dir = match cli.series {
        Some(p) if p.is_absolute() => p,
        Some(p) => cwd.join(p),
        None => cwd.join("series"),
    };
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let fixed_now = match env("SERIES_NOW") {
        Some(v) => Some(crate::clock::Moment::parse(&v).ok_or(crate::clock::BadNow(v))?),
        None => None,
    };
    colour::init(cli.color);
    // A tree named that is not there is an error up front, never a quiet
    // fallback to no tree.
    let tree_flag = cli
        .tree
        .map(|t| if t.is_absolute() { t } else { cwd.join(t) });
    if let Some(t) = &tree_flag {
        if !t.is_dir() {
            return Err(
                CliError::usage(format!("--tree {}: no such folder", t.display()))
                    .hint("pass --tree with the path of a kernel tree (a git repository)"),
            );
        }
    }
    if let Some(t) = std::env::var_os("SERIES_TREE").filter(|v| !v.is_empty()) {
        let p = PathBuf::from(&t);
        if tree_flag.is_none() && !p.is_dir() {
            return Err(
                CliError::user(format!("SERIES_TREE={}: no such folder", p.display()))
                    .hint("point SERIES_TREE at a kernel tree, or unset it"),
            );
        }
    }
    let ctx = Context {
        series_dir,
        tree_flag,
        cwd,
        fixed_now,
        tree_env: std::env::var_os("SERIES_TREE")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
        committer_env: (env("GIT_COMMITTER_NAME"), env("GIT_COMMITTER_EMAIL")),
    };
    // Every command that may write series/ holds the series lock from
    // before it reads to after its last save; readers take none.
    let _lock = if cli.command.writes() {
        Some(crate::store::lock(&ctx.series_dir, lock_wait()?)?)
    } else {
        None
    };
    match cli.command {
        Command::Init(a) => init::run(&ctx, a, out),
        Command::Status(a) => status::run(&ctx, a, out),
        Command::Format(a) => format::run(&ctx, a, out),
        Command::Send(a) => send::run(&ctx, a, out),
        Command::Bench(a) => bench::run(&ctx, a, out),
        Command::Rebase(a) => rebase::run(&ctx, a, out),
        Command::Apply(a) => apply::run(&ctx, a, out),
        Command::Check(a) => check::run(&ctx, a, out),
        Command::Reroll(a) => reroll::run(&ctx, a, out),
        Command::Diff(a) => diff::run(&ctx, a, out),
        Command::Refresh(a) => refresh::run(&ctx, a, out),
        Command::Lore(a) => lore::run(&ctx, a, out),
        Command::Review(a) => review::run(&ctx, a, out),
        Command::Trailers(a) => review::trailers(&ctx, a, out),
        Command::Attest(a) => attest::run(&ctx, a, out),
        Command::Man(a) => man::man(&ctx, a, out),
        Command::Completions(a) => man::completions(a, out),
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

/// A path relative to `base` when it lies below it, for shorter messages.
pub fn rel(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.display().to_string())
}

/// Text from mail made safe to print on a terminal: control characters
/// (escape sequences, bells, carriage returns) shown as `\u{..}` escapes,
/// never sent raw.
pub fn printable(s: &str) -> String {
    if !s.chars().any(|c| c.is_control() && c != '\t') {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Write a file series made (a reply draft), atomically: into a temporary
/// file beside it, then renamed. A folder on the way that is a symbolic
/// link is refused, so nothing is written through a link planted there.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let parent = path.parent().unwrap_or(Path::new("."));
    let fail = |what: &Path, e: std::io::Error| {
        CliError::user(format!("cannot write {}: {e}", what.display()))
    };
    std::fs::create_dir_all(parent).map_err(|e| fail(parent, e))?;
    for dir in [parent, parent.parent().unwrap_or(parent)] {
        if std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(CliError::user(format!(
                "{} is a symbolic link; series writes only into folders it can see",
                dir.display()
            ))
            .hint("remove the link (series makes the folder itself), then run this again"));
        }
    }
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(CliError::user(format!(
            "{} is a symbolic link; series does not write through it",
            path.display()
        ))
        .hint("remove the link, then run this again"));
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".series-")
        .tempfile_in(parent)
        .map_err(|e| fail(parent, e))?;
    tmp.write_all(bytes).map_err(|e| fail(path, e))?;
    tmp.persist(path).map_err(|e| fail(path, e.error))?;
    Ok(())
}
