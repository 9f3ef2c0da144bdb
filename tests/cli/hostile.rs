//! Mail and archives anyone on a public list can write, and sends that
//! are killed: no header or recipient injected through a reply, no forged
//! trailer applied, no reply erased, one deadline over a slow archive, a
//! killed send that takes its child with it.

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::common::*;
use super::send::{point_at, send, series_of, Smtp};

/// `series send` started in the background, as a user starts it.
fn spawn_send(env: &Env, cfg: &str, args: &[&str]) -> Child {
    let tree = env.tree().to_string_lossy().into_owned();
    let mut c = Command::new(assert_cmd::cargo::cargo_bin!("series"));
    hermetic(&mut c, env.dir.path());
    c.current_dir(env.work())
        .env("GIT_CONFIG_GLOBAL", cfg)
        .args(["--tree", &tree, "send"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start series")
}

/// Wait (up to a minute) until `path` exists.
fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The Message-Ids the server stored, in order.
fn stored_ids(smtp: &Smtp) -> Vec<String> {
    smtp.received()
        .iter()
        .map(|(m, _)| super::send::header(m, "Message-ID").unwrap().to_string())
        .collect()
}

#[test]
fn a_send_stopped_by_a_signal_lets_the_message_in_flight_finish_and_resumes_without_a_duplicate() {
    let env = Env::new();
    series_of(&env, 3);
    let smtp = Smtp::start_with(env.dir.path(), None, 2.0);
    let cfg = point_at(&env, smtp.port());
    let child = spawn_send(&env, &cfg, &["--to", "linux-mm", "--yes"]);
    wait_for(&smtp.out().join("started-1"));
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("interrupted after 1 of 4 messages were accepted"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        stored_ids(&smtp).len(),
        1,
        "the message in flight was let through"
    );
    let out = send(&env, &cfg, &["--resume", "--yes"]);
    assert_ok(&out);
    let ids = stored_ids(&smtp);
    assert_eq!(ids.len(), 4);
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 4, "a message went twice: {ids:?}");
}

#[test]
fn a_killed_send_takes_its_git_send_email_with_it() {
    let env = Env::new();
    series_of(&env, 2);
    let smtp = Smtp::start_with(env.dir.path(), None, 3.0);
    let cfg = point_at(&env, smtp.port());
    let mut child = spawn_send(&env, &cfg, &["--to", "linux-mm", "--yes"]);
    wait_for(&smtp.out().join("started-1"));
    child.kill().unwrap();
    let _ = child.wait();
    // Had git send-email lived on, the server would store the message
    // once its delay passed.
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(stored_ids(&smtp).len(), 0, "git send-email outlived series");
    let journal = fs::read_to_string(env.series_dir().join("journal-v1.toml")).unwrap();
    assert!(journal.contains("in-flight = "), "{journal}");
    let out = send(&env, &cfg, &["--resume", "--yes"]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains(
            "was being sent when the last send died; it may have arrived, and goes again"
        ),
        "{}",
        stdout(&out)
    );
    assert_eq!(stored_ids(&smtp).len(), 3);
}

/// A posted v1 (cover and five patches, as the list delivered them)
/// imported from an mbox: a series whose review can be fetched.
pub(crate) fn imported(env: &Env) -> Vec<super::thread::Mail> {
    super::thread::commit_versions(env);
    let cover = "Prose.\n\n-- \n2.7.4\n";
    let v1 = super::thread::posting(env, 1, "v4.11-rc2..main", cover, 8);
    let mbox = env.dir.path().join("v1.mbox");
    let refs: Vec<&super::thread::Mail> = v1.iter().collect();
    super::thread::write_mboxo(&mbox, &refs);
    let out = env.series_t(&[
        "init",
        "--mbox",
        mbox.to_str().unwrap(),
        "--base",
        "v4.11-rc2",
    ]);
    assert_ok(&out);
    v1
}

/// An mbox of raw mails, as a mail client saves it.
pub(crate) fn mbox_of(env: &Env, name: &str, mails: &[String]) -> String {
    let path = env.dir.path().join(name);
    let mut text = String::new();
    for m in mails {
        text.push_str("From x@y Thu Mar 16 10:00:00 2017\n");
        text.push_str(m);
        if !m.ends_with('\n') {
            text.push('\n');
        }
        text.push('\n');
    }
    fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

pub(crate) fn reply_to(
    parent: &super::thread::Mail,
    from: &str,
    id: &str,
    extra: &str,
    body: &str,
) -> String {
    format!(
        "From: {from}\nTo: Aaron Lu <aaron.lu@intel.com>\n{extra}Subject: Re: {}\nDate: Thu, 16 Mar 2017 10:00:00 +0000\nMessage-ID: {id}\nIn-Reply-To: <{}>\nReferences: <{}>\n\n{body}",
        parent.subject, parent.id, parent.id
    )
}

#[test]
fn a_reply_carries_no_header_and_no_recipient_into_a_draft_or_a_send() {
    let env = Env::new();
    let v1 = imported(&env);
    let smtp = Smtp::start(env.dir.path(), None);
    let cfg = point_at(&env, smtp.port());
    let quote = "> +\tstruct mmu_gather_batch *next;\n\n";
    let mails = [
        // A Message-Id holding an encoded line break and a header: no id.
        reply_to(&v1[1], "Mallory <m@evil.org>", "<x@x.org =?utf-8?q?=0ATo:_evil=40evil.org?=>", "", &format!("{quote}Injected?\n")),
        // An id in References with an encoded Bcc: dropped; names with a
        // comma and a colon stay one recipient each.
        reply_to(
            &v1[1],
            "\"Reviewer, Rita\" <rita@example.org>",
            "<rita-1@example.org>",
            "Cc: \"evil@evil.org, Bob\" <bob@example.org>, \"Team: mm\" <mm@example.org>\nReferences: <ok@x> <a@b =?utf-8?q?=0ABcc:_evil=40evil.org?=>\n",
            &format!("{quote}Why not a list_head?\n"),
        ),
    ];
    let path = mbox_of(&env, "evil.mbox", &mails);
    let out = env.series_t(&["review", "fetch", "--mbox", &path]);
    assert_ok(&out);
    assert!(stderr(&out).contains("Message-ID"), "{}", stderr(&out));
    assert!(stdout(&out).contains("1 new reply"), "{}", stdout(&out));
    let list: serde_json::Value =
        serde_json::from_str(&stdout(&env.series_t(&["review", "--json"]))).unwrap();
    let id = list[0]["id"].as_str().unwrap().to_string();
    assert_ok(&env.series_t(&["review", "reply", &id]));
    let file = env.work().join(format!("outgoing/replies/{id}.eml"));
    let draft = fs::read_to_string(&file).unwrap();
    let head = draft.split("\n\n").next().unwrap();
    // Names a parser could split are encoded words: one recipient each.
    assert!(
        head.contains("To: =?UTF-8?q?Reviewer=2C=20Rita?= <rita@example.org>\n"),
        "{head}"
    );
    assert!(
        head.contains("=?UTF-8?q?evil=40evil=2Eorg=2C=20Bob?= <bob@example.org>"),
        "{head}"
    );
    assert!(
        head.contains("=?UTF-8?q?Team=3A=20mm?= <mm@example.org>"),
        "{head}"
    );
    assert!(
        !head.contains("Bcc") && !head.contains("\nTo: evil"),
        "{head}"
    );
    for l in head.lines() {
        assert!(!l.to_ascii_lowercase().starts_with("bcc"), "{l}");
    }
    fs::write(
        &file,
        draft.replace("*** YOUR ANSWER HERE ***", "It is one."),
    )
    .unwrap();
    assert_ok(&send(
        &env,
        &cfg,
        &["--reply", file.to_str().unwrap(), "--yes"],
    ));
    let got = smtp.received();
    assert_eq!(got.len(), 1);
    let rcpt: Vec<&str> = got[0]
        .1
        .lines()
        .filter_map(|l| l.strip_prefix("to "))
        .collect();
    assert!(!rcpt.iter().any(|r| r.contains("evil")), "{rcpt:?}");
    let mut want = vec!["rita@example.org", "bob@example.org", "mm@example.org"];
    want.sort_unstable();
    let mut rcpt = rcpt;
    rcpt.sort_unstable();
    rcpt.retain(|r| {
        !r.contains("kvack")
            && !r.contains("vger")
            && !r.contains("intel")
            && !r.contains("linux-foundation")
    });
    assert_eq!(rcpt, want);
}

#[test]
fn forged_trailers_are_shown_never_applied_and_never_printed_raw() {
    let env = Env::new();
    let v1 = imported(&env);
    let mails = [
        reply_to(&v1[1], "Mallory <m@evil.org>", "<f1@evil.org>", "", "Acked-by: Linus Torvalds <torvalds@linux-foundation.org>\u{1b}[8m\n"),
        reply_to(&v1[2], "Mallory <m@evil.org>", "<f2@evil.org>", "", "Reviewed-by: Linus Torvalds <torvalds@linux-foundation.org>>\nTested-by: Mallory <m@evil.org>\u{7}\n"),
        reply_to(&v1[3], "Mallory <m@evil.org>", "<f3@evil.org>", "", "Looks good.\u{1b}]0;pwned\u{7}\n\nReviewed-by: Mallory <m@evil.org>, Linus <torvalds@linux-foundation.org>\n"),
    ];
    let path = mbox_of(&env, "forged.mbox", &mails);
    assert_ok(&env.series_t(&["review", "fetch", "--mbox", &path]));
    let out = env.series_t(&["trailers", "--json"]);
    let t: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    for x in t.as_array().unwrap() {
        assert_ne!(x["verdict"], "new", "{x:#}");
    }
    let shown = stdout(&env.series_t(&["trailers"])) + &stdout(&env.series_t(&["review", "--all"]));
    assert!(
        !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
        "{shown:?}"
    );
    assert_ok(&env.series_t(&["reroll"]));
    assert_ok(&env.series_t(&["trailers", "--apply"]));
    for (_, bytes) in files(&env.series_dir().join("patches")) {
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            !text.contains("torvalds") && !text.contains("evil.org"),
            "{text}"
        );
        assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'));
    }
}

#[test]
fn an_import_never_leaves_a_series_no_command_can_read() {
    let env = Env::new();
    super::thread::commit_versions(&env);
    let cover = "Prose.\n\n-- \n2.7.4\n";
    let mut v1 = super::thread::posting(&env, 1, "v4.11-rc2..main", cover, 8);
    // An everyday corporate name in Cc, a Message-Id folded over two
    // lines (one mail), a control character in a patch's subject.
    v1[0].text = v1[0]
        .text
        .replacen("Cc: ", "Cc: \"Doe, John\" <john@example.org>, ", 1);
    let mbox = env.dir.path().join("v1.mbox");
    super::thread::write_mboxo(&mbox, &v1.iter().collect::<Vec<_>>());
    let out = env.series_t(&[
        "init",
        "--mbox",
        mbox.to_str().unwrap(),
        "--base",
        "v4.11-rc2",
    ]);
    assert_ok(&out);
    let out = env.series_t(&["status", "--json"]);
    assert_read(&out);
    assert!(
        stdout(&out).contains("\\\"Doe, John\\\" <john@example.org>"),
        "{}",
        stdout(&out)
    );
    assert_ok(&env.series_t(&["format"]));

    let env = Env::new();
    super::thread::commit_versions(&env);
    let mut v1 = super::thread::posting(&env, 1, "v4.11-rc2..main", cover, 8);
    v1[2].text = v1[2].text.replacen(
        "mm: parallel free pages",
        "mm: parallel free pages\u{1b}[2J",
        1,
    );
    v1[3].text = v1[3]
        .text
        .replacen("Message-ID: <", "Message-ID: <broken\n id ", 1);
    let mbox = env.dir.path().join("v1.mbox");
    super::thread::write_mboxo(&mbox, &v1.iter().collect::<Vec<_>>());
    let before = Env::snapshot(&env.work());
    let out = env.series_t(&[
        "init",
        "--mbox",
        mbox.to_str().unwrap(),
        "--base",
        "v4.11-rc2",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    for said in ["v1 lacks patch 2/5, 3/5", "control character", "is not one"] {
        assert!(stderr(&out).contains(said), "{}", stderr(&out));
    }
    assert_unchanged(&before, &Env::snapshot(&env.work()), "a refused import");
}

#[test]
fn replies_whose_message_ids_differ_only_in_odd_characters_are_both_kept() {
    let env = Env::new();
    let v1 = imported(&env);
    let mails = [
        reply_to(
            &v1[1],
            "Rita <rita@example.org>",
            "<x/y@x.org>",
            "",
            "> +\tstruct mmu_gather_batch *next;\n\nFirst reviewer's words.\n",
        ),
        reply_to(
            &v1[1],
            "Mallory <m@evil.org>",
            "<x_y@x.org>",
            "",
            "> +\tstruct mmu_gather_batch *next;\n\nSecond, colliding.\n",
        ),
    ];
    let path = mbox_of(&env, "collide.mbox", &mails);
    assert_ok(&env.series_t(&["review", "fetch", "--mbox", &path]));
    assert_eq!(
        fs::read_dir(env.series_dir().join("replies"))
            .unwrap()
            .count(),
        2
    );
    // Fetching again, in the other order, replaces nothing.
    let path = mbox_of(&env, "collide2.mbox", &[mails[1].clone(), mails[0].clone()]);
    let out = env.series_t(&["review", "fetch", "--mbox", &path]);
    assert!(stdout(&out).contains("0 new replies"), "{}", stdout(&out));
    let texts: Vec<String> = found_texts(&env);
    assert!(
        texts.contains(&"First reviewer's words.".to_string()),
        "{texts:?}"
    );
    assert!(
        texts.contains(&"Second, colliding.".to_string()),
        "{texts:?}"
    );
}

fn found_texts(env: &Env) -> Vec<String> {
    let v: serde_json::Value =
        serde_json::from_str(&stdout(&env.series_t(&["review", "--all", "--json"]))).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| c["text"].as_str().unwrap().to_string())
        .collect()
}

/// How the test archive answers.
#[derive(Clone, Copy)]
enum Archive {
    /// 200, then one byte every half second, 40 bytes in all.
    Drip,
    /// 200 with a web page.
    Page,
    /// 302 to another site.
    Away,
}

/// An HTTP server on 127.0.0.1 that answers every request as `how`.
fn archive(how: Archive) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut conn = conn;
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                let _ = match how {
                    Archive::Drip => {
                        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n");
                        for _ in 0..40 {
                            std::thread::sleep(Duration::from_millis(500));
                            if conn.write_all(b"x").is_err() {
                                break;
                            }
                        }
                        Ok(())
                    }
                    Archive::Page => {
                        let page = "<!DOCTYPE html><html><body>hi</body></html>\n";
                        conn.write_all(format!("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{page}", page.len()).as_bytes())
                    }
                    Archive::Away => conn.write_all(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:9/elsewhere\r\nContent-Length: 0\r\n\r\n"),
                };
            });
        }
    });
    format!("http://127.0.0.1:{port}/all")
}

