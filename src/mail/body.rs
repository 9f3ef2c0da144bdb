//! The text of a received mail, line by line, as a reader sees it: the
//! sender's own words, what they quote (and how deep), the attribution
//! line before a quote, snips, trailers, the sender's `-- ` signature and
//! the footer a mailing list appended. Import, review, trailers and reply
//! drafts all read mail through this one model.

use std::sync::OnceLock;

use regex::Regex;

use super::trailer::{self, Trailer};

/// What a line of a mail's text is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The sender's own words (blank lines between them too).
    Own,
    /// Quoted from an earlier mail; `Line::depth` says how deep.
    Quote,
    /// "On Wed, 15 Mar 2017, Aaron Lu wrote:" before a quote.
    Attribution,
    /// "[...]", "<snip>": where the sender cut a quote.
    Snip,
    /// A `Name: value` trailer in the sender's own text.
    Trailer,
    /// The sender's `-- ` signature, to the end of their text.
    Signature,
    /// What a mailing list appended (unsubscribe notes and the like).
    Footer,
}

/// One line of a mail's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub kind: Kind,
    /// Quote depth: 0 for the sender's own lines, 1 for `> `, 2 for `>> `.
    pub depth: usize,
    /// The line without its quote markers (`> ` at each level).
    pub text: String,
}

/// A mail's text, parsed.
#[derive(Clone, Debug, Default)]
pub struct Text {
    pub lines: Vec<Line>,
}

/// A run of lines of one kind (blank own lines are kept inside an own
/// run; blank lines elsewhere separate runs).
#[derive(Clone, Debug)]
pub struct Block<'a> {
    pub kind: Kind,
    /// The index of its first line in [`Text::lines`].
    pub start: usize,
    pub lines: Vec<&'a Line>,
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("a valid pattern"))
}

/// A line that starts a list footer by itself.
fn footer_marker(line: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r#"(?ix)^\s*(
            to\ unsubscribe,?\ send\ a\ message\ with\ ['"]?unsubscribe
          | to\ unsubscribe\ from\ this\ list:
          | to\ unsubscribe\ from\ this\ group\ and\ stop
          | more\ majordomo\ info\ at
          | please\ read\ the\ faq\ at
          | don'?t\ email:
          | you\ received\ this\ message\ because\ you\ are\ subscribed
          | unsubscribe:?\ +(https?://|mailto:)
        )"#,
    )
    .is_match(line)
}

/// The underline mailman puts above its footer.
fn mailman_rule(line: &str) -> bool {
    let t = line.trim();
    t.len() >= 20 && t.bytes().all(|b| b == b'_')
}

/// The line after a mailman rule: "LIST mailing list" or a listinfo link.
fn mailman_line(line: &str) -> bool {
    let l = line.trim().to_ascii_lowercase();
    l.ends_with("mailing list") || l.contains("/listinfo/") || l.contains("/mailman/")
}

/// A footer line that does not start a footer but belongs to one.
fn footer_follower(line: &str, list: Option<&str>) -> bool {
    let l = line.trim().to_ascii_lowercase();
    l.is_empty()
        || l.contains("majordomo")
        || l.contains("unsubscribe")
        || l.contains("listinfo")
        || l.starts_with("see: http")
        || l.starts_with("http://") && l.split_whitespace().count() == 1
        || l.starts_with("https://") && l.split_whitespace().count() == 1
        || l.starts_with("the body ")
        || l.starts_with("for more info")
        || l.contains("mailing list")
        || (!l.contains(' ') && l.contains('@') && !l.contains('<'))
        || list.is_some_and(|n| !n.is_empty() && l.contains(&n.to_ascii_lowercase()))
}

/// The line a footer begins at, when the text ends with one: a marker line
/// (majordomo's and vger's unsubscribe notes, "Don't email:", mailman's
/// ruled block), the `--` or `-- ` separator just above it, and nothing
/// but footer lines after it. `list` is the list's name from its headers.
pub fn footer_start(lines: &[&str], list: Option<&str>) -> Option<usize> {
    let bare = |l: &str| -> String {
        // A footer quoted in a reply is still a footer.
        l.trim_start_matches(['>', ' ']).trim_end().to_string()
    };
    let mut first_marker = None;
    let mut i = lines.len();
    while i > 0 && bare(lines[i - 1]).is_empty() {
        i -= 1;
    }
    while i > 0 {
        i -= 1;
        let l = bare(lines[i]);
        if footer_marker(&l) || (mailman_rule(&l) && footer_tail_is_mailman(lines, i)) {
            first_marker = Some(i);
            continue;
        }
        if footer_follower(&l, list) {
            continue;
        }
        break;
    }
    let mut s = first_marker?;
    if s > 0 {
        let above = bare(lines[s - 1]);
        if above == "--" || lines[s - 1] == "-- " {
            s -= 1;
        }
    }
    Some(s)
}

