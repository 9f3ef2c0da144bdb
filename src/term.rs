//! Text for a terminal, as every verb's result renders itself: colour on a
//! terminal only (`--color auto|always|never`, and `NO_COLOR`, any value,
//! turns `auto` off; styles from anstyle, the crate clap colours with),
//! text from mail made safe to print, paths shown relative to where the
//! command runs, and [`Render`], what a verb's result implements to be
//! printed as text (its JSON is its `Serialize`).

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use anstyle::{AnsiColor, Style};

static ON: AtomicBool = AtomicBool::new(false);

/// When to colour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum When {
    #[default]
    Auto,
    Always,
    Never,
}

/// Decide once, at the start: `always`, or `auto` with standard output a
/// terminal and no `NO_COLOR`.
pub fn init(when: When) {
    let on = match when {
        When::Always => true,
        When::Never => false,
        When::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    ON.store(on, Ordering::Relaxed);
}

fn paint(style: Style, text: &str) -> String {
    if ON.load(Ordering::Relaxed) && !text.is_empty() {
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.to_string()
    }
}

fn fg(c: AnsiColor) -> Style {
    Style::new().fg_color(Some(c.into()))
}

/// A finding's severity word.
pub fn severity(s: crate::model::Severity, text: &str) -> String {
    use crate::model::Severity;
    match s {
        Severity::Error => paint(fg(AnsiColor::Red).bold(), text),
        Severity::Warning => paint(fg(AnsiColor::Yellow), text),
        Severity::Check => paint(fg(AnsiColor::Cyan), text),
    }
}

/// A review comment's state.
pub fn state(s: crate::review::state::State, text: &str) -> String {
    use crate::review::state::State;
    match s {
        State::Open => paint(fg(AnsiColor::Yellow).bold(), text),
        State::Answered | State::Addressed => paint(fg(AnsiColor::Green), text),
        State::Wontfix | State::Ack => paint(Style::new().dimmed(), text),
    }
}

/// One line of a range-diff: pair lines by their mark, inner diff lines
/// by their sign, hunk headers dimmed.
pub fn range_diff_line(line: &str) -> String {
    if !ON.load(Ordering::Relaxed) {
        return line.to_string();
    }
    if let Some(rest) = line.strip_prefix("    ") {
        return match rest.chars().next() {
            Some('+') => paint(fg(AnsiColor::Green), line),
            Some('-') => paint(fg(AnsiColor::Red), line),
            Some('@') => paint(fg(AnsiColor::Cyan), line),
            _ => line.to_string(),
        };
    }
    let mark = line.split_whitespace().nth(2).unwrap_or("");
    match mark {
        "<" => paint(fg(AnsiColor::Red), line),
        ">" => paint(fg(AnsiColor::Green), line),
        "!" => paint(fg(AnsiColor::Yellow), line),
        _ => line.to_string(),
    }
}

/// A verb's result as text; its JSON is its `Serialize`.
pub trait Render {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()>;
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

/// A path relative to `base` when it lies below it, for shorter messages.
pub fn rel(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.display().to_string())
}

/// `n thing` or `n things`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
