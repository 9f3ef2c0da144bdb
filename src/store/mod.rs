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

mod atomic;
mod manifest;
mod validate;

pub use manifest::{manifest_text, parse_manifest};

use atomic::{copy_unmanaged, old_path, parent_of, swap_in};
pub use atomic::{lock, recover, Lock};
use validate::validate;
pub use validate::{one_recipient, FileName};

/// The format version this build writes. Format 1 (before kept versions)
/// is read and upgraded in memory: its fields mean the same in format 2.
pub const FORMAT: u32 = 2;

pub const MANIFEST: &str = "series.toml";
pub const COVER: &str = "cover.md";
pub const PATCHES: &str = "patches";
pub const BENCH: &str = "bench";
/// Kept versions: `versions/vN/` is version N frozen, itself a series folder.
pub const VERSIONS: &str = "versions";
/// Review replies as received: `replies/<message-id>.eml`.
pub const REPLIES: &str = "replies";
/// The state of each review comment and the replies sent.
pub const REVIEW: &str = "review.toml";
/// Posted prerequisites' patches, as the archive gave them: one mbox each.
pub const DEPENDS: &str = "depends";

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
    /// The series' own id across versions, as b4 writes it in a cover's
    /// `change-id:` footer (`YYYYMMDD-slug-hash`); set by an import from b4
    /// or from a posting that carried one, and by `export --b4`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_id: Option<String>,
    /// Text after the `-- ` line of every mail.
    pub signature: String,
    /// Diffstat and summary of the whole series against its base, as the
    /// cover letter shows it; refreshed whenever a tree is at hand.
    pub diffstat: String,
    /// Digest of the patches' diff sections the diffstat was computed from;
    /// when the patch files change (a hand edit), the diffstat is stale and
    /// is computed again, or refused without a tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diffstat_of: Option<String>,
    pub base: Base,
    #[serde(default)]
    pub recipients: Recipients,
    /// List names resolved once through a tree's MAINTAINERS: name -> address.
    #[serde(default)]
    pub lists: BTreeMap<String, String>,
    /// The series this one needs applied first, in order (`series depends`).
    #[serde(default, rename = "depends", skip_serializing_if = "Vec::is_empty")]
    pub depends: Vec<crate::depends::Prerequisite>,
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
    /// Who posted it (`Name <addr>`): one of "us" for the review.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
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
    /// The patch files as they were read (empty for a series made in
    /// memory), to tell a hand-edited file from what series writes.
    pub on_disk: Vec<Vec<u8>>,
    /// Versions to keep at the next save as `versions/vN/`; one kept
    /// already is never written again.
    pub to_keep: Vec<Series>,
    /// Review replies received: file name under `replies/` -> the mail.
    pub replies: BTreeMap<String, Vec<u8>>,
    /// `review.toml` as text (empty when there is none).
    pub review: String,
    /// Posted prerequisites' patches: file name under `depends/` (see
    /// [`crate::depends::mbox_name`]) -> an mbox of the mails.
    pub prerequisites: BTreeMap<String, Vec<u8>>,
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
    #[error("another series command is writing {} (waited {waited}s for it)", .path.display())]
    Locked { path: PathBuf, waited: u64 },
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
    /// A series made in memory (an import): a manifest, its cover and
    /// patches; no bench data, replies or kept versions yet.
    pub fn new(manifest: Manifest, cover: String, patches: Vec<PatchMail>) -> Series {
        Series {
            manifest,
            cover,
            patches,
            bench: BTreeMap::new(),
            on_disk: Vec::new(),
            to_keep: Vec::new(),
            replies: BTreeMap::new(),
            review: String::new(),
            prerequisites: BTreeMap::new(),
        }
    }

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

    /// A digest of every patch's diff section, in order: what the cover's
    /// diffstat depends on.
    pub fn diffs_digest(&self) -> String {
        let mut all = Vec::new();
        for p in &self.patches {
            all.extend_from_slice(&p.diff);
            all.push(0);
        }
        crate::git::digest(&all)
    }

    /// A digest of what `series check` reads of `series/`: the manifest,
    /// the cover, the patches and the bench data its tables come from (not
    /// the review, which no check reads).
    pub fn check_digest(&self) -> String {
        crate::text::digest(&self.digest_input(false))
    }

    /// A digest of everything `series/` holds for the current version:
    /// the manifest, the cover, the patches, bench data and the review. Two
    /// series with the same digest write the same files.
    pub fn digest(&self) -> String {
        crate::text::digest(&self.digest_input(true))
    }

    fn digest_input(&self, with_review: bool) -> Vec<u8> {
        let mut all = manifest_text(&self.manifest)
            .unwrap_or_else(|_| format!("{:?}", self.manifest))
            .into_bytes();
        let mut part = |bytes: &[u8]| {
            all.push(0);
            all.extend_from_slice(bytes);
        };
        part(self.cover.as_bytes());
        for i in 0..self.patches.len() {
            part(&self.stored_patch(i));
        }
        for (name, text) in &self.bench {
            part(name.as_bytes());
            part(text.as_bytes());
        }
        if with_review {
            part(self.review.as_bytes());
            for (name, bytes) in &self.replies {
                part(name.as_bytes());
                part(bytes);
            }
        }
        all
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

/// Read `series/` at `dir`. Reading never changes anything: when a save
/// was interrupted after moving the old copy aside (only on file systems
/// without an atomic exchange), the old copy is read where it lies and the
/// next writer puts it back.
pub fn load(dir: &Path) -> Result<Series, StoreError> {
    crate::testing::count(crate::testing::Counter::Load);
    let aside = old_path(dir);
    let dir = if !dir.exists() && aside.is_dir() {
        aside.as_path()
    } else {
        dir
    };
    let mpath = dir.join(MANIFEST);
    if !dir.is_dir() {
        return Err(StoreError::Missing(dir.to_path_buf()));
    }
    let text = read_text(&mpath)?;
    let manifest = parse_manifest(&mpath, &text)?;
    let cpath = dir.join(COVER);
    let cover = read_text(&cpath)?;
    let mut patches = Vec::new();
    let mut on_disk = Vec::new();
    for entry in &manifest.patches {
        let ppath = dir.join(PATCHES).join(&entry.file);
        let bytes = read_regular(&ppath)?;
        let (mail, _sig) = mail::parse_patch(&bytes).map_err(|source| StoreError::Patch {
            path: ppath.clone(),
            source,
        })?;
        patches.push(mail);
        on_disk.push(bytes);
    }
    let mut bench = BTreeMap::new();
    let bdir = dir.join(BENCH);
    if fs::symlink_metadata(&bdir).is_ok_and(|m| m.is_dir()) {
        for e in fs::read_dir(&bdir).map_err(io(&bdir))? {
            let e = e.map_err(io(&bdir))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".toml") && FileName::new(&name).is_ok() {
                bench.insert(name, read_text(&e.path())?);
            }
        }
    }
    let replies = read_folder(dir, REPLIES, ".eml")?;
    let prerequisites = read_folder(dir, DEPENDS, ".mbox")?;
    let rpath = dir.join(REVIEW);
    let review = if fs::symlink_metadata(&rpath).is_ok() {
        read_text(&rpath)?
    } else {
        String::new()
    };
    Ok(Series {
        manifest,
        cover,
        patches,
        bench,
        on_disk,
        to_keep: Vec::new(),
        replies,
        review,
        prerequisites,
    })
}

