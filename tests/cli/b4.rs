//! b4 prep branches both ways, with real b4: a series exported with
//! `series export --b4` is what `b4 prep --show-info` and `b4 send -o`
//! read; a branch made with `b4 prep -n`, sent by `b4 send` through a real
//! SMTP server and changed afterwards is imported by `series init
//! --from-b4` with its change-id, prefixes, recipients and the version sent.

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::common::*;
use crate::review::b4;
use crate::send::{header, Smtp};

/// Now, as a `SERIES_NOW` value: b4 finds a cover commit only when it was
/// committed in the last year, so the exported one cannot be dated 2017.
fn recent() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    format!("{secs} +0000")
}

/// The workspace tests' tree, with the identity b4 reads from git config.
fn tree() -> Env {
    let env = crate::workspace::tree();
    env.git(&["config", "user.name", "Aaron Lu"]);
    env.git(&["config", "user.email", "aaron.lu@intel.com"]);
    env
}

/// Run b4 in the tree with `stdin`; the output, checked.
fn run_b4(env: &Env, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut c = Command::new(b4());
    hermetic(&mut c, env.dir.path());
    for (k, v) in vars {
        c.env(k, v);
    }
    let mut child = c
        .current_dir(env.tree())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run b4");
    // b4 send asks to press Enter before it sends.
    use std::io::Write;
    let _ = child.stdin.take().unwrap().write_all(b"\n");
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "b4 {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `b4 prep --show-info` of the checked-out branch, as key -> value.
fn show_info(env: &Env) -> Vec<(String, String)> {
    let out = run_b4(env, &["prep", "--show-info"], &[]);
    stdout(&out)
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn info<'a>(info: &'a [(String, String)], key: &str) -> &'a str {
    info.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("b4 prep --show-info has no {key}: {info:?}"))
}

fn series_path(env: &Env) -> std::path::PathBuf {
    let out = env.series_in(&env.tree(), &["path"], &[]);
    assert_ok(&out);
    stdout(&out).trim().into()
}

#[test]
fn a_series_exported_for_b4_is_read_by_b4_and_sent_as_the_same_patches() {
    let env = tree();
    let t = env.tree();
    assert_ok(&env.series_in(
        &t,
        &[
            "init",
            "--base",
            "v4.11-rc2",
            "--subject",
            "mm: two changes",
            "--prefix",
            "RFC PATCH",
        ],
        &[],
    ));
    let dir = series_path(&env);
    fs::write(dir.join("cover.md"), "Why these two changes.\n").unwrap();
    let manifest = fs::read_to_string(dir.join("series.toml")).unwrap();
    fs::write(
        dir.join("series.toml"),
        manifest.replace(
            "[recipients]\nto = []",
            "[recipients]\nto = [\"Rita Reviewer <rita@example.org>\"]",
        ),
    )
    .unwrap();
    let now = recent();
    let out = env.series_in(&t, &["export", "--b4", "--json"], &[("SERIES_NOW", &now)]);
    assert_ok(&out);
    let made: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(made["branch"], "b4/main");
    let change_id = made["change_id"].as_str().unwrap().to_string();
    // The change-id is the series' from now on.
    let manifest = fs::read_to_string(dir.join("series.toml")).unwrap();
    assert!(
        manifest.contains(&format!("change-id = \"{change_id}\"")),
        "{manifest}"
    );

    env.git(&["checkout", "-q", "b4/main"]);
    let i = show_info(&env);
    assert_eq!(info(&i, "change-id"), change_id);
    assert_eq!(info(&i, "revision"), "1");
    assert_eq!(info(&i, "cover-subject"), "mm: two changes");
    assert_eq!(info(&i, "prefixes"), "RFC");
    assert_eq!(
        info(&i, "base-commit"),
        env.git(&["rev-parse", "v4.11-rc2"]).trim()
    );
    assert_eq!(info(&i, "needs-recipients"), "False");
    assert_eq!(
        i.iter().filter(|(k, _)| k.starts_with("commit-")).count(),
        2
    );

    let sent = env.dir.path().join("b4-out");
    run_b4(
        &env,
        &["send", "--no-sign", "-o", sent.to_str().unwrap()],
        &[],
    );
    let mut mails: Vec<_> = fs::read_dir(&sent)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    mails.sort();
    assert_eq!(mails.len(), 3, "{mails:?}");
    let cover = fs::read_to_string(&mails[0]).unwrap();
    assert_eq!(
        header(&cover, "Subject"),
        Some("[PATCH RFC 0/2] mm: two changes")
    );
    assert!(cover.contains("\nWhy these two changes.\n"), "{cover}");
    assert!(
        cover.contains(&format!("change-id: {change_id}")),
        "{cover}"
    );
    assert!(header(&cover, "To").unwrap().contains("rita@example.org"));
    // b4's patch mails, applied by git am on the base, make the series'
    // own commits' tree and messages.
    env.git(&["checkout", "-q", "-b", "from-b4", "v4.11-rc2"]);
    let mut am = vec!["am", "-q"];
    let names: Vec<String> = mails[1..]
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    am.extend(names.iter().map(String::as_str));
    env.git(&am);
    assert_eq!(
        env.git(&["rev-parse", "from-b4^{tree}"]),
        env.git(&["rev-parse", "main^{tree}"])
    );
    assert_eq!(
        env.git(&["log", "--format=%an %ae%n%B", "v4.11-rc2..from-b4"]),
        env.git(&["log", "--format=%an %ae%n%B", "v4.11-rc2..main"])
    );
}

