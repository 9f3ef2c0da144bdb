//! patatt's keys: a base64 ed25519 seed in
//! `$XDG_DATA_HOME/patatt/private/NAME.key`, made as `patatt genkey` makes
//! it, and public keys in keyring folders as
//! `ed25519/<domain>/<local>/<selector>`.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::SigningKey;

use super::AttestError;
/// A signing key, its identity and selector.
#[derive(Clone)]
pub struct Key {
    pub(super) secret: SigningKey,
    pub identity: String,
    pub selector: String,
    /// Where it was read from.
    pub source: PathBuf,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Key({} {} from {})",
            self.identity,
            self.selector,
            self.source.display()
        )
    }
}

/// patatt's data folder: `$XDG_DATA_HOME/patatt`, else `~/.local/share/patatt`.
pub fn data_dir() -> PathBuf {
    match std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d).join("patatt"),
        None => std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default()
            .join(".local/share/patatt"),
    }
}

impl Key {
    /// The key patatt would sign with: `patatt.signingkey` = `ed25519:NAME`
    /// (a file path, else `private/NAME.key` in patatt's data folder, else
    /// `.git/NAME.key` of the tree), identity `patatt.identity` else
    /// `user.email`, selector `patatt.selector` else `default`. None when
    /// no key is configured.
    pub fn configured(
        config: &dyn Fn(&str) -> Option<String>,
        tree: Option<&Path>,
    ) -> Result<Option<Key>, AttestError> {
        let Some(sk) = config("patatt.signingkey") else {
            return Ok(None);
        };
        let Some(name) = sk.strip_prefix("ed25519:") else {
            return Err(AttestError::Key(format!(
                "patatt.signingkey = {sk:?}: series signs with ed25519 keys only (openpgp and openssh keys are patatt's)"
            )));
        };
        let candidates = [
            Some(PathBuf::from(name)).filter(|p| p.is_absolute()),
            Some(data_dir().join("private").join(format!("{name}.key"))),
            tree.map(|t| t.join(".git").join(format!("{name}.key"))),
        ];
        let path = candidates
            .into_iter()
            .flatten()
            .find(|p| p.is_file())
            .ok_or_else(|| {
                AttestError::Key(format!(
                    "patatt.signingkey = {sk:?}: no key file {name}.key in {}/private",
                    data_dir().display()
                ))
            })?;
        let identity = config("patatt.identity")
            .or_else(|| config("user.email"))
            .ok_or_else(|| {
                AttestError::Key(
                    "signing needs an identity: set patatt.identity or user.email".into(),
                )
            })?;
        let selector = config("patatt.selector").unwrap_or_else(|| "default".into());
        Key::read(&path, identity, selector).map(Some)
    }

    /// A private key file: a base64 ed25519 seed, as patatt genkey writes.
    pub fn read(path: &Path, identity: String, selector: String) -> Result<Key, AttestError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| AttestError::Key(format!("{}: {e}", path.display())))?;
        let seed = B64
            .decode(text.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
            .ok_or_else(|| {
                AttestError::Key(format!("{}: not a base64 ed25519 key", path.display()))
            })?;
        Ok(Key {
            secret: SigningKey::from_bytes(&seed),
            identity,
            selector,
            source: path.to_path_buf(),
        })
    }

    /// The public key, base64, as patatt writes `.pub` files.
    pub fn public(&self) -> String {
        B64.encode(self.secret.verifying_key().as_bytes())
    }
}

/// Make a key as `patatt genkey` does: `private/NAME.key` (mode 0600),
/// `public/NAME.pub`, and the keyring entry `public/ed25519/<domain>/
/// <local>/NAME` (with `default` linked to it when there is none).
pub fn gen_key(dir: &Path, name: &str, identity: &str) -> Result<Vec<PathBuf>, AttestError> {
    use std::io::{Read, Write};
    use std::os::unix::fs::OpenOptionsExt;
    let io = |p: &Path, e: std::io::Error| AttestError::Key(format!("{}: {e}", p.display()));
    let private = dir.join("private");
    let public = dir.join("public");
    std::fs::create_dir_all(&private).map_err(|e| io(&private, e))?;
    std::fs::create_dir_all(&public).map_err(|e| io(&public, e))?;
    let skey = private.join(format!("{name}.key"));
    if skey.exists() {
        return Err(AttestError::Key(format!(
            "{} exists already; pick another name",
            skey.display()
        )));
    }
    let mut seed = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut seed))
        .map_err(|e| io(Path::new("/dev/urandom"), e))?;
    let key = SigningKey::from_bytes(&seed);
    let pubkey = B64.encode(key.verifying_key().as_bytes());
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&skey)
        .map_err(|e| io(&skey, e))?;
    f.write_all(B64.encode(seed).as_bytes())
        .map_err(|e| io(&skey, e))?;
    let ppub = public.join(format!("{name}.pub"));
    std::fs::write(&ppub, &pubkey).map_err(|e| io(&ppub, e))?;
    let entry = public.join(keyring_path(identity, name)?);
    if let Some(parent) = entry.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
    }
    std::fs::write(&entry, &pubkey).map_err(|e| io(&entry, e))?;
    let default = public.join(keyring_path(identity, "default")?);
    if !default.exists() {
        std::os::unix::fs::symlink(name, &default).map_err(|e| io(&default, e))?;
    }
    Ok(vec![skey, ppub, entry])
}

/// `ed25519/<domain>/<local>/<selector>`, each part lower case and
/// form-encoded as patatt makes it.
pub(crate) fn keyring_path(identity: &str, selector: &str) -> Result<PathBuf, AttestError> {
    let (local, domain) = identity
        .split_once('@')
        .ok_or_else(|| AttestError::Key(format!("identity {identity:?} is not an address")))?;
    let enc = |s: &str| -> String {
        let mut out = String::new();
        for b in s.to_lowercase().bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                    out.push(b as char)
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    };
    let parts = [enc(domain), enc(local), enc(selector)];
    // `..` or `.` would leave the keyring: a signature's identity is
    // anyone's to write.
    if parts.iter().any(|p| p.is_empty() || p == "." || p == "..") {
        return Err(AttestError::Key(format!(
            "identity {identity:?} with selector {selector:?} names no key file"
        )));
    }
    let [d, l, s] = parts;
    Ok(PathBuf::from("ed25519").join(d).join(l).join(s))
}

/// The keyring folders searched for public keys, in order: the tree's
/// `.keys` and `.local-keys`, then patatt's own `public` folder, plus any
/// folder `patatt.keyringsrc` names.
pub fn keyrings(tree: Option<&Path>, extra: &[String]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(t) = tree {
        out.push(t.join(".keys"));
        out.push(t.join(".local-keys"));
    }
    out.extend(
        extra
            .iter()
            .filter(|s| !s.starts_with("ref:"))
            .map(PathBuf::from),
    );
    out.push(data_dir().join("public"));
    out
}
