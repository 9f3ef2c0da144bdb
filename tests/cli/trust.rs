//! Regression tests for the holes a user could fall into: two processes at
//! once, paths and headers from a hand-edited manifest, links and FIFOs in
//! series/, malformed patch files and dates, and commands that could hang.
//! Each test is named after the defect it pins.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::*;

fn with_series() -> Env {
    let env = Env::new();
    env.base("v4.11-rc2");
    env.write("mm/memory.c", "changed\n");
    env.commit("mm: change\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    env.init(&["--base", "v4.11-rc2", "--subject", "mm: change"]);
    fs::write(env.series_dir().join("cover.md"), "Change memory.c.\n").unwrap();
    env
}

fn manifest(env: &Env) -> String {
    fs::read_to_string(env.series_dir().join("series.toml")).unwrap()
}

fn set_manifest(env: &Env, text: &str) {
    fs::write(env.series_dir().join("series.toml"), text).unwrap();
}

/// The first line of `text` that starts with `prefix`.
fn line_of(text: &str, prefix: &str) -> String {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} line in:\n{text}"))
        .to_string()
}

fn series_cmd(env: &Env, args: &[&str]) -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin!("series"));
    hermetic(&mut c, env.dir.path());
    c.current_dir(env.work()).args(args);
    c
}

// ---- the lock -----------------------------------------------------------

