//! Many remote hosts over TLS on loopback, shaped like a real network: each live host answers
//! after 50–150 ms; some accept connections and never answer, some refuse them, some answer 503
//! with `Retry-After`. Every host is a name under `wan.localhost` (loopback in debug mode), with
//! a certificate from a test CA that the instance under test is told to trust.

use openssl::{
    asn1::Asn1Time,
    bn::BigNum,
    hash::MessageDigest,
    pkey::{PKey, Private},
    rsa::Rsa,
    x509::{self, extension, X509},
};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use tokio_native_tls::native_tls;

/// What a host does with a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Answers 202 after its delay.
    Live,
    /// Accepts the connection and never answers.
    Silent,
    /// Refuses the connection.
    Refused,
    /// Answers 503 with `Retry-After: 30`.
    Unavailable,
}

/// The kind of host `i`: with faults, of every 100 hosts 5 are silent, 5 refuse connections and 2
/// answer 503.
pub fn kind_of(i: usize, faults: bool) -> Kind {
    match (faults, i % 100) {
        (false, _) => Kind::Live,
        (true, 0..5) => Kind::Silent,
        (true, 5..10) => Kind::Refused,
        (true, 10..12) => Kind::Unavailable,
        _ => Kind::Live,
    }
}

/// How long live host `i` takes to answer: spread evenly over 50–150 ms.
pub fn delay_of(i: usize) -> Duration {
    Duration::from_millis(50 + (i * 7919 % 101) as u64)
}

/// A test certificate authority and a `*.wan.localhost` certificate it signed.
pub struct TestCa {
    /// The CA certificate, PEM: what the instance under test trusts.
    pub ca_pem: Vec<u8>,
    identity: native_tls::Identity,
}

fn key() -> PKey<Private> {
    PKey::from_rsa(Rsa::generate(2048).expect("rsa")).expect("pkey")
}

fn name(cn: &str) -> x509::X509Name {
    let mut n = x509::X509NameBuilder::new().expect("name");
    n.append_entry_by_text("CN", cn).expect("cn");
    n.build()
}

fn builder(serial: u32, subject: &x509::X509Name, issuer: &x509::X509Name) -> x509::X509Builder {
    let mut b = X509::builder().expect("x509");
    b.set_version(2).expect("version");
    let serial = BigNum::from_u32(serial)
        .and_then(|n| n.to_asn1_integer())
        .expect("serial");
    b.set_serial_number(&serial).expect("serial");
    b.set_subject_name(subject).expect("subject");
    b.set_issuer_name(issuer).expect("issuer");
    b.set_not_before(&Asn1Time::days_from_now(0).expect("time"))
        .expect("not before");
    b.set_not_after(&Asn1Time::days_from_now(2).expect("time"))
        .expect("not after");
    b
}

impl TestCa {
    /// Makes a CA and a server certificate for `*.wan.localhost`.
    pub fn new() -> Self {
        let ca_key = key();
        let ca_name = name("Copse benchmark CA");
        let mut ca = builder(1, &ca_name, &ca_name);
        ca.set_pubkey(&ca_key).expect("pubkey");
        ca.append_extension(
            extension::BasicConstraints::new()
                .critical()
                .ca()
                .build()
                .expect("bc"),
        )
        .expect("ext");
        ca.append_extension(
            extension::KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()
                .expect("ku"),
        )
        .expect("ext");
        ca.sign(&ca_key, MessageDigest::sha256()).expect("sign");
        let ca = ca.build();

        let leaf_key = key();
        let mut leaf = builder(2, &name("*.wan.localhost"), &ca_name);
        leaf.set_pubkey(&leaf_key).expect("pubkey");
        let san = extension::SubjectAlternativeName::new()
            .dns("*.wan.localhost")
            .build(&leaf.x509v3_context(Some(&ca), None))
            .expect("san");
        leaf.append_extension(san).expect("ext");
        leaf.sign(&ca_key, MessageDigest::sha256()).expect("sign");
        let leaf = leaf.build();
        let identity = native_tls::Identity::from_pkcs8(
            &leaf.to_pem().expect("pem"),
            &leaf_key.private_key_to_pem_pkcs8().expect("pem"),
        )
        .expect("identity");
        Self {
            ca_pem: ca.to_pem().expect("pem"),
            identity,
        }
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Default)]
struct Seen {
    /// First arrival of each (host, activity id).
    arrivals: HashMap<(String, String), Instant>,
    duplicates: usize,
    unavailable_answers: usize,
    silent_connections: usize,
    tls_connections: usize,
}

/// The hosts: one TLS port for the live and the 503 hosts (told apart by `Host`), one port that
/// accepts and never answers, and one that refuses.
pub struct WanHosts {
    /// Port of the live and 503 hosts.
    pub tls_port: u16,
    /// Port of the silent hosts.
    pub silent_port: u16,
    /// Port of the refusing hosts: nothing listens there.
    pub refused_port: u16,
    seen: Arc<Mutex<Seen>>,
    tasks: Vec<tokio::task::AbortHandle>,
    /// Connections the silent port holds open; closed when the hosts are dropped.
    held: Arc<Mutex<Vec<TcpStream>>>,
}

