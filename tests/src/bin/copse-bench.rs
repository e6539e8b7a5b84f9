//! `copse-bench`: measures Copse against this machine's own limits and prints a table.
//!
//! cargo run --release -p copse-tests --bin copse-bench -- [--smoke] [--json FILE] [SCENARIO...]
//! Scenarios: fanout wan sustained ingest reads growth (all when none is named). The database is
//! SQLite, or PostgreSQL when COPSE_TEST_DATABASE_URL is set.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use copse_tests::bench::{self, measure, Sizes};

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // Instances log nothing unless asked: `RUST_LOG=warn copse-bench` shows why a run failed.
    if let Ok(filter) = std::env::var("RUST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .try_init();
    }
    let mut args = std::env::args().skip(1);
    let mut sizes = Sizes::full();
    let mut json = None;
    let mut idle = true;
    let mut only = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--smoke" => sizes = Sizes::smoke(),
            "--json" => json = args.next(),
            "--no-idle" => idle = false,
            "--help" | "-h" => {
                println!("usage: copse-bench [--smoke] [--json FILE] [--no-idle] [fanout|wan|sustained|ingest|reads|growth]...");
                return;
            }
            other => only.push(other.to_string()),
        }
    }
    let mut rows = bench::run_all(&sizes, &only).await;
    if idle {
        if let Some(r) = bench::idle_server_row() {
            rows.push(r);
        }
    }
    measure::print_table(&rows);
    if let Some(path) = json {
        std::fs::write(&path, serde_json::to_string_pretty(&rows).expect("json"))
            .expect("write json");
        eprintln!("wrote {path}");
    }
}
