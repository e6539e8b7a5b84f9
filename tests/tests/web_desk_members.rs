//! The desk's members, invitations and bans in the browser: each form changes the rows and
//! federates as the API does, bad input is named beside its field and writes nothing, and
//! members get 403 on every desk page and form.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{
    community_ban, community_follower, community_follower::Role, community_invite, person,
};
use copse_tests::{
    builders::{activities::wait_received, communities::accepted_follows, T},
    visitor::{account_with_password, Visitor},
    wait_for, TestInstance,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

const PASSWORD: &str = "a long enough password";

/// Alpha's open "net" coordinated by `coord` (signed in), with `max`, a local member who signs
/// in with `PASSWORD`.
struct Desk<'a> {
    coord: Visitor<'a>,
    max: Visitor<'a>,
}

async fn desk(a: &TestInstance) -> Desk<'_> {
    let token = account_with_password(a, "coord", PASSWORD).await;
    a.community_with(&token, "net", json!({ "membership_policy": "open" }))
        .await;
    let max = account_with_password(a, "max", PASSWORD).await;
    let (s, _) = a.follow(&max, &"net").await;
    assert_eq!(s, 202);
    let mut coord = Visitor::new(a);
    coord.sign_in("coord", PASSWORD).await;
    let mut member = Visitor::new(a);
    member.sign_in("max", PASSWORD).await;
    Desk { coord, max: member }
}

/// Bob on beta joins alpha's net; his handle.
async fn bob_joins(a: &TestInstance, b: &TestInstance) -> String {
    let bob = b.create_user("bob").await;
    let (s, _) = b.follow(&bob, &format!("net@{}", a.domain)).await;
    assert_eq!(s, 202);
    wait_for("bob accepted", T, || async {
        accepted_follows(b).await == 1
    })
    .await;
    format!("bob@{}", b.domain)
}

