//! `series bench`: benchmark results kept in the series, measured or
//! recorded, and rendered as the cover letter's tables and as plots.

use std::io::Write;

use regex::Regex;
use serde::Serialize;

use super::{given, shown, AppError};
use crate::bench::{self, plot, run, stats, table, Bench, BenchError, Summary};
use crate::store::{self, Series};
use crate::term::Render;
use crate::workspace::Workspace;

/// A new, empty bench.
#[derive(Debug)]
pub struct New {
    pub name: String,
    pub title: String,
    pub unit: String,
    pub label: String,
    pub setup: String,
    pub param: Option<String>,
}

/// Runs of a command.
#[derive(Debug)]
pub struct Runs {
    pub name: String,
    pub row: Option<String>,
    pub runs: usize,
    pub warmup: usize,
    pub metric: Option<String>,
    /// `PARAM=V1,V2,...`
    pub sweep: Option<String>,
    pub timeout: std::time::Duration,
    pub command: Vec<String>,
}

/// A summary known without samples.
#[derive(Debug)]
pub struct Record {
    pub name: String,
    pub row: String,
    pub mean: f64,
    pub rsd: f64,
    pub runs: Option<u32>,
    /// The Message-Id of a reply kept in `series/replies/` that posted
    /// these numbers: the row is then its sender's.
    pub from: Option<String>,
}

/// New rows go to the series' current version, on its base.
fn recording(series: &Series) -> Option<bench::At> {
    Some(bench::At {
        version: series.manifest.version,
        base: series.manifest.base.name.clone(),
    })
}

/// Who sent the kept reply `msgid`, as `Name <address>`.
fn poster(series: &Series, msgid: &str) -> Result<String, AppError> {
    let want = msgid.trim().trim_start_matches('<').trim_end_matches('>');
    series
        .replies
        .values()
        .filter_map(|bytes| crate::mail::received::parse(bytes, "a reply").ok())
        .find(|m| m.message_id == want)
        .map(|m| m.from.to_string())
        .ok_or_else(|| {
            AppError::refuse(format!("no reply <{want}> is kept in series/replies/"))
                .hint("keep the thread first: `series review fetch`, then give the Message-Id of the reply with the numbers")
        })
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

fn put(series: &mut Series, name: &str, b: &Bench) -> Result<(), AppError> {
    series.bench.insert(bench::file_name(name), b.to_text()?);
    Ok(())
}

/// A bench as its table.
#[derive(Serialize)]
pub struct Table {
    pub name: String,
    #[serde(skip)]
    pub text: String,
    /// Said before the table (`series bench new`).
    #[serde(skip)]
    pub said: Option<String>,
}

impl Render for Table {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if let Some(s) = &self.said {
            writeln!(out, "{s}")?;
        }
        write!(out, "{}", self.text)
    }
}

/// `series bench new`.
pub fn new(ws: &Workspace, a: New) -> Result<Table, AppError> {
    bench::check_name(&a.name)?;
    let mut series = store::load(&ws.series_dir)?;
    if series.bench.contains_key(&bench::file_name(&a.name)) {
        return Err(AppError::refuse(format!("bench {} already exists", a.name))
            .hint("choose another name"));
    }
    let mut b = Bench::new(&a.title, &a.unit, a.param.as_deref().unwrap_or(&a.label));
    b.setup = a.setup;
    b.param = a.param;
    put(&mut series, &a.name, &b)?;
    store::save(&ws.series_dir, &series)?;
    Ok(Table {
        said: Some(format!("Created bench {}.", a.name)),
        text: String::new(),
        name: a.name,
    })
}

/// The regex of `--metric`, or a usage error naming what is wrong.
fn metric(text: Option<&str>) -> Result<Option<Regex>, AppError> {
    text.map(Regex::new).transpose().map_err(|e| {
        let why = e.to_string();
        let last = why
            .lines()
            .last()
            .unwrap_or("")
            .trim_start_matches("error: ");
        AppError::usage(format!("--metric is not a valid regex: {last}"))
    })
}

