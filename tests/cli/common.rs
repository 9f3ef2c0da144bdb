//! Hermetic test environment: fixture git repositories built with real git, no
//! global configuration, a fixed clock for commits and mails.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const SIGNATURE: &str = "series 0.1.0";
pub const NOW: &str = "1489568531 -0400";

/// The environment every git and series process in tests gets.
pub fn hermetic(cmd: &mut Command, home: &Path) {
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Aaron Lu")
        .env("GIT_AUTHOR_EMAIL", "aaron.lu@intel.com")
        .env("GIT_COMMITTER_NAME", "Aaron Lu")
        .env("GIT_COMMITTER_EMAIL", "aaron.lu@intel.com")
        .env("LC_ALL", "C")
        .env("TZ", "UTC")
        .env("SERIES_NOW", NOW);
}

/// A temporary workspace with a kernel-like tree and a project folder.
pub struct Env {
    pub dir: tempfile::TempDir,
    /// Seconds of the next commit's date.
    clock: std::cell::Cell<i64>,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir_all(dir.path().join("tree")).unwrap();
        fs::create_dir_all(dir.path().join("work")).unwrap();
        let env = Env {
            dir,
            clock: std::cell::Cell::new(1_489_568_404),
        };
        env.git(&["init", "-q", "-b", "main"]);
        env
    }

    pub fn tree(&self) -> PathBuf {
        self.dir.path().join("tree")
    }

    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    pub fn series_dir(&self) -> PathBuf {
        self.work().join("series")
    }

    /// Run git in the tree; panic with its stderr on failure.
    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.tree(), args)
    }

    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let mut c = Command::new("git");
        hermetic(&mut c, self.dir.path());
        let out = c.current_dir(dir).args(args).output().expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Run git in the tree with `input` on its stdin; panic on failure.
    pub fn git_stdin(&self, args: &[&str], input: &[u8]) -> String {
        use std::io::Write;
        let mut c = Command::new("git");
        hermetic(&mut c, self.dir.path());
        let mut child = c
            .current_dir(self.tree())
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run git");
        child.stdin.take().unwrap().write_all(input).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn write(&self, path: &str, bytes: impl AsRef<[u8]>) {
        let p = self.tree().join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, bytes).unwrap();
    }

    /// Commit everything with a fixed date one minute after the last.
    pub fn commit(&self, message: &str) {
        self.commit_as("Aaron Lu", "aaron.lu@intel.com", message);
    }

    pub fn commit_as(&self, name: &str, email: &str, message: &str) {
        self.clock.set(self.clock.get() + 60);
        let date = format!("{} +0800", self.clock.get());
        self.git(&["add", "-A"]);
        let mut c = Command::new("git");
        hermetic(&mut c, self.dir.path());
        let out = c
            .current_dir(self.tree())
            .env("GIT_AUTHOR_NAME", name)
            .env("GIT_AUTHOR_EMAIL", email)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .args(["commit", "-q", "--allow-empty", "-m", message])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A base commit with a MAINTAINERS file and a few sources, tagged.
    pub fn base(&self, tag: &str) {
        self.write(
            "MAINTAINERS",
            "MEMORY MANAGEMENT\nM:\tAndrew Morton <akpm@linux-foundation.org>\nL:\tlinux-mm@kvack.org\nS:\tMaintained\nF:\tmm/\n\nTHE REST\nL:\tlinux-kernel@vger.kernel.org\nS:\tButtons\n",
        );
        let mut memory = String::new();
        for i in 1..=200 {
            memory.push_str(&format!("line {i}\n"));
        }
        self.write("mm/memory.c", memory);
        self.write("include/asm-generic/tlb.h", "int a;\nint b;\n");
        self.write("scripts/.keep", "");
        self.commit("base");
        self.git(&["tag", tag]);
    }

    /// Run `series` in the project folder with extra args.
    pub fn series(&self, args: &[&str]) -> Output {
        self.series_in(&self.work(), args, &[])
    }

    /// Run `series --tree <the fixture tree> ARGS`.
    pub fn series_t(&self, args: &[&str]) -> Output {
        let tree = self.tree().to_string_lossy().into_owned();
        let mut full = vec!["--tree", tree.as_str()];
        full.extend_from_slice(args);
        self.series(&full)
    }

    pub fn series_env(&self, args: &[&str], vars: &[(&str, &str)]) -> Output {
        self.series_in(&self.work(), args, vars)
    }

    pub fn series_in(&self, dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
        let mut c = Command::new(assert_cmd::cargo::cargo_bin!("series"));
        hermetic(&mut c, self.dir.path());
        for (k, v) in vars {
            c.env(k, v);
        }
        c.current_dir(dir).args(args).output().expect("run series")
    }

    /// `series init` on the tree, asserting success.
    pub fn init(&self, extra: &[&str]) {
        let tree = self.tree();
        let mut args = vec!["--tree", tree.to_str().unwrap(), "init"];
        args.extend_from_slice(extra);
        let out = self.series(&args);
        assert_ok(&out);
    }

    /// Every file below `dir`, path -> bytes, for before/after comparisons.
    pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        if dir.exists() {
            walk(dir, dir, &mut out);
        }
        out.sort();
        out
    }
}

