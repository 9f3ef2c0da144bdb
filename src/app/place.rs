//! Where series live: `series path`, `series list`, `series switch` and
//! `series move` (see [`crate::workspace`] for the homes).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{given, AppError};
use crate::review::state::State;
use crate::store;
use crate::term::Render;
use crate::workspace::{self, Home, Workspace};

/// Where the series is.
#[derive(Serialize)]
pub struct Located {
    pub folder: String,
    pub name: Option<String>,
    /// `home` (under the repository's git folder), `folder` (elsewhere).
    pub home: &'static str,
}

fn home_word(h: &Home) -> &'static str {
    match h {
        Home::Git {
            elsewhere: false, ..
        } => "home",
        _ => "folder",
    }
}

/// `series path`.
pub fn path(ws: &Workspace) -> Result<Located, AppError> {
    if !ws.series_dir.join(store::MANIFEST).is_file() {
        store::load(&ws.series_dir)?;
    }
    Ok(Located {
        folder: ws.series_dir.display().to_string(),
        name: ws.name().map(str::to_string),
        home: home_word(&ws.home),
    })
}

impl Render for Located {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "{}", self.folder)
    }
}

/// One series of `series list`.
#[derive(Serialize)]
pub struct Entry {
    pub name: String,
    pub current: bool,
    pub version: Option<u32>,
    /// preparing, sent, rebase paused, send stopped, or unreadable.
    pub state: String,
    pub open_comments: usize,
    pub base: Option<String>,
    pub folder: String,
}

/// The series of the repository's home, and a `series/` folder found.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Listing {
    pub series: Vec<Entry>,
}

fn entry(ws: &Workspace, name: &str, dir: &Path, current: bool) -> Entry {
    let folder = dir.display().to_string();
    let Ok(s) = store::load(dir) else {
        return Entry {
            name: name.to_string(),
            current,
            version: None,
            state: "unreadable".into(),
            open_comments: 0,
            base: None,
            folder,
        };
    };
    let m = &s.manifest;
    let project = dir.parent().unwrap_or(dir);
    let state = if crate::rebase::state_dir(project).exists() {
        "rebase paused"
    } else if super::status::stopped(dir, m.version).is_some() {
        "send stopped"
    } else if crate::versions::sent(&s).is_some() {
        "sent"
    } else {
        "preparing"
    };
    let there = Workspace {
        series_dir: dir.to_path_buf(),
        ..ws.clone()
    };
    let open_comments = if s.replies.is_empty() {
        0
    } else {
        super::board(&there, &s)
            .map(|(b, _)| b.comments.iter().filter(|c| c.state == State::Open).count())
            .unwrap_or(0)
    };
    Entry {
        name: name.to_string(),
        current,
        version: Some(m.version),
        state: state.into(),
        open_comments,
        base: Some(m.base.name.clone()),
        folder,
    }
}

/// `series list`.
pub fn list(ws: &Workspace) -> Result<Listing, AppError> {
    let mut out = Vec::new();
    if matches!(ws.home, Home::Folder) && ws.series_dir.join(store::MANIFEST).is_file() {
        let name = store::load(&ws.series_dir)
            .map(|s| s.manifest.name)
            .unwrap_or_else(|_| "series".into());
        out.push(entry(ws, &name, &ws.series_dir, true));
    }
    if let Some(g) = &ws.git {
        for name in workspace::names_in(&g.common_dir) {
            let (dir, _) = workspace::series_dir_of(&g.common_dir, &name);
            let current = ws.name() == Some(name.as_str()) && !matches!(ws.home, Home::Folder);
            out.push(entry(ws, &name, &dir, current));
        }
    }
    Ok(Listing { series: out })
}

impl Render for Listing {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.series.is_empty() {
            return writeln!(out, "No series here: `series init --base BASE` makes one.");
        }
        for e in &self.series {
            let version = e.version.map(|v| format!("v{v}")).unwrap_or_default();
            let comments = match e.open_comments {
                0 => String::new(),
                1 => ", 1 open comment".into(),
                n => format!(", {n} open comments"),
            };
            writeln!(
                out,
                "{} {} {version} {}{comments}{}",
                if e.current { "*" } else { " " },
                e.name,
                e.state,
                e.base
                    .as_deref()
                    .map(|b| format!(", on {b}"))
                    .unwrap_or_default()
            )?;
        }
        Ok(())
    }
}

