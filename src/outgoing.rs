//! Render a version of the series as the files `git send-email` takes: the
//! cover letter and the patches, numbered, threaded and addressed.

use std::path::{Path, PathBuf};

use minijinja::context;

use crate::mail::{self, text};
use crate::model::{
    file_name_from_slug, patch_file_name, slug_of_file_name, ExtraHeaders, Numbering, Person,
};
use crate::store::Series;
use crate::template::{self, TemplateError};

/// A moment: seconds since the epoch and the zone offset in minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Moment {
    pub secs: i64,
    pub offset_minutes: i32,
    /// Sub-second part, mixed into Message-Ids when the clock is real.
    pub nanos: u32,
}

/// Errors reading `SERIES_NOW`.
#[derive(Debug, thiserror::Error)]
#[error("SERIES_NOW={0:?} is not a date: use `SECONDS +HHMM` or `YYYY-MM-DDTHH:MM:SS+HH:MM`")]
pub struct BadNow(pub String);

/// The last second a date may name: 9999-12-31 23:59:59 UTC.
pub const LAST_SECOND: i64 = 253_402_300_799;

impl Moment {
    /// The real clock, in UTC. (`SERIES_NOW` is read once by the command
    /// line and passed down as a fixed moment instead.)
    pub fn now() -> Moment {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Moment {
            secs: d.as_secs() as i64,
            offset_minutes: 0,
            nanos: d.subsec_nanos(),
        }
    }

    /// Parse `1489568531 -0400` (git's raw form) or `2017-03-15T05:02:11-04:00`,
    /// between 1970 and the end of 9999, every field in its range.
    pub fn parse(s: &str) -> Option<Moment> {
        Moment::parse_any(s).filter(|m| (0..=LAST_SECOND).contains(&m.secs))
    }

    fn parse_any(s: &str) -> Option<Moment> {
        let s = s.trim();
        if let Some((secs, off)) = s.split_once(' ') {
            let secs = secs.trim_start_matches('@').parse().ok()?;
            return Some(Moment {
                secs,
                offset_minutes: parse_offset(off)?,
                nanos: 0,
            });
        }
        if let Ok(secs) = s.trim_start_matches('@').parse() {
            return Some(Moment {
                secs,
                offset_minutes: 0,
                nanos: 0,
            });
        }
        // YYYY-MM-DDTHH:MM:SS(Z|±HH:MM)
        let (date, rest) = s.split_once('T')?;
        let mut d = date.split('-').map(|x| x.parse::<i64>());
        let (y, mo, da) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
        let (time, off) = if let Some(t) = rest.strip_suffix('Z') {
            (t, 0)
        } else {
            let at = rest.rfind(['+', '-'])?;
            (&rest[..at], parse_offset(&rest[at..].replace(':', ""))?)
        };
        let mut t = time.split(':').map(|x| x.parse::<i64>());
        let (h, mi, se) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
        if t.next().is_some()
            || !(1..=9999).contains(&y)
            || !(1..=12).contains(&mo)
            || !(1..=days_in_month(y, mo)).contains(&da)
            || !(0..24).contains(&h)
            || !(0..60).contains(&mi)
            || !(0..=60).contains(&se)
        {
            return None;
        }
        let days = days_from_civil(y, mo, da);
        Some(Moment {
            secs: days * 86_400 + h * 3600 + mi * 60 + se - i64::from(off) * 60,
            offset_minutes: off,
            nanos: 0,
        })
    }

    pub fn rfc2822(&self) -> String {
        text::rfc2822_date(self.secs, self.offset_minutes)
    }
}

