//! Posts in a Copse community, as a Lemmy follower and a Mastodon follower get them: topics,
//! replies, edits, deletions, reactions, votes, moderation and refusals.

use super::*;
use copse_tests::golden::Golden;

fn announce_of(v: &Value, kind: &str) -> bool {
    v["type"] == "Announce" && v["object"]["type"] == kind
}

/// `Announce{KIND{...}}` whose inner object has this type.
fn announce_of_on(v: &Value, kind: &str, inner: &str) -> bool {
    announce_of(v, kind) && v["object"]["object"]["type"] == inner
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_replies_edits_reactions_moderation_and_deletions() {
    let g = Golden::new();
    let a = spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let bob = a.create_user("bob").await;
    let net = open(&a, &ana, "net").await;
    assert!(matches!(a.follow(&bob, "net").await.0, 200..=202));
    let fake = FakeServer::start().await;
    fake.serve_nodeinfo("lemmy", "lemmy");
    fake.serve_nodeinfo("masto", "mastodon");
    let lea = fake.actor("lemmy", "lea");
    let mia = fake.actor("masto", "mia");
    a.follow_as(&fake, &lea, "lemmy", &net).await;
    a.follow_as(&fake, &mia, "masto", &net).await;

    let t = topic(
        &a,
        &ana,
        "net",
        "Budgets",
        "How do you share yours? #budgets",
    )
    .await;
    let tid = local_id(&t);
    let created = delivered(&fake, "lemmy", "the topic", |v| {
        announce_of_on(v, "Create", "Note") && v["object"]["object"]["inReplyTo"].is_null()
    })
    .await;
    g.json("announce-create-topic", &created);
    let bare = delivered(&fake, "masto", "the bare topic", |v| announce_of(v, "Note")).await;
    g.json("announce-note-topic", &bare);
    g.json(
        "create-topic",
        &served(&a, created["object"]["id"].as_str().unwrap()).await,
    );

    let r = reply(&a, &bob, tid, "Monthly, in the open.").await;
    let rid = local_id(&r);
    let answered = delivered(&fake, "lemmy", "the reply", |v| {
        announce_of_on(v, "Create", "Note") && v["object"]["object"]["inReplyTo"].is_string()
    })
    .await;
    g.json("announce-create-reply", &answered);

    call(
        &a,
        Method::PATCH,
        &format!("/api/v1/posts/{tid}"),
        &ana,
        Some(json!({ "content": "How do you share yours, and how often?" })),
        200,
    )
    .await;
    let update = |v: &Value| v["type"] == "Update";
    g.json(
        "update-topic",
        &delivered(&fake, "masto", "the Update", update).await,
    );
    g.json(
        "announce-update-topic",
        &delivered(&fake, "lemmy", "the announced Update", |v| {
            announce_of(v, "Update")
        })
        .await,
    );

    let reactions = format!("/api/v1/posts/{tid}/reactions");
    call(&a, Method::POST, &reactions, &bob, Some(json!({})), 204).await;
    g.json(
        "announce-like",
        &delivered(&fake, "lemmy", "the Like", |v| announce_of(v, "Like")).await,
    );
    call(
        &a,
        Method::POST,
        &reactions,
        &bob,
        Some(json!({ "emoji": "🌱" })),
        204,
    )
    .await;
    g.json(
        "announce-emoji-react",
        &delivered(&fake, "lemmy", "the EmojiReact", |v| {
            announce_of(v, "EmojiReact")
        })
        .await,
    );
    call(&a, Method::DELETE, &reactions, &bob, None, 204).await;
    g.json(
        "announce-undo-like",
        &delivered(&fake, "lemmy", "the Undo{Like}", |v| {
            announce_of(v, "Undo") && v["object"]["object"]["type"] == "Like"
        })
        .await,
    );

    let lee = fake.actor("voter", "lee");
    let dislike = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/dislike/1", fake.base("voter")),
        "type": "Dislike", "actor": lee.id, "object": t["id"], "audience": net
    });
    assert_eq!(
        lee.deliver(&a.client, &a.url("/c/net/inbox"), &dislike)
            .await,
        202
    );
    g.json(
        "announce-dislike",
        &delivered(&fake, "lemmy", "the Dislike", |v| announce_of(v, "Dislike")).await,
    );

    for (path, on, off, field) in [
        ("lock", "announce-lock", "announce-undo-lock", "locked"),
        (
            "pin",
            "announce-add-featured",
            "announce-remove-featured",
            "pinned",
        ),
    ] {
        for (value, name) in [(true, on), (false, off)] {
            call(
                &a,
                Method::PUT,
                &format!("/api/v1/posts/{tid}/{path}"),
                &ana,
                Some(json!({ field: value })),
                204,
            )
            .await;
            let pick = move |v: &Value| match name {
                "announce-lock" => announce_of(v, "Lock"),
                "announce-undo-lock" => {
                    announce_of(v, "Undo") && v["object"]["object"]["type"] == "Lock"
                }
                "announce-add-featured" => announce_of(v, "Add"),
                _ => announce_of(v, "Remove"),
            };
            g.json(name, &delivered(&fake, "lemmy", name, pick).await);
        }
    }

    call(
        &a,
        Method::POST,
        &format!("/api/v1/posts/{rid}/remove"),
        &ana,
        Some(json!({ "reason": "Off topic." })),
        204,
    )
    .await;
    g.json(
        "announce-delete-removal",
        &delivered(&fake, "lemmy", "the removal", |v| {
            announce_of(v, "Delete") && v["object"]["summary"] == "Off topic."
        })
        .await,
    );

    let gone = topic(&a, &ana, "net", "Draft", "Posted too soon.").await;
    call(
        &a,
        Method::DELETE,
        &format!("/api/v1/posts/{}", local_id(&gone)),
        &ana,
        None,
        204,
    )
    .await;
    let is_gone = |v: &Value| v["object"] == gone["id"] || v["object"]["object"] == gone["id"];
    g.json(
        "delete-topic",
        &delivered(&fake, "masto", "the Delete", |v| {
            v["type"] == "Delete" && is_gone(v)
        })
        .await,
    );
    g.json(
        "announce-delete-topic",
        &delivered(&fake, "lemmy", "the announced Delete", |v| {
            announce_of(v, "Delete") && is_gone(&v["object"])
        })
        .await,
    );
    let res = a
        .client
        .get(gone["id"].as_str().unwrap())
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 410);
    g.json("tombstone", &res.json().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_posts_are_answered_in_the_form_each_server_reads() {
    let g = Golden::new();
    let a = spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let group = community(
        &a,
        &ana,
        "net",
        json!({ "membership_policy": "open", "topic_policy": "members", "reply_policy": "members" }),
    )
    .await;
    let fake = FakeServer::start().await;
    fake.serve_nodeinfo("lemmy", "lemmy");
    fake.serve_nodeinfo("masto", "mastodon");
    let inbox = a.url("/c/net/inbox");
    for (label, name) in [("masto", "mia"), ("lemmy", "lea")] {
        let who = fake.actor(label, name);
        // Known software first, as after any earlier contact.
        copse_federation::nodeinfo::learn(&a.data(), &who.id).await;
        let html = format!(
            "<p><span class=\"h-card\"><a href=\"{group}\" class=\"u-url mention\">@<span>net</span></a></span> Budgets<br>How do you share yours?</p>"
        );
        let (_, create) = who.status(&fake, 1, &group, &html, None);
        assert_eq!(who.deliver(&a.client, &inbox, &create).await, 202);
    }
    g.json(
        "create-note-refusal",
        &delivered(&fake, "masto", "the refusal note", |v| {
            v["type"] == "Create"
        })
        .await,
    );
    g.json(
        "announce-delete-refusal",
        &delivered(&fake, "lemmy", "the refusal", |v| announce_of(v, "Delete")).await,
    );
}
