//! `series check`: checkpatch, native rules, series consistency, an apply
//! check on the base and an optional build at every patch. Everything is a
//! [`Finding`]; nothing here prints.

pub mod build;
pub mod checkpatch;
pub mod kerneldoc;
pub mod mail;
pub mod public;
pub mod recipients;
pub mod report;
pub mod rules;
mod series;
pub use series::{apply_check, consistency};
pub mod subsystem;
pub mod tags;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::git::{GitError, Tree};
use crate::model::{Finding, Severity, Source};
use crate::outgoing::Message;
use crate::store::Series;

/// What to run, beside the checks that always run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Arguments for checkpatch.pl beyond ours (`--strict`, `--ignore T`).
    pub checkpatch_args: Vec<String>,
    /// Time checkpatch may spend on one patch.
    pub checkpatch_timeout: Duration,
    /// checkpatch processes at once.
    pub jobs: usize,
    /// The checkpatch cache folder; None turns the cache off.
    pub cache: Option<PathBuf>,
    /// Builds to run at every patch: (profile name, or empty; command).
    pub build: Vec<(String, String)>,
    /// Run sparse too (`C=1` after each build command), when installed.
    pub sparse: bool,
    /// Where builds are kept for next time; None: nothing is kept.
    pub build_cache: Option<PathBuf>,
    /// Where builds compile: a distcc farm, when one is configured.
    pub farm: build::Farm,
    /// Time one build may take.
    pub build_timeout: Duration,
    /// A `checks/` folder with rules that add to or override the built-in ones.
    pub rules_dir: Option<PathBuf>,
    /// Check commands of b4's protocol, run on every patch.
    pub external: Vec<String>,
    /// Refs beside the remote-tracking branches that others can fetch.
    pub public_refs: Vec<String>,
    /// Now, for the rules that count time since the last version.
    pub now_secs: i64,
    /// The series' prerequisites in order: each name, and its patches
    /// when they are here (a series of this repository).
    pub prerequisites: Vec<(String, Option<Vec<crate::model::PatchMail>>)>,
}

/// Report each fault once: a native finding whose rule mirrors a
/// checkpatch type goes when checkpatch reported that type for the same
/// patch (and the same line, when both name one).
fn yield_to_checkpatch(findings: &mut Vec<Finding>, rules: &[rules::Rule]) {
    let from_checkpatch: Vec<(Option<usize>, String, Option<u32>)> = findings
        .iter()
        .filter(|f| f.source == Source::Checkpatch)
        .map(|f| (f.patch, f.rule.clone(), f.line))
        .collect();
    findings.retain(|f| {
        if f.source != Source::Native {
            return true;
        }
        let Some(mirrors) = rules.iter().find(|r| r.id == f.rule).map(|r| &r.mirrors) else {
            return true;
        };
        !from_checkpatch.iter().any(|(p, rule, line)| {
            *p == f.patch
                && mirrors.contains(rule)
                && (line.is_none() || f.line.is_none() || *line == f.line)
        })
    });
}

/// Why the checks could not run (findings are not errors).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Rules(#[from] rules::RuleError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Build(#[from] build::BuildError),
    #[error(transparent)]
    Checkpatch(#[from] checkpatch::CheckpatchError),
}

/// Progress of long checks: (what, done, of).
pub type ProgressFn<'a> = &'a (dyn Fn(&str, usize, usize) + Sync);

