//! A rebase paused on a conflict: `.series-rebase/` beside `series/`, with
//! `state.toml` (where the rebase stands) and `work/` (the conflicted files,
//! markers and all, for the user to resolve). Written whole or not at all;
//! read back by `series rebase --continue`.

use std::fs;
use std::path::{Path, PathBuf};

use super::{has_markers, replay, RebaseError, Replayed, State};
use crate::git::replay::{ConflictFile, Merge};
use crate::git::{Id, Resolved, Tree};
use crate::store::Series;

fn state_file(dir: &Path) -> PathBuf {
    dir.join("state.toml")
}

/// Where the conflicted files wait for the user.
pub fn scratch(dir: &Path) -> PathBuf {
    dir.join("work")
}

/// Write the paused state: built in a folder beside `dir` and renamed in,
/// so it is there whole or not at all.
pub fn write(dir: &Path, files: &[ConflictFile], state: &State) -> Result<(), RebaseError> {
    let err = |source| RebaseError::Scratch {
        path: dir.to_path_buf(),
        source,
    };
    let parent = dir.parent().unwrap_or(Path::new("."));
    let stage = tempfile::Builder::new()
        .prefix(".series-rebase-new-")
        .tempdir_in(parent)
        .map_err(err)?;
    let work = scratch(stage.path());
    fs::create_dir_all(&work).map_err(err)?;
    for f in files {
        let p = work.join(&f.path);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).map_err(err)?;
        }
        fs::write(&p, f.merged.as_deref().unwrap_or_default()).map_err(err)?;
    }
    let text = toml::to_string_pretty(state)
        .map_err(|e| RebaseError::BadState(format!("the paused state cannot be written: {e}")))?;
    let sf = state_file(stage.path());
    fs::write(&sf, text).map_err(err)?;
    fs::File::open(&sf)
        .and_then(|f| f.sync_all())
        .map_err(err)?;
    fs::rename(stage.keep(), dir).map_err(err)
}

/// Read the paused state.
pub fn read(dir: &Path) -> Result<State, RebaseError> {
    let path = state_file(dir);
    let text = fs::read_to_string(&path).map_err(|_| RebaseError::NotPaused)?;
    toml::from_str(&text)
        .map_err(|e| RebaseError::BadState(format!("{}: {}", path.display(), e.to_string().trim())))
}

/// One conflicted file as the user left it: its path and content (None:
/// deleted).
type Resolution = (String, Option<Vec<u8>>);

fn parse(s: &str) -> Result<Id, RebaseError> {
    s.parse::<Id>()
        .map_err(|e| RebaseError::BadState(e.to_string()))
}

/// The user's resolution of each conflicted file: its content, or None
/// when the user removed it (resolved as deleted). A file that cannot be
/// read is an error, never taken for a deletion.
fn resolutions(dir: &Path, state: &State) -> Result<Vec<Resolution>, RebaseError> {
    let work = scratch(dir);
    let mut resolved = Vec::new();
    for path in &state.files {
        let p = work.join(path);
        let content = match fs::read(&p) {
            Ok(c) => Some(c),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(RebaseError::BadState(format!(
                    "cannot read the resolved file {}: {e}",
                    p.display()
                )))
            }
        };
        if content.as_deref().is_some_and(has_markers) {
            return Err(RebaseError::Unresolved(p));
        }
        resolved.push((path.clone(), content));
    }
    Ok(resolved)
}

/// Take the user's resolution from the scratch folder and replay the rest.
pub fn resume(
    tree: &Tree,
    series: &Series,
    state: &State,
    dir: &Path,
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<(Resolved, Replayed), RebaseError> {
    let new_base = Resolved {
        name: state.new_base_name.clone(),
        id: parse(&state.new_base)?,
        guessed_from: None,
    };
    let resolved = resolutions(dir, state)?;
    let parent = parse(&state.parent)?;
    let theirs = parse(&state.theirs)?;
    let ours = tree.tree_id(parent)?;
    let merged_tree =
        match tree.merge3_resolved(parse(&state.ancestor)?, ours, theirs, &resolved)? {
            Merge::Clean(t) => t,
            Merge::Conflict(files) => {
                return Err(RebaseError::BadState(format!(
                    "{} conflicted but was not in the scratch folder",
                    files
                        .iter()
                        .map(|f| f.path.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        };
    let mail = series.patches.get(state.next).ok_or_else(|| {
        RebaseError::BadState(format!(
            "it names patch {} of a series of {}",
            state.next + 1,
            series.patches.len()
        ))
    })?;
    let mut done = Replayed {
        commits: state
            .commits
            .iter()
            .map(|c| parse(c))
            .collect::<Result<_, _>>()?,
        merged: state.merged.clone(),
        without_ancestor: Vec::new(),
        in_place: Default::default(),
    };
    let next_parent = if merged_tree == ours {
        done.merged.push(state.next);
        parent
    } else {
        let c = tree.commit_mail_on(parent, merged_tree, mail, None)?;
        done.commits.push(c);
        c
    };
    replay(
        tree,
        series,
        &new_base,
        state.next + 1,
        next_parent,
        Some(theirs),
        done,
        state.drop_merged,
        &state.series_digest,
        progress,
    )
    .map(|d| (new_base, d))
}
