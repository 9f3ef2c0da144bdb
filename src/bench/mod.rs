//! Benchmarks as series data: `series/bench/NAME.toml` holds what is measured,
//! its unit and setup, and one row per kernel or parameter value with its
//! samples, or the summary when only that is known. Tables and plots are
//! rendered from these, never typed.

pub mod plot;
pub mod run;
pub mod stats;
pub mod table;

use serde::{Deserialize, Serialize};

pub use stats::Stats;

/// Format version of bench files.
pub const FORMAT: u32 = 1;

/// One benchmark, `series/bench/NAME.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Bench {
    pub format: u32,
    /// What is measured, in a line.
    pub title: String,
    /// Unit of the values: `s`, `ms`, `MB/s`, ...
    pub unit: String,
    /// Heading of the label column: `kernel`, `max_active`, ...
    pub label: String,
    /// The machine and setup, in words.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub setup: String,
    /// For a sweep: the parameter whose values label the rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// How a sample is taken: `wall` (elapsed seconds) or a regex whose first
    /// group (or whole match) is the number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    #[serde(default, rename = "row")]
    pub rows: Vec<Row>,
    /// The version (and base) rows are recorded at now: [`Bench::row_mut`]
    /// keeps each version's rows apart. Not in the file.
    #[serde(skip)]
    pub recording: Option<At>,
}

/// A version of the series and the base it was on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct At {
    pub version: u32,
    pub base: String,
}

/// One label measured in two versions.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Across {
    pub label: String,
    pub old: Stats,
    pub new: Stats,
    pub comparison: stats::Comparison,
}

/// One row: a kernel or a parameter value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Row {
    pub label: String,
    /// Measured values, in `unit`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<f64>,
    /// The recorded summary, when the samples are not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
    /// The command that produced the samples.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Where the samples were taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<Machine>,
    /// Day the samples were taken, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// The version of the series measured; none in rows recorded before
    /// versions were kept apart (they count for every version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// The base that version was on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// Who measured it, when someone else did (`Name <address>`, from the
    /// reply that posted the numbers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The Message-Id of that reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

/// A summary known without its samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Summary {
    pub mean: f64,
    /// Relative standard deviation, in percent of the mean.
    pub rsd: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
}

/// The machine a row was measured on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Machine {
    pub cpu: String,
    pub cores: u32,
    /// Memory in MiB.
    pub memory_mib: u64,
    pub kernel: String,
}

/// Errors with bench data, each naming the bench.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("no bench {0:?} in series/bench/")]
    Unknown(String),
    #[error("bench {name}: {msg}")]
    Malformed { name: String, msg: String },
    #[error("bench {0:?} has no rows")]
    Empty(String),
    #[error("bench {name} has no row {row:?}")]
    NoRow { name: String, row: String },
    #[error("bench name {0:?} is not valid: use letters, digits, `-`, `_` and `.`")]
    BadName(String),
}

impl Bench {
    /// A new, empty bench.
    pub fn new(title: &str, unit: &str, label: &str) -> Bench {
        Bench {
            format: FORMAT,
            title: title.into(),
            unit: unit.into(),
            label: label.into(),
            setup: String::new(),
            param: None,
            metric: None,
            rows: Vec::new(),
            recording: None,
        }
    }

    /// Parse a bench file's text.
    pub fn parse(name: &str, text: &str) -> Result<Bench, BenchError> {
        let bad = |msg: String| BenchError::Malformed {
            name: name.to_string(),
            msg,
        };
        let table: toml::Table =
            toml::from_str(text).map_err(|e| bad(e.to_string().trim().to_string()))?;
        match table.get("format").and_then(toml::Value::as_integer) {
            Some(f) if f > i64::from(FORMAT) => {
                return Err(bad(format!(
                    "format {f} is newer than this series understands ({FORMAT})"
                )))
            }
            Some(f) if f >= 1 => {}
            _ => {
                return Err(bad(
                    "missing or invalid `format` (expected `format = 1`)".into()
                ))
            }
        }
        let b: Bench = toml::from_str(text).map_err(|e| bad(e.to_string().trim().to_string()))?;
        for r in &b.rows {
            if r.samples.iter().any(|v| !v.is_finite()) {
                return Err(bad(format!(
                    "row {:?} has a sample that is not a number",
                    r.label
                )));
            }
            if let Some(s) = &r.summary {
                if !s.mean.is_finite() || !s.rsd.is_finite() || s.rsd < 0.0 {
                    return Err(bad(format!(
                        "row {:?} has a summary whose mean or rsd is not a number (or a negative rsd)",
                        r.label
                    )));
                }
            }
        }
        Ok(b)
    }

