//! The coordinator's desk in the browser: join requests with their reasons approved and
//! declined, reports resolved, and the desk closed to everyone else.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{
    community_follower,
    report::{self, ReportStatus},
};
use copse_tests::{
    builders::communities::community,
    visitor::{account_with_password, Visitor},
    TestInstance,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

const PASSWORD: &str = "a long enough password";

/// An approval community coordinated by `coord`, who signs in with `PASSWORD`.
async fn council(inst: &TestInstance) {
    let token = account_with_password(inst, "coord", PASSWORD).await;
    community(
        inst,
        &token,
        "council",
        json!({"membership_policy": "approval"}),
    )
    .await;
}

async fn ask_to_join<'a>(inst: &'a TestInstance, name: &str, reason: &str) -> Visitor<'a> {
    account_with_password(inst, name, PASSWORD).await;
    let mut v = Visitor::new(inst);
    v.sign_in(name, PASSWORD).await;
    let res = v
        .submit("/c/council", "/c/council/join", &[("reason", reason)])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    v
}

async fn pending(inst: &TestInstance) -> Vec<community_follower::Model> {
    community_follower::Entity::find()
        .filter(community_follower::Column::Pending.eq(true))
        .all(inst.db())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_coordinator_approves_a_request_reading_its_reason() {
    let inst = TestInstance::spawn("alpha").await;
    council(&inst).await;
    let mut member = ask_to_join(&inst, "ria", "I map food networks in Leeds").await;
    let mut coord = Visitor::new(&inst);
    coord.sign_in("coord", PASSWORD).await;
    let community_page = coord.get("/c/council").await;
    assert!(
        community_page.body.contains("/c/council/desk"),
        "coordinators find the desk"
    );
    let desk = coord.get("/c/council/desk").await;
    assert_eq!(desk.status, 200);
    assert!(
        desk.body.contains("I map food networks in Leeds"),
        "{}",
        desk.body
    );
    let who = pending(&inst).await[0].person_id;
    let res = coord
        .submit(
            "/c/council/desk",
            &format!("/c/council/desk/requests/{who}"),
            &[("decision", "approve"), ("message", "")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(pending(&inst).await.is_empty());
    assert!(member
        .get("/c/council")
        .await
        .body
        .contains("You are a member"));
    assert!(coord
        .get("/c/council/desk")
        .await
        .body
        .contains("No one is waiting."));
}

#[tokio::test]
async fn a_declined_request_is_gone_and_can_be_made_again() {
    let inst = TestInstance::spawn("alpha").await;
    council(&inst).await;
    let mut member = ask_to_join(&inst, "sam", "hello").await;
    let mut coord = Visitor::new(&inst);
    coord.sign_in("coord", PASSWORD).await;
    let who = pending(&inst).await[0].person_id;
    let res = coord
        .submit(
            "/c/council/desk",
            &format!("/c/council/desk/requests/{who}"),
            &[
                ("decision", "decline"),
                ("message", "This is for council officers"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(pending(&inst).await.is_empty());
    assert!(member.get("/c/council").await.body.contains("Ask to join"));
}

#[tokio::test]
async fn members_and_strangers_cannot_open_the_desk_or_decide() {
    let inst = TestInstance::spawn("alpha").await;
    council(&inst).await;
    let mut member = ask_to_join(&inst, "tom", "please").await;
    assert_eq!(member.get("/c/council/desk").await.status, 403);
    let who = pending(&inst).await[0].person_id;
    // Tom posts a decision on his own request with his own valid token.
    let csrf = member.get("/c/council").await.csrf();
    let res = member
        .post(
            &format!("/c/council/desk/requests/{who}"),
            &[("csrf", &csrf), ("decision", "approve")],
        )
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(pending(&inst).await.len(), 1, "still waiting");
    let mut stranger = Visitor::new(&inst);
    let res = stranger.get("/c/council/desk").await;
    assert_eq!(res.status, 303, "signed out: sent to sign in");
}

#[tokio::test]
async fn a_report_is_resolved_from_the_desk_with_the_decision_logged() {
    let inst = TestInstance::spawn("alpha").await;
    let token = account_with_password(&inst, "coord", PASSWORD).await;
    community(
        &inst,
        &token,
        "open",
        json!({"membership_policy": "open", "topic_policy": "anyone", "reply_policy": "anyone"}),
    )
    .await;
    account_with_password(&inst, "uma", PASSWORD).await;
    let mut uma = Visitor::new(&inst);
    uma.sign_in("uma", PASSWORD).await;
    let res = uma
        .submit(
            "/c/open/new",
            "/c/open/new",
            &[("title", "Buy now"), ("content", "spam spam")],
        )
        .await;
    let topic = res.location.unwrap();
    let id = topic.trim_start_matches("/post/");
    let mut coord = Visitor::new(&inst);
    coord.sign_in("coord", PASSWORD).await;
    account_with_password(&inst, "vic", PASSWORD).await;
    let mut vic = Visitor::new(&inst);
    vic.sign_in("vic", PASSWORD).await;
    vic.submit(
        &format!("/post/{id}/report"),
        &format!("/post/{id}/report"),
        &[("reason", "advertising")],
    )
    .await;
    let desk = coord.get("/c/open/desk").await;
    assert!(desk.body.contains("advertising"), "{}", desk.body);
    assert!(desk.body.contains("Buy now"));
    let r = report::Entity::find()
        .one(inst.db())
        .await
        .unwrap()
        .unwrap();
    let res = coord
        .submit(
            "/c/open/desk",
            &format!("/c/open/desk/reports/{}", r.id),
            &[
                ("decision", "resolve"),
                ("message", "removed, spammer warned"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let r = report::Entity::find_by_id(r.id)
        .one(inst.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.status, ReportStatus::Resolved);
    assert_eq!(r.resolution.as_deref(), Some("removed, spammer warned"));
    assert!(coord
        .get("/c/open/desk")
        .await
        .body
        .contains("No open reports."));
}
