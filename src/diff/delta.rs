//! Binary deltas exactly as git makes them for `GIT binary patch`
//! sections. The logic follows git's diff-delta.c (`create_delta_index`,
//! `create_delta`): the source is indexed by a Rabin fingerprint of every
//! 16-byte block (the lowest of a run of identical blocks kept, buckets
//! culled evenly to 64 entries), then the target is scanned with a rolling
//! fingerprint, copying the longest match found in the bucket (4096 bytes
//! being "good enough"), inserting literal bytes otherwise, a match
//! extended backwards over pending inserts. The same choices give the same
//! bytes; libgit2's own delta code makes other choices on repetitive data.

const WINDOW: usize = 16;
const SHIFT: u32 = 23;
const HASH_LIMIT: usize = 64;
/// The low 31 bits of git's Rabin polynomial (x^31 + these).
const POLY: u32 = 0x2b59_b4d1;
/// The most bytes one opcode sequence can take (header, window, copy).
const MAX_OP: usize = 5 + 5 + 1 + WINDOW + 7;

/// `x^(31 + k) mod P` for the bits of a byte, and the tables built from it.
struct Tables {
    /// What to add when the top byte of a 31-bit value is shifted out.
    t: [u32; 256],
    /// What to remove for a byte leaving the 16-byte window.
    u: [u32; 256],
}

/// Multiply a 31-bit remainder by x, mod P.
fn times_x(r: u32) -> u32 {
    let s = r << 1;
    if s & 0x8000_0000 != 0 {
        (s & 0x7fff_ffff) ^ POLY
    } else {
        s
    }
}

fn tables() -> &'static Tables {
    static T: std::sync::OnceLock<Tables> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        // x^(31 + j) mod P for j = 0..8: the reduction of each bit that
        // `val << 8` pushes past bit 30.
        let mut pow = [0u32; 8];
        pow[0] = POLY;
        for j in 1..8 {
            pow[j] = times_x(pow[j - 1]);
        }
        let mut t = [0u32; 256];
        for (i, slot) in t.iter_mut().enumerate() {
            // Bit 31 of the entry is bit 0 of the index: git's table keeps
            // the one shifted-out bit a 32-bit value still holds.
            let mut v = ((i as u32) & 1) << 31;
            for (j, p) in pow.iter().enumerate() {
                if i & (1 << j) != 0 {
                    v ^= p;
                }
            }
            *slot = v;
        }
        // A byte that entered WINDOW steps ago weighs b * x^(8*(WINDOW-1))
        // mod P in the fingerprint.
        let mut u = [0u32; 256];
        for (b, slot) in u.iter_mut().enumerate() {
            let mut v = 0u32;
            for i in 0..WINDOW {
                let byte = if i == 0 { b as u32 } else { 0 };
                v = ((v << 8) | byte) ^ t[(v >> SHIFT) as usize];
            }
            *slot = v;
        }
        Tables { t, u }
    })
}

/// One fingerprint step: `byte` enters.
fn step(t: &Tables, val: u32, byte: u8) -> u32 {
    ((val << 8) | u32::from(byte)) ^ t.t[(val >> SHIFT) as usize]
}

/// The fingerprint of the 16 bytes at `block`.
fn block_hash(t: &Tables, block: &[u8]) -> u32 {
    block.iter().fold(0, |v, &b| step(t, v, b))
}

/// The index of a source buffer: buckets of (fingerprint, offset just
/// past the block).
struct Index {
    mask: u32,
    /// Entries of bucket i are `entries[starts[i]..starts[i + 1]]`.
    starts: Vec<usize>,
    entries: Vec<(u32, usize)>,
}

