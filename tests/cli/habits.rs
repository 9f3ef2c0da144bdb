//! A kernel developer's habits: --json from the verbs that report, colour
//! only when asked or on a terminal, settings in git config and a tree's
//! shipped `.series-config`.

use std::fs;

use super::common::*;
use super::send::{send, sending};

fn json(out: &std::process::Output) -> serde_json::Value {
    assert_ok(out);
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

#[test]
fn the_reporting_verbs_speak_json() {
    let (env, _smtp, cfg) = sending(2);
    let v = json(&send(
        &env,
        &cfg,
        &["--to", "linux-mm", "--dry-run", "--json"],
    ));
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["signed"], false);
    let msgs = v["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3);
    assert_eq!(msgs[0]["to"][0], "linux-mm@kvack.org");
    assert!(msgs[1]["subject"]
        .as_str()
        .unwrap()
        .starts_with("[PATCH 1/2]"));
    let v = json(&env.series_t(&["apply", "--json"]));
    assert_eq!(v["branch"], "series/parallel-free-v1");
    assert_eq!(v["commits"].as_array().unwrap().len(), 2);
    let v = json(&env.series_t(&["rebase", "v4.11-rc2", "--json"]));
    assert_eq!(v["status"], "rebased");
    assert_eq!(v["patches"].as_array().unwrap().len(), 2);
    let v = json(&env.series_t(&["check", "--json"]));
    assert_eq!(v["apply"], "every patch applies on v4.11-rc2");
    let v = json(&env.series(&["status", "--json"]));
    assert_eq!(v["sent"], false);
    assert_eq!(v["kept"].as_array().unwrap().len(), 0);
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let (env, _smtp, _cfg) = sending(2);
    assert_ok(&env.series(&["reroll"]));
    fs::write(
        env.series_dir().join("patches/0001-mm-add-f1.patch"),
        fs::read_to_string(env.series_dir().join("patches/0001-mm-add-f1.patch"))
            .unwrap()
            .replace("Add f1.", "Add f1, reworded."),
    )
    .unwrap();
    let plain = env.series(&["diff", "--no-draft"]);
    assert_ok(&plain);
    assert!(
        !stdout(&plain).contains('\u{1b}'),
        "not a terminal: no colour"
    );
    let never = env.series(&["--color", "never", "diff", "--no-draft"]);
    assert_eq!(stdout(&never), stdout(&plain));
    let always = env.series(&["--color", "always", "diff", "--no-draft"]);
    assert!(stdout(&always).contains("\u{1b}["), "{}", stdout(&always));
    // The same text under the colour.
    let stripped: String = {
        let s = stdout(&always);
        let mut out = String::new();
        let mut it = s.chars().peekable();
        while let Some(c) = it.next() {
            if c == '\u{1b}' {
                for d in it.by_ref() {
                    if d == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    };
    assert_eq!(stripped, stdout(&plain));
    let out = env.series_env(
        &["--color", "auto", "diff", "--no-draft"],
        &[("NO_COLOR", "1")],
    );
    assert!(!stdout(&out).contains('\u{1b}'));
    let out = env.series(&["--color", "sometimes", "status"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn settings_come_from_git_config_then_the_trees_series_config() {
    let (env, _smtp, cfg) = sending(1);
    fs::write(
        env.tree().join(".series-config"),
        "[series]\n\tto = linux-mm@kvack.org\n\tcc = Dave Hansen <dave.hansen@intel.com>\n",
    )
    .unwrap();
    // The tree's defaults, with no --to.
    let v = json(&send(&env, &cfg, &["--dry-run", "--json"]));
    assert_eq!(v["messages"][0]["to"][0], "linux-mm@kvack.org");
    assert!(v["messages"][0]["cc"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c.as_str().unwrap().contains("dave.hansen")));
    // The user's git config wins over the tree's file.
    let mut text = fs::read_to_string(&cfg).unwrap();
    text.push_str("[series]\n\tto = linux-kernel@vger.kernel.org\n");
    fs::write(&cfg, &text).unwrap();
    let v = json(&send(&env, &cfg, &["--dry-run", "--json"]));
    assert_eq!(v["messages"][0]["to"][0], "linux-kernel@vger.kernel.org");
    // series.tree: no --tree, run outside the tree.
    text.push_str(&format!("\ttree = {}\n", env.tree().display()));
    fs::write(&cfg, &text).unwrap();
    let out = env.series_env(
        &["apply", "--json", "--branch", "t"],
        &[("GIT_CONFIG_GLOBAL", cfg.as_str())],
    );
    assert_eq!(json(&out)["branch"], "t");
    // series.signature for a new series.
    fs::remove_dir_all(env.series_dir()).unwrap();
    text.push_str("\tsignature = 2.53.0\n");
    fs::write(&cfg, &text).unwrap();
    let tree = env.tree().to_string_lossy().into_owned();
    let out = env.series_env(
        &["--tree", &tree, "init", "--base", "v4.11-rc2"],
        &[("GIT_CONFIG_GLOBAL", cfg.as_str())],
    );
    assert_ok(&out);
    let patch = fs::read_to_string(env.series_dir().join("patches/0001-mm-add-f1.patch")).unwrap();
    assert!(patch.ends_with("-- \n2.53.0\n\n"), "{patch}");
}

#[test]
fn a_closed_pipe_ends_quietly_and_a_full_disk_is_one_clear_error() {
    let env = Env::new();
    for args in [
        &["completions", "bash"][..],
        &["completions", "zsh"][..],
        &["man", "--help"][..],
    ] {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin!("series"));
        hermetic(&mut c, env.dir.path());
        let mut child = c
            .current_dir(env.work())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before series writes a byte.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).is_empty(), "{args:?}: {}", stderr(&out));
    }
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin!("series"));
    hermetic(&mut c, env.dir.path());
    let out = c
        .current_dir(env.work())
        .args(["completions", "bash"])
        .stdout(full)
        .output()
        .unwrap();
    assert_fails(&out, 1, &["writing output", "No space left on device"]);
}

/// `series status` answers "is it ready to send?" by its exit code: 5
/// until a check has run on the series as it is, 0 once one passed, 5
/// again after an edit or when the last check found errors.
#[test]
fn status_exits_5_until_a_check_passed_on_the_series_as_it_is() {
    let (env, _smtp, _cfg) = sending(2);
    let out = env.series_t(&["status"]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    assert!(
        stdout(&out).contains(
            "check: not run since the last change\nnot ready to send: `series check` has not run since the last change\n"
        ),
        "{}",
        stdout(&out)
    );

    assert_ok(&env.series_t(&["check"]));
    let out = env.series_t(&["status"]);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(text.contains("check: passed, 0 warnings ("), "{text}");
    assert!(text.ends_with("ready to send\n"), "{text}");
    let v = json(&env.series_t(&["status", "--json"]));
    assert_eq!(v["not_ready"].as_array().unwrap().len(), 0);
    assert_eq!(v["checked"]["errors"], 0);

    // An edit to a patch: the check no longer speaks for the series.
    let patch = env.series_dir().join("patches/0001-mm-add-f1.patch");
    let text = fs::read_to_string(&patch).unwrap();
    fs::write(
        &patch,
        text.replace("Signed-off-by: Aaron Lu <aaron.lu@intel.com>\n", ""),
    )
    .unwrap();
    let out = env.series_t(&["status", "--json"]);
    assert_eq!(out.status.code(), Some(5));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["not_ready"][0],
        "`series check` has not run since the last change"
    );
    // A check that finds the missing sign-off: not ready, and why.
    assert_eq!(env.series_t(&["check"]).status.code(), Some(1));
    let out = env.series_t(&["status"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(
        stdout(&out).contains("not ready to send: the last `series check` found 1 error"),
        "{}",
        stdout(&out)
    );
    // Put back as it was checked: ready again, from the kept record.
    fs::write(&patch, &text).unwrap();
    assert_ok(&env.series_t(&["status"]));
}

/// The verbs that make or change a series speak JSON too: reroll, apply
/// then refresh, attest (docs/JSON.md).
#[test]
fn reroll_refresh_and_attest_speak_json() {
    let (env, _smtp, _cfg) = sending(2);
    let v = json(&env.series_t(&["reroll", "--json"]));
    assert_eq!((v["old"].as_u64(), v["new"].as_u64()), (Some(1), Some(2)));
    assert_eq!(v["was_sent"], false);
    assert_eq!(v["kept_now"], true);
    let v = json(&env.series_t(&["apply", "--json"]));
    let branch = v["branch"].as_str().unwrap().to_string();
    let v = json(&env.series_t(&["refresh", "--branch", &branch, "--dry-run", "--json"]));
    assert_eq!(v["branch"], branch.as_str());
    assert_eq!(v["patches"], 2);
    assert_eq!(v["saved"], false);
    assert_eq!(v["lines"][0]["fate"], "unchanged");
    let file = env.series_dir().join("patches/0001-mm-add-f1.patch");
    let v = json(&env.series(&["attest", file.to_str().unwrap(), "--json"]));
    assert_eq!(v["files"][0]["bad"], 0);
    assert_eq!(v["files"][0]["signatures"].as_array().unwrap().len(), 0);
}
