//! Flag groups more than one verb takes: recipients and threading
//! (`format`, `send`), and what a check runs (`check`).

use std::time::Duration;

use clap::Args as ClapArgs;

use crate::app::mails::CheckRequest;

/// Recipients and threading, shared by `format` and `send`.
#[derive(Debug, Clone, Default, ClapArgs)]
pub struct Addressing {
    /// Add a To: recipient: an address or a list name from MAINTAINERS (repeatable)
    #[arg(long, value_name = "WHO", add = super::complete::lists())]
    pub to: Vec<String>,

    /// Add a Cc: recipient: an address or a list name from MAINTAINERS (repeatable)
    #[arg(long, value_name = "WHO", add = super::complete::lists())]
    pub cc: Vec<String>,

    /// Thread the cover letter under this Message-Id, or under the cover of
    /// an earlier version given as vN
    #[arg(long, value_name = "MSGID|vN")]
    pub in_reply_to: Option<String>,

    /// Add a range-diff against an earlier version (vN; default the last
    /// one sent) to the cover letter, as git format-patch --range-diff does
    #[arg(
        long,
        value_name = "vN",
        num_args = 0..=1,
        default_missing_value = "",
        add = super::complete::versions()
    )]
    pub range_diff: Option<String>,

    /// Do not Cc the people named in each patch's trailers
    #[arg(long)]
    pub suppress_cc: bool,

    /// Do not sign the mails (they are signed, as patatt signs, when
    /// patatt.signingkey names an ed25519 key)
    #[arg(long)]
    pub no_sign: bool,
}

impl Addressing {
    pub fn request(self) -> crate::app::mails::Addressing {
        crate::app::mails::Addressing {
            to: self.to,
            cc: self.cc,
            in_reply_to: self.in_reply_to,
            range_diff: self.range_diff,
            suppress_cc: self.suppress_cc,
            no_sign: self.no_sign,
        }
    }
}

/// What `series check` runs beside what always runs.
#[derive(Debug, Clone, ClapArgs)]
pub struct CheckFlags {
    /// Pass --strict to checkpatch (CHECK-level findings)
    #[arg(long)]
    pub strict: bool,

    /// More arguments for checkpatch.pl, e.g. "--ignore LONG_LINE"
    /// [default: git config series.checkpatchArgs]
    #[arg(long, value_name = "ARGS", allow_hyphen_values = true)]
    pub checkpatch_args: Option<String>,

    /// Seconds checkpatch may spend on one patch
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub checkpatch_timeout: u64,

    /// checkpatch processes at once, and the job slots the builds share
    /// ($SERIES_BUILD_JOBS) [default: the number of CPUs]
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,

    /// Do not read or write the checkpatch and build caches
    #[arg(long)]
    pub no_cache: bool,

    /// Build at the base and every patch with this command, e.g.
    /// 'make -j2 W=1 mm/', or a profile: a NAME set in git config
    /// series.build.NAME (repeatable: each is a build of its own)
    #[arg(long, value_name = "COMMAND|PROFILE")]
    pub build: Vec<String>,

    /// Run sparse in every build, as `make C=1` does (when sparse is
    /// installed) [default: git config series.sparse]
    #[arg(long)]
    pub sparse: bool,

    /// Run this check command on every patch as b4 runs one (the mail on
    /// stdin, in the tree; b4's JSON out) and add what it reports
    /// (repeatable) [default: git config series.externalCheck]
    #[arg(long, value_name = "COMMAND")]
    pub external: Vec<String>,

    /// Seconds one build (at one patch) may take
    #[arg(long, default_value_t = 3600, value_name = "SECONDS")]
    pub build_timeout: u64,
}

impl CheckFlags {
    pub fn request(&self) -> CheckRequest {
        CheckRequest {
            strict: self.strict,
            checkpatch_args: self.checkpatch_args.clone(),
            checkpatch_timeout: Duration::from_secs(self.checkpatch_timeout),
            jobs: self.jobs,
            no_cache: self.no_cache,
            build: self.build.clone(),
            build_timeout: Duration::from_secs(self.build_timeout),
            sparse: self.sparse,
            external: self.external.clone(),
        }
    }
}
