//! What Mastodon-compatible and group-aware servers see of Copse, one behaviour per test:
//! reports, announces sent back to their origin, settings changes, replies to remote people,
//! moderation from the other side.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{post, report};
use copse_tests::{
    builders::{
        communities::open_community,
        posts::{local_topic, remote_topic},
        T,
    },
    fake::FakeServer,
    wait_for, TestInstance,
};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use url::Url;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flag_naming_posts_reaches_only_their_community() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let net = open_community(&a, &ana, "net").await;
    let other = open_community(&a, &ana, "other").await;
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    a.follow_as(&fake, &mia, "masto", &net).await;
    a.follow_as(&fake, &mia, "masto", &other).await;
    let topic = remote_topic(&a, &fake, &mia, 1, &net, "net").await;

    // Mastodon's shape: from the instance actor, naming the account and its status.
    let masto = fake.actor("masto", "actor");
    let flag = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/flags/1", fake.base("masto")), "type": "Flag",
        "actor": masto.id, "content": "Spam, again",
        "object": [mia.id, topic.ap_id.0]
    });
    assert_eq!(masto.deliver(&a.client, &a.url("/inbox"), &flag).await, 202);
    wait_for("the report", T, || async {
        report::Entity::find().count(a.db()).await.unwrap() > 0
    })
    .await;
    a.settled().await;
    let reports = report::Entity::find().all(a.db()).await.unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].community_id, topic.community_id);

    // A Flag naming only the account goes to the communities where they are a member.
    let flag = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/flags/2", fake.base("masto")), "type": "Flag",
        "actor": masto.id, "content": "Harassment", "object": [mia.id]
    });
    assert_eq!(masto.deliver(&a.client, &a.url("/inbox"), &flag).await, 202);
    wait_for("two more reports", T, || async {
        report::Entity::find().count(a.db()).await.unwrap() == 3
    })
    .await;
    let (s, body) = a
        .api(
            Method::GET,
            "/api/v1/communities/other/reports",
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 1, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_own_post_announced_back_is_ignored_not_failed() {
    use copse_entities::received_activity::{Column, Entity, InboxStatus};
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let fake = FakeServer::start().await;
    let g = fake.group("lemmy", "cooking");
    a.follow_fake_group(&ana, &fake, &g).await;
    let (s, body) = a
        .api(
            Method::POST,
            &format!(
                "/api/v1/communities/cooking@lemmy.localhost:{}/posts",
                fake.port
            ),
            Some(&ana),
            Some(json!({ "title": "Stock", "content": "Bones first." })),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    wait_for("ana's Create at the group", T, || async {
        fake.posted("lemmy").iter().any(|v| v["type"] == "Create")
    })
    .await;
    let mut create = fake
        .posted("lemmy")
        .into_iter()
        .find(|v| v["type"] == "Create")
        .unwrap();
    create.as_object_mut().unwrap().remove("@context");
    let announce = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/announces/1", g.id), "type": "Announce", "actor": g.id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"], "object": create
    });
    assert_eq!(g.deliver(&a.client, &a.url("/inbox"), &announce).await, 202);
    a.settled().await;
    let row = Entity::find()
        .filter(Column::Kind.eq("Announce"))
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, InboxStatus::Done, "{:?}", row.last_error);
    assert_eq!(
        post::Entity::find().count(a.db()).await.unwrap(),
        1,
        "stored once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activities_are_not_announced_back_to_their_origin() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let net = open_community(&a, &ana, "net").await;
    let fake = FakeServer::start().await;
    let mia = fake.actor("mbp", "mia");
    let leo = fake.actor("masto", "leo");
    a.follow_as(&fake, &mia, "mbp", &net).await;
    a.follow_as(&fake, &leo, "masto", &net).await;
    let topic = remote_topic(&a, &fake, &mia, 1, &net, "net").await;
    let topic_id = topic.ap_id.0.to_string();
    let like = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}#likes/1", mia.id), "type": "Like", "actor": mia.id, "object": topic_id
    });
    assert_eq!(
        mia.deliver(&a.client, &a.url("/c/net/inbox"), &like).await,
        202
    );
    wait_for("the Like announced to the other server", T, || async {
        fake.shared_inbox("masto")
            .iter()
            .any(|v| v["type"] == "Announce" && v["object"]["type"] == "Like")
    })
    .await;
    wait_for("the Create announced to the other server", T, || async {
        fake.shared_inbox("masto")
            .iter()
            .any(|v| v["type"] == "Announce" && v["object"]["type"] == "Create")
    })
    .await;
    // The origin gets the bare boost of its own post (for its other followers), and nothing
    // wrapped: neither its own Create nor its own Like.
    wait_for("the bare boost at the origin", T, || async {
        fake.shared_inbox("mbp")
            .iter()
            .any(|v| v["type"] == "Announce" && v["object"] == topic_id.as_str())
    })
    .await;
    let origin = fake.shared_inbox("mbp");
    assert!(
        !origin
            .iter()
            .any(|v| v["type"] == "Announce" && v["object"].is_object()),
        "{origin:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_changes_federate_as_update_group() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let net = open_community(&a, &ana, "net").await;
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    a.follow_as(&fake, &mia, "masto", &net).await;
    let updates = || {
        fake.shared_inbox("masto")
            .into_iter()
            .filter(|v| v["type"] == "Update" || v["object"]["type"] == "Update")
            .collect::<Vec<_>>()
    };
    let put = |settings: Value| {
        let a = &a;
        let ana = &ana;
        async move {
            let (s, body) = a
                .api(
                    Method::PUT,
                    "/api/v1/communities/net/settings",
                    Some(ana),
                    Some(settings),
                )
                .await;
            assert_eq!(s, 200, "{body}");
        }
    };
    put(json!({ "title": "London Networks", "membership_policy": "approval" })).await;
    wait_for("both forms of the Update", T, || async {
        updates().len() == 2
    })
    .await;
    let got = updates();
    // Mastodon's form: the Group updates itself.
    let own = got.iter().find(|v| v["type"] == "Update").unwrap();
    assert_eq!(own["actor"], net.as_str());
    assert_eq!(own["object"]["id"], net.as_str());
    assert_eq!(own["object"]["name"], "London Networks");
    assert_eq!(own["object"]["manuallyApprovesFollowers"], true);
    // Lemmy's form: a coordinator's Update, announced by the Group.
    let announced = got.iter().find(|v| v["type"] == "Announce").unwrap();
    assert_eq!(announced["actor"], net.as_str());
    assert_eq!(announced["object"]["actor"], a.url("/u/ana").as_str());
    assert_eq!(announced["object"]["object"]["name"], "London Networks");
    let inner = Url::parse(announced["object"]["id"].as_str().unwrap()).unwrap();
    assert_eq!(a.get_ap(&inner).await.0, 200, "the inner id dereferences");

    // The same settings again change nothing, and nothing is sent.
    put(json!({ "title": "London Networks" })).await;
    put(json!({ "rules": "Be kind." })).await;
    let has_rules = |v: &Value| {
        let own = v["type"] == "Update";
        let doc = if own {
            &v["object"]
        } else {
            &v["object"]["object"]
        };
        doc["attachment"].to_string().contains("Code of conduct")
    };
    wait_for("the rules change, in both forms", T, || async {
        updates().iter().filter(|v| has_rules(v)).count() == 2
    })
    .await;
    assert_eq!(updates().len(), 4, "the unchanged title sent nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_change_federates_as_update_person() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let net = open_community(&a, &ana, "net").await;
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    a.follow_as(&fake, &mia, "masto", &net).await;
    let (s, body) = a
        .api(
            Method::PUT,
            "/api/v1/me",
            Some(&ana),
            Some(json!({ "display_name": "Ana Ruiz", "summary": "Network *builder*." })),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["display_name"], "Ana Ruiz");
    wait_for("the Update{Person}", T, || async {
        fake.shared_inbox("masto")
            .iter()
            .any(|v| v["type"] == "Update" && v["object"]["type"] == "Person")
    })
    .await;
    let update = fake
        .shared_inbox("masto")
        .into_iter()
        .find(|v| v["type"] == "Update")
        .unwrap();
    assert_eq!(update["actor"], a.url("/u/ana").as_str());
    assert_eq!(update["object"]["name"], "Ana Ruiz");
    assert!(update["object"]["summary"]
        .as_str()
        .unwrap()
        .contains("<em>builder</em>"));
    let (_, doc) = a.get_ap(&a.url("/u/ana")).await;
    assert_eq!(doc["name"], "Ana Ruiz");

    let (s, body) = a
        .api(
            Method::PUT,
            "/api/v1/me",
            Some(&ana),
            Some(json!({ "display_name": "x".repeat(101) })),
        )
        .await;
    assert_eq!((s, body["field"].as_str()), (422, Some("display_name")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_to_a_remote_author_mentions_them() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let net = open_community(&a, &ana, "net").await;
    let fake = FakeServer::start().await;
    let mia = fake.actor("gts", "mia");
    a.follow_as(&fake, &mia, "gts", &net).await;
    let topic = remote_topic(&a, &fake, &mia, 1, &net, "net").await;
    let (s, body) = a
        .api(
            Method::POST,
            &format!("/api/v1/posts/{}/replies", topic.id),
            Some(&ana),
            Some(json!({ "content": "We share ours **monthly**." })),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let reply_id = body["id"].as_str().unwrap().to_string();
    let create_of = |kind: &'static str| {
        let fake = &fake;
        let reply_id = reply_id.clone();
        move || {
            fake.posted("gts")
                .into_iter()
                .find(|v| v["type"] == kind && v["object"]["id"] == reply_id.as_str())
        }
    };
    wait_for("ana's Create at mia's server", T, || async {
        create_of("Create")().is_some()
    })
    .await;
    let note = create_of("Create")().unwrap()["object"].clone();
    let handle = format!("@mia@gts.localhost:{}", fake.port);
    let tag = note["tag"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "Mention")
        .cloned()
        .unwrap();
    assert_eq!(tag["href"], mia.id.as_str());
    assert_eq!(tag["name"], handle.as_str());
    assert!(
        note["cc"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == mia.id.as_str()),
        "{note}"
    );
    let content = note["content"].as_str().unwrap();
    assert!(
        content.starts_with(&format!(
            "<p><span class=\"h-card\"><a href=\"{}\" class=\"u-url mention\">",
            mia.id
        )),
        "{content}"
    );
    assert!(content.contains("<strong>monthly</strong>"), "{content}");

    // An edit keeps the mention.
    let local_id = body["local_id"].as_i64().unwrap();
    let (s, body) = a
        .api(
            Method::PATCH,
            &format!("/api/v1/posts/{local_id}"),
            Some(&ana),
            Some(json!({ "content": "We share ours weekly now." })),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    wait_for("the Update at mia's server", T, || async {
        create_of("Update")().is_some()
    })
    .await;
    let edited = create_of("Update")().unwrap()["object"]["content"].clone();
    assert!(
        edited.as_str().unwrap().contains(mia.id.as_str()) && edited.to_string().contains("weekly"),
        "{edited}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microblogs_are_not_sent_announces_of_activities() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let net = open_community(&a, &ana, "net").await;
    let fake = FakeServer::start().await;
    fake.serve_nodeinfo("gts", "gotosocial");
    fake.serve_nodeinfo("lemmy", "lemmy");
    let mia = fake.actor("gts", "mia");
    let lea = fake.actor("lemmy", "lea");
    let rob = fake.actor("unknown", "rob");
    a.follow_as(&fake, &mia, "gts", &net).await;
    a.follow_as(&fake, &lea, "lemmy", &net).await;
    a.follow_as(&fake, &rob, "unknown", &net).await;
    let topic = local_topic(&a, &ana, "Budgets").await;
    let id = topic["local_id"].as_i64().unwrap();
    let (s, _) = a
        .api(
            Method::PUT,
            &format!("/api/v1/posts/{id}/lock"),
            Some(&ana),
            Some(json!({ "locked": true })),
        )
        .await;
    assert_eq!(s, 204);
    let wrapped_lock = |label: &'static str| {
        let fake = &fake;
        move || {
            fake.shared_inbox(label)
                .iter()
                .any(|v| v["type"] == "Announce" && v["object"]["type"] == "Lock")
        }
    };
    wait_for("the Lock at Lemmy", T, || async { wrapped_lock("lemmy")() }).await;
    wait_for("the Lock at the unknown server", T, || async {
        wrapped_lock("unknown")()
    })
    .await;
    let announce = fake
        .shared_inbox("lemmy")
        .into_iter()
        .find(|v| v["object"]["type"] == "Lock")
        .unwrap();
    for id in [&announce["id"], &announce["object"]["id"]] {
        let url = Url::parse(id.as_str().unwrap()).unwrap();
        assert_eq!(a.get_ap(&url).await.0, 200, "{url} dereferences");
    }
    // GoToSocial still gets the boost of the topic, and never a wrapped activity.
    wait_for("the boost at GoToSocial", T, || async {
        fake.shared_inbox("gts")
            .iter()
            .any(|v| v["type"] == "Announce" && v["object"]["id"] == topic["id"])
    })
    .await;
    let activity = |v: &Value| v["object"]["actor"].is_string();
    assert!(
        !fake
            .shared_inbox("gts")
            .iter()
            .any(|v| v["type"] == "Announce" && activity(v)),
        "{:?}",
        fake.shared_inbox("gts")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_answering_400_is_never_paused() {
    use copse_entities::instance;
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let net = open_community(&a, &ana, "net").await;
    let fake = FakeServer::start().await;
    let mia = fake.actor("gts", "mia");
    a.follow_as(&fake, &mia, "gts", &net).await;
    // GoToSocial answers 400 to what it cannot read.
    fake.set_status(Some(reqwest::StatusCode::BAD_REQUEST));
    for n in 0..5 {
        local_topic(&a, &ana, format!("Topic {n}")).await;
    }
    wait_for("every delivery answered", T, || async {
        a.queued_deliveries().await
            == copse_entities::delivery::Entity::find()
                .filter(
                    copse_entities::delivery::Column::Status
                        .eq(copse_entities::delivery::DeliveryStatus::Failed),
                )
                .count(a.db())
                .await
                .unwrap() as usize
    })
    .await;
    let host = instance::Entity::find()
        .filter(instance::Column::Domain.eq(format!("gts.localhost:{}", fake.port)))
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(host.failure_count, 0, "{host:?}");
    assert_eq!(host.paused_until, None, "{host:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_arrives_in_its_fep_1b12_form_before_the_bare_one() {
    let a = TestInstance::spawn_with("alpha", |s| s.federation.delivery_workers = 3).await;
    let ana = a.create_user("ana").await;
    let net = open_community(&a, &ana, "net").await;
    let fake = FakeServer::start().await;
    let rob = fake.actor("mbp", "rob");
    a.follow_as(&fake, &rob, "mbp", &net).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let topic = local_topic(&a, &ana, format!("Topic {n}")).await;
        ids.push(topic["id"].as_str().unwrap().to_string());
    }
    let position = |id: &str, wrapped: bool| {
        fake.shared_inbox("mbp").iter().position(|v| {
            v["type"] == "Announce"
                && if wrapped {
                    v["object"]["type"] == "Create" && v["object"]["object"]["id"] == id
                } else {
                    v["object"]["type"] == "Note" && v["object"]["id"] == id
                }
        })
    };
    for id in &ids {
        wait_for("both forms", T, || async {
            position(id, true).is_some() && position(id, false).is_some()
        })
        .await;
        assert!(position(id, true) < position(id, false), "{id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_notes_from_a_community_share_one_conversation() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    a.community_with(&ana, "net", json!({ "membership_policy": "approval" }))
        .await;
    let net = a.url("/c/net");
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    let follow = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/follows/1", fake.base("masto")), "type": "Follow",
        "actor": mia.id, "object": net
    });
    assert_eq!(
        mia.deliver(&a.client, &a.url("/c/net/inbox"), &follow)
            .await,
        202
    );
    wait_for("the question to the applicant", T, || async {
        fake.posted("masto")
            .iter()
            .any(|v| v["type"] == "Create" && v["object"]["type"] == "Note")
    })
    .await;
    let note = fake
        .posted("masto")
        .into_iter()
        .find(|v| v["type"] == "Create")
        .unwrap()["object"]
        .clone();
    let conversation = note["conversation"].as_str().unwrap().to_string();
    assert!(conversation.starts_with("tag:"), "{note}");
    assert_eq!(note["context"], conversation.as_str());
}
