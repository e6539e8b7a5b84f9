//! Refusals and moderation of discussions across instances, one behaviour per test: posting
//! policy, bans and locks refused with a note and never announced (a local non-member's post
//! is in `membership.rs`); authors' edits and
//! deletions and forgeries of them; reactions; reports; pins; removal by facilitators.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_tests::{
    builders::{
        activities::{activity, public_activity, quiet},
        communities::{community, copse_member, fake_follower},
        posts::{mention, stored, wait_stored},
        T,
    },
    fake::{FakeActor, FakeServer},
    fixture, wait_for, TestInstance,
};
use reqwest::Method;
use serde_json::{json, Value};
use url::Url;

/// Alpha's open "net" coordinated by ana, where only members post; mia and leo (Mastodon)
/// and the reader rita follow it, eve (elsewhere) does not.
struct Policy {
    a: TestInstance,
    ana: String,
    group: Url,
    fake: FakeServer,
    mia: FakeActor,
    leo: FakeActor,
    inbox: Url,
}

impl Policy {
    async fn new() -> Self {
        let a = TestInstance::spawn("alpha").await;
        let ana = a.create_user("ana").await;
        let group = community(&a, &ana, "net", json!({ "membership_policy": "open" })).await;
        let fake = FakeServer::start().await;
        let mia = fake_follower(&a, &fake, "masto", "mia", &group).await;
        let leo = fake_follower(&a, &fake, "masto", "leo", &group).await;
        fake_follower(&a, &fake, "reader", "rita", &group).await;
        let inbox = a.url("/c/net/inbox");
        Self {
            a,
            ana,
            group,
            fake,
            mia,
            leo,
            inbox,
        }
    }

    /// `who` posts status `n` with `html` (a reply to `reply_to`, if given); its id.
    async fn post(&self, who: &FakeActor, n: u32, html: &str, reply_to: Option<&str>) -> String {
        let (note, create) = who.status(&self.fake, n, &self.group, html, reply_to);
        assert_eq!(who.deliver(&self.a.client, &self.inbox, &create).await, 202);
        note["id"].as_str().unwrap().to_string()
    }

    /// Mia's topic, accepted and stored; its id.
    async fn mias_topic(&self) -> String {
        let id = self
            .post(&self.mia, 1, &mention(&self.group, "Our first topic"), None)
            .await;
        wait_stored(&self.a, &id).await;
        id
    }

    /// Waits until `label` got a direct note to `who` saying `words`.
    async fn wait_note(&self, label: &str, who: &FakeActor, words: &str) {
        wait_for(words, T, || async {
            self.fake.posted(label).iter().any(|v| {
                v["type"] == "Create"
                    && v["object"]["to"] == json!([who.id])
                    && v["object"]["content"]
                        .as_str()
                        .is_some_and(|c| c.contains(words))
            })
        })
        .await;
    }