/// The files of `dir/sub` whose names end in `ext`: name -> bytes.
fn read_folder(dir: &Path, sub: &str, ext: &str) -> Result<BTreeMap<String, Vec<u8>>, StoreError> {
    let mut out = BTreeMap::new();
    let fdir = dir.join(sub);
    if fs::symlink_metadata(&fdir).is_ok_and(|m| m.is_dir()) {
        for e in fs::read_dir(&fdir).map_err(io(&fdir))? {
            let e = e.map_err(io(&fdir))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(ext) && FileName::new(&name).is_ok() {
                out.insert(name, read_regular(&e.path())?);
            }
        }
    }
    Ok(out)
}

/// The folder of kept version `v`.
pub fn kept_dir(dir: &Path, v: u32) -> PathBuf {
    dir.join(VERSIONS).join(format!("v{v}"))
}

/// The versions kept in `series/versions/`, oldest first.
pub fn kept_versions(dir: &Path) -> Vec<u32> {
    let mut out: Vec<u32> = fs::read_dir(dir.join(VERSIONS))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_prefix('v')?.parse().ok()
        })
        .filter(|&v| v >= 1)
        .collect();
    out.sort_unstable();
    out
}

/// Kept version `v`, read as any series folder is.
pub fn load_kept(dir: &Path, v: u32) -> Result<Series, StoreError> {
    let kdir = kept_dir(dir, v);
    if !kdir.is_dir() {
        return Err(StoreError::Missing(kdir));
    }
    load(&kdir)
}

/// A copy of `series` to keep, frozen: its manifest, cover and patches.
pub fn frozen(series: &Series) -> Series {
    Series::new(
        series.manifest.clone(),
        series.cover.clone(),
        series.patches.clone(),
    )
}

