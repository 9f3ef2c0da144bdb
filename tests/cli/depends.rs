//! Series that depend on series: `series depends add` of another series of
//! the repository records it with its patch-ids; the cover letter carries
//! b4's `prerequisite-patch-id:` footers (read back by b4's own parser);
//! `check` applies the prerequisite first; `depends` and `status` say when
//! it has a newer version; a posted series is read from a real
//! public-inbox by its cover's Message-Id.

use std::fs;

use crate::common::*;

fn ok(env: &Env, args: &[&str]) -> String {
    let out = env.series_in(&env.tree(), args, &[]);
    assert_ok(&out);
    stdout(&out)
}

fn json(env: &Env, args: &[&str]) -> serde_json::Value {
    serde_json::from_slice(&env.series_in(&env.tree(), args, &[]).stdout).unwrap()
}

/// `git patch-id --stable` of a commit, as b4 computes prerequisite ids.
fn git_patch_id(env: &Env, rev: &str) -> String {
    let show = env.git(&["show", rev]);
    let out = env.git_stdin(&["patch-id", "--stable"], show.as_bytes());
    out.split_whitespace().next().unwrap().to_string()
}

/// Two series in one repository: `tlb` adds mm/tlb.c, `free` changes it.
fn two_series() -> Env {
    let env = Env::new();
    env.base("v4.11-rc2");
    env.write("mm/tlb.c", "int tlb_batch;\n");
    env.commit(
        "mm: add tlb batches\n\nBatch them.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>",
    );
    env.write("mm/tlb.c", "int tlb_batch;\nint tlb_batch_free;\n");
    env.commit("mm: free tlb batches in parallel\n\nIn parallel.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    ok(
        &env,
        &[
            "init",
            "--base",
            "v4.11-rc2",
            "--name",
            "tlb",
            "--subject",
            "mm: tlb batches",
            "v4.11-rc2..main~1",
        ],
    );
    // Made on tlb's branch, as one does: its base is tlb's tip.
    ok(
        &env,
        &[
            "init",
            "--base",
            "main~1",
            "--name",
            "free",
            "--subject",
            "mm: parallel free",
            "main~1..main",
        ],
    );
    env
}

fn cover_of(env: &Env, name: &str) -> String {
    let dir = env.dir.path().join(format!("out-{name}"));
    ok(
        env,
        &["--name", name, "format", "-o", &dir.to_string_lossy()],
    );
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "patch"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| fs::read_to_string(f).unwrap())
        .collect::<Vec<_>>()
        .join("")
}

