//! How local posts render and what they link: bare URLs, mentions (with the handle's port) and
//! hashtags become links in Mastodon's shape, hashtags lead to the community's page filtered by
//! the tag; and the note that refuses a post answers that post, in its conversation.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_tests::{fake::FakeServer, wait_for, TestInstance};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_mentions_and_hashtags_are_linked_as_mastodon_links_them() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    a.create_user("max").await;
    a.create_community("net", "London Networks").await;
    let group = a.url("/c/net");
    let fake = FakeServer::start().await;
    let bo = fake.actor("masto", "bo");
    a.follow_as(&fake, &bo, "masto", &group).await;
    let bo_handle = format!("bo@masto.localhost:{}", fake.port);

    let content = format!(
        "Thanks @{bo_handle} and @max! Notes at https://example.org/notes. #Budgets\n\n\
         `https://example.org/code` and [our wiki](https://wiki.example/) stay as they are."
    );
    let (s, topic) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/posts",
            Some(&ana),
            Some(json!({ "title": "Open budgets", "content": content })),
        )
        .await;
    assert_eq!(s, 201, "{topic}");
    let html = topic["content"].as_str().unwrap();
    let bo_link = format!(
        "<span class=\"h-card\"><a href=\"{}\" class=\"u-url mention\" rel=\"nofollow noopener noreferrer\">@<span>bo</span></a></span>",
        bo.id
    );
    assert!(html.contains(&bo_link), "{html}");
    assert!(
        html.contains(&format!(
            "href=\"{}\" class=\"u-url mention\"",
            a.url("/u/max")
        )),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"https://example.org/notes\" rel=\"nofollow noopener noreferrer\">https://example.org/notes</a>."),
        "{html}"
    );
    let tag_link = format!(
        "<a href=\"{group}?tag=budgets\" class=\"mention hashtag\" rel=\"tag nofollow noopener noreferrer\">#<span>Budgets</span></a>"
    );
    assert!(html.contains(&tag_link), "{html}");
    assert!(
        html.contains("<code>https://example.org/code</code>"),
        "{html}"
    );
    assert_eq!(html.matches("<a ").count(), 5, "{html}");

    // The tags name the handles in full, port included.
    let tags = topic["tags"].as_array().unwrap();
    let names: Vec<&str> = tags.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&format!("@{bo_handle}").as_str()),
        "{tags:?}"
    );
    assert!(
        names.contains(&format!("@max@{}", a.domain).as_str()),
        "{tags:?}"
    );
    assert!(names.contains(&"#Budgets"), "{tags:?}");

    // The Note that followers get carries the same links and tags.
    wait_for("the topic at bo's server", T, || async {
        fake.posted("masto").iter().any(|v| {
            v["type"] == "Announce"
                && v["object"]["type"] == "Note"
                && v["object"]["content"]
                    .as_str()
                    .is_some_and(|c| c.contains(&bo_link))
                && v["object"]["tag"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t["href"] == bo.id.as_str()))
        })
    })
    .await;

    // The hashtag leads to the community's page, showing only the topics with that tag.
    let (s, _) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/posts",
            Some(&ana),
            Some(json!({ "title": "Meeting rooms", "content": "Where do we meet? #rooms" })),
        )
        .await;
    assert_eq!(s, 201);
    let page = |path: String| {
        let a = &a;
        async move {
            a.client
                .get(a.url(&path).as_str())
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let tagged = page("/c/net?tag=budgets".into()).await;
    assert!(tagged.contains("Open budgets"), "{tagged}");
    assert!(!tagged.contains("Meeting rooms"), "{tagged}");
    let all = page("/c/net".into()).await;
    assert!(all.contains("Open budgets") && all.contains("Meeting rooms"));

    // An edit renders the same way and brings its tags up to date.
    let (s, edited) = a
        .api(
            Method::PATCH,
            &format!("/api/v1/posts/{}", topic["local_id"]),
            Some(&ana),
            Some(json!({ "content": "Now with #transparency: https://example.org/v2" })),
        )
        .await;
    assert_eq!(s, 200, "{edited}");
    let names: Vec<&str> = edited["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["#transparency"]);
    assert!(edited["content"]
        .as_str()
        .unwrap()
        .contains("href=\"https://example.org/v2\""));
}

/// The refusal a fake Mastodon author got for status `n`.
fn refusal_of(fake: &FakeServer, status: &Value) -> Option<Value> {
    fake.posted("masto")
        .into_iter()
        .find(|v| v["type"] == "Create" && v["object"]["inReplyTo"] == status["id"])
        .map(|v| v["object"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_answers_the_refused_post_in_its_conversation() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    a.community_with(&ana, "net", json!({ "topic_policy": "members" }))
        .await;
    let group = a.url("/c/net");
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    // Mia is not a member; her server is known because she follows another community.
    a.create_community("open", "Open").await;
    a.follow_as(&fake, &mia, "masto", &a.url("/c/open")).await;
    let inbox = a.url("/inbox");

    // Mastodon names a status's conversation with `conversation`.
    let (mut status, mut create) = mia.status(
        &fake,
        1,
        &group,
        "<p>@net Budgets<br>Ours are online.</p>",
        None,
    );
    let conversation = "tag:masto.localhost,2026-11-22:objectId=1:objectType=Conversation";
    status["conversation"] = json!(conversation);
    create["object"]["conversation"] = json!(conversation);
    assert_eq!(mia.deliver(&a.client, &inbox, &create).await, 202);
    wait_for("the refusal", T, || async {
        refusal_of(&fake, &status).is_some()
    })
    .await;
    let note = refusal_of(&fake, &status).unwrap();
    assert_eq!(note["to"], json!([mia.id]), "a direct note: {note}");
    assert!(note["content"]
        .as_str()
        .unwrap()
        .contains("Only members of The net may start topics"));
    assert_eq!(note["context"], conversation, "{note}");
    assert_eq!(note["conversation"], conversation, "{note}");

    // A status that names no conversation: the refused post itself names it.
    let (status, create) = mia.status(&fake, 2, &group, "<p>@net Rooms<br>Where?</p>", None);
    assert_eq!(mia.deliver(&a.client, &inbox, &create).await, 202);
    wait_for("the second refusal", T, || async {
        refusal_of(&fake, &status).is_some()
    })
    .await;
    let note = refusal_of(&fake, &status).unwrap();
    assert_eq!(note["context"], status["id"], "{note}");
    assert_eq!(note["conversation"], status["id"], "{note}");
}
