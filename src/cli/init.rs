//! `series init`: create `series/` from commits of a kernel tree.

use std::io::Write;

use clap::Args as ClapArgs;

use super::{CliError, Context};
use crate::git::Tree;
use crate::import;
use crate::model::Version;
use crate::store;

/// Create series/ from the commits between a base and the tip, or from a
/// posted series (--mbox, --from)
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Where the series starts: a tag, branch, commit or a unique part of a
    /// ref name [for --mbox/--from: default the cover's base-commit]
    #[arg(long, required_unless_present_any = ["mbox", "from"])]
    pub base: Option<String>,

    /// Import a posted series from an mbox, a maildir or a folder of .eml files
    #[arg(long, value_name = "FILE", conflicts_with_all = ["from", "range"])]
    pub mbox: Option<std::path::PathBuf>,

    /// Import a posted series from its thread in a public-inbox archive
    #[arg(long, value_name = "MSGID", conflicts_with = "range")]
    pub from: Option<String>,

    /// The public-inbox archive [default: git config series.lore, else https://lore.kernel.org/all]
    #[arg(long, value_name = "URL")]
    pub lore: Option<String>,

    /// Seconds the archive may take to answer
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub lore_timeout: u64,

    /// Record the base under this name instead (e.g. an mmotm tag the tree lacks)
    #[arg(long, value_name = "NAME")]
    pub base_name: Option<String>,

    /// The commits to import [default: BASE..HEAD]; `A..B`, or a tip commit
    pub range: Option<String>,

    /// The version being prepared [for --mbox/--from: the version to import,
    /// default the newest complete one]
    #[arg(long = "version", short = 'v', value_name = "N")]
    pub version: Option<Version>,

    /// Short name of the series [default: the tree's current branch]
    #[arg(long)]
    pub name: Option<String>,

    /// The cover letter subject
    #[arg(long)]
    pub subject: Option<String>,

    /// Subject prefix
    #[arg(long, default_value = "PATCH")]
    pub prefix: String,
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let dir = &ctx.series_dir;
    if dir.exists() {
        return Err(CliError::user(format!("{} already exists", dir.display()))
            .hint("remove it first, or pass --series DIR to make another"));
    }
    let tree = Tree::open(&ctx.tree_path()?)?;
    if let Some(note) = args
        .base
        .as_deref()
        .and_then(|b| tree.resolve(b).ok())
        .and_then(|r| r.guess_note())
    {
        eprintln!("note: {note}");
    }
    if args.mbox.is_some() || args.from.is_some() {
        return from_mails(ctx, &tree, args, out);
    }
    let opts = import::Options {
        base: args.base.unwrap_or_default(),
        base_name: args.base_name,
        range: args.range,
        version: args.version.map_or(1, |v| v.0),
        name: args.name,
        subject: args.subject,
        prefix: args.prefix,
    };
    let mut series = import::from_tree(&tree, &opts)?;
    if let Some(sig) = ctx.setting("series.signature") {
        series.manifest.signature = sig;
    }
    store::create(dir, &series)?;
    writeln!(
        out,
        "Created {} with {} patch{} on {} ({}), version {}.",
        super::rel(dir, &ctx.cwd),
        series.patches.len(),
        if series.patches.len() == 1 { "" } else { "es" },
        series.manifest.base.name,
        series.manifest.base.commit.get(..12).unwrap_or(""),
        series.manifest.version
    )?;
    writeln!(
        out,
        "Next: write the cover letter in {}.",
        super::rel(&dir.join(store::COVER), &ctx.cwd)
    )?;
    Ok(())
}

/// The archive: --lore, else git config series.lore, else lore.kernel.org.
pub fn lore_base(ctx: &Context, flag: Option<&str>) -> String {
    flag.map(str::to_string)
        .or_else(|| ctx.setting("series.lore"))
        .unwrap_or_else(|| crate::lore::DEFAULT.to_string())
}

