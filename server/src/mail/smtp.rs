//! A small SMTP client: one conversation per mail (EHLO, STARTTLS or TLS, AUTH PLAIN, MAIL,
//! RCPT, DATA, QUIT), plain-text UTF-8 bodies. Copse sends little mail, and this needs no crate
//! beyond the TLS one the federation client already uses.

use crate::settings::{MailSettings, TlsMode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_native_tls::{native_tls, TlsConnector};

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    /// The connection failed or broke.
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    /// TLS could not be set up.
    #[error("tls: {0}")]
    Tls(#[from] native_tls::Error),
    /// The server answered with an error or something unreadable.
    #[error("server said: {0}")]
    Refused(String),
    /// The conversation took longer than `mail.timeout_seconds`.
    #[error("timed out")]
    Timeout,
}

/// One mail, already composed: headers and body as text.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// The recipient's address.
    pub to: String,
    /// The whole message (headers, blank line, body); line ends are normalised when sent.
    pub message: String,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

struct Conn {
    io: Box<dyn Io>,
    buf: Vec<u8>,
}

/// Longest reply we read, so a hostile server cannot fill memory.
const MAX_REPLY: usize = 64 * 1024;

impl Conn {
    /// One reply (all its lines): its code and its text.
    async fn reply(&mut self) -> Result<(u16, String), SmtpError> {
        let mut text = String::new();
        loop {
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..end + 2).collect();
                let line = String::from_utf8_lossy(&line[..end]).to_string();
                let code = line
                    .get(..3)
                    .and_then(|c| c.parse::<u16>().ok())
                    .ok_or_else(|| SmtpError::Refused(format!("unreadable reply {line:?}")))?;
                text.push_str(line.get(4..).unwrap_or_default());
                text.push('\n');
                if line.as_bytes().get(3) != Some(&b'-') {
                    return Ok((code, text));
                }
                continue;
            }
            if self.buf.len() > MAX_REPLY {
                return Err(SmtpError::Refused("reply too long".into()));
            }
            let mut chunk = [0u8; 4096];
            let n = self.io.read(&mut chunk).await?;
            if n == 0 {
                return Err(SmtpError::Refused("connection closed".into()));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Sends a command and expects a reply whose code starts with `want` (e.g. 2 or 3).
    async fn command(&mut self, line: &str, want: u16) -> Result<String, SmtpError> {
        self.io.write_all(line.as_bytes()).await?;
        self.io.write_all(b"\r\n").await?;
        self.io.flush().await?;
        self.expect(want).await
    }

    async fn expect(&mut self, want: u16) -> Result<String, SmtpError> {
        let (code, text) = self.reply().await?;
        if code / 100 != want {
            return Err(SmtpError::Refused(format!("{code} {}", text.trim())));
        }
        Ok(text)
    }
}

async fn tls(
    io: TcpStream,
    host: &str,
) -> Result<tokio_native_tls::TlsStream<TcpStream>, SmtpError> {
    let connector = TlsConnector::from(native_tls::TlsConnector::new()?);
    Ok(connector.connect(host, io).await?)
}

/// The body of a DATA command: CRLF line ends, lines starting with a dot doubled, ended by
/// the lone dot.
pub fn data_block(message: &str) -> String {
    let mut out = String::with_capacity(message.len() + 16);
    for line in message
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .split('\n')
    {
        if line.starts_with('.') {
            out.push('.');
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str(".\r\n");
    out
}

/// Sends one mail through the server in `s`, introducing ourselves as `helo`.
pub async fn send(s: &MailSettings, helo: &str, mail: &Envelope) -> Result<(), SmtpError> {
    let limit = std::time::Duration::from_secs(s.timeout_seconds);
    tokio::time::timeout(limit, conversation(s, helo, mail))
        .await
        .map_err(|_| SmtpError::Timeout)?
}

async fn conversation(s: &MailSettings, helo: &str, mail: &Envelope) -> Result<(), SmtpError> {
    let tcp = TcpStream::connect((s.host.as_str(), s.port)).await?;
    let io: Box<dyn Io> = match s.tls {
        TlsMode::Tls => Box::new(tls(tcp, &s.host).await?),
        _ => Box::new(tcp),
    };
    let mut c = Conn {
        io,
        buf: Vec::new(),
    };
    c.expect(2).await?;
    c.command(&format!("EHLO {helo}"), 2).await?;
    if s.tls == TlsMode::Starttls {
        c.command("STARTTLS", 2).await?;
        if !c.buf.is_empty() {
            // Anything sent before the handshake could be an attacker's injection.
            return Err(SmtpError::Refused("data before the TLS handshake".into()));
        }
        let upgraded = TlsConnector::from(native_tls::TlsConnector::new()?)
            .connect(&s.host, c.io)
            .await?;
        c = Conn {
            io: Box::new(upgraded),
            buf: Vec::new(),
        };
        c.command(&format!("EHLO {helo}"), 2).await?;
    }
    if !s.username.is_empty() {
        let token =
            openssl::base64::encode_block(format!("\0{}\0{}", s.username, s.password).as_bytes());
        c.command(&format!("AUTH PLAIN {token}"), 2).await?;
    }
    c.command(&format!("MAIL FROM:<{}>", s.from), 2).await?;
    c.command(&format!("RCPT TO:<{}>", mail.to), 2).await?;
    c.command("DATA", 3).await?;
    c.io.write_all(data_block(&mail.message).as_bytes()).await?;
    c.io.flush().await?;
    c.expect(2).await?;
    // The mail is accepted; a failed goodbye changes nothing.
    let _ = c.command("QUIT", 2).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::data_block;

    #[test]
    fn data_doubles_leading_dots_and_ends_with_a_lone_dot() {
        assert_eq!(data_block("a\n.b\r\n.\nc"), "a\r\n..b\r\n..\r\nc\r\n.\r\n");
    }
}
