//! Running a benchmark command: one sample per run, wall time or a number
//! read from its output; and the facts of the machine it ran on.

use std::time::{Duration, Instant};

use regex::Regex;

use super::Machine;

/// What to run for one sample.
#[derive(Clone, Debug)]
pub struct Spec {
    pub command: Vec<String>,
    /// Regex whose first group (or whole match) is the sample; wall time if None.
    pub metric: Option<Regex>,
    /// Extra environment, e.g. the sweep parameter.
    pub env: Vec<(String, String)>,
    /// How long one run may take.
    pub limit: Duration,
}

/// A run that gave no sample.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot start {cmd:?}: {source}")]
    Spawn {
        cmd: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{cmd:?} failed ({status}): {stderr}")]
    Failed {
        cmd: String,
        status: String,
        stderr: String,
    },
    #[error("{cmd:?} did not finish within {}s and was stopped (raise --timeout)", .limit.as_secs())]
    TimedOut { cmd: String, limit: Duration },
    #[error("the metric /{regex}/ matched nothing in the output of {cmd:?}")]
    NoMatch { regex: String, cmd: String },
    #[error("the metric /{regex}/ matched {value:?}, which is not a number")]
    NotNumber { regex: String, value: String },
}

impl Spec {
    /// The command with `{param}` replaced by `value` in every argument, and
    /// `param=value` in the environment.
    pub fn with_param(&self, param: &str, value: &str) -> Spec {
        let pat = format!("{{{param}}}");
        let mut s = self.clone();
        s.command = self
            .command
            .iter()
            .map(|a| a.replace(&pat, value))
            .collect();
        s.env.push((param.to_string(), value.to_string()));
        s
    }

    fn display(&self) -> String {
        self.command.join(" ")
    }

    /// Run once and return the sample.
    pub fn sample(&self) -> Result<f64, RunError> {
        let cmd = self.display();
        let (prog, args) = self.command.split_first().ok_or_else(|| RunError::Spawn {
            cmd: cmd.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty command"),
        })?;
        let start = Instant::now();
        let mut run = crate::process::Run::new(prog).args(args).limit(self.limit);
        for (k, v) in &self.env {
            run = run.env(k, v);
        }
        let out = run.output().map_err(|e| match e {
            crate::process::RunError::TimedOut { limit, .. } => RunError::TimedOut {
                cmd: cmd.clone(),
                limit,
            },
            crate::process::RunError::Spawn { source, .. } => RunError::Spawn {
                cmd: cmd.clone(),
                source,
            },
            other => RunError::Spawn {
                cmd: cmd.clone(),
                source: std::io::Error::other(other.to_string()),
            },
        })?;
        let elapsed = start.elapsed().as_secs_f64();
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(RunError::Failed {
                cmd,
                status: out.status.to_string(),
                stderr: stderr.trim().chars().take(2000).collect(),
            });
        }
        let Some(re) = &self.metric else {
            return Ok(elapsed);
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let caps = re
            .captures(&stdout)
            .or_else(|| re.captures(&stderr))
            .ok_or_else(|| RunError::NoMatch {
                regex: re.as_str().to_string(),
                cmd: cmd.clone(),
            })?;
        let text = caps
            .get(1)
            .or_else(|| caps.get(0))
            .map(|m| m.as_str())
            .unwrap_or("");
        text.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| RunError::NotNumber {
                regex: re.as_str().to_string(),
                value: text.to_string(),
            })
    }
}

/// One row to measure: its label and what to run.
pub type Planned = (String, Spec);

/// Measure every row of `plan` into `bench`: `warmup` runs then `runs`
/// samples each, recorded with the machine and `date`. Stops at the first
/// run that fails; the samples taken before it stay in `bench`. Returns how
/// many samples were taken and the failure, if any. `progress` hears
/// (row, what, i, of).
pub fn measure(
    bench: &mut super::Bench,
    plan: &[Planned],
    warmup: usize,
    runs: usize,
    date: Option<String>,
    progress: &mut dyn FnMut(&str, &str, usize, usize),
) -> (usize, Option<(String, RunError)>) {
    let machine = machine();
    let mut taken = 0usize;
    for (label, spec) in plan {
        for i in 0..warmup {
            progress(label, "warmup", i + 1, warmup);
            if let Err(e) = spec.sample() {
                return (taken, Some((label.clone(), e)));
            }
        }
        for i in 0..runs {
            progress(label, "run", i + 1, runs);
            match spec.sample() {
                Ok(v) => {
                    let row = bench.row_mut(label);
                    row.samples.push(v);
                    row.summary = None;
                    row.command = spec.command.clone();
                    row.machine = Some(machine.clone());
                    row.date = date.clone();
                    taken += 1;
                }
                Err(e) => return (taken, Some((label.clone(), e))),
            }
        }
    }
    (taken, None)
}

/// The machine we run on, read from /proc.
pub fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(1);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_mib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map(|kib| kib / 1024)
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    Machine {
        cpu,
        cores,
        memory_mib,
        kernel,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, metric: Option<&str>) -> Spec {
        Spec {
            command: vec!["sh".into(), "-c".into(), script.into()],
            metric: metric.map(|m| Regex::new(m).unwrap()),
            env: Vec::new(),
            limit: Duration::from_secs(60),
        }
    }

    #[test]
    fn samples_from_wall_time_and_from_output() {
        assert!(sh("true", None).sample().unwrap() >= 0.0);
        assert_eq!(
            sh("echo took 1.25 s", Some(r"took ([0-9.]+) s"))
                .sample()
                .unwrap(),
            1.25
        );
        assert!(matches!(
            sh("echo nothing", Some(r"took ([0-9.]+)")).sample(),
            Err(RunError::NoMatch { .. })
        ));
        assert!(matches!(
            sh("echo took x", Some(r"took (\S+)")).sample(),
            Err(RunError::NotNumber { .. })
        ));
        assert!(matches!(
            sh("exit 3", None).sample(),
            Err(RunError::Failed { .. })
        ));
        let s = Spec {
            command: vec!["/nonexistent/prog".into()],
            metric: None,
            env: vec![],
            limit: Duration::from_secs(60),
        };
        assert!(matches!(s.sample(), Err(RunError::Spawn { .. })));
    }

    #[test]
    fn sweep_values_reach_arguments_and_environment() {
        let s = sh(
            "echo v=$max_active a={max_active}",
            Some(r"v=(\d+) a=(\d+)"),
        )
        .with_param("max_active", "8");
        assert_eq!(s.sample().unwrap(), 8.0);
        assert!(s.command[2].contains("a=8"));
    }

    #[test]
    fn a_run_past_its_limit_is_stopped() {
        let mut s = sh("sleep 30", None);
        s.limit = Duration::from_millis(200);
        assert!(matches!(s.sample(), Err(RunError::TimedOut { .. })));
    }
}
