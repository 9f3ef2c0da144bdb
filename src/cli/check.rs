//! `series check`: find what a maintainer would bounce, before sending.

use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use clap::Args as ClapArgs;

use super::format::{self, Addressing};
use super::progress::Progress;
use super::{CliError, Context};
use crate::check::{self, build, checkpatch, rules, CheckpatchStatus, Report};
use crate::git::Tree;
use crate::model::{Finding, Severity};
use crate::store;

/// Check the series: checkpatch, native rules, apply, numbering, build
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Print the findings as JSON
    #[arg(long)]
    pub json: bool,

    /// Pass --strict to checkpatch (CHECK-level findings)
    #[arg(long)]
    pub strict: bool,

    /// More arguments for checkpatch.pl, e.g. "--ignore LONG_LINE"
    #[arg(long, value_name = "ARGS", allow_hyphen_values = true)]
    pub checkpatch_args: Option<String>,

    /// Seconds checkpatch may spend on one patch
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub checkpatch_timeout: u64,

    /// checkpatch processes at once [default: the number of CPUs]
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,

    /// Do not read or write the checkpatch cache
    #[arg(long)]
    pub no_cache: bool,

    /// Build at every patch with this command, e.g. 'make -j2 mm/memory.o'
    #[arg(long, value_name = "COMMAND")]
    pub build: Option<String>,

    /// Fail when there are more warnings than this
    #[arg(long, value_name = "N")]
    pub max_warnings: Option<usize>,
}

/// The checkpatch cache: `$XDG_CACHE_HOME/series/checkpatch`, else under $HOME.
fn cache_dir() -> Option<std::path::PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache")))?;
    Some(base.join("series").join("checkpatch"))
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let (report, series) = gather(ctx, &args)?;
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)
            .map_err(|e| CliError::internal(e.to_string()))?;
        writeln!(out)?;
    } else {
        print(&series, &report, out)?;
    }
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    if errors > 0 {
        return Err(CliError::user(format!(
            "{errors} error{} found",
            if errors == 1 { "" } else { "s" }
        ))
        .hint("fix them, or see the list above"));
    }
    if let Some(max) = args.max_warnings.filter(|&m| warnings > m) {
        return Err(CliError::user(format!(
            "{warnings} warnings found, more than --max-warnings {max}"
        )));
    }
    Ok(())
}

/// Run every check; also used by `send` as its gate. Returns the series
/// it checked too.
pub fn gather(ctx: &Context, args: &Args) -> Result<(Report, store::Series), CliError> {
    let prepared = format::prepare(ctx, &Addressing::default(), None)?;
    let series = &prepared.series;
    let prose = format::render_prose(series, ctx).map_err(|e| e.message);
    let rules = rules::load(Some(&ctx.project().join("checks")))
        .map_err(|e| CliError::user(e.to_string()))?;
    let mut findings = check::native(
        series,
        &prepared.messages,
        prose.as_deref().unwrap_or(""),
        &rules,
    );
    let stored: Vec<(String, Vec<u8>)> = series
        .manifest
        .patches
        .iter()
        .map(|e| {
            let p = ctx.series_dir.join(store::PATCHES).join(&e.file);
            (e.file.clone(), std::fs::read(p).unwrap_or_default())
        })
        .collect();
    findings.extend(check::consistency(
        series,
        &stored,
        prose.as_deref().map_err(Clone::clone),
    ));

    let tree_path = ctx.tree_path_opt();
    let tree = tree_path.as_deref().map(Tree::open).transpose()?;
    let mut apply_note = Some("skipped: no kernel tree".to_string());
    let mut build_note = args
        .build
        .as_ref()
        .map(|_| "skipped: no kernel tree".to_string());
    if let Some(t) = &tree {
        let (f, note) = check::apply_check(t, series);
        findings.extend(f);
        apply_note = note;
        if let Some(cmd) = &args.build {
            match crate::apply::apply(t, series, None, &mut |_, _, _| {}) {
                Ok(commits) => {
                    let mut bar = Progress::new();
                    let f = build::run(t.path(), &commits, cmd, &mut |i, n| {
                        bar.step("build", i, n, cmd)
                    })
                    .map_err(|e| CliError::user(e.to_string()).with_code(super::error::TOOL))?;
                    build_note = Some(if f.is_empty() {
                        format!("`{cmd}` passed at every patch")
                    } else {
                        format!("`{cmd}` failed")
                    });
                    findings.extend(f);
                }
                Err(e) => build_note = Some(format!("skipped: {e}")),
            }
        }
    }

    let checkpatch = match &tree_path {
        Some(tp) if tp.join("scripts/checkpatch.pl").is_file() => {
            let mut extra: Vec<String> = Vec::new();
            if args.strict {
                extra.push("--strict".into());
            }
            if let Some(a) = &args.checkpatch_args {
                extra.extend(a.split_whitespace().map(str::to_string));
            }
            let opts = checkpatch::Options {
                tree: tp.clone(),
                args: extra,
                timeout: Duration::from_secs(args.checkpatch_timeout.max(1)),
                jobs: args.jobs.unwrap_or_else(|| {
                    std::thread::available_parallelism()
                        .map(|n| n.get())
                        .unwrap_or(2)
                }),
                cache: (!args.no_cache).then(cache_dir).flatten(),
            };
            let inputs: Vec<checkpatch::Input> = prepared.messages[1..]
                .iter()
                .enumerate()
                .map(|(i, m)| checkpatch::Input {
                    patch: i + 1,
                    bytes: &m.bytes,
                })
                .collect();
            let bar = Mutex::new(Progress::new());
            let outcomes = checkpatch::run(&opts, &inputs, &|done, n| {
                if let Ok(mut b) = bar.lock() {
                    b.show(&format!("checkpatch {done}/{n}"));
                }
            })
            .map_err(|e| CliError::user(e.to_string()).with_code(super::error::TOOL))?;
            let cached = outcomes.iter().filter(|o| o.cached).count();
            for o in outcomes {
                findings.extend(o.findings);
            }
            CheckpatchStatus::Ran {
                checked: inputs.len(),
                cached,
            }
        }
        Some(tp) => CheckpatchStatus::Skipped {
            reason: format!("{} has no scripts/checkpatch.pl", tp.display()),
        },
        None => CheckpatchStatus::Skipped {
            reason: "no kernel tree (pass --tree or set SERIES_TREE)".into(),
        },
    };
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
    Ok((
        Report {
            findings,
            checkpatch,
            apply: apply_note,
            build: build_note,
        },
        prepared.series,
    ))
}

