//! The diff side of a mail: diffstat and summary, laid out exactly as git's
//! `--stat --summary` for mails, and the rename name format they use.

pub mod binary;
pub mod delta;
pub mod patch;

pub use patch::{Patch, PatchError};

use crate::text::{c_quote, display_path, str_width};

/// Width git gives the diffstat in mails.
pub const MAIL_STAT_WIDTH: usize = 72;

/// One file's line in a diffstat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileStat {
    /// The name as shown: quoted when needed; renames as `a/{b => c}`.
    pub name: String,
    pub added: usize,
    pub deleted: usize,
    /// For a binary file, `added` and `deleted` are the new and old sizes in bytes.
    pub binary: bool,
}

fn decimal_width(n: usize) -> usize {
    n.to_string().len()
}

// Follows git's diff.c, scale_linear.
fn scale_linear(it: usize, width: usize, max_change: usize) -> usize {
    if it == 0 {
        0
    } else {
        1 + it * (width - 1) / max_change
    }
}

/// Render the stat block (file lines and the totals line) at `width` columns.
// Follows git's diff.c show_stats (widths, scaling, the summary line)
// step by step.
pub fn render_stat(files: &[FileStat], width: usize) -> String {
    let mut out = String::new();
    if files.is_empty() {
        out.push_str(" 0 files changed\n");
        return out;
    }
    let mut max_len = 0;
    let mut max_change = 0;
    let mut bin_width = 0;
    let mut number_width = 0;
    for f in files {
        max_len = max_len.max(str_width(&f.name));
        if f.binary {
            let w = 14 + decimal_width(f.added) + decimal_width(f.deleted);
            bin_width = bin_width.max(w);
            number_width = 3;
            continue;
        }
        max_change = max_change.max(f.added + f.deleted);
    }
    number_width = number_width.max(decimal_width(max_change));
    let width = width.max(16 + 6 + number_width);
    let mut graph_width = if max_change + 4 > bin_width {
        max_change
    } else {
        bin_width - 4
    };
    let mut name_width = max_len;
    if name_width + number_width + 6 + graph_width > width {
        let limit = (width * 3 / 8).saturating_sub(number_width + 6);
        if graph_width > limit {
            graph_width = limit.max(6);
        }
        if name_width > width - number_width - 6 - graph_width {
            name_width = width - number_width - 6 - graph_width;
        } else {
            graph_width = width - number_width - 6 - name_width;
        }
    }

    let (mut adds, mut dels) = (0, 0);
    for f in files {
        let (prefix, name) = scale_name(&f.name, name_width);
        let padding = name_width
            .saturating_sub(if prefix.is_empty() { 0 } else { 3 })
            .saturating_sub(str_width(name));
        if f.binary {
            out.push_str(&format!(
                " {prefix}{name}{:padding$} | {:>number_width$}",
                "", "Bin"
            ));
            if f.added == 0 && f.deleted == 0 {
                out.push('\n');
            } else {
                out.push_str(&format!(" {} -> {} bytes\n", f.deleted, f.added));
            }
            continue;
        }
        adds += f.added;
        dels += f.deleted;
        let (mut add, mut del) = (f.added, f.deleted);
        if graph_width <= max_change {
            let mut total = scale_linear(add + del, graph_width, max_change);
            if total < 2 && add > 0 && del > 0 {
                total = 2;
            }
            if add < del {
                add = scale_linear(add, graph_width, max_change);
                del = total - add;
            } else {
                del = scale_linear(del, graph_width, max_change);
                add = total - del;
            }
        }
        let changes = f.added + f.deleted;
        out.push_str(&format!(
            " {prefix}{name}{:padding$} | {changes:>number_width$}{}{}{}\n",
            "",
            if changes > 0 { " " } else { "" },
            "+".repeat(add),
            "-".repeat(del)
        ));
    }
    out.push_str(&summary_line(files.len(), adds, dels));
    out
}

/// Cut a name that is wider than `width` to `...` and its tail from a slash.
fn scale_name(name: &str, width: usize) -> (&'static str, &str) {
    let w = str_width(name);
    if w <= width {
        return ("", name);
    }
    let len = width.saturating_sub(3);
    let mut rest = name;
    let mut rest_w = w;
    while rest_w > len {
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            rest_w -= str_width(c.encode_utf8(&mut [0; 4]));
        }
        rest = chars.as_str();
    }
    if let Some(slash) = rest.find('/') {
        rest = &rest[slash..];
    }
    ("...", rest)
}

