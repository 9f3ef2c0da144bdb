//! `series attest`: make a patatt key, or check the patatt signatures of
//! mail files.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::{describe, given, keyrings, shown, AppError};
use crate::attest::{self, Outcome};
use crate::error::Kind;
use crate::term::{plural, Render};
use crate::workspace::Workspace;

/// A key made.
#[derive(Serialize)]
pub struct Made {
    pub name: String,
    pub written: Vec<String>,
}

/// `series attest --gen-key`: an ed25519 key as `patatt genkey` makes one,
/// in patatt's data folder, named `name` (default: today, YYYYMMDD).
pub fn gen_key(ws: &Workspace, name: Option<String>) -> Result<Made, AppError> {
    let identity = ws
        .config("patatt.identity")
        .or_else(|| ws.config("user.email"))
        .ok_or_else(|| {
            AppError::refuse("a key needs an identity")
                .hint("set user.email (or patatt.identity) in git config")
        })?;
    let name = name.unwrap_or_else(|| crate::text::iso_day(ws.now().secs, 0).replace('-', ""));
    if crate::store::FileName::new(&name).is_err() {
        return Err(AppError::usage(format!("{name:?} is not a plain key name")));
    }
    let written = attest::gen_key(&attest::data_dir(), &name, &identity)
        .map_err(|e| AppError::refuse(e.to_string()))?;
    Ok(Made {
        name,
        written: written.iter().map(|w| w.display().to_string()).collect(),
    })
}

/// The signatures of one file.
#[derive(Serialize)]
pub struct Checked {
    pub file: String,
    /// One line per signature; empty: not signed.
    pub signatures: Vec<String>,
    pub bad: usize,
}

/// The signatures of every file.
#[derive(Serialize)]
pub struct Verified {
    pub files: Vec<Checked>,
}

/// `series attest FILE...`.
pub fn verify(ws: &Workspace, files: &[PathBuf]) -> Result<Verified, AppError> {
    if files.is_empty() {
        return Err(AppError::usage(
            "name mail files to check, or pass --gen-key",
        ));
    }
    let rings = keyrings(ws);
    let mut out = Vec::new();
    for f in files {
        let path = given(ws, f);
        let file = shown(ws, &path);
        let bytes = std::fs::read(&path).map_err(AppError::file(&path))?;
        let found = attest::verify(&bytes, &rings, Duration::from_secs(60))
            .map_err(|e| AppError::refuse(format!("{file}: {e}")).kind(Kind::Tool))?;
        out.push(Checked {
            bad: found
                .iter()
                .filter(|a| !matches!(a.outcome, Outcome::Valid { .. }))
                .count(),
            signatures: found.iter().map(describe).collect(),
            file,
        });
    }
    Ok(Verified { files: out })
}

impl Verified {
    /// A signature that did not check fails the command.
    pub fn verdict(&self) -> Result<(), AppError> {
        let bad: usize = self.files.iter().map(|f| f.bad).sum();
        if bad == 0 {
            return Ok(());
        }
        Err(AppError::refuse(format!(
            "{} did not check",
            plural(bad, "signature", "signatures")
        )))
    }
}

impl Render for Made {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for w in &self.written {
            writeln!(out, "Wrote {w}")?;
        }
        writeln!(out, "Add to your git config (as patatt genkey says):")?;
        writeln!(
            out,
            "[patatt]\n    signingkey = ed25519:{0}\n    selector = {0}",
            self.name
        )
    }
}

impl Render for Verified {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for f in &self.files {
            if f.signatures.is_empty() {
                writeln!(out, "{}: not signed", f.file)?;
            }
            for s in &f.signatures {
                writeln!(out, "{}: {s}", f.file)?;
            }
        }
        Ok(())
    }
}
