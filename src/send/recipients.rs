//! Recipients: full addresses pass through; list names (`linux-mm`) resolve
//! through the tree's MAINTAINERS `L:` lines, or through the names a series
//! already recorded when no tree is at hand.

use std::collections::BTreeMap;

use crate::mail::address::same_address;

/// A name that is not an address and not a known list.
#[derive(Debug, thiserror::Error)]
pub enum RecipientError {
    #[error("unknown list {name:?}{}", near_text(.near))]
    Unknown { name: String, near: Vec<String> },
    #[error("recipient {0:?} is not one address (a comma outside quotes, a line break); give one address per option")]
    Invalid(String),
}

fn near_text(near: &[String]) -> String {
    if near.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", near.join(", "))
    }
}

/// Resolve one recipient. Returns the address (as it goes in a header) and,
/// for a list name, the name -> address pair to remember.
pub fn resolve(
    name: &str,
    tree_lists: &BTreeMap<String, String>,
    known: &BTreeMap<String, String>,
) -> Result<(String, Option<(String, String)>), RecipientError> {
    let name = name.trim();
    if !crate::store::one_recipient(name) {
        return Err(RecipientError::Invalid(name.to_string()));
    }
    if name.contains('@') {
        return Ok((name.to_string(), None));
    }
    if let Some(addr) = tree_lists.get(name).or_else(|| known.get(name)) {
        return Ok((addr.clone(), Some((name.to_string(), addr.clone()))));
    }
    let names = tree_lists.keys().chain(known.keys()).map(String::as_str);
    Err(RecipientError::Unknown {
        name: name.to_string(),
        near: crate::names::nearest(name, names),
    })
}

/// A recipients list and the list names it taught: name -> address.
pub type Resolved = (Vec<String>, Vec<String>, Vec<(String, String)>);

