//! `series man` and `series completions`: help in the forms people read,
//! generated from the command-line definitions.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args as ClapArgs, CommandFactory, ValueEnum};

use super::{Cli, CliError};

/// Write the man pages: series(1), one per verb and sub-verb, series-config(5)
/// and series-format(5)
#[derive(Debug, ClapArgs)]
pub struct ManArgs {
    /// The man folder to write into: pages go to DIR/man1 and DIR/man5
    #[arg(short = 'o', long, value_name = "DIR")]
    pub output: PathBuf,
}

/// Print the shell's completion script (bash, zsh or fish) to standard output
#[derive(Debug, ClapArgs)]
pub struct CompletionsArgs {
    /// The shell
    pub shell: Shell,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// The prose of each page, beside what the command-line definitions say:
/// a DESCRIPTION to add to the verb's own line, and FILES, EXIT STATUS,
/// EXAMPLES, SEE ALSO and the like (`man/*.txt`; the markup is
/// [`roff_sections`]'s).
const PROSE: &[(&str, &str)] = &[
    ("series", include_str!("man/series.txt")),
    ("series-init", include_str!("man/series-init.txt")),
    ("series-status", include_str!("man/series-status.txt")),
    ("series-format", include_str!("man/series-format.txt")),
    ("series-send", include_str!("man/series-send.txt")),
    ("series-bench", include_str!("man/series-bench.txt")),
    ("series-rebase", include_str!("man/series-rebase.txt")),
    ("series-apply", include_str!("man/series-apply.txt")),
    ("series-check", include_str!("man/series-check.txt")),
    ("series-depends", include_str!("man/series-depends.txt")),
    ("series-reroll", include_str!("man/series-reroll.txt")),
    ("series-diff", include_str!("man/series-diff.txt")),
    ("series-refresh", include_str!("man/series-refresh.txt")),
    ("series-lore", include_str!("man/series-lore.txt")),
    ("series-review", include_str!("man/series-review.txt")),
    ("series-trailers", include_str!("man/series-trailers.txt")),
    ("series-attest", include_str!("man/series-attest.txt")),
    ("series-path", include_str!("man/series-place.txt")),
    ("series-list", include_str!("man/series-place.txt")),
    ("series-switch", include_str!("man/series-place.txt")),
    ("series-move", include_str!("man/series-place.txt")),
    ("series-edit", include_str!("man/series-edit.txt")),
    ("series-export", include_str!("man/series-export.txt")),
    ("series-man", include_str!("man/series-man.txt")),
    (
        "series-completions",
        include_str!("man/series-completions.txt"),
    ),
];

/// The section-5 pages: name, one line, prose.
const FILE_PAGES: &[(&str, &str, &str)] = &[
    (
        "series-config",
        "the settings series reads from git config and .series-config",
        include_str!("man/series-config.txt"),
    ),
    (
        "series-format",
        "the series/ folder: its files and the manifest's fields",
        include_str!("man/series-format.5.txt"),
    ),
];

/// The EXIT STATUS of a verb whose prose has none.
const EXIT_STATUS: &str = "EXIT STATUS
0::
Done.

1::
Findings, or something to fix; the one error line names the file, patch or
ref and the hint says what to do.

2::
The command line is wrong.

3::
A rebase stopped on a conflict.

4::
An external tool (git, checkpatch.pl, git send-email) failed; its stderr
is in the message.

130::
Stopped by Ctrl-C, kill or a hang-up while a child process or a send ran.

255::
A bug in series: please report it with the command you ran.
";

/// Every page: the top command, then each verb and sub-verb, named as git
/// names its pages (`series-bench-run`), each with the words a user types
/// as its synopsis (`series bench run`).
fn pages() -> Vec<(String, clap::Command)> {
    fn walk(prefix: (&str, &str), cmd: &clap::Command, out: &mut Vec<(String, clap::Command)>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let name = format!("{}-{}", prefix.0, sub.get_name());
            let words = format!("{} {}", prefix.1, sub.get_name());
            let page = sub
                .clone()
                .display_name(name.clone())
                .bin_name(words.clone());
            walk((&name, &words), sub, out);
            out.push((name, page));
        }
    }
    let top = Cli::command();
    let mut out = vec![("series".to_string(), top.clone())];
    walk(("series", "series"), &top, &mut out);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// One roff line of prose: backslashes and dashes escaped as roff wants
/// them (a dash typed `\-` so that `--to` copies as typed), `code` in
/// bold, a leading dot or quote made text.
fn escape(line: &str) -> String {
    let mut out = String::new();
    let mut bold = false;
    for c in line.chars() {
        match c {
            '\\' => out.push_str("\\e"),
            '-' => out.push_str("\\-"),
            '`' => {
                out.push_str(if bold { "\\fR" } else { "\\fB" });
                bold = !bold;
            }
            c => out.push(c),
        }
    }
    if bold {
        out.push_str("\\fR");
    }
    if out.starts_with('.') || out.starts_with('\'') {
        out.insert_str(0, "\\&");
    }
    out
}

/// Prose as roff sections (title, body). The markup: a line of capitals
/// starts a section; blank lines part paragraphs; a paragraph whose first
/// line ends in `::` is a tagged one (the line is the tag); lines that
/// start with `- ` are bullets; lines indented by two spaces are shown as
/// they are (commands, tables).
pub fn roff_sections(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for block in text.split("\n\n") {
        let mut lines: Vec<&str> = block.lines().collect();
        if let Some(first) = lines.first() {
            let heading = !first.is_empty()
                && first
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c == ' ' || c == '.');
            if heading {
                out.push((first.to_string(), String::new()));
                lines.remove(0);
            }
        }
        let Some((_, body)) = out.last_mut() else {
            continue;
        };
        if lines.is_empty() {
            continue;
        }
        body.push_str(&roff_block(&lines));
    }
    out
}

