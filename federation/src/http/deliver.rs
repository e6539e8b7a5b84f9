//! The client that POSTs deliveries. A delivery needs far less than a general HTTP client: one
//! request, a status and a `Retry-After` back, and a kept-alive connection per host for the next
//! delivery. So the request is written and the answer read directly over TCP (or TLS through
//! native-tls), with the fetch client's rules: no redirects, no proxy, one time limit for the
//! whole exchange, and names resolved by [`super::resolve`], which refuses private addresses in
//! production.
//!
//! In the fan-out benchmark a delivery's transport (both ends included) costs about half of what it
//! cost through reqwest (docs/benchmarks.md), which matters because every delivery is also signed
//! on the same cores.

use super::resolve;
use crate::settings::FederationSettings;
use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::TcpStream,
};
use tokio_native_tls::native_tls;
use url::Url;

/// The longest response head read; a longer one fails the delivery.
const MAX_HEAD: usize = 16 * 1024;
/// The largest response body read to keep a connection; a larger one closes it instead.
const MAX_KEPT_BODY: usize = 16 * 1024;
/// Idle connections kept at most, one per host. More are closed after use.
const MAX_IDLE: usize = 4096;
/// How long a connection attempt to one of a host's addresses may take while others are left.
const NEXT_ADDRESS_AFTER: Duration = Duration::from_secs(2);

/// What a server answered to a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The `Retry-After` header, as sent.
    pub retry_after: Option<String>,
}

/// Why a delivery got no answer.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DeliveryError(String, bool);

impl DeliveryError {
    fn new(why: impl Into<String>) -> Self {
        Self(why.into(), false)
    }

    /// True when trying again cannot help: the host's name resolves only to refused addresses.
    pub fn is_permanent(&self) -> bool {
        self.1
    }
}

trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

type Stream = Box<dyn Io>;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Origin {
    https: bool,
    host: String,
    port: u16,
}

struct Idle {
    stream: Stream,
    since: Instant,
}

/// The delivery client: cheap to clone, one pool of idle connections for all clones.
#[derive(Clone)]
pub struct DeliveryClient {
    inner: Arc<Inner>,
}

struct Inner {
    idle: Mutex<HashMap<Origin, Idle>>,
    tls: tokio_native_tls::TlsConnector,
    debug: bool,
    timeout: Duration,
    idle_timeout: Duration,
    user_agent: String,
}

impl DeliveryClient {
    /// Builds the client for these settings.
    pub fn new(settings: &FederationSettings) -> Result<Self, crate::Error> {
        let mut tls = native_tls::TlsConnector::builder();
        for pem in super::extra_roots(settings)? {
            let root = native_tls::Certificate::from_pem(&pem)
                .map_err(|e| crate::Error::Crypto(e.to_string()))?;
            tls.add_root_certificate(root);
        }
        let tls = tls
            .build()
            .map_err(|e| crate::Error::Crypto(e.to_string()))?;
        // Below the 60–75 s after which nginx and Puma close idle connections.
        Ok(Self::with_tls(settings, tls, Duration::from_secs(30)))
    }

