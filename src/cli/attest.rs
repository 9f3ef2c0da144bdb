//! `series attest`: make a patatt key, or check the signatures of mails.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args as ClapArgs;

use super::error::TOOL;
use super::{CliError, Context};
use crate::attest::{self, Outcome};

/// Make a patatt signing key (--gen-key), or check the patatt signatures of mail files
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Make an ed25519 key as `patatt genkey` does, in patatt's data folder
    #[arg(long, conflicts_with = "files")]
    pub gen_key: bool,

    /// The key's name and selector [default: today, YYYYMMDD]
    #[arg(long, value_name = "NAME", requires = "gen_key")]
    pub name: Option<String>,

    /// Mail files to check
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// The keyrings of this context: the tree's, `patatt.keyringsrc`, patatt's.
pub fn rings(ctx: &Context) -> Vec<PathBuf> {
    let extra: Vec<String> = ctx.config("patatt.keyringsrc").into_iter().collect();
    attest::keyrings(ctx.tree_path_opt().as_deref(), &extra)
}

/// One line per signature: who signed and how it checks.
pub fn describe(a: &attest::Attestation) -> String {
    let who = format!("{} (selector {})", a.identity, a.selector);
    match &a.outcome {
        Outcome::Valid { source } => format!("signed by {who}: valid, key {source}"),
        Outcome::Bad(why) => format!("signed by {who}: BAD signature: {why}"),
        Outcome::NoKey => format!("signed by {who}: no public key in the keyrings to check it"),
        Outcome::Unsupported(a) => {
            format!("signed by {who} with {a}: not checked (series checks ed25519)")
        }
    }
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    if args.gen_key {
        let identity = ctx
            .config("patatt.identity")
            .or_else(|| ctx.config("user.email"))
            .ok_or_else(|| {
                CliError::user("a key needs an identity")
                    .hint("set user.email (or patatt.identity) in git config")
            })?;
        let name = args
            .name
            .unwrap_or_else(|| crate::text::iso_day(ctx.now().secs, 0).replace('-', ""));
        if crate::store::FileName::new(&name).is_err() {
            return Err(CliError::usage(format!("{name:?} is not a plain key name")));
        }
        let written = attest::gen_key(&attest::data_dir(), &name, &identity)
            .map_err(|e| CliError::user(e.to_string()))?;
        for w in &written {
            writeln!(out, "Wrote {}", w.display())?;
        }
        writeln!(out, "Add to your git config (as patatt genkey says):")?;
        writeln!(
            out,
            "[patatt]\n    signingkey = ed25519:{name}\n    selector = {name}"
        )?;
        return Ok(());
    }
    if args.files.is_empty() {
        return Err(CliError::usage(
            "name mail files to check, or pass --gen-key",
        ));
    }
    let rings = rings(ctx);
    let mut bad = 0;
    for f in &args.files {
        let path = if f.is_absolute() {
            f.clone()
        } else {
            ctx.cwd.join(f)
        };
        let shown = super::rel(&path, &ctx.cwd);
        let bytes = std::fs::read(&path)
            .map_err(|e| CliError::user(format!("cannot read {shown}: {e}")))?;
        let found = attest::verify(&bytes, &rings, Duration::from_secs(60))
            .map_err(|e| CliError::user(format!("{shown}: {e}")).with_code(TOOL))?;
        if found.is_empty() {
            writeln!(out, "{shown}: not signed")?;
        }
        for a in &found {
            if !matches!(a.outcome, Outcome::Valid { .. }) {
                bad += 1;
            }
            writeln!(out, "{shown}: {}", describe(a))?;
        }
    }
    if bad > 0 {
        return Err(CliError::user(format!(
            "{bad} signature{} did not check",
            if bad == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}