/// Run every check on the messages exactly as they will be mailed (cover
/// first). `prose` is the rendered cover prose, or why it failed to render.
pub fn run(
    series: &Series,
    messages: &[Message],
    prose: Result<&str, String>,
    tree_path: Option<&Path>,
    opts: &Options,
    progress: ProgressFn<'_>,
) -> Result<Report, CheckError> {
    let rules = rules::load(opts.rules_dir.as_deref())?;
    let facts = subsystem::facts(series, messages, opts.now_secs);
    let rules: Vec<rules::Rule> = rules
        .into_iter()
        .filter(|r| subsystem::applies(r, &facts))
        .collect();
    let mut findings = native(series, messages, prose.as_deref().unwrap_or(""), &rules);
    for r in &rules {
        findings.extend(subsystem::run(r, &facts));
    }
    let stored: Vec<(String, Vec<u8>)> = series
        .manifest
        .patches
        .iter()
        .zip(&series.on_disk)
        .map(|(e, b)| (e.file.clone(), b.clone()))
        .collect();
    findings.extend(consistency(series, &stored, prose));

    let tree = tree_path.map(Tree::open).transpose()?;
    let public_base = match &tree {
        Some(t) => {
            let (f, note) = public::check(t, series, &opts.public_refs);
            findings.extend(f);
            note
        }
        None => "not checked: no kernel tree".to_string(),
    };
    let (apply_note, build_note, kernel_doc) = match &tree {
        Some(t) => on_tree(t, series, opts, progress, &mut findings)?,
        None => (
            Some("skipped: no kernel tree".to_string()),
            (!opts.build.is_empty()).then(|| "skipped: no kernel tree".to_string()),
            "skipped: no kernel tree".to_string(),
        ),
    };
    let checkpatch = run_checkpatch(messages, tree_path, opts, progress, &mut findings)?;
    let mut external = Vec::new();
    let patches: Vec<(usize, &[u8])> = messages
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, m)| (i, m.bytes.as_slice()))
        .collect();
    let cwd = tree_path.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    for cmd in &opts.external {
        progress("external", 0, patches.len());
        let found = mail::external(cmd, &patches, &cwd, opts.checkpatch_timeout, opts.jobs);
        let (e, w) = (
            found
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .count(),
            found
                .iter()
                .filter(|f| f.severity == Severity::Warning)
                .count(),
        );
        external.push(format!(
            "`{cmd}` ran on {}: {}, {}",
            crate::term::plural(patches.len(), "patch", "patches"),
            crate::term::plural(e, "failure", "failures"),
            crate::term::plural(w, "warning", "warnings")
        ));
        findings.extend(found);
    }
    yield_to_checkpatch(&mut findings, &rules);
    findings.sort_by(|a, b| {
        (
            a.patch.map_or(usize::MAX, |p| p),
            a.severity,
            a.source,
            &a.file,
            a.line,
        )
            .cmp(&(
                b.patch.map_or(usize::MAX, |p| p),
                b.severity,
                b.source,
                &b.file,
                b.line,
            ))
    });
    Ok(Report {
        signatures: Vec::new(),
        findings,
        checkpatch,
        apply: apply_note,
        build: build_note,
        kernel_doc,
        recipients: "skipped: no kernel tree".into(),
        external,
        public_base,
    })
}

/// The checks that need the tree: the apply check, the `Fixes:` tags,
/// kernel-doc, then the build at every patch when asked. Returns the
/// notes of the apply check, the build and kernel-doc.
fn on_tree(
    t: &Tree,
    series: &Series,
    opts: &Options,
    progress: ProgressFn<'_>,
    findings: &mut Vec<Finding>,
) -> Result<(Option<String>, Option<String>, String), CheckError> {
    let (f, apply_note) = apply_check(t, series, &opts.prerequisites);
    findings.extend(f);
    findings.extend(tags::fixes(t, series));
    let (f, kernel_doc) = kerneldoc::run(t, series, opts.checkpatch_timeout);
    findings.extend(f);
    if opts.build.is_empty() {
        return Ok((apply_note, None, kernel_doc));
    }
    // The builds start from the base with the prerequisites applied.
    let first: Option<Vec<crate::apply::Prerequisite>> = opts
        .prerequisites
        .iter()
        .map(|(name, p)| p.clone().map(|p| (name.clone(), p)))
        .collect();
    let Some(first) = first else {
        let note = "skipped: a prerequisite's patches are not here (see the apply line)";
        return Ok((apply_note, Some(note.into()), kernel_doc));
    };
    let build_note = match crate::apply::apply_stacked(t, series, &first, None, &mut |_, _, _| {}) {
        Ok(s) => {
            let below = s.prerequisites.last().copied();
            builds(t, series, below, &s.commits, opts, progress, findings)?
        }
        Err(e) => format!("skipped: {e}"),
    };
    Ok((apply_note, Some(build_note), kernel_doc))
}

