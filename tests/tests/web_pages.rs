//! Taking part from the browser: joining a community (open, by approval with a reason, with a
//! code of conduct), starting a topic, replying, liking, editing, deleting and reporting, each
//! through the pages' forms, and what the pages then show.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{community_follower, post, report};
use copse_tests::{
    builders::communities::community,
    visitor::{account_with_password, Visitor},
    TestInstance,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

const PASSWORD: &str = "a long enough password";

async fn member_rows(inst: &TestInstance) -> Vec<community_follower::Model> {
    community_follower::Entity::find()
        .all(inst.db())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_person_joins_an_open_community_starts_a_topic_and_replies() {
    let inst = TestInstance::spawn("alpha").await;
    let owner = inst.create_user("owner").await;
    community(
        &inst,
        &owner,
        "garden",
        json!({"membership_policy": "open"}),
    )
    .await;
    account_with_password(&inst, "ana", PASSWORD).await;
    let mut v = Visitor::new(&inst);
    v.sign_in("ana", PASSWORD).await;

    let page = v.get("/c/garden").await;
    assert!(page.body.contains(">Join</button>"), "{}", page.body);
    let res = v
        .submit("/c/garden", "/c/garden/join", &[("listed", "yes")])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let page = v.get("/c/garden").await;
    assert!(page.body.contains("You are a member"), "{}", page.body);
    assert!(
        page.body.contains("The garden"),
        "the header lists the community"
    );

    let res = v
        .submit(
            "/c/garden/new",
            "/c/garden/new",
            &[
                ("title", "Seed swaps <b>&</b> more"),
                ("url", ""),
                ("content", "Who has **tomato** seeds?"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let topic = res.location.unwrap();
    let page = v.get(&topic).await;
    assert!(
        page.body
            .contains("Seed swaps &#60;b&#62;&#38;&#60;/b&#62; more")
            && !page.body.contains("<b>&</b>"),
        "titles are escaped: {}",
        page.body
    );
    assert!(page.body.contains("<strong>tomato</strong>"));
    let id = topic.trim_start_matches("/post/");
    let res = v
        .submit(
            &topic,
            &format!("/post/{id}/reply"),
            &[("content", "I do, _heirloom_ ones.")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let page = v.get(&topic).await;
    assert!(page.body.contains("<em>heirloom</em>"), "{}", page.body);
    assert!(page.body.contains("<h2>Replies</h2>"));
    let list = v.get("/c/garden").await;
    assert!(list.body.contains("1 reply"), "{}", list.body);
}

#[tokio::test]
async fn an_approval_community_asks_for_a_reason_and_the_code_of_conduct() {
    let inst = TestInstance::spawn("alpha").await;
    let owner = inst.create_user("owner").await;
    community(
        &inst,
        &owner,
        "council",
        json!({"membership_policy": "approval", "rules": "Be kind.", "require_rules_agreement": true}),
    )
    .await;
    account_with_password(&inst, "ben", PASSWORD).await;
    let mut v = Visitor::new(&inst);
    v.sign_in("ben", PASSWORD).await;
    let res = v.submit("/c/council", "/c/council/join", &[]).await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("id=\"reason-error\""), "{}", res.body);
    assert!(res.body.contains("id=\"agree-error\""));
    assert!(
        member_rows(&inst)
            .await
            .iter()
            .all(|m| m.person_id == 1 || m.pending),
        "nothing joined"
    );
    let res = v
        .submit(
            "/c/council",
            "/c/council/join",
            &[("reason", "I run the Leeds network"), ("agree", "yes")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let page = v.get("/c/council").await;
    assert!(
        page.body.contains("waiting for a coordinator"),
        "{}",
        page.body
    );
    let pending: Vec<_> = member_rows(&inst)
        .await
        .into_iter()
        .filter(|m| m.pending)
        .collect();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0].reason.as_deref(),
        Some("I run the Leeds network")
    );
    assert!(pending[0].rules_agreed_at.is_some());
    // Withdrawing the request.
    let res = v.submit("/c/council", "/c/council/leave", &[]).await;
    assert_eq!(res.status, 303);
    assert!(v.get("/c/council").await.body.contains("Ask to join"));
}

#[tokio::test]
async fn authors_edit_and_delete_their_posts_and_others_report_them() {
    let inst = TestInstance::spawn("alpha").await;
    inst.create_community("open", "Open space").await;
    account_with_password(&inst, "cat", PASSWORD).await;
    account_with_password(&inst, "dan", PASSWORD).await;
    let mut cat = Visitor::new(&inst);
    cat.sign_in("cat", PASSWORD).await;
    let res = cat
        .submit(
            "/c/open/new",
            "/c/open/new",
            &[("title", "First"), ("content", "Hello")],
        )
        .await;
    let topic = res.location.unwrap();
    let id = topic.trim_start_matches("/post/").to_string();
    let page = cat.get(&topic).await;
    assert!(
        page.body.contains(&format!("/post/{id}/edit")),
        "the author may edit"
    );
    let res = cat
        .submit(
            &format!("/post/{id}/edit"),
            &format!("/post/{id}/edit"),
            &[("title", "First, edited"), ("content", "Hello again")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(cat.get(&topic).await.body.contains("First, edited"));

    let mut dan = Visitor::new(&inst);
    dan.sign_in("dan", PASSWORD).await;
    let page = dan.get(&topic).await;
    assert!(
        !page.body.contains(&format!("/post/{id}/edit")),
        "others may not edit"
    );
    assert_eq!(dan.get(&format!("/post/{id}/edit")).await.status, 403);
    let res = dan
        .submit(
            &format!("/post/{id}/report"),
            &format!("/post/{id}/report"),
            &[("reason", "spam")],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let reports = report::Entity::find().all(inst.db()).await.unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].reason.as_deref(), Some("spam"));

    // Likes toggle.
    dan.submit(&topic, &format!("/post/{id}/like"), &[]).await;
    assert!(dan.get(&topic).await.body.contains("♥ Liked (1)"));
    dan.submit(&topic, &format!("/post/{id}/like"), &[]).await;
    assert!(dan.get(&topic).await.body.contains("♡ Like (0)"));

    let res = cat.submit(&topic, &format!("/post/{id}/delete"), &[]).await;
    assert_eq!(res.status, 303);
    let row = post::Entity::find_by_id(id.parse::<i64>().unwrap())
        .one(inst.db())
        .await
        .unwrap()
        .unwrap();
    assert!(row.deleted);
}

#[tokio::test]
async fn refused_replies_keep_the_text_and_say_why() {
    let inst = TestInstance::spawn("alpha").await;
    let owner = inst.create_user("owner").await;
    community(
        &inst,
        &owner,
        "closed",
        json!({"membership_policy": "approval", "reply_policy": "members"}),
    )
    .await;
    let (s, t) = inst
        .api(
            reqwest::Method::POST,
            "/api/v1/communities/closed/posts",
            Some(&owner),
            Some(json!({"title": "Members only", "content": "Hi"})),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    account_with_password(&inst, "eli", PASSWORD).await;
    let mut v = Visitor::new(&inst);
    v.sign_in("eli", PASSWORD).await;
    let topic = format!("/post/{}", t["local_id"]);
    let page = v.get(&topic).await;
    assert!(page.body.contains("Only members of"), "{}", page.body);
    assert!(
        !page.body.contains("Send reply"),
        "no reply box for those who may not reply"
    );
    let csrf = page.csrf();
    let res = v
        .post(
            &format!("{topic}/reply"),
            &[("csrf", &csrf), ("content", "let me in")],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains("let me in"), "the text is kept");
    let replies = post::Entity::find()
        .filter(post::Column::TopicId.is_not_null())
        .count(inst.db())
        .await
        .unwrap();
    assert_eq!(replies, 0);
}

#[tokio::test]
async fn signed_out_readers_are_offered_sign_in_and_their_own_server() {
    let inst = TestInstance::spawn("alpha").await;
    inst.create_community("open", "Open space").await;
    let mut v = Visitor::new(&inst);
    let page = v.get("/c/open").await;
    assert!(page.body.contains("Follow from your own server"));
    assert!(page.body.contains("/signin?next=/c/open"));
    // Forms that change things need a session.
    let res = v.post("/c/open/join", &[]).await;
    assert_eq!(res.status, 303);
    assert!(res.location.unwrap().starts_with("/signin?next="));
    let res = v.get("/c/open/remote-follow?handle=nonsense").await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("full handle"));
}
