//! The shape of what Copse publishes, as the servers that read it need it: actors with both
//! collections, followers as Lemmy reads them, featured topics embedded, removals Lemmy tells
//! apart from deletions.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::post;
use copse_tests::{fake::FakeServer, wait_for, TestInstance};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use std::time::Duration;
use url::Url;

const T: Duration = Duration::from_secs(20);

/// An open community `net` on `a` coordinated by `ana`; returns ana's token and the group id.
async fn community(a: &TestInstance) -> (String, Url) {
    let ana = a.create_user("ana").await;
    a.community_with(
        &ana,
        "net",
        json!({ "membership_policy": "open", "topic_policy": "anyone", "reply_policy": "anyone" }),
    )
    .await;
    (ana, a.url("/c/net"))
}

async fn stored(a: &TestInstance, ap_id: &str) -> Option<post::Model> {
    post::Entity::find()
        .filter(post::Column::ApId.eq(ap_id))
        .one(a.db())
        .await
        .unwrap()
}

async fn topic(a: &TestInstance, token: &str, title: &str, body: &str) -> Value {
    let (s, t) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/posts",
            Some(token),
            Some(json!({ "title": title, "content": body })),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_actor_names_and_serves_followers_and_following() {
    let a = TestInstance::spawn("alpha").await;
    let (_, group) = community(&a).await;
    let actors = [group, a.url("/u/ana"), a.url("/actor")];
    for actor in actors {
        let (s, doc) = a.get_ap(&actor).await;
        assert_eq!(s, 200, "{actor}");
        // GoToSocial: `FollowersURI == "" || FollowingURI == ""` marks an instance actor.
        for collection in ["followers", "following"] {
            let id = doc[collection]
                .as_str()
                .unwrap_or_else(|| panic!("{actor} has no {collection}: {doc}"));
            let (s, c) = a.get_ap(&Url::parse(id).unwrap()).await;
            assert_eq!(s, 200, "{id}");
            assert_eq!(c["id"], id);
            assert!(c["totalItems"].is_u64(), "{c}");
        }
    }
    let (s, _) = a.get_ap(&a.url("/u/nobody/following")).await;
    assert_eq!(s, 404);
    let (s, _) = a.get_ap(&a.url("/u/ana/elsewhere")).await;
    assert_eq!(s, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followers_are_a_count_in_the_shape_lemmy_reads() {
    let a = TestInstance::spawn("alpha").await;
    let (_, group) = community(&a).await;
    let fake = FakeServer::start().await;
    let lem = fake.actor("lemmy", "lem");
    a.follow_as(&fake, &lem, "lemmy", &group).await;
    let (s, followers) = a.get_ap(&a.url("/c/net/followers")).await;
    assert_eq!(s, 200);
    // Lemmy's GroupFollowers: `type: Collection`, `totalItems`, `items: Vec<()>`.
    assert_eq!(followers["type"], "Collection", "{followers}");
    // ana, the coordinator, and lem.
    assert_eq!(followers["totalItems"], 2, "{followers}");
    assert_eq!(followers["items"], json!([]), "{followers}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn featured_embeds_every_pinned_topic_remote_ones_too() {
    let a = TestInstance::spawn("alpha").await;
    let (ana, group) = community(&a).await;
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    a.follow_as(&fake, &mia, "masto", &group).await;
    let html = format!(
        "<p><span class=\"h-card\"><a href=\"{group}\" class=\"u-url mention\">@<span>net</span></a></span> Budgets<br>Open ones.</p>"
    );
    let (note, create) = mia.status(&fake, 1, &group, &html, None);
    assert_eq!(
        mia.deliver(&a.client, &a.url("/c/net/inbox"), &create)
            .await,
        202
    );
    let remote_id = note["id"].as_str().unwrap().to_string();
    wait_for("mia's topic", T, || async {
        stored(&a, &remote_id).await.is_some()
    })
    .await;
    let remote_local_id = stored(&a, &remote_id).await.unwrap().id;
    let local = topic(&a, &ana, "Our agenda", "Items to discuss").await;
    for id in [remote_local_id, local["local_id"].as_i64().unwrap()] {
        let (s, body) = a
            .api(
                Method::PUT,
                &format!("/api/v1/posts/{id}/pin"),
                Some(&ana),
                Some(json!({ "pinned": true })),
            )
            .await;
        assert_eq!(s, 204, "{body}");
    }
    let (_, featured) = a.get_ap(&a.url("/c/net/featured")).await;
    let items = featured["orderedItems"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{featured}");
    // Lemmy's GroupFeatured reads `orderedItems: Vec<Page>`: every item a whole object.
    for item in items {
        assert!(item.is_object(), "a bare id in featured: {featured}");
        assert_eq!(item["type"], "Note");
        assert!(item["attributedTo"].is_string(), "{item}");
        assert!(item["name"].is_string(), "{item}");
    }
    let remote = items
        .iter()
        .find(|i| i["id"] == remote_id.as_str())
        .unwrap();
    assert_eq!(remote["attributedTo"], mia.id.as_str());
    assert_eq!(remote["name"], "Budgets");
    assert!(
        remote["content"].as_str().unwrap().contains("Open ones."),
        "{remote}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removal_without_a_reason_still_carries_a_summary() {
    let a = TestInstance::spawn("alpha").await;
    let (ana, group) = community(&a).await;
    let fake = FakeServer::start().await;
    let lem = fake.actor("lemmy", "lem");
    a.follow_as(&fake, &lem, "lemmy", &group).await;
    let max = a.create_user("max").await;
    let t = topic(&a, &max, "Off topic", "Something else").await;
    let id = t["local_id"].as_i64().unwrap();
    let (s, body) = a
        .api(
            Method::POST,
            &format!("/api/v1/posts/{id}/remove"),
            Some(&ana),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 204, "{body}");
    let delete = |v: &Value| v["type"] == "Announce" && v["object"]["type"] == "Delete";
    wait_for("the announced removal", T, || async {
        fake.posted("lemmy").iter().any(delete)
    })
    .await;
    let got = fake.posted("lemmy");
    let removal = &got.iter().find(|v| delete(v)).unwrap()["object"];
    // Lemmy: a `Delete` with no `summary` is the author's own deletion.
    assert_eq!(removal["summary"], "", "{removal}");
    assert_eq!(removal["actor"], a.url("/u/ana").as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_and_topic_content_opens_with_the_title_shown_once_when_read_back() {
    let a = TestInstance::spawn("alpha").await;
    let b = TestInstance::spawn("beta").await;
    let (ana, _) = community(&a).await;
    let bob = b.create_user("bob").await;
    let (s, body) = b.follow(&bob, format!("net@{}", a.domain)).await;
    assert_eq!(s, 202, "{body}");
    wait_for("bob's membership", T, || async {
        b.received("Accept").await.len() == 1
    })
    .await;
    let (s, ev) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/events",
            Some(&ana),
            Some(json!({
                "title": "Ana's \"open\" workshop",
                "description": "Bring a case.",
                "start": "2027-06-15T18:00",
                "end": "2027-06-15T20:00",
                "timezone": "Europe/London",
            })),
        )
        .await;
    assert_eq!(s, 201, "{ev}");
    let event_id = ev["ap_id"].as_str().unwrap().to_string();
    let (_, served) = a.get_ap(&Url::parse(&event_id).unwrap()).await;
    // Mastodon and GoToSocial drop `name` and show `summary` as the content warning.
    let content = served["content"].as_str().unwrap();
    assert!(
        content.starts_with("<p><strong>Ana&#39;s &quot;open&quot; workshop</strong></p>"),
        "{content}"
    );
    assert!(content.contains("Bring a case."), "{content}");
    let t = topic(&a, &ana, "Ana's \"open\" budgets", "Ours are online.").await;
    let topic_id = t["id"].as_str().unwrap().to_string();
    for id in [&event_id, &topic_id] {
        wait_for("the post on beta", T, || async {
            stored(&b, id).await.is_some()
        })
        .await;
        let p = stored(&b, id).await.unwrap();
        assert!(p.title.starts_with("Ana's \"open\""), "{}", p.title);
        assert!(
            !p.content.contains("Ana"),
            "title shown twice: {}",
            p.content
        );
        assert!(p.content.contains("Bring a case.") || p.content.contains("Ours are online."));
    }
}

async fn reply(a: &TestInstance, token: &str, to: i64, body: &str) -> Value {
    let (s, r) = a
        .api(
            Method::POST,
            &format!("/api/v1/posts/{to}/replies"),
            Some(token),
            Some(json!({ "content": body })),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_carry_replies_with_the_first_page_embedded_as_mastodon_reads_them() {
    let a = TestInstance::spawn("alpha").await;
    let (ana, group) = community(&a).await;
    let max = a.create_user("max").await;
    let t = topic(&a, &ana, "Budgets", "Open ones.").await;
    let topic_local = t["local_id"].as_i64().unwrap();
    let first = reply(&a, &max, topic_local, "We publish ours.").await;
    let nested = reply(&a, &ana, first["local_id"].as_i64().unwrap(), "How often?").await;
    let gone = reply(&a, &max, topic_local, "Spam").await;
    let (s, _) = a
        .api(
            Method::POST,
            &format!("/api/v1/posts/{}/remove", gone["local_id"]),
            Some(&ana),
            Some(json!({ "reason": "spam" })),
        )
        .await;
    assert_eq!(s, 204);
    // A reply from a Mastodon user, stored here.
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    a.follow_as(&fake, &mia, "masto", &group).await;
    let html = format!(
        "<p><span class=\"h-card\"><a href=\"{group}\" class=\"u-url mention\">@<span>net</span></a></span> Quarterly here.</p>"
    );
    let topic_id = t["id"].as_str().unwrap().to_string();
    let (note, create) = mia.status(&fake, 7, &group, &html, Some(&topic_id));
    assert_eq!(
        mia.deliver(&a.client, &a.url("/c/net/inbox"), &create)
            .await,
        202
    );
    let mia_reply = note["id"].as_str().unwrap().to_string();
    wait_for("mia's reply", T, || async {
        stored(&a, &mia_reply).await.is_some()
    })
    .await;

    let (s, served) = a.get_ap(&Url::parse(&topic_id).unwrap()).await;
    assert_eq!(s, 200);
    // Mastodon's shape: replies {id, type: Collection, first: {type: CollectionPage, partOf, items}}.
    let replies = &served["replies"];
    assert_eq!(replies["type"], "Collection", "{served}");
    let replies_id = replies["id"].as_str().unwrap();
    assert_eq!(replies_id, format!("{topic_id}/replies"));
    let page = &replies["first"];
    assert_eq!(page["type"], "CollectionPage", "{replies}");
    assert_eq!(page["partOf"], replies_id);
    assert!(page.get("next").is_none(), "one page only: {page}");
    assert_eq!(
        page["items"],
        json!([first["id"], mia_reply]),
        "direct replies, oldest first, the removed one left out"
    );
    // The collection and its pages are served.
    let (s, collection) = a.get_ap(&Url::parse(replies_id).unwrap()).await;
    assert_eq!(s, 200);
    assert_eq!(collection["first"]["items"], page["items"]);
    let (s, fetched) = a
        .get_ap(&Url::parse(page["id"].as_str().unwrap()).unwrap())
        .await;
    assert_eq!(s, 200);
    assert_eq!(fetched["type"], "CollectionPage");
    assert_eq!(fetched["items"], page["items"]);
    // A reply's own replies hold the reply to it.
    let (_, served_reply) = a
        .get_ap(&Url::parse(first["id"].as_str().unwrap()).unwrap())
        .await;
    assert_eq!(
        served_reply["replies"]["first"]["items"],
        json!([nested["id"]])
    );
    // Other servers' posts are theirs to serve.
    let mia_row = stored(&a, &mia_reply).await.unwrap();
    let (s, _) = a
        .get_ap(&a.url(&format!("/post/{}/replies", mia_row.id)))
        .await;
    assert_eq!(s, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_page_on_past_the_first_fifty() {
    let a = TestInstance::spawn("alpha").await;
    let (ana, _) = community(&a).await;
    let t = topic(&a, &ana, "Many answers", "Go.").await;
    let id = t["local_id"].as_i64().unwrap();
    let mut ids = Vec::new();
    for n in 0..51 {
        ids.push(reply(&a, &ana, id, &format!("Answer {n}")).await["id"].clone());
    }
    let (_, served) = a
        .get_ap(&Url::parse(t["id"].as_str().unwrap()).unwrap())
        .await;
    let first = &served["replies"]["first"];
    assert_eq!(first["items"].as_array().unwrap().len(), 50);
    assert_eq!(first["items"][0], ids[0]);
    let next = first["next"].as_str().expect("a next page");
    let (s, page) = a.get_ap(&Url::parse(next).unwrap()).await;
    assert_eq!(s, 200);
    assert_eq!(page["id"], next);
    assert_eq!(page["items"], json!([ids[50]]));
    assert!(page.get("next").is_none(), "{page}");
}
