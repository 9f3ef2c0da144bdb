//! Versions: a sent version is kept and final, `reroll` starts the next,
//! `refresh` reads a branch back, `diff` is git range-diff's, and the
//! changelog is drafted from it. Real git (format-patch, range-diff) and
//! a real SMTP server are the references.

use std::fs;

use super::common::*;
use super::send::{header, send, sending};

/// `git range-diff` of two ranges in the fixture tree.
fn git_range_diff(env: &Env, a: &str, b: &str, extra: &[&str]) -> String {
    let mut args = vec!["range-diff", "--no-color"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[a, b]);
    env.git(&args)
}

/// The patch files in series/patches, in order.
fn patch_files(env: &Env) -> Vec<(String, Vec<u8>)> {
    files(&env.series_dir().join("patches"))
}

/// `git format-patch` of a range with series' signature, into a folder.
fn format_patch(env: &Env, range: &str) -> Vec<(String, Vec<u8>)> {
    let out = env
        .dir
        .path()
        .join(format!("fp-{}", range.replace(['/', '.'], "_")));
    env.git(&[
        "format-patch",
        "-q",
        "--signature",
        SIGNATURE,
        "-o",
        out.to_str().unwrap(),
        range,
    ]);
    files(&out)
}

/// Check out `branch` in the tree, rewrite patch 2, keep 3, add a 4th.
fn amend_on_branch(env: &Env, branch: &str) {
    env.git(&["checkout", "-q", branch]);
    let log = env.git(&["log", "--format=%H", "--reverse", "v4.11-rc2..HEAD"]);
    let ids: Vec<&str> = log.lines().collect();
    env.git(&["reset", "-q", "--hard", ids[1]]);
    env.write("mm/f2.c", "int f2;\nint f2_more;\n");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "--amend", "--no-edit"]);
    env.git(&["cherry-pick", ids[2]]);
    env.write("mm/f4.c", "int f4;\n");
    env.commit("mm: add f4\n\nAdd f4.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
}

