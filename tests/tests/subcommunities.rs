//! Sub-communities: a coordinator places a community under one they also coordinate, the
//! relation is published on both `Group`s (as `parent`, the `subcommunities` collection and
//! profile fields Mastodon shows) and on their pages; nobody files a community under one they do
//! not coordinate, nor under itself; coordinators of the parent act in the children; a
//! sub-community may admit only members of its parent, here and from other servers; and another
//! Copse server shows where a community it follows sits, and follows it when it moves.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::community;
use copse_tests::{
    builders::T,
    fake::{FakeActor, FakeServer},
    wait_for, TestInstance,
};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use url::Url;

async fn put_settings(a: &TestInstance, token: &str, name: &str, body: Value) -> (u16, Value) {
    a.api(
        Method::PUT,
        &format!("/api/v1/communities/{name}/settings"),
        Some(token),
        Some(body),
    )
    .await
}

async fn row(i: &TestInstance, ap_id: &Url) -> Option<community::Model> {
    community::Entity::find()
        .filter(community::Column::ApId.eq(ap_id.as_str()))
        .one(i.db())
        .await
        .unwrap()
}

async fn page(i: &TestInstance, path: &str) -> String {
    let res = i.client.get(i.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.unwrap()
}

fn field<'a>(group: &'a Value, name: &str) -> Option<&'a str> {
    group["attachment"]
        .as_array()?
        .iter()
        .find(|f| f["name"] == name)?["value"]
        .as_str()
}

#[tokio::test]
async fn a_coordinator_places_a_community_under_one_they_coordinate() {
    let a = TestInstance::spawn("alpha").await;
    let alice = a.create_user("alice").await;
    let bob = a.create_user("bob").await;
    a.community_with(&alice, "national", json!({ "membership_policy": "open" }))
        .await;
    a.community_with(&alice, "london", json!({ "membership_policy": "open" }))
        .await;
    a.community_with(&bob, "camden", json!({ "membership_policy": "open" }))
        .await;
    let (national, london) = (a.url("/c/national"), a.url("/c/london"));

    let (s, body) = put_settings(&a, &alice, "london", json!({ "parent": "national" })).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["parent"], national.as_str());

    // The child names its parent, for Copse and as a profile field for Mastodon.
    let (_, g) = a.get_ap(&london).await;
    assert_eq!(g["parent"], national.as_str(), "{g}");
    assert!(g["@context"].to_string().contains("copse:parent"));
    let part_of = field(&g, "Part of").expect("a Part of field");
    assert!(part_of.contains(national.as_str()) && part_of.contains("The national"));
    // The parent lists it.
    let (_, p) = a.get_ap(&national).await;
    let list = Url::parse(p["subcommunities"].as_str().unwrap()).unwrap();
    assert_eq!(list, a.url("/c/national/subcommunities"));
    assert!(field(&p, "Sub-communities")
        .unwrap()
        .contains("1 community"));
    let (s, coll) = a.get_ap(&list).await;
    assert_eq!(s, 200);
    assert_eq!(coll["type"], "OrderedCollection");
    assert_eq!(coll["totalItems"], 1);
    assert_eq!(coll["orderedItems"], json!([london.as_str()]));
    // The API says the same.
    let (_, view) = a
        .api(Method::GET, "/api/v1/communities/london", None, None)
        .await;
    assert_eq!(view["parent"]["title"], "The national", "{view}");
    assert_eq!(view["parent"]["handle"], format!("national@{}", a.domain));
    let (_, list) = a
        .api(
            Method::GET,
            "/api/v1/communities/national/subcommunities",
            None,
            None,
        )
        .await;
    assert_eq!(
        list["items"][0]["handle"],
        format!("london@{}", a.domain),
        "{list}"
    );
    // And the pages.
    let html = page(&a, "/c/national").await;
    assert!(html.contains("<h2>Sub-communities</h2>") && html.contains("href=\"/c/london\""));
    let html = page(&a, "/c/london").await;
    assert!(
        html.contains("Part of <a href=\"/c/national\">The national</a>"),
        "{html}"
    );
    let html = page(&a, "/c/national/subcommunities").await;
    assert!(html.contains("Communities under The national") && html.contains("The london"));

    // Bob coordinates camden but not national: refused, naming the field, and nothing changes.
    let (s, body) = put_settings(&a, &bob, "camden", json!({ "parent": "national" })).await;
    assert_eq!(s, 403, "{body}");
    assert_eq!(body["field"], "parent");
    assert!(row(&a, &a.url("/c/camden"))
        .await
        .unwrap()
        .parent_ap_id
        .is_none());
    let (s, body) = put_settings(&a, &bob, "camden", json!({ "parent": "nowhere" })).await;
    assert_eq!((s, body["field"].as_str()), (422, Some("parent")), "{body}");
    // No loops: national cannot sit under london, nor london under itself.
    let (s, body) = put_settings(&a, &alice, "national", json!({ "parent": "london" })).await;
    assert_eq!((s, body["field"].as_str()), (422, Some("parent")), "{body}");
    let (s, _) = put_settings(&a, &alice, "london", json!({ "parent": "london" })).await;
    assert_eq!(s, 422);
    assert!(row(&a, &national).await.unwrap().parent_ap_id.is_none());

    // Taken from under it: both documents say so.
    let (s, body) = put_settings(&a, &alice, "london", json!({ "parent": "" })).await;
    assert_eq!(s, 200, "{body}");
    assert!(body["parent"].is_null());
    let (_, g) = a.get_ap(&london).await;
    assert!(
        g.get("parent").is_none() && field(&g, "Part of").is_none(),
        "{g}"
    );
    let (_, coll) = a.get_ap(&a.url("/c/national/subcommunities")).await;
    assert_eq!(coll["totalItems"], 0);
}

