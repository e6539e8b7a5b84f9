//! The people who run things, in a real headless Chromium: an admin on the admin pages, a
//! coordinator at the desk, and a coordinator scheduling an event and answering who may take
//! part. Each step is checked on the page and then in the database or through the API.
//! Skipped, with a notice, where Chromium is not installed (unless `COPSE_REQUIRE_BROWSER=1`);
//! screenshots at 1280 and 390 px are written when one fails.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{
    community, community_ban, community_follower::Role, community_invite, event,
    event::EventStatus, event_participant, event_participant::ParticipantStatus, instance,
    local_user, local_user::AccountStatus, site,
};
use copse_tests::{
    browser::Browser,
    builders::T,
    visitor::{account_with_password, admin_with_password, Visitor},
    wait_for, TestInstance,
};
use reqwest::Method;
use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

const PASSWORD: &str = "a long enough password";

async fn sign_in(b: &Browser, a: &TestInstance, name: &str) {
    b.sign_in(a, name, PASSWORD).await;
}

async fn account_status(a: &TestInstance, name: &str) -> AccountStatus {
    local_user::Entity::find()
        .filter(local_user::Column::PersonId.eq(a.local_person_id(name).await))
        .one(a.db())
        .await
        .unwrap()
        .unwrap()
        .status
}

