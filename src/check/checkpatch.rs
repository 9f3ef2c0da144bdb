//! Running the tree's `scripts/checkpatch.pl` on mails, in parallel, with a
//! time limit per patch and a cache keyed by the script's and the mail's
//! content, and parsing its report into findings.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::model::{Finding, Severity, Source};
use crate::process::{Run, RunError};

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
    crate::git::digest(&all)
}

/// A key for the cache: the setup digest and the mail.
fn cache_key(setup: &str, bytes: &[u8]) -> String {
    let mut all = setup.as_bytes().to_vec();
    all.push(0);
    all.extend(stable_part(bytes));
    crate::git::digest(&all)
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

/// The start of checkpatch's command line: perl with stdout flushed after
/// every write, so each file's report arrives when that file is done and a
/// quiet pipe means the current patch is still being checked.
fn perl(opts: &Options) -> Run {
    let script = script(&opts.tree);
    let script = std::fs::canonicalize(&script).unwrap_or(script);
    Run::new("perl")
        .args([
            "-e",
            "$| = 1; $0 = shift @ARGV; my $ok = do $0; die $@ if $@; die \"$0: $!\\n\" unless defined $ok; exit 0;",
        ])
        .arg(script)
        .args(["--show-types", "--no-color"])
        .args(&opts.args)
        .cwd(&opts.tree)
}

/// Lines perl prints on its own, not about the patch: a missing locale.
fn is_perl_noise(line: &str) -> bool {
    let t = line.trim();
    t.is_empty()
        || t.starts_with("perl: warning:")
        || t.starts_with("LANGUAGE =")
        || t.starts_with("LC_ALL =")
        || t.starts_with("LC_")
        || t.starts_with("LANG =")
        || t.starts_with("are supported and installed")
}

fn stderr_of(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter(|l| !is_perl_noise(l))
        .collect::<Vec<_>>()
        .join("\n")
}

fn failure(patch: usize, rule: &str, message: String) -> Finding {
    Finding {
        patch: Some(patch),
        file: None,
        line: None,
        rule: rule.into(),
        severity: Severity::Error,
        message,
        source: Source::Checkpatch,
    }
}

fn timed_out(opts: &Options, patch: usize) -> Finding {
    failure(
        patch,
        "CHECKPATCH_TIMEOUT",
        format!(
            "checkpatch.pl did not finish within {}s on this patch; it was stopped (raise --checkpatch-timeout)",
            opts.timeout.as_secs()
        ),
    )
}

/// The reports of the files checkpatch finished, in order: each ends with a
/// line that starts with the file's path and " has " (its summary).
fn split_reports(text: &str, paths: &[PathBuf]) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    for path in paths {
        let marker = format!("\n{} has ", path.display());
        let at = rest
            .find(&marker)
            .map(|a| (a, a + marker.len()))
            .or_else(|| {
                rest.starts_with(&marker[1..])
                    .then_some((0, marker.len() - 1))
            });
        let Some((at, after)) = at else {
            break;
        };
        out.push(rest[..at].to_string());
        rest = &rest[after..];
        // Skip the rest of the summary line.
        rest = rest.split_once('\n').map_or("", |(_, r)| r);
    }
    out
}

/// What checking a run of mails gave: the findings of each mail checked,
/// in order; fewer than the mails when a time-out cut the run short (the
/// next mail is the one that ran out of time).
struct Batch {
    findings: Vec<Vec<Finding>>,
    stopped: bool,
    stderr: String,
    failed: bool,
}

