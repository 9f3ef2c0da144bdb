//! `series send` through real `git send-email` to a real SMTP server
//! (aiosmtpd) listening on 127.0.0.1, started by each test.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::common::*;

/// An SMTP server on 127.0.0.1 that stores what it accepts.
pub(crate) struct Smtp {
    child: Child,
    port: u16,
    out: PathBuf,
}

impl Smtp {
    pub(crate) fn start(dir: &Path, fail_after: Option<usize>) -> Smtp {
        Smtp::start_with(dir, fail_after, 0.0)
    }

    /// A server that waits `delay` seconds after each message's data
    /// before it accepts it (`started-K` marks the K-th as in flight).
    pub(crate) fn start_with(dir: &Path, fail_after: Option<usize>, delay: f64) -> Smtp {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py");
        let out = dir.join(format!(
            "smtp-{}-{delay}",
            fail_after.map_or("ok".to_string(), |n| n.to_string())
        ));
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.arg(script).arg("--out").arg(&out).args([
            "--lifetime",
            "120",
            "--delay",
            &delay.to_string(),
        ]);
        if let Some(n) = fail_after {
            cmd.args(["--fail-after", &n.to_string()]);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP server (python3-aiosmtpd)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port from the SMTP server: {line:?}"));
        Smtp { child, port, out }
    }

    /// Where the server writes what it receives.
    pub(crate) fn out(&self) -> &Path {
        &self.out
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// The received messages, in order.
    pub(crate) fn received(&self) -> Vec<(String, String)> {
        let mut names: Vec<PathBuf> = fs::read_dir(&self.out)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
            .iter()
            // SMTP carries CRLF line ends; the files have LF.
            .map(|p| {
                (
                    fs::read_to_string(p).unwrap().replace("\r\n", "\n"),
                    fs::read_to_string(p.with_extension("env")).unwrap(),
                )
            })
            .collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A git config that points git send-email at `port`, with a password that
/// must never reach series/.
pub(crate) fn point_at(env: &Env, port: u16) -> String {
    let path = env.dir.path().join("gitconfig");
    fs::write(
        &path,
        format!("[sendemail]\n\tsmtpServer = 127.0.0.1\n\tsmtpServerPort = {port}\n\tsmtpPass = hunter2-secret\n\tsmtpEncryption = none\n"),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

pub(crate) fn send(env: &Env, gitconfig: &str, args: &[&str]) -> std::process::Output {
    let tree = env.tree().to_string_lossy().into_owned();
    let mut full = vec!["--tree", &tree, "send"];
    full.extend_from_slice(args);
    env.series_env(&full, &[("GIT_CONFIG_GLOBAL", gitconfig)])
}

/// A series of `patches` patches and an SMTP server git send-email is
/// pointed at: the environment, the server and the git config.
pub(crate) fn sending(patches: usize) -> (Env, Smtp, String) {
    let env = Env::new();
    series_of(&env, patches);
    let smtp = Smtp::start(env.dir.path(), None);
    let cfg = point_at(&env, smtp.port);
    (env, smtp, cfg)
}

pub(crate) fn series_of(env: &Env, patches: usize) {
    env.base("v4.11-rc2");
    for i in 1..=patches {
        env.write(&format!("mm/f{i}.c"), format!("int f{i};\n"));
        let extra = if i == 2 {
            "Reviewed-by: Dave Hansen <dave.hansen@intel.com>\n"
        } else {
            ""
        };
        env.commit(&format!(
            "mm: add f{i}\n\nAdd f{i}.\n\n{extra}Signed-off-by: Aaron Lu <aaron.lu@intel.com>"
        ));
    }
    env.init(&[
        "--base",
        "v4.11-rc2",
        "--subject",
        "mm: support parallel free of memory",
        "--name",
        "parallel-free",
    ]);
    fs::write(
        env.series_dir().join("cover.md"),
        "Free pages in parallel.\n",
    )
    .unwrap();
}

pub(crate) fn header<'a>(mail: &'a str, name: &str) -> Option<&'a str> {
    let head = mail.split("\n\n").next().unwrap_or("");
    head.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
}

fn body(mail: &str) -> &str {
    mail.split_once("\n\n").map(|(_, b)| b).unwrap_or("")
}

#[test]
fn a_send_delivers_every_message_threaded_and_records_the_version() {
    let (env, smtp, cfg) = sending(3);
    let out = send(&env, &cfg, &["--to", "linux-mm", "--yes"]);
    assert_ok(&out);
    let got = smtp.received();
    assert_eq!(got.len(), 4, "{}", stdout(&out));

    let files = files(&env.work().join("outgoing/v1"));
    let cover_id = header(&got[0].0, "Message-ID").unwrap().to_string();
    for ((mail, envelope), (name, file)) in got.iter().zip(&files) {
        let file = String::from_utf8_lossy(file);
        // The message is the rendered file: same body, same threading.
        assert_eq!(body(mail), body(&file), "{name}");
        for h in ["Message-ID", "In-Reply-To", "Subject", "To"] {
            assert_eq!(header(mail, h), header(&file, h), "{name}: {h}");
        }
        assert!(envelope.contains("to linux-mm@kvack.org"), "{envelope}");
        if name != "0000-cover-letter.patch" {
            assert_eq!(
                header(mail, "In-Reply-To"),
                Some(cover_id.as_str()),
                "{name}"
            );
        }
    }
    // Dated a second apart, in order, as git send-email dates the files of
    // one run: readers sort the thread as it was sent.
    let dates: Vec<i64> = got
        .iter()
        .map(|(m, _)| mailparse::dateparse(header(m, "Date").unwrap()).unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[1] > w[0]), "{dates:?}");
    // Patch 2's reviewer is Cc'd on patch 2 and on the cover, not on 1 or 3.
    assert!(got[2].1.contains("to dave.hansen@intel.com"));
    assert!(got[0].1.contains("to dave.hansen@intel.com"));
    assert!(!got[1].1.contains("dave.hansen") && !got[3].1.contains("dave.hansen"));

    let manifest = fs::read_to_string(env.series_dir().join("series.toml")).unwrap();
    assert!(manifest.contains("message-ids = ["), "{manifest}");
    assert!(
        manifest.contains(&format!(
            "link = \"https://lore.kernel.org/r/{}\"",
            cover_id.trim_matches(['<', '>'])
        )),
        "{manifest}"
    );
    assert!(manifest.contains("date = \"2017-03-15\""), "{manifest}");
    // Credentials stay in git's config.
    for (path, bytes) in Env::snapshot(&env.series_dir()) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains("hunter2"),
            "{} holds the password",
            path.display()
        );
    }

    // Never twice: a rerun sends nothing.
    let again = send(&env, &cfg, &["--to", "linux-mm", "--yes"]);
    assert_ok(&again);
    assert!(
        stdout(&again).contains("v1 was sent on 2017-03-15"),
        "{}",
        stdout(&again)
    );
    assert_eq!(smtp.received().len(), 4);
}

#[test]
fn a_failure_midway_resumes_with_the_rest_and_the_same_message_ids() {
    let env = Env::new();
    series_of(&env, 5);
    let flaky = Smtp::start(env.dir.path(), Some(2));
    let cfg = point_at(&env, flaky.port);
    let out = send(&env, &cfg, &["--to", "linux-mm", "--yes"]);
    assert_fails(
        &out,
        4,
        &[
            "git send-email failed on 0002-mm-add-f2.patch after 2 of 6 messages were accepted",
            "series send --resume",
        ],
    );
    assert_eq!(flaky.received().len(), 2);
    let status = stdout(&env.series(&["status"]));
    assert!(
        status.contains("send of v1 stopped after 2 of 6 messages were accepted; `series send --resume` sends the rest"),
        "{status}"
    );
    let manifest = fs::read_to_string(env.series_dir().join("series.toml")).unwrap();
    assert!(
        !manifest.contains("message-ids"),
        "not recorded as sent: {manifest}"
    );

    // Without --resume it refuses; a new send would duplicate.
    let ok = Smtp::start(env.dir.path(), None);
    let cfg = point_at(&env, ok.port);
    let refused = send(&env, &cfg, &["--to", "linux-mm", "--yes"]);
    assert_fails(&refused, 1, &["stopped after 2 of 6 messages", "--resume"]);
    assert_eq!(ok.received().len(), 0);

    // A resume needs none of the original flags: the journal has them.
    let resumed = send(&env, &cfg, &["--resume"]);
    assert_ok(&resumed);
    let first: Vec<String> = flaky
        .received()
        .iter()
        .map(|(m, _)| header(m, "Message-ID").unwrap().to_string())
        .collect();
    let rest: Vec<String> = ok
        .received()
        .iter()
        .map(|(m, _)| header(m, "Message-ID").unwrap().to_string())
        .collect();
    assert_eq!(rest.len(), 4, "exactly the other four");
    let journal = fs::read_to_string(env.series_dir().join("journal-v1.toml")).unwrap();
    for id in first.iter().chain(&rest) {
        assert!(
            journal.contains(&format!("message-id = \"{}\"", id.trim_matches(['<', '>']))),
            "{id} not in the journal"
        );
    }
    let mut all = first.clone();
    all.extend(rest.clone());
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 6, "no message went twice");
    // The resumed patches still reply to the cover sent before the failure.
    for (m, _) in ok.received() {
        assert_eq!(header(&m, "In-Reply-To"), Some(first[0].as_str()));
    }
    let after = send(&env, &cfg, &["--to", "linux-mm", "--yes"]);
    assert!(stdout(&after).contains("nothing was sent"));
    assert_eq!(ok.received().len(), 4);
}

