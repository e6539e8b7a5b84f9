//! What is gone is gone from every route: after a post is deleted, removed or edited, neither
//! its activities (`/activities/...`) nor the community outbox serve its old text, and the
//! outbox leaves out activities about deleted topics, a deleted event and a removed post.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::activity;
use copse_tests::TestInstance;
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use url::Url;

async fn topic(a: &TestInstance, token: &str, title: &str, body: &str) -> (i64, String) {
    let (s, t) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/posts",
            Some(token),
            Some(json!({ "title": title, "content": body })),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    (
        t["local_id"].as_i64().unwrap(),
        t["id"].as_str().unwrap().to_string(),
    )
}

/// Every activity sent about the post with row id `post_id`, as served at its id.
async fn served_about(a: &TestInstance, post_id: i64) -> Vec<Value> {
    let rows = activity::Entity::find()
        .filter(activity::Column::PostId.eq(post_id))
        .all(a.db())
        .await
        .unwrap();
    assert!(!rows.is_empty(), "no activity names post {post_id}");
    let mut out = Vec::new();
    for r in rows {
        let (s, v) = a.get_ap(&Url::parse(r.ap_id.as_str()).unwrap()).await;
        assert_eq!(s, 200, "{}", r.ap_id);
        out.push(v);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_removed_and_edited_text_is_served_nowhere() {
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    a.community_with(
        &ana,
        "net",
        json!({ "membership_policy": "open", "topic_policy": "anyone" }),
    )
    .await;
    let max = a.create_user("max").await;

    let (edited, edited_ap) = topic(&a, &ana, "Plans", "first draft words").await;
    let (s, _) = a
        .api(
            Method::PATCH,
            &format!("/api/v1/posts/{edited}"),
            Some(&ana),
            Some(json!({ "content": "second draft words" })),
        )
        .await;
    assert_eq!(s, 200);
    let (deleted, deleted_ap) = topic(&a, &ana, "Oops", "deleted secret words").await;
    let (s, _) = a
        .api(
            Method::DELETE,
            &format!("/api/v1/posts/{deleted}"),
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (removed, removed_ap) = topic(&a, &max, "Spam", "removed spam words").await;
    let (s, _) = a
        .api(
            Method::POST,
            &format!("/api/v1/posts/{removed}/remove"),
            Some(&ana),
            Some(json!({ "reason": "spam" })),
        )
        .await;
    assert_eq!(s, 204);
    let (s, ev) = a
        .api(
            Method::POST,
            "/api/v1/communities/net/events",
            Some(&ana),
            Some(json!({
                "title": "Cancelled meetup",
                "description": "deleted event words",
                "start": "2027-06-15T18:00",
                "end": "2027-06-15T20:00",
                "timezone": "Europe/London",
            })),
        )
        .await;
    assert_eq!(s, 201, "{ev}");
    let event = ev["id"].as_i64().unwrap();
    let event_ap = ev["ap_id"].as_str().unwrap().to_string();
    let (s, _) = a
        .api(
            Method::DELETE,
            &format!("/api/v1/events/{event}"),
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(s, 204);

    // The outbox, as Lemmy reads it when it first subscribes, and its first page.
    let gone_words = [
        "first draft words",
        "deleted secret words",
        "removed spam words",
        "deleted event words",
    ];
    for url in [a.url("/c/net/outbox"), a.url("/c/net/outbox?page=true")] {
        let (s, outbox) = a.get_ap(&url).await;
        assert_eq!(s, 200);
        let text = outbox.to_string();
        for words in gone_words {
            assert!(
                !text.contains(words),
                "{words:?} still in the outbox: {text}"
            );
        }
        for gone in [&deleted_ap, &removed_ap, &event_ap] {
            assert!(!text.contains(gone.as_str()), "{gone} still listed: {text}");
        }
        assert!(text.contains("second draft words"), "{text}");
        let items = outbox["orderedItems"].as_array().unwrap();
        assert!(
            items
                .iter()
                .any(|i| i["object"]["object"]["id"] == edited_ap.as_str()),
            "{text}"
        );
        if let Some(total) = outbox["totalItems"].as_u64() {
            assert_eq!(total, items.len() as u64, "the count leaves them out too");
        }
    }

    // Each activity at its id: the post as it is now, or its tombstone.
    for v in served_about(&a, edited).await {
        let text = v.to_string();
        assert!(!text.contains("first draft words"), "{text}");
        assert!(text.contains("second draft words"), "{text}");
    }
    for id in [deleted, removed, event] {
        for v in served_about(&a, id).await {
            let text = v.to_string();
            for words in gone_words {
                assert!(!text.contains(words), "{words:?} served: {text}");
            }
            let embedded = [&v["object"], &v["object"]["object"]];
            if embedded
                .iter()
                .any(|o| o.is_object() && o.get("content").is_some())
            {
                panic!("content of a gone post served: {text}");
            }
            assert!(
                embedded.iter().any(|o| o["type"] == "Tombstone")
                    || v["type"] == "Delete"
                    || v["object"]["type"] == "Delete",
                "{text}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_migration_names_the_post_of_activities_sent_before_it() {
    use copse_migration::{Migrator, MigratorTrait};
    use sea_orm::QueryOrder;
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    a.community_with(&ana, "net", json!({ "membership_policy": "open" }))
        .await;
    let (id, _) = topic(&a, &ana, "Plans", "Words").await;
    let (s, _) = a
        .api(
            Method::PUT,
            &format!("/api/v1/posts/{id}/pin"),
            Some(&ana),
            Some(json!({ "pinned": true })),
        )
        .await;
    assert_eq!(s, 204);
    let named = || async {
        activity::Entity::find()
            .order_by_asc(activity::Column::Id)
            .all(a.db())
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.kind, r.post_id))
            .collect::<Vec<_>>()
    };
    let before = named().await;
    // Create, Announce{Create}, Announce{Note}, Add and Announce{Add} name the topic.
    assert_eq!(
        before.iter().filter(|(_, p)| *p == Some(id)).count(),
        5,
        "{before:?}"
    );
    Migrator::down(a.db(), Some(1)).await.unwrap();
    Migrator::up(a.db(), None).await.unwrap();
    assert_eq!(named().await, before);
}
