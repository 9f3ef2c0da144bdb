//! Making a series from commits of a kernel tree (`series init`): each
//! commit of BASE..TIP as the mail `git format-patch` writes, a change id
//! per patch, the cover diffstat and a history up to the version asked for.

pub mod cover;
mod history;
pub(crate) mod mails;

pub use mails::{from_mails, missing_versions, Imported, MailOptions};

use crate::git::{GitError, Tree};
use crate::model::{patch_file_name, PatchMail};
use crate::store::{Base, Manifest, PatchEntry, Recipients, Series, VersionEntry, FORMAT};

/// The prose a new cover letter starts with; `series check` flags it.
pub const BLURB: &str = "*** BLURB HERE ***\n";
/// The subject a new series starts with until `--subject` or an edit.
pub const SUBJECT: &str = "*** SUBJECT HERE ***";

/// What to import and how to name it.
#[derive(Clone, Debug)]
pub struct Options {
    /// Where the series starts, as the user named it.
    pub base: String,
    /// The name to record for the base instead (an mmotm tag the tree lacks).
    pub base_name: Option<String>,
    /// `A..B` or a tip commit; BASE..HEAD when None.
    pub range: Option<String>,
    pub version: u32,
    pub name: Option<String>,
    pub subject: Option<String>,
    pub prefix: String,
}

/// Why nothing was imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Git(#[from] GitError),
    /// The mails do not make a series; says which mail and why.
    #[error("{0}")]
    Mail(String),
}

/// The series of `opts.base..tip` in `tree`, in memory: nothing is written.
pub fn from_tree(tree: &Tree, opts: &Options) -> Result<Series, ImportError> {
    let base = tree.resolve(&opts.base)?;
    let ids = tree.series_commits(&base, opts.range.as_deref())?;
    let mut patches: Vec<PatchMail> = Vec::with_capacity(ids.len());
    for id in &ids {
        patches.push(tree.commit_mail(*id)?);
    }
    // series_commits refuses an empty range, so there is a tip.
    let tip = ids.last().copied().unwrap_or(base.id);
    let diffstat = tree.stat_between(base.id, tip)?;
    let name = opts
        .name
        .clone()
        .or_else(|| tree.head_branch())
        .unwrap_or_else(|| "series".into());
    let signature = tree
        .config_string("format.signature")
        .unwrap_or_else(|| format!("series {}", env!("CARGO_PKG_VERSION")));
    let entries = ids
        .iter()
        .zip(&patches)
        .enumerate()
        .map(|(i, (id, p))| PatchEntry {
            change_id: id.to_string()[..16].to_string(),
            file: patch_file_name(
                None,
                i + 1,
                &tree.first_line(*id).unwrap_or_else(|| p.title.clone()),
            ),
        })
        .collect();
    let recorded = opts.base_name.clone().unwrap_or(base.name.clone());
    let history = (1..=opts.version)
        .map(|v| VersionEntry {
            version: v,
            base: (v == opts.version).then(|| recorded.clone()),
            ..VersionEntry::default()
        })
        .collect();
    let mut series = Series::new(
        Manifest {
            format: FORMAT,
            name,
            subject: opts.subject.clone().unwrap_or_else(|| SUBJECT.into()),
            version: opts.version,
            prefix: opts.prefix.clone(),
            change_id: None,
            signature,
            diffstat,
            diffstat_of: None,
            base: Base {
                name: recorded,
                commit: base.id.to_string(),
            },
            recipients: Recipients::default(),
            lists: Default::default(),
            depends: Vec::new(),
            patches: entries,
            history,
        },
        BLURB.into(),
        patches,
    );
    series.manifest.diffstat_of = Some(series.diffs_digest());
    Ok(series)
}

/// An earlier version's patches take the change ids of the patches they
/// pair with (as the range-diff pairs them) in `newer`, so that comments
/// and history follow a patch across versions.
pub fn take_change_ids(old: &mut Series, newer: &Series) {
    let pairs = crate::rangediff::pair(
        &crate::versions::texts(old),
        &crate::versions::texts(newer),
        crate::rangediff::CREATION_FACTOR,
    );
    for (i, b) in pairs.a2b.iter().enumerate() {
        if let Some(j) = b {
            old.manifest.patches[i].change_id = newer.manifest.patches[*j].change_id.clone();
        }
    }
}

impl crate::error::Advice for ImportError {
    fn hint(&self) -> Option<String> {
        match self {
            ImportError::Git(g) => g.hint(),
            ImportError::Mail(_) => crate::error::says(
                "pass --version N to import another version, --base REF for the base; docs/FORMAT.md says how mails are read",
            ),
        }
    }
}
