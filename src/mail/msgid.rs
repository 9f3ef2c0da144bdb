//! Message-Ids of the mails of a version: stable for one clock, sender and
//! version, so a resumed send renders the same ones.

use crate::clock::Moment;
use crate::model::Person;
use crate::text;

/// FNV-1a, a small stable hash for Message-Id uniqueness.
fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Message-Id for message `nr` (0 is the cover) of this version.
pub fn message_id(name: &str, version: u32, sender: &Person, now: Moment, nr: usize) -> String {
    let seed = format!(
        "{}|{}|{}|{}|{}",
        name, version, now.secs, now.nanos, sender.email
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
        mail_token(name),
        version,
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
