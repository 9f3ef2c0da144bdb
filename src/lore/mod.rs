//! A public-inbox archive (lore.kernel.org, or any public-inbox-httpd) over
//! HTTP with `reqwest`: a thread as an mbox, one raw message, a search.
//! Every request has a time limit and every response a size limit; nothing
//! is cached.

use std::io::Read;
use std::time::Duration;

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
}

/// A client for one archive.
pub struct Lore {
    base: String,
    client: reqwest::blocking::Client,
    max_bytes: u64,
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
        let client = reqwest::blocking::Client::builder()
            .timeout(timeout)
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
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The body of a response, at most `max_bytes`.
    fn read(
        &self,
        url: &str,
        msgid: &str,
        resp: reqwest::Result<reqwest::blocking::Response>,
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
            status => {
                return Err(LoreError::Status {
                    url: url.to_string(),
                    status,
                })
            }
        }
        let mut body = Vec::new();
        resp.take(self.max_bytes + 1)
            .read_to_end(&mut body)
            .map_err(|e| LoreError::Unreachable {
                url: url.to_string(),
                why: e.to_string(),
            })?;
        if body.len() as u64 > self.max_bytes {
            return Err(LoreError::TooLarge {
                url: url.to_string(),
                limit: self.max_bytes,
            });
        }
        Ok(body)
    }

    /// Every message of the thread `msgid` is in, oldest first.
    pub fn thread(&self, msgid: &str) -> Result<Vec<Vec<u8>>, LoreError> {
        let url = format!("{}/{}/t.mbox.gz", self.base, url_msgid(msgid));
        let body = self.read(&url, msgid, self.client.get(&url).send())?;
        self.mbox(&url, &body)
    }

    /// One message, as it was received.
    pub fn raw(&self, msgid: &str) -> Result<Vec<u8>, LoreError> {
        let url = format!("{}/{}/raw", self.base, url_msgid(msgid));
        self.read(&url, msgid, self.client.get(&url).send())
    }

    /// The messages a search finds (public-inbox's query language), with
    /// their whole threads when `threads`.
    pub fn search(&self, query: &str, threads: bool) -> Result<Vec<Vec<u8>>, LoreError> {
        let url = format!("{}/?q={}&x=m", self.base, url_msgid(query));
        // public-inbox gives a search as an mbox only to a POST; a body
        // starting `x=` (but `x=0`) asks for the whole threads.
        let resp = self
            .client
            .post(&url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(if threads { "x=m" } else { "x=0" })
            .send();
        match self.read(&url, query, resp) {
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
        Ok(mailbox::split_mbox(&text))
    }
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