/// A series made current.
#[derive(Serialize)]
pub struct Switched {
    pub name: String,
}

/// `series switch NAME`: the worktree's current series.
pub fn switch(ws: &Workspace, name: &str) -> Result<Switched, AppError> {
    let g = ws.git.as_ref().ok_or_else(|| {
        AppError::refuse(
            "series switch works in a git repository: it picks the worktree's current series",
        )
        .hint("run it inside the kernel tree")
    })?;
    let known = workspace::names_in(&g.common_dir);
    if !known.iter().any(|n| n == name) {
        return Err(crate::workspace::WorkspaceError::Unknown {
            name: name.to_string(),
            home: workspace::home_of(&g.common_dir),
            known,
        }
        .into());
    }
    workspace::set_current(&g.git_dir, Some(name))?;
    Ok(Switched {
        name: name.to_string(),
    })
}

impl Render for Switched {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "Now on series {}.", self.name)
    }
}

/// A series moved.
#[derive(Serialize)]
pub struct Moved {
    pub from: String,
    pub to: String,
}

/// Move a folder: a rename, else (another file system) a copy and a
/// removal of the original.
fn move_folder(from: &Path, to: &Path) -> Result<(), AppError> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(AppError::file(parent))?;
    }
    if std::fs::rename(from, to).is_ok() {
        return Ok(());
    }
    copy_tree(from, to)?;
    std::fs::remove_dir_all(from).map_err(AppError::file(from))
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), AppError> {
    std::fs::create_dir_all(to).map_err(AppError::file(to))?;
    for e in std::fs::read_dir(from).map_err(AppError::file(from))? {
        let e = e.map_err(AppError::file(from))?;
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_type().map_err(AppError::file(&src))?.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(AppError::file(&src))?;
        }
    }
    Ok(())
}

/// `series move DIR` (to a folder of your choice) or `series move` with
/// no DIR (into the home under the repository's git folder).
pub fn relocate(ws: &Workspace, to: Option<&PathBuf>) -> Result<Moved, AppError> {
    let series = store::load(&ws.series_dir)?;
    if crate::rebase::state_dir(&ws.project()).exists() {
        return Err(
            AppError::refuse("a rebase is paused; the series cannot move now").hint(
                "finish it (`series rebase --continue`) or drop it (`series rebase --abort`) first",
            ),
        );
    }
    let g = ws.git.as_ref();
    let (target, entry) = match (to, g) {
        (Some(d), _) => (given(ws, d), None),
        (None, Some(g)) => {
            let name = ws
                .name()
                .map(str::to_string)
                .unwrap_or(series.manifest.name.clone());
            let entry = workspace::home_of(&g.common_dir).join(&name);
            (entry.join("series"), Some((g, name)))
        }
        (None, None) => {
            return Err(AppError::usage(
                "name the folder to move the series to: series move DIR",
            ))
        }
    };
    if target.exists() {
        return Err(
            AppError::refuse(format!("{} already exists", target.display()))
                .hint("name a folder that does not exist yet"),
        );
    }
    move_folder(&ws.series_dir, &target)?;
    // The home's entry says where a series of the home went, or no
    // longer says it when it came back.
    match (&ws.home, &entry) {
        (Home::Git { common, name, .. }, None) => {
            let file = workspace::home_of(common).join(name).join("location");
            let abs = target.canonicalize().unwrap_or(target.clone());
            super::write_file(&file, format!("{}\n", abs.display()).as_bytes())?;
        }
        (_, Some((g, name))) => {
            let file = workspace::home_of(&g.common_dir)
                .join(name)
                .join("location");
            let _ = std::fs::remove_file(file);
            workspace::set_current(&g.git_dir, Some(name))?;
        }
        _ => {}
    }
    Ok(Moved {
        from: ws.series_dir.display().to_string(),
        to: target.display().to_string(),
    })
}

impl Render for Moved {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "Moved the series from {} to {}.", self.from, self.to)
    }
}
