//! A check's findings as mail: one reply per message with something to
//! report, laid out as the build bots' reports are (each finding under
//! the line of the patch it is about, quoted; what was tested, on which
//! base, and how to reproduce it below the signature line). The replies
//! form an mbox that `series review fetch --mbox` keeps beside the
//! reviewers' replies: each finding is then a comment on its patch and
//! line, open until addressed. A report with the same findings has the
//! same Message-Id, so keeping it twice adds nothing.

use crate::diff::patch::{LineKind, Patch};
use crate::model::{Finding, Severity};
use crate::outgoing::Message;
use crate::store::Series;

use super::{CheckpatchStatus, Report};

/// Who the reports are from when `series.reportFrom` is not set: a name
/// and an address that is no one's (RFC 2606's `.invalid`), so a report
/// kept in the review is never taken for the author's own words.
pub const FROM: &str = "series check <check@series.invalid>";

/// What the reports need besides the findings.
pub struct Context<'a> {
    pub series: &'a Series,
    pub report: &'a Report,
    /// The messages as `format` renders them, cover first.
    pub messages: &'a [Message],
    pub from: &'a str,
    /// The author the reports answer (To:).
    pub to: &'a str,
    /// The date of the reports, as a mail's Date.
    pub date: &'a str,
}

/// The reports, as an mbox: a reply to each message that has warnings or
/// errors (the cover letter's take the series-wide ones). Empty when the
/// check found none.
pub fn mbox(ctx: &Context<'_>) -> Vec<u8> {
    let sent = sent_ids(ctx.series);
    let mut out = Vec::new();
    for (i, msg) in ctx.messages.iter().enumerate() {
        let found: Vec<&Finding> = ctx
            .report
            .findings
            .iter()
            .filter(|f| f.severity != Severity::Check && f.patch.unwrap_or(0) == i)
            .collect();
        if found.is_empty() {
            continue;
        }
        let body = body(ctx, i, &found);
        let id = format!(
            "<check-{}@series.invalid>",
            &crate::text::digest(format!("{}\n{body}", msg.subject).as_bytes())[..20]
        );
        out.extend_from_slice(b"From series-check Mon Sep 17 00:00:00 2001\n");
        let mut head = format!(
            "From: {}\nTo: {}\nSubject: Re: {}\nDate: {}\nMessage-ID: {id}\n",
            ctx.from, ctx.to, msg.subject, ctx.date
        );
        if let Some(parent) = sent.get(i) {
            let cover = sent.first().filter(|c| *c != parent);
            let refs: Vec<&str> = cover
                .into_iter()
                .chain([parent])
                .map(String::as_str)
                .collect();
            head.push_str(&format!(
                "In-Reply-To: {parent}\nReferences: {}\n",
                refs.join(" ")
            ));
        }
        head.push_str("X-Series-Report: check\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n");
        out.extend_from_slice(head.as_bytes());
        // mboxrd: a body line that would read as a new mail is quoted.
        for line in body.lines() {
            if line.trim_start_matches('>').starts_with("From ") {
                out.push(b'>');
            }
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        out.push(b'\n');
    }
    out
}

/// The Message-Ids this version went out with, cover first; empty when it
/// was not sent.
fn sent_ids(series: &Series) -> Vec<String> {
    let m = &series.manifest;
    m.history
        .iter()
        .find(|h| h.version == m.version)
        .map(|h| h.message_ids.clone())
        .unwrap_or_default()
}

/// One report: a greeting, each finding under the quoted line it is
/// about, then (below the signature line, which review never reads as a
/// comment) what was tested and how to reproduce it.
fn body(ctx: &Context<'_>, at: usize, found: &[&Finding]) -> String {
    let patch = at
        .checked_sub(1)
        .and_then(|i| ctx.series.patches.get(i))
        .and_then(|p| Patch::parse(&p.diff).ok());
    let first_name = ctx
        .series
        .patches
        .get(at.saturating_sub(1))
        .map(|p| {
            p.author
                .name
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .filter(|n| !n.is_empty());
    let mut out = match first_name {
        Some(n) => format!("Hi {n},\n\n"),
        None => "Hi,\n\n".to_string(),
    };
    for f in found {
        out.push_str(&quote(patch.as_ref(), f));
        out.push('\n');
        let place = f.place().map(|p| format!("{p}: ")).unwrap_or_default();
        let severity = match f.severity {
            Severity::Error => "error",
            _ => "warning",
        };
        out.push_str(&format!(
            "{place}{severity}: {} [{} {}]\n\n",
            f.message.trim_end(),
            f.source,
            f.rule
        ));
    }
    let errors = found
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = found.len() - errors;
    let base = &ctx.series.manifest.base;
    out.push_str("-- \n");
    out.push_str(&format!(
        "series check: {} and {} in {}\n\n",
        crate::term::plural(errors, "error", "errors"),
        crate::term::plural(warnings, "warning", "warnings"),
        if at == 0 { "the series" } else { "this patch" }
    ));
    out.push_str(&format!(
        "base:        {} ({})\n",
        base.name,
        base.commit.get(..12).unwrap_or(&base.commit)
    ));
    let r = ctx.report;
    let checkpatch = match &r.checkpatch {
        CheckpatchStatus::Ran { checked, .. } => format!("ran on {checked} patches"),
        CheckpatchStatus::Skipped { reason } => format!("skipped: {reason}"),
    };
    let mut tested = vec![
        format!("checkpatch.pl: {checkpatch}"),
        format!("kernel-doc: {}", r.kernel_doc),
        format!("recipients: {}", r.recipients),
        format!("public base: {}", r.public_base),
    ];
    if let Some(a) = &r.apply {
        tested.push(format!("apply: {a}"));
    }
    if let Some(b) = &r.build {
        tested.extend(b.lines().map(|l| format!("build: {l}")));
    }
    tested.extend(r.external.iter().map(|e| format!("external: {e}")));
    out.push_str("tested:\n");
    for t in tested {
        out.push_str(&format!("        {t}\n"));
    }
    if at > 0 {
        out.push_str("\nreproduce, in the tree:\n");
        out.push_str(&format!(
            "        git checkout --detach {}\n",
            base.commit.get(..12).unwrap_or(&base.commit)
        ));
        // The prerequisites first: a series of this repository by its
        // patch files, a posted one by its mails under depends/.
        for d in &ctx.series.manifest.depends {
            out.push_str(&match d.kind {
                crate::depends::Kind::MessageId => format!(
                    "        git am series/depends/{}\n",
                    crate::depends::mbox_name(&d.name)
                ),
                crate::depends::Kind::Series => format!(
                    "        series --name {} format -o DIR && git am DIR/*.patch   # {} v{}\n",
                    d.name, d.name, d.version
                ),
            });
        }
        let files: Vec<String> = ctx
            .series
            .manifest
            .patches
            .iter()
            .take(at)
            .map(|p| format!("series/patches/{}", p.file))
            .collect();
        out.push_str(&format!("        git am {}\n", files.join(" ")));
        if let Some(b) = &r.build {
            for line in b.lines() {
                if let Some(cmd) = line.split('`').nth(1) {
                    out.push_str(&format!("        {cmd}\n"));
                }
            }
        }
    }
    out
}

/// The patch line a finding is about, quoted as a reviewer quotes it;
/// else its place, quoted, so that each finding stays a comment of its
/// own.
fn quote(patch: Option<&Patch>, f: &Finding) -> String {
    let line = patch
        .zip(f.file.as_ref())
        .zip(f.line)
        .and_then(|((p, file), no)| {
            p.lines()
                .filter(|(fd, _, _)| fd.path() == *file)
                .find(|(_, _, l)| l.new_no == Some(no) && l.kind != LineKind::Removed)
                .map(|(_, _, l)| l.marked())
        });
    match (line, &f.file, f.line) {
        (Some(l), _, _) => format!("> {l}\n"),
        (None, Some(file), Some(no)) => format!("> {file}:{no}\n"),
        (None, Some(file), None) => format!("> {file}\n"),
        _ => format!("> {}\n", f.rule),
    }
}
