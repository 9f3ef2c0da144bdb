//! Help in the forms people read: man pages that `man --warnings -l`
//! renders without a warning, and `--help` of every verb as a snapshot, so
//! that a change to the help is reviewed. Completions: complete.rs.

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

/// `man --warnings -l PAGE`: the rendered text; groff's warnings fail.
fn man(page: &std::path::Path) -> String {
    let got = Command::new("man")
        .arg("--warnings")
        .arg("-l")
        .arg(page)
        .env("MANWIDTH", "80")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("man (Debian's man-db, with groff)");
    let err = String::from_utf8_lossy(&got.stderr);
    assert!(
        got.status.success() && err.is_empty(),
        "man --warnings -l {}: {err}",
        page.display()
    );
    String::from_utf8_lossy(&got.stdout).into_owned()
}

#[test]
fn every_verb_has_a_man_page_worth_reading() {
    let env = Env::new();
    let dir = env.dir.path().join("man");
    let out = env.series(&["man", "-o", dir.to_str().unwrap()]);
    assert_ok(&out);
    let list = |sub: &str| -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir.join(sub))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let names = list("man1");
    assert!(names.contains(&"series.1".to_string()));
    assert_eq!(list("man5"), ["series-config.5", "series-format.5"]);
    for v in verbs() {
        let page = format!("series-{}.1", v.join("-"));
        assert!(names.contains(&page), "no {page} in {names:?}");
    }
    for n in &names {
        let text = man(&dir.join("man1").join(n));
        for section in [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "EXIT STATUS",
            "SEE ALSO",
        ] {
            assert!(
                text.contains(&format!("\n{section}\n")),
                "{n}: no {section}:\n{text}"
            );
        }
        // The synopsis is what a user types: `series bench run`, never
        // the page's name.
        let words = n.trim_end_matches(".1").replace('-', " ");
        let synopsis = text.split("SYNOPSIS\n").nth(1).unwrap_or("");
        let synopsis = synopsis.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            synopsis.starts_with(&format!("{words} ")),
            "{n}: the synopsis is not `{words} ...`:\n{synopsis}"
        );
    }
    // The whole tool's page carries what only the README had.
    let top = man(&dir.join("man1/series.1"));
    for section in ["GLOBAL OPTIONS", "FILES", "ENVIRONMENT", "EXAMPLES"] {
        assert!(
            top.contains(&format!("\n{section}\n")),
            "series(1): no {section}"
        );
    }
    assert!(top.contains("SERIES_LOCK_WAIT"), "{top}");
    assert!(top.contains("journal-vN.toml"), "{top}");
    // A verb's own prose: send's journal and --resume, status's exit 5,
    // each with examples typed with real dashes.
    let flat = |t: String| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let send = flat(man(&dir.join("man1/series-send.1")));
    assert!(send.contains("--resume sends only the rest"), "{send}");
    assert!(
        send.contains("series send --to linux-mm --cc linux-kernel"),
        "{send}"
    );
    assert!(send.contains("git-send-email(1)"), "{send}");
    let status = flat(man(&dir.join("man1/series-status.1")));
    assert!(
        status.contains("EXIT STATUS 0 The series is ready to send. 5 It is not"),
        "{status}"
    );
    let run = flat(man(&dir.join("man1/series-bench-run.1")));
    assert!(run.contains("series-bench(1)"), "{run}");
    let config = flat(man(&dir.join("man5/series-config.5")));
    assert!(config.contains("series.checkpatchArgs"), "{config}");
    let format = flat(man(&dir.join("man5/series-format.5")));
    assert!(format.contains("[[history]]"), "{format}");
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
