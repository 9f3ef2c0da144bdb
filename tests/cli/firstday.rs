//! Paths a user takes on the first day, each pinned by a test that failed
//! before its fix: mail as git and mail clients write it, a send's preview
//! that gates as the send does, and what the tools around series are.

use std::fs;

use super::common::*;
use super::send::{send, sending};

#[test]
fn a_date_with_a_comment_is_read_as_git_mailinfo_reads_it() {
    let env = Env::new();
    env.base("v4.11-rc2");
    env.write("mm/f1.c", "int f1;\n");
    env.commit("mm: add f1\n\nAdd f1.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    let mbox = env.git(&["format-patch", "--stdout", "v4.11-rc2..main"]);
    let date = mbox
        .lines()
        .find(|l| l.starts_with("Date: "))
        .unwrap()
        .to_string();
    let mbox = mbox.replacen(&date, "Date: Wed, 15 Mar 2017 05:02:11 -0400 (EDT)", 1);
    let path = env.dir.path().join("edt.mbox");
    fs::write(&path, &mbox).unwrap();
    assert_ok(&env.series_t(&[
        "init",
        "--mbox",
        path.to_str().unwrap(),
        "--base",
        "v4.11-rc2",
    ]));
    assert_ok(&env.series_t(&["apply", "--branch", "ours"]));
    env.git(&["checkout", "-q", "-b", "theirs", "v4.11-rc2"]);
    env.git(&["am", "-q", path.to_str().unwrap()]);
    let date_of = |r: &str| env.git(&["log", "-1", "--format=%ad", "--date=raw", r]);
    assert_eq!(date_of("ours"), date_of("theirs"));
    assert_eq!(date_of("ours").trim(), "1489568531 -0400");
}

#[test]
fn an_mbox_of_git_format_patch_without_message_ids_imports() {
    let env = Env::new();
    env.base("v4.11-rc2");
    for i in 1..=3 {
        env.write(&format!("mm/f{i}.c"), format!("int f{i};\n"));
        env.commit(&format!(
            "mm: add f{i}\n\nAdd f{i}.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>"
        ));
    }
    // --stdout without --thread: no Message-Id at all, a valid git am input.
    let mbox = env.git(&[
        "format-patch",
        "--stdout",
        "--signature",
        SIGNATURE,
        "v4.11-rc2..main",
    ]);
    assert!(!mbox.contains("Message-ID"));
    let path = env.dir.path().join("plain.mbox");
    fs::write(&path, &mbox).unwrap();
    let out = env.series_t(&[
        "init",
        "--mbox",
        path.to_str().unwrap(),
        "--base",
        "v4.11-rc2",
    ]);
    assert_ok(&out);
    assert!(stdout(&out).contains("(3 patches)"), "{}", stdout(&out));
    let manifest = fs::read_to_string(env.series_dir().join("series.toml")).unwrap();
    assert!(
        !manifest.contains("made-up"),
        "no made-up id is recorded: {manifest}"
    );
}

#[test]
fn a_dry_run_gates_as_the_send_does_and_json_never_waits_on_a_question() {
    let (env, smtp, cfg) = sending(2);
    // A placeholder left in the cover: the send refuses; so does its
    // preview, after writing the files to look at.
    fs::write(env.series_dir().join("cover.md"), "*** BLURB HERE ***\n").unwrap();
    let out = send(&env, &cfg, &["--to", "linux-mm", "--dry-run"]);
    assert_fails(&out, 1, &["`series check` finds 1 error; nothing was sent"]);
    assert!(env
        .work()
        .join("outgoing/v1/0000-cover-letter.patch")
        .exists());
    let out = send(&env, &cfg, &["--to", "linux-mm", "--yes"]);
    assert_fails(&out, 1, &["`series check` finds 1 error; nothing was sent"]);
    fs::write(env.series_dir().join("cover.md"), "Prose.\n").unwrap();
    // --json does not ask: without --yes it refuses at once.
    let out = send(&env, &cfg, &["--to", "linux-mm", "--json"]);
    assert_fails(&out, 2, &["does not ask before sending", "--yes"]);
    assert!(smtp.received().is_empty());
    assert_ok(&send(&env, &cfg, &["--to", "linux-mm", "--yes"]));
    // The same patches as v1 again: the preview refuses as the send does.
    assert_ok(&env.series(&["reroll"]));
    let out = send(&env, &cfg, &["--dry-run"]);
    assert_fails(&out, 1, &["v2 has the same patches as v1"]);
}

#[test]
fn a_comment_id_takes_a_unique_start_and_names_the_candidates_otherwise() {
    // Two replies of one reviewer on one patch: ids differ in their digits.
    let (env, smtp, cfg) = sending(1);
    assert_ok(&send(&env, &cfg, &["--to", "linux-mm", "--yes"]));
    let got = smtp.received();
    let id = |m: &str| {
        super::send::header(m, "Message-ID")
            .unwrap()
            .trim_matches(['<', '>'])
            .to_string()
    };
    let (cover, p1) = (id(&got[0].0), id(&got[1].0));
    let mut mbox = String::new();
    for k in 0..40 {
        mbox.push_str(&format!(
            "From x@y Thu Mar 16 10:00:00 2017\nFrom: Rita <rita@example.org>\nSubject: Re: [PATCH] mm: add f1\nDate: Thu, 16 Mar 2017 10:00:{k:02} +0000\nMessage-ID: <r{k}@example.org>\nIn-Reply-To: <{p1}>\nReferences: <{cover}> <{p1}>\n\nPoint number {k}?\n\n"
        ));
    }
    let path = env.dir.path().join("r.mbox");
    fs::write(&path, mbox).unwrap();
    assert_ok(&env.series(&["review", "fetch", "--mbox", path.to_str().unwrap()]));
    let v: serde_json::Value =
        serde_json::from_str(&stdout(&env.series(&["review", "--json"]))).unwrap();
    let ids: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    // A one-digit start shared by two ids: ambiguous, both named.
    let first: Vec<char> = ids.iter().map(|i| i.chars().next().unwrap()).collect();
    let shared = first
        .iter()
        .find(|c| first.iter().filter(|d| d == c).count() > 1)
        .unwrap();
    let out = env.series(&["review", "resolve", &shared.to_string(), "--wontfix", "x"]);
    assert_fails(&out, 1, &["names several review comments"]);
    // A unique start resolves.
    let unique = ids
        .iter()
        .find(|i| ids.iter().filter(|j| j.starts_with(&i[..4])).count() == 1)
        .unwrap();
    let out = env.series(&[
        "review",
        "resolve",
        &unique[..4],
        "--wontfix",
        "the name is fine",
    ]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains(&format!("{unique}: won't fix.")),
        "{}",
        stdout(&out)
    );
}

#[test]
fn ci_installs_the_b4_and_patatt_the_tests_were_written_against() {
    let ci = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).unwrap();
    assert!(
        ci.contains("b4_version=0.16.0") && ci.contains("\"b4==$b4_version\""),
        "b4 is pinned"
    );
    assert!(
        ci.contains("patatt_version=0.8.0") && ci.contains("\"patatt==$patatt_version\""),
        "patatt is pinned"
    );
    let b4 = super::review::b4();
    let out = std::process::Command::new(&b4)
        .arg("--version")
        .output()
        .expect("run b4");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "0.16.0",
        "{}",
        b4.display()
    );
}
