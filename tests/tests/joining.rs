//! Joining a community: the public welcome reaches each server once, members choose whether the
//! directory names them (remote members by their actor's `discoverable`), and communities that
//! ask for it have newcomers agree to their code of conduct, locally through the API and
//! remotely by replying to the note that points to the rules.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{community_follower, person};
use copse_tests::{
    fake::{FakeActor, FakeServer},
    wait_for, TestInstance,
};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use std::time::Duration;
use url::Url;

const T: Duration = Duration::from_secs(20);

/// The membership row of an actor in a community on `a`.
async fn membership_of(
    a: &TestInstance,
    community: &str,
    actor: &Url,
) -> Option<community_follower::Model> {
    let c = a.data().urls.community(community);
    let c = copse_entities::community::Entity::find()
        .filter(copse_entities::community::Column::ApId.eq(c.as_str()))
        .one(a.db())
        .await
        .unwrap()?;
    let p = person::Entity::find()
        .filter(person::Column::ApId.eq(actor.as_str()))
        .one(a.db())
        .await
        .unwrap()?;
    community_follower::Entity::find()
        .filter(community_follower::Column::CommunityId.eq(c.id))
        .filter(community_follower::Column::PersonId.eq(p.id))
        .one(a.db())
        .await
        .unwrap()
}

/// True once the inbox worker has dealt with the activity `id`.
async fn processed(a: &TestInstance, id: &str) -> bool {
    use copse_entities::received_activity::{self, InboxStatus};
    received_activity::Entity::find()
        .filter(received_activity::Column::ApId.eq(id))
        .one(a.db())
        .await
        .unwrap()
        .is_some_and(|r| r.status != InboxStatus::Pending)
}

/// Serves a fake actor's document again with `discoverable` set (or left out with `None`).
async fn set_discoverable(a: &TestInstance, fake: &FakeServer, who: &FakeActor, on: bool) {
    let res = a.client.get(who.id.as_str()).send().await.unwrap();
    let mut doc: Value = res.json().await.unwrap();
    doc["discoverable"] = json!(on);
    fake.serve(&who.id, doc);
}

/// Sends a Follow of `group` by a fake actor.
async fn follow(a: &TestInstance, fake: &FakeServer, who: &FakeActor, label: &str, group: &Url) {
    let name = who.id.path().rsplit('/').next().unwrap().to_string();
    let follow = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/follows/{name}", fake.base(label)),
        "type": "Follow", "actor": who.id, "object": group
    });
    let inbox = Url::parse(&format!("{group}/inbox")).unwrap();
    assert_eq!(who.deliver(&a.client, &inbox, &follow).await, 202);
}

/// A Mastodon-shaped direct reply to a note of the community.
fn dm_reply(
    fake: &FakeServer,
    label: &str,
    who: &FakeActor,
    n: u32,
    group: &Url,
    to_note: &Value,
    text: &str,
) -> Value {
    let id = format!("{}/statuses/{n}", who.id);
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{id}/activity"), "type": "Create", "actor": who.id,
        "to": [group], "cc": [],
        "object": {
            "id": id, "type": "Note", "attributedTo": who.id,
            "to": [group], "cc": [], "inReplyTo": to_note,
            "content": format!("<p><span class=\"h-card\"><a href=\"{group}\" class=\"u-url mention\">@<span>net</span></a></span> {text}</p>"),
            "tag": [{ "type": "Mention", "href": group, "name": format!("@net@{}", fake.base(label)) }]
        }
    })
}

