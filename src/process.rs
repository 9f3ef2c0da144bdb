//! The one runner for external processes: checkpatch.pl, get_maintainer.pl,
//! `--build` commands, bench commands, git and git send-email all go through
//! [`Run`]. Arguments go straight to the process (no shell unless the caller
//! runs `sh -c` on purpose), stdout and stderr are captured, and every run has
//! a time limit that kills the child's whole process group, so a grandchild
//! that holds a pipe open cannot hang us.

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// A process to run.
#[derive(Clone, Debug)]
pub struct Run {
    program: OsString,
    args: Vec<OsString>,
    cwd: Option<PathBuf>,
    env: Vec<(OsString, OsString)>,
    stdin: Option<Vec<u8>>,
    limit: Duration,
    idle: Option<Duration>,
    /// On Ctrl-C, let the child finish (a message being handed over)
    /// rather than stop it.
    finish: bool,
    /// Stop the child when series dies, even by SIGKILL.
    tied: bool,
}

/// What a finished process left.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Finished {
    /// stderr as text, trimmed.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).trim().to_string()
    }
}

/// Why a run did not give a result.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("could not start `{program}`: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{program}` did not finish within {}s and was stopped", .limit.as_secs_f64())]
    TimedOut {
        program: String,
        limit: Duration,
        /// What it wrote before it was stopped.
        stdout: Vec<u8>,
        stderr: Vec<u8>,
    },
    #[error("`{program}` was stopped: series was interrupted")]
    Interrupted { program: String },
    #[error("`{program}` failed ({status}){}", stderr_suffix(.stderr))]
    Failed {
        program: String,
        status: String,
        stderr: String,
    },
}

fn stderr_suffix(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(": {s}")
    }
}

/// Whether `program` is an executable file in a folder of PATH.
pub fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(program))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// Milliseconds since `start`, for the idle watch.
fn millis(start: Instant) -> u64 {
    start.elapsed().as_millis() as u64
}

impl Run {
    /// A run of `program` with a default limit of ten minutes.
    pub fn new(program: impl AsRef<OsStr>) -> Run {
        Run {
            program: program.as_ref().to_os_string(),
            args: Vec::new(),
            cwd: None,
            env: Vec::new(),
            stdin: None,
            limit: Duration::from_secs(600),
            idle: None,
            finish: false,
            tied: false,
        }
    }

    /// When series is interrupted, wait for this child to finish instead
    /// of stopping it (it hands a message over: stopping it midway could
    /// deliver it unrecorded).
    pub fn finish_on_interrupt(mut self) -> Run {
        self.finish = true;
        self
    }

    /// Stop the child when series dies, however it dies (through
    /// util-linux's `setpriv --pdeathsig KILL` when it is installed): a
    /// killed send takes its `git send-email` with it.
    pub fn tied(mut self) -> Run {
        self.tied = true;
        self
    }

    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Run {
        self.args.push(a.as_ref().to_os_string());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    pub fn cwd(mut self, dir: &Path) -> Run {
        self.cwd = Some(dir.to_path_buf());
        self
    }

    pub fn env(mut self, k: impl AsRef<OsStr>, v: impl AsRef<OsStr>) -> Run {
        self.env
            .push((k.as_ref().to_os_string(), v.as_ref().to_os_string()));
        self
    }

    /// Bytes for the child's stdin (else it reads /dev/null).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Run {
        self.stdin = Some(bytes.into());
        self
    }

    /// The time limit for the whole run.
    pub fn limit(mut self, limit: Duration) -> Run {
        self.limit = limit;
        self
    }

    /// Also stop the child when it writes nothing to stdout for this long.
    pub fn idle(mut self, idle: Duration) -> Run {
        self.idle = Some(idle);
        self
    }

