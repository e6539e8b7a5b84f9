//! Golden files: what Copse sends and serves, compared byte for byte with the examples under
//! `docs/federation/examples/`. `COPSE_BLESS=1` rewrites them instead.
//!
//! Only what no test can fix is normalised: the random port in every test hostname
//! (`alpha.localhost:PORT` becomes `alpha.example`), activity UUIDs (numbered in the order a
//! test first sees them), public key PEMs, and timestamps taken from the system clock rather
//! than the instance's fixed clock (within two days of now; they become 2000-01-01 with the
//! same zone, and six zeros where they have fractional seconds, whose number of digits
//! depends on the database).

use chrono::{DateTime, Utc};
use serde_json::Value;
use std::{path::PathBuf, sync::Mutex};

/// The fixed time golden tests set every instance's clock to.
pub fn fixed_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2027-05-03T09:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// One test's comparisons; UUIDs are numbered across all its documents.
pub struct Golden {
    uuids: Mutex<Vec<String>>,
    now: DateTime<Utc>,
}

impl Default for Golden {
    fn default() -> Self {
        Self::new()
    }
}

/// The folder of the golden files.
pub fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/federation/examples")
}

fn blessing() -> bool {
    std::env::var("COPSE_BLESS").is_ok_and(|v| !v.is_empty() && v != "0")
}

impl Golden {
    /// A fresh set of comparisons.
    pub fn new() -> Self {
        Self {
            uuids: Mutex::new(Vec::new()),
            now: Utc::now(),
        }
    }

    /// Compares a JSON document with `examples/NAME.json`.
    pub fn json(&self, name: &str, doc: &Value) {
        let doc = self.normalise(doc);
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n";
        self.compare(&format!("{name}.json"), &text);
    }

    /// Compares a text document (such as a calendar) with `examples/NAME`.
    pub fn text(&self, name: &str, text: &str) {
        let text = self.normalise_str(text);
        self.compare(name, &text);
    }

