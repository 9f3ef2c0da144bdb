//! Suggesting near names for a name that matches nothing (a base, a list):
//! edit distance from `strsim`.

/// Up to five names closest to `wanted` by edit distance (or containing it,
/// or contained in it).
pub fn nearest<'a>(wanted: &str, names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut scored: Vec<(usize, &str)> = names
        .map(|n| (strsim::levenshtein(wanted, n), n))
        .filter(|(d, n)| {
            *d <= wanted.len().max(3) / 2 + 2 || n.contains(wanted) || wanted.contains(*n)
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(5)
        .map(|(_, n)| n.to_string())
        .collect()
}