/// The direct notes (the Create's object) a fake actor got in its own inbox.
fn notes_to(fake: &FakeServer, label: &str, name: &str) -> Vec<Value> {
    fake.inbox_of(label, name)
        .into_iter()
        .filter(|v| v["type"] == "Create" && v["object"]["type"] == "Note")
        .map(|v| v["object"].clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_welcome_reaches_a_server_once() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    a.community_with(&ana, "net", json!({ "welcome_mode": "public" }))
        .await;
    let group = a.url("/c/net");
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    a.follow_as(&fake, &mia, "masto", &group).await;

    // Mia's server shares one inbox; the welcome names her and reaches her there.
    wait_for("the welcome at the shared inbox", T, || async {
        fake.shared_inbox("masto").iter().any(|v| {
            v["type"] == "Create"
                && v["object"]["tag"][0]["href"] == mia.id.as_str()
                && v["object"]["content"]
                    .as_str()
                    .is_some_and(|c| c.contains("Welcome"))
        })
    })
    .await;
    wait_for("every delivery made", T, || async {
        a.queued_deliveries().await == 0
    })
    .await;
    let creates: Vec<Value> = fake
        .posted("masto")
        .into_iter()
        .filter(|v| v["type"] == "Create")
        .collect();
    assert_eq!(creates.len(), 1, "one welcome for one server: {creates:?}");
    assert!(notes_to(&fake, "masto", "mia").is_empty());
    // The Accept is hers alone, and still goes to her own inbox.
    assert!(fake
        .inbox_of("masto", "mia")
        .iter()
        .any(|v| v["type"] == "Accept"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_choose_to_be_listed_and_everyone_is_counted() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let max = a.create_user("max").await;
    let cy = a.create_user("cy").await;
    a.community_with(&ana, "net", json!({ "welcome_mode": "off" }))
        .await;
    let group = a.url("/c/net");
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    let dai = fake.actor("masto", "dai");
    set_discoverable(&a, &fake, &mia, true).await;

    // Max asks to be listed when he joins; Cy says nothing and is not.
    let (s, body) = a
        .api(
            Method::POST,
            "/api/v1/follows",
            Some(&max),
            Some(json!({ "community": "net", "listed": true })),
        )
        .await;
    assert_eq!(s, 202, "{body}");
    assert_eq!(a.follow(&cy, "net").await.0, 202);
    // Mia's server publishes `discoverable: true`; Dai's publishes nothing.
    a.follow_as(&fake, &mia, "masto", &group).await;
    a.follow_as(&fake, &dai, "masto", &group).await;

    let names = |dir: &Value| -> Vec<String> {
        let mut n: Vec<String> = dir["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["person"]["name"].as_str().unwrap().to_string())
            .collect();
        n.sort();
        n
    };
    let (_, dir) = a
        .api(Method::GET, "/api/v1/communities/net/members", None, None)
        .await;
    assert_eq!(dir["total"], 5, "ana, max, cy, mia and dai: {dir}");
    assert_eq!(names(&dir), ["max", "mia"], "{dir}");
    let (_, members) = a.get_ap(&a.url("/c/net/members")).await;
    assert_eq!(members["totalItems"], 5, "{members}");
    let items = members["orderedItems"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{members}");
    assert!(items.iter().any(|i| i == mia.id.as_str()));
    assert!(!items.iter().any(|i| i == dai.id.as_str()));

    // Later, Cy chooses to be listed, and Max not; only members change their listing.
    for (token, listed) in [(&cy, true), (&max, false)] {
        let (s, body) = a
            .api(
                Method::PATCH,
                "/api/v1/communities/net/membership",
                Some(token),
                Some(json!({ "listed": listed })),
            )
            .await;
        assert_eq!((s, body["listed"].as_bool()), (200, Some(listed)), "{body}");
    }
    let stranger = a.create_user("stranger").await;
    let (s, body) = a
        .api(
            Method::PATCH,
            "/api/v1/communities/net/membership",
            Some(&stranger),
            Some(json!({ "listed": true })),
        )
        .await;
    assert_eq!(s, 404, "{body}");
    let (s, body) = a
        .api(
            Method::PATCH,
            "/api/v1/communities/net/membership",
            Some(&cy),
            Some(json!({})),
        )
        .await;
    assert_eq!((s, body["field"].as_str()), (422, Some("listed")), "{body}");

    // Dai's server starts publishing `discoverable: true`: when his actor is fetched again,
    // the directory follows it.
    set_discoverable(&a, &fake, &dai, true).await;
    let doc = a
        .client
        .get(dai.id.as_str())
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let actor = copse_federation::protocol::AnyActor::from_json(doc).unwrap();
    copse_federation::fetch::upsert_actor(a.db(), &actor)
        .await
        .unwrap();
    let (_, dir) = a
        .api(Method::GET, "/api/v1/communities/net/members", None, None)
        .await;
    assert_eq!(dir["total"], 5, "{dir}");
    assert_eq!(names(&dir), ["cy", "dai", "mia"], "{dir}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_needs_agreement_to_the_rules_where_the_community_asks() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let max = a.create_user("max").await;
    let settings = json!({
        "rules": "Be kind. Share what you learn.",
        "require_rules_agreement": true,
        "welcome_mode": "off",
    });
    a.community_with(&ana, "net", settings.clone()).await;
    let mut approval = settings.clone();
    approval["membership_policy"] = json!("approval");
    a.community_with(&ana, "circle", approval).await;
    let (_, net) = a
        .api(Method::GET, "/api/v1/communities/net", None, None)
        .await;
    assert_eq!(net["require_rules_agreement"], true, "{net}");
    let version = net["rules_version"].as_str().unwrap().to_string();

    // A local join must agree, or it is refused naming the field.
    for body in [
        json!({ "community": "net" }),
        json!({ "community": "net", "agree_to_rules": false }),
    ] {
        let (s, e) = a
            .api(Method::POST, "/api/v1/follows", Some(&max), Some(body))
            .await;
        assert_eq!(
            (s, e["field"].as_str()),
            (422, Some("agree_to_rules")),
            "{e}"
        );
    }
    let (s, body) = a
        .api(
            Method::POST,
            "/api/v1/follows",
            Some(&max),
            Some(json!({ "community": "net", "agree_to_rules": true })),
        )
        .await;
    assert_eq!(
        (s, body["status"].as_str()),
        (202, Some("joined")),
        "{body}"
    );
    let m = membership_of(&a, "net", &a.url("/u/max")).await.unwrap();
    assert!(m.rules_agreed_at.is_some());
    assert_eq!(m.rules_version.as_deref(), Some(version.as_str()));

    // A remote follower is kept waiting and asked, in a direct note, to agree.
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    let kai = fake.actor("masto", "kai");
    let group = a.url("/c/net");
    follow(&a, &fake, &mia, "masto", &group).await;
    follow(&a, &fake, &kai, "masto", &group).await;
    wait_for("the notes asking to agree", T, || async {
        !notes_to(&fake, "masto", "mia").is_empty() && !notes_to(&fake, "masto", "kai").is_empty()
    })
    .await;
    let note = notes_to(&fake, "masto", "mia")[0].clone();
    let content = note["content"].as_str().unwrap();
    assert!(
        content.contains("/c/net/rules") && content.contains("agree"),
        "{content}"
    );
    assert!(membership_of(&a, "net", &mia.id).await.unwrap().pending);
    assert!(!fake.posted("masto").iter().any(|v| v["type"] == "Accept"));

    // Kai answers no: still waiting. Mia replies that she agrees: she is accepted.
    let kai_note = notes_to(&fake, "masto", "kai")[0]["id"].clone();
    let inbox = a.url("/inbox");
    let no = dm_reply(&fake, "masto", &kai, 1, &group, &kai_note, "No.");
    assert_eq!(kai.deliver(&a.client, &inbox, &no).await, 202);
    let yes = dm_reply(
        &fake,
        "masto",
        &mia,
        1,
        &group,
        &note["id"],
        "I agree, thank you.",
    );
    assert_eq!(mia.deliver(&a.client, &inbox, &yes).await, 202);
    wait_for("mia's Accept", T, || async {
        fake.inbox_of("masto", "mia")
            .iter()
            .any(|v| v["type"] == "Accept" && v["object"]["actor"] == mia.id.as_str())
    })
    .await;
    let m = membership_of(&a, "net", &mia.id).await.unwrap();
    assert!(!m.pending);
    assert_eq!(m.rules_version.as_deref(), Some(version.as_str()));
    wait_for("kai's answer read", T, || async {
        processed(&a, no["id"].as_str().unwrap()).await
    })
    .await;
    let k = membership_of(&a, "net", &kai.id).await.unwrap();
    assert!(k.pending && k.rules_agreed_at.is_none(), "{k:?}");

    // Where a coordinator approves, one reply gives the reason and the agreement, and a
    // request without agreement cannot be approved.
    let circle = a.url("/c/circle");
    let dai = fake.actor("masto", "dai");
    follow(&a, &fake, &dai, "masto", &circle).await;
    wait_for("dai's note", T, || async {
        !notes_to(&fake, "masto", "dai").is_empty()
    })
    .await;
    let dai_note = notes_to(&fake, "masto", "dai")[0].clone();
    let asks = dai_note["content"].as_str().unwrap();
    assert!(asks.contains("why") && asks.contains("agree"), "{asks}");
    let dai_id = person::Entity::find()
        .filter(person::Column::ApId.eq(dai.id.as_str()))
        .one(a.db())
        .await
        .unwrap()
        .unwrap()
        .id;
    let approve = format!("/api/v1/communities/circle/requests/{dai_id}/approve");
    let (s, e) = a.api(Method::POST, &approve, Some(&ana), None).await;
    assert_eq!(s, 409, "{e}");
    let reply = dm_reply(
        &fake,
        "masto",
        &dai,
        1,
        &circle,
        &dai_note["id"],
        "I run a network of youth workers.",
    );
    assert_eq!(dai.deliver(&a.client, &inbox, &reply).await, 202);
    wait_for("dai's reason and agreement", T, || async {
        let (_, r) = a
            .api(
                Method::GET,
                "/api/v1/communities/circle/requests",
                Some(&ana),
                None,
            )
            .await;
        r["items"].as_array().is_some_and(|i| {
            i.iter().any(|r| {
                r["reason"] == "I run a network of youth workers." && r["agreed_to_rules"] == true
            })
        })
    })
    .await;
    let (s, e) = a.api(Method::POST, &approve, Some(&ana), None).await;
    assert_eq!(s, 204, "{e}");
    wait_for("dai's Accept", T, || async {
        fake.inbox_of("masto", "dai")
            .iter()
            .any(|v| v["type"] == "Accept")
    })
    .await;
}
