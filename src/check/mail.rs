//! b4's external check protocol, both ways. b4 (`review-perpatch-check-cmd`
//! for `b4 review`, `prep-perpatch-check-cmd` and `am-perpatch-check-cmd`
//! for `b4 prep --check` and `b4 am`) runs a command in the tree with one
//! mail on stdin: for `b4 review` it reads a JSON list of `{"tool",
//! "status": "pass"|"warn"|"fail", "summary", "url", "details"}`, for
//! `prep --check` and `am` one line per finding (a line with `ERROR:` is a
//! failure, any other a warning; no output, a pass). [`one`] checks a mail
//! so that series can be that command, and [`b4`], [`terse`] and
//! [`patchwork`] (Patchwork's checks API: `state`, `description`,
//! `context`, `target_url`) write the results; [`external`] runs any such
//! command on each patch and reads its JSON back into findings.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{checkpatch, rules, tags, CheckError, Options};
use crate::model::{Finding, Severity, Source};
use crate::process::Run;

/// Check one mail on its own, as it came: the native rules (a patch's, or
/// the cover letter's when it carries no diff), and with a tree, its
/// checkpatch.pl and the mail's `Fixes:` tags looked up there (against
/// HEAD). Findings are numbered 1 for a patch, 0 for a cover letter.
pub fn one(bytes: &[u8], tree: Option<&Path>, opts: &Options) -> Result<Vec<Finding>, CheckError> {
    let rules = rules::load(opts.rules_dir.as_deref())?;
    let bad = |message: String| Finding {
        patch: None,
        file: None,
        line: None,
        rule: "mail".into(),
        severity: Severity::Error,
        message,
        source: Source::Series,
    };
    let m = match crate::mail::received::parse(bytes, "the mail") {
        Ok(m) => m,
        Err(e) => return Ok(vec![bad(e.to_string())]),
    };
    // A subsystem's rules run on a mail to its lists; those of the series
    // as a whole (its size, base, versions) cannot be told from one mail.
    let facts = super::subsystem::Facts {
        patches: 1,
        prefix: m.tag.as_ref().map_or("PATCH", |t| t.prefix.as_str()),
        base: "",
        version: m.tag.as_ref().map_or(1, |t| t.version),
        last_sent: None,
        now_secs: 0,
        in_reply_to: false,
        recipients: m
            .to
            .iter()
            .chain(&m.cc)
            .map(|a| crate::mail::address::bare_address(a))
            .collect(),
    };
    let rules: Vec<rules::Rule> = rules
        .into_iter()
        .filter(|r| super::subsystem::applies(r, &facts))
        .filter(|r| !matches!(r.scope, rules::Scope::Series | rules::Scope::Base))
        .collect();
    let prefix_rules: Vec<Finding> = rules
        .iter()
        .filter(|r| r.scope == rules::Scope::Prefix)
        .flat_map(|r| super::subsystem::run(r, &facts))
        .collect();
    if !m.has_diff() {
        let cover = format!("{}\n{}", m.title, m.body);
        let target = rules::Target {
            patch: 0,
            mail: None,
            subject: &m.title,
            cover: Some(&cover),
            rendered: bytes,
        };
        let cover_rules = rules
            .iter()
            .filter(|r| matches!(r.scope, rules::Scope::Cover | rules::Scope::Mail));
        return Ok(cover_rules.flat_map(|r| rules::run(r, &target)).collect());
    }
    let patch = match crate::import::mails::patch_mail(&m) {
        Ok((p, _)) => p,
        Err(e) => return Ok(vec![bad(e.to_string())]),
    };
    let target = rules::Target {
        patch: 1,
        mail: Some(&patch),
        subject: &patch.title,
        cover: None,
        rendered: bytes,
    };
    let mut found: Vec<Finding> = rules
        .iter()
        .filter(|r| r.scope != rules::Scope::Cover)
        .flat_map(|r| rules::run(r, &target))
        .collect();
    found.extend(prefix_rules.into_iter().map(|mut f| {
        f.patch = Some(1);
        f
    }));
    if let Some(tp) = tree {
        if let Ok(t) = crate::git::Tree::open(tp) {
            if let Ok(head) = t.resolve("HEAD") {
                let id = head.id.to_string();
                found.extend(tags::fixes_on(
                    &t,
                    std::slice::from_ref(&patch),
                    &id,
                    "HEAD",
                ));
            }
        }
        if tp.join("scripts/checkpatch.pl").is_file() {
            let cp = checkpatch::Options {
                tree: tp.to_path_buf(),
                args: opts.checkpatch_args.clone(),
                timeout: opts.checkpatch_timeout,
                jobs: 1,
                cache: opts.cache.clone(),
            };
            let input = [checkpatch::Input { patch: 1, bytes }];
            for o in checkpatch::run(&cp, &input, &|_, _| {})? {
                found.extend(o.findings);
            }
        }
    }
    super::yield_to_checkpatch(&mut found, &rules);
    Ok(found)
}

/// One entry of b4's check protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct B4Result {
    pub tool: String,
    pub status: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub details: String,
}

/// The tool a finding is reported under: checkpatch's own findings as
/// `series-checkpatch` (b4 runs checkpatch itself too, and tells them
/// apart), everything else as `series`.
fn tool_of(source: Source) -> &'static str {
    match source {
        Source::Checkpatch => "series-checkpatch",
        _ => "series",
    }
}

