//! The delivery client against small servers on loopback that answer as peers do, well or not.

use super::*;
use std::sync::{Arc, Mutex};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

fn settings() -> FederationSettings {
    let mut s = FederationSettings::new("a.localhost", true);
    s.request_timeout = Duration::from_secs(2);
    s
}

const IDLE: Duration = Duration::from_secs(30);

/// Closes the connection after reading the request, without answering.
const CLOSE: &str = "";
/// Keeps the connection open after reading the request, without answering.
const HOLD: &str = "HOLD";

fn plain_tls() -> native_tls::TlsConnector {
    native_tls::TlsConnector::new().unwrap()
}

fn client() -> DeliveryClient {
    DeliveryClient::with_tls(&settings(), plain_tls(), IDLE)
}

/// What a test server saw: each request it read, and the connections it accepted.
#[derive(Clone, Default)]
struct Seen {
    requests: Arc<Mutex<Vec<String>>>,
    accepted: Arc<Mutex<usize>>,
}

impl Seen {
    fn accepted(&self) -> usize {
        *self.accepted.lock().unwrap()
    }
}

/// A server on loopback whose n-th connection answers each request on it with the next of
/// `scripts[n]` (the last script for all later connections; [`CLOSE`] and [`HOLD`] stand for no
/// answer), then closes that connection.
async fn server_per_connection(scripts: Vec<Vec<&'static str>>) -> (u16, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Seen::default();
    let seen2 = seen.clone();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            let n = {
                let mut accepted = seen2.accepted.lock().unwrap();
                *accepted += 1;
                *accepted - 1
            };
            let answers = scripts[n.min(scripts.len() - 1)].clone();
            let requests = seen2.requests.clone();
            tokio::spawn(async move {
                for answer in answers {
                    let Some(request) = read_request(&mut s).await else {
                        return;
                    };
                    requests.lock().unwrap().push(request);
                    match answer {
                        CLOSE => return,
                        HOLD => tokio::time::sleep(Duration::from_secs(10)).await,
                        _ => s.write_all(answer.as_bytes()).await.unwrap(),
                    }
                }
            });
        }
    });
    (port, seen)
}

/// [`server_per_connection`] with the same answers on every connection.
async fn server(answers: Vec<&'static str>) -> (u16, Seen) {
    server_per_connection(vec![answers]).await
}

/// Reads one request with a `Content-Length` body, as text.
async fn read_request(s: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    loop {
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return None;
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
                return Some(text);
            }
        }
    }
}

fn url(host: &str, port: u16) -> Url {
    Url::parse(&format!("http://{host}:{port}/inbox")).unwrap()
}

const ACCEPTED: &str = "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n";

#[tokio::test]
async fn one_connection_carries_several_deliveries() {
    let (port, seen) = server(vec![
        ACCEPTED,
        "HTTP/1.1 401 Unauthorized\r\nContent-Length: 5\r\n\r\nnope.",
        "HTTP/1.1 503 Busy\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n",
    ])
    .await;
    let client = client();
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
    let busy = post("three").await;
    assert_eq!(
        (busy.status, busy.retry_after.as_deref()),
        (503, Some("120"))
    );
    assert_eq!(seen.accepted(), 1, "three answers over one connection");
    let requests = seen.requests.lock().unwrap();
    assert_eq!(requests.len(), 3);
    let first = &requests[0];
    assert!(first.starts_with("POST /inbox?x=1 HTTP/1.1\r\n"), "{first}");
    assert!(
        first.contains(&format!("Host: b.localhost:{port}\r\n")),
        "{first}"
    );
    assert!(first.contains("User-Agent: Copse/"), "{first}");
    assert!(
        first.contains("Content-Length: 3\r\nDigest: d\r\n\r\none"),
        "{first}"
    );
}

#[tokio::test]
async fn interim_answers_are_skipped_for_the_real_one() {
    let (port, seen) = server(vec![
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n\
         HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n",
    ])
    .await;
    let client = client();
    let url = url("i.localhost", port);
    assert_eq!(client.post(&url, &[], b"x").await.unwrap().status, 202);
    assert_eq!(client.post(&url, &[], b"x").await.unwrap().status, 401);
    assert_eq!(seen.accepted(), 1);
}

