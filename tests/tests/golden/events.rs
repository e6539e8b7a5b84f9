//! Events: each follower's form of Create, Update and Delete, the answers to Join, what a
//! local person sends to take part in a remote event, the notes about events, and the
//! iCalendar files.

use super::*;
use copse_tests::golden::Golden;

fn workshop() -> Value {
    json!({
        "title": "Launch workshop",
        "description": "Bring a case from your council. #practice",
        "start": "2027-06-15T18:00",
        "end": "2027-06-15T20:00",
        "timezone": "Europe/London",
        "place": {
            "name": "The Kenn Centre", "street_address": "Devon Expressway",
            "locality": "Exeter", "postcode": "EX6 7TW", "country": "United Kingdom",
            "latitude": 50.6688, "longitude": -3.5377
        },
        "online_url": "https://meet.example/launch",
        "capacity": 2,
        "join_mode": "free",
        "category": "WORKSHOP",
        "language": "en"
    })
}

fn on_event(v: &Value, kind: &str, event: &str) -> bool {
    v["type"] == kind && (v["object"]["id"] == event || v["object"] == event)
}

fn announced(v: &Value, kind: &str, event: &str) -> bool {
    v["type"] == "Announce" && on_event(&v["object"], kind, event)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_in_every_form_answers_and_calendars() {
    let g = Golden::new();
    let a = spawn("alpha").await;
    let b = spawn("beta").await;
    let ana = a.create_user("ana").await;
    let net = open(&a, &ana, "net").await;
    let fake = FakeServer::start().await;
    for (label, software) in [
        ("lemmy", "lemmy"),
        ("masto", "mastodon"),
        ("mobi", "mobilizon"),
    ] {
        fake.serve_nodeinfo(label, software);
        let who = fake.actor(label, "reader");
        a.follow_as(&fake, &who, label, &net).await;
    }
    let bob = b.create_user("bob").await;
    let (s, body) = b.follow(&bob, format!("net@{}", a.domain)).await;
    assert_eq!(s, 202, "{body}");
    received(&b, "Accept", "bob's membership", |_| true).await;

    let created = call(
        &a,
        Method::POST,
        "/api/v1/communities/net/events",
        &ana,
        Some(workshop()),
        201,
    )
    .await;
    let id = created["ap_id"].as_str().unwrap().to_string();
    let local = created["id"].as_i64().unwrap();
    let ev = id.as_str();
    g.json(
        "create-event",
        &delivered(&fake, "masto", "the Group's Create", |v| {
            on_event(v, "Create", ev)
        })
        .await,
    );
    g.json(
        "announce-create-event",
        &delivered(&fake, "lemmy", "the organiser's Create", |v| {
            announced(v, "Create", ev)
        })
        .await,
    );
    g.json("event", &served(&a, ev).await);

    // Bob on beta takes a place: beta sends Join; the Mobilizon reader takes the last one.
    let remote = || async {
        let (_, list) = b
            .api(
                Method::GET,
                &format!("/api/v1/communities/net@{}/events", a.domain),
                Some(&bob),
                None,
            )
            .await;
        list["items"][0]["id"].as_i64()
    };
    wait_for("the event on beta", T, || async {
        remote().await.is_some()
    })
    .await;
    let on_beta = remote().await.unwrap();
    let rsvp = format!("/api/v1/events/{on_beta}/rsvp");
    call(
        &b,
        Method::POST,
        &rsvp,
        &bob,
        Some(json!({ "going": true })),
        200,
    )
    .await;
    g.json("join", &received(&a, "Join", "bob's Join", |_| true).await);
    g.json(
        "accept-join-remote",
        &received(&b, "Accept", "the Accept of bob's Join", |v| {
            v["object"]["type"] == "Join"
        })
        .await,
    );
    let zoe = fake.actor("mobi", "zoe");
    let join = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/joins/1", fake.base("mobi")),
        "type": "Join", "actor": zoe.id, "object": ev,
        "participationMessage": "I coordinate the Exeter network."
    });
    let inbox = a.url("/c/net/inbox");
    assert_eq!(zoe.deliver(&a.client, &inbox, &join).await, 202);
    g.json(
        "accept-join",
        &delivered(&fake, "mobi", "zoe's Accept", |v| {
            v["type"] == "Accept" && v["object"]["id"] == join["id"]
        })
        .await,
    );

    // Mia on Mastodon answers by replying: full, so she is told her place on the waiting list.
    let mia = fake.actor("masto", "mia");
    let html = format!(
        "<p><span class=\"h-card\"><a href=\"{net}\" class=\"u-url mention\">@<span>net</span></a></span> going</p>"
    );
    let (_, create) = mia.status(&fake, 1, &net, &html, Some(ev));
    assert_eq!(mia.deliver(&a.client, &inbox, &create).await, 202);
    let mia_id = mia.id.to_string();
    g.json(
        "create-note-event-waiting",
        &delivered(&fake, "masto", "mia's place on the list", |v| {
            v["type"] == "Create" && v["object"]["to"] == json!([mia_id])
        })
        .await,
    );
    // Bob leaves: beta sends Leave, and mia is given his place.
    call(
        &b,
        Method::POST,
        &rsvp,
        &bob,
        Some(json!({ "going": false })),
        200,
    )
    .await;
    g.json(
        "leave",
        &received(&a, "Leave", "bob's Leave", |_| true).await,
    );
    g.json(
        "create-note-event-place",
        &delivered(&fake, "masto", "mia's place", |v| {
            v["type"] == "Create"
                && v["object"]["to"] == json!([mia_id])
                && v["object"]["content"]
                    .as_str()
                    .is_some_and(|c| c.contains("You are going"))
        })
        .await,
    );

    // An event by invitation refuses a Join from someone not invited.
    let mut circle = workshop();
    circle["title"] = json!("Coordinators' circle");
    circle["join_mode"] = json!("invite");
    let closed = call(
        &a,
        Method::POST,
        "/api/v1/communities/net/events",
        &ana,
        Some(circle),
        201,
    )
    .await;
    let refused = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/joins/2", fake.base("mobi")),
        "type": "Join", "actor": zoe.id, "object": closed["ap_id"]
    });
    assert_eq!(zoe.deliver(&a.client, &inbox, &refused).await, 202);
    g.json(
        "reject-join",
        &delivered(&fake, "mobi", "zoe's Reject", |v| {
            v["type"] == "Reject" && v["object"]["id"] == refused["id"]
        })
        .await,
    );

    let (kind, ics) = fetched(&a, a.url("/c/net/events.ics").as_str()).await;
    assert!(kind.starts_with("text/calendar"), "{kind}");
    g.text("events.ics", &ics);
    let (_, ics) = fetched(&a, a.url(&format!("/post/{local}/event.ics")).as_str()).await;
    g.text("event.ics", &ics);

    let url = format!("/api/v1/events/{local}");
    call(
        &a,
        Method::PATCH,
        &url,
        &ana,
        Some(json!({ "start": "2027-06-15T19:00", "end": "2027-06-15T21:00" })),
        200,
    )
    .await;
    g.json(
        "update-event",
        &delivered(&fake, "masto", "the Group's Update", |v| {
            on_event(v, "Update", ev)
        })
        .await,
    );
    g.json(
        "announce-update-event",
        &delivered(&fake, "lemmy", "the organiser's Update", |v| {
            announced(v, "Update", ev)
        })
        .await,
    );
    call(&a, Method::POST, &format!("{url}/cancel"), &ana, None, 200).await;
    g.json(
        "update-event-cancelled",
        &delivered(&fake, "masto", "the cancellation", |v| {
            on_event(v, "Update", ev) && v["object"]["ical:status"] == "CANCELLED"
        })
        .await,
    );
    g.json(
        "create-note-event-cancelled",
        &delivered(&fake, "masto", "mia's note of the cancellation", |v| {
            v["type"] == "Create"
                && v["object"]["to"] == json!([mia_id])
                && v["object"]["content"]
                    .as_str()
                    .is_some_and(|c| c.contains("cancel"))
        })
        .await,
    );
    call(&a, Method::DELETE, &url, &ana, None, 204).await;
    g.json(
        "delete-event",
        &delivered(&fake, "masto", "the Group's Delete", |v| {
            on_event(v, "Delete", ev)
        })
        .await,
    );
    g.json(
        "announce-delete-event",
        &delivered(&fake, "lemmy", "the organiser's Delete", |v| {
            announced(v, "Delete", ev)
        })
        .await,
    );
}
