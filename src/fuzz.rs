//! Entry points for fuzzing: each takes arbitrary bytes, feeds them to one
//! parser of input a user (or a mailing list) can hand us, and checks what
//! must hold: no panic, and where a value parses, that writing it and
//! reading it back gives the same value and the same bytes. `fuzz/` runs
//! these under libFuzzer (`scripts/fuzz.sh`); a stable test replays the
//! saved corpus through them, so CI covers every input found so far.

use std::path::Path;

use crate::model::{ExtraHeaders, Numbering};

/// One fuzz target: its name (the folder of its corpus) and entry point.
pub type Target = (&'static str, fn(&[u8]));

/// The fuzz targets by name, for the corpus replay.
pub const TARGETS: [Target; 11] = [
    ("mail", mail),
    ("manifest", manifest),
    ("bench", bench),
    ("checks", checks),
    ("checkpatch_report", checkpatch_report),
    ("maintainers", maintainers),
    ("aliases", aliases),
    ("line_applier", line_applier),
    ("list_mail", list_mail),
    ("review_toml", review_toml),
    ("attestation", attestation),
];

/// A patch mail: parse, render, parse again; the second rendering must be
/// the first's bytes (parse → render → parse is stable). Dates too.
pub fn mail(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::mail::parse_rfc2822(text);
        let _ = crate::clock::Moment::parse(text);
    }
    let Ok((m, sig)) = crate::mail::parse_patch(data) else {
        return;
    };
    let n = Numbering::single();
    let once = crate::mail::render_patch(&m, &n, &ExtraHeaders::default(), &sig);
    let (again, sig2) = match crate::mail::parse_patch(&once) {
        Ok(p) => p,
        Err(e) => panic!("a rendered mail does not parse: {e}"),
    };
    let twice = crate::mail::render_patch(&again, &n, &ExtraHeaders::default(), &sig2);
    if once != twice {
        let at = once.iter().zip(&twice).take_while(|(a, b)| a == b).count();
        let show = |b: &[u8]| {
            String::from_utf8_lossy(&b[at.saturating_sub(80)..(at + 80).min(b.len())]).into_owned()
        };
        panic!(
            "render is not stable at byte {at}:\n--- first\n{}\n--- second\n{}",
            show(&once),
            show(&twice)
        );
    }
}

/// `series.toml`: a manifest that parses writes back to one that parses to
/// the same value.
pub fn manifest(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("series.toml");
    if let Ok(m) = crate::store::parse_manifest(path, text) {
        let out = crate::store::manifest_text(&m).expect("a parsed manifest writes");
        let back = crate::store::parse_manifest(path, &out).expect("a written manifest parses");
        assert_eq!(m, back);
    }
}

/// `bench/NAME.toml`, and the table rendered from it.
pub fn bench(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(b) = crate::bench::Bench::parse("fuzz", text) {
        let _ = crate::bench::table::render("fuzz", &b, false);
        let text = b.to_text().expect("a parsed bench writes");
        let back = crate::bench::Bench::parse("fuzz", &text).expect("written bench parses");
        assert_eq!(text, back.to_text().expect("a parsed bench writes"));
    }
}

/// A `checks/*.toml` rule file over the built-in rules.
pub fn checks(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = crate::check::rules::with_files(&[("fuzz.toml".into(), text.into())]);
}

/// checkpatch.pl's report.
pub fn checkpatch_report(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for f in crate::check::checkpatch::parse_report(1, &text) {
        assert_eq!(f.patch, Some(1));
    }
}

/// A MAINTAINERS file's list names.
pub fn maintainers(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for (name, addr) in crate::tree::maintainers_lists(&text) {
        assert!(!name.is_empty() && addr.contains('@'), "{name:?} {addr:?}");
    }
}

/// git send-email alias files, in each format.
pub fn aliases(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for kind in ["mutt", "mailrc", "sendmail"] {
        let _ = crate::send::recipients::parse_aliases(&text, kind);
    }
}

/// The line applier: a file, a NUL byte, then a unified diff of it.
pub fn line_applier(data: &[u8]) {
    let Some(at) = data.iter().position(|&b| b == 0) else {
        return;
    };
    let (file, rest) = (&data[..at], &data[at + 1..]);
    let mut diff = b"diff --git a/f b/f\n--- a/f\n+++ b/f\n".to_vec();
    diff.extend_from_slice(rest);
    let _ = crate::git::apply_text(file, &diff);
}

/// A list's mail as `init --mbox` and `review fetch` read it: split,
/// parsed, its text taken apart, placed on a patch, its trailers and
/// comments read, its file name made; a cover read for its changelog.
pub fn list_mail(data: &[u8]) {
    use crate::review::{comments, file_name, trailers, Place, Reply};
    const DIFF: &[u8] = b"diff --git a/mm/x.c b/mm/x.c\nindex 1..2 100644\n--- a/mm/x.c\n+++ b/mm/x.c\n@@ -1,3 +1,4 @@\n a\n+b = 1;\n c\n d\n";
    let patch = std::rc::Rc::new(crate::diff::Patch::parse(DIFF).expect("the fixed diff parses"));
    for raw in crate::mailbox::split_mbox(data) {
        let _ = crate::diff::Patch::parse(&raw);
        let Ok(mail) = crate::mail::received::parse(&raw, "fuzz") else {
            continue;
        };
        assert!(crate::mail::received::valid_id(&mail.message_id));
        for id in mail.in_reply_to.iter().chain(&mail.references) {
            assert!(crate::mail::received::valid_id(id), "{id:?}");
        }
        for a in mail.to.iter().chain(&mail.cc) {
            assert!(crate::store::one_recipient(a), "{a:?}");
            let h = crate::mail::address::header_form(a);
            assert!(!h.contains(['\n', '\r']), "{h:?}");
        }
        let name = file_name(&mail.message_id);
        assert!(crate::store::FileName::new(&name).is_ok(), "{name:?}");
        let text = mail.text();
        let _ = text.blocks();
        let _ = text.trailers();
        let (own, _) = trailers::of_reply(&mail);
        for (t, _) in own {
            assert!(!t.value.chars().any(|c| c.is_control() && c != '\t'));
        }
        let reply = Reply {
            file: name,
            mail,
            secs: 0,
        };
        for c in comments::of_reply(
            &reply,
            Place {
                version: 1,
                patch: 0,
            },
            3,
            &|_, _| Some(patch.clone()),
        ) {
            let _ = comments::fate(&c, Some(DIFF), &[]);
        }
        let _ = crate::import::cover::read(&reply.mail.body, 2);
    }
}

/// `review.toml`: what parses writes back to what parses to the same.
pub fn review_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = crate::review::state::Review::parse(text) {
        let out = r.text().expect("a parsed review state writes");
        let back = crate::review::state::Review::parse(&out).expect("written review state parses");
        assert_eq!(r, back);
    }
}

/// An attestation header: its fields, and the key file they name, which
/// stays inside the keyring.
pub fn attestation(data: &[u8]) {
    for fields in crate::attest::signature_fields(data) {
        let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        if let (Some(i), Some(s)) = (get("i"), get("s")) {
            if let Ok(p) = crate::attest::keyring_path(i, s) {
                assert!(
                    p.components()
                        .all(|c| matches!(c, std::path::Component::Normal(_))),
                    "{p:?}"
                );
            }
        }
    }
}