fn footer_tail_is_mailman(lines: &[&str], rule: usize) -> bool {
    lines[rule + 1..]
        .iter()
        .map(|l| l.trim_start_matches(['>', ' ']))
        .find(|l| !l.trim().is_empty())
        .is_some_and(mailman_line)
}

/// The quote depth of a line and its text without the markers: `> a`,
/// `>> a` and `> > a` are depth 1, 2 and 2, their text `a`.
pub fn unquote(line: &str) -> (usize, &str) {
    let mut depth = 0;
    let mut rest = line;
    loop {
        if let Some(r) = rest.strip_prefix('>') {
            depth += 1;
            rest = r.strip_prefix(' ').unwrap_or(r);
            continue;
        }
        // `> > a`: a space between markers.
        if depth > 0 {
            if let Some(r) = rest.strip_prefix(' ') {
                if r.starts_with('>') {
                    rest = r;
                    continue;
                }
            }
        }
        break;
    }
    (depth, rest)
}

/// A line that says who wrote the quote below it.
fn attribution(line: &str) -> bool {
    static STRONG: OnceLock<Regex> = OnceLock::new();
    static WEAK: OnceLock<Regex> = OnceLock::new();
    let l = line.trim();
    re(
        &STRONG,
        r"(?i)^(on |le |am |el |il |op |em |\* |quoting |citing ).*(wrote|writes|said|a écrit|schrieb|escribió|ha scritto|escreveu|schreef|skrev)\s*:\s*$",
    )
    .is_match(l)
        || re(
            &WEAK,
            r"(?i)(wrote|writes|said|a écrit|schrieb|escribió|ha scritto|escreveu|schreef|skrev)\s*:\s*$",
        )
        .is_match(l)
            && l.len() < 200
}

/// The start of an attribution that takes two lines ("On Wed, ..., Aaron
/// Lu" / "wrote:").
fn attribution_head(line: &str) -> bool {
    let l = line.trim();
    (l.starts_with("On ") || l.starts_with("* ") || l.starts_with("Quoting "))
        && !l.ends_with('.')
        && l.len() < 200
}

/// Where the sender cut a quote: `[...]`, `<snip>`, `...`.
pub fn is_snip(line: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"(?ix)^\s*(
            \[\s*(\.{2,}|…|snip(ped)?|trimmed|cut|deleted|\.\.\.\s*snip\s*\.\.\.)[^\]]{0,40}\]
          | <\s*/?\s*snip(ped)?\s*/?\s*>
          | -+\s*(8<|>8)\s*-+
          | \.{3,}
          | …
          | snip(ped)?\.?
        )\s*$",
    )
    .is_match(line)
        // An indented `...` is code, not a cut.
        && !(line.starts_with('\t') && line.trim_start().starts_with(['.', '…']))
}

/// An Outlook-style top-posting separator, below which the whole mail
/// replied to follows unquoted.
fn original_message(line: &str) -> bool {
    let l = line.trim().to_ascii_lowercase();
    l.trim_matches('-').trim() == "original message" && l.starts_with("--")
        || l == "-------- original message --------"
}

impl Text {
    /// Parse a mail's decoded text. `list` is the name of the list that
    /// delivered it (from `List-Id`), to recognise its footer.
    pub fn parse(body: &str, list: Option<&str>) -> Text {
        let raw: Vec<&str> = body.lines().collect();
        let footer = footer_start(&raw, list).unwrap_or(raw.len());
        let mut lines: Vec<Line> = Vec::with_capacity(raw.len());
        let mut original = false;
        for (i, l) in raw.iter().enumerate() {
            if i >= footer {
                lines.push(Line {
                    kind: Kind::Footer,
                    depth: 0,
                    text: l.to_string(),
                });
                continue;
            }
            if original {
                let (d, t) = unquote(l);
                lines.push(Line {
                    kind: Kind::Quote,
                    depth: d + 1,
                    text: t.to_string(),
                });
                continue;
            }
            if original_message(l) {
                original = true;
                lines.push(Line {
                    kind: Kind::Attribution,
                    depth: 0,
                    text: l.to_string(),
                });
                continue;
            }
            let (depth, text) = unquote(l);
            // mboxo escapes a `From ` at the start of a line as `>From `:
            // one such line among the sender's own is theirs.
            let escaped_from =
                depth == 1 && l.starts_with(">From ") && !neighbour_quoted(&raw, i, footer);
            if depth > 0 && !escaped_from {
                lines.push(Line {
                    kind: Kind::Quote,
                    depth,
                    text: text.to_string(),
                });
            } else {
                let text = if escaped_from { &l[1..] } else { l };
                lines.push(Line {
                    kind: Kind::Own,
                    depth: 0,
                    text: text.to_string(),
                });
            }
        }
        let mut t = Text { lines };
        t.mark_signature(footer);
        t.mark_attributions();
        t.mark_snips_and_trailers();
        t
    }