#[test]
fn a_series_of_the_repository_as_a_prerequisite() {
    let env = two_series();
    let check = |env: &Env| json(env, &["--name", "free", "check", "--json"]);
    let added = ok(&env, &["--name", "free", "depends", "add", "tlb"]);
    assert!(
        added.starts_with("tlb v1 added: mm: tlb batches"),
        "{added}"
    );
    assert!(added.contains("The series was on tlb's tip (main~1): its base is now tlb's, v4.11-rc2, and tlb applies first."), "{added}");
    let v = json(&env, &["--name", "free", "status", "--json"]);
    assert_eq!(v["base"]["name"], "v4.11-rc2");
    let v = json(&env, &["--name", "free", "depends", "--json"]);
    let pid = git_patch_id(&env, "main~1");
    assert_eq!(v["depends"][0]["kind"], "series");
    assert_eq!(v["depends"][0]["patch-ids"], serde_json::json!([pid]));
    let v = check(&env);
    assert_eq!(
        v["apply"], "every patch applies on v4.11-rc2 after tlb",
        "{v}"
    );

    // The cover's footers, as b4 reads them.
    let mbox = cover_of(&env, "free");
    assert!(
        mbox.contains(&format!("\nprerequisite-patch-id: {pid}\n")),
        "{mbox}"
    );
    let file = env.dir.path().join("free.mbox");
    fs::write(&file, &mbox).unwrap();
    let python = crate::review::b4().with_file_name("python3");
    let script = "import sys, mailbox, b4\nmbx = b4.LoreMailbox()\nfor m in mailbox.mbox(sys.argv[1]):\n    mbx.add_message(m)\ns = mbx.get_series(codereview_trailers=False)\nprint(' '.join(s.prereq_patch_ids or []))\n";
    let mut c = std::process::Command::new(&python);
    hermetic(&mut c, env.dir.path());
    let out = c
        .args(["-c", script])
        .arg(&file)
        .output()
        .expect("b4's python");
    assert_ok(&out);
    assert_eq!(
        stdout(&out).trim(),
        pid,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // tlb moves on to v2: free's depends and status say so.
    ok(&env, &["--name", "tlb", "reroll"]);
    let listed = ok(&env, &["--name", "free", "depends"]);
    assert!(
        listed.contains("1. tlb v1: mm: tlb batches (1 patch)"),
        "{listed}"
    );
    assert!(
        listed.contains("has v2 now (this series depends on v1)"),
        "{listed}"
    );
    let status = stdout(&env.series_in(&env.tree(), &["--name", "free", "status"], &[]));
    assert!(
        status.contains("depends on: tlb v1 (mm: tlb batches): has v2 now"),
        "{status}"
    );
    // The check still applies v1, kept in tlb's versions/.
    assert_eq!(
        check(&env)["apply"],
        "every patch applies on v4.11-rc2 after tlb"
    );
    assert!(ok(&env, &["--name", "free", "depends", "add", "tlb"])
        .starts_with("tlb now depended on at v2 (was v1)"));

    // Refused: itself, and what names nothing.
    let out = env.series_in(
        &env.tree(),
        &["--name", "free", "depends", "add", "free"],
        &[],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot depend on itself"));
    let out = env.series_in(
        &env.tree(),
        &["--name", "free", "depends", "add", "nothing-here"],
        &[],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"nothing-here\" is no series here"));

    assert!(ok(&env, &["--name", "free", "depends", "remove", "1"]).starts_with("tlb removed"));
    assert_eq!(check(&env)["apply"], "stops at patch 1");
    assert!(!cover_of(&env, "free").contains("prerequisite-"));
}

/// The prerequisites go first wherever the series goes on a tree: `apply`
/// makes their commits below the series' (and `refresh` from that branch
/// reads back only the series'), `check --build` builds from the base with
/// them applied, and `rebase BASE` moves the series onto BASE with them
/// on it, or refuses, with nothing changed, when one does not apply there.
#[test]
fn prerequisites_go_first_on_apply_build_and_rebase() {
    let env = two_series();
    ok(&env, &["--name", "free", "depends", "add", "tlb"]);
    let folder = ok(&env, &["--name", "free", "path"]);
    let toml = std::path::Path::new(folder.trim()).join("series.toml");
    // tlb was never posted: nowhere the bots could fetch it from.
    let v = json(&env, &["--name", "free", "check", "--json"]);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "public-base"
                && f["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("prerequisite tlb v1 was never posted")),
        "{v}"
    );

    let said = ok(&env, &["--name", "free", "apply", "--branch", "free-test"]);
    assert!(
        said.starts_with(
            "Applied 1 patch on v4.11-rc2 after 1 patch of prerequisites as branch free-test"
        ),
        "{said}"
    );
    assert_eq!(
        env.git(&["log", "--format=%s", "v4.11-rc2..free-test"]),
        "mm: free tlb batches in parallel\nmm: add tlb batches\n"
    );
    let v = json(
        &env,
        &["--name", "free", "apply", "--branch", "free-json", "--json"],
    );
    assert_eq!(v["prerequisites"], 1, "{v}");
    let before = fs::read_to_string(&toml).unwrap();
    let said = ok(
        &env,
        &["--name", "free", "refresh", "--branch", "free-test"],
    );
    assert_eq!(fs::read_to_string(&toml).unwrap(), before, "{said}");

    // The build needs tlb's file: it passes only with tlb below.
    let v = json(
        &env,
        &[
            "--name",
            "free",
            "check",
            "--json",
            "--build",
            "grep -q tlb_batch mm/tlb.c",
        ],
    );
    let build = v["build"].as_str().unwrap();
    assert!(build.contains("passed at the base and every patch"), "{v}");
    assert!(
        !v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "build"),
        "{v}"
    );

    // A new base beside the old: the series and tlb move onto it.
    env.git(&["checkout", "-q", "-b", "next", "v4.11-rc2"]);
    env.write("README", "next\n");
    env.commit("README: next");
    let out = env.series_in(&env.tree(), &["--name", "free", "rebase", "next"], &[]);
    assert_ok(&out);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("the prerequisites' 1 patch went first"),
        "{said}"
    );
    let v = json(&env, &["--name", "free", "status", "--json"]);
    assert_eq!(v["base"]["name"], "next");
    assert_eq!(
        json(&env, &["--name", "free", "check", "--json"])["apply"],
        "every patch applies on next after tlb"
    );

    // A base where tlb does not apply: refused, nothing changed.
    env.git(&["checkout", "-q", "-b", "other", "v4.11-rc2"]);
    env.write("mm/tlb.c", "int something_else;\n");
    env.commit("mm: another tlb.c");
    let before = fs::read_to_string(&toml).unwrap();
    let out = env.series_in(&env.tree(), &["--name", "free", "rebase", "other"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("prerequisite tlb, patch 1 \"mm: add tlb batches\", does not apply on other"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&toml).unwrap(), before);
}

