//! Progress on stderr for long work, only when stderr is a terminal, and
//! only after a short delay so quick runs stay quiet.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

const DELAY: Duration = Duration::from_millis(300);

/// A one-line progress display.
pub struct Progress {
    on: bool,
    start: Instant,
    shown: bool,
}

impl Progress {
    pub fn new() -> Progress {
        Progress {
            on: std::io::stderr().is_terminal(),
            start: Instant::now(),
            shown: false,
        }
    }

    /// Show `msg` in place of the previous one.
    pub fn show(&mut self, msg: &str) {
        if !self.on || self.start.elapsed() < DELAY {
            return;
        }
        let width = 100;
        let msg: String = msg.chars().take(width).collect();
        let mut err = std::io::stderr();
        let _ = write!(err, "\r\x1b[K{msg}");
        let _ = err.flush();
        self.shown = true;
    }

    /// `verb i/n: subject`.
    pub fn step(&mut self, verb: &str, i: usize, n: usize, what: &str) {
        self.show(&format!("{verb} {i}/{n}: {what}"));
    }

    /// Clear the line.
    pub fn done(&mut self) {
        if self.shown {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
            self.shown = false;
        }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.done();
    }
}