#[tokio::test]
async fn chunked_answers_count_and_the_next_delivery_goes_on_a_fresh_connection() {
    // A chunked body is not read: the status is the answer, and the connection, whose next
    // bytes would be the rest of the body, is closed.
    let (port, seen) = server_per_connection(vec![
        vec!["HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n4\r\noops\r\n0\r\n\r\n"],
        vec!["HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"],
        vec![ACCEPTED],
    ])
    .await;
    let client = client();
    let url = url("c.localhost", port);
    assert_eq!(client.post(&url, &[], b"x").await.unwrap().status, 500);
    assert_eq!((client.idle_connections(), seen.accepted()), (0, 1));
    assert_eq!(client.post(&url, &[], b"x").await.unwrap().status, 202);
    assert_eq!((client.idle_connections(), seen.accepted()), (0, 2));
    assert_eq!(client.post(&url, &[], b"x").await.unwrap().status, 202);
    assert_eq!((client.idle_connections(), seen.accepted()), (1, 3));
    assert_eq!(seen.requests.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_kept_connection_the_peer_closed_is_replaced() {
    // The first connection answers once and closes; the next one answers once, then closes
    // as the second request arrives, without answering it (an idle timeout racing a reuse).
    let (port, seen) =
        server_per_connection(vec![vec![ACCEPTED], vec![ACCEPTED, CLOSE], vec![ACCEPTED]]).await;
    let client = client();
    let url = url("r.localhost", port);
    assert_eq!(client.post(&url, &[], b"x").await.unwrap().status, 202);
    assert_eq!(client.idle_connections(), 1);
    assert_eq!(client.post(&url, &[], b"x").await.unwrap().status, 202);
    assert_eq!(seen.accepted(), 2, "the closed connection was replaced");
    assert_eq!(client.post(&url, &[], b"x").await.unwrap().status, 202);
    assert_eq!(
        seen.accepted(),
        3,
        "a request the peer closed on unanswered went again on a new connection"
    );
    assert_eq!(seen.requests.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn an_unanswered_request_is_sent_again_only_once() {
    let (port, seen) = server_per_connection(vec![vec![ACCEPTED, CLOSE], vec![CLOSE]]).await;
    let client = client();
    let url = url("o.localhost", port);
    assert_eq!(client.post(&url, &[], b"x").await.unwrap().status, 202);
    let e = client.post(&url, &[], b"x").await.unwrap_err();
    assert!(e.0.contains("connection closed before any answer"), "{e}");
    assert_eq!(seen.accepted(), 2, "one new connection, not more");
    assert_eq!(seen.requests.lock().unwrap().len(), 3);
    // Broken after part of an answer: not sent again, as the peer may have acted on it.
    let (port, seen) =
        server_per_connection(vec![vec![ACCEPTED, "HTTP/1.1 202 Acc"], vec![ACCEPTED]]).await;
    let url = self::url("p.localhost", port);
    assert_eq!(client.post(&url, &[], b"x").await.unwrap().status, 202);
    let e = client.post(&url, &[], b"x").await.unwrap_err();
    assert!(e.0.contains("connection closed in the answer"), "{e}");
    assert_eq!(seen.accepted(), 1);
}

#[tokio::test]
async fn oversize_answers_are_refused_and_close_the_connection() {
    let long_head = format!(
        "HTTP/1.1 202 Accepted\r\nX-Pad: {}\r\nContent-Length: 0\r\n\r\n",
        "x".repeat(MAX_HEAD)
    );
    let (port, _) = server(vec![String::leak(long_head)]).await;
    let client = client();
    let e = client
        .post(&url("h.localhost", port), &[], b"x")
        .await
        .unwrap_err();
    assert!(e.0.contains("answer head too long"), "{e}");
    assert_eq!(client.idle_connections(), 0);
    // A head just under the limit is read, however the reads cut it.
    let fitting = format!(
        "HTTP/1.1 202 Accepted\r\nX-Pad: {}\r\nContent-Length: 0\r\n\r\n",
        "x".repeat(MAX_HEAD - 100)
    );
    let (port, _) = server(vec![String::leak(fitting)]).await;
    let answer = self::client()
        .post(&url("g.localhost", port), &[], b"x")
        .await;
    assert_eq!(answer.unwrap().status, 202);
    // A large body is not read: the status counts, the connection does not stay.
    let large = format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Length: {}\r\n\r\n{}",
        MAX_KEPT_BODY + 1,
        "y".repeat(MAX_KEPT_BODY + 1)
    );
    let chunked = format!(
        "HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{}\r\n0\r\n\r\n",
        MAX_KEPT_BODY + 1,
        "z".repeat(MAX_KEPT_BODY + 1)
    );
    let (port, seen) = server(vec![String::leak(large), String::leak(chunked), ACCEPTED]).await;
    let url = url("l.localhost", port);
    for expected in [1, 2] {
        assert_eq!(client.post(&url, &[], b"x").await.unwrap().status, 400);
        assert_eq!(client.idle_connections(), 0);
        assert_eq!(seen.accepted(), expected);
    }
}

#[tokio::test]
async fn slow_answers_time_out() {
    let mut s = settings();
    s.request_timeout = Duration::from_millis(300);
    let client = DeliveryClient::with_tls(&s, plain_tls(), IDLE);
    // No answer at all, and an answer whose body stops coming.
    let (port, _) = server(vec![HOLD]).await;
    let e = client
        .post(&url("s.localhost", port), &[], b"x")
        .await
        .unwrap_err();
    assert!(e.0.contains("no answer within"), "{e}");
    let (port, seen) = server_per_connection(vec![
        vec![
            "HTTP/1.1 202 Accepted\r\nContent-Length: 10\r\n\r\nabc",
            HOLD,
        ],
        vec![ACCEPTED],
    ])
    .await;
    let url = url("t.localhost", port);
    let e = client.post(&url, &[], b"x").await.unwrap_err();
    assert!(e.0.contains("no answer within"), "{e}");
    assert_eq!(client.post(&url, &[], b"x").await.unwrap().status, 202);
    assert_eq!(seen.accepted(), 2, "the stalled connection was not kept");
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
    let h = head("HTTP/1.1 401 Unauthorized\r\nContent-Length: 12\r\nConnection: close\r\n\r\n");
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

#[tokio::test]
async fn idle_connections_are_closed_after_the_idle_timeout() {
    let (port, _) = server(vec![ACCEPTED; 3]).await;
    let client = DeliveryClient::with_tls(&settings(), plain_tls(), Duration::from_millis(200));
    assert_eq!(
        client
            .post(&url("e.localhost", port), &[], b"x")
            .await
            .unwrap()
            .status,
        202
    );
    assert_eq!(client.idle_connections(), 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        client.idle_connections(),
        0,
        "closed without another delivery"
    );
}

#[tokio::test]
async fn bytes_after_an_answer_close_the_connection() {
    let (port, seen) = server(vec![
        "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nokX",
        ACCEPTED,
    ])
    .await;
    let client = client();
    let url = url("f.localhost", port);
    for _ in 0..2 {
        assert_eq!(client.post(&url, &[], b"x").await.unwrap().status, 202);
    }
    assert_eq!(
        seen.accepted(),
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
