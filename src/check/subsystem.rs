//! Rules of a series as a whole, and the rules of a subsystem: a rule
//! file may name the lists it is for (`lists = [...]`, as
//! `checks/netdev.toml` names netdev's), and its rules then run only on a
//! series that goes to one of them. Each rule may name the document it
//! comes from (`source`), shown with what it finds, and run only when the
//! subject prefix matches `when_prefix` (netdev's `Fixes:` on `net`).

use super::rules::{Kind, Rule, Scope};
use crate::model::Finding;
use crate::outgoing::Message;
use crate::store::Series;

/// What the series-wide rules read.
pub struct Facts<'a> {
    pub patches: usize,
    /// The subject prefix, as `[PATCH net-next v2 1/3]` has it: `PATCH net-next`.
    pub prefix: &'a str,
    pub base: &'a str,
    pub version: u32,
    /// The day the last version before this one was sent (`YYYY-MM-DD`).
    pub last_sent: Option<(u32, &'a str)>,
    pub now_secs: i64,
    /// The cover letter goes out in reply to another message.
    pub in_reply_to: bool,
    /// Every address the mails go to, bare and in lower case.
    pub recipients: Vec<String>,
}

/// What the series-wide and subsystem rules read of the series and of
/// its mails as they will go out.
pub fn facts<'a>(series: &'a Series, messages: &[Message], now_secs: i64) -> Facts<'a> {
    let m = &series.manifest;
    let mut recipients: Vec<String> = messages
        .iter()
        .flat_map(|msg| msg.to.iter().chain(&msg.cc))
        .map(|a| crate::mail::address::bare_address(a))
        .collect();
    recipients.sort();
    recipients.dedup();
    let in_reply_to = messages.first().is_some_and(|c| {
        let head_end = c
            .bytes
            .windows(2)
            .position(|w| w == b"\n\n")
            .unwrap_or(c.bytes.len());
        String::from_utf8_lossy(&c.bytes[..head_end])
            .lines()
            .any(|l| l.to_ascii_lowercase().starts_with("in-reply-to:"))
    });
    Facts {
        patches: series.patches.len(),
        prefix: &m.prefix,
        base: &m.base.name,
        version: m.version,
        last_sent: m
            .history
            .iter()
            .filter(|h| h.version < m.version && !h.message_ids.is_empty())
            .max_by_key(|h| h.version)
            .and_then(|h| h.date.as_deref().map(|d| (h.version, d))),
        now_secs,
        in_reply_to,
        recipients,
    }
}

/// Whether `rule` is for this series: its file's lists among the
/// recipients (or none named), and its prefix condition met.
pub fn applies(rule: &Rule, facts: &Facts<'_>) -> bool {
    let listed = rule.lists.is_empty()
        || rule
            .lists
            .iter()
            .any(|l| facts.recipients.iter().any(|r| r == l));
    listed
        && rule
            .when_prefix
            .as_ref()
            .is_none_or(|re| re.is_match(facts.prefix))
}

/// Run a rule of the series' own scopes (series, prefix, base); its
/// findings are the cover letter's.
pub fn run(rule: &Rule, facts: &Facts<'_>) -> Vec<Finding> {
    let fire = |detail: Option<String>| vec![rule.finding(Some(0), None, None, detail)];
    let text = match rule.scope {
        Scope::Prefix => facts.prefix,
        Scope::Base => facts.base,
        Scope::Series => "",
        _ => return Vec::new(),
    };
    match rule.kind {
        Kind::Present if rule.scope != Scope::Series => {
            match rule.pattern().map(|re| re.find(text)) {
                Some(Some(m)) => fire(Some(format!("{:?}", m.as_str()))),
                _ => Vec::new(),
            }
        }
        Kind::Absent if rule.scope != Scope::Series => match rule.pattern() {
            Some(re) if !re.is_match(text) => fire(Some(format!("{text:?}"))),
            _ => Vec::new(),
        },
        Kind::MaxPatches if facts.patches > rule.max => {
            fire(Some(format!("{} patches", facts.patches)))
        }
        Kind::MinHoursSinceSent => {
            let Some((v, day)) = facts.last_sent else {
                return Vec::new();
            };
            // Sent that day: at most this long ago.
            let Some(start) = day_start(day) else {
                return Vec::new();
            };
            let hours = (facts.now_secs - start) / 3600;
            match hours < rule.hours as i64 {
                true => fire(Some(format!(
                    "v{v} was sent on {day}, less than {hours} hours ago"
                ))),
                false => Vec::new(),
            }
        }
        Kind::NewThread if facts.version > 1 && facts.in_reply_to => fire(Some(format!(
            "v{} is sent in reply to another message",
            facts.version
        ))),
        _ => Vec::new(),
    }
}