/// `init --mbox` / `init --from`: the newest complete version of a thread.
fn from_mails(ctx: &Context, tree: &Tree, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    let limit = std::time::Duration::from_secs(args.lore_timeout.max(1));
    let (mut raw, source, lore) = match (&args.mbox, &args.from) {
        (Some(path), _) => (
            crate::mailbox::read_source(path)?,
            super::rel(path, &ctx.cwd),
            None,
        ),
        (None, Some(msgid)) => {
            let base = lore_base(ctx, args.lore.as_deref());
            let client = crate::lore::Lore::new(&base, limit)?;
            (
                client.thread(msgid)?,
                format!("{base} (thread of <{}>)", msgid.trim_matches(['<', '>'])),
                Some(base),
            )
        }
        (None, None) => {
            return Err(CliError::internal(
                "init from mails without --mbox or --from",
            ))
        }
    };
    let read = |raw: &[Vec<u8>]| {
        let mut mails = Vec::new();
        for (i, bytes) in raw.iter().enumerate() {
            match crate::mail::received::parse(bytes, &format!("{source}: message {}", i + 1)) {
                Ok(m) => mails.push(m),
                // A thread holds mail that is not ours to read (a From:
                // git cannot use, two From: headers): said, then left out.
                Err(e) => eprintln!("note: left out {}", super::printable(&e.to_string())),
            }
        }
        mails
    };
    let mut mails = read(&raw);
    // Earlier versions the cover links to, fetched from the same archive
    // so that their review is tracked too.
    if let Some(base) = &lore {
        let client = crate::lore::Lore::new(base, limit)?;
        for (v, id) in import::missing_versions(&mails) {
            match client.thread(&id) {
                Ok(more) => {
                    eprintln!("note: fetched v{v}'s thread <{id}> from {base}");
                    raw.extend(more);
                }
                Err(e) => eprintln!(
                    "note: v{v}'s thread <{id}>: {}",
                    super::printable(&e.to_string())
                ),
            }
        }
        mails = read(&raw);
    }
    let opts = import::MailOptions {
        base: args.base,
        version: args.version.map(|v| v.0),
        name: args.name,
        lore,
    };
    let imported = import::from_mails(tree, &mails, &opts)?;
    // Signatures present are checked and told, patch by patch, for the
    // mails read (a mail refused above is not the patch imported); a
    // signer who is not the patch's author is named as such.
    let rings = super::attest::rings(ctx);
    for bytes in &raw {
        let Ok(mail) = crate::mail::received::parse(bytes, "mail") else {
            continue;
        };
        let found = crate::attest::verify(bytes, &rings, std::time::Duration::from_secs(60))
            .unwrap_or_default();
        let author = in_body_author(&mail.body).unwrap_or_else(|| mail.from.clone());
        for a in found {
            let mut note = super::attest::describe(&a);
            if !a.identity.eq_ignore_ascii_case(&author.email) {
                note.push_str(&format!("; the signer is not the author ({author})"));
            }
            eprintln!(
                "note: {}: {}",
                super::printable(&mail.subject),
                super::printable(&note)
            );
        }
    }
    for n in &imported.notes {
        eprintln!("note: {n}");
    }
    let mut series = imported.series;
    // The replies in the thread are the review of the versions posted.
    let replies = crate::review::add(&mut series, &raw, &source);
    store::create(&ctx.series_dir, &series)?;
    let m = &series.manifest;
    writeln!(
        out,
        "Imported v{} \"{}\" ({} patch{}) from {source} on {} ({}) into {}.",
        m.version,
        m.subject,
        series.patches.len(),
        if series.patches.len() == 1 { "" } else { "es" },
        m.base.name,
        m.base.commit.get(..12).unwrap_or(""),
        super::rel(&ctx.series_dir, &ctx.cwd)
    )?;
    let earlier: Vec<String> = m
        .history
        .iter()
        .filter(|h| h.version < m.version)
        .map(|h| format!("v{}", h.version))
        .collect();
    if !earlier.is_empty() {
        writeln!(
            out,
            "Earlier versions in the thread: {}.",
            earlier.join(", ")
        )?;
    }
    if replies.new > 0 {
        writeln!(
            out,
            "Kept {} repl{} in series/replies/: `series review` lists the comments.",
            replies.new,
            if replies.new == 1 { "y" } else { "ies" }
        )?;
    }
    writeln!(
        out,
        "v{} was posted, so it is final: `series reroll` starts v{}.",
        m.version,
        m.version.saturating_add(1)
    )?;
    Ok(())
}

/// The author an in-body `From:` line names, as git am reads it.
fn in_body_author(body: &str) -> Option<crate::model::Person> {
    let first = body.trim_start_matches('\n').lines().next()?;
    crate::mail::parse_person(first.strip_prefix("From: ")?)
}
