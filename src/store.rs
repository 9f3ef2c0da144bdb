//! `series/` on disk: the manifest, the cover letter prose, one mail per patch
//! and benchmark data. Reading refuses anything it does not understand; saving
//! writes the whole directory anew and swaps it in with one rename, so a
//! failure leaves the old `series/` as it was.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::mail::{self, ParseError};
use crate::model::{ChangeId, ExtraHeaders, Numbering, PatchMail};

/// The format version this build reads and writes.
pub const FORMAT: u32 = 1;

pub const MANIFEST: &str = "series.toml";
pub const COVER: &str = "cover.md";
pub const PATCHES: &str = "patches";
pub const BENCH: &str = "bench";

/// The manifest, `series/series.toml`. Field order is the file's order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Manifest {
    /// Format version of `series/`.
    pub format: u32,
    /// Short name of the series, used in branch names and Message-Ids.
    pub name: String,
    /// The cover letter's subject, without the `[PATCH vN 0/M]` tag.
    pub subject: String,
    /// The version being prepared.
    pub version: u32,
    /// Subject prefix: `PATCH`, `RFC PATCH`, ...
    pub prefix: String,
    /// Text after the `-- ` line of every mail.
    pub signature: String,
    /// Diffstat and summary of the whole series against its base, as the
    /// cover letter shows it; refreshed whenever a tree is at hand.
    pub diffstat: String,
    pub base: Base,
    #[serde(default)]
    pub recipients: Recipients,
    /// List names resolved once through a tree's MAINTAINERS: name -> address.
    #[serde(default)]
    pub lists: BTreeMap<String, String>,
    #[serde(default, rename = "patch")]
    pub patches: Vec<PatchEntry>,
    #[serde(default, rename = "history")]
    pub history: Vec<VersionEntry>,
}

/// Where the series starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Base {
    /// The name the user gave, in full (`v4.11-rc2-mmotm-2017-03-14-15-41`).
    pub name: String,
    /// The commit id it resolved to.
    pub commit: String,
}

/// Default recipients of every version.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipients {
    #[serde(default)]
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
}

/// One patch in series order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PatchEntry {
    pub change_id: String,
    /// File name under `series/patches/`.
    pub file: String,
}

/// One version's record: what changed, where it was based, where it went.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VersionEntry {
    pub version: u32,
    /// Day it was sent, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Base name it was on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// The changes since the previous version, one line each.
    #[serde(default)]
    pub changes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cc: Option<Vec<String>>,
    /// Message-Id of the cover letter, then of each patch, once sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub message_ids: Vec<String>,
    /// Where the version can be read (an archive link).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// A whole series in memory.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub manifest: Manifest,
    /// `cover.md` as written by the author.
    pub cover: String,
    /// The patches, in manifest order.
    pub patches: Vec<PatchMail>,
    /// Files under `bench/`: name -> contents.
    pub bench: BTreeMap<String, String>,
}

/// Errors reading or writing `series/`; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{} does not exist", .0.display())]
    Missing(PathBuf),
    #[error("{}: {msg}", .path.display())]
    Malformed { path: PathBuf, msg: String },
    #[error("{} has format {found}, newer than this series understands ({FORMAT})", .path.display())]
    Newer { path: PathBuf, found: u32 },
    #[error("{}: {source}", .path.display())]
    Patch {
        path: PathBuf,
        #[source]
        source: ParseError,
    },
    #[error("{} already exists", .0.display())]
    Exists(PathBuf),
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Series {
    /// The numbering a stored patch file carries: `[PATCH i/M]`, as plain
    /// `git format-patch base..tip` writes it.
    pub fn stored_numbering(&self, nr: usize) -> Numbering {
        let total = self.patches.len();
        Numbering {
            prefix: "PATCH".into(),
            version: None,
            nr,
            total,
            numbered: total > 1,
        }
    }

    /// The bytes of patch `i` (0-based) as stored in `series/patches/`.
    pub fn stored_patch(&self, i: usize) -> Vec<u8> {
        mail::render_patch(
            &self.patches[i],
            &self.stored_numbering(i + 1),
            &ExtraHeaders::default(),
            &self.manifest.signature,
        )
    }

    /// The history entry of the version being prepared, made if missing.
    pub fn current_version_mut(&mut self) -> &mut VersionEntry {
        let v = self.manifest.version;
        if let Some(i) = self.manifest.history.iter().position(|e| e.version == v) {
            return &mut self.manifest.history[i];
        }
        self.manifest.history.push(VersionEntry {
            version: v,
            ..VersionEntry::default()
        });
        self.manifest.history.sort_by_key(|e| e.version);
        let i = self
            .manifest
            .history
            .iter()
            .position(|e| e.version == v)
            .unwrap_or(0);
        &mut self.manifest.history[i]
    }

    /// Change ids in order, validated.
    pub fn change_ids(&self) -> Vec<ChangeId> {
        self.manifest
            .patches
            .iter()
            .filter_map(|p| p.change_id.parse().ok())
            .collect()
    }
}

