//! iCalendar feeds, read back by an independent parser (the `ical` crate): a community's feed
//! and one event's, in summer and winter time, on the days the clocks change and in another
//! zone; changes and cancellations; the links on the pages.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use copse_tests::{
    builders::{communities::network, events::schedule},
    TestInstance,
};
use ical::parser::ical::component::{IcalCalendar, IcalEvent};
use reqwest::Method;
use serde_json::json;

/// Reads one property's value and parameters from a parsed component.
fn prop<'a>(
    props: &'a [ical::property::Property],
    name: &str,
) -> Option<&'a ical::property::Property> {
    props.iter().find(|p| p.name == name)
}

/// UTC of a `DTSTART;TZID=...` read with the calendar's own VTIMEZONE: the offset of the
/// latest observance that began at or before the local time.
fn utc_of(cal: &IcalCalendar, p: &ical::property::Property) -> DateTime<Utc> {
    let value = p.value.as_deref().unwrap();
    if let Some(v) = value.strip_suffix('Z') {
        return NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S")
            .unwrap()
            .and_utc();
    }
    let tzid = p
        .params
        .as_ref()
        .and_then(|ps| ps.iter().find(|(k, _)| k == "TZID"))
        .map(|(_, v)| v[0].clone())
        .expect("a TZID");
    let local = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S").unwrap();
    let tz = cal
        .timezones
        .iter()
        .find(|t| {
            prop(&t.properties, "TZID").and_then(|p| p.value.as_deref()) == Some(tzid.as_str())
        })
        .expect("the VTIMEZONE of the TZID");
    let mut best: Option<(NaiveDateTime, i64)> = None;
    for o in &tz.transitions {
        let start = NaiveDateTime::parse_from_str(
            prop(&o.properties, "DTSTART")
                .unwrap()
                .value
                .as_deref()
                .unwrap(),
            "%Y%m%dT%H%M%S",
        )
        .unwrap();
        let to = prop(&o.properties, "TZOFFSETTO")
            .unwrap()
            .value
            .clone()
            .unwrap();
        let sign = if to.starts_with('-') { -1 } else { 1 };
        let seconds = sign
            * (to[1..3].parse::<i64>().unwrap() * 3600 + to[3..5].parse::<i64>().unwrap() * 60);
        if start <= local && best.is_none_or(|(s, _)| start > s) {
            best = Some((start, seconds));
        }
    }
    let (_, offset) = best.expect("an observance in force");
    (local - chrono::Duration::seconds(offset)).and_utc()
}

fn parse_calendar(text: &str) -> IcalCalendar {
    let mut reader = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()));
    let cal = reader.next().expect("one calendar").expect("it parses");
    assert!(reader.next().is_none());
    cal
}

async fn get_text(a: &TestInstance, path: &str) -> (u16, String, String) {
    let res = a.client.get(a.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    let ctype = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ctype, res.text().await.unwrap())
}

/// An event in the feed: title, local start and end, zone, and the start in UTC as
/// (year, month, day, hour, minute).
type Case = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    (i32, u32, u32, u32, u32),
);

/// Summer and winter in London, the days the clocks change, and New York.
const CASES: [Case; 5] = [
    (
        "Summer meet-up",
        "2027-06-15T18:00",
        "2027-06-15T20:00",
        "Europe/London",
        (2027, 6, 15, 17, 0),
    ),
    (
        "Winter meet-up",
        "2027-01-12T18:00",
        "2027-01-12T20:00",
        "Europe/London",
        (2027, 1, 12, 18, 0),
    ),
    (
        "Clocks forward",
        "2027-03-28T12:00",
        "2027-03-28T13:00",
        "Europe/London",
        (2027, 3, 28, 11, 0),
    ),
    (
        "Clocks back",
        "2027-10-31T10:00",
        "2027-10-31T11:00",
        "Europe/London",
        (2027, 10, 31, 10, 0),
    ),
    (
        "Partners call",
        "2027-07-04T09:30",
        "2027-07-04T10:30",
        "America/New_York",
        (2027, 7, 4, 13, 30),
    ),
];

/// Alpha with "net" holding the `CASES`, the first renamed and the second cancelled; their
/// local ids in the same order.
async fn calendar() -> (TestInstance, Vec<i64>) {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    network(&a, &ana, "en").await;
    let mut ids = Vec::new();
    for (title, start, end, tz, _) in CASES {
        let created = schedule(
            &a,
            &ana,
            json!({ "title": title, "description": "Notes; commas, and a\nnew line.", "start": start, "end": end, "timezone": tz, "place": { "name": "Hall, upstairs; east wing" } }),
        )
        .await;
        ids.push(created["id"].as_i64().unwrap());
    }
    // One change and one cancellation.
    let (s, _) = a
        .api(
            Method::PATCH,
            &format!("/api/v1/events/{}", ids[0]),
            Some(&ana),
            Some(json!({ "title": "Summer meet-up (room 2)" })),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = a
        .api(
            Method::POST,
            &format!("/api/v1/events/{}/cancel", ids[1]),
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(s, 200);
    (a, ids)
}

/// The community's feed, parsed.
async fn community_feed(a: &TestInstance) -> IcalCalendar {
    let (s, _, text) = get_text(a, "/c/net/events.ics").await;
    assert_eq!(s, 200);
    parse_calendar(&text)
}

/// The event whose SUMMARY starts with `title`.
fn by_title<'a>(cal: &'a IcalCalendar, title: &str) -> &'a IcalEvent {
    cal.events
        .iter()
        .find(|e| {
            prop(&e.properties, "SUMMARY")
                .unwrap()
                .value
                .as_deref()
                .unwrap()
                .starts_with(title)
        })
        .unwrap_or_else(|| panic!("{title} in the feed"))
}