    /// Once alpha is quiet: `id` is not stored, was never announced, and the decision log
    /// holds one refusal.
    async fn assert_refused(&self, id: &str) {
        quiet(&self.a).await;
        assert!(stored(&self.a, id).await.is_none());
        for v in self.fake.shared_inbox("reader") {
            let s = v.to_string();
            assert!(!s.contains(id), "refused content announced: {s}");
        }
        let (_, log) = self
            .a
            .api(
                Method::GET,
                "/api/v1/communities/net/log",
                Some(&self.ana),
                None,
            )
            .await;
        let refused = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "refuse_post")
            .count();
        assert_eq!(refused, 1, "{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_members_topic_is_refused_with_one_note() {
    let p = Policy::new().await;
    let eve = p.fake.actor("else", "eve");
    let eve_note = p
        .post(&eve, 1, &mention(&p.group, "Buy my course"), None)
        .await;
    wait_for("eve's refusal note", T, || async {
        p.fake.posted("else").iter().any(|v| {
            v["type"] == "Create"
                && v["object"]["to"] == json!([eve.id])
                && v["object"]["content"]
                    .as_str()
                    .is_some_and(|c| c.contains("Only members"))
        })
    })
    .await;
    p.assert_refused(&eve_note).await;
    let refusals = p
        .fake
        .posted("else")
        .iter()
        .filter(|v| v["type"] == "Create")
        .count();
    assert_eq!(refusals, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_banned_members_reply_is_refused_with_a_note() {
    let p = Policy::new().await;
    let topic_id = p.mias_topic().await;
    let (s, body) = p
        .a
        .api(
            Method::POST,
            "/api/v1/communities/net/bans",
            Some(&p.ana),
            Some(
                json!({ "handle": format!("mia@masto.localhost:{}", p.fake.port), "reason": "spam" }),
            ),
        )
        .await;
    assert!(s == 201 || s == 204 || s == 200, "{s} {body}");
    let banned_reply = p
        .post(&p.mia, 2, "<p>Still here</p>", Some(&topic_id))
        .await;
    p.wait_note("masto", &p.mia, "banned").await;
    p.assert_refused(&banned_reply).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_to_a_locked_thread_is_refused_with_a_note() {
    let p = Policy::new().await;
    let topic_id = p.mias_topic().await;
    let topic = stored(&p.a, &topic_id).await.unwrap();
    let (s, body) =
        p.a.api(
            Method::PUT,
            &format!("/api/v1/posts/{}/lock", topic.id),
            Some(&p.ana),
            Some(json!({ "locked": true })),
        )
        .await;
    assert_eq!(s, 204, "{body}");
    wait_for("the Lock at the reader", T, || async {
        p.fake
            .shared_inbox("reader")
            .iter()
            .any(|v| v["object"]["type"] == "Lock" && v["object"]["object"] == topic_id.as_str())
    })
    .await;
    let late = p
        .post(&p.leo, 3, "<p>Late reply</p>", Some(&topic_id))
        .await;
    wait_for("leo's locked note", T, || async {
        p.fake.posted("masto").iter().any(|v| {
            v["object"]["to"] == json!([p.leo.id])
                && v["object"]["content"]
                    .as_str()
                    .is_some_and(|c| c.contains("locked"))
        })
    })
    .await;
    p.assert_refused(&late).await;
}

/// Alpha's open "net" coordinated by ana, followed by bob on beta and by mia and leo
/// (Mastodon); mia's topic "Draft title", stored on beta too.
struct Topic {
    a: TestInstance,
    b: TestInstance,
    ana: String,
    group: Url,
    fake: FakeServer,
    mia: FakeActor,
    leo: FakeActor,
    inbox: Url,
    /// Mia's status as she served it.
    note: Value,
    /// Its id.
    topic_id: String,
    /// Its local id on alpha.
    local: i64,
}

impl Topic {
    async fn new() -> Self {
        let a = TestInstance::spawn("alpha").await;
        let b = TestInstance::spawn("beta").await;
        let ana = a.create_user("ana").await;
        let group = community(&a, &ana, "net", json!({ "membership_policy": "open" })).await;
        copse_member(&a, &b, "bob", "net").await;
        let fake = FakeServer::start().await;
        let mia = fake_follower(&a, &fake, "masto", "mia", &group).await;
        let leo = fake_follower(&a, &fake, "masto", "leo", &group).await;
        let inbox = a.url("/c/net/inbox");
        let html = mention(&group, "Draft title<br>Draft body");
        let (note, create) = mia.status(&fake, 1, &group, &html, None);
        let topic_id = note["id"].as_str().unwrap().to_string();
        assert_eq!(mia.deliver(&a.client, &inbox, &create).await, 202);
        wait_stored(&b, &topic_id).await;
        let local = wait_stored(&a, &topic_id).await.id;
        Self {
            a,
            b,
            ana,
            group,
            fake,
            mia,
            leo,
            inbox,
            note,
            topic_id,
            local,
        }
    }

    /// `who` sends `activity` to the community's inbox.
    async fn send(&self, who: &FakeActor, activity: &Value) {
        assert_eq!(
            who.deliver(&self.a.client, &self.inbox, activity).await,
            202
        );
    }

    /// The post's JSON from the API.
    async fn thread(&self, id: i64) -> Value {
        self.a
            .api(Method::GET, &format!("/api/v1/posts/{id}"), None, None)
            .await
            .1
    }

    /// The community's reports, as ana sees them.
    async fn reports(&self) -> Value {
        self.a
            .api(
                Method::GET,
                "/api/v1/communities/net/reports",
                Some(&self.ana),
                None,
            )
            .await
            .1
    }

    /// Asserts that the decision log holds `action`.
    async fn assert_logged(&self, action: &str) {
        let (_, log) = self
            .a
            .api(
                Method::GET,
                "/api/v1/communities/net/log",
                Some(&self.ana),
                None,
            )
            .await;
        let actions: Vec<&str> = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        assert!(actions.contains(&action), "{action} not in {actions:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_author_cannot_edit_or_delete_a_post() {
    let t = Topic::new().await;
    let mut forged = t.note.clone();
    forged["attributedTo"] = json!(t.leo.id);
    forged["content"] = json!("<p>Hijacked</p>");
    let forged_update = public_activity(
        format!("{}/forged-update", t.leo.id),
        "Update",
        &t.leo.id,
        forged,
    );
    t.send(&t.leo, &forged_update).await;
    let forged_delete = public_activity(
        format!("{}/forged-delete", t.leo.id),
        "Delete",
        &t.leo.id,
        json!({ "id": t.topic_id, "type": "Tombstone" }),
    );
    t.send(&t.leo, &forged_delete).await;
    quiet(&t.a).await;
    let p = stored(&t.a, &t.topic_id).await.unwrap();
    assert_eq!(p.title, "Draft title");
    assert!(!p.deleted && !p.content.contains("Hijacked"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authors_edit_reaches_every_instance() {
    let t = Topic::new().await;
    let mut edited = t.note.clone();
    edited.as_object_mut().unwrap().remove("@context");
    edited["content"] = json!(mention(&t.group, "Final title<br>Final body"));
    edited["updated"] = json!("2026-11-22T11:00:00Z");
    t.fake
        .serve(&Url::parse(&t.topic_id).unwrap(), edited.clone());
    let update = public_activity(
        format!("{}#updates/1", t.topic_id),
        "Update",
        &t.mia.id,
        edited,
    );
    t.send(&t.mia, &update).await;
    // Beta fetches an announced note by its id from Mia's server, so it may see the edit before
    // alpha's inbox worker has taken the Update: wait for each side on its own.
    wait_for("the edit on alpha", T, || async {
        stored(&t.a, &t.topic_id)
            .await
            .is_some_and(|p| p.title == "Final title")
    })
    .await;
    wait_for("the edit on beta", T, || async {
        stored(&t.b, &t.topic_id)
            .await
            .is_some_and(|p| p.content.contains("Final body"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_are_counted_and_can_be_taken_back() {
    let t = Topic::new().await;
    let like_id = format!("{}#likes/1", t.leo.id);
    let like = activity(&like_id, "Like", &t.leo.id, json!(t.topic_id));
    t.send(&t.leo, &like).await;
    let mut react = activity(
        format!("{}#reacts/1", t.mia.id),
        "EmojiReact",
        &t.mia.id,
        json!(t.topic_id),
    );
    react["content"] = json!("🔥");
    t.send(&t.mia, &react).await;
    wait_for("two reactions", T, || async {
        t.thread(t.local).await["reaction_count"] == 2
    })
    .await;
    assert_eq!(t.thread(t.local).await["reactions"]["🔥"], 1);
    let mut liked = like.clone();
    liked.as_object_mut().unwrap().remove("@context");
    let undo = activity(format!("{like_id}/undo"), "Undo", &t.leo.id, liked);
    t.send(&t.leo, &undo).await;
    wait_for("the like taken back", T, || async {
        t.thread(t.local).await["reaction_count"] == 1
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_like_federates_as_like() {
    let t = Topic::new().await;
    let (s, body) =
        t.a.api(
            Method::POST,
            &format!("/api/v1/posts/{}/reactions", t.local),
            Some(&t.ana),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 204, "{body}");
    wait_for("ana's Like on beta", T, || async {
        t.b.received("Announce")
            .await
            .iter()
            .any(|v| v["object"]["type"] == "Like")
    })
    .await;
}

/// A Mastodon-shaped Flag of mia's topic from the instance actor of her server.
fn mastodon_flag(t: &Topic, masto_actor: &FakeActor) -> Value {
    match fixture("fediverse/mastodon/activities/flag.json") {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .unwrap()
                .replace("https://mastodon.example/actor", masto_actor.id.as_str())
                .replace(
                    "https://mastodon.example/",
                    &format!("{}/", t.fake.base("masto")),
                )
                .replace("https://example.com/users/1", t.mia.id.as_str())
                .replace("https://example.com/posts/380590", &t.topic_id);
            serde_json::from_str::<Value>(&text).unwrap()
        }
        None => {
            eprintln!("../shared is absent: using a built Mastodon-shaped Flag");
            let mut flag = activity(
                format!("{}/flags/1", t.fake.base("masto")),
                "Flag",
                &masto_actor.id,
                json!([t.mia.id, t.topic_id]),
            );
            flag["content"] = json!("Please take a look");
            flag
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_and_local_reports_queue_for_facilitators_to_resolve() {
    let t = Topic::new().await;
    let masto_actor = t.fake.actor("masto", "actor");
    t.send(&masto_actor, &mastodon_flag(&t, &masto_actor)).await;
    wait_for("the Flag in the queue", T, || async {
        t.reports().await["items"]
            .as_array()
            .is_some_and(|i| i.iter().any(|r| r["post"]["id"] == t.topic_id.as_str()))
    })
    .await;
    let flagged = t.reports().await["items"][0].clone();
    assert_eq!(flagged["reporter"], masto_actor.id.as_str());
    assert_eq!(flagged["person"]["id"], t.mia.id.as_str());
    let zed = t.a.create_user("zed").await;
    let report = json!({ "reason": "off topic" });
    let url = format!("/api/v1/posts/{}/reports", t.local);
    let (s, _) = t.a.api(Method::POST, &url, Some(&zed), Some(report)).await;
    assert_eq!(s, 202);
    assert_eq!(t.reports().await["items"].as_array().unwrap().len(), 2);
    let queue = "/api/v1/communities/net/reports";
    let (s, _) = t.a.api(Method::GET, queue, Some(&zed), None).await;
    assert_eq!(s, 403, "only facilitators see the queue");
    let (s, body) =
        t.a.api(
            Method::POST,
            &format!(
                "/api/v1/reports/{}/resolve",
                flagged["id"].as_i64().unwrap()
            ),
            Some(&t.ana),
            Some(json!({ "status": "resolved", "note": "talked to mia" })),
        )
        .await;
    assert_eq!(s, 204, "{body}");
    assert_eq!(t.reports().await["items"].as_array().unwrap().len(), 1);
    t.assert_logged("resolve_report").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_is_announced_as_add_to_featured() {
    let t = Topic::new().await;
    let (s, _) =
        t.a.api(
            Method::PUT,
            &format!("/api/v1/posts/{}/pin", t.local),
            Some(&t.ana),
            Some(json!({ "pinned": true })),
        )
        .await;
    assert_eq!(s, 204);
    wait_for("the Add on beta", T, || async {
        t.b.received("Announce").await.iter().any(|v| {
            v["object"]["type"] == "Add"
                && v["object"]["target"] == t.a.url("/c/net/featured").as_str()
        })
    })
    .await;
    let (_, featured) = t.a.get_ap(&t.a.url("/c/net/featured")).await;
    assert_eq!(featured["orderedItems"][0]["id"], t.topic_id.as_str());
    t.assert_logged("pin").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_author_edits_and_deletes_a_local_topic() {
    let t = Topic::new().await;
    let (a, b) = (&t.a, &t.b);
    let zed = a.create_user("zed").await;
    let topic = json!({ "title": "Meeting notes", "content": "First draft" });
    let (s, local) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/posts",
            Some(&t.ana),
            Some(topic),
        )
        .await;
    assert_eq!(s, 201, "{local}");
    let url = format!("/api/v1/posts/{}", local["local_id"].as_i64().unwrap());
    let local_ap = local["id"].as_str().unwrap().to_string();
    let edit = json!({ "content": "Second draft" });
    let (s, body) = a.api(Method::PATCH, &url, Some(&t.ana), Some(edit)).await;
    assert_eq!(s, 200, "{body}");
    let vandal = json!({ "content": "Vandalised" });
    assert_eq!(
        a.api(Method::PATCH, &url, Some(&zed), Some(vandal)).await.0,
        403
    );
    wait_for("the local edit on beta", T, || async {
        stored(b, &local_ap)
            .await
            .is_some_and(|p| p.content.contains("Second draft"))
    })
    .await;
    assert_eq!(a.api(Method::DELETE, &url, Some(&t.ana), None).await.0, 204);
    wait_for("the local deletion on beta", T, || async {
        stored(b, &local_ap).await.is_some_and(|p| p.deleted)
    })
    .await;
    let (status, tomb) = a.get_ap(&Url::parse(&local_ap).unwrap()).await;
    assert_eq!(status, 410);
    assert_eq!(tomb["type"], "Tombstone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facilitators_remove_posts_and_members_do_not() {
    let t = Topic::new().await;
    let zed = t.a.create_user("zed").await;
    let url = format!("/api/v1/posts/{}/remove", t.local);
    let (s, _) =
        t.a.api(
            Method::POST,
            &url,
            Some(&zed),
            Some(json!({ "reason": "no" })),
        )
        .await;
    assert_eq!(s, 403, "members do not remove posts");
    let (s, _) =
        t.a.api(
            Method::POST,
            &url,
            Some(&t.ana),
            Some(json!({ "reason": "off topic" })),
        )
        .await;
    assert_eq!(s, 204);
    wait_for("the removal on beta", T, || async {
        stored(&t.b, &t.topic_id).await.is_some_and(|p| p.removed)
    })
    .await;
    let p = stored(&t.a, &t.topic_id).await.unwrap();
    assert!(!p.deleted && p.removed);
    t.assert_logged("remove_post").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_author_deletes_their_own_topic() {
    let t = Topic::new().await;
    let delete = public_activity(
        format!("{}#delete", t.topic_id),
        "Delete",
        &t.mia.id,
        json!({ "id": t.topic_id, "type": "Tombstone" }),
    );
    t.send(&t.mia, &delete).await;
    wait_for("mia's deletion", T, || async {
        stored(&t.a, &t.topic_id).await.is_some_and(|p| p.deleted)
    })
    .await;
}
