//! Membership of a community that admits by approval: the question to an applicant, approval
//! (welcome, Add), declining, roles, invitations, bans and removal.

use super::*;
use copse_tests::{fake::FakeActor, golden::Golden};

/// Sends a Follow of `group` as `who`.
async fn ask(a: &TestInstance, fake: &FakeServer, who: &FakeActor, name: &str, group: &Url) {
    let follow = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/follows/{name}", fake.base("masto")),
        "type": "Follow", "actor": who.id, "object": group
    });
    let inbox = Url::parse(&format!("{group}/inbox")).unwrap();
    assert_eq!(who.deliver(&a.client, &inbox, &follow).await, 202);
}

/// The local id of the applicant `who` once their request is listed.
async fn request_of(a: &TestInstance, ana: &str, who: &str) -> i64 {
    let find = || async {
        let (_, r) = a
            .api(
                Method::GET,
                "/api/v1/communities/circle/requests",
                Some(ana),
                None,
            )
            .await;
        r["items"].as_array().and_then(|i| {
            i.iter()
                .find(|r| r["person"]["id"] == who)
                .and_then(|r| r["person"]["local_id"].as_i64())
        })
    };
    wait_for("the request", T, || async { find().await.is_some() }).await;
    find().await.unwrap()
}

fn to_only(v: &Value, who: &str) -> bool {
    v["type"] == "Create" && v["object"]["to"] == json!([who])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applicants_members_roles_invitations_and_bans() {
    let g = Golden::new();
    let a = spawn("alpha").await;
    let b = spawn("beta").await;
    let ana = a.create_user("ana").await;
    let circle = community(
        &a,
        &ana,
        "circle",
        json!({ "membership_policy": "approval", "welcome_mode": "public" }),
    )
    .await;
    let fake = FakeServer::start().await;
    let mia = fake.actor("masto", "mia");
    let leo = fake.actor("masto", "leo");
    let mia_id = mia.id.to_string();
    let leo_id = leo.id.to_string();

    ask(&a, &fake, &mia, "mia", &circle).await;
    let why = delivered(&fake, "masto", "the question", |v| to_only(v, &mia_id)).await;
    g.json("create-note-asking-why", &why);
    let mia_local = request_of(&a, &ana, &mia_id).await;
    call(
        &a,
        Method::POST,
        &format!("/api/v1/communities/circle/requests/{mia_local}/approve"),
        &ana,
        None,
        204,
    )
    .await;
    let accept = delivered(&fake, "masto", "the Accept", |v| v["type"] == "Accept").await;
    g.json("accept-follow-approved", &accept);
    let welcome = delivered(&fake, "masto", "the welcome", |v| {
        v["type"] == "Create"
            && v["object"]["content"]
                .as_str()
                .is_some_and(|c| c.contains("Welcome"))
    })
    .await;
    g.json("create-note-welcome", &welcome);
    let add = delivered(&fake, "masto", "the Add", |v| v["type"] == "Add").await;
    g.json("add-member", &add);

    ask(&a, &fake, &leo, "leo", &circle).await;
    let leo_local = request_of(&a, &ana, &leo_id).await;
    call(
        &a,
        Method::POST,
        &format!("/api/v1/communities/circle/requests/{leo_local}/decline"),
        &ana,
        Some(json!({ "message": "We are full this season; ask again in spring." })),
        204,
    )
    .await;
    let reject = delivered(&fake, "masto", "the Reject", |v| v["type"] == "Reject").await;
    g.json("reject-follow-declined", &reject);
    let note = delivered(&fake, "masto", "the message", |v| {
        to_only(v, &leo_id)
            && v["object"]["content"]
                .as_str()
                .is_some_and(|c| c.contains("spring"))
    })
    .await;
    g.json("create-note-declined", &note);

    for (role, kind, name) in [
        ("facilitator", "Add", "announce-add-moderator"),
        ("member", "Remove", "announce-remove-moderator"),
    ] {
        call(
            &a,
            Method::PUT,
            &format!("/api/v1/communities/circle/members/{mia_local}/role"),
            &ana,
            Some(json!({ "role": role })),
            204,
        )
        .await;
        let doc = delivered(&fake, "masto", name, |v| {
            v["type"] == "Announce" && v["object"]["type"] == kind
        })
        .await;
        g.json(name, &doc);
    }

    let dan = format!("dan@{}", b.domain);
    b.create_user("dan").await;
    call(
        &a,
        Method::POST,
        "/api/v1/communities/circle/invites",
        &ana,
        Some(json!({ "handle": dan })),
        201,
    )
    .await;
    g.json(
        "invite",
        &received(&b, "Invite", "the Invite", |_| true).await,
    );
    g.json(
        "create-note-invitation",
        &received(&b, "Create", "the invitation note", |_| true).await,
    );

    let banned = call(
        &a,
        Method::POST,
        "/api/v1/communities/circle/bans",
        &ana,
        Some(json!({ "handle": dan, "reason": "Spam in three communities." })),
        201,
    )
    .await;
    let block = delivered(&fake, "masto", "the Block", |v| {
        v["type"] == "Announce" && v["object"]["type"] == "Block"
    })
    .await;
    g.json("announce-block", &block);
    call(
        &a,
        Method::DELETE,
        &format!(
            "/api/v1/communities/circle/bans/{}",
            banned["local_id"].as_i64().unwrap()
        ),
        &ana,
        None,
        204,
    )
    .await;
    let unblock = delivered(&fake, "masto", "the Undo{Block}", |v| {
        v["type"] == "Announce" && v["object"]["type"] == "Undo"
    })
    .await;
    g.json("announce-undo-block", &unblock);

    // A second member is removed: the community announces Remove and rejects their follow.
    let bob = b.create_user("bob").await;
    let (s, body) = b.follow(&bob, format!("circle@{}", a.domain)).await;
    assert_eq!(s, 202, "{body}");
    let bob_id = b.url("/u/bob").to_string();
    let bob_local = request_of(&a, &ana, &bob_id).await;
    call(
        &a,
        Method::POST,
        &format!("/api/v1/communities/circle/requests/{bob_local}/approve"),
        &ana,
        None,
        204,
    )
    .await;
    received(&b, "Accept", "bob's Accept", |_| true).await;
    call(
        &a,
        Method::DELETE,
        &format!("/api/v1/communities/circle/members/{bob_local}"),
        &ana,
        None,
        204,
    )
    .await;
    let remove = delivered(&fake, "masto", "the Remove", |v| v["type"] == "Remove").await;
    g.json("remove-member", &remove);
    g.json(
        "reject-follow-removed",
        &received(&b, "Reject", "bob's Reject", |_| true).await,
    );
}
