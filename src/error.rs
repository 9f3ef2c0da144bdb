//! What kind of failure an error is and what to do about it. Every domain
//! error implements [`Advice`]: its [`Kind`] (which the command line turns
//! into the exit code) and, where there is one, a hint of the next step, as
//! data beside the message. The error keeps its causes as
//! `std::error::Error::source`, and the command line prints them as
//! "caused by:" lines.

use serde::Serialize;

/// The kind of a failure; it decides the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Findings, or something the user can fix (1).
    User,
    /// The command line itself is wrong (2).
    Usage,
    /// A rebase conflict to resolve (3).
    Conflict,
    /// An external tool failed; its stderr is in the message (4).
    Tool,
    /// `series status`: the series is not ready to send (5).
    NotReady,
    /// Stopped by Ctrl-C, `kill` or a hang-up (130, as shells say).
    Interrupted,
    /// A bug (255).
    Internal,
}

impl Kind {
    /// The documented exit code of this kind.
    pub fn code(self) -> u8 {
        match self {
            Kind::User => 1,
            Kind::Usage => 2,
            Kind::Conflict => 3,
            Kind::Tool => 4,
            Kind::NotReady => 5,
            Kind::Interrupted => 130,
            Kind::Internal => 255,
        }
    }
}

/// An error that knows its kind and the next step.
pub trait Advice: std::error::Error {
    /// What kind of failure this is; a user error unless said otherwise.
    fn kind(&self) -> Kind {
        Kind::User
    }

    /// What to do next, when there is something to say.
    fn hint(&self) -> Option<String> {
        None
    }
}

/// A failed read or write: the message names the file where it matters.
impl Advice for std::io::Error {}

/// A hint from a fixed text.
pub fn says(text: &str) -> Option<String> {
    Some(text.to_string())
}
