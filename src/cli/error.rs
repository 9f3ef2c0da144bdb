//! One error type for the command line: a message, a hint of what to do next,
//! and the exit code. Domain errors turn into it here and nowhere else.

use crate::apply::ApplyError;
use crate::bench::BenchError;
use crate::check::CheckError;
use crate::clock::BadNow;
use crate::git::cmd::CmdError;
use crate::git::GitError;
use crate::import::ImportError;
use crate::outgoing::{RenderError, WriteError};
use crate::rebase::RebaseError;
use crate::send::journal::JournalError;
use crate::store::StoreError;
use crate::template::TemplateError;
use crate::tree::TreeError;

pub const USER: u8 = 1;
pub const USAGE: u8 = 2;
pub const CONFLICT: u8 = 3;
pub const TOOL: u8 = 4;
/// Stopped by Ctrl-C, `kill` or a hang-up (128 + SIGINT, as shells say).
pub const INTERRUPTED: u8 = 130;
pub const INTERNAL: u8 = 255;

/// What kind of failure, which decides the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Findings, or something the user can fix (1).
    User,
    /// The command line itself is wrong (2).
    Usage,
    /// A rebase conflict to resolve (3).
    Conflict,
    /// An external tool failed; its stderr is in the message (4).
    Tool,
    /// Stopped by a signal (130).
    Interrupted,
    /// A bug (255).
    Internal,
}

impl Kind {
    fn code(self) -> u8 {
        match self {
            Kind::User => USER,
            Kind::Usage => USAGE,
            Kind::Conflict => CONFLICT,
            Kind::Tool => TOOL,
            Kind::Interrupted => INTERRUPTED,
            Kind::Internal => INTERNAL,
        }
    }
}

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
            kind: Kind::User,
            message: message.into(),
            causes: Vec::new(),
            hint: None,
            code: USER,
            broken_pipe: false,
        }
    }

    /// A user error from a domain error: its message, and the causes under
    /// it that the message does not already say.
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
        CliError::user(message).with_code(USAGE)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        CliError::user(message).with_code(INTERNAL)
    }

    pub fn with_code(mut self, code: u8) -> Self {
        self.kind = match code {
            USAGE => Kind::Usage,
            CONFLICT => Kind::Conflict,
            TOOL => Kind::Tool,
            INTERRUPTED => Kind::Interrupted,
            INTERNAL => Kind::Internal,
            _ => Kind::User,
        };
        self.code = self.kind.code();
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
        CliError::caused(&e).hint(hint)
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
            GitError::WouldOverwrite { .. } => Some("commit or stash them (git stash --include-untracked), then run the command again"),
            GitError::Locked { .. } => Some("wait for the other git command to finish; if none is running, remove the lock file"),
            GitError::Checkout { .. } => Some("commit or stash your changes (git stash --include-untracked), then run the command again"),
            GitError::Io { .. } | GitError::Git { .. } => None,
        };
        let err = CliError::caused(&e);
        match hint {
            Some(h) => err.hint(h),
            None => err,
        }
    }
}

impl From<TreeError> for CliError {
    fn from(e: TreeError) -> Self {
        CliError::caused(&e)
    }
}

impl From<CmdError> for CliError {
    fn from(e: CmdError) -> Self {
        let code = match e {
            CmdError::Interrupted { .. } => INTERRUPTED,
            _ => TOOL,
        };
        CliError::caused(&e).with_code(code)
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
            other => CliError::caused(&other),
        }
    }
}

impl From<WriteError> for CliError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::NotOurs(_) => CliError::caused(&e).hint(
                "give -o a new or empty folder (series makes it), or leave -o out for outgoing/vN",
            ),
            WriteError::Io { .. } => {
                CliError::caused(&e).hint("choose a writable folder with -o DIR")
            }
        }
    }
}

impl From<BadNow> for CliError {
    fn from(e: BadNow) -> Self {
        CliError::usage(e.to_string())
    }
}

impl From<ImportError> for CliError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Git(g) => g.into(),
            ImportError::Mail(_) => CliError::caused(&e).hint(
                "pass --version N to import another version, --base REF for the base; docs/FORMAT.md says how mails are read",
            ),
        }
    }
}

impl From<RebaseError> for CliError {
    fn from(e: RebaseError) -> Self {
        match e {
            RebaseError::Git(g) => g.into(),
            RebaseError::AlreadyMerged { .. } => {
                CliError::caused(&e).hint("rerun with --drop-merged to drop them from the series")
            }
            RebaseError::NoAncestor { .. } => CliError::caused(&e)
                .with_code(CONFLICT)
                .hint("fetch the old base into the tree so the patch can be merged, or rebase onto a nearer base"),
            RebaseError::Damaged { .. } => {
                CliError::caused(&e).hint("restore the patch file from git or re-import it with `series init`")
            }
            RebaseError::Conflict { .. } => CliError::caused(&e).with_code(CONFLICT),
            RebaseError::Unresolved(_) => CliError::caused(&e)
                .with_code(CONFLICT)
                .hint("resolve the markers, then run `series rebase --continue`"),
            RebaseError::BadState(_) | RebaseError::SeriesChanged => {
                CliError::caused(&e).hint("run `series rebase --abort` and start again")
            }
            RebaseError::NotPaused => {
                CliError::caused(&e).hint("start one with `series rebase BASE`")
            }
            RebaseError::InProgress(_) => CliError::caused(&e).hint(
                "finish it with `series rebase --continue`, or drop it with `series rebase --abort`",
            ),
            RebaseError::Scratch { .. } => CliError::caused(&e),
        }
    }
}

