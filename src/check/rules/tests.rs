//! The rule engine on the built-in rules and on rule files.
use super::*;

#[test]
fn defaults_load_and_overrides_apply() {
    let rules = load(None).unwrap();
    assert!(rules.iter().any(|r| r.id == "missing-signoff"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("local.toml"),
        "format = 1\n[[rule]]\nid = \"line-length\"\ncolumns = 80\n[[rule]]\nid = \"change-id\"\nenabled = false\n[[rule]]\nid = \"no-todo\"\nseverity = \"warning\"\nscope = \"added-lines\"\npattern = 'TODO'\nmessage = \"TODO left in\"\n",
    )
    .unwrap();
    let rules = load(Some(dir.path())).unwrap();
    assert!(!rules.iter().any(|r| r.id == "change-id"));
    assert_eq!(
        rules
            .iter()
            .find(|r| r.id == "line-length")
            .unwrap()
            .columns,
        80
    );
    assert!(rules.iter().any(|r| r.id == "no-todo"));
    std::fs::write(dir.path().join("bad.toml"), "format = 1\n[[rule]]\nid = \"x\"\nseverity = \"error\"\nscope = \"body\"\npattern = '('\nmessage = \"m\"\n").unwrap();
    let e = load(Some(dir.path())).unwrap_err();
    assert!(
        e.to_string().contains("bad.toml") || e.to_string().contains("rule x"),
        "{e}"
    );
}

fn mail(title: &str, body: &str, diff: &str) -> PatchMail {
    PatchMail {
        commit: "0".repeat(40),
        author: crate::model::Person {
            name: "Aaron Lu".into(),
            email: "aaron.lu@intel.com".into(),
        },
        date: "Wed, 15 Mar 2017 17:00:00 +0800".into(),
        title: title.into(),
        body: body.into(),
        diff: diff.as_bytes().to_vec(),
    }
}

const SOB: &str = "Text.\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>\n";
const DIFF: &str =
    "diff --git a/mm/a.c b/mm/a.c\n--- a/mm/a.c\n+++ b/mm/a.c\n@@ -1,1 +1,2 @@\n ctx\n+int x;\n";

/// Findings of rule `id` on a patch, or on the cover when `cover` is set.
fn fire(id: &str, m: &PatchMail, cover: Option<&str>, rendered: &[u8]) -> usize {
    let rules = load(None).unwrap();
    let r = rules.iter().find(|r| r.id == id).unwrap();
    let t = Target {
        patch: if cover.is_some() { 0 } else { 1 },
        mail: cover.is_none().then_some(m),
        subject: &m.title,
        cover,
        rendered,
    };
    run(r, &t).len()
}

#[test]
fn every_default_rule_fires_and_stays_quiet() {
    let ok = mail("mm: add a thing", SOB, DIFF);
    let plain = b"From x\nSubject: s\n\nascii only\n";
    let cases: Vec<(&str, PatchMail)> = vec![
        ("missing-signoff", mail("mm: add a thing", "Text.\n", DIFF)),
        ("signoff-author", mail("mm: add a thing", "Text.\n\nSigned-off-by: Someone Else <else@x.org>\n", DIFF)),
        ("subject-prefix", mail("add a thing", SOB, DIFF)),
        ("subject-length", mail(&format!("mm: {}", "x".repeat(80)), SOB, DIFF)),
        ("trailing-whitespace", mail("mm: add a thing", SOB, &DIFF.replace("+int x;", "+int x;  "))),
        ("line-length", mail("mm: add a thing", SOB, &DIFF.replace("+int x;", &format!("+\t\t{}", "y".repeat(90))))),
        ("fixes-tag", mail("mm: add a thing", "Text.\n\nFixes: abc (\"short\")\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>\n", DIFF)),
        ("change-id", mail("mm: add a thing", "Text.\n\nChange-Id: I0123456789abcdef0123456789abcdef01234567\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>\n", DIFF)),
    ];
    for (id, bad) in &cases {
        assert!(fire(id, bad, None, plain) > 0, "{id} did not fire");
        assert_eq!(fire(id, &ok, None, plain), 0, "{id} fired on a good patch");
    }
    let good_fixes = mail("mm: x", "Text.\n\nFixes: 0123456789ab (\"mm: the bug\")\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>\n", DIFF);
    assert_eq!(fire("fixes-tag", &good_fixes, None, plain), 0);
    // A long line of exactly 100 columns is fine, 101 is not.
    let edge = mail(
        "mm: x",
        SOB,
        &DIFF.replace("+int x;", &format!("+{}", "z".repeat(100))),
    );
    assert_eq!(fire("line-length", &edge, None, plain), 0);
    // The cover letter.
    assert_eq!(
        fire(
            "cover-placeholder",
            &ok,
            Some("mm: thing\n*** BLURB HERE ***\n"),
            plain
        ),
        1
    );
    assert_eq!(
        fire(
            "cover-placeholder",
            &ok,
            Some("mm: thing\nReal prose.\n"),
            plain
        ),
        0
    );
    // A mail with non-ASCII text: fine with a charset, not without.
    let declared = "From x\nContent-Type: text/plain; charset=UTF-8\n\n5.8s \u{b1}2.8%\n";
    let undeclared = "From x\nSubject: s\n\n5.8s \u{b1}2.8%\n";
    assert_eq!(
        fire("undeclared-charset", &ok, None, declared.as_bytes()),
        0
    );
    assert_eq!(
        fire("undeclared-charset", &ok, None, undeclared.as_bytes()),
        1
    );
}

#[test]
fn an_added_line_that_starts_with_two_plus_signs_is_a_line() {
    let diff = b"diff --git a/mm/x.c b/mm/x.c\n--- a/mm/x.c\n+++ b/mm/x.c\n@@ -1,1 +1,3 @@\n a\n+++ counter;\n+b = 1;\n";
    let got = added_lines(diff);
    assert_eq!(
        got,
        [
            ("mm/x.c".to_string(), 2, "++ counter;".to_string()),
            ("mm/x.c".to_string(), 3, "b = 1;".to_string())
        ]
    );
}

#[test]
fn added_lines_carry_file_and_line() {
    let diff = b"diff --git a/mm/a.c b/mm/a.c\n--- a/mm/a.c\n+++ b/mm/a.c\n@@ -10,3 +10,4 @@ f\n ctx\n+new one\n ctx\n+new two\n";
    let l = added_lines(diff);
    assert_eq!(
        l,
        vec![
            ("mm/a.c".into(), 11, "new one".into()),
            ("mm/a.c".into(), 13, "new two".into())
        ]
    );
    assert_eq!(columns("\tabc"), 11);
}
