//! Bad input: one clear error naming the file or ref, the documented exit
//! code, never a panic, and `series/` byte for byte as it was.

use std::fs;

use crate::common::*;

fn with_series() -> Env {
    let env = Env::new();
    env.base("v4.11-rc2");
    env.write("mm/memory.c", "changed\n");
    env.commit("mm: change\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    env.init(&["--base", "v4.11-rc2"]);
    env
}

#[test]
fn not_a_git_repo() {
    let env = Env::new();
    let empty = env.dir.path().join("empty");
    fs::create_dir_all(&empty).unwrap();
    let out = env.series(&["--tree", empty.to_str().unwrap(), "init", "--base", "v1"]);
    assert_fails(&out, 1, &["is not a git repository", "empty"]);
    assert!(!env.series_dir().exists());
}

#[test]
fn missing_tree_path() {
    let env = Env::new();
    let out = env.series(&["--tree", "/nonexistent/linux", "init", "--base", "v1"]);
    assert_fails(&out, 2, &["--tree /nonexistent/linux: no such folder"]);
    // A verb that can do without a tree does not quietly do without the
    // one named.
    env.base("v4.11-rc2");
    env.write("mm/x.c", "x\n");
    env.commit("mm: x\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    env.init(&["--base", "v4.11-rc2"]);
    for verb in [&["status"][..], &["check"][..], &["format"][..]] {
        let mut args = vec!["--tree", "/nonexistent/linux"];
        args.extend_from_slice(verb);
        let out = env.series(&args);
        assert_fails(&out, 2, &["no such folder"]);
    }
    let out = env.series_env(&["check"], &[("SERIES_TREE", "/nonexistent/linux")]);
    assert_fails(&out, 1, &["SERIES_TREE=/nonexistent/linux: no such folder"]);
}

#[test]
fn unknown_base_lists_near_names() {
    let env = Env::new();
    env.base("v4.11-rc2");
    env.git(&["tag", "v4.11-rc3"]);
    let out = env.series_t(&["init", "--base", "v4.11-rc9"]);
    assert_fails(
        &out,
        1,
        &[
            "unknown revision \"v4.11-rc9\"",
            "near matches: v4.11-rc2, v4.11-rc3",
        ],
    );
    assert!(!env.series_dir().exists());
}

#[test]
fn short_base_names_resolve_and_ambiguity_is_listed() {
    let env = Env::new();
    env.base("v4.11-rc2-mmotm-2017-03-14-15-41");
    env.write("mm/memory.c", "changed\n");
    env.commit("mm: change");
    env.git(&["branch", "mmotm-2017-03-08-15-20", "HEAD~1"]);
    let out = env.series_t(&["init", "--base", "mmotm-2017-03-14"]);
    assert_ok(&out);
    let manifest = fs::read_to_string(env.series_dir().join("series.toml")).unwrap();
    assert!(
        manifest.contains("name = \"v4.11-rc2-mmotm-2017-03-14-15-41\""),
        "{manifest}"
    );
    fs::remove_dir_all(env.series_dir()).unwrap();
    let out = env.series_t(&["init", "--base", "mmotm-2017-03"]);
    assert_fails(
        &out,
        1,
        &[
            "names several refs",
            "mmotm-2017-03-08-15-20",
            "v4.11-rc2-mmotm-2017-03-14-15-41",
        ],
    );
}

#[test]
fn empty_range() {
    let env = Env::new();
    env.base("v4.11-rc2");
    let out = env.series_t(&["init", "--base", "v4.11-rc2"]);
    assert_fails(&out, 1, &["the range v4.11-rc2..HEAD holds no commits"]);
    assert!(!env.series_dir().exists());
}

#[test]
fn a_range_with_a_merge() {
    let env = Env::new();
    env.base("v4.11-rc2");
    env.git(&["checkout", "-q", "-b", "side"]);
    env.write("side.c", "x\n");
    env.commit("side");
    env.git(&["checkout", "-q", "main"]);
    env.write("main.c", "y\n");
    env.commit("main");
    env.git(&["merge", "-q", "--no-edit", "side"]);
    let out = env.series_t(&["init", "--base", "v4.11-rc2"]);
    assert_fails(&out, 1, &["is a merge"]);
    assert!(!env.series_dir().exists());
}

#[test]
fn a_range_not_on_the_base() {
    let env = Env::new();
    env.base("v4.11-rc2");
    env.write("a.c", "a\n");
    env.commit("a");
    env.write("b.c", "b\n");
    env.commit("b");
    let out = env.series_t(&["init", "--base", "v4.11-rc2", "HEAD~1..HEAD"]);
    assert_fails(&out, 1, &["does not start on the base v4.11-rc2"]);
}

#[test]
fn init_refuses_to_overwrite() {
    let env = with_series();
    let before = Env::snapshot(&env.series_dir());
    let out = env.series_t(&["init", "--base", "v4.11-rc2"]);
    assert_fails(&out, 1, &["already exists"]);
    assert_unchanged(
        &before,
        &Env::snapshot(&env.series_dir()),
        "after the error",
    );
}

#[test]
fn series_folder_missing() {
    let env = Env::new();
    let out = env.series(&["status"]);
    assert_fails(&out, 1, &["series does not exist", "series init"]);
}

/// Damage one file of a good series, run `status` and `format`, and check
/// the error names the file and nothing changed.
fn damaged(file: &str, edit: impl Fn(String) -> String, needles: &[&str]) {
    let env = with_series();
    let path = env.series_dir().join(file);
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, edit(text)).unwrap();
    let before = Env::snapshot(&env.series_dir());
    for verb in [&["status"][..], &["format"][..], &["send", "--dry-run"][..]] {
        let out = env.series(verb);
        let mut all = vec![file];
        all.extend_from_slice(needles);
        assert_fails(&out, 1, &all);
        assert_unchanged(
            &before,
            &Env::snapshot(&env.series_dir()),
            &format!("{verb:?} changed series/"),
        );
    }
    assert!(!env.work().join("outgoing").exists());
}

#[test]
fn malformed_manifest() {
    damaged(
        "series.toml",
        |t| t.replace("version = 1\n", "version = \n"),
        &["series.toml"],
    );
}

#[test]
fn unknown_field_in_manifest() {
    damaged(
        "series.toml",
        |t| t.replace("prefix = ", "colour = \"blue\"\nprefix = "),
        &["unknown field", "colour"],
    );
}

#[test]
fn newer_format() {
    damaged(
        "series.toml",
        |t| t.replace("format = 2\n", "format = 7\nshiny = true\n"),
        &["format 7, newer than this series understands (2)"],
    );
}

#[test]
fn hand_damaged_patch_file() {
    damaged(
        "patches/0001-mm-change.patch",
        |t| t.replace("\n---\n", "\n--\n"),
        &["no `---` line separates the message from the diff"],
    );
    damaged(
        "patches/0001-mm-change.patch",
        |t| t.replacen("From ", "Frm ", 1),
        &["line 1 is not a `From <commit>"],
    );
    damaged(
        "patches/0001-mm-change.patch",
        |t| t.replace("\n-- \n", "\n"),
        &["no `-- ` signature"],
    );
}

#[test]
fn unwritable_output_directory() {
    let env = with_series();
    fs::write(env.work().join("afile"), "not a folder").unwrap();
    let before = Env::snapshot(&env.series_dir());
    let out = env.series(&["format", "-o", "afile/out"]);
    assert_fails(&out, 1, &["cannot write", "afile"]);
    assert_unchanged(
        &before,
        &Env::snapshot(&env.series_dir()),
        "after the error",
    );
}

#[test]
fn bad_clock_is_a_usage_error() {
    let env = with_series();
    let out = env.series_env(&["format"], &[("SERIES_NOW", "yesterday")]);
    assert_fails(&out, 2, &["SERIES_NOW=\"yesterday\" is not a date"]);
}

#[test]
fn usage_errors_exit_2() {
    let env = Env::new();
    let out = env.series(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    let out = env.series(&["init", "--base", "x", "--version", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("version must be a whole number"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_exact_ref_wins_a_guess_is_said_and_suggestions_rank_by_closeness() {
    let env = Env::new();
    env.base("v6.12");
    env.write("mm/x.c", "x\n");
    env.commit("mm: x\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    env.git(&["branch", "mm-stable-2026-12-05", "v6.12"]);
    env.git(&["branch", "master", "v6.12"]);
    // No v6.1: the one ref containing it is taken, and said.
    let out = env.series_t(&["init", "--base", "v6.1"]);
    assert_ok(&out);
    assert!(
        stderr(&out)
            .contains("no ref is named \"v6.1\"; took v6.12, the one ref whose name contains it"),
        "{}",
        stderr(&out)
    );
    // A typo: what was meant comes first.
    let out = env.series_t(&["rebase", "mm-stabel"]);
    assert_fails(&out, 1, &["near matches: mm-stable-2026-12-05"]);
    // A list name: the list it is part of first.
    fs::write(
        env.tree().join("MAINTAINERS"),
        "L:\tlinux-mmc@vger.kernel.org\nL:\tdmm@example.org\nL:\tlinux-mm@kvack.org\n",
    )
    .unwrap();
    fs::write(env.series_dir().join("cover.md"), "Prose.\n").unwrap();
    let out = env.series_t(&["send", "--to", "mm", "--dry-run"]);
    assert_fails(&out, 1, &["unknown list \"mm\"; did you mean linux-mm,"]);
}
