//! Attestation against the real patatt (PyPI): what series signs, patatt
//! validates, after git send-email delivered it to a real SMTP server;
//! what patatt signs, series accepts; a tampered mail fails both.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::common::*;
use super::send::{send, sending};

/// patatt from PyPI: `SERIES_PATATT`, else `patatt` on the PATH.
fn patatt_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("SERIES_PATATT") {
        return PathBuf::from(p);
    }
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("patatt"))
                .find(|c| c.is_file())
        })
        .expect(
            "patatt is needed: .ci/run installs it (pip, in a virtualenv) and sets SERIES_PATATT",
        )
}

fn patatt(env: &Env, cfg: &str, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut c = Command::new(patatt_bin());
    hermetic(&mut c, env.dir.path());
    c.current_dir(env.tree())
        .env("GIT_CONFIG_GLOBAL", cfg)
        .args(args);
    match stdin {
        None => c.output().expect("run patatt"),
        Some(bytes) => {
            use std::io::Write;
            let mut child = c
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("run patatt");
            child.stdin.take().unwrap().write_all(bytes).unwrap();
            child.wait_with_output().unwrap()
        }
    }
}

/// Point git config at a patatt key made by `series attest --gen-key`.
pub(crate) fn with_key(env: &Env, cfg: &str, name: &str) {
    let mut text = fs::read_to_string(cfg).unwrap();
    text.push_str(&format!(
        "[user]\n\tname = Aaron Lu\n\temail = aaron.lu@intel.com\n[patatt]\n\tsigningkey = ed25519:{name}\n\tselector = {name}\n"
    ));
    fs::write(cfg, text).unwrap();
    let out = env.series_env(
        &["attest", "--gen-key", "--key-name", name],
        &[("GIT_CONFIG_GLOBAL", cfg)],
    );
    assert_ok(&out);
}