#[test]
fn nothing_is_sent_without_confirmation_or_past_the_check_gate() {
    let (env, smtp, cfg) = sending(2);
    let out = send(&env, &cfg, &["--to", "linux-mm"]);
    assert_fails(&out, 1, &["not sending without confirmation", "--yes"]);
    assert!(!env.series_dir().join("journal-v1.toml").exists());

    fs::write(env.series_dir().join("cover.md"), "*** BLURB HERE ***\n").unwrap();
    let out = send(&env, &cfg, &["--to", "linux-mm", "--yes"]);
    assert_fails(
        &out,
        1,
        &["`series check` finds 1 error; nothing was sent", "--force"],
    );
    // The refusal shows what the check found.
    assert!(
        stdout(&out).contains("cover letter: error native/cover-placeholder"),
        "{}",
        stdout(&out)
    );
    assert_eq!(smtp.received().len(), 0);
    assert_ok(&send(&env, &cfg, &["--to", "linux-mm", "--yes", "--force"]));
    assert_eq!(smtp.received().len(), 3);
}

#[test]
fn header_injection_and_unknown_lists_are_refused_before_sending() {
    let (env, smtp, cfg) = sending(1);
    assert_fails(
        &send(&env, &cfg, &["--to", "a@b.org\nBcc: evil@x.org", "--yes"]),
        1,
        &["line break"],
    );
    assert_fails(
        &send(&env, &cfg, &["--to", "linux-mmm", "--yes"]),
        1,
        &["unknown list \"linux-mmm\""],
    );
    assert_eq!(smtp.received().len(), 0);
}

