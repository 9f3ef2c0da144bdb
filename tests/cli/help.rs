//! Help in the forms people read: man pages that `man -l` renders, shell
//! completions that bash loads, and `--help` of every verb as a snapshot,
//! so that a change to the help is reviewed.

use std::fs;
use std::process::Command;

use super::common::*;

/// Every verb and sub-verb, as `series help` lists them.
fn verbs() -> Vec<Vec<&'static str>> {
    let mut v: Vec<Vec<&str>> = [
        "init",
        "status",
        "format",
        "send",
        "bench",
        "rebase",
        "apply",
        "check",
        "reroll",
        "diff",
        "refresh",
        "lore",
        "review",
        "trailers",
        "attest",
        "man",
        "completions",
    ]
    .iter()
    .map(|s| vec![*s])
    .collect();
    for b in ["new", "record", "run", "show", "plot"] {
        v.push(vec!["bench", b]);
    }
    for r in ["fetch", "resolve", "reply"] {
        v.push(vec!["review", r]);
    }
    for l in ["thread", "raw", "search"] {
        v.push(vec!["lore", l]);
    }
    v
}

#[test]
fn every_verb_has_a_man_page_that_man_renders() {
    let env = Env::new();
    let dir = env.dir.path().join("man");
    let out = env.series(&["man", "-o", dir.to_str().unwrap()]);
    assert_ok(&out);
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.contains(&"series.1".to_string()));
    for v in verbs() {
        let page = format!("series-{}.1", v.join("-"));
        assert!(names.contains(&page), "no {page} in {names:?}");
    }
    for n in &names {
        let got = Command::new("man")
            .arg("-l")
            .arg(dir.join(n))
            .env("MANWIDTH", "80")
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .output()
            .expect("man (Debian's man-db)");
        let text = String::from_utf8_lossy(&got.stdout);
        assert!(
            got.status.success(),
            "man -l {n}: {}",
            String::from_utf8_lossy(&got.stderr)
        );
        assert!(
            text.contains("NAME") && text.contains("SYNOPSIS"),
            "{n}:\n{text}"
        );
    }
}

#[test]
fn help_of_every_verb_is_reviewed() {
    let env = Env::new();
    let mut all = String::new();
    let mut runs = vec![vec![]];
    runs.extend(verbs());
    for v in runs {
        let mut args: Vec<&str> = v.clone();
        args.push("--help");
        let out = env.series(&args);
        assert_ok(&out);
        all.push_str(&format!("==== series {}\n{}\n", v.join(" "), stdout(&out)));
    }
    insta::assert_snapshot!("help", all);
}
