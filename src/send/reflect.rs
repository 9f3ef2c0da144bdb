//! `series send --reflect`: the version goes through git send-email as the
//! real send hands it over, headers and all, but reaches one envelope
//! recipient only, the sender. git send-email cannot do that alone (its
//! envelope is the To, Cc and Bcc it writes into the headers), so its
//! sendmail command is series itself (`series deliver`, hidden), which
//! takes the finished message on stdin and passes it on, unchanged, to
//! that one address over the transport git send-email would have used.
//!
//! The transport is read as git-send-email.perl reads it (git 2.47,
//! the code after "if (!defined $sendmail_cmd && !defined $smtp_server)"
//! and in send_message): `sendemail.sendmailCmd` run by sh;
//! else `sendemail.smtpServer` as an absolute path is a sendmail program;
//! else it is an SMTP host (`smtpServerPort`, default 465 with
//! `smtpEncryption = ssl`, else 25; `tls` is STARTTLS; `smtpUser` with
//! `smtpPass` or `git credential fill`; `smtpDomain` for HELO); with no
//! server set, /usr/sbin/sendmail or /usr/lib/sendmail, else localhost.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::address::{Address, Envelope};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;
use lettre::{SmtpTransport, Transport as _};

use crate::git::config_get;
use crate::process::Run;

/// How git send-email would hand a message over.
#[derive(Debug, PartialEq, Eq)]
pub enum Transport {
    /// `sendemail.sendmailCmd`, run by `sh -c`.
    Command(String),
    /// A sendmail-compatible program.
    Program(PathBuf),
    Smtp(Smtp),
}

/// An SMTP server, as git config names it.
#[derive(Debug, PartialEq, Eq)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub encryption: Encryption,
    pub user: Option<String>,
    pub pass: Option<String>,
    pub domain: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encryption {
    None,
    /// `ssl`: TLS from the first byte.
    Ssl,
    /// `tls`: STARTTLS.
    StartTls,
}

/// Why a reflected message did not go.
#[derive(Debug, thiserror::Error)]
pub enum ReflectError {
    #[error("sendemail.smtpServerPort {0:?} is not a port number")]
    Port(String),
    #[error("{0:?} is not an address to reflect to")]
    Address(String),
    #[error("the SMTP server {host}:{port} did not take the message: {why}")]
    Smtp {
        host: String,
        port: u16,
        why: String,
    },
    #[error("{program} did not take the message: {why}")]
    Program { program: String, why: String },
}

impl Transport {
    /// The transport git send-email would use when run in `dir`.
    pub fn from_config(dir: &Path) -> Result<Transport, ReflectError> {
        let get = |k: &str| config_get(dir, &format!("sendemail.{k}"));
        if let Some(cmd) = get("sendmailCmd") {
            return Ok(Transport::Command(cmd));
        }
        let server = match get("smtpServer") {
            Some(s) => s,
            None => {
                let found = ["/usr/sbin/sendmail", "/usr/lib/sendmail"]
                    .into_iter()
                    .map(PathBuf::from)
                    .find(|p| p.exists());
                match found {
                    Some(p) => return Ok(Transport::Program(p)),
                    None => "localhost".to_string(),
                }
            }
        };
        if Path::new(&server).is_absolute() {
            return Ok(Transport::Program(server.into()));
        }
        let encryption = match get("smtpEncryption").map(|e| e.to_ascii_lowercase()) {
            Some(e) if e == "ssl" => Encryption::Ssl,
            Some(e) if e == "tls" => Encryption::StartTls,
            _ => Encryption::None,
        };
        let port = match get("smtpServerPort") {
            Some(p) => p.trim().parse().map_err(|_| ReflectError::Port(p))?,
            None if encryption == Encryption::Ssl => 465,
            None => 25,
        };
        Ok(Transport::Smtp(Smtp {
            host: server,
            port,
            encryption,
            user: get("smtpUser"),
            pass: get("smtpPass"),
            domain: get("smtpDomain"),
        }))
    }
}

/// Hand `message` (as git send-email gives it to a sendmail program: LF
/// line ends) to `to` alone, from `from`, over `transport`, within `limit`.
pub fn deliver(
    transport: &Transport,
    from: &str,
    to: &str,
    message: &[u8],
    dir: &Path,
    limit: Duration,
) -> Result<(), ReflectError> {
    let program = |run: Run, name: String| {
        run.stdin(message.to_vec())
            .cwd(dir)
            .limit(limit)
            .checked()
            .map(|_| ())
            .map_err(|e| ReflectError::Program {
                program: name,
                why: e.to_string(),
            })
    };
    match transport {
        Transport::Command(cmd) => program(
            Run::new("sh").args(["-c", &format!("{cmd} \"$@\""), "-", "-i", "-f", from, to]),
            cmd.clone(),
        ),
        Transport::Program(p) => program(
            Run::new(p).args(["-i", "-f", from, to]),
            p.display().to_string(),
        ),
        Transport::Smtp(s) => smtp(s, from, to, message, dir, limit),
    }
}