/// Every build asked for, each profile in a scratch worktree of its own
/// and all at once; their findings (a named profile's marked with its
/// name) and their notes.
fn builds(
    t: &Tree,
    series: &Series,
    below: Option<crate::git::Id>,
    commits: &[crate::git::Id],
    opts: &Options,
    progress: ProgressFn<'_>,
    findings: &mut Vec<Finding>,
) -> Result<String, CheckError> {
    let point = |commit: crate::git::Id| -> Result<build::Point, CheckError> {
        Ok(build::Point {
            commit,
            tree: t.tree_id(commit)?,
        })
    };
    // The base, or the last prerequisite's commit on it.
    let base = match below {
        Some(c) => c,
        None => series.manifest.base.commit.parse().map_err(|_| {
            CheckError::Build(build::BuildError::Spawn(std::io::Error::other(
                "the base is not a commit id",
            )))
        })?,
    };
    let base = point(base)?;
    let points = commits
        .iter()
        .map(|&c| point(c))
        .collect::<Result<Vec<_>, _>>()?;
    let mut notes = Vec::new();
    let sparse = opts.sparse && crate::process::on_path("sparse");
    if opts.sparse && !sparse {
        notes.push("sparse: skipped, not installed (Debian: apt install sparse)".to_string());
    }
    let commands: Vec<String> = opts
        .build
        .iter()
        .map(|(_, cmd)| match sparse {
            true => format!("{cmd} C=1"),
            false => cmd.clone(),
        })
        .collect();
    let changed = changed_files(series);
    let path = t.path();
    // The builds run at once share --jobs (else the CPUs) between them.
    let farm = build::Farm {
        jobs: Some((opts.jobs / commands.len().max(1)).max(1)),
        ..opts.farm.clone()
    };
    let farm = &farm;
    let results: Vec<Result<build::Built, build::BuildError>> = std::thread::scope(|s| {
        let running: Vec<_> = commands
            .iter()
            .map(|cmd| {
                let (changed, points) = (&changed, &points);
                s.spawn(move || {
                    build::run(
                        path,
                        base,
                        points,
                        changed,
                        &build::Job {
                            command: cmd,
                            limit: opts.build_timeout,
                            farm,
                            cache: opts.build_cache.as_deref(),
                        },
                        &mut |i, n| progress("build", i, n),
                    )
                })
            })
            .collect();
        running
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(build::BuildError::Spawn(std::io::Error::other(
                        "a build thread stopped",
                    )))
                })
            })
            .collect()
    });
    for (((name, _), cmd), result) in opts.build.iter().zip(&commands).zip(results) {
        let mut built = result?;
        let note = build_note(cmd, &built);
        if name.is_empty() {
            notes.push(note);
        } else {
            for f in &mut built.findings {
                f.message = format!("[{name}] {}", f.message);
            }
            notes.push(format!("{name}: {note}"));
        }
        findings.extend(built.findings);
    }
    Ok(notes.join("\n"))
}

/// The files each patch changes, by their new paths.
fn changed_files(series: &Series) -> Vec<Vec<String>> {
    series
        .patches
        .iter()
        .map(|p| {
            crate::diff::Patch::parse(&p.diff)
                .map(|d| d.files.iter().map(|f| f.path()).collect())
                .unwrap_or_default()
        })
        .collect()
}

/// What the builds found, in words.
fn build_note(cmd: &str, built: &build::Built) -> String {
    if let Some(why) = &built.stopped {
        return why.clone();
    }
    let broke = built.findings.iter().any(|f| f.severity == Severity::Error);
    let new = built
        .findings
        .iter()
        .filter(|f| f.rule == "build-warning")
        .count();
    let mut note = if broke {
        format!("`{cmd}` failed")
    } else {
        format!(
            "`{cmd}` passed at the base and every patch, {new} new warning{}",
            if new == 1 { "" } else { "s" }
        )
    };
    if built.cached > 0 {
        note.push_str(&format!(
            " ({} from the cache)",
            crate::term::plural(built.cached, "patch's build", "patches' builds")
        ));
    }
    for f in &built.fixed {
        note.push_str(&format!("; {f}"));
    }
    note
}

