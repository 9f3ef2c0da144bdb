//! Native check rules as data (`checks/*.toml`): regexes over parts of a
//! mail, plus a few kinds that need more than a regex.

use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;
use serde::Deserialize;

use crate::model::{Finding, PatchMail, Severity, Source};
use crate::text::str_width;

/// The built-in rules: the general ones, then each subsystem's (which
/// apply when the series goes to that subsystem's lists).
pub const DEFAULT: &str = include_str!("../../../checks/kernel.toml");
pub const SUBSYSTEMS: [(&str, &str); 2] = [
    (
        "built-in checks/netdev.toml",
        include_str!("../../../checks/netdev.toml"),
    ),
    (
        "built-in checks/mm.toml",
        include_str!("../../../checks/mm.toml"),
    ),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    format: u32,
    /// The lists whose series these rules are for (any of them among the
    /// recipients); none: every series.
    #[serde(default)]
    lists: Vec<String>,
    /// How a new version of a series to these lists is threaded when the
    /// send names no `--in-reply-to`.
    #[serde(default)]
    new_version: Option<Threading>,
    #[serde(default, rename = "rule")]
    rules: Vec<RuleSpec>,
}

/// Where a new version of a series goes in the list's threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Threading {
    /// A thread of its own (the previous one linked from the cover).
    NewThread,
    /// In reply to the previous version's cover letter.
    InReplyToPrevious,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    id: String,
    #[serde(default)]
    severity: Option<Severity>,
    #[serde(default)]
    scope: Option<Scope>,
    #[serde(default)]
    kind: Option<Kind>,
    #[serde(default)]
    pattern: Option<String>,
    #[serde(default)]
    unless: Option<String>,
    #[serde(default)]
    columns: Option<usize>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    mirrors: Option<Mirrors>,
    #[serde(default)]
    enabled: Option<bool>,
    /// The document the rule comes from.
    #[serde(default)]
    source: Option<String>,
    /// A regex the series' subject prefix must match for the rule to run.
    #[serde(default)]
    when_prefix: Option<String>,
    /// `max-patches`: the most patches.
    #[serde(default)]
    max: Option<usize>,
    /// `min-hours-since-sent`: the fewest hours since the last version.
    #[serde(default)]
    hours: Option<u64>,
    /// Filled from the file's `lists`.
    #[serde(skip)]
    lists: Vec<String>,
}

/// The checkpatch type (or types) a rule mirrors: one name or a list.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum Mirrors {
    One(String),
    Many(Vec<String>),
}

impl Mirrors {
    fn names(self) -> Vec<String> {
        match self {
            Mirrors::One(s) => vec![s],
            Mirrors::Many(v) => v,
        }
    }
}

/// Which part of a mail a rule reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    Subject,
    Body,
    Trailers,
    AddedLines,
    Paths,
    Cover,
    Mail,
    /// The series as a whole (kinds max-patches, min-hours-since-sent,
    /// new-thread).
    Series,
    /// The series' subject prefix (`PATCH net-next`).
    Prefix,
    /// The name of the series' base.
    Base,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Present,
    Absent,
    SignoffAuthor,
    LineLength,
    UndeclaredCharset,
    MaxPatches,
    MinHoursSinceSent,
    NewThread,
}

/// A rule ready to run.
#[derive(Clone, Debug)]
pub struct Rule {
    pub id: String,
    pub severity: Severity,
    pub scope: Scope,
    pub kind: Kind,
    pattern: Option<Regex>,
    unless: Option<Regex>,
    columns: usize,
    pub message: String,
    /// The checkpatch types it mirrors: it yields to any of them.
    pub mirrors: Vec<String>,
    /// The lists it is for; empty: every series.
    pub lists: Vec<String>,
    /// The document it comes from.
    pub source: Option<String>,
    /// It runs only when the subject prefix matches.
    pub when_prefix: Option<Regex>,
    pub max: usize,
    pub hours: u64,
}

/// A rule file that could not be used, named by file and rule.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {msg}")]
pub struct RuleError {
    pub file: String,
    pub msg: String,
}

