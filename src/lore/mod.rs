//! A public-inbox archive (lore.kernel.org, or any public-inbox-httpd) over
//! HTTP with `reqwest`: a thread as an mbox, one raw message, a search.
//! Every exchange has one deadline, from the request to the last byte of
//! the answer, and every response a size limit; a redirect is followed
//! only within the archive's own origin; nothing is cached.

use std::io::Read;
use std::time::{Duration, Instant};

use crate::mailbox;

/// The archive used when neither `--lore` nor `series.lore` names one.
pub const DEFAULT: &str = "https://lore.kernel.org/all";
/// The largest response read: a thread of a big series with its replies
/// fits many times over.
pub const MAX_BYTES: u64 = 64 << 20;

/// Why the archive gave nothing.
#[derive(Debug, thiserror::Error)]
pub enum LoreError {
    #[error("cannot reach {url}: {why}")]
    Unreachable { url: String, why: String },
    #[error("{url}: {msgid} is not in the archive (HTTP 404)")]
    NotFound { url: String, msgid: String },
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: the response is larger than {limit} bytes")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: {why}")]
    Bad { url: String, why: String },
    #[error("{url} redirects to {to}, another site; series does not follow it")]
    Elsewhere { url: String, to: String },
}

/// A client for one archive.
pub struct Lore {
    base: String,
    client: reqwest::blocking::Client,
    max_bytes: u64,
    limit: Duration,
}

/// A reader that stops at a deadline: a server that sends a byte now and
/// then cannot keep an exchange alive past it.
struct Until<R> {
    inner: R,
    deadline: Instant,
}

impl<R: Read> Read for Until<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if Instant::now() >= self.deadline {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no answer in time (--lore-timeout)",
            ));
        }
        self.inner.read(buf)
    }
}