/// A series posted to a list as a prerequisite, by its cover's Message-Id,
/// read from a real public-inbox: its newest complete version's patch-ids,
/// b4's `prerequisite-message-id:` and Patchwork's `Depends-on:` in the
/// cover; its patches are kept under `depends/` and the check applies
/// them first.
#[test]
fn a_posted_series_as_a_prerequisite() {
    let env = two_series();
    // tlb, as posted: its mails, delivered to the archive as a list would.
    // tlb has a b4 change-id (as a series b4 made, or imported from b4).
    let folder = ok(&env, &["--name", "tlb", "path"]);
    let toml = std::path::Path::new(folder.trim()).join("series.toml");
    let text = fs::read_to_string(&toml).unwrap();
    let text = text.replacen(
        "\nname = \"tlb\"\n",
        "\nname = \"tlb\"\nchange-id = \"20170315-tlb-batches-0a1b2c3d4e5f\"\n",
        1,
    );
    fs::write(&toml, text).unwrap();
    let pi = crate::import::PublicInbox::start(env.dir.path());
    let (cover_id, change_id) = post(&env, &pi, "out-tlb");

    let add = |what: &str| {
        ok(
            &env,
            &["--name", "free", "depends", "add", what, "--lore", &pi.url],
        )
    };
    let added = add(&format!("<{cover_id}>"));
    assert!(
        added.starts_with(&format!("{cover_id} v1 added: mm: tlb batches")),
        "{added}"
    );
    let v = json(&env, &["--name", "free", "depends", "--json"]);
    assert_eq!(v["depends"][0]["kind"], "message-id");
    assert_eq!(
        v["depends"][0]["patch-ids"],
        serde_json::json!([git_patch_id(&env, "main~1")])
    );
    let cover = cover_of(&env, "free");
    assert!(
        cover.contains(&format!(
            "\nprerequisite-change-id: {change_id}:v1\nprerequisite-patch-id: "
        )),
        "{cover}"
    );
    assert!(
        cover.contains(&format!("\nDepends-on: <{cover_id}>\n")),
        "{cover}"
    );
    // Its patches are kept, as the archive gave them, and go first: the
    // series, made on tlb's tip, moved to tlb's base (its cover's
    // base-commit:), and applies there after them.
    assert!(added.contains("its base is now"), "{added}");
    let folder = ok(&env, &["--name", "free", "path"]);
    let kept = std::path::Path::new(folder.trim())
        .join("depends")
        .join(format!("{cover_id}.mbox"));
    let kept = fs::read_to_string(&kept).unwrap();
    assert!(kept.contains("mm: add tlb batches"), "{kept}");
    let v = json(&env, &["--name", "free", "check", "--json"]);
    let apply = v["apply"].as_str().unwrap();
    assert!(apply.contains(&format!("after {cover_id}")), "{apply}");
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert!(
        !rules.iter().any(|r| *r == "apply" || *r == "prerequisite"),
        "{v}"
    );

    // A Message-Id the archive does not have is an error naming it.
    let out = env.series_in(
        &env.tree(),
        &[
            "--name",
            "free",
            "depends",
            "add",
            "<nobody@nowhere>",
            "--lore",
            &pi.url,
        ],
        &[],
    );
    assert!(!out.status.success());

    // tlb v2 is posted, in a thread of its own: the archive has it, by
    // b4's change-id query, and a change-id names it for `depends add`.
    next_tlb(&env, "tlb-v2", "int tlb_batch;\nint tlb_batch_v2;\n");
    let (v2_id, same) = post(&env, &pi, "out-tlb-v2");
    assert_eq!(same, change_id);
    let listed = ok(&env, &["--name", "free", "depends"]);
    assert!(!listed.contains("v2"), "{listed}");
    let listed = ok(
        &env,
        &["--name", "free", "depends", "--archive", "--lore", &pi.url],
    );
    assert!(
        listed.contains(&format!(
            "v2 is posted (this series depends on v1), as <{v2_id}>"
        )),
        "{listed}"
    );
    ok(&env, &["--name", "free", "depends", "remove", "1"]);
    // With tlb's folder gone from here, its change-id is looked up in
    // the archive: its newest version, or the one asked with :vN.
    let tlb = ok(&env, &["--name", "tlb", "path"]);
    fs::remove_dir_all(tlb.trim()).unwrap();
    let added = add(&change_id);
    assert!(added.starts_with(&format!("{v2_id} v2 added")), "{added}");
    let added = add(&format!("{change_id}:v1"));
    assert!(
        added.starts_with(&format!("{cover_id} v1 added")),
        "{added}"
    );
}

