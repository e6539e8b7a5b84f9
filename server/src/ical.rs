//! iCalendar (RFC 5545) feeds: a community's upcoming events and single events, with the time
//! zone of every event written out as a `VTIMEZONE`, so calendars that do not know the zone
//! still place the event at the right hour on both sides of a change of clocks.

use copse_entities::{event, post};
use copse_federation::{
    html::unescape_html,
    objects::event::{place_in_words, zone},
};
use jiff::{tz::TimeZone, Timestamp};
use std::collections::BTreeMap;

/// One event to write: its post (title, description, id) and details.
pub type Entry = (post::Model, event::Model);

/// Escapes a TEXT value (RFC 5545 §3.3.11).
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded at 75 octets without splitting a character, CRLF-ended.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for ch in content.chars() {
        let len = ch.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(ch);
        width += len;
    }
    out.push_str("\r\n");
}

fn utc_stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

fn ts(t: chrono::DateTime<chrono::Utc>) -> Timestamp {
    Timestamp::from_millisecond(t.timestamp_millis()).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The wall-clock time of `t` in `tz`, as a DATE-TIME without zone.
fn local_stamp(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone())
        .datetime()
        .strftime("%Y%m%dT%H%M%S")
        .to_string()
}

fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    if sec == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{sec:02}")
    }
}

/// A `VTIMEZONE` covering `from`..`to`: the observance in force at `from`, then one
/// observance per change of offset, each starting at its local time before the change.
fn vtimezone(out: &mut String, name: &str, tz: &TimeZone, from: Timestamp, to: Timestamp) {
    line(out, "BEGIN:VTIMEZONE");
    line(out, &format!("TZID:{name}"));
    let first = tz.to_offset_info(from);
    let mut previous = first.offset().seconds();
    let observance =
        |out: &mut String, dst: bool, start: String, from: i32, to: i32, abbr: &str| {
            let kind = if dst { "DAYLIGHT" } else { "STANDARD" };
            line(out, &format!("BEGIN:{kind}"));
            line(out, &format!("DTSTART:{start}"));
            line(out, &format!("TZOFFSETFROM:{}", offset_text(from)));
            line(out, &format!("TZOFFSETTO:{}", offset_text(to)));
            if !abbr.is_empty() {
                line(out, &format!("TZNAME:{}", text(abbr)));
            }
            line(out, &format!("END:{kind}"));
        };
    observance(
        out,
        first.dst().is_dst(),
        local_stamp(from, tz),
        previous,
        previous,
        first.abbreviation(),
    );
    for t in tz.following(from) {
        if t.timestamp() > to {
            break;
        }
        let offset = t.offset().seconds();
        // The observance starts at the local time the old offset showed at the change.
        let before = t
            .timestamp()
            .to_zoned(TimeZone::fixed(
                jiff::tz::Offset::from_seconds(previous).unwrap_or(jiff::tz::Offset::UTC),
            ))
            .datetime()
            .strftime("%Y%m%dT%H%M%S")
            .to_string();
        observance(
            out,
            t.dst().is_dst(),
            before,
            previous,
            offset,
            t.abbreviation(),
        );
        previous = offset;
    }
    line(out, "END:VTIMEZONE");
}

fn date_time(out: &mut String, prop: &str, t: chrono::DateTime<chrono::Utc>, tz_name: &str) {
    match zone(tz_name).filter(|_| tz_name != "UTC") {
        Some(tz) => line(
            out,
            &format!("{prop};TZID={tz_name}:{}", local_stamp(ts(t), &tz)),
        ),
        None => line(out, &format!("{prop}:{}", utc_stamp(t))),
    }
}

fn vevent(out: &mut String, p: &post::Model, e: &event::Model) {
    line(out, "BEGIN:VEVENT");
    line(out, &format!("UID:{}", text(p.ap_id.as_str())));
    line(
        out,
        &format!("DTSTAMP:{}", utc_stamp(p.updated.unwrap_or(p.published))),
    );
    line(out, &format!("CREATED:{}", utc_stamp(p.published)));
    if let Some(u) = p.updated {
        line(out, &format!("LAST-MODIFIED:{}", utc_stamp(u)));
    }
    date_time(out, "DTSTART", e.starts_at, &e.timezone);
    date_time(out, "DTEND", e.ends_at, &e.timezone);
    line(out, &format!("SEQUENCE:{}", e.sequence.max(0)));
    line(out, &format!("STATUS:{}", e.status.ical()));
    line(out, &format!("SUMMARY:{}", text(&p.title)));
    let mut description = copse_federation::html::plain_text(&p.content);
    if let Some(link) = &e.online_url {
        description.push_str(&format!("\n\nOnline: {link}"));
    }
    if let Some(u) = &e.external_url {
        description.push_str(&format!("\n\nRegister at {u}"));
    }
    if !description.trim().is_empty() {
        line(out, &format!("DESCRIPTION:{}", text(description.trim())));
    }
    match (place_in_words(e), &e.online_url) {
        (Some(place), _) => line(out, &format!("LOCATION:{}", text(&place))),
        (None, Some(link)) => line(out, &format!("LOCATION:{}", text(link))),
        _ => {}
    }
    if let (Some(lat), Some(lon)) = (e.latitude, e.longitude) {
        line(out, &format!("GEO:{lat:.6};{lon:.6}"));
    }
    if let Some(cat) = &e.category {
        line(out, &format!("CATEGORIES:{}", text(cat)));
    }
    line(out, &format!("URL:{}", p.ap_id));
    line(out, "END:VEVENT");
}

/// A calendar of `entries`, named `name`.
pub fn calendar(name: &str, domain: &str, entries: &[Entry]) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, &format!("PRODID:-//Copse//{}//EN", text(domain)));
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(
        &mut out,
        &format!("X-WR-CALNAME:{}", text(&unescape_html(name))),
    );
    // Each zone once, covering every event in it, with a day's margin either side.
    let mut spans: BTreeMap<&str, (Timestamp, Timestamp)> = BTreeMap::new();
    for (_, e) in entries {
        let (s, t) = (ts(e.starts_at), ts(e.ends_at));
        spans
            .entry(e.timezone.as_str())
            .and_modify(|(a, b)| {
                *a = (*a).min(s);
                *b = (*b).max(t);
            })
            .or_insert((s, t));
    }
    let day = jiff::SignedDuration::from_hours(24);
    for (tz_name, (from, to)) in spans {
        if tz_name == "UTC" {
            continue;
        }
        if let Some(tz) = zone(tz_name) {
            let from = from.checked_sub(day).unwrap_or(from);
            let to = to.checked_add(day).unwrap_or(to);
            vtimezone(&mut out, tz_name, &tz, from, to);
        }
    }
    for (p, e) in entries {
        vevent(&mut out, p, e);
    }
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_fold_at_75_octets_on_character_boundaries() {
        let mut out = String::new();
        line(&mut out, &format!("SUMMARY:{}", "é".repeat(80)));
        for l in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets", l.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded, format!("SUMMARY:{}\r\n", "é".repeat(80)));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }

    #[test]
    fn control_characters_are_left_out_of_text() {
        assert_eq!(text("a\r\nb\u{7}c\u{1b}d"), "a\\nbcd");
    }

    #[test]
    fn offsets_print_as_rfc5545_utc_offsets() {
        assert_eq!(offset_text(3600), "+0100");
        assert_eq!(offset_text(-18000), "-0500");
        assert_eq!(offset_text(19800), "+0530");
        assert_eq!(offset_text(-1), "-000001");
    }
}