async fn person_id(a: &TestInstance, ap_id: &str) -> i64 {
    person::Entity::find()
        .filter(person::Column::ApId.eq(ap_id))
        .one(a.db())
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn bans(a: &TestInstance) -> u64 {
    community_ban::Entity::find().count(a.db()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_from_the_desk_federates_as_block_and_ends_the_membership() {
    let a = TestInstance::spawn("alpha").await;
    let b = TestInstance::spawn("beta").await;
    let mut d = desk(&a).await;
    let bob = bob_joins(&a, &b).await;
    let res = d
        .coord
        .submit(
            "/c/net/desk/bans",
            "/c/net/desk/bans",
            &[
                ("handle", bob.as_str()),
                ("reason", "spam"),
                ("expires_at", "2040-01-01T00:00"),
                ("remove_content", "yes"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let block = wait_received(&b, "the Block", |v| {
        v["type"] == "Announce" && v["object"]["type"] == "Block"
    })
    .await;
    assert_eq!(block["object"]["summary"], "spam");
    assert_eq!(block["object"]["object"], b.url("/u/bob").as_str());
    let ban = community_ban::Entity::find()
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        ban.expires_at.unwrap().to_rfc3339(),
        "2040-01-01T00:00:00+00:00"
    );
    let bob_here = person_id(&a, b.url("/u/bob").as_str()).await;
    let still = community_follower::Entity::find()
        .filter(community_follower::Column::PersonId.eq(bob_here))
        .count(a.db())
        .await
        .unwrap();
    assert_eq!(still, 0, "the ban ends the membership");
    let page = d.coord.get("/c/net/desk/bans").await;
    assert!(page.body.contains("spam"), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifting_a_ban_from_the_desk_federates_as_undo_block() {
    let a = TestInstance::spawn("alpha").await;
    let b = TestInstance::spawn("beta").await;
    let mut d = desk(&a).await;
    let bob = bob_joins(&a, &b).await;
    d.coord
        .submit(
            "/c/net/desk/bans",
            "/c/net/desk/bans",
            &[("handle", bob.as_str())],
        )
        .await;
    assert_eq!(bans(&a).await, 1);
    let bob_here = person_id(&a, b.url("/u/bob").as_str()).await;
    let res = d
        .coord
        .submit(
            "/c/net/desk/bans",
            &format!("/c/net/desk/bans/{bob_here}/lift"),
            &[],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(bans(&a).await, 0);
    wait_received(&b, "the Undo{Block}", |v| {
        v["type"] == "Announce" && v["object"]["type"] == "Undo"
    })
    .await;
}

#[tokio::test]
async fn a_bad_expiry_is_named_beside_its_field_and_bans_no_one() {
    let a = TestInstance::spawn("alpha").await;
    let mut d = desk(&a).await;
    for (expiry, words) in [
        ("next tuesday", "expires_at must be a date and time"),
        ("2001-01-01T10:00", "must be in the future"),
    ] {
        let res = d
            .coord
            .submit(
                "/c/net/desk/bans",
                "/c/net/desk/bans",
                &[("handle", "max"), ("expires_at", expiry)],
            )
            .await;
        assert_eq!(res.status, 422, "{}", res.body);
        let at = res
            .body
            .find("id=\"expires_at-error\"")
            .expect("error beside the field");
        assert!(res.body[at..].contains(words), "{}", res.body);
        assert!(
            res.body.contains(&format!("value=\"{expiry}\"")),
            "the form keeps what was typed"
        );
    }
    assert_eq!(bans(&a).await, 0);
}

#[tokio::test]
async fn an_unknown_handle_on_the_ban_form_is_named_and_bans_no_one() {
    let a = TestInstance::spawn("alpha").await;
    let mut d = desk(&a).await;
    let res = d
        .coord
        .submit(
            "/c/net/desk/bans",
            "/c/net/desk/bans",
            &[("handle", "nobody")],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains("id=\"handle-error\""), "{}", res.body);
    assert_eq!(bans(&a).await, 0);
}

#[tokio::test]
async fn a_ban_reason_is_escaped_on_the_desk() {
    let a = TestInstance::spawn("alpha").await;
    let mut d = desk(&a).await;
    let res = d
        .coord
        .submit(
            "/c/net/desk/bans",
            "/c/net/desk/bans",
            &[("handle", "max"), ("reason", "<script>alert(1)</script>")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let page = d.coord.get("/c/net/desk/bans").await;
    // Askama writes `&#60;`, the HTML helpers `&lt;`: either is text, not a tag.
    assert!(
        page.body
            .contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>alert(1)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_given_at_the_desk_federates_as_add_to_moderators() {
    let a = TestInstance::spawn("alpha").await;
    let b = TestInstance::spawn("beta").await;
    let mut d = desk(&a).await;
    bob_joins(&a, &b).await;
    let bob_here = person_id(&a, b.url("/u/bob").as_str()).await;
    let page = d.coord.get("/c/net/desk/members").await;
    assert!(page.body.contains("/u/bob"), "{}", page.body);
    let res = d
        .coord
        .submit(
            "/c/net/desk/members",
            &format!("/c/net/desk/members/{bob_here}/role"),
            &[("role", "facilitator")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let row = community_follower::Entity::find()
        .filter(community_follower::Column::PersonId.eq(bob_here))
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.role, Role::Facilitator);
    wait_received(&b, "Announce{Add{bob, moderators}}", |v| {
        v["type"] == "Announce"
            && v["object"]["type"] == "Add"
            && v["object"]["target"]
                .as_str()
                .is_some_and(|t| t.ends_with("/moderators"))
    })
    .await;
}

#[tokio::test]
async fn a_member_removed_at_the_desk_is_no_longer_a_member() {
    let a = TestInstance::spawn("alpha").await;
    let mut d = desk(&a).await;
    let max_id = person_id(&a, a.url("/u/max").as_str()).await;
    let res = d
        .coord
        .submit(
            "/c/net/desk/members",
            &format!("/c/net/desk/members/{max_id}/remove"),
            &[],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let left = community_follower::Entity::find()
        .filter(community_follower::Column::PersonId.eq(max_id))
        .count(a.db())
        .await
        .unwrap();
    assert_eq!(left, 0);
    assert!(d.max.get("/c/net").await.body.contains("Join"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_from_the_desk_is_sent_listed_and_revoked() {
    let a = TestInstance::spawn("alpha").await;
    let b = TestInstance::spawn("beta").await;
    let mut d = desk(&a).await;
    b.create_user("bob").await;
    let bob = format!("bob@{}", b.domain);
    let res = d
        .coord
        .submit(
            "/c/net/desk/members",
            "/c/net/desk/invites",
            &[("handle", bob.as_str())],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let invite = wait_received(&b, "the Invite", |v| v["type"] == "Invite").await;
    assert_eq!(invite["target"], b.url("/u/bob").as_str());
    let page = d.coord.get("/c/net/desk/members").await;
    assert!(
        page.body.contains(b.url("/u/bob").as_str()),
        "{}",
        page.body
    );
    let row = community_invite::Entity::find()
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    let res = d
        .coord
        .submit(
            "/c/net/desk/members",
            &format!("/c/net/desk/invites/{}/revoke", row.id),
            &[],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(
        community_invite::Entity::find()
            .count(a.db())
            .await
            .unwrap(),
        0
    );
    assert!(d
        .coord
        .get("/c/net/desk/members")
        .await
        .body
        .contains("No invitations waiting."));
}

#[tokio::test]
async fn an_unknown_handle_on_the_invite_form_is_named_and_invites_no_one() {
    let a = TestInstance::spawn("alpha").await;
    let mut d = desk(&a).await;
    let res = d
        .coord
        .submit(
            "/c/net/desk/members",
            "/c/net/desk/invites",
            &[("handle", "nobody")],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains("id=\"handle-error\""), "{}", res.body);
    assert!(res.body.contains("value=\"nobody\""));
    assert_eq!(
        community_invite::Entity::find()
            .count(a.db())
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_member_gets_403_on_every_desk_page_and_form() {
    let a = TestInstance::spawn("alpha").await;
    let mut d = desk(&a).await;
    let coord_id = person_id(&a, a.url("/u/coord").as_str()).await;
    for page in [
        "/c/net/desk/members",
        "/c/net/desk/bans",
        "/c/net/desk/topics",
        "/c/net/desk/log",
        "/c/net/desk/settings",
        "/c/net/events/new",
    ] {
        assert_eq!(d.max.get(page).await.status, 403, "{page}");
    }
    // Max posts with his own valid token, as a forged form would.
    let csrf = d.max.get("/c/net").await.csrf();
    let posts = [
        ("/c/net/desk/invites".to_string(), vec![("handle", "coord")]),
        ("/c/net/desk/invites/1/revoke".to_string(), vec![]),
        (
            format!("/c/net/desk/members/{coord_id}/role"),
            vec![("role", "member")],
        ),
        (format!("/c/net/desk/members/{coord_id}/remove"), vec![]),
        ("/c/net/desk/bans".to_string(), vec![("handle", "coord")]),
        (format!("/c/net/desk/bans/{coord_id}/lift"), vec![]),
        (
            "/c/net/desk/settings".to_string(),
            vec![("title", "Mine now")],
        ),
        ("/c/net/events/new".to_string(), vec![("title", "Party")]),
    ];
    for (path, fields) in posts {
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend(fields);
        assert_eq!(d.max.post(&path, &all).await.status, 403, "{path}");
    }
    assert_eq!(bans(&a).await, 0);
    assert_eq!(
        community_invite::Entity::find()
            .count(a.db())
            .await
            .unwrap(),
        0
    );
    let coord = community_follower::Entity::find()
        .filter(community_follower::Column::PersonId.eq(coord_id))
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(coord.role, Role::Coordinator);
}
