//! Discussions across instances, one behaviour per test: topics from Mastodon-style mentions,
//! replies joining threads, the thread as the API, pages and collections show it, and hostile
//! HTML; a Copse follower and microblog-style followers watch what the community announces.
//! Refusals, edits and moderation are in `discussions_moderation.rs`, Lemmy's and Friendica's
//! own payloads in `discussions_replayed.rs`.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::post;
use copse_tests::{
    builders::{
        communities::{community, copse_member, fake_follower},
        posts::{mention, stored, wait_stored},
        T,
    },
    fake::{FakeActor, FakeServer},
    wait_for, TestInstance,
};
use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::{json, Value};
use url::Url;

/// Alpha's open "net" coordinated by ana, followed by bob on beta and, on a Mastodon-like
/// server, by mia, leo and the microblog reader rita; mia has mentioned the group with a
/// topic, stored on alpha.
struct Thread {
    a: TestInstance,
    b: TestInstance,
    ana: String,
    group: Url,
    fake: FakeServer,
    mia: FakeActor,
    leo: FakeActor,
    inbox: Url,
    /// Mia's status.
    note_id: String,
    /// The topic it became on alpha.
    topic: post::Model,
}

impl Thread {
    async fn new() -> Self {
        let a = TestInstance::spawn("alpha").await;
        let b = TestInstance::spawn("beta").await;
        let ana = a.create_user("ana").await;
        let group = community(&a, &ana, "net", json!({ "membership_policy": "open" })).await;
        copse_member(&a, &b, "bob", "net").await;
        let fake = FakeServer::start().await;
        let mia = fake_follower(&a, &fake, "masto", "mia", &group).await;
        let leo = fake_follower(&a, &fake, "masto", "leo", &group).await;
        fake_follower(&a, &fake, "reader", "rita", &group).await;
        let html = mention(&group, "Sharing budgets openly<br>We tried it in Hackney.");
        let (note, create) = mia.status(&fake, 1, &group, &html, None);
        let inbox = a.url("/c/net/inbox");
        assert_eq!(mia.deliver(&a.client, &inbox, &create).await, 202);
        let note_id = note["id"].as_str().unwrap().to_string();
        let topic = wait_stored(&a, &note_id).await;
        Self {
            a,
            b,
            ana,
            group,
            fake,
            mia,
            leo,
            inbox,
            note_id,
            topic,
        }
    }

    /// Leo replies to the topic; the reply's id and its row on alpha.
    async fn leo_replies(&self) -> (String, post::Model) {
        let html = mention(&self.group, "We publish ours every quarter.");
        let (reply, create) =
            self.leo
                .status(&self.fake, 2, &self.group, &html, Some(&self.note_id));
        let reply_id = reply["id"].as_str().unwrap().to_string();
        assert_eq!(
            self.leo.deliver(&self.a.client, &self.inbox, &create).await,
            202
        );
        let row = wait_stored(&self.a, &reply_id).await;
        (reply_id, row)
    }

    /// Leo answers a status of mia's (a reply to `reply_id`) that never reached alpha; the
    /// answer's id, once stored.
    async fn leo_answers_an_unseen_status(&self, reply_id: &str) -> String {
        let (unseen, _) = self.mia.status(
            &self.fake,
            7,
            &self.group,
            "<p>A reply we never received</p>",
            Some(reply_id),
        );
        let (deep, create) = self.leo.status(
            &self.fake,
            8,
            &self.group,
            "<p>Answering the one we missed</p>",
            unseen["id"].as_str(),
        );
        let deep_id = deep["id"].as_str().unwrap().to_string();
        assert_eq!(
            self.leo.deliver(&self.a.client, &self.inbox, &create).await,
            202
        );
        wait_stored(&self.a, &deep_id).await;
        deep_id
    }

