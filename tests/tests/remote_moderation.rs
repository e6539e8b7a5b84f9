//! Moderation from the other side: a remote facilitator's Lock, removal, pin and restore sent
//! from Lemmy to a local community, the same announced by a followed Lemmy community, and
//! refused posts as Lemmy is told of them (a moderator's removal, not a direct note).

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{activity, person, post, received_activity};
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
const AS: &str = "https://www.w3.org/ns/activitystreams";
const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

async fn stored(i: &TestInstance, ap_id: &str) -> Option<post::Model> {
    post::Entity::find()
        .filter(post::Column::ApId.eq(ap_id))
        .one(i.db())
        .await
        .unwrap()
}

/// The stored row of the activity with this id.
async fn row_of(a: &TestInstance, id: &Value) -> received_activity::Model {
    received_activity::Entity::find()
        .filter(received_activity::Column::ApId.eq(id.as_str().unwrap()))
        .one(a.db())
        .await
        .unwrap()
        .expect("the activity was stored")
}

/// A Lemmy-shaped activity `kind` by `by` about `object`, as in Lemmy's
/// `assets/lemmy/activities/community/*.json`.
fn lemmy_activity(by: &FakeActor, kind: &str, n: u32, object: Value, group: &Url) -> Value {
    let base = by.id.origin().ascii_serialization();
    json!({
        "@context": AS,
        "id": format!("{base}/activities/{}/{n}", kind.to_lowercase()),
        "type": kind, "actor": by.id, "to": [PUBLIC], "object": object,
        "cc": [group], "audience": group
    })
}

/// Lemmy's `Undo` of one of its activities (embedded, without its `@context`).
fn lemmy_undo(by: &FakeActor, n: u32, mut inner: Value, group: &Url) -> Value {
    inner.as_object_mut().unwrap().remove("@context");
    lemmy_activity(by, "Undo", n, inner, group)
}

/// A Lemmy-shaped `Page` by `by` in `group` and its `Create`, served at its id.
fn lemmy_page(fake: &FakeServer, by: &FakeActor, n: u32, group: &Url) -> (Value, Value) {
    let base = by.id.origin().ascii_serialization();
    let page = json!({
        "id": format!("{base}/post/{n}"), "type": "Page", "attributedTo": by.id,
        "to": [group, PUBLIC], "audience": group, "name": format!("Stock {n}"),
        "content": "<p>Bones first.</p>", "mediaType": "text/html",
        "published": "2026-11-22T10:00:00Z"
    });
    fake.serve(
        &Url::parse(page["id"].as_str().unwrap()).unwrap(),
        page.clone(),
    );
    let create = lemmy_activity(by, "Create", n, page.clone(), group);
    (page, create)
}

async fn log_actions(a: &TestInstance, token: &str, name: &str) -> Vec<(String, Value)> {
    let (s, log) = a
        .api(
            Method::GET,
            &format!("/api/v1/communities/{name}/log"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{log}");
    log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap().to_string(), e.clone()))
        .collect()
}

async fn person_id(a: &TestInstance, ap_id: &Url) -> i64 {
    person::Entity::find()
        .filter(person::Column::ApId.eq(ap_id.as_str()))
        .one(a.db())
        .await
        .unwrap()
        .unwrap()
        .id
}

/// A local community `net` coordinated by ana, with a Lemmy member lea (a facilitator when
/// `facilitator`), a topic by lea, and an observer on another server who follows `net`.
struct Scene {
    a: TestInstance,
    ana: String,
    fake: FakeServer,
    lea: FakeActor,
    net: Url,
    topic: String,
}