/// A Message-Id as it goes in an archive's URL: angle brackets dropped,
/// anything outside the unreserved set and `@` percent-encoded.
pub fn url_msgid(msgid: &str) -> String {
    let id = msgid.trim().trim_start_matches('<').trim_end_matches('>');
    let mut out = String::new();
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@!$&'()*+,;=:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Lore {
    /// A client for the archive at `base` (`https://lore.kernel.org/all`),
    /// each request limited to `timeout`.
    pub fn new(base: &str, timeout: Duration) -> Result<Lore, LoreError> {
        let origin = |u: &reqwest::Url| {
            (
                u.scheme().to_string(),
                u.host_str().map(str::to_string),
                u.port_or_known_default(),
            )
        };
        let home = reqwest::Url::parse(base).ok().map(|u| origin(&u));
        // Follow a redirect within the archive's origin only: another
        // site is named in the error, never fetched quietly.
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > 5 {
                attempt.error("too many redirects")
            } else if home.as_ref() == Some(&origin(attempt.url())) {
                attempt.follow()
            } else {
                attempt.stop()
            }
        });
        // reqwest is built without a TLS crypto provider of its own: ring's
        // is installed once for the process (a second install is a no-op).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .redirect(policy)
            .connect_timeout(timeout.min(Duration::from_secs(30)))
            .user_agent(concat!("series/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LoreError::Bad {
                url: base.to_string(),
                why: e.to_string(),
            })?;
        Ok(Lore {
            base: base.trim_end_matches('/').to_string(),
            client,
            max_bytes: MAX_BYTES,
            limit: timeout,
        })
    }

    /// Run one exchange (request and the whole answer) against a single
    /// deadline: the exchange runs on its own thread, and when the
    /// deadline passes first it is abandoned and reported.
    fn exchange(
        &self,
        url: &str,
        msgid: &str,
        request: reqwest::blocking::RequestBuilder,
    ) -> Result<Vec<u8>, LoreError> {
        let deadline = Instant::now() + self.limit;
        let (tx, rx) = std::sync::mpsc::channel();
        let (u, m, max) = (url.to_string(), msgid.to_string(), self.max_bytes);
        std::thread::spawn(move || {
            let _ = tx.send(read_answer(&u, &m, request.send(), max, deadline));
        });
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(r) => r,
            Err(_) => Err(LoreError::Unreachable {
                url: url.to_string(),
                why: "no answer in time (--lore-timeout)".into(),
            }),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Every message of the thread `msgid` is in, oldest first.
    pub fn thread(&self, msgid: &str) -> Result<Vec<Vec<u8>>, LoreError> {
        let url = format!("{}/{}/t.mbox.gz", self.base, url_msgid(msgid));
        let body = self.exchange(&url, msgid, self.client.get(&url))?;
        self.mbox(&url, &body)
    }

    /// One message, as it was received.
    pub fn raw(&self, msgid: &str) -> Result<Vec<u8>, LoreError> {
        let url = format!("{}/{}/raw", self.base, url_msgid(msgid));
        let body = self.exchange(&url, msgid, self.client.get(&url))?;
        if looks_like_html(&body) {
            return Err(LoreError::Bad {
                url,
                why: "the archive answered with a web page, not a message".into(),
            });
        }
        Ok(body)
    }

    /// The messages a search finds (public-inbox's query language), with
    /// their whole threads when `threads`.
    pub fn search(&self, query: &str, threads: bool) -> Result<Vec<Vec<u8>>, LoreError> {
        let url = format!("{}/?q={}&x=m", self.base, url_msgid(query));
        // public-inbox gives a search as an mbox only to a POST; a body
        // starting `x=` (but `x=0`) asks for the whole threads.
        let request = self
            .client
            .post(&url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(if threads { "x=m" } else { "x=0" });
        match self.exchange(&url, query, request) {
            Err(LoreError::NotFound { .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
            Ok(body) => self.mbox(&url, &body),
        }
    }

    /// An mbox, gzipped or not, split into messages.
    fn mbox(&self, url: &str, body: &[u8]) -> Result<Vec<Vec<u8>>, LoreError> {
        let text = if body.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(body)
                .take(self.max_bytes + 1)
                .read_to_end(&mut out)
                .map_err(|e| LoreError::Bad {
                    url: url.to_string(),
                    why: format!("not a gzip file: {e}"),
                })?;
            if out.len() as u64 > self.max_bytes {
                return Err(LoreError::TooLarge {
                    url: url.to_string(),
                    limit: self.max_bytes,
                });
            }
            out
        } else {
            body.to_vec()
        };
        let first = text.iter().position(|b| !b.is_ascii_whitespace());
        if first.is_some_and(|i| !text[i..].starts_with(b"From ")) {
            return Err(LoreError::Bad {
                url: url.to_string(),
                why: if looks_like_html(&text) {
                    "not an mbox: the archive answered with a web page (is the URL a public-inbox?)"
                        .into()
                } else {
                    "not an mbox: the answer does not start with a `From ` line".into()
                },
            });
        }
        Ok(mailbox::split_mbox(&text))
    }
}

/// Whether an answer is a web page.
fn looks_like_html(body: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
    let t = head.trim_start();
    t.starts_with("<!doctype html") || t.starts_with("<html") || t.starts_with("<?xml")
}

/// The body of a response, at most `max` bytes, read before `deadline`.
fn read_answer(
    url: &str,
    msgid: &str,
    resp: reqwest::Result<reqwest::blocking::Response>,
    max: u64,
    deadline: Instant,
) -> Result<Vec<u8>, LoreError> {
    let resp = resp.map_err(|e| LoreError::Unreachable {
        url: url.to_string(),
        why: error_chain(&e),
    })?;
    match resp.status().as_u16() {
        200 => {}
        404 => {
            return Err(LoreError::NotFound {
                url: url.to_string(),
                msgid: msgid.to_string(),
            })
        }
        300..=399 => {
            let to = resp
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .unwrap_or("?")
                .to_string();
            return Err(LoreError::Elsewhere {
                url: url.to_string(),
                to,
            });
        }
        status => {
            return Err(LoreError::Status {
                url: url.to_string(),
                status,
            })
        }
    }
    let mut body = Vec::new();
    Until {
        inner: resp,
        deadline,
    }
    .take(max + 1)
    .read_to_end(&mut body)
    .map_err(|e| LoreError::Unreachable {
        url: url.to_string(),
        why: e.to_string(),
    })?;
    if body.len() as u64 > max {
        return Err(LoreError::TooLarge {
            url: url.to_string(),
            limit: max,
        });
    }
    Ok(body)
}

/// What went wrong with a request, in a few words: a time-out, or the
/// innermost cause (`Connection refused (os error 111)`).
fn error_chain(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "no answer in time (--lore-timeout)".into();
    }
    let mut last = e.to_string();
    let mut next = std::error::Error::source(e);
    while let Some(c) = next {
        last = c.to_string();
        next = c.source();
    }
    last
}

impl crate::error::Advice for LoreError {
    fn kind(&self) -> crate::error::Kind {
        crate::error::Kind::Tool
    }

    fn hint(&self) -> Option<String> {
        crate::error::says(match self {
            LoreError::Unreachable { .. } => {
                "check the network, or pass --lore URL for another archive, or --mbox FILE with the mails"
            }
            LoreError::NotFound { .. } => {
                "check the Message-Id, or pass --lore URL for the archive that has it"
            }
            LoreError::Elsewhere { .. } => {
                "if that site is the archive you want, pass it as --lore URL"
            }
            _ => "pass --lore URL for another archive, or --mbox FILE with the mails",
        })
    }
}