/// The value of `name` on `ev`.
fn value<'a>(ev: &'a IcalEvent, name: &str) -> Option<&'a str> {
    prop(&ev.properties, name).unwrap().value.as_deref()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_community_feed_is_folded_calendar_text_with_london_time_zone() {
    let (a, _) = calendar().await;
    let (s, ctype, text) = get_text(&a, "/c/net/events.ics").await;
    assert_eq!(s, 200);
    assert!(ctype.starts_with("text/calendar"), "{ctype}");
    assert!(
        text.split("\r\n").all(|l| l.len() <= 75),
        "lines are folded"
    );
    let cal = parse_calendar(&text);
    assert_eq!(cal.events.len(), CASES.len());
    let london = cal
        .timezones
        .iter()
        .find(|t| prop(&t.properties, "TZID").unwrap().value.as_deref() == Some("Europe/London"))
        .expect("London's VTIMEZONE");
    let kinds: Vec<&str> = london
        .transitions
        .iter()
        .map(|o| match o.transition {
            ical::parser::ical::component::IcalTimeZoneTransitionType::STANDARD => "STANDARD",
            ical::parser::ical::component::IcalTimeZoneTransitionType::DAYLIGHT => "DAYLIGHT",
        })
        .collect();
    assert!(
        kinds.contains(&"STANDARD") && kinds.contains(&"DAYLIGHT"),
        "{kinds:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_feed_time_reads_back_as_the_same_instant() {
    let (a, _) = calendar().await;
    let cal = community_feed(&a).await;
    for (title, _, _, tz, (y, mo, d, h, mi)) in CASES {
        let ev = by_title(&cal, title);
        let start = prop(&ev.properties, "DTSTART").unwrap();
        assert!(start
            .params
            .as_ref()
            .unwrap()
            .iter()
            .any(|(k, v)| k == "TZID" && v[0] == tz));
        assert_eq!(
            utc_of(&cal, start),
            Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap(),
            "{title}"
        );
        assert_eq!(value(ev, "LOCATION"), Some("Hall\\, upstairs\\; east wing"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_and_cancellations_show_in_the_feed() {
    let (a, _) = calendar().await;
    let cal = community_feed(&a).await;
    let changed = by_title(&cal, "Summer meet-up (room 2)");
    assert_eq!(value(changed, "SEQUENCE"), Some("1"));
    let cancelled = by_title(&cal, "Winter meet-up");
    assert_eq!(value(cancelled, "STATUS"), Some("CANCELLED"));
    assert_eq!(value(cancelled, "SEQUENCE"), Some("1"));
    let untouched = by_title(&cal, "Clocks back");
    assert_eq!(value(untouched, "SEQUENCE"), Some("0"));
    assert_eq!(value(untouched, "STATUS"), Some("CONFIRMED"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_events_feed_holds_it_and_its_zone() {
    let (a, ids) = calendar().await;
    let (s, _, text) = get_text(&a, &format!("/post/{}/event.ics", ids[4])).await;
    assert_eq!(s, 200);
    let one = parse_calendar(&text);
    assert_eq!(one.events.len(), 1);
    assert_eq!(one.timezones.len(), 1);
    let start = prop(&one.events[0].properties, "DTSTART").unwrap();
    assert_eq!(
        utc_of(&one, start),
        Utc.with_ymd_and_hms(2027, 7, 4, 13, 30, 0).unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_link_both_feeds_to_download_and_to_subscribe() {
    let (a, ids) = calendar().await;
    let (_, _, page) = get_text(&a, "/c/net").await;
    assert!(
        page.contains("href=\"/c/net/events.ics\" download"),
        "{page}"
    );
    assert!(page.contains(&format!("webcal://{}/c/net/events.ics", a.domain)));
    assert!(page.contains("Partners call"));
    let (_, _, page) = get_text(&a, &format!("/post/{}", ids[4])).await;
    assert!(page.contains(&format!("/post/{}/event.ics", ids[4])));
    assert!(
        page.contains("Sunday 4 July 2027, 09:30–10:30 EDT (America/New_York)"),
        "{page}"
    );
}
