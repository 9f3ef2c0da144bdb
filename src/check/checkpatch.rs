//! Running the tree's `scripts/checkpatch.pl` on mails, in parallel, with a
//! time limit per patch and a cache keyed by the script's and the mail's
//! content, and parsing its report into findings.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::model::{Finding, Severity, Source};

/// How to run checkpatch.
#[derive(Clone, Debug)]
pub struct Options {
    /// The kernel tree; checkpatch runs from its top.
    pub tree: PathBuf,
    /// Extra arguments (`--strict`, `--ignore TYPE`, ...).
    pub args: Vec<String>,
    /// Time limit for one patch.
    pub timeout: Duration,
    /// Processes at once.
    pub jobs: usize,
    /// Where cached results live; None disables the cache.
    pub cache: Option<PathBuf>,
}

/// Why checkpatch could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum CheckpatchError {
    #[error("{} has no scripts/checkpatch.pl", .0.display())]
    Missing(PathBuf),
    #[error("cannot run perl: {0}")]
    Perl(std::io::Error),
}

/// One mail to check: its patch number and bytes.
pub struct Input<'a> {
    pub patch: usize,
    pub bytes: &'a [u8],
}

/// What happened to one mail.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub patch: usize,
    pub findings: Vec<Finding>,
    pub cached: bool,
}

fn script(tree: &Path) -> PathBuf {
    tree.join("scripts/checkpatch.pl")
}

/// The mail without the headers that change on every rendering and that
/// checkpatch does not read: Message-ID, In-Reply-To and References.
fn stable_part(bytes: &[u8]) -> Vec<u8> {
    let head_end = bytes
        .windows(2)
        .position(|w| w == b"\n\n")
        .map_or(bytes.len(), |p| p + 1);
    let mut out = Vec::with_capacity(bytes.len());
    let mut skipping = false;
    for line in bytes[..head_end].split_inclusive(|&b| b == b'\n') {
        let continuation = line.starts_with(b"\t") || line.starts_with(b" ");
        if !continuation {
            skipping = line.starts_with(b"Message-ID:")
                || line.starts_with(b"In-Reply-To:")
                || line.starts_with(b"References:");
        }
        if !skipping {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(&bytes[head_end..]);
    out
}

/// A digest of what checkpatch's answer depends on besides the mail: the
/// script, its data files and the arguments. Read once per run.
fn setup_digest(opts: &Options) -> String {
    let mut all = Vec::new();
    for f in ["checkpatch.pl", "spelling.txt", "const_structs.checkpatch"] {
        all.extend(std::fs::read(opts.tree.join("scripts").join(f)).unwrap_or_default());
        all.push(0);
    }
    all.extend(opts.args.join("\u{1}").as_bytes());
    git2::Oid::hash_object(git2::ObjectType::Blob, &all)
        .map(|o| o.to_string())
        .unwrap_or_default()
}

/// A key for the cache: the setup digest and the mail.
fn cache_key(setup: &str, bytes: &[u8]) -> String {
    let mut all = setup.as_bytes().to_vec();
    all.push(0);
    all.extend(stable_part(bytes));
    git2::Oid::hash_object(git2::ObjectType::Blob, &all)
        .map(|o| o.to_string())
        .unwrap_or_default()
}

/// Parse checkpatch's report (`--show-types`): blocks that start with
/// `ERROR:TYPE: message`, optionally followed by `#N: FILE: path:line:`.
pub fn parse_report(patch: usize, text: &str) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for line in text.lines() {
        let (sev, rest) = if let Some(r) = line.strip_prefix("ERROR:") {
            (Severity::Error, r)
        } else if let Some(r) = line.strip_prefix("WARNING:") {
            (Severity::Warning, r)
        } else if let Some(r) = line.strip_prefix("CHECK:") {
            (Severity::Check, r)
        } else {
            if let (Some(last), Some(loc)) = (out.last_mut(), line.split_once(": FILE: ")) {
                if last.file.is_none() && loc.0.starts_with('#') {
                    let loc = loc.1.trim_end_matches(':');
                    if let Some((file, n)) = loc.rsplit_once(':') {
                        last.file = Some(file.to_string());
                        last.line = n.parse().ok();
                    }
                }
            }
            continue;
        };
        let (rule, message) = match rest.split_once(": ") {
            Some((t, m))
                if !t.is_empty()
                    && t.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') =>
            {
                (t.to_string(), m.to_string())
            }
            _ => ("CHECKPATCH".to_string(), rest.to_string()),
        };
        out.push(Finding {
            patch: Some(patch),
            file: None,
            line: None,
            rule,
            severity: sev,
            message,
            source: Source::Checkpatch,
        });
    }
    out
}

/// Wait for `child` to exit within `limit`, collecting its stdout; kill it
/// and return None when the limit passes.
fn wait_output(
    mut child: std::process::Child,
    limit: Duration,
) -> Result<Option<Vec<u8>>, CheckpatchError> {
    let mut stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = std::io::Read::read_to_end(s, &mut buf);
        }
        buf
    });
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return Ok(Some(reader.join().unwrap_or_default())),
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = reader.join();
                return Ok(None);
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(CheckpatchError::Perl(e)),
        }
    }
}

