//! An event's participants page in the browser: requests to take part read with their notes
//! and approved or declined, invitations by handle, refusals named beside their field, and the
//! page and its forms closed to members and to forms without their token. Spoken over HTTP as
//! a browser would.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use copse_entities::{
    event_participant::{self, ParticipantStatus},
    moderation_log,
};
use copse_tests::{
    builders::events::{participant_status, schedule, workshop_with},
    visitor::{account_with_password, Page, Visitor},
    TestInstance,
};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

const PASSWORD: &str = "a long enough password";

/// Alpha's open "net" coordinated by `coord` (signed in), with an event that needs approval;
/// coord's token and the event's post id.
async fn approval_event(a: &TestInstance) -> (Visitor<'_>, String, i64) {
    let token = account_with_password(a, "coord", PASSWORD).await;
    a.community_with(&token, "net", json!({ "membership_policy": "open" }))
        .await;
    let event = schedule(a, &token, workshop_with(json!({ "join_mode": "approval" }))).await;
    let mut coord = Visitor::new(a);
    coord.sign_in("coord", PASSWORD).await;
    (coord, token, event["id"].as_i64().unwrap())
}

/// A member of net, signed in.
async fn member<'a>(a: &'a TestInstance, name: &str) -> Visitor<'a> {
    let token = account_with_password(a, name, PASSWORD).await;
    let (s, _) = a.follow(&token, &"net").await;
    assert_eq!(s, 202);
    let mut v = Visitor::new(a);
    v.sign_in(name, PASSWORD).await;
    v
}

/// The organiser sends `decision` on `person`'s request from the participants page.
async fn decide(v: &mut Visitor<'_>, id: i64, person: i64, decision: &str) -> Page {
    v.submit(
        &format!("/post/{id}/event/participants"),
        &format!("/post/{id}/event/participants/{person}"),
        &[("decision", decision)],
    )
    .await
}

