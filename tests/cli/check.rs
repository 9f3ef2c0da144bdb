//! `series check` with the real checkpatch.pl, spelling.txt and
//! const_structs.checkpatch from Debian's linux-source-6.12 (`.ci/run`
//! unpacks them with scripts/kernel-source.sh).

use std::fs;
use std::path::Path;

use crate::common::*;

/// Make the fixture tree look like a kernel tree to checkpatch.
fn kernelish(env: &Env, scripts: &Path) {
    kernel_layout(env);
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

fn setup(series: impl Fn(&Env)) -> Env {
    let scripts = linux_scripts();
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
    env
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
    let env = setup(good_series);
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
    let env = setup(|env| {
        env.write("mm/free.c", format!("{GOOD_C}int parallel_free_enable_with_a_name_long_enough_to_be_silly = 1;   \nint  x;\n"));
        env.commit("mm: add a knob\n\nA knob with trailing whitespace.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    });
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
    // The native rule mirrors TRAILING_WHITESPACE: the fault is reported once.
    assert!(!findings
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
    let env = setup(good_series);
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
    let env = setup(good_series);
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
    let env = setup(good_series);
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
    let env = setup(good_series);
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
    let env = setup(good_series);
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
    let env = setup(|env| {
        env.write("mm/free.c", GOOD_C);
        env.commit("mm: add free.c\n\nAdd it.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
        env.write("mm/broken.c", "syntax error\n");
        env.commit("mm: add broken.c\n\nBreak it.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
        env.write("mm/other.c", "int other;\n");
        env.commit("mm: add other.c\n\nMore.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    });
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
        stdout(&out).contains("build: `true` passed at the base and every patch, 0 new warnings"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn max_warnings_turns_warnings_into_failure() {
    let env = setup(|env| {
        env.write("mm/free.c", GOOD_C);
        env.commit("add free.c without a subsystem prefix\n\nAdd it.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    });
    assert_ok(&check(&env, &[]));
    let out = check(&env, &["--max-warnings", "0"]);
    assert_fails(&out, 1, &["more than --max-warnings 0"]);
}

/// Put `script` in place of the tree's checkpatch.pl; the real one stays
/// beside it as checkpatch-real.pl (its data files still next to it).
fn stand_in(env: &Env, script: &str) {
    let real = env.tree().join("scripts/checkpatch.pl");
    fs::rename(&real, env.tree().join("scripts/checkpatch-real.pl")).unwrap();
    fs::write(&real, script).unwrap();
}

fn findings(out: &std::process::Output, rule: &str) -> Vec<serde_json::Value> {
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(out)));
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .cloned()
        .collect()
}

#[test]
fn a_checkpatch_that_dies_fails_the_check() {
    let env = setup(good_series);
    // As when a perl module is missing: nothing on stdout, an error on
    // stderr, a non-zero exit.
    stand_in(
        &env,
        "die \"Can't locate Term/ANSIColor.pm in \\@INC (you may need to install it)\\n\";\n",
    );
    let out = check(&env, &["--json", "--no-cache"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let f = findings(&out, "CHECKPATCH_FAILED");
    assert_eq!(f.len(), 2, "one per patch: {f:?}");
    assert_eq!(f[0]["patch"], 1);
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("Can't locate Term/ANSIColor.pm"),
        "{f:?}"
    );
    // Nothing of it is cached as a clean result.
    let again = check(&env, &["--json"]);
    assert_eq!(findings(&again, "CHECKPATCH_FAILED").len(), 2);
}

#[test]
fn bad_checkpatch_args_fail_the_check() {
    let env = setup(good_series);
    let out = check(
        &env,
        &["--checkpatch-args", "--no-such-option", "--no-cache"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("checkpatch/CHECKPATCH_FAILED"), "{text}");
    assert!(text.contains("no-such-option"), "{text}");
    assert!(!text.ends_with("0 errors, 0 warnings\n"), "{text}");
}

#[test]
fn a_checkpatch_child_holding_its_output_is_killed() {
    let env = setup(good_series);
    // The script leaves a child behind that keeps stdout open, then runs
    // the real checkpatch.
    stand_in(
        &env,
        r#"if (fork() == 0) { sleep 600; exit 0; }
($0 = $0) =~ s/checkpatch\.pl$/checkpatch-real.pl/;
my $ok = do $0;
die $@ if $@;
exit 0;
"#,
    );
    let out = check(&env, &["--checkpatch-timeout", "3", "--no-cache"]);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(
        text.contains("checkpatch: 2 patches checked (0 from the cache)"),
        "{text}"
    );
    assert!(!text.contains("CHECKPATCH_TIMEOUT"), "{text}");
}

#[test]
fn one_slow_patch_among_many_is_stopped_alone_and_the_rest_checked_once() {
    let env = setup(|env| {
        env.write("mm/free.c", GOOD_C);
        env.commit("mm: add free.c");
        env.git(&["tag", "-f", "v4.11-rc2"]);
        for i in 1..=6 {
            let mut text = GOOD_C.to_string();
            for k in 1..=i {
                text.push_str(&format!("int knob_{k};\n"));
            }
            env.write("mm/free.c", text);
            env.commit(&format!("mm: add knob {i}\n\nOne more knob.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>"));
        }
    });
    // A stand-in that logs each file it starts on and reports it clean,
    // and hangs on patch 2.
    let log = env.dir.path().join("checked.log");
    stand_in(
        &env,
        &format!(
            r#"open(my $log, '>>', '{}') or die;
for my $f (grep {{ -f $_ }} @ARGV) {{
    open(my $h, '<', $f) or die; local $/; my $text = <$h>;
    my ($subject) = $text =~ /^Subject: (.*)$/m;
    print $log "$subject\n"; $log->flush;
    sleep 600 if $subject =~ /add knob 2$/;
    print "total: 0 errors, 0 warnings, 10 lines checked\n\n$f has no obvious style problems and is ready for submission.\n";
}}
exit 0;
"#,
            log.display()
        ),
    );
    let out = check(
        &env,
        &[
            "--checkpatch-timeout",
            "2",
            "-j",
            "1",
            "--json",
            "--no-cache",
        ],
    );
    let t = findings(&out, "CHECKPATCH_TIMEOUT");
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(t[0]["patch"], 2);
    // Every patch was started once: no batch was run again patch by patch.
    let started = fs::read_to_string(&log).unwrap();
    assert_eq!(started.lines().count(), 6, "{started}");
    for i in 1..=6 {
        assert_eq!(
            started.matches(&format!("add knob {i}")).count(),
            1,
            "{started}"
        );
    }
}

#[test]
fn a_build_that_hangs_is_stopped() {
    let env = setup(good_series);
    let out = check(
        &env,
        &["--build", "sleep 600", "--build-timeout", "1", "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    // The base is built first: it is the build there that is stopped,
    // and a check that could not run is no pass.
    let f = findings(&out, "build-timeout");
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["patch"], serde_json::Value::Null);
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("at the base, before any patch"),
        "{f:?}"
    );
    assert_eq!(
        env.git(&["worktree", "list"]).lines().count(),
        1,
        "the scratch worktree was left behind"
    );
}

#[test]
fn a_long_line_is_reported_once_by_checkpatch_not_again_by_the_native_rule() {
    let env = setup(|env| {
        good_series(env);
        let long = format!("int parallel_free_{} = 1;\n", "x".repeat(110));
        let text = fs::read_to_string(env.tree().join("mm/free.c")).unwrap();
        env.write("mm/free.c", format!("{text}{long}"));
        env.commit(
            "mm: add a long name\n\nA long one.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>",
        );
    });
    let out = check(&env, &["--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let on_3: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["patch"] == 3)
        .map(|f| {
            (
                f["source"].as_str().unwrap().to_string(),
                f["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        on_3,
        vec![("checkpatch".to_string(), "LONG_LINE".to_string())],
        "{v:#}"
    );
    // Without checkpatch (no kernel tree), the native rule reports it.
    let out = env.series(&["check", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["patch"] == 3 && f["rule"] == "line-length"),
        "{v:#}"
    );
}

#[test]
fn a_long_comment_or_string_is_reported_once_too() {
    let env = setup(|env| {
        good_series(env);
        let text = fs::read_to_string(env.tree().join("mm/free.c")).unwrap();
        let comment = format!("/* {} */\n", "a comment that goes on ".repeat(6));
        let string = format!(
            "const char *parallel_free_msg = \"{}\";\n",
            "a string that goes on ".repeat(6)
        );
        env.write("mm/free.c", format!("{text}{comment}{string}"));
        env.commit(
            "mm: add a long comment and string\n\nLong ones.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>",
        );
    });
    let out = check(&env, &["--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let on_3: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["patch"] == 3)
        .map(|f| {
            format!(
                "{}/{}",
                f["source"].as_str().unwrap(),
                f["rule"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        on_3.contains(&"checkpatch/LONG_LINE_COMMENT".to_string()),
        "{v:#}"
    );
    assert!(on_3.contains(&"checkpatch/LONG_LINE".to_string()), "{v:#}");
    assert!(
        !on_3.contains(&"native/line-length".to_string()),
        "{on_3:?}"
    );
}

/// `Fixes:` tags are looked up in the tree, as the bots do: the commit
/// must exist, carry the quoted subject and be in the base's history; and
/// whoever sends a patch signs it last.
#[test]
fn fixes_tags_are_looked_up_and_the_sender_signs_last() {
    let env = Env::new();
    env.base("v4.11-rc2");
    kernelish(&env, &linux_scripts());
    env.write("mm/free.c", GOOD_C);
    env.commit("mm: add free.c");
    env.git(&["tag", "-f", "v4.11-rc2"]);
    // A commit the base does not contain, on a branch of its own.
    env.git(&["checkout", "-q", "-b", "elsewhere"]);
    env.write("mm/other.c", GOOD_C);
    env.commit("mm: add other.c");
    env.git(&["checkout", "-q", "-"]);
    let fixed = env.git(&["rev-parse", "v4.11-rc2"]);
    let elsewhere = env.git(&["rev-parse", "elsewhere"]);
    let (fixed, elsewhere) = (&fixed.trim()[..12], &elsewhere.trim()[..12]);
    let patches = [
        // Right: in the base's history, its own subject.
        format!("Fixes: {fixed} (\"mm: add free.c\")\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>"),
        // A subject the commit does not have.
        format!("Fixes: {fixed} (\"mm: add the free file\")\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>"),
        // No such commit; and someone else signed after the sender.
        "Fixes: 0123456789ab (\"mm: gone\")\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>\nSigned-off-by: Dave Hansen <dave.hansen@intel.com>".to_string(),
        // Not in the base's history.
        format!("Fixes: {elsewhere} (\"mm: add other.c\")\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>"),
    ];
    env.git(&["checkout", "-q", "v4.11-rc2", "-B", "work"]);
    let mut body = GOOD_C.to_string();
    for (i, trailers) in patches.iter().enumerate() {
        body.push_str(&format!("int parallel_free_{i};\n"));
        env.write("mm/free.c", &body);
        env.commit(&format!(
            "mm: add parallel_free_{i}\n\nKeep knob {i}.\n\n{trailers}"
        ));
    }
    env.init(&["--base", "v4.11-rc2", "--subject", "mm: parallel free"]);
    fs::write(
        env.series_dir().join("cover.md"),
        "Free pages in parallel.\n",
    )
    .unwrap();

    let out = check(&env, &["--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ours: Vec<(u64, String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            let r = f["rule"].as_str().unwrap();
            r.starts_with("fixes-") || r == "signoff-chain"
        })
        .map(|f| {
            (
                f["patch"].as_u64().unwrap(),
                f["rule"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let rules: Vec<(u64, &str)> = ours.iter().map(|(p, r, _)| (*p, r.as_str())).collect();
    assert_eq!(
        rules,
        [
            (2, "fixes-subject"),
            (3, "fixes-commit"),
            (3, "signoff-chain"),
            (4, "fixes-base")
        ],
        "{ours:?}"
    );
    assert!(
        ours[0]
            .2
            .contains("(\"mm: add free.c\"), not \"mm: add the free file\""),
        "{ours:?}"
    );
    assert!(ours[2].2.contains("the last Signed-off-by is Dave Hansen <dave.hansen@intel.com>, but Aaron Lu <aaron.lu@intel.com> sends it"), "{ours:?}");
    assert!(
        ours[3]
            .2
            .contains("not in the history of the base v4.11-rc2"),
        "{ours:?}"
    );
}

/// kernel-doc runs on the C files each patch touches, before and after
/// it: the base's own warnings, moved by the patch, are not blamed on it;
/// the one it adds is reported with its line.
#[test]
fn kernel_doc_reports_only_the_warnings_a_patch_adds() {
    let scripts = linux_scripts();
    let env = Env::new();
    env.base("v4.11-rc2");
    kernelish(&env, &scripts);
    fs::copy(
        scripts.join("scripts/kernel-doc"),
        env.tree().join("scripts/kernel-doc"),
    )
    .expect("scripts/kernel-doc of linux-source-6.12 (scripts/kernel-source.sh scripts)");
    let old = "/**\n * old_free() - free the old way\n * @a: the pages\n */\nint old_free(int a, int b);\n";
    env.write("mm/free.h", format!("{GOOD_C}{old}"));
    env.commit("mm: add free.h");
    env.git(&["tag", "-f", "v4.11-rc2"]);
    let new = "/**\n * par_free() - free in parallel\n * @pages: the pages\n */\nint par_free(int pages, int workers);\n";
    env.write("mm/free.h", format!("{GOOD_C}{new}{old}"));
    env.commit("mm: add par_free\n\nDeclare the parallel free.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    env.write(
        "mm/free.h",
        format!("{GOOD_C}{new}{old}int par_free_threshold;\n"),
    );
    env.commit(
        "mm: add par_free_threshold\n\nA knob.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>",
    );
    env.init(&["--base", "v4.11-rc2", "--subject", "mm: parallel free"]);
    fs::write(
        env.series_dir().join("cover.md"),
        "Free pages in parallel.\n",
    )
    .unwrap();

    let out = check(&env, &["--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kd: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "kernel-doc")
        .collect();
    assert_eq!(kd.len(), 1, "{kd:?}");
    assert_eq!(kd[0]["patch"], 1);
    assert_eq!(kd[0]["file"], "mm/free.h");
    assert_eq!(kd[0]["line"], 9);
    assert_eq!(
        kd[0]["message"],
        "Function parameter or struct member 'workers' not described in 'par_free'"
    );
    assert_eq!(v["kernel_doc"], "2 file changes checked, 1 new warning");
    let text = stdout(&check(&env, &[]));
    assert!(
        text.contains("kernel-doc: 2 file changes checked, 1 new warning"),
        "{text}"
    );
}

/// `check --build` builds the base, then every patch, and reports only the
/// compiler warnings a patch adds (the base's, moved by a patch, are not
/// blamed on it) and the ones a patch fixes, with real gcc and make.
#[test]
fn build_warnings_each_patch_adds_and_fixes_are_told_apart() {
    let base_c =
        "// SPDX-License-Identifier: GPL-2.0\nint free_base(void)\n{\n\tint x;\n\treturn 0;\n}\n";
    let env = setup(|env| {
        env.write(
            "Makefile",
            "WARN ?= -Wall\nall: mm/free.o\n\n%.o: %.c\n\tcc $(WARN) -c -o $@ $<\n",
        );
        env.write("mm/free.c", base_c);
        env.commit("mm: add free.c with a warning of its own");
        env.git(&["tag", "-f", "v4.11-rc2"]);
        let more = "int free_more(void)\n{\n\tint y;\n\treturn 1;\n}\n";
        env.write("mm/free.c", format!("/* moved down */\n\n{base_c}{more}"));
        env.commit("mm: add free_more\n\nAdd it.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
        let fixed = base_c.replace("\tint x;\n", "");
        env.write("mm/free.c", format!("/* moved down */\n\n{fixed}{more}"));
        env.commit(
            "mm: drop the unused x\n\nTidy.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>",
        );
    });
    let out = check(&env, &["--build", "make", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let w = findings(&out, "build-warning");
    assert_eq!(w.len(), 1, "{v}");
    assert_eq!(w[0]["patch"], 1);
    assert_eq!(w[0]["file"], "mm/free.c");
    assert_eq!(w[0]["line"], 11);
    assert!(
        w[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("unused variable 'y'"),
        "{w:?}"
    );
    assert_eq!(
        v["build"],
        "`make` passed at the base and every patch, 1 new warning; patch 2 fixes mm/free.c: unused variable 'x' [-Wunused-variable]"
    );
    assert_eq!(
        env.git(&["worktree", "list"]).lines().count(),
        1,
        "the scratch worktree was left behind"
    );

    // Through ccache (Debian's /usr/lib/ccache first on PATH): the same
    // build again is served from its cache (in the test's HOME).
    let stats = || -> u64 {
        let mut c = std::process::Command::new("ccache");
        hermetic(&mut c, env.dir.path());
        // Where check() puts the caches of the processes it runs.
        c.env("XDG_CACHE_HOME", env.dir.path().join("cache"));
        let out = c
            .arg("--print-stats")
            .output()
            .expect("ccache (Debian's ccache)");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("direct_cache_hit\t"))
            .map(|n| n.trim().parse::<u64>().unwrap())
            .sum()
    };
    let before = stats();
    // Without series' own build cache, which would build nothing.
    let out = check(&env, &["--build", "make", "--no-cache"]);
    assert_ok(&out);
    assert!(stats() > before, "no ccache hit");

    // Two builds at once: a profile named in git config, and a command.
    env.git(&["config", "series.build.quiet", "make WARN=-w"]);
    let out = check(
        &env,
        &[
            "--build",
            "quiet",
            "--build",
            "make",
            "--json",
            "--no-cache",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["build"],
        "quiet: `make WARN=-w` passed at the base and every patch, 0 new warnings\n`make` passed at the base and every patch, 1 new warning; patch 2 fixes mm/free.c: unused variable 'x' [-Wunused-variable]"
    );
    assert_eq!(findings(&out, "build-warning").len(), 1);
    assert_eq!(
        env.git(&["worktree", "list"]).lines().count(),
        1,
        "a scratch worktree was left behind"
    );
}

/// The series' shape: two patches with an empty cover letter are an
/// error, named on the cover; with prose, none.
#[test]
fn a_series_of_patches_needs_a_cover_that_says_something() {
    let env = setup(good_series);
    fs::write(env.series_dir().join("cover.md"), "\n").unwrap();
    let out = check(&env, &["--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let f = findings(&out, "cover-empty");
    assert_eq!(f.len(), 1, "{}", stdout(&out));
    assert_eq!(f[0]["patch"], 0);
    assert!(f[0]["message"]
        .as_str()
        .unwrap()
        .contains("a series of 2 patches"));
    fs::write(
        env.series_dir().join("cover.md"),
        "Free pages in parallel.\n",
    )
    .unwrap();
    assert!(findings(&check(&env, &["--json"]), "cover-empty").is_empty());
}

/// b4 review's per-patch check protocol both ways, with b4's own code
/// (`b4.review.checks.run_perpatch_checks`, as `b4 review` calls a
/// `review-perpatch-check-cmd`): series as the check command, reading its
/// JSON; and `series check --external` running a check command on every
/// patch, series itself among them, folding what it reports in.
#[test]
fn b4_check_protocol_both_ways() {
    let env = setup(good_series);
    let patch = env
        .series_dir()
        .join("patches/0001-mm-add-parallel_free_threshold.patch");
    let text = fs::read_to_string(&patch).unwrap();
    let mail = env.dir.path().join("one.eml");
    // Trailing whitespace (checkpatch's, which series' own rule yields to)
    // and a Fixes: tag naming no commit (series' alone).
    let bad = text
        .replace(
            "+int parallel_free_threshold;\n",
            "+int parallel_free_threshold;  \n",
        )
        .replace(
            "\nSigned-off-by:",
            "\nFixes: 0123456789ab (\"mm: no such commit\")\nSigned-off-by:",
        );
    fs::write(&mail, bad).unwrap();
    let series = assert_cmd::cargo::cargo_bin!("series");
    let python = crate::review::b4().with_file_name("python3");
    let script = "import sys, json, email, email.policy\nimport b4.review.checks as c\nmsg = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)\nprint(json.dumps(c.run_perpatch_checks([('one', msg)], [sys.argv[2]], sys.argv[3])['one']))\n";
    let mut c = std::process::Command::new(&python);
    hermetic(&mut c, env.dir.path());
    let out = c
        .args(["-c", script])
        .arg(&mail)
        .arg(format!("{} check --mail - --format b4", series.display()))
        .arg(env.tree())
        .output()
        .expect("b4's python");
    assert_ok(&out);
    let results: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let by_tool = |t: &str| {
        results
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["tool"] == t)
            .cloned()
    };
    let ours = by_tool("series").unwrap_or_else(|| panic!("{results}"));
    assert_eq!(ours["status"], "warn", "{results}");
    assert_eq!(ours["summary"], "0 errors, 1 warning");
    assert!(
        ours["details"]
            .as_str()
            .unwrap()
            .contains("WARNING: Fixes: 0123456789ab names no commit"),
        "{results}"
    );
    let cp = by_tool("series-checkpatch").unwrap_or_else(|| panic!("{results}"));
    assert_eq!(cp["status"], "fail", "{results}");
    assert!(
        cp["details"]
            .as_str()
            .unwrap()
            .contains("TRAILING_WHITESPACE"),
        "{results}"
    );

    // Patchwork's checks, for a bot to post.
    let tree = env.tree().to_string_lossy().into_owned();
    let m = mail.to_string_lossy().into_owned();
    let out = env.series(&[
        "--tree",
        &tree,
        "check",
        "--mail",
        &m,
        "--format",
        "patchwork",
    ]);
    assert_ok(&out);
    let pw: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(pw[0]["context"], "series");
    assert_eq!(pw[0]["state"], "warning");
    assert_eq!(pw[1]["context"], "series-checkpatch");

    // The other way: check commands run on every patch of the series.
    let bad = env.dir.path().join("bad-check.sh");
    fs::write(&bad, "#!/bin/sh\ncat > /dev/null\necho 'not json'\n").unwrap();
    let warn = env.dir.path().join("warn-check.sh");
    fs::write(
        &warn,
        "#!/bin/sh\ngrep -q '^Subject: .*max_active' && echo '[{\"tool\": \"lint\", \"status\": \"warn\", \"summary\": \"max_active is a poor name\", \"details\": \"rename it\"}]'\nexit 0\n",
    )
    .unwrap();
    for f in [&bad, &warn] {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(f, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let ours = format!("{} check --mail - --format b4", series.display());
    let out = check(
        &env,
        &[
            "--external",
            &ours,
            "--external",
            &warn.to_string_lossy(),
            "--external",
            &bad.to_string_lossy(),
            "--json",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lint = findings(&out, "lint");
    assert_eq!(lint.len(), 1, "{v}");
    assert_eq!(lint[0]["patch"], 2);
    assert_eq!(lint[0]["severity"], "warning");
    assert_eq!(lint[0]["source"], "external");
    assert_eq!(lint[0]["message"], "max_active is a poor name\nrename it");
    let invalid = findings(&out, "external");
    assert_eq!(invalid.len(), 2, "{v}");
    assert!(
        invalid[0]["message"]
            .as_str()
            .unwrap()
            .contains("is not b4's check JSON"),
        "{v}"
    );
    assert!(
        findings(&out, "series").is_empty(),
        "the clean series failed series' own check: {v}"
    );
    assert_eq!(v["external"].as_array().unwrap().len(), 3, "{v}");
}

/// The base must be on a ref others can fetch: with no remote it is not
/// checked (and says so); on a remote-tracking branch it passes; a base
/// with commits only here is a warning naming the nearest public
/// ancestor; a ref named in series.publicRefs counts as public.
#[test]
fn the_base_must_be_public() {
    let env = setup(good_series);
    let note = |out: &std::process::Output| -> String {
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["public_base"].as_str().unwrap().to_string()
    };
    let out = check(&env, &["--json"]);
    assert!(
        note(&out).starts_with("not checked: the tree has no remote-tracking branch"),
        "{}",
        note(&out)
    );
    assert!(findings(&out, "public-base").is_empty());

    // A public tree holding the base: a bare clone, fetched as origin.
    let public = env.dir.path().join("public.git");
    let p = public.to_string_lossy().into_owned();
    env.git(&["clone", "-q", "--bare", ".", &p]);
    env.git(&["remote", "add", "origin", &p]);
    env.git(&["fetch", "-q", "origin"]);
    let out = check(&env, &["--json"]);
    assert_eq!(note(&out), "v4.11-rc2 is on origin/main");
    assert!(findings(&out, "public-base").is_empty());

    // A base made here, above the public one: series init again on it.
    let public_tip = env
        .git(&["rev-parse", "--short=12", "v4.11-rc2"])
        .trim()
        .to_string();
    env.git(&["checkout", "-q", "-b", "private", "v4.11-rc2"]);
    env.write("mm/private.c", "int private;\n");
    env.commit("mm: a private base commit");
    env.git(&["tag", "-f", "private-base"]);
    env.write("mm/free.c", format!("{GOOD_C}int on_private;\n"));
    env.commit("mm: add on_private\n\nAdd it.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    fs::remove_dir_all(env.series_dir()).unwrap();
    env.init(&["--base", "private-base", "--subject", "mm: private"]);
    fs::write(env.series_dir().join("cover.md"), "On a private base.\n").unwrap();
    let out = check(&env, &["--json"]);
    let w = findings(&out, "public-base");
    assert_eq!(w.len(), 1, "{}", stdout(&out));
    let m = w[0]["message"].as_str().unwrap();
    assert!(m.contains("is on no public ref: 1 commit above"), "{m}");
    assert!(
        m.contains(&format!(
            "{public_tip} (\"mm: add free.c\", on origin/main)"
        )),
        "{m}"
    );
    assert_eq!(
        note(&out),
        format!("private-base is not public; nearest public ancestor {public_tip} on origin/main")
    );

    // Named public in git config.
    env.git(&["config", "series.publicRefs", "refs/tags/private-base"]);
    let out = check(&env, &["--json"]);
    assert_eq!(note(&out), "private-base is on refs/tags/private-base");
}

/// Subsystem rules are chosen by the lists the series goes to: netdev's
/// (the tree in the prefix, Fixes: on net, at most 15 patches) only for a
/// series to netdev, mm's (a base named after an mm tree) only for one
/// to linux-mm; each names the document it comes from.
#[test]
fn subsystem_rules_follow_the_lists_the_series_goes_to() {
    let env = setup(|env| {
        good_series(env);
        for i in 3..=16 {
            env.write("mm/free.c", format!("{GOOD_C}int parallel_free_threshold;\nint parallel_free_max_active;\nint more_{i};\n"));
            env.commit(&format!(
                "mm: add more_{i}\n\nOne more.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>"
            ));
        }
    });
    let rules = |out: &std::process::Output| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        let mut r: Vec<String> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_string())
            .filter(|r| r.starts_with("netdev-") || r.starts_with("mm-"))
            .collect();
        r.sort();
        r.dedup();
        r
    };
    // To nobody in particular: none of them.
    assert!(rules(&check(&env, &["--json"])).is_empty());

    let toml = env.series_dir().join("series.toml");
    let manifest = fs::read_to_string(&toml).unwrap();
    let to = |list: &str, prefix: &str| {
        let m = manifest
            .replace("prefix = \"PATCH\"", &format!("prefix = \"{prefix}\""))
            .replace(
                "[recipients]\nto = []",
                &format!("[recipients]\nto = [\"{list}\"]"),
            );
        assert_ne!(m, manifest);
        fs::write(&toml, m).unwrap();
    };
    to("netdev@vger.kernel.org", "PATCH");
    let out = check(&env, &["--json"]);
    assert_eq!(
        rules(&out),
        ["netdev-max-patches", "netdev-tree"],
        "{}",
        stdout(&out)
    );
    let tree = findings(&out, "netdev-tree");
    assert!(
        tree[0]["message"]
            .as_str()
            .unwrap()
            .ends_with("(maintainer-netdev.rst, on indicating the target tree)"),
        "{tree:?}"
    );
    assert_eq!(
        findings(&out, "netdev-max-patches")[0]["message"]
            .as_str()
            .unwrap()
            .split(": ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next(),
        Some("16")
    );

    to("netdev@vger.kernel.org", "PATCH net");
    let out = check(&env, &["--json"]);
    assert_eq!(
        rules(&out),
        ["netdev-fixes", "netdev-max-patches"],
        "{}",
        stdout(&out)
    );
    assert_eq!(findings(&out, "netdev-fixes").len(), 16);

    to("linux-mm@kvack.org", "PATCH");
    let out = check(&env, &["--json"]);
    assert_eq!(rules(&out), ["mm-base"], "{}", stdout(&out));
    assert!(findings(&out, "mm-base")[0]["message"]
        .as_str()
        .unwrap()
        .contains("\"v4.11-rc2\""));
}

/// A patch signed off only by someone other than its author is one fault:
/// checkpatch's NO_AUTHOR_SIGN_OFF, which series' own `signoff-author`
/// yields to (found on Clear Linux's kernel patches).
#[test]
fn a_patch_without_its_authors_sign_off_is_reported_once() {
    let env = setup(|env| {
        env.write("mm/free.c", GOOD_C);
        env.commit("mm: add free.c");
        env.git(&["tag", "-f", "v4.11-rc2"]);
        env.write(
            "mm/free.c",
            format!("{GOOD_C}int parallel_free_threshold;\n"),
        );
        env.commit("mm: add parallel_free_threshold\n\nKeep the number of pages gathered before a worker frees them.\n\nSigned-off-by: Dave Hansen <dave.hansen@intel.com>");
    });
    let out = check(&env, &["--json"]);
    assert_eq!(
        findings(&out, "NO_AUTHOR_SIGN_OFF").len(),
        1,
        "{}",
        stdout(&out)
    );
    assert!(
        findings(&out, "signoff-author").is_empty(),
        "{}",
        stdout(&out)
    );
}

/// A fixture tree whose Makefile logs every build (to `log`, outside any
/// worktree) and runs sparse on what it compiles with `C=1`, as kbuild
/// does; the base has one warning of gcc's and the series two patches.
fn logged_builds(log: &Path) -> Env {
    let makefile = format!(
        "all: mm/free.o\n\n%.o: %.c\n\techo built >> {}\n\tcc -Wall -c -o $@ $<\nifeq ($(C),1)\n\tsparse $<\nendif\n",
        log.display()
    );
    let head = "// SPDX-License-Identifier: GPL-2.0\n#ifdef __CHECKER__\n#define __user __attribute__((noderef, address_space(1)))\n#else\n#define __user\n#endif\nint peek(int __user *p);\n";
    let base_c = format!("{head}int free_base(void)\n{{\n\tint x;\n\treturn 0;\n}}\n");
    setup(move |env| {
        env.write("Makefile", &makefile);
        env.write("mm/free.c", &base_c);
        env.commit("mm: add free.c");
        env.git(&["tag", "-f", "v4.11-rc2"]);
        // gcc is silent on this one; sparse is not.
        let peek = "int peek(int __user *p)\n{\n\treturn *p;\n}\n";
        env.write("mm/free.c", format!("{base_c}{peek}"));
        env.commit("mm: add peek\n\nRead one int.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
        env.write("mm/free.c", format!("{base_c}{peek}/* the end */\n"));
        env.commit("mm: mark the end\n\nSay where it ends.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    })
}

/// Builds are kept per (tree before, tree after, command): a series
/// checked again builds nothing, and a patch added on top is the only
/// one built (from a worktree built at the patch before it).
#[test]
fn builds_are_kept_and_only_what_changed_is_built_again() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("builds.log");
    let env = logged_builds(&log);
    let builds = || fs::read_to_string(&log).unwrap_or_default().lines().count();
    let out = check(&env, &["--build", "make", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(builds(), 3, "the base and two patches: {v}");
    assert_eq!(
        v["build"],
        "`make` passed at the base and every patch, 0 new warnings"
    );

    let out = check(&env, &["--build", "make", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(builds(), 3, "checked again, something was built: {v}");
    assert_eq!(
        v["build"],
        "`make` passed at the base and every patch, 0 new warnings (2 patches' builds from the cache)"
    );
    assert_eq!(env.git(&["worktree", "list"]).lines().count(), 1);

    // A third patch, added the way a user does: on the branch series
    // applied, then refreshed.
    assert_ok(&env.series_t(&["apply", "--checkout"]));
    let branch = env.git(&["branch", "--show-current"]);
    assert!(branch.starts_with("series/"), "{branch}");
    let now = fs::read_to_string(env.tree().join("mm/free.c")).unwrap();
    env.write(
        "mm/free.c",
        format!("{now}int unused_too(void)\n{{\n\tint z;\n\treturn 0;\n}}\n"),
    );
    env.commit("mm: add unused_too\n\nMore.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    assert_ok(&env.series_t(&["refresh"]));
    let out = check(&env, &["--build", "make", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Patch 2's tree built to start from, then patch 3.
    assert_eq!(builds(), 5, "{v}");
    let w = findings(&out, "build-warning");
    assert_eq!(w.len(), 1, "{v}");
    assert_eq!(w[0]["patch"], 3);
    assert!(
        v["build"]
            .as_str()
            .unwrap()
            .ends_with("1 new warning (2 patches' builds from the cache)"),
        "{v}"
    );

    // --no-cache builds everything again.
    let out = check(&env, &["--build", "make", "--no-cache"]);
    assert_eq!(builds(), 9, "{}", stdout(&out));
}

/// `--jobs N` is the job slots the builds share: two builds at once get
/// half each in $SERIES_BUILD_JOBS (for `make -j$SERIES_BUILD_JOBS`).
#[test]
fn builds_share_the_job_slots() {
    let dir = tempfile::tempdir().unwrap();
    let env = setup(good_series);
    let a = dir.path().join("a.log");
    let b = dir.path().join("b.log");
    let cmd = |log: &std::path::Path| format!("echo $SERIES_BUILD_JOBS >> {}", log.display());
    let out = check(
        &env,
        &[
            "-j",
            "6",
            "--build",
            &cmd(&a),
            "--build",
            &cmd(&b),
            "--no-cache",
        ],
    );
    assert_ok(&out);
    for log in [&a, &b] {
        let slots: Vec<String> = fs::read_to_string(log)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(slots, ["3", "3", "3"], "the base and two patches");
    }
    let out = check(&env, &["-j", "5", "--build", &cmd(&a), "--no-cache"]);
    assert_ok(&out);
    assert_eq!(fs::read_to_string(&a).unwrap().lines().last(), Some("5"));
}

/// `--sparse` runs sparse in each build (`C=1`), and what it finds is
/// told apart as gcc's warnings are: only what a patch adds.
#[test]
fn sparse_warnings_a_patch_adds_are_reported() {
    assert!(
        series::process::on_path("sparse"),
        "sparse is not installed (Debian's sparse; .ci/run installs it)"
    );
    let dir = tempfile::tempdir().unwrap();
    let env = logged_builds(&dir.path().join("builds.log"));
    let out = check(&env, &["--build", "make", "--sparse", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let w = findings(&out, "build-warning");
    assert_eq!(w.len(), 1, "{v}");
    assert_eq!(w[0]["patch"], 1);
    assert_eq!(w[0]["file"], "mm/free.c");
    assert_eq!(w[0]["line"], 15);
    assert!(
        w[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("dereference of noderef expression"),
        "{w:?}"
    );
    assert_eq!(
        v["build"],
        "`make C=1` passed at the base and every patch, 1 new warning"
    );
    // The same findings as report mails, as the build bots send them,
    // which the review keeps as comments on the line they are about.
    let report = env.dir.path().join("report.mbox");
    let r = report.to_string_lossy().into_owned();
    let out = check(&env, &["--build", "make", "--sparse", "--report", &r]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("report: 1 mail written to"),
        "{}",
        stdout(&out)
    );
    let mbox = fs::read_to_string(&report).unwrap();
    for want in [
        "From: series check <check@series.invalid>\n",
        "Subject: Re: [PATCH 1/2] mm: add peek\n",
        "X-Series-Report: check\n",
        "\n> +\treturn *p;\n\nmm/free.c:15: warning: dereference of noderef expression",
        "\n-- \nseries check: 0 errors and 1 warning in this patch\n",
        "        git am series/patches/0001-mm-add-peek.patch\n        make C=1\n",
    ] {
        assert!(mbox.contains(want), "{want:?} not in\n{mbox}");
    }
    let keep = || env.series_t(&["review", "fetch", "--mbox", &r]);
    assert!(stdout(&keep()).starts_with("1 new reply kept"));
    assert!(
        stdout(&keep()).starts_with("0 new replies kept"),
        "kept twice"
    );
    let v: serde_json::Value =
        serde_json::from_slice(&env.series_t(&["review", "--json"]).stdout).unwrap();
    let c = &v.as_array().unwrap()[0];
    assert_eq!(c["who"], "series check <check@series.invalid>", "{v}");
    assert_eq!(c["patch"], 1);
    assert_eq!(c["file"], "mm/free.c");
    assert_eq!(c["lines"], serde_json::json!([15, 15]));

    // git config series.sparse asks the same.
    env.git(&["config", "series.sparse", "true"]);
    let out = check(&env, &["--build", "make", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["build"]
            .as_str()
            .unwrap()
            .starts_with("`make C=1` passed"),
        "{v}"
    );
}

/// On the real kernel (Debian's linux-source-6.12, a tiny i386
/// configuration, building only the object the series touches): of three
/// patches, the second adds a warning and the third fixes it; the base's
/// own warnings are not blamed, and a second check builds nothing.
#[test]
fn on_the_kernel_the_patch_that_adds_a_warning_is_named() {
    let linux = linux_tree();
    let env = Env::new();
    fs::remove_dir_all(env.tree()).unwrap();
    let to = env.tree().to_string_lossy().into_owned();
    env.git_in(
        env.dir.path(),
        &["clone", "-q", "--shared", &linux.to_string_lossy(), &to],
    );
    let file = env.tree().join("mm/mmzone.c");
    let text = fs::read_to_string(&file).unwrap();
    let text = text.replacen(
        "struct pglist_data *first_online_pgdat(void)",
        "/* The first node with memory; the walkers below go on from it. */\nstruct pglist_data *first_online_pgdat(void)",
        1,
    );
    fs::write(&file, &text).unwrap();
    env.commit("mm: say what first_online_pgdat returns\n\nA comment.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    let count = "\nint mm_zone_count(void);\nint mm_zone_count(void)\n{\n\tint unused;\n\n\treturn MAX_NR_ZONES;\n}\n";
    fs::write(&file, format!("{text}{count}")).unwrap();
    env.commit(
        "mm: add mm_zone_count\n\nCount the zones.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>",
    );
    let warning_line = text.lines().count() + 5;
    fs::write(
        &file,
        format!("{text}{}", count.replace("\tint unused;\n\n", "")),
    )
    .unwrap();
    env.commit(
        "mm: drop the unused variable\n\nTidy.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>",
    );
    env.init(&["--base", "v6.12", "--subject", "mm: count zones"]);
    fs::write(env.series_dir().join("cover.md"), "Count zones.\n").unwrap();
    let build = "test -f .config || make -s ARCH=i386 tinyconfig; make -s ARCH=i386 -j$SERIES_BUILD_JOBS mm/mmzone.o";
    let out = check(&env, &["--build", build, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let w = findings(&out, "build-warning");
    assert_eq!(w.len(), 1, "{v}");
    assert_eq!(w[0]["patch"], 2);
    assert_eq!(w[0]["file"], "mm/mmzone.c");
    assert_eq!(w[0]["line"], warning_line);
    assert!(
        w[0]["message"]
            .as_str()
            .unwrap()
            .contains("unused variable"),
        "{w:?}"
    );
    let note = v["build"].as_str().unwrap();
    assert!(note.contains("passed at the base and every patch, 1 new warning; patch 3 fixes mm/mmzone.c: unused variable"), "{note}");
    assert_eq!(env.git(&["worktree", "list"]).lines().count(), 1);

    let out = check(&env, &["--build", build, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["build"]
            .as_str()
            .unwrap()
            .contains("(3 patches' builds from the cache)"),
        "{v}"
    );
    assert_eq!(findings(&out, "build-warning").len(), 1);
}

/// The tree's get_maintainer.pl is asked who should see each patch; an
/// address the patch's mail does not go to is named, until the recipients
/// hold it.
#[test]
fn recipients_get_maintainer_names_are_checked_per_patch() {
    let scripts = linux_scripts();
    let env = Env::new();
    env.base("v4.11-rc2");
    kernelish(&env, &scripts);
    fs::copy(scripts.join("MAINTAINERS"), env.tree().join("MAINTAINERS")).unwrap();
    fs::copy(
        scripts.join("scripts/get_maintainer.pl"),
        env.tree().join("scripts/get_maintainer.pl"),
    )
    .unwrap();
    env.commit("the real MAINTAINERS");
    env.git(&["tag", "-f", "v4.11-rc2"]);
    env.write("mm/memory.c", "changed\n");
    env.commit("mm: change memory.c\n\nChange it.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    env.init(&["--base", "v4.11-rc2", "--subject", "mm: x"]);

    let out = check(&env, &["--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = findings(&out, "recipients");
    assert_eq!(r.len(), 1, "{v}");
    assert_eq!(r[0]["patch"], 1);
    let said = r[0]["message"].as_str().unwrap();
    assert!(
        said.contains("Andrew Morton <akpm@linux-foundation.org>"),
        "{said}"
    );
    assert!(said.contains("linux-mm@kvack.org"), "{said}");
    assert!(
        v["recipients"].as_str().unwrap().ends_with(" missing"),
        "{v}"
    );

    // With every address get_maintainer.pl names among the recipients
    // (as `send --auto-cc` would put them), nothing is missing.
    let named: Vec<String> = said
        .split(": ")
        .nth(1)
        .unwrap()
        .split("; ")
        .next()
        .unwrap()
        .split(", ")
        .map(|s| format!("{s:?}"))
        .collect();
    let manifest = env.series_dir().join("series.toml");
    let text = fs::read_to_string(&manifest).unwrap();
    let text = text.replacen("to = []", &format!("to = [{}]", named.join(", ")), 1);
    fs::write(&manifest, text).unwrap();
    let out = check(&env, &["--json"]);
    assert_eq!(findings(&out, "recipients").len(), 0, "{}", stdout(&out));
}

/// With a distcc farm configured (git config series.distccHosts), the
/// builds compile there: a real distccd on 127.0.0.1 logs the compiles,
/// and SERIES_BUILD_JOBS gives make the farm's job slots.
#[test]
fn builds_compile_on_a_distcc_farm() {
    use std::os::unix::fs::PermissionsExt;
    let base_c = "// SPDX-License-Identifier: GPL-2.0\nint free_base(void)\n{\n\treturn 0;\n}\n";
    let env = setup(|env| {
        env.write(
            "Makefile",
            "all: mm/free.o\n\n%.o: %.c\n\tcc -Wall -c -o $@ $<\n",
        );
        env.write("mm/free.c", base_c);
        env.commit("mm: add free.c");
        env.git(&["tag", "-f", "v4.11-rc2"]);
        env.write("mm/free.c", format!("{base_c}int free_more;\n"));
        env.commit("mm: add free_more\n\nAdd it.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    });
    // distccd drops to `nobody` when started as root: its log must be
    // writable by anyone, in a folder anyone can enter.
    let logs = env.dir.path().join("distcc");
    fs::create_dir_all(&logs).unwrap();
    fs::set_permissions(env.dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(&logs, fs::Permissions::from_mode(0o777)).unwrap();
    let log = logs.join("distccd.log");
    fs::write(&log, "").unwrap();
    fs::set_permissions(&log, fs::Permissions::from_mode(0o666)).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut daemon = std::process::Command::new("distccd");
    hermetic(&mut daemon, env.dir.path());
    // In a process group of its own: its children (running as nobody)
    // are stopped with it.
    std::os::unix::process::CommandExt::process_group(&mut daemon, 0);
    let mut daemon = daemon
        .args([
            "--daemon",
            "--no-detach",
            "--allow",
            "127.0.0.1",
            "--listen",
            "127.0.0.1",
        ])
        .args([
            "--port",
            &port.to_string(),
            "--jobs",
            "2",
            "--user",
            "nobody",
        ])
        .args(["--log-level", "info", "--log-file"])
        .arg(&log)
        .spawn()
        .expect("distccd (Debian's distcc)");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "distccd did not listen"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    env.git(&[
        "config",
        "series.distccHosts",
        &format!("127.0.0.1:{port}/3"),
    ]);
    let jobs = env.dir.path().join("jobs");
    let cmd = format!("make && echo $SERIES_BUILD_JOBS > {}", jobs.display());
    let out = check(&env, &["--build", &cmd, "--json"]);
    let _ = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", daemon.id())])
        .status();
    let _ = daemon.wait();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["build"]
            .as_str()
            .unwrap()
            .contains("passed at the base and every patch"),
        "{v}"
    );
    let logged = fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("COMPILE_OK"),
        "distccd compiled nothing:\n{logged}"
    );
    assert_eq!(fs::read_to_string(&jobs).unwrap().trim(), "3");
}
