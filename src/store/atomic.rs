//! Saving `series/` as one step, and the lock that keeps two writers apart:
//! the new folder is staged beside the old, exchanged with it atomically,
//! and the parent fsynced; files the store does not manage are carried over
//! as what they are.

use std::fs;
use std::path::{Path, PathBuf};

use super::{io, StoreError, BENCH, COVER, DEPENDS, MANIFEST, PATCHES, REPLIES, REVIEW, VERSIONS};

pub(super) fn parent_of(dir: &Path) -> PathBuf {
    match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

pub(super) fn old_path(dir: &Path) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "series".into());
    parent_of(dir).join(format!(".{name}.old"))
}

/// Move `staged` to `dir`. When `dir` exists the two are exchanged in one
/// step (`renameat2(RENAME_EXCHANGE)`), then the old copy, now at the staged
/// path, is removed. Where the file system cannot exchange, `dir` first
/// moves aside to a fixed name; [`load`] reads that copy and [`recover`]
/// puts it back if the process dies in between.
pub(super) fn swap_in(dir: &Path, staged: &Path) -> Result<(), StoreError> {
    let parent = parent_of(dir);
    if dir.exists() {
        match exchange(staged, dir) {
            Ok(()) => {
                crate::testing::crash_point("swapped");
                sync_dir(&parent)?;
                fs::remove_dir_all(staged).map_err(io(staged))?;
                return Ok(());
            }
            Err(e) if !exchange_unsupported(&e) => return Err(io(dir)(e)),
            Err(_) => {}
        }
        let old = old_path(dir);
        fs::rename(dir, &old).map_err(io(dir))?;
        crate::testing::crash_point("moved-aside");
        if let Err(e) = fs::rename(staged, dir) {
            let _ = fs::rename(&old, dir);
            return Err(io(dir)(e));
        }
        crate::testing::crash_point("swapped");
        sync_dir(&parent)?;
        fs::remove_dir_all(&old).map_err(io(&old))?;
    } else {
        fs::rename(staged, dir).map_err(io(dir))?;
        sync_dir(&parent)?;
    }
    Ok(())
}

/// Exchange two paths atomically (Linux's renameat2 with RENAME_EXCHANGE).
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    if crate::testing::no_exchange() {
        // A test hook: take the path of file systems that cannot exchange.
        return Err(rustix::io::Errno::INVAL.into());
    }
    rustix::fs::renameat_with(
        rustix::fs::CWD,
        a,
        rustix::fs::CWD,
        b,
        rustix::fs::RenameFlags::EXCHANGE,
    )
    .map_err(Into::into)
}

fn exchange_unsupported(e: &std::io::Error) -> bool {
    let errno = e.raw_os_error().map(rustix::io::Errno::from_raw_os_error);
    matches!(
        errno,
        Some(rustix::io::Errno::INVAL)
            | Some(rustix::io::Errno::NOSYS)
            | Some(rustix::io::Errno::OPNOTSUPP)
    )
}

/// fsync a folder, so a rename in it survives a power cut.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(io(dir))
}

/// Finish what an interrupted save left: a `series/` moved aside with no new
/// one in place is moved back; a leftover old copy beside a new one, and
/// staging folders of saves that died, are removed. Only a writer calls
/// this, under the lock, so no other process is staging at the time.
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

/// The series lock: an advisory `flock` on the folder that holds `series/`,
/// held by every command that writes, from before it reads the series to
/// after its last save. Dropping it releases the lock.
#[derive(Debug)]
pub struct Lock {
    _dir: fs::File,
}

