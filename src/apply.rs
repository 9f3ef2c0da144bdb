//! Putting the series on a kernel tree as commits, as `git am` would, in
//! memory: the only visible change is the branch made at the end.

use crate::git::replay::Committer;
use crate::git::{GitError, Id, Tree};
use crate::model::PatchMail;
use crate::store::Series;

/// Why the series could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("the tree has no commit {commit} (the base {name})")]
    NoBase { name: String, commit: String },
    #[error("patch {nr} \"{title}\" does not apply on {onto}: {why}")]
    DoesNotApply {
        nr: usize,
        title: String,
        onto: String,
        why: String,
    },
    #[error("prerequisite {name}, patch {nr} \"{title}\", does not apply on {onto}: {why}")]
    Prerequisite {
        name: String,
        nr: usize,
        title: String,
        onto: String,
        why: String,
    },
}

/// A prerequisite's patches as they go first: its name and its patches.
pub type Prerequisite = (String, Vec<PatchMail>);

/// The series applied after its prerequisites.
pub struct Stacked {
    /// The prerequisites' commits, in order.
    pub prerequisites: Vec<Id>,
    /// The series' own.
    pub commits: Vec<Id>,
}

/// Apply every prerequisite's patches on the series' base, then the
/// series' patches, as commits.
pub fn apply_stacked(
    tree: &Tree,
    series: &Series,
    first: &[Prerequisite],
    committer: Option<&Committer>,
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<Stacked, ApplyError> {
    let base = base_of(tree, series)?;
    let prerequisites =
        apply_prerequisites(tree, base, &series.manifest.base.name, first, committer)?;
    let tip = prerequisites.last().copied().unwrap_or(base);
    let commits = apply_on(tree, series, tip, committer, progress)?;
    Ok(Stacked {
        prerequisites,
        commits,
    })
}

/// The prerequisites' patches on `base` (named `base_name`), each as a
/// commit of its own, in order.
pub fn apply_prerequisites(
    tree: &Tree,
    base: Id,
    base_name: &str,
    first: &[Prerequisite],
    committer: Option<&Committer>,
) -> Result<Vec<Id>, ApplyError> {
    let mut parent = base;
    let mut out = Vec::new();
    for (name, patches) in first {
        for (j, mail) in patches.iter().enumerate() {
            let new_tree = tree.apply_to(tree.tree_id(parent)?, mail)?.or_else(|why| {
                ApplyError::Prerequisite {
                    name: name.clone(),
                    nr: j + 1,
                    title: mail.title.clone(),
                    onto: base_name.to_string(),
                    why,
                }
            })?;
            parent = tree.commit_mail_on(parent, new_tree, mail, committer)?;
            out.push(parent);
        }
    }
    Ok(out)
}

/// The series' base commit, when the tree has it.
fn base_of(tree: &Tree, series: &Series) -> Result<Id, ApplyError> {
    let base = &series.manifest.base;
    base.commit
        .parse::<Id>()
        .ok()
        .filter(|_| tree.has_commit(&base.commit))
        .ok_or_else(|| ApplyError::NoBase {
            name: base.name.clone(),
            commit: base.commit.clone(),
        })
}

/// The branch `series apply` makes, and `series refresh` reads back by
/// default: `series/<name>-v<N>`.
pub fn default_branch(m: &crate::store::Manifest) -> String {
    format!("series/{}-v{}", m.name, m.version)
}

/// Apply every patch on the series' base; return the new commits in order.
pub fn apply(
    tree: &Tree,
    series: &Series,
    committer: Option<&Committer>,
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<Vec<Id>, ApplyError> {
    apply_on(tree, series, base_of(tree, series)?, committer, progress)
}

/// Apply every patch on `parent` (the base, or a commit on it that changes
/// nothing the series touches: a b4 cover commit).
pub fn apply_on(
    tree: &Tree,
    series: &Series,
    mut parent: Id,
    committer: Option<&Committer>,
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<Vec<Id>, ApplyError> {
    let base = &series.manifest.base;
    let total = series.patches.len();
    let mut out = Vec::with_capacity(total);
    for (i, mail) in series.patches.iter().enumerate() {
        progress(i + 1, total, &mail.title);
        let onto = tree.tree_id(parent)?;
        let new_tree = tree
            .apply_to(onto, mail)?
            .or_else(|why| ApplyError::DoesNotApply {
                nr: i + 1,
                title: mail.title.clone(),
                onto: if i == 0 {
                    base.name.clone()
                } else {
                    format!("patch {i}")
                },
                why,
            })?;
        parent = tree.commit_mail_on(parent, new_tree, mail, committer)?;
        out.push(parent);
    }
    Ok(out)
}

impl crate::error::Advice for ApplyError {
    fn kind(&self) -> crate::error::Kind {
        match self {
            ApplyError::Git(g) => g.kind(),
            _ => crate::error::Kind::User,
        }
    }

    fn hint(&self) -> Option<String> {
        crate::error::says(match self {
            ApplyError::Git(g) => return g.hint(),
            ApplyError::NoBase { .. } => {
                "fetch the base into the tree, or `series rebase` onto a base it has"
            }
            ApplyError::DoesNotApply { .. } => "`series check` shows why; rebase the series",
            ApplyError::Prerequisite { .. } => {
                "the prerequisite needs a version for this base: `series depends add` a newer one, or rebase onto a base it applies to"
            }
        })
    }
}