/// checkpatch.pl on every patch mail (the cover is not a patch).
fn run_checkpatch(
    messages: &[Message],
    tree_path: Option<&Path>,
    opts: &Options,
    progress: ProgressFn<'_>,
    findings: &mut Vec<Finding>,
) -> Result<CheckpatchStatus, CheckError> {
    let tp = match tree_path {
        Some(tp) if tp.join("scripts/checkpatch.pl").is_file() => tp,
        Some(tp) => {
            return Ok(CheckpatchStatus::Skipped {
                reason: format!("{} has no scripts/checkpatch.pl", tp.display()),
            })
        }
        None => {
            return Ok(CheckpatchStatus::Skipped {
                reason: "no kernel tree (pass --tree or set SERIES_TREE)".into(),
            })
        }
    };
    let cp = checkpatch::Options {
        tree: tp.to_path_buf(),
        args: opts.checkpatch_args.clone(),
        timeout: opts.checkpatch_timeout,
        jobs: opts.jobs,
        cache: opts.cache.clone(),
    };
    let inputs: Vec<checkpatch::Input> = messages
        .iter()
        .skip(1)
        .enumerate()
        .map(|(i, m)| checkpatch::Input {
            patch: i + 1,
            bytes: &m.bytes,
        })
        .collect();
    let outcomes = checkpatch::run(&cp, &inputs, &|done, n| progress("checkpatch", done, n))?;
    let cached = outcomes.iter().filter(|o| o.cached).count();
    for o in outcomes {
        findings.extend(o.findings);
    }
    Ok(CheckpatchStatus::Ran {
        checked: inputs.len(),
        cached,
    })
}

/// What checkpatch did.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum CheckpatchStatus {
    Ran { checked: usize, cached: usize },
    Skipped { reason: String },
}

/// Everything a check found.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub checkpatch: CheckpatchStatus,
    /// Each patatt signature of the mails checked: who signed, and how it
    /// checked.
    pub signatures: Vec<String>,
    pub apply: Option<String>,
    pub build: Option<String>,
    /// What kernel-doc found, in words (`3 file changes checked, 1 new
    /// warning`), or why it was skipped.
    pub kernel_doc: String,
    /// What get_maintainer.pl named that the mails lack, in words, or why
    /// it was skipped.
    pub recipients: String,
    /// Whether the base is on a public ref, in words, or why it was not
    /// checked.
    pub public_base: String,
    /// What each external check command reported, in words.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub external: Vec<String>,
}

impl Report {
    pub fn count(&self, sev: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == sev).count()
    }
}

/// Native rules over the cover letter and every patch.
pub fn native(
    series: &Series,
    messages: &[Message],
    prose: &str,
    rules: &[rules::Rule],
) -> Vec<Finding> {
    let mut out = Vec::new();
    let cover_text = format!("{}\n{}", series.manifest.subject, prose);
    for (i, msg) in messages.iter().enumerate() {
        let mail = (i > 0).then(|| &series.patches[i - 1]);
        let subject = mail
            .map(|m| m.title.as_str())
            .unwrap_or(&series.manifest.subject);
        let target = rules::Target {
            patch: i,
            mail,
            subject,
            cover: (i == 0).then_some(cover_text.as_str()),
            rendered: &msg.bytes,
        };
        for r in rules {
            // Patch-only scopes do not apply to the cover, and the cover's
            // subject is prose, not a `subsystem: ` line; the series' own
            // scopes run once, on their own.
            if matches!(
                r.scope,
                rules::Scope::Series | rules::Scope::Prefix | rules::Scope::Base
            ) {
                continue;
            }
            let cover_only = r.scope == rules::Scope::Cover;
            if (i == 0 && (r.scope != rules::Scope::Mail && !cover_only)) || (i > 0 && cover_only) {
                continue;
            }
            out.extend(rules::run(r, &target));
        }
    }
    out
}

impl crate::error::Advice for CheckError {
    fn kind(&self) -> crate::error::Kind {
        match self {
            CheckError::Git(g) => g.kind(),
            CheckError::Rules(_) => crate::error::Kind::User,
            CheckError::Build(_) | CheckError::Checkpatch(_) => crate::error::Kind::Tool,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            CheckError::Git(g) => g.hint(),
            CheckError::Rules(_) => {
                crate::error::says("fix the rule file; docs/FORMAT.md describes checks/*.toml")
            }
            _ => None,
        }
    }
}