#[tokio::test]
async fn coordinators_of_the_parent_act_in_its_sub_communities() {
    let a = TestInstance::spawn("alpha").await;
    let alice = a.create_user("alice").await;
    let carol = a.create_user("carol").await;
    let dave = a.create_user("dave").await;
    let erin = a.create_user("erin").await;
    a.community_with(&alice, "national", json!({ "membership_policy": "open" }))
        .await;
    a.community_with(
        &carol,
        "hackney",
        json!({ "membership_policy": "approval" }),
    )
    .await;
    // From the command line (no person acting), any community may be placed.
    let hackney = row(&a, &a.url("/c/hackney")).await.unwrap();
    let placed = copse_server::accounts::CommunitySettings {
        parent: Some("national".into()),
        ..Default::default()
    };
    copse_server::accounts::update_community(&a.data(), &hackney, placed, None)
        .await
        .unwrap();
    let (s, _) = a.follow(&erin, format!("national@{}", a.domain)).await;
    assert_eq!(s, 202);
    let body =
        json!({ "community": format!("hackney@{}", a.domain), "reason": "I run a group here" });
    let (s, _) = a
        .api(Method::POST, "/api/v1/follows", Some(&dave), Some(body))
        .await;
    assert_eq!(s, 202);

    // Alice has no role in hackney, but coordinates national: she sees and decides requests.
    let (s, list) = a
        .api(
            Method::GET,
            "/api/v1/communities/hackney/requests",
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["items"][0]["reason"], "I run a group here", "{list}");
    // A member of national is not a coordinator of hackney.
    let (s, _) = a
        .api(
            Method::GET,
            "/api/v1/communities/hackney/requests",
            Some(&erin),
            None,
        )
        .await;
    assert_eq!(s, 403);
    let dave_id = a.local_person_id("dave").await;
    let (s, body) = a
        .api(
            Method::POST,
            &format!("/api/v1/communities/hackney/requests/{dave_id}/approve"),
            Some(&alice),
            Some(json!({})),
        )
        .await;
    assert!(s == 200 || s == 204, "{s} {body}");
    let m = copse_federation::store::members::role_of(a.db(), hackney.id, dave_id)
        .await
        .unwrap();
    assert!(m.is_some(), "dave is a member of hackney");
}