/// A commit dated now: b4 walks the branch with `git log --since=1.year`,
/// which stops at the first older commit.
fn commit_now(env: &Env, message: &str) {
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", message]);
}

/// The cover b4 prep --edit-cover is given, through an editor script.
fn edit_cover(env: &Env, text: &str) {
    let script = env.dir.path().join("editor.sh");
    let cover = env.dir.path().join("cover.txt");
    fs::write(&cover, text).unwrap();
    fs::write(
        &script,
        format!("#!/bin/sh\ncat '{}' > \"$1\"\n", cover.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    run_b4(
        env,
        &["prep", "--edit-cover"],
        &[("EDITOR", script.to_str().unwrap())],
    );
}

fn sent_through(env: &Env, smtp: &Smtp) {
    env.git(&["config", "sendemail.smtpServer", "127.0.0.1"]);
    env.git(&[
        "config",
        "sendemail.smtpServerPort",
        &smtp.port().to_string(),
    ]);
    run_b4(env, &["send", "--no-sign"], &[]);
}

#[test]
fn a_b4_prep_branch_sent_by_b4_is_imported_with_the_version_it_sent() {
    let env = tree();
    run_b4(
        &env,
        &["prep", "-n", "parallel free", "-f", "v4.11-rc2"],
        &[],
    );
    env.write("mm/free.c", "int parallel_free;\n");
    commit_now(
        &env,
        "mm: add free.c\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>",
    );
    env.write("mm/memory.c", "line 1 changed\n");
    commit_now(
        &env,
        "mm: change memory.c\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>",
    );
    edit_cover(
        &env,
        "mm: support parallel free\n\n# a note to self\nFree in parallel.\n\nTo: Rita Reviewer <rita@example.org>\nCc: linux-mm@kvack.org\n",
    );
    run_b4(&env, &["prep", "--set-prefixes", "RFC"], &[]);
    let smtp = Smtp::start(env.dir.path(), None);
    sent_through(&env, &smtp);
    let received = smtp.received();
    assert_eq!(received.len(), 3);
    let cover_id = header(&received[0].0, "Message-Id")
        .unwrap()
        .trim_matches(['<', '>'])
        .to_string();
    let info_v2 = show_info(&env);
    assert_eq!(info(&info_v2, "revision"), "2");
    // Work on v2 after the send: the second patch changes.
    env.write("mm/memory.c", "line 1 changed again\n");
    env.git(&["commit", "-q", "-a", "--amend", "--no-edit"]);

    let t = env.tree();
    let out = env.series_in(&t, &["init", "--from-b4"], &[]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("from b4 prep branch b4/parallel-free"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("v2 is not posted yet."),
        "{}",
        stdout(&out)
    );
    let dir = series_path(&env);
    assert!(dir.ends_with("parallel-free/series"), "{}", dir.display());
    let m = fs::read_to_string(dir.join("series.toml")).unwrap();
    for want in [
        "name = \"parallel-free\"".to_string(),
        "subject = \"mm: support parallel free\"".to_string(),
        "version = 2".to_string(),
        "prefix = \"PATCH RFC\"".to_string(),
        format!("change-id = \"{}\"", info(&info_v2, "change-id")),
        "to = [\"Rita Reviewer <rita@example.org>\"]".to_string(),
        "cc = [\"linux-mm@kvack.org\"]".to_string(),
        format!("message-ids = [\"{cover_id}\"]"),
        format!(
            "commit = \"{}\"",
            env.git(&["rev-parse", "v4.11-rc2"]).trim()
        ),
    ] {
        assert!(m.contains(&want), "{want} not in\n{m}");
    }
    assert!(!m.contains("EDITME"), "{m}");
    assert_eq!(
        fs::read_to_string(dir.join("cover.md")).unwrap(),
        "Free in parallel.\n"
    );
    // v1 is kept as its sent/ tag holds it: the range-diff shows the change.
    assert!(dir.join("versions/v1/series.toml").is_file());
    let out = env.series_in(&t, &["diff"], &[]);
    assert_ok(&out);
    let rd = stdout(&out);
    assert!(rd.contains("1:  ") && rd.contains(" = 1:  "), "{rd}");
    assert!(
        rd.contains(" ! 2:  ") && rd.contains("+line 1 changed again"),
        "{rd}"
    );

    // And back: the exported branch is the same series to b4.
    env.git(&["checkout", "-q", "main"]);
    let now = recent();
    assert_ok(&env.series_in(&t, &["export", "--b4", "b4/back"], &[("SERIES_NOW", &now)]));
    env.git(&["checkout", "-q", "b4/back"]);
    let back = show_info(&env);
    for key in [
        "change-id",
        "revision",
        "cover-subject",
        "prefixes",
        "base-commit",
    ] {
        assert_eq!(info(&back, key), info(&info_v2, key), "{key}");
    }
    assert!(info(&back, "series-v1").ends_with(&cover_id), "{back:?}");
    // Exported again over the branch: the tag of what b4 sent stays.
    let tag = format!("refs/tags/sent/{}-v1", info(&info_v2, "change-id"));
    let sent = env.git(&["rev-parse", &tag]);
    env.git(&["checkout", "-q", "main"]);
    assert_ok(&env.series_in(
        &t,
        &["export", "--b4", "b4/back", "--force"],
        &[("SERIES_NOW", &now)],
    ));
    assert_eq!(env.git(&["rev-parse", &tag]), sent);
}

#[test]
fn a_branch_description_prep_branch_is_imported_and_other_branches_are_refused() {
    let env = tree();
    env.git(&["config", "b4.prep-cover-strategy", "branch-description"]);
    run_b4(&env, &["prep", "-n", "described", "-f", "v4.11-rc2"], &[]);
    env.write("mm/free.c", "int parallel_free;\n");
    commit_now(
        &env,
        "mm: add free.c\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>",
    );
    edit_cover(&env, "mm: described\n\nKept in the branch description.\n");
    let t = env.tree();
    let out = env.series_in(&t, &["init", "--from-b4", "b4/described"], &[]);
    assert_ok(&out);
    let dir = series_path(&env);
    assert_eq!(
        fs::read_to_string(dir.join("cover.md")).unwrap(),
        "Kept in the branch description.\n"
    );
    let m = fs::read_to_string(dir.join("series.toml")).unwrap();
    assert!(m.contains("subject = \"mm: described\""), "{m}");
    assert!(m.contains("file = \"0001-mm-add-free.c.patch\""), "{m}");
    assert_eq!(m.matches("[[patch]]").count(), 1, "{m}");

    // main is no prep branch; a branch that is not there is named.
    let before = Env::snapshot(&env.tree().join(".git/series"));
    let out = env.series_in(&t, &["--name", "other", "init", "--from-b4", "main"], &[]);
    assert_fails(
        &out,
        1,
        &["branch main is not a b4 prep branch", "b4 prep --show-info"],
    );
    let out = env.series_in(
        &t,
        &["--name", "other", "init", "--from-b4", "b4/none"],
        &[],
    );
    assert_fails(&out, 1, &["has no branch b4/none"]);
    assert_unchanged(
        &before,
        &Env::snapshot(&env.tree().join(".git/series")),
        "refused imports",
    );
    assert!(!Path::new(&env.tree().join(".git/series/other")).exists());
}

/// `b4 prep --check` with series as its per-patch check command
/// (`b4.prep-perpatch-check-cmd`, one line per finding): b4 shows what
/// series found on the patch that has it and passes the clean one.
#[test]
fn b4_prep_check_runs_series_as_its_check_command() {
    let env = tree();
    run_b4(&env, &["prep", "-n", "checked", "-f", "v4.11-rc2"], &[]);
    env.write("mm/free.c", "int parallel_free;\n");
    commit_now(
        &env,
        "mm: add free.c\n\nAdd it.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>",
    );
    env.write(
        "mm/free.c",
        "int parallel_free;\nint parallel_free_max;   \n",
    );
    commit_now(
        &env,
        "mm: add parallel_free_max\n\nAdd it.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>",
    );
    let series = assert_cmd::cargo::cargo_bin!("series");
    env.git(&[
        "config",
        "b4.prep-perpatch-check-cmd",
        &format!("{} check --mail - --format terse", series.display()),
    ]);
    let out = run_b4(&env, &["prep", "--check", "--no-cache"], &[]);
    let text = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(
        text.contains(
            "series: mm/free.c:2: ERROR: trailing whitespace (native/trailing-whitespace)"
        ),
        "{text}"
    );
    assert!(text.contains("Success: 1, Warning: 0, Error: 1"), "{text}");
}
