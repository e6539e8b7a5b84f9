//! Link posts: Lemmy sends a post's link as an `attachment` of type `Link`; Copse keeps it, shows
//! it, serves it in the API and sends it out again the same way, and takes one on local topics.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::post;
use copse_tests::{fake::FakeServer, fixture, wait_for, TestInstance};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use std::time::Duration;
use url::Url;

const T: Duration = Duration::from_secs(20);

async fn stored(i: &TestInstance, ap_id: &str) -> Option<post::Model> {
    post::Entity::find()
        .filter(post::Column::ApId.eq(ap_id))
        .one(i.db())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lemmy_link_posts_keep_their_link_everywhere() {
    let (Some(create), Some(page)) = (
        fixture("fediverse/lemmy/activities/create_or_update/create_page.json"),
        fixture("fediverse/lemmy/objects/page_image_and_link.json"),
    ) else {
        return;
    };
    let a = TestInstance::spawn("alpha").await;
    let ana = a.create_user("ana").await;
    a.community_with(
        &ana,
        "main",
        json!({ "membership_policy": "open", "topic_policy": "anyone" }),
    )
    .await;
    let group = a.url("/c/main");
    let fake = FakeServer::start().await;
    let lemmy = fake.actor("lemmy", "lemmy_alpha");
    let picard = fake.actor("lemmy", "picard");
    a.follow_as(&fake, &lemmy, "lemmy", &group).await;
    let base = fake.base("lemmy");
    // Lemmy's ids moved onto the fake server, its community onto ours.
    let rewrite = |path: &std::path::Path| -> Value {
        let text = std::fs::read_to_string(path)
            .unwrap()
            .replace("http://ds9.lemmy.ml/u/lemmy_alpha", lemmy.id.as_str())
            .replace("https://enterprise.lemmy.ml/u/picard", picard.id.as_str())
            .replace("http://ds9.lemmy.ml", &base)
            .replace("https://enterprise.lemmy.ml/c/main", group.as_str())
            .replace("http://enterprise.lemmy.ml/c/main", group.as_str())
            .replace("https://enterprise.lemmy.ml/c/tenforward", group.as_str())
            .replace("https://enterprise.lemmy.ml/post", &format!("{base}/post"));
        serde_json::from_str(&text).unwrap()
    };
    let inbox = a.url("/inbox");
    assert_eq!(
        lemmy.deliver(&a.client, &inbox, &rewrite(&create)).await,
        202
    );
    // A Page whose attachments are an Image and then the Link: the Link is the post's link.
    let mut object = rewrite(&page);
    object.as_object_mut().unwrap().remove("tag");
    let page_id = object["id"].as_str().unwrap().to_string();
    let create_page = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{base}/activities/create/2"), "type": "Create", "actor": picard.id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [group],
        "audience": group, "object": object
    });
    assert_eq!(picard.deliver(&a.client, &inbox, &create_page).await, 202);
    let first_id = format!("{base}/post/1");
    for id in [&first_id, &page_id] {
        wait_for("the Lemmy post", T, || async {
            stored(&a, id).await.is_some()
        })
        .await;
    }
    let first = stored(&a, &first_id).await.unwrap();
    assert_eq!(
        first.url.as_ref().map(|u| u.as_str()),
        Some("https://lemmy.ml/pictrs/image/xl8W7FZfk9.jpg")
    );
    let linked = stored(&a, &page_id).await.unwrap();
    let article = "https://example.com/some-article";
    assert_eq!(linked.url.as_ref().map(|u| u.as_str()), Some(article));

    // The API and the topic page show it.
    let (_, thread) = a
        .api(
            Method::GET,
            &format!("/api/v1/posts/{}", linked.id),
            None,
            None,
        )
        .await;
    assert_eq!(thread["url"], article, "{thread}");
    let html = a
        .client
        .get(a.url(&format!("/post/{}", linked.id)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("href=\"{article}\"")), "{html}");

    // Sent out again as Lemmy sends it, on the Note we serve in featured.
    let (s, _) = a
        .api(
            Method::PUT,
            &format!("/api/v1/posts/{}/pin", linked.id),
            Some(&ana),
            Some(json!({ "pinned": true })),
        )
        .await;
    assert_eq!(s, 204);
    let (_, featured) = a.get_ap(&a.url("/c/main/featured")).await;
    assert_eq!(
        featured["orderedItems"][0]["attachment"],
        json!([{ "type": "Link", "href": article }]),
        "{featured}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_topics_take_a_link_that_federates() {
    let a = TestInstance::spawn("alpha").await;
    let b = TestInstance::spawn("beta").await;
    let ana = a.create_user("ana").await;
    a.community_with(&ana, "main", json!({ "membership_policy": "open" }))
        .await;
    let bob = b.create_user("bob").await;
    let (s, body) = b.follow(&bob, format!("main@{}", a.domain)).await;
    assert_eq!(s, 202, "{body}");
    wait_for("bob's membership", T, || async {
        b.received("Accept").await.len() == 1
    })
    .await;
    let post = |body: Value| {
        let (a, ana) = (&a, &ana);
        async move {
            a.api(
                Method::POST,
                "/api/v1/communities/main/posts",
                Some(ana),
                Some(body),
            )
            .await
        }
    };
    let (s, err) =
        post(json!({ "title": "Bad", "content": "x", "url": "javascript:alert(1)" })).await;
    assert_eq!(s, 422, "{err}");
    assert_eq!(err["field"], "url");
    let link = "https://example.org/report.pdf";
    let (s, t) =
        post(json!({ "title": "The report", "content": "Worth reading.", "url": link })).await;
    assert_eq!(s, 201, "{t}");
    assert_eq!(t["url"], link);
    let id = t["id"].as_str().unwrap().to_string();
    let (_, note) = a.get_ap(&Url::parse(&id).unwrap()).await;
    assert_eq!(
        note["attachment"],
        json!([{ "type": "Link", "href": link }]),
        "{note}"
    );
    wait_for("the link post on beta", T, || async {
        stored(&b, &id)
            .await
            .is_some_and(|p| p.url.as_ref().map(|u| u.as_str()) == Some(link))
    })
    .await;
}
