//! What the shell completes after a verb or a flag, beside the verbs and
//! flags themselves: the tree's refs, the series' versions, review comment
//! ids, bench names and the list names of MAINTAINERS.
//!
//! clap_complete's dynamic engine runs these when the shell asks (the
//! script `series completions SHELL` prints calls `COMPLETE=SHELL series --
//! WORDS...`). They see the folder the shell is in and the environment
//! (`SERIES_DIR`, `SERIES_NAME`, `SERIES_TREE`), not the other words of the
//! line; anything they cannot read offers nothing rather than failing.

use std::ffi::OsStr;
use std::path::PathBuf;

use clap_complete::engine::{ArgValueCompleter, CompletionCandidate};

use crate::store;
use crate::workspace::{Ask, Workspace};

/// The workspace of the folder the shell is in.
fn workspace() -> Option<Workspace> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    let ask = Ask {
        series: env("SERIES_DIR").map(PathBuf::from),
        name: env("SERIES_NAME").map(|v| v.to_string_lossy().into_owned()),
        tree_env: env("SERIES_TREE").map(PathBuf::from),
        ..Ask::default()
    };
    Workspace::open(&std::env::current_dir().ok()?, ask).ok()
}

fn series() -> Option<(Workspace, store::Series)> {
    let ws = workspace()?;
    let s = store::load(&ws.series_dir).ok()?;
    Some((ws, s))
}

/// The candidates among `values` that start with what was typed, each
/// with its help text.
fn offer(current: &OsStr, values: Vec<(String, Option<String>)>) -> Vec<CompletionCandidate> {
    let typed = current.to_string_lossy();
    let mut out: Vec<(String, Option<String>)> = values
        .into_iter()
        .filter(|(v, _)| v.starts_with(typed.as_ref()))
        .collect();
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    out.into_iter()
        .map(|(v, help)| CompletionCandidate::new(v).help(help.map(Into::into)))
        .collect()
}

/// The (short, full) ref names of the tree, else of the repository the
/// shell is in.
fn ref_names() -> Vec<(String, String)> {
    let Some(ws) = workspace() else {
        return Vec::new();
    };
    let at = match (ws.tree_path_opt(), ws.git.as_ref()) {
        (Some(tree), _) => tree,
        (None, Some(g)) => match &g.worktree {
            Some(w) => w.clone(),
            None => return Vec::new(),
        },
        (None, None) => return Vec::new(),
    };
    crate::git::Tree::open(&at)
        .and_then(|t| t.ref_names())
        .unwrap_or_default()
}

/// Branches, tags and remote-tracking branches by their short names, as
/// `rebase` and `init --base` resolve them.
fn refs_of(current: &OsStr) -> Vec<CompletionCandidate> {
    offer(
        current,
        ref_names()
            .into_iter()
            .map(|(short, _)| (short, None))
            .collect(),
    )
}

/// Local branches only (`apply --branch`, `refresh --branch`).
fn branches_of(current: &OsStr) -> Vec<CompletionCandidate> {
    let local = ref_names()
        .into_iter()
        .filter(|(_, full)| full.starts_with("refs/heads/"))
        .map(|(short, _)| (short, None))
        .collect();
    offer(current, local)
}

/// The versions of the series: those in its history and the current one.
fn versions_of(current_word: &OsStr) -> Vec<CompletionCandidate> {
    let Some((_, s)) = series() else {
        return Vec::new();
    };
    let mut all: Vec<(String, Option<String>)> = s
        .manifest
        .history
        .iter()
        .map(|h| {
            let said = match &h.date {
                Some(d) => format!("sent {d}"),
                None => "in preparation".to_string(),
            };
            (format!("v{}", h.version), Some(said))
        })
        .collect();
    let current = format!("v{}", s.manifest.version);
    if !all.iter().any(|(v, _)| *v == current) {
        all.push((current, Some("in preparation".into())));
    }
    offer(current_word, all)
}

/// Review comment ids, the open ones, with who said what.
fn comment_ids_of(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some((ws, s)) = series() else {
        return Vec::new();
    };
    let Ok((board, _)) = crate::app::board(&ws, &s) else {
        return Vec::new();
    };
    let all = board
        .comments
        .iter()
        .filter(|t| t.state == crate::review::state::State::Open)
        .map(|t| {
            let c = &t.comment;
            let who = if c.who.name.is_empty() {
                &c.who.email
            } else {
                &c.who.name
            };
            let first = c.text.lines().next().unwrap_or("");
            let said = crate::term::printable(first);
            (c.id.clone(), Some(format!("{who}: {said}")))
        })
        .collect();
    offer(current, all)
}

/// The series' benches (`series/bench/NAME.toml`).
fn bench_names_of(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some((_, s)) = series() else {
        return Vec::new();
    };
    let names = s
        .bench
        .keys()
        .map(|n| n.trim_end_matches(".toml").to_string());
    offer(current, names.map(|n| (n, None)).collect())
}

/// List names a recipient may be given as: the tree's MAINTAINERS `L:`
/// lists and the names the series learned, each with its address.
fn lists_of(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(ws) = workspace() else {
        return Vec::new();
    };
    let mut all: Vec<(String, Option<String>)> = ws
        .tree_path_opt()
        .map(|t| crate::tree::tree_lists(&t))
        .unwrap_or_default()
        .into_iter()
        .map(|(name, addr)| (name, Some(addr)))
        .collect();
    if let Ok(s) = store::load(&ws.series_dir) {
        all.extend(s.manifest.lists.into_iter().map(|(n, a)| (n, Some(a))));
    }
    offer(current, all)
}

/// The series of the repository's home, by name (`switch`, `--name`).
fn series_names_of(current: &OsStr) -> Vec<CompletionCandidate> {
    // Read from the repository itself: with several series and none
    // current, there is no workspace to open, and that is when a name is
    // wanted.
    let Some(git) = std::env::current_dir()
        .ok()
        .and_then(|d| crate::git::dirs(&d))
    else {
        return Vec::new();
    };
    let names = crate::workspace::names_in(&git.common_dir);
    offer(current, names.into_iter().map(|n| (n, None)).collect())
}

/// The completers the arguments name (`#[arg(add = ...)]`).
pub fn refs() -> ArgValueCompleter {
    ArgValueCompleter::new(refs_of)
}

pub fn branches() -> ArgValueCompleter {
    ArgValueCompleter::new(branches_of)
}

pub fn versions() -> ArgValueCompleter {
    ArgValueCompleter::new(versions_of)
}

pub fn comment_ids() -> ArgValueCompleter {
    ArgValueCompleter::new(comment_ids_of)
}

pub fn bench_names() -> ArgValueCompleter {
    ArgValueCompleter::new(bench_names_of)
}

pub fn series_names() -> ArgValueCompleter {
    ArgValueCompleter::new(series_names_of)
}

pub fn lists() -> ArgValueCompleter {
    ArgValueCompleter::new(lists_of)
}
