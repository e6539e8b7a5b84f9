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
            if let Some(head) = parse_head(&buf)? {
                // An interim answer (100 Continue, 103 Early Hints) is followed by the real one.
                if (100..200).contains(&head.answer.status) {
                    buf.drain(..head.len);
                    continue;
                }
                return finish(stream, buf, head).await;
            }
            if buf.len() > MAX_HEAD {
                return Err(Failure::Broken("answer head too long".into()));
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
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    fn settings() -> FederationSettings {
        let mut s = FederationSettings::new("a.localhost", true);
        s.request_timeout = Duration::from_secs(2);
        s
    }

    const IDLE: Duration = Duration::from_secs(30);

    fn plain_tls() -> native_tls::TlsConnector {
        native_tls::TlsConnector::new().unwrap()
    }

    fn head(raw: &str) -> Head {
        match parse_head(raw.as_bytes()) {
            Ok(Some(h)) => h,
            Ok(None) => panic!("partial: {raw}"),
            Err(Failure::Broken(e)) => panic!("{e}: {raw}"),
            Err(Failure::Stale) => panic!("stale"),
        }
    }

    #[test]
    fn heads_tell_whether_the_connection_can_be_kept() {
        let h = head("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(
            (h.answer.status, h.body, h.keep_alive),
            (202, Body::Empty, true)
        );
        let h =
            head("HTTP/1.1 401 Unauthorized\r\nContent-Length: 12\r\nConnection: close\r\n\r\n");
        assert_eq!((h.body, h.keep_alive), (Body::Length(12), false));
        let h = head("HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!(h.body, Body::Unread);
        let h = head("HTTP/1.0 200 OK\r\n\r\n");
        assert_eq!((h.body, h.keep_alive), (Body::Unread, false));
        let h = head("HTTP/1.1 503 Busy\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(h.answer.retry_after.as_deref(), Some("120"));
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Le")
            .unwrap_or(None)
            .is_none());
        assert!(matches!(
            parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            Err(Failure::Broken(_))
        ));
        assert!(matches!(
            parse_head(b"SMTP ready\r\n\r\n"),
            Err(Failure::Broken(_))
        ));
    }

    /// A server on loopback that answers each request on a connection with the next of
    /// `answers`, then closes that connection; it records each request it read.
    async fn server(
        answers: Vec<&'static str>,
    ) -> (u16, Arc<Mutex<Vec<String>>>, Arc<Mutex<usize>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let accepted = Arc::new(Mutex::new(0));
        let (seen2, accepted2) = (seen.clone(), accepted.clone());
        tokio::spawn(async move {
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                *accepted2.lock().unwrap() += 1;
                let (answers, seen) = (answers.clone(), seen2.clone());
                tokio::spawn(async move {
                    for answer in answers {
                        let mut buf = Vec::new();
                        loop {
                            let mut chunk = [0u8; 4096];
                            let n = s.read(&mut chunk).await.unwrap_or(0);
                            if n == 0 {
                                return;
                            }
                            buf.extend_from_slice(&chunk[..n]);
                            let text = String::from_utf8_lossy(&buf).to_string();
                            if let Some(i) = text.find("\r\n\r\n") {
                                let len: usize = text
                                    .lines()
                                    .find_map(|l| l.strip_prefix("Content-Length: "))
                                    .and_then(|v| v.trim().parse().ok())
                                    .unwrap_or(0);
                                if buf.len() >= i + 4 + len {
                                    seen.lock().unwrap().push(text);
                                    break;
                                }
                            }
                        }
                        s.write_all(answer.as_bytes()).await.unwrap();
                    }
                });
            }
        });
        (port, seen, accepted)
    }

    #[tokio::test]
    async fn one_connection_carries_several_deliveries_and_a_closed_one_is_replaced() {
        let (port, seen, accepted) = server(vec![
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n\
             HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 401 Unauthorized\r\nContent-Length: 5\r\n\r\nnope.",
            "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
        ])
        .await;
        let client = DeliveryClient::with_tls(&settings(), plain_tls(), IDLE);
        let url = Url::parse(&format!("http://b.localhost:{port}/inbox?x=1")).unwrap();
        let post = |body: &'static str| {
            let (client, url) = (client.clone(), url.clone());
            async move {
                client
                    .post(&url, &[("Digest", "d")], body.as_bytes())
                    .await
                    .unwrap()
            }
        };
        assert_eq!(post("one").await.status, 202);
        assert_eq!(post("two").await.status, 401);
        assert_eq!(post("three").await.status, 202);
        assert_eq!(
            *accepted.lock().unwrap(),
            1,
            "three answers over one connection"
        );
        // The server closed that connection after its third answer: the kept one is stale.
        assert_eq!(client.idle_connections(), 1);
        assert_eq!(post("four").await.status, 202);
        assert_eq!(
            *accepted.lock().unwrap(),
            2,
            "the stale connection was replaced once"
        );
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 4);
        assert!(
            seen[0].starts_with("POST /inbox?x=1 HTTP/1.1\r\n"),
            "{}",
            seen[0]
        );
        assert!(seen[0].contains(&format!("Host: b.localhost:{port}\r\n")));
        assert!(seen[0].contains("Content-Length: 3\r\nDigest: d\r\n\r\none"));
        assert!(seen[0].contains("User-Agent: Copse/"));
    }

    #[tokio::test]
    async fn idle_connections_are_closed_after_the_idle_timeout() {
        let (port, _, _) = server(vec![
            "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n";
            3
        ])
        .await;
        let client = DeliveryClient::with_tls(&settings(), plain_tls(), Duration::from_millis(200));
        let url = Url::parse(&format!("http://e.localhost:{port}/inbox")).unwrap();
        assert_eq!(client.post(&url, &[], b"x").await.unwrap().status, 202);
        assert_eq!(client.idle_connections(), 1);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            client.idle_connections(),
            0,
            "closed without another delivery"
        );
    }

    #[tokio::test]
    async fn answers_with_unread_bodies_close_the_connection() {
        let (port, _, accepted) = server(vec![
            "HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n4\r\noops\r\n0\r\n\r\n",
        ])
        .await;
        let client = DeliveryClient::with_tls(&settings(), plain_tls(), IDLE);
        let url = Url::parse(&format!("http://c.localhost:{port}/inbox")).unwrap();
        for _ in 0..2 {
            let answer = client.post(&url, &[], b"x").await.unwrap();
            assert_eq!(answer.status, 500);
        }
        assert_eq!(*accepted.lock().unwrap(), 2);
        assert_eq!(client.idle_connections(), 0);
    }

    #[tokio::test]
    async fn bytes_after_an_answer_close_the_connection() {
        let (port, _, accepted) = server(vec![
            "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nokX",
            "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
        ])
        .await;
        let client = DeliveryClient::with_tls(&settings(), plain_tls(), IDLE);
        let url = Url::parse(&format!("http://f.localhost:{port}/inbox")).unwrap();
        for _ in 0..2 {
            assert_eq!(client.post(&url, &[], b"x").await.unwrap().status, 202);
        }
        assert_eq!(
            *accepted.lock().unwrap(),
            2,
            "a connection out of step with its answers is not used again"
        );
    }

    #[tokio::test]
    async fn a_silent_server_times_out_and_a_refused_connection_fails() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let held = tokio::spawn(async move {
            let (_s, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(10)).await;
        });
        let mut s = settings();
        s.request_timeout = Duration::from_millis(300);
        let client = DeliveryClient::with_tls(&s, plain_tls(), IDLE);
        let url = Url::parse(&format!("http://d.localhost:{port}/inbox")).unwrap();
        let e = client.post(&url, &[], b"x").await.unwrap_err();
        assert!(e.0.contains("no answer within"), "{e}");
        held.abort();
        let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let url = Url::parse(&format!("http://d.localhost:{port}/inbox")).unwrap();
        let e = client.post(&url, &[], b"x").await.unwrap_err();
        assert!(e.0.contains("connect to 127.0.0.1"), "{e}");
    }

    #[tokio::test]
    async fn an_address_that_does_not_answer_gives_way_to_the_next() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let live = listener.local_addr().unwrap();
        // A listener whose accept queue is full drops new SYNs: a connection attempt hangs, as
        // it does on a route that drops packets.
        let blocked = tokio::net::TcpSocket::new_v4().unwrap();
        blocked.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let blocked = blocked.listen(0).unwrap();
        let dead = blocked.local_addr().unwrap();
        let fillers: Vec<_> = (0..4)
            .map(|_| tokio::spawn(TcpStream::connect(dead)))
            .collect();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        let tcp = tokio::time::timeout(Duration::from_secs(5), connect_any(&[dead, live]))
            .await
            .expect("the second address is tried within the time limit")
            .unwrap();
        assert_eq!(tcp.peer_addr().unwrap(), live);
        let waited = started.elapsed();
        assert!(
            waited >= NEXT_ADDRESS_AFTER - Duration::from_millis(100),
            "{waited:?}"
        );
        assert!(
            waited < NEXT_ADDRESS_AFTER + Duration::from_secs(1),
            "{waited:?}"
        );
        fillers.iter().for_each(|f| f.abort());
        let e = connect_any(&[]).await.unwrap_err();
        assert_eq!(e.0, "no address");
    }

    #[tokio::test]
    async fn production_refuses_private_addresses_before_connecting() {
        let mut s = settings();
        s.debug = false;
        let client = DeliveryClient::with_tls(&s, plain_tls(), IDLE);
        let url = Url::parse("https://localhost/inbox").unwrap();
        let e = client.post(&url, &[], b"x").await.unwrap_err();
        assert!(e.0.contains("no allowed address"), "{e}");
    }

    #[tokio::test]
    async fn https_goes_through_tls_with_the_hosts_name() {
        use openssl::{asn1::Asn1Time, hash::MessageDigest, pkey::PKey, rsa::Rsa, x509};
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let mut name = x509::X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "tls.localhost").unwrap();
        let name = name.build();
        let mut cert = x509::X509Builder::new().unwrap();
        cert.set_version(2).unwrap();
        cert.set_subject_name(&name).unwrap();
        cert.set_issuer_name(&name).unwrap();
        cert.set_pubkey(&key).unwrap();
        cert.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        cert.set_not_after(&Asn1Time::days_from_now(1).unwrap())
            .unwrap();
        let san = x509::extension::SubjectAlternativeName::new()
            .dns("tls.localhost")
            .build(&cert.x509v3_context(None, None))
            .unwrap();
        cert.append_extension(san).unwrap();
        cert.sign(&key, MessageDigest::sha256()).unwrap();
        let cert = cert.build();
        let identity = native_tls::Identity::from_pkcs8(
            &cert.to_pem().unwrap(),
            &key.private_key_to_pem_pkcs8().unwrap(),
        )
        .unwrap();
        let acceptor: tokio_native_tls::TlsAcceptor =
            native_tls::TlsAcceptor::new(identity).unwrap().into();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut buf = [0u8; 4096];
                    let n = tls.read(&mut buf).await.unwrap();
                    assert!(buf[..n].starts_with(b"POST /inbox HTTP/1.1\r\n"));
                    tls.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
                        .await
                        .unwrap();
                    tokio::time::sleep(Duration::from_secs(5)).await;
                });
            }
        });
        let root = native_tls::Certificate::from_pem(&cert.to_pem().unwrap()).unwrap();
        let trusting = native_tls::TlsConnector::builder()
            .add_root_certificate(root)
            .build()
            .unwrap();
        let client = DeliveryClient::with_tls(&settings(), trusting, IDLE);
        let url = Url::parse(&format!("https://tls.localhost:{port}/inbox")).unwrap();
        assert_eq!(client.post(&url, &[], b"x").await.unwrap().status, 202);
        // The same root named by `extra_roots_file`, as an operator with a private CA sets it.
        let file = std::env::temp_dir().join(format!("copse-roots-{}.pem", std::process::id()));
        std::fs::write(&file, cert.to_pem().unwrap()).unwrap();
        let mut with_roots = settings();
        with_roots.extra_roots_file = Some(file.clone());
        let configured = DeliveryClient::new(&with_roots).unwrap();
        let answer = configured.post(&url, &[], b"x").await;
        let _ = std::fs::remove_file(&file);
        assert_eq!(answer.unwrap().status, 202);
        // Without the test root the same server is refused.
        let strict = DeliveryClient::new(&settings()).unwrap();
        let e = strict.post(&url, &[], b"x").await.unwrap_err();
        assert!(e.0.contains("TLS with tls.localhost"), "{e}");
    }
}
