//! Where mail comes from: an mbox (git format-patch's, or mboxrd as
//! public-inbox serves it), a maildir or a folder of `.eml` files, split
//! into raw messages; [`crate::mail::received`] reads each one.

use std::fs;
use std::path::{Path, PathBuf};

use crate::mail::mbox::{is_from_line, normalize_newlines};

/// Why a mail source could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: no mail in it (an mbox starts with a `From ` line; a maildir has cur/ or new/; a folder holds .eml files)", .0.display())]
    Empty(PathBuf),
    #[error("{}: {size} bytes, more than the {limit} bytes series reads from one source", .path.display())]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
}

/// The most bytes read from one mail source (an mbox, or a file of a
/// folder): far beyond any thread, short of what would exhaust memory.
pub const MAX_SOURCE: u64 = 256 << 20;
/// The largest message kept: a mail larger is left out, named.
pub const MAX_MESSAGE: usize = 32 << 20;

/// The messages of a source, raw, in order: an mbox file is split on its
/// `From ` lines; a maildir's `cur/` and `new/` and a folder's `.eml` (and
/// `.patch`) files are read in name order; any other file is one message.
pub fn read_source(path: &Path) -> Result<Vec<Vec<u8>>, MailboxError> {
    let io = |source| MailboxError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = fs::metadata(path).map_err(io)?;
    let read = |p: &Path| -> Result<Vec<u8>, MailboxError> {
        let size = fs::metadata(p)
            .map_err(|source| MailboxError::Io {
                path: p.to_path_buf(),
                source,
            })?
            .len();
        if size > MAX_SOURCE {
            return Err(MailboxError::TooLarge {
                path: p.to_path_buf(),
                size,
                limit: MAX_SOURCE,
            });
        }
        fs::read(p).map_err(|source| MailboxError::Io {
            path: p.to_path_buf(),
            source,
        })
    };
    let mails = if meta.is_dir() {
        let maildir = path.join("cur").is_dir() || path.join("new").is_dir();
        let folders: Vec<PathBuf> = if maildir {
            vec![path.join("cur"), path.join("new")]
        } else {
            vec![path.to_path_buf()]
        };
        let mut names = Vec::new();
        for f in folders.iter().filter(|f| f.is_dir()) {
            for e in fs::read_dir(f).map_err(io)? {
                let p = e.map_err(io)?.path();
                let wanted = maildir
                    || p.extension()
                        .is_some_and(|x| x == "eml" || x == "patch" || x == "mbox");
                if wanted && p.is_file() {
                    names.push(p);
                }
            }
        }
        names.sort();
        let mut out = Vec::new();
        for p in names {
            out.extend(split_mbox(&read(&p)?));
        }
        out
    } else {
        split_mbox(&read(path)?)
    };
    if mails.is_empty() {
        return Err(MailboxError::Empty(path.to_path_buf()));
    }
    Ok(mails)
}

/// Split an mbox into messages. The separator line is kept, since git
/// format-patch's names the commit. An mboxrd (`From mboxrd@z ...`, as
/// public-inbox writes) has its `>From ` quoting undone; a file that does
/// not start with a separator is one message.
pub fn split_mbox(bytes: &[u8]) -> Vec<Vec<u8>> {
    let bytes = normalize_newlines(bytes);
    if !is_from_line(bytes.split(|&b| b == b'\n').next().unwrap_or(b"")) {
        return if bytes.iter().all(u8::is_ascii_whitespace) {
            Vec::new()
        } else {
            vec![bytes]
        };
    }
    let rd = bytes.starts_with(b"From mboxrd@z ");
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut prev_blank = true;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let bare = line.strip_suffix(b"\n").unwrap_or(line);
        if prev_blank && is_from_line(bare) {
            if let Some(last) = out.last_mut() {
                // The blank line before a separator belongs to the mbox.
                if last.ends_with(b"\n\n") {
                    last.pop();
                }
            }
            out.push(line.to_vec());
            prev_blank = false;
            continue;
        }
        prev_blank = bare.is_empty();
        let Some(cur) = out.last_mut() else { continue };
        let quoted = bare.iter().take_while(|&&b| b == b'>').count();
        if rd && quoted > 0 && bare[quoted..].starts_with(b"From ") {
            cur.extend_from_slice(&line[1..]);
        } else {
            cur.extend_from_slice(line);
        }
    }
    out
}

impl crate::error::Advice for MailboxError {
    fn hint(&self) -> Option<String> {
        crate::error::says("give an mbox, a maildir or a folder of .eml files")
    }
}

/// Messages as an mboxrd: each after a `From mboxrd@z` line, `From `
/// lines in it quoted with `>`.
pub fn mboxrd(messages: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in messages {
        let body = match m.strip_prefix(b"From ") {
            Some(_) => m.splitn(2, |&b| b == b'\n').nth(1).unwrap_or(b""),
            None => &m[..],
        };
        out.extend_from_slice(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n");
        for line in body.split_inclusive(|&b| b == b'\n') {
            let quoted = line.iter().take_while(|&&b| b == b'>').count();
            if line[quoted..].starts_with(b"From ") {
                out.push(b'>');
            }
            out.extend_from_slice(line);
        }
        if !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mboxrd_quoting_is_undone_and_separators_split() {
        let mbox = b"From mboxrd@z Thu Jan  1 00:00:00 1970\nSubject: a\n\n>From here\n>>From there\n\nFrom mboxrd@z Thu Jan  1 00:00:00 1970\nSubject: b\n\nbody\n";
        let m = split_mbox(mbox);
        assert_eq!(m.len(), 2);
        assert!(
            m[0].ends_with(b"\nFrom here\n>From there\n"),
            "{:?}",
            String::from_utf8_lossy(&m[0])
        );
        let plain = b"From 0123456789012345678901234567890123456789 Mon Sep 17 00:00:00 2001\nSubject: a\n\n>From kept\n";
        assert!(split_mbox(plain)[0].ends_with(b">From kept\n"));
    }
}