/// Seconds at the start (UTC) of a `YYYY-MM-DD` day.
fn day_start(day: &str) -> Option<i64> {
    let mut parts = day.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    Some(crate::clock::days_from_civil(y, m, d) * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(
        version: u32,
        last_sent: Option<(u32, &'static str)>,
        now: i64,
        reply: bool,
    ) -> Facts<'static> {
        Facts {
            patches: 16,
            prefix: "PATCH net-next",
            base: "v6.12",
            version,
            last_sent,
            now_secs: now,
            in_reply_to: reply,
            recipients: vec!["netdev@vger.kernel.org".into()],
        }
    }

    fn rule(id: &str) -> Rule {
        super::super::rules::with_files(&[])
            .unwrap()
            .into_iter()
            .find(|r| r.id == id)
            .unwrap()
    }

    #[test]
    fn netdev_rules_on_the_series_as_a_whole() {
        // 2017-03-15 10:00 UTC.
        let now = 1_489_536_000 + 10 * 3600;
        let wait = rule("netdev-wait");
        assert_eq!(
            run(&wait, &facts(2, Some((1, "2017-03-15")), now, false)).len(),
            1
        );
        let msg = &run(&wait, &facts(2, Some((1, "2017-03-15")), now, false))[0].message;
        assert!(
            msg.contains("v1 was sent on 2017-03-15, less than 10 hours ago"),
            "{msg}"
        );
        assert!(
            msg.ends_with("(maintainer-netdev.rst, on resending after review)"),
            "{msg}"
        );
        assert!(run(&wait, &facts(2, Some((1, "2017-03-13")), now, false)).is_empty());
        assert!(run(&wait, &facts(1, None, now, false)).is_empty());
        let thread = rule("netdev-new-thread");
        assert_eq!(run(&thread, &facts(2, None, now, true)).len(), 1);
        assert!(run(&thread, &facts(2, None, now, false)).is_empty());
        assert!(run(&thread, &facts(1, None, now, true)).is_empty());
        let max = rule("netdev-max-patches");
        assert_eq!(run(&max, &facts(1, None, now, false))[0].patch, Some(0));
        // netdev's rules are for netdev's series only.
        let mut other = facts(1, None, now, false);
        other.recipients = vec!["linux-mm@kvack.org".into()];
        assert!(!applies(&max, &other));
        assert!(applies(&max, &facts(1, None, now, false)));
        // Fixes: is asked on net, not on net-next.
        let fixes = rule("netdev-fixes");
        assert!(!applies(&fixes, &facts(1, None, now, false)));
        let mut net = facts(1, None, now, false);
        net.prefix = "PATCH net";
        assert!(applies(&fixes, &net));
    }

    #[test]
    fn days_start_at_midnight_utc() {
        assert_eq!(super::day_start("1970-01-01"), Some(0));
        assert_eq!(super::day_start("2017-03-15"), Some(1_489_536_000));
        assert_eq!(super::day_start("2024-02-29"), Some(1_709_164_800));
        assert_eq!(super::day_start("not a day"), None);
    }
}