/// The findings, one group per tool that ran: (tool, worst status,
/// summary, the findings in words).
fn groups(found: &[Finding], ran: &[Source]) -> Vec<(String, &'static str, String, String)> {
    let mut tools: Vec<&str> = ran.iter().map(|s| tool_of(*s)).collect();
    tools.dedup();
    tools
        .into_iter()
        .map(|tool| {
            let mine: Vec<&Finding> = found.iter().filter(|f| tool_of(f.source) == tool).collect();
            let errors = mine
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .count();
            let warnings = mine.len() - errors;
            let status = match (errors, warnings) {
                (0, 0) => "pass",
                (0, _) => "warn",
                _ => "fail",
            };
            let summary = match (errors, warnings) {
                (0, 0) => "passed all checks".to_string(),
                _ => format!(
                    "{}, {}",
                    crate::term::plural(errors, "error", "errors"),
                    crate::term::plural(warnings, "warning", "warnings")
                ),
            };
            let details: Vec<String> = mine.iter().map(|f| line(f)).collect();
            (tool.to_string(), status, summary, details.join("\n"))
        })
        .collect()
}

/// The sources a mail check runs.
pub fn sources(tree: Option<&Path>) -> Vec<Source> {
    let mut ran = vec![Source::Native];
    if tree.is_some_and(|t| t.join("scripts/checkpatch.pl").is_file()) {
        ran.push(Source::Checkpatch);
    }
    ran
}

/// b4's JSON list: one entry per tool that ran.
pub fn b4(found: &[Finding], ran: &[Source]) -> Vec<B4Result> {
    groups(found, ran)
        .into_iter()
        .map(|(tool, status, summary, details)| B4Result {
            tool,
            status: status.into(),
            summary,
            url: String::new(),
            details,
        })
        .collect()
}

/// One check for Patchwork's checks API (`POST /api/patches/ID/checks/`).
#[derive(Clone, Debug, Serialize)]
pub struct PatchworkCheck {
    pub state: &'static str,
    pub context: String,
    pub description: String,
    pub target_url: String,
}

/// Patchwork's checks: one per tool that ran.
pub fn patchwork(found: &[Finding], ran: &[Source]) -> Vec<PatchworkCheck> {
    groups(found, ran)
        .into_iter()
        .map(|(context, status, summary, _)| PatchworkCheck {
            state: match status {
                "pass" => "success",
                "warn" => "warning",
                _ => "fail",
            },
            context,
            description: summary,
            target_url: String::new(),
        })
        .collect()
}

/// A finding on one line, as checkpatch --terse writes them:
/// `FILE:LINE: WARNING: message (rule)`.
fn line(f: &Finding) -> String {
    let place = f.place().map(|p| format!("{p}: ")).unwrap_or_default();
    let level = match f.severity {
        Severity::Error => "ERROR",
        Severity::Warning => "WARNING",
        Severity::Check => "CHECK",
    };
    let first = f.message.lines().next().unwrap_or("");
    format!("{place}{level}: {first} ({}/{})", f.source, f.rule)
}

/// The lines `b4 prep --check` and `b4 am` read: one per finding, nothing
/// when there is none.
pub fn terse(found: &[Finding]) -> String {
    found.iter().map(|f| format!("{}\n", line(f))).collect()
}

/// Run `command` (through `sh -c`, in `cwd`) on each mail in `mails` as
/// b4 runs a check command, `jobs` at a time, each within `limit`, and
/// read its results back: a `warn` is a warning, a `fail` an error, of
/// rule TOOL, on the mail's patch (`mails[i].0`). A command that fails
/// without output, prints what is not b4's JSON, or runs out of time is
/// an error finding of its own.
pub fn external(
    command: &str,
    mails: &[(usize, &[u8])],
    cwd: &Path,
    limit: Duration,
    jobs: usize,
) -> Vec<Finding> {
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, Vec<Finding>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..jobs.clamp(1, mails.len().max(1)))
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&(patch, bytes)) = mails.get(i) else {
                            break mine;
                        };
                        mine.push((i, run_one(command, patch, bytes, cwd, limit)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().flat_map(|(_, f)| f).collect()
}

fn run_one(command: &str, patch: usize, bytes: &[u8], cwd: &Path, limit: Duration) -> Vec<Finding> {
    let finding = |rule: &str, severity: Severity, message: String| Finding {
        patch: Some(patch),
        file: None,
        line: None,
        rule: rule.into(),
        severity,
        message,
        source: Source::External,
    };
    let failed = |message: String| vec![finding("external", Severity::Error, message)];
    let out = Run::new("sh")
        .arg("-c")
        .arg(command)
        .cwd(cwd)
        .stdin(bytes.to_vec())
        .limit(limit)
        .output();
    let out = match out {
        Ok(out) => out,
        Err(e) => return failed(format!("`{command}`: {e}")),
    };
    let text = String::from_utf8_lossy(&out.stdout);
    if text.trim().is_empty() {
        return match out.status.success() {
            true => Vec::new(),
            false => failed(format!(
                "`{command}` failed ({}) without output: {}",
                out.status,
                out.stderr_text()
            )),
        };
    }
    // b4 takes one object as a list of one.
    let parsed: Result<Vec<B4Result>, _> = serde_json::from_str(&text)
        .or_else(|_| serde_json::from_str::<B4Result>(&text).map(|r| vec![r]));
    let results = match parsed {
        Ok(r) => r,
        Err(e) => {
            return failed(format!(
                "`{command}` printed what is not b4's check JSON ({e})"
            ))
        }
    };
    results
        .into_iter()
        .filter_map(|r| {
            let severity = match r.status.as_str() {
                "pass" => return None,
                "warn" => Severity::Warning,
                // b4 reads any other status as a failure.
                _ => Severity::Error,
            };
            let mut message = r.summary.trim().to_string();
            if !r.details.trim().is_empty() {
                message.push('\n');
                message.push_str(r.details.trim_end());
            }
            if !r.url.is_empty() {
                message.push_str(&format!("\n{}", r.url));
            }
            Some(finding(&r.tool, severity, message))
        })
        .collect()
}