/// ` N files changed, N insertions(+), N deletions(-)` as git words it.
pub fn summary_line(files: usize, adds: usize, dels: usize) -> String {
    let mut s = format!(" {files} file{} changed", if files == 1 { "" } else { "s" });
    if adds > 0 || dels == 0 {
        s.push_str(&format!(
            ", {adds} insertion{}(+)",
            if adds == 1 { "" } else { "s" }
        ));
    }
    if dels > 0 || adds == 0 {
        s.push_str(&format!(
            ", {dels} deletion{}(-)",
            if dels == 1 { "" } else { "s" }
        ));
    }
    s.push('\n');
    s
}

/// The name git shows for a rename: common prefix and suffix factored out,
/// `dir/{old => new}/tail`.
pub fn rename_name(a: &[u8], b: &[u8]) -> String {
    if c_quote(a).is_some() || c_quote(b).is_some() {
        return format!("{} => {}", display_path(a), display_path(b));
    }
    let mut pfx = 0;
    let mut i = 0;
    while i < a.len() && i < b.len() && a[i] == b[i] {
        if a[i] == b'/' {
            pfx = i + 1;
        }
        i += 1;
    }
    let adjust = usize::from(pfx > 0);
    let mut sfx = 0;
    let (mut ia, mut ib) = (a.len() as isize, b.len() as isize);
    let floor = pfx as isize - adjust as isize;
    loop {
        if ia < floor || ib < floor {
            break;
        }
        let ca = if (ia as usize) < a.len() {
            a[ia as usize]
        } else {
            0
        };
        let cb = if (ib as usize) < b.len() {
            b[ib as usize]
        } else {
            0
        };
        if ca != cb {
            break;
        }
        if ca == b'/' {
            sfx = a.len() - ia as usize;
        }
        ia -= 1;
        ib -= 1;
    }
    let a_mid = a.len().saturating_sub(pfx + sfx);
    let b_mid = b.len().saturating_sub(pfx + sfx);
    let s = |x: &[u8]| String::from_utf8_lossy(x).into_owned();
    let mut out = String::new();
    if pfx + sfx > 0 {
        out.push_str(&s(&a[..pfx]));
        out.push('{');
    }
    out.push_str(&s(&a[pfx..pfx + a_mid]));
    out.push_str(" => ");
    out.push_str(&s(&b[pfx..pfx + b_mid]));
    if pfx + sfx > 0 {
        out.push('}');
        out.push_str(&s(&a[a.len() - sfx..]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fs(name: &str, added: usize, deleted: usize) -> FileStat {
        FileStat {
            name: name.into(),
            added,
            deleted,
            binary: false,
        }
    }

    #[test]
    fn seed_stat_shape() {
        let s = render_stat(
            &[
                fs("include/asm-generic/tlb.h", 6, 9),
                fs("mm/memory.c", 122, 19),
            ],
            MAIL_STAT_WIDTH,
        );
        let lines: Vec<&str> = s.lines().collect();
        assert!(lines[0].starts_with(" include/asm-generic/tlb.h |  15 "));
        assert!(lines[1].starts_with(" mm/memory.c               | 141 "));
        assert_eq!(
            lines[2],
            " 2 files changed, 128 insertions(+), 28 deletions(-)"
        );
        assert!(lines.iter().all(|l| l.len() <= MAIL_STAT_WIDTH));
    }

    #[test]
    fn rename_names() {
        assert_eq!(rename_name(b"a/b/c.txt", b"a/d/c.txt"), "a/{b => d}/c.txt");
        assert_eq!(rename_name(b"old.txt", b"new.txt"), "old.txt => new.txt");
        assert_eq!(rename_name(b"dir/a", b"dir/b"), "dir/{a => b}");
    }

    #[test]
    fn summary_words() {
        assert_eq!(summary_line(1, 1, 0), " 1 file changed, 1 insertion(+)\n");
        assert_eq!(
            summary_line(2, 0, 0),
            " 2 files changed, 0 insertions(+), 0 deletions(-)\n"
        );
        assert_eq!(summary_line(1, 0, 3), " 1 file changed, 3 deletions(-)\n");
    }
}
