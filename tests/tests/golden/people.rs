//! Profile changes (Update{Group}, its announced form, Update{Person}) and what follows the
//! deletion of a member's account elsewhere.

use super::*;
use copse_tests::golden::Golden;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_changes_and_a_deleted_account() {
    let g = Golden::new();
    let a = spawn("alpha").await;
    let ana = a.create_user("ana").await;
    let net = open(&a, &ana, "net").await;
    let fake = FakeServer::start().await;
    fake.serve_nodeinfo("lemmy", "lemmy");
    fake.serve_nodeinfo("masto", "mastodon");
    let lea = fake.actor("lemmy", "lea");
    let mia = fake.actor("masto", "mia");
    a.follow_as(&fake, &lea, "lemmy", &net).await;
    a.follow_as(&fake, &mia, "masto", &net).await;

    call(
        &a,
        Method::PUT,
        "/api/v1/communities/net/settings",
        &ana,
        Some(json!({ "title": "The Network", "summary": "Youth workers in **Devon**." })),
        200,
    )
    .await;
    g.json(
        "update-group",
        &delivered(&fake, "masto", "the Update{Group}", |v| {
            v["type"] == "Update" && v["object"]["type"] == "Group"
        })
        .await,
    );
    g.json(
        "announce-update-group",
        &delivered(&fake, "lemmy", "the Announce{Update{Group}}", |v| {
            v["type"] == "Announce" && v["object"]["object"]["type"] == "Group"
        })
        .await,
    );

    call(
        &a,
        Method::PUT,
        "/api/v1/me",
        &ana,
        Some(json!({ "display_name": "Ana Lima", "summary": "Coordinator in *Exeter*." })),
        200,
    )
    .await;
    g.json(
        "update-person",
        &delivered(&fake, "masto", "the Update{Person}", |v| {
            v["type"] == "Update" && v["object"]["type"] == "Person"
        })
        .await,
    );

    // Mia deletes her account: once her actor answers 410, her membership ends.
    fake.gone(&mia.id);
    let delete = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}#delete", mia.id), "type": "Delete", "actor": mia.id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"], "object": mia.id
    });
    assert_eq!(mia.deliver(&a.client, &a.url("/inbox"), &delete).await, 202);
    g.json(
        "remove-member-deleted-account",
        &delivered(&fake, "lemmy", "the Remove", |v| {
            v["type"] == "Remove" && v["object"] == mia.id.as_str()
        })
        .await,
    );
}