#[tokio::test]
async fn a_sub_community_may_admit_only_members_of_its_parent() {
    let a = TestInstance::spawn("alpha").await;
    let fake = FakeServer::start().await;
    let alice = a.create_user("alice").await;
    let dave = a.create_user("dave").await;
    a.community_with(&alice, "national", json!({ "membership_policy": "open" }))
        .await;
    a.community_with(
        &alice,
        "london",
        json!({ "membership_policy": "open", "parent": "national", "parent_members_only": true }),
    )
    .await;
    let (_, view) = a
        .api(Method::GET, "/api/v1/communities/london", None, None)
        .await;
    assert_eq!(view["parent_members_only"], true, "{view}");

    // Dave is not a member of national: refused, with what to do.
    let (s, body) = a.follow(&dave, format!("london@{}", a.domain)).await;
    assert_eq!(s, 403, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("join it first"),
        "{body}"
    );
    let london = row(&a, &a.url("/c/london")).await.unwrap();
    let dave_id = a.local_person_id("dave").await;
    assert!(
        copse_federation::store::members::membership(a.db(), london.id, dave_id)
            .await
            .unwrap()
            .is_none()
    );
    let (s, _) = a.follow(&dave, format!("national@{}", a.domain)).await;
    assert_eq!(s, 202);
    let (s, body) = a.follow(&dave, format!("london@{}", a.domain)).await;
    assert_eq!(
        (s, body["status"].as_str()),
        (202, Some("joined")),
        "{body}"
    );

    // From another server: a Reject and a note saying why; after joining national, an Accept.
    let mona: FakeActor = fake.actor("masto", "mona");
    let follow = |n: u32, group: &Url| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/follows/{n}", fake.base("masto")),
            "type": "Follow", "actor": mona.id, "object": group
        })
    };
    let london_id = a.url("/c/london");
    let inbox = a.url("/c/london/inbox");
    assert_eq!(
        mona.deliver(&a.client, &inbox, &follow(1, &london_id))
            .await,
        202
    );
    wait_for("the Reject", T, || async {
        fake.posted("masto").iter().any(|v| v["type"] == "Reject")
    })
    .await;
    let note = fake
        .posted("masto")
        .into_iter()
        .find(|v| v["type"] == "Create")
        .expect("a note saying why");
    assert!(note["object"]["content"]
        .as_str()
        .unwrap()
        .contains("Only members of The national may join The london"));
    a.follow_as(&fake, &mona, "masto", &a.url("/c/national"))
        .await;
    assert_eq!(
        mona.deliver(&a.client, &inbox, &follow(3, &london_id))
            .await,
        202
    );
    wait_for("the Accept of the second follow", T, || async {
        fake.posted("masto").iter().any(|v| {
            v["type"] == "Accept"
                && v["object"]["id"] == format!("{}/follows/3", fake.base("masto"))
        })
    })
    .await;
}

