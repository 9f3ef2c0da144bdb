//! A version made ready to mail, once: the cover diffstat made to match the
//! patch files, recipients resolved, the cover prose and every message
//! rendered. `series format`, `series check` and `series send` all work on
//! what this returns, so what is checked is what is written and sent.

use std::path::{Path, PathBuf};

use crate::clock::Moment;
use crate::git::{GitError, Tree};
use crate::model::Person;
use crate::outgoing::{self, Addressed, Message, Options, RenderError};
use crate::send::recipients::{self, RecipientError};
use crate::store::Series;
use crate::template::{self, TemplateError};

/// Whom to send to and how, as asked.
#[derive(Clone, Debug, Default)]
pub struct Asked {
    /// To and Cc beyond those kept in series.toml: addresses or list names.
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// The Message-Id the cover replies to.
    pub in_reply_to: Option<String>,
    /// Leave out each patch's trailer Cc.
    pub suppress_cc: bool,
    /// A range-diff for the cover letter: (against version, text).
    pub range_diff: Option<(u32, String)>,
    /// Leave the mails unsigned even when a patatt key is configured.
    pub no_sign: bool,
}

/// How to render a version.
#[derive(Clone, Debug)]
pub struct Plan {
    pub asked: Asked,
    pub now: Moment,
    pub sender: Person,
    /// Exact To and Cc of each message (a resumed send's journal).
    pub exact: Option<Vec<Addressed>>,
    /// The patatt key every message is signed with, at the plan's clock.
    pub sign: Option<crate::attest::Key>,
}

/// Where the version is rendered: the tree (MAINTAINERS lists, the base for
/// the diffstat), the project folder (`templates/`), the folder the mails
/// go to, and the name of cover.md in messages.
#[derive(Clone, Debug)]
pub struct Place {
    pub tree: Option<PathBuf>,
    pub project: PathBuf,
    pub dir: PathBuf,
    pub cover_name: String,
}

/// A rendered version, ready to check, write or send.
pub struct Prepared {
    pub series: Series,
    pub messages: Vec<Message>,
    /// The cover's diffstat describes other patches than the files hold.
    pub stale_diffstat: bool,
    /// The cover letter prose as rendered from `cover.md`.
    pub prose: String,
    /// The recipients asked for, resolved, before each patch's trailer Cc.
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// Where the mails are written.
    pub dir: PathBuf,
    /// Whether the series changed (list names learned, diffstat computed)
    /// and should be saved.
    pub learned: bool,
}

/// Why a version could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    Recipient(#[from] RecipientError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("signing {file}: {source}")]
    Attest {
        file: String,
        #[source]
        source: crate::attest::AttestError,
    },
}

/// Resolve recipients and render every message of a loaded series, once.
pub fn prepare(mut series: Series, plan: &Plan, place: &Place) -> Result<Prepared, PrepareError> {
    let tree_lists = place
        .tree
        .as_deref()
        .map(crate::tree::tree_lists)
        .unwrap_or_default();
    let (mut learned, stale_diffstat) = fresh_diffstat(&mut series, place.tree.as_deref())?;
    let asked = &plan.asked;
    let m = &series.manifest;
    let (to, cc, names) = recipients::resolve_to_cc(
        (&m.recipients.to, &asked.to),
        (&m.recipients.cc, &asked.cc),
        &tree_lists,
        &m.lists,
    )?;
    for (k, v) in names {
        if series.manifest.lists.get(&k) != Some(&v) {
            series.manifest.lists.insert(k, v);
            learned = true;
        }
    }
    let prose = cover_prose(&series, &place.cover_name)?;
    let sender = plan.sender.to_string();
    let opts = Options {
        to: to.clone(),
        cc: cc.clone(),
        patch_cc: if asked.suppress_cc {
            Vec::new()
        } else {
            series
                .patches
                .iter()
                .map(|m| recipients::trailer_cc(m, &sender))
                .collect()
        },
        in_reply_to: asked.in_reply_to.as_ref().map(|s| {
            s.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        }),
        sender: plan.sender.clone(),
        exact: plan.exact.clone(),
        now: plan.now,
        project: place.project.clone(),
        range_diff: asked.range_diff.clone(),
    };
    let mut messages = outgoing::render(&series, &prose, &opts)?;
    if let Some(key) = &plan.sign {
        let limit = std::time::Duration::from_secs(60);
        for m in &mut messages {
            m.bytes =
                crate::attest::sign(&m.bytes, key, plan.now.secs, limit).map_err(|source| {
                    PrepareError::Attest {
                        file: m.file.clone(),
                        source,
                    }
                })?;
        }
    }
    Ok(Prepared {
        series,
        messages,
        stale_diffstat,
        prose,
        to,
        cc,
        dir: place.dir.clone(),
        learned,
    })
}

