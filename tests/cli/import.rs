//! Importing a posted series: from git format-patch's mbox, a maildir, a
//! folder of .eml files, and by Message-Id from a real public-inbox server
//! (Debian's public-inbox) on 127.0.0.1. The patch files must be
//! byte-identical to git format-patch's.

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::common::*;

/// Three patches on v4.11-rc2, one with a line git's mbox would misread.
fn three(env: &Env) {
    env.base("v4.11-rc2");
    for i in 1..=3 {
        env.write(&format!("mm/f{i}.c"), format!("int f{i} = {i};\n"));
        let extra = if i == 2 {
            "\nFrom the start this line begins with From.\n"
        } else {
            ""
        };
        env.commit(&format!(
            "mm: add f{i}\n\nAdd f{i}.\n{extra}\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>"
        ));
    }
}

/// `git format-patch` of the fixture with series' signature: the files.
fn reference(env: &Env) -> Vec<(String, Vec<u8>)> {
    let out = env.dir.path().join("reference");
    env.git(&[
        "format-patch",
        "-q",
        "--signature",
        SIGNATURE,
        "-o",
        out.to_str().unwrap(),
        "v4.11-rc2..main",
    ]);
    files(&out)
}

/// A posted v2 as git format-patch --stdout writes it: cover and patches.
fn posted_mbox(env: &Env, path: &Path) {
    let mbox = env.git(&[
        "format-patch",
        "--stdout",
        "--cover-letter",
        "-v2",
        "--base=v4.11-rc2",
        "--signature",
        SIGNATURE,
        "--thread=shallow",
        "--to=linux-mm@kvack.org",
        "v4.11-rc2..main",
    ]);
    let mbox = mbox
        .replace(
            "*** SUBJECT HERE ***",
            "mm: support parallel free of memory",
        )
        .replace(
            "*** BLURB HERE ***",
            "Free pages in parallel.\n\nChanges in v2:\n- rebased on v4.11-rc2",
        );
    fs::write(path, mbox).unwrap();
}

/// The messages of an mbox file as separate texts (separator lines kept).
fn split(path: &Path) -> Vec<String> {
    let text = fs::read_to_string(path).unwrap();
    let mut out: Vec<String> = Vec::new();
    for line in text.split_inclusive('\n') {
        if line.starts_with("From ") && line.ends_with("2001\n") {
            out.push(String::new());
        }
        out.last_mut().unwrap().push_str(line);
    }
    out
}

fn import(env: &Env, args: &[&str]) -> std::process::Output {
    let tree = env.tree().to_string_lossy().into_owned();
    let mut full = vec!["--tree", tree.as_str(), "init"];
    full.extend_from_slice(args);
    env.series(&full)
}

fn patch_files(env: &Env) -> Vec<(String, Vec<u8>)> {
    files(&env.series_dir().join("patches"))
}

