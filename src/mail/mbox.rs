//! The two line rules of an mbox that reading one mail also needs: which
//! line separates messages, and CRLF line ends made LF.

/// Whether a line is an mbox separator: `From ` then a sender and a date
/// ending in a four-digit year, as git's mailsplit recognises one.
pub fn is_from_line(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"From ") else {
        return false;
    };
    let rest = String::from_utf8_lossy(rest);
    let rest = rest.trim_end();
    let mut words = rest.split_whitespace();
    let sender = words.next();
    let year = rest.rsplit(' ').next().unwrap_or("");
    sender.is_some()
        && rest.contains(':')
        && year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
}

/// The bytes with every CRLF made LF (a lone CR stays).
pub fn normalize_newlines(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}
