//! Shell completion as a user meets it: the script `series completions`
//! prints, loaded into a real bash (and fish, and zsh's protocol), offering
//! what comes next on the line: the tree's refs, versions, comment ids,
//! bench names and list names.

use std::path::Path;
use std::process::Command;

use super::common::*;
use super::hostile::{imported, mbox_of, reply_to};

/// A series with a reply holding one comment, a bench, on a tree with
/// tags and branches; returns the open comment's id.
fn ready(env: &Env) -> String {
    let v1 = imported(env);
    env.git(&["branch", "mm-stable", "v4.11-rc2"]);
    let reply = reply_to(
        &v1[1],
        "Dave Hansen <dave.hansen@intel.com>",
        "<dave-1@intel.com>",
        "",
        "> +\tstruct mmu_gather_batch *next;\n\nWhy not a list_head here?\n",
    );
    let path = mbox_of(env, "replies.mbox", &[reply]);
    assert_ok(&env.series_t(&["review", "fetch", "--mbox", &path]));
    assert_ok(&env.series(&[
        "bench",
        "new",
        "munmap-latency",
        "--title",
        "munmap of 320G",
    ]));
    let v: serde_json::Value =
        serde_json::from_slice(&env.series(&["review", "--json"]).stdout).unwrap();
    v[0]["id"].as_str().expect("a comment id").to_string()
}

/// A shell running in the project folder, with the hermetic environment,
/// `series` first on PATH and the tree named by SERIES_TREE.
fn shell(env: &Env, program: &str) -> Command {
    let mut c = Command::new(program);
    hermetic(&mut c, env.dir.path());
    let bin = Path::new(assert_cmd::cargo::cargo_bin!("series"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    c.env("PATH", path)
        .env("SERIES_TREE", env.tree())
        .current_dir(env.work());
    c
}

fn script(env: &Env, shell: &str) -> std::path::PathBuf {
    let out = env.series(&["completions", shell]);
    assert_ok(&out);
    let path = env.dir.path().join(format!("series.{shell}"));
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

/// What bash offers for `words`, the last one being completed: the
/// completion function run as bash runs it on a Tab, COMP_WORDS and
/// COMP_CWORD set.
fn bash_offers(env: &Env, words: &[&str]) -> Vec<String> {
    bash_offers_in(env, &env.work(), words)
}

fn bash_offers_in(env: &Env, dir: &Path, words: &[&str]) -> Vec<String> {
    let script = script(env, "bash");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let n = words.len() - 1;
    let line = format!(
        "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={n}\nCOMP_TYPE=9\n_clap_complete_series series '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script.display(),
        quoted.join(" "),
        words[n],
        words[n - 1],
    );
    let out = shell(env, "bash")
        .current_dir(dir)
        .arg("-c")
        .arg(line)
        .output()
        .expect("bash");
    assert!(out.status.success(), "bash: {}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn bash_completes_refs_versions_comment_ids_benches_and_lists() {
    let env = Env::new();
    let id = ready(&env);

    assert_eq!(bash_offers(&env, &["series", "reba"]), ["rebase"]);
    let verbs = bash_offers(&env, &["series", "re"]);
    for verb in ["rebase", "refresh", "reroll", "review"] {
        assert!(verbs.iter().any(|v| v == verb), "no {verb} among {verbs:?}");
    }
    // A shell series has no script for is a usage error.
    assert_eq!(env.series(&["completions", "tcsh"]).status.code(), Some(2));
    // Refs of the tree after rebase and init --base; branches after
    // apply --branch.
    let refs = bash_offers(&env, &["series", "rebase", "v4.11-"]);
    assert!(refs.contains(&"v4.11-rc2".to_string()), "{refs:?}");
    assert!(!refs.contains(&"mm-stable".to_string()), "{refs:?}");
    let refs = bash_offers(&env, &["series", "init", "--base", "mm-"]);
    assert_eq!(refs, ["mm-stable"]);
    let branches = bash_offers(&env, &["series", "apply", "--branch", ""]);
    assert!(branches.contains(&"mm-stable".to_string()), "{branches:?}");
    assert!(!branches.contains(&"v4.11-rc2".to_string()), "{branches:?}");
    // Versions after diff.
    assert_eq!(bash_offers(&env, &["series", "diff", "v"]), ["v1"]);
    // The open comment's id after review resolve and review reply.
    assert_eq!(
        bash_offers(&env, &["series", "review", "resolve", &id[..4]]),
        std::slice::from_ref(&id)
    );
    assert_eq!(
        bash_offers(&env, &["series", "review", "reply", &id[..4]]),
        [id]
    );
    // Bench names after bench show and bench record.
    assert_eq!(
        bash_offers(&env, &["series", "bench", "show", "m"]),
        ["munmap-latency"]
    );
    assert_eq!(
        bash_offers(&env, &["series", "bench", "record", "munmap"]),
        ["munmap-latency"]
    );
    // List names from the tree's MAINTAINERS after --to and --cc.
    assert_eq!(
        bash_offers(&env, &["series", "send", "--to", "linux-m"]),
        ["linux-mm"]
    );
    let lists = bash_offers(&env, &["series", "format", "--cc", "linux-"]);
    assert_eq!(lists, ["linux-kernel", "linux-mm"]);
    // The series of the tree's home after switch and --name.
    let tree = env.tree();
    for name in ["mm-one", "mm-two"] {
        let out = env.series_in(&tree, &["init", "--base", "v4.11-rc2", "--name", name], &[]);
        assert_ok(&out);
    }
    assert_eq!(
        bash_offers_in(&env, &tree, &["series", "switch", "mm-"]),
        ["mm-one", "mm-two"]
    );
    assert_eq!(
        bash_offers_in(&env, &tree, &["series", "--name", "mm-t"]),
        ["mm-two"]
    );
}

#[test]
fn fish_and_zsh_complete_the_same_values() {
    let env = Env::new();
    let _ = ready(&env);
    let fish = script(&env, "fish");
    let out = shell(&env, "fish")
        .arg("--no-config")
        .arg("-c")
        .arg(format!(
            "source '{}'; complete -C 'series rebase v4.11-'; complete -C 'series send --to linux-m'",
            fish.display()
        ))
        .output()
        .expect("fish (Debian's fish package)");
    assert!(out.status.success(), "fish: {}", stderr(&out));
    let text = stdout(&out);
    let offered: Vec<&str> = text
        .lines()
        .map(|l| l.split('\t').next().unwrap_or(""))
        .collect();
    assert!(offered.contains(&"v4.11-rc2"), "{offered:?}");
    assert!(offered.contains(&"linux-mm"), "{offered:?}");

    // zsh: the script parses, and the protocol it speaks (the index of the
    // word, then the words) answers with the values.
    let zsh = script(&env, "zsh");
    let out = shell(&env, "zsh")
        .arg("-n")
        .arg(&zsh)
        .output()
        .expect("zsh");
    assert!(out.status.success(), "zsh -n: {}", stderr(&out));
    let out = shell(&env, "series")
        .env("COMPLETE", "zsh")
        .env("_CLAP_COMPLETE_INDEX", "2")
        .args(["--", "series", "diff", "v"])
        .output()
        .unwrap();
    assert_eq!(
        stdout(&out).lines().collect::<Vec<_>>(),
        ["v1:sent 2017-03-08"]
    );
}
