//! `series format` and `series send --dry-run`: the files git send-email takes.

use std::fs;

use crate::common::*;

fn small_series(env: &Env) {
    env.base("v4.11-rc2");
    env.write(
        "mm/memory.c",
        (1..=200)
            .map(|i| {
                if i == 50 {
                    "line 50 changed\n".to_string()
                } else {
                    format!("line {i}\n")
                }
            })
            .collect::<String>(),
    );
    env.commit(
        "mm: add tlb_flush_mmu_free_batches\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>",
    );
    env.write("include/asm-generic/tlb.h", "int a;\nint b;\nint c;\n");
    env.commit("mm: parallel free pages\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
}

/// Drop the lines that legitimately differ from git: its Message-Ids and the
/// cover letter's date (git uses the wall clock).
fn normalise(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter(|l| {
            !(l.starts_with("Message-ID: ")
                || l.starts_with("In-Reply-To: ")
                || l.starts_with("References: ")
                || l.starts_with('\t')
                || l.starts_with("Date: "))
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn send_dry_run_lays_out_mails_as_git_format_patch_does() {
    let env = Env::new();
    small_series(&env);
    env.init(&["--base", "v4.11-rc2", "--version", "2"]);
    let out = env.series_t(&[
        "send",
        "--dry-run",
        "--force",
        "--to",
        "linux-mm",
        "--to",
        "linux-kernel",
        "--cc",
        "Dave Hansen <dave.hansen@intel.com>",
        "--in-reply-to",
        "<1487917410-11111-1-git-send-email-aaron.lu@intel.com>",
    ]);
    assert_ok(&out);
    assert!(stdout(&out).contains("Dry run: nothing was sent."));
    let ours = files(&env.work().join("outgoing/v2"));
    let refdir = env.dir.path().join("ref");
    env.git(&[
        "format-patch",
        "-q",
        "-o",
        refdir.to_str().unwrap(),
        "-v2",
        "--cover-letter",
        "--thread=shallow",
        "--in-reply-to",
        "1487917410-11111-1-git-send-email-aaron.lu@intel.com",
        "--to",
        "linux-mm@kvack.org",
        "--to",
        "linux-kernel@vger.kernel.org",
        "--cc",
        "Dave Hansen <dave.hansen@intel.com>",
        "--base=v4.11-rc2",
        "--signature",
        SIGNATURE,
        "v4.11-rc2..HEAD",
    ]);
    let theirs = files(&refdir);
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&ours), names(&theirs));
    assert_eq!(names(&ours)[0], "v2-0000-cover-letter.patch");
    for ((name, o), (_, t)) in ours.iter().zip(&theirs) {
        assert_eq!(normalise(o), normalise(t), "{name}");
    }

    // Threading: the cover replies to v1, every patch replies to the cover.
    let cover = String::from_utf8_lossy(&ours[0].1).into_owned();
    let cover_id = cover
        .lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .unwrap()
        .to_string();
    assert!(cover.contains("In-Reply-To: <1487917410-11111-1-git-send-email-aaron.lu@intel.com>\n"));
    assert!(cover.contains("Subject: [PATCH v2 0/2] *** SUBJECT HERE ***\n"));
    for (name, p) in &ours[1..] {
        let text = String::from_utf8_lossy(p);
        assert!(
            text.contains(&format!("In-Reply-To: {cover_id}\n")),
            "{name}"
        );
        assert!(text.contains(&format!("References: <1487917410-11111-1-git-send-email-aaron.lu@intel.com>\n\t{cover_id}\n")), "{name}");
        assert!(
            text.contains("To: linux-mm@kvack.org,\n    linux-kernel@vger.kernel.org\n"),
            "{name}"
        );
    }
}

#[test]
fn cover_letter_carries_prose_changes_links_shortlog_and_base() {
    let env = Env::new();
    small_series(&env);
    env.init(&[
        "--base",
        "v4.11-rc2",
        "--version",
        "2",
        "--subject",
        "mm: support parallel free of memory",
    ]);
    let dir = env.series_dir();
    fs::write(
        dir.join("cover.md"),
        "Freeing terabytes takes minutes.\n\nThis series frees in parallel.\n",
    )
    .unwrap();
    let manifest = fs::read_to_string(dir.join("series.toml")).unwrap();
    let manifest = manifest
        .replace("[[history]]\nversion = 1\nchanges = []\n", "[[history]]\nversion = 1\ndate = \"2017-02-24\"\nchanges = []\nlink = \"https://lkml.org/lkml/2017/2/24/245\"\n")
        .replace("version = 2\nbase = \"v4.11-rc2\"\nchanges = []", "version = 2\nbase = \"v4.11-rc2\"\nchanges = [\"rebased on top of v4.11-rc2\", \"use bool for free_batch_page\"]");
    fs::write(dir.join("series.toml"), manifest).unwrap();
    let out = env.series(&["format"]);
    assert_ok(&out);
    let cover =
        fs::read_to_string(env.work().join("outgoing/v2/v2-0000-cover-letter.patch")).unwrap();
    insta::assert_snapshot!("cover_letter_v2", cover);
}

#[test]
fn list_names_resolve_from_the_tree_then_from_the_series() {
    let env = Env::new();
    small_series(&env);
    env.init(&["--base", "v4.11-rc2"]);
    assert_ok(&env.series_t(&["format", "--to", "linux-mm"]));
    // No tree now: the name was recorded in series.toml.
    let out = env.series(&["format", "--to", "linux-mm", "-o", "again"]);
    assert_ok(&out);
    let cover = fs::read_to_string(env.work().join("again/0000-cover-letter.patch")).unwrap();
    assert!(cover.contains("To: linux-mm@kvack.org\n"), "{cover}");

    let before = Env::snapshot(&env.series_dir());
    let out = env.series_t(&["send", "--dry-run", "--to", "linux-m"]);
    assert_fails(
        &out,
        1,
        &["unknown list \"linux-m\"", "did you mean linux-mm"],
    );
    assert_unchanged(
        &before,
        &Env::snapshot(&env.series_dir()),
        "after the error",
    );
}

#[test]
fn series_now_makes_output_reproducible() {
    let env = Env::new();
    small_series(&env);
    env.init(&["--base", "v4.11-rc2"]);
    assert_ok(&env.series(&["format", "-o", "a"]));
    assert_ok(&env.series(&["format", "-o", "b"]));
    assert_eq!(files(&env.work().join("a")), files(&env.work().join("b")));
    let cover = fs::read_to_string(env.work().join("a/0000-cover-letter.patch")).unwrap();
    assert!(
        cover.contains("Date: Wed, 15 Mar 2017 05:02:11 -0400\n"),
        "{cover}"
    );
    // A different clock gives different Message-Ids.
    assert_ok(&env.series_env(
        &["format", "-o", "c"],
        &[("SERIES_NOW", "1489568532 -0400")],
    ));
    assert_ne!(files(&env.work().join("a")), files(&env.work().join("c")));
}

#[test]
fn send_without_dry_run_or_yes_asks_and_refuses_without_a_terminal() {
    let env = Env::new();
    small_series(&env);
    env.init(&["--base", "v4.11-rc2"]);
    fs::write(env.series_dir().join("cover.md"), "Prose.\n").unwrap();
    let path = env.series_dir().join("series.toml");
    fs::write(
        &path,
        fs::read_to_string(&path)
            .unwrap()
            .replace("*** SUBJECT HERE ***", "mm: parallel free"),
    )
    .unwrap();
    let out = env.series(&["send", "--to", "someone@example.org"]);
    assert_fails(&out, 1, &["not sending without confirmation", "--yes"]);
    assert!(env
        .work()
        .join("outgoing/v1/0000-cover-letter.patch")
        .exists());
    assert!(!env.series_dir().join("journal-v1.toml").exists());
}

#[test]
fn header_injection_is_refused() {
    let env = Env::new();
    small_series(&env);
    env.init(&["--base", "v4.11-rc2"]);
    let out = env.series(&["send", "--dry-run", "--to", "a@b.org\nBcc: evil@x.org"]);
    assert_fails(&out, 1, &["line break"]);
    assert!(!env.work().join("outgoing").exists());
}

#[test]
fn status_shows_the_series() {
    let env = Env::new();
    small_series(&env);
    env.init(&[
        "--base",
        "v4.11-rc2",
        "--version",
        "2",
        "--name",
        "parallel-free",
    ]);
    let out = env.series(&["status"]);
    assert_read(&out);
    let text = stdout(&out);
    let base = env.git(&["rev-parse", "v4.11-rc2"]);
    insta::assert_snapshot!("status", text.replace(&base.trim()[..12], "<base>"));
    let json = env.series(&["status", "--json"]);
    assert_read(&json);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["version"], 2);
    assert_eq!(v["patches"][1]["subject"], "mm: parallel free pages");
    assert_eq!(v["cover"]["placeholders"][0], "*** SUBJECT HERE ***");
}

#[test]
fn format_o_never_deletes_what_series_did_not_write() {
    let env = Env::new();
    small_series(&env);
    env.init(&["--base", "v4.11-rc2", "--version", "2"]);
    // A folder of the user's: refused, every file left as it was.
    let mail = env.dir.path().join("mail");
    fs::create_dir_all(&mail).unwrap();
    fs::write(mail.join("notes.txt"), "mine\n").unwrap();
    let before = Env::snapshot(&mail);
    let out = env.series_t(&["format", "-o", mail.to_str().unwrap()]);
    assert_fails(
        &out,
        1,
        &["holds files series did not write", "new or empty folder"],
    );
    assert_unchanged(&before, &Env::snapshot(&mail), "format -o a user's folder");
    // `-o .` in the project, where series/ is: refused, series/ intact.
    let series_before = Env::snapshot(&env.series_dir());
    let out = env.series_t(&["format", "-o", "."]);
    assert_fails(&out, 1, &["holds files series did not write"]);
    assert_unchanged(
        &series_before,
        &Env::snapshot(&env.series_dir()),
        "format -o .",
    );
    // A new folder: made and owned; written again, only its own files
    // change, and a file the user added there stays.
    let fresh = env.dir.path().join("fresh");
    assert_ok(&env.series_t(&["format", "-o", fresh.to_str().unwrap()]));
    let first = files(&fresh);
    assert!(first.len() >= 2, "{first:?}");
    fs::write(fresh.join("reply-draft.txt"), "kept\n").unwrap();
    assert_ok(&env.series_t(&["format", "-o", fresh.to_str().unwrap()]));
    assert_eq!(
        fs::read_to_string(fresh.join("reply-draft.txt")).unwrap(),
        "kept\n"
    );
    assert_eq!(files(&fresh).len(), first.len() + 1);
}
