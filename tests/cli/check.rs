//! `series check` with the real checkpatch.pl, spelling.txt and
//! const_structs.checkpatch from Debian's linux-source-6.12 (`.ci/run`
//! unpacks them with scripts/kernel-source.sh).

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::*;

/// The unpacked scripts of linux-source-6.12, or None (then the test says
/// so and passes, unless SERIES_REQUIRE_KERNEL=1, as in CI).
fn kernel_scripts() -> Option<PathBuf> {
    let dir = std::env::var_os("SERIES_LINUX_SCRIPTS")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/series/linux-6.12-scripts"))
        })?;
    if dir.join("scripts/checkpatch.pl").is_file() {
        return Some(dir);
    }
    if std::env::var("SERIES_REQUIRE_KERNEL").is_ok_and(|v| v == "1") {
        panic!(
            "no linux-6.12 scripts at {}: run scripts/kernel-source.sh scripts",
            dir.display()
        );
    }
    eprintln!("skipping: no linux-6.12 scripts (run scripts/kernel-source.sh scripts)");
    None
}

/// Make the fixture tree look like a kernel tree to checkpatch.
fn kernelish(env: &Env, scripts: &Path) {
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
    for f in ["checkpatch.pl", "spelling.txt", "const_structs.checkpatch"] {
        fs::copy(
            scripts.join("scripts").join(f),
            env.tree().join("scripts").join(f),
        )
        .unwrap();
    }
    env.commit("kernel layout");
    env.git(&["tag", "-f", "v4.11-rc2"]);
}

const GOOD_C: &str =
    "// SPDX-License-Identifier: GPL-2.0\n#include <linux/mm.h>\n\nint parallel_free_enable;\n";