#[test]
fn aliases_expand_and_the_next_version_shows_who_changed() {
    let (env, smtp, cfg) = sending(1);
    let aliases = env.dir.path().join("aliases");
    fs::write(
        &aliases,
        "alias akpm Andrew Morton <akpm@linux-foundation.org>\n",
    )
    .unwrap();
    fs::write(
        &cfg,
        format!(
            "{}\taliasesFile = {}\n",
            fs::read_to_string(&cfg).unwrap(),
            aliases.display()
        ),
    )
    .unwrap();
    assert_ok(&send(
        &env,
        &cfg,
        &["--to", "linux-mm", "--cc", "akpm", "--yes"],
    ));
    assert!(smtp.received()[0]
        .1
        .contains("to akpm@linux-foundation.org"));

    let path = env.series_dir().join("series.toml");
    fs::write(
        &path,
        fs::read_to_string(&path)
            .unwrap()
            .replace("version = 1\nprefix", "version = 2\nprefix"),
    )
    .unwrap();
    let out = send(
        &env,
        &cfg,
        &[
            "--to",
            "linux-mm",
            "--cc",
            "Mel Gorman <mgorman@techsingularity.net>",
            "--dry-run",
            "--force",
        ],
    );
    assert_ok(&out);
    let text = stdout(&out);
    assert!(
        text.contains("Added since v1: mgorman@techsingularity.net"),
        "{text}"
    );
    // v1's recipients were kept in series.toml and carry over.
    assert!(!text.contains("Dropped since v1"), "{text}");
    let manifest = fs::read_to_string(&path).unwrap();
    assert!(
        manifest.contains("Andrew Morton <akpm@linux-foundation.org>"),
        "{manifest}"
    );
    // Dropping one is an edit of [recipients].
    let mut doc: toml::Table = toml::from_str(&manifest).unwrap();
    doc["recipients"]["cc"] = toml::Value::Array(Vec::new());
    fs::write(&path, toml::to_string(&doc).unwrap()).unwrap();
    let out = send(&env, &cfg, &["--dry-run", "--force"]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("Dropped since v1: akpm@linux-foundation.org"),
        "{}",
        stdout(&out)
    );
}

