//! `series.toml` read and written: strict (an unknown field is named with
//! its line), versioned (a newer format is refused), validated as a save
//! validates it, and written in one canonical order.

use std::path::Path;

use super::*;

/// Parse and check a manifest; a newer format is refused before any field is
/// looked at, so its unknown fields are never dropped.
pub fn parse_manifest(path: &Path, text: &str) -> Result<Manifest, StoreError> {
    // A format number TOML cannot hold (or not a number) is named as
    // such, before TOML's own message about it.
    if let Some(v) = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("format"))
        .and_then(|r| r.trim_start().strip_prefix('='))
        .map(|v| v.split('#').next().unwrap_or("").trim())
    {
        if v.parse::<i64>().map_or(true, |n| n < 1) {
            return Err(StoreError::Malformed {
                path: path.to_path_buf(),
                msg: format!(
                    "`format = {v}` is not a format version (this series reads 1 to {FORMAT})"
                ),
            });
        }
    }
    let table: toml::Table = toml::from_str(text).map_err(|e| StoreError::Malformed {
        path: path.to_path_buf(),
        msg: e.to_string().trim().to_string(),
    })?;
    match table.get("format").and_then(toml::Value::as_integer) {
        Some(f) if f > i64::from(FORMAT) => {
            return Err(StoreError::Newer {
                path: path.to_path_buf(),
                found: u32::try_from(f).unwrap_or(u32::MAX),
            })
        }
        Some(f) if f >= 1 => {}
        _ => {
            return Err(StoreError::Malformed {
                path: path.to_path_buf(),
                msg: format!("missing or invalid `format` (expected `format = {FORMAT}`)"),
            })
        }
    }
    let mut m: Manifest = toml::from_str(text).map_err(|e| StoreError::Malformed {
        path: path.to_path_buf(),
        msg: e.to_string().trim().to_string(),
    })?;
    validate(&m).map_err(|msg| StoreError::Malformed {
        path: path.to_path_buf(),
        msg,
    })?;
    // The upgrade from format 1: same fields, no kept versions yet.
    m.format = FORMAT;
    Ok(m)
}

/// The manifest as text, as `save` writes it; a manifest that cannot be
/// written as TOML is an error, never an empty file.
pub fn manifest_text(m: &Manifest) -> Result<String, StoreError> {
    let body = toml::to_string_pretty(m).map_err(|e| StoreError::Malformed {
        path: PathBuf::from(MANIFEST),
        msg: format!("cannot be written: {e}"),
    })?;
    Ok(format!(
        "# The manifest of this series; see docs/FORMAT.md.\n{body}"
    ))
}
