//! Colour on a terminal only: `--color auto|always|never`, and `NO_COLOR`
//! (any value) turns `auto` off. Styles come from anstyle, the crate clap
//! itself colours with.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use anstyle::{AnsiColor, Style};

static ON: AtomicBool = AtomicBool::new(false);

/// When to colour.
#[derive(Debug, Clone, Copy, Default, clap::ValueEnum)]
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
