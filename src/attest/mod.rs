//! Patch attestation as patatt does it: an `X-Developer-Signature` header
//! (DKIM-like: `v=1; a=ed25519-sha256; t=; l=; i=; s=; h=; bh=; b=`) over
//! the message as `git mailinfo` reads it, and an `X-Developer-Key` header
//! naming the key. Canonicalisation follows patatt's `git_canonicalize`
//! and `DevsigHeader`: the body is mailinfo's message and patch with CRLF
//! line ends; From and Subject are mailinfo's; each signed header is
//! unfolded, its white space runs made one space, stripped, ended in CRLF;
//! the signed digest is SHA-256 of those headers and the signature header
//! itself up to `b=`. Keys are patatt's: a base64 ed25519 seed in
//! `$XDG_DATA_HOME/patatt/private/NAME.key`, public keys in keyring folders
//! as `ed25519/<domain>/<local>/<selector>`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signer, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::process::Run;

pub(crate) use keys::keyring_path;
pub use keys::{data_dir, gen_key, keyrings, Key};

mod keys;

pub const SIG_HEADER: &str = "X-Developer-Signature";
pub const KEY_HEADER: &str = "X-Developer-Key";
/// Headers every signature covers, then those it covers when present.
const REQUIRED: &[&str] = &["from", "subject"];
const OPTIONAL: &[&str] = &["message-id"];

/// Why a message could not be signed or checked.
#[derive(Debug, thiserror::Error)]
pub enum AttestError {
    #[error("{0}")]
    Key(String),
    #[error("git mailinfo: {0}")]
    Mailinfo(String),
    #[error("{what}: {msg}")]
    Message { what: String, msg: String },
}

/// A message split as patatt splits it: raw header lines (folds kept)
/// and the rest.
struct Split {
    headers: Vec<Vec<u8>>,
    sep: Vec<u8>,
    body: Vec<u8>,
}

fn split(msg: &[u8]) -> Option<Split> {
    let mut headers: Vec<Vec<u8>> = Vec::new();
    let mut rest = msg;
    while !rest.is_empty() {
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| i + 1)
            .unwrap_or(rest.len());
        let line = &rest[..end];
        rest = &rest[end..];
        if line.iter().all(u8::is_ascii_whitespace) {
            return (!headers.is_empty() && !rest.is_empty()).then(|| Split {
                headers,
                sep: line.to_vec(),
                body: rest.to_vec(),
            });
        }
        if line[0] == b' ' || line[0] == b'\t' {
            headers.last_mut()?.extend_from_slice(line);
        } else {
            headers.push(line.to_vec());
        }
    }
    None
}

fn header_name(h: &[u8]) -> Option<String> {
    let colon = h.iter().position(|&b| b == b':')?;
    Some(
        String::from_utf8_lossy(&h[..colon])
            .trim()
            .to_ascii_lowercase(),
    )
}

