//! `series check`: what a maintainer or a bot would bounce, found before
//! sending, on the mails exactly as `format` writes them.

use std::io::Write;

use serde::{Deserialize, Serialize};

use super::mails::{self, CheckRequest};
use super::AppError;
use crate::check::{CheckpatchStatus, Report};
use crate::model::{Finding, Severity, Source};
use crate::store::{self, Series};
use crate::term::{plural, Render};
use crate::workspace::Workspace;

/// A check's report with what it needs to print: each patch's title.
#[derive(Serialize)]
pub struct Checked {
    #[serde(flatten)]
    pub report: Report,
    #[serde(skip)]
    titles: Vec<String>,
    #[serde(skip)]
    subject: String,
    #[serde(skip)]
    base: String,
    /// The report mails written (`--report FILE`): how many, and where.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_mails: Option<ReportMails>,
}

/// Report mails written by `series check --report FILE`.
#[derive(Serialize, Clone, Debug)]
pub struct ReportMails {
    pub mails: usize,
    pub file: String,
}

/// `series check`; with `report_to`, the findings also as report mails
/// (an mbox) in that file.
pub fn run(
    ws: &Workspace,
    req: &CheckRequest,
    report_to: Option<&std::path::Path>,
    progress: &(dyn Fn(&str, usize, usize) + Sync),
) -> Result<Checked, AppError> {
    let series = store::load(&ws.series_dir)?;
    let plan = mails::plan(ws, &series, Default::default())?;
    let p = mails::prepare_in(ws, series, &plan, None)?;
    let mut report = mails::check(ws, &p, req, progress)?;
    if p.stale_diffstat {
        report.findings.insert(
            0,
            Finding {
                patch: Some(0),
                file: Some("series/series.toml".into()),
                line: None,
                rule: "diffstat".into(),
                severity: Severity::Error,
                message: "the cover letter's diffstat describes other patches than series/patches holds; run with a tree where the series applies to compute it again".into(),
                source: Source::Series,
            },
        );
    }
    record(ws, &p.series, &report);
    let mails = match report_to {
        Some(path) => Some(write_report(ws, &p, &report, path)?),
        None => None,
    };
    let mut c = checked(&p.series, report);
    c.report_mails = mails;
    Ok(c)
}

/// Write the report mails to `path` (replacing it, atomically).
fn write_report(
    ws: &Workspace,
    p: &crate::prepare::Prepared,
    report: &Report,
    path: &std::path::Path,
) -> Result<ReportMails, AppError> {
    use crate::check::report;
    let from = ws
        .setting("series.reportfrom")
        .unwrap_or_else(|| report::FROM.to_string());
    let ctx = report::Context {
        series: &p.series,
        report,
        messages: &p.messages,
        from: &from,
        to: &ws.sender(&p.series).to_string(),
        date: &ws.now().rfc2822(),
    };
    let bytes = report::mbox(&ctx);
    super::write_file(path, &bytes)?;
    Ok(ReportMails {
        mails: match bytes.is_empty() {
            true => 0,
            false => crate::mailbox::split_mbox(&bytes).len(),
        },
        file: path.display().to_string(),
    })
}

/// How `series check --mail` prints what it found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailFormat {
    /// b4's check JSON: `[{"tool", "status", "summary", "url", "details"}]`.
    B4,
    /// Patchwork's checks: `[{"state", "context", "description", "target_url"}]`.
    Patchwork,
    /// One line per finding, as checkpatch --terse (nothing when clean).
    Terse,
}

/// One mail checked on its own (`series check --mail`).
pub struct MailChecked {
    pub findings: Vec<Finding>,
    ran: Vec<Source>,
}

/// `series check --mail`: one mail, in the tree here, without a series.
pub fn mail(ws: &Workspace, req: &CheckRequest, bytes: &[u8]) -> Result<MailChecked, AppError> {
    let tree = ws.tree_path_opt();
    let mut opts = req.options(ws);
    // The series' own rules when there is one, else the built-in ones.
    opts.rules_dir = opts.rules_dir.filter(|d| d.is_dir());
    let findings = crate::check::mail::one(bytes, tree.as_deref(), &opts)?;
    Ok(MailChecked {
        findings,
        ran: crate::check::mail::sources(tree.as_deref()),
    })
}

impl MailChecked {
    /// Print in `format`, else as JSON findings (`json`) or text.
    pub fn write(
        &self,
        out: &mut dyn Write,
        format: Option<MailFormat>,
        json: bool,
    ) -> Result<(), AppError> {
        use crate::check::mail;
        let io = |e: std::io::Error| AppError::refuse(format!("cannot write the result: {e}"));
        let text = match (format, json) {
            (Some(MailFormat::B4), _) => json_text(&mail::b4(&self.findings, &self.ran)),
            (Some(MailFormat::Patchwork), _) => {
                json_text(&mail::patchwork(&self.findings, &self.ran))
            }
            (Some(MailFormat::Terse), _) => mail::terse(&self.findings),
            (None, true) => json_text(&self.findings),
            (None, false) => match self.findings.is_empty() {
                true => "no findings\n".to_string(),
                false => mail::terse(&self.findings),
            },
        };
        out.write_all(text.as_bytes()).map_err(io)
    }

    /// As b4 reads a check command, the findings are the answer: the
    /// command succeeds unless the mail could not be read at all.
    pub fn verdict(&self) -> Result<(), AppError> {
        match self.findings.iter().find(|f| f.rule == "mail") {
            Some(f) => Err(AppError::refuse(format!(
                "the mail cannot be checked: {}",
                f.message
            ))),
            None => Ok(()),
        }
    }
}

fn json_text<T: Serialize>(v: &T) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|_| "[]".into());
    s.push('\n');
    s
}