fn run_one(opts: &Options, input: &Input<'_>) -> Result<Vec<Finding>, CheckpatchError> {
    let mut child = Command::new("perl")
        .arg(script(&opts.tree))
        .args(["--show-types", "--no-summary", "--no-color"])
        .args(&opts.args)
        .arg("-")
        .current_dir(&opts.tree)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(CheckpatchError::Perl)?;
    if let Some(mut stdin) = child.stdin.take() {
        let bytes = input.bytes.to_vec();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&bytes);
        });
    }
    match wait_output(child, opts.timeout)? {
        Some(out) => Ok(parse_report(input.patch, &String::from_utf8_lossy(&out))),
        None => Ok(vec![Finding {
            patch: Some(input.patch),
            file: None,
            line: None,
            rule: "CHECKPATCH_TIMEOUT".into(),
            severity: Severity::Error,
            message: format!(
                "checkpatch.pl did not finish within {}s on this patch; it was stopped (raise --checkpatch-timeout)",
                opts.timeout.as_secs()
            ),
            source: Source::Checkpatch,
        }]),
    }
}

/// Run one checkpatch process on several mails (it takes many files and
/// reports each in turn), saving perl's start-up per mail. The report of
/// each file ends with a line that starts with its path. Returns None when
/// the batch times out or its report cannot be split, so the caller can
/// check the mails one by one.
fn run_batch(
    opts: &Options,
    batch: &[&Input<'_>],
) -> Result<Option<Vec<Vec<Finding>>>, CheckpatchError> {
    let dir = tempfile::tempdir().map_err(CheckpatchError::Perl)?;
    let mut paths = Vec::with_capacity(batch.len());
    for (k, input) in batch.iter().enumerate() {
        let p = dir.path().join(format!("{k:04}.patch"));
        std::fs::write(&p, input.bytes).map_err(CheckpatchError::Perl)?;
        paths.push(p);
    }
    let child = Command::new("perl")
        .arg(script(&opts.tree))
        .args(["--show-types", "--no-color"])
        .args(&opts.args)
        .args(&paths)
        .current_dir(&opts.tree)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(CheckpatchError::Perl)?;
    let Some(out) = wait_output(child, opts.timeout * batch.len() as u32)? else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&out).into_owned();
    let mut out = Vec::with_capacity(batch.len());
    let mut rest = text.as_str();
    for (input, path) in batch.iter().zip(&paths) {
        let marker = format!("\n{} has ", path.display());
        let Some(at) = rest
            .find(&marker)
            .or_else(|| rest.starts_with(&marker[1..]).then_some(0))
        else {
            return Ok(None);
        };
        out.push(parse_report(input.patch, &rest[..at]));
        rest = &rest[at + marker.len()..];
    }
    Ok(Some(out))
}

/// A mail's index and what checking it gave.
type Checked = (usize, Result<Vec<Finding>, CheckpatchError>);