fn parse_file(
    name: &str,
    text: &str,
    into: &mut BTreeMap<String, (usize, RuleSpec)>,
) -> Result<(), RuleError> {
    let err = |msg: String| RuleError {
        file: name.to_string(),
        msg,
    };
    let f: File = toml::from_str(text).map_err(|e| err(e.to_string().trim().to_string()))?;
    if f.format != 1 {
        return Err(err(format!(
            "format {} is not understood (expected 1)",
            f.format
        )));
    }
    for mut r in f.rules {
        r.lists = f.lists.clone();
        let order = into.get(&r.id).map(|(o, _)| *o).unwrap_or(into.len());
        let merged = match into.remove(&r.id) {
            // A rule with a known id overrides the fields it sets.
            Some((_, old)) => RuleSpec {
                id: r.id.clone(),
                severity: r.severity.or(old.severity),
                scope: r.scope.or(old.scope),
                kind: r.kind.or(old.kind),
                pattern: r.pattern.or(old.pattern),
                unless: r.unless.or(old.unless),
                columns: r.columns.or(old.columns),
                message: r.message.or(old.message),
                mirrors: r.mirrors.or(old.mirrors),
                enabled: r.enabled.or(old.enabled),
                source: r.source.or(old.source),
                when_prefix: r.when_prefix.or(old.when_prefix),
                max: r.max.or(old.max),
                hours: r.hours.or(old.hours),
                lists: match r.lists.is_empty() {
                    true => old.lists,
                    false => r.lists,
                },
            },
            None => r,
        };
        into.insert(merged.id.clone(), (order, merged));
    }
    Ok(())
}

fn build(file: &str, s: RuleSpec) -> Result<Rule, RuleError> {
    let err = |msg: String| RuleError {
        file: file.to_string(),
        msg: format!("rule {}: {msg}", s.id),
    };
    let compile = |p: &Option<String>| -> Result<Option<Regex>, RuleError> {
        p.as_deref()
            .map(|p| {
                Regex::new(p).map_err(|e| {
                    err(format!(
                        "bad regex: {}",
                        e.to_string().lines().last().unwrap_or("")
                    ))
                })
            })
            .transpose()
    };
    let kind = s.kind.unwrap_or(Kind::Present);
    let pattern = compile(&s.pattern)?;
    if matches!(kind, Kind::Present | Kind::Absent) && pattern.is_none() {
        return Err(err("needs a pattern".into()));
    }
    Ok(Rule {
        severity: s.severity.ok_or_else(|| err("needs a severity".into()))?,
        scope: s.scope.ok_or_else(|| err("needs a scope".into()))?,
        kind,
        unless: compile(&s.unless)?,
        pattern,
        columns: s.columns.unwrap_or(100),
        message: s
            .message
            .clone()
            .ok_or_else(|| err("needs a message".into()))?,
        mirrors: s.mirrors.clone().map(Mirrors::names).unwrap_or_default(),
        when_prefix: compile(&s.when_prefix)?,
        lists: s.lists.iter().map(|l| l.to_ascii_lowercase()).collect(),
        source: s.source.clone(),
        max: s.max.unwrap_or(usize::MAX),
        hours: s.hours.unwrap_or(0),
        id: s.id,
    })
}

/// The built-in rules, extended and overridden by `dir/*.toml` when `dir`
/// exists.
pub fn load(dir: Option<&Path>) -> Result<Vec<Rule>, RuleError> {
    let mut files = Vec::new();
    if let Some(d) = dir.filter(|d| d.is_dir()) {
        if let Ok(entries) = std::fs::read_dir(d) {
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().and_then(|x| x.to_str()) == Some("toml") {
                    files.push(p);
                }
            }
        }
    }
    files.sort();
    let mut texts = Vec::with_capacity(files.len());
    for p in &files {
        let text = std::fs::read_to_string(p).map_err(|e| RuleError {
            file: p.display().to_string(),
            msg: e.to_string(),
        })?;
        texts.push((p.display().to_string(), text));
    }
    with_files(&texts)
}

