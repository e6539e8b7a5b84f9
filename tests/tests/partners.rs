//! Partner communities: a Copse community asks one on another Copse server to partner (its Group
//! follows the other), that community's coordinator approves, and each lists the other; what the
//! partner publishes arrives "from partners", where a coordinator shares it with the community's
//! own followers one at a time, automatically, or through a queue; ending it undoes the follow.
//! The same with fake peers shaped as Lemmy (a community answering the Group's follow) and
//! NodeBB (a category following a Copse community, as its category sync does).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::partnership;
use copse_tests::{
    builders::{communities::fake_follower, T},
    fake::{FakeActor, FakeServer},
    wait_for, TestInstance,
};
use reqwest::Method;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{json, Value};
use url::Url;

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

async fn partnerships(i: &TestInstance) -> Vec<partnership::Model> {
    partnership::Entity::find().all(i.db()).await.unwrap()
}

/// A topic in `community` on `i` by the account with `token`; its JSON.
async fn topic_in(i: &TestInstance, token: &str, community: &str, title: &str) -> Value {
    let (s, topic) = i
        .api(
            Method::POST,
            &format!("/api/v1/communities/{community}/posts"),
            Some(token),
            Some(json!({ "title": title, "content": "Text." })),
        )
        .await;
    assert_eq!(s, 201, "{topic}");
    topic
}

/// A GET of the API, anonymous: its JSON.
async fn get_json(i: &TestInstance, path: &str) -> Value {
    i.api(Method::GET, path, None, None).await.1
}

/// Waits until a partnership on `a` is accepted.
async fn accepted(a: &TestInstance) {
    wait_for("the partnership accepted", T, || async {
        partnerships(a).await.iter().any(|p| !p.pending)
    })
    .await;
}