/// Run one checkpatch process on several mails (it takes many files and
/// reports each in turn), saving perl's start-up per mail. The time limit
/// holds per mail: perl must finish the next file within it.
fn run_batch(opts: &Options, batch: &[&Input<'_>]) -> Result<Batch, CheckpatchError> {
    let dir = tempfile::tempdir().map_err(CheckpatchError::Perl)?;
    let mut paths = Vec::with_capacity(batch.len());
    for (k, input) in batch.iter().enumerate() {
        let p = dir.path().join(format!("{k:04}.patch"));
        std::fs::write(&p, input.bytes).map_err(CheckpatchError::Perl)?;
        paths.push(p);
    }
    let run = perl(opts)
        .args(&paths)
        .idle(opts.timeout)
        .limit(opts.timeout * batch.len() as u32 + Duration::from_secs(5));
    let (stdout, stderr, stopped, failed) = match run.output() {
        Ok(f) => (f.stdout, f.stderr, false, !f.status.success()),
        Err(RunError::TimedOut { stdout, stderr, .. }) => (stdout, stderr, true, true),
        Err(RunError::Spawn { source, .. }) => return Err(CheckpatchError::Perl(source)),
        Err(e) => return Err(CheckpatchError::Perl(std::io::Error::other(e.to_string()))),
    };
    let text = String::from_utf8_lossy(&stdout);
    let reports = split_reports(&text, &paths);
    Ok(Batch {
        findings: batch
            .iter()
            .zip(&reports)
            .map(|(input, r)| parse_report(input.patch, r))
            .collect(),
        stopped,
        stderr: stderr_of(&stderr),
        failed,
    })
}

/// Check `members` (indexes into `inputs`), batching them, and return each
/// one's findings. A batch that perl leaves unfinished (time-out, death) is
/// continued after the mail it stopped at; a batch with output on stderr,
/// or that failed with nothing to report, is rechecked a mail at a time so
/// that the failure names the patch it belongs to.
fn check_members(
    opts: &Options,
    inputs: &[Input<'_>],
    members: &[usize],
) -> Result<Vec<(usize, Vec<Finding>)>, CheckpatchError> {
    let mut out = Vec::with_capacity(members.len());
    let mut rest = members;
    while !rest.is_empty() {
        let batch: Vec<&Input<'_>> = rest.iter().map(|&i| &inputs[i]).collect();
        let b = run_batch(opts, &batch)?;
        let done = b.findings.len();
        let reported: usize = b.findings.iter().map(Vec::len).sum();
        let suspect = !b.stderr.is_empty() || (b.failed && !b.stopped && reported == 0);
        if suspect && rest.len() > 1 {
            for &i in rest {
                out.extend(check_members(opts, inputs, &[i])?);
            }
            return Ok(out);
        }
        for (&i, f) in rest.iter().zip(b.findings) {
            out.push((i, f));
        }
        if suspect {
            // One mail, and perl said something or died: that is the finding.
            let i = rest[0];
            let why = if b.stderr.is_empty() {
                "it exited with an error and reported nothing".to_string()
            } else {
                b.stderr.clone()
            };
            let f = failure(
                inputs[i].patch,
                "CHECKPATCH_FAILED",
                format!("checkpatch.pl failed on this patch: {why}"),
            );
            match out.last_mut() {
                Some((j, v)) if *j == i => v.push(f),
                _ => out.push((i, vec![f])),
            }
            return Ok(out);
        }
        if done == rest.len() {
            break;
        }
        // The mail at `done` ran out of time (or perl stopped there).
        let i = rest[done];
        out.push((
            i,
            vec![if b.stopped {
                timed_out(opts, inputs[i].patch)
            } else {
                failure(
                    inputs[i].patch,
                    "CHECKPATCH_FAILED",
                    "checkpatch.pl stopped without reporting on this patch".into(),
                )
            }],
        ));
        rest = &rest[done + 1..];
    }
    Ok(out)
}

/// A cached result for the mail whose key is `key`, as patch `patch`.
fn from_cache(opts: &Options, patch: usize, key: &str) -> Option<Outcome> {
    let cached = opts
        .cache
        .as_ref()
        .and_then(|d| std::fs::read(d.join(format!("{key}.json"))).ok())
        .and_then(|b| serde_json::from_slice::<Vec<Finding>>(&b).ok())?;
    Some(Outcome {
        patch,
        findings: cached
            .into_iter()
            .map(|mut f| {
                f.patch = Some(patch);
                f
            })
            .collect(),
        cached: true,
    })
}

/// Keep a result for next time, written atomically; a time-out or a
/// failure of checkpatch itself is never kept.
fn to_cache(opts: &Options, key: &str, findings: &[Finding]) {
    let failed = findings
        .iter()
        .any(|f| f.rule == "CHECKPATCH_TIMEOUT" || f.rule == "CHECKPATCH_FAILED");
    let (Some(dir), false) = (&opts.cache, failed) else {
        return;
    };
    let _ = std::fs::create_dir_all(dir);
    if let Ok(json) = serde_json::to_vec(findings) {
        let tmp = dir.join(format!(".{key}.{}", std::process::id()));
        if std::fs::write(&tmp, json).is_ok() {
            let _ = std::fs::rename(&tmp, dir.join(format!("{key}.json")));
        }
    }
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
        .map(|(input, key)| from_cache(opts, input.patch, key))
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
                let found: Vec<Checked> = match check_members(opts, inputs, batch) {
                    Ok(per) => per.into_iter().map(|(i, f)| (i, Ok(f))).collect(),
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
        to_cache(opts, &keys[i], &findings);
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
