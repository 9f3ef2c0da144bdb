//! The review loop on real parts: a version sent through git send-email
//! to a local SMTP server, the sent mails and reviewers' replies delivered
//! to a real public-inbox server, `review fetch` from it, trailers compared
//! with real b4's, comments listed, resolved, answered and carried into the
//! next version's changelog.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use super::common::*;
use super::import::PublicInbox;
use super::send::{header, send, sending};

/// b4 from PyPI: `SERIES_B4`, else `b4` on the PATH; a test that needs it
/// and cannot find it fails.
pub(crate) fn b4() -> PathBuf {
    if let Some(p) = std::env::var_os("SERIES_B4") {
        return PathBuf::from(p);
    }
    let found = std::env::var_os("PATH").map(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("b4"))
            .find(|c| c.is_file())
    });
    found
        .flatten()
        .expect("b4 is needed: .ci/run installs it (pip, in a virtualenv) and sets SERIES_B4")
}

/// A reply as a reviewer's mailer writes it.
#[allow(clippy::too_many_arguments)]
fn reply(
    from: &str,
    id: &str,
    parent: &str,
    refs: &[&str],
    subject: &str,
    date: &str,
    extra_headers: &str,
    body: &str,
) -> String {
    let refs: Vec<String> = refs.iter().map(|r| format!("<{r}>")).collect();
    format!(
        "From: {from}\nTo: Aaron Lu <aaron.lu@intel.com>\nCc: linux-mm@kvack.org\nSubject: Re: {subject}\nDate: {date}\nMessage-ID: <{id}>\nIn-Reply-To: <{parent}>\nReferences: {}\n{extra_headers}\n{body}",
        refs.join(" ")
    )
}

fn ids_and_subjects(received: &[(String, String)]) -> Vec<(String, String)> {
    received
        .iter()
        .map(|(m, _)| {
            (
                header(m, "Message-ID")
                    .unwrap()
                    .trim_matches(['<', '>'])
                    .to_string(),
                header(m, "Subject").unwrap().to_string(),
            )
        })
        .collect()
}

/// The trailer block (last paragraph before `---`) of each patch in an
/// mbox or patch files: one list per patch.
fn trailer_blocks(texts: &[String]) -> Vec<Vec<String>> {
    texts
        .iter()
        .map(|t| {
            let body = t.split_once("\n\n").map(|(_, b)| b).unwrap_or("");
            let message = body.split("\n---\n").next().unwrap_or("");
            let last = message.trim_end().rsplit("\n\n").next().unwrap_or("");
            last.lines().map(str::to_string).collect()
        })
        .collect()
}

