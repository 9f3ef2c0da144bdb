//! `series attest`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args as ClapArgs;

use super::{emit, CliError, Context};
use crate::app::attest;

/// Make a patatt signing key (--gen-key), or check the patatt signatures of mail files
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Make an ed25519 key as `patatt genkey` does, in patatt's data folder
    #[arg(long, conflicts_with = "files")]
    pub gen_key: bool,

    /// The key's name and selector [default: today, YYYYMMDD]
    #[arg(long, value_name = "NAME", requires = "gen_key")]
    pub key_name: Option<String>,

    /// Mail files to check
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: Args, out: &mut dyn Write) -> Result<(), CliError> {
    if args.gen_key {
        return emit(out, &attest::gen_key(ctx, args.key_name)?, args.json);
    }
    let r = attest::verify(ctx, &args.files)?;
    emit(out, &r, args.json)?;
    Ok(r.verdict()?)
}