/// Make sure the cover's diffstat describes the patch files as they are:
/// when they changed since it was computed (a hand edit), compute it again
/// on a tree that has the base. Returns whether it changed, and whether it
/// is stale still (no tree with the base at hand, or a patch that does not
/// apply there).
fn fresh_diffstat(series: &mut Series, tree: Option<&Path>) -> Result<(bool, bool), GitError> {
    let now = series.diffs_digest();
    if series.manifest.diffstat_of.as_deref() == Some(now.as_str()) {
        return Ok((false, false));
    }
    let stat = match tree {
        Some(t) => Tree::open(t)?.series_stat(&series.manifest.base.commit, &series.patches)?,
        None => None,
    };
    match stat {
        Some(stat) => {
            series.manifest.diffstat = stat;
            series.manifest.diffstat_of = Some(now);
            Ok((true, false))
        }
        // A series written before the digest was kept: trusted as it is.
        None if series.manifest.diffstat_of.is_none() => Ok((false, false)),
        None => Ok((false, true)),
    }
}

/// Render the cover letter prose from `cover.md` (called `name` in errors),
/// with `bench_table(NAME)` (and `bench_table(NAME, ascii=true)` for `+-`:
/// the rows of this version) and `bench_versions(NAME)` (the previous
/// version's numbers against this one's) available to it.
pub fn cover_prose(series: &Series, name: &str) -> Result<String, TemplateError> {
    let benches = std::sync::Arc::new(series.bench.clone());
    let across = benches.clone();
    let version = series.manifest.version;
    template::render_with(
        name,
        &series.cover,
        minijinja::Value::UNDEFINED,
        move |env| {
            env.add_function(
                "bench_table",
                move |name: String, kwargs: minijinja::value::Kwargs| {
                    let ascii: Option<bool> = kwargs.get("ascii")?;
                    kwargs.assert_all_used()?;
                    let b = bench_of(&benches, &name)?.at_version(version);
                    let t = crate::bench::table::render(&name, &b, ascii.unwrap_or(false))
                        .map_err(|e| template_fail(e.to_string()))?;
                    Ok(t.trim_end_matches('\n').to_string())
                },
            );
            env.add_function("bench_versions", move |name: String| {
                let b = bench_of(&across, &name)?;
                let old = b.previous_version(version).ok_or_else(|| {
                    template_fail(format!(
                        "bench {name}: no rows of a version before v{version}"
                    ))
                })?;
                let t = crate::bench::table::render_across(&b, old, version);
                Ok(t.trim_end_matches('\n').to_string())
            });
        },
    )
}

/// A template call's failure, with its message.
fn template_fail(msg: String) -> minijinja::Error {
    minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, msg)
}

/// The bench `name` of the series' bench files, for a template call.
fn bench_of(
    benches: &std::collections::BTreeMap<String, String>,
    name: &str,
) -> Result<crate::bench::Bench, minijinja::Error> {
    let text = benches
        .get(&crate::bench::file_name(name))
        .ok_or_else(|| template_fail(format!("no bench {name:?} in series/bench/")))?;
    crate::bench::Bench::parse(name, text).map_err(|e| template_fail(e.to_string()))
}

impl crate::error::Advice for PrepareError {
    fn kind(&self) -> crate::error::Kind {
        match self {
            PrepareError::Attest { .. } => crate::error::Kind::Tool,
            PrepareError::Git(g) => g.kind(),
            _ => crate::error::Kind::User,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            PrepareError::Recipient(_) => crate::error::says(
                "give a full address, or run with --tree pointing at a kernel tree whose MAINTAINERS lists it",
            ),
            PrepareError::Render(r) => r.hint(),
            PrepareError::Template(t) => t.hint(),
            PrepareError::Git(g) => g.hint(),
            PrepareError::Attest { .. } => crate::error::says(
                "signing runs `git mailinfo`; pass --no-sign to send unsigned",
            ),
        }
    }
}