fn attest(env: &Env, cfg: &str, files: &[&Path]) -> Output {
    let mut args = vec!["attest".to_string()];
    args.extend(files.iter().map(|f| f.to_string_lossy().into_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.series_env(&args, &[("GIT_CONFIG_GLOBAL", cfg)])
}

#[test]
fn what_series_signs_patatt_validates_and_the_other_way_round() {
    let (env, smtp, cfg) = sending(2);
    with_key(&env, &cfg, "k1");
    // --dry-run writes the signed files: what would go out.
    let out = send(&env, &cfg, &["--to", "linux-mm", "--dry-run"]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("Signed as patatt signs: ed25519 key"),
        "{}",
        stdout(&out)
    );
    let dir = env.work().join("outgoing/v1");
    let names: Vec<PathBuf> = files(&dir).iter().map(|(n, _)| dir.join(n)).collect();
    for f in &names {
        let text = fs::read_to_string(f).unwrap();
        assert!(
            text.contains("\nX-Developer-Signature: v=1; a=ed25519-sha256; t=1489568531;"),
            "{text}"
        );
        let got = patatt(&env, &cfg, &["validate", f.to_str().unwrap()], None);
        assert!(
            got.status.success(),
            "patatt validate {}: {}{}",
            f.display(),
            stdout(&got),
            stderr(&got)
        );
    }
    let refs: Vec<&Path> = names.iter().map(PathBuf::as_path).collect();
    let out = attest(&env, &cfg, &refs);
    assert_ok(&out);
    assert_eq!(
        stdout(&out).matches(": valid, key ").count(),
        3,
        "{}",
        stdout(&out)
    );

    // Through git send-email and SMTP, the signatures still hold.
    assert_ok(&send(&env, &cfg, &["--to", "linux-mm", "--yes"]));
    for (i, (mail, _)) in smtp.received().iter().enumerate() {
        let f = env.dir.path().join(format!("received-{i}.eml"));
        fs::write(&f, mail).unwrap();
        let got = patatt(&env, &cfg, &["validate", f.to_str().unwrap()], None);
        assert!(
            got.status.success(),
            "patatt validate of the delivered mail {i}: {}{}\n{mail}",
            stdout(&got),
            stderr(&got)
        );
    }

    // A tampered body fails both.
    let bad = env.dir.path().join("tampered.eml");
    let text = fs::read_to_string(&names[1]).unwrap();
    fs::write(&bad, text.replace("Add f1.", "Add f1, quietly.")).unwrap();
    let out = attest(&env, &cfg, &[&bad]);
    assert_fails(&out, 1, &["1 signature did not check"]);
    assert!(
        stdout(&out).contains("BAD signature: the body differs from what was signed"),
        "{}",
        stdout(&out)
    );
    assert!(
        !patatt(&env, &cfg, &["validate", bad.to_str().unwrap()], None)
            .status
            .success()
    );
    // A tampered subject too.
    fs::write(&bad, text.replace("mm: add f1", "mm: add f9")).unwrap();
    let out = attest(&env, &cfg, &[&bad]);
    assert_fails(&out, 1, &["did not check"]);
    assert!(
        !patatt(&env, &cfg, &["validate", bad.to_str().unwrap()], None)
            .status
            .success()
    );

    // patatt's own key and signature: series accepts it.
    let out = patatt(&env, &cfg, &["genkey", "-n", "p2"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let cfg2 = env.dir.path().join("gitconfig2");
    fs::write(
        &cfg2,
        fs::read_to_string(&cfg)
            .unwrap()
            .replace("ed25519:k1", "ed25519:p2")
            .replace("selector = k1", "selector = p2"),
    )
    .unwrap();
    let cfg2 = cfg2.to_string_lossy().into_owned();
    let stored = env.series_dir().join("patches/0001-mm-add-f1.patch");
    let signed = patatt(&env, &cfg2, &["sign"], Some(&fs::read(&stored).unwrap()));
    assert!(signed.status.success(), "{}", stderr(&signed));
    let theirs = env.dir.path().join("patatt-signed.patch");
    fs::write(&theirs, &signed.stdout).unwrap();
    let out = attest(&env, &cfg2, &[&theirs]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("signed by aaron.lu@intel.com (selector p2): valid"),
        "{}",
        stdout(&out)
    );
    fs::write(
        &theirs,
        String::from_utf8_lossy(&signed.stdout).replace("+int f1;", "+int f1 = 1;"),
    )
    .unwrap();
    assert_fails(&attest(&env, &cfg2, &[&theirs]), 1, &["did not check"]);
    assert!(
        !patatt(&env, &cfg2, &["validate", theirs.to_str().unwrap()], None)
            .status
            .success()
    );

    // --no-sign leaves them unsigned; check tells who signed.
    let out = send(&env, &cfg, &["--dry-run", "--no-sign"]);
    assert_ok(&out);
    let tree = env.tree().to_string_lossy().into_owned();
    let out = env.series_env(
        &["--tree", &tree, "check"],
        &[("GIT_CONFIG_GLOBAL", cfg.as_str())],
    );
    assert!(
        stdout(&out).contains("signatures: 3 of 3 valid"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_broken_key_setting_is_one_clear_error() {
    let (env, _smtp, cfg) = sending(1);
    let mut text = fs::read_to_string(&cfg).unwrap();
    text.push_str(
        "[user]\n\temail = aaron.lu@intel.com\n[patatt]\n\tsigningkey = ed25519:missing\n",
    );
    fs::write(&cfg, &text).unwrap();
    let before = Env::snapshot(&env.series_dir());
    let out = send(&env, &cfg, &["--to", "linux-mm", "--dry-run"]);
    assert_fails(&out, 1, &["no key file missing.key", "--no-sign"]);
    assert_unchanged(&before, &Env::snapshot(&env.series_dir()), "a refused send");
    fs::write(&cfg, text.replace("ed25519:missing", "openpgp:ABCD")).unwrap();
    let out = send(&env, &cfg, &["--to", "linux-mm", "--dry-run"]);
    assert_fails(&out, 1, &["ed25519 keys only"]);
    assert_ok(&send(
        &env,
        &cfg,
        &["--to", "linux-mm", "--dry-run", "--no-sign"],
    ));
}