/// Two patches that change an existing file (new files make checkpatch ask
/// about MAINTAINERS).
fn good_series(env: &Env) {
    env.write("mm/free.c", GOOD_C);
    env.commit("mm: add free.c");
    env.git(&["tag", "-f", "v4.11-rc2"]);
    env.write(
        "mm/free.c",
        format!("{GOOD_C}int parallel_free_threshold;\n"),
    );
    env.commit("mm: add parallel_free_threshold\n\nKeep the number of pages gathered before a worker frees them.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    env.write(
        "mm/free.c",
        format!("{GOOD_C}int parallel_free_threshold;\nint parallel_free_max_active;\n"),
    );
    env.commit("mm: add parallel_free_max_active\n\nKeep how many workers may free pages at once.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
}

fn setup(series: impl Fn(&Env)) -> Option<Env> {
    let scripts = kernel_scripts()?;
    let env = Env::new();
    env.base("v4.11-rc2");
    kernelish(&env, &scripts);
    series(&env);
    env.init(&["--base", "v4.11-rc2", "--subject", "mm: parallel free"]);
    fs::write(
        env.series_dir().join("cover.md"),
        "Free pages in parallel.\n",
    )
    .unwrap();
    Some(env)
}

fn check(env: &Env, extra: &[&str]) -> std::process::Output {
    let tree = env.tree().to_string_lossy().into_owned();
    let mut args = vec!["--tree", &tree, "check"];
    args.extend_from_slice(extra);
    // A private cache per test, so runs do not see each other's results.
    let cache = env.dir.path().join("cache").to_string_lossy().into_owned();
    env.series_env(&args, &[("XDG_CACHE_HOME", &cache)])
}

#[test]
fn a_clean_series_passes() {
    let Some(env) = setup(good_series) else {
        return;
    };
    let out = check(&env, &[]);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(
        text.contains("checkpatch: 2 patches checked (0 from the cache)"),
        "{text}"
    );
    assert!(
        text.contains("apply: every patch applies on v4.11-rc2"),
        "{text}"
    );
    assert!(
        text.ends_with("2 patches: 0 errors, 0 warnings\n"),
        "{text}"
    );
}

#[test]
fn checkpatch_findings_are_parsed_and_fail_the_check() {
    let Some(env) = setup(|env| {
        env.write("mm/free.c", format!("{GOOD_C}int parallel_free_enable_with_a_name_long_enough_to_be_silly = 1;   \nint  x;\n"));
        env.commit("mm: add a knob\n\nA knob with trailing whitespace.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    }) else {
        return;
    };
    let out = check(&env, &["--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let cp: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["source"] == "checkpatch")
        .collect();
    let tw = cp
        .iter()
        .find(|f| f["rule"] == "TRAILING_WHITESPACE")
        .expect("TRAILING_WHITESPACE");
    assert_eq!(tw["severity"], "error");
    assert_eq!(tw["file"], "mm/free.c");
    assert_eq!(tw["line"], 5);
    assert_eq!(tw["patch"], 1);
    // The native rule sees the same fault.
    assert!(findings
        .iter()
        .any(|f| f["rule"] == "trailing-whitespace" && f["line"] == 5));
    assert_eq!(v["checkpatch"]["status"], "ran");

    // Human output groups by patch and ends with the summary.
    let out = check(&env, &[]);
    let text = stdout(&out);
    assert!(text.contains("patch 1/1: mm: add a knob\n  error   checkpatch/TRAILING_WHITESPACE mm/free.c:5: trailing whitespace\n"), "{text}");
    assert!(stderr(&out).contains("error: "), "{}", stderr(&out));

    // Options pass through to checkpatch.
    let out = check(
        &env,
        &[
            "--json",
            "--checkpatch-args",
            "--ignore TRAILING_WHITESPACE",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "TRAILING_WHITESPACE"));
}

#[test]
fn an_unchanged_patch_is_not_checked_again() {
    let Some(env) = setup(good_series) else {
        return;
    };
    assert_ok(&check(&env, &[]));
    let second = check(&env, &[]);
    assert!(
        stdout(&second).contains("checkpatch: 2 patches checked (2 from the cache)"),
        "{}",
        stdout(&second)
    );
    let fresh = check(&env, &["--no-cache"]);
    assert!(
        stdout(&fresh).contains("(0 from the cache)"),
        "{}",
        stdout(&fresh)
    );
    // Editing one patch's message invalidates only that patch.
    let p = env
        .series_dir()
        .join("patches/0002-mm-add-parallel_free_max_active.patch");
    let text = fs::read_to_string(&p)
        .unwrap()
        .replace("Keep how many", "Hold how many");
    fs::write(&p, text).unwrap();
    let third = check(&env, &[]);
    assert!(
        stdout(&third).contains("(1 from the cache)"),
        "{}",
        stdout(&third)
    );
}

#[test]
fn without_a_tree_checkpatch_is_skipped_and_the_rest_runs() {
    let Some(env) = setup(good_series) else {
        return;
    };
    fs::write(env.series_dir().join("cover.md"), "*** BLURB HERE ***\n").unwrap();
    let out = env.series(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("checkpatch: skipped: no kernel tree"),
        "{text}"
    );
    assert!(text.contains("apply: skipped: no kernel tree"), "{text}");
    assert!(text.contains("native/cover-placeholder"), "{text}");
}

#[test]
fn a_patch_that_no_longer_applies_is_reported() {
    let Some(env) = setup(good_series) else {
        return;
    };
    let p = env
        .series_dir()
        .join("patches/0002-mm-add-parallel_free_max_active.patch");
    let text = fs::read_to_string(&p).unwrap().replace(
        " int parallel_free_threshold;\n",
        " int parallel_free_thresh;\n",
    );
    fs::write(&p, text).unwrap();
    let out = check(&env, &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("patch 2/2: mm: add parallel_free_max_active\n  error   apply/apply: does not apply on v4.11-rc2 after the patches before it: hunk 1 of mm/free.c does not match"), "{text}");
    assert!(text.contains("apply: stops at patch 2"), "{text}");
}

#[test]
fn a_hand_edited_header_is_not_canonical() {
    let Some(env) = setup(good_series) else {
        return;
    };
    let p = env
        .series_dir()
        .join("patches/0001-mm-add-parallel_free_threshold.patch");
    let text = fs::read_to_string(&p)
        .unwrap()
        .replace("[PATCH 1/2]", "[PATCH 1/3]");
    fs::write(&p, text).unwrap();
    let out = check(&env, &[]);
    let text = stdout(&out);
    assert!(text.contains("warning series/canonical series/patches/0001-mm-add-parallel_free_threshold.patch: the stored patch is not as series writes it"), "{text}");
}

#[test]
fn a_slow_checkpatch_becomes_a_finding_and_the_rest_is_checked() {
    let Some(env) = setup(good_series) else {
        return;
    };
    // A stand-in that hangs on the second patch only (the real script can
    // take many minutes on some patches); the time limit must stop it.
    let real = env.tree().join("scripts/checkpatch.pl");
    fs::rename(&real, env.tree().join("scripts/checkpatch-real.pl")).unwrap();
    fs::write(
        &real,
        r#"use File::Temp qw(tempfile);
my @args = @ARGV;
my $all = '';
for my $i (0 .. $#args) {
    local $/;
    if ($args[$i] eq '-') {
        my $in = <STDIN>;
        my ($fh, $name) = tempfile();
        print $fh $in;
        close $fh;
        $args[$i] = $name;
        $all .= $in;
    } elsif (-f $args[$i]) {
        open(my $h, '<', $args[$i]) or die;
        $all .= <$h>;
    }
}
sleep 60 if $all =~ /max_active/;
(my $real = $0) =~ s/checkpatch\.pl$/checkpatch-real.pl/;
exec('perl', $real, @args) or die;
"#,
    )
    .unwrap();
    let out = check(&env, &["--checkpatch-timeout", "2", "--json", "--no-cache"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let t: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "CHECKPATCH_TIMEOUT")
        .collect();
    assert_eq!(t.len(), 1, "{v}");
    assert_eq!(t[0]["patch"], 2);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn build_at_every_patch_names_the_first_that_breaks() {
    let Some(env) = setup(|env| {
        env.write("mm/free.c", GOOD_C);
        env.commit("mm: add free.c\n\nAdd it.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
        env.write("mm/broken.c", "syntax error\n");
        env.commit("mm: add broken.c\n\nBreak it.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
        env.write("mm/other.c", "int other;\n");
        env.commit("mm: add other.c\n\nMore.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    }) else {
        return;
    };
    env.write("dirty.txt", "uncommitted\n");
    let status_before = env.git(&["status", "--porcelain"]);
    let out = check(&env, &["--build", "test ! -f mm/broken.c", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let b: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["source"] == "build")
        .collect();
    assert_eq!(b.len(), 1, "{v}");
    assert_eq!(b[0]["patch"], 2);
    assert_eq!(
        env.git(&["status", "--porcelain"]),
        status_before,
        "the checkout changed"
    );
    assert_eq!(
        env.git(&["worktree", "list"]).lines().count(),
        1,
        "the scratch worktree was left behind"
    );

    let out = check(&env, &["--build", "true"]);
    assert!(
        stdout(&out).contains("build: `true` passed at every patch"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn max_warnings_turns_warnings_into_failure() {
    let Some(env) = setup(|env| {
        env.write("mm/free.c", GOOD_C);
        env.commit("add free.c without a subsystem prefix\n\nAdd it.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    }) else {
        return;
    };
    assert_ok(&check(&env, &[]));
    let out = check(&env, &["--max-warnings", "0"]);
    assert_fails(&out, 1, &["more than --max-warnings 0"]);
}