/// patatt's relaxed header canonicalisation: line ends out, white space
/// runs one space, stripped, CRLF added.
fn canon_value(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut space = false;
    for &b in v {
        if b == b'\r' || b == b'\n' {
            continue;
        }
        if b.is_ascii_whitespace() || b == 0x0b {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(b' ');
        }
        space = false;
        out.push(b);
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// What `git mailinfo` makes of a message, as patatt uses it.
struct Canon {
    headers: Vec<Vec<u8>>,
    body: Vec<u8>,
    identity: String,
}

fn canonicalize(s: &Split, limit: Duration) -> Result<Canon, AttestError> {
    let dir = tempfile::tempdir().map_err(|e| AttestError::Mailinfo(e.to_string()))?;
    let (m, p) = (dir.path().join("m"), dir.path().join("p"));
    let mut payload: Vec<u8> = s.headers.concat();
    payload.extend_from_slice(&s.sep);
    payload.extend_from_slice(&s.body);
    let mut lf = Vec::with_capacity(payload.len());
    for (i, &b) in payload.iter().enumerate() {
        if !(b == b'\r' && payload.get(i + 1) == Some(&b'\n')) {
            lf.push(b);
        }
    }
    let payload = lf;
    let done = Run::new("git")
        .args(["mailinfo", "--encoding=utf-8", "--no-scissors"])
        .arg(&m)
        .arg(&p)
        .stdin(payload)
        .limit(limit)
        .output()
        .map_err(|e| AttestError::Mailinfo(e.to_string()))?;
    if !done.status.success() {
        return Err(AttestError::Mailinfo(done.stderr_text()));
    }
    let read = |f: &Path| std::fs::read(f).map_err(|e| AttestError::Mailinfo(e.to_string()));
    let mut mp = read(&m)?;
    mp.extend(read(&p)?);
    while mp.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
        mp.pop();
    }
    let mut body = Vec::new();
    for line in mp.split(|&b| b == b'\n') {
        let mut l = line;
        while l.last() == Some(&b'\r') {
            l = &l[..l.len() - 1];
        }
        body.extend_from_slice(l);
        body.extend_from_slice(b"\r\n");
    }
    let mut info = std::collections::BTreeMap::new();
    for line in String::from_utf8_lossy(&done.stdout).lines() {
        if let Some((k, v)) = line.split_once(':') {
            info.insert(k.to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let get = |k: &str| info.get(k).cloned().unwrap_or_default();
    let headers = s
        .headers
        .iter()
        .map(|h| match header_name(h).as_deref() {
            Some("from") => format!("From: {} <{}>", get("author"), get("email")).into_bytes(),
            Some("subject") => format!("Subject: {}", get("subject")).into_bytes(),
            _ => h.clone(),
        })
        .collect();
    Ok(Canon {
        headers,
        body,
        identity: get("email"),
    })
}

/// The signed headers, each `name:value` canonical, in the order of `h`:
/// for each name the last such header of the message (DKIM reads from the
/// bottom).
fn signed_headers(canon: &[Vec<u8>], names: &[String]) -> Vec<u8> {
    let mut left: Vec<(String, &[u8])> = canon
        .iter()
        .rev()
        .filter_map(|h| {
            let name = header_name(h)?;
            let colon = h.iter().position(|&b| b == b':')?;
            Some((name, &h[colon + 1..]))
        })
        .collect();
    let mut out = Vec::new();
    for n in names {
        if let Some(i) = left.iter().position(|(hn, _)| hn == n) {
            let (hn, v) = left.remove(i);
            out.extend_from_slice(hn.as_bytes());
            out.push(b':');
            out.extend(canon_value(v));
        }
    }
    out
}

/// Fold a header at its spaces to at most 78 columns, as Python's
/// email.header does for patatt (white space is only ever kept, so the
/// canonical value is the same however it is folded).
fn fold(line: &str) -> String {
    let mut out = String::new();
    let mut col = 0;
    for (i, word) in line.split(' ').enumerate() {
        if i > 0 {
            if col + 1 + word.len() > 78 {
                out.push_str("\n ");
                col = 1;
            } else {
                out.push(' ');
                col += 1;
            }
        }
        out.push_str(word);
        col += word.len();
    }
    out.push('\n');
    out
}

/// patatt's split of a long `b=` value into words: 73 bytes, then 75.
fn split_b(b: &str) -> String {
    let mut parts = Vec::new();
    let mut rest = b;
    let mut limit = 73;
    while rest.len() > limit {
        parts.push(&rest[..limit]);
        rest = &rest[limit..];
        limit = 75;
    }
    parts.push(rest);
    parts.join(" ")
}

/// `msg` signed with `key` at time `t`: any earlier attestation headers
/// removed, the signature and key headers added after the others.
pub fn sign(msg: &[u8], key: &Key, t: i64, limit: Duration) -> Result<Vec<u8>, AttestError> {
    let mut s = split(msg).ok_or_else(|| AttestError::Message {
        what: "message".into(),
        msg: "not a mail (no headers, or no body)".into(),
    })?;
    s.headers.retain(|h| {
        let n = header_name(h).unwrap_or_default();
        n != SIG_HEADER.to_ascii_lowercase() && n != KEY_HEADER.to_ascii_lowercase()
    });
    let canon = canonicalize(&s, limit)?;
    let present: Vec<String> = canon
        .headers
        .iter()
        .filter_map(|h| header_name(h))
        .collect();
    for r in REQUIRED {
        if !present.iter().any(|p| p == r) {
            return Err(AttestError::Message {
                what: "message".into(),
                msg: format!("no {r} header to sign"),
            });
        }
    }
    let mut names: Vec<String> = REQUIRED.iter().map(|s| s.to_string()).collect();
    let mut opt: Vec<String> = OPTIONAL
        .iter()
        .filter(|o| present.iter().any(|p| p == *o))
        .map(|s| s.to_string())
        .collect();
    opt.sort();
    names.extend(opt);
    let bh = B64.encode(Sha256::digest(&canon.body));
    let fields = format!(
        "v=1; a=ed25519-sha256; t={t}; l={}; i={}; s={}; h={}; bh={bh}; b=",
        canon.body.len(),
        key.identity,
        key.selector,
        names.join(":")
    );
    let mut hashed = signed_headers(&canon.headers, &names);
    hashed.extend_from_slice(SIG_HEADER.to_ascii_lowercase().as_bytes());
    hashed.push(b':');
    hashed.extend_from_slice(fields.as_bytes());
    let digest = Sha256::digest(&hashed);
    // PyNaCl's signed message: the signature, then what was signed.
    let mut signed = key.secret.sign(&digest).to_bytes().to_vec();
    signed.extend_from_slice(&digest);
    let b = B64.encode(&signed);
    let sig_line = fold(&format!("{SIG_HEADER}: {fields}{}", split_b(&b)));
    let key_line = fold(&format!(
        "{KEY_HEADER}: i={}; a=ed25519; pk={}",
        key.identity,
        key.public()
    ));
    let mut out: Vec<u8> = s.headers.concat();
    out.extend_from_slice(sig_line.as_bytes());
    out.extend_from_slice(key_line.as_bytes());
    out.extend_from_slice(&s.sep);
    out.extend_from_slice(&s.body);
    Ok(out)
}

/// What one signature of a message says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Valid, with the key from `source`.
    Valid { source: String },
    /// The signature does not match the message.
    Bad(String),
    /// No public key for the identity and selector in the keyrings.
    NoKey,
    /// Not an ed25519 signature: series leaves it to patatt.
    Unsupported(String),
}

/// One signature of a message, checked.
#[derive(Clone, Debug)]
pub struct Attestation {
    pub identity: String,
    pub selector: String,
    pub outcome: Outcome,
}

/// The fields of a signature header value.
fn fields(v: &[u8]) -> Vec<(String, String)> {
    let canon = canon_value(v);
    let text: String = String::from_utf8_lossy(&canon)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    text.split(';')
        .filter_map(|c| {
            c.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

/// The fields of every signature header of a mail (for the fuzz target).
pub(crate) fn signature_fields(msg: &[u8]) -> Vec<Vec<(String, String)>> {
    let Some(s) = split(msg) else {
        return Vec::new();
    };
    s.headers
        .iter()
        .filter(|h| header_name(h).as_deref() == Some(&SIG_HEADER.to_ascii_lowercase()))
        .map(|h| {
            let colon = h.iter().position(|&b| b == b':').unwrap_or(0);
            fields(&h[colon + 1..])
        })
        .collect()
}

/// Check every signature of `msg` against the keyrings; empty when the
/// message is not signed.
pub fn verify(
    msg: &[u8],
    rings: &[PathBuf],
    limit: Duration,
) -> Result<Vec<Attestation>, AttestError> {
    let Some(s) = split(msg) else {
        return Ok(Vec::new());
    };
    let sigs: Vec<Vec<(String, String)>> = s
        .headers
        .iter()
        .filter(|h| header_name(h).as_deref() == Some(&SIG_HEADER.to_ascii_lowercase()))
        .map(|h| {
            let colon = h.iter().position(|&b| b == b':').unwrap_or(0);
            fields(&h[colon + 1..])
        })
        .collect();
    if sigs.is_empty() {
        return Ok(Vec::new());
    }
    let mut unsigned = Split {
        headers: s
            .headers
            .iter()
            .filter(|h| header_name(h).as_deref() != Some(&SIG_HEADER.to_ascii_lowercase()))
            .cloned()
            .collect(),
        sep: s.sep.clone(),
        body: s.body.clone(),
    };
    unsigned
        .headers
        .retain(|h| header_name(h).as_deref() != Some(&KEY_HEADER.to_ascii_lowercase()));
    let canon = canonicalize(&unsigned, limit)?;
    let raw_sig_values: Vec<&Vec<u8>> = s
        .headers
        .iter()
        .filter(|h| header_name(h).as_deref() == Some(&SIG_HEADER.to_ascii_lowercase()))
        .collect();
    let mut out = Vec::new();
    for (f, raw) in sigs.iter().zip(raw_sig_values) {
        let get = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let identity = get("i").unwrap_or_else(|| canon.identity.clone());
        let selector = get("s").unwrap_or_else(|| "default".into());
        let algo = get("a").unwrap_or_default();
        let outcome = if !algo.starts_with("ed25519") {
            Outcome::Unsupported(algo)
        } else {
            check_one(&canon, raw, &get, &identity, &selector, rings)
        };
        out.push(Attestation {
            identity,
            selector,
            outcome,
        });
    }
    Ok(out)
}

fn check_one(
    canon: &Canon,
    raw: &[u8],
    get: &dyn Fn(&str) -> Option<String>,
    identity: &str,
    selector: &str,
    rings: &[PathBuf],
) -> Outcome {
    let Ok(rel) = keyring_path(identity, selector) else {
        return Outcome::NoKey;
    };
    let Some((pk, source)) = rings.iter().find_map(|r| {
        let p = r.join(&rel);
        std::fs::read_to_string(&p).ok().map(|t| (t, p))
    }) else {
        return Outcome::NoKey;
    };
    let Some(vk) = B64
        .decode(pk.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
        .and_then(|b| VerifyingKey::from_bytes(&b).ok())
    else {
        return Outcome::Bad(format!("{}: not an ed25519 public key", source.display()));
    };
    let bh = B64.encode(Sha256::digest(&canon.body));
    if get("bh").as_deref() != Some(bh.as_str()) {
        return Outcome::Bad("the body differs from what was signed".into());
    }
    let names: Vec<String> = get("h")
        .unwrap_or_default()
        .split(':')
        .map(|s| s.trim().to_string())
        .collect();
    if REQUIRED.iter().any(|r| !names.iter().any(|n| n == r)) {
        return Outcome::Bad("the signature does not cover From and Subject".into());
    }
    let colon = raw.iter().position(|&b| b == b':').unwrap_or(0);
    let hval = canon_value(&raw[colon + 1..]);
    let hval = &hval[..hval.len() - 2];
    let Some(at) = hval.windows(2).rposition(|w| w == b"b=") else {
        return Outcome::Bad("no b= in the signature".into());
    };
    let mut hashed = signed_headers(&canon.headers, &names);
    hashed.extend_from_slice(SIG_HEADER.to_ascii_lowercase().as_bytes());
    hashed.push(b':');
    hashed.extend_from_slice(&hval[..at + 2]);
    let digest = Sha256::digest(&hashed);
    let bdata: String = String::from_utf8_lossy(&hval[at + 2..])
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let Some(signed) = B64.decode(bdata).ok().filter(|s| s.len() == 64 + 32) else {
        return Outcome::Bad("b= is not an ed25519 signed digest".into());
    };
    let Ok(sig) = ed25519_dalek::Signature::from_slice(&signed[..64]) else {
        return Outcome::Bad("b= is not an ed25519 signature".into());
    };
    if signed[64..] != digest[..] || vk.verify(&digest, &sig).is_err() {
        return Outcome::Bad("the signature does not match the headers".into());
    }
    Outcome::Valid {
        source: source.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_are_canonical_however_folded() {
        assert_eq!(canon_value(b" a;\r\n\t b=  c \r\n"), b"a; b= c\r\n");
        let long = format!("X-Developer-Signature: v=1; a=ed25519-sha256; t=1; l=2; i=a@b; s=x; h=from:subject; bh=abc; b={}", "Q".repeat(120));
        let folded = fold(&long);
        assert!(folded
            .lines()
            .all(|l| l.len() <= 78 || !l.trim_start().contains(' ')));
        assert_eq!(
            canon_value(folded.split_once(':').unwrap().1.as_bytes()),
            canon_value(long.split_once(':').unwrap().1.as_bytes())
        );
    }

    #[test]
    fn keyring_paths_are_patatts() {
        assert_eq!(
            keyring_path("Aaron.Lu@Intel.com", "20261201").unwrap(),
            PathBuf::from("ed25519/intel.com/aaron.lu/20261201")
        );
    }
}