async fn role(a: &TestInstance, community: &str, name: &str) -> Option<Role> {
    let c = copse_server::accounts::local_community(a.db(), community)
        .await
        .unwrap()
        .unwrap();
    copse_federation::store::members::role_of(a.db(), c.id, a.local_person_id(name).await)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_approves_suspends_hands_over_and_blocks_from_the_admin_pages() {
    let Some(b) = Browser::start("an_admin_approves_suspends_hands_over_and_blocks").await else {
        return;
    };
    let a = TestInstance::spawn("alpha").await;
    admin_with_password(&a, "ada", PASSWORD).await;
    let bob = account_with_password(&a, "bob", PASSWORD).await;
    account_with_password(&a, "cleo", PASSWORD).await;
    site::Entity::update_many()
        .col_expr(site::Column::Registration, Expr::value("approval"))
        .exec(a.db())
        .await
        .unwrap();
    // Dev signs up and waits for approval.
    let res = Visitor::new(&a)
        .submit(
            "/signup",
            "/signup",
            &[
                ("name", "dev"),
                ("password", PASSWORD),
                ("answer", "I run the Leeds food network."),
            ],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);

    sign_in(&b, &a, "ada").await;
    b.click("Admin").await;
    b.wait_for_text("1 waiting for approval").await;
    b.click("Accounts").await;
    b.wait_for_text("I run the Leeds food network.").await;
    b.click("Approve dev").await;
    b.wait_for_gone("Approve dev").await;
    assert_eq!(account_status(&a, "dev").await, AccountStatus::Active);

    b.click("Suspend bob").await;
    b.wait_for_text("Lift the suspension of bob").await;
    assert_eq!(account_status(&a, "bob").await, AccountStatus::Suspended);
    let (s, _) = a.api(Method::GET, "/api/v1/me", Some(&bob), None).await;
    assert_eq!(s, 401, "a suspended account's token is refused");

    b.click("Communities").await;
    b.fill(
        "Name (its handle: lower-case letters, digits and _)",
        "garden",
    )
    .await;
    b.fill("Title", "Community gardens").await;
    b.click("Create the community").await;
    b.wait_for_text("coordinators: ada").await;
    b.fill("Hand over to (a local account's name)", "cleo")
        .await;
    b.click("Make coordinator").await;
    b.wait_for_text("coordinators: ada, cleo").await;
    assert_eq!(role(&a, "garden", "cleo").await, Some(Role::Coordinator));

    b.click("Domain blocks").await;
    b.fill(
        "Domain (a host name like social.example, with its port if it has one, or a URL on it)",
        "spam.example",
    )
    .await;
    b.click("Block").await;
    b.wait_for_text("Unblock spam.example").await;
    let blocked = instance::Entity::find()
        .filter(instance::Column::Domain.eq("spam.example"))
        .one(a.db())
        .await
        .unwrap()
        .expect("an instance row");
    assert!(blocked.blocked);

    b.click("Queue health").await;
    b.wait_for_text("Deliveries (outbox)").await;
    b.wait_for_text("No instance is paused.").await;
    b.set_width(390).await;
    b.wait_for_text("Received activities (inbox)").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_runs_the_community_from_the_desk() {
    let Some(b) = Browser::start("a_coordinator_runs_the_community_from_the_desk").await else {
        return;
    };
    let a = TestInstance::spawn("alpha").await;
    let coco = account_with_password(&a, "coco", PASSWORD).await;
    a.community_with(&coco, "net", json!({ "membership_policy": "open" }))
        .await;
    for name in ["max", "bob"] {
        let token = account_with_password(&a, name, PASSWORD).await;
        let (s, _) = a.follow(&token, &"net").await;
        assert_eq!(s, 202);
    }
    account_with_password(&a, "sam", PASSWORD).await;
    let max = a.local_person_id("max").await;

    sign_in(&b, &a, "coco").await;
    b.goto(&a.url("/c/net/desk")).await;
    b.click("Members and invitations").await;
    b.choose("Role of max", "facilitator").await;
    b.click_in(&format!("m{max}"), "Change role").await;
    // The page comes back as it was sent, so only the row tells when it is stored.
    wait_for("max made a facilitator", T, || async {
        role(&a, "net", "max").await == Some(Role::Facilitator)
    })
    .await;
    assert_eq!(b.value("Role of max").await, "facilitator");

    b.fill(
        "Invite (a handle like name@example.org, or a name here)",
        "sam",
    )
    .await;
    b.click("Invite").await;
    b.wait_for_text("Revoke").await;
    let invite = community_invite::Entity::find()
        .one(a.db())
        .await
        .unwrap()
        .expect("an invitation");
    assert_eq!(invite.invitee.0.path(), "/u/sam");

    b.click_in("Desk", "Bans").await;
    b.fill(
        "Whom (a handle like name@example.org, or a name here)",
        "bob",
    )
    .await;
    b.fill(
        "Reason (sent with the ban, and kept in the log)",
        "Adverts in every topic.",
    )
    .await;
    b.click("Ban").await;
    b.wait_for_text("Lift the ban on bob").await;
    let ban = community_ban::Entity::find()
        .one(a.db())
        .await
        .unwrap()
        .expect("a ban");
    assert_eq!(ban.reason.as_deref(), Some("Adverts in every topic."));

    // The header has a Settings link too: the person's own.
    b.click_in("Desk", "Settings").await;
    b.fill("Title", "The London net").await;
    b.choose("Who may join", "those a coordinator approves (approval)")
        .await;
    b.click("Save the settings").await;
    b.wait_for_text("Saved, and sent to the community's followers.")
        .await;
    let c = community::Entity::find()
        .filter(community::Column::Name.eq("net"))
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.title, "The London net");
    assert_eq!(
        c.membership_policy,
        copse_entities::community::MembershipPolicy::Approval
    );

    b.click_in("Desk", "Decision log").await;
    b.wait_for_text("Adverts in every topic.").await;
    let log = b.html_of("table").await;
    for action in ["role", "invite", "ban"] {
        assert!(
            log.contains(&format!("<td>{action}</td>")),
            "{action} is in the log:\n{log}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_schedules_an_event_answers_a_request_invites_and_cancels() {
    let Some(b) = Browser::start("a_coordinator_schedules_an_event_answers_a_request").await else {
        return;
    };
    let a = TestInstance::spawn("alpha").await;
    let coco = account_with_password(&a, "coco", PASSWORD).await;
    a.community_with(&coco, "net", json!({ "membership_policy": "open" }))
        .await;
    let ria = account_with_password(&a, "ria", PASSWORD).await;
    let (s, _) = a.follow(&ria, &"net").await;
    assert_eq!(s, 202);
    account_with_password(&a, "sam", PASSWORD).await;

    // Scheduled with the form; an end before the start is named beside End.
    sign_in(&b, &a, "coco").await;
    b.goto(&a.url("/c/net/desk")).await;
    b.click("New event").await;
    b.fill("Title", "Launch workshop").await;
    b.fill("Description (Markdown)", "Bring a case from your council.")
        .await;
    b.set_value("Start (in that time zone)", "2030-06-15T18:00")
        .await;
    b.set_value("End (in that time zone)", "2030-06-15T17:00")
        .await;
    b.fill("Venue", "The Kenn Centre").await;
    b.choose(
        "How people take part",
        "an organiser approves each request (approval)",
    )
    .await;
    b.click("Save the event").await;
    let beside_end = b.html_of("#end-error").await;
    assert!(
        beside_end.contains("end must be after start"),
        "{beside_end}"
    );
    assert_eq!(b.value("Title").await, "Launch workshop", "kept as typed");
    b.set_value("End (in that time zone)", "2030-06-15T20:00")
        .await;
    b.click("Save the event").await;
    b.wait_for_text("Participants and requests").await;
    let id: i64 = b
        .url()
        .await
        .path()
        .trim_start_matches("/post/")
        .parse()
        .unwrap();
    let row = event::Entity::find_by_id(id)
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.starts_at.to_rfc3339(), "2030-06-15T18:00:00+00:00");
    assert_eq!(row.join_mode, copse_entities::event::JoinMode::Approval);

    // Changed.
    b.click("Change the event").await;
    b.fill("Title", "Launch workshop, moved").await;
    b.fill("Venue", "The Corn Exchange").await;
    b.click("Save the event").await;
    b.wait_for_text("The Corn Exchange").await;
    let (s, view) = a
        .api(Method::GET, &format!("/api/v1/events/{id}"), None, None)
        .await;
    assert_eq!(s, 200, "{view}");
    assert_eq!(view["title"], "Launch workshop, moved");

    // Ria asks to take part; the coordinator reads her note and approves, then invites Sam.
    let (s, body) = a
        .api(
            Method::POST,
            &format!("/api/v1/events/{id}/rsvp"),
            Some(&ria),
            Some(json!({ "going": true, "message": "I run the Exeter group." })),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["status"], "pending");
    b.goto(&a.url(&format!("/post/{id}"))).await;
    b.wait_for_text("(1 waiting for an answer)").await;
    b.click("Participants and requests").await;
    b.wait_for_text("I run the Exeter group.").await;
    b.click("Approve ria").await;
    b.wait_for_text("Accepted: they have a place.").await;
    b.wait_for_text("No one is waiting for an answer.").await;
    b.fill(
        "Invite to this event (a name here, or name@example.org of someone this server knows)",
        "sam",
    )
    .await;
    b.click("Invite").await;
    b.wait_for_text("Invited.").await;
    let statuses: Vec<ParticipantStatus> = event_participant::Entity::find()
        .filter(event_participant::Column::EventId.eq(id))
        .order_by_asc(event_participant::Column::Id)
        .all(a.db())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(
        statuses,
        [ParticipantStatus::Going, ParticipantStatus::Invited]
    );

    // Cancelled, after saying yes.
    b.click("Back to the event").await;
    b.click("Cancel the event").await;
    b.click("Yes, cancel the event").await;
    b.wait_for_text("· cancelled").await;
    let (_, view) = a
        .api(Method::GET, &format!("/api/v1/events/{id}"), None, None)
        .await;
    assert_eq!(view["status"], "cancelled", "{view}");
    let row = event::Entity::find_by_id(id)
        .one(a.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, EventStatus::Cancelled);
}