/// What the last `series check` of exactly these files found. It is kept
/// in series' cache (`checked/`), named by the digest of what the check
/// read of `series/`, so any edit makes it "not checked since".
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct LastCheck {
    pub errors: usize,
    pub warnings: usize,
    /// When it ran, as a mail's date.
    pub at: String,
}

fn record_path(series: &Series) -> Option<std::path::PathBuf> {
    mails::cache_base().map(|b| {
        b.join("checked")
            .join(format!("{}.toml", series.check_digest()))
    })
}

/// Keep what this check found. A cache: a failure to write it is only
/// that the next `status` asks for a check again.
fn record(ws: &Workspace, series: &Series, report: &Report) {
    let last = LastCheck {
        errors: report.count(Severity::Error),
        warnings: report.count(Severity::Warning),
        at: ws.now().rfc2822(),
    };
    if let (Some(path), Ok(text)) = (record_path(series), toml::to_string(&last)) {
        let _ = super::write_file(&path, text.as_bytes());
    }
}

/// The last check of the series as it is now, if one ran.
pub fn last(series: &Series) -> Option<LastCheck> {
    let text = std::fs::read_to_string(record_path(series)?).ok()?;
    toml::from_str(&text).ok()
}

fn checked(series: &Series, report: Report) -> Checked {
    Checked {
        report,
        titles: series.patches.iter().map(|m| m.title.clone()).collect(),
        subject: series.manifest.subject.clone(),
        base: series.manifest.base.name.clone(),
        report_mails: None,
    }
}

impl Checked {
    /// Errors fail the command; so do more warnings than `max_warnings`.
    pub fn verdict(&self, max_warnings: Option<usize>) -> Result<(), AppError> {
        let errors = self.report.count(Severity::Error);
        let warnings = self.report.count(Severity::Warning);
        if errors > 0 {
            return Err(
                AppError::refuse(format!("{} found", plural(errors, "error", "errors")))
                    .hint("fix them, or see the list above"),
            );
        }
        if let Some(max) = max_warnings.filter(|&m| warnings > m) {
            return Err(AppError::refuse(format!(
                "{warnings} warnings found, more than --max-warnings {max}"
            )));
        }
        Ok(())
    }

    fn title(&self, p: Option<usize>) -> String {
        let total = self.titles.len();
        match p {
            None => "series".to_string(),
            Some(0) => format!("cover letter: {}", self.subject),
            Some(n) => format!(
                "patch {n}/{total}: {}",
                self.titles.get(n - 1).map(String::as_str).unwrap_or("")
            ),
        }
    }
}

fn location(f: &Finding) -> String {
    f.place().map(|p| format!(" {p}")).unwrap_or_default()
}

impl Render for Checked {
    fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let r = &self.report;
        let mut current: Option<Option<usize>> = None;
        for f in &r.findings {
            if current != Some(f.patch) {
                writeln!(out, "{}", self.title(f.patch))?;
                current = Some(f.patch);
            }
            let mut lines = f.message.lines();
            writeln!(
                out,
                "  {} {}/{}{}: {}",
                crate::term::severity(f.severity, &format!("{:<7}", f.severity.to_string())),
                f.source,
                f.rule,
                location(f),
                lines.next().unwrap_or("")
            )?;
            for l in lines {
                writeln!(out, "          {l}")?;
            }
        }
        self.render_status(out)
    }
}

impl Checked {
    fn render_status(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let r = &self.report;
        match &r.checkpatch {
            CheckpatchStatus::Ran { checked, cached } => writeln!(
                out,
                "checkpatch: {checked} patches checked ({cached} from the cache)"
            )?,
            CheckpatchStatus::Skipped { reason } => writeln!(out, "checkpatch: skipped: {reason}")?,
        }
        let stuck = r.findings.iter().find(|f| f.source == Source::Apply);
        match (&r.apply, stuck) {
            (Some(note), _) => writeln!(out, "apply: {note}")?,
            (None, Some(f)) => writeln!(out, "apply: stops at patch {}", f.patch.unwrap_or(0))?,
            (None, None) => writeln!(out, "apply: every patch applies on {}", self.base)?,
        }
        writeln!(out, "kernel-doc: {}", r.kernel_doc)?;
        writeln!(out, "recipients: {}", r.recipients)?;
        writeln!(out, "public base: {}", r.public_base)?;
        if let Some(b) = &r.build {
            writeln!(out, "build: {b}")?;
        }
        for e in &r.external {
            writeln!(out, "external: {e}")?;
        }
        if let Some(m) = &self.report_mails {
            writeln!(
                out,
                "report: {} written to {} (`series review fetch --mbox {}` keeps them)",
                plural(m.mails, "mail", "mails"),
                m.file,
                m.file
            )?;
        }
        match r.signatures.as_slice() {
            [] => writeln!(
                out,
                "signatures: none (`series attest --gen-key` makes a patatt key)"
            )?,
            all => {
                let valid = all.iter().filter(|s| s.contains(": valid, key ")).count();
                writeln!(out, "signatures: {valid} of {} valid", all.len())?;
                for s in all.iter().filter(|s| !s.contains(": valid, key ")) {
                    writeln!(out, "  {s}")?;
                }
            }
        }
        let (e, w, c) = (
            r.count(Severity::Error),
            r.count(Severity::Warning),
            r.count(Severity::Check),
        );
        writeln!(
            out,
            "{}: {}, {}{}",
            plural(self.titles.len(), "patch", "patches"),
            plural(e, "error", "errors"),
            plural(w, "warning", "warnings"),
            if c > 0 {
                format!(", {}", plural(c, "check", "checks"))
            } else {
                String::new()
            }
        )
    }
}
