//! Lemmy's and Friendica's own payloads (the shared fixtures, moved onto a fake server and our
//! community) replayed into a community, one behaviour per test: a page, a comment, a vote and
//! its undoing, a deletion, and Friendica's note to the group.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::post;
use copse_tests::{
    builders::{communities::community, posts::stored, T},
    fake::{FakeActor, FakeServer},
    fixture, wait_for, TestInstance,
};
use reqwest::Method;
use serde_json::{json, Value};
use url::Url;

/// Alpha's open "main" coordinated by ana, followed by Lemmy's `lemmy_alpha` on a fake server.
struct Lemmy {
    a: TestInstance,
    ana: String,
    group: Url,
    fake: FakeServer,
    alpha: FakeActor,
    base: String,
}

impl Lemmy {
    /// The community and its Lemmy follower, or `None` where the fixtures are absent.
    async fn new() -> Option<Self> {
        fixture("fediverse/lemmy/activities/create_or_update/create_page.json").or_else(|| {
            eprintln!("../shared is absent: skipping the fixture replay");
            None
        })?;
        let a = TestInstance::spawn("alpha").await;
        let ana = a.create_user("ana").await;
        let group = community(&a, &ana, "main", json!({ "membership_policy": "open" })).await;
        let fake = FakeServer::start().await;
        let alpha = fake.actor("lemmy", "lemmy_alpha");
        a.follow_as(&fake, &alpha, "lemmy", &group).await;
        let base = fake.base("lemmy");
        Some(Self {
            a,
            ana,
            group,
            fake,
            alpha,
            base,
        })
    }

    /// The fixture under `fediverse/lemmy/activities/`, Lemmy's ids moved onto the fake server
    /// and its community onto ours.
    fn payload(&self, name: &str) -> Value {
        let path = fixture(&format!("fediverse/lemmy/activities/{name}")).unwrap();
        let text = std::fs::read_to_string(path)
            .unwrap()
            .replace("http://ds9.lemmy.ml/u/lemmy_alpha", self.alpha.id.as_str())
            .replace("http://ds9.lemmy.ml", &self.base)
            .replace("https://enterprise.lemmy.ml/c/main", self.group.as_str())
            .replace("http://enterprise.lemmy.ml/c/main", self.group.as_str())
            .replace(
                "https://enterprise.lemmy.ml/c/tenforward",
                self.group.as_str(),
            );
        serde_json::from_str(&text).unwrap()
    }

    /// Delivers the fixture `name` as Lemmy would.
    async fn send(&self, name: &str) {
        let v = self.payload(name);
        let inbox = self.a.url("/inbox");
        assert_eq!(self.alpha.deliver(&self.a.client, &inbox, &v).await, 202);
    }

    fn post_id(&self) -> String {
        format!("{}/post/1", self.base)
    }

    fn comment_id(&self) -> String {
        format!("{}/comment/1", self.base)
    }

    /// Lemmy's page, stored as a topic.
    async fn page(&self) -> post::Model {
        self.send("create_or_update/create_page.json").await;
        let id = self.post_id();
        wait_for("the Lemmy post", T, || async {
            stored(&self.a, &id).await.is_some()
        })
        .await;
        stored(&self.a, &id).await.unwrap()
    }

    /// Lemmy's page and its comment, stored in the page's thread; the page.
    async fn comment(&self) -> post::Model {
        let p = self.page().await;
        self.send("create_or_update/create_comment.json").await;
        let id = self.comment_id();
        wait_for("the Lemmy comment", T, || async {
            stored(&self.a, &id)
                .await
                .is_some_and(|c| c.topic_id == Some(p.id))
        })
        .await;
        p
    }

    /// The reactions the API counts on the first reply in the thread of `topic`.
    async fn reply_reactions(&self, topic: &post::Model) -> Value {
        let path = format!("/api/v1/posts/{}", topic.id);
        self.a.api(Method::GET, &path, None, None).await.1["replies"][0]["reaction_count"].clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lemmy_page_becomes_a_topic_with_its_title_and_markdown() {
    let Some(l) = Lemmy::new().await else { return };
    let p = l.page().await;
    assert_eq!(p.title, "test post");
    assert_eq!(p.source.as_deref(), Some("test body"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lemmy_comment_joins_the_pages_thread() {
    let Some(l) = Lemmy::new().await else { return };
    // `comment` waits until the comment is stored under the page's topic.
    l.comment().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lemmy_vote_is_counted_and_its_undo_takes_it_back() {
    let Some(l) = Lemmy::new().await else { return };
    let p = l.comment().await;
    l.send("voting/like_note.json").await;
    wait_for("the Lemmy vote", T, || async {
        l.reply_reactions(&p).await == 1
    })
    .await;
    l.send("voting/undo_like_note.json").await;
    wait_for("the Lemmy vote undone", T, || async {
        l.reply_reactions(&p).await == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lemmy_deletion_deletes_the_post() {
    let Some(l) = Lemmy::new().await else { return };
    l.page().await;
    l.send("deletion/delete_page.json").await;
    let id = l.post_id();
    wait_for("the Lemmy deletion", T, || async {
        stored(&l.a, &id).await.is_some_and(|p| p.deleted)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_friendica_note_to_the_group_becomes_a_topic() {
    let Some(l) = Lemmy::new().await else { return };
    let Some(path) = fixture("fediverse/friendica/activities/create_note.json") else {
        return;
    };
    let raw: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let actor = raw["actor"].as_str().unwrap().to_string();
    let origin = Url::parse(&actor).unwrap();
    let origin = format!("{}://{}", origin.scheme(), origin.host_str().unwrap());
    let fr = l.fake.actor("friendica", "fr");
    let text = raw
        .to_string()
        .replace(&actor, fr.id.as_str())
        .replace(&origin, &l.fake.base("friendica"));
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["object"]["audience"] = json!(l.group);
    v["object"]["inReplyTo"] = Value::Null;
    let note_id = v["object"]["id"].as_str().unwrap().to_string();
    let (s, _) =
        l.a.api(
            Method::PUT,
            "/api/v1/communities/main/settings",
            Some(&l.ana),
            Some(json!({ "topic_policy": "anyone" })),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(fr.deliver(&l.a.client, &l.a.url("/inbox"), &v).await, 202);
    wait_for("the Friendica topic", T, || async {
        stored(&l.a, &note_id).await.is_some()
    })
    .await;
}