#[test]
fn replies_come_in_trailers_match_b4_and_comments_are_tracked_into_v2() {
    let (env, smtp, cfg) = sending(3);
    assert_ok(&send(&env, &cfg, &["--to", "linux-mm", "--yes"]));
    let sent = smtp.received();
    let ids = ids_and_subjects(&sent);
    let (cover, p1, p2, p3) = (&ids[0], &ids[1], &ids[2], &ids[3]);
    let pi = PublicInbox::start(env.dir.path());
    for (m, _) in &sent {
        pi.deliver(m);
    }
    let diff1 = "> diff --git a/mm/f1.c b/mm/f1.c\n> new file mode 100644\n> index 0000000..1111111\n> --- /dev/null\n> +++ b/mm/f1.c\n> @@ -0,0 +1 @@\n> +int f1;\n";
    let replies = [
        // Inline comment, trailer at the end, sign-off.
        reply(
            "Mel Gorman <mgorman@techsingularity.net>",
            "mel-1@suse",
            &p1.0,
            &[&cover.0, &p1.0],
            &p1.1,
            "Thu, 16 Mar 2017 10:00:00 +0000",
            "",
            &format!("On Wed, Mar 15, 2017 at 05:02:11PM +0800, Aaron Lu wrote:\n{diff1}\nf1 wants a comment saying what it counts.\n\nReviewed-by: Mel Gorman <mgorman@techsingularity.net>\n\nThanks,\nMel\n"),
        ),
        // Top-posted, with a conditional ack.
        reply(
            "Michal Hocko <mhocko@suse.com>",
            "mhocko-1@suse",
            &p2.0,
            &[&cover.0, &p2.0],
            &p2.1,
            "Thu, 16 Mar 2017 11:00:00 +0000",
            "",
            "Please document the threshold in the changelog.\n\nWith that fixed,\nAcked-by: Michal Hocko <mhocko@suse.com>\n\nOn Wed, Mar 15, 2017, Aaron Lu wrote:\n> Add f2.\n",
        ),
        // A reply to a reply: quotes Mel's trailer, gives its own.
        reply(
            "Dave Hansen <dave.hansen@intel.com>",
            "dave-1@intel",
            "mel-1@suse",
            &[&cover.0, &p1.0, "mel-1@suse"],
            &p1.1,
            "Thu, 16 Mar 2017 12:00:00 +0000",
            "",
            "On 03/16/2017 03:00 AM, Mel Gorman wrote:\n> Reviewed-by: Mel Gorman <mgorman@techsingularity.net>\n\nWorks on my 4-node box.\n\nTested-by: Dave Hansen <dave.hansen@intel.com>\n",
        ),
        // A reply to the cover that reviews patch 3, with an ack for all.
        reply(
            "Andrew Morton <akpm@linux-foundation.org>",
            "akpm-1@linux-foundation",
            &cover.0,
            &[&cover.0],
            &cover.1,
            "Thu, 16 Mar 2017 13:00:00 +0000",
            "",
            "On Wed, 15 Mar 2017 17:02:11 +0800 Aaron Lu <aaron.lu@intel.com> wrote:\n\n> +int f3;\n\nf3 needs a better name.\n\nAcked-by: Andrew Morton <akpm@linux-foundation.org>\n",
        ),
        // format=flowed, a non-ASCII name, CRLF, and a trailer in someone
        // else's name.
        reply(
            "=?UTF-8?Q?J=C3=A9r=C3=B4me_Glisse?= <jglisse@redhat.com>",
            "jerome-1@redhat",
            &p3.0,
            &[&cover.0, &p3.0],
            &p3.1,
            "Thu, 16 Mar 2017 14:00:00 +0000",
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8; format=flowed\nContent-Transfer-Encoding: 8bit\n",
            "> +int f3;\n\nThis line is long enough that my mailer \nflowed it over two lines.\n\nReviewed-by: Vlastimil Babka <vbabka@suse.cz>\n\nJérôme\n",
        )
        .replace('\n', "\r\n"),
        // The author answers Mel.
        reply(
            "Aaron Lu <aaron.lu@intel.com>",
            "aaron-1@intel",
            "mel-1@suse",
            &[&cover.0, &p1.0, "mel-1@suse"],
            &p1.1,
            "Thu, 16 Mar 2017 15:00:00 +0000",
            "",
            "On Thu, Mar 16, 2017, Mel Gorman wrote:\n> f1 wants a comment saying what it counts.\n\nWill do in v2.\n",
        ),
    ];
    for r in &replies {
        pi.deliver(r);
    }

    // Replies in: placed, incremental, idempotent.
    let out = env.series(&["review", "fetch", "--lore", &pi.url]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("6 new replies kept"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        fs::read_dir(env.series_dir().join("replies"))
            .unwrap()
            .count(),
        6
    );
    let out = env.series(&["review", "fetch", "--lore", &pi.url]);
    assert!(
        stdout(&out).contains("0 new replies kept in series/replies/ (6 known already"),
        "{}",
        stdout(&out)
    );

    // Comments: who, where (the quoted hunk), their own words.
    let out = env.series(&["review", "--json"]);
    assert_ok(&out);
    let list: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let open: Vec<&serde_json::Value> = list.as_array().unwrap().iter().collect();
    let by = |who: &str| -> &serde_json::Value {
        open.iter()
            .find(|c| c["who"].as_str().unwrap().contains(who))
            .unwrap_or_else(|| panic!("no comment by {who}: {list:#}"))
    };
    let michal = by("Michal");
    assert_eq!(michal["patch"], 2);
    assert_eq!(
        michal["text"],
        "Please document the threshold in the changelog.\n\nWith that fixed,"
    );
    let akpm = by("Andrew");
    assert_eq!(akpm["patch"], 3, "a reply to the cover that quotes patch 3");
    assert_eq!(akpm["location"], "mm/f3.c:1");
    assert_eq!(akpm["text"], "f3 needs a better name.");
    let jerome = by("Jérôme");
    assert_eq!(
        jerome["text"],
        "This line is long enough that my mailer flowed it over two lines."
    );
    assert!(
        open.iter()
            .all(|c| !c["who"].as_str().unwrap().contains("Mel")),
        "Mel's comment was answered"
    );
    let out = env.series(&["review", "--all", "--json"]);
    let all: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let mel = all
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["who"].as_str().unwrap().contains("Mel"))
        .unwrap();
    assert_eq!(mel["state"], "answered");
    assert_eq!(mel["location"], "mm/f1.c:1");
    assert_eq!(mel["text"], "f1 wants a comment saying what it counts.");
    let status = stdout(&env.series(&["status"]));
    assert!(
        status
            .contains("review: 6 replies, 5 comments, 4 open (patch 1: 1, patch 2: 1, patch 3: 2)"),
        "{status}"
    );

    // Trailers, as b4 reads them from the same thread.
    let thread = env.dir.path().join("thread.mbox");
    assert_ok(&env.series(&[
        "lore",
        "--lore",
        &pi.url,
        "thread",
        &cover.0,
        "-o",
        thread.to_str().unwrap(),
    ]));
    let out = env.series(&["trailers"]);
    assert_ok(&out);
    let shown = stdout(&out);
    assert!(shown.contains("Acked-by: Michal Hocko <mhocko@suse.com>  [conditional (\"with that fixed\"): not applied]"), "{shown}");
    assert!(
        shown.contains(
            "Reviewed-by: Vlastimil Babka <vbabka@suse.cz>  [in someone else's name: not applied]"
        ),
        "{shown}"
    );
    assert!(shown.contains("Reviewed-by: Mel Gorman <mgorman@techsingularity.net>  [quoted from another mail: not applied]"), "{shown}");
    // A sent version is final: apply to the next one.
    let out = env.series(&["trailers", "--apply"]);
    assert_fails(&out, 1, &["v1 was sent", "series reroll"]);
    let out = env.series(&[
        "review",
        "resolve",
        michal["id"].as_str().unwrap(),
        "--note",
        "documented the threshold",
    ]);
    assert_ok(&out);
    assert!(stdout(&out).contains("`series reroll` starts v2, and its changelog gets this line"));
    let out = env.series(&[
        "review",
        "resolve",
        jerome["id"].as_str().unwrap(),
        "--wontfix",
        "the name is the subsystem's",
    ]);
    assert_ok(&out);
    let out = env.series(&["reroll"]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("  - patch 2: documented the threshold (Michal Hocko, https://lore.kernel.org/r/mhocko-1@suse)"),
        "{}",
        stdout(&out)
    );
    let out = env.series(&["trailers", "--apply"]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("Applied 5 trailers"),
        "{}",
        stdout(&out)
    );
    // Applying again adds nothing.
    let out = env.series(&["trailers", "--apply"]);
    assert!(
        stdout(&out).contains("Applied 0 trailers"),
        "{}",
        stdout(&out)
    );

    let b4_out = env.dir.path().join("b4");
    let mut b4 = Command::new(b4());
    hermetic(&mut b4, env.dir.path());
    let st = b4
        .current_dir(env.tree())
        .env("GIT_CONFIG_COUNT", "2")
        .env("GIT_CONFIG_KEY_0", "user.name")
        .env("GIT_CONFIG_VALUE_0", "Aaron Lu")
        .env("GIT_CONFIG_KEY_1", "user.email")
        .env("GIT_CONFIG_VALUE_1", "aaron.lu@intel.com")
        .args(["--offline-mode", "am", "-m"])
        .arg(&thread)
        .arg("-o")
        .arg(&b4_out)
        .arg(&cover.0)
        .output()
        .expect("run b4");
    assert!(
        st.status.success(),
        "b4 am: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    let mbx = fs::read_dir(&b4_out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "mbx"))
        .expect("b4 wrote an .mbx");
    let mbx = fs::read_to_string(mbx).unwrap();
    let b4_patches: Vec<String> = mbx
        .split("\nFrom ")
        .map(|s| s.to_string())
        .filter(|s| s.contains("\n---\n"))
        .collect();
    let ours: Vec<String> = files(&env.series_dir().join("patches"))
        .into_iter()
        .map(|(_, b)| String::from_utf8(b).unwrap())
        .collect();
    let theirs = trailer_blocks(&b4_patches);
    let mine = trailer_blocks(&ours);
    assert_eq!(theirs.len(), 3);
    // Where series deliberately differs: b4 applies Michal's conditional
    // ack ("With that fixed,"); series shows it and leaves it to the author.
    let mut expected = theirs.clone();
    expected[1].retain(|l| l != "Acked-by: Michal Hocko <mhocko@suse.com>");
    assert_ne!(theirs, expected, "b4 applied the conditional ack");
    assert_eq!(mine, expected, "b4: {theirs:#?}\nseries: {mine:#?}");

    // Touched in v2: change patch 3's line akpm quoted; his comment asks.
    assert_ok(&env.series_t(&["apply"]));
    env.git(&["checkout", "-q", "series/parallel-free-v2"]);
    env.write("mm/f3.c", "int f3_renamed;\n");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "--amend", "--no-edit"]);
    assert_ok(&env.series_t(&["refresh"]));
    let out = env.series(&["review"]);
    let listing = stdout(&out);
    let akpm_id = akpm["id"].as_str().unwrap();
    let line = listing.lines().find(|l| l.starts_with(akpm_id)).unwrap();
    assert!(line.contains("(changed in v2: addressed?)"), "{listing}");
    assert!(line.contains("v1 patch 3, mm/f3.c:1"), "{listing}");

    // Answer akpm: a reply mail, sent once, then answered.
    let out = env.series(&["review", "reply", akpm_id]);
    assert_ok(&out);
    let file = env.work().join(format!("outgoing/replies/{akpm_id}.eml"));
    let text = fs::read_to_string(&file).unwrap();
    assert_eq!(
        header(&text, "In-Reply-To"),
        Some("<akpm-1@linux-foundation>")
    );
    assert_eq!(
        header(&text, "To"),
        Some("Andrew Morton <akpm@linux-foundation.org>")
    );
    assert!(text.contains("> f3 needs a better name.\n"), "{text}");
    let out = send(&env, &cfg, &["--reply", file.to_str().unwrap(), "--yes"]);
    assert_fails(&out, 1, &["YOUR ANSWER HERE"]);
    fs::write(
        &file,
        text.replace("*** YOUR ANSWER HERE ***", "Renamed in v2."),
    )
    .unwrap();
    let before = smtp.received().len();
    let out = send(&env, &cfg, &["--reply", file.to_str().unwrap(), "--yes"]);
    assert_ok(&out);
    let got = smtp.received();
    assert_eq!(got.len(), before + 1);
    assert!(got[before].0.contains("Renamed in v2."));
    let out = send(&env, &cfg, &["--reply", file.to_str().unwrap(), "--yes"]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("nothing was sent"),
        "{}",
        stdout(&out)
    );
    assert_eq!(smtp.received().len(), before + 1, "never twice");
    let out = env.series(&["review", "--all", "--json"]);
    let all: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let state = |id: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(state(akpm_id), "answered");
    assert_eq!(state(michal["id"].as_str().unwrap()), "addressed");
    assert_eq!(state(jerome["id"].as_str().unwrap()), "wontfix");

    // v2's changelog has the addressed comment; send warns of open ones.
    let manifest = fs::read_to_string(env.series_dir().join("series.toml")).unwrap();
    assert!(
        manifest.contains("\"patch 2: documented the threshold (Michal Hocko, https://lore.kernel.org/r/mhocko-1@suse)\""),
        "{manifest}"
    );
    let out = send(&env, &cfg, &["--yes"]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("warning: 1 review comment is still open"),
        "{}",
        stdout(&out)
    );
    let v2_cover = &smtp.received()[before + 1].0;
    assert!(
        v2_cover.contains("- patch 2: documented the threshold (Michal Hocko,"),
        "{v2_cover}"
    );
}

