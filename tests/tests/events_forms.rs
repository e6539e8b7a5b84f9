//! Which form of an event each kind of server is sent, one behaviour per test: Lemmy reads an
//! event only as the organiser's activity announced by the Group; Mastodon and Mobilizon read
//! the Group's own, and no boost of it.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_tests::{
    builders::{communities::open_community, events::schedule, T},
    fake::FakeServer,
    wait_for, TestInstance,
};
use reqwest::Method;
use serde_json::{json, Value};
use url::Url;

/// Alpha's open "net" coordinated by ana, followed by a reader on a Lemmy, a Mastodon and a
/// Mobilizon server (labels `lemmy`, `masto`, `mobi`), and an event ana has scheduled.
struct Readers {
    a: TestInstance,
    ana: String,
    net: Url,
    fake: FakeServer,
    /// The event as the API answered its creation.
    created: Value,
    /// The event's id.
    id: String,
    /// Ana's actor id.
    ana_id: String,
}

impl Readers {
    async fn new() -> Self {
        let a = TestInstance::spawn("alpha").await;
        let ana = a.create_user("ana").await;
        let net = open_community(&a, &ana, "net").await;
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
        let created = schedule(
            &a,
            &ana,
            json!({
                "title": "Launch workshop", "description": "Bring a case.",
                "start": "2027-06-15T18:00", "end": "2027-06-15T20:00",
                "timezone": "Europe/London"
            }),
        )
        .await;
        let id = created["ap_id"].as_str().unwrap().to_string();
        let ana_id = a.url("/u/ana").to_string();
        Self {
            a,
            ana,
            net,
            fake,
            created,
            id,
            ana_id,
        }
    }

    fn got(&self, label: &str) -> Vec<Value> {
        self.fake.shared_inbox(label)
    }

    /// Waits for the first activity in `label`'s shared inbox that `pred` picks.
    async fn wait(&self, label: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        wait_for(what, T, || async { self.got(label).iter().any(&pred) }).await;
        self.got(label).into_iter().find(|v| pred(v)).unwrap()
    }

    /// The Group's own `Create` of the event, once it reached `label`.
    async fn groups_create(&self, label: &str) -> Value {
        self.wait(label, "the Group's Create", |v| {
            v["type"] == "Create" && v["object"]["type"] == "Event"
        })
        .await
    }

    /// Ana deletes the event.
    async fn delete(&self) {
        let local_id = self.created["id"].as_i64().unwrap();
        let path = format!("/api/v1/events/{local_id}");
        let (s, _) = self
            .a
            .api(Method::DELETE, &path, Some(&self.ana), None)
            .await;
        assert_eq!(s, 204);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lemmy_gets_the_organisers_create_announced_by_the_group() {
    let r = Readers::new().await;
    let announce = r
        .wait("lemmy", "the announced Create at Lemmy", |v| {
            v["object"]["type"] == "Create"
        })
        .await;
    assert_eq!(announce["actor"], r.net.as_str());
    let create = &announce["object"];
    assert_eq!(create["actor"], r.ana_id.as_str());
    assert_eq!(create["object"]["id"], r.id.as_str());
    assert_eq!(create["object"]["attributedTo"], r.ana_id.as_str());
    assert_eq!(create["object"]["audience"], r.net.as_str());
    assert_eq!(create["object"]["type"], "Event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mastodon_and_mobilizon_get_the_groups_own_create_and_lemmy_does_not() {
    let r = Readers::new().await;
    for label in ["masto", "mobi"] {
        let create = r.groups_create(label).await;
        assert_eq!(create["actor"], r.net.as_str());
        assert_eq!(create["object"]["attributedTo"], r.net.as_str());
        assert_eq!(create["object"]["actor"], r.ana_id.as_str());
    }
    // By now Lemmy has had its form, so the Group's own would have come with it.
    r.wait("lemmy", "the announced Create at Lemmy", |v| {
        v["object"]["type"] == "Create"
    })
    .await;
    assert!(!r
        .got("lemmy")
        .iter()
        .any(|v| v["type"] == "Create" && v["object"]["type"] == "Event"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lemmy_gets_the_organisers_deletion_which_is_not_a_removal() {
    let r = Readers::new().await;
    r.wait("lemmy", "the announced Create at Lemmy", |v| {
        v["object"]["type"] == "Create"
    })
    .await;
    r.delete().await;
    let announce = r
        .wait("lemmy", "the announced Delete at Lemmy", |v| {
            v["object"]["type"] == "Delete"
        })
        .await;
    let delete = &announce["object"];
    assert_eq!(delete["actor"], r.ana_id.as_str());
    assert_eq!(delete["object"], r.id.as_str());
    // Lemmy reads a Delete with a summary as a moderator's removal.
    assert!(delete.get("summary").is_none(), "{delete}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mastodon_and_mobilizon_get_only_the_groups_forms_never_a_boost() {
    let r = Readers::new().await;
    for label in ["masto", "mobi"] {
        r.groups_create(label).await;
    }
    r.delete().await;
    let id = r.id.clone();
    r.wait("masto", "the Group's Delete at Mastodon", |v| {
        v["type"] == "Delete" && v["object"]["id"] == id.as_str()
    })
    .await;
    for label in ["masto", "mobi"] {
        assert!(
            !r.got(label)
                .iter()
                .any(|v| v["type"] == "Announce" && v["object"].to_string().contains(&id)),
            "{label}: {:?}",
            r.got(label)
        );
    }
}