fn announces_of(fake: &FakeServer, label: &str, object: &str) -> usize {
    fake.posted(label)
        .iter()
        .filter(|v| v["type"] == "Announce" && v["object"] == object)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_copse_communities_partner_and_share_across_servers() {
    let a = TestInstance::spawn("alpha").await;
    let b = TestInstance::spawn("beta").await;
    let fake = FakeServer::start().await;
    let alice = a.create_user("alice").await;
    let bea = b.create_user("bea").await;
    a.community_with(&alice, "leeds", json!({ "membership_policy": "open" }))
        .await;
    b.community_with(
        &bea,
        "york",
        json!({ "membership_policy": "approval", "topic_policy": "anyone", "reply_policy": "anyone" }),
    )
    .await;
    // A Mastodon user follows leeds: shares reach them; so does a member on a third server.
    let fan = fake_follower(&a, &fake, "masto", "fan", &a.url("/c/leeds")).await;
    let c = TestInstance::spawn("gamma").await;
    let gus = copse_tests::builders::communities::copse_member(&a, &c, "gus", "leeds").await;
    assert!(!gus.is_empty());

    let york = format!("york@{}", b.domain);
    let (s, body) = a
        .api(
            Method::POST,
            "/api/v1/communities/leeds/partners",
            Some(&alice),
            Some(json!({ "community": york })),
        )
        .await;
    assert_eq!(
        (s, body["status"].as_str()),
        (202, Some("pending")),
        "{body}"
    );
    // Only coordinators ask.
    let bob = a.create_user("bob").await;
    let (s, _) = a
        .api(
            Method::POST,
            "/api/v1/communities/leeds/partners",
            Some(&bob),
            Some(json!({ "community": york })),
        )
        .await;
    assert_eq!(s, 403);

    // Something york published before: read back from its outbox once partners.
    let cy = b.create_user("cy").await;
    let before = topic_in(&b, &cy, "york", "Before we met").await;
    // York approves members, so bea decides.
    wait_for("the request on beta", T, || async {
        !partnerships(&b).await.is_empty()
    })
    .await;
    let (s, list) = b
        .api(
            Method::GET,
            "/api/v1/communities/york/partners/requests",
            Some(&bea),
            None,
        )
        .await;
    assert_eq!(s, 200, "{list}");
    let request = &list["items"][0];
    assert_eq!(request["direction"], "followed_by", "{list}");
    assert_eq!(
        request["community"]["handle"],
        format!("leeds@{}", a.domain)
    );
    let id = request["id"].as_i64().unwrap();
    let (s, body) = b
        .api(
            Method::POST,
            &format!("/api/v1/communities/york/partners/requests/{id}/approve"),
            Some(&bea),
            None,
        )
        .await;
    assert_eq!(s, 204, "{body}");
    accepted(&a).await;

    // Both list each other, in the API and on the Groups.
    let mine = get_json(&a, "/api/v1/communities/leeds/partners").await;
    assert_eq!(mine["items"][0]["direction"], "follows", "{mine}");
    assert_eq!(mine["items"][0]["share"], "off");
    let york_id = b.url("/c/york");
    let (_, following) = a.get_ap(&a.url("/c/leeds/following")).await;
    assert_eq!(
        following["orderedItems"],
        json!([york_id.as_str()]),
        "{following}"
    );
    let (_, theirs) = b.get_ap(&b.url("/c/york/partners")).await;
    assert_eq!(
        theirs["orderedItems"],
        json!([a.url("/c/leeds").as_str()]),
        "{theirs}"
    );
    let (_, g) = a.get_ap(&a.url("/c/leeds")).await;
    assert_eq!(g["partners"], a.url("/c/leeds/partners").as_str());

    let list = get_json(&a, "/api/v1/communities/leeds/from-partners").await;
    assert_eq!(list["items"][0]["id"], before["id"], "{list}");
    // A topic in york reaches leeds, from partners.
    let topic = topic_in(&b, &cy, "york", "Winter food banks").await;
    let topic_id = topic["id"].as_str().unwrap().to_string();
    wait_for("the topic on alpha", T, || async {
        let list = get_json(&a, "/api/v1/communities/leeds/from-partners").await;
        list["items"][0]["id"] == topic_id.as_str()
    })
    .await;
    let page = a
        .client
        .get(a.url("/c/leeds/partners"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Winter food banks") && page.contains("The york"),
        "{page}"
    );

    // Alice shares it: leeds announces the original to its followers.
    let list = get_json(&a, "/api/v1/communities/leeds/from-partners").await;
    let local_id = list["items"][0]["local_id"].as_i64().unwrap();
    let (s, body) = a
        .api(
            Method::POST,
            "/api/v1/communities/leeds/shares",
            Some(&alice),
            Some(json!({ "post": local_id })),
        )
        .await;
    assert_eq!(s, 204, "{body}");
    wait_for("the share at the fan's server", T, || async {
        announces_of(&fake, "masto", &topic_id) == 1
    })
    .await;
    // Gamma stores the shared topic in york, its own community, not in leeds.
    wait_for("the share on gamma", T, || async {
        copse_tests::builders::posts::stored(&c, &topic_id)
            .await
            .is_some()
    })
    .await;
    let there = copse_tests::builders::posts::stored(&c, &topic_id)
        .await
        .unwrap();
    let home = copse_entities::community::Entity::find_by_id(there.community_id)
        .one(c.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(home.ap_id.0, york_id);
    assert_eq!(fan.id.host_str(), Some("masto.localhost"));

    // A reply from leeds's side reaches the original thread on beta.
    let (s, reply) = a
        .api(
            Method::POST,
            &format!("/api/v1/posts/{local_id}/replies"),
            Some(&alice),
            Some(json!({ "content": "We have a van." })),
        )
        .await;
    assert_eq!(s, 201, "{reply}");
    let reply_id = reply["id"].as_str().unwrap().to_string();
    wait_for("the reply in york on beta", T, || async {
        copse_tests::builders::posts::stored(&b, &reply_id)
            .await
            .is_some_and(|r| r.topic_id.is_some())
    })
    .await;

    // Automatically: the next topic is shared at once.
    let (s, body) = a
        .api(
            Method::PUT,
            "/api/v1/communities/leeds/partners/share",
            Some(&alice),
            Some(json!({ "community": york, "share": "auto" })),
        )
        .await;
    assert_eq!(s, 204, "{body}");
    let second = topic_in(&b, &cy, "york", "Shared kitchens").await;
    let second_id = second["id"].as_str().unwrap().to_string();
    wait_for("the automatic share", T, || async {
        announces_of(&fake, "masto", &second_id) == 1
    })
    .await;

    // Through the queue: it waits until a coordinator decides.
    a.api(
        Method::PUT,
        "/api/v1/communities/leeds/partners/share",
        Some(&alice),
        Some(json!({ "community": york, "share": "queue" })),
    )
    .await;
    let third = topic_in(&b, &cy, "york", "Volunteer rotas").await;
    let third_id = third["id"].as_str().unwrap().to_string();
    wait_for("the queued share", T, || async {
        let (_, q) = a
            .api(
                Method::GET,
                "/api/v1/communities/leeds/shares",
                Some(&alice),
                None,
            )
            .await;
        q["items"][0]["id"] == third_id.as_str()
    })
    .await;
    assert_eq!(announces_of(&fake, "masto", &third_id), 0);
    let (_, q) = a
        .api(
            Method::GET,
            "/api/v1/communities/leeds/shares",
            Some(&alice),
            None,
        )
        .await;
    let queued = q["items"][0]["local_id"].as_i64().unwrap();
    let (s, _) = a
        .api(
            Method::POST,
            "/api/v1/communities/leeds/shares",
            Some(&alice),
            Some(json!({ "post": queued, "share": false })),
        )
        .await;
    assert_eq!(s, 204);
    let (_, q) = a
        .api(
            Method::GET,
            "/api/v1/communities/leeds/shares",
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(q["items"], json!([]));

    // Ending it undoes the follow on beta.
    let (s, _) = a
        .api(
            Method::DELETE,
            &format!("/api/v1/communities/leeds/partners?community={york}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(s, 204);
    wait_for("the Undo on beta", T, || async {
        partnerships(&b).await.is_empty()
    })
    .await;
    assert!(partnerships(&a).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lemmy_community_and_a_nodebb_category_partner_with_a_copse_community() {
    let a = TestInstance::spawn("alpha").await;
    let fake = FakeServer::start().await;
    let alice = a.create_user("alice").await;
    a.community_with(&alice, "leeds", json!({ "membership_policy": "open" }))
        .await;
    let leeds = a.url("/c/leeds");

    // Leeds follows a Lemmy community: the Group's own Follow, answered as Lemmy answers.
    let g = fake.group("lemmy", "cooking");
    let handle = format!("cooking@lemmy.localhost:{}", fake.port);
    let (s, body) = a
        .api(
            Method::POST,
            "/api/v1/communities/leeds/partners",
            Some(&alice),
            Some(json!({ "community": handle })),
        )
        .await;
    assert_eq!(s, 202, "{body}");
    wait_for("the Group's Follow", T, || async {
        fake.posted("lemmy")
            .iter()
            .any(|v| v["type"] == "Follow" && v["actor"] == leeds.as_str())
    })
    .await;
    let follow = fake
        .posted("lemmy")
        .into_iter()
        .find(|v| v["type"] == "Follow")
        .unwrap();
    assert_eq!(follow["object"], g.id.as_str());
    // Its outbox, which is read back once the partnership starts.
    let lea = fake.actor("lemmy", "lea");
    let old = json!({
        "id": format!("{}/post/0", fake.base("lemmy")), "type": "Page", "attributedTo": lea.id,
        "to": [g.id, PUBLIC], "audience": g.id, "name": "Stock from scraps",
        "content": "<p>Freeze them.</p>", "mediaType": "text/html",
        "published": "2026-11-01T10:00:00Z"
    });
    fake.serve(
        &Url::parse(&format!("{}/outbox", g.id)).unwrap(),
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/outbox", g.id), "type": "OrderedCollection", "totalItems": 1,
            "orderedItems": [{
                "id": format!("{}/activities/announce/0", fake.base("lemmy")), "type": "Announce",
                "actor": g.id, "to": [PUBLIC],
                "object": {
                    "id": format!("{}/activities/create/0", fake.base("lemmy")), "type": "Create",
                    "actor": lea.id, "to": [PUBLIC], "object": old
                }
            }]
        }),
    );
    let mut inner = follow.clone();
    inner.as_object_mut().unwrap().remove("@context");
    let accept = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/accept/1", fake.base("lemmy")), "type": "Accept",
        "actor": g.id, "to": [leeds], "object": inner
    });
    assert_eq!(g.deliver(&a.client, &a.url("/inbox"), &accept).await, 202);
    accepted(&a).await;

    let list = get_json(&a, "/api/v1/communities/leeds/from-partners").await;
    assert_eq!(list["items"][0]["title"], "Stock from scraps", "{list}");
    // Lemmy announces a post to its followers: it arrives from partners.
    let page_id = format!("{}/post/1", fake.base("lemmy"));
    let page = json!({
        "id": page_id, "type": "Page", "attributedTo": lea.id, "to": [g.id, PUBLIC],
        "audience": g.id, "name": "Bone broth", "content": "<p>Roast first.</p>",
        "mediaType": "text/html", "published": "2026-12-01T10:00:00Z"
    });
    fake.serve(&Url::parse(&page_id).unwrap(), page.clone());
    let announce = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/announce/1", fake.base("lemmy")), "type": "Announce",
        "actor": g.id, "to": [PUBLIC], "cc": [format!("{}/followers", g.id)],
        "object": {
            "id": format!("{}/activities/create/1", fake.base("lemmy")), "type": "Create",
            "actor": lea.id, "to": [PUBLIC], "cc": [g.id], "object": page
        }
    });
    assert_eq!(g.deliver(&a.client, &a.url("/inbox"), &announce).await, 202);
    a.settled().await;
    let list = get_json(&a, "/api/v1/communities/leeds/from-partners").await;
    assert_eq!(list["items"][0]["title"], "Bone broth", "{list}");
    assert_eq!(list["items"][0]["community"], g.id.as_str());

    // A NodeBB category follows leeds (its category sync), shaped as NodeBB serves one.
    let category: FakeActor = fake.actor("nodebb", "2");
    let base = fake.base("nodebb");
    fake.serve(
        &category.id,
        json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": category.id, "url": format!("{base}/category/2/general-discussion"),
            "inbox": format!("{}/inbox", category.id), "outbox": format!("{}/outbox", category.id),
            "type": "Group", "name": "General Discussion", "preferredUsername": "general",
            "summary": "<p>A place to talk about whatever you want</p>",
            // NodeBB names its key `#key`; the fake signs as `#main-key`.
            "publicKey": { "id": format!("{}#main-key", category.id), "owner": category.id,
                           "publicKeyPem": category.public_pem },
            "endpoints": { "sharedInbox": format!("{base}/inbox") }
        }),
    );
    let follow = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{base}/category/2#follow/leeds"), "type": "Follow",
        "actor": category.id, "object": leeds
    });
    assert_eq!(
        category
            .deliver(&a.client, &a.url("/c/leeds/inbox"), &follow)
            .await,
        202
    );
    wait_for("the Accept at NodeBB", T, || async {
        fake.posted("nodebb")
            .iter()
            .any(|v| v["type"] == "Accept" && v["object"]["actor"] == category.id.as_str())
    })
    .await;
    let (_, theirs) = a.get_ap(&a.url("/c/leeds/partners")).await;
    assert_eq!(theirs["totalItems"], 2, "{theirs}");
    // What leeds publishes now reaches the category.
    let topic = topic_in(&a, &alice, "leeds", "Seed swaps").await;
    let id = topic["id"].as_str().unwrap().to_string();
    wait_for("the topic at NodeBB", T, || async {
        fake.posted("nodebb")
            .iter()
            .any(|v| v["type"] == "Announce" && v["object"]["object"]["id"] == id.as_str())
    })
    .await;
    // It unfollows: the partnership ends.
    let undo = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{base}/category/2#undo/leeds"), "type": "Undo",
        "actor": category.id, "object": follow
    });
    assert_eq!(
        category
            .deliver(&a.client, &a.url("/c/leeds/inbox"), &undo)
            .await,
        202
    );
    a.settled().await;
    let left = partnership::Entity::find().count(a.db()).await.unwrap();
    assert_eq!(left, 1, "only the Lemmy partnership is left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mobilizon_group_s_events_reach_a_partner_and_are_shared_automatically() {
    let Some(path) = copse_tests::fixture("fediverse/mobilizon/objects/event.json") else {
        return;
    };
    let a = TestInstance::spawn("alpha").await;
    let fake = FakeServer::start().await;
    let alice = a.create_user("alice").await;
    a.community_with(&alice, "leeds", json!({ "membership_policy": "open" }))
        .await;
    let fan = fake_follower(&a, &fake, "masto", "fan", &a.url("/c/leeds")).await;
    let base = fake.base("mobi");
    let devon = fake.actor("mobi", "devon");
    fake.actor("mobi", "emorrp1");
    let event: Value = serde_json::from_str(
        &std::fs::read_to_string(path)
            .unwrap()
            .replace(
                "https://rendezvous.nomagic.uk/@devon_caledonian_society",
                &format!("{base}/users/devon"),
            )
            .replace(
                "https://rendezvous.nomagic.uk/@emorrp1",
                &format!("{base}/users/emorrp1"),
            )
            .replace("https://rendezvous.nomagic.uk", &base),
    )
    .unwrap();
    // Mobilizon's group, as it serves one (no outbox to read back here).
    fake.serve(
        &devon.id,
        json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": devon.id, "type": "Group", "preferredUsername": "devon",
            "name": "Devon Caledonian Society",
            "inbox": format!("{}/inbox", devon.id), "outbox": format!("{}/outbox", devon.id),
            "followers": format!("{}/followers", devon.id),
            "endpoints": { "sharedInbox": format!("{base}/inbox") },
            "publicKey": { "id": format!("{}#main-key", devon.id), "owner": devon.id, "publicKeyPem": devon.public_pem }
        }),
    );
    fake.serve(
        &Url::parse(&format!("{base}/.well-known/webfinger")).unwrap(),
        json!({
            "subject": format!("acct:devon@mobi.localhost:{}", fake.port),
            "links": [{ "rel": "self", "type": "application/activity+json", "href": devon.id }]
        }),
    );
    let (s, body) = a
        .api(
            Method::POST,
            "/api/v1/communities/leeds/partners",
            Some(&alice),
            Some(json!({ "community": format!("devon@mobi.localhost:{}", fake.port) })),
        )
        .await;
    assert_eq!(s, 202, "{body}");
    wait_for("the Group's Follow", T, || async {
        fake.posted("mobi").iter().any(|v| v["type"] == "Follow")
    })
    .await;
    let follow = fake
        .posted("mobi")
        .into_iter()
        .find(|v| v["type"] == "Follow")
        .unwrap();
    // Mobilizon names the follow by its id.
    let accept = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{base}/accept/follow/1"), "type": "Accept", "actor": devon.id,
        "to": [a.url("/c/leeds")], "object": follow["id"]
    });
    assert_eq!(
        devon.deliver(&a.client, &a.url("/inbox"), &accept).await,
        202
    );
    accepted(&a).await;
    a.api(
        Method::PUT,
        "/api/v1/communities/leeds/partners/share",
        Some(&alice),
        Some(
            json!({ "community": format!("devon@mobi.localhost:{}", fake.port), "share": "auto" }),
        ),
    )
    .await;

    let create = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{base}/creates/1"), "type": "Create", "actor": devon.id,
        "to": [PUBLIC], "object": event
    });
    let mut inner = create.clone();
    inner.as_object_mut().unwrap().remove("@context");
    let announce = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{base}/announces/1"), "type": "Announce", "actor": devon.id,
        "to": [PUBLIC], "object": inner
    });
    assert_eq!(
        devon.deliver(&a.client, &a.url("/inbox"), &announce).await,
        202
    );
    a.settled().await;
    let list = get_json(&a, "/api/v1/communities/leeds/from-partners").await;
    assert_eq!(
        list["items"][0]["title"], "Caledonian scottish dance class",
        "{list}"
    );
    let id = event["id"].as_str().unwrap().to_string();
    wait_for("the event shared with leeds's followers", T, || async {
        announces_of(&fake, "masto", &id) == 1
    })
    .await;
    assert!(fan.id.as_str().contains("masto"));
}