    fn with_tls(
        settings: &FederationSettings,
        tls: native_tls::TlsConnector,
        idle_timeout: Duration,
    ) -> Self {
        let client = Self {
            inner: Arc::new(Inner {
                idle: Mutex::default(),
                tls: tls.into(),
                debug: settings.debug,
                timeout: settings.request_timeout,
                idle_timeout,
                user_agent: super::user_agent(settings),
            }),
        };
        // Closes connections idle for longer than the idle timeout, as hosts close their end
        // sooner or later and each would keep a file descriptor. Ends with the last clone.
        let inner = Arc::downgrade(&client.inner);
        let every = client.inner.idle_timeout / 2;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(inner) = inner.upgrade() else { return };
                expire(
                    &mut inner.idle.lock().unwrap_or_else(|e| e.into_inner()),
                    inner.idle_timeout,
                );
            }
        });
        client
    }

    /// POSTs `body` to `url` with these extra headers (name, value), over a kept-alive
    /// connection to the host if there is one. A kept connection the server has closed in the
    /// meantime is replaced by a new one once.
    pub async fn post(
        &self,
        url: &Url,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Answer, DeliveryError> {
        let origin = origin_of(url)?;
        let request = self.request(url, headers, body);
        let exchange = async {
            if let Some(stream) = self.checkout(&origin) {
                match exchange(stream, &request).await {
                    Err(Failure::Stale) => {}
                    done => return self.settle(origin, done),
                }
            }
            let stream = self.connect(&origin).await?;
            self.settle(origin, exchange(stream, &request).await)
        };
        tokio::time::timeout(self.inner.timeout, exchange)
            .await
            .map_err(|_| DeliveryError::new(format!("no answer within {:?}", self.inner.timeout)))?
    }

    /// Keeps the connection of a finished exchange for the next delivery, if it can carry one.
    fn settle(
        &self,
        origin: Origin,
        done: Result<(Answer, Option<Stream>), Failure>,
    ) -> Result<Answer, DeliveryError> {
        match done {
            Ok((answer, kept)) => {
                self.checkin(origin, kept);
                Ok(answer)
            }
            Err(Failure::Stale) => Err(DeliveryError::new("connection closed before any answer")),
            Err(Failure::Broken(e)) => Err(DeliveryError::new(e)),
        }
    }

    /// Idle connections kept now.
    pub fn idle_connections(&self) -> usize {
        self.inner
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    fn request(&self, url: &Url, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
        let mut head = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\nContent-Length: {}\r\n",
            crate::signatures::path_and_query(url),
            crate::signatures::host_header(url),
            self.inner.user_agent,
            body.len()
        );
        for (name, value) in headers {
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        // One write, so head and body leave in one segment (or TLS record) where they fit.
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        request
    }

    fn checkout(&self, origin: &Origin) -> Option<Stream> {
        let idle = self
            .inner
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(origin)?;
        (idle.since.elapsed() < self.inner.idle_timeout).then_some(idle.stream)
    }

    fn checkin(&self, origin: Origin, stream: Option<Stream>) {
        let Some(stream) = stream else { return };
        let mut idle = self.inner.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() >= MAX_IDLE {
            expire(&mut idle, self.inner.idle_timeout);
            if idle.len() >= MAX_IDLE {
                return;
            }
        }
        idle.insert(
            origin,
            Idle {
                stream,
                since: Instant::now(),
            },
        );
    }

    async fn connect(&self, origin: &Origin) -> Result<Stream, DeliveryError> {
        let addrs: Vec<SocketAddr> = resolve(&origin.host, self.inner.debug)
            .await
            .map_err(|e| {
                let permanent = matches!(e, super::ResolveError::Refused(_));
                DeliveryError(format!("address not allowed: {e}"), permanent)
            })?
            .into_iter()
            .map(|ip| SocketAddr::new(ip, origin.port))
            .collect();
        let tcp = connect_any(&addrs).await?;
        if !origin.https {
            return Ok(Box::new(tcp));
        }
        match self.inner.tls.connect(&origin.host, tcp).await {
            Ok(tls) => Ok(Box::new(tls)),
            Err(e) => Err(DeliveryError::new(format!("TLS with {}: {e}", origin.host))),
        }
    }
}

/// Connects to the first of `addrs` that accepts. Every address but the last gets
/// [`NEXT_ADDRESS_AFTER`], so a host whose first address drops packets (an IPv6 route that goes
/// nowhere is the usual case) is still reached on another within the time limit.
async fn connect_any(addrs: &[SocketAddr]) -> Result<TcpStream, DeliveryError> {
    let mut last = String::from("no address");
    for (i, addr) in addrs.iter().enumerate() {
        let attempt = if i + 1 < addrs.len() {
            tokio::time::timeout(NEXT_ADDRESS_AFTER, TcpStream::connect(addr))
                .await
                .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
        } else {
            TcpStream::connect(addr).await
        };
        match attempt {
            Ok(tcp) => {
                // Head and body are written at once; nothing is gained by waiting for more.
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Err(e) => last = format!("connect to {}: {e}", addr.ip()),
        }
    }
    Err(DeliveryError::new(last))
}

/// Closes the connections idle for `timeout` or longer.
fn expire(idle: &mut HashMap<Origin, Idle>, timeout: Duration) {
    idle.retain(|_, i| i.since.elapsed() < timeout);
}

fn origin_of(url: &Url) -> Result<Origin, DeliveryError> {
    let https = match url.scheme() {
        "https" => true,
        "http" => false,
        other => return Err(DeliveryError::new(format!("scheme not allowed: {other}"))),
    };
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.to_string(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err(DeliveryError::new("URL has no host")),
    };
    let port = url
        .port_or_known_default()
        .ok_or_else(|| DeliveryError::new("URL has no port"))?;
    Ok(Origin { https, host, port })
}

enum Failure {
    /// The connection ended before any byte of an answer: a kept connection the server had
    /// closed. Safe to send again on a new one.
    Stale,
    /// Anything else.
    Broken(String),
}

/// Writes the request and reads the answer's head. Returns the connection too when it can
/// carry another request: HTTP/1.1, not `Connection: close`, and a body that is empty or small
/// enough to read past.
async fn exchange(mut stream: Stream, request: &[u8]) -> Result<(Answer, Option<Stream>), Failure> {
    if stream.write_all(request).await.is_err() || stream.flush().await.is_err() {
        return Err(Failure::Stale);
    }
    let mut buf = Vec::with_capacity(1024);
    let mut received = false;
    loop {
        if !buf.is_empty() {
            let parsed = parse_head(&buf)?;
            // A whole head can arrive in the read that takes the buffer past the limit.
            if parsed.as_ref().map_or(buf.len(), |h| h.len) > MAX_HEAD {
                return Err(Failure::Broken("answer head too long".into()));
            }
            if let Some(head) = parsed {
                // An interim answer (100 Continue, 103 Early Hints) is followed by the real one.
                if (100..200).contains(&head.answer.status) {
                    buf.drain(..head.len);
                    continue;
                }
                return finish(stream, buf, head).await;
            }
        }
        match read_more(&mut stream, &mut buf).await {
            Ok(0) | Err(_) if !received => return Err(Failure::Stale),
            Ok(0) => return Err(Failure::Broken("connection closed in the answer".into())),
            Err(e) => return Err(Failure::Broken(format!("reading the answer: {e}"))),
            Ok(_) => received = true,
        }
    }
}

async fn read_more(stream: &mut Stream, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    if buf.capacity() - buf.len() < 512 {
        buf.reserve(buf.capacity());
    }
    stream.read_buf(buf).await
}

/// Reads past the body when the connection can be kept; drops the connection otherwise.
async fn finish(
    mut stream: Stream,
    mut buf: Vec<u8>,
    head: Head,
) -> Result<(Answer, Option<Stream>), Failure> {
    let body = match head.body {
        Body::Empty => 0,
        Body::Length(n) if head.keep_alive && n <= MAX_KEPT_BODY => n,
        _ => return Ok((head.answer, None)),
    };
    let end = head.len + body;
    while buf.len() < end {
        match read_more(&mut stream, &mut buf).await {
            Ok(0) | Err(_) => return Ok((head.answer, None)),
            Ok(_) => {}
        }
    }
    // Bytes after the answer were never asked for: the connection is out of step.
    let kept = (head.keep_alive && buf.len() == end).then_some(stream);
    Ok((head.answer, kept))
}

#[derive(Debug, PartialEq, Eq)]
enum Body {
    Empty,
    Length(usize),
    /// Chunked, or until the server closes: not read, so the connection is not kept.
    Unread,
}

#[derive(Debug, PartialEq, Eq)]
struct Head {
    answer: Answer,
    /// Bytes of the head.
    len: usize,
    body: Body,
    keep_alive: bool,
}

fn parse_head(buf: &[u8]) -> Result<Option<Head>, Failure> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(Failure::Broken(format!("malformed answer: {e}"))),
    };
    let status = response.code.unwrap_or_default();
    let mut keep_alive = response.version == Some(1);
    let mut length = None;
    let mut chunked = false;
    let mut retry_after = None;
    for h in response.headers.iter() {
        let value = String::from_utf8_lossy(h.value);
        let value = value.trim();
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = value
                .parse::<usize>()
                .map_err(|_| Failure::Broken(format!("bad Content-Length: {value}")))?;
            if length.is_some_and(|m| m != n) {
                return Err(Failure::Broken("conflicting Content-Length".into()));
            }
            length = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = true;
        } else if h.name.eq_ignore_ascii_case("connection") {
            if value
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("close"))
            {
                keep_alive = false;
            }
        } else if h.name.eq_ignore_ascii_case("retry-after") {
            retry_after = Some(value.to_string());
        }
    }
    let body = if (100..200).contains(&status) || status == 204 || status == 304 {
        Body::Empty
    } else if chunked {
        Body::Unread
    } else {
        match length {
            Some(0) => Body::Empty,
            Some(n) => Body::Length(n),
            None => Body::Unread,
        }
    };
    Ok(Some(Head {
        answer: Answer {
            status,
            retry_after,
        },
        len,
        body,
        keep_alive,
    }))
}

#[cfg(test)]
mod tests;