async fn scene(facilitator: bool) -> Scene {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    a.community_with(
        &ana,
        "net",
        json!({ "membership_policy": "open", "topic_policy": "members", "reply_policy": "members" }),
    )
    .await;
    let net = a.url("/c/net");
    let fake = FakeServer::start().await;
    fake.serve_nodeinfo("lemmy", "lemmy");
    let lea = fake.actor("lemmy", "lea");
    let obs = fake.actor("obs", "obs");
    a.follow_as(&fake, &lea, "lemmy", &net).await;
    a.follow_as(&fake, &obs, "obs", &net).await;
    if facilitator {
        let id = person_id(&a, &lea.id).await;
        let (s, body) = a
            .api(
                Method::PUT,
                &format!("/api/v1/communities/net/members/{id}/role"),
                Some(&ana),
                Some(json!({ "role": "facilitator" })),
            )
            .await;
        assert_eq!(s, 204, "{body}");
    }
    let (page, create) = lemmy_page(&fake, &lea, 1, &net);
    let inbox = a.url("/c/net/inbox");
    assert_eq!(lea.deliver(&a.client, &inbox, &create).await, 202);
    let topic = page["id"].as_str().unwrap().to_string();
    wait_for("lea's topic", T, || async {
        stored(&a, &topic).await.is_some()
    })
    .await;
    a.settled().await;
    Scene {
        a,
        ana,
        fake,
        lea,
        net,
        topic,
    }
}

impl Scene {
    async fn send(&self, activity: &Value) {
        let inbox = self.a.url("/c/net/inbox");
        assert_eq!(
            self.lea.deliver(&self.a.client, &inbox, activity).await,
            202
        );
        self.a.settled().await;
    }

    async fn topic(&self) -> post::Model {
        stored(&self.a, &self.topic).await.unwrap()
    }

