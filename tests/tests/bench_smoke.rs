//! A short run of every benchmark scenario, so the benchmark cannot rot. It checks that each
//! scenario completed and delivered exactly what it should (the scenarios assert it), never
//! how fast: speed is measured by `copse-bench`, not by tests.

use copse_tests::bench::{run_all, Sizes};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_benchmark_scenario_completes_on_a_small_load() {
    let rows = run_all(&Sizes::smoke(), &[]).await;
    for scenario in [
        "ceiling: sign",
        "ceiling: transport, new connections",
        "ceiling: transport, kept-alive",
        "fan-out",
        "reference SendActivityTask",
        "wan",
        "sustained",
        "inbox ingest",
        "read Group actor",
        "read random post",
        "read random Person actor",
        "read outbox page of a random community",
        "read signed-in community page",
        "read signed-in topic with 200 replies",
        "growth: topic list",
    ] {
        assert!(
            rows.iter().any(|r| r.scenario.starts_with(scenario)),
            "no row for {scenario}"
        );
    }
    for r in rows.iter().filter(|r| {
        r.scenario.starts_with("fan-out")
            || r.scenario.starts_with("reference")
            || r.scenario.starts_with("wan")
    }) {
        assert!(r.ops > 0, "{} delivered nothing", r.scenario);
    }
}