/// Resolve the To and Cc of a version, each the kept recipients then the
/// ones asked for: list names become addresses, each address appears once,
/// and one in To is not repeated in Cc. Returns To, Cc and the list names
/// resolved (to remember).
pub fn resolve_to_cc(
    to: (&[String], &[String]),
    cc: (&[String], &[String]),
    tree_lists: &BTreeMap<String, String>,
    known: &BTreeMap<String, String>,
) -> Result<Resolved, RecipientError> {
    let mut learned = Vec::new();
    let mut all = |kept: &[String], asked: &[String]| -> Result<Vec<String>, RecipientError> {
        let mut out: Vec<String> = Vec::new();
        for n in kept.iter().chain(asked) {
            let (addr, learn) = resolve(n, tree_lists, known)?;
            learned.extend(learn);
            if !out.iter().any(|o| same_address(o, &addr)) {
                out.push(addr);
            }
        }
        Ok(out)
    };
    let to = all(to.0, to.1)?;
    let cc = all(cc.0, cc.1)?
        .into_iter()
        .filter(|c| !to.iter().any(|t| same_address(t, c)))
        .collect();
    Ok((to, cc, learned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_lists_and_passes_addresses() {
        let tree: BTreeMap<_, _> =
            [("linux-mm".to_string(), "linux-mm@kvack.org".to_string())].into();
        let none = BTreeMap::new();
        assert_eq!(
            resolve("linux-mm", &tree, &none).unwrap().0,
            "linux-mm@kvack.org"
        );
        assert_eq!(
            resolve("linux-mm", &none, &tree).unwrap().0,
            "linux-mm@kvack.org"
        );
        assert_eq!(resolve("A <a@b>", &none, &none).unwrap().0, "A <a@b>");
        match resolve("linux-m", &tree, &none) {
            Err(RecipientError::Unknown { near, .. }) => assert_eq!(near, vec!["linux-mm"]),
            other => panic!("{other:?}"),
        }
        assert!(resolve("a@b\nBcc: x", &none, &none).is_err());
    }

    #[test]
    fn to_and_cc_resolve_once_each_and_to_wins() {
        let tree: BTreeMap<_, _> =
            [("linux-mm".to_string(), "linux-mm@kvack.org".to_string())].into();
        let none = BTreeMap::new();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let (to, cc, learned) = resolve_to_cc(
            (
                &s(&["linux-mm"]),
                &s(&["A <a@x.org>", "linux-mm@kvack.org"]),
            ),
            (&s(&["a@x.org"]), &s(&["linux-mm", "b@y.org"])),
            &tree,
            &none,
        )
        .unwrap();
        assert_eq!(to, s(&["linux-mm@kvack.org", "A <a@x.org>"]));
        assert_eq!(cc, s(&["b@y.org"]));
        assert_eq!(learned[0], ("linux-mm".into(), "linux-mm@kvack.org".into()));
    }
}

/// Whether a trailer's people are Cc'd on their patch: `Cc:` and every
/// `*-by:` trailer (Signed-off-by, Reviewed-by, Co-developed-by, ...), as
/// git send-email's `--suppress-cc` classes `sob`, `cc` and `misc-by` do.
fn cc_trailer(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k == "cc" || (k.ends_with("-by") && k.len() > 3)
}

/// The people in a patch's trailers, without `sender` and without repeats.
pub fn trailer_cc(mail: &crate::model::PatchMail, sender: &str) -> Vec<String> {
    let me = crate::mail::address::bare_address(sender);
    let mut out: Vec<String> = Vec::new();
    for (k, v) in mail.trailers() {
        if !cc_trailer(&k) || !v.contains('@') {
            continue;
        }
        // "Name <addr> # comment" and "addr [tag]" keep only the address part.
        let v = match v.find('>') {
            Some(end) => v[..=end].trim().to_string(),
            None => v.split_whitespace().next().unwrap_or("").to_string(),
        };
        let bare = crate::mail::address::bare_address(&v);
        if bare == me
            || out
                .iter()
                .any(|o| crate::mail::address::bare_address(o) == bare)
        {
            continue;
        }
        out.push(v);
    }
    out
}

/// Aliases from git's `sendemail.aliasesFile`, in the mutt (`alias name
/// addr`), mailrc (`alias name addr`) or sendmail (`name: addr, addr`)
/// format named by `sendemail.aliasFileType`.
pub fn parse_aliases(text: &str, kind: &str) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match kind {
            "sendmail" => {
                if let Some((name, addrs)) = line.split_once(':') {
                    let list = addrs
                        .split(',')
                        .map(|a| a.trim().to_string())
                        .filter(|a| !a.is_empty())
                        .collect();
                    out.insert(name.trim().to_string(), list);
                }
            }
            _ => {
                let Some(rest) = line.strip_prefix("alias ") else {
                    continue;
                };
                let mut parts = rest.trim().splitn(2, char::is_whitespace);
                if let (Some(name), Some(addr)) = (parts.next(), parts.next()) {
                    let list = addr
                        .split(',')
                        .map(|a| a.trim().trim_matches('"').to_string())
                        .collect();
                    out.insert(name.to_string(), list);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod more_tests {
    use super::*;
    use crate::model::{PatchMail, Person};

    #[test]
    fn trailers_become_cc_without_the_sender() {
        let m = PatchMail {
            commit: String::new(),
            author: Person { name: "Aaron Lu".into(), email: "aaron.lu@intel.com".into() },
            date: String::new(),
            title: "t".into(),
            body: "Text.\n\nReported-by: Dave Hansen <dave.hansen@intel.com>\nCc: Mel Gorman <mgorman@techsingularity.net> # v4.10\nAcked-by: linux-mm@kvack.org\nCo-developed-by: Huang Ying <ying.huang@intel.com>\nLink: https://x\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>\n".into(),
            diff: Vec::new(),
        };
        assert_eq!(
            trailer_cc(&m, "Aaron Lu <aaron.lu@intel.com>"),
            vec![
                "Dave Hansen <dave.hansen@intel.com>",
                "Mel Gorman <mgorman@techsingularity.net>",
                "linux-mm@kvack.org",
                "Huang Ying <ying.huang@intel.com>"
            ]
        );
    }

    #[test]
    fn aliases_in_mutt_and_sendmail_form() {
        let m = parse_aliases(
            "alias akpm Andrew Morton <akpm@linux-foundation.org>\n",
            "mutt",
        );
        assert_eq!(m["akpm"], vec!["Andrew Morton <akpm@linux-foundation.org>"]);
        let s = parse_aliases("mm: a@x, b@y\n", "sendmail");
        assert_eq!(s["mm"], vec!["a@x", "b@y"]);
    }
}
