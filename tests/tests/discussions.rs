//! Discussions across instances: topics from Mastodon-style mentions, replies, posting
//! policies, edits and deletions, moderation, reactions, reports and hostile HTML, with a
//! Copse follower and microblog-style followers watching what the community announces.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::post;
use copse_tests::{
    builders::{
        communities::community,
        posts::{mention, stored},
        T,
    },
    fake::FakeServer,
    fixture, wait_for, TestInstance,
};
use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::{json, Value};
use url::Url;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_become_topics_and_replies_join_threads_everywhere() {
    let a = TestInstance::spawn("alpha").await;
    let b = TestInstance::spawn("beta").await;
    let ana = a.create_user("ana").await;
    let group = community(&a, &ana, "net", json!({ "membership_policy": "open" })).await;

    // A Copse follower (group-aware) and microblog followers on a Mastodon-like server.
    let bob = b.create_user("bob").await;
    let (s, body) = b.follow(&bob, format!("net@{}", a.domain)).await;
    assert_eq!(s, 202, "{body}");
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    let leo = fake.actor("masto", "leo");
    let reader = fake.actor("reader", "rita");
    a.follow_as(&fake, &mia, "masto", &group).await;
    a.follow_as(&fake, &leo, "masto", &group).await;
    a.follow_as(&fake, &reader, "reader", &group).await;
    wait_for("bob's membership", T, || async {
        b.received("Accept").await.len() == 1
    })
    .await;

    // Mia mentions the group: a titled topic.
    let html = mention(&group, "Sharing budgets openly<br>We tried it in Hackney.");
    let (note, create) = mia.status(&fake, 1, &group, &html, None);
    let inbox = a.url("/c/net/inbox");
    assert_eq!(mia.deliver(&a.client, &inbox, &create).await, 202);
    let note_id = note["id"].as_str().unwrap().to_string();
    wait_for("the topic", T, || async {
        stored(&a, &note_id).await.is_some()
    })
    .await;
    let topic = stored(&a, &note_id).await.unwrap();
    assert_eq!(topic.title, "Sharing budgets openly");
    assert!(topic.content.contains("We tried it in Hackney."));
    assert!(!topic.content.contains("@"), "{}", topic.content);

    // The microblog reader gets both forms; the Copse follower stores it with its title.
    wait_for("both Announce forms at the reader", T, || async {
        let got = fake.shared_inbox("reader");
        got.iter()
            .any(|v| v["type"] == "Announce" && v["object"] == note_id.as_str())
            && got.iter().any(|v| {
                v["type"] == "Announce"
                    && v["object"]["type"] == "Create"
                    && v["object"]["object"]["id"] == note_id.as_str()
            })
    })
    .await;
    wait_for("the topic on beta", T, || async {
        stored(&b, &note_id)
            .await
            .is_some_and(|p| p.title == "Sharing budgets openly")
    })
    .await;
    wait_for("the bare boost on beta", T, || async {
        b.received("Announce")
            .await
            .iter()
            .any(|v| v["object"] == note_id.as_str())
    })
    .await;
    let announces = b.received("Announce").await;
    assert!(announces.iter().any(
        |v| v["object"]["type"] == "Create" && v["object"]["object"]["id"] == note_id.as_str()
    ));

    // Leo replies: it joins the thread and goes out only in the FEP-1b12 form.
    let (reply, create) = leo.status(
        &fake,
        2,
        &group,
        &mention(&group, "We publish ours every quarter."),
        Some(&note_id),
    );
    let reply_id = reply["id"].as_str().unwrap().to_string();
    assert_eq!(leo.deliver(&a.client, &inbox, &create).await, 202);
    wait_for("the reply", T, || async {
        stored(&a, &reply_id).await.is_some()
    })
    .await;
    let stored_reply = stored(&a, &reply_id).await.unwrap();
    assert_eq!(stored_reply.topic_id, Some(topic.id));
    assert_eq!(stored_reply.parent_id, Some(topic.id));
    wait_for("the reply on beta, in the thread", T, || async {
        match (stored(&b, &reply_id).await, stored(&b, &note_id).await) {
            (Some(r), Some(t)) => r.topic_id == Some(t.id),
            _ => false,
        }
    })
    .await;
    wait_for("the wrapped reply at the reader", T, || async {
        fake.shared_inbox("reader")
            .iter()
            .any(|v| v["object"]["object"]["id"] == reply_id.as_str())
    })
    .await;
    assert!(
        !fake
            .shared_inbox("reader")
            .iter()
            .any(|v| v["type"] == "Announce" && v["object"] == reply_id.as_str()),
        "a reply must not be boosted bare"
    );

    // A reply to a status that never reached us: its parent is fetched from Mastodon, and
    // the reply hangs from the nearest stored ancestor in the same thread.
    let (unseen, _) = mia.status(
        &fake,
        7,
        &group,
        "<p>A reply we never received</p>",
        Some(&reply_id),
    );
    let (deep, create) = leo.status(
        &fake,
        8,
        &group,
        "<p>Answering the one we missed</p>",
        unseen["id"].as_str(),
    );
    let deep_id = deep["id"].as_str().unwrap().to_string();
    assert_eq!(leo.deliver(&a.client, &inbox, &create).await, 202);
    wait_for("the deep reply", T, || async {
        stored(&a, &deep_id).await.is_some()
    })
    .await;
    let deep_row = stored(&a, &deep_id).await.unwrap();
    assert_eq!(deep_row.topic_id, Some(topic.id));
    assert_eq!(deep_row.parent_id, Some(stored_reply.id));

    // Ana replies to Leo from the API: nested under his reply, sent to his server too.
    let (s, mine) = a
        .api(
            Method::POST,
            &format!("/api/v1/posts/{}/replies", stored_reply.id),
            Some(&ana),
            Some(json!({ "content": "Thanks **Leo** #budgets" })),
        )
        .await;
    assert_eq!(s, 201, "{mine}");
    let mine_id = mine["id"].as_str().unwrap().to_string();
    wait_for("ana's reply at leo's server", T, || async {
        fake.shared_inbox("masto").iter().any(|v| {
            v["type"] == "Create"
                && v["object"]["id"] == mine_id.as_str()
                && v["object"]["inReplyTo"] == reply_id.as_str()
        })
    })
    .await;
    let (_, ap) = a.get_ap(&Url::parse(&mine_id).unwrap()).await;
    assert_eq!(ap["inReplyTo"], reply_id.as_str());
    assert_eq!(
        ap["context"],
        a.url(&format!("/post/{}/context", topic.id)).as_str()
    );
    assert!(ap["tag"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["type"] == "Hashtag" && t["name"] == "#budgets"));
    wait_for("ana's reply on beta", T, || async {
        stored(&b, &mine_id).await.is_some()
    })
    .await;

    // The thread, nested, with counts; the context collection; the topic list and page.
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
    assert_eq!(ctx["attributedTo"], group.as_str());
    let (_, topics) = a
        .api(Method::GET, "/api/v1/communities/net/topics", None, None)
        .await;
    assert_eq!(topics["items"].as_array().unwrap().len(), 1);
    assert_eq!(topics["items"][0]["reply_count"], 3);
    let page = a
        .client
        .get(a.url(&format!("/post/{}", topic.id)))
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
            &format!("/api/v1/people/mia@masto.localhost:{}/posts", fake.port),
            None,
            None,
        )
        .await;
    assert_eq!(mias["items"].as_array().unwrap().len(), 1, "{mias}");

    // The outbox pages through what the group announced.
    let (_, outbox) = a.get_ap(&a.url("/c/net/outbox")).await;
    assert!(outbox["totalItems"].as_u64().unwrap() >= 3, "{outbox}");
    let (_, first) = a
        .get_ap(&Url::parse(outbox["first"].as_str().unwrap()).unwrap())
        .await;
    assert_eq!(first["type"], "OrderedCollectionPage");
    assert!(!first["orderedItems"].as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posting_policy_bans_and_locks_refuse_with_a_note() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let group = community(&a, &ana, "net", json!({ "membership_policy": "open" })).await;
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    let leo = fake.actor("masto", "leo");
    let eve = fake.actor("else", "eve");
    let reader = fake.actor("reader", "rita");
    a.follow_as(&fake, &mia, "masto", &group).await;
    a.follow_as(&fake, &leo, "masto", &group).await;
    a.follow_as(&fake, &reader, "reader", &group).await;
    let inbox = a.url("/c/net/inbox");

    // A non-member's topic in a members-only community: refused, not announced, one note.
    let (note, create) = eve.status(&fake, 1, &group, &mention(&group, "Buy my course"), None);
    let eve_note = note["id"].as_str().unwrap().to_string();
    assert_eq!(eve.deliver(&a.client, &inbox, &create).await, 202);
    wait_for("eve's refusal note", T, || async {
        fake.posted("else").iter().any(|v| {
            v["type"] == "Create"
                && v["object"]["to"] == json!([eve.id])
                && v["object"]["content"]
                    .as_str()
                    .is_some_and(|c| c.contains("Only members"))
        })
    })
    .await;
    assert!(stored(&a, &eve_note).await.is_none());
    let refusals = fake
        .posted("else")
        .iter()
        .filter(|v| v["type"] == "Create")
        .count();
    assert_eq!(refusals, 1);

    // Mia's topic is accepted.
    let (note, create) = mia.status(&fake, 1, &group, &mention(&group, "Our first topic"), None);
    let topic_id = note["id"].as_str().unwrap().to_string();
    assert_eq!(mia.deliver(&a.client, &inbox, &create).await, 202);
    wait_for("mia's topic", T, || async {
        stored(&a, &topic_id).await.is_some()
    })
    .await;
    let topic = stored(&a, &topic_id).await.unwrap();

    // Ban mia: her reply is refused.
    let (s, body) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/bans",
            Some(&ana),
            Some(
                json!({ "handle": format!("mia@masto.localhost:{}", fake.port), "reason": "spam" }),
            ),
        )
        .await;
    assert!(s == 201 || s == 204 || s == 200, "{s} {body}");
    let (note, create) = mia.status(&fake, 2, &group, "<p>Still here</p>", Some(&topic_id));
    let banned_reply = note["id"].as_str().unwrap().to_string();
    assert_eq!(mia.deliver(&a.client, &inbox, &create).await, 202);
    wait_for("mia's ban note", T, || async {
        fake.posted("masto").iter().any(|v| {
            v["type"] == "Create"
                && v["object"]["to"] == json!([mia.id])
                && v["object"]["content"]
                    .as_str()
                    .is_some_and(|c| c.contains("banned"))
        })
    })
    .await;
    assert!(stored(&a, &banned_reply).await.is_none());

    // Lock the thread: Leo's reply is refused, and the Lock was announced.
    let (s, body) = a
        .api(
            Method::PUT,
            &format!("/api/v1/posts/{}/lock", topic.id),
            Some(&ana),
            Some(json!({ "locked": true })),
        )
        .await;
    assert_eq!(s, 204, "{body}");
    wait_for("the Lock at the reader", T, || async {
        fake.shared_inbox("reader")
            .iter()
            .any(|v| v["object"]["type"] == "Lock" && v["object"]["object"] == topic_id.as_str())
    })
    .await;
    let (note, create) = leo.status(&fake, 3, &group, "<p>Late reply</p>", Some(&topic_id));
    let late = note["id"].as_str().unwrap().to_string();
    assert_eq!(leo.deliver(&a.client, &inbox, &create).await, 202);
    wait_for("leo's locked note", T, || async {
        fake.posted("masto").iter().any(|v| {
            v["object"]["to"] == json!([leo.id])
                && v["object"]["content"]
                    .as_str()
                    .is_some_and(|c| c.contains("locked"))
        })
    })
    .await;
    assert!(stored(&a, &late).await.is_none());
    // Nothing refused was announced.
    for v in fake.shared_inbox("reader") {
        let s = v.to_string();
        assert!(
            !s.contains(&eve_note) && !s.contains(&banned_reply) && !s.contains(&late),
            "refused content announced: {s}"
        );
    }
    // A local non-member cannot post either; the refusal names why.
    let zed = a.create_user("zed").await;
    let (s, body) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/posts",
            Some(&zed),
            Some(json!({ "title": "Hi", "content": "hello" })),
        )
        .await;
    assert_eq!(s, 403, "{body}");
    // The refusals are in the decision log.
    let (_, log) = a
        .api(Method::GET, "/api/v1/communities/net/log", Some(&ana), None)
        .await;
    let refused = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "refuse_post")
        .count();
    assert_eq!(refused, 3, "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authors_edit_and_delete_facilitators_moderate_and_reports_queue() {
    let a = TestInstance::spawn("alpha").await;
    let b = TestInstance::spawn("beta").await;
    let ana = a.create_user("ana").await;
    let group = community(&a, &ana, "net", json!({ "membership_policy": "open" })).await;
    let bob = b.create_user("bob").await;
    assert_eq!(b.follow(&bob, format!("net@{}", a.domain)).await.0, 202);
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    let leo = fake.actor("masto", "leo");
    a.follow_as(&fake, &mia, "masto", &group).await;
    a.follow_as(&fake, &leo, "masto", &group).await;
    wait_for("bob's membership", T, || async {
        b.received("Accept").await.len() == 1
    })
    .await;
    let inbox = a.url("/c/net/inbox");
    let (note, create) = mia.status(
        &fake,
        1,
        &group,
        &mention(&group, "Draft title<br>Draft body"),
        None,
    );
    let topic_id = note["id"].as_str().unwrap().to_string();
    assert_eq!(mia.deliver(&a.client, &inbox, &create).await, 202);
    wait_for("the topic on beta", T, || async {
        stored(&b, &topic_id).await.is_some()
    })
    .await;

    // Leo cannot edit or delete Mia's post.
    let mut forged = note.clone();
    forged["attributedTo"] = json!(leo.id);
    forged["content"] = json!("<p>Hijacked</p>");
    let forged_update = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/forged-update", leo.id), "type": "Update", "actor": leo.id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"], "object": forged
    });
    assert_eq!(leo.deliver(&a.client, &inbox, &forged_update).await, 202);
    let forged_delete = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/forged-delete", leo.id), "type": "Delete", "actor": leo.id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": { "id": topic_id, "type": "Tombstone" }
    });
    assert_eq!(leo.deliver(&a.client, &inbox, &forged_delete).await, 202);

    // Mia edits: the change reaches beta.
    let mut edited = note.clone();
    edited.as_object_mut().unwrap().remove("@context");
    edited["content"] = json!(mention(&group, "Final title<br>Final body"));
    edited["updated"] = json!("2026-11-22T11:00:00Z");
    fake.serve(&Url::parse(&topic_id).unwrap(), edited.clone());
    let update = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{topic_id}#updates/1"), "type": "Update", "actor": mia.id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"], "object": edited
    });
    assert_eq!(mia.deliver(&a.client, &inbox, &update).await, 202);
    // Beta fetches an announced note by its id from Mia's server, so it may see the edit before
    // alpha's inbox worker has taken the Update: wait for each side on its own.
    wait_for("the edit on alpha", T, || async {
        stored(&a, &topic_id)
            .await
            .is_some_and(|p| p.title == "Final title")
    })
    .await;
    wait_for("the edit on beta", T, || async {
        stored(&b, &topic_id)
            .await
            .is_some_and(|p| p.content.contains("Final body"))
    })
    .await;
    let p = stored(&a, &topic_id).await.unwrap();
    assert_eq!(p.title, "Final title");
    assert!(!p.deleted && !p.content.contains("Hijacked"));

    // Reactions: Like, EmojiReact, and Undo.
    let like = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}#likes/1", leo.id), "type": "Like", "actor": leo.id, "object": topic_id
    });
    assert_eq!(leo.deliver(&a.client, &inbox, &like).await, 202);
    let react = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}#reacts/1", mia.id), "type": "EmojiReact", "actor": mia.id,
        "object": topic_id, "content": "🔥"
    });
    assert_eq!(mia.deliver(&a.client, &inbox, &react).await, 202);
    let thread = |id: i64| {
        let a = &a;
        async move {
            a.api(Method::GET, &format!("/api/v1/posts/{id}"), None, None)
                .await
                .1
        }
    };
    wait_for("two reactions", T, || async {
        thread(p.id).await["reaction_count"] == 2
    })
    .await;
    assert_eq!(thread(p.id).await["reactions"]["🔥"], 1);
    let undo = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}#likes/1/undo", leo.id), "type": "Undo", "actor": leo.id,
        "object": { "id": format!("{}#likes/1", leo.id), "type": "Like", "actor": leo.id, "object": topic_id }
    });
    assert_eq!(leo.deliver(&a.client, &inbox, &undo).await, 202);
    wait_for("the like taken back", T, || async {
        thread(p.id).await["reaction_count"] == 1
    })
    .await;
    // A local like federates as Like.
    let (s, body) = a
        .api(
            Method::POST,
            &format!("/api/v1/posts/{}/reactions", p.id),
            Some(&ana),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 204, "{body}");
    wait_for("ana's Like on beta", T, || async {
        b.received("Announce")
            .await
            .iter()
            .any(|v| v["object"]["type"] == "Like")
    })
    .await;

    // A Mastodon Flag from its instance actor lands in the queue; so does a local report.
    let masto_actor = fake.actor("masto", "actor");
    let flag = match fixture("fediverse/mastodon/activities/flag.json") {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .unwrap()
                .replace("https://mastodon.example/actor", masto_actor.id.as_str())
                .replace(
                    "https://mastodon.example/",
                    &format!("{}/", fake.base("masto")),
                )
                .replace("https://example.com/users/1", mia.id.as_str())
                .replace("https://example.com/posts/380590", &topic_id);
            serde_json::from_str::<Value>(&text).unwrap()
        }
        None => {
            eprintln!("../shared is absent: using a built Mastodon-shaped Flag");
            json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": format!("{}/flags/1", fake.base("masto")), "type": "Flag",
                "actor": masto_actor.id, "content": "Please take a look",
                "object": [mia.id, topic_id]
            })
        }
    };
    assert_eq!(masto_actor.deliver(&a.client, &inbox, &flag).await, 202);
    let reports = || async {
        a.api(
            Method::GET,
            "/api/v1/communities/net/reports",
            Some(&ana),
            None,
        )
        .await
        .1
    };
    wait_for("the Flag in the queue", T, || async {
        reports().await["items"]
            .as_array()
            .is_some_and(|i| i.iter().any(|r| r["post"]["id"] == topic_id.as_str()))
    })
    .await;
    let flagged = reports().await["items"][0].clone();
    assert_eq!(flagged["reporter"], masto_actor.id.as_str());
    assert_eq!(flagged["person"]["id"], mia.id.as_str());
    let zed = a.create_user("zed").await;
    let (s, _) = a
        .api(
            Method::POST,
            &format!("/api/v1/posts/{}/reports", p.id),
            Some(&zed),
            Some(json!({ "reason": "off topic" })),
        )
        .await;
    assert_eq!(s, 202);
    assert_eq!(reports().await["items"].as_array().unwrap().len(), 2);
    let (s, _) = a
        .api(
            Method::GET,
            "/api/v1/communities/net/reports",
            Some(&zed),
            None,
        )
        .await;
    assert_eq!(s, 403, "only facilitators see the queue");
    let report_id = flagged["id"].as_i64().unwrap();
    let (s, body) = a
        .api(
            Method::POST,
            &format!("/api/v1/reports/{report_id}/resolve"),
            Some(&ana),
            Some(json!({ "status": "resolved", "note": "talked to mia" })),
        )
        .await;
    assert_eq!(s, 204, "{body}");
    assert_eq!(reports().await["items"].as_array().unwrap().len(), 1);

    // Pin: announced as Add to featured, listed in the featured collection.
    let (s, _) = a
        .api(
            Method::PUT,
            &format!("/api/v1/posts/{}/pin", p.id),
            Some(&ana),
            Some(json!({ "pinned": true })),
        )
        .await;
    assert_eq!(s, 204);
    wait_for("the Add on beta", T, || async {
        b.received("Announce").await.iter().any(|v| {
            v["object"]["type"] == "Add"
                && v["object"]["target"] == a.url("/c/net/featured").as_str()
        })
    })
    .await;
    let (_, featured) = a.get_ap(&a.url("/c/net/featured")).await;
    assert_eq!(featured["orderedItems"][0]["id"], topic_id.as_str());

    // A local topic edited and deleted by its author, and one removed by a facilitator.
    let (s, local) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/posts",
            Some(&ana),
            Some(json!({ "title": "Meeting notes", "content": "First draft" })),
        )
        .await;
    assert_eq!(s, 201, "{local}");
    let local_id = local["local_id"].as_i64().unwrap();
    let local_ap = local["id"].as_str().unwrap().to_string();
    let (s, body) = a
        .api(
            Method::PATCH,
            &format!("/api/v1/posts/{local_id}"),
            Some(&ana),
            Some(json!({ "content": "Second draft" })),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, _) = a
        .api(
            Method::PATCH,
            &format!("/api/v1/posts/{local_id}"),
            Some(&zed),
            Some(json!({ "content": "Vandalised" })),
        )
        .await;
    assert_eq!(s, 403);
    wait_for("the local edit on beta", T, || async {
        stored(&b, &local_ap)
            .await
            .is_some_and(|p| p.content.contains("Second draft"))
    })
    .await;
    let (s, _) = a
        .api(
            Method::DELETE,
            &format!("/api/v1/posts/{local_id}"),
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(s, 204);
    wait_for("the local deletion on beta", T, || async {
        stored(&b, &local_ap).await.is_some_and(|p| p.deleted)
    })
    .await;
    let (status, tomb) = a.get_ap(&Url::parse(&local_ap).unwrap()).await;
    assert_eq!(status, 410);
    assert_eq!(tomb["type"], "Tombstone");

    let (s, _) = a
        .api(
            Method::POST,
            &format!("/api/v1/posts/{}/remove", p.id),
            Some(&zed),
            Some(json!({ "reason": "no" })),
        )
        .await;
    assert_eq!(s, 403, "members do not remove posts");
    let (s, _) = a
        .api(
            Method::POST,
            &format!("/api/v1/posts/{}/remove", p.id),
            Some(&ana),
            Some(json!({ "reason": "off topic" })),
        )
        .await;
    assert_eq!(s, 204);
    wait_for("the removal on beta", T, || async {
        stored(&b, &topic_id).await.is_some_and(|p| p.removed)
    })
    .await;

    // Leo's forgeries changed nothing: the post was never deleted by them.
    let p = stored(&a, &topic_id).await.unwrap();
    assert!(!p.deleted && p.removed);
    // Mia deletes her own topic: a tombstone here.
    let delete = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{topic_id}#delete"), "type": "Delete", "actor": mia.id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": { "id": topic_id, "type": "Tombstone" }
    });
    assert_eq!(mia.deliver(&a.client, &inbox, &delete).await, 202);
    wait_for("mia's deletion", T, || async {
        stored(&a, &topic_id).await.is_some_and(|p| p.deleted)
    })
    .await;
    let (_, log) = a
        .api(Method::GET, "/api/v1/communities/net/log", Some(&ana), None)
        .await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for want in ["remove_post", "pin", "resolve_report"] {
        assert!(actions.contains(&want), "{want} not in {actions:?}");
    }
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lemmy_and_friendica_payloads_are_handled() {
    let Some(page) = fixture("fediverse/lemmy/activities/create_or_update/create_page.json") else {
        eprintln!("../shared is absent: skipping the fixture replay");
        return;
    };
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let group = community(&a, &ana, "main", json!({ "membership_policy": "open" })).await;
    let fake = FakeServer::start().await;
    let alpha = fake.actor("lemmy", "lemmy_alpha");
    a.follow_as(&fake, &alpha, "lemmy", &group).await;
    let base = fake.base("lemmy");
    // Lemmy's ids moved onto the fake server, its community onto ours.
    let rewrite = |path: &std::path::Path| -> Value {
        let text = std::fs::read_to_string(path)
            .unwrap()
            .replace("http://ds9.lemmy.ml/u/lemmy_alpha", alpha.id.as_str())
            .replace("http://ds9.lemmy.ml", &base)
            .replace("https://enterprise.lemmy.ml/c/main", group.as_str())
            .replace("http://enterprise.lemmy.ml/c/main", group.as_str())
            .replace("https://enterprise.lemmy.ml/c/tenforward", group.as_str());
        serde_json::from_str(&text).unwrap()
    };
    let inbox = a.url("/inbox");
    let send = |v: Value| {
        let (alpha, a, inbox) = (&alpha, &a, &inbox);
        async move { alpha.deliver(&a.client, inbox, &v).await }
    };
    let post_id = format!("{base}/post/1");
    let comment_id = format!("{base}/comment/1");

    assert_eq!(send(rewrite(&page)).await, 202);
    wait_for("the Lemmy post", T, || async {
        stored(&a, &post_id).await.is_some()
    })
    .await;
    let p = stored(&a, &post_id).await.unwrap();
    assert_eq!(p.title, "test post");
    assert_eq!(p.source.as_deref(), Some("test body"));

    let comment =
        fixture("fediverse/lemmy/activities/create_or_update/create_comment.json").unwrap();
    assert_eq!(send(rewrite(&comment)).await, 202);
    wait_for("the Lemmy comment", T, || async {
        stored(&a, &comment_id)
            .await
            .is_some_and(|c| c.topic_id == Some(p.id))
    })
    .await;

    let like = fixture("fediverse/lemmy/activities/voting/like_note.json").unwrap();
    assert_eq!(send(rewrite(&like)).await, 202);
    let c = stored(&a, &comment_id).await.unwrap();
    wait_for("the Lemmy vote", T, || async {
        a.api(Method::GET, &format!("/api/v1/posts/{}", p.id), None, None)
            .await
            .1["replies"][0]["reaction_count"]
            == 1
    })
    .await;
    let undo = fixture("fediverse/lemmy/activities/voting/undo_like_note.json").unwrap();
    assert_eq!(send(rewrite(&undo)).await, 202);
    wait_for("the Lemmy vote undone", T, || async {
        a.api(Method::GET, &format!("/api/v1/posts/{}", c.id), None, None)
            .await
            .1["replies"][0]["reaction_count"]
            == 0
    })
    .await;

    let delete = fixture("fediverse/lemmy/activities/deletion/delete_page.json").unwrap();
    assert_eq!(send(rewrite(&delete)).await, 202);
    wait_for("the Lemmy deletion", T, || async {
        stored(&a, &post_id).await.is_some_and(|p| p.deleted)
    })
    .await;

    // Friendica's Create{Note} addressed to the group is a topic too.
    if let Some(path) = fixture("fediverse/friendica/activities/create_note.json") {
        let raw: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let actor = raw["actor"].as_str().unwrap().to_string();
        let origin = Url::parse(&actor).unwrap();
        let origin = format!("{}://{}", origin.scheme(), origin.host_str().unwrap());
        let fr = fake.actor("friendica", "fr");
        let text = raw
            .to_string()
            .replace(&actor, fr.id.as_str())
            .replace(&origin, &fake.base("friendica"));
        let mut v: Value = serde_json::from_str(&text).unwrap();
        v["object"]["audience"] = json!(group);
        v["object"]["inReplyTo"] = Value::Null;
        let note_id = v["object"]["id"].as_str().unwrap().to_string();
        let (s, _) = a
            .api(
                Method::PUT,
                "/api/v1/communities/main/settings",
                Some(&ana),
                Some(json!({ "topic_policy": "anyone" })),
            )
            .await;
        assert_eq!(s, 200);
        assert_eq!(fr.deliver(&a.client, &inbox, &v).await, 202);
        wait_for("the Friendica topic", T, || async {
            stored(&a, &note_id).await.is_some()
        })
        .await;
    }
}