    /// From the sender's last `-- ` line to the end of their text (up to a
    /// quote or an attribution, for a top-posted reply).
    fn mark_signature(&mut self, end: usize) {
        let own_sep = |l: &Line| l.kind == Kind::Own && (l.text == "-- " || l.text == "--");
        let Some(at) = self.lines[..end].iter().rposition(own_sep) else {
            return;
        };
        // A bare `--` (a mailer that trims spaces) counts only when a few
        // plain lines follow it.
        if self.lines[at].text == "--" {
            let after = self.lines[at + 1..end]
                .iter()
                .take_while(|l| l.kind == Kind::Own)
                .filter(|l| !l.text.trim().is_empty())
                .count();
            if after == 0 || after > 6 {
                return;
            }
        }
        let mut last = at;
        for (k, l) in self.lines[at..end].iter().enumerate() {
            if l.kind != Kind::Own {
                break;
            }
            if !l.text.trim().is_empty() {
                last = at + k;
            }
        }
        for l in &mut self.lines[at..=last] {
            l.kind = Kind::Signature;
        }
        // A top-posted reply: the attribution after the signature is not
        // part of it.
        let mut k = end;
        while k > at + 1 {
            k -= 1;
            if self.lines[k].kind == Kind::Signature && attribution(&self.lines[k].text) {
                self.lines[k].kind = Kind::Attribution;
                for l in &mut self.lines[k + 1..end] {
                    if l.kind == Kind::Signature {
                        l.kind = Kind::Own;
                    }
                }
            }
        }
    }

    /// Attribution lines: a line naming who wrote (ending "wrote:") before
    /// a quote, with blank lines and snips between; the line above it when
    /// the attribution was wrapped.
    fn mark_attributions(&mut self) {
        let n = self.lines.len();
        for i in 0..n {
            if self.lines[i].kind != Kind::Own || !attribution(&self.lines[i].text) {
                continue;
            }
            let quote_follows = self.lines[i + 1..]
                .iter()
                .find(|l| !(l.kind == Kind::Own && (l.text.trim().is_empty() || is_snip(&l.text))))
                .is_none_or(|l| l.kind == Kind::Quote);
            let strong = self.lines[i].text.trim_start().starts_with("On ");
            if !quote_follows && !strong {
                continue;
            }
            self.lines[i].kind = Kind::Attribution;
            if i > 0
                && self.lines[i - 1].kind == Kind::Own
                && attribution_head(&self.lines[i - 1].text)
                && !self.lines[i].text.trim_start().starts_with("On ")
            {
                self.lines[i - 1].kind = Kind::Attribution;
            }
        }
    }

    fn mark_snips_and_trailers(&mut self) {
        for l in &mut self.lines {
            match l.kind {
                Kind::Own | Kind::Quote if is_snip(&l.text) => l.kind = Kind::Snip,
                Kind::Own if trailer::parse_line(&l.text).is_some() => l.kind = Kind::Trailer,
                _ => {}
            }
        }
        // A trailer a mailer wrapped over two lines (`Reviewed-by: Name` /
        // `<address>`) is a trailer too.
        for i in 1..self.lines.len() {
            let (a, b) = (&self.lines[i - 1], &self.lines[i]);
            if a.kind == Kind::Own && b.kind == Kind::Own {
                let joined = trailer::unwrap_lines(&[a.text.as_str(), b.text.as_str()]);
                if joined.len() == 1 && trailer::parse_line(&joined[0]).is_some() {
                    self.lines[i - 1].kind = Kind::Trailer;
                    self.lines[i].kind = Kind::Trailer;
                }
            }
        }
    }

