//! Actors, discovery, and the collections and objects Copse serves.

use super::*;
use copse_tests::golden::Golden;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actors_discovery_collections_and_objects() {
    let g = Golden::new();
    let a = spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let net = open(&a, &ana, "net").await;
    let fake = FakeServer::start().await;
    fake.serve_nodeinfo("masto", "mastodon");
    let mia = fake.actor("masto", "mia");
    a.follow_as(&fake, &mia, "masto", &net).await;
    let t = topic(
        &a,
        &ana,
        "net",
        "Budgets",
        "How do you share yours? #budgets",
    )
    .await;
    let r = reply(&a, &ana, local_id(&t), "Monthly, in the open.").await;
    call(
        &a,
        Method::PUT,
        &format!("/api/v1/posts/{}/pin", local_id(&t)),
        &ana,
        Some(json!({ "pinned": true })),
        204,
    )
    .await;

    g.json("group", &served(&a, net.as_str()).await);
    g.json("person", &served(&a, a.url("/u/ana").as_str()).await);
    g.json("application", &served(&a, a.url("/actor").as_str()).await);

    let domain = &a.domain;
    for (name, acct) in [("webfinger-group", "net"), ("webfinger-person", "ana")] {
        let url = a.url(&format!(
            "/.well-known/webfinger?resource=acct:{acct}@{domain}"
        ));
        let (_, body) = fetched(&a, url.as_str()).await;
        g.json(name, &serde_json::from_str(&body).unwrap());
    }
    let (_, links) = fetched(&a, a.url("/.well-known/nodeinfo").as_str()).await;
    let links: Value = serde_json::from_str(&links).unwrap();
    g.json("nodeinfo-links", &links);
    let href = links["links"][0]["href"].as_str().unwrap().to_string();
    let (_, nodeinfo) = fetched(&a, &href).await;
    g.json("nodeinfo", &serde_json::from_str(&nodeinfo).unwrap());

    for (name, path) in [
        ("group-followers", "/c/net/followers"),
        ("group-following", "/c/net/following"),
        ("group-members", "/c/net/members"),
        ("group-moderators", "/c/net/moderators"),
        ("group-featured", "/c/net/featured"),
        ("group-outbox", "/c/net/outbox"),
        ("person-outbox", "/u/ana/outbox"),
        ("person-followers", "/u/ana/followers"),
        ("person-following", "/u/ana/following"),
        ("application-followers", "/actor/followers"),
        ("application-following", "/actor/following"),
    ] {
        let doc = served(&a, a.url(path).as_str()).await;
        if let Some(first) = doc["first"].as_str() {
            g.json(&format!("{name}-page"), &served(&a, first).await);
        }
        g.json(name, &doc);
    }

    let note = served(&a, t["id"].as_str().unwrap()).await;
    g.json("note-topic", &note);
    let answer = served(&a, r["id"].as_str().unwrap()).await;
    g.json("note-reply", &answer);
    g.json(
        "context-collection",
        &served(&a, note["context"].as_str().unwrap()).await,
    );
    let replies = match &note["replies"] {
        Value::String(url) => served(&a, url).await,
        Value::Object(o) => served(&a, o["id"].as_str().unwrap()).await,
        other => panic!("a topic's replies: {other}"),
    };
    if let Some(first) = replies["first"].as_str() {
        g.json("replies-collection-page", &served(&a, first).await);
    }
    g.json("replies-collection", &replies);

    // The content type of each kind of document, as served.
    let mut types = serde_json::Map::new();
    for path in [
        "/c/net",
        "/u/ana",
        "/actor",
        "/c/net/outbox",
        "/post/1",
        "/post/1/context",
        "/post/1/replies",
    ] {
        let res = a
            .client
            .get(a.url(path).as_str())
            .header("Accept", "application/activity+json")
            .send()
            .await
            .unwrap();
        let kind = res.headers().get("content-type").unwrap().to_str().unwrap();
        types.insert(path.to_string(), json!(kind));
    }
    for path in [
        &format!("/.well-known/webfinger?resource=acct:net@{domain}"),
        "/.well-known/nodeinfo",
        "/nodeinfo/2.1",
    ] {
        let (kind, _) = fetched(&a, a.url(path).as_str()).await;
        types.insert(path.replace(domain.as_str(), "alpha.example"), json!(kind));
    }
    g.json("content-types", &Value::Object(types));
}
