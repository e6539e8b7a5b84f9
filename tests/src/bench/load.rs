//! A small load generator: many requests over a fixed number of concurrent connections.

use futures::StreamExt;
use std::time::{Duration, Instant};

/// What a load run saw.
#[derive(Debug, Default)]
pub struct LoadResult {
    /// Requests answered 2xx.
    pub ok: u64,
    /// Other answers and failures.
    pub failed: u64,
    /// Latency of each request.
    pub latencies: Vec<Duration>,
    /// Status codes of failures (first few).
    pub errors: Vec<String>,
}

/// One request to send.
#[derive(Debug, Clone)]
pub struct Request {
    /// URL.
    pub url: String,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body: POST when present, GET otherwise.
    pub body: Option<Vec<u8>>,
}

/// The load generator's client: like a busy remote server or a browser, it keeps its connections
/// open (one per concurrent request), and it resolves `host` (a test instance's `name.localhost`)
/// to `addr`. The raw-axum ceiling uses the same client, so the two rates compare like for like.
pub fn client(host: Option<(&str, std::net::SocketAddr)>) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(usize::MAX);
    if let Some((host, addr)) = host {
        b = b.resolve(host, addr);
    }
    b.build().expect("load client")
}

/// The load generator's client for one test instance.
pub fn client_for(a: &crate::TestInstance) -> reqwest::Client {
    let (host, port) = a.domain.rsplit_once(':').expect("name.localhost:PORT");
    let port: u16 = port.parse().expect("port");
    client(Some((
        host,
        std::net::SocketAddr::from(([127, 0, 0, 1], port)),
    )))
}

/// GETs every URL, `concurrency` at a time.
pub async fn get_many(
    client: &reqwest::Client,
    urls: Vec<String>,
    concurrency: usize,
) -> LoadResult {
    let reqs = urls
        .into_iter()
        .map(|url| Request {
            url,
            headers: vec![("Accept".into(), "application/activity+json".into())],
            body: None,
        })
        .collect();
    run(client, reqs, concurrency).await
}

/// Sends every request, `concurrency` at a time.
pub async fn run(client: &reqwest::Client, reqs: Vec<Request>, concurrency: usize) -> LoadResult {
    let results: Vec<(Result<u16, String>, Duration)> = futures::stream::iter(reqs)
        .map(|r| {
            let client = client.clone();
            async move {
                let started = Instant::now();
                let mut b = match &r.body {
                    Some(body) => client.post(&r.url).body(body.clone()),
                    None => client.get(&r.url),
                };
                for (k, v) in &r.headers {
                    b = b.header(k.as_str(), v.as_str());
                }
                let res = match b.send().await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let _ = resp.bytes().await;
                        Ok(status)
                    }
                    Err(e) => Err(e.to_string()),
                };
                (res, started.elapsed())
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let mut out = LoadResult::default();
    for (res, took) in results {
        out.latencies.push(took);
        match res {
            Ok(s) if (200..300).contains(&s) => out.ok += 1,
            Ok(s) => {
                out.failed += 1;
                if out.errors.len() < 5 {
                    out.errors.push(format!("status {s}"));
                }
            }
            Err(e) => {
                out.failed += 1;
                if out.errors.len() < 5 {
                    out.errors.push(e);
                }
            }
        }
    }
    out
}