    /// The runs of lines, in order. An own run keeps its blank lines; a
    /// blank line between two runs of other kinds goes with neither.
    pub fn blocks(&self) -> Vec<Block<'_>> {
        let mut out: Vec<Block> = Vec::new();
        let mut i = 0;
        while i < self.lines.len() {
            let l = &self.lines[i];
            let blank = l.kind == Kind::Own && l.text.trim().is_empty();
            if blank {
                // Blank lines belong to an own run only between own lines.
                let next_own = self.lines[i + 1..]
                    .iter()
                    .find(|n| !(n.kind == Kind::Own && n.text.trim().is_empty()))
                    .is_some_and(|n| n.kind == Kind::Own);
                let in_own = out.last().is_some_and(|b| b.kind == Kind::Own);
                if in_own && next_own {
                    if let Some(b) = out.last_mut() {
                        b.lines.push(l);
                    }
                }
                i += 1;
                continue;
            }
            let same = out
                .last()
                .is_some_and(|b| b.kind == l.kind && b.start + b.lines.len() == i);
            match out.last_mut() {
                Some(b) if same || (b.kind == l.kind && b.kind == Kind::Own) => b.lines.push(l),
                _ => out.push(Block {
                    kind: l.kind,
                    start: i,
                    lines: vec![l],
                }),
            }
            i += 1;
        }
        out
    }

    /// The trailers of the sender's own text, in order.
    pub fn trailers(&self) -> Vec<Trailer> {
        let mut out = Vec::new();
        let texts: Vec<&str> = self
            .lines
            .iter()
            .filter(|l| l.kind == Kind::Trailer)
            .map(|l| l.text.as_str())
            .collect();
        for t in trailer::unwrap_lines(&texts) {
            if let Some(tr) = trailer::parse_line(&t) {
                out.push(tr);
            }
        }
        out
    }

    /// The footer a list appended, if any.
    pub fn footer(&self) -> Option<String> {
        let f: Vec<&str> = self
            .lines
            .iter()
            .filter(|l| l.kind == Kind::Footer)
            .map(|l| l.text.as_str())
            .collect();
        (!f.is_empty()).then(|| f.join("\n"))
    }
}

/// Whether the line before or after `i` (within `end`) is quoted.
fn neighbour_quoted(raw: &[&str], i: usize, end: usize) -> bool {
    let quoted = |l: &str| l.starts_with('>') && !l.starts_with(">From ");
    (i > 0 && quoted(raw[i - 1])) || (i + 1 < end && quoted(raw[i + 1]))
}

