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
pub const TARGETS: [Target; 8] = [
    ("mail", mail),
    ("manifest", manifest),
    ("bench", bench),
    ("checks", checks),
    ("checkpatch_report", checkpatch_report),
    ("maintainers", maintainers),
    ("aliases", aliases),
    ("line_applier", line_applier),
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
