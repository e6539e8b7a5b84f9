//! The HTTP server drops connections that stall while sending headers (slowloris).

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_tests::TestInstance;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_stalled_connections_are_dropped() {
    let a = TestInstance::spawn_with("alpha", |s| s.http.header_read_timeout_seconds = 1).await;
    let mut stream = tokio::net::TcpStream::connect(a.instance().addr)
        .await
        .unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: alpha\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 256];
    // The server closes the connection (possibly after a 408) instead of waiting forever.
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "a connection with stalled headers stayed open"
    );
    // A normal request still works.
    let res = a.client.get(a.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}
