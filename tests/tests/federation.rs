//! Three instances on loopback: people on two of them follow a community on the first, a post
//! reaches them in both Announce forms with valid signatures, and leaving removes the follower.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{activity, community, community_follower, post};
use copse_tests::{wait_for, TestInstance};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

async fn followers(a: &TestInstance) -> u64 {
    let (_, v) = a
        .api(Method::GET, "/api/v1/communities/net", None, None)
        .await;
    v["followers"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_post_and_leave_across_three_instances() {
    let a = TestInstance::spawn("alpha").await;
    let b = TestInstance::spawn("beta").await;
    let c = TestInstance::spawn("gamma").await;
    let net = a.create_community("net", "London Networks").await;
    let ana = a.create_user("ana").await;
    let bob = b.create_user("bob").await;
    let bea = b.create_user("bea").await;
    let cyd = c.create_user("cyd").await;

    let handle = format!("net@{}", a.domain);
    for (inst, token) in [(&b, &bob), (&b, &bea), (&c, &cyd)] {
        let (status, body) = inst.follow(token, &handle).await;
        assert_eq!(status, 202, "{body}");
        assert_eq!(body["community"], net.ap_id.to_string());
    }
    wait_for("three followers on alpha", T, || async {
        followers(&a).await == 3
    })
    .await;
    // Each follower's instance got a signed Accept and marked its follow accepted.
    for inst in [&b, &c] {
        wait_for("follows accepted", T, || async {
            community_follower::Entity::find()
                .filter(community_follower::Column::Pending.eq(false))
                .count(inst.db())
                .await
                .unwrap()
                == if inst.name == "beta" { 2 } else { 1 }
        })
        .await;
    }
    let accepts = b.received("Accept").await;
    assert_eq!(accepts.len(), 2);
    for accept in &accepts {
        // Lemmy rejects an Accept whose Follow embeds whole actors: plain URLs only.
        assert!(accept["object"]["actor"].is_string(), "{accept}");
        assert!(accept["object"]["object"].is_string(), "{accept}");
        assert_eq!(accept["object"]["type"], "Follow");
        assert_eq!(accept["actor"], net.ap_id.to_string());
    }

    // A post on alpha.
    let (status, created) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/posts",
            Some(&ana),
            Some(json!({ "title": "Mapping our networks", "content": "We met on **Tuesday**.\n\nNotes follow." })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let post_id = created["id"].as_str().unwrap().to_string();
    assert!(post_id.starts_with(&format!("http://{}/post/", a.domain)));

    for inst in [&b, &c] {
        wait_for("the post on every follower instance", T, || async {
            post::Entity::find().count(inst.db()).await.unwrap() == 1
        })
        .await;
        wait_for("both announce forms", T, || async {
            inst.received("Announce").await.len() == 2
        })
        .await;
        let stored = post::Entity::find().one(inst.db()).await.unwrap().unwrap();
        assert_eq!(stored.ap_id.to_string(), post_id);
        assert_eq!(stored.title, "Mapping our networks");
        assert!(
            stored.content.contains("<strong>Tuesday</strong>"),
            "{}",
            stored.content
        );
        let announces = inst.received("Announce").await;
        let wrapped = announces
            .iter()
            .find(|a| a["object"]["type"] == "Create")
            .expect("Announce{Create}");
        let bare = announces
            .iter()
            .find(|a| a["object"]["type"] == "Note")
            .expect("bare Announce{Note}");
        for a_ in [wrapped, bare] {
            assert_eq!(a_["actor"], net.ap_id.to_string());
            assert!(
                a_["published"].is_string(),
                "published on every Announce: {a_}"
            );
        }
        assert_ne!(wrapped["id"], bare["id"], "activity ids are unique");
        assert_eq!(wrapped["object"]["object"]["id"], post_id);
        assert_eq!(wrapped["object"]["object"]["name"], "Mapping our networks");
        assert_eq!(bare["object"]["id"], post_id);
        // Mastodon shows only `content`: it opens with the title and holds the whole text.
        let content = bare["object"]["content"].as_str().unwrap();
        assert!(
            content.starts_with("<p><strong>Mapping our networks</strong></p>"),
            "{content}"
        );
        assert!(content.contains("Notes follow."), "{content}");
    }

    // Both Announce forms were stored once; their deliveries (one per distinct shared inbox,
    // which the benchmark smoke run counts at a sink) are deleted once delivered.
    let announces: Vec<activity::Model> = activity::Entity::find()
        .filter(activity::Column::Kind.eq("Announce"))
        .all(a.db())
        .await
        .unwrap();
    assert_eq!(announces.len(), 2);
    wait_for("delivered rows removed", T, || async {
        a.queued_deliveries().await == 0
    })
    .await;

    // The post dereferences at its id, for AP clients and browsers.
    let (status, note) = b.get_ap(&post_id.parse().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(note["type"], "Note");
    assert_eq!(note["audience"], net.ap_id.to_string());
    let html = b
        .client
        .get(&post_id)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Mapping our networks") && html.contains("<html"));
    // The activity ids dereference too.
    let (status, doc) = b.get_ap(&announces[0].ap_id.0).await;
    assert_eq!(status, 200, "{doc}");
    // The outbox lists what the group announced.
    let (_, outbox) = b.get_ap(&a.url("/c/net/outbox")).await;
    let items = outbox["orderedItems"].as_array().unwrap();
    let posts: Vec<&Value> = items
        .iter()
        .filter(|i| i["object"]["type"] == "Create")
        .collect();
    assert_eq!(posts.len(), 1, "{outbox}");
    assert_eq!(posts[0]["object"]["object"]["id"], post_id);
    // Only Announces are listed, as Lemmy reads the outbox (the joins' Add is not one).
    assert!(items.iter().all(|i| i["type"] == "Announce"), "{outbox}");

    // Leaving: Undo{Follow} removes the follower on alpha.
    let (status, _) = b
        .api(
            Method::DELETE,
            &format!("/api/v1/follows?community={handle}"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(status, 204);
    wait_for("follower removed", T, || async { followers(&a).await == 2 }).await;
    let (_, coll) = b.get_ap(&a.url("/c/net/followers")).await;
    assert_eq!(coll["totalItems"], 2);
    assert_eq!(
        community::Entity::find()
            .filter(community::Column::Local.eq(false))
            .count(b.db())
            .await
            .unwrap(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_actor_webfinger_and_nodeinfo_answer_like_mastodon_expects() {
    let a = TestInstance::spawn("alpha").await;
    a.create_community("net", "London Networks").await;
    a.create_user("ana").await;
    for name in ["net", "ana"] {
        let res = a
            .client
            .get(a.url(&format!(
                "/.well-known/webfinger?resource=acct:{name}@{}",
                a.domain
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let jrd: Value = res.json().await.unwrap();
        let link = jrd["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "self")
            .unwrap()
            .clone();
        assert_eq!(link["type"], "application/activity+json");
        let (status, actor) = a
            .get_ap(&link["href"].as_str().unwrap().parse().unwrap())
            .await;
        assert_eq!(status, 200);
        assert_eq!(actor["preferredUsername"], name);
    }
    let (_, group) = a.get_ap(&a.url("/c/net")).await;
    for field in [
        "inbox",
        "outbox",
        "followers",
        "featured",
        "publicKey",
        "preferredUsername",
        "name",
        "summary",
        "published",
        "manuallyApprovesFollowers",
        "discoverable",
    ] {
        assert!(!group[field].is_null(), "Group lacks {field}: {group}");
    }
    assert_eq!(group["type"], "Group");
    assert!(group["endpoints"]["sharedInbox"].is_string());
    let html = a.client.get(a.url("/c/net")).send().await.unwrap();
    assert!(html.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(html.headers().contains_key("content-security-policy"));
    let text = html.text().await.unwrap();
    assert!(text.contains("London Networks") && text.contains("0 members"));

    // The instance actor can sign fetches: it has a username and WebFinger.
    let (_, actor) = a.get_ap(&a.url("/actor")).await;
    assert_eq!(actor["type"], "Application");
    let username = actor["preferredUsername"].as_str().unwrap();
    let res = a
        .client
        .get(a.url(&format!(
            "/.well-known/webfinger?resource=acct:{username}@{}",
            a.domain
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let links: Value = a
        .client
        .get(a.url("/.well-known/nodeinfo"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let href = links["links"][0]["href"].as_str().unwrap();
    let info: Value = a
        .client
        .get(href)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["version"], "2.1");
    assert_eq!(info["usage"]["users"]["total"], 1);
    // Unknown names are 404, in one name space.
    let res = a
        .client
        .get(a.url(&format!(
            "/.well-known/webfinger?resource=acct:nobody@{}",
            a.domain
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_errors_name_the_field() {
    let a = TestInstance::spawn("alpha").await;
    a.create_community("net", "London Networks").await;
    let ana = a.create_user("ana").await;
    let posts = "/api/v1/communities/net/posts";
    let (s, _) = a
        .api(
            Method::POST,
            posts,
            None,
            Some(json!({"title": "x", "content": "y"})),
        )
        .await;
    assert_eq!(s, 401);
    let (s, e) = a
        .api(
            Method::POST,
            posts,
            Some(&ana),
            Some(json!({"content": "y"})),
        )
        .await;
    assert_eq!((s, e["field"].as_str()), (400, Some("title")), "{e}");
    let (s, e) = a
        .api(
            Method::POST,
            posts,
            Some(&ana),
            Some(json!({"title": 5, "content": "y"})),
        )
        .await;
    assert_eq!((s, e["field"].as_str()), (400, Some("title")), "{e}");
    let (s, e) = a
        .api(
            Method::POST,
            posts,
            Some(&ana),
            Some(json!({"title": "  ", "content": "y"})),
        )
        .await;
    assert_eq!((s, e["field"].as_str()), (422, Some("title")), "{e}");
    let (s, _) = a
        .api(
            Method::POST,
            "/api/v1/communities/nope/posts",
            Some(&ana),
            Some(json!({"title": "t", "content": "y"})),
        )
        .await;
    assert_eq!(s, 404);
    let (s, e) = a
        .api(
            Method::POST,
            "/api/v1/communities",
            Some(&ana),
            Some(json!({"name": "Bad Name", "title": "t"})),
        )
        .await;
    assert_eq!((s, e["field"].as_str()), (422, Some("name")), "{e}");
    let (s, e) = a
        .api(
            Method::POST,
            "/api/v1/communities",
            Some(&ana),
            Some(json!({"name": "ana", "title": "t"})),
        )
        .await;
    assert_eq!(
        (s, e["field"].as_str()),
        (409, Some("name")),
        "people and communities share names: {e}"
    );
    assert_eq!(post::Entity::find().count(a.db()).await.unwrap(), 0);
    // A good post renders markdown to sanitised HTML.
    let (s, p) = a.api(Method::POST, posts, Some(&ana), Some(json!({"title": "t", "content": "*hi* <script>alert(1)</script><a href=\"javascript:x()\">j</a>"}))).await;
    assert_eq!(s, 201);
    let html = p["content"].as_str().unwrap();
    assert!(
        html.contains("<em>hi</em>") && !html.contains("<script") && !html.contains("javascript:"),
        "{html}"
    );
    let (s, list) = a.api(Method::GET, posts, None, None).await;
    assert_eq!(s, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (s, e) = a
        .api(Method::GET, &format!("{posts}?limit=1000"), None, None)
        .await;
    assert_eq!((s, e["field"].as_str()), (422, Some("limit")));
}