/// The bytes of a regular file in `series/`; a link, a FIFO or a device is
/// refused without being opened, so nothing outside `series/` is read and
/// no read can hang.
fn read_regular(path: &Path) -> Result<Vec<u8>, StoreError> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(StoreError::Missing(path.to_path_buf()))
        }
        Err(e) => Err(io(path)(e)),
        Ok(m) if !m.file_type().is_file() => Err(StoreError::Malformed {
            path: path.to_path_buf(),
            msg: "not a regular file (a link, a FIFO or a device); series/ holds plain files"
                .into(),
        }),
        Ok(_) => fs::read(path).map_err(io(path)),
    }
}

fn read_text(path: &Path) -> Result<String, StoreError> {
    String::from_utf8(read_regular(path)?).map_err(|e| StoreError::Malformed {
        path: path.to_path_buf(),
        msg: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
    })
}

/// What `load` would refuse, refused before anything is written: a save
/// never leaves a series that no command can read.
fn check(series: &Series, what: &Path) -> Result<(), StoreError> {
    let bad = |msg: String| StoreError::Malformed {
        path: what.join(MANIFEST),
        msg: format!("{msg}; nothing was written"),
    };
    validate(&series.manifest).map_err(bad)?;
    if series.manifest.patches.len() != series.patches.len() {
        return Err(bad(format!(
            "{} patch entries for {} patches",
            series.manifest.patches.len(),
            series.patches.len()
        )));
    }
    for (i, e) in series.manifest.patches.iter().enumerate() {
        mail::parse_patch(&series.stored_patch(i)).map_err(|source| StoreError::Patch {
            path: what.join(PATCHES).join(&e.file),
            source,
        })?;
    }
    for name in series.replies.keys().chain(series.bench.keys()) {
        FileName::new(name).map_err(bad)?;
    }
    Ok(())
}

/// Write `series` to `dir` as one transaction: build the new directory beside
/// it, then swap it in with one atomic exchange. The caller holds the
/// series lock ([`lock`]).
pub fn save(dir: &Path, series: &Series) -> Result<(), StoreError> {
    check(series, dir)?;
    for kept in &series.to_keep {
        check(kept, &kept_dir(dir, kept.manifest.version))?;
    }
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
    for kept in &series.to_keep {
        let kdir = kept_dir(stage.path(), kept.manifest.version);
        // A version kept already is frozen: never written again.
        if !kdir.exists() {
            fs::create_dir_all(&kdir).map_err(io(&kdir))?;
            write_tree(&kdir, kept)?;
        }
    }
    crate::testing::crash_point("staged");
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

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut f = fs::File::create(path).map_err(io(path))?;
    f.write_all(bytes).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

fn write_tree(root: &Path, s: &Series) -> Result<(), StoreError> {
    write_file(&root.join(MANIFEST), manifest_text(&s.manifest)?.as_bytes())?;
    write_file(&root.join(COVER), s.cover.as_bytes())?;
    let pdir = root.join(PATCHES);
    fs::create_dir_all(&pdir).map_err(io(&pdir))?;
    for (i, entry) in s.manifest.patches.iter().enumerate() {
        write_file(&pdir.join(&entry.file), &s.stored_patch(i))?;
    }
    for (sub, files) in [(REPLIES, &s.replies), (DEPENDS, &s.prerequisites)] {
        if !files.is_empty() {
            let fdir = root.join(sub);
            fs::create_dir_all(&fdir).map_err(io(&fdir))?;
            for (name, bytes) in files {
                write_file(&fdir.join(name), bytes)?;
            }
        }
    }
    if !s.review.is_empty() {
        write_file(&root.join(REVIEW), s.review.as_bytes())?;
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

impl crate::error::Advice for StoreError {
    fn hint(&self) -> Option<String> {
        crate::error::says(match self {
            StoreError::Missing(p) if p.file_name().is_some_and(|n| n == "series") => {
                "create one with `series init --base BASE` in a kernel tree, or pass --series DIR"
            }
            StoreError::Missing(_) => {
                "restore the file (git checkout -- series/) or run `series init` again"
            }
            StoreError::Malformed { .. } => {
                "fix the file by hand (docs/FORMAT.md describes it) or restore it from git"
            }
            StoreError::Newer { .. } => {
                "this file was written by a newer series; upgrade series to read it"
            }
            StoreError::Patch { .. } => {
                "the file must be a mail as `git format-patch` writes it; restore it from git or re-import with `series init`"
            }
            StoreError::Exists(_) => "remove it first, or pass --series DIR to make another",
            StoreError::Io { .. } => "check the path and its permissions",
            StoreError::Locked { .. } => {
                "let it finish and run this again, or raise SERIES_LOCK_WAIT (seconds)"
            }
        })
    }
}