fn location(f: &Finding) -> String {
    match (&f.file, f.line) {
        (Some(file), Some(l)) => format!("{file}:{l}"),
        (Some(file), None) => file.clone(),
        _ => String::new(),
    }
}

fn print(series: &store::Series, report: &Report, out: &mut dyn Write) -> Result<(), CliError> {
    let total = series.patches.len();
    let title = |p: Option<usize>| match p {
        None => "series".to_string(),
        Some(0) => format!("cover letter: {}", series.manifest.subject),
        Some(n) => format!(
            "patch {n}/{total}: {}",
            series
                .patches
                .get(n - 1)
                .map(|m| m.title.as_str())
                .unwrap_or("")
        ),
    };
    let mut current: Option<Option<usize>> = None;
    for f in &report.findings {
        if current != Some(f.patch) {
            writeln!(out, "{}", title(f.patch))?;
            current = Some(f.patch);
        }
        let loc = location(f);
        let mut lines = f.message.lines();
        let first = lines.next().unwrap_or("");
        writeln!(
            out,
            "  {:<7} {}/{}{}{}",
            f.severity.to_string(),
            f.source,
            f.rule,
            if loc.is_empty() {
                String::new()
            } else {
                format!(" {loc}")
            },
            format_args!(": {first}")
        )?;
        for l in lines {
            writeln!(out, "          {l}")?;
        }
    }
    match &report.checkpatch {
        CheckpatchStatus::Ran { checked, cached } => writeln!(
            out,
            "checkpatch: {checked} patches checked ({cached} from the cache)"
        )?,
        CheckpatchStatus::Skipped { reason } => writeln!(out, "checkpatch: skipped: {reason}")?,
    }
    let stuck = report
        .findings
        .iter()
        .find(|f| f.source == crate::model::Source::Apply);
    match (&report.apply, stuck) {
        (Some(note), _) => writeln!(out, "apply: {note}")?,
        (None, Some(f)) => writeln!(out, "apply: stops at patch {}", f.patch.unwrap_or(0))?,
        (None, None) => writeln!(
            out,
            "apply: every patch applies on {}",
            series.manifest.base.name
        )?,
    }
    if let Some(b) = &report.build {
        writeln!(out, "build: {b}")?;
    }
    let (e, w, c) = (
        report.count(Severity::Error),
        report.count(Severity::Warning),
        report.count(Severity::Check),
    );
    let plural = |n: usize, s: &str| format!("{n} {s}{}", if n == 1 { "" } else { "s" });
    writeln!(
        out,
        "{}: {}, {}{}",
        plural(total, "patch").replace("patchs", "patches"),
        plural(e, "error"),
        plural(w, "warning"),
        if c > 0 {
            format!(", {}", plural(c, "check"))
        } else {
            String::new()
        }
    )?;
    Ok(())
}
