//! Putting the series on a kernel tree as commits, as `git am` would, in
//! memory: the only visible change is the branch made at the end.

use crate::git::replay::Committer;
use crate::git::{GitError, Id, Tree};
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
    let base = &series.manifest.base;
    let parent = base
        .commit
        .parse::<Id>()
        .ok()
        .filter(|_| tree.has_commit(&base.commit))
        .ok_or_else(|| ApplyError::NoBase {
            name: base.name.clone(),
            commit: base.commit.clone(),
        })?;
    apply_on(tree, series, parent, committer, progress)
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
        })
    }
}
