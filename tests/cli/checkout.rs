//! `series apply --checkout`: the series' commits are made in memory, then
//! git itself checks the branch out. The worktree and index it leaves, read
//! back by git (status, diff-files without a refresh, write-tree through the
//! cache tree), for index versions 2, 3 and 4, the manyFiles settings and
//! converted files; what it refuses, and that a refusal changes nothing: not
//! the files, not the index, not the branch.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::common::*;

/// A base with files in several folders, and a series that changes a file,
/// adds one in a new folder and an executable one, removes the only file of
/// a folder, renames one and flips an executable bit.
fn fixture() -> Env {
    let env = Env::new();
    env.base("v4.11-rc2");
    env.write("mm/old/gone.c", "int gone;\n");
    env.write("Documentation/vm/free.txt", "Parallel free.\n");
    env.write("scripts/run.sh", "#!/bin/sh\n");
    for d in ["fs", "kernel/sched", "lib", "net/core"] {
        env.write(&format!("{d}/keep.c"), format!("/* {d} */\n"));
    }
    chmod(&env, "scripts/run.sh", 0o755);
    env.commit("more of the base");
    env.git(&["tag", "-f", "v4.11-rc2"]);
    env.write("mm/memory.c", "line 1 patched\n");
    env.commit("mm: change memory.c\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    env.write("drivers/new/thing.c", "int thing;\n");
    env.write("tools/new.sh", "#!/bin/sh\necho new\n");
    chmod(&env, "tools/new.sh", 0o755);
    env.commit("drivers: add thing\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    fs::remove_file(env.tree().join("mm/old/gone.c")).unwrap();
    env.commit("mm: remove gone.c\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    env.git(&[
        "mv",
        "Documentation/vm/free.txt",
        "Documentation/vm/parallel-free.txt",
    ]);
    chmod(&env, "scripts/run.sh", 0o644);
    env.commit("doc: rename free.txt\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    env.init(&["--base", "v4.11-rc2", "--version", "2"]);
    env
}

fn chmod(env: &Env, path: &str, mode: u32) {
    fs::set_permissions(env.tree().join(path), fs::Permissions::from_mode(mode)).unwrap();
}

/// `apply --checkout`, which must succeed.
fn apply_checkout(env: &Env, branch: &str) {
    assert_ok(&env.series_t(&["apply", "--branch", branch, "--checkout"]));
}

/// Every file below a folder, path -> bytes.
type Files = Vec<(std::path::PathBuf, Vec<u8>)>;

/// The index, HEAD and every file of the worktree, for "nothing changed".
fn tree_state(env: &Env) -> (Vec<u8>, String, Files) {
    let mut files = Env::snapshot(&env.tree());
    files.retain(|(p, _)| !p.starts_with(".git"));
    (
        fs::read(env.tree().join(".git/index")).unwrap(),
        env.git(&["rev-parse", "HEAD"]),
        files,
    )
}

/// git's view after a checkout of `branch`: on it, nothing staged, every
/// entry's stat data right (diff-files does not refresh), the cache tree
/// giving the branch's tree, only the untracked file left over.
fn assert_checked_out_as_git_would(env: &Env, branch: &str) {
    assert_eq!(
        env.git(&["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        branch
    );
    assert_eq!(env.git(&["diff-files", "--name-status"]), "");
    assert_eq!(
        env.git(&["diff-index", "--cached", "--name-status", "HEAD"]),
        ""
    );
    assert_eq!(
        env.git(&["write-tree"]),
        env.git(&["rev-parse", "HEAD^{tree}"])
    );
    assert_eq!(
        env.git(&["status", "--porcelain=v1", "--untracked-files=all"]),
        "?? notes.txt\n"
    );
    assert_eq!(
        env.git(&["ls-files", "-s"]),
        env.git(&[
            "ls-tree",
            "-r",
            "--format=%(objectmode) %(objectname) 0\t%(path)",
            "HEAD"
        ])
    );
    let t = env.tree();
    assert!(!t.join("mm/old").exists(), "a folder left empty is removed");
    assert!(!t.join("Documentation/vm/free.txt").exists());
    let mode = |p: &str| fs::metadata(t.join(p)).unwrap().permissions().mode() & 0o111;
    assert_ne!(mode("tools/new.sh"), 0);
    assert_eq!(mode("scripts/run.sh"), 0);
    assert_eq!(
        fs::read_to_string(t.join("mm/memory.c")).unwrap(),
        "line 1 patched\n"
    );
}

#[test]
fn apply_checkout_keeps_index_versions_2_3_and_4_as_git_reads_them() {
    let variants: [(&str, &[(&str, &str)]); 4] = [
        ("2", &[]),
        ("3", &[]),
        ("4", &[]),
        // What a kernel developer's manyFiles sets: version 4, the
        // untracked cache, no trailing hash.
        ("4", &[("feature.manyFiles", "true")]),
    ];
    for (version, config) in variants {
        let env = fixture();
        for (k, v) in config {
            env.git(&["config", k, v]);
        }
        env.git(&["checkout", "-q", "--detach", "v4.11-rc2"]);
        env.git(&["update-index", "--index-version", version]);
        if version == "3" {
            // Version 3 carries entries with extended flags.
            env.git(&["update-index", "--skip-worktree", "fs/keep.c"]);
        }
        env.write("notes.txt", "mine\n");
        // Fills the untracked cache where configured; refreshes the index.
        env.git(&["status", "--porcelain"]);
        apply_checkout(&env, "try");
        assert_eq!(
            env.git(&["update-index", "--show-index-version"]).trim(),
            version
        );
        if version == "3" {
            assert_eq!(env.git(&["ls-files", "-t", "fs/keep.c"]), "S fs/keep.c\n");
            env.git(&["update-index", "--no-skip-worktree", "fs/keep.c"]);
        }
        assert_checked_out_as_git_would(&env, "try");
    }
}

/// A kept file changed after the index was written, in the same second,
/// keeping its size: git cannot tell it from its stat data and looks at
/// its contents while the index is as new as the file. The index the
/// checkout writes is newer, so the change must survive it.
#[test]
fn a_racily_clean_kept_file_stays_changed_for_git() {
    let env = fixture();
    // git compares only what these leave: the mtime's seconds and the size.
    env.git(&["config", "core.checkStat", "minimal"]);
    env.git(&["config", "core.trustctime", "false"]);
    env.git(&["checkout", "-q", "--detach", "v4.11-rc2"]);
    let stamp = "@1489568400";
    let touch = |p: &str| {
        let out = std::process::Command::new("touch")
            .args(["-d", stamp])
            .arg(env.tree().join(p))
            .output()
            .unwrap();
        assert!(out.status.success());
    };
    touch("lib/keep.c");
    env.git(&["update-index", "--refresh"]);
    touch(".git/index");
    env.write("lib/keep.c", "/* LIB */\n");
    touch("lib/keep.c");
    env.write("notes.txt", "mine\n");
    apply_checkout(&env, "try");
    assert_eq!(env.git(&["diff-files", "--name-only"]), "lib/keep.c\n");
    assert_eq!(
        env.git(&["status", "--porcelain=v1", "--untracked-files=no"]),
        " M lib/keep.c\n"
    );
}

#[test]
fn apply_checkout_refuses_to_overwrite_and_then_changes_nothing() {
    let env = fixture();
    env.git(&["checkout", "-q", "--detach", "v4.11-rc2"]);
    env.write("notes.txt", "mine\n");
    let check = |what: &str, needles: &[&str]| {
        let before = tree_state(&env);
        let out = env.series_t(&["apply", "--branch", "try", "--checkout"]);
        assert_fails(&out, 1, needles);
        assert_eq!(tree_state(&env), before, "{what}: the tree changed");
        assert_eq!(
            env.git(&["branch", "--list", "try"]),
            "",
            "{what}: the branch stayed"
        );
    };
    // A local change to a file the series changes.
    env.write("mm/memory.c", "mine\n");
    check(
        "modified",
        &["would overwrite local changes", "mm/memory.c", "git stash"],
    );
    env.git(&["checkout", "-q", "--", "mm/memory.c"]);
    // A staged change to a file the series removes.
    env.write("mm/old/gone.c", "staged\n");
    env.git(&["add", "mm/old/gone.c"]);
    check("staged", &["mm/old/gone.c"]);
    env.git(&["reset", "-q", "--hard"]);
    // An untracked file where the series adds one.
    env.write("drivers/new/thing.c", "untracked\n");
    check("untracked", &["drivers/new/thing.c"]);
    fs::remove_dir_all(env.tree().join("drivers")).unwrap();
    // Another git command holds the index.
    fs::write(env.tree().join(".git/index.lock"), "").unwrap();
    check(
        "locked",
        &["index.lock", "another git command", "remove the lock file"],
    );
    assert!(
        env.tree().join(".git/index.lock").exists(),
        "not ours to remove"
    );
    fs::remove_file(env.tree().join(".git/index.lock")).unwrap();
    // With the way clear, it goes through.
    apply_checkout(&env, "try");
    assert_checked_out_as_git_would(&env, "try");
}

/// Where files are converted on the way out (core.autocrlf; an attribute,
/// here `ident` from a folder's `.gitattributes` in the worktree), git's
/// checkout converts them as it would for any branch.
#[test]
fn apply_checkout_converts_files_as_git_does() {
    // A setting and a file in the worktree.
    type Pair<'a> = Option<(&'a str, &'a str)>;
    let cases: [(Pair, Pair); 2] = [
        (Some(("core.autocrlf", "true")), None),
        (None, Some(("mm/.gitattributes", "*.c ident\n"))),
    ];
    for (config, file) in cases {
        let env = fixture();
        if let Some((key, value)) = config {
            env.git(&["config", key, value]);
        }
        env.git(&["checkout", "-q", "--detach", "v4.11-rc2"]);
        if let Some((path, text)) = file {
            env.write(path, text);
        }
        apply_checkout(&env, "try");
        assert_eq!(
            env.git(&["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
            "try"
        );
        assert_eq!(
            env.git(&["status", "--porcelain=v1", "--untracked-files=no"]),
            ""
        );
        let memory = fs::read_to_string(env.tree().join("mm/memory.c")).unwrap();
        if config.is_some() {
            assert_eq!(memory, "line 1 patched\r\n", "autocrlf writes CRLF");
        } else {
            assert_eq!(memory, "line 1 patched\n");
        }
    }
}