/// Assert two snapshots are equal, naming the files that differ.
#[track_caller]
pub fn assert_unchanged(before: &[(PathBuf, Vec<u8>)], after: &[(PathBuf, Vec<u8>)], what: &str) {
    if before == after {
        return;
    }
    let mut diff = Vec::new();
    for (p, b) in before {
        match after.iter().find(|(q, _)| q == p) {
            None => diff.push(format!("removed {}", p.display())),
            Some((_, a)) if a != b => diff.push(format!("changed {}", p.display())),
            _ => {}
        }
    }
    for (p, _) in after {
        if !before.iter().any(|(q, _)| q == p) {
            diff.push(format!("added {}", p.display()));
        }
    }
    panic!("{what}: series/ changed: {}", diff.join(", "));
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(root, &p, out);
        } else {
            out.push((
                p.strip_prefix(root).unwrap().to_path_buf(),
                fs::read(&p).unwrap(),
            ));
        }
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `series status` read the series: it exits 0 when the series is ready
/// to send and 5 when it is not, and is an error otherwise.
pub fn assert_read(o: &Output) {
    assert!(
        matches!(o.status.code(), Some(0) | Some(5)) && !stderr(o).contains("error:"),
        "series status failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
}

pub fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "series failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
}

/// Assert a failure with `code` whose stderr holds every one of `needles`,
/// on one `error:` line (plus an optional hint), never a panic.
pub fn assert_fails(o: &Output, code: i32, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(
        o.status.code(),
        Some(code),
        "stderr:\n{err}\nstdout:\n{}",
        stdout(o)
    );
    assert!(err.starts_with("error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.matches("error: ").count(), 1, "{err}");
    for n in needles {
        assert!(err.contains(n), "missing {n:?} in:\n{err}");
    }
}

/// Files of a folder, name -> bytes (series' mark of a mails folder,
/// `.series-mails`, left out).
pub fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with(".series-"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Lay the fixture tree out as a kernel tree, as checkpatch.pl and
/// get_maintainer.pl check for one (not committed).
pub fn kernel_layout(env: &Env) {
    for d in [
        "Documentation",
        "arch",
        "include",
        "drivers",
        "fs",
        "init",
        "ipc",
        "kernel",
        "lib",
    ] {
        env.write(&format!("{d}/.keep"), "");
    }
    for f in ["COPYING", "CREDITS", "Kbuild", "Makefile", "README"] {
        env.write(f, "");
    }
}

/// The unpacked scripts of linux-source-6.12. A test that needs them fails
/// when they are missing (`.ci/run` unpacks them); it never passes quietly.
/// The whole of Debian's linux-source-6.12 as a git repository (tag
/// v6.12), as `scripts/kernel-source.sh tree` makes it.
pub fn linux_tree() -> PathBuf {
    let dir = std::env::var_os("SERIES_LINUX_TREE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/series/linux-6.12"))
        })
        .unwrap_or_default();
    assert!(
        dir.join(".git/series-done").is_file(),
        "no linux-6.12 tree at {}: run scripts/kernel-source.sh tree",
        dir.display()
    );
    dir
}

pub fn linux_scripts() -> PathBuf {
    let dir = std::env::var_os("SERIES_LINUX_SCRIPTS")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/series/linux-6.12-scripts"))
        })
        .unwrap_or_default();
    assert!(
        dir.join("scripts/checkpatch.pl").is_file()
            && dir.join("scripts/get_maintainer.pl").is_file(),
        "no linux-6.12 scripts at {}: run scripts/kernel-source.sh scripts",
        dir.display()
    );
    dir
}
