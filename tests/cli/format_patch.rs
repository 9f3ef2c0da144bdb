//! Baselines against `git format-patch`: the stored patch files must be the
//! same bytes git writes for the same commits, and `git am` must rebuild the
//! same trees.

use std::fs;

use crate::common::*;

/// Deterministic binary content (with NULs), large enough that git mails a
/// change to it as a delta.
fn noise(n: usize) -> Vec<u8> {
    let mut x: u32 = 12345;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect()
}

/// A series that exercises every part of git's mail format.
fn tricky(env: &Env) {
    env.base("v4.11-rc2");
    let mut memory: String = (1..=200).map(|i| format!("line {i}\n")).collect();
    // Commits below touch: modification with function context; exact and
    // partial renames, a mode change, a delete, a create and a binary delta;
    // non-ASCII author and body; RFC 822 specials; a binary literal and an
    // empty file; a two-line subject.
    env.write(
        "dir/moved.txt",
        (1..=50).map(|i| format!("{i}\n")).collect::<String>(),
    );
    env.write(
        "dir/partly.txt",
        (1..=80).map(|i| format!("keep {i}\n")).collect::<String>(),
    );
    env.write("blob.bin", noise(4096));
    env.write("run.sh", "script\n");
    env.write("gone.txt", "old\n");
    env.write("we ird\tname.txt", "q\n");
    env.write("nonl.txt", "no newline");
    // A function line whose 80-byte cut ends in a space: git trims it in
    // the hunk header, libgit2 does not (regression).
    memory = memory.replace(
        "line 120\n",
        "static int fixture_function(struct mm_struct *mm, unsigned long first, unsigned long end)\n",
    );
    env.write("mm/memory.c", &memory);
    env.commit("prepare");
    env.git(&["tag", "-f", "v4.11-rc2"]);

    memory = memory.replace("line 100\n", "line 100 changed\n");
    memory = memory.replace("line 124\n", "line 124 changed\n");
    env.write("mm/memory.c", &memory);
    env.write("include/asm-generic/tlb.h", "int a;\nint c;\nint b;\n");
    env.commit("mm: add tlb_flush_mmu_free_batches\n\nFactor the loop out.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");

    env.git(&["mv", "dir/partly.txt", "dir/partly2.txt"]);
    fs::create_dir_all(env.tree().join("dir/sub")).unwrap();
    env.git(&["mv", "dir/moved.txt", "dir/sub/moved.txt"]);
    let partly = fs::read_to_string(env.tree().join("dir/partly2.txt")).unwrap();
    env.write(
        "dir/partly2.txt",
        partly
            .replace("keep 1\n", "changed 1\n")
            .replace("keep 7\n", "changed 7\n"),
    );
    env.git(&["update-index", "--chmod=+x", "run.sh"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(env.tree().join("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    }
    env.git(&["rm", "-q", "gone.txt"]);
    env.write("new.txt", "new\n");
    let mut blob = noise(4096);
    blob[2000..2004].copy_from_slice(b"EDIT");
    env.write("blob.bin", blob);
    env.commit("mm: a very long subject line that goes on and on, well past the seventy-eight column limit of git\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");

    env.write("nonl.txt", "no newline, changed");
    env.commit_as(
        "Jérôme Glisse",
        "j@x.org",
        "mm: non-ascii body\n\nTime is 5.8s ± 2.8% here.\n\nSigned-off-by: Jérôme Glisse <j@x.org>",
    );

    memory.push_str("x\n");
    env.write("mm/memory.c", &memory);
    env.commit_as("Lu, Aaron (Intel)", "aaron.lu@intel.com", "mm: subject with =? inside\n\nBody line with trailing spaces   \n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");

    env.write("new.bin", b"\0\x01\x02".as_slice());
    env.write("empty.txt", "");
    env.commit("mm: naïve subject");

    memory.push_str("y\n");
    env.write("mm/memory.c", &memory);
    env.commit("mm: first line\ncontinues here\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
}

fn git_format_patch(env: &Env, extra: &[&str]) -> Vec<(String, Vec<u8>)> {
    let out = env.dir.path().join("ref");
    let _ = fs::remove_dir_all(&out);
    let mut args = vec![
        "format-patch",
        "-q",
        "-o",
        out.to_str().unwrap(),
        "--signature",
        SIGNATURE,
    ];
    args.extend_from_slice(extra);
    env.git(&args);
    files(&out)
}

#[test]
fn stored_patches_are_byte_identical_to_git_format_patch() {
    let env = Env::new();
    tricky(&env);
    env.init(&["--base", "v4.11-rc2"]);
    let ours = files(&env.series_dir().join("patches"));
    let theirs = git_format_patch(&env, &["v4.11-rc2..HEAD"]);
    assert_eq!(ours.len(), 6);
    for ((on, ob), (tn, tb)) in ours.iter().zip(&theirs) {
        assert_eq!(on, tn, "file names differ");
        assert_eq!(
            String::from_utf8_lossy(ob),
            String::from_utf8_lossy(tb),
            "{on} differs from git format-patch"
        );
        assert_eq!(ob, tb, "{on}: bytes differ");
    }
    // The fixture really covers what it claims.
    let all: String = theirs
        .iter()
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .collect();
    for needle in [
        "similarity index 100%",
        "rename from dir/partly.txt",
        "dir/{partly.txt => partly2.txt} (",
        "old mode 100644\nnew mode 100755",
        "delete mode 100644 gone.txt",
        "GIT binary patch\ndelta ",
        "GIT binary patch\nliteral 3",
        "Bin 0 -> 3 bytes",
        "\\ No newline at end of file",
        "From: =?UTF-8?q?J=C3=A9r=C3=B4me=20Glisse?= <j@x.org>",
        "Subject: [PATCH 5/6] =?UTF-8?q?mm:=20na=C3=AFve=20subject?=",
        "From: \"Lu, Aaron (Intel)\"",
        "Content-Type: text/plain; charset=UTF-8",
        "on and on, well\n past the seventy-eight",
        "@@ -97,7 +97,7 @@ line 96",
        " @@ static int fixture_function(struct mm_struct *mm, unsigned long first, unsigned\n",
    ] {
        assert!(all.contains(needle), "fixture lacks {needle:?}");
    }
}

#[test]
fn counters_are_zero_padded_from_ten_patches() {
    let env = Env::new();
    env.base("base");
    for i in 1..=12 {
        env.write(&format!("f{i}.c"), format!("int f{i};\n"));
        env.commit(&format!(
            "mm: add f{i}\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>"
        ));
    }
    env.init(&["--base", "base"]);
    let ours = files(&env.series_dir().join("patches"));
    let theirs = git_format_patch(&env, &["base..HEAD"]);
    assert_eq!(ours, theirs);
    assert!(String::from_utf8_lossy(&ours[0].1).contains("Subject: [PATCH 01/12] mm: add f1\n"));
}

#[test]
fn a_single_patch_has_no_counter() {
    let env = Env::new();
    env.base("base");
    env.write("mm/new.c", "int x;\n");
    env.commit("mm: one patch\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    env.init(&["--base", "base"]);
    let ours = files(&env.series_dir().join("patches"));
    assert_eq!(ours, git_format_patch(&env, &["base..HEAD"]));
    assert!(String::from_utf8_lossy(&ours[0].1).contains("Subject: [PATCH] mm: one patch\n"));
}

#[test]
fn git_am_of_the_stored_patches_rebuilds_the_same_trees() {
    let env = Env::new();
    tricky(&env);
    env.init(&["--base", "v4.11-rc2"]);
    let clone = env.dir.path().join("am");
    env.git(&[
        "clone",
        "-q",
        env.tree().to_str().unwrap(),
        clone.to_str().unwrap(),
    ]);
    env.git_in(&clone, &["checkout", "-q", "v4.11-rc2"]);
    let mut args = vec!["am".to_string(), "-q".to_string()];
    for (name, _) in files(&env.series_dir().join("patches")) {
        args.push(
            env.series_dir()
                .join("patches")
                .join(name)
                .to_string_lossy()
                .into_owned(),
        );
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.git_in(&clone, &args);
    let theirs: Vec<String> = env
        .git(&["log", "--format=%T %an <%ae> %ad %s", "v4.11-rc2..HEAD"])
        .lines()
        .map(String::from)
        .collect();
    let ours: Vec<String> = env
        .git_in(
            &clone,
            &["log", "--format=%T %an <%ae> %ad %s", "v4.11-rc2..HEAD"],
        )
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(ours, theirs);
}

#[test]
fn reading_then_writing_is_byte_stable() {
    let env = Env::new();
    tricky(&env);
    env.init(&["--base", "v4.11-rc2"]);
    let before = Env::snapshot(&env.series_dir());
    // `send --dry-run` learns a list name and saves the series.
    // (--force: the check gate would stop at the cover's placeholders.)
    let out = env.series_t(&["send", "--to", "linux-mm", "--dry-run", "--force"]);
    assert_ok(&out);
    let after = Env::snapshot(&env.series_dir());
    let changed: Vec<_> = after
        .iter()
        .filter(|f| !before.contains(f))
        .map(|(p, _)| p.display().to_string())
        .collect();
    assert_eq!(changed, vec!["series.toml"], "only the manifest may change");
    let manifest = String::from_utf8_lossy(
        &after
            .iter()
            .find(|(p, _)| p.ends_with("series.toml"))
            .unwrap()
            .1,
    )
    .into_owned();
    assert!(
        manifest.contains("linux-mm = \"linux-mm@kvack.org\""),
        "{manifest}"
    );
}

#[test]
fn series_apply_reproduces_every_kind_of_change() {
    let env = Env::new();
    tricky(&env);
    env.init(&["--base", "v4.11-rc2"]);
    let out = env.series_t(&["apply"]);
    assert_ok(&out);
    assert_eq!(
        env.git(&["rev-parse", "series/main-v1^{tree}"]),
        env.git(&["rev-parse", "main^{tree}"]),
        "series apply must rebuild the tree git am rebuilds"
    );
    assert_eq!(
        env.git(&[
            "log",
            "--format=%an <%ae> %ad %s%n%b",
            "v4.11-rc2..series/main-v1"
        ]),
        env.git(&["log", "--format=%an <%ae> %ad %s%n%b", "v4.11-rc2..main"])
    );
}

/// Where a deleted block can slide (it repeats the lines around it), git
/// places it by indentation (diff.indentHeuristic, on by default); so must
/// the stored patch.
#[test]
fn a_block_that_can_slide_is_placed_as_git_places_it() {
    let env = Env::new();
    let body = |steps: &[&str]| {
        let mut s = String::from("static int send_all(struct dev *d)\n{\n\tint r;\n\n");
        for step in steps {
            s.push_str(&format!(
                "\tr = dev_out(d, {step});\n\tif (r)\n\t\treturn r;\n"
            ));
        }
        s.push_str("\treturn 0;\n}\n");
        s
    };
    env.write(
        "drivers/dev.c",
        body(&["1", "2", "offset >> 8", "offset", "4"]),
    );
    env.base("base");
    env.write("drivers/dev.c", body(&["1", "2", "offset", "4"]));
    env.commit("dev: send the offset once\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    env.init(&["--base", "base"]);
    let ours = files(&env.series_dir().join("patches"));
    let theirs = git_format_patch(&env, &["base..HEAD"]);
    assert_eq!(
        String::from_utf8_lossy(&ours[0].1),
        String::from_utf8_lossy(&theirs[0].1)
    );
}

/// Hunk headers take their function line from the diff driver that
/// `.gitattributes` names, folder by folder (the kernel's says `*.c
/// diff=cpp`): a label at the start of a line is a function line to git's
/// default rule, not to the cpp driver's. Stored patches and rebased ones
/// both match git.
#[test]
fn hunk_headers_follow_the_diff_drivers_gitattributes_name() {
    let env = Env::new();
    env.base("base");
    env.write(".gitattributes", "*.c diff=cpp\n");
    env.write("lib/.gitattributes", "*.h diff=cpp\n");
    let body = |tag: &str| -> String {
        let mut s = String::from("static int frob(struct page *page, int nr)\n{\n\tint i;\n");
        s.push_str("out:\n");
        for i in 0..12 {
            s.push_str(&format!("\tstep({i});\n"));
        }
        s.push_str(&format!("\treturn {tag};\n}}\n"));
        s
    };
    env.write("mm/frob.c", body("0"));
    env.write("lib/frob.h", body("0"));
    env.write("lib/frob.txt", body("0"));
    env.commit("prepare");
    env.git(&["tag", "-f", "base"]);
    env.write("mm/frob.c", body("nr"));
    env.write("lib/frob.h", body("nr"));
    env.write("lib/frob.txt", body("nr"));
    env.commit("mm: return nr\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    // Upstream moves the lines down, so that a rebase renders anew.
    env.git(&["checkout", "-q", "-b", "upstream", "base"]);
    env.write("NOTES", "upstream\n");
    for f in ["mm/frob.c", "lib/frob.h", "lib/frob.txt"] {
        env.write(f, format!("/* upstream */\n{}", body("0")));
    }
    env.commit("upstream: a comment on top");
    env.git(&["checkout", "-q", "main"]);
    env.init(&["--base", "base"]);

    let ours = files(&env.series_dir().join("patches"));
    assert_eq!(ours, git_format_patch(&env, &["base..main"]));
    let text = String::from_utf8_lossy(&ours[0].1).into_owned();
    assert_eq!(
        text.matches("@@ static int frob(struct page *page, int nr)")
            .count(),
        2,
        "{text}"
    );
    assert_eq!(text.matches("@@ out:").count(), 1, "{text}");

    assert_ok(&env.series_t(&["rebase", "upstream"]));
    env.git(&["checkout", "-q", "-b", "by-git", "main"]);
    env.git(&["rebase", "-q", "upstream"]);
    let rebased = files(&env.series_dir().join("patches"));
    let theirs = git_format_patch(&env, &["upstream..by-git"]);
    let strip = |v: &[(String, Vec<u8>)]| -> Vec<String> {
        v.iter()
            .map(|(_, b)| {
                let t = String::from_utf8_lossy(b);
                t.split_once('\n')
                    .map(|(_, rest)| rest.to_string())
                    .unwrap_or_default()
            })
            .collect()
    };
    assert_eq!(strip(&rebased), strip(&theirs), "all but the From line");
    assert_eq!(
        strip(&rebased)[0]
            .matches("@@ static int frob(struct page *page, int nr)")
            .count(),
        2
    );
}

/// Random bytes from a seed (xorshift), as a compressor sees noise.
fn random(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Bytes that compress well: a few words over and over, a NUL here and
/// there (so git calls the file binary).
fn compressible(n: usize, seed: u64) -> Vec<u8> {
    let words: [&[u8]; 4] = [
        b"struct page ",
        b"\0\0\0\x01",
        b"free_pages ",
        b"mmu_gather\n",
    ];
    let r = random(n / 8 + 1, seed);
    let mut out = Vec::with_capacity(n);
    let mut k = 0;
    while out.len() < n {
        out.extend_from_slice(words[(r[k % r.len()] % 4) as usize]);
        k += 1;
    }
    out.truncate(n);
    out
}

#[test]
fn binary_patches_of_every_size_are_byte_identical_to_git() {
    let env = Env::new();
    env.base("v4.11-rc2");
    let sizes = [1usize, 3, 64, 303, 4096, 65_536, 1 << 20];
    // New files: a commit that adds them all.
    for (i, &n) in sizes.iter().enumerate() {
        env.write(&format!("bin/random-{n}.bin"), random(n, 7 + i as u64));
        env.write(
            &format!("bin/packed-{n}.bin"),
            compressible(n, 11 + i as u64),
        );
    }
    env.commit("bin: add binaries\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    // Changed: a few bytes of each, so git mails some as deltas.
    for (i, &n) in sizes.iter().enumerate() {
        let mut r = random(n, 7 + i as u64);
        let mut c = compressible(n, 11 + i as u64);
        for b in [&mut r, &mut c] {
            let at = b.len() / 2;
            b[at] ^= 0x5a;
            b.extend_from_slice(b"tail");
        }
        env.write(&format!("bin/random-{n}.bin"), r);
        env.write(&format!("bin/packed-{n}.bin"), c);
    }
    env.commit("bin: change binaries\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    // Deleted.
    for &n in &sizes {
        fs::remove_file(env.tree().join(format!("bin/random-{n}.bin"))).unwrap();
        fs::remove_file(env.tree().join(format!("bin/packed-{n}.bin"))).unwrap();
    }
    env.commit("bin: delete binaries\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    env.init(&["--base", "v4.11-rc2"]);
    let ours = files(&env.series_dir().join("patches"));
    let theirs = git_format_patch(&env, &["--binary", "v4.11-rc2..HEAD"]);
    assert_eq!(ours.len(), 3);
    let all: String = theirs
        .iter()
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .collect();
    assert!(
        all.contains("GIT binary patch\ndelta "),
        "the fixture has deltas"
    );
    assert!(
        all.contains("GIT binary patch\nliteral 1048576"),
        "and a 1 MiB literal"
    );
    for ((on, ob), (_, tb)) in ours.iter().zip(&theirs) {
        if ob != tb {
            let at = ob.iter().zip(tb).take_while(|(a, b)| a == b).count();
            let show = |b: &[u8]| {
                String::from_utf8_lossy(&b[at.saturating_sub(200)..(at + 200).min(b.len())])
                    .into_owned()
            };
            panic!(
                "{on} differs from git at byte {at}:\n--- series\n{}\n--- git\n{}",
                show(ob),
                show(tb)
            );
        }
    }
}
