//! Times as people read them: "3 hours ago", "in 2 days", with the exact time (UTC) in a
//! `<time>` element beside it.

use chrono::{DateTime, Utc};

/// `then` relative to `now`, in words.
pub fn ago(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - then).num_seconds();
    let (n, future) = if secs < 0 {
        (-secs, true)
    } else {
        (secs, false)
    };
    let (amount, unit) = match n {
        0..=44 => return "just now".into(),
        45..=5_399 => ((n + 30) / 60, "minute"),
        5_400..=129_599 => ((n + 1_800) / 3_600, "hour"),
        129_600..=3_887_999 => ((n + 43_200) / 86_400, "day"),
        3_888_000..=47_303_999 => ((n + 1_296_000) / 2_592_000, "month"),
        _ => ((n + 15_768_000) / 31_536_000, "year"),
    };
    let plural = if amount == 1 { "" } else { "s" };
    if future {
        format!("in {amount} {unit}{plural}")
    } else {
        format!("{amount} {unit}{plural} ago")
    }
}

/// A moment for a template: the words and the machine-readable time.
#[derive(Clone, Debug)]
pub struct When {
    /// "3 hours ago".
    pub words: String,
    /// RFC 3339, for `<time datetime>`.
    pub iso: String,
    /// "2026-12-03 14:05 UTC", for the tooltip.
    pub exact: String,
}

impl When {
    /// `then` as seen at `now`.
    pub fn new(then: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        Self {
            words: ago(then, now),
            iso: then.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            exact: then.format("%Y-%m-%d %H:%M UTC").to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn times_read_as_people_say_them() {
        let now = Utc::now();
        assert_eq!(ago(now, now), "just now");
        assert_eq!(ago(now - Duration::minutes(1), now), "1 minute ago");
        assert_eq!(ago(now - Duration::hours(3), now), "3 hours ago");
        assert_eq!(ago(now - Duration::days(2), now), "2 days ago");
        assert_eq!(ago(now + Duration::days(2), now), "in 2 days");
        assert_eq!(ago(now - Duration::days(400), now), "13 months ago");
        assert_eq!(ago(now - Duration::days(800), now), "2 years ago");
    }
}
