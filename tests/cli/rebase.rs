//! `series rebase` and `series apply` on fixture trees, with git rebase and
//! git am as the reference, and the user's checkout never touched.

use std::fs;

use crate::common::*;

fn memory(edit: impl Fn(usize) -> Option<String>) -> String {
    (1..=200)
        .map(|i| edit(i).unwrap_or_else(|| format!("line {i}\n")))
        .collect()
}

/// base v4.11-rc2; three patches on main; an upstream tag that moves the
/// lines the patches touch (offsets) without touching them.
fn fixture() -> Env {
    let env = Env::new();
    env.base("v4.11-rc2");
    env.write(
        "mm/memory.c",
        memory(|i| (i == 50).then(|| "line 50 patched\n".into())),
    );
    env.commit(
        "mm: add tlb_flush_mmu_free_batches\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>",
    );
    env.write(
        "mm/memory.c",
        memory(|i| match i {
            50 => Some("line 50 patched\n".into()),
            150 => Some("line 150 patched\n".into()),
            _ => None,
        }),
    );
    env.commit("mm: parallel free pages\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    env.write("mm/free.c", "int parallel_free;\n");
    env.commit("mm: add debugfs interface for parallel free tuning\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    // Upstream: ten new lines at the top, and another file changed.
    env.git(&["checkout", "-q", "-b", "upstream", "v4.11-rc2"]);
    let top: String = (1..=10).map(|i| format!("new {i}\n")).collect();
    env.write("mm/memory.c", format!("{top}{}", memory(|_| None)));
    env.write(
        "include/asm-generic/tlb.h",
        "int a;\nint b;\nint upstream;\n",
    );
    env.commit("mm: upstream work");
    env.git(&["tag", "v4.11-rc2-mmotm-2017-03-14-15-41"]);
    env.git(&["checkout", "-q", "main"]);
    env.init(&["--base", "v4.11-rc2", "--version", "2"]);
    env
}

fn tree_arg(env: &Env) -> String {
    env.tree().to_string_lossy().into_owned()
}

/// Everything about the user's tree a rebase must leave alone.
fn tree_state(env: &Env) -> (String, String, String, Vec<u8>) {
    (
        env.git(&["status", "--porcelain=v1", "--untracked-files=all"]),
        env.git(&["rev-parse", "HEAD"]),
        env.git(&["for-each-ref", "--format=%(refname) %(objectname)"]),
        fs::read(env.tree().join(".git/index")).unwrap(),
    )
}

fn section_after_dashes(patch: &[u8]) -> String {
    let t = String::from_utf8_lossy(patch).into_owned();
    t.split_once("\n---\n")
        .map(|(_, d)| d.to_string())
        .unwrap_or(t)
}

/// git rebase of main onto `onto` in a clone, written out by git
/// format-patch: each of series/patches must carry the same diff. Returns
/// the clone and series' patch files.
fn assert_patches_as_git_rebase(
    env: &Env,
    onto: &str,
) -> (std::path::PathBuf, Vec<(String, Vec<u8>)>) {
    let clone = env.dir.path().join("ref");
    env.git(&["clone", "-q", &tree_arg(env), clone.to_str().unwrap()]);
    env.git_in(&clone, &["checkout", "-q", "-b", "work", "origin/main"]);
    env.git_in(&clone, &["rebase", "-q", onto]);
    let refdir = env.dir.path().join("refpatches");
    let range = format!("{onto}..HEAD");
    env.git_in(
        &clone,
        &[
            "format-patch",
            "-q",
            "-o",
            refdir.to_str().unwrap(),
            "--signature",
            SIGNATURE,
            &range,
        ],
    );
    let ours = files(&env.series_dir().join("patches"));
    let theirs = files(&refdir);
    assert_eq!(ours.len(), theirs.len());
    for ((n, o), (_, t)) in ours.iter().zip(&theirs) {
        assert_eq!(section_after_dashes(o), section_after_dashes(t), "{n}");
    }
    (clone, ours)
}

#[test]
fn clean_rebase_with_offsets_matches_git_rebase_and_leaves_the_checkout_alone() {
    let env = fixture();
    // A dirty checkout: a modified tracked file and an untracked one.
    env.write("include/asm-generic/tlb.h", "int a;\nint b;\nint dirty;\n");
    env.write("untracked.txt", "mine\n");
    let before = tree_state(&env);

    let out = env.series_t(&["rebase", "mmotm-2017-03-14"]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("Rebased 3 patches onto v4.11-rc2-mmotm-2017-03-14-15-41 ("),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        before,
        tree_state(&env),
        "the user's checkout, index or refs changed"
    );

    let manifest = fs::read_to_string(env.series_dir().join("series.toml")).unwrap();
    let tag = env.git(&["rev-parse", "v4.11-rc2-mmotm-2017-03-14-15-41"]);
    assert!(
        manifest.contains(&format!(
            "name = \"v4.11-rc2-mmotm-2017-03-14-15-41\"\ncommit = \"{}\"",
            tag.trim()
        )),
        "{manifest}"
    );
    assert!(
        manifest.contains("changes = [\"rebased on top of v4.11-rc2-mmotm-2017-03-14-15-41\"]"),
        "{manifest}"
    );

    // Reference: git rebase of the same commits in a clone.
    let (_, ours) = assert_patches_as_git_rebase(&env, "v4.11-rc2-mmotm-2017-03-14-15-41");
    // The offsets are in the diffs: line 50 is now line 60.
    assert!(
        String::from_utf8_lossy(&ours[0].1).contains("@@ -57,7 +57,7 @@"),
        "{}",
        String::from_utf8_lossy(&ours[0].1)
    );
}

#[test]
fn a_conflict_stops_with_exit_3_and_continue_takes_the_resolution() {
    let env = fixture();
    clash_base(&env);
    let series_before = Env::snapshot(&env.series_dir());

    let out = env.series_t(&["rebase", "clash-base"]);
    assert_fails(
        &out,
        3,
        &[
            "patch 2 \"mm: parallel free pages\" conflicts with clash-base in mm/memory.c",
            "series rebase --continue",
        ],
    );
    assert!(
        stdout(&out).contains("conflict in mm/memory.c:"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("<<<<<<< new base"),
        "{}",
        stdout(&out)
    );
    assert_unchanged(
        &series_before,
        &Env::snapshot(&env.series_dir()),
        "after the conflict",
    );
    let scratch = env.work().join(".series-rebase/work/mm/memory.c");
    let marked = fs::read_to_string(&scratch).unwrap();
    assert!(marked.contains(">>>>>>> patch"), "{marked}");

    // status says where it stands and what continues it.
    let status = stdout(&env.series(&["status"]));
    assert!(
        status.contains("rebase onto clash-base paused at patch 2: conflicts in mm/memory.c (.series-rebase/work); resolve them there, then `series rebase --continue`"),
        "{status}"
    );

    // Another rebase is refused while this one is paused.
    let again = env.series_t(&["rebase", "v4.11-rc2"]);
    assert_fails(&again, 1, &["a rebase is in progress", "--continue"]);

    // --continue with markers left is refused, still exit 3.
    let early = env.series_t(&["rebase", "--continue"]);
    assert_fails(&early, 3, &["still has conflict markers"]);

    // Resolve: keep both edits on one line.
    let resolved = memory(|i| match i {
        50 => Some("line 50 patched\n".into()),
        150 => Some("line 150 upstream and patched\n".into()),
        _ => None,
    });
    fs::write(&scratch, &resolved).unwrap();
    let out = env.series_t(&["rebase", "--continue"]);
    assert_ok(&out);
    assert!(!env.work().join(".series-rebase").exists());
    let p2 = fs::read_to_string(
        env.series_dir()
            .join("patches/0002-mm-parallel-free-pages.patch"),
    )
    .unwrap();
    assert!(
        p2.contains("-line 150 upstream\n+line 150 upstream and patched\n"),
        "{p2}"
    );
    // The result applies on the new base with git am.
    apply_with_git_am(&env, "clash-base");
}

fn apply_with_git_am(env: &Env, base: &str) -> String {
    let clone = env.dir.path().join(format!("am-{base}"));
    env.git(&["clone", "-q", &tree_arg(env), clone.to_str().unwrap()]);
    env.git_in(&clone, &["checkout", "-q", base]);
    let mut args = vec!["am".to_string(), "-q".to_string()];
    for (n, _) in files(&env.series_dir().join("patches")) {
        args.push(
            env.series_dir()
                .join("patches")
                .join(n)
                .to_string_lossy()
                .into_owned(),
        );
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.git_in(&clone, &args);
    env.git_in(&clone, &["rev-parse", "HEAD^{tree}"])
        .trim()
        .to_string()
}

#[test]
fn abort_drops_the_scratch_state() {
    let env = fixture();
    env.git(&["checkout", "-q", "-b", "clash", "v4.11-rc2"]);
    env.write(
        "mm/memory.c",
        memory(|i| (i == 50).then(|| "line 50 other\n".into())),
    );
    env.commit("clash");
    env.git(&["checkout", "-q", "main"]);
    let before = Env::snapshot(&env.series_dir());
    assert_eq!(env.series_t(&["rebase", "clash"]).status.code(), Some(3));
    let out = env.series(&["rebase", "--abort"]);
    assert_ok(&out);
    assert!(!env.work().join(".series-rebase").exists());
    assert_unchanged(&before, &Env::snapshot(&env.series_dir()), "after --abort");
    assert_fails(
        &env.series(&["rebase", "--abort"]),
        1,
        &["no rebase is in progress"],
    );
}

#[test]
fn already_merged_patches_are_reported_and_dropped_only_when_asked() {
    let env = fixture();
    // Upstream picked up patch 1.
    env.git(&["checkout", "-q", "-b", "picked", "v4.11-rc2"]);
    env.git(&["cherry-pick", "main~2"]);
    env.git(&["checkout", "-q", "main"]);
    let before = Env::snapshot(&env.series_dir());
    let out = env.series_t(&["rebase", "picked"]);
    assert_fails(
        &out,
        1,
        &[
            "already contains patch 1 \"mm: add tlb_flush_mmu_free_batches\"",
            "--drop-merged",
        ],
    );
    assert_unchanged(
        &before,
        &Env::snapshot(&env.series_dir()),
        "after the refusal",
    );

    let out = env.series_t(&["rebase", "picked", "--drop-merged"]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("Dropped patch 1 \"mm: add tlb_flush_mmu_free_batches\""),
        "{}",
        stdout(&out)
    );
    let names: Vec<String> = files(&env.series_dir().join("patches"))
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        names,
        vec![
            "0001-mm-parallel-free-pages.patch",
            "0002-mm-add-debugfs-interface-for-parallel-free-tuning.patch"
        ]
    );
    let status = stdout(&env.series(&["status"]));
    assert!(status.contains("1/2 mm: parallel free pages"), "{status}");
}

#[test]
fn unknown_and_ambiguous_base_names() {
    let env = fixture();
    env.git(&["tag", "mmotm-2017-03-08-15-20", "v4.11-rc2"]);
    assert_fails(
        &env.series_t(&["rebase", "mmotm-2017-03"]),
        1,
        &[
            "names several refs",
            "mmotm-2017-03-08-15-20",
            "v4.11-rc2-mmotm-2017-03-14-15-41",
        ],
    );
    assert_fails(
        &env.series_t(&["rebase", "mmotm-2018"]),
        1,
        &["unknown revision \"mmotm-2018\""],
    );
}

#[test]
fn without_the_old_base_patches_are_applied_directly_and_it_says_so() {
    let env = fixture();
    let path = env.series_dir().join("series.toml");
    let base = env.git(&["rev-parse", "v4.11-rc2"]);
    let text = fs::read_to_string(&path)
        .unwrap()
        .replace(base.trim(), &"1".repeat(40));
    fs::write(&path, text).unwrap();
    let out = env.series_t(&["rebase", "v4.11-rc2-mmotm-2017-03-14-15-41"]);
    assert_ok(&out);
    assert!(stdout(&out).contains("lacks the old base v4.11-rc2: patches were applied directly (offsets allowed, no fuzz)"), "{}", stdout(&out));
    apply_with_git_am(&env, "v4.11-rc2-mmotm-2017-03-14-15-41");
}

#[test]
fn a_rebase_killed_at_any_step_leaves_series_old_or_new() {
    // The last two take the path of file systems without an atomic
    // exchange (SERIES_NO_EXCHANGE).
    for (point, exchange) in [
        ("rebase-1", "1"),
        ("rebase-3", "1"),
        ("staged", "1"),
        ("swapped", "1"),
        ("moved-aside", ""),
        ("swapped", ""),
    ] {
        let env = fixture();
        let old = Env::snapshot(&env.series_dir());
        let mut vars = vec![("SERIES_CRASH_AT", point)];
        if exchange.is_empty() {
            vars.push(("SERIES_NO_EXCHANGE", "1"));
        }
        let out = env.series_env(
            &[
                "--tree",
                &tree_arg(&env),
                "rebase",
                "v4.11-rc2-mmotm-2017-03-14-15-41",
            ],
            &vars,
        );
        assert!(
            !out.status.success(),
            "{point}: the crash hook did not fire"
        );
        assert_read(&env.series(&["status"]));
        let now = if env.series_dir().exists() {
            Env::snapshot(&env.series_dir())
        } else {
            // Moved aside and not yet back: the reader read the old copy.
            Env::snapshot(&env.work().join(".series.old"))
        };
        if now != old {
            let manifest = String::from_utf8_lossy(
                &now.iter()
                    .find(|(p, _)| p.ends_with("series.toml"))
                    .unwrap()
                    .1,
            )
            .into_owned();
            assert!(
                manifest.contains("rebased on top of v4.11-rc2-mmotm-2017-03-14-15-41"),
                "{point}: a mix of old and new"
            );
            assert!(
                point != "rebase-1" && point != "rebase-3",
                "{point}: series/ changed before the save"
            );
        }
        // The rebase can simply be run again.
        assert_ok(&env.series_t(&["rebase", "v4.11-rc2-mmotm-2017-03-14-15-41"]));
    }
}

#[test]
fn apply_makes_a_branch_whose_tree_equals_git_am() {
    let env = fixture();
    let before = tree_state(&env);
    let out = env.series_t(&["apply"]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("Applied 3 patches on v4.11-rc2 as branch series/main-v2"),
        "{}",
        stdout(&out)
    );
    let ours = env
        .git(&["rev-parse", "series/main-v2^{tree}"])
        .trim()
        .to_string();
    assert_eq!(ours, apply_with_git_am(&env, "v4.11-rc2"));
    let log = env.git(&[
        "log",
        "--format=%an <%ae> %ad%n%B",
        "v4.11-rc2..series/main-v2",
    ]);
    let reference = env.git(&["log", "--format=%an <%ae> %ad%n%B", "v4.11-rc2..main"]);
    assert_eq!(log, reference, "authors, dates and messages are preserved");
    // Only the new branch differs.
    let after = tree_state(&env);
    assert_eq!((before.0, before.1, before.3), (after.0, after.1, after.3));

    assert_fails(
        &env.series_t(&["apply"]),
        1,
        &["branch series/main-v2 already exists", "--force"],
    );
    assert_ok(&env.series_t(&["apply", "--force"]));
    assert_ok(&env.series_t(&["apply", "--branch", "try", "--checkout"]));
    assert_eq!(
        env.git(&["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "try"
    );
}

#[test]
fn apply_without_the_base_in_the_tree() {
    let env = fixture();
    let path = env.series_dir().join("series.toml");
    let base = env.git(&["rev-parse", "v4.11-rc2"]);
    fs::write(
        &path,
        fs::read_to_string(&path)
            .unwrap()
            .replace(base.trim(), &"2".repeat(40)),
    )
    .unwrap();
    assert_fails(
        &env.series_t(&["apply"]),
        1,
        &["the tree has no commit 2222"],
    );
}

#[test]
fn continue_refuses_a_changed_series_or_a_damaged_state() {
    let env = fixture();
    env.git(&["checkout", "-q", "-b", "clash", "v4.11-rc2"]);
    env.write(
        "mm/memory.c",
        memory(|i| (i == 150).then(|| "line 150 upstream\n".into())),
    );
    env.commit("clash");
    env.git(&["checkout", "-q", "main"]);
    assert_eq!(env.series_t(&["rebase", "clash"]).status.code(), Some(3));

    // A damaged state names a patch the series does not have: an error, not a panic.
    let state = env.work().join(".series-rebase/state.toml");
    let good = fs::read_to_string(&state).unwrap();
    fs::write(&state, good.replace("next = 1", "next = 99")).unwrap();
    fs::write(
        env.work().join(".series-rebase/work/mm/memory.c"),
        memory(|_| None),
    )
    .unwrap();
    assert_fails(
        &env.series_t(&["rebase", "--continue"]),
        1,
        &[
            "the paused rebase's state is damaged",
            "patch 100 of a series of 3",
            "--abort",
        ],
    );
    fs::write(&state, good).unwrap();

    // series/ edited while the rebase waits: refused, nothing changes.
    let manifest = env.series_dir().join("series.toml");
    fs::write(
        &manifest,
        fs::read_to_string(&manifest)
            .unwrap()
            .replace("prefix = \"PATCH\"", "prefix = \"RFC PATCH\""),
    )
    .unwrap();
    let before = Env::snapshot(&env.series_dir());
    assert_fails(
        &env.series_t(&["rebase", "--continue"]),
        1,
        &[
            "series/ changed since the rebase stopped",
            "series rebase --abort",
        ],
    );
    assert_unchanged(
        &before,
        &Env::snapshot(&env.series_dir()),
        "after the refusal",
    );
}

/// A new base, `clash-base`, that touches the line patch 2 changes.
fn clash_base(env: &Env) {
    env.git(&["checkout", "-q", "-b", "clash", "v4.11-rc2"]);
    env.write(
        "mm/memory.c",
        memory(|i| (i == 150).then(|| "line 150 upstream\n".into())),
    );
    env.commit("mm: upstream touches line 150");
    env.git(&["tag", "clash-base"]);
    env.git(&["checkout", "-q", "main"]);
}

/// A paused rebase of the fixture onto a base that clashes with patch 2.
fn paused(env: &Env) -> std::path::PathBuf {
    clash_base(env);
    assert_eq!(
        env.series_t(&["rebase", "clash-base"]).status.code(),
        Some(3)
    );
    env.work().join(".series-rebase/work/mm/memory.c")
}

#[test]
fn an_rst_heading_is_not_a_conflict_marker() {
    let env = fixture();
    let scratch = paused(&env);
    // A resolution whose text has a line of seven `=` (an RST heading).
    let resolved = memory(|i| match i {
        50 => Some("line 50 patched\n".into()),
        150 => Some("Heading\n=======\n".into()),
        _ => None,
    });
    fs::write(&scratch, &resolved).unwrap();
    let out = env.series_t(&["rebase", "--continue"]);
    assert_ok(&out);
    let p2 = fs::read_to_string(
        env.series_dir()
            .join("patches/0002-mm-parallel-free-pages.patch"),
    )
    .unwrap();
    assert!(p2.contains("+Heading\n+=======\n"), "{p2}");
}

#[test]
fn an_unreadable_resolution_is_an_error_not_a_deletion() {
    let env = fixture();
    let scratch = paused(&env);
    let before = Env::snapshot(&env.series_dir());
    // Something that cannot be read as a file (root reads any mode, so a
    // folder stands in for an unreadable file).
    fs::remove_file(&scratch).unwrap();
    fs::create_dir_all(&scratch).unwrap();
    let out = env.series_t(&["rebase", "--continue"]);
    assert_fails(&out, 1, &["cannot read the resolved file", "mm/memory.c"]);
    assert_unchanged(&before, &Env::snapshot(&env.series_dir()), "unreadable");
    assert!(env.work().join(".series-rebase/state.toml").exists());
}

#[test]
fn a_paused_rebase_is_written_whole_or_not_at_all() {
    let env = fixture();
    paused(&env);
    // Nothing half-written is left beside it.
    let stray: Vec<String> = fs::read_dir(env.work())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".series-rebase-new-"))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
    let state = fs::read_to_string(env.work().join(".series-rebase/state.toml")).unwrap();
    assert!(state.contains("new-base"), "{state}");
}

/// Patches that change files in place are replayed in memory, others
/// through a tree merge: a series mixing them, where upstream changed the
/// same files, must come out as git rebase makes it, patch for patch.
#[test]
fn in_memory_and_tree_merge_replays_mix_as_git_rebase_does() {
    let env = Env::new();
    env.base("v1");
    env.write("mm/other.c", memory(|_| None));
    env.commit("add mm/other.c");
    env.git(&["tag", "-f", "v1"]);
    let sign = "\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>";
    // 1: in place, two files; 2: in place, the same file again (its
    // pre-image is the one patch 1 left in memory); 3: a rename (tree
    // merge); 4: in place on the renamed file; 5: a new file; 6: in place.
    env.write(
        "mm/memory.c",
        memory(|i| (i == 40).then(|| "line 40 p1\n".into())),
    );
    env.write(
        "mm/other.c",
        memory(|i| (i == 20).then(|| "other 20 p1\n".into())),
    );
    env.commit(&format!("mm: one{sign}"));
    env.write(
        "mm/memory.c",
        memory(|i| match i {
            40 => Some("line 40 p1\n".into()),
            41 => Some("line 41 p2\n".into()),
            _ => None,
        }),
    );
    env.commit(&format!("mm: two{sign}"));
    env.git(&["mv", "mm/other.c", "mm/renamed.c"]);
    env.commit(&format!("mm: three{sign}"));
    env.write(
        "mm/renamed.c",
        memory(|i| match i {
            20 => Some("other 20 p1\n".into()),
            90 => Some("other 90 p4\n".into()),
            _ => None,
        }),
    );
    env.commit(&format!("mm: four{sign}"));
    env.write("mm/new.c", "int new_file;\n");
    env.commit(&format!("mm: five{sign}"));
    env.write(
        "mm/memory.c",
        memory(|i| match i {
            40 => Some("line 40 p1\n".into()),
            41 => Some("line 41 p2\n".into()),
            120 => Some("line 120 p6\n".into()),
            _ => None,
        }),
    );
    env.commit(&format!("mm: six{sign}"));
    // Upstream changes both files far from the patches, and adds lines at
    // the top so that every hunk moves.
    env.git(&["checkout", "-q", "-b", "upstream", "v1"]);
    let top: String = (1..=5).map(|i| format!("top {i}\n")).collect();
    env.write(
        "mm/memory.c",
        format!(
            "{top}{}",
            memory(|i| (i == 180).then(|| "line 180 up\n".into()))
        ),
    );
    env.write(
        "mm/other.c",
        memory(|i| (i == 170).then(|| "other 170 up\n".into())),
    );
    env.commit("upstream");
    env.git(&["tag", "v2"]);
    env.git(&["checkout", "-q", "main"]);
    env.init(&["--base", "v1", "--version", "2"]);
    assert_ok(&env.series_t(&["rebase", "v2"]));

    let (clone, ours) = assert_patches_as_git_rebase(&env, "v2");
    assert_eq!(ours.len(), 6);
    assert_ok(&env.series_t(&["apply", "--branch", "rebased"]));
    assert_eq!(
        env.git(&["rev-parse", "rebased^{tree}"]),
        env.git_in(&clone, &["rev-parse", "HEAD^{tree}"])
    );
}

/// `apply --checkout` changes only what differs between the checked-out
/// commit and the branch: the result is what git checkout gives, and a
/// local change to a file the series does not touch is carried over.
#[test]
fn apply_checkout_changes_only_the_paths_that_differ() {
    let env = fixture();
    env.git(&["checkout", "-q", "--detach", "v4.11-rc2"]);
    env.write("MAINTAINERS", "local change\n");
    assert_ok(&env.series_t(&["apply", "--branch", "try", "--checkout"]));
    assert_eq!(
        env.git(&["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "try"
    );
    assert_eq!(
        env.git(&["status", "--porcelain=v1", "--untracked-files=all"]),
        " M MAINTAINERS\n"
    );
    assert_eq!(env.git(&["diff", "--stat", "HEAD", "--", "mm"]), "");
    assert_eq!(
        fs::read_to_string(env.tree().join("mm/free.c")).unwrap(),
        "int parallel_free;\n"
    );
    // A checkout that would overwrite a local change is refused.
    env.git(&["checkout", "-q", "--detach", "v4.11-rc2"]);
    env.write("mm/memory.c", "mine\n");
    let out = env.series_t(&["apply", "--branch", "try2", "--checkout"]);
    assert!(!out.status.success(), "{}", stdout(&out));
    assert_eq!(
        fs::read_to_string(env.tree().join("mm/memory.c")).unwrap(),
        "mine\n"
    );
}

/// The loose objects of the fixture's tree, as git counts them.
fn loose_objects(env: &Env) -> String {
    env.git(&["count-objects"])
}

#[test]
fn a_rebase_writes_its_objects_only_when_it_succeeds_and_then_all_of_them() {
    // Stopped in the middle of the replay: nothing was written to the
    // object store (new objects wait in memory until the end).
    let env = fixture();
    let before = loose_objects(&env);
    let out = env.series_env(
        &[
            "--tree",
            &tree_arg(&env),
            "rebase",
            "v4.11-rc2-mmotm-2017-03-14-15-41",
        ],
        &[("SERIES_CRASH_AT", "rebase-3")],
    );
    assert!(!out.status.success(), "the crash hook did not fire");
    assert_eq!(
        loose_objects(&env),
        before,
        "a stopped rebase wrote objects"
    );

    // Finished: every commit the patch files name is in the store, with
    // its tree and blobs, for git itself.
    assert_ok(&env.series_t(&["rebase", "v4.11-rc2-mmotm-2017-03-14-15-41"]));
    let mut files: Vec<_> = fs::read_dir(env.series_dir().join("patches"))
        .unwrap()
        .map(|f| f.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 3);
    let mut tip = String::new();
    for f in files {
        let text = fs::read_to_string(f).unwrap();
        tip = text.split_whitespace().nth(1).unwrap().to_string();
        assert_eq!(env.git(&["cat-file", "-t", &tip]).trim(), "commit");
    }
    env.git(&["fsck", "--no-dangling", "--connectivity-only"]);
    env.git(&["branch", "rebased", &tip]);
    env.git(&["fsck", "--no-dangling", "--full", "--strict"]);
    // The rebased tip's tree is the one git rebase makes.
    env.git(&["checkout", "-q", "-b", "by-git", "main"]);
    env.git(&["rebase", "-q", "v4.11-rc2-mmotm-2017-03-14-15-41"]);
    assert_eq!(
        env.git(&["rev-parse", "rebased^{tree}"]),
        env.git(&["rev-parse", "by-git^{tree}"])
    );
}

#[test]
fn a_paused_rebase_names_only_objects_git_can_read() {
    let env = fixture();
    clash_base(&env);
    let out = env.series_t(&["rebase", "clash-base"]);
    assert_fails(&out, 3, &["conflicts with clash-base"]);
    let state = fs::read_to_string(env.work().join(".series-rebase/state.toml")).unwrap();
    let state: toml::Value = toml::from_str(&state).unwrap();
    let mut ids: Vec<String> = ["parent", "ancestor", "theirs"]
        .iter()
        .map(|k| state[*k].as_str().unwrap().to_string())
        .collect();
    ids.extend(
        state["commits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string()),
    );
    for id in ids {
        // -e fails (and env.git panics) on a missing object; ls-tree -r
        // reads every tree and blob under a tree.
        env.git(&["cat-file", "-e", &id]);
        if env.git(&["cat-file", "-t", &id]).trim() == "tree" {
            env.git(&["ls-tree", "-r", &id]);
        }
    }
}

/// A rebase's new objects go to the object store as one pack and its
/// index, written by libgit2's pack writer: nothing loose, packs read-only
/// as git's are, and git reads every object (fsck). Under
/// core.sharedRepository=group the pack is readable by the group.
#[test]
fn a_rebase_writes_its_objects_as_one_pack_git_reads() {
    use std::os::unix::fs::PermissionsExt;
    let env = fixture();
    env.git(&["config", "core.sharedRepository", "group"]);
    env.git(&["repack", "-adq"]);
    env.git(&["prune-packed"]);
    let before = packs(&env);
    assert_ok(&env.series_t(&["rebase", "v4.11-rc2-mmotm-2017-03-14-15-41"]));
    let loose = env.git(&["count-objects"]);
    assert!(loose.starts_with("0 objects"), "{loose}");
    let made: Vec<_> = packs(&env)
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect();
    let [(pack, false)] = &made[..] else {
        panic!("one new pack expected: {made:?}");
    };
    for file in [pack.clone(), pack.with_extension("idx")] {
        let mode = fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o222, 0, "{file:?} is writable: {mode:o}");
        assert_eq!(mode & 0o440, 0o440, "{file:?}: {mode:o}");
    }
    env.git(&["verify-pack", pack.with_extension("idx").to_str().unwrap()]);
    env.git(&["fsck", "--no-dangling", "--full", "--strict"]);
}

/// The packs of the fixture's object store: (path, whether cruft).
fn packs(env: &Env) -> Vec<(std::path::PathBuf, bool)> {
    let dir = env.tree().join(".git/objects/pack");
    let mut v: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pack"))
        .map(|p| {
            let cruft = p.with_extension("mtimes").exists();
            (p, cruft)
        })
        .collect();
    v.sort();
    v
}

fn set_old_mtime(path: &std::path::Path) {
    let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    fs::File::open(path).unwrap().set_modified(old).unwrap();
}

fn is_old(path: &std::path::Path) -> bool {
    let m = fs::metadata(path).unwrap().modified().unwrap();
    m.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() == 1_000_000_000
}

/// Objects a pack already holds are not written again: the pack that
/// holds them is touched instead (libgit2 freshens it, as git does before
/// it names an object it was asked to write, so that a gc does not take it
/// for old garbage meanwhile). A rebase done again writes no pack and no
/// loose object.
#[test]
fn a_rebase_made_again_writes_nothing_and_freshens_the_pack_holding_it() {
    let env = fixture();
    let onto = "v4.11-rc2-mmotm-2017-03-14-15-41";
    let saved = env.dir.path().join("saved");
    let cp = |from: &std::path::Path, to: &std::path::Path| {
        let _ = fs::remove_dir_all(to);
        let out = std::process::Command::new("cp")
            .arg("-a")
            .arg(from)
            .arg(to)
            .output()
            .unwrap();
        assert!(out.status.success());
    };
    cp(&env.series_dir(), &saved);
    assert_ok(&env.series_t(&["rebase", onto]));
    let patches = files(&env.series_dir().join("patches"));
    let last = String::from_utf8_lossy(&patches.last().unwrap().1).into_owned();
    let tip = last.split_whitespace().nth(1).unwrap().to_string();
    // The rebase's objects, packed with everything else, nothing loose.
    env.git(&["branch", "keep", &tip]);
    env.git(&["repack", "-adq"]);
    env.git(&["branch", "-D", "keep"]);
    let loose = || env.git(&["count-objects"]);
    assert!(loose().starts_with("0 objects"), "{}", loose());
    let all = packs(&env);
    let [(pack, false)] = &all[..] else {
        panic!("one pack expected: {all:?}");
    };
    let pack = pack.clone();
    set_old_mtime(&pack);

    cp(&saved, &env.series_dir());
    assert_ok(&env.series_t(&["rebase", onto]));
    assert!(
        loose().starts_with("0 objects"),
        "written again: {}",
        loose()
    );
    assert_eq!(packs(&env), all, "a pack was written");
    assert!(!is_old(&pack), "the pack was not freshened");
    env.git(&["cat-file", "-e", &tip]);
    env.git(&["fsck", "--no-dangling", "--connectivity-only"]);
}

#[test]
fn a_rebase_of_a_first_version_writes_no_changelog_into_its_cover() {
    let env = fixture();
    fs::remove_dir_all(env.series_dir()).unwrap();
    env.init(&["--base", "v4.11-rc2", "--subject", "mm: parallel free"]);
    fs::write(env.series_dir().join("cover.md"), "Prose.\n").unwrap();
    assert_ok(&env.series_t(&["rebase", "mmotm-2017-03-14"]));
    let manifest = fs::read_to_string(env.series_dir().join("series.toml")).unwrap();
    assert!(!manifest.contains("rebased on top of"), "{manifest}");
    assert_ok(&env.series_t(&["format"]));
    let cover = fs::read_to_string(env.work().join("outgoing/v1/0000-cover-letter.patch")).unwrap();
    assert!(!cover.contains("Changes in v1"), "{cover}");
}

/// The pack a rebase writes holds what the rebase made and nothing else:
/// the objects `git rev-list --objects NEW ^ONTO` lists that the store did
/// not have. (libgit2's mempack
/// dump packed each new commit with its whole tree: on a kernel tree a
/// minute and a gigabyte per rebase.)
#[test]
fn a_rebase_packs_only_the_objects_it_made() {
    let env = fixture();
    let onto = "v4.11-rc2-mmotm-2017-03-14-15-41";
    env.git(&["repack", "-adq"]);
    let before = packs(&env);
    let had = env.git(&[
        "cat-file",
        "--batch-all-objects",
        "--batch-check=%(objectname)",
    ]);
    assert_ok(&env.series_t(&["rebase", onto]));
    let after = packs(&env);
    let new: Vec<_> = after.iter().filter(|p| !before.contains(p)).collect();
    let [(pack, false)] = &new[..] else {
        panic!("one new pack expected: {after:?}");
    };
    let idx = fs::read(pack.with_extension("idx")).unwrap();
    let mut c = std::process::Command::new("git");
    hermetic(&mut c, env.dir.path());
    let mut child = c
        .current_dir(env.tree())
        .arg("show-index")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&idx).unwrap();
    let out = child.wait_with_output().unwrap();
    let mut packed: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
        .collect();
    packed.sort();
    let patches = files(&env.series_dir().join("patches"));
    let last = String::from_utf8_lossy(&patches.last().unwrap().1).into_owned();
    let tip = last.split_whitespace().nth(1).unwrap().to_string();
    let mut made: Vec<String> = env
        .git(&["rev-list", "--objects", &tip, &format!("^{onto}")])
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|id| !had.lines().any(|h| h == id))
        .collect();
    made.sort();
    assert!(made.len() > 5, "{made:?}");
    assert_eq!(packed, made);
    env.git(&["fsck", "--no-dangling", "--connectivity-only"]);
}
