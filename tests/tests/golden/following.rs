//! Following: the answers a Copse community sends, and what a local person sends to a remote
//! community (Follow, a topic there, Undo{Follow}).

use super::*;
use copse_tests::golden::Golden;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_of_a_copse_community_are_answered() {
    let g = Golden::new();
    let a = spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let net = open(&a, &ana, "net").await;
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    a.follow_as(&fake, &mia, "masto", &net).await;
    let accept = delivered(&fake, "masto", "the Accept", |v| v["type"] == "Accept").await;
    g.json("accept-follow", &accept);

    let closed = community(&a, &ana, "inner", json!({ "membership_policy": "invite" })).await;
    let follow = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/follows/mia/inner", fake.base("masto")),
        "type": "Follow", "actor": mia.id, "object": closed
    });
    let inbox = Url::parse(&format!("{closed}/inbox")).unwrap();
    assert_eq!(mia.deliver(&a.client, &inbox, &follow).await, 202);
    let reject = delivered(&fake, "masto", "the Reject", |v| v["type"] == "Reject").await;
    g.json("reject-follow", &reject);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_person_follows_posts_in_and_leaves_a_remote_community() {
    let g = Golden::new();
    let a = spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let fake = FakeServer::start().await;
    let group = fake.group("lemmy", "tech");
    a.follow_fake_group(&ana, &fake, &group).await;
    let follow = delivered(&fake, "lemmy", "the Follow", |v| v["type"] == "Follow").await;
    g.json("follow", &follow);

    let handle = format!("tech@lemmy.localhost:{}", fake.port);
    call(
        &a,
        Method::POST,
        &format!("/api/v1/communities/{handle}/posts"),
        &ana,
        Some(json!({ "title": "Budgets", "content": "How do you share yours?" })),
        201,
    )
    .await;
    let create = delivered(&fake, "lemmy", "the Create", |v| v["type"] == "Create").await;
    g.json("create-topic-in-remote-community", &create);

    call(
        &a,
        Method::DELETE,
        &format!("/api/v1/follows?community={handle}"),
        &ana,
        None,
        204,
    )
    .await;
    let undo = delivered(&fake, "lemmy", "the Undo", |v| v["type"] == "Undo").await;
    g.json("undo-follow", &undo);
}
