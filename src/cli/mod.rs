//! The command line: argument parsing, dispatch, terminal output and exit codes.
//! Exit codes: 0 ok, 1 findings or a user error, 2 usage, 3 conflict,
//! 4 an external tool failed, 255 internal error.

mod apply;
mod bench;
mod check;
pub mod error;
mod format;
mod init;
mod progress;
mod rebase;
mod send;
mod status;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use error::CliError;

/// Keep a Linux kernel patch series as plain files: import it from commits,
/// format it as git does, and send it.
#[derive(Debug, Parser)]
#[command(name = "series", version)]
pub struct Cli {
    /// The series folder [default: ./series]
    #[arg(long, global = true, env = "SERIES_DIR", value_name = "DIR")]
    pub series: Option<PathBuf>,

    /// The kernel tree [default: $SERIES_TREE, or the current directory if it is one]
    #[arg(long, global = true, value_name = "PATH")]
    pub tree: Option<PathBuf>,

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
}

/// What every verb needs: where the series is and where it runs.
pub struct Context {
    pub series_dir: PathBuf,
    pub tree_flag: Option<PathBuf>,
    pub cwd: PathBuf,
}

impl Context {
    /// The folder holding `series/`: where `outgoing/` and `templates/` live.
    pub fn project(&self) -> PathBuf {
        match self.series_dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => self.cwd.clone(),
        }
    }

    /// The kernel tree, located as DESIGN.md says, or an error with a hint.
    pub fn tree_path(&self) -> Result<PathBuf, CliError> {
        crate::tree::locate(self.tree_flag.as_deref(), &self.cwd).map_err(CliError::from)
    }

    /// The kernel tree, when one can be found.
    pub fn tree_path_opt(&self) -> Option<PathBuf> {
        crate::tree::locate(self.tree_flag.as_deref(), &self.cwd).ok()
    }
}

/// Run the CLI and return its exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let mut stdout = std::io::stdout().lock();
    match run(cli, &mut stdout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            let _ = stdout.flush();
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "error: {}", e.message);
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
    let ctx = Context {
        series_dir,
        tree_flag: cli
            .tree
            .map(|t| if t.is_absolute() { t } else { cwd.join(t) }),
        cwd,
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
    }
}

/// A path relative to `base` when it lies below it, for shorter messages.
pub fn rel(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.display().to_string())
}
