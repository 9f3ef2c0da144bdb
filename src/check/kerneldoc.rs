//! The tree's `scripts/kernel-doc` on every C file a patch touches, before
//! and after the patch, as the bots run it (`kernel-doc -none FILE`): only
//! the warnings a patch adds are the series'; the tree's own are not.
//!
//! The files are taken from the base and carried through the patches in
//! memory (each file's hunks applied as the apply check applies them), so
//! nothing is written to the tree.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::diff::patch::{Change, Patch};
use crate::git::Tree;
use crate::model::{Finding, Severity, Source};
use crate::process::Run;
use crate::store::Series;

/// One touched file of one patch: its text before and after.
struct Touched {
    patch: usize,
    path: String,
    before: Vec<u8>,
    after: Vec<u8>,
}

/// The C files each patch changes, with their text before and after it,
/// and the patch the walk stopped at when one did not apply (the apply
/// check says why).
fn touched(tree: &Tree, series: &Series) -> (Vec<Touched>, Option<usize>) {
    let base = &series.manifest.base.commit;
    let mut now: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, p) in series.patches.iter().enumerate() {
        let Ok(parsed) = Patch::parse(&p.diff) else {
            return (out, Some(i + 1));
        };
        for f in parsed.files.iter().filter(|f| !f.binary) {
            let path = f.path();
            let old = String::from_utf8_lossy(&f.old_path).into_owned();
            let before = match f.change {
                Change::Added => Vec::new(),
                _ => match now.get(&old) {
                    Some(t) => t.clone(),
                    None => tree.file_at(base, &old).unwrap_or_default(),
                },
            };
            if f.change == Change::Deleted {
                now.remove(&old);
                continue;
            }
            let Some(after) = crate::git::apply_file(&before, f) else {
                return (out, Some(i + 1));
            };
            now.insert(path.clone(), after.clone());
            if path.ends_with(".c") || path.ends_with(".h") {
                out.push(Touched {
                    patch: i + 1,
                    path,
                    before,
                    after,
                });
            }
        }
    }
    (out, None)
}

/// kernel-doc's warnings for `text` as the file `path`: (line, message),
/// from a copy in `dir` so that the names it prints are the tree's.
fn warnings(
    script: &Path,
    dir: &Path,
    path: &str,
    text: &[u8],
    limit: Duration,
) -> Result<Vec<(u32, String)>, String> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let file = dir.join(path);
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    std::fs::write(&file, text).map_err(|e| e.to_string())?;
    let done = Run::new("perl")
        .arg(script)
        .args(["-none", path])
        .cwd(dir)
        .limit(limit)
        .output()
        .map_err(|e| e.to_string())?;
    let prefix = format!("{path}:");
    let mut out = Vec::new();
    for line in done.stderr_text().lines() {
        let Some(rest) = line.strip_prefix(&prefix) else {
            continue;
        };
        let Some((nr, msg)) = rest.split_once(": ") else {
            continue;
        };
        if let (Ok(nr), Some(msg)) = (nr.trim().parse::<u32>(), msg.strip_prefix("warning: ")) {
            out.push((nr, msg.to_string()));
        }
    }
    Ok(out)
}

/// The warnings each patch adds, as findings, and what was run in words.
pub fn run(tree: &Tree, series: &Series, limit: Duration) -> (Vec<Finding>, String) {
    let script = tree.path().join("scripts/kernel-doc");
    if !script.is_file() {
        return (
            Vec::new(),
            "skipped: the tree has no scripts/kernel-doc".into(),
        );
    }
    let base = &series.manifest.base;
    if !tree.has_commit(&base.commit) {
        return (
            Vec::new(),
            format!("skipped: the tree has no base commit {}", base.commit),
        );
    }
    let (files, stopped) = touched(tree, series);
    let stopped = stopped
        .map(|n| format!(" (stopped at patch {n}, which does not apply)"))
        .unwrap_or_default();
    if files.is_empty() {
        return (Vec::new(), format!("no C file changed{stopped}"));
    }
    let Ok(scratch) = tempfile::Builder::new()
        .prefix("series-kernel-doc.")
        .tempdir()
    else {
        return (Vec::new(), "skipped: no temporary folder".into());
    };
    let mut out = Vec::new();
    for (k, t) in files.iter().enumerate() {
        let run = |side: &str, text: &[u8]| {
            let dir = scratch.path().join(format!("{k}-{side}"));
            warnings(&script, &dir, &t.path, text, limit)
        };
        let (before, after) = match (run("a", &t.before), run("b", &t.after)) {
            (Ok(b), Ok(a)) => (b, a),
            (Err(e), _) | (_, Err(e)) => {
                return (out, format!("failed on {}: {e}", t.path));
            }
        };
        // Warnings are matched by their text, line numbers aside: a
        // warning the file had before is not the patch's, wherever the
        // patch moved it; one text twice counts twice.
        let mut had: Vec<&String> = before.iter().map(|(_, m)| m).collect();
        for (line, msg) in &after {
            if let Some(i) = had.iter().position(|m| *m == msg) {
                had.remove(i);
                continue;
            }
            out.push(Finding {
                patch: Some(t.patch),
                file: Some(t.path.clone()),
                line: Some(*line),
                rule: "kernel-doc".into(),
                severity: Severity::Warning,
                message: msg.clone(),
                source: Source::Native,
            });
        }
    }
    let n = files.len();
    let note = format!(
        "{} checked, {} new warning{}{stopped}",
        crate::term::plural(n, "file change", "file changes"),
        out.len(),
        if out.len() == 1 { "" } else { "s" }
    );
    (out, note)
}