    fn compare(&self, file: &str, text: &str) {
        let path = examples_dir().join(file);
        if blessing() {
            std::fs::create_dir_all(examples_dir()).unwrap_or_else(|e| panic!("mkdir: {e}"));
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {file}: {e}"));
            return;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("{file}: {e}; run COPSE_BLESS=1 cargo test -p copse-tests --test golden")
        });
        if want != text {
            panic!(
                "{file} differs from what Copse sent (- golden, + now; COPSE_BLESS=1 rewrites it):\n{}",
                diff(&want, text)
            );
        }
    }

    fn normalise(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.normalise_str(s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.normalise(x)).collect()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, x)| (k.clone(), self.normalise(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Applies every normalisation to one string.
    pub fn normalise_str(&self, s: &str) -> String {
        let s = ports(s);
        let s = pem(&s);
        let s = self.uuids_in(&s);
        let s = self.times_in(&s);
        self.ical_times_in(&s)
    }

    fn uuids_in(&self, s: &str) -> String {
        let b = s.as_bytes();
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        let mut seen = self.uuids.lock().unwrap_or_else(|e| e.into_inner());
        while i < b.len() {
            if i + 36 <= b.len() && is_uuid(&b[i..i + 36]) {
                let u = &s[i..i + 36];
                let n = match seen.iter().position(|x| x == u) {
                    Some(n) => n,
                    None => {
                        seen.push(u.to_string());
                        seen.len() - 1
                    }
                };
                out.push_str(&format!("00000000-0000-4000-8000-{:012}", n + 1));
                i += 36;
            } else {
                let c = s[i..].chars().next().unwrap_or_default();
                out.push(c);
                i += c.len_utf8();
            }
        }
        out
    }

    fn near_now(&self, t: DateTime<Utc>) -> bool {
        (t - self.now).num_hours().abs() < 48
    }

    /// RFC 3339 timestamps from the system clock.
    fn times_in(&self, s: &str) -> String {
        let b = s.as_bytes();
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        while i < b.len() {
            if let Some(len) = rfc3339_at(&b[i..]) {
                let text = &s[i..i + len];
                match DateTime::parse_from_rfc3339(text) {
                    Ok(t) if self.near_now(t.with_timezone(&Utc)) => {
                        out.push_str("2000-01-01T00:00:00");
                        out.push_str(&zeroed(&text[19..]));
                    }
                    _ => out.push_str(text),
                }
                i += len;
            } else {
                let c = s[i..].chars().next().unwrap_or_default();
                out.push(c);
                i += c.len_utf8();
            }
        }
        out
    }

    /// iCalendar's `YYYYMMDDTHHMMSSZ` from the system clock.
    fn ical_times_in(&self, s: &str) -> String {
        let b = s.as_bytes();
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        while i < b.len() {
            let w = &b[i..];
            let shaped = w.len() >= 16
                && w[..8].iter().all(u8::is_ascii_digit)
                && w[8] == b'T'
                && w[9..15].iter().all(u8::is_ascii_digit)
                && w[15] == b'Z';
            if shaped {
                let text = &s[i..i + 16];
                let t = chrono::NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%SZ")
                    .ok()
                    .map(|t| t.and_utc());
                if t.is_some_and(|t| self.near_now(t)) {
                    out.push_str("20000101T000000Z");
                } else {
                    out.push_str(text);
                }
                i += 16;
            } else {
                let c = s[i..].chars().next().unwrap_or_default();
                out.push(c);
                i += c.len_utf8();
            }
        }
        out
    }
}

/// `NAME.localhost:PORT` becomes `NAME.example`.
fn ports(s: &str) -> String {
    const HOST: &str = ".localhost:";
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find(HOST) {
        let after = &rest[at + HOST.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            out.push_str(&rest[..at + HOST.len()]);
            rest = after;
            continue;
        }
        out.push_str(&rest[..at]);
        out.push_str(".example");
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// A PEM's body becomes `...`.
fn pem(s: &str) -> String {
    const BEGIN: &str = "-----BEGIN PUBLIC KEY-----\n";
    const END: &str = "-----END PUBLIC KEY-----";
    match (s.find(BEGIN), s.find(END)) {
        (Some(b), Some(e)) if b + BEGIN.len() <= e => {
            format!("{}{BEGIN}...\n{}", &s[..b], &s[e..])
        }
        _ => s.to_string(),
    }
}

fn is_uuid(b: &[u8]) -> bool {
    b.iter().enumerate().all(|(i, c)| match i {
        8 | 13 | 18 | 23 => *c == b'-',
        _ => c.is_ascii_hexdigit() && !c.is_ascii_uppercase(),
    })
}

/// The length of an RFC 3339 timestamp starting here, if one does.
fn rfc3339_at(w: &[u8]) -> Option<usize> {
    let shape = b"dddd-dd-ddTdd:dd:dd";
    if w.len() < shape.len() {
        return None;
    }
    let ok = shape.iter().zip(w).all(|(p, c)| match p {
        b'd' => c.is_ascii_digit(),
        p => p == c,
    });
    if !ok {
        return None;
    }
    let mut n = shape.len();
    if w.get(n) == Some(&b'.') {
        n += 1;
        n += w[n..].iter().take_while(|c| c.is_ascii_digit()).count();
    }
    match w.get(n) {
        Some(b'Z') => Some(n + 1),
        Some(b'+' | b'-')
            if w.len() >= n + 6
                && w[n + 1..n + 3].iter().all(u8::is_ascii_digit)
                && w[n + 3] == b':'
                && w[n + 4..n + 6].iter().all(u8::is_ascii_digit) =>
        {
            Some(n + 6)
        }
        _ => None,
    }
}

/// Fractional seconds as six zeros, the zone as written. The number of digits is the
/// database's: nanoseconds read back from SQLite, microseconds from PostgreSQL.
fn zeroed(tail: &str) -> String {
    match tail.strip_prefix('.') {
        Some(rest) => {
            let zone = rest.trim_start_matches(|c: char| c.is_ascii_digit());
            format!(".000000{zone}")
        }
        None => tail.to_string(),
    }
}

/// A line diff (longest common subsequence), with two lines of context.
fn diff(want: &str, got: &str) -> String {
    let a: Vec<&str> = want.lines().collect();
    let b: Vec<&str> = got.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut lines = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            lines.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            lines.push(('-', a[i]));
            i += 1;
        } else {
            lines.push(('+', b[j]));
            j += 1;
        }
    }
    let near = |k: usize| {
        lines[k.saturating_sub(2)..(k + 3).min(lines.len())]
            .iter()
            .any(|(m, _)| *m != ' ')
    };
    let mut out = String::new();
    let mut gap = false;
    for (k, (m, l)) in lines.iter().enumerate() {
        if near(k) {
            out.push_str(&format!("{m} {l}\n"));
            gap = false;
        } else if !gap {
            out.push_str("  ...\n");
            gap = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_uuids_and_wall_clock_times_are_normalised() {
        let g = Golden::new();
        let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let s = format!(
            "http://alpha.localhost:4321/activities/like/0f8fad5b-d9cb-469f-a165-70867728950e {now} 2027-06-15T18:00:00+01:00"
        );
        assert_eq!(
            g.normalise_str(&s),
            "http://alpha.example/activities/like/00000000-0000-4000-8000-000000000001 2000-01-01T00:00:00.000000Z 2027-06-15T18:00:00+01:00"
        );
        assert!(diff("a\nb\nc\n", "a\nx\nc\n").contains("- b\n+ x"));
    }
}