fn smtp(
    s: &Smtp,
    from: &str,
    to: &str,
    message: &[u8],
    dir: &Path,
    limit: Duration,
) -> Result<(), ReflectError> {
    let address = |a: &str| {
        a.parse::<Address>()
            .map_err(|_| ReflectError::Address(a.to_string()))
    };
    let envelope = Envelope::new(Some(address(from)?), vec![address(to)?])
        .map_err(|e| ReflectError::Address(e.to_string()))?;
    let failed = |why: String| ReflectError::Smtp {
        host: s.host.clone(),
        port: s.port,
        why,
    };
    // The same TLS provider as the archive client's (see lore).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let builder = match s.encryption {
        Encryption::None => SmtpTransport::builder_dangerous(&s.host),
        Encryption::Ssl => SmtpTransport::relay(&s.host).map_err(|e| failed(e.to_string()))?,
        Encryption::StartTls => {
            SmtpTransport::starttls_relay(&s.host).map_err(|e| failed(e.to_string()))?
        }
    };
    let mut builder = builder.port(s.port).timeout(Some(limit));
    if let Some(d) = &s.domain {
        builder = builder.hello_name(ClientId::Domain(d.clone()));
    }
    if let Some(user) = &s.user {
        let pass = match &s.pass {
            Some(p) => p.clone(),
            None => credential(dir, s, user, limit).map_err(failed)?,
        };
        builder = builder.credentials(Credentials::new(user.clone(), pass));
    }
    builder
        .build()
        .send_raw(&envelope, &crlf(message))
        .map(|_| ())
        .map_err(|e| failed(e.to_string()))
}

/// The password git send-email would ask `git credential fill` for.
fn credential(dir: &Path, s: &Smtp, user: &str, limit: Duration) -> Result<String, String> {
    let ask = format!(
        "protocol=smtp\nhost={}:{}\nusername={user}\n\n",
        s.host, s.port
    );
    let out = Run::new("git")
        .args(["credential", "fill"])
        .cwd(dir)
        .stdin(ask.into_bytes())
        .limit(limit)
        .checked()
        .map_err(|e| format!("no password (sendemail.smtpPass, or git credential): {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("password=").map(str::to_string))
        .ok_or_else(|| "git credential gave no password".to_string())
}

/// SMTP's line ends: every bare LF becomes CRLF (lettre stuffs the dots),
/// and the last line's end is left out, as lettre writes it before the
/// closing dot (CRLF . CRLF) itself.
fn crlf(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + message.len() / 40);
    let mut last = 0u8;
    for &b in message {
        if b == b'\n' && last != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        last = b;
    }
    if out.ends_with(b"\r\n") {
        out.truncate(out.len() - 2);
    }
    out
}

/// The sendmail command git send-email is given for a reflect: this
/// program's `deliver` verb, which sends to `to` only.
pub fn sendmail_cmd(to: &str, from: &str) -> Result<String, std::io::Error> {
    let exe = std::env::current_exe()?;
    Ok(format!(
        "{} deliver --to {} --from {} --",
        quote(&exe.to_string_lossy()),
        quote(to),
        quote(from)
    ))
}

/// A word for sh, in single quotes.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends_become_crlf_once() {
        assert_eq!(crlf(b"a\nb\r\n.c\n"), b"a\r\nb\r\n.c");
    }

    #[test]
    fn words_are_quoted_for_sh() {
        assert_eq!(quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn the_transport_is_read_as_git_send_email_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        git2::Repository::init(dir.path()).unwrap();
        let set = |k: &str, v: &str| {
            let repo = git2::Repository::open(dir.path()).unwrap();
            repo.config().unwrap().set_str(k, v).unwrap();
        };
        set("sendemail.smtpServer", "smtp.example.org");
        set("sendemail.smtpEncryption", "ssl");
        set("sendemail.smtpUser", "me");
        assert_eq!(
            Transport::from_config(dir.path()).unwrap(),
            Transport::Smtp(Smtp {
                host: "smtp.example.org".into(),
                port: 465,
                encryption: Encryption::Ssl,
                user: Some("me".into()),
                pass: None,
                domain: None,
            })
        );
        set("sendemail.smtpServer", "/usr/bin/msmtp");
        assert_eq!(
            Transport::from_config(dir.path()).unwrap(),
            Transport::Program("/usr/bin/msmtp".into())
        );
        set("sendemail.sendmailCmd", "msmtp -a work");
        assert_eq!(
            Transport::from_config(dir.path()).unwrap(),
            Transport::Command("msmtp -a work".into())
        );
    }
}
