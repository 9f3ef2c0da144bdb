//! The operations behind the verbs: each takes the [`Workspace`] and a
//! typed request, does its work through the domain modules, and returns a
//! typed result that renders itself as text ([`crate::term::Render`]) and
//! as JSON (`Serialize`). The command line only parses flags into a
//! request and prints the result. Operations share building blocks (edit
//! applies the series as apply does, a b4 export commits as apply commits),
//! never each other's command lines.
//!
//! Every operation fails with [`AppError`]: a domain error kept whole (its
//! causes, kind and hint travel with it), or a refusal of the operation's
//! own with its hint and kind.

pub mod apply;
pub mod attest;
pub mod b4;
pub mod bench;
pub mod check;
pub mod depends;
pub mod diff;
pub mod edit;
pub mod format;
pub mod init;
pub mod lore;
pub mod mails;
pub mod place;
pub mod rebase;
pub mod refresh;
pub mod reroll;
pub mod review;
pub mod send;
pub mod status;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Advice, Kind};
use crate::review::{Board, Us, Versions};
use crate::store::{self, Series};
use crate::workspace::Workspace;

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
    #[error(transparent)]
    Cmd(#[from] crate::git::cmd::CmdError),
    #[error(transparent)]
    Tree(#[from] crate::tree::TreeError),
    #[error(transparent)]
    Workspace(#[from] crate::workspace::WorkspaceError),
    #[error(transparent)]
    Template(#[from] crate::template::TemplateError),
    #[error(transparent)]
    Render(#[from] crate::outgoing::RenderError),
    #[error(transparent)]
    Write(#[from] crate::outgoing::WriteError),
    #[error(transparent)]
    Prepare(#[from] crate::prepare::PrepareError),
    #[error(transparent)]
    Import(#[from] crate::import::ImportError),
    #[error(transparent)]
    Rebase(#[from] crate::rebase::RebaseError),
    #[error(transparent)]
    Apply(#[from] crate::apply::ApplyError),
    #[error(transparent)]
    Check(#[from] crate::check::CheckError),
    #[error(transparent)]
    Journal(#[from] crate::send::journal::JournalError),
    #[error(transparent)]
    Deliver(#[from] crate::send::DeliverError),
    #[error(transparent)]
    Version(#[from] crate::versions::VersionError),
    #[error(transparent)]
    Refresh(#[from] crate::refresh::RefreshError),
    #[error(transparent)]
    Bench(#[from] crate::bench::BenchError),
    #[error(transparent)]
    Lore(#[from] crate::lore::LoreError),
    #[error(transparent)]
    Mail(#[from] crate::mail::received::MailError),
    #[error(transparent)]
    Mailbox(#[from] crate::mailbox::MailboxError),
    #[error(transparent)]
    Ledger(#[from] crate::review::ledger::LedgerError),
    #[error(transparent)]
    Board(#[from] crate::review::state::StateError),
    /// The operation's own refusal.
    #[error("{message}")]
    Refused {
        message: String,
        hint: Option<String>,
        kind: Kind,
    },
    /// A file the operation reads or writes outside `series/`.
    #[error("{}: {source}", .path.display())]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl AppError {
    /// A refusal: a user error with this message.
    pub fn refuse(message: impl Into<String>) -> AppError {
        AppError::Refused {
            message: message.into(),
            hint: None,
            kind: Kind::User,
        }
    }

    /// A refusal of the request itself (exit code 2).
    pub fn usage(message: impl Into<String>) -> AppError {
        AppError::refuse(message).kind(Kind::Usage)
    }

    /// With this hint (a refusal only; a domain error keeps its own).
    pub fn hint(self, text: impl Into<String>) -> AppError {
        match self {
            AppError::Refused { message, kind, .. } => AppError::Refused {
                message,
                hint: Some(text.into()),
                kind,
            },
            other => other,
        }
    }

    /// Of this kind (a refusal only).
    pub fn kind(self, kind: Kind) -> AppError {
        match self {
            AppError::Refused { message, hint, .. } => AppError::Refused {
                message,
                hint,
                kind,
            },
            other => other,
        }
    }

    /// A failed read or write of `path`.
    pub fn file(path: &Path) -> impl FnOnce(std::io::Error) -> AppError + '_ {
        move |source| AppError::File {
            path: path.to_path_buf(),
            source,
        }
    }

    fn inner(&self) -> Option<&dyn Advice> {
        Some(match self {
            AppError::Store(e) => e,
            AppError::Git(e) => e,
            AppError::Cmd(e) => e,
            AppError::Tree(e) => e,
            AppError::Workspace(e) => e,
            AppError::Template(e) => e,
            AppError::Render(e) => e,
            AppError::Write(e) => e,
            AppError::Prepare(e) => e,
            AppError::Import(e) => e,
            AppError::Rebase(e) => e,
            AppError::Apply(e) => e,
            AppError::Check(e) => e,
            AppError::Journal(e) => e,
            AppError::Deliver(e) => e,
            AppError::Version(e) => e,
            AppError::Refresh(e) => e,
            AppError::Bench(e) => e,
            AppError::Lore(e) => e,
            AppError::Mail(e) => e,
            AppError::Mailbox(e) => e,
            AppError::Ledger(e) => e,
            AppError::Refused { .. } | AppError::File { .. } | AppError::Board(_) => return None,
        })
    }
}

impl Advice for AppError {
    fn kind(&self) -> Kind {
        match self {
            AppError::Refused { kind, .. } => *kind,
            other => other.inner().map_or(Kind::User, |e| e.kind()),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            AppError::Refused { hint, .. } => hint.clone(),
            AppError::File { .. } => crate::error::says("check the path and its permissions"),
            AppError::Board(_) => crate::error::says(
                "fix series/review.toml by hand (docs/FORMAT.md) or restore it from git",
            ),
            other => other.inner().and_then(|e| e.hint()),
        }
    }
}

/// A path as given on the command line: relative to where series runs.
pub fn given(ws: &Workspace, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        ws.cwd.join(path)
    }
}

/// A path as shown to the user: relative to where series runs when below.
pub fn shown(ws: &Workspace, path: &Path) -> String {
    crate::term::rel(path, &ws.cwd)
}

/// The current series and every kept version, by number.
pub fn versions(ws: &Workspace, series: &Series) -> Result<Versions, AppError> {
    let mut out: Versions = BTreeMap::new();
    for v in store::kept_versions(&ws.series_dir) {
        if v != series.manifest.version {
            out.insert(v, store::load_kept(&ws.series_dir, v)?);
        }
    }
    out.insert(series.manifest.version, series.clone());
    Ok(out)
}

/// Who "we" are: the configured identity, each version's poster and the
/// addresses of `series.me`.
pub fn us(ws: &Workspace, series: &Series) -> Us {
    Us::new(series, &ws.sender(series), &ws.setting_list("series.me"))
}

/// The review board of the series as it is, with every version.
pub fn board(ws: &Workspace, series: &Series) -> Result<(Board, Versions), AppError> {
    let versions = versions(ws, series)?;
    let board = crate::review::board(series, &versions, &us(ws, series))?;
    Ok((board, versions))
}

/// The keyrings signatures are checked against: the tree's,
/// `patatt.keyringsrc`, patatt's own.
pub fn keyrings(ws: &Workspace) -> Vec<PathBuf> {
    let extra: Vec<String> = ws.config("patatt.keyringsrc").into_iter().collect();
    crate::attest::keyrings(ws.tree_path_opt().as_deref(), &extra)
}

/// One line per signature: who signed and how it checks.
pub fn describe(a: &crate::attest::Attestation) -> String {
    use crate::attest::Outcome;
    let who = format!("{} (selector {})", a.identity, a.selector);
    match &a.outcome {
        Outcome::Valid { source } => format!("signed by {who}: valid, key {source}"),
        Outcome::Bad(why) => format!("signed by {who}: BAD signature: {why}"),
        Outcome::NoKey => format!("signed by {who}: no public key in the keyrings to check it"),
        Outcome::Unsupported(a) => {
            format!("signed by {who} with {a}: not checked (series checks ed25519)")
        }
    }
}

/// A version named as `vN` or `N`.
pub fn version_arg(s: &str) -> Option<u32> {
    s.strip_prefix('v')
        .unwrap_or(s)
        .parse()
        .ok()
        .filter(|&v| v >= 1)
}

/// Write a file series made (a reply draft, an mbox), atomically: into a
/// temporary file beside it, then renamed. A folder on the way that is a
/// symbolic link is refused, so nothing is written through a link planted
/// there.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    use std::io::Write;
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(AppError::file(parent))?;
    for dir in [parent, parent.parent().unwrap_or(parent)] {
        if std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(AppError::refuse(format!(
                "{} is a symbolic link; series writes only into folders it can see",
                dir.display()
            ))
            .hint("remove the link (series makes the folder itself), then run this again"));
        }
    }
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(AppError::refuse(format!(
            "{} is a symbolic link; series does not write through it",
            path.display()
        ))
        .hint("remove the link, then run this again"));
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".series-")
        .tempfile_in(parent)
        .map_err(AppError::file(parent))?;
    tmp.write_all(bytes).map_err(AppError::file(path))?;
    tmp.persist(path).map_err(|e| AppError::File {
        path: path.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}

/// Progress of long work: (what, done, of, about what).
pub type Progress<'a> = &'a mut dyn FnMut(&str, usize, usize, &str);

/// Lines for standard error: what was left out, guessed or fetched, each
/// whole (`note: ...`).
pub type Notes = Vec<String>;

/// A version by its argument: the current one from series/, an earlier
/// one from series/versions/.
pub fn version_of(ws: &Workspace, current: &Series, arg: &str) -> Result<Series, AppError> {
    let v = version_arg(arg).ok_or_else(|| {
        AppError::usage(format!("{arg:?} is not a version; name one as vN, e.g. v1"))
    })?;
    if v == current.manifest.version {
        return Ok(current.clone());
    }
    Ok(crate::versions::load_version(&ws.series_dir, v)?)
}

/// The older version `diff` and `--range-diff` compare with by default:
/// the last one sent, else the last one kept.
pub fn default_old(ws: &Workspace, series: &Series) -> Result<Series, AppError> {
    let kept = store::kept_versions(&ws.series_dir);
    let v = crate::versions::default_old(series, &kept).ok_or(
        crate::versions::VersionError::NothingKept(series.manifest.version),
    )?;
    Ok(crate::versions::load_version(&ws.series_dir, v)?)
}

/// The range-diff for a cover letter (`--range-diff[=vN]`): against the
/// version named, or by default the last sent one.
pub fn range_diff_for_cover(
    ws: &Workspace,
    series: &Series,
    spec: &str,
) -> Result<(u32, String), AppError> {
    let old = if spec.is_empty() {
        default_old(ws, series)?
    } else {
        version_of(ws, series, spec)?
    };
    let c = crate::versions::compare(&old, series);
    Ok((old.manifest.version, c.render(false)))
}
