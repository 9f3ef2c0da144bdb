//! A version rendered from the workspace, once: what `format` writes,
//! `check` checks and `send` sends. Shared by those three operations; no
//! verb of its own.

use std::path::PathBuf;

use super::{shown, AppError};
use crate::prepare::{self, Asked, Place, Plan, Prepared};
use crate::store::{self, Series};
use crate::workspace::Workspace;

/// Recipients and threading as asked (flags of `format` and `send`).
#[derive(Clone, Debug, Default)]
pub struct Addressing {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// A Message-Id, or `vN` for that version's cover.
    pub in_reply_to: Option<String>,
    /// `vN`, or empty for the last version sent.
    pub range_diff: Option<String>,
    pub suppress_cc: bool,
    pub no_sign: bool,
}

/// What the flags ask for: `in_reply_to` `vN` names that version's cover,
/// the range-diff is computed against the version it names.
pub fn asked(ws: &Workspace, series: &Series, a: &Addressing) -> Result<Asked, AppError> {
    let in_reply_to = match &a.in_reply_to {
        Some(r) => Some(earlier_cover(series, r)?),
        None => None,
    };
    let range_diff = match &a.range_diff {
        Some(v) => Some(super::range_diff_for_cover(ws, series, v)?),
        None => None,
    };
    Ok(Asked {
        to: a.to.clone(),
        cc: a.cc.clone(),
        in_reply_to,
        suppress_cc: a.suppress_cc,
        range_diff,
        no_sign: a.no_sign,
    })
}

/// `--in-reply-to`: a Message-Id as given, or `vN` for that version's
/// cover letter as recorded when it was sent.
fn earlier_cover(series: &Series, given: &str) -> Result<String, AppError> {
    let Some(v) = super::version_arg(given) else {
        return Ok(given.to_string());
    };
    series
        .manifest
        .history
        .iter()
        .find(|h| h.version == v)
        .and_then(|h| h.message_ids.first())
        .cloned()
        .ok_or_else(|| {
            AppError::refuse(format!(
                "--in-reply-to {given}: v{v} has no recorded Message-Id (it was not sent by series)"
            ))
            .hint("give the cover letter's Message-Id itself")
        })
}

/// A plan with the workspace's clock and the sender's identity, signed
/// when a patatt key is configured (unless `no_sign`).
pub fn plan(ws: &Workspace, series: &Series, asked: Asked) -> Result<Plan, AppError> {
    let sign = if asked.no_sign {
        None
    } else {
        crate::attest::Key::configured(&|k| ws.config(k), ws.tree_path_opt().as_deref())
            .map_err(|e| {
                AppError::refuse(e.to_string()).hint(
                    "fix patatt.signingkey (`series attest --gen-key` makes a key), or pass --no-sign",
                )
            })?
    };
    Ok(Plan {
        asked,
        now: ws.now(),
        sender: ws.sender(series),
        exact: None,
        sign,
    })
}

/// Render the version once, into `output` or outgoing/vN beside series/.
pub fn prepare_in(
    ws: &Workspace,
    series: Series,
    plan: &Plan,
    output: Option<PathBuf>,
) -> Result<Prepared, AppError> {
    let dir = output.map(|o| super::given(ws, &o)).unwrap_or_else(|| {
        ws.project()
            .join("outgoing")
            .join(format!("v{}", series.manifest.version))
    });
    let place = Place {
        tree: ws.tree_path_opt(),
        project: ws.project(),
        dir,
        cover_name: shown(ws, &ws.series_dir.join(store::COVER)),
    };
    Ok(prepare::prepare(series, plan, &place)?)
}

/// The error for a cover diffstat that no longer describes the patches.
pub fn stale_diffstat() -> AppError {
    AppError::refuse(
        "the patch files changed since the cover letter's diffstat was computed (series/patches was edited)",
    )
    .hint("run with --tree pointing at a kernel tree that has the base (and where every patch applies), so the diffstat is computed again")
}

/// Draft the changelog of a version after the first from the last one
/// kept, when the author has written none of it; returns the lines drafted.
pub fn draft_changelog(ws: &Workspace, series: &mut Series) -> Result<Vec<String>, AppError> {
    let kept = store::kept_versions(&ws.series_dir);
    let Some(v) = crate::versions::default_old(series, &kept) else {
        return Ok(Vec::new());
    };
    let old = crate::versions::load_version(&ws.series_dir, v)?;
    Ok(crate::versions::draft_changelog(series, &old))
}

/// Write the prepared files (into outgoing/vN, series' own, or a folder
/// given that is new, empty or marked by an earlier write) and save what
/// the series learned; returns the files, as shown.
pub fn write_out(ws: &Workspace, p: &Prepared) -> Result<Vec<String>, AppError> {
    let own = ws.project().join("outgoing");
    crate::outgoing::write(&p.dir, &p.messages, p.dir.starts_with(&own))?;
    if p.learned {
        store::save(&ws.series_dir, &p.series)?;
    }
    Ok(p.messages
        .iter()
        .map(|m| shown(ws, &p.dir.join(&m.file)))
        .collect())
}

/// What a check runs, beside what always runs: the flags of `series
/// check`, and (as its defaults) the gate of `series send`.
#[derive(Clone, Debug)]
pub struct CheckRequest {
    /// checkpatch --strict (CHECK-level findings).
    pub strict: bool,
    /// More checkpatch.pl arguments [default: the setting series.checkpatchArgs].
    pub checkpatch_args: Option<String>,
    pub checkpatch_timeout: std::time::Duration,
    /// checkpatch processes at once [default: the number of CPUs].
    pub jobs: Option<usize>,
    pub no_cache: bool,
    /// Build commands (or profile names) to run at every patch.
    pub build: Vec<String>,
    pub build_timeout: std::time::Duration,
    /// Run sparse in the builds (`C=1`) [default: git config series.sparse].
    pub sparse: bool,
    /// Check commands of b4's protocol to run on every patch
    /// [default: git config series.externalCheck].
    pub external: Vec<String>,
}