#[test]
fn concurrent_writers_lose_no_acknowledged_write() {
    let env = with_series();
    assert_ok(&env.series(&["bench", "new", "rows", "--title", "Rows"]));
    // Twelve `bench record` at once: each one that says it succeeded must
    // have its row in the file afterwards.
    let children: Vec<_> = (0..12)
        .map(|i| {
            series_cmd(
                &env,
                &[
                    "bench",
                    "record",
                    "rows",
                    "--row",
                    &format!("row-{i}"),
                    "--mean",
                    "1.5",
                    "--rsd",
                    "2",
                ],
            )
            .env("SERIES_LOCK_WAIT", "60")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    let mut ok = Vec::new();
    for (i, c) in children.into_iter().enumerate() {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        ok.push(i);
    }
    let bench = fs::read_to_string(env.series_dir().join("bench/rows.toml")).unwrap();
    for i in ok {
        assert!(
            bench.contains(&format!("label = \"row-{i}\"")),
            "row-{i} lost:\n{bench}"
        );
    }
}

#[test]
fn a_second_writer_waits_then_fails_clearly() {
    let env = with_series();
    // Another process holds the series lock (an flock on the folder that
    // holds series/), as a long `series send` would.
    use std::os::unix::process::CommandExt;
    let mut holder = Command::new("flock")
        .arg(env.work())
        .args(["sleep", "30"])
        .process_group(0)
        .spawn()
        .expect("flock (util-linux)");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let before = Env::snapshot(&env.series_dir());
    let out = env.series_env(
        &["bench", "new", "x", "--title", "X"],
        &[("SERIES_LOCK_WAIT", "1")],
    );
    assert_fails(&out, 1, &["another series command is writing", "series"]);
    assert_unchanged(&before, &Env::snapshot(&env.series_dir()), "locked");
    // Readers take no lock.
    assert_read(&env.series(&["status"]));
    let group = rustix::process::Pid::from_raw(holder.id() as i32).unwrap();
    let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    let _ = holder.wait();
    assert_ok(&env.series(&["bench", "new", "x", "--title", "X"]));
}

#[test]
fn a_reader_never_removes_a_writers_staging_folder() {
    let env = with_series();
    let staging = env.work().join(".series-new-inflight");
    fs::create_dir_all(&staging).unwrap();
    fs::write(staging.join("series.toml"), "being written").unwrap();
    assert_read(&env.series(&["status"]));
    assert_ok(&env.series(&["check"]));
    assert!(
        staging.exists(),
        "a read removed another process's staging folder"
    );
}

// ---- what the manifest may say -------------------------------------------

#[test]
fn manifest_file_names_outside_series_are_refused() {
    let env = with_series();
    let outside = env.dir.path().join("outside.patch");
    fs::copy(only_patch(&env), &outside).unwrap();
    let good = manifest(&env);
    let file_line = line_of(&good, "file = ");
    for bad in [
        outside.to_string_lossy().into_owned(),
        "../outside.patch".to_string(),
        "../../outside.patch".to_string(),
        "sub/0001.patch".to_string(),
    ] {
        set_manifest(&env, &good.replace(&file_line, &format!("file = {bad:?}")));
        let before = Env::snapshot(&env.dir.path().join("work"));
        let out = env.series_t(&["format", "--to", "linux-mm"]);
        assert_fails(&out, 1, &["series.toml", "not a plain file name"]);
        assert_unchanged(&before, &Env::snapshot(&env.dir.path().join("work")), &bad);
    }
}

#[test]
fn header_injection_through_the_manifest_is_refused() {
    let env = with_series();
    let good = manifest(&env);
    for (from, to) in [
        (
            "prefix = \"PATCH\"",
            "prefix = \"PATCH\\nBcc: victim@example.org\"",
        ),
        ("name = \"main\"", "name = \"main\\r\\nBcc: x@y\""),
        (
            "[recipients]\nto = []",
            "[recipients]\nto = [\"a@b\\nBcc: x@y\"]",
        ),
    ] {
        assert!(good.contains(from), "{from} not in:\n{good}");
        set_manifest(&env, &good.replace(from, to));
        let out = env.series_t(&["send", "--to", "linux-mm", "--dry-run"]);
        assert_fails(&out, 1, &["series.toml", "line break"]);
        assert!(
            !env.work().join("outgoing").exists(),
            "{to}: a mail was written"
        );
    }
}

#[test]
fn format_overflow_version_zero_and_repeated_change_ids_are_refused() {
    let env = with_series();
    let good = manifest(&env);
    let id_line = line_of(&good, "change-id = ");
    let patch = good[good.find("[[patch]]").unwrap()..]
        .split("\n\n")
        .next()
        .unwrap()
        .to_string();
    let twice = good.replace(
        &patch,
        &format!("{patch}\n\n{}", patch.replace("0001-", "0002-")),
    );
    for (text, needle) in [
        (
            good.replace("format = 2", "format = 4294967297"),
            "newer than this series",
        ),
        (good.replace("version = 1", "version = 0"), "version = 0"),
        (twice, "repeats change-id"),
        (
            good.replace(&id_line, "change-id = \"zz\""),
            "invalid change-id",
        ),
    ] {
        set_manifest(&env, &text);
        assert_fails(&env.series(&["status"]), 1, &["series.toml", needle]);
    }
}

#[test]
fn a_nan_bench_summary_is_refused() {
    let env = with_series();
    assert_ok(&env.series(&["bench", "new", "b", "--title", "B"]));
    assert_ok(&env.series(&[
        "bench", "record", "b", "--row", "base", "--mean", "1", "--rsd", "1",
    ]));
    let p = env.series_dir().join("bench/b.toml");
    let text = fs::read_to_string(&p).unwrap();
    assert!(text.contains("mean = 1.0"), "{text}");
    fs::write(&p, text.replace("mean = 1.0", "mean = nan")).unwrap();
    assert_fails(&env.series(&["bench", "show", "b"]), 1, &["not a number"]);
}

// ---- links and FIFOs in series/ ----------------------------------------

#[test]
fn links_and_fifos_in_series_are_kept_as_they_are_and_never_followed() {
    let env = with_series();
    let dir = env.series_dir();
    symlink("..", dir.join("up")).unwrap();
    symlink(env.tree(), dir.join("tree")).unwrap();
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        dir.join("pipe"),
        rustix::fs::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    // A save (list names learned) copies what series does not manage.
    assert_ok(&env.series_t(&["format", "--to", "linux-mm"]));
    assert_eq!(fs::read_link(dir.join("up")).unwrap(), Path::new(".."));
    assert_eq!(fs::read_link(dir.join("tree")).unwrap(), env.tree());
    use std::os::unix::fs::FileTypeExt;
    assert!(fs::symlink_metadata(dir.join("pipe"))
        .unwrap()
        .file_type()
        .is_fifo());
    // Nothing of the tree was copied in.
    assert!(fs::symlink_metadata(dir.join("tree"))
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn a_patch_file_that_is_a_fifo_or_a_link_is_refused_without_opening_it() {
    let env = with_series();
    let pdir = env.series_dir().join("patches");
    let file = first_file(&pdir);
    fs::rename(&file, env.dir.path().join("moved.patch")).unwrap();
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        &file,
        rustix::fs::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    assert_fails(&env.series(&["status"]), 1, &["not a regular file"]);
    fs::remove_file(&file).unwrap();
    symlink(env.dir.path().join("moved.patch"), &file).unwrap();
    assert_fails(&env.series(&["status"]), 1, &["not a regular file"]);
}

// ---- patch files as a user may leave them ------------------------------

fn only_patch(env: &Env) -> std::path::PathBuf {
    first_file(&env.series_dir().join("patches"))
}

/// The first entry of a folder that holds one file.
fn first_file(dir: &Path) -> std::path::PathBuf {
    fs::read_dir(dir).unwrap().next().unwrap().unwrap().path()
}

/// `git format-patch -1 HEAD` run in `tree` into a new folder `name`: the
/// patch's bytes.
fn git_format_head(env: &Env, tree: &Path, name: &str) -> Vec<u8> {
    let dir = env.dir.path().join(name);
    env.git_in(
        tree,
        &[
            "format-patch",
            "-q",
            "-o",
            dir.to_str().unwrap(),
            "-1",
            "HEAD",
        ],
    );
    fs::read(first_file(&dir)).unwrap()
}

#[test]
fn a_crlf_patch_file_gets_a_clear_error() {
    let env = with_series();
    let p = only_patch(&env);
    let text = fs::read_to_string(&p).unwrap().replace('\n', "\r\n");
    fs::write(&p, text).unwrap();
    assert_fails(
        &env.series(&["status"]),
        1,
        &["CRLF line endings", "dos2unix"],
    );
}

#[test]
fn control_characters_in_from_are_refused_when_read() {
    let env = with_series();
    let p = only_patch(&env);
    let text = fs::read_to_string(&p)
        .unwrap()
        .replace("From: Aaron Lu", "From: Aaron\u{0} Lu");
    fs::write(&p, text).unwrap();
    assert_fails(&env.series(&["status"]), 1, &["From:", "control character"]);
}

#[test]
fn a_bad_date_in_a_patch_is_refused_not_made_1970() {
    let env = with_series();
    let p = only_patch(&env);
    let text = fs::read_to_string(&p).unwrap();
    let date = text
        .lines()
        .find(|l| l.starts_with("Date: "))
        .unwrap()
        .to_string();
    for bad in ["Date: someday", "Date: Wed, 15 Mar 2017 05:02:11 +\u{e9}00"] {
        fs::write(&p, text.replace(&date, bad)).unwrap();
        assert_fails(&env.series(&["status"]), 1, &["Date:", "not a date"]);
    }
}

#[test]
fn a_non_utf8_message_is_refused_not_rewritten() {
    let env = with_series();
    let p = only_patch(&env);
    let mut bytes = fs::read(&p).unwrap();
    let at = bytes.windows(7).position(|w| w == b"Signed-").unwrap();
    bytes.splice(at..at, b"caf\xe9 latin-1\n\n".iter().copied());
    fs::write(&p, &bytes).unwrap();
    let before = Env::snapshot(&env.series_dir());
    assert_fails(
        &env.series_t(&["format", "--to", "linux-mm"]),
        1,
        &["not valid UTF-8", "commit message"],
    );
    assert_unchanged(&before, &Env::snapshot(&env.series_dir()), "non-UTF-8");
}

#[test]
fn a_commit_with_an_encoding_header_is_reencoded_as_git_does() {
    let env = Env::new();
    env.base("v4.11-rc2");
    env.write("mm/memory.c", "changed\n");
    env.git(&["add", "-A"]);
    // A Latin-1 message, declared as such.
    let msg = env.dir.path().join("msg");
    fs::write(
        &msg,
        b"mm: caf\xe9\n\nS\xe9bastien's change.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>\n",
    )
    .unwrap();
    env.git(&[
        "-c",
        "i18n.commitEncoding=ISO-8859-1",
        "commit",
        "-q",
        "-F",
        msg.to_str().unwrap(),
    ]);
    env.init(&["--base", "v4.11-rc2"]);
    let ours = fs::read(only_patch(&env)).unwrap();
    let dir = env.dir.path().join("fp");
    env.git(&[
        "format-patch",
        "-q",
        "--signature",
        SIGNATURE,
        "-o",
        dir.to_str().unwrap(),
        "v4.11-rc2..HEAD",
    ]);
    let git = fs::read(first_file(&dir)).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&git)
    );
    assert!(String::from_utf8_lossy(&ours).contains("Sébastien"));
}

#[test]
fn bad_series_now_values_are_usage_errors_not_overflows() {
    let env = with_series();
    for bad in [
        "2017-13-15T05:02:11Z",
        "99999999999999999999 +0000",
        "9223372036854775807 +0000",
        "1489568531 +0099",
    ] {
        let out = env.series_env(
            &[
                "--tree",
                env.tree().to_str().unwrap(),
                "format",
                "--to",
                "linux-mm",
            ],
            &[("SERIES_NOW", bad)],
        );
        assert_fails(&out, 2, &["SERIES_NOW", "is not a date"]);
    }
}

// ---- the line applier against git apply ---------------------------------

/// Whether real `git apply --check` takes `patch` on `rev` in `env`'s tree.
fn git_applies(env: &Env, rev: &str, patch: &Path) -> bool {
    let wt = env.dir.path().join(format!("wt-{rev}"));
    env.git(&[
        "worktree",
        "add",
        "-q",
        "--detach",
        wt.to_str().unwrap(),
        rev,
    ]);
    let mut c = Command::new("git");
    hermetic(&mut c, env.dir.path());
    let ok = c
        .current_dir(&wt)
        .args(["apply", "--check", patch.to_str().unwrap()])
        .output()
        .unwrap()
        .status
        .success();
    env.git(&["worktree", "remove", "--force", wt.to_str().unwrap()]);
    ok
}

#[test]
fn a_moved_hunk_at_line_one_is_refused_as_git_apply_does() {
    let env = Env::new();
    env.base("v4.11-rc2");
    // The patch changes line 1 of a file (match_beginning) and adds at
    // its end without trailing context (match_end).
    env.write("mm/a.c", "first\nsecond\nthird\n");
    env.write("mm/b.c", "one\ntwo\nthree\n");
    env.commit("mm: files");
    env.git(&["tag", "-f", "v4.11-rc2"]);
    env.write("mm/a.c", "FIRST\nsecond\nthird\n");
    env.write("mm/b.c", "one\ntwo\nthree\nfour\n");
    env.commit("mm: edit\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    env.init(&["--base", "v4.11-rc2"]);
    // A new base where the context moved down (line 1) and on (the end).
    for (file, text) in [
        ("mm/a.c", "zeroth\nfirst\nsecond\nthird\n"),
        ("mm/b.c", "one\ntwo\nthree\nmore\n"),
    ] {
        env.git(&["checkout", "-q", "v4.11-rc2"]);
        env.git(&["checkout", "-q", "-B", &format!("moved-{}", &file[3..4])]);
        env.write(file, text);
        env.commit("moved");
    }
    env.git(&["checkout", "-q", "main"]);
    // The tree lacks the old base: the patch is applied with git apply's
    // rules, not merged.
    let m = manifest(&env);
    let base = env.git(&["rev-parse", "v4.11-rc2"]);
    set_manifest(&env, &m.replace(base.trim(), &"1".repeat(40)));
    let patch = only_patch(&env);
    for branch in ["moved-a", "moved-b"] {
        assert!(
            !git_applies(&env, branch, &patch),
            "git apply took it on {branch}"
        );
        let out = env.series_t(&["rebase", branch]);
        assert!(
            !out.status.success(),
            "series took what git refuses on {branch}"
        );
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    }
}

// ---- index abbreviation as git counts objects ---------------------------

/// Pack enough objects that git writes 8 hex digits (2^14 or more).
fn many_objects(env: &Env) {
    let mut input = String::new();
    for i in 0..16_500 {
        input.push_str(&format!(
            "blob\nmark :{}\ndata {}\n{}\n",
            i + 1,
            format!("{i}").len(),
            i
        ));
    }
    // fast-import writes them as one pack (unreachable: no repack).
    env.git_stdin(&["fast-import", "--quiet"], input.as_bytes());
}

fn index_line(patch: &[u8]) -> String {
    String::from_utf8_lossy(patch)
        .lines()
        .find(|l| l.starts_with("index "))
        .unwrap()
        .to_string()
}

#[test]
fn index_lines_in_a_worktree_and_a_shared_clone_are_abbreviated_as_git_does() {
    let env = Env::new();
    env.base("v4.11-rc2");
    env.write("mm/memory.c", "changed\n");
    env.commit("mm: change\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    many_objects(&env);
    let wt = env.dir.path().join("linked");
    env.git(&[
        "worktree",
        "add",
        "-q",
        "--detach",
        wt.to_str().unwrap(),
        "main",
    ]);
    let shared = env.dir.path().join("shared");
    env.git(&[
        "clone",
        "-q",
        "--shared",
        env.tree().to_str().unwrap(),
        shared.to_str().unwrap(),
    ]);
    for (name, tree) in [("worktree", &wt), ("alternates", &shared)] {
        let git = git_format_head(&env, tree, &format!("git-{name}"));
        let sdir = env.work().join(format!("series-{name}"));
        assert_ok(&env.series(&[
            "--tree",
            tree.to_str().unwrap(),
            "--series",
            sdir.to_str().unwrap(),
            "init",
            "--base",
            "HEAD~1",
        ]));
        let ours = fs::read(first_file(&sdir.join("patches"))).unwrap();
        assert_eq!(index_line(&ours), index_line(&git), "{name}");
        assert_eq!(
            index_line(&git).len(),
            "index ".len() + 8 + 2 + 8 + " 100644".len(),
            "{name}: git wrote 8 digits"
        );
    }
}

/// Write a blob whose id starts with the first `digits` hex digits of `id`
/// to the tree's object store, loose; its id.
fn colliding_blob(env: &Env, id: &str, digits: usize) -> String {
    let file = env.dir.path().join("collider");
    for n in 0u64.. {
        let text = format!("shares a prefix with {id}: {n}\n");
        let h = git2::Oid::hash_object(git2::ObjectType::Blob, text.as_bytes())
            .unwrap()
            .to_string();
        if h[..digits] == id[..digits] {
            fs::write(&file, &text).unwrap();
            let written = env.git(&["hash-object", "-w", file.to_str().unwrap()]);
            assert_eq!(written.trim(), h);
            return h;
        }
    }
    unreachable!()
}

#[test]
fn an_abbreviation_another_object_shares_is_made_longer_as_git_does() {
    let env = Env::new();
    env.base("v4.11-rc2");
    env.write("mm/memory.c", "changed\n");
    env.commit("mm: change\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    env.git(&["config", "core.abbrev", "4"]);
    let old = env
        .git(&["rev-parse", "HEAD~1:mm/memory.c"])
        .trim()
        .to_string();
    let new = env
        .git(&["rev-parse", "HEAD:mm/memory.c"])
        .trim()
        .to_string();
    // One object that shares the pre-image's first 4 digits, in a pack...
    let packed = colliding_blob(&env, &old, 4);
    env.git_stdin(
        &["pack-objects", "-q", ".git/objects/pack/pack"],
        format!("{packed}\n").as_bytes(),
    );
    env.git(&["prune-packed"]);
    let loose_path = |id: &str| {
        env.tree()
            .join(".git/objects")
            .join(&id[..2])
            .join(&id[2..])
    };
    assert!(!loose_path(&packed).exists(), "{packed} is packed only");
    // ...and one that shares the post-image's, loose.
    let loose = colliding_blob(&env, &new, 4);
    assert!(loose_path(&loose).exists());

    let git = git_format_head(&env, &env.tree(), "git-patches");
    let line = index_line(&git);
    let (a, b) = line["index ".len()..]
        .split_once(' ')
        .unwrap()
        .0
        .split_once("..")
        .unwrap();
    assert!(a.len() > 4 && old.starts_with(a), "git lengthened {a}");
    assert!(b.len() > 4 && new.starts_with(b), "git lengthened {b}");

    env.init(&["--base", "HEAD~1"]);
    let ours = fs::read(only_patch(&env)).unwrap();
    assert_eq!(index_line(&ours), line);
}

// ---- status -------------------------------------------------------------

#[test]
fn status_warns_when_a_series_folder_is_untracked_inside_a_tree() {
    let env = with_series();
    let inside = env.tree().join("series");
    let tree = env.tree().to_string_lossy().into_owned();
    // A folder named on purpose, inside the tree (the default home is
    // under the git folder, where git clean cannot reach).
    let out = env.series_in(
        &env.tree(),
        &[
            "--tree",
            &tree,
            "--series",
            "series",
            "init",
            "--base",
            "v4.11-rc2",
        ],
        &[],
    );
    assert_ok(&out);
    assert!(inside.is_dir());
    let out = env.series_in(&env.tree(), &["status"], &[]);
    assert_read(&out);
    assert!(stdout(&out).contains("git clean -dfx"), "{}", stdout(&out));
    assert!(stdout(&out).contains("series move"), "{}", stdout(&out));
    // Tracked, it says nothing.
    env.git(&["add", "series"]);
    let out = env.series_in(&env.tree(), &["status"], &[]);
    assert!(!stdout(&out).contains("git clean"), "{}", stdout(&out));
}

// ---- templates ----------------------------------------------------------

#[test]
fn a_cover_template_loop_is_stopped_with_an_error() {
    let env = with_series();
    fs::write(
        env.series_dir().join("cover.md"),
        "{% for a in range(10000) %}{% for b in range(10000) %}x{% endfor %}{% endfor %}\n",
    )
    .unwrap();
    let out = env.series_t(&["format", "--to", "linux-mm"]);
    assert_fails(&out, 1, &["cover.md", "was stopped"]);
}

// ---- the cover's diffstat follows the patch files ------------------------

#[test]
fn a_hand_edited_patch_refreshes_the_cover_diffstat() {
    let env = with_series();
    let p = only_patch(&env);
    let text = fs::read_to_string(&p).unwrap();
    assert!(text.contains("@@ -1,200 +1 @@"), "{text}");
    // A hand edit of the diff: one more added line (docs/FORMAT.md allows
    // editing patch files).
    let edited = text
        .replace("@@ -1,200 +1 @@", "@@ -1,200 +1,2 @@")
        .replace("+changed\n", "+changed\n+more\n");
    fs::write(&p, &edited).unwrap();
    // Without a tree it cannot be computed again: refused, not sent stale.
    let out = env.series(&["format", "--to", "linux-mm@kvack.org"]);
    assert_fails(&out, 1, &["diffstat", "--tree"]);
    let out = env.series(&["check"]);
    assert!(stdout(&out).contains("series/diffstat"), "{}", stdout(&out));
    // With the tree, the cover shows the patch as it now is.
    assert_ok(&env.series_t(&["format", "--to", "linux-mm"]));
    let cover = fs::read_to_string(env.work().join("outgoing/v1/0000-cover-letter.patch")).unwrap();
    assert!(
        cover.contains("1 file changed, 2 insertions(+), 200 deletions(-)"),
        "{cover}"
    );
    assert!(manifest(&env).contains("2 insertions(+), 200 deletions(-)"));
}

// ---- paths that are not UTF-8 --------------------------------------------

#[test]
fn a_path_that_is_not_utf8_keeps_its_bytes_through_apply_and_rebase() {
    use std::os::unix::ffi::OsStrExt;
    let env = Env::new();
    env.base("v4.11-rc2");
    let name = std::ffi::OsStr::from_bytes(b"mm/caf\xe9.c");
    fs::write(env.tree().join(name), "int a;\n").unwrap();
    env.commit("mm: a Latin-1 file name\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    fs::write(env.tree().join(name), "int a;\nint b;\n").unwrap();
    env.commit("mm: change it\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    env.init(&["--base", "v4.11-rc2"]);
    let want = env.git(&["rev-parse", "HEAD^{tree}"]);
    assert_ok(&env.series_t(&["apply", "--branch", "applied"]));
    assert_eq!(env.git(&["rev-parse", "applied^{tree}"]), want);
    // Onto a base with an unrelated change: the path is the same bytes.
    env.git(&["checkout", "-q", "-b", "newbase", "v4.11-rc2"]);
    env.write("include/asm-generic/tlb.h", "int a;\nint b;\nint c;\n");
    env.commit("unrelated");
    env.git(&["checkout", "-q", "main"]);
    assert_ok(&env.series_t(&["rebase", "newbase"]));
    assert_ok(&env.series_t(&["apply", "--branch", "rebased"]));
    let listed = env.git(&[
        "-c",
        "core.quotePath=true",
        "ls-tree",
        "-r",
        "--name-only",
        "rebased",
    ]);
    assert!(listed.contains("\"mm/caf\\351.c\""), "{listed}");
}
