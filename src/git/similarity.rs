//! git's rename similarity score, so `similarity index N%` and `rename ... (N%)`
//! match what git prints. libgit2 finds the renames; this scores them the way
//! git's diffcore does: content is cut into spans (at newlines or every 64
//! bytes), each span hashed, and the bytes of the source found again in the
//! destination are counted against the larger of the two sizes.

use std::collections::HashMap;

const HASHBASE: u32 = 107_927;

fn spans(data: &[u8], is_text: bool) -> HashMap<u32, u64> {
    let mut out: HashMap<u32, u64> = HashMap::new();
    let (mut acc1, mut acc2, mut n) = (0u32, 0u32, 0u64);
    let mut i = 0;
    while i < data.len() {
        let c = u32::from(data[i]);
        i += 1;
        if is_text && c == u32::from(b'\r') && data.get(i) == Some(&b'\n') {
            continue;
        }
        let old1 = acc1;
        acc1 = (acc1 << 7) ^ (acc2 >> 25);
        acc2 = (acc2 << 7) ^ (old1 >> 25);
        acc1 = acc1.wrapping_add(c);
        n += 1;
        if n < 64 && c != u32::from(b'\n') {
            continue;
        }
        let h = acc1.wrapping_add(acc2.wrapping_mul(0x61)) % HASHBASE;
        *out.entry(h).or_default() += n;
        n = 0;
        acc1 = 0;
        acc2 = 0;
    }
    if n > 0 {
        let h = acc1.wrapping_add(acc2.wrapping_mul(0x61)) % HASHBASE;
        *out.entry(h).or_default() += n;
    }
    out
}

/// The similarity percentage git reports for a rename from `src` to `dst`.
// Follows git's diffcore-delta.c (hash_chars, diffcore_count_changes) and
// diffcore-rename.c (estimate_similarity).
pub fn rename_score(src: &[u8], dst: &[u8]) -> u32 {
    if src == dst {
        return 100;
    }
    let max_size = src.len().max(dst.len()) as u64;
    if max_size == 0 {
        return 100;
    }
    let text = |d: &[u8]| !d[..d.len().min(8000)].contains(&0);
    let a = spans(src, text(src));
    let b = spans(dst, text(dst));
    let copied: u64 = a
        .iter()
        .map(|(h, &cnt)| cnt.min(b.get(h).copied().unwrap_or(0)))
        .sum();
    let max_score = 60_000u64;
    let score = copied * max_score / max_size;
    (score * 100 / max_score) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_is_full_and_disjoint_is_low() {
        assert_eq!(rename_score(b"a\nb\n", b"a\nb\n"), 100);
        assert!(rename_score(b"aaaa\n", b"zzzz\n") < 50);
    }
}