/// Take the series lock for `dir`, waiting up to `wait` for another writer
/// to finish; then clean up what an interrupted save left.
pub fn lock(dir: &Path, wait: std::time::Duration) -> Result<Lock, StoreError> {
    let parent = parent_of(dir);
    fs::create_dir_all(&parent).map_err(io(&parent))?;
    let f = fs::File::open(&parent).map_err(io(&parent))?;
    let start = std::time::Instant::now();
    loop {
        match rustix::fs::flock(&f, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => break,
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => {}
            Err(e) => return Err(io(&parent)(e.into())),
        }
        if start.elapsed() >= wait {
            return Err(StoreError::Locked {
                path: dir.to_path_buf(),
                waited: wait.as_secs(),
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let lock = Lock { _dir: f };
    recover(dir)?;
    Ok(lock)
}

/// Carry over files in `series/` that the store does not manage (notes, a
/// journal, other data), so a save never loses them.
pub(super) fn copy_unmanaged(from: &Path, to: &Path) -> Result<(), StoreError> {
    for e in fs::read_dir(from).map_err(io(from))? {
        let e = e.map_err(io(from))?;
        let name = e.file_name();
        let name_s = name.to_string_lossy();
        let src = e.path();
        let dst = to.join(&name);
        let managed =
            name_s == MANIFEST || name_s == COVER || name_s == PATCHES || name_s == REVIEW;
        if managed {
            continue;
        }
        let real_dir = fs::symlink_metadata(&src).is_ok_and(|m| m.is_dir());
        // The folders series writes files of one kind into: their other
        // files (plots, raw logs, notes) are kept.
        let managed_ext = [(BENCH, ".toml"), (REPLIES, ".eml"), (DEPENDS, ".mbox")]
            .into_iter()
            .find(|(sub, _)| name_s == *sub && real_dir);
        if let Some((_, ext)) = managed_ext {
            fs::create_dir_all(&dst).map_err(io(&dst))?;
            for b in fs::read_dir(&src).map_err(io(&src))? {
                let b = b.map_err(io(&src))?;
                if !b.file_name().to_string_lossy().ends_with(ext) {
                    copy_any(&b.path(), &dst.join(b.file_name()))?;
                }
            }
            continue;
        }
        if name_s == VERSIONS && real_dir {
            link_tree(&src, &dst)?;
            continue;
        }
        copy_any(&src, &dst)?;
    }
    Ok(())
}

/// Carry kept versions over: they never change, so their regular files are
/// hard-linked rather than copied (copied where links cannot be made).
fn link_tree(src: &Path, dst: &Path) -> Result<(), StoreError> {
    fs::create_dir_all(dst).map_err(io(dst))?;
    for e in fs::read_dir(src).map_err(io(src))? {
        let e = e.map_err(io(src))?;
        let (from, to) = (e.path(), dst.join(e.file_name()));
        let kind = fs::symlink_metadata(&from).map_err(io(&from))?.file_type();
        if kind.is_dir() {
            link_tree(&from, &to)?;
        } else if !(kind.is_file() && fs::hard_link(&from, &to).is_ok()) {
            copy_any(&from, &to)?;
        }
    }
    Ok(())
}

/// Copy a file, a folder or a symbolic link as what it is: a link is made
/// again as a link (never followed, so a link to `..` or to a tree is not
/// copied in), a FIFO is made again without being opened, and a socket or a
/// device is left out.
fn copy_any(src: &Path, dst: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let meta = fs::symlink_metadata(src).map_err(io(src))?;
    let kind = meta.file_type();
    if kind.is_symlink() {
        let target = fs::read_link(src).map_err(io(src))?;
        std::os::unix::fs::symlink(target, dst).map_err(io(dst))
    } else if kind.is_dir() {
        fs::create_dir_all(dst).map_err(io(dst))?;
        for e in fs::read_dir(src).map_err(io(src))? {
            let e = e.map_err(io(src))?;
            copy_any(&e.path(), &dst.join(e.file_name()))?;
        }
        Ok(())
    } else if kind.is_file() {
        fs::copy(src, dst).map(|_| ()).map_err(io(src))
    } else if kind.is_fifo() {
        // Made again, empty, with its mode: a FIFO holds no data to copy.
        let mode = rustix::fs::Mode::from_bits_truncate(meta.permissions().mode() & 0o7777);
        rustix::fs::mkfifoat(rustix::fs::CWD, dst, mode).map_err(|e| io(dst)(e.into()))
    } else {
        Ok(())
    }
}