fn parse_offset(s: &str) -> Option<i32> {
    let (sign, digits) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits[2..].parse().ok()?;
    if m >= 60 {
        return None;
    }
    Some(sign * (h * 60 + m))
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// What to render.
#[derive(Clone, Debug)]
pub struct Options {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// More Cc for each patch (its trailers' people); the cover gets them all.
    pub patch_cc: Vec<Vec<String>>,
    /// Chain the cover to an earlier message (`--in-reply-to`).
    pub in_reply_to: Option<String>,
    /// Who sends: the cover letter's From and the Message-Ids' domain.
    pub sender: Person,
    /// Exact To and Cc of each message (cover first), as a send journal
    /// recorded them; when set, `to`, `cc` and `patch_cc` are not used.
    pub exact: Option<Vec<(Vec<String>, Vec<String>)>>,
    pub now: Moment,
    /// The project folder holding `series/` (for `templates/`).
    pub project: PathBuf,
}

/// One rendered message.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Message {
    pub file: String,
    pub subject: String,
    pub message_id: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

/// Errors rendering outgoing mail.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("the series has no patches")]
    Empty,
    #[error(
        "{what} {value:?} holds a line break or a control character; headers cannot carry one"
    )]
    Newline { what: &'static str, value: String },
    #[error("the send journal lists {have} messages, but the series has {want}")]
    Recipients { have: usize, want: usize },
}

/// FNV-1a, a small stable hash for Message-Id uniqueness.
fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Message-Id for message `nr` (0 is the cover) of this version.
pub fn message_id(series: &Series, sender: &Person, now: Moment, nr: usize) -> String {
    let m = &series.manifest;
    let seed = format!(
        "{}|{}|{}|{}|{}",
        m.name, m.version, now.secs, now.nanos, sender.email
    );
    let h = fnv(seed.as_bytes());
    let domain = sender
        .email
        .rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or("localhost");
    let day = text::iso_day(now.secs, now.offset_minutes).replace('-', "");
    format!(
        "{day}-{}-v{}-{nr}-{:08x}@{domain}",
        mail_token(&m.name),
        m.version,
        h as u32
    )
}

fn mail_token(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if t.is_empty() {
        "series".into()
    } else {
        t
    }
}

/// The first patch's author: who the cover letter comes from when no
/// identity of the sender is known.
pub fn first_author(series: &Series) -> Person {
    series
        .patches
        .first()
        .map(|p| p.author.clone())
        .unwrap_or(Person {
            name: String::new(),
            email: "unknown@localhost".into(),
        })
}