    /// The file text; one TOML cannot hold is an error, never empty text.
    pub fn to_text(&self) -> Result<String, BenchError> {
        toml::to_string_pretty(self).map_err(|e| BenchError::Malformed {
            name: self.title.clone(),
            msg: format!("cannot be written: {e}"),
        })
    }

    /// The row with `label` (of the version being recorded, when one
    /// is), made when missing.
    pub fn row_mut(&mut self, label: &str) -> &mut Row {
        let at = self.recording.clone();
        let v = at.as_ref().map(|a| a.version);
        let found = self
            .rows
            .iter()
            .position(|r| r.label == label && (v.is_none() || r.version == v));
        if let Some(i) = found {
            return &mut self.rows[i];
        }
        self.rows.push(Row {
            label: label.into(),
            version: v,
            base: at.map(|a| a.base),
            ..Row::default()
        });
        let last = self.rows.len() - 1;
        &mut self.rows[last]
    }

    pub fn row(&self, label: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.label == label)
    }

    /// The bench as version `v` has it: for each label its row of `v`,
    /// else its row of no version; rows of other versions left out.
    pub fn at_version(&self, v: u32) -> Bench {
        let mut out = self.clone();
        out.rows = self
            .rows
            .iter()
            .filter(|r| match r.version {
                Some(x) => x == v,
                None => !self
                    .rows
                    .iter()
                    .any(|o| o.label == r.label && o.version == Some(v)),
            })
            .cloned()
            .collect();
        out
    }

    /// The versions that have rows of their own, oldest first.
    pub fn versions(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self.rows.iter().filter_map(|r| r.version).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The latest version before `v` with rows of its own.
    pub fn previous_version(&self, v: u32) -> Option<u32> {
        self.versions().into_iter().filter(|&x| x < v).max()
    }

    /// Each label measured in both `old` and `new`: the change and
    /// Welch's t-test, in the order of `new`'s rows.
    pub fn across(&self, old: u32, new: u32) -> Vec<Across> {
        self.rows
            .iter()
            .filter(|r| r.version == Some(new))
            .filter_map(|n| {
                let o = self
                    .rows
                    .iter()
                    .find(|o| o.label == n.label && o.version == Some(old))?;
                let (a, b) = (o.stats()?, n.stats()?);
                Some(Across {
                    label: n.label.clone(),
                    comparison: stats::compare(&a, &b),
                    old: a,
                    new: b,
                })
            })
            .collect()
    }
}

impl Row {
    /// Statistics of the row: from its samples, else from its summary.
    pub fn stats(&self) -> Option<Stats> {
        if !self.samples.is_empty() {
            Some(Stats::of(&self.samples))
        } else {
            self.summary.as_ref().map(Stats::from_summary)
        }
    }
}

/// Check a bench name: it becomes a file name.
pub fn check_name(name: &str) -> Result<(), BenchError> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(BenchError::BadName(name.to_string()))
    }
}

/// The file name of bench `name` under `series/bench/`.
pub fn file_name(name: &str) -> String {
    format!("{name}.toml")
}

impl crate::error::Advice for BenchError {
    fn hint(&self) -> Option<String> {
        crate::error::says(match self {
            BenchError::Unknown(_) => {
                "create it with `series bench new NAME --title ...`, or list series/bench/"
            }
            BenchError::Empty(_) => "record rows with `series bench run` or `series bench record`",
            BenchError::NoRow { .. } => "`series bench show NAME` lists its rows",
            BenchError::Malformed { .. } => "fix the file by hand or restore it from git",
            BenchError::BadName(_) => "bench names become file names",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let mut b = Bench::new("free() time", "s", "kernel");
        b.row_mut("v4.10").summary = Some(Summary {
            mean: 10.8,
            rsd: 2.8,
            n: None,
        });
        b.row_mut("patched").samples = vec![5.5, 6.0, 5.9];
        let text = b.to_text().unwrap();
        assert_eq!(Bench::parse("x", &text).unwrap(), b);
        assert!(Bench::parse("x", &text.replace("format = 1", "format = 9")).is_err());
        assert!(Bench::parse("x", &text.replace("unit = ", "colour = 1\nunit = ")).is_err());
        assert!(Bench::parse("x", &text.replace("5.5", "\"fast\"")).is_err());
        assert!(check_name("../x").is_err());
        assert!(check_name("free-320g").is_ok());
    }
}
