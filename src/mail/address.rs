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

/// One recipient as a header (and git send-email, which reads its
/// options and the file's headers with a parser of its own) takes it
/// safely: a display name that is not ASCII or holds a special (a comma,
/// a colon, an `@`) is written as an RFC 2047 encoded word, so no parser
/// can take part of the name for another address.
pub fn header_form(a: &str) -> String {
    let a = a.trim();
    let (Some(l), true) = (a.rfind('<'), a.ends_with('>')) else {
        return a.to_string();
    };
    let raw = a[..l].trim();
    let display = match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(q) => q.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => raw.to_string(),
    };
    // A name git send-email could split or misread is encoded; one with
    // only a dot or a bracket is quoted, as git quotes it.
    let risky = !display.is_ascii()
        || display
            .chars()
            .any(|c| c.is_control() || ",;:@<>\"\\".contains(c));
    if display.is_empty() {
        return a[l..].to_string();
    }
    if !risky {
        let name = crate::text::rfc822_quote(&display).unwrap_or(display);
        return format!("{name} {}", &a[l..]);
    }
    let mut out = String::new();
    crate::text::push_rfc2047(&mut out, &display, crate::text::EncodedWordKind::Address);
    // One line: encoded words side by side read as one name, and a line
    // break has no place in an option of git send-email.
    format!("{} {}", out.replace("\n ", " "), &a[l..])
}

/// Whether two recipients are the same address.
pub fn same_address(a: &str, b: &str) -> bool {
    bare_address(a) == bare_address(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_a_parser_could_split_are_encoded() {
        assert_eq!(
            header_form("Mel Gorman <mel@x.org>"),
            "Mel Gorman <mel@x.org>"
        );
        assert_eq!(
            header_form("\"Kirill A. Shutemov\" <k@x.org>"),
            "\"Kirill A. Shutemov\" <k@x.org>"
        );
        assert_eq!(
            header_form("\"evil@evil.org, Bob\" <bob@x.org>"),
            "=?UTF-8?q?evil=40evil=2Eorg=2C=20Bob?= <bob@x.org>"
        );
        assert_eq!(header_form("linux-mm@kvack.org"), "linux-mm@kvack.org");
    }
}