/// Check every mail: cached results first, the rest in one batch per CPU
/// (`opts.jobs` processes), falling back to one process per mail for a
/// batch that times out. `progress` hears of each batch finished. Results
/// come back in input order.
pub fn run(
    opts: &Options,
    inputs: &[Input<'_>],
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<Outcome>, CheckpatchError> {
    if !script(&opts.tree).is_file() {
        return Err(CheckpatchError::Missing(opts.tree.clone()));
    }
    let setup = setup_digest(opts);
    let keys: Vec<String> = inputs.iter().map(|i| cache_key(&setup, i.bytes)).collect();
    let mut outcomes: Vec<Option<Outcome>> = inputs
        .iter()
        .zip(&keys)
        .map(|(input, key)| {
            let cached = opts
                .cache
                .as_ref()
                .and_then(|d| std::fs::read(d.join(format!("{key}.json"))).ok())
                .and_then(|b| serde_json::from_slice::<Vec<Finding>>(&b).ok())?;
            Some(Outcome {
                patch: input.patch,
                findings: cached
                    .into_iter()
                    .map(|mut f| {
                        f.patch = Some(input.patch);
                        f
                    })
                    .collect(),
                cached: true,
            })
        })
        .collect();
    let todo: Vec<usize> = (0..inputs.len())
        .filter(|&i| outcomes[i].is_none())
        .collect();
    let jobs = opts.jobs.max(1).min(todo.len().max(1));
    let batches: Vec<Vec<usize>> = (0..jobs)
        .map(|j| todo.iter().copied().skip(j).step_by(jobs).collect())
        .filter(|b: &Vec<usize>| !b.is_empty())
        .collect();
    let done = AtomicUsize::new(0);
    let total = todo.len();
    let results: Mutex<Vec<Checked>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for batch in &batches {
            let results = &results;
            let done = &done;
            s.spawn(move || {
                let members: Vec<&Input<'_>> = batch.iter().map(|&i| &inputs[i]).collect();
                let found: Vec<Checked> = match run_batch(opts, &members) {
                    Ok(Some(per)) => batch.iter().copied().zip(per.into_iter().map(Ok)).collect(),
                    Ok(None) => batch
                        .iter()
                        .map(|&i| (i, run_one(opts, &inputs[i])))
                        .collect(),
                    Err(e) => {
                        let msg = e.to_string();
                        batch
                            .iter()
                            .map(|&i| {
                                (
                                    i,
                                    Err(CheckpatchError::Perl(std::io::Error::other(msg.clone()))),
                                )
                            })
                            .collect()
                    }
                };
                if let Ok(mut r) = results.lock() {
                    r.extend(found);
                }
                progress(
                    done.fetch_add(batch.len(), Ordering::SeqCst) + batch.len(),
                    total,
                );
            });
        }
    });
    for (i, result) in results.into_inner().unwrap_or_default() {
        let findings = result?;
        let timed_out = findings.iter().any(|f| f.rule == "CHECKPATCH_TIMEOUT");
        if let (Some(dir), false) = (&opts.cache, timed_out) {
            let _ = std::fs::create_dir_all(dir);
            if let Ok(json) = serde_json::to_vec(&findings) {
                let tmp = dir.join(format!(".{}.{}", keys[i], std::process::id()));
                if std::fs::write(&tmp, json).is_ok() {
                    let _ = std::fs::rename(&tmp, dir.join(format!("{}.json", keys[i])));
                }
            }
        }
        outcomes[i] = Some(Outcome {
            patch: inputs[i].patch,
            findings,
            cached: false,
        });
    }
    outcomes
        .into_iter()
        .map(|o| {
            o.ok_or_else(|| {
                CheckpatchError::Perl(std::io::Error::other("a checkpatch worker stopped"))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threading_headers_do_not_change_the_key() {
        let a = b"From x\nMessage-ID: <1@x>\nReferences: <0@x>\n\t<9@x>\nFrom: A <a@x>\n\nbody\n";
        let b = b"From x\nMessage-ID: <2@x>\nReferences: <5@x>\n\t<7@x>\nFrom: A <a@x>\n\nbody\n";
        assert_eq!(stable_part(a), stable_part(b));
        assert_eq!(stable_part(a), b"From x\nFrom: A <a@x>\n\nbody\n");
    }

    #[test]
    fn parses_blocks_with_and_without_a_file() {
        let report = "ERROR:TRAILING_WHITESPACE: trailing whitespace\n#21: FILE: mm/memory.c:201:\n+x   $\n\nWARNING:FROM_SIGN_OFF_MISMATCH: From:/Signed-off-by: email name mismatch\n\n";
        let f = parse_report(3, report);
        assert_eq!(f.len(), 2);
        assert_eq!(
            (f[0].rule.as_str(), f[0].file.as_deref(), f[0].line),
            ("TRAILING_WHITESPACE", Some("mm/memory.c"), Some(201))
        );
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(
            (f[1].rule.as_str(), f[1].file.as_deref()),
            ("FROM_SIGN_OFF_MISMATCH", None)
        );
        assert_eq!(f[1].patch, Some(3));
    }
}