#[test]
fn an_archive_that_drips_pages_or_redirects_gets_one_clear_error() {
    let env = Env::new();
    let url = archive(Archive::Drip);
    // One byte every half second for twenty seconds: no read waits two,
    // the exchange does.
    let out = env.series(&[
        "lore",
        "--lore",
        &url,
        "--lore-timeout",
        "2",
        "raw",
        "<a@b>",
    ]);
    assert_fails(&out, 4, &["no answer in time"]);
    let out = env.series(&["lore", "--lore", &archive(Archive::Page), "thread", "<a@b>"]);
    assert_fails(&out, 4, &["not an mbox", "web page"]);
    let out = env.series(&["lore", "--lore", &archive(Archive::Away), "thread", "<a@b>"]);
    assert_fails(
        &out,
        4,
        &["redirects to http://127.0.0.2:9/elsewhere, another site"],
    );
}

#[test]
fn a_signed_patch_with_headers_its_signature_did_not_cover_is_refused() {
    let env = Env::new();
    env.base("v4.11-rc2");
    env.write("mm/f1.c", "int f1;\n");
    env.commit_as(
        "Mel Gorman",
        "mgorman@techsingularity.net",
        "mm: add f1\n\nAdd f1.\n\nSigned-off-by: Mel Gorman <mgorman@techsingularity.net>",
    );
    env.init(&["--base", "v4.11-rc2", "--subject", "mm: f1"]);
    let cfg = env.dir.path().join("gitconfig");
    fs::write(&cfg, "").unwrap();
    let cfg = cfg.to_string_lossy().into_owned();
    super::attest::with_key(&env, &cfg, "k1");
    let outdir = env.dir.path().join("signed");
    let tree = env.tree().to_string_lossy().into_owned();
    let out = env.series_env(
        &["--tree", &tree, "format", "-o", outdir.to_str().unwrap()],
        &[("GIT_CONFIG_GLOBAL", &cfg)],
    );
    assert_ok(&out);
    let mails: Vec<String> = files(&outdir)
        .into_iter()
        .map(|(_, b)| String::from_utf8(b).unwrap())
        .collect();
    let import = |name: &str, mails: &[String]| {
        let mbox = env.dir.path().join(name);
        fs::write(&mbox, mails.join("\n")).unwrap();
        env.series_env(
            &[
                "--tree",
                &tree,
                "--series",
                env.dir
                    .path()
                    .join(format!("{name}-series"))
                    .to_str()
                    .unwrap(),
                "init",
                "--mbox",
                mbox.to_str().unwrap(),
            ],
            &[("GIT_CONFIG_GLOBAL", &cfg)],
        )
    };
    // Signed by Aaron's key, authored by Mel: imported, and said so.
    let out = import("plain.mbox", &mails);
    assert_ok(&out);
    assert!(
        stderr(&out).contains("signed by aaron.lu@intel.com (selector k1): valid")
            && stderr(&out).contains(
                "the signer is not the author (Mel Gorman <mgorman@techsingularity.net>)"
            ),
        "{}",
        stderr(&out)
    );
    // A From: and a Subject: put in front of the signed ones.
    let forged: Vec<String> = mails
        .iter()
        .map(|m| {
            let (first, rest) = m.split_once('\n').unwrap();
            format!("{first}\nFrom: Linus Torvalds <torvalds@linux-foundation.org>\nSubject: [PATCH 1/1] mm: trust me\n{rest}")
        })
        .collect();
    let out = import("forged.mbox", &forged);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("2 From: headers"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("valid"), "{}", stderr(&out));
    assert!(!env.dir.path().join("forged.mbox-series").exists());
}

