//! One error type for the command line: a message, a hint of what to do next,
//! and the exit code. Domain errors turn into it here and nowhere else.

use crate::git::cmd::CmdError;
use crate::git::GitError;
use crate::outgoing::{BadNow, RenderError, WriteError};
use crate::store::StoreError;
use crate::template::TemplateError;
use crate::tree::TreeError;

pub const USER: u8 = 1;
pub const USAGE: u8 = 2;
pub const CONFLICT: u8 = 3;
pub const TOOL: u8 = 4;
pub const INTERNAL: u8 = 255;

#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub hint: Option<String>,
    pub code: u8,
    broken_pipe: bool,
}

impl CliError {
    pub fn user(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            hint: None,
            code: USER,
            broken_pipe: false,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            code: USAGE,
            ..CliError::user(message)
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        CliError {
            code: INTERNAL,
            ..CliError::user(message)
        }
    }

    pub fn with_code(mut self, code: u8) -> Self {
        self.code = code;
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

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        let broken = e.kind() == std::io::ErrorKind::BrokenPipe;
        CliError {
            broken_pipe: broken,
            ..CliError::user(format!("writing output: {e}"))
        }
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        let hint = match &e {
            StoreError::Missing(p) if p.file_name().is_some_and(|n| n == "series") => {
                "create one with `series init --base BASE` in a kernel tree, or pass --series DIR"
            }
            StoreError::Missing(_) => "restore the file (git checkout -- series/) or run `series init` again",
            StoreError::Malformed { .. } => "fix the file by hand (docs/FORMAT.md describes it) or restore it from git",
            StoreError::Newer { .. } => "this file was written by a newer series; upgrade series to read it",
            StoreError::Patch { .. } => {
                "the file must be a mail as `git format-patch` writes it; restore it from git or re-import with `series init`"
            }
            StoreError::Exists(_) => "remove it first, or pass --series DIR to make another",
            StoreError::Io { .. } => "check the path and its permissions",
            StoreError::Locked { .. } => "let it finish and run this again, or raise SERIES_LOCK_WAIT (seconds)",
        };
        CliError::user(e.to_string()).hint(hint)
    }
}

impl From<GitError> for CliError {
    fn from(e: GitError) -> Self {
        let hint = match &e {
            GitError::NotARepo { .. } => Some("pass --tree PATH to a kernel git tree"),
            GitError::UnknownRev { .. } => Some("name a tag, branch or commit that the tree has (git fetch it first)"),
            GitError::Ambiguous { .. } => Some("give more of the name, or the full ref"),
            GitError::EmptyRange { .. } => Some("commit the patches on top of the base, or pass the RANGE that holds them"),
            GitError::Merge { .. } => Some("linearise the range (git rebase) or pass a RANGE without merges"),
            GitError::NotOnBase { .. } => Some("pass --base with the parent of the first patch, or a RANGE that starts at the base"),
            GitError::Git { .. } => None,
        };
        let err = CliError::user(e.to_string());
        match hint {
            Some(h) => err.hint(h),
            None => err,
        }
    }
}

impl From<TreeError> for CliError {
    fn from(e: TreeError) -> Self {
        CliError::user(e.to_string())
    }
}

impl From<CmdError> for CliError {
    fn from(e: CmdError) -> Self {
        CliError::user(e.to_string()).with_code(TOOL)
    }
}

impl From<TemplateError> for CliError {
    fn from(e: TemplateError) -> Self {
        CliError::user(format!("template {e}"))
            .hint("fix the template call; docs/FORMAT.md lists what templates can use")
    }
}

impl From<RenderError> for CliError {
    fn from(e: RenderError) -> Self {
        match e {
            RenderError::Template(t) => t.into(),
            other => CliError::user(other.to_string()),
        }
    }
}

impl From<WriteError> for CliError {
    fn from(e: WriteError) -> Self {
        CliError::user(e.to_string()).hint("choose a writable folder with -o DIR")
    }
}

impl From<BadNow> for CliError {
    fn from(e: BadNow) -> Self {
        CliError::usage(e.to_string())
    }
}
