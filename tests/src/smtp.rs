//! A tiny SMTP server on 127.0.0.1:0 that records what it is sent: it answers EHLO/HELO,
//! MAIL, RCPT, DATA, RSET, NOOP and QUIT (no TLS, no sign-in), one conversation at a time per
//! connection, and keeps each message with its envelope.

use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    /// `MAIL FROM` address.
    pub from: String,
    /// `RCPT TO` addresses.
    pub to: Vec<String>,
    /// The DATA as sent, dot-stuffing undone, lines ended by `\n`.
    pub data: String,
}

impl Received {
    /// A header's value (the first of that name), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\n\n").next().unwrap_or_default();
        let mut found: Option<String> = None;
        for line in head.lines() {
            if line.starts_with(' ') || line.starts_with('\t') {
                if let Some(v) = found.as_mut() {
                    v.push_str(line.trim_start());
                }
                continue;
            }
            if found.is_some() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case(name) {
                    found = Some(v.trim().to_string());
                }
            }
        }
        found
    }

    /// The body, after the headers.
    pub fn body(&self) -> &str {
        self.data
            .split_once("\n\n")
            .map(|x| x.1)
            .unwrap_or_default()
    }
}

/// The server: its port and what it received.
#[derive(Clone)]
pub struct SmtpServer {
    /// Where it listens on 127.0.0.1.
    pub port: u16,
    messages: Arc<Mutex<Vec<Received>>>,
}

impl SmtpServer {
    /// Starts listening on a free loopback port.
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    /// Starts listening on `port` of 127.0.0.1 (0 for any free one).
    pub async fn start_on(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind smtp");
        let port = listener.local_addr().expect("addr").port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let kept = messages.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let _ = conversation(stream, kept).await;
                });
            }
        });
        Self { port, messages }
    }

    /// Everything received so far.
    pub fn messages(&self) -> Vec<Received> {
        self.messages.lock().expect("messages").clone()
    }

    /// What was sent to `address`.
    pub fn to(&self, address: &str) -> Vec<Received> {
        self.messages()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == address))
            .collect()
    }
}

async fn conversation(
    stream: tokio::net::TcpStream,
    kept: Arc<Mutex<Vec<Received>>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 test.localhost ESMTP\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        let addr = |c: &str| {
            c.split_once(':')
                .map(|x| x.1.trim().trim_start_matches('<').trim_end_matches('>'))
                .unwrap_or_default()
                .to_string()
        };
        let answer: &[u8] = if upper.starts_with("EHLO") {
            b"250-test.localhost\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            b"250 ok\r\n"
        } else if upper.starts_with("RSET") {
            from.clear();
            to.clear();
            b"250 ok\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = addr(&cmd);
            b"250 ok\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(addr(&cmd));
            b"250 ok\r\n"
        } else if upper == "DATA" {
            write.write_all(b"354 go ahead\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                let l = line.trim_end_matches(['\r', '\n']);
                if l == "." {
                    break;
                }
                data.push_str(l.strip_prefix('.').unwrap_or(l));
                data.push('\n');
            }
            kept.lock().expect("messages").push(Received {
                from: std::mem::take(&mut from),
                to: std::mem::take(&mut to),
                data,
            });
            b"250 queued\r\n"
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 not here\r\n"
        };
        write.write_all(answer).await?;
    }
}
