//! `series bench`: record benchmark results in the series and render them.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args as ClapArgs, Subcommand};
use regex::Regex;

use super::progress::Progress;
use super::{CliError, Context};
use crate::bench::{self, plot, run, stats, table, Bench, BenchError, Summary};
use crate::store::{self, Series};

/// Record benchmark results in the series; render tables and plots from them
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    pub command: BenchCommand,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    New(NewArgs),
    Run(RunArgs),
    Record(RecordArgs),
    Show(ShowArgs),
    Plot(PlotArgs),
}

impl Args {
    /// Whether this bench command may write `series/`.
    pub fn writes(&self) -> bool {
        match &self.command {
            BenchCommand::New(_) | BenchCommand::Run(_) | BenchCommand::Record(_) => true,
            BenchCommand::Show(_) | BenchCommand::Plot(_) => false,
        }
    }
}

/// Create an empty bench: what is measured, its unit, the label column
#[derive(Debug, ClapArgs)]
pub struct NewArgs {
    pub name: String,
    /// What is measured, in a line
    #[arg(long)]
    pub title: String,
    /// Unit of the values
    #[arg(long, default_value = "s")]
    pub unit: String,
    /// Heading of the label column, e.g. kernel
    #[arg(long, default_value = "kernel")]
    pub label: String,
    /// The machine and setup, in words
    #[arg(long, default_value = "")]
    pub setup: String,
    /// Make it a sweep over this parameter
    #[arg(long)]
    pub param: Option<String>,
}

