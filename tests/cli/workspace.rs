//! Where a series lives and how it is edited: found from anywhere in the
//! tree, kept under the git folder where git clean cannot reach, several
//! per repository with a current one per worktree, moved out and back, and
//! the edit loop that reads the working branch back.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::*;

/// A tree with a base and two commits on `main`, nothing initialised.
pub(crate) fn tree() -> Env {
    let env = Env::new();
    env.base("v4.11-rc2");
    env.write("mm/memory.c", "line 1 changed\n");
    env.commit("mm: change memory.c\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    env.write("mm/free.c", "int parallel_free;\n");
    env.commit("mm: add free.c\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    env
}

/// `series ARGS` run in `dir` (no --tree: found from where it runs).
fn run_in(env: &Env, dir: &Path, args: &[&str]) -> std::process::Output {
    env.series_in(dir, args, &[])
}

fn ok_in(env: &Env, dir: &Path, args: &[&str]) -> String {
    let out = run_in(env, dir, args);
    if args.contains(&"status") {
        assert_read(&out);
    } else {
        assert_ok(&out);
    }
    stdout(&out)
}

fn git_dir(env: &Env) -> PathBuf {
    env.tree().join(".git").canonicalize().unwrap()
}

#[test]
fn a_series_made_in_a_tree_lives_under_its_git_folder_out_of_git_cleans_reach() {
    let env = tree();
    let t = env.tree();
    let made = ok_in(&env, &t, &["init", "--base", "v4.11-rc2", "--name", "pf"]);
    assert!(made.contains("with 2 patches"), "{made}");
    let home = git_dir(&env).join("series/pf/series");
    assert!(home.join("series.toml").is_file());
    assert!(!t.join("series").exists(), "nothing in the worktree");
    assert_eq!(ok_in(&env, &t, &["path"]).trim(), home.to_str().unwrap());
    // The worktree stays clean; git clean and git stash -u leave it.
    assert_eq!(env.git(&["status", "--porcelain", "--ignored"]), "");
    env.write("scratch.txt", "mine\n");
    env.git(&["stash", "-u", "-q"]);
    env.git(&["clean", "-dfxq"]);
    env.git(&["checkout", "-q", "v4.11-rc2"]);
    assert!(home.join("series.toml").is_file());
    // Found from any folder of the tree, as git finds .git.
    let mm = t.join("mm");
    let status = ok_in(&env, &mm, &["status"]);
    assert!(status.starts_with("pf v1: "), "{status}");
    assert!(!status.contains("git clean"), "{status}");
    // And the tree is the worktree it runs in.
    let checked = run_in(&env, &mm, &["check"]);
    assert!(
        stdout(&checked).contains("apply: every patch applies on v4.11-rc2"),
        "{}{}",
        stdout(&checked),
        stderr(&checked)
    );
    // A series/ folder found walking up still wins (and works unchanged).
    let json = ok_in(&env, &t, &["path", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["home"], "home");
    assert_eq!(v["name"], "pf");
}

#[test]
fn a_series_folder_is_found_from_below_and_outside_a_repository_init_makes_one_here() {
    let env = tree();
    env.init(&["--base", "v4.11-rc2", "--subject", "mm: change"]);
    let sub = env.work().join("notes/deeper");
    fs::create_dir_all(&sub).unwrap();
    let tree = env.tree().to_string_lossy().into_owned();
    let status = ok_in(&env, &sub, &["--tree", &tree, "status"]);
    assert!(status.contains("mm: change"), "{status}");
    assert_eq!(
        ok_in(&env, &sub, &["path"]).trim(),
        env.series_dir().to_str().unwrap()
    );
}

#[test]
fn several_series_each_worktree_has_its_current_one_and_name_picks_another() {
    let env = tree();
    let t = env.tree();
    ok_in(
        &env,
        &t,
        &[
            "init",
            "--base",
            "v4.11-rc2",
            "--name",
            "first",
            "v4.11-rc2..main~1",
        ],
    );
    ok_in(
        &env,
        &t,
        &["init", "--base", "v4.11-rc2", "--name", "second"],
    );
    // The one made last is current.
    let list = ok_in(&env, &t, &["list"]);
    assert!(
        list.contains("  first v1 preparing, on v4.11-rc2"),
        "{list}"
    );
    assert!(
        list.contains("* second v1 preparing, on v4.11-rc2"),
        "{list}"
    );
    let v: serde_json::Value = serde_json::from_str(&ok_in(&env, &t, &["list", "--json"])).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert!(ok_in(&env, &t, &["status"]).contains("2/2"));
    assert!(!ok_in(&env, &t, &["--name", "first", "status"]).contains("2/2"));
    // A linked worktree has its own current series.
    let wt = env.dir.path().join("wt");
    env.git(&[
        "worktree",
        "add",
        "-q",
        "--detach",
        wt.to_str().unwrap(),
        "main",
    ]);
    let none = run_in(&env, &wt, &["status"]);
    assert_fails(&none, 1, &["holds 2 series", "series switch NAME"]);
    assert!(ok_in(&env, &wt, &["switch", "first"]).contains("Now on series first"));
    assert!(!ok_in(&env, &wt, &["status"]).contains("2/2"));
    assert!(
        ok_in(&env, &t, &["status"]).contains("2/2"),
        "main keeps its own"
    );
    assert!(ok_in(&env, &wt, &["list"]).contains("* first"));
    // Unknown names are errors that list the known ones.
    assert_fails(
        &run_in(&env, &t, &["switch", "third"]),
        1,
        &["no series \"third\"", "first, second"],
    );
    assert_fails(
        &run_in(&env, &t, &["--name", "../x", "status"]),
        2,
        &["not valid"],
    );
    // A name already taken is refused, and says how to name another.
    assert_fails(
        &run_in(
            &env,
            &t,
            &["init", "--base", "v4.11-rc2", "--name", "first"],
        ),
        1,
        &["already exists", "--name NAME"],
    );
}

#[test]
fn a_series_moves_to_a_folder_of_its_own_and_back_home() {
    let env = tree();
    let t = env.tree();
    ok_in(&env, &t, &["init", "--base", "v4.11-rc2", "--name", "pf"]);
    let home = git_dir(&env).join("series/pf/series");
    let shared = env.dir.path().join("shared/pf-series");
    ok_in(&env, &t, &["move", shared.to_str().unwrap()]);
    assert!(shared.join("series.toml").is_file());
    assert!(!home.exists());
    // Still the repository's series, wherever it is.
    assert_eq!(
        ok_in(&env, &t, &["path"]).trim(),
        shared.canonicalize().unwrap().to_str().unwrap()
    );
    assert!(ok_in(&env, &t, &["status"]).starts_with("pf v1"));
    // A folder that exists is not overwritten.
    let taken = env.dir.path().join("taken");
    fs::create_dir_all(&taken).unwrap();
    assert_fails(
        &run_in(&env, &t, &["move", taken.to_str().unwrap()]),
        1,
        &["already exists"],
    );
    ok_in(&env, &t, &["move"]);
    assert!(home.join("series.toml").is_file());
    assert!(!shared.exists());
    assert_eq!(ok_in(&env, &t, &["path"]).trim(), home.to_str().unwrap());
}

#[test]
fn the_edit_loop_reads_the_branch_back_and_refuses_when_both_sides_changed() {
    let env = tree();
    let t = env.tree();
    ok_in(&env, &t, &["init", "--base", "v4.11-rc2", "--name", "pf"]);
    let started = ok_in(&env, &t, &["edit"]);
    assert!(
        started.contains("Editing on branch series/pf-v1"),
        "{started}"
    );
    assert_eq!(
        env.git(&["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "series/pf-v1"
    );
    assert!(ok_in(&env, &t, &["status"]).contains("editing on branch series/pf-v1"));
    // The developer amends the last commit on the branch.
    env.write("mm/free.c", "int parallel_free = 1;\n");
    env.git(&["commit", "-q", "-a", "--amend", "--no-edit"]);
    let status = ok_in(&env, &t, &["status"]);
    assert!(
        status.contains("moved since series/ was written"),
        "{status}"
    );
    // The next verb that reads the series reads the branch back, once.
    let out = run_in(&env, &t, &["trailers"]);
    assert_ok(&out);
    assert!(
        stderr(&out).contains("series/ refreshed from it (2 patches)"),
        "{}",
        stderr(&out)
    );
    let home = git_dir(&env).join("series/pf/series");
    let patch = fs::read_to_string(home.join("patches/0002-mm-add-free.c.patch")).unwrap();
    assert!(patch.contains("+int parallel_free = 1;"), "{patch}");
    let again = run_in(&env, &t, &["trailers"]);
    assert!(!stderr(&again).contains("refreshed"), "{}", stderr(&again));
    // Both sides change: refused, with both ways out.
    env.write("mm/free.c", "int parallel_free = 2;\n");
    env.git(&["commit", "-q", "-a", "--amend", "--no-edit"]);
    fs::write(home.join("cover.md"), "Edited by hand.\n").unwrap();
    let before = Env::snapshot(&home);
    let out = run_in(&env, &t, &["trailers"]);
    assert_fails(
        &out,
        1,
        &[
            "both the working branch series/pf-v1 and series/ changed",
            "series refresh --branch",
            "series edit --force",
        ],
    );
    assert_unchanged(&before, &Env::snapshot(&home), "a refused sync");
    // Leaving the loop: the branch stays, nothing is read back any more.
    assert!(ok_in(&env, &t, &["edit", "--done"]).contains("No longer editing on series/pf-v1"));
    assert_ok(&run_in(&env, &t, &["trailers"]));
    assert_eq!(
        env.git(&["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "series/pf-v1"
    );
}
