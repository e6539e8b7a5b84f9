//! Votes as Lemmy sends them: one per person, a `Dislike` replacing a `Like` and back, and an
//! `Undo` that names the vote by id or re-sends it under a new id, always as a `Like`.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_federation::protocol::{ObjectActivity, Undo};
use copse_tests::{
    fake::{FakeActor, FakeServer},
    fixture, wait_for, TestInstance,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use url::Url;

const T: Duration = Duration::from_secs(20);

/// A vote in Lemmy's shape (`lemmy/activities/voting/*.json`).
fn vote(fake: &FakeServer, who: &FakeActor, kind: &str, n: u32, post: &str, group: &Url) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "actor": who.id, "object": post, "audience": group, "type": kind,
        "id": format!("{}/activities/{}/{n}", fake.base("lemmy"), kind.to_lowercase())
    })
}

/// Lemmy's `Undo` of a vote: the vote re-sent under a new id, as a `Like` even for a dislike.
fn undo(fake: &FakeServer, who: &FakeActor, n: u32, inner: Value) -> Value {
    let mut inner = inner;
    inner.as_object_mut().unwrap().remove("@context");
    let audience = inner["audience"].clone();
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "actor": who.id, "object": inner, "audience": audience, "type": "Undo",
        "id": format!("{}/activities/undo/{n}", fake.base("lemmy"))
    })
}

async fn counts(a: &TestInstance, post: i64) -> (i64, i64) {
    let (_, p) = a
        .api(Method::GET, &format!("/api/v1/posts/{post}"), None, None)
        .await;
    (
        p["reaction_count"].as_i64().unwrap(),
        p["dislike_count"].as_i64().unwrap(),
    )
}

async fn wait_counts(a: &TestInstance, post: i64, want: (i64, i64), what: &str) {
    wait_for(what, T, || async { counts(a, post).await == want }).await;
}

#[test]
fn lemmys_votes_parse_and_its_undo_of_a_dislike_is_a_like() {
    let Some(dir) = fixture("fediverse/lemmy/activities/voting") else {
        return;
    };
    let read = |f: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(f)).unwrap()).unwrap()
    };
    let dislike: ObjectActivity = serde_json::from_value(read("dislike_page.json")).unwrap();
    assert_eq!(dislike.kind, "Dislike");
    let undo: Undo = serde_json::from_value(read("undo_dislike_page.json")).unwrap();
    assert_eq!(
        undo.object["type"], "Like",
        "the shape the receiver relies on"
    );
    assert_ne!(undo.object["id"].as_str().unwrap(), dislike.id.as_str());
    let _: ObjectActivity = serde_json::from_value(undo.object).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_has_one_vote_and_takes_it_back_either_way() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    a.community_with(&ana, "net", json!({ "welcome_mode": "off" }))
        .await;
    let group = a.url("/c/net");
    let (s, topic) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/posts",
            Some(&ana),
            Some(json!({ "title": "Budgets", "content": "How do you share them?" })),
        )
        .await;
    assert_eq!(s, 201, "{topic}");
    let post_id = topic["local_id"].as_i64().unwrap();
    let post = topic["id"].as_str().unwrap().to_string();
    let fake = FakeServer::start().await;
    let lee = fake.actor("lemmy", "lee");
    let mia = fake.actor("masto", "mia");
    a.follow_as(&fake, &mia, "masto", &group).await;
    let inbox = a.url("/c/net/inbox");
    let send = |v: Value| {
        let (lee, a, inbox) = (&lee, &a, &inbox);
        async move { assert_eq!(lee.deliver(&a.client, inbox, &v).await, 202) }
    };

    // An upvote is a like; a downvote replaces it and counts as a dislike, not a reaction.
    send(vote(&fake, &lee, "Like", 1, &post, &group)).await;
    wait_counts(&a, post_id, (1, 0), "the upvote").await;
    let down = vote(&fake, &lee, "Dislike", 1, &post, &group);
    send(down.clone()).await;
    wait_counts(&a, post_id, (0, 1), "the downvote replacing it").await;
    let (_, p) = a
        .api(Method::GET, &format!("/api/v1/posts/{post_id}"), None, None)
        .await;
    assert_eq!(p["reactions"], json!({}), "{p}");
    // The community announces the vote to its followers, as Lemmy's communities do.
    wait_for("the announced Dislike", T, || async {
        fake.posted("masto").iter().any(|v| {
            v["type"] == "Announce"
                && v["object"]["type"] == "Dislike"
                && v["object"]["id"] == down["id"]
        })
    })
    .await;

    // Back up, then taken back with Lemmy's Undo: the vote under a new id.
    let up = vote(&fake, &lee, "Like", 2, &post, &group);
    send(up.clone()).await;
    wait_counts(&a, post_id, (1, 0), "the vote flipped back").await;
    let mut again = up.clone();
    again["id"] = json!(format!("{}/activities/like/3", fake.base("lemmy")));
    send(undo(&fake, &lee, 1, again)).await;
    wait_counts(&a, post_id, (0, 0), "the upvote taken back").await;

    // A downvote taken back the same way: Lemmy undoes it as a Like, under a new id.
    send(vote(&fake, &lee, "Dislike", 2, &post, &group)).await;
    wait_counts(&a, post_id, (0, 1), "the second downvote").await;
    let mut as_like = vote(&fake, &lee, "Like", 4, &post, &group);
    as_like["id"] = json!(format!("{}/activities/like/4", fake.base("lemmy")));
    send(undo(&fake, &lee, 2, as_like)).await;
    wait_counts(&a, post_id, (0, 0), "the downvote taken back").await;

    // Undo by the vote's own id works too.
    let down = vote(&fake, &lee, "Dislike", 3, &post, &group);
    send(down.clone()).await;
    wait_counts(&a, post_id, (0, 1), "the third downvote").await;
    send(undo(&fake, &lee, 3, down)).await;
    wait_counts(&a, post_id, (0, 0), "the downvote undone by id").await;

    // A Mastodon favourite is a like as before, and another person's vote is their own.
    let fav = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}#likes/1", mia.id), "type": "Like", "actor": mia.id, "object": post
    });
    assert_eq!(mia.deliver(&a.client, &inbox, &fav).await, 202);
    send(vote(&fake, &lee, "Dislike", 4, &post, &group)).await;
    wait_counts(&a, post_id, (1, 1), "a favourite and a downvote").await;
}