#[test]
fn replies_from_an_mbox_trailers_of_a_changed_patch_and_bad_input() {
    let (env, smtp, cfg) = sending(2);
    // Nothing sent yet: nothing to fetch.
    let out = env.series(&["review", "fetch", "--lore", "http://127.0.0.1:9/none"]);
    assert_fails(&out, 1, &["no version of this series was sent"]);
    assert_ok(&send(&env, &cfg, &["--to", "linux-mm", "--yes"]));
    let ids = ids_and_subjects(&smtp.received());
    let (cover, p1, p2) = (&ids[0], &ids[1], &ids[2]);
    let r1 = reply(
        "Mel Gorman <mgorman@techsingularity.net>",
        "mel-2@suse",
        &p1.0,
        &[&cover.0, &p1.0],
        &p1.1,
        "Thu, 16 Mar 2017 10:00:00 +0000",
        "",
        "> +int f1;\n>> nested quote of the cover\n\nf1 is a poor name.\n\nReviewed-by: Mel Gorman <mgorman@techsingularity.net>\n",
    );
    // No References and an unknown parent: placed by its subject.
    let r2 = reply(
        "Michal Hocko <mhocko@suse.com>",
        "mhocko-2@suse",
        "lost@nowhere",
        &[],
        &p2.1,
        "Thu, 16 Mar 2017 11:00:00 +0000",
        "",
        "Acked-by: Michal Hocko <mhocko@suse.com>\n",
    );
    // Not ours at all.
    let other = "From: x@example.org\nSubject: [PATCH] other: thing\nDate: Thu, 16 Mar 2017 12:00:00 +0000\nMessage-ID: <other@x>\n\nhello\n".to_string();
    let mbox = env.dir.path().join("replies.mbox");
    let mut text = String::new();
    for m in [&r1, &r2, &other] {
        text.push_str("From mboxrd@z Thu Jan  1 00:00:00 1970\n");
        text.push_str(m);
        text.push('\n');
    }
    fs::write(&mbox, text).unwrap();
    let out = env.series(&["review", "fetch", "--mbox", mbox.to_str().unwrap()]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("2 new replies kept"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("1 other messages left out"),
        "{}",
        stdout(&out)
    );
    let out = env.series(&["review", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let mel = &list[0];
    assert_eq!(mel["text"], "f1 is a poor name.");
    assert_eq!(mel["location"], "mm/f1.c:1");

    // v2 changes patch 1: Mel's trailer was for v1's patch, not this one.
    assert_ok(&env.series(&["reroll"]));
    assert_ok(&env.series_t(&["apply"]));
    env.git(&["checkout", "-q", "series/parallel-free-v2~1"]);
    env.write("mm/f1.c", "int f1_counter;\n");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "--amend", "--no-edit"]);
    env.git(&["cherry-pick", "series/parallel-free-v2"]);
    env.git(&["branch", "-f", "series/parallel-free-v2", "HEAD"]);
    assert_ok(&env.series_t(&["refresh"]));
    let out = env.series(&["trailers"]);
    assert!(
        stdout(&out).contains("Reviewed-by: Mel Gorman <mgorman@techsingularity.net>  [given for v1, patch changed since: confirm, not applied]"),
        "{}",
        stdout(&out)
    );
    // Michal's ack was for v1's patch 2, whose diff v2 keeps: it carries over.
    let out = env.series(&["trailers", "--apply"]);
    assert!(
        stdout(&out).contains("Applied 1 trailer "),
        "{}",
        stdout(&out)
    );
    let p2 = &files(&env.series_dir().join("patches"))[1].1;
    assert!(String::from_utf8_lossy(p2)
        .contains("Acked-by: Michal Hocko <mhocko@suse.com>\nSigned-off-by: Aaron Lu"));
    let out = env.series(&["review"]);
    assert!(
        stdout(&out).contains("(changed in v2: addressed?)"),
        "{}",
        stdout(&out)
    );

    // Bad input: an unknown comment, a resolve without how, a newer
    // review.toml; each one error, nothing changed.
    let before = Env::snapshot(&env.series_dir());
    let out = env.series(&["review", "resolve", "deadbeef", "--note", "x"]);
    assert_fails(
        &out,
        1,
        &["no review comment deadbeef", "series review --all"],
    );
    let id = mel["id"].as_str().unwrap();
    let out = env.series(&["review", "resolve", id]);
    assert_fails(&out, 2, &["--note TEXT, --wontfix REASON or --reopen"]);
    assert_unchanged(
        &before,
        &Env::snapshot(&env.series_dir()),
        "refused resolves",
    );
    assert_ok(&env.series(&[
        "review",
        "resolve",
        id,
        "--note",
        "renamed f1 to f1_counter",
    ]));
    let manifest = fs::read_to_string(env.series_dir().join("series.toml")).unwrap();
    assert!(
        manifest.contains("\"patch 1: renamed f1 to f1_counter (Mel Gorman, https://lore.kernel.org/r/mel-2@suse)\""),
        "{manifest}"
    );
    let review = env.series_dir().join("review.toml");
    let text = fs::read_to_string(&review).unwrap();
    fs::write(&review, text.replace("format = 1", "format = 9")).unwrap();
    let out = env.series(&["review"]);
    assert_fails(&out, 1, &["series/review.toml: format 9, newer"]);
}
