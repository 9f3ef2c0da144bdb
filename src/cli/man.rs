//! `series man` and `series completions`: help in the forms people read,
//! generated from the command-line definitions.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args as ClapArgs, CommandFactory, ValueEnum};

use super::{Cli, CliError, Context};

/// Write a man page per verb (series.1, series-send.1, ...) to a folder
#[derive(Debug, ClapArgs)]
pub struct ManArgs {
    /// The folder to write to
    #[arg(short = 'o', long, value_name = "DIR")]
    pub output: PathBuf,
}

/// Print shell completions (bash, zsh or fish) to standard output
#[derive(Debug, ClapArgs)]
pub struct CompletionsArgs {
    pub shell: Shell,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// Every page: the top command, then each verb and sub-verb, named as git
/// names its pages (`series-bench-run`).
fn pages() -> Vec<(String, clap::Command)> {
    fn walk(prefix: &str, cmd: &clap::Command, out: &mut Vec<(String, clap::Command)>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let name = format!("{prefix}-{}", sub.get_name());
            let page = sub.clone().name(name.clone());
            walk(&name, sub, out);
            out.push((name, page));
        }
    }
    let top = Cli::command();
    let mut out = vec![("series".to_string(), top.clone())];
    walk("series", &top, &mut out);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

pub fn man(ctx: &Context, args: ManArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let dir = if args.output.is_absolute() {
        args.output
    } else {
        ctx.cwd.join(args.output)
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::user(format!("cannot create {}: {e}", dir.display())))?;
    for (name, cmd) in pages() {
        let mut buf = Vec::new();
        clap_mangen::Man::new(cmd)
            .date(env!("CARGO_PKG_VERSION"))
            .render(&mut buf)
            .map_err(|e| CliError::internal(format!("rendering {name}.1: {e}")))?;
        let path = dir.join(format!("{name}.1"));
        std::fs::write(&path, buf)
            .map_err(|e| CliError::user(format!("cannot write {}: {e}", path.display())))?;
        writeln!(out, "{}", crate::term::rel(&path, &ctx.cwd))?;
    }
    Ok(())
}

pub fn completions(args: CompletionsArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let name = match args.shell {
        Shell::Bash => "bash",
        Shell::Zsh => "zsh",
        Shell::Fish => "fish",
    };
    // The script registers a completion function that asks series itself
    // (`COMPLETE=SHELL series -- WORDS`) for verbs, flags and values:
    // refs, versions, comment ids, bench and list names (complete.rs).
    let shells = clap_complete::env::Shells::builtins();
    let shell = shells
        .completer(name)
        .ok_or_else(|| CliError::internal(format!("no completion script for {name}")))?;
    let mut buf = Vec::new();
    shell.write_registration("COMPLETE", "series", "series", "series", &mut buf)?;
    out.write_all(&buf)?;
    Ok(())
}