    /// The command as a user would type it, for messages.
    pub fn display(&self) -> String {
        std::iter::once(&self.program)
            .chain(&self.args)
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn program_name(&self) -> String {
        Path::new(&self.program)
            .file_name()
            .unwrap_or(&self.program)
            .to_string_lossy()
            .into_owned()
    }

    /// The command to spawn: the program (under `setpriv --pdeathsig KILL`
    /// when tied to this process), its arguments, environment, pipes and
    /// folder, in a process group of its own.
    fn command(&self) -> Command {
        let mut cmd = match setpriv().filter(|_| self.tied) {
            Some(sp) => {
                let mut c = Command::new(sp);
                c.args(["--pdeathsig", "KILL", "--"]).arg(&self.program);
                c
            }
            None => Command::new(&self.program),
        };
        cmd.args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        if let Some(d) = &self.cwd {
            cmd.current_dir(d);
        }
        cmd
    }

    /// Run to the end, whatever the exit status: spawn, feed, watch (the
    /// waiting loop is in Waiting::wait) and reap.
    pub fn output(self) -> Result<Finished, RunError> {
        let name = self.program_name();
        let _protected = crate::interrupt::protect();
        let mut cmd = self.command();
        let mut child = cmd.spawn().map_err(|source| RunError::Spawn {
            program: name.clone(),
            source,
        })?;
        let pid = child.id();
        if let (Some(mut pipe), Some(bytes)) = (child.stdin.take(), self.stdin) {
            std::thread::spawn(move || {
                let _ = pipe.write_all(&bytes);
            });
        }
        let start = Instant::now();
        let last_out = Arc::new(AtomicU64::new(0));
        let (tx, rx) = mpsc::channel::<(bool, Vec<u8>)>();
        if let Some(out) = child.stdout.take() {
            spawn_reader(out, true, tx.clone(), Some((last_out.clone(), start)));
        }
        if let Some(err) = child.stderr.take() {
            spawn_reader(err, false, tx, None);
        }
        let deadline = start + self.limit;
        let mut w = Waiting {
            status: None,
            stdout: None,
            stderr: None,
        };
        let end = match w.wait(
            &mut child,
            &rx,
            deadline,
            self.idle,
            start,
            &last_out,
            self.finish,
        ) {
            Ok(t) => t,
            Err(source) => {
                kill_group(pid);
                return Err(RunError::Spawn {
                    program: name,
                    source,
                });
            }
        };
        if end == End::Interrupted {
            kill_group(pid);
            let _ = child.wait();
            return Err(RunError::Interrupted { program: name });
        }
        let timed_out = end == End::TimedOut;
        let Waiting {
            status,
            mut stdout,
            mut stderr,
        } = w;
        // Whatever is left of the group (a straggler, or all of it on a
        // time-out) goes now.
        kill_group(pid);
        if timed_out {
            let _ = child.wait();
            // The readers end once every holder of the pipes is dead; give
            // them a moment, but never wait on a process outside the group.
            drain(&rx, &mut stdout, &mut stderr);
            let limit = match self.idle {
                Some(idle) if Instant::now() < deadline => idle,
                _ => self.limit,
            };
            return Err(RunError::TimedOut {
                program: name,
                limit,
                stdout: stdout.unwrap_or_default(),
                stderr: stderr.unwrap_or_default(),
            });
        }
        Ok(Finished {
            status: status.unwrap_or_else(unreachable_status),
            stdout: stdout.unwrap_or_default(),
            stderr: stderr.unwrap_or_default(),
        })
    }

    /// Run to the end and require a zero exit status.
    pub fn checked(self) -> Result<Finished, RunError> {
        let name = self.program_name();
        let f = self.output()?;
        if f.status.success() {
            Ok(f)
        } else {
            Err(RunError::Failed {
                program: name,
                status: f.status.to_string(),
                stderr: f.stderr_text(),
            })
        }
    }
}

/// How waiting ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Done,
    TimedOut,
    Interrupted,
}

/// util-linux's `setpriv`, when installed.
fn setpriv() -> Option<PathBuf> {
    static FOUND: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    FOUND
        .get_or_init(|| {
            let path = std::env::var_os("PATH")?;
            std::env::split_paths(&path)
                .map(|d| d.join("setpriv"))
                .find(|p| p.is_file())
        })
        .clone()
}

/// What a run has given so far.
struct Waiting {
    status: Option<ExitStatus>,
    stdout: Option<Vec<u8>>,
    stderr: Option<Vec<u8>>,
}