/// Read `series/` at `dir`.
pub fn load(dir: &Path) -> Result<Series, StoreError> {
    recover(dir)?;
    let mpath = dir.join(MANIFEST);
    if !dir.is_dir() {
        return Err(StoreError::Missing(dir.to_path_buf()));
    }
    let text = match fs::read_to_string(&mpath) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(StoreError::Missing(mpath))
        }
        Err(e) => return Err(io(&mpath)(e)),
    };
    let manifest = parse_manifest(&mpath, &text)?;
    let cpath = dir.join(COVER);
    let cover = fs::read_to_string(&cpath).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => StoreError::Missing(cpath.clone()),
        _ => io(&cpath)(e),
    })?;
    let mut patches = Vec::new();
    for (i, entry) in manifest.patches.iter().enumerate() {
        let ppath = dir.join(PATCHES).join(&entry.file);
        if entry.change_id.parse::<ChangeId>().is_err() {
            return Err(StoreError::Malformed {
                path: mpath.clone(),
                msg: format!(
                    "patch {} has an invalid change-id {:?}",
                    i + 1,
                    entry.change_id
                ),
            });
        }
        let bytes = fs::read(&ppath).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => StoreError::Missing(ppath.clone()),
            _ => io(&ppath)(e),
        })?;
        let (mail, _sig) = mail::parse_patch(&bytes).map_err(|source| StoreError::Patch {
            path: ppath.clone(),
            source,
        })?;
        patches.push(mail);
    }
    let mut bench = BTreeMap::new();
    let bdir = dir.join(BENCH);
    if bdir.is_dir() {
        for e in fs::read_dir(&bdir).map_err(io(&bdir))? {
            let e = e.map_err(io(&bdir))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".toml") {
                let p = e.path();
                bench.insert(name, fs::read_to_string(&p).map_err(io(&p))?);
            }
        }
    }
    Ok(Series {
        manifest,
        cover,
        patches,
        bench,
    })
}

/// Parse and check a manifest; a newer format is refused before any field is
/// looked at, so its unknown fields are never dropped.
pub fn parse_manifest(path: &Path, text: &str) -> Result<Manifest, StoreError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| StoreError::Malformed {
        path: path.to_path_buf(),
        msg: e.to_string().trim().to_string(),
    })?;
    match table.get("format").and_then(toml::Value::as_integer) {
        Some(f) if f > i64::from(FORMAT) => {
            return Err(StoreError::Newer {
                path: path.to_path_buf(),
                found: f as u32,
            })
        }
        Some(f) if f >= 1 => {}
        _ => {
            return Err(StoreError::Malformed {
                path: path.to_path_buf(),
                msg: "missing or invalid `format` (expected `format = 1`)".into(),
            })
        }
    }
    toml::from_str(text).map_err(|e| StoreError::Malformed {
        path: path.to_path_buf(),
        msg: e.to_string().trim().to_string(),
    })
}

/// The manifest as text, as `save` writes it.
pub fn manifest_text(m: &Manifest) -> String {
    let body = toml::to_string_pretty(m).unwrap_or_default();
    format!("# The manifest of this series; see docs/FORMAT.md.\n{body}")
}

/// Write `series` to `dir` as one transaction: build the new directory beside
/// it, then swap it in with a single rename.
pub fn save(dir: &Path, series: &Series) -> Result<(), StoreError> {
    recover(dir)?;
    let parent = parent_of(dir);
    fs::create_dir_all(&parent).map_err(io(&parent))?;
    let stage = tempfile::Builder::new()
        .prefix(".series-new-")
        .tempdir_in(&parent)
        .map_err(io(&parent))?;
    write_tree(stage.path(), series)?;
    if dir.exists() {
        copy_unmanaged(dir, stage.path())?;
    }
    crash_point("staged");
    let staged = stage.keep();
    swap_in(dir, &staged)
}