#[test]
fn an_mbox_from_git_format_patch_imports_byte_identical() {
    let env = Env::new();
    three(&env);
    let mbox = env.dir.path().join("v2.mbox");
    posted_mbox(&env, &mbox);
    let out = import(&env, &["--mbox", mbox.to_str().unwrap()]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("Imported v2 \"mm: support parallel free of memory\" (3 patches)"),
        "{}",
        stdout(&out)
    );
    assert_eq!(patch_files(&env), reference(&env));
    let manifest = fs::read_to_string(env.series_dir().join("series.toml")).unwrap();
    assert!(manifest.contains("version = 2\n"), "{manifest}");
    assert!(
        manifest.contains("to = [\"linux-mm@kvack.org\"]"),
        "{manifest}"
    );
    assert!(manifest.contains("rebased on v4.11-rc2"), "{manifest}");
    assert!(
        manifest.contains("name = \"v4.11-rc2\"") || manifest.contains("commit = "),
        "{manifest}"
    );
    assert_eq!(
        fs::read_to_string(env.series_dir().join("cover.md")).unwrap(),
        "Free pages in parallel.\n"
    );
    // Received, so final and kept: reroll starts v3.
    assert!(env.series_dir().join("versions/v2/series.toml").is_file());
    let out = env.series(&["reroll"]);
    assert_ok(&out);
    assert!(stdout(&out).contains("Now preparing v3"));
    // git am of the files rebuilds main's tree.
    let tree_of = |rev: &str| env.git(&["rev-parse", &format!("{rev}^{{tree}}")]);
    env.git(&["checkout", "-q", "-b", "check", "v4.11-rc2"]);
    let mut am = vec!["am", "-q"];
    let names: Vec<String> = patch_files(&env)
        .iter()
        .map(|(n, _)| {
            env.series_dir()
                .join("patches")
                .join(n)
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    am.extend(names.iter().map(String::as_str));
    env.git(&am);
    assert_eq!(tree_of("HEAD"), tree_of("main"));
}

/// Encode a body as base64, lines of 76.
fn base64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b)) << (8 * (3 - chunk.len()));
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(A[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out.as_bytes()
        .chunks(76)
        .map(|l| format!("{}\r\n", String::from_utf8_lossy(l)))
        .collect()
}

/// One message with its body re-encoded: base64 or quoted-printable.
fn reencode(mail: &str, how: &str) -> String {
    let (head, body) = mail.split_once("\n\n").unwrap();
    let head = head.replace("Content-Transfer-Encoding: 8bit\n", "");
    let mut head = head.trim_end().to_string();
    if !head.contains("Content-Type:") {
        head.push_str("\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8");
    }
    match how {
        "base64" => format!(
            "{head}\nContent-Transfer-Encoding: base64\n\n{}",
            base64(body.as_bytes())
        ),
        _ => {
            let qp = body.replace('=', "=3D").replace("\n", "\r\n");
            format!("{head}\nContent-Transfer-Encoding: quoted-printable\n\n{qp}")
        }
    }
    .replace('\n', "\r\n")
    .replace("\r\r\n", "\r\n")
}

#[test]
fn a_maildir_and_a_folder_of_eml_files_with_crlf_base64_and_qp_import_the_same() {
    let env = Env::new();
    three(&env);
    let mbox = env.dir.path().join("v2.mbox");
    posted_mbox(&env, &mbox);
    let mails = split(&mbox);
    // A maildir, plain; messages without the mbox separator.
    let maildir = env.dir.path().join("Maildir");
    fs::create_dir_all(maildir.join("cur")).unwrap();
    fs::create_dir_all(maildir.join("new")).unwrap();
    fs::create_dir_all(maildir.join("tmp")).unwrap();
    for (i, m) in mails.iter().enumerate() {
        let body = m.split_once('\n').unwrap().1;
        fs::write(maildir.join("cur").join(format!("{i}.host:2,S")), body).unwrap();
    }
    let out = import(&env, &["--mbox", maildir.to_str().unwrap()]);
    assert_ok(&out);
    let want = reference(&env);
    // From a maildir the commit ids are those series made: the trees are
    // the same, so compare all but the From line.
    let strip = |f: &[(String, Vec<u8>)]| -> Vec<(String, String)> {
        f.iter()
            .map(|(n, b)| {
                (
                    n.clone(),
                    String::from_utf8_lossy(b)
                        .split_once('\n')
                        .unwrap()
                        .1
                        .to_string(),
                )
            })
            .collect()
    };
    assert_eq!(strip(&patch_files(&env)), strip(&want));
    fs::remove_dir_all(env.series_dir()).unwrap();

    // A folder of .eml files: CRLF, patch 1 base64, patch 2 quoted-printable.
    let folder = env.dir.path().join("eml");
    fs::create_dir_all(&folder).unwrap();
    for (i, m) in mails.iter().enumerate() {
        let text = match i {
            1 => reencode(m, "base64"),
            2 => reencode(m, "qp"),
            _ => m.replace('\n', "\r\n"),
        };
        fs::write(folder.join(format!("{i:02}.eml")), text).unwrap();
    }
    let out = import(&env, &["--mbox", folder.to_str().unwrap()]);
    assert_ok(&out);
    assert_eq!(patch_files(&env), want);
}

#[test]
fn broken_threads_are_refused_with_the_mail_named_and_nothing_written() {
    let env = Env::new();
    three(&env);
    let mbox = env.dir.path().join("v2.mbox");
    posted_mbox(&env, &mbox);
    let mails = split(&mbox);
    let write = |name: &str, parts: &[String]| -> PathBuf {
        let p = env.dir.path().join(name);
        fs::write(&p, parts.concat()).unwrap();
        p
    };
    let try_import = |p: &Path, needles: &[&str]| {
        let out = import(&env, &["--mbox", p.to_str().unwrap()]);
        assert_fails(&out, 1, needles);
        assert!(!env.series_dir().exists(), "nothing is written");
    };
    // A missing patch.
    let p = write(
        "missing.mbox",
        &[mails[0].clone(), mails[1].clone(), mails[3].clone()],
    );
    try_import(&p, &["v2 lacks patch 2/3"]);
    // Two postings mixed under one version.
    let other = mails[2].replace("[PATCH v2 2/3]", "[PATCH v2 2/4]");
    let p = write(
        "mixed.mbox",
        &[mails[0].clone(), mails[1].clone(), other, mails[3].clone()],
    );
    try_import(&p, &["v2 mixes two postings"]);
    // The same patch twice with different contents.
    let changed = mails[2]
        .replace("Message-ID: <", "Message-ID: <x")
        .replace("Add f2.", "Add f2, differently.");
    let p = write(
        "twice.mbox",
        &[
            mails[0].clone(),
            mails[1].clone(),
            mails[2].clone(),
            changed,
            mails[3].clone(),
        ],
    );
    try_import(
        &p,
        &["v2 patch 2/3 was posted twice with different contents"],
    );
    // An HTML-only patch.
    let html = mails[1].replace(
        "Content-Type: text/plain; charset=UTF-8",
        "Content-Type: text/html; charset=UTF-8",
    );
    let html = if html.contains("text/html") {
        html
    } else {
        let (h, b) = html.split_once("\n\n").unwrap();
        format!("{h}\nMIME-Version: 1.0\nContent-Type: text/html; charset=UTF-8\n\n{b}")
    };
    let p = write(
        "html.mbox",
        &[mails[0].clone(), html, mails[2].clone(), mails[3].clone()],
    );
    try_import(&p, &["has only an HTML part"]);
    // Not a mailbox at all.
    let p = write("empty.mbox", &[String::new()]);
    try_import(&p, &["no mail in it"]);

    // A resent duplicate and a reply carrying a diff are left out, said.
    let resent = mails[2].replace("Message-ID: <", "Message-ID: <again-");
    let reply = mails[2]
        .replace("Message-ID: <", "Message-ID: <reply-")
        .replace("Subject: [PATCH v2 2/3]", "Subject: Re: [PATCH v2 2/3]");
    let p = write(
        "noisy.mbox",
        &[
            mails[0].clone(),
            mails[1].clone(),
            mails[2].clone(),
            resent,
            reply,
            mails[3].clone(),
        ],
    );
    let out = import(&env, &["--mbox", p.to_str().unwrap()]);
    assert_ok(&out);
    assert!(
        stderr(&out).contains("left out 1 reply that carries a diff"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("the same v2 2/3"), "{}", stderr(&out));
    assert_eq!(patch_files(&env), reference(&env));
}

#[test]
fn the_newest_complete_version_is_imported_and_earlier_ones_recorded() {
    let env = Env::new();
    three(&env);
    let mbox = env.dir.path().join("v2.mbox");
    posted_mbox(&env, &mbox);
    let v2 = split(&mbox);
    // v1: the same mails, tagged v1; v3: incomplete.
    let v1: Vec<String> = v2
        .iter()
        .map(|m| {
            m.replace("[PATCH v2 ", "[PATCH ")
                .replace("Message-ID: <", "Message-ID: <v1-")
        })
        .collect();
    let v3: Vec<String> = v2[..2]
        .iter()
        .map(|m| {
            m.replace("[PATCH v2 ", "[PATCH v3 ")
                .replace("Message-ID: <", "Message-ID: <v3-")
        })
        .collect();
    let all: Vec<String> = v1.into_iter().chain(v2).chain(v3).collect();
    let p = env.dir.path().join("thread.mbox");
    fs::write(&p, all.concat()).unwrap();
    let out = import(&env, &["--mbox", p.to_str().unwrap()]);
    assert_ok(&out);
    assert!(
        stderr(&out).contains("v3 lacks patch 2/3, 3/3; importing an earlier version"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("Imported v2"));
    assert!(stdout(&out).contains("Earlier versions kept: v1."));
    let manifest = fs::read_to_string(env.series_dir().join("series.toml")).unwrap();
    assert!(manifest.contains("\"<v1-"), "{manifest}");
    fs::remove_dir_all(env.series_dir()).unwrap();
    // --version picks another; a version not there is named.
    let out = import(&env, &["--mbox", p.to_str().unwrap(), "--version", "1"]);
    assert_ok(&out);
    assert!(stdout(&out).contains("Imported v1"));
    fs::remove_dir_all(env.series_dir()).unwrap();
    let out = import(&env, &["--mbox", p.to_str().unwrap(), "--version", "4"]);
    assert_fails(&out, 1, &["the mails hold no v4 (they hold v1, v2, v3)"]);
}

/// A public-inbox server on 127.0.0.1: one v2 inbox, served by
/// public-inbox-httpd, stopped by its pid.
pub(crate) struct PublicInbox {
    child: Child,
    pub(crate) url: String,
    home: PathBuf,
}

impl PublicInbox {
    pub(crate) fn start(dir: &Path) -> PublicInbox {
        let home = dir.join("pi");
        fs::create_dir_all(&home).unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/test");
        let pi = |cmd: &mut Command| {
            cmd.env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("HOME", &home)
                .env("PI_CONFIG", home.join("config"))
                .env("LC_ALL", "C");
        };
        let mut init = Command::new("public-inbox-init");
        pi(&mut init);
        let st = init
            .args(["-V2", "test"])
            .arg(home.join("inbox"))
            .args([&url, "test@example.org"])
            .status()
            .expect("public-inbox-init (Debian's public-inbox)");
        assert!(st.success());
        let mut cfg = Command::new("git");
        pi(&mut cfg);
        let st = cfg
            .args(["config", "-f"])
            .arg(home.join("config"))
            .args(["publicinboxmda.spamcheck", "none"])
            .status()
            .unwrap();
        assert!(st.success());
        let mut httpd = Command::new("public-inbox-httpd");
        pi(&mut httpd);
        let child = httpd
            .args(["-W0", "-l", &format!("http://127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("public-inbox-httpd");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "public-inbox-httpd did not listen"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        PublicInbox { child, url, home }
    }

    /// Deliver one message as the list would.
    pub(crate) fn deliver(&self, mail: &str) {
        let mut mda = Command::new("public-inbox-mda");
        mda.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("PI_CONFIG", self.home.join("config"))
            .env("ORIGINAL_RECIPIENT", "test@example.org")
            .env("LC_ALL", "C");
        let mut child = mda
            .arg("--no-precheck")
            .stdin(Stdio::piped())
            .spawn()
            .expect("public-inbox-mda");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(mail.as_bytes())
            .unwrap();
        assert!(
            child.wait().unwrap().success(),
            "public-inbox-mda refused a mail"
        );
    }
}

impl Drop for PublicInbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_thread_from_a_public_inbox_server_imports_the_same_files() {
    let env = Env::new();
    three(&env);
    let mbox = env.dir.path().join("v2.mbox");
    posted_mbox(&env, &mbox);
    let pi = PublicInbox::start(env.dir.path());
    let mails = split(&mbox);
    // As a list delivers them: no mbox separator.
    for m in &mails {
        pi.deliver(m.split_once('\n').unwrap().1);
    }
    let cover_id = mails[0]
        .lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .unwrap()
        .to_string();
    // The archive's raw message is what was delivered; the thread and a
    // search come back through `series lore`.
    let out = env.series(&["lore", "--lore", &pi.url, "raw", &cover_id]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("Free pages in parallel."),
        "{}",
        stdout(&out)
    );
    let saved = env.dir.path().join("thread.mbox");
    let out = env.series(&[
        "lore",
        "--lore",
        &pi.url,
        "thread",
        &cover_id,
        "-o",
        saved.to_str().unwrap(),
    ]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("4 messages written"),
        "{}",
        stdout(&out)
    );
    let thread = fs::read_to_string(&saved).unwrap();
    assert!(
        thread.contains("\n>From the start this line begins with From."),
        "{thread}"
    );
    let out = env.series(&["lore", "--lore", &pi.url, "search", "s:\"add f2\""]);
    assert_ok(&out);
    let lines: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].ends_with("[PATCH v2 2/3] mm: add f2"), "{lines:?}");
    let out = env.series(&[
        "lore",
        "--lore",
        &pi.url,
        "search",
        "--threads",
        "s:\"add f2\"",
    ]);
    assert_eq!(stdout(&out).lines().count(), 4, "{}", stdout(&out));
    let out = env.series(&["lore", "--lore", &pi.url, "search", "s:nothing-like-this"]);
    assert_ok(&out);
    assert_eq!(stdout(&out), "");
    // --json: the same, as data (docs/JSON.md).
    let json = |args: &[&str]| -> serde_json::Value {
        let out = env.series(args);
        assert_ok(&out);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let v = json(&[
        "lore",
        "--lore",
        &pi.url,
        "search",
        "s:\"add f2\"",
        "--json",
    ]);
    assert_eq!(v["what"], "search");
    assert!(v["found"][0]["subject"]
        .as_str()
        .unwrap()
        .ends_with("mm: add f2"));
    let v = json(&[
        "lore",
        "--lore",
        &pi.url,
        "thread",
        &cover_id,
        "-o",
        saved.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(
        (v["what"].as_str(), v["messages"].as_u64()),
        (Some("thread"), Some(4))
    );
    // The saved thread imports as the archive does.
    let out = import(&env, &["--mbox", saved.to_str().unwrap()]);
    assert_ok(&out);
    assert_eq!(patch_files(&env), reference(&env));
    fs::remove_dir_all(env.series_dir()).unwrap();

    let out = import(&env, &["--from", &cover_id, "--lore", &pi.url, "--json"]);
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["version"].as_u64(), v["patches"].as_u64()),
        (Some(2), Some(3))
    );
    assert_eq!(
        v["source"],
        format!("{} (thread of {cover_id})", pi.url).as_str()
    );
    assert_eq!(v["posted"], true);
    // The mboxrd quoting of "From the start" is undone; the commits series
    // makes (author as committer, at the author date) are the originals.
    assert_eq!(patch_files(&env), reference(&env));
    let manifest = fs::read_to_string(env.series_dir().join("series.toml")).unwrap();
    let link = format!(
        "link = \"{}/{}/\"",
        pi.url,
        cover_id.trim_matches(['<', '>'])
    );
    assert!(manifest.contains(&link), "{manifest}");
    fs::remove_dir_all(env.series_dir()).unwrap();

    // A Message-Id the archive lacks, and an archive that is not there.
    let out = import(&env, &["--from", "<nobody@example.org>", "--lore", &pi.url]);
    assert_fails(&out, 4, &["<nobody@example.org> is not in the archive"]);
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("http://127.0.0.1:{port}/test");
    let out = import(&env, &["--from", &cover_id, "--lore", &dead]);
    assert_fails(&out, 4, &["cannot reach", "--mbox FILE"]);
    assert!(!env.series_dir().exists());
}
