//! Recipients: full addresses pass through; list names (`linux-mm`) resolve
//! through the tree's MAINTAINERS `L:` lines, or through the names a series
//! already recorded when no tree is at hand.

use std::collections::BTreeMap;

/// A name that is not an address and not a known list.
#[derive(Debug, thiserror::Error)]
pub enum RecipientError {
    #[error("unknown list {name:?}{}", near_text(.near))]
    Unknown { name: String, near: Vec<String> },
    #[error("recipient {0:?} holds a line break or a comma; give one address per option")]
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
    if name.is_empty() || name.contains(['\n', '\r', ',']) {
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
        near: crate::git::nearest(name, names),
    })
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
}