/// The label of host `i` of run `run`: `r{run}w{i}`, under `wan.localhost`.
pub fn host_name(run: &str, i: usize) -> String {
    format!("r{run}w{i}.wan.localhost")
}

fn index_of(host: &str) -> Option<usize> {
    let label = host.split('.').next()?;
    label.rsplit_once('w')?.1.parse().ok()
}

impl WanHosts {
    /// Starts the hosts. `faults` decides which names are unavailable (see [`kind_of`]).
    pub async fn start(ca: &TestCa, faults: bool) -> Self {
        let seen: Arc<Mutex<Seen>> = Arc::default();
        let held: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let acceptor: tokio_native_tls::TlsAcceptor =
            native_tls::TlsAcceptor::new(ca.identity.clone())
                .expect("acceptor")
                .into();
        let tls = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let tls_port = tls.local_addr().expect("addr").port();
        let silent = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let silent_port = silent.local_addr().expect("addr").port();
        let refused_port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let mut tasks = Vec::new();
        let s = seen.clone();
        tasks.push(
            tokio::spawn(async move {
                while let Ok((tcp, _)) = tls.accept().await {
                    let _ = tcp.set_nodelay(true);
                    let acceptor = acceptor.clone();
                    let s = s.clone();
                    tokio::spawn(async move {
                        if let Ok(stream) = acceptor.accept(tcp).await {
                            s.lock().expect("lock").tls_connections += 1;
                            serve(stream, s, faults).await;
                        }
                    });
                }
            })
            .abort_handle(),
        );
        let (s, h) = (seen.clone(), held.clone());
        tasks.push(
            tokio::spawn(async move {
                while let Ok((tcp, _)) = silent.accept().await {
                    s.lock().expect("lock").silent_connections += 1;
                    h.lock().expect("lock").push(tcp);
                }
            })
            .abort_handle(),
        );
        Self {
            tls_port,
            silent_port,
            refused_port,
            seen,
            tasks,
            held,
        }
    }

    /// The base URL of host `i` of `run`.
    pub fn base(&self, run: &str, i: usize, faults: bool) -> String {
        let port = match kind_of(i, faults) {
            Kind::Live | Kind::Unavailable => self.tls_port,
            Kind::Silent => self.silent_port,
            Kind::Refused => self.refused_port,
        };
        format!("https://{}:{port}", host_name(run, i))
    }

    /// Distinct deliveries received by live hosts.
    pub fn delivered(&self) -> usize {
        self.seen.lock().expect("lock").arrivals.len()
    }

    /// Arrival times of distinct deliveries.
    pub fn arrivals(&self) -> Vec<Instant> {
        self.seen
            .lock()
            .expect("lock")
            .arrivals
            .values()
            .copied()
            .collect()
    }

    /// (duplicates, 503 answers, connections to silent hosts, TLS connections).
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let s = self.seen.lock().expect("lock");
        (
            s.duplicates,
            s.unavailable_answers,
            s.silent_connections,
            s.tls_connections,
        )
    }

    /// Waits until `n` distinct deliveries arrived; false on timeout.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while self.delivered() < n {
            if Instant::now() > end {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }
}

impl Drop for WanHosts {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        self.held.lock().expect("lock").clear();
    }
}

/// Answers requests on one connection, one after another, until the client closes it.
async fn serve<S>(mut stream: S, seen: Arc<Mutex<Seen>>, faults: bool)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    loop {
        // Read one request: head, then Content-Length bytes of body.
        let (head_len, host, length) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut req = httparse::Request::new(&mut headers);
            if let Ok(httparse::Status::Complete(n)) = req.parse(&buf) {
                let get = |name: &str| {
                    req.headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case(name))
                        .map(|h| String::from_utf8_lossy(h.value).to_string())
                };
                let host = get("host").unwrap_or_default();
                let length = get("content-length")
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                break (n, host, length);
            }
            if buf.len() > 64 * 1024 || !read_more(&mut stream, &mut buf).await {
                return;
            }
        };
        while buf.len() < head_len + length {
            if !read_more(&mut stream, &mut buf).await {
                return;
            }
        }
        let body: Vec<u8> = buf.drain(..head_len + length).skip(head_len).collect();
        let name = host.split(':').next().unwrap_or_default().to_string();
        let i = index_of(&name).unwrap_or(0);
        let answer: &[u8] = if kind_of(i, faults) == Kind::Unavailable {
            seen.lock().expect("lock").unavailable_answers += 1;
            b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n"
        } else {
            tokio::time::sleep(delay_of(i)).await;
            let id = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(String::from))
                .unwrap_or_default();
            let mut s = seen.lock().expect("lock");
            if s.arrivals.contains_key(&(name.clone(), id.clone())) {
                s.duplicates += 1;
            } else {
                s.arrivals.insert((name, id), Instant::now());
            }
            b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
        };
        if stream.write_all(answer).await.is_err() || stream.flush().await.is_err() {
            return;
        }
    }
}

async fn read_more<S: tokio::io::AsyncRead + Unpin>(stream: &mut S, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 8192];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
    }
}