/// Run a command N times and record each sample in a row
#[derive(Debug, ClapArgs)]
pub struct RunArgs {
    pub name: String,
    /// The row to add samples to (a kernel, a setting); not with --sweep
    #[arg(long, required_unless_present = "sweep")]
    pub row: Option<String>,
    /// Samples per row
    #[arg(short = 'n', long, default_value_t = 10)]
    pub runs: usize,
    /// Runs before sampling, not recorded
    #[arg(long, default_value_t = 1)]
    pub warmup: usize,
    /// Take the sample from the output: the regex's first group, else its match
    #[arg(long, value_name = "REGEX")]
    pub metric: Option<String>,
    /// Run once per value, PARAM=1,2,4: `{PARAM}` in the command and $PARAM take the value
    #[arg(long, value_name = "PARAM=V1,V2,...")]
    pub sweep: Option<String>,
    /// Seconds one run may take before it is stopped
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    pub timeout: u64,
    /// The command and its arguments
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

/// Record a row's summary when only mean and relative stddev are known
#[derive(Debug, ClapArgs)]
pub struct RecordArgs {
    pub name: String,
    #[arg(long)]
    pub row: String,
    #[arg(long)]
    pub mean: f64,
    /// Relative standard deviation, in percent
    #[arg(long)]
    pub rsd: f64,
    /// Number of samples behind the summary
    #[arg(short = 'n', long)]
    pub runs: Option<u32>,
}

/// Print a bench as the cover letter's table, or as JSON
#[derive(Debug, ClapArgs)]
pub struct ShowArgs {
    pub name: String,
    /// Print the data and statistics as JSON
    #[arg(long)]
    pub json: bool,
    /// Write +- instead of ±
    #[arg(long)]
    pub ascii: bool,
    /// Compare two rows: change in percent and Welch's t-test
    #[arg(long, num_args = 2, value_names = ["A", "B"])]
    pub compare: Option<Vec<String>>,
}

/// Plot a bench to an SVG or PNG file
#[derive(Debug, ClapArgs)]
pub struct PlotArgs {
    pub name: String,
    /// Output file; .svg or .png
    #[arg(short = 'o', long)]
    pub output: PathBuf,
}

/// Read bench `name` of a loaded series.
pub fn get(series: &Series, name: &str) -> Result<Bench, BenchError> {
    bench::check_name(name)?;
    let text = series
        .bench
        .get(&bench::file_name(name))
        .ok_or_else(|| BenchError::Unknown(name.to_string()))?;
    Bench::parse(name, text)
}

fn put(series: &mut Series, name: &str, b: &Bench) -> Result<(), CliError> {
    series.bench.insert(bench::file_name(name), b.to_text()?);
    Ok(())
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    match args.command {
        BenchCommand::New(a) => new(ctx, a, out),
        BenchCommand::Run(a) => run_cmd(ctx, a, out),
        BenchCommand::Record(a) => record(ctx, a, out),
        BenchCommand::Show(a) => show(ctx, a, out),
        BenchCommand::Plot(a) => plot_cmd(ctx, a, out),
    }
}

fn new(ctx: &Context, a: NewArgs, out: &mut dyn Write) -> Result<(), CliError> {
    bench::check_name(&a.name)?;
    let mut series = store::load(&ctx.series_dir)?;
    if series.bench.contains_key(&bench::file_name(&a.name)) {
        return Err(
            CliError::user(format!("bench {} already exists", a.name)).hint("choose another name")
        );
    }
    let mut b = Bench::new(&a.title, &a.unit, a.param.as_deref().unwrap_or(&a.label));
    b.setup = a.setup;
    b.param = a.param;
    put(&mut series, &a.name, &b)?;
    store::save(&ctx.series_dir, &series)?;
    writeln!(out, "Created bench {}.", a.name)?;
    Ok(())
}

fn today(ctx: &Context) -> Option<String> {
    let m = ctx.now();
    Some(crate::text::iso_day(m.secs, m.offset_minutes))
}

// Parses and checks the flags, then one call to run::measure; the
// length is flag handling.
fn run_cmd(ctx: &Context, a: RunArgs, out: &mut dyn Write) -> Result<(), CliError> {
    bench::check_name(&a.name)?;
    if a.runs == 0 {
        return Err(CliError::usage("-n must be at least 1"));
    }
    let metric = a
        .metric
        .as_deref()
        .map(Regex::new)
        .transpose()
        .map_err(|e| {
            let why = e.to_string();
            let last = why
                .lines()
                .last()
                .unwrap_or("")
                .trim_start_matches("error: ")
                .to_string();
            CliError::usage(format!("--metric is not a valid regex: {last}"))
        })?;
    let sweep = match &a.sweep {
        Some(s) => {
            let (param, values) = s
                .split_once('=')
                .filter(|(p, v)| !p.is_empty() && !v.is_empty())
                .ok_or_else(|| CliError::usage(format!("--sweep {s:?}: use PARAM=V1,V2,...")))?;
            Some((
                param.to_string(),
                values.split(',').map(str::to_string).collect::<Vec<_>>(),
            ))
        }
        None => None,
    };
    let mut series = store::load(&ctx.series_dir)?;
    let mut b = match get(&series, &a.name) {
        Ok(b) => b,
        Err(BenchError::Unknown(_)) => {
            let unit = if metric.is_some() { "" } else { "s" };
            let label = sweep.as_ref().map(|(p, _)| p.as_str()).unwrap_or("row");
            let mut b = Bench::new(&a.command.join(" "), unit, label);
            b.param = sweep.as_ref().map(|(p, _)| p.clone());
            b
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(m) = &a.metric {
        b.metric = Some(m.clone());
    }
    let base = run::Spec {
        command: a.command.clone(),
        metric,
        env: Vec::new(),
        limit: std::time::Duration::from_secs(a.timeout.max(1)),
    };
    let plan: Vec<run::Planned> = match &sweep {
        Some((param, values)) => values
            .iter()
            .map(|v| (v.clone(), base.with_param(param, v)))
            .collect(),
        None => vec![(a.row.clone().unwrap_or_default(), base)],
    };
    let mut bar = Progress::new();
    let (taken, failure) = run::measure(
        &mut b,
        &plan,
        a.warmup,
        a.runs,
        today(ctx),
        &mut |label, what, i, n| bar.show(&format!("bench {}: {label}: {what} {i}/{n}", a.name)),
    );
    bar.done();
    if taken > 0 {
        put(&mut series, &a.name, &b)?;
        store::save(&ctx.series_dir, &series)?;
    }
    if let Some((label, e)) = failure {
        return Err(
            CliError::user(format!("bench {} row {label}: {e}", a.name)).hint(
                "the samples taken before the failure are recorded; fix the command and run again",
            ),
        );
    }
    write!(out, "{}", table::render(&a.name, &b, false)?)?;
    Ok(())
}

fn record(ctx: &Context, a: RecordArgs, out: &mut dyn Write) -> Result<(), CliError> {
    if !a.mean.is_finite() || !a.rsd.is_finite() || a.rsd < 0.0 {
        return Err(CliError::usage(
            "--mean and --rsd must be numbers, --rsd not negative",
        ));
    }
    let mut series = store::load(&ctx.series_dir)?;
    let mut b = get(&series, &a.name)?;
    let row = b.row_mut(&a.row);
    row.samples.clear();
    row.summary = Some(Summary {
        mean: a.mean,
        rsd: a.rsd,
        n: a.runs,
    });
    put(&mut series, &a.name, &b)?;
    store::save(&ctx.series_dir, &series)?;
    write!(out, "{}", table::render(&a.name, &b, false)?)?;
    Ok(())
}

#[derive(serde::Serialize)]
struct RowJson<'a> {
    label: &'a str,
    samples: &'a [f64],
    stats: Option<stats::Stats>,
}

fn show(ctx: &Context, a: ShowArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let series = store::load(&ctx.series_dir)?;
    let b = get(&series, &a.name)?;
    let comparison = match &a.compare {
        Some(pair) => {
            let st = |label: &String| {
                b.row(label)
                    .and_then(|r| r.stats())
                    .ok_or_else(|| BenchError::NoRow {
                        name: a.name.clone(),
                        row: label.clone(),
                    })
            };
            Some(stats::compare(&st(&pair[0])?, &st(&pair[1])?))
        }
        None => None,
    };
    if a.json {
        let rows: Vec<RowJson> = b
            .rows
            .iter()
            .map(|r| RowJson {
                label: &r.label,
                samples: &r.samples,
                stats: r.stats(),
            })
            .collect();
        let v = serde_json::json!({
            "name": a.name, "title": b.title, "unit": b.unit, "label": b.label,
            "setup": b.setup, "param": b.param, "rows": rows, "comparison": comparison,
        });
        super::write_json(out, &v)?;
        return Ok(());
    }
    writeln!(out, "{} ({})", b.title, b.unit)?;
    write!(out, "{}", table::render(&a.name, &b, a.ascii)?)?;
    if let (Some(c), Some(pair)) = (comparison, &a.compare) {
        let verdict = match (c.p_value, c.significant) {
            (Some(p), Some(true)) => {
                format!("significant (Welch's t-test, p = {})", table::sig(p, 2))
            }
            (Some(p), _) => format!("not significant (Welch's t-test, p = {})", table::sig(p, 2)),
            _ => "significance unknown: a row has no sample count".into(),
        };
        writeln!(
            out,
            "{} vs {}: {}{}%, {verdict}",
            pair[1],
            pair[0],
            if c.change >= 0.0 { "+" } else { "" },
            table::sig(c.change, 3)
        )?;
    }
    Ok(())
}

fn plot_cmd(ctx: &Context, a: PlotArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let series = store::load(&ctx.series_dir)?;
    let b = get(&series, &a.name)?;
    let svg = plot::svg(&a.name, &b)?;
    let path = if a.output.is_absolute() {
        a.output.clone()
    } else {
        ctx.cwd.join(&a.output)
    };
    let bytes = match path.extension().and_then(|e| e.to_str()) {
        Some("svg") => svg.into_bytes(),
        Some("png") => plot::png(&svg).map_err(|e| CliError::user(e.to_string()))?,
        _ => {
            return Err(CliError::usage(format!(
                "{}: the plot file must end in .svg or .png",
                a.output.display()
            )))
        }
    };
    std::fs::write(&path, bytes)
        .map_err(|e| CliError::user(format!("cannot write {}: {e}", path.display())))?;
    writeln!(out, "Wrote {}.", super::rel(&path, &ctx.cwd))?;
    Ok(())
}