#[test]
fn ten_thousand_replies_in_one_chain_are_placed_in_linear_time() {
    let env = Env::new();
    let v1 = imported(&env);
    let mut mails = Vec::new();
    let mut parent = v1[1].id.clone();
    for k in 0..10_000 {
        let id = format!("chain-{k}@example.org");
        mails.push(format!(
            "From: Rita <rita@example.org>\nTo: Aaron Lu <aaron.lu@intel.com>\nSubject: Re: {}\nDate: Thu, 16 Mar 2017 10:00:00 +0000\nMessage-ID: <{id}>\nIn-Reply-To: <{parent}>\nReferences: <{}> <{parent}>\n\n> +\\tstruct mmu_gather_batch *next;\n\nPoint {k}.\n",
            v1[1].subject, v1[0].id
        ));
        parent = id;
    }
    let path = mbox_of(&env, "chain.mbox", &mails);
    let out = env.series_t(&["review", "fetch", "--mbox", &path]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("10000 new replies"),
        "{}",
        stdout(&out)
    );
    let out = env.series_t(&["status"]);
    assert_read(&out);
    assert!(
        stdout(&out).contains("review: 10000 replies, 10000 comments, 10000 open (patch 1: 10000)"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn small_holes_a_probe_found_are_closed() {
    let env = Env::new();
    let _ = imported(&env);
    let dir = env.series_dir();
    // A diff that names an absolute path: git apply refuses it; so does
    // series.
    let patches = dir.join("patches");
    let first = files(&patches)[0].0.clone();
    let text = fs::read_to_string(patches.join(&first)).unwrap();
    let evil = text
        .replace("a/mm/memory.c", "a//tmp/owned")
        .replace("b/mm/memory.c", "b//tmp/owned");
    fs::write(patches.join(&first), &evil).unwrap();
    let out = env.series_t(&["apply", "--branch", "evil"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("/tmp/owned"), "{}", stderr(&out));
    fs::write(patches.join(&first), &text).unwrap();

    // The last version has no next one.
    let manifest = dir.join("series.toml");
    let m = fs::read_to_string(&manifest).unwrap();
    fs::write(
        &manifest,
        m.replace("version = 1\n", "version = 4294967295\n"),
    )
    .unwrap();
    let out = env.series_t(&["reroll"]);
    assert_fails(&out, 1, &["v4294967295 is the last version"]);
    fs::write(
        &manifest,
        m.replace("format = 2", "format = 99999999999999999999"),
    )
    .unwrap();
    let out = env.series_t(&["status"]);
    assert_fails(
        &out,
        1,
        &["`format = 99999999999999999999` is not a format version"],
    );
    fs::write(&manifest, &m).unwrap();

    // A planted link where reply drafts go is not written through.
    let target = env.dir.path().join("elsewhere");
    fs::create_dir_all(&target).unwrap();
    fs::create_dir_all(env.work().join("outgoing")).unwrap();
    std::os::unix::fs::symlink(&target, env.work().join("outgoing/replies")).unwrap();
    let v1 = super::thread::posting(&env, 1, "v4.11-rc2..main", "x\n", 8);
    let reply = reply_to(
        &v1[1],
        "Rita <rita@example.org>",
        "<r@x.org>",
        "",
        "> +\tstruct mmu_gather_batch *next;\n\nWhy?\n",
    );
    let path = mbox_of(&env, "one.mbox", &[reply]);
    assert_ok(&env.series_t(&["review", "fetch", "--mbox", &path]));
    let v: serde_json::Value =
        serde_json::from_str(&stdout(&env.series_t(&["review", "--json"]))).unwrap();
    let id = v[0]["id"].as_str().unwrap();
    let out = env.series_t(&["review", "reply", id]);
    assert_fails(&out, 1, &["symbolic link"]);
    assert_eq!(fs::read_dir(&target).unwrap().count(), 0);

    // An mbox larger than series reads is refused before it is read.
    let big = env.dir.path().join("big.mbox");
    let f = fs::File::create(&big).unwrap();
    f.set_len(300 << 20).unwrap();
    let out = env.series_t(&["review", "fetch", "--mbox", big.to_str().unwrap()]);
    assert_fails(&out, 1, &["big.mbox", "more than the 268435456 bytes"]);
}
