//! Measuring: CPU time, peak resident memory, latency percentiles, and the result rows.

use serde::Serialize;
use std::time::{Duration, Instant};

/// CPU time (user + system) this process has used so far.
pub fn cpu_time() -> Duration {
    // /proc/self/stat fields 14 and 15 are utime and stime in clock ticks (100 per second).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    // After the command name come state (field 3), then numbers from field 4 on.
    let fields: Vec<i64> = after
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let ticks = fields.get(10).copied().unwrap_or(0) + fields.get(11).copied().unwrap_or(0);
    Duration::from_millis(ticks.max(0) as u64 * 10)
}

/// Peak resident memory of this process since the last `reset_peak_rss`, in MB.
pub fn peak_rss_mb() -> f64 {
    status_kb("VmHWM:") / 1024.0
}

/// Current resident memory of a process, in MB.
pub fn rss_mb_of(pid: u32) -> f64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    kb_field(&text, "VmRSS:") / 1024.0
}

fn status_kb(field: &str) -> f64 {
    kb_field(
        &std::fs::read_to_string("/proc/self/status").unwrap_or_default(),
        field,
    )
}

fn kb_field(text: &str, field: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// Resets the peak resident memory counter (Linux: `5` to /proc/self/clear_refs).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Percentile (0..=100) of a set of durations, in milliseconds.
pub fn percentile_ms(samples: &mut [Duration], p: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_unstable();
    let idx = ((p / 100.0) * (samples.len() - 1) as f64).round() as usize;
    samples[idx.min(samples.len() - 1)].as_secs_f64() * 1000.0
}

/// Wall and CPU time of a stretch of work.
pub struct Stopwatch {
    wall: Instant,
    cpu: Duration,
}

impl Stopwatch {
    /// Starts timing (and resets the memory peak).
    pub fn start() -> Self {
        reset_peak_rss();
        Self {
            wall: Instant::now(),
            cpu: cpu_time(),
        }
    }

    /// Wall time so far.
    pub fn wall(&self) -> Duration {
        self.wall.elapsed()
    }

    /// CPU time so far.
    pub fn cpu(&self) -> Duration {
        cpu_time().saturating_sub(self.cpu)
    }
}

/// One line of the result table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Database the run used.
    pub db: String,
    /// Scenario name.
    pub scenario: String,
    /// Operations counted.
    pub ops: u64,
    /// Operations per second.
    pub per_sec: f64,
    /// The ceiling it is compared with, and its rate.
    pub ceiling: String,
    /// per_sec / ceiling rate.
    pub ratio: Option<f64>,
    /// CPU milliseconds per operation (whole process).
    pub cpu_ms_per_op: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Peak resident memory of the process during the scenario, MB.
    pub peak_rss_mb: f64,
    /// Anything else worth saying.
    pub note: String,
}

impl Row {
    /// A row with the common measurements filled from a stopwatch.
    pub fn new(db: &str, scenario: &str, ops: u64, sw: &Stopwatch) -> Self {
        let secs = sw.wall().as_secs_f64().max(1e-9);
        Self {
            db: db.into(),
            scenario: scenario.into(),
            ops,
            per_sec: ops as f64 / secs,
            ceiling: String::new(),
            ratio: None,
            cpu_ms_per_op: sw.cpu().as_secs_f64() * 1000.0 / (ops.max(1) as f64),
            p50_ms: 0.0,
            p99_ms: 0.0,
            peak_rss_mb: peak_rss_mb(),
            note: String::new(),
        }
    }

    /// Compares with a ceiling.
    pub fn against(mut self, name: &str, rate: f64) -> Self {
        self.ceiling = format!("{name} {rate:.0}/s");
        self.ratio = Some(self.per_sec / rate.max(1e-9));
        self
    }

    /// Adds latency percentiles.
    pub fn latencies(mut self, samples: &mut [Duration]) -> Self {
        self.p50_ms = percentile_ms(samples, 50.0);
        self.p99_ms = percentile_ms(samples, 99.0);
        self
    }

    /// Adds a note.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }
}

/// Prints rows as a Markdown table.
pub fn print_table(rows: &[Row]) {
    println!("| db | scenario | ops | ops/s | ceiling | ratio | CPU ms/op | p50 ms | p99 ms | peak RSS MB | note |");
    println!("|---|---|---:|---:|---|---:|---:|---:|---:|---:|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {:.0} | {} | {} | {:.3} | {:.2} | {:.2} | {:.0} | {} |",
            r.db,
            r.scenario,
            r.ops,
            r.per_sec,
            r.ceiling,
            r.ratio.map(|x| format!("{x:.2}")).unwrap_or_default(),
            r.cpu_ms_per_op,
            r.p50_ms,
            r.p99_ms,
            r.peak_rss_mb,
            r.note
        );
    }
}