#[tokio::test]
async fn another_server_shows_where_a_remote_community_sits() {
    let a = TestInstance::spawn("alpha").await;
    let b = TestInstance::spawn("beta").await;
    let alice = a.create_user("alice").await;
    a.community_with(&alice, "national", json!({ "membership_policy": "open" }))
        .await;
    a.community_with(
        &alice,
        "london",
        json!({ "membership_policy": "open", "parent": "national" }),
    )
    .await;
    let (national, london) = (a.url("/c/national"), a.url("/c/london"));

    // Bob on beta joins london: beta fetches it, and the community above it.
    let bob = b.create_user("bob").await;
    let (s, body) = b.follow(&bob, format!("london@{}", a.domain)).await;
    assert!(s == 200 || s == 202, "{s} {body}");
    let there = row(&b, &london).await.expect("london known on beta");
    assert_eq!(
        there.parent_ap_id.as_ref().map(|p| p.0.clone()),
        Some(national.clone())
    );
    assert!(row(&b, &national).await.is_some(), "national fetched too");
    let html = page(&b, &format!("/c/london@{}", a.domain)).await;
    assert!(
        html.contains(&format!(
            "Part of <a href=\"/c/national@{}\">The national</a>",
            a.domain
        )),
        "{html}"
    );
    let html = page(&b, &format!("/c/national@{}", a.domain)).await;
    assert!(
        html.contains(&format!("href=\"/c/london@{}\"", a.domain)),
        "{html}"
    );

    // Alice takes london from under national: beta, a follower's server once bob is admitted,
    // hears it (`Update{Group}`).
    wait_for("bob admitted", T, || async {
        !b.received("Accept").await.is_empty()
    })
    .await;
    // The community's public welcome reaches beta too: a note of a community, not a failure.
    wait_for("the welcome on beta", T, || async {
        !b.received("Create").await.is_empty()
    })
    .await;
    b.settled().await;
    let failed = copse_entities::received_activity::Entity::find()
        .filter(
            copse_entities::received_activity::Column::Status
                .eq(copse_entities::received_activity::InboxStatus::Failed),
        )
        .all(b.db())
        .await
        .unwrap();
    assert!(failed.is_empty(), "{failed:?}");
    let (s, _) = put_settings(&a, &alice, "london", json!({ "parent": "" })).await;
    assert_eq!(s, 200);
    wait_for("beta to learn that london moved", T, || async {
        row(&b, &london).await.unwrap().parent_ap_id.is_none()
    })
    .await;
}

/// Serves `g`'s document again with `parent` set.
async fn with_parent(a: &TestInstance, fake: &FakeServer, g: &FakeActor, parent: &Url) {
    let res = a.client.get(g.id.as_str()).send().await.unwrap();
    let mut doc: Value = res.json().await.unwrap();
    doc["parent"] = json!(parent);
    fake.serve(&g.id, doc);
}

#[tokio::test]
async fn a_server_names_a_parent_only_among_its_own_communities() {
    let a = TestInstance::spawn("alpha").await;
    let fake = FakeServer::start().await;
    let alice = a.create_user("alice").await;
    let bob = a.create_user("bob").await;
    a.community_with(&alice, "national", json!({ "membership_policy": "open" }))
        .await;
    // A group on another server claims to sit under alpha's national.
    let spoof = fake.group("spoof", "claimant");
    with_parent(&a, &fake, &spoof, &a.url("/c/national")).await;
    let (s, body) = a
        .follow(&bob, format!("claimant@spoof.localhost:{}", fake.port))
        .await;
    assert!(s == 200 || s == 202, "{s} {body}");
    assert!(row(&a, &spoof.id).await.unwrap().parent_ap_id.is_none());
    let (_, coll) = a.get_ap(&a.url("/c/national/subcommunities")).await;
    assert_eq!(coll["totalItems"], 0, "{coll}");

    // On one server, a group under another of that server: the parent is fetched with it, and
    // its page here lists the group (a group naming itself is kept under nothing).
    let region = fake.group("lemmy", "region");
    with_parent(&a, &fake, &region, &region.id).await;
    let local = fake.group("lemmy", "local");
    with_parent(&a, &fake, &local, &region.id).await;
    let (s, body) = a
        .follow(&bob, format!("local@lemmy.localhost:{}", fake.port))
        .await;
    assert!(s == 200 || s == 202, "{s} {body}");
    let stored = row(&a, &local.id).await.unwrap();
    assert_eq!(stored.parent_ap_id.map(|p| p.0), Some(region.id.clone()));
    let parent = row(&a, &region.id).await.expect("the parent was fetched");
    assert_eq!(parent.title, "The region");
    assert!(parent.parent_ap_id.is_none());
    let html = page(&a, &format!("/c/region@lemmy.localhost:{}", fake.port)).await;
    assert!(html.contains("The local"), "{html}");
}