/// Each rule file's lists and how they want a new version threaded:
/// the built-in files, then `dir/*.toml` (files that cannot be read are
/// left out here; [`load`] names them).
pub fn threading(dir: Option<&Path>) -> Vec<(Vec<String>, Threading)> {
    let mut texts: Vec<String> = SUBSYSTEMS.iter().map(|(_, t)| t.to_string()).collect();
    if let Some(entries) = dir.and_then(|d| std::fs::read_dir(d).ok()) {
        let mut paths: Vec<_> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        texts.extend(paths.iter().filter_map(|p| std::fs::read_to_string(p).ok()));
    }
    texts
        .iter()
        .filter_map(|t| toml::from_str::<File>(t).ok())
        .filter_map(|f| {
            let lists = f.lists.iter().map(|l| l.to_ascii_lowercase()).collect();
            f.new_version.map(|t| (lists, t))
        })
        .collect()
}

/// The built-in rules, extended and overridden by rule files given as
/// (name, text), in order.
pub fn with_files(files: &[(String, String)]) -> Result<Vec<Rule>, RuleError> {
    let mut specs = BTreeMap::new();
    parse_file("built-in checks/kernel.toml", DEFAULT, &mut specs)?;
    for (name, text) in SUBSYSTEMS {
        parse_file(name, text, &mut specs)?;
    }
    for (name, text) in files {
        parse_file(name, text, &mut specs)?;
    }
    let mut ordered: Vec<(usize, RuleSpec)> = specs.into_values().collect();
    ordered.sort_by_key(|(o, _)| *o);
    ordered
        .into_iter()
        .filter(|(_, s)| s.enabled.unwrap_or(true))
        .map(|(_, s)| build("checks", s))
        .collect()
}

/// Added lines of a diff with their file and new line number, read
/// through the one diff model (a hunk's lines counted by its header, so
/// an added `++ x` is a line, not a file header).
fn added_lines(diff: &[u8]) -> Vec<(String, u32, String)> {
    let Ok(patch) = crate::diff::Patch::parse(diff) else {
        return Vec::new();
    };
    patch
        .lines()
        .filter(|(_, _, l)| l.kind == crate::diff::patch::LineKind::Added)
        .map(|(f, _, l)| {
            (
                f.path(),
                l.new_no.unwrap_or(0),
                String::from_utf8_lossy(&l.text).into_owned(),
            )
        })
        .collect()
}

/// Paths touched by a diff.
fn paths(diff: &[u8]) -> Vec<String> {
    crate::diff::Patch::parse(diff)
        .map(|p| p.files.iter().map(|f| f.path()).collect())
        .unwrap_or_default()
}

/// Display width with tabs to 8 columns, as checkpatch counts.
fn columns(line: &str) -> usize {
    let mut col = 0;
    for c in line.chars() {
        if c == '\t' {
            col += 8 - col % 8;
        } else {
            col += str_width(c.encode_utf8(&mut [0; 4]));
        }
    }
    col
}

/// What a rule looks at for one message.
pub struct Target<'a> {
    /// 0 for the cover letter.
    pub patch: usize,
    pub mail: Option<&'a PatchMail>,
    pub subject: &'a str,
    /// The cover letter's prose and subject, for the cover.
    pub cover: Option<&'a str>,
    /// The mail as it will be sent.
    pub rendered: &'a [u8],
}

fn finding(
    rule: &Rule,
    t: &Target<'_>,
    file: Option<String>,
    line: Option<u32>,
    detail: Option<String>,
) -> Finding {
    rule.finding(Some(t.patch), file, line, detail)
}

impl Rule {
    /// The rule's pattern, when it has one.
    pub fn pattern(&self) -> Option<&Regex> {
        self.pattern.as_ref()
    }

    /// A finding of this rule: its message, the detail after it, and the
    /// document it comes from.
    pub fn finding(
        &self,
        patch: Option<usize>,
        file: Option<String>,
        line: Option<u32>,
        detail: Option<String>,
    ) -> Finding {
        let mut message = match detail {
            Some(d) => format!("{}: {d}", self.message),
            None => self.message.clone(),
        };
        if let Some(src) = &self.source {
            message.push_str(&format!(" ({src})"));
        }
        Finding {
            patch,
            file,
            line,
            rule: self.id.clone(),
            severity: self.severity,
            message,
            source: Source::Native,
        }
    }
}

fn declares_charset(rendered: &[u8]) -> bool {
    let head_end = rendered
        .windows(2)
        .position(|w| w == b"\n\n")
        .unwrap_or(rendered.len());
    String::from_utf8_lossy(&rendered[..head_end])
        .lines()
        .any(|l| {
            l.to_ascii_lowercase().starts_with("content-type:")
                && l.to_ascii_lowercase().contains("charset=")
        })
}