impl Index {
    fn new(src: &[u8]) -> Option<Index> {
        if src.is_empty() {
            return None;
        }
        let t = tables();
        let count = (src.len() - 1) / WINDOW;
        let mut bits = 4;
        while (1usize << bits) < count / 4 && bits < 31 {
            bits += 1;
        }
        let size = 1usize << bits;
        let mask = (size - 1) as u32;
        // Blocks from the last to the first (skipping the first byte of
        // the buffer); of consecutive identical blocks the lowest stays.
        // Each bucket lists its entries newest first, as a linked list
        // built front to back would.
        let mut buckets: Vec<Vec<(u32, usize)>> = vec![Vec::new(); size];
        let mut prev: Option<(u32, usize)> = None;
        let mut k = count;
        while k > 0 {
            k -= 1;
            let at = k * WINDOW;
            let val = block_hash(t, &src[at + 1..at + 1 + WINDOW]);
            let ptr = at + WINDOW;
            match prev {
                Some((pv, bucket)) if pv == val => {
                    if let Some(last) = buckets[bucket].last_mut() {
                        last.1 = ptr;
                    }
                }
                _ => {
                    let b = (val & mask) as usize;
                    buckets[b].push((val, ptr));
                    prev = Some((val, b));
                }
            }
        }
        // Cull a crowded bucket evenly to HASH_LIMIT entries, keeping the
        // spread over the source (the accumulator walk of diff-delta.c).
        for list in &mut buckets {
            // In list order: the entry pushed last is the head.
            list.reverse();
            let n = list.len();
            if n <= HASH_LIMIT {
                continue;
            }
            let over = (n - HASH_LIMIT) as isize;
            let mut kept = Vec::with_capacity(HASH_LIMIT);
            let mut acc: isize = 0;
            let mut i = 0;
            while i < n {
                kept.push(list[i]);
                acc += over;
                if acc > 0 {
                    // Skip entries while the accumulator is positive.
                    while acc > 0 {
                        i += 1;
                        acc -= HASH_LIMIT as isize;
                    }
                }
                i += 1;
            }
            *list = kept;
        }
        let mut starts = Vec::with_capacity(size + 1);
        let mut entries = Vec::new();
        for list in buckets {
            starts.push(entries.len());
            entries.extend(list);
        }
        starts.push(entries.len());
        Some(Index {
            mask,
            starts,
            entries,
        })
    }
}