fn roff_block(lines: &[&str]) -> String {
    let mut out = String::new();
    if lines.iter().all(|l| l.starts_with("  ")) {
        out.push_str(".PP\n.RS 4\n.nf\n");
        for l in lines {
            out.push_str(&escape(&l[2..]));
            out.push('\n');
        }
        out.push_str(".fi\n.RE\n");
    } else if let Some(tag) = lines[0].strip_suffix("::") {
        out.push_str(&format!(".TP\n\\fB{}\\fR\n", escape(tag)));
        for l in &lines[1..] {
            out.push_str(&escape(l));
            out.push('\n');
        }
    } else if lines[0].starts_with("- ") {
        for l in lines {
            match l.strip_prefix("- ") {
                Some(item) => out.push_str(&format!(".IP \\(bu 2\n{}\n", escape(item))),
                None => {
                    out.push_str(&escape(l.trim_start()));
                    out.push('\n');
                }
            }
        }
    } else {
        out.push_str(".PP\n");
        for l in lines {
            out.push_str(&escape(l));
            out.push('\n');
        }
    }
    out
}

/// One verb's page: clap's title, name, synopsis, description and options,
/// then the prose's sections, an EXIT STATUS and a SEE ALSO.
fn verb_page(name: &str, cmd: clap::Command) -> std::io::Result<Vec<u8>> {
    let has_subcommands = cmd.get_subcommands().any(|s| s.get_name() != "help");
    let man = clap_mangen::Man::new(cmd)
        .date(env!("CARGO_PKG_VERSION"))
        .source(concat!("series ", env!("CARGO_PKG_VERSION")))
        .manual("series manual");
    let prose = PROSE
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| roff_sections(text))
        .unwrap_or_default();
    let section = |title: &str| {
        prose
            .iter()
            .find(|(t, _)| t == title)
            .map(|(_, b)| b.as_str())
    };
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    out.extend_from_slice(section("DESCRIPTION").unwrap_or("").as_bytes());
    man.render_options_section(&mut out)?;
    if !matches!(name, "series" | "series-man" | "series-completions") {
        out.extend_from_slice(
            b".SH \"GLOBAL OPTIONS\"\n.PP\n\\-\\-series, \\-\\-name, \\-\\-tree and \\-\\-color, taken by every verb: see \\fBseries\\fR(1).\n",
        );
    }
    if has_subcommands {
        man.render_subcommands_section(&mut out)?;
    }
    for (title, body) in &prose {
        if !matches!(title.as_str(), "DESCRIPTION" | "EXIT STATUS" | "SEE ALSO") {
            out.extend_from_slice(format!(".SH \"{title}\"\n{body}").as_bytes());
        }
    }
    let exit = match section("EXIT STATUS") {
        Some(b) => b.to_string(),
        None => roff_sections(EXIT_STATUS).remove(0).1,
    };
    out.extend_from_slice(format!(".SH \"EXIT STATUS\"\n{exit}").as_bytes());
    out.extend_from_slice(see_also(name, section("SEE ALSO")).as_bytes());
    Ok(out)
}

