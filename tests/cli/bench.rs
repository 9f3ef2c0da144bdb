//! `series bench`: results kept as series data, tables and plots made from them.

use std::fs;

use crate::common::*;

fn series_with_bench() -> Env {
    let env = Env::new();
    env.base("v4.11-rc2");
    env.write("mm/memory.c", "changed\n");
    env.commit("mm: change\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    env.init(&["--base", "v4.11-rc2"]);
    assert_ok(&env.series(&[
        "bench",
        "new",
        "free-320g",
        "--title",
        "free() of a 320G malloc",
        "--label",
        "kernel",
    ]));
    env
}

fn bench_file(env: &Env, name: &str) -> String {
    fs::read_to_string(env.series_dir().join("bench").join(format!("{name}.toml"))).unwrap()
}

#[test]
fn recorded_summaries_render_the_seed_table_in_the_cover_letter() {
    let env = series_with_bench();
    assert_ok(&env.series(&[
        "bench",
        "record",
        "free-320g",
        "--row",
        "v4.10",
        "--mean",
        "10.8",
        "--rsd",
        "2.8",
    ]));
    assert_ok(&env.series(&[
        "bench",
        "record",
        "free-320g",
        "--row",
        "this patch (default setting)",
        "--mean",
        "5.795",
        "--rsd",
        "5.8",
    ]));
    let out = env.series(&["bench", "show", "free-320g"]);
    assert_ok(&out);
    insta::assert_snapshot!("bench_show", stdout(&out));
    let ascii = env.series(&["bench", "show", "free-320g", "--ascii"]);
    assert!(stdout(&ascii).contains("+-5.8%"));

    fs::write(env.series_dir().join("cover.md"), "The numbers:\n\n{{ bench_table(\"free-320g\") }}\n\nAnd in ASCII:\n\n{{ bench_table(\"free-320g\", ascii=true) }}\n").unwrap();
    assert_ok(&env.series(&["format"]));
    let cover = fs::read_to_string(env.work().join("outgoing/v1/0000-cover-letter.patch")).unwrap();
    assert!(
        cover.contains("v4.10                          10.8s   \u{b1}2.8%\n"),
        "{cover}"
    );
    assert!(
        cover.contains("this patch (default setting)  5.795s  +-5.8%\n"),
        "{cover}"
    );
    // ± needs a declared charset: the cover declares UTF-8.
    assert!(
        cover.contains("Content-Type: text/plain; charset=UTF-8\n"),
        "{cover}"
    );

    fs::write(
        env.series_dir().join("cover.md"),
        "{{ bench_table(\"nope\") }}\n",
    )
    .unwrap();
    let out = env.series(&["format"]);
    assert_fails(&out, 1, &["cover.md", "no bench \"nope\""]);
}

#[test]
fn run_records_samples_and_sweeps() {
    let env = series_with_bench();
    let out = env.series(&[
        "bench",
        "run",
        "lat",
        "--row",
        "base",
        "-n",
        "3",
        "--warmup",
        "0",
        "--metric",
        r"took ([0-9.]+)",
        "--",
        "sh",
        "-c",
        "echo took 1.5",
    ]);
    assert_ok(&out);
    let text = bench_file(&env, "lat");
    assert!(
        text.contains("samples = [\n    1.5,\n    1.5,\n    1.5,\n]")
            || text.contains("samples = [1.5, 1.5, 1.5]"),
        "{text}"
    );
    assert!(text.contains("[row.machine]"), "{text}");

    let out = env.series(&[
        "bench",
        "run",
        "sweep",
        "--sweep",
        "max_active=1,2,4",
        "-n",
        "2",
        "--warmup",
        "0",
        "--metric",
        r"v=(\d+)",
        "--",
        "sh",
        "-c",
        "echo v=$max_active arg={max_active}",
    ]);
    assert_ok(&out);
    let show = env.series(&["bench", "show", "sweep", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(v["param"], "max_active");
    let means: Vec<f64> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["stats"]["mean"].as_f64().unwrap())
        .collect();
    assert_eq!(means, vec![1.0, 2.0, 4.0]);
}

#[test]
fn a_failing_run_keeps_what_was_recorded() {
    let env = series_with_bench();
    let script = "if [ $max_active = 4 ]; then exit 7; fi; echo v=$max_active";
    let out = env.series(&[
        "bench",
        "run",
        "sweep",
        "--sweep",
        "max_active=1,2,4",
        "-n",
        "2",
        "--warmup",
        "0",
        "--metric",
        r"v=(\d+)",
        "--",
        "sh",
        "-c",
        script,
    ]);
    assert_fails(
        &out,
        1,
        &[
            "bench sweep row 4",
            "failed",
            "samples taken before the failure are recorded",
        ],
    );
    let text = bench_file(&env, "sweep");
    assert!(
        text.contains("label = \"1\"") && text.contains("label = \"2\""),
        "{text}"
    );
    assert!(!text.contains("label = \"4\""), "{text}");

    let before = Env::snapshot(&env.series_dir());
    for (args, needle) in [
        (
            vec![
                "--metric",
                r"took ([0-9.]+)",
                "--",
                "sh",
                "-c",
                "echo nothing",
            ],
            "matched nothing",
        ),
        (
            vec![
                "--metric",
                r"took (\S+)",
                "--",
                "sh",
                "-c",
                "echo took fast",
            ],
            "not a number",
        ),
        (vec!["--", "/nonexistent/benchmark"], "cannot start"),
    ] {
        let mut full = vec![
            "bench", "run", "sweep", "--row", "x", "-n", "2", "--warmup", "0",
        ];
        full.extend(args);
        let out = env.series(&full);
        assert_fails(&out, 1, &[needle]);
        assert_unchanged(
            &before,
            &Env::snapshot(&env.series_dir()),
            &format!("{needle}: recorded data changed"),
        );
    }
    let out = env.series(&[
        "bench", "run", "sweep", "--row", "x", "--metric", "(", "--", "true",
    ]);
    assert_fails(&out, 2, &["not a valid regex"]);
}

#[test]
fn empty_and_unknown_benches_are_errors() {
    let env = series_with_bench();
    assert_fails(
        &env.series(&["bench", "show", "free-320g"]),
        1,
        &["has no rows"],
    );
    assert_fails(
        &env.series(&["bench", "show", "nothing"]),
        1,
        &["no bench \"nothing\""],
    );
    assert_fails(&env.series(&["bench", "show", "../etc"]), 1, &["not valid"]);
    fs::write(
        env.series_dir().join("bench/free-320g.toml"),
        "format = 1\ntitle = 3\n",
    )
    .unwrap();
    assert_fails(
        &env.series(&["bench", "show", "free-320g"]),
        1,
        &["bench free-320g"],
    );
}

#[test]
fn compare_reports_change_and_significance() {
    let env = series_with_bench();
    for (row, script) in [
        ("old", "echo t=10.$(( $$ % 3 ))"),
        ("new", "echo t=5.$(( $$ % 3 ))"),
    ] {
        assert_ok(&env.series(&[
            "bench",
            "run",
            "cmp",
            "--row",
            row,
            "-n",
            "6",
            "--warmup",
            "0",
            "--metric",
            r"t=([0-9.]+)",
            "--",
            "sh",
            "-c",
            script,
        ]));
    }
    let out = env.series(&["bench", "show", "cmp", "--compare", "old", "new"]);
    assert_ok(&out);
    assert!(stdout(&out).contains("new vs old: -"), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("significant (Welch's t-test"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn plots_as_svg_and_png() {
    let env = series_with_bench();
    assert_ok(&env.series(&[
        "bench",
        "record",
        "free-320g",
        "--row",
        "v4.10",
        "--mean",
        "10.8",
        "--rsd",
        "2.8",
    ]));
    assert_ok(&env.series(&[
        "bench",
        "record",
        "free-320g",
        "--row",
        "patched",
        "--mean",
        "5.795",
        "--rsd",
        "5.8",
    ]));
    assert_ok(&env.series(&["bench", "plot", "free-320g", "-o", "p.svg"]));
    let svg = fs::read_to_string(env.work().join("p.svg")).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains(">v4.10</text>") && svg.contains("mean (s)"),
        "{svg}"
    );
    let out = env.series(&["bench", "plot", "free-320g", "-o", "p.png"]);
    if cfg!(feature = "png") {
        assert_ok(&out);
        let png = fs::read(env.work().join("p.png")).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    } else {
        assert_fails(&out, 1, &["built without PNG plots", "--features png"]);
        assert!(!env.work().join("p.png").exists());
    }
    assert_fails(
        &env.series(&["bench", "plot", "free-320g", "-o", "p.gif"]),
        2,
        &["must end in .svg or .png"],
    );
}

#[test]
fn the_bundled_workload_runs_under_bench_run() {
    // The bundled series' own workload is a program of its own
    // (scripts/kernel/bigfree.c), measured like any other command.
    let env = series_with_bench();
    let exe = env.dir.path().join("bigfree");
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/kernel/bigfree.c");
    let cc = std::process::Command::new("cc")
        .args(["-O2", "-o"])
        .arg(&exe)
        .arg(&src)
        .status()
        .expect("a C compiler (cc)");
    assert!(cc.success());
    assert_ok(&env.series(&["bench", "new", "bigfree", "--title", "munmap"]));
    for (row, flag) in [("munmap 32M", None), ("exit 32M", Some("-f"))] {
        let mut args = vec![
            "bench",
            "run",
            "bigfree",
            "--row",
            row,
            "-n",
            "2",
            "--metric",
            r"took ([0-9.]+) s",
            "--",
        ];
        let exe = exe.to_str().unwrap();
        args.push(exe);
        args.extend(flag);
        args.push("32");
        assert_ok(&env.series(&args));
    }
    let text = bench_file(&env, "bigfree");
    assert!(
        text.contains("label = \"munmap 32M\"") && text.contains("label = \"exit 32M\""),
        "{text}"
    );
}

#[test]
fn identical_samples_show_no_spread_not_a_float_remainder() {
    let env = series_with_bench();
    let out = env.series(&[
        "bench",
        "run",
        "same",
        "--row",
        "base",
        "-n",
        "7",
        "--warmup",
        "0",
        "--metric",
        r"took ([0-9.]+)",
        "--",
        "sh",
        "-c",
        "echo took 0.1",
    ]);
    assert_ok(&out);
    let show = stdout(&env.series(&["bench", "show", "same"]));
    assert!(show.contains("\u{b1}0%"), "{show}");
    assert!(!show.contains("0.0000"), "{show}");
}

/// Rows are kept per version: v1's numbers stay when v2 is measured,
/// `bench show --versions` and the cover's `bench_versions()` compare them
/// label by label (change, Welch's t-test), `bench_table()` shows this
/// version's; numbers a reviewer posted are kept as a row of theirs.
#[test]
fn numbers_are_kept_per_version_compared_and_a_reviewers_are_theirs() {
    let (env, smtp, cfg) = crate::send::sending(2);
    let rec = |row: &str, mean: &str, extra: &[&str]| {
        let mut args = vec![
            "bench", "record", "free", "--row", row, "--mean", mean, "--rsd", "2", "-n", "10",
        ];
        args.extend_from_slice(extra);
        assert_ok(&env.series(&args));
    };
    assert_ok(&env.series(&[
        "bench",
        "new",
        "free",
        "--title",
        "free() of 320G",
        "--label",
        "kernel",
    ]));
    rec("base", "10.8", &[]);
    rec("patched", "5.8", &[]);
    assert_ok(&crate::send::send(
        &env,
        &cfg,
        &["--to", "linux-mm", "--yes"],
    ));
    let sent = smtp.received();
    assert_ok(&env.series_t(&["reroll"]));
    rec("base", "10.8", &[]);
    rec("patched", "4.9", &[]);
    let text = bench_file(&env, "free");
    assert_eq!(text.matches("label = \"patched\"").count(), 2, "{text}");
    assert!(
        text.contains("version = 1") && text.contains("version = 2"),
        "{text}"
    );

    let out = env.series(&["bench", "show", "free", "--versions"]);
    assert_ok(&out);
    let shown = stdout(&out);
    assert!(shown.contains("v2 against v1:"), "{shown}");
    let across = shown.split("v2 against v1:\n").nth(1).unwrap();
    let line = across.lines().find(|l| l.starts_with("patched ")).unwrap();
    assert!(
        line.contains("5.8s") && line.contains("4.9s") && line.contains("-15.5%"),
        "{shown}"
    );
    assert!(line.ends_with("p < 0.001"), "{shown}");
    assert!(
        across.contains("base     10.8s  10.8s     +0%  p = 1, not significant"),
        "{shown}"
    );
    let v: serde_json::Value = serde_json::from_slice(
        &env.series(&["bench", "show", "free", "--versions", "--json"])
            .stdout,
    )
    .unwrap();
    assert_eq!(v["versions"]["old"], 1);
    assert_eq!(v["versions"]["rows"][1]["label"], "patched");
    assert_eq!(v["versions"]["rows"][1]["comparison"]["significant"], true);
    // This version's rows only.
    assert_eq!(v["rows"].as_array().unwrap().len(), 2, "{v}");

    // A reviewer posts numbers of his own in reply to v1's patch 1.
    let patch1 = crate::send::header(&sent[1].0, "Message-ID").unwrap();
    let reply = format!(
        "From: Mel Gorman <mgorman@techsingularity.net>\nTo: Aaron Lu <aaron.lu@intel.com>\nSubject: Re: [PATCH 1/2] mm: add f1\nDate: Thu, 16 Mar 2017 10:00:00 +0000\nMessage-ID: <mel-numbers@suse>\nIn-Reply-To: {patch1}\nReferences: {patch1}\n\nOn my 2-socket box free() took 6.1s with the series.\n"
    );
    let mbox = env.dir.path().join("mel.mbox");
    fs::write(
        &mbox,
        format!("From mboxrd@z Thu Jan  1 00:00:00 1970\n{reply}"),
    )
    .unwrap();
    assert_ok(&env.series_t(&["review", "fetch", "--mbox", &mbox.to_string_lossy()]));
    rec(
        "patched, 2-socket",
        "6.1",
        &["--from", "<mel-numbers@suse>"],
    );
    let text = bench_file(&env, "free");
    assert!(
        text.contains("by = \"Mel Gorman <mgorman@techsingularity.net>\""),
        "{text}"
    );
    assert!(text.contains("message-id = \"mel-numbers@suse\""), "{text}");
    let out = env.series(&[
        "bench",
        "record",
        "free",
        "--row",
        "x",
        "--mean",
        "1",
        "--rsd",
        "1",
        "--from",
        "nobody@nowhere",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no reply <nobody@nowhere> is kept"));

    // The cover letter: this version's table, and v1 against v2.
    fs::write(
        env.series_dir().join("cover.md"),
        "Faster.\n\n{{ bench_table(\"free\") }}\n\n{{ bench_versions(\"free\") }}\n",
    )
    .unwrap();
    let dir = env.dir.path().join("mails");
    assert_ok(&env.series_t(&["format", "-o", &dir.to_string_lossy()]));
    let cover = fs::read_to_string(dir.join("v2-0000-cover-letter.patch")).unwrap();
    assert!(
        cover.contains("patched, 2-socket (Mel Gorman's)"),
        "{cover}"
    );
    assert!(cover.contains("kernel      v1     v2  change  Welch's t-test\nbase     10.8s  10.8s     +0%  p = 1, not significant\npatched   5.8s   4.9s  -15.5%  p < 0.001"), "{cover}");
    assert!(
        !cover.contains("5.8s   \u{b1}"),
        "v1's row in v2's table:\n{cover}"
    );
}