impl From<JournalError> for CliError {
    fn from(e: JournalError) -> Self {
        CliError::caused(&e)
            .hint("the journal records what was sent; restore it from git if it was damaged")
    }
}

impl From<BenchError> for CliError {
    fn from(e: BenchError) -> Self {
        let hint = match &e {
            BenchError::Unknown(_) => {
                "create it with `series bench new NAME --title ...`, or list series/bench/"
            }
            BenchError::Empty(_) => "record rows with `series bench run` or `series bench record`",
            BenchError::NoRow { .. } => "`series bench show NAME` lists its rows",
            BenchError::Malformed { .. } => "fix the file by hand or restore it from git",
            BenchError::BadName(_) => "bench names become file names",
        };
        CliError::caused(&e).hint(hint)
    }
}

impl From<CheckError> for CliError {
    fn from(e: CheckError) -> Self {
        match e {
            CheckError::Git(g) => g.into(),
            CheckError::Rules(r) => CliError::caused(&r)
                .hint("fix the rule file; docs/FORMAT.md describes checks/*.toml"),
            other => CliError::caused(&other).with_code(TOOL),
        }
    }
}

impl From<ApplyError> for CliError {
    fn from(e: ApplyError) -> Self {
        match e {
            ApplyError::Git(g) => g.into(),
            ApplyError::NoBase { .. } => CliError::caused(&e)
                .hint("fetch the base into the tree, or `series rebase` onto a base it has"),
            ApplyError::DoesNotApply { .. } => {
                CliError::caused(&e).hint("`series check` shows why; rebase the series")
            }
        }
    }
}

impl From<crate::prepare::PrepareError> for CliError {
    fn from(e: crate::prepare::PrepareError) -> Self {
        use crate::prepare::PrepareError;
        match e {
            PrepareError::Recipient(r) => CliError::caused(&r).hint(
                "give a full address, or run with --tree pointing at a kernel tree whose MAINTAINERS lists it",
            ),
            PrepareError::Render(r) => r.into(),
            PrepareError::Template(t) => t.into(),
            PrepareError::Git(g) => g.into(),
            PrepareError::Attest { .. } => CliError::caused(&e)
                .with_code(TOOL)
                .hint("signing runs `git mailinfo`; pass --no-sign to send unsigned"),
        }
    }
}

impl From<crate::send::DeliverError> for CliError {
    fn from(e: crate::send::DeliverError) -> Self {
        match e {
            crate::send::DeliverError::Journal(j) => j.into(),
            send @ crate::send::DeliverError::Send { .. } => CliError::caused(&send)
                .with_code(TOOL)
                .hint("fix the cause, then run `series send --resume` to send only the rest (a message cut off mid-transfer may arrive twice)"),
            stop @ crate::send::DeliverError::Interrupted { .. } => CliError::caused(&stop)
                .with_code(INTERRUPTED)
                .hint("run `series send --resume` to send only the rest, with the same Message-Ids"),
        }
    }
}

impl From<crate::versions::VersionError> for CliError {
    fn from(e: crate::versions::VersionError) -> Self {
        use crate::versions::VersionError as V;
        match e {
            V::Store(s) => s.into(),
            V::Sent { version, .. } => CliError::caused(&e).hint(format!(
                "run `series reroll` to start v{} from it, then change that",
                version.saturating_add(1)
            )),
            V::NoSuchVersion(..) => CliError::caused(&e)
                .hint("`series status` lists the versions; a version is kept by `series send` and `series reroll`"),
            V::Last(_) => CliError::caused(&e).hint("fix `version` in series/series.toml"),
            V::NothingKept(_) => CliError::caused(&e)
                .hint("versions are kept by `series send` and `series reroll`; name both versions to compare others"),
        }
    }
}

impl From<crate::refresh::RefreshError> for CliError {
    fn from(e: crate::refresh::RefreshError) -> Self {
        match e {
            crate::refresh::RefreshError::Git(g) => g.into(),
            crate::refresh::RefreshError::Version(v) => v.into(),
        }
    }
}

impl From<crate::lore::LoreError> for CliError {
    fn from(e: crate::lore::LoreError) -> Self {
        use crate::lore::LoreError as L;
        let hint = match &e {
            L::Unreachable { .. } => "check the network, or pass --lore URL for another archive, or --mbox FILE with the mails",
            L::NotFound { .. } => "check the Message-Id, or pass --lore URL for the archive that has it",
            L::Elsewhere { .. } => "if that site is the archive you want, pass it as --lore URL",
            _ => "pass --lore URL for another archive, or --mbox FILE with the mails",
        };
        CliError::caused(&e).with_code(TOOL).hint(hint)
    }
}

impl From<crate::mail::received::MailError> for CliError {
    fn from(e: crate::mail::received::MailError) -> Self {
        CliError::caused(&e)
            .hint("give a mail as a mail client saves it (headers, a blank line, the body)")
    }
}

impl From<crate::mailbox::MailboxError> for CliError {
    fn from(e: crate::mailbox::MailboxError) -> Self {
        CliError::caused(&e).hint("give an mbox, a maildir or a folder of .eml files")
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

    #[test]
    fn the_cause_chain_is_shown_once_each() {
        let e = Outer(Middle(std::io::Error::other("disk full")));
        let c = CliError::caused(&e);
        assert_eq!(c.message, "cannot save series/");
        assert_eq!(c.causes, vec!["writing series.toml", "disk full"]);
        assert_eq!((c.kind, c.code), (Kind::User, USER));
        let t = CliError::caused(&e).with_code(TOOL);
        assert_eq!((t.kind, t.code), (Kind::Tool, TOOL));
    }
}
