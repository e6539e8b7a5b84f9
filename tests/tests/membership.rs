//! Membership across instances: each joining policy, roles, welcomes, removal and bans, all
//! federated and recorded.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::community_follower;
use copse_tests::{
    builders::{
        activities::wait_received,
        communities::{accepted_follows, member_id},
        T,
    },
    fake::FakeServer,
    wait_for, TestInstance,
};
use reqwest::Method;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_join_welcome_roles_and_bans_federate() {
    let a = TestInstance::spawn("alpha").await;
    let b = TestInstance::spawn("beta").await;
    let c = TestInstance::spawn("gamma").await;
    let ana = a.create_user("ana").await;
    let max = a.create_user("max").await;
    let bob = b.create_user("bob").await;
    let cyd = c.create_user("cyd").await;
    a.community_with(&ana, "net", json!({ "rules": "Be kind.", "purpose": "Share practice.", "welcome_template": "Hello {name}, welcome to {title}! Rules: {rules}" })).await;
    let handle = format!("net@{}", a.domain);

    // Mastodon shows the key facts as profile fields, and no lock for an open community.
    let (_, group) = a.get_ap(&a.url("/c/net")).await;
    assert_eq!(group["manuallyApprovesFollowers"], false);
    let fields = group["attachment"].as_array().unwrap();
    assert!(
        fields
            .iter()
            .any(|f| f["name"] == "Membership" && f["value"] == "open to all"),
        "{group}"
    );
    assert!(fields
        .iter()
        .any(|f| f["name"] == "Code of conduct"
            && f["value"].as_str().unwrap().contains("/c/net/rules")));

    let (s, j) = c.follow(&cyd, &handle).await;
    assert_eq!((s, j["status"].as_str()), (202, Some("pending")));
    wait_for("cyd accepted", T, || async {
        accepted_follows(&c).await == 1
    })
    .await;
    let (s, _) = a.follow(&max, &"net").await;
    assert_eq!(s, 202);
    let (s, _) = b.follow(&bob, &handle).await;
    assert_eq!(s, 202);
    wait_for("bob accepted", T, || async {
        accepted_follows(&b).await == 1
    })
    .await;
    let bob_id = b.url("/u/bob").to_string();

    // The welcome reaches cyd's instance, mentioning bob, and bob is added to the members.
    let welcome = wait_received(&c, "the welcome note", |v| {
        v["type"] == "Create"
            && v["object"]["tag"]
                .as_array()
                .is_some_and(|t| t.iter().any(|m| m["href"] == bob_id.as_str()))
    })
    .await;
    let content = welcome["object"]["content"].as_str().unwrap();
    // The public welcome dereferences at its id.
    let (s, note) = c
        .get_ap(&welcome["object"]["id"].as_str().unwrap().parse().unwrap())
        .await;
    assert_eq!((s, note["type"].as_str()), (200, Some("Note")), "{note}");
    assert!(
        content.contains("welcome to The net") && content.contains("/c/net/rules"),
        "{content}"
    );
    assert!(welcome["object"]["cc"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x == bob_id.as_str()));
    wait_received(&c, "Add{bob} to members", |v| {
        v["type"] == "Add" && v["object"] == bob_id.as_str()
    })
    .await;
    let (_, members) = a.get_ap(&a.url("/c/net/members")).await;
    assert_eq!(members["totalItems"], 4, "ana, cyd, max, bob: {members}");

    // Roles: only coordinators change them; the change federates as Add to moderators.
    let bob_local = member_id(&a, "net", &bob_id).await;
    let role_path = format!("/api/v1/communities/net/members/{bob_local}/role");
    let (s, e) = a
        .api(
            Method::PUT,
            &role_path,
            Some(&max),
            Some(json!({ "role": "facilitator" })),
        )
        .await;
    assert_eq!(s, 403, "{e}");
    let (s, e) = a
        .api(
            Method::PUT,
            &role_path,
            Some(&ana),
            Some(json!({ "role": "overlord" })),
        )
        .await;
    assert_eq!((s, e["field"].as_str()), (400, Some("role")), "{e}");
    let (s, _) = a
        .api(
            Method::PUT,
            &role_path,
            Some(&ana),
            Some(json!({ "role": "facilitator" })),
        )
        .await;
    assert_eq!(s, 204);
    let add = wait_received(&c, "Announce{Add{bob, moderators}}", |v| {
        v["type"] == "Announce" && v["object"]["type"] == "Add"
    })
    .await;
    assert_eq!(add["object"]["object"], bob_id.as_str());
    assert!(add["object"]["target"]
        .as_str()
        .unwrap()
        .ends_with("/c/net/moderators"));
    let (_, mods) = a.get_ap(&a.url("/c/net/moderators")).await;
    assert!(
        mods["orderedItems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == bob_id.as_str()),
        "{mods}"
    );
    // Bob's server publishes no `discoverable`, so the directory counts him but does not name
    // him.
    let (_, dir) = a
        .api(Method::GET, "/api/v1/communities/net/members", None, None)
        .await;
    assert_eq!(dir["total"], 4, "{dir}");
    assert!(
        !dir["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["person"]["id"] == bob_id.as_str()),
        "{dir}"
    );

    // A ban federates as Block with the community as target; the banned cannot rejoin.
    let (s, e) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/bans",
            Some(&max),
            Some(json!({ "handle": format!("bob@{}", b.domain) })),
        )
        .await;
    assert_eq!(s, 403, "{e}");
    let (s, _) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/bans",
            Some(&ana),
            Some(json!({ "handle": format!("bob@{}", b.domain), "reason": "spam" })),
        )
        .await;
    assert_eq!(s, 201);
    let block = wait_received(&b, "the Block", |v| {
        v["type"] == "Announce" && v["object"]["type"] == "Block"
    })
    .await;
    assert_eq!(block["object"]["object"], bob_id.as_str());
    assert_eq!(block["object"]["target"], a.url("/c/net").as_str());
    assert_eq!(block["object"]["summary"], "spam");
    let (_, members) = a.get_ap(&a.url("/c/net/members")).await;
    assert_eq!(members["totalItems"], 3);
    let (s, _) = b.follow(&bob, &handle).await;
    assert_eq!(s, 202);
    wait_for("bob's refused follow to be dropped", T, || async {
        community_follower::Entity::find()
            .count(b.db())
            .await
            .unwrap()
            == 0
    })
    .await;

    // Unban federates as Undo{Block}; bob may join again.
    let (s, _) = a
        .api(
            Method::DELETE,
            &format!("/api/v1/communities/net/bans/{bob_local}"),
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(s, 204);
    wait_received(&b, "the Undo{Block}", |v| {
        v["type"] == "Announce" && v["object"]["type"] == "Undo"
    })
    .await;
    let (s, _) = b.follow(&bob, &handle).await;
    assert_eq!(s, 202);
    wait_for("bob accepted again", T, || async {
        accepted_follows(&b).await == 1
    })
    .await;

    // Every decision is recorded, and only coordinators read the record.
    let (s, _) = a
        .api(Method::GET, "/api/v1/communities/net/log", Some(&max), None)
        .await;
    assert_eq!(s, 403);
    let (_, log) = a
        .api(Method::GET, "/api/v1/communities/net/log", Some(&ana), None)
        .await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["action"].as_str().unwrap())
        .collect();
    for action in ["join", "role", "ban", "refuse", "unban"] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
    let ban = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["action"] == "ban")
        .unwrap();
    assert_eq!(ban["reason"], "spam");
    assert_eq!(ban["who"], a.url("/u/ana").as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_captures_the_reason_then_approves_or_declines() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    a.community_with(
        &ana,
        "circle",
        json!({ "membership_policy": "approval", "rules": "Be kind." }),
    )
    .await;
    let (_, group) = a.get_ap(&a.url("/c/circle")).await;
    assert_eq!(
        group["manuallyApprovesFollowers"], true,
        "Mastodon shows a lock"
    );
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    let leo = fake.actor("masto", "leo");
    // Mia lets her account be listed in directories, as Mastodon publishes it.
    let mut doc: Value = a
        .client
        .get(mia.id.as_str())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    doc["discoverable"] = json!(true);
    fake.serve(&mia.id, doc);
    let group_id = a.url("/c/circle");
    let inbox = a.url("/c/circle/inbox");
    for (who, n) in [(&mia, 1), (&leo, 2)] {
        let follow = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/follows/{n}", fake.base("masto")), "type": "Follow", "actor": who.id, "object": group_id
        });
        assert_eq!(who.deliver(&a.client, &inbox, &follow).await, 202);
    }
    // Each applicant gets a direct note with the code of conduct, asking why.
    wait_for("the direct notes", T, || async {
        !fake.inbox_of("masto", "mia").is_empty() && !fake.inbox_of("masto", "leo").is_empty()
    })
    .await;
    let dm = &fake.inbox_of("masto", "mia")[0];
    assert_eq!(dm["type"], "Create");
    assert_eq!(dm["object"]["to"], json!([mia.id]));
    assert!(dm["object"]["content"]
        .as_str()
        .unwrap()
        .contains("/c/circle/rules"));

    // Mia replies directly, as Mastodon would: a mention of the group, not public.
    let reply = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/statuses/9/activity", fake.base("masto")), "type": "Create", "actor": mia.id,
        "to": [group_id], "cc": [],
        "object": {
            "id": format!("{}/statuses/9", fake.base("masto")), "type": "Note", "attributedTo": mia.id,
            "to": [group_id], "cc": [], "inReplyTo": dm["object"]["id"],
            "content": "<p><span class=\"h-card\"><a href=\"x\" class=\"u-url mention\">@<span>circle</span></a></span> I coordinate a network of youth workers.</p>",
            "tag": [{ "type": "Mention", "href": group_id }]
        }
    });
    assert_eq!(mia.deliver(&a.client, &inbox, &reply).await, 202);
    wait_for("the reason on the request", T, || async {
        let requests = a
            .api(
                Method::GET,
                "/api/v1/communities/circle/requests",
                Some(&ana),
                None,
            )
            .await
            .1;
        requests["items"].as_array().is_some_and(|i| {
            i.iter()
                .any(|r| r["reason"] == "I coordinate a network of youth workers.")
        })
    })
    .await;
    let requests = a
        .api(
            Method::GET,
            "/api/v1/communities/circle/requests",
            Some(&ana),
            None,
        )
        .await
        .1;
    let id_of = |who: &url::Url| {
        requests["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["person"]["id"] == who.as_str())
            .unwrap()["person"]["local_id"]
            .as_i64()
            .unwrap()
    };
    let (mia_id, leo_id) = (id_of(&mia.id), id_of(&leo.id));

    let (s, _) = a
        .api(
            Method::POST,
            &format!("/api/v1/communities/circle/requests/{mia_id}/approve"),
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(s, 204);
    wait_for("mia's Accept", T, || async {
        fake.inbox_of("masto", "mia")
            .iter()
            .any(|v| v["type"] == "Accept")
    })
    .await;
    member_id(&a, "circle", mia.id.as_str()).await;
    // The directory shows the profile her own server publishes.
    let (_, dir) = a
        .api(
            Method::GET,
            "/api/v1/communities/circle/members",
            None,
            None,
        )
        .await;
    let entry = dir["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["person"]["id"] == mia.id.as_str())
        .unwrap()
        .clone();
    assert_eq!(entry["person"]["name"], "mia");
    assert_eq!(
        entry["person"]["avatar"],
        format!("{}/avatars/mia.png", fake.base("masto"))
    );
    assert_eq!(entry["role"], "member");

    let (s, _) = a
        .api(
            Method::POST,
            &format!("/api/v1/communities/circle/requests/{leo_id}/decline"),
            Some(&ana),
            Some(json!({ "message": "We are full this term." })),
        )
        .await;
    assert_eq!(s, 204);
    wait_for("leo's Reject and note", T, || async {
        let inbox = fake.inbox_of("masto", "leo");
        inbox
            .iter()
            .any(|v| v["type"] == "Reject" && v["object"]["actor"] == leo.id.as_str())
            && inbox.iter().any(|v| {
                v["type"] == "Create"
                    && v["object"]["content"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("We are full")
            })
    })
    .await;
    let (_, log) = a
        .api(
            Method::GET,
            "/api/v1/communities/circle/log",
            Some(&ana),
            None,
        )
        .await;
    let approve = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["action"] == "approve")
        .unwrap();
    assert_eq!(
        approve["reason"],
        "I coordinate a network of youth workers."
    );
    assert!(log["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["action"] == "decline" && l["reason"] == "We are full this term."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_admit_the_invited_and_refuse_the_rest() {
    let a = TestInstance::spawn("alpha").await;
    let b = TestInstance::spawn("beta").await;
    let ana = a.create_user("ana").await;
    let max = a.create_user("max").await;
    let bob = b.create_user("bob").await;
    a.community_with(
        &ana,
        "inner",
        json!({ "membership_policy": "invite", "welcome_mode": "direct" }),
    )
    .await;
    let handle = format!("inner@{}", a.domain);

    let (s, _) = a
        .api(
            Method::POST,
            "/api/v1/communities/inner/invites",
            Some(&max),
            Some(json!({ "handle": format!("bob@{}", b.domain) })),
        )
        .await;
    assert_eq!(s, 403, "members cannot invite");
    let (s, e) = a
        .api(
            Method::POST,
            "/api/v1/communities/inner/invites",
            Some(&ana),
            Some(json!({ "handle": format!("bob@{}", b.domain) })),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    let invite = wait_received(&b, "the Invite", |v| v["type"] == "Invite").await;
    assert_eq!(invite["target"], b.url("/u/bob").as_str());
    wait_received(&b, "the invitation note", |v| {
        v["type"] == "Create" && v["object"]["content"].as_str().unwrap().contains("invited")
    })
    .await;
    let (s, _) = b.follow(&bob, &handle).await;
    assert_eq!(s, 202);
    wait_for("bob accepted", T, || async {
        accepted_follows(&b).await == 1
    })
    .await;
    // The welcome is direct in this community.
    let welcome = wait_received(&b, "the direct welcome", |v| {
        v["type"] == "Create"
            && v["object"]["content"]
                .as_str()
                .unwrap()
                .contains("Welcome to")
    })
    .await;
    assert_eq!(welcome["object"]["to"], json!([b.url("/u/bob").as_str()]));

    // Someone uninvited is refused.
    let fake = FakeServer::start().await;
    let eve = fake.actor("else", "eve");
    let follow = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/follows/1", fake.base("else")), "type": "Follow", "actor": eve.id, "object": a.url("/c/inner")
    });
    assert_eq!(eve.deliver(&a.client, &a.url("/inbox"), &follow).await, 202);
    wait_for("eve's Reject", T, || async {
        fake.inbox_of("else", "eve")
            .iter()
            .any(|v| v["type"] == "Reject")
    })
    .await;
    // A local account without an invitation is refused too; with one it joins.
    let (s, _) = a.follow(&max, &"inner").await;
    assert_eq!(s, 403);
    let (s, _) = a
        .api(
            Method::POST,
            "/api/v1/communities/inner/invites",
            Some(&ana),
            Some(json!({ "handle": "max" })),
        )
        .await;
    assert_eq!(s, 201);
    let (s, j) = a.follow(&max, &"inner").await;
    assert_eq!((s, j["status"].as_str()), (202, Some("joined")));

    // The last coordinator cannot leave or step down.
    let ana_local = member_id(&a, "inner", a.url("/u/ana").as_str()).await;
    let (s, e) = a
        .api(
            Method::DELETE,
            &format!("/api/v1/communities/inner/members/{ana_local}"),
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(s, 409, "{e}");
    let (s, e) = a
        .api(
            Method::PUT,
            &format!("/api/v1/communities/inner/members/{ana_local}/role"),
            Some(&ana),
            Some(json!({ "role": "member" })),
        )
        .await;
    assert_eq!(s, 409, "{e}");

    // Leaving and removal.
    let max_local = member_id(&a, "inner", a.url("/u/max").as_str()).await;
    let (s, _) = a
        .api(
            Method::DELETE,
            &format!("/api/v1/communities/inner/members/{max_local}"),
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = b
        .api(
            Method::DELETE,
            &format!("/api/v1/follows?community={handle}"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(s, 204);
    wait_for("bob gone from alpha", T, || async {
        let (_, m) = a
            .api(Method::GET, "/api/v1/communities/inner/members", None, None)
            .await;
        m["total"] == 1
    })
    .await;
    let (_, log) = a
        .api(
            Method::GET,
            "/api/v1/communities/inner/log",
            Some(&ana),
            None,
        )
        .await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["action"].as_str().unwrap())
        .collect();
    for action in ["invite", "join", "refuse", "remove", "leave"] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
}