/// `v` asks to take part in event `id` from its page, with a note.
async fn ask(v: &mut Visitor<'_>, id: i64, note: &str) {
    let page = format!("/post/{id}");
    let res = v
        .submit(
            &page,
            &format!("{page}/rsvp"),
            &[("going", "true"), ("message", note)],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
}

#[tokio::test]
async fn requests_are_read_with_their_notes_then_approved_or_declined() {
    let a = TestInstance::spawn("alpha").await;
    let (mut coord, _, id) = approval_event(&a).await;
    let mut ria = member(&a, "ria").await;
    let mut sam = member(&a, "sam").await;
    let form = ria.get(&format!("/post/{id}")).await;
    assert!(
        form.body.contains(">Ask to take part</button>"),
        "{}",
        form.body
    );
    ask(&mut ria, id, "I run the Exeter group.").await;
    ask(&mut sam, id, "Can I bring a colleague?").await;
    assert_eq!(
        participant_status(&a, id, "ria").await,
        Some(ParticipantStatus::Pending)
    );

    let event = coord.get(&format!("/post/{id}")).await;
    assert!(
        event.body.contains("(2 waiting for an answer)"),
        "{}",
        event.body
    );
    let page = format!("/post/{id}/event/participants");
    let list = coord.get(&page).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(
        list.body.contains("I run the Exeter group."),
        "{}",
        list.body
    );
    assert!(list.body.contains("Can I bring a colleague?"));

    let ria_id = a.local_person_id("ria").await;
    let res = decide(&mut coord, id, ria_id, "accept").await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(
        res.location.as_deref(),
        Some(format!("{page}?done=accepted#requests").as_str())
    );
    assert_eq!(
        participant_status(&a, id, "ria").await,
        Some(ParticipantStatus::Going)
    );
    let sam_id = a.local_person_id("sam").await;
    let res = decide(&mut coord, id, sam_id, "reject").await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(
        participant_status(&a, id, "sam").await,
        Some(ParticipantStatus::Rejected)
    );

    let after = coord.get(&format!("{page}?done=declined")).await;
    assert!(after.body.contains("role=\"status\">Declined.</p>"));
    assert!(after.body.contains("No one is waiting for an answer."));
    assert!(after.body.contains("<td>going</td>"), "{}", after.body);
    assert!(after.body.contains("<td>declined</td>"));
    let logged = moderation_log::Entity::find()
        .filter(moderation_log::Column::Action.is_in(["accept_participant", "reject_participant"]))
        .count(a.db())
        .await
        .unwrap();
    assert_eq!(logged, 2, "both decisions are in the log");
    let ria_sees = ria.get(&format!("/post/{id}")).await;
    assert!(ria_sees.body.contains("You are going."));
}

#[tokio::test]
async fn an_invitation_names_an_unknown_handle_beside_the_field() {
    let a = TestInstance::spawn("alpha").await;
    let (mut coord, token, id) = approval_event(&a).await;
    account_with_password(&a, "sam", PASSWORD).await;
    let page = format!("/post/{id}/event/participants");
    let invites = format!("/post/{id}/event/invites");
    let res = coord
        .submit(&page, &invites, &[("handle", "nobody@nowhere.example")])
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    let at = res
        .body
        .find("id=\"handle-error\"")
        .expect("the error beside the handle");
    assert!(
        res.body[at..].contains("person not found"),
        "the API's words: {}",
        res.body
    );
    assert!(
        res.body.contains("value=\"nobody@nowhere.example\""),
        "the form keeps what was typed"
    );
    assert_eq!(
        event_participant::Entity::find()
            .count(a.db())
            .await
            .unwrap(),
        0
    );

    let res = coord.submit(&page, &invites, &[("handle", "sam")]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(
        participant_status(&a, id, "sam").await,
        Some(ParticipantStatus::Invited)
    );
    let list = coord.get(&format!("{page}?done=invited")).await;
    assert!(list.body.contains("role=\"status\">Invited.</p>"));
    assert!(list.body.contains("<td>invited</td>"), "{}", list.body);

    // The API lists the same people the page does.
    let (s, body) = a
        .api(
            Method::GET,
            &format!("/api/v1/events/{id}/participants"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["items"][0]["status"], "invited");
}

#[tokio::test]
async fn a_bad_decision_or_a_closed_event_is_named_beside_the_buttons() {
    let a = TestInstance::spawn("alpha").await;
    let (mut coord, token, id) = approval_event(&a).await;
    let mut ria = member(&a, "ria").await;
    ask(&mut ria, id, "Please.").await;
    let ria_id = a.local_person_id("ria").await;
    let res = decide(&mut coord, id, ria_id, "maybe").await;
    assert_eq!(res.status, 422, "{}", res.body);
    let at = res
        .body
        .find(&format!("id=\"decision-{ria_id}-error\" role=\"alert\""))
        .expect("the error in ria's request");
    assert!(res.body[at..].contains("decision must be accept or reject"));

    // Once the event is cancelled, approving changes nothing and says why.
    let (s, body) = a
        .api(
            Method::POST,
            &format!("/api/v1/events/{id}/cancel"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let res = decide(&mut coord, id, ria_id, "accept").await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(
        res.body.contains("This event has been cancelled."),
        "{}",
        res.body
    );
    assert_eq!(
        participant_status(&a, id, "ria").await,
        Some(ParticipantStatus::Pending)
    );
}

#[tokio::test]
async fn the_page_and_its_forms_need_an_organiser_and_their_token() {
    let a = TestInstance::spawn("alpha").await;
    let (mut coord, token, id) = approval_event(&a).await;
    let mut ria = member(&a, "ria").await;
    ask(&mut ria, id, "Please.").await;
    let ria_id = a.local_person_id("ria").await;
    let page = format!("/post/{id}/event/participants");
    let decision = format!("/post/{id}/event/participants/{ria_id}");
    let invites = format!("/post/{id}/event/invites");

    // Without the token, even the coordinator is refused.
    let res = coord.post(&decision, &[("decision", "accept")]).await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(res.body.contains("did not come from this site"));
    let res = coord.post(&invites, &[("handle", "ria")]).await;
    assert_eq!(res.status, 403, "{}", res.body);

    // A member, token and all, is refused the page and both forms.
    assert_eq!(ria.get(&page).await.status, 403);
    let csrf = ria.get(&format!("/post/{id}")).await.csrf();
    let res = ria
        .post(&decision, &[("csrf", &csrf), ("decision", "accept")])
        .await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(
        res.body
            .contains("only facilitators and coordinators may do this"),
        "{}",
        res.body
    );
    let res = ria
        .post(&invites, &[("csrf", &csrf), ("handle", "coord")])
        .await;
    assert_eq!(res.status, 403, "{}", res.body);
    let event = ria.get(&format!("/post/{id}")).await;
    assert!(!event.body.contains("/event/participants"));
    assert_eq!(
        participant_status(&a, id, "ria").await,
        Some(ParticipantStatus::Pending),
        "nothing was decided"
    );
    assert_eq!(
        participant_status(&a, id, "coord").await,
        None,
        "no one was invited"
    );

    // A facilitator may, as the API lets them.
    let (s, body) = a
        .api(
            Method::PUT,
            &format!("/api/v1/communities/net/members/{ria_id}/role"),
            Some(&token),
            Some(json!({ "role": "facilitator" })),
        )
        .await;
    assert_eq!(s, 204, "{body}");
    assert_eq!(ria.get(&page).await.status, 200);
}