    /// Ana replies to `parent` from the API; her reply's id.
    async fn ana_replies(&self, parent: &post::Model) -> String {
        let (s, mine) = self
            .a
            .api(
                Method::POST,
                &format!("/api/v1/posts/{}/replies", parent.id),
                Some(&self.ana),
                Some(json!({ "content": "Thanks **Leo** #budgets" })),
            )
            .await;
        assert_eq!(s, 201, "{mine}");
        mine["id"].as_str().unwrap().to_string()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_becomes_a_titled_topic() {
    let t = Thread::new().await;
    assert_eq!(t.topic.title, "Sharing budgets openly");
    assert!(t.topic.content.contains("We tried it in Hackney."));
    assert!(!t.topic.content.contains("@"), "{}", t.topic.content);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_reaches_microblogs_in_both_forms_and_copse_with_its_title() {
    let t = Thread::new().await;
    let (fake, b, note_id) = (&t.fake, &t.b, t.note_id.as_str());
    wait_for("both Announce forms at the reader", T, || async {
        let got = fake.shared_inbox("reader");
        got.iter()
            .any(|v| v["type"] == "Announce" && v["object"] == note_id)
            && got.iter().any(|v| {
                v["type"] == "Announce"
                    && v["object"]["type"] == "Create"
                    && v["object"]["object"]["id"] == note_id
            })
    })
    .await;
    wait_for("the topic on beta", T, || async {
        stored(b, note_id)
            .await
            .is_some_and(|p| p.title == "Sharing budgets openly")
    })
    .await;
    wait_for("the bare boost on beta", T, || async {
        b.received("Announce")
            .await
            .iter()
            .any(|v| v["object"] == note_id)
    })
    .await;
    let announces = b.received("Announce").await;
    assert!(announces
        .iter()
        .any(|v| v["object"]["type"] == "Create" && v["object"]["object"]["id"] == note_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_joins_the_thread_and_goes_out_only_wrapped() {
    let t = Thread::new().await;
    let (reply_id, row) = t.leo_replies().await;
    assert_eq!(row.topic_id, Some(t.topic.id));
    assert_eq!(row.parent_id, Some(t.topic.id));
    wait_for("the reply on beta, in the thread", T, || async {
        match (
            stored(&t.b, &reply_id).await,
            stored(&t.b, &t.note_id).await,
        ) {
            (Some(r), Some(p)) => r.topic_id == Some(p.id),
            _ => false,
        }
    })
    .await;
    wait_for("the wrapped reply at the reader", T, || async {
        t.fake
            .shared_inbox("reader")
            .iter()
            .any(|v| v["object"]["object"]["id"] == reply_id.as_str())
    })
    .await;
    assert!(
        !t.fake
            .shared_inbox("reader")
            .iter()
            .any(|v| v["type"] == "Announce" && v["object"] == reply_id.as_str()),
        "a reply must not be boosted bare"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_to_an_unseen_status_hangs_from_the_nearest_stored_ancestor() {
    let t = Thread::new().await;
    let (reply_id, row) = t.leo_replies().await;
    // Its parent is fetched from Mastodon; the reply stays in the same thread.
    let deep_id = t.leo_answers_an_unseen_status(&reply_id).await;
    let deep_row = stored(&t.a, &deep_id).await.unwrap();
    assert_eq!(deep_row.topic_id, Some(t.topic.id));
    assert_eq!(deep_row.parent_id, Some(row.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_reply_nests_and_reaches_the_remote_author() {
    let t = Thread::new().await;
    let (reply_id, row) = t.leo_replies().await;
    let mine_id = t.ana_replies(&row).await;
    wait_for("ana's reply at leo's server", T, || async {
        t.fake.shared_inbox("masto").iter().any(|v| {
            v["type"] == "Create"
                && v["object"]["id"] == mine_id.as_str()
                && v["object"]["inReplyTo"] == reply_id.as_str()
        })
    })
    .await;
    let (_, ap) = t.a.get_ap(&Url::parse(&mine_id).unwrap()).await;
    assert_eq!(ap["inReplyTo"], reply_id.as_str());
    assert_eq!(
        ap["context"],
        t.a.url(&format!("/post/{}/context", t.topic.id)).as_str()
    );
    assert!(ap["tag"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["type"] == "Hashtag" && t["name"] == "#budgets"));
    wait_for("ana's reply on beta", T, || async {
        stored(&t.b, &mine_id).await.is_some()
    })
    .await;
}

/// The thread with leo's reply, his answer to an unseen status and ana's reply under his:
/// the ids of those three.
async fn full_thread(t: &Thread) -> (String, String, String) {
    let (reply_id, row) = t.leo_replies().await;
    let deep_id = t.leo_answers_an_unseen_status(&reply_id).await;
    let mine_id = t.ana_replies(&row).await;
    (reply_id, deep_id, mine_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_thread_nests_its_replies_and_counts_them_everywhere() {
    let t = Thread::new().await;
    let (a, topic) = (&t.a, &t.topic);
    let (reply_id, deep_id, mine_id) = full_thread(&t).await;
    let (_, thread) = a
        .api(
            Method::GET,
            &format!("/api/v1/posts/{}", topic.id),
            None,
            None,
        )
        .await;
    assert_eq!(thread["title"], "Sharing budgets openly");
    assert_eq!(thread["reply_count"], 3);
    assert_eq!(thread["replies"][0]["id"], reply_id.as_str());
    let nested: Vec<&Value> = thread["replies"][0]["replies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(nested, [&json!(deep_id), &json!(mine_id)]);
    let (_, ctx) = a
        .get_ap(&a.url(&format!("/post/{}/context", topic.id)))
        .await;
    assert_eq!(ctx["totalItems"], 4);
    assert_eq!(ctx["attributedTo"], t.group.as_str());
    let (_, topics) = a
        .api(Method::GET, "/api/v1/communities/net/topics", None, None)
        .await;
    assert_eq!(topics["items"].as_array().unwrap().len(), 1);
    assert_eq!(topics["items"][0]["reply_count"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_thread_page_and_the_authors_posts_show_the_thread() {
    let t = Thread::new().await;
    let a = &t.a;
    full_thread(&t).await;
    let page = a
        .client
        .get(a.url(&format!("/post/{}", t.topic.id)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("We publish ours every quarter."), "{page}");
    assert!(page.contains("<strong>Leo</strong>"), "{page}");
    let (_, mias) = a
        .api(
            Method::GET,
            &format!("/api/v1/people/mia@masto.localhost:{}/posts", t.fake.port),
            None,
            None,
        )
        .await;
    assert_eq!(mias["items"].as_array().unwrap().len(), 1, "{mias}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_pages_through_what_the_group_announced() {
    let t = Thread::new().await;
    let a = &t.a;
    full_thread(&t).await;
    wait_for("three announced", T, || async {
        let (_, outbox) = a.get_ap(&a.url("/c/net/outbox")).await;
        outbox["totalItems"].as_u64().unwrap() >= 3
    })
    .await;
    let (_, outbox) = a.get_ap(&a.url("/c/net/outbox")).await;
    let (_, first) = a
        .get_ap(&Url::parse(outbox["first"].as_str().unwrap()).unwrap())
        .await;
    assert_eq!(first["type"], "OrderedCollectionPage");
    assert!(!first["orderedItems"].as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_html_never_reaches_storage_or_pages() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let group = community(
        &a,
        &ana,
        "net",
        json!({ "topic_policy": "anyone", "reply_policy": "anyone" }),
    )
    .await;
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    let hostile = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "<style>body{display:none}</style>",
        "<svg><script>alert(1)</script><a xlink:href=\"javascript:alert(1)\">s</a></svg>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "<p style=\"position:fixed\" onmouseover=\"alert(1)\">hover</p>",
        "<form action=\"https://evil.example\"><input name=x></form>",
        "<object data=\"javascript:alert(1)\"></object>",
    ]
    .join("\n");
    let html = format!("{}<br>{hostile}", mention(&group, "Hostile topic"));
    let (note, create) = mia.status(&fake, 1, &group, &html, None);
    let id = note["id"].as_str().unwrap().to_string();
    assert_eq!(
        mia.deliver(&a.client, &a.url("/c/net/inbox"), &create)
            .await,
        202
    );
    wait_for("the hostile topic", T, || async {
        stored(&a, &id).await.is_some()
    })
    .await;
    let p = stored(&a, &id).await.unwrap();
    let (s, local) = a
        .api(
            Method::POST,
            &format!("/api/v1/posts/{}/replies", p.id),
            Some(&ana),
            Some(json!({ "content": format!("markdown with raw html\n\n{hostile}") })),
        )
        .await;
    assert_eq!(s, 201, "{local}");
    let page = a
        .client
        .get(a.url(&format!("/post/{}", p.id)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rows = post::Entity::find().all(a.db()).await.unwrap();
    let mut texts: Vec<String> = rows.iter().map(|r| r.content.clone()).collect();
    // The page's own head has a stylesheet; what the posts put in the body must not.
    texts.push(page.split("<body>").nth(1).unwrap().to_string());
    for text in texts {
        let lower = text.to_lowercase();
        for bad in [
            "<script",
            "onerror",
            "onmouseover",
            "javascript:",
            "<iframe",
            "<style",
            "<svg",
            "<math",
            "<form",
            "<object",
            "style=",
        ] {
            assert!(!lower.contains(bad), "{bad} survived in {text}");
        }
    }
    assert!(p.content.contains("nofollow noopener noreferrer") || !p.content.contains("<a "));
}
