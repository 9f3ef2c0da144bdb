//! Render a version of the series as the files `git send-email` takes: the
//! cover letter and the patches, numbered, threaded and addressed.

use std::path::{Path, PathBuf};

use minijinja::context;

use crate::clock::Moment;
use crate::mail;
use crate::mail::address::same_address;
use crate::mail::msgid::message_id;
use crate::model::{
    file_name_from_slug, patch_file_name, slug_of_file_name, ExtraHeaders, Numbering, Person,
};
use crate::store::Series;
use crate::template::{self, TemplateError};
use crate::text;

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
    pub exact: Option<Vec<Addressed>>,
    pub now: Moment,
    /// The project folder holding `series/` (for `templates/`).
    pub project: PathBuf,
    /// A range-diff against an earlier version for the cover letter (the
    /// version, the text), as `git format-patch --range-diff` adds it.
    pub range_diff: Option<(u32, String)>,
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
pub fn cover_body(
    series: &Series,
    prose: &str,
    project: &Path,
    range_diff: Option<&(u32, String)>,
) -> Result<String, TemplateError> {
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
            change_id => m.change_id.clone().unwrap_or_default(),
            prerequisites => crate::depends::footer(&m.depends),
            subject => m.subject.clone(),
            range_diff => range_diff.map(|r| r.1.clone()),
            range_diff_against => range_diff.map(|r| r.0),
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

/// The To and Cc of one message.
pub type Addressed = (Vec<String>, Vec<String>);

/// Who gets each message (the cover first): the To of all, each patch's
/// Cc (the Cc asked for, then its trailers' people, none repeated from To),
/// the cover's Cc their union; or exactly what a journal recorded.
fn addresses(series: &Series, opts: &Options) -> Result<Vec<Addressed>, RenderError> {
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
    if let Some(e) = &opts.exact {
        if e.len() != total_patches + 1 {
            return Err(RenderError::Recipients {
                have: e.len(),
                want: total_patches + 1,
            });
        }
        return Ok(e.clone());
    }
    let mut all = vec![(opts.to.clone(), cover_cc)];
    all.extend((0..total_patches).map(|i| (opts.to.clone(), patch_cc(i))));
    Ok(all)
}

/// Every value that goes into a header is one line.
fn check_headers(series: &Series, opts: &Options) -> Result<(), RenderError> {
    let m = &series.manifest;
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
    Ok(())
}

/// Render the cover letter and every patch of the current version.
pub fn render(series: &Series, prose: &str, opts: &Options) -> Result<Vec<Message>, RenderError> {
    crate::testing::count(crate::testing::Counter::Render);
    let m = &series.manifest;
    let total = series.patches.len();
    if total == 0 {
        return Err(RenderError::Empty);
    }
    check_headers(series, opts)?;
    let addressed = addresses(series, opts)?;
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
    let cover_id = message_id(&m.name, m.version, &from, opts.now, 0);
    let mut out = Vec::with_capacity(total + 1);

    // The cover letter.
    let body = cover_body(series, prose, &opts.project, opts.range_diff.as_ref())?;
    let tip = series
        .patches
        .last()
        .map(|p| p.commit.clone())
        .unwrap_or_default();
    let mut head = format!("From {tip} {}\n", mail::FROM_LINE_DATE);
    let (cover_to, cover_cc) = addressed[0].clone();
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
        let id = message_id(&m.name, m.version, &from, opts.now, nr);
        let (to, cc) = addressed[nr].clone();
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

/// git's name for the cover letter file.
pub fn cover_file_name(version: Option<u32>) -> String {
    match version {
        Some(v) => format!("v{v}-0000-cover-letter.patch"),
        None => "0000-cover-letter.patch".into(),
    }
}

/// Errors writing the outgoing folder.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} holds files series did not write; it writes mails only into a folder of its own", .0.display())]
    NotOurs(PathBuf),
}

/// The file that marks a folder of mails as series': the names of the
/// files series wrote there, one per line.
pub const MARK: &str = ".series-mails";

/// Write `messages` into `dir`, a folder series owns: made now, empty, or
/// marked as series' by an earlier write. Each file is written beside its
/// place and renamed over it; of the files an earlier write left there,
/// those this write does not make again are removed; nothing else there is
/// ever touched. A folder with other files in it is refused.
pub fn write(dir: &Path, messages: &[Message], owned: bool) -> Result<(), WriteError> {
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WriteError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(err(dir))?;
    let mark = dir.join(MARK);
    let before: Vec<String> = match std::fs::read_to_string(&mark) {
        Ok(text) => text.lines().map(str::to_string).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let others = std::fs::read_dir(dir)
                .map_err(err(dir))?
                .flatten()
                .any(|e| !e.file_name().to_string_lossy().starts_with(".series-"));
            if others && !owned {
                return Err(WriteError::NotOurs(dir.to_path_buf()));
            }
            Vec::new()
        }
        Err(e) => return Err(err(&mark)(e)),
    };
    let names: Vec<String> = messages.iter().map(|m| m.file.clone()).collect();
    // The mark first names every file this write may leave, so a write cut
    // short leaves nothing the next one would not own.
    let mut all = before.clone();
    for n in &names {
        if !all.contains(n) {
            all.push(n.clone());
        }
    }
    put(dir, MARK, all.join("\n").as_bytes()).map_err(err(&mark))?;
    for m in messages {
        let p = dir.join(&m.file);
        put(dir, &m.file, &m.bytes).map_err(err(&p))?;
    }
    for old in before.iter().filter(|o| !names.contains(o)) {
        // Only plain names: a mark edited to name `../x` removes nothing.
        if crate::store::FileName::new(old).is_ok() {
            let p = dir.join(old);
            match std::fs::remove_file(&p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(err(&p)(e)),
                _ => {}
            }
        }
    }
    put(dir, MARK, names.join("\n").as_bytes()).map_err(err(&mark))
}

/// Write one file atomically: a temporary file beside it, then a rename.
fn put(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut tmp = tempfile::Builder::new()
        .prefix(".series-tmp-")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(dir.join(name)).map(|_| ()).map_err(|e| e.error)
}

impl crate::error::Advice for RenderError {
    fn hint(&self) -> Option<String> {
        match self {
            RenderError::Template(t) => t.hint(),
            _ => None,
        }
    }
}

impl crate::error::Advice for WriteError {
    fn hint(&self) -> Option<String> {
        crate::error::says(match self {
            WriteError::NotOurs(_) => {
                "give -o a new or empty folder (series makes it), or leave -o out for outgoing/vN"
            }
            WriteError::Io { .. } => "choose a writable folder with -o DIR",
        })
    }
}