/// Post tlb as it is: its mails written to `out` and delivered to the
/// archive as a list would. Returns its cover's Message-Id and change-id.
fn post(env: &Env, pi: &crate::import::PublicInbox, out: &str) -> (String, String) {
    let dir = env.dir.path().join(out);
    ok(
        env,
        &["--name", "tlb", "format", "-o", &dir.to_string_lossy()],
    );
    let mut names: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "patch"))
        .collect();
    names.sort();
    let mails: Vec<String> = names
        .iter()
        .map(|p| fs::read_to_string(p).unwrap())
        .collect();
    for m in &mails {
        pi.deliver(m.split_once('\n').unwrap().1);
    }
    let cover_id = crate::send::header(&mails[0], "Message-ID")
        .unwrap()
        .trim_matches(['<', '>'])
        .to_string();
    let change_id = mails[0]
        .lines()
        .find_map(|l| l.strip_prefix("change-id: "))
        .expect("the cover's change-id")
        .to_string();
    (cover_id, change_id)
}

/// tlb's next version, made as a user does: rerolled, applied on
/// `branch`, its patch amended to leave mm/tlb.c as `text`, refreshed.
fn next_tlb(env: &Env, branch: &str, text: &str) {
    ok(env, &["--name", "tlb", "reroll"]);
    ok(env, &["--name", "tlb", "apply", "--branch", branch]);
    env.git(&["checkout", "-q", branch]);
    env.write("mm/tlb.c", text);
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "--amend", "--no-edit"]);
    ok(env, &["--name", "tlb", "refresh", "--branch", branch]);
    env.git(&["checkout", "-q", "main"]);
}

/// `rebase --restack`: the prerequisite's new version changes its patch;
/// the series moves from the old stack onto the new one (merged in
/// memory), is recorded as depending on the new version, and the check
/// applies it after that version.
#[test]
fn restack_moves_the_series_onto_the_prerequisites_new_version() {
    let env = two_series();
    ok(&env, &["--name", "free", "depends", "add", "tlb"]);
    let out = env.series_in(&env.tree(), &["--name", "free", "rebase", "--restack"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("no prerequisite of this repository has a new version"));

    // tlb v2: its patch gains a comment line above what free changes.
    next_tlb(&env, "tlb-v2", "/* tlb batches */\nint tlb_batch;\n");

    let out = ok(&env, &["--name", "free", "rebase", "--restack"]);
    assert!(out.contains("Rebased 1 patch onto v4.11-rc2"), "{out}");
    let v = json(&env, &["--name", "free", "depends", "--json"]);
    assert_eq!(v["depends"][0]["version"], 2, "{v}");
    assert_eq!(v["depends"][0]["news"], serde_json::json!([]), "{v}");
    let v = json(&env, &["--name", "free", "check", "--json"]);
    assert_eq!(
        v["apply"], "every patch applies on v4.11-rc2 after tlb",
        "{v}"
    );
    // The restacked patch has tlb v2's line in its context.
    let folder = ok(&env, &["--name", "free", "path"]);
    let patches = std::path::Path::new(folder.trim()).join("patches");
    let first = fs::read_dir(&patches)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let free = fs::read_to_string(first).unwrap();
    assert!(
        free.contains(" /* tlb batches */\n int tlb_batch;\n+int tlb_batch_free;\n"),
        "{free}"
    );

    // tlb v3 changes the very line free adds after: a conflict, and
    // nothing changes.
    next_tlb(&env, "tlb-v3", "/* tlb batches */\nlong tlb_batch;\n");
    let before =
        fs::read_to_string(std::path::Path::new(folder.trim()).join("series.toml")).unwrap();
    let out = env.series_in(&env.tree(), &["--name", "free", "rebase", "--restack"], &[]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("conflicts with tlb v3 in mm/tlb.c; series/ is unchanged"));
    assert_eq!(
        fs::read_to_string(std::path::Path::new(folder.trim()).join("series.toml")).unwrap(),
        before
    );
}