impl Default for CheckRequest {
    fn default() -> Self {
        CheckRequest {
            strict: false,
            checkpatch_args: None,
            checkpatch_timeout: std::time::Duration::from_secs(300),
            jobs: None,
            no_cache: false,
            build: Vec::new(),
            build_timeout: std::time::Duration::from_secs(3600),
            sparse: false,
            external: Vec::new(),
        }
    }
}

/// A `--build` argument: a profile named in git config `series.build.NAME`
/// (its name, its command), else a command of its own (no name).
fn profile(ws: &Workspace, arg: &str) -> (String, String) {
    let named = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    match named.then(|| ws.setting(&format!("series.build.{}", arg.to_ascii_lowercase()))) {
        Some(Some(cmd)) => (arg.to_string(), cmd),
        _ => (String::new(), arg.to_string()),
    }
}

/// series' cache: `$XDG_CACHE_HOME/series`, else `~/.cache/series`.
pub fn cache_base() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("series"))
}

/// The checkpatch cache: `checkpatch/` in series' cache.
fn cache_dir() -> Option<PathBuf> {
    cache_base().map(|b| b.join("checkpatch"))
}

impl CheckRequest {
    /// The domain options this request asks for, in this workspace.
    pub fn options(&self, ws: &Workspace) -> crate::check::Options {
        let mut extra: Vec<String> = Vec::new();
        if self.strict {
            extra.push("--strict".into());
        }
        let args = self
            .checkpatch_args
            .clone()
            .or_else(|| ws.setting("series.checkpatchargs"));
        if let Some(a) = &args {
            extra.extend(a.split_whitespace().map(str::to_string));
        }
        crate::check::Options {
            checkpatch_args: extra,
            checkpatch_timeout: self
                .checkpatch_timeout
                .max(std::time::Duration::from_secs(1)),
            jobs: self.jobs.unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2)
            }),
            cache: (!self.no_cache).then(cache_dir).flatten(),
            build: self.build.iter().map(|b| profile(ws, b)).collect(),
            sparse: self.sparse || ws.setting_bool("series.sparse").unwrap_or(false),
            build_cache: (!self.no_cache)
                .then(|| cache_base().map(|b| b.join("build")))
                .flatten(),
            build_timeout: self.build_timeout.max(std::time::Duration::from_secs(1)),
            farm: crate::check::build::Farm {
                distcc_hosts: ws
                    .setting("series.distcchosts")
                    .or_else(|| std::env::var("DISTCC_HOSTS").ok())
                    .filter(|h| !h.trim().is_empty()),
                jobs: None,
            },
            rules_dir: Some(ws.project().join("checks")),
            public_refs: ws.setting_list("series.publicrefs"),
            now_secs: ws.now().secs,
            prerequisites: Vec::new(),
            external: match self.external.is_empty() {
                true => ws.setting("series.externalcheck").into_iter().collect(),
                false => self.external.clone(),
            },
        }
    }
}

/// Run every check on the rendered messages, the very bytes `format`
/// writes and `send` sends; signatures present are checked too (who
/// signed, and whether it holds).
pub fn check(
    ws: &Workspace,
    p: &Prepared,
    req: &CheckRequest,
    progress: &(dyn Fn(&str, usize, usize) + Sync),
) -> Result<crate::check::Report, AppError> {
    use crate::model::{Finding, Severity, Source};
    let mut opts = req.options(ws);
    opts.prerequisites = p
        .series
        .manifest
        .depends
        .iter()
        .map(|d| (d.name.clone(), super::depends::patches_of(ws, &p.series, d)))
        .collect();
    let mut report = crate::check::run(
        &p.series,
        &p.messages,
        Ok(p.prose.as_str()),
        ws.tree_path_opt().as_deref(),
        &opts,
        progress,
    )?;
    report.findings.extend(crate::check::tags::signoff_chain(
        &p.series,
        &ws.sender(&p.series),
    ));
    if let Some(tree) = ws.tree_path_opt() {
        let (f, note) =
            crate::check::recipients::check(&tree, &p.series, &p.messages, req.checkpatch_timeout);
        report.findings.extend(f);
        report.recipients = note;
    }
    let rings = super::keyrings(ws);
    for (i, m) in p.messages.iter().enumerate() {
        let found = crate::attest::verify(&m.bytes, &rings, std::time::Duration::from_secs(60))
            .map_err(|e| {
                AppError::refuse(format!("{}: {e}", m.file)).kind(crate::error::Kind::Tool)
            })?;
        for a in found {
            let said = super::describe(&a);
            if let crate::attest::Outcome::Bad(_) = a.outcome {
                report.findings.push(Finding {
                    patch: Some(i),
                    file: None,
                    line: None,
                    rule: "BAD_SIGNATURE".into(),
                    severity: Severity::Error,
                    message: said.clone(),
                    source: Source::Series,
                });
            }
            report.signatures.push(format!("{}: {said}", m.file));
        }
    }
    // Grouped by patch, as the checks' own findings are (a stable sort:
    // each patch's findings keep their order).
    report
        .findings
        .sort_by_key(|f| f.patch.map_or(usize::MAX, |p| p));
    Ok(report)
}
