//! Where the patches landed: `series.upstream` names refs such as
//! mm-unstable; `status` marks each patch found there (by patch-id, else
//! by subject and author, as a maintainer's touch-up leaves it), the
//! review comments on a landed patch stop counting as open, and `rebase
//! --drop-merged` drops the same patches instead of merging them again.

use std::fs;

use crate::common::*;

fn json(out: &std::process::Output) -> serde_json::Value {
    assert_ok(out);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `status --json`, whose exit code says only whether the series is ready.
fn status(env: &Env) -> serde_json::Value {
    serde_json::from_slice(&env.series_t(&["status", "--json"]).stdout).unwrap()
}

#[test]
fn patches_found_upstream_are_marked_and_dropped_on_rebase() {
    let env = Env::new();
    env.base("v4.11-rc2");
    let memory = fs::read_to_string(env.tree().join("mm/memory.c")).unwrap();
    // Patch 1 ends a line in spaces: series check's report makes it a
    // review comment on patch 1.
    env.write("mm/memory.c", memory.replace("line 10\n", "line ten  \n"));
    env.commit("mm: name line ten\n\nSay it.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    let one = env.git(&["rev-parse", "HEAD"]).trim().to_string();
    let after_one = fs::read_to_string(env.tree().join("mm/memory.c")).unwrap();
    env.write(
        "mm/memory.c",
        after_one.replace("line 50\n", "line fifty\n"),
    );
    env.commit("mm: name line fifty\n\nSay it.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    env.write("include/asm-generic/tlb.h", "int a;\nint b;\nint c;\n");
    env.commit("asm-generic: add c\n\nAdd it.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    env.init(&["--base", "v4.11-rc2", "--subject", "mm: names"]);
    fs::write(env.series_dir().join("cover.md"), "Name lines.\n").unwrap();

    // Upstream: patch 1 as it is, patch 2 touched up by the maintainer
    // (another line named too), and an unrelated commit.
    env.git(&["checkout", "-q", "-b", "mm-unstable", "v4.11-rc2"]);
    env.git(&["cherry-pick", &one]);
    env.write("MAINTAINERS.extra", "unrelated\n");
    env.commit_as(
        "Andrew Morton",
        "akpm@linux-foundation.org",
        "MAINTAINERS: an unrelated change",
    );
    let now = fs::read_to_string(env.tree().join("mm/memory.c")).unwrap();
    env.write(
        "mm/memory.c",
        now.replace("line 50\n", "line fifty\n")
            .replace("line 51\n", "line fifty-one\n"),
    );
    env.commit("mm: name line fifty\n\nSay it.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>\nSigned-off-by: Andrew Morton <akpm@linux-foundation.org>");
    let touched_up = env
        .git(&["rev-parse", "--short=12", "HEAD"])
        .trim()
        .to_string();
    let picked = env
        .git(&["rev-parse", "--short=12", "HEAD~2"])
        .trim()
        .to_string();
    env.git(&["checkout", "-q", "main"]);

    // A review comment on patch 1, from series check's report.
    let report = env.dir.path().join("report.mbox");
    let r = report.to_string_lossy().into_owned();
    env.series_t(&["check", "--report", &r]);
    assert!(
        stdout(&env.series_t(&["review", "fetch", "--mbox", &r])).starts_with("1 new reply kept")
    );
    let v = status(&env);
    assert_eq!(v["review"]["open"], 1, "{v}");
    assert!(v.get("upstream").is_none(), "{v}");

    env.git(&["config", "series.upstream", "mm-unstable"]);
    let v = status(&env);
    let up = &v["upstream"];
    assert_eq!(up["refs"], serde_json::json!(["mm-unstable"]));
    assert_eq!(up["all"], false);
    let landed = up["landed"].as_array().unwrap();
    assert_eq!(landed.len(), 2, "{up}");
    assert_eq!(landed[0]["patch"], 1);
    assert_eq!(landed[0]["commit"], picked.as_str());
    assert_eq!(landed[0]["by"], "patch-id");
    assert_eq!(landed[1]["patch"], 2);
    assert_eq!(landed[1]["commit"], touched_up.as_str());
    assert_eq!(landed[1]["by"], "subject-and-author");
    assert_eq!(landed[1]["on"], "mm-unstable");
    // The comment on the landed patch 1 no longer counts as open.
    assert_eq!(v["review"]["open"], 0, "{v}");
    let text = stdout(&env.series_t(&["status"]));
    assert!(text.contains("mm: name line ten  ["), "{text}");
    assert!(
        text.contains(&format!("landed as {picked} on mm-unstable")),
        "{text}"
    );
    assert!(
        text.contains("upstream: 2 of 3 landed on mm-unstable"),
        "{text}"
    );

    // Without --drop-merged the touched-up patch 2 conflicts with its own
    // landed self; with it, patches 1 and 2 are dropped without a
    // conflict, and patch 3 is carried.
    let out = env.series_t(&["rebase", "mm-unstable"]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let said = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(
        said.contains("patch 2 \"mm: name line fifty\" conflicts"),
        "{said}"
    );
    assert_ok(&env.series_t(&["rebase", "--abort"]));
    let v = json(&env.series_t(&["rebase", "mm-unstable", "--drop-merged", "--json"]));
    assert_eq!(v["status"], "rebased", "{v}");
    let v = status(&env);
    let subjects: Vec<&str> = v["patches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["asm-generic: add c"]);
    assert_eq!(v["upstream"]["landed"].as_array().unwrap().len(), 0);
}