/// SEE ALSO: the page's own list, then series(1) and the verb a sub-verb
/// belongs to, each once.
fn see_also(name: &str, own: Option<&str>) -> String {
    let mut refs: Vec<String> = Vec::new();
    if name != "series" {
        refs.push("series(1)".into());
    }
    if let Some((parent, _)) = name.rsplit_once('-').filter(|(p, _)| *p != "series") {
        refs.push(format!("{parent}(1)"));
    }
    let mut body = String::new();
    if let Some(own) = own {
        body.push_str(own);
    }
    let missing: Vec<String> = refs
        .into_iter()
        .filter(|r| !body.contains(&escape(r)))
        .map(|r| escape(&r))
        .collect();
    if !missing.is_empty() {
        body.push_str(&format!(".PP\n{}\n", missing.join(", ")));
    }
    format!(".SH \"SEE ALSO\"\n{body}")
}

/// A section-5 page, all prose.
fn file_page(name: &str, what: &str, text: &str) -> String {
    let mut out = format!(
        ".TH {} 5 \"{}\" \"series {}\" \"series manual\"\n.SH NAME\n{} \\- {}\n",
        name.to_uppercase(),
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_VERSION"),
        escape(name),
        escape(what)
    );
    for (title, body) in roff_sections(text) {
        out.push_str(&format!(".SH \"{title}\"\n{body}"));
    }
    out
}

pub fn man(cwd: &std::path::Path, args: ManArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let dir = if args.output.is_absolute() {
        args.output
    } else {
        cwd.join(args.output)
    };
    let write = |sub: &str, file: String, bytes: &[u8]| -> Result<PathBuf, CliError> {
        let folder = dir.join(sub);
        std::fs::create_dir_all(&folder)
            .map_err(|e| CliError::user(format!("cannot create {}: {e}", folder.display())))?;
        let path = folder.join(file);
        std::fs::write(&path, bytes)
            .map_err(|e| CliError::user(format!("cannot write {}: {e}", path.display())))?;
        Ok(path)
    };
    for (name, cmd) in pages() {
        let page = verb_page(&name, cmd)
            .map_err(|e| CliError::internal(format!("rendering {name}.1: {e}")))?;
        let path = write("man1", format!("{name}.1"), &page)?;
        writeln!(out, "{}", crate::term::rel(&path, cwd))?;
    }
    for (name, what, text) in FILE_PAGES {
        let path = write(
            "man5",
            format!("{name}.5"),
            file_page(name, what, text).as_bytes(),
        )?;
        writeln!(out, "{}", crate::term::rel(&path, cwd))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_becomes_roff_that_keeps_dashes_backslashes_and_leading_dots() {
        let text = "EXAMPLES\n.gitignore and `--to` and a\\b\n\n  series send --to linux-mm\n\nEXIT STATUS\n0::\nDone.\n\n- one\n- two\n";
        let s = roff_sections(text);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].0, "EXAMPLES");
        assert_eq!(
            s[0].1,
            ".PP\n\\&.gitignore and \\fB\\-\\-to\\fR and a\\eb\n.PP\n.RS 4\n.nf\nseries send \\-\\-to linux\\-mm\n.fi\n.RE\n"
        );
        assert_eq!(
            s[1].1,
            ".TP\n\\fB0\\fR\nDone.\n.IP \\(bu 2\none\n.IP \\(bu 2\ntwo\n"
        );
    }
}
