//! Comparing mail addresses as recipients: `Name <addr>` and `addr` are the
//! same recipient when the address part is.

/// The bare address of `Name <addr>` or `addr`, lowercased.
pub fn bare_address(a: &str) -> String {
    let a = a.trim();
    match (a.rfind('<'), a.rfind('>')) {
        (Some(l), Some(r)) if l < r => a[l + 1..r].trim().to_ascii_lowercase(),
        _ => a.to_ascii_lowercase(),
    }
}

/// Whether two recipients are the same address.
pub fn same_address(a: &str, b: &str) -> bool {
    bare_address(a) == bare_address(b)
}