#[test]
fn a_series_goes_from_v1_sent_to_v2_sent_with_a_drafted_changelog() {
    let (env, smtp, cfg) = sending(3);
    let out = send(&env, &cfg, &["--to", "linux-mm", "--yes"]);
    assert_ok(&out);
    // What was sent is kept, byte for byte, in versions/v1.
    let kept = files(&env.series_dir().join("versions/v1/patches"));
    assert_eq!(kept, patch_files(&env));
    let v1_cover = smtp.received()[0].0.clone();
    let v1_id = header(&v1_cover, "Message-ID").unwrap().to_string();

    // A sent version is final: no rebase, no refresh, no second send.
    let before = Env::snapshot(&env.series_dir());
    let out = env.series_t(&["rebase", "v4.11-rc2"]);
    assert_fails(&out, 1, &["v1 was sent on", "series reroll"]);
    let out = env.series_t(&["refresh", "--branch", "main"]);
    assert_fails(&out, 1, &["v1 was sent on", "series reroll"]);
    assert_unchanged(
        &before,
        &Env::snapshot(&env.series_dir()),
        "a refused change",
    );
    let out = send(&env, &cfg, &["--yes"]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("nothing was sent"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("series reroll"));

    let out = env.series(&["reroll"]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("v1 was sent and is kept"),
        "{}",
        stdout(&out)
    );
    let status = stdout(&env.series(&["status"]));
    assert!(status.contains("parallel-free v2:"), "{status}");
    assert!(status.contains("v1 sent 2017-03-15"), "{status}");
    assert!(status.contains("[kept in versions/v1]"), "{status}");

    // The same patches again are refused as v2.
    let out = send(&env, &cfg, &["--yes"]);
    assert_fails(&out, 1, &["v2 has the same patches as v1", "--force"]);
    assert_eq!(smtp.received().len(), 4);

    // Edit on the branch `series apply` makes, then bring it back.
    assert_ok(&env.series_t(&["apply"]));
    amend_on_branch(&env, "series/parallel-free-v2");
    let out = env.series_t(&["refresh"]);
    assert_ok(&out);
    let report = stdout(&out);
    assert!(report.contains("  1  unchanged"), "{report}");
    assert!(report.contains("  2  modified"), "{report}");
    assert!(report.contains("  4  new"), "{report}");
    // The files are git format-patch's for the branch, byte for byte.
    assert_eq!(
        patch_files(&env),
        format_patch(&env, "v4.11-rc2..series/parallel-free-v2")
    );
    let manifest = fs::read_to_string(env.series_dir().join("series.toml")).unwrap();
    let v1_manifest = fs::read_to_string(env.series_dir().join("versions/v1/series.toml")).unwrap();
    let ids = |m: &str| -> Vec<String> {
        m.lines()
            .filter_map(|l| l.strip_prefix("change-id = "))
            .map(str::to_string)
            .collect()
    };
    let (now, then) = (ids(&manifest), ids(&v1_manifest));
    assert_eq!(now.len(), 4);
    assert_eq!(now[..3], then[..3], "amended patches keep their change ids");

    // diff is git range-diff of the same commits; --draft drafts the
    // changelog. git leaves a patch this small unpaired at its default
    // creation factor (60); series pairs it by its change id, as git does
    // at 200.
    let before = fs::read(env.series_dir().join("series.toml")).unwrap();
    let out = env.series(&["diff"]);
    assert_ok(&out);
    assert_eq!(
        fs::read(env.series_dir().join("series.toml")).unwrap(),
        before,
        "a plain diff reads, never writes"
    );
    let out = env.series(&["diff", "--draft"]);
    assert_ok(&out);
    let git = git_range_diff(
        &env,
        "v4.11-rc2..main",
        "v4.11-rc2..series/parallel-free-v2",
        &["--creation-factor=200"],
    );
    assert_eq!(stdout(&out), git);
    assert!(stderr(&out).contains("Drafted 2 lines"), "{}", stderr(&out));
    let manifest = fs::read_to_string(env.series_dir().join("series.toml")).unwrap();
    assert!(
        manifest.contains("'patch 2/4 \"mm: add f2\": changes in mm/f2.c'"),
        "{manifest}"
    );
    assert!(
        manifest.contains("'patch 4/4 is new: \"mm: add f4\"'"),
        "{manifest}"
    );
    // A second draft adds nothing: the lines are there.
    let out = env.series(&["diff", "--draft"]);
    assert!(!stderr(&out).contains("Drafted"));

    // Threaded to v1 when asked...
    let out = send(&env, &cfg, &["--in-reply-to", "v1", "--dry-run"]);
    assert_ok(&out);
    let cover =
        fs::read_to_string(env.work().join("outgoing/v2/v2-0000-cover-letter.patch")).unwrap();
    assert_eq!(header(&cover, "In-Reply-To"), Some(v1_id.as_str()));
    // ...and by default a new thread whose cover links to v1.
    let out = send(&env, &cfg, &["--yes"]);
    assert_ok(&out);
    let got = smtp.received();
    assert_eq!(got.len(), 4 + 5);
    let cover = &got[4].0;
    assert!(header(cover, "Subject").unwrap().contains("[PATCH v2 0/4]"));
    assert_eq!(header(cover, "In-Reply-To"), None);
    let link = format!(
        "v1: https://lore.kernel.org/r/{}",
        v1_id.trim_matches(['<', '>'])
    );
    assert!(cover.contains(&link), "{cover}");
    assert!(
        cover.contains("Changes in v2:\n- patch 2/4 \"mm: add f2\": changes in mm/f2.c\n"),
        "{cover}"
    );
    assert!(env.series_dir().join("versions/v2/series.toml").is_file());
    assert_eq!(
        files(&env.series_dir().join("versions/v1/patches")),
        kept,
        "v1 never changes"
    );
}

/// Two versions of a richer series: reworded, reordered, dropped, added
/// and changed patches, hunks under function names.
fn two_versions(env: &Env) {
    env.base("v4.11-rc2");
    let mut memory = fs::read_to_string(env.tree().join("mm/memory.c")).unwrap();
    memory = memory.replace(
        "line 50\n",
        "void tlb_flush_mmu(struct mmu_gather *tlb)\n{\n",
    );
    memory = memory.replace("line 120\n", "static void zap_pte_range(void)\n{\n");
    env.write("mm/memory.c", &memory);
    env.commit("mm: name functions");
    env.git(&["tag", "-f", "v4.11-rc2"]);
    let step = |file: &str, from: &str, to: &str, msg: &str| {
        let p = env.tree().join(file);
        let text = fs::read_to_string(&p).unwrap_or_default();
        env.write(file, text.replacen(from, to, 1));
        env.commit(msg);
    };
    env.git(&["checkout", "-q", "-b", "one", "v4.11-rc2"]);
    step(
        "mm/memory.c",
        "line 55\n",
        "line 55 batched\n",
        "mm: batch the frees\n\nFree in batches.",
    );
    step(
        "mm/memory.c",
        "line 125\n",
        "line 125 forced\n",
        "mm: force free in zap_pte_range\n\nForce it.",
    );
    step(
        "include/asm-generic/tlb.h",
        "int b;\n",
        "int b;\nint c;\n",
        "tlb: add c\n\nAdd c.",
    );
    step(
        "mm/memory.c",
        "line 190\n",
        "line 190 debug\n",
        "mm: debugfs knob\n\nA knob.",
    );
    env.git(&["checkout", "-q", "-b", "two", "v4.11-rc2"]);
    step(
        "include/asm-generic/tlb.h",
        "int b;\n",
        "int b;\nint c;\n",
        "tlb: add c\n\nAdd c.",
    );
    step(
        "mm/memory.c",
        "line 55\n",
        "line 55 batched\nline 55 again\n",
        "mm: batch the frees\n\nFree in batches of pages.",
    );
    step(
        "mm/memory.c",
        "line 125\n",
        "line 125 forced\n",
        "mm: force free in zap_pte_range\n\nForce it, reworded.",
    );
    step(
        "mm/memory.c",
        "line 10\n",
        "line 10 new\n",
        "mm: a new patch\n\nNew.",
    );
}

#[test]
fn diff_is_laid_out_as_git_range_diff_on_the_same_commits() {
    let env = Env::new();
    two_versions(&env);
    env.init(&["--base", "v4.11-rc2", "one", "--name", "pf"]);
    assert_ok(&env.series(&["reroll"]));
    assert_ok(&env.series_t(&["refresh", "--branch", "two"]));
    let out = env.series(&["diff", "v1", "v2", "--no-draft"]);
    assert_ok(&out);
    let git = git_range_diff(&env, "v4.11-rc2..one", "v4.11-rc2..two", &[]);
    assert_eq!(stdout(&out), git);
    // --stat is git's --no-patch: the pair lines only.
    let out = env.series(&["diff", "--stat", "--no-draft"]);
    let git = git_range_diff(&env, "v4.11-rc2..one", "v4.11-rc2..two", &["--no-patch"]);
    assert_eq!(stdout(&out), git);
    // --json names each pair.
    let out = env.series(&["diff", "--json", "--no-draft"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let marks: Vec<&str> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["mark"].as_str().unwrap())
        .collect();
    assert_eq!(marks, ["same", "changed", "changed", "dropped", "added"]);
    // The draft names each kind of change.
    let out = env.series(&["diff", "--draft"]);
    let draft = stderr(&out);
    assert!(
        draft.contains("patch 1/4 \"tlb: add c\": moved from 3"),
        "{draft}"
    );
    assert!(
        draft.contains(
            "patch 2/4 \"mm: batch the frees\": commit message reworded; changes in mm/memory.c"
        ),
        "{draft}"
    );
    assert!(
        draft.contains("patch 3/4 \"mm: force free in zap_pte_range\": commit message reworded"),
        "{draft}"
    );
    assert!(
        draft.contains("dropped v1's patch 4: \"mm: debugfs knob\""),
        "{draft}"
    );
    assert!(
        draft.contains("patch 4/4 is new: \"mm: a new patch\""),
        "{draft}"
    );
}

#[test]
fn the_cover_letter_carries_a_range_diff_only_when_asked() {
    let env = Env::new();
    two_versions(&env);
    env.init(&[
        "--base",
        "v4.11-rc2",
        "one",
        "--name",
        "pf",
        "--subject",
        "mm: parallel free",
    ]);
    assert_ok(&env.series(&["reroll"]));
    assert_ok(&env.series_t(&["refresh", "--branch", "two"]));
    let cover = env.work().join("outgoing/v2/v2-0000-cover-letter.patch");
    assert_ok(&env.series(&["format", "--to", "x@example.org"]));
    assert!(!fs::read_to_string(&cover).unwrap().contains("Range-diff"));
    assert_ok(&env.series(&["format", "--to", "x@example.org", "--range-diff"]));
    let text = fs::read_to_string(&cover).unwrap();
    let git = git_range_diff(&env, "v4.11-rc2..one", "v4.11-rc2..two", &[]);
    let expected = format!("Range-diff against v1:\n{git}\nbase-commit:");
    assert!(text.contains(&expected), "{text}");
}

#[test]
fn reroll_keeps_an_unsent_version_and_upgrades_format_1() {
    let env = Env::new();
    two_versions(&env);
    env.init(&["--base", "v4.11-rc2", "one", "--name", "pf"]);
    let manifest = env.series_dir().join("series.toml");
    let text = fs::read_to_string(&manifest).unwrap();
    assert!(text.contains("format = 2\n"));
    fs::write(&manifest, text.replace("format = 2\n", "format = 1\n")).unwrap();
    let out = env.series(&["reroll"]);
    assert_ok(&out);
    assert!(stdout(&out).contains("v1 was never sent; kept as it is"));
    let text = fs::read_to_string(&manifest).unwrap();
    assert!(
        text.contains("format = 2\n") && text.contains("version = 2\n"),
        "{text}"
    );
    assert_eq!(
        files(&env.series_dir().join("versions/v1/patches")),
        files(&env.series_dir().join("patches"))
    );
    // A kept version is read as a series folder; asking for one that is
    // not kept names those that are.
    let out = env.series(&["diff", "v3"]);
    assert_fails(&out, 1, &["no v3 to compare", "v1"]);
    let out = env.series(&["diff", "vX"]);
    assert_fails(&out, 2, &["\"vX\" is not a version"]);
    // Nothing changed yet: the diff says so, patch by patch.
    let out = env.series(&["diff"]);
    assert_ok(&out);
    assert!(
        stdout(&out).lines().all(|l| l.contains(" = ")),
        "{}",
        stdout(&out)
    );
    assert!(!stderr(&out).contains("Drafted"));
}

#[test]
fn refresh_reports_dropped_and_reordered_patches_and_a_new_base() {
    let env = Env::new();
    two_versions(&env);
    env.init(&["--base", "v4.11-rc2", "one", "--name", "pf"]);
    let before = Env::snapshot(&env.series_dir());
    let out = env.series_t(&["refresh", "--branch", "two", "--dry-run"]);
    assert_ok(&out);
    let report = stdout(&out);
    assert!(report.contains("  1  unchanged, was 3"), "{report}");
    assert!(report.contains("  -  dropped (was 4)"), "{report}");
    assert!(report.contains("  4  new"), "{report}");
    assert_unchanged(&before, &Env::snapshot(&env.series_dir()), "a dry run");
    // A branch that does not start on the base is refused, naming it.
    env.git(&["checkout", "-q", "-b", "elsewhere", "v4.11-rc2~1"]);
    env.write("x.c", "x\n");
    env.commit("x: add");
    let out = env.series_t(&["refresh", "--branch", "elsewhere"]);
    assert_fails(&out, 1, &["elsewhere"]);
    assert_unchanged(
        &before,
        &Env::snapshot(&env.series_dir()),
        "a refused refresh",
    );
    // With --base, the branch's own base is recorded.
    let out = env.series_t(&["refresh", "--branch", "elsewhere", "--base", "v4.11-rc2~1"]);
    assert_ok(&out);
    let text = fs::read_to_string(env.series_dir().join("series.toml")).unwrap();
    assert!(text.contains("name = \"v4.11-rc2~1\""), "{text}");
}