/// A piece of text a rule reads: its file and line when it has them.
type Text = (Option<String>, Option<u32>, String);

/// The texts of a message a rule's scope reads.
pub(super) fn texts(scope: Scope, t: &Target<'_>) -> Vec<Text> {
    match scope {
        Scope::Subject => vec![(None, None, t.subject.to_string())],
        Scope::Body => t
            .mail
            .map(|m| vec![(None, None, m.body.clone())])
            .unwrap_or_default(),
        Scope::Trailers => t
            .mail
            .map(|m| {
                vec![(
                    None,
                    None,
                    m.trailers()
                        .iter()
                        .map(|(k, v)| format!("{k}: {v}\n"))
                        .collect(),
                )]
            })
            .unwrap_or_default(),
        Scope::AddedLines => t
            .mail
            .map(|m| {
                added_lines(&m.diff)
                    .into_iter()
                    .map(|(f, n, l)| (Some(f), Some(n), l))
                    .collect()
            })
            .unwrap_or_default(),
        Scope::Paths => t
            .mail
            .map(|m| {
                paths(&m.diff)
                    .into_iter()
                    .map(|p| (Some(p.clone()), None, p))
                    .collect()
            })
            .unwrap_or_default(),
        Scope::Cover => t
            .cover
            .map(|c| vec![(None, None, c.to_string())])
            .unwrap_or_default(),
        Scope::Mail => vec![(None, None, String::from_utf8_lossy(t.rendered).into_owned())],
        // The series' own scopes: [`super::subsystem`] reads them.
        Scope::Series | Scope::Prefix | Scope::Base => Vec::new(),
    }
}

/// Run one rule on one message: one match over the rule kinds, so that
/// every kind is seen beside the others.
pub fn run(rule: &Rule, t: &Target<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let texts = texts(rule.scope, t);
    match rule.kind {
        Kind::Present => {
            let Some(re) = &rule.pattern else { return out };
            for (file, line, text) in &texts {
                for m in re.find_iter(text) {
                    if rule.unless.as_ref().is_some_and(|u| u.is_match(m.as_str())) {
                        continue;
                    }
                    let detail = (rule.scope != Scope::AddedLines
                        && m.as_str().len() < 120
                        && !m.as_str().trim().is_empty())
                    .then(|| format!("{:?}", m.as_str()));
                    out.push(finding(rule, t, file.clone(), *line, detail));
                    if rule.scope != Scope::Body {
                        break;
                    }
                }
            }
        }
        Kind::Absent => {
            let Some(re) = &rule.pattern else { return out };
            if !texts.is_empty() && !texts.iter().any(|(_, _, s)| re.is_match(s)) {
                out.push(finding(rule, t, None, None, None));
            }
        }
        Kind::SignoffAuthor => {
            if let Some(m) = t.mail.filter(|m| !signed_off_by_author(m)) {
                let detail = Some(format!("author is {}", m.author));
                out.push(finding(rule, t, None, None, detail));
            }
        }
        Kind::LineLength => {
            for (file, line, text) in &texts {
                let w = columns(text);
                if w > rule.columns {
                    out.push(finding(
                        rule,
                        t,
                        file.clone(),
                        *line,
                        Some(format!("{w} columns")),
                    ));
                }
            }
        }
        Kind::UndeclaredCharset => {
            if crate::text::has_non_ascii(t.rendered) && !declares_charset(t.rendered) {
                out.push(finding(rule, t, None, None, None));
            }
        }
        // The series' own kinds: [`super::subsystem`] runs them.
        Kind::MaxPatches | Kind::MinHoursSinceSent | Kind::NewThread => {}
    }
    out
}

/// Whether a patch's sign-offs include its author (or it has none, which
/// another rule reports).
fn signed_off_by_author(m: &crate::model::PatchMail) -> bool {
    let signoffs: Vec<String> = m
        .trailers()
        .into_iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("Signed-off-by"))
        .map(|(_, v)| v)
        .collect();
    let want = format!("<{}>", m.author.email.to_ascii_lowercase());
    signoffs.is_empty()
        || signoffs
            .iter()
            .any(|s| s.to_ascii_lowercase().contains(&want))
}

#[cfg(test)]
mod tests;
