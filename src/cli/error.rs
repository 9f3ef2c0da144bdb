//! The command line's error: a message, the causes under it, a hint of
//! what to do next and the exit code, all taken from the domain error
//! ([`crate::error::Advice`]: its kind and hint) in one place.

pub use crate::error::Kind;
use crate::error::{Advice, Kind as K};

/// The one error of the command line: what failed, the chain of causes
/// that led to it, and a hint of what to do next.
#[derive(Debug)]
pub struct CliError {
    pub kind: Kind,
    pub message: String,
    /// The causes under the message, outermost first (each shown once).
    pub causes: Vec<String>,
    pub hint: Option<String>,
    /// The exit code of `kind`.
    pub code: u8,
    broken_pipe: bool,
}

impl CliError {
    pub fn user(message: impl Into<String>) -> Self {
        CliError {
            kind: K::User,
            message: message.into(),
            causes: Vec::new(),
            hint: None,
            code: K::User.code(),
            broken_pipe: false,
        }
    }

    /// An error from any error: its message, and the causes under it that
    /// the message does not already say.
    pub fn caused(e: &dyn std::error::Error) -> Self {
        let message = e.to_string();
        let mut causes: Vec<String> = Vec::new();
        let mut next = e.source();
        while let Some(c) = next {
            let text = c.to_string();
            if !message.contains(&text) && !causes.iter().any(|k| k.contains(&text)) {
                causes.push(text);
            }
            next = c.source();
        }
        CliError {
            causes,
            ..CliError::user(message)
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        CliError::user(message).kind(K::Usage)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        CliError::user(message).kind(K::Internal)
    }

    /// An exit code with nothing more to print: what the command printed
    /// already says why.
    pub fn silent(kind: Kind) -> Self {
        CliError::user(String::new()).kind(kind)
    }

    pub fn kind(mut self, kind: Kind) -> Self {
        self.kind = kind;
        self.code = kind.code();
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_broken_pipe(&self) -> bool {
        self.broken_pipe
    }
}

/// Every domain error: its message and causes, its kind, its hint. An
/// `std::io::Error` reaching the command line with `?` is a failed write
/// of the output: a closed pipe ends quietly (see `main`).
impl<E: Advice + 'static> From<E> for CliError {
    fn from(e: E) -> Self {
        if let Some(io) = (&e as &dyn std::any::Any).downcast_ref::<std::io::Error>() {
            return CliError {
                broken_pipe: io.kind() == std::io::ErrorKind::BrokenPipe,
                ..CliError::user(format!("writing output: {io}"))
            };
        }
        let mut err = CliError::caused(&e).kind(e.kind());
        err.hint = e.hint();
        err
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot save series/")]
    struct Outer(#[source] Middle);

    #[derive(Debug, thiserror::Error)]
    #[error("writing series.toml")]
    struct Middle(#[source] std::io::Error);

    impl Advice for Outer {
        fn kind(&self) -> Kind {
            K::Tool
        }
        fn hint(&self) -> Option<String> {
            Some("free some space".into())
        }
    }

    #[test]
    fn the_cause_chain_is_shown_once_each_with_the_kind_and_hint_of_the_error() {
        let c = CliError::from(Outer(Middle(std::io::Error::other("disk full"))));
        assert_eq!(c.message, "cannot save series/");
        assert_eq!(c.causes, vec!["writing series.toml", "disk full"]);
        assert_eq!((c.kind, c.code), (K::Tool, 4));
        assert_eq!(c.hint.as_deref(), Some("free some space"));
    }
}