/// `Author (N):` groups of patch titles, as git's shortlog in a cover letter.
pub fn shortlog(series: &Series) -> String {
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for p in &series.patches {
        match groups.iter_mut().find(|(a, _)| *a == p.author.name) {
            Some((_, v)) => v.push(&p.title),
            None => groups.push((p.author.name.clone(), vec![&p.title])),
        }
    }
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::new();
    for (author, titles) in groups {
        out.push_str(&format!("{author} ({}):\n", titles.len()));
        for t in titles {
            text::push_wrapped(&mut out, t, 2, 4, 72);
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

/// A list item's text wrapped at 72 columns after its `- ` bullet, later
/// lines indented under the text.
fn wrap_item(text: &str) -> String {
    let mut out = String::new();
    text::push_wrapped(&mut out, text, -2, 2, 72);
    out
}

/// The cover letter body from the layout template and the rendered prose.
pub fn cover_body(series: &Series, prose: &str, project: &Path) -> Result<String, TemplateError> {
    let m = &series.manifest;
    let changes = m
        .history
        .iter()
        .find(|h| h.version == m.version)
        .map(|h| h.changes.iter().map(|c| wrap_item(c)).collect::<Vec<_>>())
        .unwrap_or_default();
    let earlier: Vec<_> = m
        .history
        .iter()
        .filter(|h| h.version < m.version && h.link.is_some())
        .map(|h| context! { version => h.version, link => h.link.clone() })
        .collect();
    let mut prose = prose.trim_end().to_string();
    prose.push('\n');
    let prose = prose.trim_end_matches('\n');
    template::render_named(
        project,
        "cover-letter.txt",
        template::COVER_LETTER,
        context! {
            prose => prose,
            version => m.version,
            changes => changes,
            earlier => earlier,
            shortlog => shortlog(series),
            diffstat => m.diffstat.clone(),
            base_commit => m.base.commit.clone(),
            subject => m.subject.clone(),
        },
    )
}

fn check_header(what: &'static str, value: &str) -> Result<(), RenderError> {
    if value.chars().any(char::is_control) {
        Err(RenderError::Newline {
            what,
            value: value.to_string(),
        })
    } else {
        Ok(())
    }
}

/// How many times this process has rendered a version (`SERIES_TRACE=1`).
pub static RENDERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Render the cover letter and every patch of the current version.
pub fn render(series: &Series, prose: &str, opts: &Options) -> Result<Vec<Message>, RenderError> {
    RENDERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let m = &series.manifest;
    let total = series.patches.len();
    if total == 0 {
        return Err(RenderError::Empty);
    }
    check_header("the subject", &m.subject)?;
    check_header("the prefix", &m.prefix)?;
    for p in &series.patches {
        check_header("a patch title", &p.title)?;
        check_header("an author name", &p.author.name)?;
    }
    for a in opts
        .to
        .iter()
        .chain(&opts.cc)
        .chain(opts.patch_cc.iter().flatten())
        .chain(opts.in_reply_to.iter())
        .chain(
            opts.exact
                .iter()
                .flatten()
                .flat_map(|(to, cc)| to.iter().chain(cc)),
        )
    {
        check_header("a recipient", a)?;
    }
    let total_patches = series.patches.len();
    let patch_cc = |i: usize| -> Vec<String> {
        let mut cc: Vec<String> = Vec::new();
        for a in opts
            .cc
            .iter()
            .chain(opts.patch_cc.get(i).into_iter().flatten())
        {
            if !cc.iter().chain(&opts.to).any(|c| same_address(c, a)) {
                cc.push(a.clone());
            }
        }
        cc
    };
    let mut cover_cc: Vec<String> = Vec::new();
    for i in 0..total_patches {
        for a in patch_cc(i) {
            if !cover_cc.iter().any(|c| same_address(c, &a)) {
                cover_cc.push(a);
            }
        }
    }
    for a in &opts.cc {
        if !cover_cc.iter().chain(&opts.to).any(|c| same_address(c, a)) {
            cover_cc.push(a.clone());
        }
    }
    // Who gets message k (0 is the cover).
    let addressed = |k: usize| -> (Vec<String>, Vec<String>) {
        match opts.exact.as_ref().and_then(|e| e.get(k)) {
            Some((to, cc)) => (to.clone(), cc.clone()),
            None if k == 0 => (opts.to.clone(), cover_cc.clone()),
            None => (opts.to.clone(), patch_cc(k - 1)),
        }
    };
    if let Some(e) = &opts.exact {
        if e.len() != total_patches + 1 {
            return Err(RenderError::Recipients {
                have: e.len(),
                want: total_patches + 1,
            });
        }
    }
    let version = (m.version > 1).then_some(m.version);
    let from = opts.sender.clone();
    check_header("the sender", &from.to_string())?;
    let numbering = |nr| Numbering {
        prefix: m.prefix.clone(),
        version,
        nr,
        total,
        numbered: true,
    };
    let cover_id = message_id(series, &from, opts.now, 0);
    let mut out = Vec::with_capacity(total + 1);

    // The cover letter.
    let body = cover_body(series, prose, &opts.project)?;
    let tip = series
        .patches
        .last()
        .map(|p| p.commit.clone())
        .unwrap_or_default();
    let mut head = format!("From {tip} {}\n", mail::FROM_LINE_DATE);
    let (cover_to, cover_cc) = addressed(0);
    let cover_extra = ExtraHeaders {
        message_id: Some(cover_id.clone()),
        references: opts.in_reply_to.iter().cloned().collect(),
        to: cover_to.clone(),
        cc: cover_cc.clone(),
    };
    mail::push_thread_headers(&mut head, &cover_extra);
    mail::push_from_header(&mut head, &from);
    head.push_str(&format!("Date: {}\n", opts.now.rfc2822()));
    let tag = numbering(0).tag();
    mail::push_subject_header(&mut head, &tag, &m.subject);
    if text::has_non_ascii(body.as_bytes()) || text::has_non_ascii(m.subject.as_bytes()) {
        head.push_str(mail::MIME_HEADERS);
    }
    mail::push_address_header(&mut head, "To:", &cover_to);
    mail::push_address_header(&mut head, "Cc:", &cover_cc);
    head.push('\n');
    head.push_str(&body);
    head.push_str(&mail::signature_block(&m.signature));
    out.push(Message {
        file: cover_file_name(version),
        subject: format!("{tag}{}", m.subject),
        message_id: cover_id.clone(),
        to: cover_to,
        cc: cover_cc,
        bytes: head.into_bytes(),
    });

    // The patches, each a reply to the cover.
    let mut refs: Vec<String> = opts.in_reply_to.iter().cloned().collect();
    refs.push(cover_id);
    for (i, p) in series.patches.iter().enumerate() {
        let nr = i + 1;
        let id = message_id(series, &from, opts.now, nr);
        let (to, cc) = addressed(nr);
        let extra = ExtraHeaders {
            message_id: Some(id.clone()),
            references: refs.clone(),
            to: to.clone(),
            cc: cc.clone(),
        };
        let n = numbering(nr);
        out.push(Message {
            file: match m.patches.get(i).and_then(|e| slug_of_file_name(&e.file)) {
                Some(slug) => file_name_from_slug(version, nr, slug),
                None => patch_file_name(version, nr, &p.title),
            },
            subject: format!("{}{}", n.tag(), p.title),
            message_id: id,
            to,
            cc,
            bytes: mail::render_patch(p, &n, &extra, &m.signature),
        });
    }
    Ok(out)
}

/// The bare address of `Name <addr>` or `addr`, lowercased.
pub fn bare_address(a: &str) -> String {
    let a = a.trim();
    match (a.rfind('<'), a.rfind('>')) {
        (Some(l), Some(r)) if l < r => a[l + 1..r].trim().to_ascii_lowercase(),
        _ => a.to_ascii_lowercase(),
    }
}

/// Whether two recipients are the same address.
pub fn same_address(a: &str, b: &str) -> bool {
    bare_address(a) == bare_address(b)
}

/// git's name for the cover letter file.
pub fn cover_file_name(version: Option<u32>) -> String {
    match version {
        Some(v) => format!("v{v}-0000-cover-letter.patch"),
        None => "0000-cover-letter.patch".into(),
    }
}

/// Errors writing the outgoing folder.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", .path.display())]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Write `messages` into `dir`, replacing what was there, all or nothing.
pub fn write(dir: &Path, messages: &[Message]) -> Result<(), WriteError> {
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WriteError { path, source }
    };
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(err(parent))?;
    let stage = tempfile::Builder::new()
        .prefix(".outgoing-")
        .tempdir_in(parent)
        .map_err(err(parent))?;
    for m in messages {
        let p = stage.path().join(&m.file);
        std::fs::write(&p, &m.bytes).map_err(err(&p))?;
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(err(dir))?;
    }
    let staged = stage.keep();
    std::fs::rename(&staged, dir).map_err(err(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments() {
        let a = Moment::parse("1489568531 -0400").unwrap();
        let b = Moment::parse("2017-03-15T05:02:11-04:00").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.rfc2822(), "Wed, 15 Mar 2017 05:02:11 -0400");
        assert!(Moment::parse("yesterday").is_none());
        // Out of range: refused, never wrapped or overflowed.
        assert!(Moment::parse("2017-13-15T05:02:11Z").is_none());
        assert!(Moment::parse("2017-02-30T05:02:11Z").is_none());
        assert!(Moment::parse("2017-03-15T25:02:11Z").is_none());
        assert!(Moment::parse("99999999999999999999 +0000").is_none());
        assert!(Moment::parse("9223372036854775807 +0000").is_none());
        assert!(Moment::parse("-5 +0000").is_none());
        assert!(Moment::parse("1489568531 +0077").is_none());
        assert!(Moment::parse("1489568531 +\u{e9}00").is_none());
    }
}
