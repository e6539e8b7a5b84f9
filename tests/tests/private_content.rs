//! What is not public stays so (SECURITY.md T22 and T23): direct notes are served to nobody,
//! and a member's followers-only or direct note to a community is never announced wider.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{post, received_activity, received_activity::InboxStatus};
use copse_tests::{fake::FakeServer, wait_for, TestInstance};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use std::time::Duration;
use url::Url;

const T: Duration = Duration::from_secs(20);
const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

fn mention(group: &Url, text: &str) -> String {
    format!(
        "<p><span class=\"h-card\"><a href=\"{group}\" class=\"u-url mention\">@<span>net</span></a></span> {text}</p>"
    )
}

/// GETs `url` without a signature, as ActivityPub and as a browser, and returns both statuses.
async fn unsigned_get(a: &TestInstance, url: &str) -> (u16, u16, String) {
    let ap = a
        .client
        .get(url)
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    let ap_status = ap.status().as_u16();
    let ap_body = ap.text().await.unwrap_or_default();
    let html = a
        .client
        .get(url)
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    let html_status = html.status().as_u16();
    let html_body = html.text().await.unwrap_or_default();
    (ap_status, html_status, format!("{ap_body}{html_body}"))
}

/// SECURITY.md T22: a direct note from the community (a welcome sent privately) is not served
/// by its activity id or its object id, and the outbox does not list it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t22_a_direct_welcome_is_served_to_nobody() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let secret = "Your door code is 4711";
    a.community_with(
        &ana,
        "net",
        json!({ "welcome_mode": "direct", "welcome_template": secret }),
    )
    .await;
    let group = a.url("/c/net");
    let fake = FakeServer::start().await;
    let mia = fake.actor("mast", "mia");
    a.follow_as(&fake, &mia, "mast", &group).await;
    wait_for("the direct welcome", T, || async {
        fake.posted("mast")
            .iter()
            .any(|v| v["type"] == "Create" && v["object"]["content"].to_string().contains("4711"))
    })
    .await;
    let welcome = fake
        .posted("mast")
        .into_iter()
        .find(|v| v["type"] == "Create" && v["object"]["content"].to_string().contains("4711"))
        .unwrap();
    assert!(
        !welcome["to"].to_string().contains(PUBLIC) && !welcome["cc"].to_string().contains(PUBLIC),
        "the welcome is direct: {welcome}"
    );
    for id in [&welcome["id"], &welcome["object"]["id"]] {
        let id = id.as_str().unwrap();
        let (ap, html, body) = unsigned_get(&a, id).await;
        assert!(
            [401, 403, 404, 410].contains(&ap) && [401, 403, 404, 410].contains(&html),
            "{id}: {ap} / {html}"
        );
        assert!(!body.contains("4711"), "{id} leaked the note: {body}");
    }
    let (s, outbox) = a.get_ap(&a.url("/c/net/outbox?page=true")).await;
    assert_eq!(s, 200);
    assert!(!outbox.to_string().contains("4711"), "{outbox}");
}

/// SECURITY.md T23: a member's followers-only note and a direct note mentioning the community
/// become no post and are announced to nobody, while a public one is announced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t23_a_members_private_note_is_never_announced_wider() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    a.community_with(
        &ana,
        "net",
        json!({ "topic_policy": "anyone", "reply_policy": "anyone", "welcome_mode": "off" }),
    )
    .await;
    let group = a.url("/c/net");
    let fake = FakeServer::start().await;
    let mia = fake.actor("mast", "mia");
    let leo = fake.actor("other", "leo");
    a.follow_as(&fake, &mia, "mast", &group).await;
    a.follow_as(&fake, &leo, "other", &group).await;
    let base = fake.base("mast");
    let note = |n: u32, to: Value, cc: Value, text: &str| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{base}/statuses/{n}/activity"), "type": "Create", "actor": mia.id,
            "to": to, "cc": cc,
            "object": {
                "id": format!("{base}/statuses/{n}"), "type": "Note", "attributedTo": mia.id,
                "to": to, "cc": cc, "content": mention(&group, text),
                "tag": [{ "type": "Mention", "href": group, "name": "@net" }]
            }
        })
    };
    let followers = format!("{}/followers", mia.id);
    let inbox = a.url("/c/net/inbox");
    let private = [
        note(
            1,
            json!([followers]),
            json!([group]),
            "for my followers only",
        ),
        note(2, json!([group]), json!([]), "only for the group"),
    ];
    for activity in &private {
        assert_eq!(mia.deliver(&a.client, &inbox, activity).await, 202);
    }
    let public = note(
        3,
        json!([PUBLIC]),
        json!([group, followers]),
        "for everyone",
    );
    assert_eq!(mia.deliver(&a.client, &inbox, &public).await, 202);
    wait_for("the public note announced", T, || async {
        fake.posted("other")
            .iter()
            .any(|v| v["type"] == "Announce" && v.to_string().contains("for everyone"))
    })
    .await;
    wait_for("the inbox to settle", T, || async {
        received_activity::Entity::find()
            .filter(received_activity::Column::Status.eq(InboxStatus::Pending))
            .count(a.db())
            .await
            .unwrap()
            == 0
    })
    .await;
    a.settled().await;
    assert_eq!(post::Entity::find().count(a.db()).await.unwrap(), 1);
    for label in ["mast", "other"] {
        for v in fake.posted(label) {
            let text = v.to_string();
            assert!(
                !text.contains("followers only") && !text.contains("only for the group"),
                "{label} was sent a private note: {text}"
            );
        }
    }
    let (_, outbox) = a.get_ap(&a.url("/c/net/outbox?page=true")).await;
    assert!(!outbox.to_string().contains("followers only"), "{outbox}");
}
