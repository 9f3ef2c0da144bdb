//! `series check`: find what a maintainer would bounce, before sending.

use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use clap::Args as ClapArgs;

use super::format;
use super::progress::Progress;
use super::{CliError, Context};
use crate::check::{self, CheckpatchStatus, Report};
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

    /// Seconds one build (at one patch) may take
    #[arg(long, default_value_t = 3600, value_name = "SECONDS")]
    pub build_timeout: u64,

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
    let series = store::load(&ctx.series_dir)?;
    let plan = format::plan(ctx, &series, Default::default())?;
    let p = format::prepare_in(ctx, series, &plan, None)?;
    let mut report = gather(ctx, &p, &args.options(ctx))?;
    if p.stale_diffstat {
        report.findings.insert(
            0,
            Finding {
                patch: Some(0),
                file: Some("series/series.toml".into()),
                line: None,
                rule: "diffstat".into(),
                severity: Severity::Error,
                message: "the cover letter's diffstat describes other patches than series/patches holds; run with a tree where the series applies to compute it again".into(),
                source: crate::model::Source::Series,
            },
        );
    }
    let series = p.series;
    if args.json {
        super::write_json(out, &report)?;
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

impl Args {
    /// The domain options these flags ask for.
    pub fn options(&self, ctx: &Context) -> check::Options {
        let mut extra: Vec<String> = Vec::new();
        if self.strict {
            extra.push("--strict".into());
        }
        // --checkpatch-args, else the setting series.checkpatchArgs.
        let args = self
            .checkpatch_args
            .clone()
            .or_else(|| ctx.setting("series.checkpatchargs"));
        if let Some(a) = &args {
            extra.extend(a.split_whitespace().map(str::to_string));
        }
        check::Options {
            checkpatch_args: extra,
            checkpatch_timeout: Duration::from_secs(self.checkpatch_timeout.max(1)),
            jobs: self.jobs.unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2)
            }),
            cache: (!self.no_cache).then(cache_dir).flatten(),
            build: self.build.clone(),
            build_timeout: Duration::from_secs(self.build_timeout.max(1)),
            rules_dir: Some(ctx.project().join("checks")),
        }
    }
}

/// Run every check on rendered messages; `send` gates on the same call with
/// the bytes it is about to send.
pub fn gather(
    ctx: &Context,
    p: &format::Prepared,
    opts: &check::Options,
) -> Result<Report, CliError> {
    let prose = Ok(p.prose.as_str());
    let bar = Mutex::new(Progress::new());
    let report = check::run(
        &p.series,
        &p.messages,
        prose,
        ctx.tree_path_opt().as_deref(),
        opts,
        &|what, done, n| {
            if let Ok(mut b) = bar.lock() {
                b.show(&format!("{what} {done}/{n}"));
            }
        },
    )?;
    let mut report = report;
    // Signatures present are checked: who signed, and whether it holds.
    let rings = super::attest::rings(ctx);
    for (i, m) in p.messages.iter().enumerate() {
        let found = crate::attest::verify(&m.bytes, &rings, std::time::Duration::from_secs(60))
            .map_err(|e| {
                CliError::user(format!("{}: {e}", m.file)).with_code(super::error::TOOL)
            })?;
        for a in found {
            let said = super::attest::describe(&a);
            if let crate::attest::Outcome::Bad(_) = a.outcome {
                report.findings.push(Finding {
                    patch: Some(i),
                    file: None,
                    line: None,
                    rule: "BAD_SIGNATURE".into(),
                    severity: Severity::Error,
                    message: said.clone(),
                    source: crate::model::Source::Series,
                });
            }
            report.signatures.push(format!("{}: {said}", m.file));
        }
    }
    Ok(report)
}

fn location(f: &Finding) -> String {
    match (&f.file, f.line) {
        (Some(file), Some(l)) => format!("{file}:{l}"),
        (Some(file), None) => file.clone(),
        _ => String::new(),
    }
}

// Printing: the findings grouped per patch, then the status lines.
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
            "  {} {}/{}{}{}",
            super::colour::severity(f.severity, &format!("{:<7}", f.severity.to_string())),
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
    match report.signatures.as_slice() {
        [] => writeln!(
            out,
            "signatures: none (`series attest --gen-key` makes a patatt key)"
        )?,
        all => {
            let valid = all.iter().filter(|s| s.contains(": valid, key ")).count();
            writeln!(out, "signatures: {valid} of {} valid", all.len())?;
            for s in all.iter().filter(|s| !s.contains(": valid, key ")) {
                writeln!(out, "  {s}")?;
            }
        }
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
