//! A raw HTTP/1.1 client over TCP, for requests no well-behaved client sends: bodies trickled
//! byte by byte, bodies cut short, connections from a chosen loopback address.

use std::{net::SocketAddr, time::Duration};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};

/// One connection to a server.
pub struct RawConn {
    stream: TcpStream,
    /// What has been read and not yet taken as an answer.
    buf: Vec<u8>,
}

/// The status line and headers of an answer, and what of its body came with them.
#[derive(Debug, Clone)]
pub struct RawAnswer {
    /// The status code.
    pub status: u16,
    /// The header block, lower-cased.
    pub head: String,
    /// Body bytes read so far.
    pub body: Vec<u8>,
}

impl RawAnswer {
    /// A header's value, if present.
    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.head
            .lines()
            .find_map(|l| l.strip_prefix(&prefix).map(|v| v.trim().to_string()))
    }
}

impl RawConn {
    /// Connects to `to` from `from` (any loopback address, e.g. 127.0.0.2), or from 127.0.0.1.
    pub async fn connect(to: SocketAddr, from: Option<std::net::IpAddr>) -> Self {
        let socket = TcpSocket::new_v4().expect("socket");
        if let Some(ip) = from {
            socket
                .bind(SocketAddr::new(ip, 0))
                .expect("bind the client address");
        }
        let stream = socket.connect(to).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    /// Sends bytes as they are.
    pub async fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await
    }

    /// Reads until the end of the answer's headers; `None` when the connection closes first or
    /// nothing comes within `within`. Bytes read before a time-out are kept for the next call.
    pub async fn answer(&mut self, within: Duration) -> Option<RawAnswer> {
        let Self { stream, buf } = self;
        let read = async {
            let mut chunk = [0u8; 4096];
            loop {
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    return Some(end);
                }
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
        };
        let end = tokio::time::timeout(within, read).await.ok().flatten()?;
        let head = String::from_utf8_lossy(&self.buf[..end]).to_ascii_lowercase();
        let body = self.buf[end + 4..].to_vec();
        self.buf.clear();
        let status = head.split_whitespace().nth(1)?.parse().ok()?;
        Some(RawAnswer { status, head, body })
    }

    /// Reads the rest of a body of `Content-Length` bytes after `answer` (or what comes before
    /// the connection closes).
    pub async fn body(&mut self, answer: &RawAnswer, within: Duration) -> Vec<u8> {
        let want: usize = answer
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = answer.body.clone();
        let read = async {
            let mut chunk = [0u8; 4096];
            while body.len() < want {
                match self.stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => body.extend_from_slice(&chunk[..n]),
                }
            }
        };
        let _ = tokio::time::timeout(within, read).await;
        body
    }

    /// True when the server has closed the connection (reads end) within `within`.
    pub async fn closed(&mut self, within: Duration) -> bool {
        let wait = async {
            let mut chunk = [0u8; 1024];
            loop {
                match self.stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => continue,
                }
            }
        };
        tokio::time::timeout(within, wait).await.is_ok()
    }
}