/// `--sweep PARAM=V1,V2`.
fn sweep(text: Option<&str>) -> Result<Option<(String, Vec<String>)>, AppError> {
    let Some(s) = text else { return Ok(None) };
    let (param, values) = s
        .split_once('=')
        .filter(|(p, v)| !p.is_empty() && !v.is_empty())
        .ok_or_else(|| AppError::usage(format!("--sweep {s:?}: use PARAM=V1,V2,...")))?;
    Ok(Some((
        param.to_string(),
        values.split(',').map(str::to_string).collect(),
    )))
}

/// `series bench run`: measure, record every sample taken (also those
/// before a failure), and show the table.
pub fn measure(ws: &Workspace, a: Runs, progress: super::Progress) -> Result<Table, AppError> {
    bench::check_name(&a.name)?;
    if a.runs == 0 {
        return Err(AppError::usage("-n must be at least 1"));
    }
    let metric = metric(a.metric.as_deref())?;
    let sweep = sweep(a.sweep.as_deref())?;
    let mut series = store::load(&ws.series_dir)?;
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
    b.recording = recording(&series);
    if let Some(m) = &a.metric {
        b.metric = Some(m.clone());
    }
    let base = run::Spec {
        command: a.command.clone(),
        metric,
        env: Vec::new(),
        limit: a.timeout,
    };
    let plan: Vec<run::Planned> = match &sweep {
        Some((param, values)) => values
            .iter()
            .map(|v| (v.clone(), base.with_param(param, v)))
            .collect(),
        None => vec![(a.row.clone().unwrap_or_default(), base)],
    };
    let now = ws.now();
    let today = Some(crate::text::iso_day(now.secs, now.offset_minutes));
    let what = format!("bench {}", a.name);
    let (taken, failure) = run::measure(
        &mut b,
        &plan,
        a.warmup,
        a.runs,
        today,
        &mut |label, step, i, n| progress(&what, i, n, &format!("{label}: {step}")),
    );
    if taken > 0 {
        put(&mut series, &a.name, &b)?;
        store::save(&ws.series_dir, &series)?;
    }
    if let Some((label, e)) = failure {
        return Err(
            AppError::refuse(format!("bench {} row {label}: {e}", a.name)).hint(
                "the samples taken before the failure are recorded; fix the command and run again",
            ),
        );
    }
    Ok(Table {
        text: table::render(&a.name, &b.at_version(series.manifest.version), false)?,
        name: a.name,
        said: None,
    })
}

/// `series bench record`.
pub fn record(ws: &Workspace, a: Record) -> Result<Table, AppError> {
    if !a.mean.is_finite() || !a.rsd.is_finite() || a.rsd < 0.0 {
        return Err(AppError::usage(
            "--mean and --rsd must be numbers, --rsd not negative",
        ));
    }
    let mut series = store::load(&ws.series_dir)?;
    let mut b = get(&series, &a.name)?;
    b.recording = recording(&series);
    let by = match &a.from {
        Some(id) => Some((
            poster(&series, id)?,
            id.trim().trim_matches(['<', '>']).to_string(),
        )),
        None => None,
    };
    let row = b.row_mut(&a.row);
    if let Some((who, id)) = by {
        row.by = Some(who);
        row.message_id = Some(id);
    }
    row.samples.clear();
    row.summary = Some(Summary {
        mean: a.mean,
        rsd: a.rsd,
        n: a.runs,
    });
    put(&mut series, &a.name, &b)?;
    store::save(&ws.series_dir, &series)?;
    Ok(Table {
        text: table::render(&a.name, &b.at_version(series.manifest.version), false)?,
        name: a.name,
        said: None,
    })
}