fn push_size(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// The longest match in `src` for the start of `rest` among the index
/// entries of hash `val`, if longer than the `best` (offset, size) so far;
/// the search stops at 4 KiB, as git's does.
fn longest_match(
    index: &Index,
    val: u32,
    src: &[u8],
    rest: &[u8],
    best: (usize, usize),
) -> (usize, usize) {
    let (mut moff, mut msize) = best;
    let b = (val & index.mask) as usize;
    for &(ev, ptr) in &index.entries[index.starts[b]..index.starts[b + 1]] {
        if ev != val {
            continue;
        }
        let room = (src.len() - ptr).min(rest.len());
        if room <= msize {
            break;
        }
        let n = src[ptr..ptr + room]
            .iter()
            .zip(&rest[..room])
            .take_while(|(a, b)| a == b)
            .count();
        if msize < n {
            msize = n;
            moff = ptr;
            if msize >= 4096 {
                break;
            }
        }
    }
    (moff, msize)
}

/// A match about to be written: where it is in the target, where in the
/// source, how long.
struct Match {
    data: usize,
    moff: usize,
    msize: usize,
}

/// Before a copy: extend the match backwards over the bytes waiting as
/// inserts (dropping them, and their count slot when none is left), then
/// write the count of those that stay.
fn close_inserts(out: &mut Vec<u8>, src: &[u8], trg: &[u8], m: &mut Match, mut inscnt: isize) {
    while m.moff > 0 && src[m.moff - 1] == trg[m.data - 1] {
        m.msize += 1;
        m.moff -= 1;
        m.data -= 1;
        out.pop();
        inscnt -= 1;
        if inscnt == 0 {
            out.pop(); // the count slot
            return;
        }
    }
    let slot = out.len() - inscnt as usize - 1;
    out[slot] = inscnt as u8;
}

/// A copy op: the code byte, then the offset's and size's non-zero bytes.
fn push_copy(out: &mut Vec<u8>, moff: usize, msize: usize) {
    let op = out.len();
    out.push(0);
    let mut code = 0x80u8;
    for (k, bit) in [(0, 0x01u8), (8, 0x02), (16, 0x04), (24, 0x08)] {
        let byte = ((moff >> k) & 0xff) as u8;
        if byte != 0 {
            out.push(byte);
            code |= bit;
        }
    }
    for (k, bit) in [(0, 0x10u8), (8, 0x20)] {
        let byte = ((msize >> k) & 0xff) as u8;
        if byte != 0 {
            out.push(byte);
            code |= bit;
        }
    }
    out[op] = code;
}

/// The delta that turns `src` into `trg`, as git's `diff_delta`; None when
/// either is empty or the delta would exceed `max` bytes (0: no limit).
pub fn delta(src: &[u8], trg: &[u8], max: usize) -> Option<Vec<u8>> {
    let index = Index::new(src)?;
    if trg.is_empty() {
        return None;
    }
    let t = tables();
    // git grows its output buffer in steps and gives up (no delta) at a
    // step where the output is past `max`: the same steps, the same
    // answer.
    let mut outsize: usize = 8192;
    if max > 0 && outsize >= max {
        outsize = max + MAX_OP + 1;
    }
    let mut out: Vec<u8> = Vec::with_capacity(8192.min(trg.len() + 32));
    push_size(&mut out, src.len());
    push_size(&mut out, trg.len());
    // The insert count slot, then the first window's bytes as inserts.
    out.push(0);
    let mut val = 0u32;
    let mut data = 0usize;
    while data < WINDOW && data < trg.len() {
        out.push(trg[data]);
        val = step(t, val, trg[data]);
        data += 1;
    }
    let mut inscnt = data as isize;
    let (mut moff, mut msize) = (0usize, 0usize);
    while data < trg.len() {
        if msize < 4096 {
            val ^= t.u[trg[data - WINDOW] as usize];
            val = step(t, val, trg[data]);
            (moff, msize) = longest_match(&index, val, src, &trg[data..], (moff, msize));
        }
        if msize < 4 {
            if inscnt == 0 {
                out.push(0);
            }
            out.push(trg[data]);
            data += 1;
            inscnt += 1;
            if inscnt == 0x7f {
                let slot = out.len() - inscnt as usize - 1;
                out[slot] = inscnt as u8;
                inscnt = 0;
            }
            msize = 0;
        } else {
            if inscnt > 0 {
                let mut m = Match { data, moff, msize };
                close_inserts(&mut out, src, trg, &mut m, inscnt);
                (data, moff, msize) = (m.data, m.moff, m.msize);
                inscnt = 0;
            }
            // A copy is at most 64 KiB (pack v2).
            let left = msize.saturating_sub(0x10000);
            msize -= left;
            push_copy(&mut out, moff, msize);
            data += msize;
            moff += msize;
            msize = left;
            if msize < 4096 {
                val = block_hash(t, &trg[data - WINDOW..data]);
            }
        }
        if out.len() >= outsize - MAX_OP {
            outsize = outsize * 3 / 2;
            if max > 0 && outsize >= max {
                outsize = max + MAX_OP + 1;
            }
            if max > 0 && out.len() > max {
                return None;
            }
        }
    }
    if inscnt > 0 {
        let slot = out.len() - inscnt as usize - 1;
        out[slot] = inscnt as u8;
    }
    if max > 0 && out.len() > max {
        return None;
    }
    Some(out)
}

/// Apply a delta to `src` (to check one).
pub fn apply(src: &[u8], delta: &[u8]) -> Option<Vec<u8>> {
    let mut i = 0;
    let mut size = || -> Option<usize> {
        let (mut n, mut shift) = (0usize, 0);
        loop {
            let b = *delta.get(i)?;
            i += 1;
            n |= usize::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
    };
    let (src_size, trg_size) = (size()?, size()?);
    if src_size != src.len() {
        return None;
    }
    let mut out = Vec::with_capacity(trg_size);
    while i < delta.len() {
        let op = delta[i];
        i += 1;
        if op & 0x80 != 0 {
            let mut field = |bits: &[(u8, u32)]| -> Option<usize> {
                let mut v = 0usize;
                for &(bit, shift) in bits {
                    if op & bit != 0 {
                        v |= usize::from(*delta.get(i)?) << shift;
                        i += 1;
                    }
                }
                Some(v)
            };
            let off = field(&[(1, 0), (2, 8), (4, 16), (8, 24)])?;
            let mut len = field(&[(0x10, 0), (0x20, 8), (0x40, 16)])?;
            if len == 0 {
                len = 0x10000;
            }
            out.extend_from_slice(src.get(off..off + len)?);
        } else if op > 0 {
            let n = usize::from(op);
            out.extend_from_slice(delta.get(i..i + n)?);
            i += n;
        } else {
            return None;
        }
    }
    (out.len() == trg_size).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_are_git_s_polynomial() {
        let t = tables();
        // The first entries, as any Rabin table of this polynomial has.
        assert_eq!(t.t[1], 0xab59_b4d1);
        assert_eq!(t.t[2], 0x56b3_69a2);
        assert_eq!(t.t[3], t.t[1] ^ t.t[2]);
        // Rolling the window gives the fingerprint computed afresh.
        let data: Vec<u8> = (0..200u32).map(|i| (i * 37 % 251) as u8).collect();
        let mut val = block_hash(t, &data[..WINDOW]);
        for end in WINDOW..data.len() {
            val ^= t.u[data[end - WINDOW] as usize];
            val = step(t, val, data[end]);
            assert_eq!(
                val,
                block_hash(t, &data[end + 1 - WINDOW..=end]),
                "at {end}"
            );
        }
    }

    #[test]
    fn deltas_apply_back() {
        let src: Vec<u8> = (0..70_000u32)
            .map(|i| (i % 97) as u8 ^ (i / 1000) as u8)
            .collect();
        let mut trg = src.clone();
        trg[500] ^= 1;
        trg.splice(30_000..30_010, b"something new".iter().copied());
        trg.extend_from_slice(&src[..5000]);
        let d = delta(&src, &trg, 0).unwrap();
        assert!(d.len() < 200, "{}", d.len());
        assert_eq!(apply(&src, &d).unwrap(), trg);
        assert!(delta(&src, &trg, 10).is_none());
        assert!(delta(&[], &trg, 0).is_none());
    }
}