impl Waiting {
    /// Wait for the child to exit and both pipes to close, until the
    /// deadline (or, with `idle`, a quiet stdout) passes, or series is
    /// interrupted (unless `finish`).
    #[allow(clippy::too_many_arguments)]
    fn wait(
        &mut self,
        child: &mut std::process::Child,
        rx: &mpsc::Receiver<(bool, Vec<u8>)>,
        deadline: Instant,
        idle: Option<Duration>,
        start: Instant,
        last_out: &AtomicU64,
        finish: bool,
    ) -> std::io::Result<End> {
        loop {
            if self.status.is_none() {
                self.status = child.try_wait()?;
            }
            while let Ok((is_out, bytes)) = rx.try_recv() {
                if is_out {
                    self.stdout = Some(bytes);
                } else {
                    self.stderr = Some(bytes);
                }
            }
            if self.status.is_some() && self.stdout.is_some() && self.stderr.is_some() {
                return Ok(End::Done);
            }
            if !finish && crate::interrupt::interrupted() {
                return Ok(End::Interrupted);
            }
            if Instant::now() >= deadline {
                return Ok(End::TimedOut);
            }
            if let (Some(idle), None) = (idle, self.status) {
                let quiet = millis(start).saturating_sub(last_out.load(Ordering::Relaxed));
                if Duration::from_millis(quiet) >= idle {
                    return Ok(End::TimedOut);
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// An exit status for the impossible case of a finished loop without one.
fn unreachable_status() -> ExitStatus {
    use std::os::unix::process::ExitStatusExt;
    ExitStatus::from_raw(255 << 8)
}

/// What the readers still send within half a second: the output of a
/// child killed on a time-out.
fn drain(
    rx: &mpsc::Receiver<(bool, Vec<u8>)>,
    stdout: &mut Option<Vec<u8>>,
    stderr: &mut Option<Vec<u8>>,
) {
    let until = Instant::now() + Duration::from_millis(500);
    while stdout.is_none() || stderr.is_none() {
        let left = until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((true, b)) => *stdout = Some(b),
            Ok((false, b)) => *stderr = Some(b),
            Err(_) => break,
        }
    }
}

fn spawn_reader(
    mut pipe: impl Read + Send + 'static,
    is_out: bool,
    tx: mpsc::Sender<(bool, Vec<u8>)>,
    watch: Option<(Arc<AtomicU64>, Instant)>,
) {
    std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    all.extend_from_slice(&buf[..n]);
                    if let Some((at, start)) = &watch {
                        at.store(millis(*start), Ordering::Relaxed);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = tx.send((is_out, all));
    });
}

/// SIGKILL every process of the group led by `pid`.
fn kill_group(pid: u32) {
    let pid = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw);
    if let Some(pid) = pid {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_status() {
        let f = Run::new("sh")
            .args(["-c", "cat; echo err >&2; exit 3"])
            .stdin("in\n")
            .output()
            .unwrap();
        assert_eq!(f.stdout, b"in\n");
        assert_eq!(f.stderr_text(), "err");
        assert_eq!(f.status.code(), Some(3));
    }

    #[test]
    fn checked_names_the_failure() {
        let e = Run::new("sh")
            .args(["-c", "echo broken >&2; exit 1"])
            .checked()
            .unwrap_err();
        assert!(e.to_string().contains("broken"), "{e}");
    }

    #[test]
    fn a_grandchild_holding_the_pipe_is_killed_with_the_group() {
        // The shell exits at once; its background child keeps stdout open.
        let e = Run::new("sh")
            .args(["-c", "sleep 30 & echo started"])
            .limit(Duration::from_millis(500))
            .output()
            .unwrap_err();
        assert!(matches!(e, RunError::TimedOut { .. }), "{e}");
    }

    #[test]
    fn an_idle_child_is_stopped() {
        let e = Run::new("sh")
            .args(["-c", "echo one; sleep 30"])
            .idle(Duration::from_millis(300))
            .output()
            .unwrap_err();
        match e {
            RunError::TimedOut { stdout, .. } => assert_eq!(stdout, b"one\n"),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn a_missing_program_is_a_spawn_error() {
        let e = Run::new("no-such-program-here").output().unwrap_err();
        assert!(matches!(e, RunError::Spawn { .. }));
    }
}
