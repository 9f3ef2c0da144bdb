//! `GIT binary patch` sections as git writes them: each direction is either a
//! literal (the whole target) or a delta, deflated at zlib level 1 (git's
//! default) and base85-encoded in lines of at most 52 bytes.

use std::io::Write;

use flate2::write::ZlibEncoder;
use flate2::Compression;

const EN85: &[u8; 85] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~";

/// Deflate as git does for binary patches.
pub fn deflate(data: &[u8]) -> Vec<u8> {
    let mut enc = ZlibEncoder::new(Vec::new(), Compression::new(1));
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// Inflate zlib data.
pub fn inflate(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut dec = flate2::write::ZlibDecoder::new(Vec::new());
    dec.write_all(data)?;
    dec.finish()
}

// Follows git's base85.c (encode_85) and diff.c (emit_binary_diff_body).
fn encode_85(out: &mut Vec<u8>, data: &[u8]) {
    for chunk in data.chunks(4) {
        let mut acc: u32 = 0;
        for (i, &b) in chunk.iter().enumerate() {
            acc |= u32::from(b) << (24 - 8 * i);
        }
        let mut five = [0u8; 5];
        for slot in five.iter_mut().rev() {
            *slot = EN85[(acc % 85) as usize];
            acc /= 85;
        }
        out.extend_from_slice(&five);
    }
}

/// One direction of a binary patch, from `source` to `target`, as git's
/// diff.c (emit_binary_diff_body) writes it: the delta (git's own,
/// [`super::delta`], no larger than the deflated target) when it deflates
/// smaller than the target does, else the whole target.
pub fn section(source: &[u8], target: &[u8]) -> Vec<u8> {
    let literal = deflate(target);
    let delta = if source.is_empty() || target.is_empty() {
        None
    } else {
        super::delta::delta(source, target, literal.len())
    };
    body_with(target, literal, delta.as_deref())
}

/// One direction of a binary patch. `delta` is the raw (inflated) delta from
/// the other side to `target`, when one exists.
pub fn body(target: &[u8], delta: Option<&[u8]>) -> Vec<u8> {
    body_with(target, deflate(target), delta)
}

fn body_with(target: &[u8], literal: Vec<u8>, delta: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    let data = match delta.map(|d| (d.len(), deflate(d))) {
        Some((raw_len, packed)) if packed.len() < literal.len() => {
            out.extend_from_slice(format!("delta {raw_len}\n").as_bytes());
            packed
        }
        _ => {
            out.extend_from_slice(format!("literal {}\n", target.len()).as_bytes());
            literal
        }
    };
    for line in data.chunks(52) {
        let n = line.len() as u8;
        out.push(if n <= 26 { b'A' + n - 1 } else { b'a' + n - 27 });
        encode_85(&mut out, line);
        out.push(b'\n');
    }
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_of_three_bytes_matches_git() {
        // git format-patch of a new 3-byte file \0\1\2 writes exactly this.
        assert_eq!(
            body(b"\0\x01\x02", None),
            b"literal 3\nKcmZQzWC8#H2LJ>B\n\n"
        );
        assert_eq!(body(b"", None), b"literal 0\nHcmV?d00001\n\n");
    }
}