/// A series of one patch to mm/ on a tree with linux-6.12's MAINTAINERS and
/// `get_maintainer` as its scripts/get_maintainer.pl; `--auto-cc --dry-run`
/// on it, whose output must name Andrew Morton in To and linux-mm in Cc.
fn auto_cc_on(get_maintainer: &str, layout: bool) {
    let scripts = linux_scripts();
    let env = Env::new();
    env.base("v4.11-rc2");
    if layout {
        kernel_layout(&env);
    }
    fs::copy(scripts.join("MAINTAINERS"), env.tree().join("MAINTAINERS")).unwrap();
    fs::write(env.tree().join("scripts/get_maintainer.pl"), get_maintainer).unwrap();
    env.commit("the real MAINTAINERS");
    env.git(&["tag", "-f", "v4.11-rc2"]);
    env.write("mm/memory.c", "changed\n");
    env.commit("mm: change memory.c\n\nChange it.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    env.init(&["--base", "v4.11-rc2", "--subject", "mm: x"]);
    let smtp = Smtp::start(env.dir.path(), None);
    let cfg = point_at(&env, smtp.port);
    let out = send(&env, &cfg, &["--auto-cc", "--dry-run", "--force"]);
    assert_ok(&out);
    let text = stdout(&out);
    // People go to To, lists to Cc, as b4 does; each address once.
    assert!(
        text.contains("To: Andrew Morton <akpm@linux-foundation.org>"),
        "{text}"
    );
    assert!(text.contains("Cc: linux-mm@kvack.org"), "{text}");
    assert_eq!(text.matches("linux-mm@kvack.org").count(), 2, "{text}");
}

#[test]
fn auto_cc_asks_get_maintainer() {
    let script = fs::read_to_string(linux_scripts().join("scripts/get_maintainer.pl")).unwrap();
    auto_cc_on(&script, false);
}

#[test]
fn recipients_carry_over_to_the_next_version() {
    let (env, smtp, cfg) = sending(1);
    assert_ok(&send(
        &env,
        &cfg,
        &[
            "--to",
            "linux-mm",
            "--cc",
            "Mel Gorman <mgorman@techsingularity.net>",
            "--yes",
        ],
    ));
    assert_ok(&env.series(&["reroll"]));
    // No --to this time: v1's recipients are the default. (The patches are
    // v1's, which only --force sends again.)
    let out = send(&env, &cfg, &["--yes", "--force"]);
    assert_ok(&out);
    let got = smtp.received();
    assert_eq!(got.len(), 4, "two messages a version");
    for (mail, _) in &got[2..] {
        assert_eq!(header(mail, "To"), Some("linux-mm@kvack.org"), "{mail}");
        assert!(
            header(mail, "Cc")
                .unwrap_or("")
                .contains("mgorman@techsingularity.net"),
            "{mail}"
        );
    }
    assert!(
        stdout(&out).contains("Recipients are those of v1."),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_send_with_no_to_is_refused() {
    let (env, smtp, cfg) = sending(1);
    for args in [
        &["--yes"][..],
        &["--cc", "linux-mm", "--yes"][..],
        &["--dry-run"][..],
    ] {
        let out = send(&env, &cfg, args);
        assert_fails(&out, 1, &["has no To: recipient", "--to"]);
    }
    assert_eq!(smtp.received().len(), 0);
    assert!(!env.series_dir().join("journal-v1.toml").exists());
    let manifest = fs::read_to_string(env.series_dir().join("series.toml")).unwrap();
    assert!(!manifest.contains("message-ids"), "{manifest}");
}

#[test]
fn a_journal_shorter_than_the_series_is_an_error_not_a_panic() {
    let env = Env::new();
    series_of(&env, 3);
    let flaky = Smtp::start(env.dir.path(), Some(1));
    let cfg = point_at(&env, flaky.port);
    assert_eq!(
        send(&env, &cfg, &["--to", "linux-mm", "--yes"])
            .status
            .code(),
        Some(4)
    );
    let jpath = env.series_dir().join("journal-v1.toml");
    let journal = fs::read_to_string(&jpath).unwrap();
    let last = journal.rfind("[[message]]").unwrap();
    fs::write(&jpath, &journal[..last]).unwrap();
    let ok = Smtp::start(env.dir.path(), None);
    let cfg = point_at(&env, ok.port);
    let out = send(&env, &cfg, &["--resume"]);
    assert_fails(&out, 1, &["journal of v1 lists 3 messages", "has 4"]);
    assert_eq!(ok.received().len(), 0);
}

#[test]
fn an_smtp_server_that_never_greets_is_given_up_on() {
    let env = Env::new();
    series_of(&env, 1);
    // Accepts the connection, then says nothing.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming().take(4) {
            held.push(c);
        }
        std::thread::sleep(std::time::Duration::from_secs(120));
    });
    let cfg = point_at(&env, port);
    let out = send(
        &env,
        &cfg,
        &["--to", "linux-mm", "--yes", "--send-timeout", "2"],
    );
    assert_fails(
        &out,
        4,
        &["did not finish within 2s", "series send --resume"],
    );
    let journal = fs::read_to_string(env.series_dir().join("journal-v1.toml")).unwrap();
    assert!(!journal.contains("accepted"), "{journal}");
}