#[derive(Serialize)]
pub struct RowJson {
    pub label: String,
    pub samples: Vec<f64>,
    pub stats: Option<stats::Stats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// Two versions' numbers compared (`bench show --versions`).
#[derive(Serialize)]
pub struct Versions {
    pub old: u32,
    pub new: u32,
    pub rows: Vec<bench::Across>,
    #[serde(skip)]
    table: String,
}

/// A bench shown: its data, statistics, table and a comparison.
#[derive(Serialize)]
pub struct Shown {
    pub name: String,
    pub title: String,
    pub unit: String,
    pub label: String,
    pub setup: String,
    pub param: Option<String>,
    pub rows: Vec<RowJson>,
    pub comparison: Option<stats::Comparison>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versions: Option<Versions>,
    #[serde(skip)]
    table: String,
    #[serde(skip)]
    pair: Option<(String, String)>,
}

/// The versions `bench show --versions` compares: the current one and
/// the latest before it with rows of its own.
fn versions_of(series: &Series, all: &Bench) -> Result<(u32, u32), AppError> {
    let now = series.manifest.version;
    all.previous_version(now)
        .map(|old| (old, now))
        .ok_or_else(|| {
            AppError::refuse(format!("no rows were recorded for a version before v{now}"))
                .hint("rows are kept per version from `series bench run` and `record`: measure (or record) the previous version before `series reroll`")
        })
}

/// `series bench show`, comparing rows `compare` (A, B) when asked, and
/// the previous version with this one (`versions`).
pub fn show(
    ws: &Workspace,
    name: &str,
    ascii: bool,
    compare: Option<(String, String)>,
    versions: bool,
) -> Result<Shown, AppError> {
    let series = store::load(&ws.series_dir)?;
    let all = get(&series, name)?;
    let versions = match versions {
        true => {
            let (old, new) = versions_of(&series, &all)?;
            Some(Versions {
                old,
                new,
                rows: all.across(old, new),
                table: table::render_across(&all, old, new),
            })
        }
        false => None,
    };
    let b = all.at_version(series.manifest.version);
    let comparison = match &compare {
        Some((x, y)) => {
            let st = |label: &String| {
                b.row(label)
                    .and_then(|r| r.stats())
                    .ok_or_else(|| BenchError::NoRow {
                        name: name.to_string(),
                        row: label.clone(),
                    })
            };
            Some(stats::compare(&st(x)?, &st(y)?))
        }
        None => None,
    };
    Ok(Shown {
        name: name.to_string(),
        table: table::render(name, &b, ascii)?,
        rows: b
            .rows
            .iter()
            .map(|r| RowJson {
                label: r.label.clone(),
                samples: r.samples.clone(),
                stats: r.stats(),
                version: r.version,
                by: r.by.clone(),
            })
            .collect(),
        title: b.title,
        unit: b.unit,
        label: b.label,
        setup: b.setup,
        param: b.param,
        comparison,
        versions,
        pair: compare,
    })
}

impl Render for Shown {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "{} ({})", self.title, self.unit)?;
        write!(out, "{}", self.table)?;
        if let Some(v) = &self.versions {
            writeln!(out, "v{} against v{}:", v.new, v.old)?;
            write!(out, "{}", v.table)?;
        }
        let (Some(c), Some((a, b))) = (&self.comparison, &self.pair) else {
            return Ok(());
        };
        let verdict = match (c.p_value, c.significant) {
            (Some(p), Some(true)) => {
                format!("significant (Welch's t-test, p = {})", table::sig(p, 2))
            }
            (Some(p), _) => format!("not significant (Welch's t-test, p = {})", table::sig(p, 2)),
            _ => "significance unknown: a row has no sample count".into(),
        };
        writeln!(
            out,
            "{b} vs {a}: {}{}%, {verdict}",
            if c.change >= 0.0 { "+" } else { "" },
            table::sig(c.change, 3)
        )
    }
}

/// A plot written.
#[derive(Serialize)]
pub struct Plotted {
    pub file: String,
}

impl Render for Plotted {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "Wrote {}.", self.file)
    }
}

/// `series bench plot`: an SVG, or a PNG with the `png` feature.
pub fn plot(ws: &Workspace, name: &str, output: &std::path::Path) -> Result<Plotted, AppError> {
    let series = store::load(&ws.series_dir)?;
    let b = get(&series, name)?.at_version(series.manifest.version);
    let svg = plot::svg(name, &b)?;
    let path = given(ws, output);
    let bytes = match path.extension().and_then(|e| e.to_str()) {
        Some("svg") => svg.into_bytes(),
        Some("png") => plot::png(&svg).map_err(|e| AppError::refuse(e.to_string()))?,
        _ => {
            return Err(AppError::usage(format!(
                "{}: the plot file must end in .svg or .png",
                output.display()
            )))
        }
    };
    std::fs::write(&path, bytes).map_err(AppError::file(&path))?;
    Ok(Plotted {
        file: shown(ws, &path),
    })
}