    /// Waits until the observer's server got the community's announce of `activity`.
    async fn announced(&self, activity: &Value) {
        wait_for("the announce at the observer", T, || async {
            self.fake
                .shared_inbox("obs")
                .iter()
                .any(|v| v["type"] == "Announce" && v["object"]["id"] == activity["id"])
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_facilitator_locks_pins_removes_and_restores_from_lemmy() {
    let s = scene(true).await;
    let topic = json!(s.topic);
    let featured = json!(s.a.url("/c/net/featured"));

    let lock = lemmy_activity(&s.lea, "Lock", 1, topic.clone(), &s.net);
    s.send(&lock).await;
    assert!(
        s.topic().await.locked,
        "{:?}",
        row_of(&s.a, &lock["id"]).await
    );
    s.announced(&lock).await;

    let mut add = lemmy_activity(&s.lea, "Add", 2, topic.clone(), &s.net);
    add["target"] = featured.clone();
    s.send(&add).await;
    assert!(s.topic().await.pinned);
    s.announced(&add).await;

    let unlock = lemmy_undo(&s.lea, 3, lock.clone(), &s.net);
    s.send(&unlock).await;
    assert!(!s.topic().await.locked);
    s.announced(&unlock).await;

    let mut remove = lemmy_activity(&s.lea, "Remove", 4, topic.clone(), &s.net);
    remove["target"] = featured;
    s.send(&remove).await;
    assert!(!s.topic().await.pinned);
    s.announced(&remove).await;

    let mut removal = lemmy_activity(&s.lea, "Delete", 5, topic.clone(), &s.net);
    removal["summary"] = json!("Off topic");
    s.send(&removal).await;
    let t = s.topic().await;
    assert!(t.removed && !t.deleted, "{t:?}");
    s.announced(&removal).await;

    let restore = lemmy_undo(&s.lea, 6, removal.clone(), &s.net);
    s.send(&restore).await;
    assert!(!s.topic().await.removed);
    s.announced(&restore).await;

    let log = log_actions(&s.a, &s.ana, "net").await;
    for want in [
        "lock",
        "pin",
        "unlock",
        "unpin",
        "remove_post",
        "restore_post",
    ] {
        let entry = log.iter().find(|(a, _)| a == want);
        let (_, e) = entry.unwrap_or_else(|| panic!("{want} not in {log:?}"));
        assert_eq!(e["who"], s.lea.id.as_str(), "{e}");
    }
    let (_, removed) = log.iter().find(|(a, _)| a == "remove_post").unwrap();
    assert_eq!(removed["reason"], "Off topic");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_member_who_does_not_moderate_is_refused() {
    use received_activity::InboxStatus;
    let s = scene(false).await;
    // A topic by ana, which lea did not write.
    let (st, body) =
        s.a.api(
            Method::POST,
            "/api/v1/communities/net/posts",
            Some(&s.ana),
            Some(json!({ "title": "Budgets", "content": "Share yours." })),
        )
        .await;
    assert_eq!(st, 201, "{body}");
    let anas = body["id"].clone();
    let topic = json!(s.topic);
    let mut add = lemmy_activity(&s.lea, "Add", 2, topic.clone(), &s.net);
    add["target"] = json!(s.a.url("/c/net/featured"));
    let mut removal = lemmy_activity(&s.lea, "Delete", 3, anas.clone(), &s.net);
    removal["summary"] = json!("Mine now");
    let lock = lemmy_activity(&s.lea, "Lock", 1, topic, &s.net);
    let unlock = lemmy_undo(&s.lea, 4, lock.clone(), &s.net);
    for activity in [&lock, &add, &removal, &unlock] {
        s.send(activity).await;
        let row = row_of(&s.a, &activity["id"]).await;
        assert_eq!(row.status, InboxStatus::Failed, "{activity}: {row:?}");
    }
    let t = s.topic().await;
    assert!(!t.locked && !t.pinned && !t.removed, "{t:?}");
    let theirs = stored(&s.a, anas.as_str().unwrap()).await.unwrap();
    assert!(!theirs.removed && !theirs.deleted, "{theirs:?}");
    let log = log_actions(&s.a, &s.ana, "net").await;
    assert!(
        log.iter().all(|(a, _)| a == "join" || a == "role"),
        "{log:?}"
    );
    assert!(!s
        .fake
        .shared_inbox("obs")
        .iter()
        .any(|v| v["object"]["actor"] == s.lea.id.as_str() && v["object"]["type"] != "Create"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_author_restores_their_deleted_post_from_lemmy() {
    let s = scene(false).await;
    let delete = lemmy_activity(&s.lea, "Delete", 1, json!(s.topic), &s.net);
    s.send(&delete).await;
    let t = s.topic().await;
    assert!(t.deleted && t.content.is_empty(), "{t:?}");
    let restore = lemmy_undo(&s.lea, 2, delete, &s.net);
    s.send(&restore).await;
    let t = s.topic().await;
    assert!(!t.deleted, "{:?}", row_of(&s.a, &restore["id"]).await);
    assert!(t.content.contains("Bones first."), "{t:?}");
    s.announced(&restore).await;
}

/// The followed group announces `activity` (embedded, as Lemmy does).
async fn group_announces(a: &TestInstance, g: &FakeActor, n: u32, activity: &Value) {
    let mut inner = activity.clone();
    inner.as_object_mut().unwrap().remove("@context");
    let announce = json!({
        "@context": AS,
        "id": format!("{}/activities/announce/{n}", g.id), "type": "Announce", "actor": g.id,
        "to": [PUBLIC], "cc": [format!("{}/followers", g.id)], "object": inner
    });
    assert_eq!(g.deliver(&a.client, &a.url("/inbox"), &announce).await, 202);
    a.settled().await;
    let row = row_of(a, &announce["id"]).await;
    assert_ne!(
        row.status,
        received_activity::InboxStatus::Failed,
        "{activity}: {row:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderation_announced_by_a_followed_lemmy_community_is_applied() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let fake = FakeServer::start().await;
    let g = fake.group("lemmy", "cooking");
    a.follow_fake_group(&ana, &fake, &g).await;
    // Its moderator lives on another Lemmy server, as Lemmy allows.
    let moderator = fake.actor("ds9", "mod");
    let lea = fake.actor("lemmy", "lea");
    let (page, create) = lemmy_page(&fake, &lea, 1, &g.id);
    group_announces(&a, &g, 1, &create).await;
    let id = page["id"].as_str().unwrap().to_string();
    let topic = || async { stored(&a, &id).await.unwrap() };
    let local_id = topic().await.id;
    let reply = || async {
        a.api(
            Method::POST,
            &format!("/api/v1/posts/{local_id}/replies"),
            Some(&ana),
            Some(json!({ "content": "Onions too." })),
        )
        .await
    };

    let lock = lemmy_activity(&moderator, "Lock", 1, json!(id), &g.id);
    group_announces(&a, &g, 2, &lock).await;
    assert!(topic().await.locked);
    let (s, body) = reply().await;
    assert_eq!(s, 403, "{body}");
    assert!(body["error"].as_str().unwrap().contains("locked"), "{body}");

    group_announces(&a, &g, 3, &lemmy_undo(&moderator, 2, lock, &g.id)).await;
    assert!(!topic().await.locked);
    let (s, body) = reply().await;
    assert_eq!(s, 201, "{body}");

    let featured = json!(format!("{}/featured", g.id));
    let mut add = lemmy_activity(&moderator, "Add", 3, json!(id), &g.id);
    add["target"] = featured.clone();
    group_announces(&a, &g, 4, &add).await;
    assert!(topic().await.pinned);
    let mut remove = lemmy_activity(&moderator, "Remove", 4, json!(id), &g.id);
    remove["target"] = featured;
    group_announces(&a, &g, 5, &remove).await;
    assert!(!topic().await.pinned);

    let mut removal = lemmy_activity(&moderator, "Delete", 5, json!(id), &g.id);
    removal["summary"] = json!("Off topic");
    group_announces(&a, &g, 6, &removal).await;
    assert!(topic().await.removed);
    group_announces(&a, &g, 7, &lemmy_undo(&moderator, 6, removal, &g.id)).await;
    assert!(!topic().await.removed);

    // The author's own deletion and restore, announced.
    let delete = lemmy_activity(&lea, "Delete", 7, json!(id), &g.id);
    group_announces(&a, &g, 8, &delete).await;
    assert!(topic().await.deleted);
    group_announces(&a, &g, 9, &lemmy_undo(&lea, 8, delete, &g.id)).await;
    let t = topic().await;
    assert!(!t.deleted && t.content.contains("Bones first."), "{t:?}");
}

/// The deliveries of `kind` stored at `a`, as JSON.
async fn sent(a: &TestInstance, kind: &str) -> Vec<Value> {
    activity::Entity::find()
        .all(a.db())
        .await
        .unwrap()
        .into_iter()
        .filter_map(|r| serde_json::from_str::<Value>(&r.data).ok())
        .filter(|v| v["type"] == kind)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_lemmy_post_is_removed_there_and_a_mastodon_one_answered() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    a.community_with(&ana, "net", json!({ "topic_policy": "members" }))
        .await;
    let net = a.url("/c/net");
    let fake = FakeServer::start().await;
    fake.serve_nodeinfo("lemmy", "lemmy");
    fake.serve_nodeinfo("masto", "mastodon");
    let lea = fake.actor("lemmy", "lea");
    let mia = fake.actor("masto", "mia");
    let inbox = a.url("/c/net/inbox");

    let (page, create) = lemmy_page(&fake, &lea, 1, &net);
    assert_eq!(lea.deliver(&a.client, &inbox, &create).await, 202);
    wait_for("the removal at Lemmy", T, || async {
        fake.shared_inbox("lemmy")
            .iter()
            .any(|v| v["type"] == "Announce" && v["object"]["type"] == "Delete")
    })
    .await;
    let announce = fake
        .shared_inbox("lemmy")
        .into_iter()
        .find(|v| v["type"] == "Announce")
        .unwrap();
    assert_eq!(announce["actor"], net.as_str(), "{announce}");
    assert!(announce["to"].as_array().unwrap().contains(&json!(PUBLIC)));
    let delete = &announce["object"];
    // Lemmy's verify_mod_action accepts a person of the community's own domain.
    assert_eq!(delete["actor"], a.url("/u/ana").as_str(), "{delete}");
    assert_eq!(delete["object"], page["id"], "{delete}");
    assert!(delete["to"].as_array().unwrap().contains(&json!(PUBLIC)));
    assert!(
        delete["summary"].as_str().unwrap().contains("Only members"),
        "{delete}"
    );
    let url = Url::parse(delete["id"].as_str().unwrap()).unwrap();
    assert_eq!(a.get_ap(&url).await.0, 200, "{url} dereferences");
    a.settled().await;
    let notes = |label: &'static str| {
        fake.posted(label)
            .into_iter()
            .filter(|v| v["type"] == "Create")
            .count()
    };
    assert_eq!(notes("lemmy"), 0, "{:?}", fake.posted("lemmy"));

    // A Mastodon author gets the direct note, and no announce of an activity.
    let html = "<p>@net Budgets<br>How do you share yours?</p>";
    let (_, create) = mia.status(&fake, 1, &net, html, None);
    assert_eq!(mia.deliver(&a.client, &inbox, &create).await, 202);
    wait_for("the note at Mastodon", T, || async { notes("masto") == 1 }).await;
    a.settled().await;
    assert!(!fake.posted("masto").iter().any(|v| v["type"] == "Announce"));
    let log = log_actions(&a, &ana, "net").await;
    assert_eq!(
        log.iter().filter(|(a, _)| a == "refuse_post").count(),
        2,
        "{log:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_local_moderator_the_removal_is_sent_by_an_admin_or_not_at_all() {
    let a = TestInstance::spawn("alpha").await;
    let c = a.create_community("net", "The net").await;
    let members = copse_server::accounts::CommunitySettings {
        topic_policy: Some(copse_entities::community::PostingPolicy::Members),
        ..Default::default()
    };
    copse_server::accounts::update_community(&a.data(), &c, members, None)
        .await
        .unwrap();
    let net = a.url("/c/net");
    let fake = FakeServer::start().await;
    fake.serve_nodeinfo("lemmy", "lemmy");
    let lea = fake.actor("lemmy", "lea");
    let inbox = a.url("/c/net/inbox");

    // Nobody here Lemmy would take for a moderator: nothing is sent, the refusal is kept.
    let (_, create) = lemmy_page(&fake, &lea, 1, &net);
    assert_eq!(lea.deliver(&a.client, &inbox, &create).await, 202);
    a.settled().await;
    let row = row_of(&a, &create["id"]).await;
    assert_eq!(row.status, received_activity::InboxStatus::Done, "{row:?}");
    assert!(sent(&a, "Delete").await.is_empty());
    assert!(sent(&a, "Create").await.is_empty());

    // With an admin, the removal is sent in their name.
    let (_, _) = copse_server::accounts::create_user(&a.data(), "root", true)
        .await
        .unwrap();
    let (page, create) = lemmy_page(&fake, &lea, 2, &net);
    assert_eq!(lea.deliver(&a.client, &inbox, &create).await, 202);
    wait_for("the removal at Lemmy", T, || async {
        fake.shared_inbox("lemmy")
            .iter()
            .any(|v| v["type"] == "Announce" && v["object"]["object"] == page["id"])
    })
    .await;
    let deletes = sent(&a, "Delete").await;
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    assert_eq!(deletes[0]["actor"], a.url("/u/root").as_str());
}

#[test]
fn lemmy_moderation_activities_parse_as_copse_reads_them() {
    use copse_federation::protocol::{AddRemove, ObjectActivity, Undo};
    let load = |path: &str| -> Option<Value> {
        let p = copse_tests::fixture(&format!("fediverse/lemmy/activities/{path}"))?;
        Some(serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
    };
    for path in ["community/lock_page.json", "deletion/remove_note.json"] {
        let Some(v) = load(path) else { continue };
        let a: ObjectActivity = serde_json::from_value(v).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(a.object.len(), 1, "{path}");
        assert!(a.summary.is_some(), "{path}: the reason");
    }
    for path in [
        "community/add_featured_post.json",
        "community/remove_featured_post.json",
    ] {
        let Some(v) = load(path) else { continue };
        let a: AddRemove = serde_json::from_value(v).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(a.target.path().ends_with("/featured"), "{path}");
    }
    for (path, inner) in [
        ("community/undo_lock_page.json", "Lock"),
        ("deletion/undo_remove_note.json", "Delete"),
        ("deletion/undo_delete_page.json", "Delete"),
    ] {
        let Some(v) = load(path) else { continue };
        let undo: Undo = serde_json::from_value(v).unwrap_or_else(|e| panic!("{path}: {e}"));
        let undone: ObjectActivity = serde_json::from_value(undo.object).unwrap();
        assert_eq!(
            (undone.kind.as_str(), &undone.actor),
            (inner, &undo.actor),
            "{path}"
        );
    }
}