/// Create a new `series/`; refuses to overwrite one.
pub fn create(dir: &Path, series: &Series) -> Result<(), StoreError> {
    if dir.exists() {
        return Err(StoreError::Exists(dir.to_path_buf()));
    }
    save(dir, series)
}

fn parent_of(dir: &Path) -> PathBuf {
    match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn old_path(dir: &Path) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "series".into());
    parent_of(dir).join(format!(".{name}.old"))
}

/// Move `staged` to `dir`. When `dir` exists it first moves aside to a fixed
/// name; [`recover`] finishes or undoes an interrupted swap on the next run.
fn swap_in(dir: &Path, staged: &Path) -> Result<(), StoreError> {
    let old = old_path(dir);
    if dir.exists() {
        fs::rename(dir, &old).map_err(io(dir))?;
        crash_point("moved-aside");
        if let Err(e) = fs::rename(staged, dir) {
            let _ = fs::rename(&old, dir);
            return Err(io(dir)(e));
        }
        crash_point("swapped");
        fs::remove_dir_all(&old).map_err(io(&old))?;
    } else {
        fs::rename(staged, dir).map_err(io(dir))?;
    }
    Ok(())
}

/// Finish what an interrupted save left: a `series/` moved aside with no new
/// one in place is moved back; a leftover old copy beside a new one is removed.
pub fn recover(dir: &Path) -> Result<(), StoreError> {
    let old = old_path(dir);
    if old.exists() {
        if dir.exists() {
            fs::remove_dir_all(&old).map_err(io(&old))?;
        } else {
            fs::rename(&old, dir).map_err(io(&old))?;
        }
    }
    let parent = parent_of(dir);
    if let Ok(entries) = fs::read_dir(&parent) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(".series-new-") {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
    Ok(())
}

/// A test hook: with `SERIES_CRASH_AT=<point>` the process dies at that point
/// of a save, to prove that any interruption leaves old or new, never a mix.
pub fn crash_point(point: &str) {
    if std::env::var("SERIES_CRASH_AT").is_ok_and(|p| p == point) {
        std::process::abort();
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut f = fs::File::create(path).map_err(io(path))?;
    f.write_all(bytes).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

fn write_tree(root: &Path, s: &Series) -> Result<(), StoreError> {
    write_file(&root.join(MANIFEST), manifest_text(&s.manifest).as_bytes())?;
    write_file(&root.join(COVER), s.cover.as_bytes())?;
    let pdir = root.join(PATCHES);
    fs::create_dir_all(&pdir).map_err(io(&pdir))?;
    for (i, entry) in s.manifest.patches.iter().enumerate() {
        write_file(&pdir.join(&entry.file), &s.stored_patch(i))?;
    }
    if !s.bench.is_empty() {
        let bdir = root.join(BENCH);
        fs::create_dir_all(&bdir).map_err(io(&bdir))?;
        for (name, text) in &s.bench {
            write_file(&bdir.join(name), text.as_bytes())?;
        }
    }
    Ok(())
}

/// Carry over files in `series/` that the store does not manage (notes, a
/// journal, other data), so a save never loses them.
fn copy_unmanaged(from: &Path, to: &Path) -> Result<(), StoreError> {
    for e in fs::read_dir(from).map_err(io(from))? {
        let e = e.map_err(io(from))?;
        let name = e.file_name();
        let name_s = name.to_string_lossy();
        let src = e.path();
        let dst = to.join(&name);
        let managed = name_s == MANIFEST || name_s == COVER || name_s == PATCHES;
        if managed {
            continue;
        }
        if name_s == BENCH {
            // Non-TOML files under bench/ (plots, raw logs) are kept.
            fs::create_dir_all(&dst).map_err(io(&dst))?;
            for b in fs::read_dir(&src).map_err(io(&src))? {
                let b = b.map_err(io(&src))?;
                if !b.file_name().to_string_lossy().ends_with(".toml") {
                    copy_any(&b.path(), &dst.join(b.file_name()))?;
                }
            }
            continue;
        }
        copy_any(&src, &dst)?;
    }
    Ok(())
}

fn copy_any(src: &Path, dst: &Path) -> Result<(), StoreError> {
    if src.is_dir() {
        fs::create_dir_all(dst).map_err(io(dst))?;
        for e in fs::read_dir(src).map_err(io(src))? {
            let e = e.map_err(io(src))?;
            copy_any(&e.path(), &dst.join(e.file_name()))?;
        }
        Ok(())
    } else {
        fs::copy(src, dst).map(|_| ()).map_err(io(src))
    }
}
