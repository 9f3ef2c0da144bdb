//! The history of a posted series: one entry per version found in the
//! thread (its day, recipients, Message-Ids and archive link), the changes
//! its cover and patch notes list, and the earlier versions a cover links
//! to that the thread lacks.

use std::collections::BTreeMap;

use super::mails::Posting;
use crate::mail::received::Received;
use crate::store::VersionEntry;

fn history_entry(v: u32, p: &Posting, lore: Option<&str>) -> VersionEntry {
    let first = p.first();
    let ids = p.ids();
    VersionEntry {
        version: v,
        date: first
            .and_then(|m| crate::mail::parse_rfc2822(&m.date))
            .map(|(s, o)| crate::text::iso_day(s, o)),
        from: first.map(|m| crate::mail::received::address_text(&m.from.name, &m.from.email)),
        link: match (lore, ids.first()) {
            (Some(l), Some(id)) => Some(crate::review::ledger::mail_link(
                l,
                id.trim_matches(['<', '>']),
            )),
            _ => None,
        },
        message_ids: ids,
        ..VersionEntry::default()
    }
}

/// The history of every version the mails and the imported cover tell
/// of: each posting found (its day, poster, Message-Ids), the changes
/// each cover lists and each patch's notes under its `---`, and the links
/// to versions not found in the mails.
pub(super) fn history(
    found: &BTreeMap<u32, Posting>,
    v: u32,
    parts: &super::cover::Parts,
    lore: Option<&str>,
    patch_notes: &[(usize, BTreeMap<u32, Vec<String>>)],
) -> Vec<VersionEntry> {
    let mut out: BTreeMap<u32, VersionEntry> = found
        .iter()
        .filter(|(k, _)| **k <= v)
        .map(|(k, p)| (*k, history_entry(*k, p, lore)))
        .collect();
    for (&k, url) in &parts.links {
        if k < v {
            let e = out.entry(k).or_insert_with(|| VersionEntry {
                version: k,
                ..VersionEntry::default()
            });
            e.link.get_or_insert_with(|| url.clone());
        }
    }
    for (&k, changes) in &parts.changes {
        if k <= v && k >= 1 {
            let e = out.entry(k).or_insert_with(|| VersionEntry {
                version: k,
                ..VersionEntry::default()
            });
            e.changes.extend(changes.iter().cloned());
        }
    }
    // An earlier cover's own changelog, where the newest says nothing of
    // its version.
    for (&k, p) in found.iter().filter(|(k, _)| **k < v) {
        if let Some(c) = p.cover {
            let earlier = super::cover::read(&c.body, k);
            if let Some(e) = out.get_mut(&k) {
                if e.changes.is_empty() {
                    e.changes = earlier.changes.get(&k).cloned().unwrap_or_default();
                }
            }
        }
    }
    for (nr, notes) in patch_notes {
        for (&k, items) in notes {
            if let Some(e) = out.get_mut(&k.min(v)) {
                for i in items {
                    e.changes.push(format!("patch {nr}: {i}"));
                }
            }
        }
    }
    // Versions before the first one known still count from 1.
    for k in 1..v {
        out.entry(k).or_insert_with(|| VersionEntry {
            version: k,
            ..VersionEntry::default()
        });
    }
    out.into_values().collect()
}

/// Links to earlier versions whose threads the mails lack: (version,
/// Message-Id) of each link an archive can be asked for.
pub fn missing_versions(mails: &[Received]) -> Vec<(u32, String)> {
    let have: std::collections::BTreeSet<u32> = mails
        .iter()
        .filter(|m| !m.is_reply)
        .filter_map(|m| m.tag.as_ref().map(|t| t.version))
        .collect();
    let mut out = Vec::new();
    for m in mails.iter().filter(|m| !m.is_reply) {
        let Some(t) = &m.tag else { continue };
        if t.nr != 0 {
            continue;
        }
        let parts = super::cover::read(&m.body, t.version);
        for (&k, url) in &parts.links {
            if let Some(id) = super::cover::msgid_of_link(url) {
                if !have.contains(&k) && !out.iter().any(|(_, i)| *i == id) {
                    out.push((k, id));
                }
            }
        }
        // A cover in reply to the cover before it.
        if let (Some(parent), true) = (&m.in_reply_to, t.version > 1) {
            if !have.contains(&(t.version - 1)) && !mails.iter().any(|o| &o.message_id == parent) {
                out.push((t.version - 1, parent.clone()));
            }
        }
    }
    out
}