/// The text without the footer a list appended (and the blank lines
/// above it): what the sender sent.
pub fn strip_footer(body: &str, list: Option<&str>) -> (String, Option<String>) {
    let lines: Vec<&str> = body.lines().collect();
    let Some(at) = footer_start(&lines, list) else {
        return (body.to_string(), None);
    };
    let mut kept: Vec<&str> = lines[..at].to_vec();
    while kept.last().is_some_and(|l| l.trim().is_empty()) {
        kept.pop();
    }
    let mut text = kept.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    (text, Some(lines[at..].join("\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(t: &Text) -> Vec<(Kind, usize, &str)> {
        t.lines
            .iter()
            .map(|l| (l.kind, l.depth, l.text.as_str()))
            .collect()
    }

    const KVACK: &str = "--\nTo unsubscribe, send a message with 'unsubscribe linux-mm' in\nthe body to majordomo@kvack.org.  For more info on Linux MM,\nsee: http://www.linux-mm.org/ .\nDon't email: <a href=mailto:\"dont@kvack.org\"> email@kvack.org </a>\n";
    const VGER: &str = "--\nTo unsubscribe from this list: send the line \"unsubscribe linux-kernel\" in\nthe body of a message to majordomo@vger.kernel.org\nMore majordomo info at  http://vger.kernel.org/majordomo-info.html\nPlease read the FAQ at  http://www.tux.org/lkml/\n";
    const MAILMAN: &str = "_______________________________________________\nlinux-arm-kernel mailing list\nlinux-arm-kernel@lists.infradead.org\nhttp://lists.infradead.org/mailman/listinfo/linux-arm-kernel\n";

    #[test]
    fn list_footers_are_told_from_the_senders_signature() {
        for footer in [KVACK, VGER, MAILMAN] {
            let body = format!("Looks fine.\n\n-- \nMel Gorman\nSUSE Labs\n\n{footer}");
            let t = Text::parse(&body, None);
            let sig: Vec<&str> = t
                .lines
                .iter()
                .filter(|l| l.kind == Kind::Signature)
                .map(|l| l.text.as_str())
                .collect();
            assert_eq!(sig, ["-- ", "Mel Gorman", "SUSE Labs"], "{footer}");
            assert!(t.footer().is_some(), "{footer}");
            let (kept, f) = strip_footer(&body, None);
            assert_eq!(kept, "Looks fine.\n\n-- \nMel Gorman\nSUSE Labs\n");
            assert!(f.unwrap().contains("nsubscribe") || footer == MAILMAN);
        }
    }

    #[test]
    fn a_footer_after_a_quote_without_a_separator_is_a_footer() {
        let body = "> +int x;\n\nWhy int?\n\n> +long y;\nTo unsubscribe from this list: send the line \"unsubscribe linux-kernel\" in\nthe body of a message to majordomo@vger.kernel.org\n";
        let t = Text::parse(body, None);
        assert_eq!(t.lines.iter().filter(|l| l.kind == Kind::Footer).count(), 2);
        assert_eq!(t.lines[4].kind, Kind::Quote);
    }

    #[test]
    fn patch_mail_footer_goes_and_git_version_stays() {
        let body = format!("msg\n---\n a | 1 +\n-- \n2.7.4\n\n{KVACK}");
        let (kept, _) = strip_footer(&body, Some("linux-mm"));
        assert_eq!(kept, "msg\n---\n a | 1 +\n-- \n2.7.4\n");
    }

    #[test]
    fn prose_that_mentions_a_list_is_not_a_footer() {
        let body = "Please send this to the linux-mm mailing list.\n";
        assert_eq!(strip_footer(body, Some("linux-mm")).1, None);
    }

    #[test]
    fn quotes_depths_attributions_and_snips() {
        let body = "Hi,\n\nOn Wed, Mar 15, 2017 at 05:02:11PM +0800, Aaron Lu\nwrote:\n> > +int a;\n>> +int b;\n> +int c;\n[...]\n\nWhy three?\n\n<snip>\n\nReviewed-by: Mel Gorman <mgorman@suse.de>\n";
        let t = Text::parse(body, None);
        let k = kinds(&t);
        assert_eq!(k[2].0, Kind::Attribution);
        assert_eq!(k[3].0, Kind::Attribution);
        assert_eq!(k[4], (Kind::Quote, 2, "+int a;"));
        assert_eq!(k[5], (Kind::Quote, 2, "+int b;"));
        assert_eq!(k[6], (Kind::Quote, 1, "+int c;"));
        assert_eq!(k[7].0, Kind::Snip);
        assert_eq!(k[9], (Kind::Own, 0, "Why three?"));
        assert_eq!(k[11].0, Kind::Snip);
        assert_eq!(k[13].0, Kind::Trailer);
    }

    #[test]
    fn a_wrapped_trailer_is_a_trailer() {
        let t = Text::parse("Reviewed-by: Mel Gorman\n<mgorman@suse.de>\n", None);
        assert_eq!(t.lines[0].kind, Kind::Trailer);
        assert_eq!(t.lines[1].kind, Kind::Trailer);
        assert_eq!(t.trailers()[0].value, "Mel Gorman <mgorman@suse.de>");
    }

    #[test]
    fn an_escaped_from_among_own_lines_is_the_senders() {
        let body =
            ">From the numbers above, 2 workers are enough.\n\n> +int x;\n>From here on quoted\n";
        let t = Text::parse(body, None);
        assert_eq!(
            t.lines[0],
            Line {
                kind: Kind::Own,
                depth: 0,
                text: "From the numbers above, 2 workers are enough.".into()
            }
        );
        assert_eq!(t.lines[3].kind, Kind::Quote);
    }

    #[test]
    fn top_posting_keeps_the_signature_apart_from_the_quote() {
        let body = "Fine by me.\n\n-- \nMichal Hocko\nSUSE Labs\n\nOn Wed 15-03-17 17:02:11, Aaron Lu wrote:\n> Add f2.\n";
        let t = Text::parse(body, None);
        let k = kinds(&t);
        assert_eq!(k[2].0, Kind::Signature);
        assert_eq!(k[6].0, Kind::Attribution);
        assert_eq!(k[7].0, Kind::Quote);
        let original =
            "Agreed.\n\n-----Original Message-----\nFrom: Aaron Lu\nSubject: x\n\nbody line\n";
        let t = Text::parse(original, None);
        assert_eq!(t.lines[2].kind, Kind::Attribution);
        assert_eq!(t.lines[6].kind, Kind::Quote);
    }
}
