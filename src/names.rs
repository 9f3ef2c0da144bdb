//! Suggesting near names for a name that matches nothing (a base, a list),
//! ranked by how close each is to what was typed: a name one of whose
//! parts is it (`mm` in `linux-mm`) or that starts with it first, then by
//! the edit distance (`strsim`, transpositions counting once) to the
//! name's start as long as what was typed (`mm-stabel` is one step from
//! `mm-stable-2026-12-05`), then to the whole name.

/// How far `name` is from `wanted`: smaller is closer.
fn score(wanted: &str, name: &str) -> usize {
    let w = wanted.to_ascii_lowercase();
    let n = name.to_ascii_lowercase();
    if n == w {
        return 0;
    }
    if n.split(['-', '_', '.', '/']).any(|p| p == w) {
        return 1;
    }
    if n.starts_with(&w) {
        return 2;
    }
    let head: String = n.chars().take(w.chars().count()).collect();
    let near_head = strsim::damerau_levenshtein(&w, &head);
    let whole = strsim::damerau_levenshtein(&w, &n);
    3 + near_head.min(whole)
}

/// Up to five names closest to `wanted`, closest first; names too far to
/// be what was meant are left out.
pub fn nearest<'a>(wanted: &str, names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let limit = 3 + wanted.chars().count().max(3) / 2 + 1;
    let mut scored: Vec<(usize, usize, &str)> = names
        .map(|n| (score(wanted, n), n.len(), n))
        .filter(|(s, _, n)| *s <= limit || n.contains(wanted))
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.2 == b.2);
    scored
        .into_iter()
        .take(5)
        .map(|(_, _, n)| n.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_meant_comes_first() {
        let refs = [
            "master",
            "mm-stable-2026-12-05",
            "mm-unstable",
            "linux-next/master",
        ];
        assert_eq!(
            nearest("mm-stabel", refs.into_iter())[0],
            "mm-stable-2026-12-05"
        );
        let lists = [
            "linux-mm",
            "linux-kernel",
            "dmm",
            "mmc",
            "linux-mmc",
            "netdev",
        ];
        assert_eq!(nearest("mm", lists.into_iter())[0], "linux-mm");
        assert_eq!(nearest("linux-m", lists.into_iter())[0], "linux-mm");
        assert!(nearest("zzzzzz", lists.into_iter()).is_empty());
    }
}
