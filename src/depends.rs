//! Series that depend on series. A prerequisite is another series of this
//! repository (by name or folder), or a series posted to a list (the
//! Message-Id of its cover), recorded in `series.toml` with the version
//! depended on and each of its patches' patch-id. The cover letter says
//! so in the footers b4 writes and reads (`prerequisite-change-id:
//! ID:vN` or `prerequisite-message-id: <ID>`, then one
//! `prerequisite-patch-id:` per patch) and in Patchwork's `Depends-on:`.

use serde::{Deserialize, Serialize};

use crate::mail::received::Received;
use crate::model::PatchMail;

/// How a prerequisite was named.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A series of this repository (its name in `series list`), or a
    /// series folder (its path).
    Series,
    /// A series posted to a list: the Message-Id of its cover.
    MessageId,
}

/// One prerequisite, as `series.toml` keeps it (`[[depends]]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Prerequisite {
    pub kind: Kind,
    /// The series' name or folder, or the cover's Message-Id (without
    /// angle brackets).
    pub name: String,
    /// What it is: its cover's subject.
    pub subject: String,
    /// The version depended on.
    pub version: u32,
    /// Its b4 change-id, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_id: Option<String>,
    /// The Message-Id of that version's cover, when it was posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Each of its patches' patch-id (`git patch-id --stable`), in order.
    #[serde(default)]
    pub patch_ids: Vec<String>,
}

/// The patch-id of a patch's diff, as `git patch-id --stable` gives it.
pub fn patch_id(diff: &[u8]) -> Option<String> {
    git2::Diff::from_buffer(diff)
        .and_then(|d| d.patchid(None))
        .ok()
        .map(|o| o.to_string())
}

/// The cover letter's footer lines for `deps`, in order: b4's
/// `prerequisite-change-id:` (else `prerequisite-message-id:`) and
/// `prerequisite-patch-id:` lines, and Patchwork's `Depends-on:`.
pub fn footer(deps: &[Prerequisite]) -> String {
    let mut out = String::new();
    for d in deps {
        match (&d.change_id, &d.message_id) {
            (Some(c), _) => out.push_str(&format!("prerequisite-change-id: {c}:v{}\n", d.version)),
            (None, Some(m)) => out.push_str(&format!("prerequisite-message-id: <{m}>\n")),
            (None, None) => {}
        }
        for p in &d.patch_ids {
            out.push_str(&format!("prerequisite-patch-id: {p}\n"));
        }
    }
    for m in deps.iter().filter_map(|d| d.message_id.as_ref()) {
        out.push_str(&format!("Depends-on: <{m}>\n"));
    }
    out
}

/// The newest complete version of a posted series among `mails` (a
/// thread): its cover, if any, and its patches in order. None when no
/// version has all its patches.
pub fn posted(mails: &[Received]) -> Option<(Option<&Received>, Vec<&Received>, u32)> {
    let mut versions: Vec<u32> = mails
        .iter()
        .filter(|m| !m.is_reply)
        .filter_map(|m| m.tag.as_ref().map(|t| t.version))
        .collect();
    versions.sort_unstable();
    versions.dedup();
    versions.into_iter().rev().find_map(|v| {
        let of_v = |nr: usize| {
            mails.iter().find(|m| {
                !m.is_reply && m.tag.as_ref().is_some_and(|t| t.version == v && t.nr == nr)
            })
        };
        let total = mails
            .iter()
            .filter(|m| !m.is_reply)
            .filter_map(|m| m.tag.as_ref())
            .find(|t| t.version == v)?
            .total;
        let patches: Vec<&Received> = (1..=total.max(1)).map(of_v).collect::<Option<_>>()?;
        Some((of_v(0), patches, v))
    })
}

/// The file under `series/depends/` that keeps a posted prerequisite's
/// patches: its Message-Id, with what a file name should not hold made
/// `_`, and `.mbox`.
pub fn mbox_name(msgid: &str) -> String {
    let safe: String = msgid
        .chars()
        .take(200)
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '.' | '@' | '+' | '-' | '_' => c,
            _ => '_',
        })
        .collect();
    format!("{}.mbox", safe.trim_start_matches('.'))
}

/// The patch-ids of `patches`, each as [`patch_id`] gives it; a patch
/// whose diff cannot be read has none (and is left out).
pub fn patch_ids(patches: &[PatchMail]) -> Vec<String> {
    patches.iter().filter_map(|p| patch_id(&p.diff)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_id_makes_a_plain_file_name() {
        assert_eq!(mbox_name("..a/b c@x.org"), "a_b_c@x.org.mbox");
        assert_eq!(
            mbox_name("20250101-x-v2-0-ab12@kernel.org"),
            "20250101-x-v2-0-ab12@kernel.org.mbox"
        );
    }

    #[test]
    fn footers_are_b4s_and_patchworks() {
        let deps = [
            Prerequisite {
                kind: Kind::Series,
                name: "tlb-batch".into(),
                subject: "mm: batch tlb frees".into(),
                version: 3,
                change_id: Some("20170301-tlb-batch-0a1b2c".into()),
                message_id: Some("20170301-tlb-batch-v3-0-0a1b2c@intel.com".into()),
                patch_ids: vec!["1111".into(), "2222".into()],
            },
            Prerequisite {
                kind: Kind::MessageId,
                name: "x@y".into(),
                subject: "s".into(),
                version: 1,
                change_id: None,
                message_id: Some("x@y".into()),
                patch_ids: vec!["3333".into()],
            },
        ];
        assert_eq!(
            footer(&deps),
            "prerequisite-change-id: 20170301-tlb-batch-0a1b2c:v3\nprerequisite-patch-id: 1111\nprerequisite-patch-id: 2222\nprerequisite-message-id: <x@y>\nprerequisite-patch-id: 3333\nDepends-on: <20170301-tlb-batch-v3-0-0a1b2c@intel.com>\nDepends-on: <x@y>\n"
        );
    }
}