#[test]
fn the_dry_run_hint_keeps_the_journal() {
    let (env, _smtp, cfg) = sending(1);
    let out = send(&env, &cfg, &["--to", "linux-mm", "--dry-run"]);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(
        text.contains("`series send` without --dry-run sends these files"),
        "{text}"
    );
    assert!(!text.contains("git send-email outgoing"), "{text}");
}

#[test]
fn the_cover_comes_from_the_sender_as_git_format_patch_writes_it() {
    let (env, _smtp, cfg) = sending(2);
    let tree = env.tree().to_string_lossy().into_owned();
    let out = env.series_env(
        &["--tree", &tree, "send", "--to", "linux-mm", "--dry-run"],
        &[
            ("GIT_CONFIG_GLOBAL", cfg.as_str()),
            ("GIT_COMMITTER_NAME", "Andrew Morton"),
            ("GIT_COMMITTER_EMAIL", "akpm@linux-foundation.org"),
        ],
    );
    assert_ok(&out);
    let dir = env.work().join("outgoing/v1");
    let names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let cover = fs::read_to_string(dir.join("0000-cover-letter.patch")).unwrap();
    // git format-patch --cover-letter with the same committer.
    let gdir = env.dir.path().join("git-cover");
    let mut c = Command::new("git");
    hermetic(&mut c, env.dir.path());
    let st = c
        .current_dir(env.tree())
        .env("GIT_COMMITTER_NAME", "Andrew Morton")
        .env("GIT_COMMITTER_EMAIL", "akpm@linux-foundation.org")
        .args([
            "format-patch",
            "-q",
            "--cover-letter",
            "-o",
            gdir.to_str().unwrap(),
            "v4.11-rc2..HEAD",
        ])
        .status()
        .unwrap();
    assert!(st.success());
    let git_cover = fs::read_to_string(gdir.join("0000-cover-letter.patch")).unwrap();
    assert_eq!(header(&cover, "From"), header(&git_cover, "From"));
    assert_eq!(
        header(&cover, "From"),
        Some("Andrew Morton <akpm@linux-foundation.org>")
    );
    // The patches keep their author.
    let p1 = names.iter().find(|n| n.contains("0001-")).unwrap();
    let p1 = fs::read_to_string(dir.join(p1)).unwrap();
    assert_eq!(header(&p1, "From"), Some("Aaron Lu <aaron.lu@intel.com>"));
}

