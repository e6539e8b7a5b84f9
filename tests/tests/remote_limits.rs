//! Remote text is stored within the caps FEDERATION.md lists, cut on a character boundary into
//! well-formed HTML, and without NUL (which PostgreSQL cannot store).

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{person, post};
use copse_federation::{html::sanitize_html, limits};
use copse_tests::{fake::FakeServer, wait_for, TestInstance};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_remote_fields_are_cut_and_nul_is_stripped() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    a.community_with(
        &ana,
        "net",
        json!({ "topic_policy": "anyone", "reply_policy": "anyone" }),
    )
    .await;
    let group = a.url("/c/net");
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    // The actor document: a 900 KB summary and a display name with NUL in it.
    let actor_doc = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": mia.id, "type": "Person", "preferredUsername": "mia",
        "name": format!("Mia\u{0} {}", "M".repeat(2_000)),
        "summary": format!("<p>{}\u{0}</p>", "é".repeat(450_000)),
        "inbox": format!("{}/inbox", mia.id),
        "publicKey": { "id": format!("{}#main-key", mia.id), "owner": mia.id, "publicKeyPem": mia.public_pem }
    });
    fake.serve(&mia.id, actor_doc);

    // A 450 KB body that ends inside a link, NUL in it, and 300 hashtags.
    let body = format!(
        "<p><span class=\"h-card\"><a href=\"{group}\" class=\"u-url mention\">@<span>net</span></a></span> Long\u{0} one</p><p>{}</p>",
        "<b>ab</b><a href=\"https://example.org/x\">c</a>".repeat(10_000)
    );
    let (note, mut create) = mia.status(&fake, 1, &group, &body, None);
    let mut tags: Vec<Value> = (0..300)
        .map(|i| json!({ "type": "Hashtag", "href": format!("{}/tags/t{i}", fake.base("masto")), "name": format!("#t{i}") }))
        .collect();
    tags.insert(
        0,
        json!({ "type": "Mention", "href": group, "name": "@net@alpha" }),
    );
    create["object"]["tag"] = Value::Array(tags);
    create["object"]["summary"] = Value::String("w\u{0}".repeat(20_000));
    assert_eq!(
        mia.deliver(&a.client, &a.url("/c/net/inbox"), &create)
            .await,
        202
    );
    let id = note["id"].as_str().unwrap().to_string();
    let stored = || async {
        post::Entity::find()
            .filter(post::Column::ApId.eq(id.as_str()))
            .one(a.db())
            .await
            .unwrap()
    };
    wait_for("the long topic", T, || async { stored().await.is_some() }).await;
    let p = stored().await.unwrap();
    assert!(!p.content.contains('\0'));
    assert!(
        p.content.chars().count() <= limits::MAX_CONTENT,
        "{}",
        p.content.len()
    );
    assert!(p.content.len() > 10_000, "the text was cut, not dropped");
    // Well-formed: sanitising again changes nothing, and no tag is left open.
    assert_eq!(sanitize_html(&p.content), p.content);
    assert!(
        p.content.ends_with('>'),
        "{}",
        &p.content[p.content.len() - 80..]
    );
    let tags: Vec<Value> = serde_json::from_str(p.tags.as_deref().unwrap()).unwrap();
    assert!(tags.len() <= limits::MAX_TAGS, "{}", tags.len());

    let m = person::Entity::find()
        .filter(person::Column::ApId.eq(mia.id.as_str()))
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    let summary = m.summary.unwrap();
    assert!(!summary.contains('\0'));
    assert!(
        summary.chars().count() <= limits::MAX_SUMMARY,
        "{}",
        summary.len()
    );
    assert_eq!(sanitize_html(&summary), summary);
    let name = m.display_name.unwrap();
    assert!(name.starts_with("Mia M"), "{name}");
    assert_eq!(name.chars().count(), limits::MAX_NAME);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_long_id_is_refused_with_a_4xx_and_stores_nothing() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    a.community_with(&ana, "net", json!({ "topic_policy": "anyone" }))
        .await;
    let group = a.url("/c/net");
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    let (_, mut create) = mia.status(&fake, 1, &group, "<p>hi</p>", None);
    create["object"]["inReplyTo"] =
        Value::String(format!("{}/{}", fake.base("masto"), "a".repeat(10_000)));
    assert_eq!(
        mia.deliver(&a.client, &a.url("/c/net/inbox"), &create)
            .await,
        400
    );
    assert!(a.received("Create").await.is_empty());
}
