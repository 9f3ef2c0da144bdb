//! `series bench`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args as ClapArgs, Subcommand};

use super::progress::Progress;
use super::{emit, CliError, Context};
use crate::app::bench;

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
    /// The bench's name: its file is series/bench/NAME.toml
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
    /// The bench (series/bench/NAME.toml)
    #[arg(add = super::complete::bench_names())]
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
    /// The bench (series/bench/NAME.toml)
    #[arg(add = super::complete::bench_names())]
    pub name: String,
    /// The row (its label: a kernel, a setting)
    #[arg(long)]
    pub row: String,
    /// The mean of the samples, in the bench's unit
    #[arg(long)]
    pub mean: f64,
    /// Relative standard deviation, in percent
    #[arg(long)]
    pub rsd: f64,
    /// Number of samples behind the summary
    #[arg(short = 'n', long)]
    pub runs: Option<u32>,
    /// The numbers were posted in this reply (its Message-Id; kept by
    /// `series review fetch`): the row is shown as its sender's
    #[arg(long, value_name = "MSGID")]
    pub from: Option<String>,
}

/// Print a bench as the cover letter's table, or as JSON
#[derive(Debug, ClapArgs)]
pub struct ShowArgs {
    /// The bench (series/bench/NAME.toml)
    #[arg(add = super::complete::bench_names())]
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
    /// Compare this version's rows with the previous version's, label by
    /// label: change and Welch's t-test
    #[arg(long)]
    pub versions: bool,
}

/// Plot a bench to an SVG or PNG file
#[derive(Debug, ClapArgs)]
pub struct PlotArgs {
    /// The bench (series/bench/NAME.toml)
    #[arg(add = super::complete::bench_names())]
    pub name: String,
    /// Output file; .svg or .png
    #[arg(short = 'o', long)]
    pub output: PathBuf,
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    match args.command {
        BenchCommand::New(a) => {
            let r = bench::new(
                ctx,
                bench::New {
                    name: a.name,
                    title: a.title,
                    unit: a.unit,
                    label: a.label,
                    setup: a.setup,
                    param: a.param,
                },
            )?;
            emit(out, &r, false)
        }
        BenchCommand::Run(a) => {
            let req = bench::Runs {
                name: a.name,
                row: a.row,
                runs: a.runs,
                warmup: a.warmup,
                metric: a.metric,
                sweep: a.sweep,
                timeout: Duration::from_secs(a.timeout.max(1)),
                command: a.command,
            };
            let mut bar = Progress::new();
            let r = bench::measure(ctx, req, &mut |w, i, n, t| {
                bar.show(&format!("{w}: {t} {i}/{n}"))
            })?;
            bar.done();
            emit(out, &r, false)
        }
        BenchCommand::Record(a) => {
            let req = bench::Record {
                name: a.name,
                row: a.row,
                mean: a.mean,
                rsd: a.rsd,
                runs: a.runs,
                from: a.from,
            };
            emit(out, &bench::record(ctx, req)?, false)
        }
        BenchCommand::Show(a) => {
            let pair = a.compare.map(|p| (p[0].clone(), p[1].clone()));
            emit(
                out,
                &bench::show(ctx, &a.name, a.ascii, pair, a.versions)?,
                a.json,
            )
        }
        BenchCommand::Plot(a) => emit(out, &bench::plot(ctx, &a.name, &a.output)?, false),
    }
}