#[test]
fn auto_cc_works_with_a_get_maintainer_that_knows_no_no_tree() {
    // As Linux 4.11's script: no `tree` option, so `--no-tree` would be
    // refused. (The 6.12 script with the option taken out, in a tree laid
    // out as a kernel tree.)
    let text = fs::read_to_string(linux_scripts().join("scripts/get_maintainer.pl")).unwrap();
    let old: String = text
        .lines()
        .filter(|l| !l.contains("'tree!'"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(old.len(), text.len());
    auto_cc_on(&old, true);
}

#[test]
fn a_get_maintainer_that_hangs_is_stopped() {
    let env = Env::new();
    env.base("v4.11-rc2");
    env.write("scripts/get_maintainer.pl", "sleep 600;\n");
    env.commit("a slow script");
    env.git(&["tag", "-f", "v4.11-rc2"]);
    env.write("mm/memory.c", "changed\n");
    env.commit("mm: change\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>");
    env.init(&["--base", "v4.11-rc2", "--subject", "mm: x"]);
    let smtp = Smtp::start(env.dir.path(), None);
    let cfg = point_at(&env, smtp.port);
    let out = send(
        &env,
        &cfg,
        &[
            "--to",
            "linux-mm",
            "--auto-cc",
            "--maintainers-timeout",
            "1",
            "--dry-run",
        ],
    );
    assert_fails(&out, 4, &["get_maintainer.pl", "did not finish within 1s"]);
}

#[test]
fn a_send_loads_once_renders_once_and_sends_what_it_checked() {
    let (env, smtp, cfg) = sending(3);
    let tree = env.tree().to_string_lossy().into_owned();
    let out = env.series_env(
        &["--tree", &tree, "send", "--to", "linux-mm", "--yes"],
        &[("GIT_CONFIG_GLOBAL", cfg.as_str()), ("SERIES_TRACE", "1")],
    );
    assert_ok(&out);
    assert!(
        stderr(&out).contains("trace: 1 loads of series/, 1 renders"),
        "{}",
        stderr(&out)
    );
    // What went out is byte for byte what was written (and checked).
    let dir = env.work().join("outgoing/v1");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    files.sort();
    let got = smtp.received();
    assert_eq!(got.len(), files.len());
    for ((mail, _), file) in got.iter().zip(&files) {
        let sent = fs::read_to_string(file).unwrap();
        assert_eq!(body(mail), body(&sent), "{}", file.display());
    }
}

/// `send --preview-to`: the version goes to the chosen reviewers only, with
/// PREVIEW in its subject prefix and no Cc; nothing is recorded, and the
/// real send afterwards goes out as if the preview had not happened, with
/// Message-Ids of its own.
#[test]
fn a_preview_goes_to_the_chosen_only_and_counts_as_nothing() {
    let (env, smtp, cfg) = sending(2);
    let before = fs::read_to_string(env.series_dir().join("series.toml")).unwrap();
    let out = send(
        &env,
        &cfg,
        &["--preview-to", "Rita Reviewer <rita@example.org>"],
    );
    assert_ok(&out);
    assert!(
        stdout(&out)
            .contains("v1 previewed to Rita Reviewer <rita@example.org>: 3 messages (not recorded"),
        "{}",
        stdout(&out)
    );
    let got = smtp.received();
    assert_eq!(got.len(), 3);
    for (m, rcpt) in &got {
        assert!(
            header(m, "Subject").unwrap().starts_with("[PREVIEW PATCH "),
            "{m}"
        );
        assert_eq!(
            header(m, "To"),
            Some("Rita Reviewer <rita@example.org>"),
            "{m}"
        );
        assert_eq!(header(m, "Cc"), None, "{m}");
        let to: Vec<&str> = rcpt.lines().filter(|l| l.starts_with("to ")).collect();
        assert_eq!(to, ["to rita@example.org"], "{rcpt}");
    }
    assert_eq!(
        fs::read_to_string(env.series_dir().join("series.toml")).unwrap(),
        before,
        "the preview changed series.toml"
    );
    assert!(!env.series_dir().join("journal-v1.toml").exists());
    assert!(
        !env.work().join("outgoing").exists(),
        "the preview wrote outgoing/"
    );

    assert_ok(&send(&env, &cfg, &["--to", "linux-mm", "--yes"]));
    let all = smtp.received();
    assert_eq!(all.len(), 6);
    let real = &all[3..];
    assert!(header(&real[0].0, "Subject")
        .unwrap()
        .starts_with("[PATCH 0/2]"));
    for ((p, _), (r, _)) in got.iter().zip(real) {
        assert_ne!(header(p, "Message-ID"), header(r, "Message-ID"));
    }
}

/// `send --reflect`: the mails the real send will make, To and Cc headers
/// and all, reach the sender alone (the SMTP envelope names only them);
/// nothing is recorded, and the real send afterwards makes the same mails
/// but for their Message-Ids and dates.
#[test]
fn a_reflect_has_the_real_headers_and_reaches_the_sender_only() {
    let (env, smtp, cfg) = sending(2);
    let before = fs::read_to_string(env.series_dir().join("series.toml")).unwrap();
    let flags = ["--to", "linux-mm", "--cc", "Arnd Bergmann <arnd@arndb.de>"];
    let out = send(&env, &cfg, &[&flags[..], &["--reflect"]].concat());
    assert_ok(&out);
    assert!(
        stdout(&out).contains("v1 reflected, with the real send's headers, to "),
        "{}",
        stdout(&out)
    );
    let got = smtp.received();
    assert_eq!(got.len(), 3);
    // The sender: the committer series runs as.
    let me = "aaron.lu@intel.com";
    for (m, envelope) in &got {
        assert_eq!(header(m, "To"), Some("linux-mm@kvack.org"), "{m}");
        assert!(header(m, "Cc").unwrap().contains("arnd@arndb.de"), "{m}");
        let to: Vec<&str> = envelope.lines().filter(|l| l.starts_with("to ")).collect();
        assert_eq!(to, [format!("to {me}")], "{envelope}");
    }
    assert!(header(&got[0].0, "Subject")
        .unwrap()
        .starts_with("[PATCH 0/2]"));
    assert_eq!(
        fs::read_to_string(env.series_dir().join("series.toml")).unwrap(),
        before,
        "the reflect changed series.toml"
    );
    assert!(!env.series_dir().join("journal-v1.toml").exists());
    assert!(!env.work().join("outgoing").exists());

    assert_ok(&send(&env, &cfg, &[&flags[..], &["--yes"]].concat()));
    let all = smtp.received();
    assert_eq!(all.len(), 6);
    let ids = |m: &str| {
        // git send-email dates each message as it hands it over.
        ["Message-ID", "In-Reply-To", "References", "Date"]
            .iter()
            .filter_map(|h| header(m, h))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    for ((r, _), (s, _)) in got.iter().zip(&all[3..]) {
        assert_ne!(header(r, "Message-ID"), header(s, "Message-ID"));
        let mut same = r.clone();
        for (a, b) in ids(r).iter().zip(ids(s)) {
            same = same.replace(a.as_str(), &b);
        }
        assert_eq!(same, *s, "the reflect differs from the real send");
    }
}

/// A reflect goes the way git send-email would: here through
/// `sendemail.sendmailCmd` (msmtp, itself talking to the SMTP server),
/// given the sender alone as its recipient.
#[test]
fn a_reflect_goes_through_the_configured_sendmail_command() {
    let (env, smtp, cfg) = sending(1);
    let msmtp = format!(
        "msmtp --host=127.0.0.1 --port={} --auth=off --tls=off",
        smtp.port
    );
    env.git(&["config", "sendemail.sendmailCmd", &msmtp]);
    let out = send(&env, &cfg, &["--to", "linux-mm", "--reflect"]);
    assert_ok(&out);
    let got = smtp.received();
    assert_eq!(got.len(), 2);
    for (m, envelope) in &got {
        assert_eq!(header(m, "To"), Some("linux-mm@kvack.org"), "{m}");
        assert_eq!(
            envelope.lines().collect::<Vec<_>>(),
            ["from aaron.lu@intel.com", "to aaron.lu@intel.com"],
            "{envelope}"
        );
    }
}

/// A reflect whose transport fails says so (exit 4) and records nothing.
#[test]
fn a_reflect_that_cannot_be_delivered_fails_and_records_nothing() {
    let (env, _smtp, cfg) = sending(1);
    let before = fs::read_to_string(env.series_dir().join("series.toml")).unwrap();
    env.git(&["config", "sendemail.sendmailCmd", "false"]);
    let out = send(&env, &cfg, &["--to", "linux-mm", "--reflect"]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("false did not take the message"), "{err}");
    assert_eq!(
        fs::read_to_string(env.series_dir().join("series.toml")).unwrap(),
        before
    );
    assert!(!env.work().join("outgoing").exists());
}

/// A list's way of threading new versions, as data (`new_version` in a
/// `checks/*.toml` naming the list): without --in-reply-to, v2 goes under
/// v1's cover for a list that asks for it, and in a thread of its own
/// otherwise (netdev's built-in file asks for that).
#[test]
fn a_lists_threading_default_places_the_next_version() {
    let (env, smtp, cfg) = sending(1);
    assert_ok(&send(&env, &cfg, &["--to", "linux-mm", "--yes"]));
    let v1_cover = header(&smtp.received()[0].0, "Message-ID")
        .unwrap()
        .to_string();
    assert_ok(&env.series(&["reroll"]));
    // No file says anything for linux-mm: a thread of its own.
    let out = send(&env, &cfg, &["--dry-run", "--force"]);
    assert_ok(&out);
    let cover =
        fs::read_to_string(env.work().join("outgoing/v2/v2-0000-cover-letter.patch")).unwrap();
    assert_eq!(header(&cover, "In-Reply-To"), None, "{cover}");

    fs::create_dir_all(env.work().join("checks")).unwrap();
    fs::write(
        env.work().join("checks/mm-threads.toml"),
        "format = 1\nlists = [\"linux-mm@kvack.org\"]\nnew_version = \"in-reply-to-previous\"\n",
    )
    .unwrap();
    assert_ok(&send(&env, &cfg, &["--yes", "--force"]));
    let got = smtp.received();
    assert_eq!(got.len(), 4);
    assert_eq!(
        header(&got[2].0, "In-Reply-To"),
        Some(v1_cover.as_str()),
        "{}",
        got[2].0
    );
}

/// Warnings do not stop a send, but those of the rules of the lists it
/// goes to are said before it goes (mm's: the base is no mm tree).
#[test]
fn a_send_says_the_warnings_of_its_lists_rules() {
    let (env, _smtp, cfg) = sending(1);
    let out = send(&env, &cfg, &["--to", "linux-mm", "--dry-run"]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("cover letter: warning native/mm-base: an mm series is applied to Andrew Morton's mm tree"),
        "{}",
        stdout(&out)
    );
    // Not for a series that does not go to linux-mm.
    let out = send(
        &env,
        &cfg,
        &["--to", "Rita Reviewer <rita@example.org>", "--dry-run"],
    );
    assert_ok(&out);
    assert!(!stdout(&out).contains("mm-base"), "{}", stdout(&out));
}
