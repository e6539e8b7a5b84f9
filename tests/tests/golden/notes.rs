//! What else a community sends: the announcements of a topic received from elsewhere, a reply
//! sent to the author it answers, the code-of-conduct question and a direct welcome, and the
//! notes about an event (confirmation of a reply, reminder, invitation).

use super::*;
use copse_tests::golden::Golden;

fn mention(group: &Url, text: &str) -> String {
    format!(
        "<p><span class=\"h-card\"><a href=\"{group}\" class=\"u-url mention\">@<span>net</span></a></span> {text}</p>"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_topic_is_announced_and_a_reply_reaches_its_author() {
    let g = Golden::new();
    let a = spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let net = open(&a, &ana, "net").await;
    let fake = FakeServer::start().await;
    fake.serve_nodeinfo("masto", "mastodon");
    let mia = fake.actor("masto", "mia");
    let rob = fake.actor("other", "rob");
    a.follow_as(&fake, &mia, "masto", &net).await;
    a.follow_as(&fake, &rob, "other", &net).await;
    let (note, create) = mia.status(
        &fake,
        1,
        &net,
        &mention(&net, "Budgets<br>How do you share yours?"),
        None,
    );
    assert_eq!(
        mia.deliver(&a.client, &a.url("/c/net/inbox"), &create)
            .await,
        202
    );
    let id = note["id"].clone();
    g.json(
        "announce-create-remote-topic",
        &delivered(&fake, "other", "the wrapped topic", |v| {
            v["type"] == "Announce" && v["object"]["object"]["id"] == id
        })
        .await,
    );
    g.json(
        "announce-remote-topic",
        &delivered(&fake, "other", "the bare topic", |v| {
            v["type"] == "Announce" && v["object"] == id
        })
        .await,
    );
    a.settled().await;
    let (_, listed) = a
        .api(Method::GET, "/api/v1/communities/net/topics", None, None)
        .await;
    let topic = listed["items"][0]["local_id"].as_i64().unwrap();
    reply(&a, &ana, topic, "Monthly, in the open.").await;
    g.json(
        "create-reply-to-remote-author",
        &delivered(&fake, "masto", "the reply at mia's server", |v| {
            v["type"] == "Create" && v["object"]["inReplyTo"] == id
        })
        .await,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_code_of_conduct_is_asked_for_and_the_welcome_is_direct() {
    let g = Golden::new();
    let a = spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let circle = community(
        &a,
        &ana,
        "circle",
        json!({
            "membership_policy": "open", "welcome_mode": "direct",
            "rules": "Be kind.", "require_rules_agreement": true
        }),
    )
    .await;
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    let follow = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/follows/mia", fake.base("masto")),
        "type": "Follow", "actor": mia.id, "object": circle
    });
    let inbox = a.url("/c/circle/inbox");
    assert_eq!(mia.deliver(&a.client, &inbox, &follow).await, 202);
    let asked = delivered(&fake, "masto", "the question", |v| v["type"] == "Create").await;
    g.json("create-note-asking-agreement", &asked);
    let answer = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/statuses/9/activity", fake.base("masto")), "type": "Create", "actor": mia.id,
        "to": [circle], "cc": [],
        "object": {
            "id": format!("{}/statuses/9", fake.base("masto")), "type": "Note", "attributedTo": mia.id,
            "to": [circle], "cc": [], "inReplyTo": asked["object"]["id"],
            "content": "<p><span class=\"h-card\"><a href=\"x\" class=\"u-url mention\">@<span>circle</span></a></span> I agree.</p>",
            "tag": [{ "type": "Mention", "href": circle }]
        }
    });
    assert_eq!(mia.deliver(&a.client, &inbox, &answer).await, 202);
    delivered(&fake, "masto", "the Accept", |v| v["type"] == "Accept").await;
    g.json(
        "create-note-welcome-direct",
        &delivered(&fake, "masto", "the direct welcome", |v| {
            v["type"] == "Create"
                && v["object"]["content"]
                    .as_str()
                    .is_some_and(|c| c.contains("Welcome"))
        })
        .await,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_about_an_event() {
    let g = Golden::new();
    let a = spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let net = open(&a, &ana, "net").await;
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    let leo = fake.actor("masto", "leo");
    a.follow_as(&fake, &mia, "masto", &net).await;
    a.follow_as(&fake, &leo, "masto", &net).await;
    let created = call(
        &a,
        Method::POST,
        "/api/v1/communities/net/events",
        &ana,
        Some(json!({
            "title": "Launch workshop", "description": "Bring a case.",
            "start": "2027-06-15T18:00", "end": "2027-06-15T20:00",
            "timezone": "Europe/London"
        })),
        201,
    )
    .await;
    let ev = created["ap_id"].as_str().unwrap().to_string();
    let local = created["id"].as_i64().unwrap();
    let (_, going) = mia.status(&fake, 1, &net, &mention(&net, "going"), Some(&ev));
    assert_eq!(mia.deliver(&a.client, &a.url("/inbox"), &going).await, 202);
    let to = |who: &copse_tests::fake::FakeActor, words: &'static str| {
        let who = who.id.to_string();
        move |v: &Value| {
            v["type"] == "Create"
                && v["object"]["to"] == json!([who])
                && v["object"]["content"]
                    .as_str()
                    .is_some_and(|c| c.contains(words))
        }
    };
    g.json(
        "create-note-event-going",
        &delivered(
            &fake,
            "masto",
            "the confirmation",
            to(&mia, "You are going"),
        )
        .await,
    );

    call(
        &a,
        Method::POST,
        &format!("/api/v1/events/{local}/invites"),
        &ana,
        Some(json!({ "handle": format!("leo@masto.localhost:{}", fake.port) })),
        204,
    )
    .await;
    g.json(
        "create-note-event-invitation",
        &delivered(&fake, "masto", "the invitation", to(&leo, "invite")).await,
    );

    // A day before the start (17:00 UTC), the default lead time.
    let day_before = chrono::DateTime::parse_from_rfc3339("2027-06-14T17:01:00Z").unwrap();
    a.data().clock.set(day_before.with_timezone(&chrono::Utc));
    copse_federation::actions::events::send_due_reminders(&a.data())
        .await
        .unwrap();
    g.json(
        "create-note-event-reminder",
        &delivered(&fake, "masto", "the reminder", to(&mia, "Reminder")).await,
    );
}
